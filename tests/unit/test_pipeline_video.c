/* Unit tests for pipeline/video.c: the video-mode rule from the damage
 * history, the frame ring, IDRs on request (rate-limited) and a new stream
 * on a size change. (The bytes are checked by unit.test_h264_encode and,
 * decoded, by e2e.h264_*.) */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <cmocka.h>

#include "h264/h264.h"
#include "pipeline/pipeline.h"

static void test_video_mode_rule(void **state)
{
    (void)state;
    struct h264_params p = {.fps = 30, .backend = H264_BACKEND_AUTO};
    struct pipeline_video *v = pipeline_video_create(&p, false, NULL, NULL);
    assert_non_null(v);
    int64_t t = 10000;
    assert_false(pipeline_video_active(v, t));
    /* Small changes (a cursor, a clock) never make video mode. */
    for (int i = 0; i < 30; i++)
        pipeline_video_note_damage(v, 10, 100, t += 33);
    assert_false(pipeline_video_active(v, t));
    /* More than a quarter of the tiles, 3 frames: not yet; 4: video. */
    for (int i = 0; i < 3; i++)
        pipeline_video_note_damage(v, 26, 100, t += 33);
    assert_false(pipeline_video_active(v, t));
    pipeline_video_note_damage(v, 26, 100, t += 33);
    assert_true(pipeline_video_active(v, t));
    /* Exactly a quarter is not busy; two busy frames in the window keep it. */
    for (int i = 0; i < 20; i++)
        pipeline_video_note_damage(v, 25, 100, t += 33);
    assert_false(pipeline_video_active(v, t));
    for (int i = 0; i < 4; i++)
        pipeline_video_note_damage(v, 90, 100, t += 33);
    assert_true(pipeline_video_active(v, t));
    for (int i = 0; i < 14; i++)
        pipeline_video_note_damage(v, 0, 100, t += 33);
    assert_true(pipeline_video_active(v, t)); /* 2 busy frames still in the last 16 */
    /* A still picture: after 2 s without busy frames, tiles again. */
    assert_true(pipeline_video_active(v, t + 1000));
    assert_false(pipeline_video_active(v, t + 2100));
    pipeline_video_destroy(v);
    /* always: video mode without any damage. */
    v = pipeline_video_create(&p, true, NULL, NULL);
    assert_true(pipeline_video_active(v, 0));
    pipeline_video_destroy(v);
}

static uint8_t *frame_data;

static void feed(struct pipeline *pl, unsigned w, unsigned h, unsigned n)
{
    free(frame_data);
    frame_data = malloc((size_t)w * h * 2);
    for (size_t i = 0; i < (size_t)w * h * 2; i++)
        frame_data[i] = (uint8_t)(i % 2 ? 128 : 16 + (i / 2 + n * 7) % 200);
    struct capture_frame f = {.fmt = PIXFMT_YUYV, .width = w, .height = h, .stride = w * 2,
                              .data = frame_data, .seq = n};
    bool resized;
    assert_true(pipeline_feed(pl, &f, &resized) > 0);
}

static void test_stream_ring_idr_and_resize(void **state)
{
    (void)state;
    struct encode_settings es = {.quality = 80, .subsamp = ENCODE_SUBSAMP_422};
    struct pipeline *pl = pipeline_create(&es, 64);
    struct h264_params p = {.fps = 30, .bitrate_kbps = 500, .backend = H264_BACKEND_AUTO};
    struct pipeline_video *v = pipeline_video_create(&p, true, NULL, NULL);
    int64_t t = 100000;
    feed(pl, 128, 96, 0);
    assert_int_equal(pipeline_video_encode(v, pl, t), 0);
    uint64_t s1 = pipeline_video_stream(v);
    assert_int_equal(pipeline_video_last(v), 1);
    assert_int_equal(pipeline_video_last_idr(v), 1);
    unsigned w, h;
    pipeline_video_size(v, &w, &h);
    assert_int_equal(w, 128);
    assert_int_equal(h, 96);
    struct pipeline_video_frame fr;
    assert_true(pipeline_video_frame(v, 1, &fr));
    assert_true(fr.idr);
    assert_int_equal(fr.picture_seq, pipeline_seq(pl));
    for (unsigned n = 1; n < 20; n++) {
        feed(pl, 128, 96, n);
        assert_int_equal(pipeline_video_encode(v, pl, t += 33), 0);
    }
    assert_int_equal(pipeline_video_last(v), 20);
    assert_true(pipeline_video_frame(v, 20, &fr));
    assert_false(fr.idr);
    assert_true(pipeline_video_frame(v, 20 - PIPELINE_VIDEO_RING + 1, &fr));
    assert_false(pipeline_video_frame(v, 20 - PIPELINE_VIDEO_RING, &fr)); /* left the ring */
    assert_false(pipeline_video_frame(v, 0, &fr));
    /* An IDR on request, then no second one within 500 ms. */
    pipeline_video_request_idr(v);
    feed(pl, 128, 96, 21);
    pipeline_video_encode(v, pl, t += 33);
    assert_int_equal(pipeline_video_last_idr(v), 21);
    pipeline_video_request_idr(v);
    feed(pl, 128, 96, 22);
    pipeline_video_encode(v, pl, t += 33);
    assert_int_equal(pipeline_video_last_idr(v), 21);
    feed(pl, 128, 96, 23);
    pipeline_video_encode(v, pl, t += 600); /* still asked for: now due */
    assert_int_equal(pipeline_video_last_idr(v), 23);
    /* A new size: a new stream, starting with an IDR at frame 1. */
    feed(pl, 160, 90, 24);
    assert_int_equal(pipeline_video_encode(v, pl, t += 33), 0);
    assert_int_not_equal(pipeline_video_stream(v), s1);
    assert_int_equal(pipeline_video_last(v), 1);
    assert_int_equal(pipeline_video_last_idr(v), 1);
    pipeline_video_size(v, &w, &h);
    assert_int_equal(w, 160);
    assert_int_equal(h, 90);
    struct pipeline_video_stats st;
    pipeline_video_get_stats(v, &st);
    assert_int_equal(st.frames, 24);
    assert_true(st.bytes > 0);
    assert_true(st.encoder[0] != 0);
    pipeline_video_destroy(v);
    pipeline_destroy(pl);
    free(frame_data);
    frame_data = NULL;
}

/* The encoder thread: newest wins (a picture not yet started is replaced),
 * the wake after each frame, pending until collected, a resize, and a
 * stop with a picture still waiting. */
static void wake_fd(void *arg)
{
    uint64_t one = 1;
    assert_int_equal(write(*(int *)arg, &one, sizeof(one)), sizeof(one));
}

static void wait_wake(int fd)
{
    uint64_t n;
    assert_int_equal(read(fd, &n, sizeof(n)), sizeof(n)); /* blocking: one frame done */
}

static void test_thread_newest_wins(void **state)
{
    (void)state;
    int fd = eventfd(0, EFD_CLOEXEC);
    assert_true(fd >= 0);
    struct encode_settings es = {.quality = 80, .subsamp = ENCODE_SUBSAMP_422};
    struct pipeline *pl = pipeline_create(&es, 64);
    struct h264_params p = {.fps = 30, .bitrate_kbps = 500, .backend = H264_BACKEND_AUTO};
    struct pipeline_video *v = pipeline_video_create(&p, true, wake_fd, &fd);
    assert_non_null(v);
    int64_t t = 100000;
    feed(pl, 128, 96, 1);
    uint64_t a = pipeline_seq(pl);
    assert_int_equal(pipeline_video_encode(v, pl, t), 0);
    assert_true(pipeline_video_pending(v, a, t));
    assert_false(pipeline_video_pending(v, a, t + PIPELINE_VIDEO_HOLD_MS)); /* bounded */
    wait_wake(fd);
    /* A's frame waits to be collected, so the encoder takes nothing new:
     * B is replaced by C, deterministically. */
    feed(pl, 128, 96, 2);
    assert_int_equal(pipeline_video_encode(v, pl, t += 33), 0);
    feed(pl, 128, 96, 3);
    uint64_t c = pipeline_seq(pl);
    assert_int_equal(pipeline_video_encode(v, pl, t += 1), 0);
    assert_int_equal(pipeline_video_last(v), 0); /* nothing before the collect */
    assert_true(pipeline_video_collect(v));
    struct pipeline_video_frame fr;
    assert_int_equal(pipeline_video_last(v), 1);
    assert_true(pipeline_video_frame(v, 1, &fr));
    assert_true(fr.idr);
    assert_int_equal(fr.picture_seq, a);
    assert_true(pipeline_video_pending(v, c, t));
    wait_wake(fd);
    assert_true(pipeline_video_collect(v));
    assert_false(pipeline_video_pending(v, c, t));
    assert_int_equal(pipeline_video_last(v), 2);
    assert_true(pipeline_video_frame(v, 2, &fr));
    assert_int_equal(fr.picture_seq, c);
    assert_false(fr.idr);
    struct pipeline_video_stats st;
    pipeline_video_get_stats(v, &st);
    assert_int_equal(st.frames, 2);
    assert_int_equal(st.replaced, 1);
    /* A new size on the thread: a new stream from an IDR. */
    uint64_t s1 = pipeline_video_stream(v);
    feed(pl, 160, 90, 4);
    assert_int_equal(pipeline_video_encode(v, pl, t += 33), 0);
    wait_wake(fd);
    assert_true(pipeline_video_collect(v));
    assert_int_not_equal(pipeline_video_stream(v), s1);
    assert_int_equal(pipeline_video_last_idr(v), 1);
    unsigned w, h;
    pipeline_video_size(v, &w, &h);
    assert_int_equal(w, 160);
    /* Stopped with one frame uncollected and another picture waiting. */
    feed(pl, 160, 90, 5);
    pipeline_video_encode(v, pl, t += 33);
    wait_wake(fd);
    feed(pl, 160, 90, 6);
    pipeline_video_encode(v, pl, t += 33);
    pipeline_video_destroy(v);
    pipeline_destroy(pl);
    free(frame_data);
    frame_data = NULL;
    close(fd);
}

/* frame_data (YUYV, w wide) with one 8x8 block at x, y made bright: a
 * typed glyph. */
static void type_block(struct pipeline *pl, unsigned w, unsigned h, unsigned n, unsigned x, unsigned y)
{
    for (unsigned r = y; r < y + 8; r++)
        for (unsigned c = x; c < x + 8; c++)
            frame_data[(size_t)r * w * 2 + c * 2] = (uint8_t)(200 + n);
    struct capture_frame f = {.fmt = PIXFMT_YUYV, .width = w, .height = h, .stride = w * 2,
                              .data = frame_data, .seq = n};
    bool resized;
    assert_true(pipeline_feed(pl, &f, &resized) > 0);
}

/* Previews (h264.h): a typed picture's preview reaches the ring before its
 * frame, marked, and does not answer the picture (pending stays true until
 * the frame does); one macroblock's worth; none with previews off. */
static void test_thread_previews(void **state)
{
    (void)state;
    for (int on = 1; on >= 0; on--) {
        int fd = eventfd(0, EFD_CLOEXEC);
        assert_true(fd >= 0);
        struct encode_settings es = {.quality = 80, .subsamp = ENCODE_SUBSAMP_422};
        struct pipeline *pl = pipeline_create(&es, 64);
        struct h264_params p = {.fps = 30, .bitrate_kbps = 4000, .backend = H264_BACKEND_X264};
        struct pipeline_video *v = pipeline_video_create(&p, true, wake_fd, &fd);
        assert_non_null(v);
        pipeline_video_set_previews(v, on);
        int64_t t = 100000;
        feed(pl, 320, 240, 1);
        assert_int_equal(pipeline_video_encode(v, pl, t), 0);
        wait_wake(fd);
        assert_true(pipeline_video_collect(v)); /* the IDR */
        struct pipeline_video_stats st;
        pipeline_video_get_stats(v, &st);
        if (strcmp(st.encoder, "x264") != 0) {
            pipeline_video_destroy(v);
            pipeline_destroy(pl);
            close(fd);
            skip(); /* built without x264 */
        }
        for (unsigned k = 0; k < 5; k++) {
            uint64_t before = pipeline_video_last(v);
            type_block(pl, 320, 240, 2 + k, 20 + 16 * k, 100);
            uint64_t seq = pipeline_seq(pl);
            assert_int_equal(pipeline_video_encode(v, pl, t += 100), 0);
            /* Collected as they come: the preview may come alone, then
             * the picture is still owed; its frame answers it. */
            while (pipeline_video_last(v) < before + 1 + (unsigned)on) {
                wait_wake(fd);
                pipeline_video_collect(v);
                if (on && pipeline_video_last(v) == before + 1)
                    assert_true(pipeline_video_pending(v, seq, t));
            }
            assert_false(pipeline_video_pending(v, seq, t));
            struct pipeline_video_frame fr;
            for (uint64_t n = before + 1; n <= pipeline_video_last(v); n++) {
                assert_true(pipeline_video_frame(v, n, &fr));
                assert_int_equal(fr.picture_seq, seq);
                assert_int_equal(fr.preview, on && n == before + 1);
                if (fr.preview) /* our PPS, then one macroblock's samples in a slice */
                    assert_true(fr.len > 384 && fr.len < 2 * 384 && fr.data[4] == 0x68);
            }
            assert_int_equal(pipeline_video_last(v), before + 1 + (unsigned)on);
        }
        pipeline_video_get_stats(v, &st);
        assert_int_equal(st.previews, on ? 5 : 0);
        assert_int_equal(st.frames, 6);
        pipeline_video_destroy(v);
        pipeline_destroy(pl);
        close(fd);
    }
    free(frame_data);
    frame_data = NULL;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_video_mode_rule),
        cmocka_unit_test(test_stream_ring_idr_and_resize),
        cmocka_unit_test(test_thread_newest_wins),
        cmocka_unit_test(test_thread_previews),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
