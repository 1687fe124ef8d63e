/* common/thread: starting worker threads. Only the main thread takes the
 * daemon's asynchronous signals (SIGINT, SIGTERM, SIGHUP interrupt its
 * poll()), so every worker starts with all signals blocked. */
#ifndef PIGLIX_COMMON_THREAD_H
#define PIGLIX_COMMON_THREAD_H

#include <pthread.h>
#include <stdbool.h>

/* pthread_create with every signal blocked in the new thread. Returns 0 or
 * an errno value. */
int thread_start(pthread_t *tid, void *(*fn)(void *), void *arg);

/* Thread ownership, stated in code: state that one thread owns (the VNC
 * server's libvncserver screen, the capture source, HID's writer side) is
 * marked with a struct thread_owner; its first user claims it and every
 * later use asserts it is the same thread. Checked in test builds
 * (PIGLIX_ASSERT_THREADS: Debug and sanitizer builds), where a violation
 * aborts naming the state; free in release builds. */
struct thread_owner {
#ifdef PIGLIX_ASSERT_THREADS
    pthread_t tid;
    bool claimed;
#else
    char unused;
#endif
};

#ifdef PIGLIX_ASSERT_THREADS
/* Claims o for the calling thread when unclaimed; aborts when another
 * thread holds it. */
void thread_assert_owner(struct thread_owner *o, const char *what, const char *file, int line);
/* Forgets the owner (a state handed to another thread, e.g. a restart). */
void thread_owner_release(struct thread_owner *o);
#define THREAD_ASSERT_OWNER(o, what) thread_assert_owner((o), (what), __FILE__, __LINE__)
#define THREAD_OWNER_RELEASE(o) thread_owner_release(o)
#else
#define THREAD_ASSERT_OWNER(o, what) ((void)(o))
#define THREAD_OWNER_RELEASE(o) ((void)(o))
#endif

#endif
