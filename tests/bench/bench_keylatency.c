/* bench_keylatency: keystroke to pixel against the simulated server
 * (tests/vm/simserver) behind piglix, as figures (not a test). Each key is
 * sent to piglix's VNC port; the time runs until the first picture in which
 * the server's state strip shows the echoed character (its text length and
 * last character). The picture comes either over the same VNC connection
 * (a viewer's path) or from an MJPEG stream that a command writes to its
 * standard output (curl on ustreamer's /stream or piglix's
 * /api/stream.mjpg), decoded frame by frame; a stream the server ends is
 * opened again, and the key it interrupted is not counted.
 * With --h264 the client also announces Open H.264 (encoding 50), decodes
 * it with libavcodec and draws the whole picture with libswscale, as
 * TigerVNC's H.264 decoder does (noVNC 1.6+ hands WebCodecs' frames to the
 * canvas, which converts on the GPU). Before, a per-pixel conversion in C
 * took 7-11 ms a 1080p frame: the client's cost, measured as piglix's.
 * Run by tests/vm/bench_latency.py, which boots the VM.
 *
 *   bench_keylatency --port P --password-file F --strip Y,CELL,PER_ROW,ROWS
 *                    [--host H] [--keys N] [--mjpeg-cmd 'curl -sN URL'] [--label NAME] [--h264]
 *                    [--verbose]
 * Prints one line per key with --verbose, then a JSON summary line. */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <turbojpeg.h>
#include <unistd.h>

#include <rfb/rfbproto.h> /* rfbDecryptPasswdFromFile */

#include "common/clock.h"
#include "tests/support/rfbclient.h"

#ifdef BENCH_WITH_AVCODEC
#include <libavcodec/avcodec.h>
#include <libswscale/swscale.h>
#endif

#define TIMEOUT_MS 15000
#define FIELD_MAX 40 /* characters before the field is cleared (Esc, not timed) */

struct strip_geom {
    unsigned y, cell, per_row, rows;
};

struct opts {
    const char *host, *port, *password_file, *mjpeg_cmd, *label;
    struct strip_geom strip;
    int keys;
    bool verbose, h264;
};

struct mjpeg {
    int fd;          /* the command's standard output */
    pid_t pid;
    uint8_t *buf;
    size_t len, cap;
    tjhandle tj;
    uint8_t *rgb;
    size_t rgb_cap;
};

/* Text length and last character from the state strip, or false. */
static bool read_strip(const struct strip_geom *g, const uint8_t *px, unsigned w, unsigned h, unsigned bpp,
                       unsigned stride, unsigned *len, unsigned *last)
{
    if (w < g->per_row * g->cell || h < g->y + g->rows * g->cell)
        return false;
    uint8_t b[12] = {0};
    for (unsigned i = 0; i < sizeof(b) * 8; i++) {
        unsigned x = (i % g->per_row) * g->cell + g->cell / 2, y = g->y + (i / g->per_row) * g->cell + g->cell / 2;
        const uint8_t *p = px + (size_t)y * stride + (size_t)x * bpp;
        if (p[0] + p[1] + p[2] > 3 * 128)
            b[i / 8] |= (uint8_t)(0x80 >> (i % 8));
    }
    if (b[0] != 0xa5 || b[1] != 0x5a)
        return false;
    *len = (unsigned)b[8] << 8 | b[9];
    *last = (unsigned)b[10] << 8 | b[11];
    return true;
}

/* ---- video over VNC ----------------------------------------------------------- */

static int vnc_wait(struct rfbc_client *c, const struct strip_geom *g, unsigned want_len, int want_last)
{
    int64_t deadline = clock_mono_ms() + TIMEOUT_MS;
    for (;;) {
        int r = rfbc_wait_update(c, (int)(deadline - clock_mono_ms()));
        if (r)
            return r;
        /* a viewer asks for the next update as soon as one arrives */
        if ((r = rfbc_request_full_update(c, true, 1000)))
            return r;
        unsigned w, h, stride, len, last;
        const uint8_t *fb = rfbc_framebuffer(c, &w, &h, &stride);
        if (read_strip(g, fb, w, h, 4, stride, &len, &last) && len == want_len &&
            (want_last < 0 || last == (unsigned)want_last))
            return 0;
        if (clock_mono_ms() > deadline)
            return RFBC_ERR_TIMEOUT;
    }
}

/* ---- video from an MJPEG stream ------------------------------------------------ */

/* The next complete JPEG in the stream, decoded; 1 with a picture, 0 on
 * timeout, -1 at the end of the stream. */
static int mjpeg_next(struct mjpeg *m, unsigned *w, unsigned *h, int timeout_ms)
{
    int64_t deadline = clock_mono_ms() + timeout_ms;
    for (;;) {
        uint8_t *soi = NULL, *eoi = NULL;
        for (size_t i = 0; i + 1 < m->len; i++) {
            if (!soi && m->buf[i] == 0xff && m->buf[i + 1] == 0xd8)
                soi = m->buf + i;
            else if (soi && m->buf[i] == 0xff && m->buf[i + 1] == 0xd9) {
                eoi = m->buf + i + 2;
                break;
            }
        }
        if (soi && eoi) {
            int sub, cs, jw, jh;
            unsigned long n = (unsigned long)(eoi - soi);
            int ok = tjDecompressHeader3(m->tj, soi, n, &jw, &jh, &sub, &cs) == 0;
            if (ok && (size_t)jw * jh * 3 > m->rgb_cap) {
                m->rgb_cap = (size_t)jw * jh * 3;
                m->rgb = realloc(m->rgb, m->rgb_cap);
            }
            ok = ok && m->rgb && tjDecompress2(m->tj, soi, n, m->rgb, jw, 0, jh, TJPF_RGB, 0) == 0;
            memmove(m->buf, eoi, m->len - (size_t)(eoi - m->buf));
            m->len -= (size_t)(eoi - m->buf);
            if (ok) {
                *w = (unsigned)jw;
                *h = (unsigned)jh;
                return 1;
            }
            continue;
        }
        if (soi && soi != m->buf) { /* keep from the picture's start */
            m->len -= (size_t)(soi - m->buf);
            memmove(m->buf, soi, m->len);
        }
        int left = (int)(deadline - clock_mono_ms());
        struct pollfd pfd = {.fd = m->fd, .events = POLLIN};
        if (left <= 0 || poll(&pfd, 1, left) == 0)
            return 0;
        if (m->cap - m->len < 65536) {
            m->cap = m->cap * 2 + 65536;
            m->buf = realloc(m->buf, m->cap);
        }
        ssize_t r = read(m->fd, m->buf + m->len, m->cap - m->len);
        if (r <= 0 && !(r < 0 && errno == EINTR))
            return -1;
        if (r > 0)
            m->len += (size_t)r;
    }
}

static int mjpeg_wait(struct mjpeg *m, const struct strip_geom *g, unsigned want_len, int want_last)
{
    int64_t deadline = clock_mono_ms() + TIMEOUT_MS;
    for (;;) {
        unsigned w, h, len, last;
        int r = mjpeg_next(m, &w, &h, (int)(deadline - clock_mono_ms()));
        if (r <= 0)
            return r < 0 ? RFBC_ERR_CLOSED : RFBC_ERR_TIMEOUT;
        if (read_strip(g, m->rgb, w, h, 3, w * 3, &len, &last) && len == want_len &&
            (want_last < 0 || last == (unsigned)want_last))
            return 0;
    }
}

/* Runs cmd with sh, its standard output into m->fd. */
static int mjpeg_start(struct mjpeg *m, const char *cmd)
{
    int p[2];
    if (pipe(p) < 0 || !(m->tj = tjInitDecompress()))
        return -1;
    m->pid = fork();
    if (m->pid == 0) {
        dup2(p[1], STDOUT_FILENO);
        close(p[0]);
        close(p[1]);
        execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
        _exit(127);
    }
    close(p[1]);
    m->fd = p[0];
    return m->pid < 0 ? -1 : 0;
}

static void mjpeg_stop(struct mjpeg *m)
{
    if (m->pid > 0) {
        kill(m->pid, SIGTERM);
        waitpid(m->pid, NULL, 0);
    }
    if (m->fd >= 0)
        close(m->fd);
    if (m->tj)
        tjDestroy(m->tj);
    free(m->buf);
    free(m->rgb);
    *m = (struct mjpeg){.fd = -1};
}

/* A stream that the server ended: connect again, as a viewer would. */
static int mjpeg_restart(struct mjpeg *m, const char *cmd, unsigned *restarts)
{
    mjpeg_stop(m);
    (*restarts)++;
    return mjpeg_start(m, cmd) < 0 ? RFBC_ERR_IO : 0;
}

/* ---- Open H.264 (encoding 50) ------------------------------------------------ */

#ifdef BENCH_WITH_AVCODEC
/* One decoder context: the bench's server sends one full-screen rect. */
struct h264_view {
    AVCodecContext *dc;
    AVPacket *pkt;
    AVFrame *fr, *last; /* receiving, the last picture received */
    struct SwsContext *sws;
    unsigned x, y, w, h;
};

static void h264_view_close(struct h264_view *v)
{
    avcodec_free_context(&v->dc);
    av_packet_free(&v->pkt);
    av_frame_free(&v->fr);
    av_frame_free(&v->last);
    sws_freeContext(v->sws);
    v->sws = NULL;
}

/* One access unit decoded; *got when it gave a picture (in v->last: a
 * receive that finds nothing empties its frame). */
static int h264_view_packet(struct h264_view *v, const uint8_t *data, size_t len, bool *got)
{
    v->pkt->data = (uint8_t *)data;
    v->pkt->size = (int)len;
    if (avcodec_send_packet(v->dc, v->pkt) < 0)
        return -1;
    while (avcodec_receive_frame(v->dc, v->fr) == 0) {
        av_frame_unref(v->last);
        av_frame_move_ref(v->last, v->fr);
        *got = true;
    }
    return 0;
}

/* The last decoded picture drawn (noVNC also draws a rect's last frame). */
static int h264_view_draw(struct h264_view *v, uint8_t *fb, unsigned stride)
{
    const AVFrame *fr = v->last;
    int fw = fr->width < (int)v->w ? fr->width : (int)v->w;
    int fh = fr->height < (int)v->h ? fr->height : (int)v->h;
    v->sws = sws_getCachedContext(v->sws, fw, fh, fr->format, fw, fh, AV_PIX_FMT_RGB0, SWS_POINT, NULL,
                                  NULL, NULL);
    if (!v->sws)
        return -1;
    /* BT.601 (the stream's VUI); its range as the stream says. */
    const int *coef = sws_getCoefficients(SWS_CS_ITU601);
    sws_setColorspaceDetails(v->sws, coef, fr->color_range == AVCOL_RANGE_JPEG, coef, 1, 0, 1 << 16, 1 << 16);
    uint8_t *dst[4] = {fb + (size_t)v->y * stride + (size_t)v->x * 4};
    int dst_stride[4] = {(int)stride};
    sws_scale(v->sws, (const uint8_t *const *)fr->data, fr->linesize, 0, fh, dst, dst_stride);
    return 0;
}

static int h264_view_decode(void *ctx, unsigned x, unsigned y, unsigned w, unsigned h, uint32_t flags,
                            const uint8_t *data, size_t len, uint8_t *fb, unsigned stride)
{
    struct h264_view *v = ctx;
    /* A reset, or a rect other than the context's, starts a new context. */
    if (!v->dc || (flags & 3) || x != v->x || y != v->y || w != v->w || h != v->h) {
        h264_view_close(v);
        const AVCodec *codec = avcodec_find_decoder(AV_CODEC_ID_H264);
        v->dc = codec ? avcodec_alloc_context3(codec) : NULL;
        v->pkt = av_packet_alloc();
        v->fr = av_frame_alloc();
        v->last = av_frame_alloc();
        if (!v->dc || !v->pkt || !v->fr || !v->last || avcodec_open2(v->dc, codec, NULL) < 0)
            return -1;
        v->x = x, v->y = y, v->w = w, v->h = h;
    }
    if (len == 0)
        return 0;
    /* One access unit a packet, as noVNC hands WebCodecs one chunk a slice
     * (each of piglix's pictures is one slice): libavcodec takes a packet
     * for one picture, and a rect may hold several (a preview and its
     * frame, or a viewer catching up). Parameter sets go with the slice
     * after them. */
    size_t start = 0;
    bool got = false;
    for (size_t i = 0; i + 3 < len; i++) {
        if (!(data[i] == 0 && data[i + 1] == 0 && data[i + 2] == 1))
            continue;
        unsigned type = data[i + 3] & 31;
        if (type != 1 && type != 5)
            continue;
        size_t end = i + 4;
        while (end + 3 <= len && !(data[end] == 0 && data[end + 1] == 0 && data[end + 2] <= 1))
            end++;
        if (end + 3 > len)
            end = len;
        if (h264_view_packet(v, data + start, end - start, &got) < 0)
            return -1;
        start = end;
        i = end - 1;
    }
    if (start < len && h264_view_packet(v, data + start, len - start, &got) < 0)
        return -1;
    return got ? h264_view_draw(v, fb, stride) : 0;
}
#endif

/* ---- the loop -------------------------------------------------------------------- */

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static int tap(struct rfbc_client *c, uint32_t keysym)
{
    int r = rfbc_send_key(c, true, keysym, 1000);
    return r ? r : rfbc_send_key(c, false, keysym, 1000);
}

/* Waits for the state; a stream the server ended is reopened, and the
 * wait counts as interrupted (1: no sample). */
static int wait_state(const struct opts *o, struct rfbc_client *c, struct mjpeg *m, unsigned len, int last,
                      unsigned *restarts)
{
    if (!m)
        return vnc_wait(c, &o->strip, len, last);
    int r = mjpeg_wait(m, &o->strip, len, last);
    if (r != RFBC_ERR_CLOSED || *restarts >= 50)
        return r;
    if ((r = mjpeg_restart(m, o->mjpeg_cmd, restarts)) || (r = mjpeg_wait(m, &o->strip, len, last)))
        return r;
    return 1;
}

static int run(const struct opts *o, struct rfbc_client *c, struct mjpeg *m, double *samples, unsigned *restarts)
{
    static const char letters[] = "abcdefghijklmnopqrstuvwx"; /* the same keys on us and de layouts */
    int r = m ? 0 : rfbc_request_full_update(c, false, 1000);
    if (r || (r = tap(c, 0xff1b)) || (r = wait_state(o, c, m, 0, -1, restarts)) < 0) /* Esc: an empty field */
        return r;
    /* Three keys untimed, for every viewer: a viewer that has just joined
     * an H.264 stream gets tiles until the next IDR, which the first change
     * after it asked brings (a 1080p IDR: ~10 ms more to encode, ~46 KB),
     * and libavcodec takes 15-16 ms in avcodec_send_packet for each of the
     * first P-frames after it at 1080p (1-3 ms from the fourth frame on,
     * measured per call). The cost of joining, not of typing: with a round
     * of 25 keys per connection it was the slowest 12 % of the H.264
     * samples. */
    static const char warm[] = "abc";
    for (unsigned i = 0; i < sizeof(warm) - 1; i++)
        if ((r = tap(c, (uint32_t)warm[i])) || (r = wait_state(o, c, m, i + 1, warm[i], restarts)) < 0)
            return r;
    if ((r = tap(c, 0xff1b)) || (r = wait_state(o, c, m, 0, -1, restarts)) < 0)
        return r;
    unsigned len = 0;
    for (int i = 0, k = 0; i < o->keys; k++) {
        if (len >= FIELD_MAX) {
            if ((r = tap(c, 0xff1b)) || (r = wait_state(o, c, m, 0, -1, restarts)) < 0)
                return r;
            len = 0;
        }
        char ch = letters[k % (int)(sizeof(letters) - 1)];
        len++;
        int64_t t0 = clock_mono_ns();
        if ((r = tap(c, (uint32_t)ch)) || (r = wait_state(o, c, m, len, ch, restarts)) < 0) {
            fprintf(stderr, "bench_keylatency: key %d ('%c'): %s\n", k, ch, r == RFBC_ERR_TIMEOUT ?
                    "its echo never showed" : rfbc_error(c));
            return r;
        }
        if (r == 0) {
            samples[i] = (double)(clock_mono_ns() - t0) / 1e6;
            if (o->verbose)
                printf("key %d '%c' %.1f ms\n", k, ch, samples[i]);
            i++;
        }
        usleep((useconds_t)(rand() % 40) * 1000); /* not in step with the frame clock */
    }
    return 0;
}

static bool parse(int argc, char **argv, struct opts *o)
{
    *o = (struct opts){.host = "127.0.0.1", .port = "5900", .keys = 100, .label = "vnc"};
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "--verbose") == 0) {
            o->verbose = true;
            continue;
        }
        if (strcmp(a, "--h264") == 0) {
            o->h264 = true;
            continue;
        }
        if (!v)
            return false;
        i++;
        if (strcmp(a, "--host") == 0)
            o->host = v;
        else if (strcmp(a, "--port") == 0)
            o->port = v;
        else if (strcmp(a, "--password-file") == 0)
            o->password_file = v;
        else if (strcmp(a, "--mjpeg-cmd") == 0)
            o->mjpeg_cmd = v;
        else if (strcmp(a, "--label") == 0)
            o->label = v;
        else if (strcmp(a, "--keys") == 0 && (o->keys = atoi(v)) > 0)
            continue;
        else if (strcmp(a, "--strip") == 0 &&
                 sscanf(v, "%u,%u,%u,%u", &o->strip.y, &o->strip.cell, &o->strip.per_row, &o->strip.rows) == 4)
            continue;
        else
            return false;
    }
    return o->password_file && o->strip.cell && o->strip.per_row * o->strip.rows >= 96;
}

int main(int argc, char **argv)
{
    struct opts o;
    if (!parse(argc, argv, &o)) {
        fprintf(stderr, "usage: bench_keylatency --port P --password-file F --strip Y,CELL,PER_ROW,ROWS "
                        "[--host H] [--keys N] [--mjpeg-cmd CMD] [--label NAME] [--h264] [--verbose]\n");
        return 64;
    }
#ifndef BENCH_WITH_AVCODEC
    if (o.h264) {
        fprintf(stderr, "bench_keylatency: built without libavcodec, no --h264\n");
        return 64;
    }
#endif
    signal(SIGPIPE, SIG_IGN);
    char *pw = rfbDecryptPasswdFromFile((char *)o.password_file);
    struct rfbc_client *c = rfbc_new();
    /* H.264 first: a server takes the first encoding it supports. */
    static const int32_t enc[] = {RFBC_ENC_H264, RFBC_ENC_TIGHT, RFBC_ENC_JPEG_QUALITY_0 + 6,
                                  RFBC_ENC_LAST_RECT, RFBC_ENC_DESKTOP_SIZE, RFBC_ENC_EXT_DESKTOP_SIZE};
    size_t first = o.h264 ? 0 : 1;
#ifdef BENCH_WITH_AVCODEC
    struct h264_view view = {0};
    if (c && o.h264)
        rfbc_set_h264_handler(c, h264_view_decode, &view);
#endif
    int r = !pw || !c ? RFBC_ERR_IO : rfbc_connect(c, o.host, o.port, 10000, 0);
    if (!r)
        r = rfbc_handshake(c, pw, true, 10000);
    if (!r)
        r = rfbc_set_encodings(c, enc + first, sizeof(enc) / sizeof(enc[0]) - first, 1000);
    free(pw);
    struct mjpeg m = {.fd = -1};
    if (!r && o.mjpeg_cmd && mjpeg_start(&m, o.mjpeg_cmd) < 0) {
        perror("bench_keylatency: the MJPEG command");
        r = RFBC_ERR_IO;
    }
    double *samples = calloc((size_t)o.keys, sizeof(double));
    unsigned restarts = 0;
    if (!r)
        r = run(&o, c, o.mjpeg_cmd ? &m : NULL, samples, &restarts);
    if (r)
        fprintf(stderr, "bench_keylatency: %s\n", rfbc_error(c));
    mjpeg_stop(&m);
    const struct rfbc_stats *st = c ? rfbc_stats(c) : NULL;
    uint64_t h264_rects = st ? st->rects_by_kind[RFBC_RECT_H264] : 0;
    uint64_t tight_rects = 0;
    for (int k = RFBC_RECT_TIGHT_FILL; st && k <= RFBC_RECT_TIGHT_JPEG; k++)
        tight_rects += st->rects_by_kind[k];
    rfbc_free(c);
#ifdef BENCH_WITH_AVCODEC
    h264_view_close(&view);
#endif
    if (!r) {
        qsort(samples, (size_t)o.keys, sizeof(double), cmp_double);
        double sum = 0;
        for (int i = 0; i < o.keys; i++)
            sum += samples[i];
        int p95 = (o.keys * 95 + 99) / 100 - 1;
        printf("{\"path\": \"%s\", \"keys\": %d, \"p50_ms\": %.1f, \"p95_ms\": %.1f, \"mean_ms\": %.1f, "
               "\"min_ms\": %.1f, \"max_ms\": %.1f, \"stream_reconnects\": %u, \"h264_rects\": %llu, "
               "\"tight_rects\": %llu}\n", o.label, o.keys, samples[o.keys / 2], samples[p95], sum / o.keys,
               samples[0], samples[o.keys - 1], restarts, (unsigned long long)h264_rects,
               (unsigned long long)tight_rects);
    }
    free(samples);
    return r ? 1 : 0;
}
