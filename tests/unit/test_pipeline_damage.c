/* Unit tests for server/damage: tile-level change detection against a shadow. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "pipeline/damage.h"

#define TILE 64

/* A frame with its own buffer; stride may be padded. */
struct test_frame {
    struct capture_frame f;
    uint8_t *buf;
};

static uint32_t test_rand(uint32_t *s)
{
    *s = *s * 1664525u + 1013904223u;
    return *s >> 8;
}

static void frame_make(struct test_frame *t, enum pixfmt fmt, unsigned w, unsigned h, unsigned pad,
                       uint32_t seed)
{
    unsigned stride = w * pixfmt_bytes_per_pixel(fmt) + pad;
    t->buf = malloc((size_t)stride * h);
    assert_non_null(t->buf);
    for (size_t i = 0; i < (size_t)stride * h; i++)
        t->buf[i] = (uint8_t)test_rand(&seed);
    t->f = (struct capture_frame){.fmt = fmt, .width = w, .height = h, .stride = stride,
                                  .data = t->buf};
}

static void frame_free(struct test_frame *t) { free(t->buf); }

/* The tiles in which a and b differ, found the slow obvious way. */
static unsigned expected_tiles(const struct capture_frame *a, const struct capture_frame *b,
                               unsigned tile, uint8_t *out)
{
    struct tile_grid g;
    tile_grid_init(&g, a->width, a->height, tile);
    memset(out, 0, tile_grid_count(&g));
    unsigned bpp = pixfmt_bytes_per_pixel(a->fmt), n = 0;
    for (unsigned y = 0; y < a->height; y++)
        for (unsigned x = 0; x < a->width; x++) {
            size_t t = (size_t)(y / tile) * g.cols + x / tile;
            if (!out[t] && memcmp(a->data + (size_t)y * a->stride + x * bpp,
                                  b->data + (size_t)y * b->stride + x * bpp, bpp) != 0) {
                out[t] = 1;
                n++;
            }
        }
    return n;
}

static void assert_shadow_equals(struct damage_tracker *d, const struct capture_frame *f)
{
    const struct capture_frame *s = damage_shadow(d);
    assert_non_null(s);
    assert_int_equal(s->width, f->width);
    assert_int_equal(s->height, f->height);
    assert_int_equal(s->fmt, f->fmt);
    unsigned line = f->width * pixfmt_bytes_per_pixel(f->fmt);
    for (unsigned y = 0; y < f->height; y++)
        assert_memory_equal(s->data + (size_t)y * s->stride, f->data + (size_t)y * f->stride, line);
}

static void test_grid_partial_tiles(void **state)
{
    (void)state;
    struct tile_grid g;
    tile_grid_init(&g, 1366, 768, 64);
    assert_int_equal(g.cols, 22);
    assert_int_equal(g.rows, 12);
    tile_grid_init(&g, 1920, 1080, 64);
    assert_int_equal(g.cols, 30);
    assert_int_equal(g.rows, 17);
    assert_int_equal(tile_grid_count(&g), 510);
    tile_grid_init(&g, 64, 64, 64);
    assert_int_equal(tile_grid_count(&g), 1);
}

static void test_first_frame_resets_then_static_is_empty(void **state)
{
    (void)state;
    struct damage_tracker *d = damage_create(TILE);
    assert_non_null(d);
    assert_null(damage_shadow(d));
    struct test_frame t;
    frame_make(&t, PIXFMT_YUYV, 1366, 768, 0, 1);
    uint8_t tiles[22 * 12];
    bool reset = false;
    memset(tiles, 0, sizeof(tiles));
    assert_int_equal(damage_update(d, &t.f, tiles, sizeof(tiles), &reset), 22 * 12);
    assert_true(reset);
    for (size_t i = 0; i < sizeof(tiles); i++)
        assert_int_equal(tiles[i], 1);
    assert_int_equal(damage_grid(d)->cols, 22);
    assert_shadow_equals(d, &t.f);

    assert_int_equal(damage_update(d, &t.f, tiles, sizeof(tiles), &reset), 0);
    assert_false(reset);
    for (size_t i = 0; i < sizeof(tiles); i++)
        assert_int_equal(tiles[i], 0);
    frame_free(&t);
    damage_destroy(d);
}

/* One changed byte marks exactly its tile: corners, tile edges, partial tiles. */
static void test_single_pixel_marks_its_tile(void **state)
{
    (void)state;
    static const enum pixfmt fmts[] = {PIXFMT_YUYV, PIXFMT_UYVY, PIXFMT_RGB24};
    static const unsigned points[][2] = {{0, 0},    {63, 0},    {64, 0},   {65, 63},
                                         {1365, 0}, {1344, 767}, {1365, 767}, {700, 704},
                                         {127, 127}, {128, 128}};
    for (size_t fi = 0; fi < 3; fi++) {
        struct damage_tracker *d = damage_create(TILE);
        struct test_frame t;
        frame_make(&t, fmts[fi], 1366, 768, 8, 7);
        uint8_t tiles[22 * 12];
        bool reset;
        assert_true(damage_update(d, &t.f, tiles, sizeof(tiles), &reset) > 0);
        unsigned bpp = pixfmt_bytes_per_pixel(fmts[fi]);
        for (size_t pi = 0; pi < sizeof(points) / sizeof(points[0]); pi++) {
            unsigned x = points[pi][0], y = points[pi][1];
            /* Change the pixel's last byte (the odd pixel's Y or V of a pair). */
            t.buf[(size_t)y * t.f.stride + x * bpp + bpp - 1] ^= 0x5a;
            assert_int_equal(damage_update(d, &t.f, tiles, sizeof(tiles), &reset), 1);
            assert_false(reset);
            for (unsigned i = 0; i < 22 * 12; i++)
                assert_int_equal(tiles[i], i == (y / TILE) * 22 + x / TILE);
            assert_shadow_equals(d, &t.f);
            assert_int_equal(damage_update(d, &t.f, tiles, sizeof(tiles), &reset), 0);
        }
        frame_free(&t);
        damage_destroy(d);
    }
}

/* Changes in the stride padding are not picture changes. */
static void test_padding_ignored(void **state)
{
    (void)state;
    struct damage_tracker *d = damage_create(TILE);
    struct test_frame t;
    frame_make(&t, PIXFMT_RGB24, 200, 100, 16, 3);
    uint8_t tiles[4 * 2];
    bool reset;
    assert_int_equal(damage_update(d, &t.f, tiles, sizeof(tiles), &reset), 8);
    for (unsigned y = 0; y < 100; y++)
        t.buf[(size_t)y * t.f.stride + 600 + y % 16] ^= 0xff;
    assert_int_equal(damage_update(d, &t.f, tiles, sizeof(tiles), &reset), 0);
    frame_free(&t);
    damage_destroy(d);
}

/* Random scattered changes match a brute-force tile diff; the shadow follows. */
static void test_random_changes_match_brute_force(void **state)
{
    (void)state;
    struct damage_tracker *d = damage_create(TILE);
    struct test_frame a;
    frame_make(&a, PIXFMT_UYVY, 1280, 720, 0, 11);
    uint8_t tiles[20 * 12], want[20 * 12];
    bool reset;
    damage_update(d, &a.f, tiles, sizeof(tiles), &reset);
    uint32_t seed = 99;
    uint8_t *prev = malloc((size_t)a.f.stride * a.f.height);
    for (int round = 0; round < 20; round++) {
        memcpy(prev, a.buf, (size_t)a.f.stride * a.f.height);
        unsigned changes = test_rand(&seed) % 40;
        for (unsigned i = 0; i < changes; i++) {
            /* Small rectangles of changes, sometimes spanning tile edges. */
            unsigned x = test_rand(&seed) % 1280, y = test_rand(&seed) % 720;
            unsigned w = 1 + test_rand(&seed) % 90, h = 1 + test_rand(&seed) % 90;
            for (unsigned yy = y; yy < y + h && yy < 720; yy++)
                for (unsigned xx = x; xx < x + w && xx < 1280; xx++)
                    a.buf[(size_t)yy * a.f.stride + xx * 2] += 1 + round;
        }
        struct capture_frame pf = a.f;
        pf.data = prev;
        unsigned n = expected_tiles(&pf, &a.f, TILE, want);
        assert_int_equal(damage_update(d, &a.f, tiles, sizeof(tiles), &reset), (int)n);
        assert_memory_equal(tiles, want, sizeof(tiles));
        assert_shadow_equals(d, &a.f);
    }
    free(prev);
    frame_free(&a);
    damage_destroy(d);
}

static void test_reset_on_size_and_format_change(void **state)
{
    (void)state;
    struct damage_tracker *d = damage_create(TILE);
    uint8_t tiles[30 * 17];
    bool reset;
    struct test_frame a, b, c;
    frame_make(&a, PIXFMT_YUYV, 640, 480, 0, 1);
    frame_make(&b, PIXFMT_YUYV, 1920, 1080, 0, 2);
    frame_make(&c, PIXFMT_RGB24, 1920, 1080, 0, 2);
    assert_int_equal(damage_update(d, &a.f, tiles, sizeof(tiles), &reset), 80);
    assert_true(reset);
    assert_int_equal(damage_update(d, &b.f, tiles, sizeof(tiles), &reset), 510);
    assert_true(reset);
    assert_int_equal(damage_grid(d)->cols, 30);
    assert_int_equal(damage_grid(d)->rows, 17);
    assert_shadow_equals(d, &b.f);
    assert_int_equal(damage_update(d, &b.f, tiles, sizeof(tiles), &reset), 0);
    assert_false(reset);
    /* Same size, other format: everything again. */
    assert_int_equal(damage_update(d, &c.f, tiles, sizeof(tiles), &reset), 510);
    assert_true(reset);
    for (size_t i = 0; i < sizeof(tiles); i++)
        assert_int_equal(tiles[i], 1);
    assert_shadow_equals(d, &c.f);
    /* And back down. */
    assert_int_equal(damage_update(d, &a.f, tiles, sizeof(tiles), &reset), 80);
    assert_true(reset);
    assert_shadow_equals(d, &a.f);
    assert_int_equal(damage_update(d, &a.f, tiles, sizeof(tiles), &reset), 0);
    frame_free(&a);
    frame_free(&b);
    frame_free(&c);
    damage_destroy(d);
}

static void test_rejects_bad_input(void **state)
{
    (void)state;
    assert_null(damage_create(0));
    assert_null(damage_create(63));
    struct damage_tracker *d = damage_create(TILE);
    struct test_frame a;
    frame_make(&a, PIXFMT_YUYV, 128, 64, 0, 1);
    uint8_t tiles[2];
    bool reset;
    struct capture_frame bad = a.f;
    bad.stride = 100; /* shorter than a line */
    assert_int_equal(damage_update(d, &bad, tiles, sizeof(tiles), &reset), -1);
    bad = a.f;
    bad.width = 127; /* odd width in a 4:2:2 format */
    assert_int_equal(damage_update(d, &bad, tiles, sizeof(tiles), &reset), -1);
    assert_int_equal(damage_update(d, &a.f, tiles, sizeof(tiles), &reset), 2);
    /* A tile map too small for the grid is refused once a shadow exists. */
    assert_int_equal(damage_update(d, &a.f, tiles, 1, &reset), -1);
    frame_free(&a);
    damage_destroy(d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_grid_partial_tiles),
        cmocka_unit_test(test_first_frame_resets_then_static_is_empty),
        cmocka_unit_test(test_single_pixel_marks_its_tile),
        cmocka_unit_test(test_padding_ignored),
        cmocka_unit_test(test_random_changes_match_brute_force),
        cmocka_unit_test(test_reset_on_size_and_format_change),
        cmocka_unit_test(test_rejects_bad_input),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
