/* The one-frame mailbox between the capture thread and the server thread.
 * Three buffers rotate: the producer fills `back`, then swaps it with
 * `ready`; the consumer swaps `ready` with `front`. The mutex is held only
 * for the swaps, so neither side ever waits on the other's work. */
#include "capture/capture.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "common/clock.h"
#include "common/log.h"

struct slot_buf {
    struct capture_frame frame;
    uint8_t *mem;
    size_t cap;
};

struct capture_slot {
    pthread_mutex_t lock;
    struct slot_buf bufs[3];
    struct slot_buf *back, *ready, *front;
    bool ready_new;
    int efd;
    struct capture_stats stats;
    /* fps estimate over a sliding second */
    int64_t fps_window_start_us;
    uint64_t fps_window_count;
};

const char *capture_signal_name(enum capture_signal s)
{
    switch (s) {
    case CAPTURE_SIGNAL_OK: return "ok";
    case CAPTURE_SIGNAL_NONE: return "no signal";
    case CAPTURE_SIGNAL_NO_LOCK: return "no lock";
    case CAPTURE_SIGNAL_OUT_OF_RANGE: return "out of range";
    case CAPTURE_SIGNAL_TIMEOUT: return "no frames (timeout)";
    case CAPTURE_SIGNAL_NO_DEVICE: return "no device";
    }
    return "unknown";
}

static void wake_consumer(struct capture_slot *s)
{
    uint64_t one = 1;
    if (write(s->efd, &one, sizeof(one)) < 0 && errno != EAGAIN)
        LOG_WARN("capture", "eventfd write: %s", strerror(errno));
}

struct capture_slot *capture_slot_create(void)
{
    struct capture_slot *s = calloc(1, sizeof(*s));
    if (!s)
        return NULL;
    s->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (s->efd < 0) {
        LOG_ERROR("capture", "eventfd: %s", strerror(errno));
        free(s);
        return NULL;
    }
    pthread_mutex_init(&s->lock, NULL);
    s->back = &s->bufs[0];
    s->ready = &s->bufs[1];
    s->front = &s->bufs[2];
    s->stats.signal = CAPTURE_SIGNAL_OK;
    return s;
}

void capture_slot_destroy(struct capture_slot *s)
{
    if (!s)
        return;
    for (int i = 0; i < 3; i++)
        free(s->bufs[i].mem);
    close(s->efd);
    pthread_mutex_destroy(&s->lock);
    free(s);
}

int capture_slot_publish(struct capture_slot *s, const struct capture_frame *f)
{
    return capture_slot_publish_signal(s, f, CAPTURE_SIGNAL_OK);
}

void capture_slot_set_source_stats(struct capture_slot *s, const struct capture_source_stats *st)
{
    pthread_mutex_lock(&s->lock);
    s->stats.source = *st;
    pthread_mutex_unlock(&s->lock);
}

int capture_slot_publish_signal(struct capture_slot *s, const struct capture_frame *f,
                                enum capture_signal signal)
{
    size_t size = (size_t)f->stride * f->height;
    struct slot_buf *b = s->back; /* only the producer touches back */
    if (b->cap < size) {
        uint8_t *mem = realloc(b->mem, size);
        if (!mem) {
            LOG_ERROR("capture", "out of memory for a %ux%u frame", f->width, f->height);
            return -1;
        }
        b->mem = mem;
        b->cap = size;
    }
    memcpy(b->mem, f->data, size);
    b->frame = *f;
    b->frame.data = b->mem;

    int64_t t = clock_mono_us();
    pthread_mutex_lock(&s->lock);
    s->back = s->ready;
    s->ready = b;
    if (s->ready_new)
        s->stats.dropped++;
    s->ready_new = true;
    s->stats.published++;
    s->stats.signal = signal;
    s->stats.width = f->width;
    s->stats.height = f->height;
    s->stats.fmt = f->fmt;
    if (signal != CAPTURE_SIGNAL_OK) {
        s->stats.fps = 0;
        s->fps_window_start_us = 0;
        s->fps_window_count = 0;
    } else {
        s->stats.captured++;
        if (s->fps_window_start_us == 0)
            s->fps_window_start_us = t;
        s->fps_window_count++;
    }
    if (signal == CAPTURE_SIGNAL_OK && t - s->fps_window_start_us >= 1000000) {
        s->stats.fps = (double)s->fps_window_count * 1e6 / (double)(t - s->fps_window_start_us);
        s->fps_window_start_us = t;
        s->fps_window_count = 0;
    }
    pthread_mutex_unlock(&s->lock);

    wake_consumer(s);
    return 0;
}

void capture_slot_set_signal(struct capture_slot *s, enum capture_signal signal)
{
    pthread_mutex_lock(&s->lock);
    bool changed = s->stats.signal != signal;
    s->stats.signal = signal;
    if (signal != CAPTURE_SIGNAL_OK)
        s->stats.fps = 0;
    pthread_mutex_unlock(&s->lock);
    if (changed)
        wake_consumer(s);
}

bool capture_slot_take(struct capture_slot *s, struct capture_frame *out)
{
    uint64_t v;
    if (read(s->efd, &v, sizeof(v)) < 0 && errno != EAGAIN)
        LOG_WARN("capture", "eventfd read: %s", strerror(errno));
    pthread_mutex_lock(&s->lock);
    bool fresh = s->ready_new;
    if (fresh) {
        struct slot_buf *t = s->front;
        s->front = s->ready;
        s->ready = t;
        s->ready_new = false;
        *out = s->front->frame;
    }
    pthread_mutex_unlock(&s->lock);
    return fresh;
}

int capture_slot_fd(const struct capture_slot *s) { return s->efd; }

void capture_slot_stats(struct capture_slot *s, struct capture_stats *out)
{
    pthread_mutex_lock(&s->lock);
    *out = s->stats;
    pthread_mutex_unlock(&s->lock);
}
