#include "capture/testsrc.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "capture/testsrc_scene.h"
#include "common/log.h"
#include "common/thread.h"

#define NS_PER_S 1000000000LL
/* Larger frames than this are refused: keeps every size computation in range. */
#define TESTSRC_MAX_EDGE 16384

struct testsrc {
    struct thread_owner owner;  /* the capture thread: next() */
    const struct testsrc_scene_ops *ops;
    void *scene;
    unsigned width, height, fps;
    enum pixfmt fmt;
    uint8_t *rgb; /* the scene's canvas, RGB24 */
    unsigned rgb_stride;
    uint8_t *out; /* the canvas converted to fmt */
    unsigned out_stride;
    bool rendered; /* rgb and out hold frame last_n */
    uint64_t last_n;
    /* Pacing: frame n is due at start_ns + n / fps seconds. */
    bool started;
    int64_t start_ns;
    struct capture_echo *echo; /* NULL, or typed keys to show (capture.h) */
};

/* The echo strip (capture.h): 12 bytes, MSB first, as 8x8 cells. */
#define ECHO_CELL 8
#define ECHO_PER_ROW 48
#define ECHO_ROWS 2

static const struct testsrc_scene_ops *const testsrc_scenes[] = {
    &testsrc_scene_bios, &testsrc_scene_desktop, &testsrc_scene_motion, &testsrc_scene_pan};

static const struct testsrc_scene_ops *scene_find(const char *name)
{
    for (size_t i = 0; i < sizeof(testsrc_scenes) / sizeof(testsrc_scenes[0]); i++)
        if (strcmp(testsrc_scenes[i]->name, name) == 0)
            return testsrc_scenes[i];
    return NULL;
}

bool testsrc_scenario_valid(const char *scenario) { return scene_find(scenario) != NULL; }

static bool size_valid(unsigned width, unsigned height, unsigned fps)
{
    return width > 0 && height > 0 && fps > 0 && width <= TESTSRC_MAX_EDGE &&
           height <= TESTSRC_MAX_EDGE;
}

static int64_t monotonic_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * NS_PER_S + ts.tv_nsec;
}

struct testsrc *testsrc_create(const char *scenario, unsigned width, unsigned height, unsigned fps,
                               enum pixfmt fmt)
{
    const struct testsrc_scene_ops *ops = scene_find(scenario);
    if (!ops || !size_valid(width, height, fps) || (fmt != PIXFMT_RGB24 && (width & 1))) {
        LOG_ERROR("capture", "test source: cannot make %s %ux%u at %u fps in %s", scenario, width,
                  height, fps, pixfmt_name(fmt));
        return NULL;
    }
    struct testsrc *ts = calloc(1, sizeof(*ts));
    if (!ts)
        goto oom;
    ts->ops = ops;
    ts->width = width;
    ts->height = height;
    ts->fps = fps;
    ts->fmt = fmt;
    ts->rgb_stride = width * 3;
    ts->out_stride = width * pixfmt_bytes_per_pixel(fmt);
    ts->rgb = malloc((size_t)ts->rgb_stride * height);
    ts->out = malloc((size_t)ts->out_stride * height);
    ts->scene = ops->create(width, height, fps);
    if (!ts->rgb || !ts->out || !ts->scene)
        goto oom;
    return ts;
oom:
    LOG_ERROR("capture", "test source: out of memory for %ux%u", width, height);
    testsrc_destroy(ts);
    return NULL;
}

void testsrc_destroy(struct testsrc *ts)
{
    if (!ts)
        return;
    if (ts->scene)
        ts->ops->destroy(ts->scene);
    free(ts->rgb);
    free(ts->out);
    free(ts);
}

static struct testsrc_rect full_frame(const struct testsrc *ts)
{
    return testsrc_rect_make(0, 0, (int)ts->width, (int)ts->height);
}

static void convert(struct testsrc *ts, struct testsrc_rect r)
{
    /* 4:2:2 pairs start at even x. The canvas is up to date everywhere, so
     * widening the converted rectangle is harmless. */
    int x0 = r.x & ~1, x1 = r.x + r.w + ((r.x + r.w) & 1);
    if (x1 > (int)ts->width)
        x1 = (int)ts->width;
    unsigned bpp = pixfmt_bytes_per_pixel(ts->fmt);
    pixfmt_from_rgb(ts->fmt, ts->rgb + (size_t)r.y * ts->rgb_stride + (size_t)x0 * 3, 3,
                    ts->rgb_stride, ts->out + (size_t)r.y * ts->out_stride + (size_t)x0 * bpp,
                    ts->out_stride, (unsigned)(x1 - x0), (unsigned)r.h);
}

static struct testsrc_rect echo_rect(const struct testsrc *ts)
{
    if (ts->width < ECHO_PER_ROW * ECHO_CELL || ts->height < ECHO_ROWS * ECHO_CELL)
        return testsrc_rect_make(0, 0, 0, 0);
    return testsrc_rect_make(0, (int)ts->height - ECHO_ROWS * ECHO_CELL, ECHO_PER_ROW * ECHO_CELL,
                             ECHO_ROWS * ECHO_CELL);
}

/* Draws the strip over the scene once a key came; false when nothing is
 * shown (no echo, no key yet, a frame too small). */
static bool draw_echo(struct testsrc *ts, const struct testsrc_canvas *full)
{
    struct capture_echo_state st;
    struct testsrc_rect r = echo_rect(ts);
    if (!ts->echo || testsrc_rect_empty(r))
        return false;
    capture_echo_get(ts->echo, &st);
    if (!st.generation)
        return false;
    uint8_t b[ECHO_PER_ROW * ECHO_ROWS / 8] = {0xa5, 0x5a, 1};
    b[8] = (uint8_t)(st.len >> 8), b[9] = (uint8_t)st.len;
    b[10] = (uint8_t)(st.last >> 8), b[11] = (uint8_t)st.last;
    for (int i = 0; i < ECHO_PER_ROW * ECHO_ROWS; i++) {
        bool one = (b[i / 8] >> (7 - i % 8)) & 1;
        testsrc_canvas_fill(full, testsrc_rect_make(r.x + (i % ECHO_PER_ROW) * ECHO_CELL,
                                                    r.y + (i / ECHO_PER_ROW) * ECHO_CELL, ECHO_CELL, ECHO_CELL),
                            one ? 0xffffff : 0x000000);
    }
    return true;
}

void testsrc_render(struct testsrc *ts, uint64_t n, struct capture_frame *out)
{
    struct testsrc_rect rects[TESTSRC_MAX_CHANGED];
    int count = -1;
    if (ts->rendered)
        count = ts->ops->changed(ts->scene, ts->last_n, n, rects);
    if (count < 0) {
        rects[0] = full_frame(ts);
        count = 1;
    }
    for (int i = 0; i < count; i++)
        rects[i] = testsrc_rect_intersect(rects[i], full_frame(ts));
    struct testsrc_canvas canvas = {ts->rgb, ts->rgb_stride, (int)ts->width, (int)ts->height,
                                    full_frame(ts)};
    /* Draw every changed region first, then convert: converted rectangles
     * are widened to even x and may reach into another changed region. */
    for (int i = 0; i < count; i++) {
        if (testsrc_rect_empty(rects[i]))
            continue;
        canvas.clip = rects[i];
        ts->ops->draw(ts->scene, &canvas, n);
    }
    for (int i = 0; i < count; i++)
        if (!testsrc_rect_empty(rects[i]))
            convert(ts, rects[i]);
    /* typed keys over the scene (small: drawn and converted every frame) */
    canvas.clip = full_frame(ts);
    if (draw_echo(ts, &canvas))
        convert(ts, echo_rect(ts));
    ts->rendered = true;
    ts->last_n = n;

    out->fmt = ts->fmt;
    out->width = ts->width;
    out->height = ts->height;
    out->stride = ts->out_stride;
    out->data = ts->out;
    out->seq = n;
    out->timestamp_us = monotonic_ns() / 1000;
}

int testsrc_next_unpaced(void *ctx, struct capture_frame *out)
{
    struct testsrc *ts = ctx;
    testsrc_render(ts, ts->rendered ? ts->last_n + 1 : 0, out);
    return 0;
}

int testsrc_render_rgb24(const char *scenario, unsigned width, unsigned height, unsigned fps,
                         uint64_t frame_index, uint8_t *rgb, unsigned stride)
{
    const struct testsrc_scene_ops *ops = scene_find(scenario);
    if (!ops || !size_valid(width, height, fps) || stride < width * 3)
        return -1;
    void *scene = ops->create(width, height, fps);
    if (!scene)
        return -1;
    struct testsrc_canvas canvas = {rgb, stride, (int)width, (int)height,
                                    testsrc_rect_make(0, 0, (int)width, (int)height)};
    ops->draw(scene, &canvas, frame_index);
    ops->destroy(scene);
    return 0;
}

/* Nanoseconds from the start to frame n, without overflowing for any n a
 * source will live to reach. */
static int64_t frame_offset_ns(const struct testsrc *ts, uint64_t n)
{
    return (int64_t)(n / ts->fps) * NS_PER_S + (int64_t)(n % ts->fps) * NS_PER_S / ts->fps;
}

static int testsrc_next_paced(void *ctx, struct capture_frame *out, enum capture_signal *signal)
{
    struct testsrc *ts = ctx;
    THREAD_ASSERT_OWNER(&ts->owner, "the test source");
    int64_t now = monotonic_ns();
    uint64_t n = 0;
    if (!ts->started) {
        ts->started = true;
        ts->start_ns = now;
    } else {
        n = ts->last_n + 1;
        /* Late: skip to the newest frame that is due instead of bursting out
         * the backlog, as a capture device would drop frames. */
        int64_t elapsed = now - ts->start_ns;
        uint64_t due_now = (uint64_t)(elapsed / NS_PER_S) * ts->fps +
                           (uint64_t)(elapsed % NS_PER_S) * ts->fps / NS_PER_S;
        if (due_now > n)
            n = due_now;
        int64_t deadline = ts->start_ns + frame_offset_ns(ts, n);
        struct timespec at = {(time_t)(deadline / NS_PER_S), (long)(deadline % NS_PER_S)};
        int rc;
        while ((rc = clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &at, NULL)) == EINTR)
            ;
        if (rc != 0) {
            LOG_ERROR("capture", "test source: clock_nanosleep: %s", strerror(rc));
            return -1;
        }
    }
    testsrc_render(ts, n, out);
    *signal = CAPTURE_SIGNAL_OK;
    return 0;
}

static void testsrc_source_destroy(void *ctx) { testsrc_destroy(ctx); }

int capture_testsrc_create(const struct config_capture *cfg, struct capture_echo *echo,
                           struct capture_source *out)
{
    int fmt = pixfmt_parse(cfg->format);
    if (fmt < 0) {
        LOG_ERROR("capture", "test source: unknown format '%s'", cfg->format);
        return -1;
    }
    if (cfg->width <= 0 || cfg->height <= 0 || cfg->fps <= 0) {
        LOG_ERROR("capture", "test source: bad size %dx%d at %d fps", cfg->width,
                  cfg->height, cfg->fps);
        return -1;
    }
    struct testsrc *ts = testsrc_create(cfg->scenario, (unsigned)cfg->width,
                                        (unsigned)cfg->height, (unsigned)cfg->fps,
                                        (enum pixfmt)fmt);
    if (!ts)
        return -1;
    ts->echo = echo;
    out->name = "test";
    out->ctx = ts;
    out->next = testsrc_next_paced;
    out->destroy = testsrc_source_destroy;
    return 0;
}
