/* The V4L2 capture source: an HDMI bridge with DV timings (TC358743) or a
 * USB dongle without (UVC, MJPEG or YUYV). A state machine that never gives
 * up: closed -> open -> set up (timings, format, buffers) -> streaming, and
 * back to an earlier state on any trouble, retrying on a timer. While there
 * is no picture, next() hands out a "NO SIGNAL" frame that says why, once a
 * second (identical frames cost nothing downstream), so viewers stay
 * connected and see the picture return by itself.
 *
 * next() returns at least every V4L2SRC_STEP_US so the capture thread can
 * stop promptly; every wait inside is bounded by that. */
#include "capture/v4l2.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "capture/nosignal.h"
#include "common/clock.h"
#include "common/log.h"
#include "common/thread.h"

#define V4L2SRC_BUFFERS 4
#define V4L2SRC_STEP_US 500000           /* next() returns at least this often */
#define V4L2SRC_REOPEN_US 1000000        /* a missing device: try again every second */
#define V4L2SRC_REQUERY_US 500000        /* no signal: query the timings again */
#define V4L2SRC_RESTART_US 1000000       /* after a streaming error */
#define V4L2SRC_NOSIGNAL_REPEAT_US 1000000

enum { STEP_NONE, STEP_FRAME };

struct v4l2_source {
    struct thread_owner owner;  /* the capture thread: next() and stats */
    char device[CONFIG_STR_MAX];
    char edid_path[CONFIG_STR_MAX];
    unsigned want_w, want_h, fps;
    enum pixfmt preferred;

    struct v4l2dev dev;
    struct v4l2_decoder dec;
    struct v4l2_pacer pacer;
    struct nosignal_canvas canvas;

    uint8_t edid[V4L2_EDID_MAX_BLOCKS * V4L2_EDID_BLOCK];
    int edid_blocks;       /* 0: leave the device's EDID alone */
    int edid_last_result;  /* logged once per distinct outcome */
    bool colour_warned;

    int held;              /* buffer handed out by the last next(), or -1 */
    int64_t retry_at_us;   /* when to open or set up again */
    int64_t last_good_us;  /* last frame not flagged broken, or stream start */
    int64_t frame_timeout_us; /* [capture] frame_timeout_ms: no good frame that long is a stall */
    int64_t nosignal_due_us;

    enum capture_signal problem; /* CAPTURE_SIGNAL_OK while frames flow */
    char detail[160];
    unsigned last_w, last_h;     /* size of the last picture */
    uint64_t seq;
    struct capture_source_stats stats;
};

static void sleep_until(int64_t t_us)
{
    int64_t left = t_us - clock_mono_us();
    if (left <= 0)
        return;
    struct timespec ts = {.tv_sec = left / 1000000, .tv_nsec = (long)(left % 1000000) * 1000};
    while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
        ;
}

static int64_t min64(int64_t a, int64_t b) { return a < b ? a : b; }

/* Until when a step may wait: the call's deadline, and while there is no
 * picture, the next no-signal frame. */
static int64_t wake_limit(const struct v4l2_source *s, int64_t deadline)
{
    return s->problem != CAPTURE_SIGNAL_OK ? min64(deadline, s->nosignal_due_us) : deadline;
}

static int ms_until(int64_t t_us)
{
    int64_t left = t_us - clock_mono_us();
    return left <= 0 ? 0 : (int)((left + 999) / 1000);
}

/* Records why there is no picture; logs and shows it at once when it is news. */
static void set_problem(struct v4l2_source *s, enum capture_signal reason, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void set_problem(struct v4l2_source *s, enum capture_signal reason, const char *fmt, ...)
{
    char detail[sizeof(s->detail)];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(detail, sizeof(detail), fmt, ap);
    va_end(ap);
    if (reason == s->problem && strcmp(detail, s->detail) == 0)
        return;
    LOG_WARN("capture", "%s: %s", nosignal_title(reason), detail);
    s->problem = reason;
    snprintf(s->detail, sizeof(s->detail), "%s", detail);
    s->nosignal_due_us = 0;
}

static void release_held(struct v4l2_source *s)
{
    if (s->held < 0)
        return;
    if (s->dev.streaming)
        (void)v4l2dev_requeue(&s->dev, (unsigned)s->held); /* an error shows at the next dequeue */
    s->held = -1;
}

static void stop_streaming(struct v4l2_source *s)
{
    s->held = -1;
    v4l2dev_stop(&s->dev);
    s->stats.device_format[0] = '\0';
    s->stats.source_fps = 0;
}

static void close_device(struct v4l2_source *s)
{
    stop_streaming(s);
    v4l2dev_close(&s->dev);
}

/* ---- EDID ---- */

static void apply_edid(struct v4l2_source *s)
{
    if (!s->edid_blocks)
        return;
    uint8_t current[sizeof(s->edid)];
    int n = v4l2dev_get_edid(&s->dev, current, V4L2_EDID_MAX_BLOCKS);
    if (n == s->edid_blocks && memcmp(current, s->edid, (size_t)n * V4L2_EDID_BLOCK) == 0) {
        LOG_DEBUG("capture", "%s already has the EDID of %s", s->device, s->edid_path);
        return; /* setting it again would pulse hotplug and make the source re-train */
    }
    int r = v4l2dev_set_edid(&s->dev, s->edid, (unsigned)s->edid_blocks);
    if (r == s->edid_last_result)
        return;
    s->edid_last_result = r;
    if (r == 0)
        LOG_INFO("capture", "loaded the EDID %s (%d blocks) into %s", s->edid_path, s->edid_blocks, s->device);
    else if (r == -ENOTTY || (r == -EINVAL && !s->dev.has_dv))
        LOG_INFO("capture", "%s takes no EDID (%s); EDID left alone", s->device, strerror(-r));
    else
        LOG_WARN("capture", "%s refused the EDID %s: %s", s->device, s->edid_path, strerror(-r));
}

/* ---- states ---- */

static int step_closed(struct v4l2_source *s, int64_t deadline)
{
    int64_t t = clock_mono_us();
    if (t < s->retry_at_us) {
        sleep_until(min64(s->retry_at_us, wake_limit(s, deadline)));
        return STEP_NONE;
    }
    int r = v4l2dev_open(&s->dev, s->device);
    if (r < 0) {
        set_problem(s, CAPTURE_SIGNAL_NO_DEVICE, "%s: %s", s->device,
                    r == -ENOTSUP ? "not a streaming video capture device" : strerror(-r));
        s->retry_at_us = t + V4L2SRC_REOPEN_US;
        return STEP_NONE;
    }
    LOG_INFO("capture", "opened %s (%s, %s)", s->device, s->dev.card,
             s->dev.has_dv ? "HDMI with DV timings" : "no DV timings");
    apply_edid(s);
    s->retry_at_us = 0;
    return STEP_NONE;
}

/* The reason for a failed timings query. */
static void timings_problem(struct v4l2_source *s, int err)
{
    if (err == -ENOLINK)
        set_problem(s, CAPTURE_SIGNAL_NONE, "%s: no signal on the HDMI input", s->device);
    else if (err == -ENOLCK)
        set_problem(s, CAPTURE_SIGNAL_NO_LOCK, "%s: a signal, but the receiver cannot lock to it", s->device);
    else if (err == -ERANGE)
        set_problem(s, CAPTURE_SIGNAL_OUT_OF_RANGE, "%s: the source's mode is not supported", s->device);
    else
        set_problem(s, CAPTURE_SIGNAL_NONE, "%s: cannot query the timings: %s", s->device, strerror(-err));
}

static bool device_gone(int err) { return err == -ENODEV || err == -ENXIO; }

/* Downstream converts YUV as BT.601 limited range (what the TC358743 sends);
 * say so once when a device reports something else (vivid's HD modes: BT.709). */
static void warn_colour_encoding(struct v4l2_source *s)
{
    bool yuv = s->dev.fourcc == V4L2_PIX_FMT_YUYV || s->dev.fourcc == V4L2_PIX_FMT_UYVY;
    if (!yuv || s->colour_warned ||
        (s->dev.ycbcr_enc == V4L2_YCBCR_ENC_601 && s->dev.quantization == V4L2_QUANTIZATION_LIM_RANGE))
        return;
    s->colour_warned = true;
    LOG_WARN("capture", "%s sends %s %s-range YCbCr; piglix converts as BT.601 limited range, so colours "
             "are slightly off", s->device, s->dev.ycbcr_enc == V4L2_YCBCR_ENC_709 ? "BT.709" : "non-BT.601",
             s->dev.quantization == V4L2_QUANTIZATION_FULL_RANGE ? "full" : "limited");
}

/* Timings, format, buffers, stream on. On failure *what names the step. */
static int setup_stream(struct v4l2_source *s, const char **what)
{
    int r;
    if (s->dev.has_dv) {
        struct v4l2_dv_timings t;
        *what = "timings";
        r = v4l2dev_query_timings(&s->dev, &t);
        if (r < 0)
            return r;
        r = v4l2dev_set_timings(&s->dev, &t);
        if (r < 0)
            return r == -EINVAL ? -ERANGE : r;
    }
    struct v4l2_candidate c[V4L2_MAX_CANDIDATES];
    *what = "formats";
    int n = v4l2dev_list_candidates(&s->dev, s->want_w, s->want_h, c, V4L2_MAX_CANDIDATES);
    if (n < 0)
        return n;
    if (n == 0)
        return -ENOTSUP;
    int i = v4l2_choose(c, n, s->want_w, s->want_h, s->fps, s->preferred);
    *what = "VIDIOC_S_FMT";
    r = v4l2dev_set_format(&s->dev, c[i].fourcc, c[i].width, c[i].height);
    if (r < 0)
        return r;
    if (!s->dev.has_dv)
        v4l2dev_set_fps(&s->dev, s->fps);
    *what = "buffers";
    r = v4l2dev_start(&s->dev, V4L2SRC_BUFFERS);
    if (r < 0)
        return r;
    warn_colour_encoding(s);
    char fcc[5];
    v4l2dev_fourcc_str(s->dev.fourcc, fcc);
    snprintf(s->stats.device_format, sizeof(s->stats.device_format), "%s", fcc);
    s->stats.source_fps = s->dev.has_dv ? v4l2dev_timings_fps(&s->dev.timings) : c[i].fps;
    s->stats.restarts++;
    v4l2_pacer_init(&s->pacer, s->fps);
    LOG_INFO("capture", "%s: streaming %ux%u %s%s (%.2f Hz source, limit %u fps)", s->device, s->dev.width,
             s->dev.height, fcc, s->dev.has_dv ? " from DV timings" : "", s->stats.source_fps, s->fps);
    return 0;
}

static int step_setup(struct v4l2_source *s, int64_t deadline)
{
    int64_t t = clock_mono_us();
    if (t < s->retry_at_us) {
        /* Sleep in poll: a source-change event (signal back) ends the wait. */
        int64_t until = min64(s->retry_at_us, wake_limit(s, deadline));
        int r = v4l2dev_wait(&s->dev, ms_until(until));
        if (r > 0 && (r & V4L2DEV_READY_EVENT) && v4l2dev_take_events(&s->dev) > 0)
            s->retry_at_us = 0;
        else if (r > 0 && (r & V4L2DEV_READY_ERROR))
            sleep_until(until); /* a driver that flags errors while idle must not make us spin */
        if (r < 0 && device_gone(r)) {
            set_problem(s, CAPTURE_SIGNAL_NO_DEVICE, "%s: %s", s->device, strerror(-r));
            close_device(s);
            s->retry_at_us = clock_mono_us() + V4L2SRC_REOPEN_US;
        }
        return STEP_NONE;
    }
    const char *what = "";
    int r = setup_stream(s, &what);
    if (r == 0) {
        s->last_good_us = clock_mono_us();
        return STEP_NONE;
    }
    stop_streaming(s);
    if (device_gone(r)) {
        set_problem(s, CAPTURE_SIGNAL_NO_DEVICE, "%s: %s", s->device, strerror(-r));
        close_device(s);
        s->retry_at_us = t + V4L2SRC_REOPEN_US;
    } else if (r == -ENOLINK || r == -ENOLCK || r == -ERANGE) {
        timings_problem(s, r);
        s->retry_at_us = t + V4L2SRC_REQUERY_US;
    } else if (r == -ENOTSUP) {
        set_problem(s, CAPTURE_SIGNAL_NO_DEVICE, "%s: no usable pixel format (YUYV, UYVY, RGB24, BGR24, MJPEG)",
                    s->device);
        s->retry_at_us = t + V4L2SRC_REOPEN_US;
    } else {
        set_problem(s, CAPTURE_SIGNAL_NO_DEVICE, "%s: %s: %s", s->device, what, strerror(-r));
        /* A driver that will not stream again (STREAMON failing after a
         * stall) may be stuck in the file's state: start from a fresh open. */
        LOG_WARN("capture", "%s: reopening the device", s->device);
        close_device(s);
        s->stats.reopens++;
        s->retry_at_us = t + V4L2SRC_REOPEN_US;
    }
    return STEP_NONE;
}

/* After a source-change event or a frame timeout: are the timings still the
 * ones streaming? If not, stop; the setup state takes it from there. Returns
 * true when streaming stopped. */
static bool timings_changed(struct v4l2_source *s)
{
    if (!s->dev.has_dv) {
        stop_streaming(s);
        s->retry_at_us = 0;
        return true;
    }
    struct v4l2_dv_timings t;
    int r = v4l2dev_query_timings(&s->dev, &t);
    if (r == 0 && v4l2dev_timings_equal(&t, &s->dev.timings))
        return false;
    stop_streaming(s);
    if (r < 0) {
        if (device_gone(r)) {
            set_problem(s, CAPTURE_SIGNAL_NO_DEVICE, "%s: %s", s->device, strerror(-r));
            close_device(s);
            s->retry_at_us = clock_mono_us() + V4L2SRC_REOPEN_US;
            return true;
        }
        timings_problem(s, r);
        s->retry_at_us = clock_mono_us() + V4L2SRC_REQUERY_US;
    } else {
        LOG_INFO("capture", "%s: the source changed to %ux%u%s", s->device, t.bt.width, t.bt.height,
                 t.bt.interlaced ? " interlaced" : "");
        s->retry_at_us = 0;
    }
    return true;
}

static void streaming_failed(struct v4l2_source *s, int err)
{
    if (device_gone(err)) {
        set_problem(s, CAPTURE_SIGNAL_NO_DEVICE, "%s: %s", s->device, strerror(-err));
        close_device(s);
        s->retry_at_us = clock_mono_us() + V4L2SRC_REOPEN_US;
        return;
    }
    LOG_WARN("capture", "%s: streaming error: %s; restarting", s->device, strerror(-err));
    stop_streaming(s);
    s->retry_at_us = clock_mono_us() + V4L2SRC_RESTART_US;
}

/* One dequeued buffer: returns STEP_FRAME with *out filled, or STEP_NONE
 * when the frame is dropped (it goes back to the driver). */
static int take_frame(struct v4l2_source *s, const struct v4l2_buffer *buf, struct capture_frame *out)
{
    int64_t t = clock_mono_us();
    s->stats.device_frames++;
    bool keep = !(buf->flags & V4L2_BUF_FLAG_ERROR);
    /* Only a good frame is progress: a chip that sends nothing but
     * error-flagged buffers is as stuck as one that sends none. */
    if (keep)
        s->last_good_us = t;
    if (!keep)
        s->stats.broken++;
    else if (!v4l2_pacer_accept(&s->pacer, t)) {
        s->stats.fps_dropped++;
        keep = false;
    } else {
        const struct v4l2dev_mapping *m = &s->dev.bufs[buf->index];
        size_t used = buf->bytesused ? buf->bytesused : s->dev.sizeimage;
        if (used > m->length)
            used = m->length;
        if (v4l2_decode(&s->dec, s->dev.fourcc, m->start, used, s->dev.width, s->dev.height, s->dev.stride,
                        out) < 0) {
            s->stats.broken++;
            keep = false;
        }
    }
    /* Frames that point into the buffer keep it until the next call. */
    if (keep && out->data == s->dev.bufs[buf->index].start)
        s->held = (int)buf->index;
    else
        (void)v4l2dev_requeue(&s->dev, buf->index);
    if (!keep)
        return STEP_NONE;
    out->seq = ++s->seq;
    out->timestamp_us = t;
    if (s->problem != CAPTURE_SIGNAL_OK || out->width != s->last_w || out->height != s->last_h)
        LOG_INFO("capture", "%s: picture %ux%u %s", s->device, out->width, out->height, pixfmt_name(out->fmt));
    s->problem = CAPTURE_SIGNAL_OK;
    s->detail[0] = '\0';
    s->last_w = out->width;
    s->last_h = out->height;
    return STEP_FRAME;
}

static int step_stream(struct v4l2_source *s, struct capture_frame *out, int64_t deadline)
{
    int64_t frame_deadline = s->last_good_us + s->frame_timeout_us;
    int ready = v4l2dev_wait(&s->dev, ms_until(min64(wake_limit(s, deadline), frame_deadline)));
    if (ready < 0) {
        streaming_failed(s, ready);
        return STEP_NONE;
    }
    if ((ready & V4L2DEV_READY_EVENT) && v4l2dev_take_events(&s->dev) > 0 && timings_changed(s))
        return STEP_NONE;
    if (ready & (V4L2DEV_READY_FRAME | V4L2DEV_READY_ERROR)) {
        struct v4l2_buffer buf;
        unsigned skipped = 0, skipped_broken = 0;
        int r = v4l2dev_dequeue_newest(&s->dev, &buf, &skipped, &skipped_broken);
        s->stats.device_frames += skipped;
        s->stats.skipped += skipped - skipped_broken;
        s->stats.broken += skipped_broken; /* flagged ones count as broken, newer or not */
        if (r == 0 && (ready & V4L2DEV_READY_ERROR))
            r = -EIO;
        if (r < 0) {
            streaming_failed(s, r);
            return STEP_NONE;
        }
        if (r == 1)
            return take_frame(s, &buf, out);
    }
    if (clock_mono_us() < frame_deadline)
        return STEP_NONE;
    /* No frames: a lost signal without an event shows in the timings. */
    if (s->dev.has_dv && timings_changed(s))
        return STEP_NONE;
    /* The same timings and still nothing: the chip or its driver is in
     * trouble. Stream off and on again (the setup state reopens the device
     * if that fails); viewers see NO FRAMES meanwhile. */
    s->stats.stalls++;
    s->stats.last_stall_ms = clock_mono_ms();
    LOG_WARN("capture", "%s: no good frame for %lld ms and no source change: restarting streaming (stall %llu)",
             s->device, (long long)(s->frame_timeout_us / 1000), (unsigned long long)s->stats.stalls);
    set_problem(s, CAPTURE_SIGNAL_TIMEOUT, "%s sends no frames", s->device);
    stop_streaming(s);
    s->retry_at_us = clock_mono_us() + V4L2SRC_RESTART_US;
    return STEP_NONE;
}

static int render_nosignal(struct v4l2_source *s, struct capture_frame *out)
{
    if (nosignal_render(&s->canvas, s->problem, s->detail, s->last_w, s->last_h, out) < 0)
        return -1;
    out->seq = ++s->seq;
    out->timestamp_us = clock_mono_us();
    s->nosignal_due_us = out->timestamp_us + V4L2SRC_NOSIGNAL_REPEAT_US;
    return 0;
}

static int v4l2src_next(void *ctx, struct capture_frame *out, enum capture_signal *signal)
{
    struct v4l2_source *s = ctx;
    THREAD_ASSERT_OWNER(&s->owner, "the V4L2 source");
    release_held(s);
    int64_t deadline = clock_mono_us() + V4L2SRC_STEP_US;
    for (;;) {
        int r;
        if (s->dev.fd < 0)
            r = step_closed(s, deadline);
        else if (!s->dev.streaming)
            r = step_setup(s, deadline);
        else
            r = step_stream(s, out, deadline);
        if (r == STEP_FRAME) {
            *signal = CAPTURE_SIGNAL_OK;
            return 0;
        }
        int64_t t = clock_mono_us();
        if (s->problem != CAPTURE_SIGNAL_OK && t >= s->nosignal_due_us && render_nosignal(s, out) == 0) {
            *signal = s->problem;
            return 0;
        }
        if (t >= deadline) {
            *signal = s->problem;
            return 1;
        }
    }
}

static void v4l2src_stats(void *ctx, struct capture_source_stats *out)
{
    const struct v4l2_source *s = ctx;
    *out = s->stats;
}

static void v4l2src_destroy(void *ctx)
{
    struct v4l2_source *s = ctx;
    if (!s)
        return;
    close_device(s);
    LOG_INFO("capture", "%s: %llu frames from the device, %llu dropped for the fps limit, %llu skipped, "
             "%llu broken, %llu stream starts, %llu stalls, %llu reopens", s->device,
             (unsigned long long)s->stats.device_frames, (unsigned long long)s->stats.fps_dropped,
             (unsigned long long)s->stats.skipped, (unsigned long long)s->stats.broken,
             (unsigned long long)s->stats.restarts, (unsigned long long)s->stats.stalls,
             (unsigned long long)s->stats.reopens);
    v4l2_decoder_free(&s->dec);
    nosignal_canvas_free(&s->canvas);
    free(s);
}

static void load_edid(struct v4l2_source *s)
{
    if (s->edid_path[0] == '\0')
        return;
    char err[160];
    int blocks = v4l2_edid_load(s->edid_path, s->edid, err, sizeof(err));
    if (blocks < 0) {
        LOG_WARN("capture", "EDID %s not used: %s; the device's EDID is left alone", s->edid_path, err);
        return;
    }
    s->edid_blocks = blocks;
}

int capture_v4l2_create(const struct config_capture *cfg, struct capture_source *out)
{
    int fmt = pixfmt_parse(cfg->format);
    if (fmt < 0 || cfg->fps <= 0 || cfg->width <= 0 || cfg->height <= 0) {
        LOG_ERROR("capture", "v4l2: bad [capture] format, size or fps");
        return -1;
    }
    struct v4l2_source *s = calloc(1, sizeof(*s));
    if (!s) {
        LOG_ERROR("capture", "v4l2: out of memory");
        return -1;
    }
    snprintf(s->device, sizeof(s->device), "%s", cfg->device);
    snprintf(s->edid_path, sizeof(s->edid_path), "%s", cfg->edid);
    s->want_w = (unsigned)cfg->width;
    s->want_h = (unsigned)cfg->height;
    s->fps = (unsigned)cfg->fps;
    s->preferred = (enum pixfmt)fmt;
    s->held = -1;
    s->frame_timeout_us = (int64_t)(cfg->frame_timeout_ms > 0 ? cfg->frame_timeout_ms : 3000) * 1000;
    s->edid_last_result = 1; /* nothing logged yet */
    v4l2dev_init(&s->dev);
    load_edid(s);
    *out = (struct capture_source){
        .name = "v4l2", .ctx = s, .next = v4l2src_next, .destroy = v4l2src_destroy, .get_stats = v4l2src_stats};
    return 0;
}
