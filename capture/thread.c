/* The capture thread: pulls frames from a source and publishes them to the
 * slot. It never waits for a consumer; the source paces it. */
#include "capture/capture.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <time.h>

#include "audit/audit.h"
#include "common/liveness.h"
#include "common/log.h"
#include "common/thread.h"

struct capture_thread {
    pthread_t tid;
    struct capture_source src;
    struct capture_slot *slot;
    atomic_bool stop;
};

static void *capture_thread_main(void *arg)
{
    struct capture_thread *t = arg;
    enum capture_signal last = CAPTURE_SIGNAL_OK;
    /* next() returns at least every half second (v4l2) or frame (test). */
    struct liveness *live = liveness_register("capture");
    while (!atomic_load(&t->stop)) {
        liveness_beat(live);
        struct capture_frame f;
        enum capture_signal sig = CAPTURE_SIGNAL_OK;
        int r = t->src.next(t->src.ctx, &f, &sig);
        if (r < 0) {
            LOG_ERROR("capture", "source %s failed; capture stopped", t->src.name);
            capture_slot_set_signal(t->slot, CAPTURE_SIGNAL_NO_DEVICE);
            return NULL; /* still registered: the watchdog starves and systemd restarts piglix */
        }
        /* A frame with a signal other than OK is a stand-in (the V4L2
         * source's NO SIGNAL frame): shown, but the state stays what it is. */
        if (r == 0)
            capture_slot_publish_signal(t->slot, &f, sig);
        else
            capture_slot_set_signal(t->slot, sig);
        if (t->src.get_stats) {
            struct capture_source_stats st;
            t->src.get_stats(t->src.ctx, &st);
            capture_slot_set_source_stats(t->slot, &st);
        }
        if (sig != last) {
            LOG_INFO("capture", "signal: %s", capture_signal_name(sig));
            /* Into the audit log when the picture goes or comes back (not
             * for every change between kinds of no picture). */
            if (last == CAPTURE_SIGNAL_OK || sig == CAPTURE_SIGNAL_OK)
                audit_record(sig == CAPTURE_SIGNAL_OK ? AUDIT_SIGNAL_BACK : AUDIT_SIGNAL_LOST, AUDIT_IF_SYSTEM,
                             AUDIT_OK, NULL, NULL, "%s: %s", t->src.name, capture_signal_name(sig));
            last = sig;
        }
    }
    liveness_unregister(live);
    return NULL;
}

struct capture_thread *capture_thread_start(struct capture_source *src, struct capture_slot *slot)
{
    struct capture_thread *t = calloc(1, sizeof(*t));
    if (!t) {
        src->destroy(src->ctx);
        return NULL;
    }
    t->src = *src;
    t->slot = slot;
    if (thread_start(&t->tid, capture_thread_main, t) != 0) {
        LOG_ERROR("capture", "cannot start the capture thread");
        src->destroy(src->ctx);
        free(t);
        return NULL;
    }
    return t;
}

void capture_thread_stop(struct capture_thread *t)
{
    if (!t)
        return;
    atomic_store(&t->stop, true);
    pthread_join(t->tid, NULL);
    t->src.destroy(t->src.ctx);
    free(t);
}
