/* What the running daemon sees, for the checks that need it ("frames",
 * "keyboard-leds"): a thread gathers the capture statistics and the USB
 * keyboard's state every HEALTH_LIVE_PERIOD_MS, keeps a copy for GET
 * /api/health and rewrites [state] dir's status file for `piglix doctor`
 * (a separate process). The file holds counters only, so it is 0644: the
 * doctor may run as another user than the daemon. */
#include "app/app.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "capture/capture.h"
#include "common/clock.h"
#include "common/liveness.h"
#include "common/log.h"
#include "common/thread.h"
#include "health/health.h"
#include "web/web.h"

#define HEALTH_LIVE_PERIOD_MS 2000

struct app_live {
    pthread_mutex_t lock;
    pthread_cond_t wake;
    pthread_t thread;
    struct capture_slot *slot;
    struct web_hid hid;         /* ops NULL: no USB keyboard */
    char path[CONFIG_STR_MAX + 32];
    struct thread_owner owner;  /* write_logged and the file are the thread's */
    bool write_logged;          /* a failed write is logged once */
    /* under lock */
    bool stop;
    struct health_live live;
};

static void gather(struct app_live *a, struct health_live *l)
{
    struct capture_stats cs;
    capture_slot_stats(a->slot, &cs);
    memset(l, 0, sizeof(*l));
    l->written_s = (int64_t)time(NULL);
    l->frames = cs.captured;
    l->fps = cs.fps;
    l->source_fps = cs.source.source_fps;
    l->signal_ok = cs.signal == CAPTURE_SIGNAL_OK;
    l->leds = -1;
    l->stalls = cs.source.stalls;
    l->stall_age_s = cs.source.last_stall_ms ? (clock_mono_ms() - cs.source.last_stall_ms) / 1000 : -1;
    if (a->hid.ops) {
        l->hid_online = a->hid.ops->online(a->hid.ctx);
        l->hid = true;
        l->leds = l->hid_online ? a->hid.ops->leds(a->hid.ctx) : -1;
        l->hid_asleep = l->hid_online && a->hid.ops->asleep && a->hid.ops->asleep(a->hid.ctx);
    }
}

/* Replaced whole (rename), so a reader never sees half a file. */
static void write_file(struct app_live *a, const struct health_live *l)
{
    THREAD_ASSERT_OWNER(&a->owner, "the daemon's status file");
    char text[512], tmp[sizeof(a->path) + 8];
    int n = health_live_format(l, text, sizeof(text));
    snprintf(tmp, sizeof(tmp), "%s.new", a->path);
    int fd = n < 0 ? -1 : open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);
    bool ok = fd >= 0 && fchmod(fd, 0644) == 0 && write(fd, text, (size_t)n) == n;
    if (fd >= 0 && close(fd) != 0)
        ok = false;
    if (ok && rename(tmp, a->path) == 0)
        return;
    if (fd >= 0)
        unlink(tmp);
    if (!a->write_logged)
        LOG_WARN("main", "cannot write %s (for piglix doctor): %s", a->path, strerror(errno));
    a->write_logged = true;
}

static void *live_thread(void *arg)
{
    struct app_live *a = arg;
    struct liveness *live = liveness_register("live-status");
    pthread_mutex_lock(&a->lock);
    while (!a->stop) {
        pthread_mutex_unlock(&a->lock);
        struct health_live l;
        gather(a, &l);
        write_file(a, &l);
        pthread_mutex_lock(&a->lock);
        a->live = l;
        struct timespec until;
        clock_gettime(CLOCK_MONOTONIC, &until);
        until.tv_sec += HEALTH_LIVE_PERIOD_MS / 1000;
        /* A period longer than the watchdog's deadline: beat on the way. */
        while (!a->stop) {
            struct timespec w = liveness_wake_at(&until);
            if (pthread_cond_timedwait(&a->wake, &a->lock, &w) != ETIMEDOUT)
                continue;
            pthread_mutex_unlock(&a->lock); /* others read under it */
            liveness_beat(live);
            pthread_mutex_lock(&a->lock);
            if (w.tv_sec == until.tv_sec && w.tv_nsec == until.tv_nsec)
                break;
        }
    }
    pthread_mutex_unlock(&a->lock);
    liveness_unregister(live);
    unlink(a->path); /* no daemon: the doctor says so rather than read old figures */
    return NULL;
}

struct app_live *app_live_start(const char *state_dir, struct capture_slot *slot, const struct web_hid *hid)
{
    struct app_live *a = calloc(1, sizeof(*a));
    if (!a)
        return NULL;
    a->slot = slot;
    if (hid)
        a->hid = *hid;
    snprintf(a->path, sizeof(a->path), "%s/" HEALTH_LIVE_FILE, state_dir);
    pthread_mutex_init(&a->lock, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&a->wake, &ca);
    pthread_condattr_destroy(&ca);
    gather(a, &a->live);
    int r = thread_start(&a->thread, live_thread, a);
    if (r != 0) {
        LOG_WARN("main", "no frame and keyboard figures for piglix doctor: %s", strerror(r));
        pthread_cond_destroy(&a->wake);
        pthread_mutex_destroy(&a->lock);
        free(a);
        return NULL;
    }
    return a;
}

void app_live_get(struct app_live *a, struct health_live *out)
{
    pthread_mutex_lock(&a->lock);
    *out = a->live;
    pthread_mutex_unlock(&a->lock);
}

void app_live_stop(struct app_live *a)
{
    if (!a)
        return;
    pthread_mutex_lock(&a->lock);
    a->stop = true;
    pthread_cond_signal(&a->wake);
    pthread_mutex_unlock(&a->lock);
    pthread_join(a->thread, NULL);
    pthread_cond_destroy(&a->wake);
    pthread_mutex_destroy(&a->lock);
    free(a);
}
