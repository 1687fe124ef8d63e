/* Unit tests for h264/: every backend built in encodes Annex-B frames whose
 * IDRs carry SPS and PPS, P-frames in between, IDRs when asked and at the
 * keyframe interval; bad parameters and missing backends fail with a reason;
 * the rate control holds a quality under a ceiling (a still picture costs
 * next to nothing, a moving one stays under the bitrate).
 * (Decoding to the picture is checked with libavcodec in e2e_h264.py.) */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#ifdef TEST_WITH_AVCODEC
#include <libavcodec/avcodec.h>
#include <math.h>
#endif

#include "h264/h264.h"
#include "h264/h264_internal.h" /* the speed governor */

#define W 320
#define H 240

static uint8_t planes[W * H * 3 / 2];

static void fill_picture(struct h264_picture *pic, unsigned frame)
{
    uint8_t *y = planes, *u = planes + W * H, *v = u + W * H / 4;
    for (unsigned r = 0; r < H; r++)
        for (unsigned c = 0; c < W; c++) {
            bool box = c >= frame * 4 % W && c < frame * 4 % W + 40 && r >= 60 && r < 120;
            y[r * W + c] = box ? 235 : (uint8_t)(16 + (r + c) % 200);
        }
    memset(u, 100, W * H / 4);
    memset(v, 160, W * H / 4);
    *pic = (struct h264_picture){.plane = {y, u, v}, .stride = {W, W / 2, W / 2}, .dmabuf_fd = -1};
}

/* NAL unit types present in an Annex-B buffer, as a bit set. */
static unsigned nal_types(const uint8_t *d, size_t n)
{
    unsigned set = 0;
    for (size_t i = 0; i + 3 < n; i++)
        if (d[i] == 0 && d[i + 1] == 0 && d[i + 2] == 1) {
            set |= 1u << (d[i + 3] & 31);
            i += 3;
        }
    return set;
}

static void check_backend(enum h264_backend b, const char *name)
{
    struct h264_params p = {.width = W, .height = H, .fps = 30, .bitrate_kbps = 500,
                            .keyframe_interval = 10, .backend = b};
    char err[160];
    struct h264_encoder *e = h264_encoder_open(&p, err, sizeof(err));
    assert_non_null(e);
    assert_string_equal(h264_encoder_name(e), name);
    unsigned idrs = 0;
    for (unsigned f = 0; f < 25; f++) {
        struct h264_picture pic;
        fill_picture(&pic, f);
        struct h264_output out;
        bool force = f == 13;
        assert_int_equal(h264_encoder_encode(e, &pic, force, &out), 0);
        assert_true(out.size > 4);
        /* Annex-B: a start code first. */
        assert_true(memcmp(out.data, "\0\0\1", 3) == 0 || memcmp(out.data, "\0\0\0\1", 4) == 0);
        unsigned t = nal_types(out.data, out.size);
        bool want_idr = f == 0 || f == 10 || f == 13 || f == 23;
        if (out.idr)
            idrs++;
        assert_int_equal(out.idr, want_idr);
        if (want_idr) {
            assert_true(t & (1u << 7)); /* SPS */
            assert_true(t & (1u << 8)); /* PPS */
            assert_true(t & (1u << 5)); /* IDR slice */
        } else {
            assert_true(t & (1u << 1)); /* non-IDR slice */
            assert_false(t & (1u << 5));
        }
    }
    assert_int_equal(idrs, 4);
    h264_encoder_close(e);
}

static void test_x264(void **state)
{
    (void)state;
    struct h264_params p = {.width = W, .height = H, .fps = 30, .backend = H264_BACKEND_X264};
    char err[160];
    struct h264_encoder *e = h264_encoder_open(&p, err, sizeof(err));
    if (!e) {
        assert_non_null(strstr(err, "without"));
        skip();
    }
    h264_encoder_close(e);
    check_backend(H264_BACKEND_X264, "x264");
}

static void test_openh264(void **state)
{
    (void)state;
    struct h264_params p = {.width = W, .height = H, .fps = 30, .backend = H264_BACKEND_OPENH264};
    char err[160];
    struct h264_encoder *e = h264_encoder_open(&p, err, sizeof(err));
    if (!e) {
        assert_non_null(strstr(err, "without"));
        skip();
    }
    h264_encoder_close(e);
    check_backend(H264_BACKEND_OPENH264, "openh264");
}

/* A grainy picture, moving (a band slides down by 4 lines a frame) or still. */
static void grain_picture(struct h264_picture *pic, unsigned frame)
{
    uint8_t *y = planes, *u = planes + W * H, *v = u + W * H / 4;
    uint32_t seed = 12345;
    for (unsigned r = 0; r < H; r++)
        for (unsigned c = 0; c < W; c++) {
            seed = seed * 1664525u + 1013904223u;
            unsigned band = (r + H - frame * 4 % H) % H < 40 ? 120 : 0;
            y[r * W + c] = (uint8_t)(40 + (seed >> 26) * 2 + band);
        }
    memset(u, 110, W * H / 4);
    memset(v, 140, W * H / 4);
    *pic = (struct h264_picture){.plane = {y, u, v}, .stride = {W, W / 2, W / 2}, .dmabuf_fd = -1};
}

/* Rate control (h264.h): the bitrate is a ceiling, not a budget to spend.
 * A fixed-bitrate encoder (the old ABR) kept spending it on a still picture;
 * this one sends the still picture's P-frames almost empty, and keeps a
 * moving picture under the ceiling (plus its buffer). */
static void check_rate_control(enum h264_backend b)
{
    const unsigned frames = 30, kbps = 4000;
    struct h264_params p = {.width = W, .height = H, .fps = 30, .bitrate_kbps = kbps, .backend = b};
    char err[160];
    struct h264_encoder *e = h264_encoder_open(&p, err, sizeof(err));
    if (!e)
        skip();
    /* The first frames may still build the picture up to the quality (an
     * IDR the ceiling's buffer held back); after them a still picture is
     * done: 20 frames get < 1/20 of their share of the ceiling (16667 bytes
     * a frame) together. */
    size_t build = 0, rest = 0;
    for (unsigned f = 0; f < frames; f++) {
        struct h264_picture pic;
        grain_picture(&pic, 0);
        struct h264_output out;
        assert_int_equal(h264_encoder_encode(e, &pic, false, &out), 0);
        *(f < 10 ? &build : &rest) += out.size;
    }
    h264_encoder_close(e);
    size_t per_frame = kbps * 1000 / 8 / 30;
    print_message("%s still: first 10 frames %zu bytes, next 20 %zu bytes (ceiling %zu a frame)\n",
                  b == H264_BACKEND_X264 ? "x264" : "openh264", build, rest, per_frame);
    assert_true(rest < per_frame * 20 / 20);

    p.bitrate_kbps = 300;
    e = h264_encoder_open(&p, err, sizeof(err));
    assert_non_null(e);
    size_t moving = 0;
    for (unsigned f = 0; f < frames; f++) {
        struct h264_picture pic;
        grain_picture(&pic, f);
        struct h264_output out;
        assert_int_equal(h264_encoder_encode(e, &pic, false, &out), 0);
        if (f > 0)
            moving += out.size;
    }
    h264_encoder_close(e);
    size_t ceiling = (size_t)300 * 1000 / 8 * (frames - 1) / 30;
    print_message("moving: 29 frames %zu bytes (ceiling %zu)\n", moving, ceiling);
    assert_true(moving < ceiling * 13 / 10);
}

/* Typing on a still picture (h264_x264.c): after an IDR, pictures with one
 * changed macroblock cost that macroblock, not the whole screen coded again
 * finer each time (left to CRF, x264 lowered the QP of such simple frames
 * every frame, and a constant macroblock is only skipped at a QP no finer
 * than the one it was coded at). Blocks the IDR left coarse are refined a
 * band of rows a picture: within one pass of the bands, done. */
static void test_few_changes_x264(void **state)
{
    (void)state;
    struct h264_params p = {.width = W, .height = H, .fps = 30, .bitrate_kbps = 4000,
                            .backend = H264_BACKEND_X264};
    char err[160];
    struct h264_encoder *e = h264_encoder_open(&p, err, sizeof(err));
    if (!e)
        skip();
    enum { MBW = W / 16, MBH = H / 16, FRAMES = 60, PASS = 20 };
    static uint8_t still[MBW * MBH];
    static bool toggled[MBW * MBH];
    size_t first_pass = 0, after = 0, largest_after = 0;
    for (unsigned f = 0; f < FRAMES; f++) {
        struct h264_picture pic;
        grain_picture(&pic, 0);
        /* one macroblock toggled, a different one each frame */
        unsigned mb = (f * 7) % (MBW * MBH);
        if (f > 0)
            toggled[mb] = !toggled[mb];
        for (unsigned m = 0; m < MBW * MBH; m++)
            for (unsigned r = 0; toggled[m] && r < 16; r++)
                for (unsigned c = 0; c < 16; c++)
                    planes[(m / MBW * 16 + r) * W + m % MBW * 16 + c] ^= 0x3f;
        memset(still, 1, sizeof(still));
        still[mb] = 0;
        pic.still_mbs = f > 0 ? still : NULL;
        struct h264_output out;
        assert_int_equal(h264_encoder_encode(e, &pic, false, &out), 0);
        if (f == 0)
            continue;
        if (f <= PASS) {
            first_pass += out.size;
        } else {
            after += out.size;
            if (out.size > largest_after)
                largest_after = out.size;
        }
    }
    h264_encoder_close(e);
    print_message("x264, one macroblock a picture: frames 1-%d %zu bytes, the next %d %zu bytes (largest %zu)\n",
                  PASS, first_pass, FRAMES - 1 - PASS, after, largest_after);
    /* (Left to CRF: 28076 bytes in the pass, 12450 after, largest 1828.) */
    assert_true(first_pass < (size_t)PASS * 600);
    assert_true(largest_after < 1000);
    assert_true(after < (size_t)(FRAMES - 1 - PASS) * 250);
}

#ifdef TEST_WITH_AVCODEC
/* Luma PSNR of a decoded frame against planes[]. */
static double decoded_psnr(AVCodecContext *dc, AVPacket *pkt, AVFrame *fr, const struct h264_output *out)
{
    pkt->data = (uint8_t *)out->data;
    pkt->size = (int)out->size;
    assert_int_equal(avcodec_send_packet(dc, pkt), 0);
    assert_int_equal(avcodec_receive_frame(dc, fr), 0);
    double se = 0;
    for (unsigned r = 0; r < H; r++)
        for (unsigned c = 0; c < W; c++) {
            double d = (double)fr->data[0][r * fr->linesize[0] + c] - planes[r * W + c];
            se += d * d;
        }
    return se == 0 ? 99.0 : 10 * log10(255.0 * 255.0 * W * H / se);
}
#endif

/* The other half of the above: what an IDR under a tight ceiling left
 * coarse, the bands code again at the fixed QP while the picture is typed
 * on (decoded with libavcodec: the picture gets closer to the source). */
static void test_few_changes_refine_x264(void **state)
{
    (void)state;
#ifndef TEST_WITH_AVCODEC
    print_message("built without libavcodec: nothing decodes the frames\n");
    skip();
#else
    struct h264_params p = {.width = W, .height = H, .fps = 30, .bitrate_kbps = 300,
                            .backend = H264_BACKEND_X264};
    char err[160];
    struct h264_encoder *e = h264_encoder_open(&p, err, sizeof(err));
    if (!e)
        skip();
    const AVCodec *codec = avcodec_find_decoder(AV_CODEC_ID_H264);
    AVCodecContext *dc = codec ? avcodec_alloc_context3(codec) : NULL;
    AVPacket *pkt = av_packet_alloc();
    AVFrame *fr = av_frame_alloc();
    assert_true(dc && pkt && fr && avcodec_open2(dc, codec, NULL) == 0);
    enum { MBW = W / 16, MBH = H / 16, FRAMES = 40 };
    static uint8_t still[MBW * MBH];
    double first = 0, last = 0;
    for (unsigned f = 0; f < FRAMES; f++) {
        struct h264_picture pic;
        grain_picture(&pic, 0);
        /* the same corner macroblock toggled each frame: typing */
        bool on = f % 2 == 1;
        for (unsigned r = 0; on && r < 16; r++)
            for (unsigned c = 0; c < 16; c++)
                planes[r * W + c] ^= 0x3f;
        memset(still, 1, sizeof(still));
        still[0] = 0;
        pic.still_mbs = f > 0 ? still : NULL;
        struct h264_output out;
        assert_int_equal(h264_encoder_encode(e, &pic, false, &out), 0);
        double psnr = decoded_psnr(dc, pkt, fr, &out);
        if (f == 0)
            first = psnr;
        last = psnr;
    }
    h264_encoder_close(e);
    av_frame_free(&fr);
    av_packet_free(&pkt);
    avcodec_free_context(&dc);
    print_message("x264 under 300 kbit/s: the IDR %.2f dB, after %d typed frames %.2f dB\n", first, FRAMES - 1,
                  last);
    assert_true(last >= first + 2.0);
#endif
}

static void test_rate_control_x264(void **state)
{
    (void)state;
    check_rate_control(H264_BACKEND_X264);
}

static void test_rate_control_openh264(void **state)
{
    (void)state;
    check_rate_control(H264_BACKEND_OPENH264);
}

static void test_auto_picks_software_without_m2m(void **state)
{
    (void)state;
    struct h264_params p = {.width = W, .height = H, .fps = 30, .backend = H264_BACKEND_AUTO};
    char err[160];
    struct h264_encoder *e = h264_encoder_open(&p, err, sizeof(err));
    assert_non_null(e);
    assert_true(strcmp(h264_encoder_name(e), "x264") == 0 ||
                strcmp(h264_encoder_name(e), "openh264") == 0);
    h264_encoder_close(e);
}

static void test_bad_params_and_missing_m2m(void **state)
{
    (void)state;
    char err[160];
    struct h264_params p = {.width = 321, .height = H, .fps = 30, .backend = H264_BACKEND_X264};
    assert_null(h264_encoder_open(&p, err, sizeof(err)));
    assert_non_null(strstr(err, "321x240"));
    p.width = W;
    p.fps = 0;
    assert_null(h264_encoder_open(&p, err, sizeof(err)));
    p.fps = 30;
    p.backend = H264_BACKEND_M2M;
    struct h264_encoder *e = h264_encoder_open(&p, err, sizeof(err));
    if (e) /* a build with the M2M backend on a machine that has one */
        h264_encoder_close(e);
    else
        assert_true(strlen(err) > 10);
}

/* The speed governor (h264/speed.c): finer analysis while frames leave
 * room, faster while they take most of the frame time, no flapping. */
static void test_speed_governor(void **state)
{
    (void)state;
    struct h264_speed s;
    h264_speed_init(&s, 30); /* 33.3 ms a frame */
    assert_int_equal(s.level, H264_SPEED_QUALITY);
    /* 25 ms a frame (the pan at 1080p): stays. */
    for (int i = 0; i < 100; i++)
        assert_false(h264_speed_note(&s, 25.0));
    assert_int_equal(s.level, H264_SPEED_QUALITY);
    /* One slow frame (an IDR, a preemption) alone changes nothing. */
    assert_false(h264_speed_note(&s, 120.0));
    assert_int_equal(s.level, H264_SPEED_QUALITY);
    /* 33 ms frames (the film grain): faster within a few frames. */
    bool changed = false;
    int n = 0;
    while (!changed && n < 50) {
        changed = h264_speed_note(&s, 33.0);
        n++;
    }
    assert_true(changed);
    assert_true(n <= 10);
    assert_int_equal(s.level, H264_SPEED_FAST);
    /* At FAST the same picture takes ~17 ms: above 40 %, stays. */
    for (int i = 0; i < 100; i++)
        assert_false(h264_speed_note(&s, 17.0));
    assert_int_equal(s.level, H264_SPEED_FAST);
    /* Nor at 13 ms (the pan at FAST, ~22 ms at QUALITY): finer again, it
     * would be slowed down once more on a busy host (it flipped at 40 %). */
    for (int i = 0; i < 100; i++)
        assert_false(h264_speed_note(&s, 13.0));
    /* The picture calms down: finer again once most of the last 5 frames
     * were quick (the third). */
    assert_false(h264_speed_note(&s, 5.0));
    assert_false(h264_speed_note(&s, 5.0));
    assert_true(h264_speed_note(&s, 5.0));
    assert_int_equal(s.level, H264_SPEED_QUALITY);
    /* Right after a change, at least 8 frames at the new level. */
    for (int i = 0; i < 7; i++)
        assert_false(h264_speed_note(&s, 40.0));
    assert_true(h264_speed_note(&s, 40.0));
    assert_int_equal(s.level, H264_SPEED_FAST);
    /* fps 0 means 30, as elsewhere. */
    h264_speed_init(&s, 0);
    assert_true(s.frame_ms > 33.0 && s.frame_ms < 33.5);
}

static void test_backend_parse(void **state)
{
    (void)state;
    enum h264_backend b;
    assert_int_equal(h264_backend_parse("auto", &b), 0);
    assert_int_equal(b, H264_BACKEND_AUTO);
    assert_int_equal(h264_backend_parse("m2m", &b), 0);
    assert_int_equal(b, H264_BACKEND_M2M);
    assert_int_equal(h264_backend_parse("x264", &b), 0);
    assert_int_equal(b, H264_BACKEND_X264);
    assert_int_equal(h264_backend_parse("openh264", &b), 0);
    assert_int_equal(b, H264_BACKEND_OPENH264);
    assert_int_equal(h264_backend_parse("X264", &b), -1);
    assert_int_equal(h264_backend_parse("", &b), -1);
    assert_int_equal(h264_backend_parse(NULL, &b), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_x264),
        cmocka_unit_test(test_openh264),
        cmocka_unit_test(test_rate_control_x264),
        cmocka_unit_test(test_few_changes_x264),
        cmocka_unit_test(test_few_changes_refine_x264),
        cmocka_unit_test(test_rate_control_openh264),
        cmocka_unit_test(test_auto_picks_software_without_m2m),
        cmocka_unit_test(test_bad_params_and_missing_m2m),
        cmocka_unit_test(test_backend_parse),
        cmocka_unit_test(test_speed_governor),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
