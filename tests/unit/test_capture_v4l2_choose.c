/* Unit tests for the V4L2 source's decisions (capture/v4l2_choose.c): which
 * format and size it picks from what a device offers, and which frames the
 * fps limit drops. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "capture/v4l2.h"

#define C(fcc, w, h, rate) {.fourcc = V4L2_PIX_FMT_##fcc, .width = (w), .height = (h), .fps = (rate)}

static void test_fourcc_mapping(void **state)
{
    (void)state;
    assert_int_equal(v4l2_fourcc_pixfmt(V4L2_PIX_FMT_YUYV), PIXFMT_YUYV);
    assert_int_equal(v4l2_fourcc_pixfmt(V4L2_PIX_FMT_UYVY), PIXFMT_UYVY);
    assert_int_equal(v4l2_fourcc_pixfmt(V4L2_PIX_FMT_RGB24), PIXFMT_RGB24);
    assert_int_equal(v4l2_fourcc_pixfmt(V4L2_PIX_FMT_BGR24), PIXFMT_RGB24);
    assert_int_equal(v4l2_fourcc_pixfmt(V4L2_PIX_FMT_MJPEG), PIXFMT_RGB24);
    assert_int_equal(v4l2_fourcc_pixfmt(V4L2_PIX_FMT_NV12), -1);
    assert_int_equal(v4l2_fourcc_bytes_per_pixel(V4L2_PIX_FMT_UYVY), 2);
    assert_int_equal(v4l2_fourcc_bytes_per_pixel(V4L2_PIX_FMT_BGR24), 3);
    assert_int_equal(v4l2_fourcc_bytes_per_pixel(V4L2_PIX_FMT_MJPEG), 0);
}

static void test_bridge_formats(void **state)
{
    (void)state;
    /* A TC358743: UYVY and RGB24 at the timings' size. The preferred YUYV is
     * not there: UYVY (native, 16 bits) beats RGB24. */
    struct v4l2_candidate tc[] = {C(RGB24, 1920, 1080, 30), C(UYVY, 1920, 1080, 30)};
    assert_int_equal(v4l2_choose(tc, 2, 1920, 1080, 30, PIXFMT_YUYV), 1);
    /* ...unless RGB24 is what the configuration prefers */
    assert_int_equal(v4l2_choose(tc, 2, 1920, 1080, 30, PIXFMT_RGB24), 0);
    /* vivid: the preferred format when offered */
    struct v4l2_candidate vivid[] = {C(YUYV, 1280, 720, 60), C(UYVY, 1280, 720, 60), C(BGR24, 1280, 720, 60)};
    assert_int_equal(v4l2_choose(vivid, 3, 1920, 1080, 30, PIXFMT_YUYV), 0);
    assert_int_equal(v4l2_choose(vivid, 3, 1920, 1080, 30, PIXFMT_UYVY), 1);
    assert_int_equal(v4l2_choose(vivid, 0, 1920, 1080, 30, PIXFMT_UYVY), -1);
}

static void test_dongle_sizes_and_rates(void **state)
{
    (void)state;
    /* A typical USB dongle: YUYV only at 5 fps for 1080p, MJPEG at 30. */
    struct v4l2_candidate d[] = {
        C(YUYV, 640, 480, 30), C(YUYV, 1280, 720, 10), C(YUYV, 1920, 1080, 5),
        C(MJPEG, 640, 480, 30), C(MJPEG, 1280, 720, 30), C(MJPEG, 1920, 1080, 30),
    };
    int n = (int)(sizeof(d) / sizeof(d[0]));
    assert_int_equal(v4l2_choose(d, n, 1920, 1080, 30, PIXFMT_YUYV), 5); /* MJPEG 1080p30 */
    assert_int_equal(v4l2_choose(d, n, 1280, 720, 30, PIXFMT_YUYV), 4);  /* MJPEG 720p30 */
    /* when 5 fps is all that is wanted, YUYV is as good and costs no decoding */
    assert_int_equal(v4l2_choose(d, n, 1920, 1080, 5, PIXFMT_YUYV), 2);
    /* the nearest size wins over the rate */
    assert_int_equal(v4l2_choose(d, n, 1700, 950, 30, PIXFMT_YUYV), 5);
    assert_int_equal(v4l2_choose(d, n, 700, 500, 30, PIXFMT_YUYV), 0);
    /* an unknown rate counts as good enough */
    struct v4l2_candidate u[] = {C(MJPEG, 1920, 1080, 30), C(YUYV, 1920, 1080, 0)};
    assert_int_equal(v4l2_choose(u, 2, 1920, 1080, 30, PIXFMT_YUYV), 1);
}

static int kept(struct v4l2_pacer *p, double source_fps, int frames, double jitter_us)
{
    int n = 0;
    for (int i = 0; i < frames; i++) {
        int64_t t = 1000000 + (int64_t)(i * 1e6 / source_fps) + (int64_t)((i % 3 - 1) * jitter_us);
        n += v4l2_pacer_accept(p, t);
    }
    return n;
}

static void test_pacer(void **state)
{
    (void)state;
    struct v4l2_pacer p;
    v4l2_pacer_init(&p, 30);
    assert_int_equal(kept(&p, 60, 600, 0), 300);   /* every other frame */
    v4l2_pacer_init(&p, 30);
    assert_int_equal(kept(&p, 60, 600, 2000), 300); /* the same with 2 ms jitter */
    v4l2_pacer_init(&p, 30);
    assert_int_equal(kept(&p, 30, 300, 2000), 300); /* nothing to drop */
    v4l2_pacer_init(&p, 30);
    assert_int_equal(kept(&p, 20, 200, 0), 200);    /* a slower source: all of it */
    v4l2_pacer_init(&p, 30);
    int n = kept(&p, 50, 500, 0);                   /* 10 s of 50 fps: about 300 */
    assert_true(n >= 295 && n <= 305);
    v4l2_pacer_init(&p, 10);
    n = kept(&p, 60, 600, 0);
    assert_true(n >= 99 && n <= 101);

    /* after a pause, no burst of frames to catch up */
    v4l2_pacer_init(&p, 30);
    assert_true(v4l2_pacer_accept(&p, 0));
    assert_true(v4l2_pacer_accept(&p, 5000000));
    assert_false(v4l2_pacer_accept(&p, 5000000 + 16667));
    assert_true(v4l2_pacer_accept(&p, 5000000 + 33333));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fourcc_mapping),
        cmocka_unit_test(test_bridge_formats),
        cmocka_unit_test(test_dongle_sizes_and_rates),
        cmocka_unit_test(test_pacer),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
