/* Unit tests for the M2M backend's refusals without a device (the session
 * itself runs against a real kernel's vicodec: vm.m2m): a path that is no
 * encoder, a search that finds none, bad sizes; each gives NULL and a
 * sentence. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include <linux/videodev2.h>

#include "h264/h264_internal.h"
#include "h264/m2m_internal.h"

static void test_not_an_encoder(void **state)
{
    (void)state;
    char err[256] = "";
    struct m2m_params p = {.device = "/dev/null", .coded_fourcc = V4L2_PIX_FMT_H264,
                           .width = 640, .height = 480};
    assert_null(m2m_open(&p, err, sizeof(err)));
    assert_non_null(strstr(err, "/dev/null is not a V4L2 M2M encoder"));
    p.device = "/nonexistent/video11";
    assert_null(m2m_open(&p, err, sizeof(err)));
    assert_non_null(strstr(err, "cannot open /nonexistent/video11"));
}

static void test_bad_sizes(void **state)
{
    (void)state;
    char err[256] = "";
    static const unsigned sizes[][2] = {{0, 480}, {641, 480}, {640, 481}, {16384, 480}};
    for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
        struct m2m_params p = {.device = "/dev/null", .coded_fourcc = V4L2_PIX_FMT_H264,
                               .width = sizes[i][0], .height = sizes[i][1]};
        err[0] = '\0';
        assert_null(m2m_open(&p, err, sizeof(err)));
        assert_non_null(strstr(err, "bad picture size"));
    }
}

/* Through the backend's ops, as h264.c calls them. */
static void test_backend_refuses(void **state)
{
    (void)state;
    assert_non_null(h264_backend_m2m);
    assert_string_equal(h264_backend_m2m->name, "m2m");
    struct h264_encoder e;
    memset(&e, 0, sizeof(e));
    struct h264_params p = {.width = 1920, .height = 1080, .fps = 30,
                            .backend = H264_BACKEND_M2M, .m2m_device = "/dev/null"};
    char err[256] = "";
    assert_int_equal(h264_backend_m2m->open(&e, &p, err, sizeof(err)), -1);
    assert_null(e.priv);
    assert_true(strlen(err) > 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_not_an_encoder),
        cmocka_unit_test(test_bad_sizes),
        cmocka_unit_test(test_backend_refuses),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
