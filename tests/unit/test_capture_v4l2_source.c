/* Unit tests for the V4L2 source's behaviour without a device (the VM tests
 * cover a real one): it is created anyway, shows NO CAPTURE DEVICE at once,
 * returns within its step time, and repeats the frame about once a second. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "capture/capture.h"
#include "capture/nosignal.h"

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void make_source(const char *device, struct capture_source *src)
{
    struct piglix_config cfg;
    config_defaults(&cfg);
    strcpy(cfg.capture.source, "v4l2");
    strcpy(cfg.capture.device, device);
    cfg.capture.edid[0] = '\0';
    assert_int_equal(capture_v4l2_create(&cfg.capture, src), 0);
    assert_non_null(src->get_stats);
}

static void expect_frame(const struct capture_frame *f, const char *detail)
{
    struct nosignal_canvas c = {0};
    struct capture_frame want;
    assert_int_equal(nosignal_render(&c, CAPTURE_SIGNAL_NO_DEVICE, detail, 0, 0, &want), 0);
    assert_int_equal(f->width, want.width);
    assert_int_equal(f->height, want.height);
    assert_int_equal(f->fmt, PIXFMT_RGB24);
    assert_memory_equal(f->data, want.data, (size_t)want.stride * want.height);
    nosignal_canvas_free(&c);
}

static void test_missing_device(void **state)
{
    (void)state;
    struct capture_source src;
    make_source("/nonexistent/video0", &src);
    struct capture_frame f;
    enum capture_signal sig = CAPTURE_SIGNAL_OK;
    double t0 = now_s();
    assert_int_equal(src.next(src.ctx, &f, &sig), 0);
    assert_true(now_s() - t0 < 0.3);
    assert_int_equal(sig, CAPTURE_SIGNAL_NO_DEVICE);
    expect_frame(&f, "/nonexistent/video0: No such file or directory");
    uint64_t seq = f.seq;

    /* then no frame for a while, but never longer than half a second per call */
    int frames = 0;
    while (now_s() - t0 < 2.3) {
        double t = now_s();
        sig = CAPTURE_SIGNAL_OK;
        int r = src.next(src.ctx, &f, &sig);
        assert_true(now_s() - t < 0.7);
        assert_int_equal(sig, CAPTURE_SIGNAL_NO_DEVICE);
        if (r == 0) {
            frames++;
            assert_true(f.seq > seq);
            seq = f.seq;
        } else {
            assert_int_equal(r, 1);
        }
    }
    assert_true(frames >= 1 && frames <= 3); /* about once a second */
    struct capture_source_stats st;
    src.get_stats(src.ctx, &st);
    assert_int_equal(st.device_frames, 0);
    assert_string_equal(st.device_format, "");
    src.destroy(src.ctx);
}

static void test_not_a_capture_device(void **state)
{
    (void)state;
    struct capture_source src;
    make_source("/dev/null", &src);
    struct capture_frame f;
    enum capture_signal sig;
    assert_int_equal(src.next(src.ctx, &f, &sig), 0);
    assert_int_equal(sig, CAPTURE_SIGNAL_NO_DEVICE);
    expect_frame(&f, "/dev/null: Inappropriate ioctl for device");
    src.destroy(src.ctx);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_missing_device),
        cmocka_unit_test(test_not_a_capture_device),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
