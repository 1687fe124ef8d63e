/* Unit tests for capture/testsrc: determinism, incremental rendering equal to
 * full rendering in every scenario and format, what changes between frames,
 * and the capture_source wrapper. Pacing is not tested by time. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "capture/capture.h"
#include "capture/testsrc.h"
#include "common/config.h"
#include "common/font.h"
#include "common/pixfmt.h"

static const char *const scenarios[] = {"bios", "desktop", "motion", "pan"};
static const enum pixfmt formats[] = {PIXFMT_YUYV, PIXFMT_UYVY, PIXFMT_RGB24};

struct box {
    int x0, y0, x1, y1; /* x1, y1 exclusive; empty when x1 <= x0 */
    long pixels;
};

/* Where two frames of w x h pixels of bpp bytes differ. */
static struct box diff_box(const uint8_t *a, const uint8_t *b, unsigned w, unsigned h,
                           unsigned bpp)
{
    struct box box = {(int)w, (int)h, 0, 0, 0};
    for (unsigned y = 0; y < h; y++) {
        const uint8_t *ra = a + (size_t)y * w * bpp, *rb = b + (size_t)y * w * bpp;
        if (memcmp(ra, rb, (size_t)w * bpp) == 0)
            continue;
        for (unsigned x = 0; x < w; x++) {
            if (memcmp(ra + x * bpp, rb + x * bpp, bpp) == 0)
                continue;
            box.pixels++;
            if ((int)x < box.x0) box.x0 = (int)x;
            if ((int)y < box.y0) box.y0 = (int)y;
            if ((int)x >= box.x1) box.x1 = (int)x + 1;
            if ((int)y >= box.y1) box.y1 = (int)y + 1;
        }
    }
    return box;
}

/* The reference: frame n rendered from scratch and converted to fmt. */
static void reference_frame(const char *scenario, unsigned w, unsigned h, unsigned fps,
                            uint64_t n, enum pixfmt fmt, uint8_t *out)
{
    uint8_t *rgb = malloc((size_t)w * h * 3);
    assert_non_null(rgb);
    assert_int_equal(testsrc_render_rgb24(scenario, w, h, fps, n, rgb, w * 3), 0);
    pixfmt_from_rgb(fmt, rgb, 3, w * 3, out, w * pixfmt_bytes_per_pixel(fmt), w, h);
    free(rgb);
}

static void test_determinism(void **state)
{
    (void)state;
    const unsigned w = 320, h = 240, fps = 30;
    const uint64_t frames[] = {0, 1, 2, 31, 450, 451, 29, 100000};
    for (size_t s = 0; s < sizeof(scenarios) / sizeof(scenarios[0]); s++) {
        for (size_t f = 0; f < 3; f++) {
            struct testsrc *a = testsrc_create(scenarios[s], w, h, fps, formats[f]);
            struct testsrc *b = testsrc_create(scenarios[s], w, h, fps, formats[f]);
            assert_non_null(a);
            assert_non_null(b);
            /* b has a different history: it renders every frame up to 40 first. */
            struct capture_frame fa, fb;
            for (uint64_t n = 0; n <= 40; n++)
                testsrc_render(b, n, &fb);
            for (size_t i = 0; i < sizeof(frames) / sizeof(frames[0]); i++) {
                testsrc_render(a, frames[i], &fa);
                testsrc_render(b, frames[i], &fb);
                assert_int_equal(fa.seq, frames[i]);
                assert_int_equal(fb.seq, frames[i]);
                assert_memory_equal(fa.data, fb.data, (size_t)fa.stride * h);
            }
            testsrc_destroy(a);
            testsrc_destroy(b);
        }
    }
}

static void check_incremental(const char *scenario, unsigned w, unsigned h, enum pixfmt fmt)
{
    const unsigned fps = 30;
    /* Consecutive frames, jumps forward and back, minute, hour and day
     * rollovers of the clocks. */
    uint64_t frames[80];
    size_t count = 0;
    for (uint64_t n = 0; n < 62; n++)
        frames[count++] = n;
    const uint64_t jumps[] = {400, 401, 403, 350, 1799, 1800, 1830, 108000 - 1, 108000,
                              86400 * 30 - 1, 86400 * 30, 7, 8};
    for (size_t i = 0; i < sizeof(jumps) / sizeof(jumps[0]); i++)
        frames[count++] = jumps[i];

    struct testsrc *ts = testsrc_create(scenario, w, h, fps, fmt);
    assert_non_null(ts);
    size_t size = (size_t)w * h * pixfmt_bytes_per_pixel(fmt);
    uint8_t *want = malloc(size);
    assert_non_null(want);
    for (size_t i = 0; i < count; i++) {
        struct capture_frame frame;
        testsrc_render(ts, frames[i], &frame);
        assert_int_equal(frame.fmt, fmt);
        assert_int_equal(frame.width, w);
        assert_int_equal(frame.height, h);
        assert_int_equal(frame.stride, w * pixfmt_bytes_per_pixel(fmt));
        reference_frame(scenario, w, h, fps, frames[i], fmt, want);
        if (memcmp(frame.data, want, size) != 0) {
            struct box b = diff_box(frame.data, want, w, h, pixfmt_bytes_per_pixel(fmt));
            fail_msg("%s %ux%u %s frame %llu: %ld pixels differ in %d,%d-%d,%d", scenario, w, h,
                     pixfmt_name(fmt), (unsigned long long)frames[i], b.pixels, b.x0, b.y0, b.x1,
                     b.y1);
        }
    }
    free(want);
    testsrc_destroy(ts);
}

static void test_incremental_matches_full(void **state)
{
    (void)state;
    const unsigned sizes[][2] = {{320, 240}, {642, 362}, {64, 64}};
    /* not pan: it redraws every frame whole (changed() says -1) */
    for (size_t s = 0; s < 3; s++)
        for (size_t f = 0; f < 3; f++)
            for (size_t z = 0; z < sizeof(sizes) / sizeof(sizes[0]); z++)
                check_incremental(scenarios[s], sizes[z][0], sizes[z][1], formats[f]);
}

/* At 1920x1080 the BIOS text grid has scale 2: 16x32-pixel cells, and the
 * clock HH:MM:SS is 8 cells wide. */
#define BIOS_CELL_W 16
#define BIOS_CELL_H 32

static void test_bios_only_clock_and_cursor_change(void **state)
{
    (void)state;
    const unsigned w = 1920, h = 1080, fps = 30;
    size_t size = (size_t)w * h * 3;
    uint8_t *prev = malloc(size), *cur = malloc(size);
    assert_non_null(prev);
    assert_non_null(cur);
    struct box all = {(int)w, (int)h, 0, 0, 0};
    int clock_changes = 0, cursor_changes = 0;
    assert_int_equal(testsrc_render_rgb24("bios", w, h, fps, 0, prev, w * 3), 0);
    for (uint64_t n = 1; n <= 3 * fps + 1; n++) {
        assert_int_equal(testsrc_render_rgb24("bios", w, h, fps, n, cur, w * 3), 0);
        struct box b = diff_box(prev, cur, w, h, 3);
        bool new_second = n % fps == 0, cursor_toggles = (2 * n) % fps == 0;
        if (new_second) {
            clock_changes++;
            assert_true(b.pixels > 0);
            assert_true(b.x1 - b.x0 > BIOS_CELL_W); /* a digit and the cursor */
            assert_true(b.x1 - b.x0 <= 8 * BIOS_CELL_W);
            assert_true(b.y1 - b.y0 <= BIOS_CELL_H);
        } else if (cursor_toggles) {
            cursor_changes++;
            assert_true(b.pixels > 0);
            assert_true(b.x1 - b.x0 <= BIOS_CELL_W);
            assert_true(b.y1 - b.y0 <= BIOS_CELL_H / 4); /* an underline */
        } else {
            assert_int_equal(b.pixels, 0);
        }
        if (b.pixels) {
            all.x0 = b.x0 < all.x0 ? b.x0 : all.x0;
            all.y0 = b.y0 < all.y0 ? b.y0 : all.y0;
            all.x1 = b.x1 > all.x1 ? b.x1 : all.x1;
            all.y1 = b.y1 > all.y1 ? b.y1 : all.y1;
        }
        uint8_t *t = prev;
        prev = cur;
        cur = t;
    }
    assert_int_equal(clock_changes, 3);
    assert_int_equal(cursor_changes, 3);
    /* Everything that changed lies in one text line, at most 8 cells wide. */
    assert_true(all.x1 - all.x0 <= 8 * BIOS_CELL_W);
    assert_true(all.y1 - all.y0 <= BIOS_CELL_H);

    /* The clock shows time of day: a day later looks the same, an hour
     * later differs only inside the clock. */
    assert_int_equal(testsrc_render_rgb24("bios", w, h, fps, 5 * fps, prev, w * 3), 0);
    assert_int_equal(testsrc_render_rgb24("bios", w, h, fps, (86400 + 5) * fps, cur, w * 3), 0);
    assert_memory_equal(prev, cur, size);
    assert_int_equal(testsrc_render_rgb24("bios", w, h, fps, (3600 + 5) * fps, cur, w * 3), 0);
    struct box hour = diff_box(prev, cur, w, h, 3);
    assert_true(hour.pixels > 0);
    assert_true(hour.x0 >= all.x0 && hour.x1 <= all.x1 && hour.y0 >= all.y0 && hour.y1 <= all.y1);
    free(prev);
    free(cur);
}

static void test_motion_every_pixel_changes(void **state)
{
    (void)state;
    const unsigned w = 320, h = 180, fps = 30;
    const uint64_t starts[] = {0, 5000, 1ull << 33};
    for (size_t f = 0; f < 3; f++) {
        struct testsrc *ts = testsrc_create("motion", w, h, fps, formats[f]);
        assert_non_null(ts);
        unsigned bpp = pixfmt_bytes_per_pixel(formats[f]);
        size_t size = (size_t)w * h * bpp;
        uint8_t *prev = malloc(size);
        assert_non_null(prev);
        for (size_t s = 0; s < sizeof(starts) / sizeof(starts[0]); s++) {
            struct capture_frame frame;
            testsrc_render(ts, starts[s], &frame);
            memcpy(prev, frame.data, size);
            /* 40 frames: more than two turns of the sawtooth. */
            for (uint64_t n = starts[s] + 1; n <= starts[s] + 40; n++) {
                testsrc_render(ts, n, &frame);
                for (size_t p = 0; p < (size_t)w * h; p++) {
                    const uint8_t *a = prev + p * bpp, *b = frame.data + p * bpp;
                    bool changed;
                    if (formats[f] == PIXFMT_RGB24)
                        changed = memcmp(a, b, 3) != 0;
                    else /* each pixel's own luma byte */
                        changed = formats[f] == PIXFMT_YUYV ? a[0] != b[0] : a[1] != b[1];
                    if (!changed)
                        fail_msg("%s frame %llu: pixel %zu,%zu unchanged", pixfmt_name(formats[f]),
                                 (unsigned long long)n, p % w, p / w);
                }
                memcpy(prev, frame.data, size);
            }
        }
        free(prev);
        testsrc_destroy(ts);
    }
}

static void test_desktop_moves_a_little(void **state)
{
    (void)state;
    const unsigned w = 1920, h = 1080, fps = 30;
    struct testsrc *ts = testsrc_create("desktop", w, h, fps, PIXFMT_RGB24);
    assert_non_null(ts);
    size_t size = (size_t)w * h * 3;
    uint8_t *prev = malloc(size);
    assert_non_null(prev);
    struct capture_frame frame;
    testsrc_render(ts, 0, &frame);
    memcpy(prev, frame.data, size);
    for (uint64_t n = 1; n <= 10; n++) {
        testsrc_render(ts, n, &frame);
        struct box b = diff_box(prev, frame.data, w, h, 3);
        /* The window and the pointer moved; most of the screen did not. */
        assert_true(b.pixels > 0);
        assert_true(b.pixels < (long)w * h / 10);
        memcpy(prev, frame.data, size);
    }
    free(prev);
    testsrc_destroy(ts);
}

static void test_next_unpaced_counts_frames(void **state)
{
    (void)state;
    struct testsrc *ts = testsrc_create("desktop", 160, 120, 30, PIXFMT_YUYV);
    assert_non_null(ts);
    struct capture_frame frame;
    for (uint64_t n = 0; n < 5; n++) {
        assert_int_equal(testsrc_next_unpaced(ts, &frame), 0);
        assert_int_equal(frame.seq, n);
    }
    testsrc_destroy(ts);
}

static void test_capture_source(void **state)
{
    (void)state;
    struct piglix_config cfg;
    config_defaults(&cfg);
    cfg.capture.width = 320;
    cfg.capture.height = 200;
    cfg.capture.fps = 120;
    strcpy(cfg.capture.scenario, "desktop");
    strcpy(cfg.capture.format, "uyvy");
    struct capture_source src;
    assert_int_equal(capture_testsrc_create(&cfg.capture, NULL, &src), 0);
    assert_non_null(src.next);
    assert_non_null(src.destroy);
    uint8_t *want = malloc(320 * 200 * 2);
    assert_non_null(want);
    int64_t last_ts = 0;
    uint64_t last_seq = 0;
    for (int i = 0; i < 4; i++) {
        struct capture_frame frame;
        enum capture_signal signal = CAPTURE_SIGNAL_NONE;
        assert_int_equal(src.next(src.ctx, &frame, &signal), 0);
        assert_int_equal(signal, CAPTURE_SIGNAL_OK);
        assert_int_equal(frame.fmt, PIXFMT_UYVY);
        assert_int_equal(frame.width, 320);
        assert_int_equal(frame.height, 200);
        assert_int_equal(frame.stride, 640);
        if (i == 0)
            assert_int_equal(frame.seq, 0);
        else
            assert_true(frame.seq > last_seq); /* may skip when the machine is slow */
        assert_true(frame.timestamp_us >= last_ts);
        reference_frame("desktop", 320, 200, 120, frame.seq, PIXFMT_UYVY, want);
        assert_memory_equal(frame.data, want, 320 * 200 * 2);
        last_seq = frame.seq;
        last_ts = frame.timestamp_us;
    }
    src.destroy(src.ctx);
    free(want);
}

static void test_rejects_bad_arguments(void **state)
{
    (void)state;
    uint8_t rgb[64 * 64 * 3];
    assert_int_equal(testsrc_render_rgb24("snow", 64, 64, 30, 0, rgb, 64 * 3), -1);
    assert_int_equal(testsrc_render_rgb24("bios", 64, 64, 0, 0, rgb, 64 * 3), -1);
    assert_int_equal(testsrc_render_rgb24("bios", 64, 64, 30, 0, rgb, 63 * 3), -1);
    assert_true(testsrc_scenario_valid("motion"));
    assert_false(testsrc_scenario_valid("Motion"));
    assert_null(testsrc_create("bios", 65, 64, 30, PIXFMT_YUYV)); /* 4:2:2 needs even width */
    struct testsrc *odd = testsrc_create("bios", 65, 64, 30, PIXFMT_RGB24);
    assert_non_null(odd);
    testsrc_destroy(odd);

    struct piglix_config cfg;
    config_defaults(&cfg);
    strcpy(cfg.capture.format, "nv12");
    struct capture_source src;
    assert_int_equal(capture_testsrc_create(&cfg.capture, NULL, &src), -1);
    config_defaults(&cfg);
    strcpy(cfg.capture.scenario, "snow");
    assert_int_equal(capture_testsrc_create(&cfg.capture, NULL, &src), -1);
}

/* The echo strip's 12 bytes from an RGB24 frame (capture.h), or false. */
static bool read_echo(const uint8_t *rgb, unsigned w, unsigned h, unsigned *len, unsigned *last)
{
    uint8_t b[12] = {0};
    for (unsigned i = 0; i < 96; i++) {
        const uint8_t *p = rgb + ((size_t)(h - 16 + (i / 48) * 8 + 4) * w + (i % 48) * 8 + 4) * 3;
        if (p[0] + p[1] + p[2] > 3 * 128)
            b[i / 8] |= (uint8_t)(0x80 >> (i % 8));
    }
    *len = (unsigned)b[8] << 8 | b[9];
    *last = (unsigned)b[10] << 8 | b[11];
    return b[0] == 0xa5 && b[1] == 0x5a;
}

/* [capture] type_echo: nothing drawn before the first key (frames stay the
 * scenario's own), then the field's length and last character; Backspace
 * and Escape as a text field; other keys and releases change nothing. */
static void test_type_echo(void **state)
{
    (void)state;
    struct piglix_config cfg;
    config_defaults(&cfg);
    cfg.capture.width = 640;
    cfg.capture.height = 480;
    strcpy(cfg.capture.format, "rgb24");
    struct capture_echo *echo = capture_echo_create();
    assert_non_null(echo);
    struct capture_source src;
    assert_int_equal(capture_testsrc_create(&cfg.capture, echo, &src), 0);
    uint8_t *want = malloc(640 * 480 * 3);
    assert_non_null(want);
    struct capture_frame f;
    unsigned len, last;
    assert_int_equal(testsrc_next_unpaced(src.ctx, &f), 0);
    assert_int_equal(testsrc_render_rgb24("bios", 640, 480, 30, f.seq, want, 640 * 3), 0);
    assert_memory_equal(f.data, want, 640 * 480 * 3);
    const struct { uint32_t keysym; bool down; unsigned len, last; } steps[] = {
        {'a', true, 1, 'a'},     {'a', false, 1, 'a'},    {'b', true, 2, 'b'}, {0xffe1 /* Shift */, true, 2, 'b'},
        {0xff08, true, 1, 0},    {'Z', true, 2, 'Z'},     {0xff1b, true, 0, 0}, {0xe9 /* e acute */, true, 1, 0xe9},
    };
    for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
        capture_echo_key(echo, steps[i].keysym, steps[i].down);
        assert_int_equal(testsrc_next_unpaced(src.ctx, &f), 0);
        assert_true(read_echo(f.data, 640, 480, &len, &last));
        assert_int_equal(len, steps[i].len);
        assert_int_equal(last, steps[i].last);
    }
    /* above the strip the scenario is untouched */
    assert_int_equal(testsrc_render_rgb24("bios", 640, 480, 30, f.seq, want, 640 * 3), 0);
    assert_memory_equal(f.data, want, (size_t)640 * (480 - 16) * 3);
    free(want);
    src.destroy(src.ctx);
    capture_echo_destroy(echo);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_determinism),
        cmocka_unit_test(test_incremental_matches_full),
        cmocka_unit_test(test_bios_only_clock_and_cursor_change),
        cmocka_unit_test(test_motion_every_pixel_changes),
        cmocka_unit_test(test_desktop_moves_a_little),
        cmocka_unit_test(test_next_unpaced_counts_frames),
        cmocka_unit_test(test_capture_source),
        cmocka_unit_test(test_rejects_bad_arguments),
        cmocka_unit_test(test_type_echo),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
