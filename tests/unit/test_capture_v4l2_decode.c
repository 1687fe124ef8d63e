/* Unit tests for device buffer -> frame (capture/v4l2_decode.c): formats
 * passed through without a copy, BGR24 swapped, MJPEG decoded (a JPEG made
 * here with TurboJPEG), broken frames refused. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <turbojpeg.h>

#include "capture/v4l2.h"

static void test_passthrough(void **state)
{
    (void)state;
    struct v4l2_decoder dec = {0};
    static uint8_t buf[64 * 8 * 2 + 16];
    struct capture_frame f;
    /* stride larger than the pixels (padding) is kept */
    assert_int_equal(v4l2_decode(&dec, V4L2_PIX_FMT_UYVY, buf, 64 * 8 * 2, 60, 8, 128, &f), 0);
    assert_ptr_equal(f.data, buf);
    assert_int_equal(f.fmt, PIXFMT_UYVY);
    assert_int_equal(f.width, 60);
    assert_int_equal(f.stride, 128);
    /* an odd width is cut to even for 4:2:2 downstream */
    assert_int_equal(v4l2_decode(&dec, V4L2_PIX_FMT_YUYV, buf, 64 * 8 * 2, 63, 8, 128, &f), 0);
    assert_int_equal(f.width, 62);
    /* short frames and impossible strides are refused */
    assert_int_equal(v4l2_decode(&dec, V4L2_PIX_FMT_YUYV, buf, 64 * 8 * 2 - 1, 64, 8, 128, &f), -1);
    assert_int_equal(v4l2_decode(&dec, V4L2_PIX_FMT_YUYV, buf, sizeof(buf), 64, 8, 100, &f), -1);
    assert_int_equal(v4l2_decode(&dec, V4L2_PIX_FMT_NV12, buf, sizeof(buf), 64, 8, 64, &f), -1);
    v4l2_decoder_free(&dec);
}

static void test_bgr_swapped(void **state)
{
    (void)state;
    struct v4l2_decoder dec = {0};
    uint8_t bgr[2 * 4 * 3];
    for (int i = 0; i < 8; i++) {
        bgr[i * 3] = (uint8_t)(10 + i);     /* B */
        bgr[i * 3 + 1] = (uint8_t)(100 + i); /* G */
        bgr[i * 3 + 2] = (uint8_t)(200 + i); /* R */
    }
    struct capture_frame f;
    assert_int_equal(v4l2_decode(&dec, V4L2_PIX_FMT_BGR24, bgr, sizeof(bgr), 4, 2, 12, &f), 0);
    assert_int_equal(f.fmt, PIXFMT_RGB24);
    assert_ptr_not_equal(f.data, bgr);
    for (int i = 0; i < 8; i++) {
        const uint8_t *p = f.data + (i / 4) * f.stride + (i % 4) * 3;
        assert_int_equal(p[0], 200 + i);
        assert_int_equal(p[1], 100 + i);
        assert_int_equal(p[2], 10 + i);
    }
    v4l2_decoder_free(&dec);
}

#define JW 96
#define JH 64

static void test_mjpeg_decoded(void **state)
{
    (void)state;
    /* four flat quadrants: JPEG keeps flat areas within a few levels */
    static const uint8_t colours[4][3] = {{200, 30, 30}, {30, 200, 30}, {30, 30, 200}, {220, 220, 220}};
    uint8_t *rgb = malloc(JW * JH * 3);
    for (int y = 0; y < JH; y++)
        for (int x = 0; x < JW; x++)
            memcpy(rgb + (y * JW + x) * 3, colours[(y >= JH / 2) * 2 + (x >= JW / 2)], 3);
    tjhandle tj = tjInitCompress();
    unsigned char *jpeg = NULL;
    unsigned long size = 0;
    assert_int_equal(tjCompress2(tj, rgb, JW, JW * 3, JH, TJPF_RGB, &jpeg, &size, TJSAMP_422, 90, 0), 0);

    struct v4l2_decoder dec = {0};
    struct capture_frame f;
    assert_int_equal(v4l2_decode(&dec, V4L2_PIX_FMT_MJPEG, jpeg, size, 1920, 1080, 0, &f), 0);
    assert_int_equal(f.fmt, PIXFMT_RGB24);
    assert_int_equal(f.width, JW); /* the JPEG's own size, not the negotiated one */
    assert_int_equal(f.height, JH);
    for (int q = 0; q < 4; q++) {
        int x = (q % 2) * JW / 2 + JW / 4, y = (q / 2) * JH / 2 + JH / 4;
        const uint8_t *p = f.data + y * f.stride + x * 3;
        for (int c = 0; c < 3; c++)
            assert_true(abs(p[c] - colours[q][c]) <= 6);
    }
    /* a cut-off JPEG still decodes (TurboJPEG warns); garbage does not */
    assert_int_equal(v4l2_decode(&dec, V4L2_PIX_FMT_MJPEG, jpeg, size - 8, 0, 0, 0, &f), 0);
    memset(jpeg + 2, 0x55, 64);
    assert_int_equal(v4l2_decode(&dec, V4L2_PIX_FMT_MJPEG, jpeg, size, 0, 0, 0, &f), -1);
    assert_int_equal(v4l2_decode(&dec, V4L2_PIX_FMT_MJPEG, jpeg, 0, 0, 0, 0, &f), -1);
    v4l2_decoder_free(&dec);
    tjFree(jpeg);
    tjDestroy(tj);
    free(rgb);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_passthrough),
        cmocka_unit_test(test_bgr_swapped),
        cmocka_unit_test(test_mjpeg_decoded),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
