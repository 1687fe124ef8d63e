/* Unit tests for h264/preview.c: previews of pictures with few changes,
 * decoded with libavcodec next to the same stream without them:
 * - a preview shows exactly the source's samples in its changed
 *   macroblocks and the last decoded picture everywhere else;
 * - the decoder forgets it: every encoder frame decodes bit for bit as it
 *   does in the stream without previews;
 * - none after a preview, with too many changes, over the budget, or on a
 *   stream it cannot follow; the follower survives nonsense. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#ifdef TEST_WITH_AVCODEC
#include <libavcodec/avcodec.h>
#endif

#include "h264/h264.h"
#include "h264/h264_internal.h" /* the encoder's follower, for messages */

/* Not a multiple of 16 high: the last macroblock row is cropped. */
#define W 320
#define H 232
#define MBW ((W + 15) / 16)
#define MBH ((H + 15) / 16)

static uint8_t planes[W * H * 3 / 2];
static uint8_t still[MBW * MBH];

/* A textured still picture (x264 codes it lossily), with "typed" glyphs:
 * macroblock m gets a pattern that depends on stamp. */
static void base_picture(void)
{
    uint8_t *y = planes, *u = planes + W * H, *v = u + W * H / 4;
    for (unsigned r = 0; r < H; r++)
        for (unsigned c = 0; c < W; c++)
            y[r * W + c] = (uint8_t)(16 + (r * 7 + c * 3 + (r * c) % 13) % 200);
    for (unsigned i = 0; i < W * H / 4; i++) {
        u[i] = (uint8_t)(100 + i % 17);
        v[i] = (uint8_t)(150 + i % 11);
    }
}

static void type_into(unsigned mb, unsigned stamp)
{
    uint8_t *y = planes, *u = planes + W * H, *v = u + W * H / 4;
    unsigned mx = mb % MBW, my = mb / MBW;
    for (unsigned r = my * 16; r < my * 16 + 16 && r < H; r++)
        for (unsigned c = mx * 16; c < mx * 16 + 16; c++)
            y[r * W + c] = (uint8_t)((c * 31 + r * 17 + stamp * 5) % 256); /* exact values, 0..255 */
    for (unsigned r = my * 8; r < my * 8 + 8 && r < H / 2; r++)
        for (unsigned c = mx * 8; c < mx * 8 + 8; c++) {
            u[r * (W / 2) + c] = (uint8_t)(stamp * 13 + c);
            v[r * (W / 2) + c] = (uint8_t)(stamp * 29 + r);
        }
    still[mb] = 0;
}

static struct h264_picture picture(int64_t pts_us)
{
    return (struct h264_picture){.plane = {planes, planes + W * H, planes + W * H + W * H / 4},
                                 .stride = {W, W / 2, W / 2}, .dmabuf_fd = -1, .pts_us = pts_us,
                                 .still_mbs = still};
}

#ifdef TEST_WITH_AVCODEC
struct dec {
    AVCodecContext *c;
    AVPacket *pkt;
    AVFrame *fr;
};

static void dec_open(struct dec *d)
{
    const AVCodec *codec = avcodec_find_decoder(AV_CODEC_ID_H264);
    d->c = codec ? avcodec_alloc_context3(codec) : NULL;
    d->pkt = av_packet_alloc();
    d->fr = av_frame_alloc();
    assert_true(d->c && d->pkt && d->fr);
    d->c->flags |= AV_CODEC_FLAG_LOW_DELAY;
    d->c->err_recognition = AV_EF_EXPLODE; /* a stream error is a failed decode, not a concealed picture */
    assert_int_equal(avcodec_open2(d->c, codec, NULL), 0);
}

/* Decodes one frame; its planes copied to pic (W x H x 1.5). */
static void dec_frame(struct dec *d, const struct h264_output *o, uint8_t *pic)
{
    d->pkt->data = (uint8_t *)o->data;
    d->pkt->size = (int)o->size;
    assert_int_equal(avcodec_send_packet(d->c, d->pkt), 0);
    assert_int_equal(avcodec_receive_frame(d->c, d->fr), 0);
    assert_int_equal(d->fr->width, W);
    assert_int_equal(d->fr->height, H);
    for (unsigned p = 0; p < 3; p++) {
        unsigned pw = p ? W / 2 : W, ph = p ? H / 2 : H;
        uint8_t *dst = pic + (p == 0 ? 0 : p == 1 ? W * H : W * H + W * H / 4);
        for (unsigned r = 0; r < ph; r++)
            memcpy(dst + r * pw, d->fr->data[p] + r * d->fr->linesize[p], pw);
    }
}

static void dec_close(struct dec *d)
{
    av_frame_free(&d->fr);
    av_packet_free(&d->pkt);
    avcodec_free_context(&d->c);
}

/* Each sample of a preview: the source's in changed macroblocks, else the
 * picture decoded before. Returns how many samples were the source's. */
static size_t check_preview(const uint8_t *shown, const uint8_t *before, const uint8_t *changed_map)
{
    size_t exact = 0;
    for (unsigned p = 0; p < 3; p++) {
        unsigned pw = p ? W / 2 : W, ph = p ? H / 2 : H, mbs = p ? 8 : 16;
        size_t off = p == 0 ? 0 : p == 1 ? W * H : W * H + W * H / 4;
        for (unsigned r = 0; r < ph; r++)
            for (unsigned c = 0; c < pw; c++) {
                size_t i = off + r * pw + c;
                bool changed = !changed_map[(r / mbs) * MBW + c / mbs];
                if (changed) {
                    assert_int_equal(shown[i], planes[i]);
                    exact++;
                } else {
                    assert_int_equal(shown[i], before[i]);
                }
            }
    }
    return exact;
}
#endif

static void run_backend(enum h264_backend b)
{
#ifndef TEST_WITH_AVCODEC
    (void)b;
    print_message("built without libavcodec: nothing decodes the previews\n");
    skip();
#else
    struct h264_params p = {.width = W, .height = H, .fps = 30, .bitrate_kbps = 4000, .backend = b};
    char err[160];
    struct h264_encoder *e = h264_encoder_open(&p, err, sizeof(err));
    if (!e) {
        print_message("no such encoder here: %s\n", err);
        skip();
    }
    struct dec with, without;
    dec_open(&with);
    dec_open(&without);
    static uint8_t a[W * H * 3 / 2], bpic[W * H * 3 / 2], last_shown[W * H * 3 / 2];
    enum { FRAMES = 30 };
    unsigned previews = 0;
    size_t exact = 0, preview_bytes = 0;
    base_picture();
    for (unsigned f = 0; f < FRAMES; f++) {
        memset(still, 1, sizeof(still));
        /* one or two macroblocks typed a frame, the bottom (cropped) row included */
        if (f > 0) {
            type_into((f * 37) % (MBW * MBH), f);
            if (f % 3 == 0)
                type_into(MBW * (MBH - 1) + f % MBW, f + 100);
        }
        struct h264_picture pic = picture((int64_t)f * 33333);
        if (f == 0)
            pic.still_mbs = NULL;
        struct h264_output out;
        bool made = h264_encoder_preview(e, &pic, &out);
        if (f < 2 && made != (f > 0))
            print_message("frame %u: preview %s (sps_ok %d slice_ok %d poc type %u step %u)\n", f,
                          made ? "made" : "refused", e->follow.sps_ok, e->follow.slice_ok,
                          e->follow.poc_type, e->follow.poc_step);
        /* None before the stream starts; with POC type 0, none before the
         * encoder's step between two pictures is known. */
        assert_int_equal(made, f > 1 || (f == 1 && e->follow.poc_type == 2));
        if (made) {
            struct h264_output again;
            assert_false(h264_encoder_preview(e, &pic, &again)); /* never two in a row */
            previews++;
            preview_bytes += out.size;
            dec_frame(&with, &out, a);
            exact += check_preview(a, last_shown, still);
        }
        assert_int_equal(h264_encoder_encode(e, &pic, f == 0, &out), 0);
        assert_true(out.size > 0);
        dec_frame(&with, &out, a);
        dec_frame(&without, &out, bpic);
        assert_memory_equal(a, bpic, sizeof(a)); /* the preview left no trace in the reference */
        memcpy(last_shown, a, sizeof(a));
    }
    print_message("%s: %u previews, %zu bytes, %zu samples exact\n", h264_encoder_name(e), previews,
                  preview_bytes, exact);
    assert_true(previews >= FRAMES - 2);
    dec_close(&with);
    dec_close(&without);
    h264_encoder_close(e);
#endif
}

static void test_previews_x264(void **state)
{
    (void)state;
    run_backend(H264_BACKEND_X264);
}

static void test_previews_openh264(void **state)
{
    (void)state;
    run_backend(H264_BACKEND_OPENH264);
}

/* An encoder (the best built in) at a ceiling of kbps, and the base
 * picture with nothing marked changed; skips without an encoder. */
static struct h264_encoder *open_fresh(unsigned kbps)
{
    struct h264_params p = {.width = W, .height = H, .fps = 30, .bitrate_kbps = kbps,
                            .backend = H264_BACKEND_AUTO};
    char err[160];
    struct h264_encoder *e = h264_encoder_open(&p, err, sizeof(err));
    if (!e)
        skip();
    base_picture();
    memset(still, 1, sizeof(still));
    return e;
}

/* Too many changes, no change, a forced IDR's stream start, the budget. */
static void test_preview_refusals(void **state)
{
    (void)state;
    struct h264_encoder *e = open_fresh(100);
    struct h264_picture pic = picture(0);
    struct h264_output out;
    assert_int_equal(h264_encoder_encode(e, &pic, true, &out), 0);
    assert_false(h264_encoder_preview(e, &pic, &out)); /* nothing changed */
    for (unsigned m = 0; m <= H264_PREVIEW_MAX_MBS; m++)
        type_into(m, 1);
    pic = picture(33333);
    assert_false(h264_encoder_preview(e, &pic, &out)); /* one macroblock too many */
    still[0] = 1;
    assert_true(h264_encoder_preview(e, &pic, &out)); /* exactly the most */
    assert_int_equal(h264_encoder_encode(e, &pic, false, &out), 0);
    /* 100 kbit/s: 12500 bytes a second for previews and frames together;
     * the 32 macroblocks' preview (12.4 KB) spent it; refilled with time. */
    memset(still, 1, sizeof(still));
    type_into(5, 2);
    pic = picture(66666);
    assert_false(h264_encoder_preview(e, &pic, &out));
    assert_int_equal(h264_encoder_encode(e, &pic, false, &out), 0);
    pic = picture(66666 + 8000000);
    assert_true(h264_encoder_preview(e, &pic, &out));
    h264_encoder_close(e);
}

/* The budget is what the frames leave of the ceiling: frames spend it too
 * (here IDRs at one capture time, so nothing refills it), and a burst of
 * typing that changes many scattered macroblocks is not starved while the
 * frames are small (a fixed 1/8 of the ceiling had it spent in 5 keys). */
static void test_preview_budget_shared_with_frames(void **state)
{
    (void)state;
    struct h264_encoder *e = open_fresh(100);
    struct h264_picture pic = picture(0);
    struct h264_output out;
    size_t frames = 0;
    for (unsigned i = 0; frames <= 100 * 1000 / 8; i++) {
        assert_true(i < 1000);
        type_into(i % (MBW * MBH), i); /* a change, so the IDR is not empty */
        assert_int_equal(h264_encoder_encode(e, &pic, true, &out), 0);
        frames += out.size;
    }
    assert_int_equal(h264_encoder_encode(e, &pic, false, &out), 0);
    memset(still, 1, sizeof(still));
    type_into(3, 7);
    assert_false(h264_encoder_preview(e, &pic, &out)); /* the frames spent a second of the ceiling */
    assert_int_equal(h264_encoder_encode(e, &pic, false, &out), 0);
    memset(still, 1, sizeof(still));
    type_into(4, 8);
    pic = picture(3000000); /* refilled (a second's worth at most) */
    assert_true(h264_encoder_preview(e, &pic, &out));
    assert_int_equal(h264_encoder_encode(e, &pic, false, &out), 0);
    h264_encoder_close(e);

    /* 4000 kbit/s (500 KB a second): ten keys in a third of a second, each
     * changing 32 scattered macroblocks (12.4 KB a preview), all previewed. */
    e = open_fresh(4000);
    pic = picture(0);
    assert_int_equal(h264_encoder_encode(e, &pic, true, &out), 0);
    for (unsigned k = 1; k <= 10; k++) {
        memset(still, 1, sizeof(still));
        for (unsigned m = 0; m < H264_PREVIEW_MAX_MBS; m++)
            type_into((m * 7 + k) % (MBW * MBH), k);
        pic = picture((int64_t)k * 33333);
        assert_true(h264_encoder_preview(e, &pic, &out));
        assert_true(out.size > H264_PREVIEW_MAX_MBS * 384);
        assert_int_equal(h264_encoder_encode(e, &pic, false, &out), 0);
    }
    h264_encoder_close(e);
}

/* Streams it cannot follow get no preview; a stream cut anywhere or
 * overwritten with noise does not break the follower. */
static void test_follow_bad_streams(void **state)
{
    (void)state;
    struct h264_follow f;
    h264_follow_init(&f);
    base_picture();
    memset(still, 1, sizeof(still));
    type_into(3, 1);
    struct h264_picture pic = picture(0);
    struct h264_output out;
    assert_false(h264_follow_preview(&f, &pic, W, H, 32, &out)); /* nothing seen */
    /* A baseline SPS (id 0, 4 frame_num bits, POC type 2, 20x15
     * macroblocks) is followed; the same with POC type 1 is not. */
    static const uint8_t sps_poc2[] = {0, 0, 0, 1, 0x67, 0x42, 0xc0, 0x1e, 0xda, 0x05, 0x07, 0xe8};
    static const uint8_t sps_poc1[] = {0, 0, 0, 1, 0x67, 0x42, 0xc0, 0x1e, 0xd0, 0x80};
    h264_follow_note(&f, sps_poc2, sizeof(sps_poc2));
    assert_true(f.sps_ok);
    assert_int_equal(f.mbw, 20);
    assert_int_equal(f.mbh, 15);
    assert_int_equal(f.poc_type, 2);
    h264_follow_note(&f, sps_poc1, sizeof(sps_poc1));
    assert_false(f.sps_ok);
    uint8_t noise[4096];
    unsigned s = 1;
    for (unsigned round = 0; round < 200; round++) {
        for (size_t i = 0; i < sizeof(noise); i++) {
            s = s * 1103515245u + 12345u;
            noise[i] = (uint8_t)(s >> 16);
            if (s % 97 == 0 && i + 4 < sizeof(noise)) { /* plenty of start codes */
                noise[i] = noise[i + 1] = 0;
                noise[i + 2] = 1;
                noise[i + 3] = (uint8_t)(s >> 8);
                i += 3;
            }
        }
        h264_follow_note(&f, noise, (size_t)(s % sizeof(noise)));
        h264_follow_preview(&f, &pic, W, H, 32, &out);
    }
    h264_follow_free(&f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_previews_x264),
        cmocka_unit_test(test_previews_openh264),
        cmocka_unit_test(test_preview_refusals),
        cmocka_unit_test(test_preview_budget_shared_with_frames),
        cmocka_unit_test(test_follow_bad_streams),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
