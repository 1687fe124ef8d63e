/* common/thread: starting worker threads. Only the main thread takes the
 * daemon's asynchronous signals (SIGINT, SIGTERM, SIGHUP interrupt its
 * poll()), so every worker starts with all signals blocked. */
#ifndef PIGLIX_COMMON_THREAD_H
#define PIGLIX_COMMON_THREAD_H

#include <pthread.h>

/* pthread_create with every signal blocked in the new thread. Returns 0 or
 * an errno value. */
int thread_start(pthread_t *tid, void *(*fn)(void *), void *arg);

#endif
