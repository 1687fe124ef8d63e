/* h264/h264.c — picks a backend and checks what every backend is given and
 * returns, so each backend file holds only its library's calls. */
#include "h264/h264_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"

int h264_backend_parse(const char *s, enum h264_backend *out)
{
    static const struct { const char *name; enum h264_backend b; } names[] = {
        {"auto", H264_BACKEND_AUTO}, {"m2m", H264_BACKEND_M2M},
        {"x264", H264_BACKEND_X264}, {"openh264", H264_BACKEND_OPENH264},
    };
    for (size_t i = 0; s && i < sizeof(names) / sizeof(names[0]); i++)
        if (strcmp(s, names[i].name) == 0) {
            *out = names[i].b;
            return 0;
        }
    return -1;
}

static int try_open(struct h264_encoder *e, const struct h264_params *p,
                    const struct h264_backend_ops *ops, const char *what, char *err, size_t errlen)
{
    if (!ops) {
        snprintf(err, errlen, "piglix was built without the %s H.264 encoder", what);
        return -1;
    }
    e->ops = ops;
    snprintf(e->name, sizeof(e->name), "%s", ops->name);
    if (ops->open(e, p, err, errlen) < 0) {
        e->ops = NULL;
        e->priv = NULL;
        return -1;
    }
    return 0;
}

struct h264_encoder *h264_encoder_open(const struct h264_params *p, char *err, size_t errlen)
{
    snprintf(err, errlen, "no error");
    if (p->width < 16 || p->height < 16 || p->width % 2 || p->height % 2 || p->width > 8192 ||
        p->height > 8192 || p->fps == 0) {
        snprintf(err, errlen, "unsupported picture %ux%u at %u fps (even sizes 16..8192)", p->width,
                 p->height, p->fps);
        return NULL;
    }
    struct h264_encoder *e = calloc(1, sizeof(*e));
    if (!e) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    e->params = *p;
    h264_follow_init(&e->follow);
    /* The caller's string need not outlive open: only the backend's open
     * reads it (from p). */
    e->params.m2m_device = NULL;
    THREAD_ASSERT_OWNER(&e->owner, "an H.264 encoder");
    int r = -1;
    switch (p->backend) {
    case H264_BACKEND_M2M: r = try_open(e, p, h264_backend_m2m, "V4L2 M2M", err, errlen); break;
    case H264_BACKEND_X264: r = try_open(e, p, h264_backend_x264, "x264", err, errlen); break;
    case H264_BACKEND_OPENH264: r = try_open(e, p, h264_backend_openh264, "openh264", err, errlen); break;
    case H264_BACKEND_AUTO: {
        /* Hardware first (it costs no CPU), then the software encoder that
         * gave the better quality per bit and CPU (h264/README.md). */
        char why[160] = "";
        if (h264_backend_m2m && try_open(e, p, h264_backend_m2m, "V4L2 M2M", why, sizeof(why)) == 0) {
            r = 0;
            break;
        }
        if (why[0])
            LOG_INFO("h264", "no hardware encoder (%s): using software", why);
        r = try_open(e, p, h264_backend_x264, "x264", err, errlen);
        if (r < 0)
            r = try_open(e, p, h264_backend_openh264, "openh264", err, errlen);
        if (r < 0)
            snprintf(err, errlen, "no H.264 encoder: no V4L2 M2M device and no software encoder built in");
        break;
    }
    default: snprintf(err, errlen, "unknown backend"); break;
    }
    if (r < 0) {
        free(e);
        return NULL;
    }
    return e;
}

/* The previews' budget: what the frames leave of the bitrate ceiling. A
 * bucket of bytes refilled at the ceiling's rate by the pictures' capture
 * time, holding at most a second of it; every frame and every preview
 * spends from it, so together they stay near the ceiling (the encoder's
 * own rate control sees only its frames). While someone types the frames
 * are small and previews may use most of it; while the picture moves the
 * frames take it and no preview is made. (A fixed 1/8 of the ceiling
 * before: a change of ~20 scattered macroblocks, 8 KB a preview, had it
 * spent in four keys at 640x480, and the keys after waited for x264.) */
static double preview_budget_rate(const struct h264_encoder *e)
{
    return e->ceiling_kbps * 1000.0 / 8; /* bytes a second */
}

static void preview_budget_refill(struct h264_encoder *e, int64_t pts_us)
{
    double rate = preview_budget_rate(e);
    if (!e->preview_timed || pts_us < e->preview_pts_us) {
        e->preview_tokens = rate;
        e->preview_timed = true;
    } else {
        e->preview_tokens += rate * (double)(pts_us - e->preview_pts_us) / 1e6;
        if (e->preview_tokens > rate)
            e->preview_tokens = rate;
    }
    e->preview_pts_us = pts_us;
}

/* After a refill at the picture's time. */
static void preview_budget_spend(struct h264_encoder *e, size_t bytes)
{
    double rate = preview_budget_rate(e);
    e->preview_tokens -= (double)bytes;
    if (e->preview_tokens < -rate) /* a debt of a second at most: an IDR far over the ceiling */
        e->preview_tokens = -rate;
}

int h264_encoder_encode(struct h264_encoder *e, const struct h264_picture *in, bool force_idr,
                        struct h264_output *out)
{
    THREAD_ASSERT_OWNER(&e->owner, "an H.264 encoder");
    *out = (struct h264_output){0};
    int r = e->ops->encode(e, in, force_idr, out);
    if (r == 0 && out->size) {
        h264_follow_note(&e->follow, out->data, out->size);
        preview_budget_refill(e, in->pts_us);
        preview_budget_spend(e, out->size);
    }
    return r;
}

bool h264_encoder_preview(struct h264_encoder *e, const struct h264_picture *in, struct h264_output *out)
{
    THREAD_ASSERT_OWNER(&e->owner, "an H.264 encoder");
    *out = (struct h264_output){0};
    preview_budget_refill(e, in->pts_us);
    if (e->preview_tokens <= 0)
        return false;
    if (!h264_follow_preview(&e->follow, in, e->params.width, e->params.height, H264_PREVIEW_MAX_MBS, out))
        return false;
    preview_budget_spend(e, out->size);
    LOG_DEBUG("h264", "preview: %zu bytes", out->size);
    return true;
}

const char *h264_encoder_name(const struct h264_encoder *e) { return e->name; }

void h264_encoder_close(struct h264_encoder *e)
{
    if (!e)
        return;
    THREAD_ASSERT_OWNER(&e->owner, "an H.264 encoder");
    e->ops->close(e);
    h264_follow_free(&e->follow);
    free(e);
}
