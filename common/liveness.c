/* The liveness registry and the thread that feeds systemd's watchdog. */
#include "common/liveness.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/clock.h"
#include "common/log.h"
#include "common/sdnotify.h"
#include "common/thread.h"

#define LIVENESS_TICK_MS 100

struct liveness {
    /* Written under reg.mu (register, unregister); read by the checker
     * under it. */
    bool used;
    char name[LIVENESS_NAME_MAX];
    /* The checker's own: the wedge is logged once, its end once. */
    bool reported;
    int64_t wedged_from_ms; /* its last beat before the wedge */
    /* The owner's beats: a lone atomic store, read by the checker. */
    _Atomic int64_t last_ms;
};

static struct {
    pthread_mutex_t mu;
    struct liveness entries[LIVENESS_MAX];
    _Atomic int deadline_ms;
    bool full_logged;
    /* the checker thread */
    pthread_t tid;
    bool running;
    _Atomic bool stop;
    struct sdnotify_watchdog wd;
    /* test builds: the entry whose next beat blocks, -1 none */
    _Atomic int freeze_idx;
} reg = {.mu = PTHREAD_MUTEX_INITIALIZER, .deadline_ms = LIVENESS_DEFAULT_DEADLINE_MS, .freeze_idx = -1};

void liveness_set_deadline_ms(int deadline_ms)
{
    if (deadline_ms < 100)
        deadline_ms = 100;
    if (deadline_ms > 600000)
        deadline_ms = 600000;
    atomic_store(&reg.deadline_ms, deadline_ms);
}

int liveness_deadline_ms(void) { return atomic_load(&reg.deadline_ms); }

int liveness_wake_ms(void) { return liveness_deadline_ms() / 2; }

struct timespec liveness_wake_at(const struct timespec *limit)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    int ms = liveness_wake_ms();
    ts.tv_sec += ms / 1000;
    ts.tv_nsec += (long)(ms % 1000) * 1000000L;
    if (ts.tv_nsec >= 1000000000L) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000L;
    }
    if (limit && (limit->tv_sec < ts.tv_sec || (limit->tv_sec == ts.tv_sec && limit->tv_nsec < ts.tv_nsec)))
        return *limit;
    return ts;
}

struct liveness *liveness_register(const char *name)
{
    pthread_mutex_lock(&reg.mu);
    struct liveness *l = NULL;
    for (int i = 0; i < LIVENESS_MAX && !l; i++)
        if (!reg.entries[i].used)
            l = &reg.entries[i];
    if (l) {
        snprintf(l->name, sizeof(l->name), "%s", name);
        l->reported = false;
        atomic_store(&l->last_ms, clock_mono_ms());
        l->used = true;
    } else if (!reg.full_logged) {
        reg.full_logged = true;
        LOG_WARN("liveness", "more than %d threads: %s is not watched", LIVENESS_MAX, name);
    }
    pthread_mutex_unlock(&reg.mu);
    return l;
}

void liveness_unregister(struct liveness *l)
{
    if (!l)
        return;
    pthread_mutex_lock(&reg.mu);
    if (l->reported)
        LOG_INFO("liveness", "thread %s left while wedged", l->name);
    l->used = false;
    pthread_mutex_unlock(&reg.mu);
}

#ifdef PIGLIX_TEST_HOOKS
/* The frozen thread sleeps here, beating no more, until the checker points
 * the freeze elsewhere. */
static void freeze_point(struct liveness *l)
{
    int idx = (int)(l - reg.entries);
    if (atomic_load_explicit(&reg.freeze_idx, memory_order_relaxed) != idx)
        return;
    LOG_WARN("liveness", "test hook: thread %s frozen", l->name);
    while (atomic_load(&reg.freeze_idx) == idx) {
        struct timespec ts = {.tv_nsec = 10 * 1000000L};
        nanosleep(&ts, NULL);
    }
    LOG_WARN("liveness", "test hook: thread %s thawed", l->name);
}

/* $PIGLIX_TEST_FREEZE: a file holding the name of the thread to freeze. */
static void freeze_read(void)
{
    const char *path = getenv("PIGLIX_TEST_FREEZE");
    if (!path || !*path)
        return;
    char want[LIVENESS_NAME_MAX] = "";
    FILE *f = fopen(path, "re");
    if (f) {
        if (!fgets(want, sizeof(want), f))
            want[0] = '\0';
        fclose(f);
    }
    want[strcspn(want, "\r\n")] = '\0';
    int idx = -1;
    pthread_mutex_lock(&reg.mu);
    for (int i = 0; i < LIVENESS_MAX && want[0] && idx < 0; i++)
        if (reg.entries[i].used && strcmp(reg.entries[i].name, want) == 0)
            idx = i;
    pthread_mutex_unlock(&reg.mu);
    atomic_store(&reg.freeze_idx, idx);
}
#endif

void liveness_beat(struct liveness *l)
{
    if (!l)
        return;
#ifdef PIGLIX_TEST_HOOKS
    freeze_point(l);
#endif
    atomic_store_explicit(&l->last_ms, clock_mono_ms(), memory_order_relaxed);
}

void liveness_cond_wait(struct liveness *l, pthread_cond_t *cond, pthread_mutex_t *mu)
{
    /* The wait first, straight after the caller's check: releasing the
     * lock before it (to beat) let a signal in that the wait then missed,
     * so a handed-over job sat until the wake-up bound (test
     * test_cond_wait_loses_no_signal). The beat after, without the lock: a
     * thread frozen there by the test hook holds up only itself, and the
     * caller checks its condition again when this returns. */
    struct timespec until = liveness_wake_at(NULL);
    (void)pthread_cond_clockwait(cond, mu, CLOCK_MONOTONIC, &until);
    pthread_mutex_unlock(mu);
    liveness_beat(l);
    pthread_mutex_lock(mu);
}

int liveness_poll_ms(int timeout_ms)
{
    int wake = liveness_wake_ms();
    return timeout_ms < 0 || timeout_ms > wake ? wake : timeout_ms;
}

int liveness_snapshot(struct liveness_status *out, int max)
{
    int64_t now = clock_mono_ms();
    int deadline = liveness_deadline_ms();
    int n = 0;
    pthread_mutex_lock(&reg.mu);
    for (int i = 0; i < LIVENESS_MAX; i++) {
        const struct liveness *l = &reg.entries[i];
        if (!l->used)
            continue;
        if (n < max) {
            struct liveness_status *s = &out[n];
            snprintf(s->name, sizeof(s->name), "%s", l->name);
            int64_t silent = now - atomic_load(&l->last_ms);
            s->silent_ms = silent < 0 ? 0 : silent;
            s->wedged = s->silent_ms > deadline;
        }
        n++;
    }
    pthread_mutex_unlock(&reg.mu);
    return n;
}

bool liveness_all_alive(int64_t now_ms)
{
    int deadline = liveness_deadline_ms();
    bool ok = true;
    pthread_mutex_lock(&reg.mu);
    for (int i = 0; i < LIVENESS_MAX && ok; i++)
        if (reg.entries[i].used && now_ms - atomic_load(&reg.entries[i].last_ms) > deadline)
            ok = false;
    pthread_mutex_unlock(&reg.mu);
    return ok;
}

bool liveness_check(int64_t now_ms)
{
    int deadline = liveness_deadline_ms();
    bool ok = true;
    pthread_mutex_lock(&reg.mu);
    for (int i = 0; i < LIVENESS_MAX; i++) {
        struct liveness *l = &reg.entries[i];
        if (!l->used)
            continue;
        int64_t silent = now_ms - atomic_load(&l->last_ms);
        if (silent > deadline) {
            ok = false;
            if (!l->reported) {
                l->reported = true;
                l->wedged_from_ms = now_ms - silent;
                LOG_ERROR("liveness", "thread %s is wedged: no progress for %lld ms (deadline %d ms); "
                          "the watchdog is no longer fed, systemd restarts piglix",
                          l->name, (long long)silent, deadline);
            }
        } else if (l->reported) {
            l->reported = false;
            LOG_WARN("liveness", "thread %s moves again after %lld ms without progress", l->name,
                     (long long)(atomic_load(&l->last_ms) - l->wedged_from_ms));
        }
    }
    pthread_mutex_unlock(&reg.mu);
    return ok;
}

static void *checker_main(void *arg)
{
    (void)arg;
    while (!atomic_load(&reg.stop)) {
#ifdef PIGLIX_TEST_HOOKS
        freeze_read();
#endif
        if (liveness_check(clock_mono_ms()))
            sdnotify_watchdog_kick(&reg.wd);
        struct timespec ts = {.tv_nsec = LIVENESS_TICK_MS * 1000000L};
        nanosleep(&ts, NULL);
    }
    return NULL;
}

int liveness_watchdog_start(void)
{
    if (reg.running)
        return 0;
    if (sdnotify_watchdog_init(&reg.wd))
        LOG_INFO("liveness", "systemd watchdog every %lld ms, fed while every thread beats within %d ms",
                 (long long)reg.wd.interval_ms, liveness_deadline_ms());
    atomic_store(&reg.stop, false);
    int r = thread_start(&reg.tid, checker_main, NULL);
    if (r != 0) {
        LOG_ERROR("liveness", "cannot start the watchdog thread: %s", strerror(r));
        return r;
    }
    reg.running = true;
    return 0;
}

void liveness_watchdog_stop(void)
{
    if (!reg.running)
        return;
    atomic_store(&reg.stop, true);
    pthread_join(reg.tid, NULL);
    reg.running = false;
#ifdef PIGLIX_TEST_HOOKS
    atomic_store(&reg.freeze_idx, -1); /* a frozen thread must not hold up the shutdown */
#endif
}
