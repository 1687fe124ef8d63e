/* The checks of `piglix doctor` for GET /api/health, on a thread of their
 * own: they read sysfs, open the capture device and the GPIO chip and probe
 * the ports (milliseconds, more on a slow SD card), which neither the web
 * event loop nor the server loop may wait for. The web thread reads the
 * last report with its age; one older than HEALTH_STALE_MS asks for a new
 * run, so a page that asks again a moment later sees what changed, and an
 * idle appliance runs no checks nobody asked for. */
#include "app/app.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/liveness.h"
#include "common/clock.h"
#include "common/log.h"
#include "common/thread.h"
#include "health/health.h"
#include "web/web.h"

#define HEALTH_STALE_MS 1000

struct app_health {
    pthread_mutex_t lock;
    pthread_cond_t wake;
    pthread_t thread;
    struct piglix_config cfg;     /* the thread's copy: a reload changes the main one */
    struct piglix_config next;    /* under lock: a reload's config, for the next run */
    struct health_env env;
    struct app_live *live_src;    /* NULL: no figures (the checks say so) */
    struct health_live live;      /* the thread's copy, env.live points here */
    struct thread_owner owner;    /* scratch is the thread's */
    struct health_report scratch;
    /* under lock */
    bool stop, want, have_next;
    unsigned gen;                 /* counts reconfigures: a run of an older config is not shown */
    bool have;
    int64_t made_ms;
    struct health_report report;
};

static void *health_thread(void *arg)
{
    struct app_health *h = arg;
    struct liveness *live = liveness_register("health");
    pthread_mutex_lock(&h->lock);
    for (;;) {
        while (!h->stop && !h->want)
            liveness_cond_wait(live, &h->wake, &h->lock);
        if (h->stop)
            break;
        h->want = false;
        if (h->have_next) {
            h->cfg = h->next;
            h->have_next = false;
        }
        unsigned gen = h->gen;
        pthread_mutex_unlock(&h->lock);
        liveness_beat(live);
        THREAD_ASSERT_OWNER(&h->owner, "health checks");
        if (h->live_src)
            app_live_get(h->live_src, &h->live);
        app_health_run(&h->cfg, &h->env, &h->scratch);
        pthread_mutex_lock(&h->lock);
        if (gen != h->gen)
            continue; /* reconfigured meanwhile: want is set, run again */
        h->report = h->scratch;
        h->made_ms = clock_mono_ms();
        h->have = true;
    }
    pthread_mutex_unlock(&h->lock);
    liveness_unregister(live);
    return NULL;
}

static bool health_read(void *ctx, struct health_report *out, int64_t *age_ms)
{
    struct app_health *h = ctx;
    int64_t now = clock_mono_ms();
    pthread_mutex_lock(&h->lock);
    bool have = h->have;
    if (have) {
        *out = h->report;
        *age_ms = now - h->made_ms;
    }
    if (!have || now - h->made_ms > HEALTH_STALE_MS) {
        h->want = true;
        pthread_cond_signal(&h->wake);
    }
    pthread_mutex_unlock(&h->lock);
    return have;
}

static const struct web_health_ops health_ops = {.read = health_read};

struct app_health *app_health_start(const struct piglix_config *cfg, struct app_live *live)
{
    struct app_health *h = calloc(1, sizeof(*h));
    if (!h)
        return NULL;
    h->cfg = *cfg;
    app_health_env(&h->env);
    h->live_src = live;
    if (live) {
        app_live_get(live, &h->live);
        h->env.live = &h->live; /* the daemon's own figures, not its file */
    }
    pthread_mutex_init(&h->lock, NULL);
    pthread_cond_init(&h->wake, NULL);
    h->want = true; /* the first report, ready for the first page */
    int r = thread_start(&h->thread, health_thread, h);
    if (r != 0) {
        LOG_WARN("main", "no health checks for the web API: %s", strerror(r));
        pthread_cond_destroy(&h->wake);
        pthread_mutex_destroy(&h->lock);
        free(h);
        return NULL;
    }
    return h;
}

void app_health_reconfigure(struct app_health *h, const struct piglix_config *cfg)
{
    if (!h)
        return;
    pthread_mutex_lock(&h->lock);
    h->next = *cfg;
    h->have_next = true;
    h->gen++;
    /* the report of the old config is not shown again: the next request
     * waits for a run with the new one (have stays false until then) */
    h->have = false;
    h->want = true;
    pthread_cond_signal(&h->wake);
    pthread_mutex_unlock(&h->lock);
}

void app_health_web(struct app_health *h, struct web_health *out)
{
    out->ops = h ? &health_ops : NULL;
    out->ctx = h;
}

void app_health_stop(struct app_health *h)
{
    if (!h)
        return;
    pthread_mutex_lock(&h->lock);
    h->stop = true;
    pthread_cond_signal(&h->wake);
    pthread_mutex_unlock(&h->lock);
    pthread_join(h->thread, NULL);
    pthread_cond_destroy(&h->wake);
    pthread_mutex_destroy(&h->lock);
    free(h);
}
