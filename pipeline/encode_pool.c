/* pipeline/encode_pool: the threads that encode one frame's rects in
 * parallel (encode.h: workers). The caller takes part as worker 0 and waits
 * until every job of the batch is done, so nothing outlives the call and the
 * encoder stays owned by one thread. Jobs are handed out by an atomic counter
 * (a JPEG band costs far more than a fill run); each job writes only its own
 * output, so the result does not depend on which worker ran it. */
#include <stdatomic.h>
#include <stdlib.h>

#include "common/liveness.h"
#include "common/log.h"
#include "common/thread.h"
#include "pipeline/encode_internal.h"

struct enc_pool {
    pthread_mutex_t lock;
    pthread_cond_t start, done;
    pthread_t *tids;
    unsigned nthreads, started;
    bool quit;
    /* The current batch, written under lock; a worker copies it under lock
     * when it sees gen move. */
    uint32_t gen;
    enc_pool_fn fn;
    void *ctx;
    unsigned njobs;
    /* gen << 32 | next job: a claim succeeds only in the batch the worker
     * copied, so a worker that wakes late never runs a job of a batch that
     * has ended (whose ctx may be gone), and the caller never waits for a
     * worker that did not get a CPU in time. */
    _Atomic uint64_t claim;
    atomic_uint finished;
    atomic_int failed;
};

struct enc_pool_arg {
    struct enc_pool *pool;
    unsigned worker;
};

/* Runs jobs of batch gen until none is left. */
static void enc_pool_drain(struct enc_pool *p, uint32_t gen, unsigned njobs, enc_pool_fn fn,
                           void *ctx, unsigned worker, bool signal)
{
    uint64_t v = atomic_load(&p->claim);
    for (;;) {
        if ((uint32_t)(v >> 32) != gen || (uint32_t)v >= njobs)
            return;
        if (!atomic_compare_exchange_weak(&p->claim, &v, v + 1))
            continue;
        if (fn(ctx, worker, (uint32_t)v) != 0)
            atomic_store(&p->failed, 1);
        if (atomic_fetch_add(&p->finished, 1) + 1 == njobs && signal) {
            pthread_mutex_lock(&p->lock);
            pthread_cond_signal(&p->done);
            pthread_mutex_unlock(&p->lock);
        }
        v = atomic_load(&p->claim);
    }
}

static void *enc_pool_main(void *arg)
{
    struct enc_pool_arg a = *(struct enc_pool_arg *)arg;
    free(arg);
    struct enc_pool *p = a.pool;
    uint32_t seen = 0;
    /* One name per worker: a wedged one is told apart from its pool. */
    char name[LIVENESS_NAME_MAX];
    snprintf(name, sizeof(name), "encode-%u", a.worker);
    struct liveness *live = liveness_register(name);
    pthread_mutex_lock(&p->lock);
    for (;;) {
        while (!p->quit && p->gen == seen)
            liveness_cond_wait(live, &p->start, &p->lock);
        if (p->quit)
            break;
        seen = p->gen;
        enc_pool_fn fn = p->fn;
        void *ctx = p->ctx;
        unsigned njobs = p->njobs;
        pthread_mutex_unlock(&p->lock);
        liveness_beat(live);
        enc_pool_drain(p, seen, njobs, fn, ctx, a.worker, true);
        pthread_mutex_lock(&p->lock);
    }
    pthread_mutex_unlock(&p->lock);
    liveness_unregister(live);
    return NULL;
}

struct enc_pool *enc_pool_create(unsigned nthreads)
{
    struct enc_pool *p = calloc(1, sizeof(*p));
    if (!p)
        return NULL;
    p->tids = calloc(nthreads ? nthreads : 1, sizeof(*p->tids));
    if (!p->tids || pthread_mutex_init(&p->lock, NULL) != 0) {
        free(p->tids);
        free(p);
        return NULL;
    }
    pthread_cond_init(&p->start, NULL);
    pthread_cond_init(&p->done, NULL);
    for (unsigned i = 0; i < nthreads; i++) {
        struct enc_pool_arg *a = malloc(sizeof(*a));
        if (!a)
            break;
        *a = (struct enc_pool_arg){.pool = p, .worker = i + 1};
        if (thread_start(&p->tids[i], enc_pool_main, a) != 0) {
            free(a);
            break;
        }
        p->started++;
    }
    if (p->started < nthreads) {
        LOG_ERROR("encode", "started %u of %u encoder threads", p->started, nthreads);
        enc_pool_destroy(p);
        return NULL;
    }
    p->nthreads = nthreads;
    return p;
}

void enc_pool_destroy(struct enc_pool *p)
{
    if (!p)
        return;
    pthread_mutex_lock(&p->lock);
    p->quit = true;
    pthread_cond_broadcast(&p->start);
    pthread_mutex_unlock(&p->lock);
    for (unsigned i = 0; i < p->started; i++)
        pthread_join(p->tids[i], NULL);
    pthread_cond_destroy(&p->start);
    pthread_cond_destroy(&p->done);
    pthread_mutex_destroy(&p->lock);
    free(p->tids);
    free(p);
}

int enc_pool_run(struct enc_pool *p, unsigned njobs, enc_pool_fn fn, void *ctx)
{
    if (!p || njobs < 2) {
        /* Not worth waking anyone: the same jobs, in order, on this thread. */
        int rc = 0;
        for (unsigned j = 0; j < njobs; j++)
            if (fn(ctx, 0, j) != 0)
                rc = -1;
        return rc;
    }
    pthread_mutex_lock(&p->lock);
    uint32_t gen = ++p->gen;
    p->fn = fn;
    p->ctx = ctx;
    p->njobs = njobs;
    atomic_store(&p->finished, 0);
    atomic_store(&p->failed, 0);
    atomic_store(&p->claim, (uint64_t)gen << 32);
    pthread_cond_broadcast(&p->start);
    pthread_mutex_unlock(&p->lock);
    enc_pool_drain(p, gen, njobs, fn, ctx, 0, false);
    /* Only jobs a worker has claimed can still be running. */
    pthread_mutex_lock(&p->lock);
    while (atomic_load(&p->finished) < njobs)
        pthread_cond_wait(&p->done, &p->lock);
    pthread_mutex_unlock(&p->lock);
    return atomic_load(&p->failed) ? -1 : 0;
}
