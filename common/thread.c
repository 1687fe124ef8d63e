#include "common/thread.h"

#include <signal.h>

int thread_start(pthread_t *tid, void *(*fn)(void *), void *arg)
{
    /* The new thread inherits the creator's mask: block around the create. */
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, &old);
    int r = pthread_create(tid, NULL, fn, arg);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    return r;
}

#ifdef PIGLIX_ASSERT_THREADS
#include <stdio.h>
#include <stdlib.h>

void thread_assert_owner(struct thread_owner *o, const char *what, const char *file, int line)
{
    pthread_t self = pthread_self();
    if (!o->claimed) {
        o->tid = self;
        o->claimed = true;
        return;
    }
    if (!pthread_equal(o->tid, self)) {
        fprintf(stderr, "%s:%d: %s used from a thread that does not own it\n", file, line, what);
        abort();
    }
}

void thread_owner_release(struct thread_owner *o)
{
    o->claimed = false;
}
#endif
