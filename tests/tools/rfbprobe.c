/* rfbprobe: an RFB (VNC) test client for piglix's end-to-end tests. Each
 * command connects, does one thing, prints what it saw (text, or JSON with
 * --json) and exits with a status a test script can assert on:
 *   0 success, 1 error (network, protocol, decoding, files),
 *   2 the check did not hold (malformed: server still open; wait-size: size
 *     not reached in time; compare: below --psnr-min or above --max-err),
 *   3 authentication failed or was refused, 64 bad usage.
 * Run `rfbprobe --help` for the commands. All protocol work is in
 * tests/support/rfbclient; this file is the command line and PPM files. */
#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <rfb/rfbproto.h> /* rfbDecryptPasswdFromFile */

#include "tests/support/rfbclient.h"

enum { EXIT_ERR = 1, EXIT_CHECK = 2, EXIT_AUTH = 3, EXIT_USAGE = 64 };

#define PROBE_MAX_POSITIONAL 64
#define PROBE_MAX_ENCODINGS 32

struct probe_opts {
    const char *host, *port, *password_file, *out, *region;
    bool password_stdin, shared, json, verbose, keep_requesting;
    double timeout_s, psnr_min, wait_s;
    long max_err, delay_ms;
    int quality, compress, rcvbuf;
    int32_t encodings[PROBE_MAX_ENCODINGS];
    size_t nencodings;
    const char *pos[PROBE_MAX_POSITIONAL];
    int npos;
};

static void usage(FILE *f)
{
    fputs(
        "usage: rfbprobe [OPTIONS] COMMAND [ARGS] [COMMAND OPTIONS]\n"
        "options:\n"
        "  --host H (127.0.0.1)  --port P (5900)  --timeout SECONDS (10, per wait)\n"
        "  --password-file F (vncpasswd -f format) | --password-stdin\n"
        "  --encodings LIST  comma list of tight,jpeg,compress,raw,desktopsize,extdesktopsize,\n"
        "                    lastrect,qemukey,richcursor,xcursor,pointerpos,leds or numbers\n"
        "                    (default tight,raw,jpeg,compress,desktopsize,extdesktopsize,lastrect,qemukey)\n"
        "  --quality 0-9 (6, for jpeg)  --compress 0-9 (2, for compress)\n"
        "  --shared (default) | --exclusive   --json   --rcvbuf BYTES   --verbose (trace rects)\n"
        "commands:\n"
        "  snapshot OUT.ppm\n"
        "  watch SECONDS [--json] [--out F.ppm]\n"
        "  wait-size WxH SECONDS [--json] [--out F.ppm]\n"
        "  stall SECONDS [--keep-requesting] [--rcvbuf BYTES (4096)]\n"
        "  malformed unknown-type|bad-setencodings-count|truncated|garbage|cuttext-huge-length [--wait SECONDS (30)]\n"
        "  auth-only\n"
        "  keys KEYSYM... (hex; K = down+up, +K = down, -K = up, K@XT = QEMU extended key) [--delay MS]\n"
        "  pointer X Y BUTTONS\n"
        "  wait-leds LEDS SECONDS (QEMU LED state, bit 0 Scroll, 1 Num, 2 Caps; asks for leds) [--json]\n"
        "  compare A.ppm B.ppm [--psnr-min DB] [--max-err N] [--region x,y,w,h] [--json]\n",
        f);
}

static bool parse_long(const char *s, long lo, long hi, long *out)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 0);
    if (errno || end == s || *end || v < lo || v > hi)
        return false;
    *out = v;
    return true;
}

/* Hex with or without 0x, as keysyms and scancodes are written. */
static bool parse_hex(const char *s, long hi, long *out)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 16);
    if (errno || end == s || *end || *s == '-' || *s == '+' || v < 0 || v > hi)
        return false;
    *out = v;
    return true;
}

static bool parse_double(const char *s, double lo, double hi, double *out)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || end == s || *end || !(v >= lo && v <= hi))
        return false;
    *out = v;
    return true;
}

static bool add_encoding(struct probe_opts *o, const char *name)
{
    static const struct { const char *name; int32_t value; } table[] = {
        {"raw", RFBC_ENC_RAW}, {"tight", RFBC_ENC_TIGHT}, {"desktopsize", RFBC_ENC_DESKTOP_SIZE},
        {"extdesktopsize", RFBC_ENC_EXT_DESKTOP_SIZE}, {"lastrect", RFBC_ENC_LAST_RECT},
        {"qemukey", RFBC_ENC_QEMU_EXT_KEY}, {"richcursor", RFBC_ENC_RICH_CURSOR},
        {"xcursor", RFBC_ENC_X_CURSOR}, {"pointerpos", RFBC_ENC_POINTER_POS},
        {"leds", RFBC_ENC_QEMU_LED_STATE},
    };
    if (o->nencodings >= PROBE_MAX_ENCODINGS)
        return false;
    int32_t v;
    long num;
    if (strcmp(name, "jpeg") == 0) {
        v = RFBC_ENC_JPEG_QUALITY_0 + o->quality;
    } else if (strcmp(name, "compress") == 0) {
        v = RFBC_ENC_COMPRESS_LEVEL_0 + o->compress;
    } else if (parse_long(name, INT32_MIN, INT32_MAX, &num)) {
        v = (int32_t)num;
    } else {
        size_t i = 0;
        while (i < sizeof table / sizeof table[0] && strcmp(table[i].name, name) != 0)
            i++;
        if (i == sizeof table / sizeof table[0])
            return false;
        v = table[i].value;
    }
    o->encodings[o->nencodings++] = v;
    return true;
}

static bool build_encodings(struct probe_opts *o, const char *list)
{
    char buf[512];
    snprintf(buf, sizeof buf, "%s", list);
    o->nencodings = 0;
    for (char *save = NULL, *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save))
        if (!add_encoding(o, tok)) {
            fprintf(stderr, "rfbprobe: unknown encoding '%s' (or too many)\n", tok);
            return false;
        }
    return o->nencodings > 0;
}

/* Options may come anywhere; everything else is a positional argument. */
static bool parse_args(int argc, char **argv, struct probe_opts *o)
{
    const char *encodings = "tight,raw,jpeg,compress,desktopsize,extdesktopsize,lastrect,qemukey";
    *o = (struct probe_opts){.host = "127.0.0.1", .port = "5900", .shared = true, .timeout_s = 10,
                             .psnr_min = -1, .wait_s = 30, .max_err = -1, .quality = 6, .compress = 2,
                             .rcvbuf = -1};
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *val = i + 1 < argc ? argv[i + 1] : NULL;
        long l = 0;
        bool ok = true, takes_value = true;
        if (strncmp(a, "--", 2) != 0 || strcmp(a, "--") == 0) {
            if (o->npos >= PROBE_MAX_POSITIONAL)
                return false;
            o->pos[o->npos++] = a;
            continue;
        }
        if (strcmp(a, "--help") == 0) {
            usage(stdout);
            exit(0);
        }
        if (strcmp(a, "--password-stdin") == 0) o->password_stdin = true, takes_value = false;
        else if (strcmp(a, "--shared") == 0) o->shared = true, takes_value = false;
        else if (strcmp(a, "--exclusive") == 0) o->shared = false, takes_value = false;
        else if (strcmp(a, "--json") == 0) o->json = true, takes_value = false;
        else if (strcmp(a, "--verbose") == 0) o->verbose = true, takes_value = false;
        else if (strcmp(a, "--keep-requesting") == 0) o->keep_requesting = true, takes_value = false;
        else if (!val) ok = false;
        else if (strcmp(a, "--host") == 0) o->host = val;
        else if (strcmp(a, "--port") == 0) o->port = val;
        else if (strcmp(a, "--password-file") == 0) o->password_file = val;
        else if (strcmp(a, "--out") == 0) o->out = val;
        else if (strcmp(a, "--region") == 0) o->region = val;
        else if (strcmp(a, "--encodings") == 0) encodings = val;
        else if (strcmp(a, "--timeout") == 0) ok = parse_double(val, 0.001, 86400, &o->timeout_s);
        else if (strcmp(a, "--wait") == 0) ok = parse_double(val, 0, 86400, &o->wait_s);
        else if (strcmp(a, "--psnr-min") == 0) ok = parse_double(val, 0, 1000, &o->psnr_min);
        else if (strcmp(a, "--max-err") == 0) ok = parse_long(val, 0, 255, &o->max_err);
        else if (strcmp(a, "--delay") == 0) ok = parse_long(val, 0, 600000, &o->delay_ms);
        else if (strcmp(a, "--quality") == 0) ok = parse_long(val, 0, 9, &l), o->quality = (int)l;
        else if (strcmp(a, "--compress") == 0) ok = parse_long(val, 0, 9, &l), o->compress = (int)l;
        else if (strcmp(a, "--rcvbuf") == 0) ok = parse_long(val, 0, 1 << 30, &l), o->rcvbuf = (int)l;
        else {
            fprintf(stderr, "rfbprobe: unknown option %s\n", a);
            return false;
        }
        if (!ok) {
            fprintf(stderr, "rfbprobe: option %s needs a valid value\n", a);
            return false;
        }
        i += takes_value;
    }
    if (o->password_file && o->password_stdin) {
        fprintf(stderr, "rfbprobe: --password-file and --password-stdin exclude each other\n");
        return false;
    }
    return build_encodings(o, encodings);
}

static int timeout_ms(const struct probe_opts *o) { return (int)(o->timeout_s * 1000); }

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

/* ---- PPM files ---- */

static int ppm_write(const char *path, const uint8_t *rgbx, unsigned w, unsigned h, unsigned stride)
{
    FILE *f = fopen(path, "wb");
    if (!f) {
        fprintf(stderr, "rfbprobe: cannot write %s: %s\n", path, strerror(errno));
        return -1;
    }
    fprintf(f, "P6\n%u %u\n255\n", w, h);
    uint8_t *row = malloc((size_t)w * 3 + 1);
    for (unsigned y = 0; row && y < h; y++) {
        const uint8_t *src = rgbx + (size_t)y * stride;
        for (unsigned x = 0; x < w; x++)
            memcpy(row + 3 * x, src + 4 * x, 3);
        fwrite(row, 3, w, f);
    }
    bool failed = !row || ferror(f);
    free(row);
    if (fclose(f) != 0 || failed) {
        fprintf(stderr, "rfbprobe: failed writing %s\n", path);
        return -1;
    }
    return 0;
}

static int ppm_header_number(FILE *f, unsigned *out)
{
    int ch = fgetc(f);
    for (;;) { /* whitespace and # comments between header fields */
        if (ch == '#')
            while (ch != '\n' && ch != EOF)
                ch = fgetc(f);
        else if (ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r')
            ch = fgetc(f);
        else
            break;
    }
    unsigned v = 0;
    int digits = 0;
    while (ch >= '0' && ch <= '9' && digits < 9) {
        v = v * 10 + (unsigned)(ch - '0');
        digits++;
        ch = fgetc(f);
    }
    *out = v;
    return digits > 0 && (ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r') ? 0 : -1;
}

/* Reads a binary P6 with maxval 255 into RGB bytes. */
static uint8_t *ppm_read(const char *path, unsigned *w, unsigned *h)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "rfbprobe: cannot read %s: %s\n", path, strerror(errno));
        return NULL;
    }
    unsigned maxval = 0;
    uint8_t *rgb = NULL;
    if (fgetc(f) != 'P' || fgetc(f) != '6' || ppm_header_number(f, w) || ppm_header_number(f, h) ||
        ppm_header_number(f, &maxval) || maxval != 255 || *w == 0 || *h == 0 ||
        (uint64_t)*w * *h > ((uint64_t)1 << 28)) {
        fprintf(stderr, "rfbprobe: %s is not a binary PPM (P6, maxval 255) of sane size\n", path);
    } else if (!(rgb = malloc((size_t)*w * *h * 3))) {
        fprintf(stderr, "rfbprobe: out of memory reading %s\n", path);
    } else if (fread(rgb, 3, (size_t)*w * *h, f) != (size_t)*w * *h) {
        fprintf(stderr, "rfbprobe: %s is truncated\n", path);
        free(rgb);
        rgb = NULL;
    }
    fclose(f);
    return rgb;
}

static int cmd_compare(const struct probe_opts *o)
{
    if (o->npos != 3) {
        usage(stderr);
        return EXIT_USAGE;
    }
    unsigned aw, ah, bw, bh;
    uint8_t *a = ppm_read(o->pos[1], &aw, &ah);
    uint8_t *b = a ? ppm_read(o->pos[2], &bw, &bh) : NULL;
    if (!a || !b) {
        free(a);
        return EXIT_ERR;
    }
    unsigned rx = 0, ry = 0, rw = aw, rh = ah;
    int status = 0;
    if (o->region && sscanf(o->region, "%u,%u,%u,%u", &rx, &ry, &rw, &rh) != 4) {
        fprintf(stderr, "rfbprobe: --region wants x,y,w,h\n");
        status = EXIT_USAGE;
    } else if (!o->region && (aw != bw || ah != bh)) {
        fprintf(stderr, "rfbprobe: sizes differ: %ux%u vs %ux%u\n", aw, ah, bw, bh);
        status = EXIT_CHECK;
    } else if (rw == 0 || rh == 0 || (uint64_t)rx + rw > aw || (uint64_t)ry + rh > ah ||
               (uint64_t)rx + rw > bw || (uint64_t)ry + rh > bh) {
        fprintf(stderr, "rfbprobe: region %u,%u,%u,%u is empty or outside an image\n", rx, ry, rw, rh);
        status = EXIT_USAGE;
    }
    if (status) {
        free(a);
        free(b);
        return status;
    }
    double sum_sq = 0;
    unsigned max_err = 0;
    for (unsigned y = ry; y < ry + rh; y++) {
        const uint8_t *pa = a + ((size_t)y * aw + rx) * 3, *pb = b + ((size_t)y * bw + rx) * 3;
        for (unsigned i = 0; i < rw * 3; i++) {
            int d = pa[i] - pb[i];
            unsigned ad = (unsigned)(d < 0 ? -d : d);
            sum_sq += (double)d * d;
            max_err = ad > max_err ? ad : max_err;
        }
    }
    free(a);
    free(b);
    double mse = sum_sq / ((double)rw * rh * 3);
    bool identical = mse == 0;
    double psnr = identical ? 100.0 : fmin(100.0, 10.0 * log10(255.0 * 255.0 / mse));
    bool pass = (o->psnr_min < 0 || psnr >= o->psnr_min) && (o->max_err < 0 || (long)max_err <= o->max_err);
    if (o->json)
        printf("{\"command\": \"compare\", \"psnr_db\": %.3f, \"identical\": %s, \"mse\": %.6f, \"max_err\": %u, \"pixels\": %llu, "
               "\"pass\": %s}\n",
               psnr, identical ? "true" : "false", mse, max_err, (unsigned long long)rw * rh,
               pass ? "true" : "false");
    else
        printf("psnr=%s%.3f max_err=%u mse=%.6f pixels=%llu %s\n", identical ? "inf (identical), capped " : "",
               psnr, max_err, mse, (unsigned long long)rw * rh, pass ? "PASS" : "FAIL");
    return pass ? 0 : EXIT_CHECK;
}

/* ---- connecting ---- */

static int exit_for(int status) { return status == RFBC_ERR_AUTH ? EXIT_AUTH : EXIT_ERR; }

static void json_string(const char *s)
{
    putchar('"');
    for (; *s; s++) {
        unsigned char ch = (unsigned char)*s;
        if (ch == '"' || ch == '\\')
            printf("\\%c", ch);
        else if (ch < 0x20 || ch >= 0x7f)
            printf("\\u%04x", ch);
        else
            putchar(ch);
    }
    putchar('"');
}

/* Says why a command failed: on stderr, and with --json also on stdout. */
static int report(const struct probe_opts *o, struct rfbc_client *c, int status, const char *doing)
{
    fprintf(stderr, "rfbprobe: %s: %s\n", doing, rfbc_error(c));
    if (o->json) {
        printf("{\"command\": ");
        json_string(o->pos[0]);
        printf(", \"ok\": false, \"exit\": %d, \"auth_failed\": %s, \"error\": ", exit_for(status),
               status == RFBC_ERR_AUTH ? "true" : "false");
        char msg[600];
        snprintf(msg, sizeof msg, "%s: %s", doing, rfbc_error(c));
        json_string(msg);
        printf("}\n");
    }
    return exit_for(status);
}

static char *read_password(const struct probe_opts *o)
{
    if (o->password_file) {
        char *pw = rfbDecryptPasswdFromFile((char *)o->password_file);
        if (!pw)
            fprintf(stderr, "rfbprobe: cannot read VNC password file %s (needs 8 bytes)\n", o->password_file);
        return pw;
    }
    char line[256];
    if (!fgets(line, sizeof line, stdin)) {
        fprintf(stderr, "rfbprobe: no password on standard input\n");
        return NULL;
    }
    line[strcspn(line, "\r\n")] = 0;
    return strdup(line);
}

/* Connects and authenticates; with_encodings also sends SetEncodings. */
static int open_session(const struct probe_opts *o, struct rfbc_client **out, bool with_encodings)
{
    char *password = NULL;
    if ((o->password_file || o->password_stdin) && !(password = read_password(o)))
        return EXIT_ERR;
    struct rfbc_client *c = rfbc_new();
    if (!c) {
        free(password);
        fprintf(stderr, "rfbprobe: out of memory\n");
        return EXIT_ERR;
    }
    if (o->verbose)
        rfbc_set_trace(c, stderr);
    int r = rfbc_connect(c, o->host, o->port, timeout_ms(o), o->rcvbuf > 0 ? o->rcvbuf : 0);
    const char *doing = "connect";
    if (!r) {
        doing = "handshake";
        r = rfbc_handshake(c, password, o->shared, timeout_ms(o));
    }
    if (password) {
        memset(password, 0, strlen(password));
        free(password);
    }
    if (!r && with_encodings) {
        doing = "SetEncodings";
        r = rfbc_set_encodings(c, o->encodings, o->nencodings, timeout_ms(o));
    }
    if (r) {
        int code = report(o, c, r, doing);
        rfbc_free(c);
        return code;
    }
    *out = c;
    return 0;
}

static const char *encoding_name(int32_t enc)
{
    return enc == RFBC_ENC_DESKTOP_SIZE ? "desktopsize" : enc == RFBC_ENC_EXT_DESKTOP_SIZE ? "extdesktopsize" : "?";
}

/* The stats object every network command prints with --json. */
static void print_stats_json(struct rfbc_client *c, const char *command, double seconds, const char *extra)
{
    const struct rfbc_stats *s = rfbc_stats(c);
    const struct rfbc_server_info *si = rfbc_server_info(c);
    unsigned w, h, stride;
    rfbc_framebuffer(c, &w, &h, &stride);
    printf("{\"command\": \"%s\", \"ok\": true, \"seconds\": %.3f, \"updates\": %llu, \"updates_per_second\": %.3f, "
           "\"rects\": %llu, \"rects_by_kind\": {",
           command, seconds, (unsigned long long)s->updates, seconds > 0 ? (double)s->updates / seconds : 0.0,
           (unsigned long long)s->rects);
    for (int k = 0; k < RFBC_RECT_KIND_COUNT; k++)
        printf("%s\"%s\": %llu", k ? ", " : "", rfbc_rect_kind_name((enum rfbc_rect_kind)k),
               (unsigned long long)s->rects_by_kind[k]);
    printf("}, \"tight_stream_resets\": %llu, \"pixels_painted\": %llu, \"fully_painted\": %s, "
           "\"first_update_bytes\": %llu, \"first_update_rects\": %llu, \"first_update_updates\": %llu, "
           "\"first_update_seconds\": %.3f, \"bytes\": %llu, \"bytes_received\": %llu, \"bytes_per_second\": %.1f, "
           "\"bytes_sent\": %llu, \"width\": %u, \"height\": %u, \"size_changes\": [",
           (unsigned long long)s->tight_stream_resets, (unsigned long long)s->pixels_painted,
           rfbc_fully_painted(c) ? "true" : "false", (unsigned long long)s->first_full_bytes,
           (unsigned long long)s->first_full_rects, (unsigned long long)s->first_full_updates,
           s->first_full_seconds, (unsigned long long)s->bytes_received, (unsigned long long)s->bytes_received,
           seconds > 0 ? (double)s->bytes_received / seconds : 0.0, (unsigned long long)s->bytes_sent, w, h);
    size_t n;
    const struct rfbc_size_change *ch = rfbc_size_changes(c, &n);
    for (size_t i = 0; i < n; i++)
        printf("%s{\"width\": %u, \"height\": %u, \"encoding\": \"%s\", \"at\": %.3f}", i ? ", " : "",
               ch[i].width, ch[i].height, encoding_name(ch[i].encoding), ch[i].at_seconds);
    printf("], \"qemu_key_acked\": %s, \"bells\": %llu, \"cut_texts\": %llu, \"server\": {\"name\": ",
           rfbc_qemu_key_acked(c) ? "true" : "false", (unsigned long long)s->bells,
           (unsigned long long)s->cut_texts);
    json_string(si->name);
    printf(", \"version\": \"%d.%d\", \"used_version\": \"3.%d\", \"security\": %u, \"init_width\": %u, "
           "\"init_height\": %u}%s%s}\n",
           si->version_major, si->version_minor, si->used_minor, si->security_type, si->width, si->height,
           extra && *extra ? ", " : "", extra ? extra : "");
}

static void print_stats_text(struct rfbc_client *c, double seconds)
{
    const struct rfbc_stats *s = rfbc_stats(c);
    unsigned w, h, stride;
    rfbc_framebuffer(c, &w, &h, &stride);
    printf("seconds %.3f, updates %llu, rects %llu, bytes %llu (%.0f/s), framebuffer %ux%u\n", seconds,
           (unsigned long long)s->updates, (unsigned long long)s->rects, (unsigned long long)s->bytes_received,
           seconds > 0 ? (double)s->bytes_received / seconds : 0.0, w, h);
    printf("rects:");
    for (int k = 0; k < RFBC_RECT_KIND_COUNT; k++)
        if (s->rects_by_kind[k])
            printf(" %s=%llu", rfbc_rect_kind_name((enum rfbc_rect_kind)k), (unsigned long long)s->rects_by_kind[k]);
    printf("\ntight stream resets %llu, pixels painted %llu\n", (unsigned long long)s->tight_stream_resets,
           (unsigned long long)s->pixels_painted);
    size_t n;
    const struct rfbc_size_change *ch = rfbc_size_changes(c, &n);
    for (size_t i = 0; i < n; i++)
        printf("size change: %ux%u via %s at %.3f s\n", ch[i].width, ch[i].height,
               encoding_name(ch[i].encoding), ch[i].at_seconds);
}

static int save_frame(struct rfbc_client *c, const char *path)
{
    unsigned w, h, stride;
    const uint8_t *fb = rfbc_framebuffer(c, &w, &h, &stride);
    return ppm_write(path, fb, w, h, stride) ? EXIT_ERR : 0;
}

/* ---- the update loop shared by snapshot, watch and wait-size ---- */

struct loop_goal {
    bool until_painted;  /* snapshot: every pixel received since the last size change */
    unsigned want_w, want_h; /* wait-size: stop at this size (0: no size goal) */
    int want_leds;           /* wait-leds: stop at this LED state (-1: no LED goal) */
};

/* Requests updates (full after a size change, else incremental) until the
 * goal is met (1), or seconds pass (0), or an error (<0). */
static int update_loop(struct rfbc_client *c, double seconds, const struct loop_goal *goal, int send_timeout)
{
    double end = rfbc_elapsed_seconds(c) + seconds;
    bool first = true, incremental = false;
    for (;;) {
        unsigned w, h, stride;
        rfbc_framebuffer(c, &w, &h, &stride);
        if (goal->want_w && w == goal->want_w && h == goal->want_h)
            return 1;
        if (goal->want_leds >= 0 && rfbc_keyboard_leds(c) == goal->want_leds)
            return 1;
        if (!first && goal->until_painted && rfbc_fully_painted(c))
            return 1;
        int r = rfbc_request_full_update(c, incremental, send_timeout);
        if (r)
            return r;
        size_t changes_before, changes_after;
        rfbc_size_changes(c, &changes_before);
        double left = end - rfbc_elapsed_seconds(c);
        if (left <= 0)
            return 0;
        r = rfbc_wait_update(c, (int)(left * 1000) + 1);
        if (r == RFBC_ERR_TIMEOUT)
            return 0;
        if (r)
            return r;
        first = false;
        rfbc_size_changes(c, &changes_after);
        /* After a size change the old picture is gone: ask for all of it.
         * Otherwise ask incrementally: a server may answer a full request
         * with only the ExtendedDesktopSize rect (libvncserver does) and
         * owes the pixels to the next request, so repeating full requests
         * could go on forever. */
        incremental = changes_after == changes_before;
    }
}

static int cmd_snapshot(const struct probe_opts *o, struct rfbc_client *c)
{
    if (o->npos != 2)
        return EXIT_USAGE;
    struct loop_goal goal = {.until_painted = true, .want_leds = -1};
    int r = update_loop(c, o->timeout_s, &goal, timeout_ms(o));
    if (r < 0)
        return report(o, c, r, "snapshot");
    if (r == 0) {
        const struct rfbc_stats *s = rfbc_stats(c);
        fprintf(stderr, "rfbprobe: snapshot: timed out after %.1f s with the framebuffer not fully received "
                "(%llu updates, %llu pixels painted)\n", o->timeout_s, (unsigned long long)s->updates,
                (unsigned long long)s->pixels_painted);
        if (o->json)
            printf("{\"command\": \"snapshot\", \"ok\": false, \"exit\": 1, \"auth_failed\": false, "
                   "\"error\": \"timed out before every pixel was received\"}\n");
        return EXIT_ERR;
    }
    if (save_frame(c, o->pos[1]))
        return EXIT_ERR;
    unsigned w, h, stride;
    rfbc_framebuffer(c, &w, &h, &stride);
    if (o->json)
        print_stats_json(c, "snapshot", rfbc_elapsed_seconds(c), NULL);
    else
        printf("wrote %s (%ux%u)\n", o->pos[1], w, h);
    return 0;
}

static int cmd_watch(const struct probe_opts *o, struct rfbc_client *c, bool wait_size)
{
    struct loop_goal goal = {.want_leds = -1};
    double seconds;
    if (wait_size) {
        if (o->npos != 3 || sscanf(o->pos[1], "%ux%u", &goal.want_w, &goal.want_h) != 2 || !goal.want_w ||
            !goal.want_h || !parse_double(o->pos[2], 0, 86400, &seconds))
            return EXIT_USAGE;
    } else if (o->npos != 2 || !parse_double(o->pos[1], 0, 86400, &seconds)) {
        return EXIT_USAGE;
    }
    double start = rfbc_elapsed_seconds(c);
    int r = update_loop(c, seconds, &goal, timeout_ms(o));
    double took = rfbc_elapsed_seconds(c) - start;
    if (r < 0)
        return report(o, c, r, wait_size ? "wait-size" : "watch");
    if (o->out && save_frame(c, o->out))
        return EXIT_ERR;
    char extra[128] = "";
    if (wait_size)
        snprintf(extra, sizeof extra, "\"target_width\": %u, \"target_height\": %u, \"reached\": %s", goal.want_w,
                 goal.want_h, r == 1 ? "true" : "false");
    if (o->json)
        print_stats_json(c, wait_size ? "wait-size" : "watch", took, extra);
    else
        print_stats_text(c, took);
    if (wait_size && r != 1) {
        unsigned w, h, stride;
        rfbc_framebuffer(c, &w, &h, &stride);
        fprintf(stderr, "rfbprobe: wait-size: framebuffer is %ux%u, not %ux%u, after %.1f s\n", w, h, goal.want_w,
                goal.want_h, seconds);
        return EXIT_CHECK;
    }
    return 0;
}

static int cmd_stall(const struct probe_opts *o, struct rfbc_client *c)
{
    double seconds;
    if (o->npos != 2 || !parse_double(o->pos[1], 0, 86400, &seconds))
        return EXIT_USAGE;
    int r = rfbc_request_full_update(c, false, timeout_ms(o));
    if (r)
        return report(o, c, r, "stall");
    double end = rfbc_elapsed_seconds(c) + seconds;
    unsigned requests = 1;
    bool send_blocked = false;
    while (rfbc_elapsed_seconds(c) < end) {
        sleep_ms(100);
        /* Once a request cannot go out at once (maybe half of it did), we
         * send nothing more: the rest of the stream would be misaligned. */
        if (o->keep_requesting && !send_blocked) {
            if (rfbc_request_full_update(c, true, 0) == RFBC_OK)
                requests++;
            else
                send_blocked = true;
        }
    }
    printf("stalled %.1f s without reading; %u update requests sent%s\n", seconds, requests,
           send_blocked ? " (then our send buffer was full)" : "");
    return 0;
}

static int cmd_malformed(const struct probe_opts *o, struct rfbc_client *c)
{
    if (o->npos != 2)
        return EXIT_USAGE;
    const char *kind = o->pos[1];
    uint8_t msg[4096];
    size_t n;
    if (strcmp(kind, "unknown-type") == 0) {
        /* 0xC8 (200) is not assigned to any client message. */
        memset(msg, 0, 16);
        msg[0] = 0xc8;
        n = 16;
    } else if (strcmp(kind, "bad-setencodings-count") == 0) {
        /* Claims 65535 encodings, sends two. */
        uint8_t m[12] = {2, 0, 0xff, 0xff, 0, 0, 0, 7, 0, 0, 0, 0};
        memcpy(msg, m, sizeof m);
        n = sizeof m;
    } else if (strcmp(kind, "truncated") == 0) {
        uint8_t m[4] = {4, 1, 0, 0}; /* half a KeyEvent */
        memcpy(msg, m, sizeof m);
        n = sizeof m;
    } else if (strcmp(kind, "garbage") == 0) {
        uint32_t x = 0x9e3779b9u; /* xorshift32: the same garbage every run */
        for (size_t i = 0; i < sizeof msg; i++) {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            msg[i] = (uint8_t)x;
        }
        msg[0] = 0xc9; /* starts as an unassigned message type */
        n = sizeof msg;
    } else if (strcmp(kind, "cuttext-huge-length") == 0) {
        /* ClientCutText claiming 2 GiB - 16 of text, followed by 8 bytes. */
        uint8_t m[16] = {6, 0, 0, 0, 0x7f, 0xff, 0xff, 0xf0, 'p', 'i', 'g', 'l', 'i', 'x', '!', '!'};
        memcpy(msg, m, sizeof m);
        n = sizeof m;
    } else {
        fprintf(stderr, "rfbprobe: unknown malformed kind '%s'\n", kind);
        return EXIT_USAGE;
    }
    double sent_at = rfbc_elapsed_seconds(c);
    int r = rfbc_send_bytes(c, msg, n, timeout_ms(o));
    if (r == RFBC_OK)
        r = rfbc_wait_closed(c, (int)(o->wait_s * 1000));
    double after = rfbc_elapsed_seconds(c) - sent_at;
    if (r != RFBC_ERR_CLOSED && r != RFBC_ERR_TIMEOUT)
        return report(o, c, r, "malformed");
    bool closed = r == RFBC_ERR_CLOSED;
    if (o->json)
        printf("{\"command\": \"malformed\", \"ok\": true, \"kind\": \"%s\", \"closed\": %s, \"seconds\": %.3f}\n", kind,
               closed ? "true" : "false", after);
    else if (closed)
        printf("malformed %s: server closed the connection after %.3f s\n", kind, after);
    else
        printf("malformed %s: connection still open after %.3f s\n", kind, after);
    return closed ? 0 : EXIT_CHECK;
}

/* Waits for the reply to a 1x1 update request: every message sent before it
 * has then been processed by the server (it handles them in order). */
static int barrier(const struct probe_opts *o, struct rfbc_client *c)
{
    int r = rfbc_request_update(c, false, 0, 0, 1, 1, timeout_ms(o));
    return r ? r : rfbc_wait_update(c, timeout_ms(o));
}

static int cmd_keys(const struct probe_opts *o, struct rfbc_client *c)
{
    if (o->npos < 2)
        return EXIT_USAGE;
    /* The QEMU ack comes as a pseudo-rect in the first update. */
    int r = barrier(o, c);
    if (r)
        return report(o, c, r, "keys (first update)");
    unsigned sent = 0;
    for (int i = 1; i < o->npos; i++) {
        const char *arg = o->pos[i];
        bool down = true, up = true;
        if (*arg == '+')
            up = false, arg++;
        else if (*arg == '-')
            down = false, arg++;
        char sym[32];
        snprintf(sym, sizeof sym, "%s", arg);
        char *at = strchr(sym, '@');
        long keysym, xt = -1;
        if (at)
            *at = 0;
        if (!parse_hex(sym, 0xffffffffL, &keysym) || (at && !parse_hex(at + 1, 0xffff, &xt))) {
            fprintf(stderr, "rfbprobe: bad key '%s' (want hex keysym, +K, -K or K@XT)\n", o->pos[i]);
            return EXIT_USAGE;
        }
        if (xt >= 0 && !rfbc_qemu_key_acked(c)) {
            fprintf(stderr, "rfbprobe: server did not acknowledge the QEMU extended key encoding\n");
            return EXIT_ERR;
        }
        for (int phase = 0; phase < 2; phase++) {
            bool is_down = phase == 0;
            if (is_down ? !down : !up)
                continue;
            r = xt >= 0 ? rfbc_send_qemu_key(c, is_down, (uint32_t)keysym, (uint32_t)xt, timeout_ms(o))
                        : rfbc_send_key(c, is_down, (uint32_t)keysym, timeout_ms(o));
            if (r)
                return report(o, c, r, "keys");
            sent++;
            if (o->delay_ms)
                sleep_ms(o->delay_ms);
        }
    }
    if ((r = barrier(o, c)))
        return report(o, c, r, "keys (after sending)");
    printf("sent %u key events\n", sent);
    return 0;
}

static int cmd_pointer(const struct probe_opts *o, struct rfbc_client *c)
{
    long x, y, buttons;
    if (o->npos != 4 || !parse_long(o->pos[1], 0, 65535, &x) || !parse_long(o->pos[2], 0, 65535, &y) ||
        !parse_long(o->pos[3], 0, 255, &buttons))
        return EXIT_USAGE;
    int r = rfbc_send_pointer(c, (uint8_t)buttons, (unsigned)x, (unsigned)y, timeout_ms(o));
    if (!r)
        r = barrier(o, c);
    if (r)
        return report(o, c, r, "pointer");
    printf("sent pointer %ld,%ld buttons 0x%02lx\n", x, y, buttons);
    return 0;
}

static int cmd_wait_leds(const struct probe_opts *o, struct rfbc_client *c)
{
    long want;
    double seconds;
    if (o->npos != 3 || !parse_long(o->pos[1], 0, 7, &want) || !parse_double(o->pos[2], 0, 86400, &seconds))
        return EXIT_USAGE;
    struct loop_goal goal = {.want_leds = (int)want};
    int r = update_loop(c, seconds, &goal, timeout_ms(o));
    if (r < 0)
        return report(o, c, r, "wait-leds");
    int leds = rfbc_keyboard_leds(c);
    if (o->json)
        printf("{\"command\": \"wait-leds\", \"ok\": true, \"leds\": %d, \"target\": %ld, \"reached\": %s, "
               "\"seconds\": %.3f}\n", leds, want, r == 1 ? "true" : "false", rfbc_elapsed_seconds(c));
    else
        printf("keyboard LEDs %d%s\n", leds, r == 1 ? "" : " (not the state waited for)");
    if (r != 1) {
        fprintf(stderr, "rfbprobe: wait-leds: LED state is %d, not %ld, after %.1f s\n", leds, want, seconds);
        return EXIT_CHECK;
    }
    return 0;
}

static int run_network_command(struct probe_opts *o)
{
    const char *cmd = o->pos[0];
    bool auth_only = strcmp(cmd, "auth-only") == 0, malformed = strcmp(cmd, "malformed") == 0;
    bool stall = strcmp(cmd, "stall") == 0;
    if (stall && o->rcvbuf < 0)
        o->rcvbuf = 4096; /* a small window fills (and stalls the server) sooner */
    if (!auth_only && !malformed && !stall && strcmp(cmd, "snapshot") && strcmp(cmd, "watch") &&
        strcmp(cmd, "wait-size") && strcmp(cmd, "keys") && strcmp(cmd, "pointer") &&
        strcmp(cmd, "wait-leds")) {
        fprintf(stderr, "rfbprobe: unknown command '%s'\n", cmd);
        return EXIT_USAGE;
    }
    if (strcmp(cmd, "wait-leds") == 0) { /* the server sends LED state only to who asks */
        bool have = false;
        for (size_t i = 0; i < o->nencodings; i++)
            have = have || o->encodings[i] == RFBC_ENC_QEMU_LED_STATE;
        if (!have && !add_encoding(o, "leds"))
            return EXIT_USAGE;
    }
    struct rfbc_client *c = NULL;
    int code = open_session(o, &c, !auth_only && !malformed);
    if (code)
        return code;
    if (auth_only) {
        const struct rfbc_server_info *si = rfbc_server_info(c);
        if (o->json)
            print_stats_json(c, "auth-only", rfbc_elapsed_seconds(c), NULL);
        else
            printf("authenticated: server RFB %d.%d (we speak 3.%d), security %s, desktop \"%s\" %ux%u\n",
                   si->version_major, si->version_minor, si->used_minor,
                   si->security_type == 2 ? "VncAuth" : "None", si->name, si->width, si->height);
    } else if (strcmp(cmd, "snapshot") == 0) {
        code = cmd_snapshot(o, c);
    } else if (strcmp(cmd, "watch") == 0) {
        code = cmd_watch(o, c, false);
    } else if (strcmp(cmd, "wait-size") == 0) {
        code = cmd_watch(o, c, true);
    } else if (stall) {
        code = cmd_stall(o, c);
    } else if (malformed) {
        code = cmd_malformed(o, c);
    } else if (strcmp(cmd, "keys") == 0) {
        code = cmd_keys(o, c);
    } else if (strcmp(cmd, "wait-leds") == 0) {
        code = cmd_wait_leds(o, c);
    } else {
        code = cmd_pointer(o, c);
    }
    if (code == EXIT_USAGE)
        usage(stderr);
    rfbc_free(c);
    return code;
}

int main(int argc, char **argv)
{
    struct probe_opts o;
    if (!parse_args(argc, argv, &o) || o.npos < 1) {
        usage(stderr);
        return EXIT_USAGE;
    }
    if (strcmp(o.pos[0], "compare") == 0)
        return cmd_compare(&o);
    return run_network_command(&o);
}
