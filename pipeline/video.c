/* pipeline/video.c — the H.264 stream: one encoder for every encoding-50
 * viewer, a ring of the last frames, and the damage history that says when
 * the picture is moving. See pipeline.h. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/liveness.h"
#include "common/clock.h"
#include "common/log.h"
#include "common/thread.h"
#include "h264/h264.h"
#include "pipeline/damage.h"
#include "pipeline/pipeline.h"
#include "pipeline/video_internal.h"

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
    bool idr, preview;
    uint64_t picture_seq;
};

/* One picture for the encoder: a copy of the pipeline's (which the next
 * frame overwrites), converted to I420 by the encoder's thread. damage says
 * which tiles changed since the picture the encoder took last (unless
 * damage.all): only those are converted again, and the encoder is told the
 * other macroblocks are unchanged (bench_h264's "x264 damage": the 1080p
 * desktop 6.0 ms a frame against 11.4 for whole pictures; h264/README.md). */
struct video_job {
    struct capture_frame f; /* f.data points into buf */
    uint8_t *buf;
    size_t cap;
    uint64_t buf_seq;       /* the picture buf holds (0: none): video_copy.c */
    uint64_t picture_seq;
    bool force_idr;
    bool previews;          /* a preview may go ahead of its frame (h264.h) */
    int64_t now_ms;
    struct video_damage damage;
};

enum video_outcome { VIDEO_FRAME, VIDEO_EMPTY, VIDEO_NO_ENCODER, VIDEO_FAILED };

/* What the encoder made of one job, for the server thread to take. */
struct video_result {
    enum video_outcome outcome;
    uint8_t *data;
    size_t len, cap;
    bool idr, opened; /* opened: first frame of a newly opened encoder (a new stream) */
    unsigned w, h;
    uint64_t picture_seq;
    double encode_ms;
    char encoder[96];
};

struct pipeline_video {
    struct h264_params base;
    bool always, active;
    bool previews;             /* [video] previews: handed to each job */
    /* The server thread's side (owner): the ring and the stream. */
    struct thread_owner owner;
    unsigned w, h;             /* the stream's size (even) */
    uint64_t stream, last, last_idr;
    bool want_idr;
    int64_t last_idr_ms, last_encode_ms;
    uint64_t submitted_seq, done_seq; /* newest picture handed over / answered */
    struct tile_grid sub_grid;        /* the grid of submitted_seq's picture */
    int64_t submitted_ms;
    bool in_flight;            /* submitted_seq not answered yet */
    int64_t waiting_since_ms;  /* since then without any answer */
    struct video_job fill;     /* the next job, being copied */
    struct video_copy_history copies;
    struct video_result taken; /* the last result taken over */
    struct video_result preview_taken;
    struct ring_slot ring[PIPELINE_VIDEO_RING];
    int64_t hist_ms[VIDEO_HISTORY];
    bool hist_busy[VIDEO_HISTORY];
    unsigned hist_pos;
    struct pipeline_video_stats stats;

    /* The encoder's side (enc_owner): its thread, or the caller inline. */
    struct thread_owner enc_owner;
    struct h264_encoder *enc;
    unsigned enc_w, enc_h;
    struct video_convert conv; /* the encoder's I420 picture (video_convert.c) */
    bool open_failed;
    int64_t retry_ms;
    struct video_job work;
    struct video_result made, preview_made;

    /* Between the two (lock): a newest-wins job slot and one result. */
    pthread_mutex_t lock;
    pthread_cond_t cond;
    struct video_job pending;
    struct video_result result, preview;
    bool has_pending, has_result, has_preview, stop, threaded;
    uint64_t replaced;
    void (*wake)(void *);
    void *wake_arg;
    pthread_t tid;
};

static void *encoder_thread(void *arg);

struct pipeline_video *pipeline_video_create(const struct h264_params *base, bool always,
                                              void (*wake)(void *), void *wake_arg)
{
    struct pipeline_video *v = calloc(1, sizeof(*v));
    if (!v)
        return NULL;
    v->base = *base; /* its m2m_device string outlives the stream (the config) */
    v->always = always;
    v->previews = true;
    v->last_idr_ms = -VIDEO_IDR_MIN_MS;
    v->wake = wake;
    v->wake_arg = wake_arg;
    pthread_mutex_init(&v->lock, NULL);
    pthread_cond_init(&v->cond, NULL);
    if (wake) {
        int e = thread_start(&v->tid, encoder_thread, v);
        if (e) {
            LOG_ERROR("video", "cannot start the H.264 encoder thread: %s", strerror(e));
            pthread_cond_destroy(&v->cond);
            pthread_mutex_destroy(&v->lock);
            free(v);
            return NULL;
        }
        v->threaded = true;
    }
    return v;
}

/* Encoder side. */
static void close_encoder(struct pipeline_video *v)
{
    THREAD_ASSERT_OWNER(&v->enc_owner, "the H.264 encoder");
    h264_encoder_close(v->enc);
    v->enc = NULL;
}

static void reset_ring(struct pipeline_video *v)
{
    for (int i = 0; i < PIPELINE_VIDEO_RING; i++)
        v->ring[i].n = 0;
    v->last = v->last_idr = 0;
}

static void free_job(struct video_job *j)
{
    free(j->buf);
    video_damage_free(&j->damage);
}
static void free_result(struct video_result *r) { free(r->data); }

void pipeline_video_destroy(struct pipeline_video *v)
{
    if (!v)
        return;
    if (v->threaded) {
        /* Waits for at most the frame being encoded (an M2M device times
         * out after 2 s); the thread closes its encoder itself. */
        pthread_mutex_lock(&v->lock);
        v->stop = true;
        pthread_cond_broadcast(&v->cond);
        pthread_mutex_unlock(&v->lock);
        pthread_join(v->tid, NULL);
    } else {
        close_encoder(v);
    }
    for (int i = 0; i < PIPELINE_VIDEO_RING; i++)
        free(v->ring[i].data);
    free_job(&v->fill);
    free_job(&v->work);
    free_job(&v->pending);
    free_result(&v->taken);
    free_result(&v->made);
    free_result(&v->result);
    free_result(&v->preview_taken);
    free_result(&v->preview_made);
    free_result(&v->preview);
    video_convert_free(&v->conv);
    video_copy_free(&v->copies);
    pthread_cond_destroy(&v->cond);
    pthread_mutex_destroy(&v->lock);
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

void pipeline_video_set_previews(struct pipeline_video *v, bool on)
{
    THREAD_ASSERT_OWNER(&v->owner, "the H.264 stream (server thread)");
    v->previews = on;
}

/* ---- the encoder's side: its own thread, or the caller's inline ---- */

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
    if (video_convert_size(&v->conv, w, h) < 0) {
        close_encoder(v);
        return -1;
    }
    v->enc_w = w;
    v->enc_h = h;
    LOG_INFO("video", "H.264 stream %ux%u with %s (quality QP %u, at most %u kbit/s)", w, h,
             h264_encoder_name(v->enc), p.quality_qp ? p.quality_qp : H264_QUALITY_QP_DEFAULT, p.bitrate_kbps);
    return 0;
}

static void swap_jobs(struct video_job *a, struct video_job *b)
{
    struct video_job t = *a;
    *a = *b;
    *b = t;
}

static void swap_results(struct video_result *a, struct video_result *b)
{
    struct video_result t = *a;
    *a = *b;
    *b = t;
}

/* out's bytes into r (its buffer grows); false without memory. */
static bool keep_output(struct video_result *r, const struct h264_output *out)
{
    if (out->size > r->cap) {
        uint8_t *b = realloc(r->data, out->size);
        if (!b)
            return false;
        r->data = b;
        r->cap = out->size;
    }
    memcpy(r->data, out->data, out->size);
    r->len = out->size;
    return true;
}

static void take_preview(struct pipeline_video *v, const struct video_result *r);

/* A preview of the job's picture, handed over before the encoder starts on
 * it (the echo of a key without the encoder's time: h264.h "Previews").
 * One lost (no memory) costs nothing: the frame follows. */
static void hand_preview(struct pipeline_video *v, const struct video_job *j, const struct h264_output *out)
{
    struct video_result *r = &v->preview_made;
    if (!keep_output(r, out))
        return;
    r->picture_seq = j->picture_seq;
    r->outcome = VIDEO_FRAME;
    r->idr = r->opened = false;
    r->encode_ms = 0;
    if (!v->threaded) {
        take_preview(v, r);
        return;
    }
    /* The slot is free: the server thread takes a preview with or before
     * the result the encoder's last job made, and this job started only
     * after that was taken. */
    pthread_mutex_lock(&v->lock);
    swap_results(&v->preview, r);
    v->has_preview = true;
    pthread_mutex_unlock(&v->lock);
    v->wake(v->wake_arg);
}

/* One job into v->made: conversion and encoding, the costly part. */
static void run_job(struct pipeline_video *v, const struct video_job *j)
{
    THREAD_ASSERT_OWNER(&v->enc_owner, "the H.264 encoder");
    struct video_result *r = &v->made;
    const struct capture_frame *f = &j->f;
    unsigned w = f->width & ~1u, h = f->height & ~1u;
    r->picture_seq = j->picture_seq;
    r->len = 0;
    r->idr = r->opened = false;
    r->encode_ms = 0;
    if (!v->enc || w != v->enc_w || h != v->enc_h) {
        if (open_encoder(v, w, h, j->now_ms) < 0) {
            r->outcome = VIDEO_NO_ENCODER;
            return;
        }
        r->opened = true;
        r->w = w;
        r->h = h;
        snprintf(r->encoder, sizeof(r->encoder), "%s", h264_encoder_name(v->enc));
    }
    double t0 = clock_mono_ns() / 1e6;
    /* (A new encoder: open_encoder's video_convert_size made the picture
     * not current, so all of it is converted.) */
    const uint8_t *still = video_convert(&v->conv, &j->f, &j->damage, w, h);
    uint8_t *y = v->conv.i420, *u = y + (size_t)w * h, *vv = u + (size_t)w * h / 4;
    struct h264_picture pic = {.plane = {y, u, vv}, .stride = {w, w / 2, w / 2}, .dmabuf_fd = -1,
                               .pts_us = f->timestamp_us, .still_mbs = still};
    struct h264_output out;
    /* (Not for a new encoder or an IDR: a viewer joining needs the IDR.) */
    if (j->previews && still && !j->force_idr && !r->opened && h264_encoder_preview(v->enc, &pic, &out))
        hand_preview(v, j, &out);
    v->conv.current = true; /* the encoder takes this picture, whatever it makes of it */
    if (h264_encoder_encode(v->enc, &pic, j->force_idr || r->opened, &out) < 0) {
        v->conv.current = false;
        close_encoder(v);
        v->retry_ms = j->now_ms + VIDEO_RETRY_MS;
        r->outcome = VIDEO_FAILED;
        return;
    }
    r->encode_ms = clock_mono_ns() / 1e6 - t0;
    r->outcome = VIDEO_EMPTY; /* a backend that skipped: the last frame stands */
    if (out.size == 0)
        return;
    if (!keep_output(r, &out)) {
        /* The stream would have a hole: start again with an IDR. */
        close_encoder(v);
        r->outcome = VIDEO_FAILED;
        return;
    }
    r->idr = out.idr;
    r->outcome = VIDEO_FRAME;
}

/* Takes the newest job when the last result has been taken (so no frame of
 * the stream is ever lost between the two), encodes it, hands the result
 * over and wakes the server thread. */
static void *encoder_thread(void *arg)
{
    struct pipeline_video *v = arg;
    struct liveness *live = liveness_register("h264");
    pthread_mutex_lock(&v->lock);
    for (;;) {
        while (!v->stop && (!v->has_pending || v->has_result))
            liveness_cond_wait(live, &v->cond, &v->lock);
        if (v->stop)
            break;
        swap_jobs(&v->work, &v->pending);
        v->has_pending = false;
        pthread_mutex_unlock(&v->lock);
        liveness_beat(live);
        run_job(v, &v->work);
        pthread_mutex_lock(&v->lock);
        swap_results(&v->result, &v->made);
        v->has_result = true;
        pthread_mutex_unlock(&v->lock);
        v->wake(v->wake_arg);
        pthread_mutex_lock(&v->lock);
    }
    pthread_mutex_unlock(&v->lock);
    liveness_unregister(live);
    close_encoder(v);
    return NULL;
}

/* ---- the server thread's side ---- */

/* A frame into the ring; false (and a new stream from the next IDR, due at
 * once) without memory. */
static bool push_frame(struct pipeline_video *v, const struct video_result *r, bool preview)
{
    struct ring_slot *s = &v->ring[(v->last + 1) % PIPELINE_VIDEO_RING];
    if (r->len > s->cap) {
        uint8_t *b = realloc(s->data, r->len);
        if (!b) {
            reset_ring(v);
            v->stream++;
            v->want_idr = true;
            v->last_idr_ms = -VIDEO_IDR_MIN_MS;
            return false;
        }
        s->data = b;
        s->cap = r->len;
    }
    memcpy(s->data, r->data, r->len);
    s->len = r->len;
    s->idr = r->idr;
    s->preview = preview;
    s->n = ++v->last;
    s->picture_seq = r->picture_seq;
    return true;
}

/* One result into the ring. */
static void take_result(struct pipeline_video *v, const struct video_result *r)
{
    v->done_seq = r->picture_seq;
    /* An older picture answered: the encoder is alive, the newest still on its way. */
    v->in_flight = r->picture_seq != v->submitted_seq;
    v->waiting_since_ms = v->submitted_ms;
    if (r->opened) {
        reset_ring(v);
        v->w = r->w;
        v->h = r->h;
        v->stream++;
        snprintf(v->stats.encoder, sizeof(v->stats.encoder), "%s", r->encoder);
    }
    v->stats.encode_ms += r->encode_ms;
    if (r->outcome == VIDEO_FAILED) {
        v->stats.failures++;
        /* A new stream from the next IDR: viewers start again there. */
        reset_ring(v);
        v->stream++;
    }
    if (r->outcome != VIDEO_FRAME || !push_frame(v, r, false))
        return;
    if (r->idr) {
        v->last_idr = v->last;
        v->want_idr = false;
        v->stats.idrs++;
    }
    v->last_encode_ms = v->submitted_ms;
    v->stats.frames++;
    v->stats.bytes += r->len;
}

/* A preview into the ring: a frame of the stream, but the picture is not
 * answered yet (its frame follows). */
static void take_preview(struct pipeline_video *v, const struct video_result *r)
{
    if (!push_frame(v, r, true))
        return;
    v->stats.previews++;
    v->stats.preview_bytes += r->len;
}

bool pipeline_video_collect(struct pipeline_video *v)
{
    THREAD_ASSERT_OWNER(&v->owner, "the H.264 stream (server thread)");
    if (!v->threaded)
        return false;
    pthread_mutex_lock(&v->lock);
    /* A preview before the result: it went ahead of that frame. */
    bool got_preview = v->has_preview;
    if (got_preview) {
        swap_results(&v->preview_taken, &v->preview);
        v->has_preview = false;
    }
    bool got = v->has_result;
    if (got) {
        swap_results(&v->taken, &v->result);
        v->has_result = false;
        pthread_cond_signal(&v->cond); /* the encoder may take the next job */
    }
    v->stats.replaced = v->replaced;
    pthread_mutex_unlock(&v->lock);
    if (got_preview)
        take_preview(v, &v->preview_taken);
    if (got)
        take_result(v, &v->taken);
    return got || got_preview;
}

bool pipeline_video_pending(const struct pipeline_video *v, uint64_t picture_seq, int64_t now_ms)
{
    return v->in_flight && v->submitted_seq == picture_seq &&
           now_ms - v->waiting_since_ms < PIPELINE_VIDEO_HOLD_MS;
}

/* What changed since the picture handed over before: this frame's damage
 * when it follows that one directly (pipeline_seq counts changed frames),
 * else all of it. */
static void fill_damage(struct pipeline_video *v, struct video_job *j, const struct pipeline *p)
{
    const struct tile_grid *g = pipeline_grid(p);
    bool follows = tile_grid_same_layout(g, &v->sub_grid) && j->picture_seq == v->submitted_seq + 1;
    v->sub_grid = *g;
    video_damage_set(&j->damage, g, follows ? pipeline_last_damage(p) : NULL);
}

/* j replaces older, which the encoder never took: j's damage is counted
 * from older's picture, so it takes older's too. */
static void merge_damage(struct video_job *j, const struct video_job *older)
{
    if (j->damage.all)
        return;
    if (older->damage.all || !tile_grid_same_layout(&older->damage.grid, &j->damage.grid)) {
        j->damage.all = true;
        return;
    }
    for (size_t i = 0; i < tile_grid_count(&j->damage.grid); i++)
        j->damage.map[i] |= older->damage.map[i];
}

int pipeline_video_encode(struct pipeline_video *v, struct pipeline *p, int64_t now_ms)
{
    THREAD_ASSERT_OWNER(&v->owner, "the H.264 stream (server thread)");
    const struct capture_frame *f = pipeline_picture(p);
    if (!f || f->width < 2 || f->height < 2)
        return -1;
    struct video_job *j = &v->fill;
    size_t size = (size_t)f->stride * f->height;
    if (size > j->cap) {
        uint8_t *b = realloc(j->buf, size);
        if (!b)
            return -1;
        j->buf = b;
        j->cap = size;
        j->buf_seq = 0;
    }
    j->picture_seq = pipeline_seq(p);
    fill_damage(v, j, p);
    video_copy_note(&v->copies, j->picture_seq, &j->damage);
    struct capture_frame held = j->f;
    v->stats.copied += video_copy_picture(&v->copies, j->buf, j->buf_seq, &held, f, j->picture_seq, &j->damage.grid);
    j->buf_seq = j->picture_seq;
    j->f = *f;
    j->f.data = j->buf;
    j->now_ms = now_ms;
    j->previews = v->previews;
    /* A new encoder starts with an IDR by itself (run_job). */
    j->force_idr = v->want_idr && now_ms - v->last_idr_ms >= VIDEO_IDR_MIN_MS;
    if (j->force_idr)
        v->last_idr_ms = now_ms; /* asked now: the rate limit counts from here */
    if (!v->in_flight)
        v->waiting_since_ms = now_ms;
    v->in_flight = true;
    v->submitted_seq = j->picture_seq;
    v->submitted_ms = now_ms;
    if (!v->threaded) {
        /* Inline (benchmarks): the old path, the encoder on this thread. */
        run_job(v, j);
        take_result(v, &v->made);
        return v->made.outcome == VIDEO_NO_ENCODER || v->made.outcome == VIDEO_FAILED ? -1 : 0;
    }
    pthread_mutex_lock(&v->lock);
    if (v->has_pending) {
        /* Not started yet: replaced by the newer picture, never queued. An
         * IDR it carried is still owed. */
        j->force_idr |= v->pending.force_idr;
        merge_damage(j, &v->pending);
        v->replaced++;
    }
    swap_jobs(&v->pending, j);
    v->has_pending = true;
    pthread_cond_signal(&v->cond);
    pthread_mutex_unlock(&v->lock);
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
                                         .preview = s->preview, .picture_seq = s->picture_seq};
    return true;
}

void pipeline_video_get_stats(const struct pipeline_video *v, struct pipeline_video_stats *out)
{
    *out = v->stats;
}
