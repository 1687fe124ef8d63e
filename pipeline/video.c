/* pipeline/video.c — the H.264 stream: one encoder for every encoding-50
 * viewer, a ring of the last frames, and the damage history that says when
 * the picture is moving. See pipeline.h. */
#include <stdlib.h>
#include <string.h>

#include "common/clock.h"
#include "common/log.h"
#include "common/pixfmt.h"
#include "h264/h264.h"
#include "pipeline/pipeline.h"

/* Video mode: a frame is busy when more than 1/4 of its tiles changed; the
 * picture is moving while VIDEO_ENTER busy frames fell in the last
 * VIDEO_WINDOW_MS (2 s: a source as slow as 2 fps still counts), and stays so
 * down to VIDEO_STAY, so a short pause in an
 * animation does not flip back and forth). */
#define VIDEO_HISTORY 16
#define VIDEO_WINDOW_MS 2000
#define VIDEO_ENTER 4
#define VIDEO_STAY 2
#define VIDEO_IDR_MIN_MS 500
#define VIDEO_RETRY_MS 5000

struct ring_slot {
    uint64_t n;
    uint8_t *data;
    size_t len, cap;
    bool idr;
    uint64_t picture_seq;
};

struct pipeline_video {
    struct h264_params base;
    bool always, active;
    struct h264_encoder *enc;
    unsigned w, h;             /* the encoder's size (even) */
    uint8_t *i420;
    size_t i420_cap;
    uint64_t stream, last, last_idr;
    bool want_idr, open_failed;
    int64_t last_idr_ms, last_encode_ms, retry_ms;
    struct ring_slot ring[PIPELINE_VIDEO_RING];
    int64_t hist_ms[VIDEO_HISTORY];
    bool hist_busy[VIDEO_HISTORY];
    unsigned hist_pos;
    struct pipeline_video_stats stats;
};

struct pipeline_video *pipeline_video_create(const struct h264_params *base, bool always)
{
    struct pipeline_video *v = calloc(1, sizeof(*v));
    if (!v)
        return NULL;
    v->base = *base; /* its m2m_device string outlives the stream (the config) */
    v->always = always;
    v->last_idr_ms = -VIDEO_IDR_MIN_MS;
    return v;
}

static void close_encoder(struct pipeline_video *v)
{
    h264_encoder_close(v->enc);
    v->enc = NULL;
    for (int i = 0; i < PIPELINE_VIDEO_RING; i++)
        v->ring[i].n = 0;
    v->last = v->last_idr = 0;
}

void pipeline_video_destroy(struct pipeline_video *v)
{
    if (!v)
        return;
    close_encoder(v);
    for (int i = 0; i < PIPELINE_VIDEO_RING; i++)
        free(v->ring[i].data);
    free(v->i420);
    free(v);
}

void pipeline_video_note_damage(struct pipeline_video *v, int changed, unsigned total, int64_t now_ms)
{
    v->hist_ms[v->hist_pos] = now_ms;
    v->hist_busy[v->hist_pos] = total > 0 && (unsigned)changed * 4 > total;
    v->hist_pos = (v->hist_pos + 1) % VIDEO_HISTORY;
}

bool pipeline_video_active(struct pipeline_video *v, int64_t now_ms)
{
    if (v->always)
        return true;
    int busy = 0;
    for (int i = 0; i < VIDEO_HISTORY; i++)
        if (v->hist_busy[i] && now_ms - v->hist_ms[i] <= VIDEO_WINDOW_MS)
            busy++;
    v->active = busy >= (v->active ? VIDEO_STAY : VIDEO_ENTER);
    return v->active;
}

void pipeline_video_request_idr(struct pipeline_video *v) { v->want_idr = true; }

/* The picture as I420 in its own (limited) range: 4:2:2 sources keep their
 * samples (chroma: the two rows averaged), RGB goes through BT.601. */
static void to_i420(const struct capture_frame *f, uint8_t *y, uint8_t *u, uint8_t *vv, unsigned w,
                    unsigned h)
{
    unsigned cw = w / 2;
    if (f->fmt == PIXFMT_YUYV || f->fmt == PIXFMT_UYVY) {
        unsigned oy = f->fmt == PIXFMT_YUYV ? 0 : 1, oc = f->fmt == PIXFMT_YUYV ? 1 : 0;
        for (unsigned r = 0; r < h; r += 2) {
            const uint8_t *s0 = f->data + (size_t)r * f->stride, *s1 = s0 + f->stride;
            uint8_t *y0 = y + (size_t)r * w, *y1 = y0 + w;
            uint8_t *pu = u + (size_t)(r / 2) * cw, *pv = vv + (size_t)(r / 2) * cw;
            for (unsigned i = 0; i < cw; i++) {
                const uint8_t *a = s0 + 4 * i, *b = s1 + 4 * i;
                y0[2 * i] = a[oy];
                y0[2 * i + 1] = a[oy + 2];
                y1[2 * i] = b[oy];
                y1[2 * i + 1] = b[oy + 2];
                pu[i] = (uint8_t)((a[oc] + b[oc] + 1) / 2);
                pv[i] = (uint8_t)((a[oc + 2] + b[oc + 2] + 1) / 2);
            }
        }
        return;
    }
    for (unsigned r = 0; r < h; r += 2)
        for (unsigned c = 0; c < w; c += 2) {
            unsigned su = 0, sv = 0;
            for (unsigned k = 0; k < 4; k++) {
                unsigned rr = r + k / 2, cc = c + k % 2;
                const uint8_t *px = f->data + (size_t)rr * f->stride + cc * 3;
                uint8_t py, pu, pv;
                pixfmt_rgb_to_yuv(px[0], px[1], px[2], &py, &pu, &pv);
                y[(size_t)rr * w + cc] = py;
                su += pu;
                sv += pv;
            }
            u[(size_t)(r / 2) * cw + c / 2] = (uint8_t)((su + 2) / 4);
            vv[(size_t)(r / 2) * cw + c / 2] = (uint8_t)((sv + 2) / 4);
        }
}

static int open_encoder(struct pipeline_video *v, unsigned w, unsigned h, int64_t now_ms)
{
    if (now_ms < v->retry_ms)
        return -1;
    close_encoder(v);
    struct h264_params p = v->base;
    p.width = w;
    p.height = h;
    p.full_range = false; /* the capture's limited range is kept (to_i420) */
    char err[200];
    v->enc = h264_encoder_open(&p, err, sizeof(err));
    if (!v->enc) {
        /* Said once (e.g. a build without encoders); retried quietly. */
        if (!v->open_failed)
            LOG_ERROR("video", "no H.264 encoder for %ux%u: %s; viewers get tiles", w, h, err);
        v->open_failed = true;
        v->retry_ms = now_ms + VIDEO_RETRY_MS;
        return -1;
    }
    size_t need = (size_t)w * h * 3 / 2;
    if (need > v->i420_cap) {
        uint8_t *b = realloc(v->i420, need);
        if (!b) {
            close_encoder(v);
            return -1;
        }
        v->i420 = b;
        v->i420_cap = need;
    }
    v->w = w;
    v->h = h;
    v->stream++;
    v->want_idr = true;
    snprintf(v->stats.encoder, sizeof(v->stats.encoder), "%s", h264_encoder_name(v->enc));
    LOG_INFO("video", "H.264 stream %ux%u with %s", w, h, v->stats.encoder);
    return 0;
}

int pipeline_video_encode(struct pipeline_video *v, struct pipeline *p, int64_t now_ms)
{
    const struct capture_frame *f = pipeline_picture(p);
    if (!f)
        return -1;
    unsigned w = f->width & ~1u, h = f->height & ~1u;
    if ((!v->enc || w != v->w || h != v->h) && open_encoder(v, w, h, now_ms) < 0)
        return -1;
    double t0 = clock_mono_ns() / 1e6;
    uint8_t *y = v->i420, *u = y + (size_t)w * h, *vv = u + (size_t)w * h / 4;
    to_i420(f, y, u, vv, w, h);
    struct h264_picture pic = {.plane = {y, u, vv}, .stride = {w, w / 2, w / 2}, .dmabuf_fd = -1,
                               .pts_us = f->timestamp_us};
    bool force = (v->want_idr && now_ms - v->last_idr_ms >= VIDEO_IDR_MIN_MS) || v->last == 0;
    struct h264_output out;
    if (h264_encoder_encode(v->enc, &pic, force, &out) < 0) {
        v->stats.failures++;
        close_encoder(v);
        v->retry_ms = now_ms + VIDEO_RETRY_MS;
        return -1;
    }
    v->stats.encode_ms += clock_mono_ns() / 1e6 - t0;
    if (out.size == 0)
        return 0; /* nothing this time (a backend that skipped): the last frame stands */
    struct ring_slot *s = &v->ring[(v->last + 1) % PIPELINE_VIDEO_RING];
    if (out.size > s->cap) {
        uint8_t *b = realloc(s->data, out.size);
        if (!b) {
            /* The stream has a hole now: start again with an IDR. */
            close_encoder(v);
            return -1;
        }
        s->data = b;
        s->cap = out.size;
    }
    memcpy(s->data, out.data, out.size);
    s->len = out.size;
    s->idr = out.idr;
    s->n = ++v->last;
    s->picture_seq = pipeline_seq(p);
    if (out.idr) {
        v->last_idr = s->n;
        v->last_idr_ms = now_ms;
        v->want_idr = false;
        v->stats.idrs++;
    }
    v->last_encode_ms = now_ms;
    v->stats.frames++;
    v->stats.bytes += out.size;
    return 0;
}

uint64_t pipeline_video_stream(const struct pipeline_video *v) { return v->stream; }
uint64_t pipeline_video_last(const struct pipeline_video *v) { return v->last; }
uint64_t pipeline_video_last_idr(const struct pipeline_video *v) { return v->last_idr; }
int64_t pipeline_video_last_encode_ms(const struct pipeline_video *v) { return v->last_encode_ms; }

void pipeline_video_size(const struct pipeline_video *v, unsigned *w, unsigned *h)
{
    *w = v->w;
    *h = v->h;
}

bool pipeline_video_frame(const struct pipeline_video *v, uint64_t n, struct pipeline_video_frame *out)
{
    if (n == 0)
        return false;
    const struct ring_slot *s = &v->ring[n % PIPELINE_VIDEO_RING];
    if (s->n != n)
        return false;
    *out = (struct pipeline_video_frame){.data = s->data, .len = s->len, .idr = s->idr,
                                         .picture_seq = s->picture_seq};
    return true;
}

void pipeline_video_get_stats(const struct pipeline_video *v, struct pipeline_video_stats *out)
{
    *out = v->stats;
}
