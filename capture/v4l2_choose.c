/* Pure decisions of the V4L2 source, kept apart so unit tests can pin them:
 * which of a device's formats and sizes to use, and which frames to drop to
 * stay under the configured rate. */
#include "capture/v4l2.h"

#include <stdlib.h>

int v4l2_fourcc_pixfmt(uint32_t fourcc)
{
    switch (fourcc) {
    case V4L2_PIX_FMT_YUYV: return PIXFMT_YUYV;
    case V4L2_PIX_FMT_UYVY: return PIXFMT_UYVY;
    case V4L2_PIX_FMT_RGB24:
    case V4L2_PIX_FMT_BGR24:
    case V4L2_PIX_FMT_MJPEG:
    case V4L2_PIX_FMT_JPEG: return PIXFMT_RGB24;
    }
    return -1;
}

unsigned v4l2_fourcc_bytes_per_pixel(uint32_t fourcc)
{
    switch (fourcc) {
    case V4L2_PIX_FMT_YUYV:
    case V4L2_PIX_FMT_UYVY: return 2;
    case V4L2_PIX_FMT_RGB24:
    case V4L2_PIX_FMT_BGR24: return 3;
    }
    return 0;
}

/* Lower is better. The preferred format first; then UYVY (what an HDMI
 * bridge sends natively), YUYV, RGB24; formats that cost a conversion last. */
static int format_rank(uint32_t fourcc, enum pixfmt preferred)
{
    static const uint32_t order[] = {V4L2_PIX_FMT_UYVY, V4L2_PIX_FMT_YUYV, V4L2_PIX_FMT_RGB24,
                                     V4L2_PIX_FMT_BGR24, V4L2_PIX_FMT_MJPEG, V4L2_PIX_FMT_JPEG};
    bool direct = fourcc == V4L2_PIX_FMT_YUYV || fourcc == V4L2_PIX_FMT_UYVY || fourcc == V4L2_PIX_FMT_RGB24;
    if (direct && v4l2_fourcc_pixfmt(fourcc) == (int)preferred)
        return 0;
    for (int i = 0; i < (int)(sizeof(order) / sizeof(order[0])); i++)
        if (order[i] == fourcc)
            return i + 1;
    return 100;
}

static long long size_distance(const struct v4l2_candidate *c, unsigned w, unsigned h)
{
    return llabs((long long)c->width - w) + llabs((long long)c->height - h);
}

/* A rate up to want_fps counts fully; more than that is worth nothing extra.
 * An unknown rate (0) counts as meeting it: the device did not say. */
static double useful_fps(const struct v4l2_candidate *c, unsigned want_fps)
{
    if (c->fps <= 0 || c->fps >= want_fps - 0.5)
        return want_fps;
    return c->fps;
}

int v4l2_choose(const struct v4l2_candidate *c, int n, unsigned want_w, unsigned want_h,
                unsigned want_fps, enum pixfmt preferred)
{
    int best = -1;
    for (int i = 0; i < n; i++) {
        if (best < 0) {
            best = i;
            continue;
        }
        long long d = size_distance(&c[i], want_w, want_h), bd = size_distance(&c[best], want_w, want_h);
        if (d != bd) {
            if (d < bd)
                best = i;
            continue;
        }
        double f = useful_fps(&c[i], want_fps), bf = useful_fps(&c[best], want_fps);
        if (f != bf) {
            if (f > bf)
                best = i;
            continue;
        }
        if (format_rank(c[i].fourcc, preferred) < format_rank(c[best].fourcc, preferred))
            best = i;
    }
    return best;
}

void v4l2_pacer_init(struct v4l2_pacer *p, unsigned fps)
{
    p->interval_us = fps ? 1000000 / fps : 0;
    p->next_due_us = 0;
    p->started = false;
}

bool v4l2_pacer_accept(struct v4l2_pacer *p, int64_t now_us)
{
    if (p->interval_us <= 0)
        return true;
    if (!p->started) {
        p->started = true;
        p->next_due_us = now_us + p->interval_us;
        return true;
    }
    if (now_us < p->next_due_us - p->interval_us / 4)
        return false;
    p->next_due_us += p->interval_us;
    /* After a pause (no frames, a restart) start a fresh schedule rather
     * than letting a backlog of due slots pass every frame. */
    if (p->next_due_us <= now_us)
        p->next_due_us = now_us + p->interval_us;
    return true;
}
