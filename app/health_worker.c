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
    struct health_env env;
    struct thread_owner owner;    /* scratch is the thread's */
    struct health_report scratch;
    /* under lock */
    bool stop, want;
    bool have;
    int64_t made_ms;
    struct health_report report;
};

static void *health_thread(void *arg)
{
    struct app_health *h = arg;
    pthread_mutex_lock(&h->lock);
    for (;;) {
        while (!h->stop && !h->want)
            pthread_cond_wait(&h->wake, &h->lock);
        if (h->stop)
            break;
        h->want = false;
        pthread_mutex_unlock(&h->lock);
        THREAD_ASSERT_OWNER(&h->owner, "health checks");
        app_health_run(&h->cfg, &h->env, &h->scratch);
        pthread_mutex_lock(&h->lock);
        h->report = h->scratch;
        h->made_ms = clock_mono_ms();
        h->have = true;
    }
    pthread_mutex_unlock(&h->lock);
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

struct app_health *app_health_start(const struct piglix_config *cfg)
{
    struct app_health *h = calloc(1, sizeof(*h));
    if (!h)
        return NULL;
    h->cfg = *cfg;
    app_health_env(&h->env);
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
