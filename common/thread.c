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
