/* Unit tests for common/pixfmt: names, BT.601 limited-range conversions,
 * 4:2:2 byte orders and strided blocks. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/pixfmt.h"

struct colour {
    uint8_t r, g, b;
    uint8_t y, u, v; /* BT.601 limited range reference values */
};

/* The 100% colour bars with their textbook Y'CbCr (rounded). */
static const struct colour bars[] = {
    {255, 255, 255, 235, 128, 128}, {255, 255, 0, 210, 16, 146}, {0, 255, 255, 170, 166, 16},
    {0, 255, 0, 145, 54, 34},       {255, 0, 255, 106, 202, 222}, {255, 0, 0, 81, 90, 240},
    {0, 0, 255, 41, 240, 110},      {0, 0, 0, 16, 128, 128},
};
#define N_BARS (sizeof(bars) / sizeof(bars[0]))

static int absdiff(int a, int b) { return a > b ? a - b : b - a; }

static void assert_near(int got, int want, int tolerance)
{
    if (absdiff(got, want) > tolerance)
        fail_msg("got %d, want %d +-%d", got, want, tolerance);
}

static uint32_t rng_state = 12345;
static uint8_t rng_byte(void)
{
    rng_state = rng_state * 1103515245u + 12345u;
    return (uint8_t)(rng_state >> 16);
}

static void test_names(void **state)
{
    (void)state;
    assert_string_equal(pixfmt_name(PIXFMT_YUYV), "yuyv");
    assert_string_equal(pixfmt_name(PIXFMT_UYVY), "uyvy");
    assert_string_equal(pixfmt_name(PIXFMT_RGB24), "rgb24");
    assert_int_equal(pixfmt_parse("yuyv"), PIXFMT_YUYV);
    assert_int_equal(pixfmt_parse("uyvy"), PIXFMT_UYVY);
    assert_int_equal(pixfmt_parse("rgb24"), PIXFMT_RGB24);
    assert_int_equal(pixfmt_parse("nv12"), -1);
    assert_int_equal(pixfmt_parse(""), -1);
    assert_int_equal(pixfmt_bytes_per_pixel(PIXFMT_YUYV), 2);
    assert_int_equal(pixfmt_bytes_per_pixel(PIXFMT_UYVY), 2);
    assert_int_equal(pixfmt_bytes_per_pixel(PIXFMT_RGB24), 3);
}

static void test_colour_bars_reference(void **state)
{
    (void)state;
    for (size_t i = 0; i < N_BARS; i++) {
        uint8_t y, u, v;
        pixfmt_rgb_to_yuv(bars[i].r, bars[i].g, bars[i].b, &y, &u, &v);
        assert_near(y, bars[i].y, 1);
        assert_near(u, bars[i].u, 1);
        assert_near(v, bars[i].v, 1);
    }
}

static void check_round_trip(uint8_t r, uint8_t g, uint8_t b)
{
    uint8_t y, u, v, r2, g2, b2;
    pixfmt_rgb_to_yuv(r, g, b, &y, &u, &v);
    assert_true(y >= 16 && y <= 235);
    assert_true(u >= 16 && u <= 240);
    assert_true(v >= 16 && v <= 240);
    pixfmt_yuv_to_rgb(y, u, v, &r2, &g2, &b2);
    if (absdiff(r, r2) > 2 || absdiff(g, g2) > 2 || absdiff(b, b2) > 2)
        fail_msg("%d,%d,%d -> %d,%d,%d -> %d,%d,%d", r, g, b, y, u, v, r2, g2, b2);
}

static void test_round_trip(void **state)
{
    (void)state;
    for (size_t i = 0; i < N_BARS; i++)
        check_round_trip(bars[i].r, bars[i].g, bars[i].b);
    /* A lattice through the whole cube, its corners included, then random colours. */
    for (int r = 0; r <= 255; r += 5)
        for (int g = 0; g <= 255; g += 3)
            for (int b = 0; b <= 255; b += 5)
                check_round_trip((uint8_t)r, (uint8_t)g, (uint8_t)b);
    for (int i = 0; i < 200000; i++)
        check_round_trip(rng_byte(), rng_byte(), rng_byte());
}

static void test_yuv_to_rgb_clamps(void **state)
{
    (void)state;
    uint8_t r, g, b;
    pixfmt_yuv_to_rgb(0, 128, 128, &r, &g, &b); /* below black */
    assert_int_equal(r, 0);
    assert_int_equal(g, 0);
    assert_int_equal(b, 0);
    pixfmt_yuv_to_rgb(255, 128, 128, &r, &g, &b); /* above white */
    assert_int_equal(r, 255);
    assert_int_equal(g, 255);
    assert_int_equal(b, 255);
    pixfmt_yuv_to_rgb(255, 255, 255, &r, &g, &b);
    assert_int_equal(r, 255);
    assert_int_equal(b, 255);
    pixfmt_yuv_to_rgb(0, 0, 0, &r, &g, &b);
    assert_int_equal(r, 0);
    assert_int_equal(b, 0);
    assert_near(g, 136, 1); /* 1.164*-16 + 0.392*128 + 0.813*128 = 135.6, in range */
}

/* Byte layout: two different pixels must land as Y0 U Y1 V (YUYV) and
 * U Y0 V Y1 (UYVY), with chroma the average of the pair. */
static void test_422_byte_order(void **state)
{
    (void)state;
    const uint8_t rgb[6] = {255, 255, 255, 0, 0, 255}; /* white, blue */
    uint8_t yuyv[4], uyvy[4];
    pixfmt_from_rgb(PIXFMT_YUYV, rgb, 3, 6, yuyv, 4, 2, 1);
    pixfmt_from_rgb(PIXFMT_UYVY, rgb, 3, 6, uyvy, 4, 2, 1);
    assert_near(yuyv[0], 235, 1);
    assert_near(yuyv[2], 41, 1);
    assert_near(yuyv[1], (128 + 240 + 1) / 2, 1);
    assert_near(yuyv[3], (128 + 110 + 1) / 2, 1);
    assert_int_equal(uyvy[0], yuyv[1]);
    assert_int_equal(uyvy[1], yuyv[0]);
    assert_int_equal(uyvy[2], yuyv[3]);
    assert_int_equal(uyvy[3], yuyv[2]);

    /* And back: Y from each pixel's own byte, chroma from the pair. */
    const uint8_t in_yuyv[4] = {235, 128, 16, 128}; /* white, black */
    const uint8_t in_uyvy[4] = {128, 235, 128, 16};
    uint8_t out[8];
    for (int f = 0; f < 2; f++) {
        memset(out, 0x55, sizeof(out));
        pixfmt_to_rgbx(f == 0 ? PIXFMT_YUYV : PIXFMT_UYVY, f == 0 ? in_yuyv : in_uyvy, 4, out, 8,
                       2, 1);
        for (int c = 0; c < 3; c++) {
            assert_int_equal(out[c], 255);
            assert_int_equal(out[4 + c], 0);
        }
        assert_int_equal(out[3], 0xff);
        assert_int_equal(out[7], 0xff);
    }
    /* A saturated red pair decodes to red. */
    const uint8_t red[4] = {81, 90, 81, 240};
    pixfmt_to_rgbx(PIXFMT_YUYV, red, 4, out, 8, 2, 1);
    assert_near(out[0], 255, 2);
    assert_near(out[1], 0, 2);
    assert_near(out[2], 0, 2);
    assert_near(out[4], 255, 2);
}

/* Fills a w x h RGB24 image whose horizontal pairs share a colour, so that
 * 4:2:2 loses nothing but rounding. */
static void fill_pairs(uint8_t *rgb, unsigned stride, unsigned w, unsigned h)
{
    for (unsigned y = 0; y < h; y++)
        for (unsigned x = 0; x < w; x += 2) {
            uint8_t c[3] = {rng_byte(), rng_byte(), rng_byte()};
            memcpy(rgb + y * stride + x * 3, c, 3);
            memcpy(rgb + y * stride + (x + 1) * 3, c, 3);
        }
}

static void test_odd_strides(void **state)
{
    (void)state;
    const unsigned w = 34, h = 7;
    const unsigned rgb_stride = w * 3 + 5, yuv_stride = w * 2 + 3, rgbx_stride = w * 4 + 7;
    const enum pixfmt fmts[] = {PIXFMT_YUYV, PIXFMT_UYVY, PIXFMT_RGB24};
    uint8_t *rgb = malloc((size_t)rgb_stride * h);
    uint8_t *mid = malloc((size_t)rgb_stride * h);
    uint8_t *rgbx = malloc((size_t)rgbx_stride * h);
    assert_non_null(rgb);
    assert_non_null(mid);
    assert_non_null(rgbx);
    fill_pairs(rgb, rgb_stride, w, h);
    for (size_t f = 0; f < 3; f++) {
        unsigned mid_stride = fmts[f] == PIXFMT_RGB24 ? rgb_stride : yuv_stride;
        unsigned row_bytes = w * pixfmt_bytes_per_pixel(fmts[f]);
        memset(mid, 0xa5, (size_t)rgb_stride * h);
        memset(rgbx, 0x5a, (size_t)rgbx_stride * h);
        pixfmt_from_rgb(fmts[f], rgb, 3, rgb_stride, mid, mid_stride, w, h);
        pixfmt_to_rgbx(fmts[f], mid, mid_stride, rgbx, rgbx_stride, w, h);
        for (unsigned y = 0; y < h; y++) {
            /* Padding bytes between rows stay untouched. */
            for (unsigned i = row_bytes; i < mid_stride && y + 1 < h; i++)
                assert_int_equal(mid[y * mid_stride + i], 0xa5);
            for (unsigned i = w * 4; i < rgbx_stride && y + 1 < h; i++)
                assert_int_equal(rgbx[y * rgbx_stride + i], 0x5a);
            for (unsigned x = 0; x < w; x++) {
                const uint8_t *a = rgb + y * rgb_stride + x * 3;
                const uint8_t *b = rgbx + y * rgbx_stride + x * 4;
                int tolerance = fmts[f] == PIXFMT_RGB24 ? 0 : 2;
                assert_near(b[0], a[0], tolerance);
                assert_near(b[1], a[1], tolerance);
                assert_near(b[2], a[2], tolerance);
                assert_int_equal(b[3], 0xff);
            }
        }
    }
    free(rgb);
    free(mid);
    free(rgbx);
}

/* Converting a block inside a bigger image touches only that block, and
 * RGBX sources (4 bytes per pixel) give the same result as RGB24 ones. */
static void test_sub_block_and_rgbx_source(void **state)
{
    (void)state;
    const unsigned w = 40, h = 10, bx = 6, by = 3, bw = 12, bh = 4;
    uint8_t rgb[40 * 10 * 3], rgbx[40 * 10 * 4], a[40 * 10 * 2], b[40 * 10 * 2];
    fill_pairs(rgb, w * 3, w, h);
    for (unsigned i = 0; i < w * h; i++) {
        memcpy(rgbx + i * 4, rgb + i * 3, 3);
        rgbx[i * 4 + 3] = rng_byte();
    }
    memset(a, 0, sizeof(a));
    memset(b, 0, sizeof(b));
    pixfmt_from_rgb(PIXFMT_UYVY, rgb + (by * w + bx) * 3, 3, w * 3, a + (by * w + bx) * 2, w * 2,
                    bw, bh);
    pixfmt_from_rgb(PIXFMT_UYVY, rgbx + (by * w + bx) * 4, 4, w * 4, b + (by * w + bx) * 2, w * 2,
                    bw, bh);
    assert_memory_equal(a, b, sizeof(a));
    for (unsigned y = 0; y < h; y++)
        for (unsigned x = 0; x < w; x++) {
            bool inside = x >= bx && x < bx + bw && y >= by && y < by + bh;
            const uint8_t *p = a + (y * w + x) * 2;
            if (!inside) {
                assert_int_equal(p[0], 0);
                assert_int_equal(p[1], 0);
            } else {
                assert_true(p[1] >= 16); /* a Y byte was written */
            }
        }
    uint8_t rgb_out[40 * 10 * 3];
    pixfmt_from_rgb(PIXFMT_RGB24, rgbx, 4, w * 4, rgb_out, w * 3, w, h);
    assert_memory_equal(rgb_out, rgb, sizeof(rgb));
}

/* Every YUV triple decodes without leaving 0..255 and the decoder agrees
 * with the scalar function for all of them (both 4:2:2 orders). */
static void test_block_matches_scalar(void **state)
{
    (void)state;
    uint8_t yuyv[256 * 4], uyvy[256 * 4], out_a[256 * 2 * 4], out_b[256 * 2 * 4];
    for (int u = 0; u < 256; u += 3) {
        for (int v = 0; v < 256; v++) {
            for (int i = 0; i < 256; i++) {
                uint8_t y0 = (uint8_t)i, y1 = (uint8_t)(255 - i);
                uint8_t q[4] = {y0, (uint8_t)u, y1, (uint8_t)v};
                memcpy(yuyv + i * 4, q, 4);
                uint8_t p[4] = {(uint8_t)u, y0, (uint8_t)v, y1};
                memcpy(uyvy + i * 4, p, 4);
            }
            pixfmt_to_rgbx(PIXFMT_YUYV, yuyv, sizeof(yuyv), out_a, sizeof(out_a), 512, 1);
            pixfmt_to_rgbx(PIXFMT_UYVY, uyvy, sizeof(uyvy), out_b, sizeof(out_b), 512, 1);
            assert_memory_equal(out_a, out_b, sizeof(out_a));
            for (int i = 0; i < 256; i += 17) {
                uint8_t r, g, b;
                pixfmt_yuv_to_rgb((uint8_t)i, (uint8_t)u, (uint8_t)v, &r, &g, &b);
                assert_int_equal(out_a[i * 8], r);
                assert_int_equal(out_a[i * 8 + 1], g);
                assert_int_equal(out_a[i * 8 + 2], b);
            }
        }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_names),
        cmocka_unit_test(test_colour_bars_reference),
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_yuv_to_rgb_clamps),
        cmocka_unit_test(test_422_byte_order),
        cmocka_unit_test(test_odd_strides),
        cmocka_unit_test(test_sub_block_and_rgbx_source),
        cmocka_unit_test(test_block_matches_scalar),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
