/* bench_h264: H.264 against Tight on the test source, side by side in one
 * run (figures, not a test). Per size (1080p30, 720p30) and scenario
 * (motion, pan, desktop) it encodes the same N frames
 *   - as piglix's Tight tiles (damage -> encode once, JPEG quality 80 4:2:2),
 *     decoded with the tests' independent Tight decoder, and
 *   - with each software H.264 encoder built in (x264, openh264) through
 *     h264/, decoded with libavcodec,
 * and prints bytes/s at the nominal rate, PSNR (RGB) and SSIM (luma, 8x8
 * windows) of what a viewer sees against the captured picture, and the
 * encoder's CPU ms per frame (the process's: Tight's workers count) and
 * its wall ms per frame (how soon the frame is out).
 * kbit/s counts every frame; "steady" leaves out the first (the full
 * picture both send to a viewer that joins), which 60 frames of a desktop
 * are otherwise mostly made of.
 * "x264 damage" is the daemon's path to the same encoder: only the changed
 * tiles converted, the unchanged macroblocks given to x264 (still_mbs),
 * frames without change not encoded.
 * With --curve: x264 at several quality QPs (CRF) under the ceiling, per
 * scenario at 1080p: the rate/quality curve behind H264_QUALITY_QP_DEFAULT.
 * BENCH_DEBUG=1 in the environment logs each encoded frame (QP, bytes, ms).
 * usage: bench_h264 [frames] [bitrate_kbps] [--only motion|pan|desktop] [--curve]   (60 4000) */
#include <libavcodec/avcodec.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "capture/testsrc.h"
#include "common/log.h"
#include "common/pixfmt.h"
#include "h264/h264.h"
#include "pipeline/pipeline.h"
#include "tests/support/tight_decode.h"

/* CPU time of the whole process: an encoder's own threads count too. */
static double cpu_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static double wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

struct quality { double sq, ssim; uint64_t n, windows; };

/* Adds one picture's squared error (RGB) and SSIM (luma, 8x8 windows) of
 * got against ref (both RGBX). */
static void measure(struct quality *q, const uint8_t *ref, const uint8_t *got, unsigned w, unsigned h)
{
    for (size_t i = 0; i < (size_t)w * h; i++)
        for (int c = 0; c < 3; c++) {
            int d = ref[4 * i + c] - got[4 * i + c];
            q->sq += d * d;
        }
    q->n += (uint64_t)w * h * 3;
    const double c1 = 6.5025, c2 = 58.5225;
    for (unsigned by = 0; by + 8 <= h; by += 8)
        for (unsigned bx = 0; bx + 8 <= w; bx += 8) {
            double sa = 0, sb = 0, saa = 0, sbb = 0, sab = 0;
            for (unsigned y = by; y < by + 8; y++)
                for (unsigned x = bx; x < bx + 8; x++) {
                    const uint8_t *a = ref + 4 * ((size_t)y * w + x), *b = got + 4 * ((size_t)y * w + x);
                    double la = 0.299 * a[0] + 0.587 * a[1] + 0.114 * a[2];
                    double lb = 0.299 * b[0] + 0.587 * b[1] + 0.114 * b[2];
                    sa += la; sb += lb; saa += la * la; sbb += lb * lb; sab += la * lb;
                }
            double ma = sa / 64, mb = sb / 64;
            double va = saa / 64 - ma * ma, vb = sbb / 64 - mb * mb, cov = sab / 64 - ma * mb;
            q->ssim += ((2 * ma * mb + c1) * (2 * cov + c2)) / ((ma * ma + mb * mb + c1) * (va + vb + c2));
            q->windows++;
        }
}

static double psnr_of(const struct quality *q)
{
    double mse = q->sq / (double)(q->n ? q->n : 1);
    return mse == 0 ? 99.0 : 10 * log10(255.0 * 255.0 / mse);
}

/* The same conversion as pipeline/video.c: YUYV (limited range) to I420. */
static void yuyv_to_i420(const struct capture_frame *f, uint8_t *y, uint8_t *u, uint8_t *v)
{
    unsigned w = f->width, cw = w / 2;
    for (unsigned r = 0; r < f->height; r += 2) {
        const uint8_t *s0 = f->data + (size_t)r * f->stride, *s1 = s0 + f->stride;
        for (unsigned i = 0; i < cw; i++) {
            const uint8_t *a = s0 + 4 * i, *b = s1 + 4 * i;
            y[(size_t)r * w + 2 * i] = a[0];
            y[(size_t)r * w + 2 * i + 1] = a[2];
            y[(size_t)(r + 1) * w + 2 * i] = b[0];
            y[(size_t)(r + 1) * w + 2 * i + 1] = b[2];
            u[(size_t)(r / 2) * cw + i] = (uint8_t)((a[1] + b[1] + 1) / 2);
            v[(size_t)(r / 2) * cw + i] = (uint8_t)((a[3] + b[3] + 1) / 2);
        }
    }
}

static void frame_to_rgbx(const AVFrame *fr, uint8_t *rgbx, unsigned w, unsigned h)
{
    for (unsigned y = 0; y < h; y++)
        for (unsigned x = 0; x < w; x++) {
            uint8_t *o = rgbx + 4 * ((size_t)y * w + x);
            pixfmt_yuv_to_rgb(fr->data[0][y * fr->linesize[0] + x], fr->data[1][(y / 2) * fr->linesize[1] + x / 2],
                              fr->data[2][(y / 2) * fr->linesize[2] + x / 2], &o[0], &o[1], &o[2]);
            o[3] = 0;
        }
}

struct result { const char *name; double kbps, steady_kbps, psnr, ssim, ms, wall; bool ok; };

static double kbit_per_s(uint64_t bytes, int frames) { return bytes * 8.0 / 1000 / (frames / 30.0); }

/* What one encoder's run gave a viewer: bytes on the wire (first: those of
 * frame 0), quality against the source, encoder time. */
struct tally {
    struct quality q;
    uint64_t bytes, first;
    double ms, wall;
};

static struct result tally_result(const char *name, const struct tally *t, int frames)
{
    return (struct result){.name = name, .kbps = kbit_per_s(t->bytes, frames),
                           .steady_kbps = kbit_per_s(t->bytes - t->first, frames - 1), .psnr = psnr_of(&t->q),
                           .ssim = t->q.ssim / (double)(t->q.windows ? t->q.windows : 1), .ms = t->ms / frames,
                           .wall = t->wall / frames, .ok = true};
}

/* Frame i of the source against what the viewer shows (got); frame 0 is the
 * same full picture for every encoder and is not measured. */
static void tally_picture(struct tally *t, const struct capture_frame *f, int i, uint8_t *ref, const uint8_t *got)
{
    unsigned w = f->width, h = f->height;
    pixfmt_to_rgbx(PIXFMT_YUYV, f->data, f->stride, ref, w * 4, w, h);
    if (i > 0)
        measure(&t->q, ref, got, w, h);
}

/* An H.264 viewer: libavcodec, one frame out for each frame in. */
struct h264_view {
    AVCodecContext *dc;
    AVPacket *pkt;
    AVFrame *fr;
};

static void h264_view_open(struct h264_view *v)
{
    const AVCodec *codec = avcodec_find_decoder(AV_CODEC_ID_H264);
    v->dc = avcodec_alloc_context3(codec);
    v->pkt = av_packet_alloc();
    v->fr = av_frame_alloc();
    if (!v->dc || !v->pkt || !v->fr || avcodec_open2(v->dc, codec, NULL) < 0)
        abort();
}

/* Frame i's Annex-B bytes (counted with the rect header, length and
 * flags) decoded into got. */
static void h264_view_take(struct h264_view *v, struct tally *t, const char *name, int i, const uint8_t *data,
                           size_t len, uint8_t *got, unsigned w, unsigned h)
{
    t->bytes += len + 20;
    if (i == 0)
        t->first = t->bytes;
    v->pkt->data = (uint8_t *)data;
    v->pkt->size = (int)len;
    if (avcodec_send_packet(v->dc, v->pkt) < 0 || avcodec_receive_frame(v->dc, v->fr) < 0) {
        fprintf(stderr, "%s: frame %d did not decode at once\n", name, i);
        abort();
    }
    frame_to_rgbx(v->fr, got, w, h);
}

static void h264_view_close(struct h264_view *v)
{
    av_frame_free(&v->fr);
    av_packet_free(&v->pkt);
    avcodec_free_context(&v->dc);
}

static struct capture_frame *render_all(const char *scenario, unsigned w, unsigned h, int frames,
                                        uint8_t **store)
{
    struct testsrc *ts = testsrc_create(scenario, w, h, 30, PIXFMT_YUYV);
    if (!ts)
        return NULL;
    struct capture_frame *f = calloc((size_t)frames, sizeof(*f));
    size_t sz = (size_t)w * h * 2;
    *store = malloc(sz * (size_t)frames);
    if (!f || !*store)
        abort();
    for (int i = 0; i < frames; i++) {
        struct capture_frame cf;
        testsrc_next_unpaced(ts, &cf);
        memcpy(*store + sz * (size_t)i, cf.data, sz);
        f[i] = cf;
        f[i].data = *store + sz * (size_t)i;
        f[i].stride = w * 2;
    }
    testsrc_destroy(ts);
    return f;
}

static struct result run_tight(const struct capture_frame *f, int frames, uint8_t *ref, uint8_t *got)
{
    unsigned w = f[0].width, h = f[0].height;
    struct encode_settings es = {.quality = 80, .subsamp = ENCODE_SUBSAMP_422};
    struct pipeline *p = pipeline_create(&es, 64);
    struct tight_decoder *d = tight_decoder_new();
    tight_decoder_set_size(d, w, h);
    struct tally t = {0};
    for (int i = 0; i < frames; i++) {
        bool resized;
        double t0 = cpu_ms(), w0 = wall_ms();
        int n = pipeline_feed(p, &f[i], &resized);
        struct update *u = NULL;
        if (n > 0) {
            u = pipeline_encode(p, pipeline_last_damage(p), ENCODE_LOSSY, NULL);
            if (!u)
                abort();
        }
        t.ms += cpu_ms() - t0;
        t.wall += wall_ms() - w0;
        if (u) {
            t.bytes += u->len + 4;
            if (i == 0)
                t.first = t.bytes;
            if (tight_decode_update(d, u, got, w * 4, NULL, NULL) != 0)
                abort();
            update_unref(u);
        }
        tally_picture(&t, &f[i], i, ref, got);
    }
    tight_decoder_free(d);
    pipeline_destroy(p);
    return tally_result("tight", &t, frames);
}

static struct result run_h264(enum h264_backend b, const char *name, const struct capture_frame *f,
                              int frames, unsigned kbps, unsigned qp, uint8_t *ref, uint8_t *got)
{
    unsigned w = f[0].width, h = f[0].height;
    struct h264_params hp = {.width = w, .height = h, .fps = 30, .bitrate_kbps = kbps, .quality_qp = qp,
                             .keyframe_interval = 0, .backend = b};
    char err[160];
    struct h264_encoder *e = h264_encoder_open(&hp, err, sizeof(err));
    if (!e)
        return (struct result){.name = name};
    struct h264_view view;
    h264_view_open(&view);
    uint8_t *i420 = malloc((size_t)w * h * 3 / 2);
    struct tally t = {0};
    for (int i = 0; i < frames; i++) {
        uint8_t *y = i420, *u = y + (size_t)w * h, *v = u + (size_t)w * h / 4;
        double t0 = cpu_ms(), w0 = wall_ms();
        yuyv_to_i420(&f[i], y, u, v);
        struct h264_picture pic = {.plane = {y, u, v}, .stride = {w, w / 2, w / 2}, .dmabuf_fd = -1};
        struct h264_output out;
        if (h264_encoder_encode(e, &pic, false, &out) < 0)
            abort();
        t.ms += cpu_ms() - t0;
        t.wall += wall_ms() - w0;
        h264_view_take(&view, &t, name, i, out.data, out.size, got, w, h);
        tally_picture(&t, &f[i], i, ref, got);
    }
    free(i420);
    h264_view_close(&view);
    h264_encoder_close(e);
    return tally_result(name, &t, frames);
}

/* The daemon's path (pipeline/video.c, inline): the pipeline finds the
 * changed tiles, the stream converts only those and gives x264 the
 * unchanged macroblocks (h264_picture.still_mbs), and a picture with few
 * changes is analysed at x264's FAST level. A frame with no change is not
 * encoded (the daemon sends nothing). Timed: pipeline_video_encode (the
 * copy, conversion and x264), not the damage search Tight shares. */
static struct result run_h264_damage(const struct capture_frame *f, int frames, unsigned kbps, uint8_t *ref,
                                     uint8_t *got)
{
    const char *name = "x264 damage";
    unsigned w = f[0].width, h = f[0].height;
    struct encode_settings es = {.quality = 80, .subsamp = ENCODE_SUBSAMP_422};
    struct pipeline *p = pipeline_create(&es, 64);
    struct h264_params hp = {.fps = 30, .bitrate_kbps = kbps, .backend = H264_BACKEND_X264};
    struct pipeline_video *v = pipeline_video_create(&hp, true, NULL, NULL);
    if (!p || !v)
        abort();
    struct h264_view view;
    h264_view_open(&view);
    struct tally t = {0};
    int64_t now = 1000000;
    for (int i = 0; i < frames; i++, now += 33) {
        bool resized;
        if (pipeline_feed(p, &f[i], &resized) > 0) {
            double t0 = cpu_ms(), w0 = wall_ms();
            uint64_t before = pipeline_video_last(v);
            if (pipeline_video_encode(v, p, now) < 0)
                abort();
            t.ms += cpu_ms() - t0;
            t.wall += wall_ms() - w0;
            /* A preview, if one went ahead (its bytes are on the wire too),
             * then the picture's frame: what the viewer shows last. */
            struct pipeline_video_frame vf;
            if (pipeline_video_last(v) == before)
                abort();
            for (uint64_t n = before + 1; n <= pipeline_video_last(v); n++) {
                if (!pipeline_video_frame(v, n, &vf) || vf.picture_seq != pipeline_seq(p))
                    abort();
                h264_view_take(&view, &t, name, i, vf.data, vf.len, got, w, h);
            }
            if (vf.preview)
                abort();
        }
        tally_picture(&t, &f[i], i, ref, got);
    }
    h264_view_close(&view);
    pipeline_video_destroy(v);
    pipeline_destroy(p);
    return tally_result(name, &t, frames);
}

static void print_row(const char *size, const char *scenario, const struct result *r, const struct result *tight)
{
    if (!r->ok) {
        printf("%-10s %-8s %-11s (not built in)\n", size, scenario, r->name);
        return;
    }
    printf("%-10s %-8s %-11s %9.0f %9.0f %8.2f %7.4f %7.2f %7.2f %8.3f %8.3f\n", size, scenario, r->name, r->kbps,
           r->steady_kbps, r->psnr, r->ssim, r->ms, r->wall, r->kbps / tight->kbps,
           r->steady_kbps / tight->steady_kbps);
    fflush(stdout);
}

int main(int argc, char **argv)
{
    if (getenv("BENCH_DEBUG"))
        log_set_level(LOG_LEVEL_DEBUG);
    int frames = 60;
    unsigned kbps = 4000;
    const char *only = NULL;
    bool curve = false;
    for (int i = 1, pos = 0; i < argc; i++) {
        if (strcmp(argv[i], "--curve") == 0)
            curve = true;
        else if (strcmp(argv[i], "--only") == 0 && i + 1 < argc)
            only = argv[++i];
        else if (pos++ == 0)
            frames = atoi(argv[i]);
        else
            kbps = (unsigned)atoi(argv[i]);
    }
    if (frames < 2) {
        fprintf(stderr, "usage: bench_h264 [frames>=2] [bitrate_kbps] [--only SCENARIO] [--curve]\n");
        return 64;
    }
    static const unsigned sizes[][2] = {{1920, 1080}, {1280, 720}};
    static const char *scenarios[] = {"motion", "pan", "desktop"};
    static const unsigned curve_qps[] = {14, 18, 20, 21, 23, 28, 33};
    printf("bench_h264: %d frames at 30 fps; H.264 at quality QP %d (CRF) under a %u kbit/s ceiling; "
           "Tight JPEG q80 4:2:2\n", frames, H264_QUALITY_QP_DEFAULT, kbps);
    printf("%-10s %-8s %-11s %9s %9s %8s %7s %7s %7s %8s %8s\n", "size", "scenario", "encoder", "kbit/s", "steady",
           "PSNR dB", "SSIM", "cpu ms", "wall ms", "x Tight", "steady x");
    for (size_t s = 0; s < 2; s++)
        for (size_t k = 0; k < sizeof(scenarios) / sizeof(scenarios[0]); k++) {
            unsigned w = sizes[s][0], h = sizes[s][1];
            if ((only && strcmp(only, scenarios[k]) != 0) || (curve && s > 0))
                continue;
            uint8_t *store = NULL;
            struct capture_frame *f = render_all(scenarios[k], w, h, frames, &store);
            uint8_t *ref = malloc((size_t)w * h * 4), *got = calloc((size_t)w * h, 4);
            char size[16];
            snprintf(size, sizeof(size), "%ux%u", w, h);
            struct result tight = run_tight(f, frames, ref, got);
            print_row(size, scenarios[k], &tight, &tight);
            if (curve) {
                for (size_t q = 0; q < sizeof(curve_qps) / sizeof(curve_qps[0]); q++) {
                    char name[16];
                    snprintf(name, sizeof(name), "x264 qp%u", curve_qps[q]);
                    struct result r = run_h264(H264_BACKEND_X264, name, f, frames, kbps, curve_qps[q], ref, got);
                    print_row(size, scenarios[k], &r, &tight);
                }
            } else {
                struct result r = run_h264(H264_BACKEND_X264, "x264", f, frames, kbps, 0, ref, got);
                print_row(size, scenarios[k], &r, &tight);
                r = run_h264_damage(f, frames, kbps, ref, got);
                print_row(size, scenarios[k], &r, &tight);
                r = run_h264(H264_BACKEND_OPENH264, "openh264", f, frames, kbps, 0, ref, got);
                print_row(size, scenarios[k], &r, &tight);
            }
            free(ref);
            free(got);
            free(store);
            free(f);
        }
    return 0;
}
