/* Unit tests for the no-picture frame (capture/nosignal.c): sizes, the same
 * bytes for the same state, a different picture per reason, text that fits. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "capture/nosignal.h"

static const enum capture_signal reasons[] = {CAPTURE_SIGNAL_NONE, CAPTURE_SIGNAL_NO_LOCK,
                                              CAPTURE_SIGNAL_OUT_OF_RANGE, CAPTURE_SIGNAL_TIMEOUT,
                                              CAPTURE_SIGNAL_NO_DEVICE};
#define N_REASONS (sizeof(reasons) / sizeof(reasons[0]))

static void test_titles(void **state)
{
    (void)state;
    assert_string_equal(nosignal_title(CAPTURE_SIGNAL_NONE), "NO SIGNAL");
    assert_string_equal(nosignal_title(CAPTURE_SIGNAL_NO_LOCK), "NO SYNC LOCK");
    assert_string_equal(nosignal_title(CAPTURE_SIGNAL_OUT_OF_RANGE), "OUT OF RANGE");
    assert_string_equal(nosignal_title(CAPTURE_SIGNAL_TIMEOUT), "NO FRAMES");
    assert_string_equal(nosignal_title(CAPTURE_SIGNAL_NO_DEVICE), "NO CAPTURE DEVICE");
}

static void test_sizes(void **state)
{
    (void)state;
    struct nosignal_canvas c = {0};
    struct capture_frame f;
    assert_int_equal(nosignal_render(&c, CAPTURE_SIGNAL_NONE, "x", 0, 0, &f), 0);
    assert_int_equal(f.width, NOSIGNAL_DEFAULT_WIDTH);
    assert_int_equal(f.height, NOSIGNAL_DEFAULT_HEIGHT);
    assert_int_equal(f.fmt, PIXFMT_RGB24);
    assert_int_equal(f.stride, f.width * 3);
    assert_int_equal(nosignal_render(&c, CAPTURE_SIGNAL_NONE, "x", 1920, 1080, &f), 0);
    assert_int_equal(f.width, 1920);
    assert_int_equal(f.height, 1080);
    assert_int_equal(nosignal_render(&c, CAPTURE_SIGNAL_NONE, "x", 641, 480, &f), 0);
    assert_int_equal(f.width, 640); /* even, for 4:2:2 */
    assert_int_equal(nosignal_render(&c, CAPTURE_SIGNAL_NONE, "x", 16, 16, &f), 0);
    assert_int_equal(f.width, NOSIGNAL_DEFAULT_WIDTH);
    assert_int_equal(nosignal_render(&c, CAPTURE_SIGNAL_NONE, "x", 100000, 720, &f), 0);
    assert_int_equal(f.width, NOSIGNAL_DEFAULT_WIDTH);
    nosignal_canvas_free(&c);
}

/* Bytes of a rendered frame, copied out of the canvas. */
static uint8_t *render_copy(enum capture_signal r, const char *detail, unsigned w, unsigned h)
{
    struct nosignal_canvas c = {0};
    struct capture_frame f;
    assert_int_equal(nosignal_render(&c, r, detail, w, h, &f), 0);
    size_t size = (size_t)f.stride * f.height;
    uint8_t *copy = malloc(size);
    memcpy(copy, f.data, size);
    nosignal_canvas_free(&c);
    return copy;
}

static void test_same_state_same_bytes_and_reasons_differ(void **state)
{
    (void)state;
    size_t size = 1280 * 3 * 720;
    uint8_t *frames[N_REASONS];
    for (size_t i = 0; i < N_REASONS; i++) {
        frames[i] = render_copy(reasons[i], "/dev/video0: detail", 1280, 720);
        uint8_t *again = render_copy(reasons[i], "/dev/video0: detail", 1280, 720);
        assert_memory_equal(frames[i], again, size);
        free(again);
        /* dark background in the corners, text (bright pixels) in the middle */
        assert_true(frames[i][0] < 40 && frames[i][size - 1] < 40);
        int bright = 0;
        for (size_t p = 0; p < size; p += 3)
            bright += frames[i][p] > 150;
        assert_true(bright > 2000);
    }
    for (size_t i = 0; i < N_REASONS; i++)
        for (size_t j = 0; j < i; j++)
            assert_memory_not_equal(frames[i], frames[j], size);
    uint8_t *other = render_copy(reasons[0], "/dev/video1: detail", 1280, 720);
    assert_memory_not_equal(frames[0], other, size);
    free(other);
    for (size_t i = 0; i < N_REASONS; i++)
        free(frames[i]);
}

static void test_long_detail_and_small_frames(void **state)
{
    (void)state;
    char detail[400];
    memset(detail, 'x', sizeof(detail) - 1);
    detail[sizeof(detail) - 1] = '\0';
    struct nosignal_canvas c = {0};
    struct capture_frame f;
    assert_int_equal(nosignal_render(&c, CAPTURE_SIGNAL_NO_DEVICE, detail, 320, 200, &f), 0);
    assert_int_equal(nosignal_render(&c, CAPTURE_SIGNAL_NO_DEVICE, NULL, 320, 200, &f), 0);
    /* the left and right columns stay background: text is kept inside */
    for (unsigned y = 0; y < f.height; y++) {
        const uint8_t *row = f.data + (size_t)y * f.stride;
        assert_true(row[0] < 40 && row[(f.width - 1) * 3] < 40);
    }
    nosignal_canvas_free(&c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_titles),
        cmocka_unit_test(test_sizes),
        cmocka_unit_test(test_same_state_same_bytes_and_reasons_differ),
        cmocka_unit_test(test_long_detail_and_small_frames),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
