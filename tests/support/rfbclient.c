#include "tests/support/rfbclient.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <rfb/rfbproto.h> /* rfbEncryptBytes: the VncAuth DES response */

#include "common/clock.h"
#include "tests/support/tight_decode.h"

/* The largest unit we buffer whole: a Raw rect of 4096x4096 is 64 MiB. */
#define RFBC_MAX_UNIT ((size_t)80 << 20)
/* Pixel limit of the framebuffer: 8192 x 8192. */
#define RFBC_MAX_PIXELS ((uint64_t)8192 * 8192)
#define RFBC_MAX_STRING ((uint32_t)1 << 20) /* reason strings, desktop name */
#define RFBC_READ_CHUNK ((size_t)256 << 10)
#define RFBC_MAX_SIZE_CHANGES 256

enum rfbc_parse_state { PARSE_MESSAGE, PARSE_RECT, PARSE_SKIP };

struct rfbc_client {
    int fd;
    char err[512];
    struct timespec t0;
    struct rfbc_server_info info;

    /* Receive buffer: unparsed bytes are buf[start, len). */
    uint8_t *buf;
    size_t start, len, cap;
    size_t need; /* bytes the parser needs from start before it can go on */

    enum rfbc_parse_state state;
    uint32_t rects_left;
    uint64_t skip_left;

    uint8_t *fb;      /* RGBX */
    uint8_t *painted; /* one flag per pixel */
    unsigned fb_w, fb_h;
    uint64_t painted_count;
    bool qemu_key_acked;
    int leds; /* -1: no LED state received */

    struct rfbc_stats stats;
    FILE *trace;
    struct rfbc_size_change changes[RFBC_MAX_SIZE_CHANGES];
    size_t nchanges;

    struct tight_decoder *tight;
    rfbc_h264_fn h264_fn;
    void *h264_ctx;
};

static int fail(struct rfbc_client *c, int status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int fail(struct rfbc_client *c, int status, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->err, sizeof c->err, fmt, ap);
    va_end(ap);
    return status;
}

static int ms_left(int64_t deadline)
{
    int64_t left = deadline - clock_mono_ms();
    return left <= 0 ? 0 : left > INT32_MAX ? INT32_MAX : (int)left;
}

static uint16_t be16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }
static uint32_t be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}
static void put16(uint8_t *p, unsigned v) { p[0] = (uint8_t)(v >> 8); p[1] = (uint8_t)v; }
static void put32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24); p[1] = (uint8_t)(v >> 16); p[2] = (uint8_t)(v >> 8); p[3] = (uint8_t)v;
}

const char *rfbc_rect_kind_name(enum rfbc_rect_kind k)
{
    static const char *const names[RFBC_RECT_KIND_COUNT] = {
        "raw", "tight_fill", "tight_palette", "tight_zlib", "tight_gradient", "tight_jpeg",
        "desktopsize", "extdesktopsize", "lastrect", "qemukey", "cursor", "pointerpos", "leds",
        "h264",
    };
    return (unsigned)k < RFBC_RECT_KIND_COUNT ? names[k] : "?";
}

void rfbc_set_h264_handler(struct rfbc_client *c, rfbc_h264_fn fn, void *ctx)
{
    c->h264_fn = fn;
    c->h264_ctx = ctx;
}

struct rfbc_client *rfbc_new(void)
{
    struct rfbc_client *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    c->fd = -1;
    c->leds = -1;
    clock_gettime(CLOCK_MONOTONIC, &c->t0);
    c->cap = RFBC_READ_CHUNK;
    c->buf = malloc(c->cap);
    if (!c->buf) {
        free(c);
        return NULL;
    }
    c->tight = tight_decoder_new();
    if (!c->tight) {
        free(c->buf);
        free(c);
        return NULL;
    }
    return c;
}

void rfbc_free(struct rfbc_client *c)
{
    if (!c)
        return;
    if (c->fd >= 0)
        close(c->fd);
    tight_decoder_free(c->tight);
    free(c->buf);
    free(c->fb);
    free(c->painted);
    free(c);
}

void rfbc_set_trace(struct rfbc_client *c, FILE *trace) { c->trace = trace; }

const char *rfbc_error(const struct rfbc_client *c) { return c->err[0] ? c->err : "no error"; }
const struct rfbc_server_info *rfbc_server_info(const struct rfbc_client *c) { return &c->info; }
const struct rfbc_stats *rfbc_stats(const struct rfbc_client *c) { return &c->stats; }
bool rfbc_qemu_key_acked(const struct rfbc_client *c) { return c->qemu_key_acked; }
int rfbc_keyboard_leds(const struct rfbc_client *c) { return c->leds; }

const struct rfbc_size_change *rfbc_size_changes(const struct rfbc_client *c, size_t *count)
{
    *count = c->nchanges;
    return c->changes;
}

double rfbc_elapsed_seconds(const struct rfbc_client *c)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)(ts.tv_sec - c->t0.tv_sec) + (double)(ts.tv_nsec - c->t0.tv_nsec) / 1e9;
}

const uint8_t *rfbc_framebuffer(const struct rfbc_client *c, unsigned *width, unsigned *height,
                                unsigned *stride)
{
    *width = c->fb_w;
    *height = c->fb_h;
    *stride = c->fb_w * 4;
    return c->fb;
}

bool rfbc_fully_painted(const struct rfbc_client *c)
{
    return c->painted_count == (uint64_t)c->fb_w * c->fb_h;
}

void rfbc_reset_painted(struct rfbc_client *c)
{
    if (c->painted)
        memset(c->painted, 0, (size_t)c->fb_w * c->fb_h);
    c->painted_count = 0;
}

static void mark_painted(struct rfbc_client *c, unsigned x, unsigned y, unsigned w, unsigned h)
{
    for (unsigned row = y; row < y + h; row++) {
        uint8_t *flags = c->painted + (size_t)row * c->fb_w + x;
        for (unsigned i = 0; i < w; i++) {
            c->painted_count += !flags[i];
            flags[i] = 1;
        }
    }
    c->stats.pixels_painted += (uint64_t)w * h;
}

int rfbc_set_framebuffer_size(struct rfbc_client *c, unsigned w, unsigned h)
{
    if ((uint64_t)w * h > RFBC_MAX_PIXELS)
        return fail(c, RFBC_ERR_PROTOCOL, "framebuffer %ux%u is larger than this client allows", w, h);
    size_t pixels = (size_t)w * h;
    uint8_t *fb = calloc(pixels ? pixels : 1, 4);
    uint8_t *painted = calloc(pixels ? pixels : 1, 1);
    if (!fb || !painted) {
        free(fb);
        free(painted);
        return fail(c, RFBC_ERR_IO, "out of memory for a %ux%u framebuffer", w, h);
    }
    free(c->fb);
    free(c->painted);
    c->fb = fb;
    c->painted = painted;
    c->fb_w = w;
    c->fb_h = h;
    c->painted_count = 0;
    tight_decoder_set_size(c->tight, w, h);
    return RFBC_OK;
}

/* ---- socket I/O, every wait bounded by a deadline ---- */

static int wait_fd(struct rfbc_client *c, short events, int64_t deadline, const char *what)
{
    for (;;) {
        int64_t left = deadline - clock_mono_ms();
        if (left < 0)
            left = 0;
        struct pollfd pfd = {.fd = c->fd, .events = events};
        int r = poll(&pfd, 1, left > 1000000 ? 1000000 : (int)left);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            return fail(c, RFBC_ERR_IO, "poll: %s", strerror(errno));
        if (r == 0)
            return fail(c, RFBC_ERR_TIMEOUT, "timed out waiting for %s", what);
        return RFBC_OK;
    }
}

static int send_all(struct rfbc_client *c, const void *data, size_t n, int timeout_ms)
{
    if (c->fd < 0)
        return fail(c, RFBC_ERR_IO, "not connected");
    int64_t deadline = clock_mono_ms() + timeout_ms;
    const uint8_t *p = data;
    while (n > 0) {
        ssize_t w = send(c->fd, p, n, MSG_NOSIGNAL);
        if (w > 0) {
            p += w;
            n -= (size_t)w;
            c->stats.bytes_sent += (uint64_t)w;
            continue;
        }
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            int r = wait_fd(c, POLLOUT, deadline, "the socket to accept our message");
            if (r)
                return r;
            continue;
        }
        if (w < 0 && (errno == EPIPE || errno == ECONNRESET))
            return fail(c, RFBC_ERR_CLOSED, "server closed the connection (send: %s)", strerror(errno));
        return fail(c, RFBC_ERR_IO, "send: %s", strerror(errno));
    }
    return RFBC_OK;
}

int rfbc_send_bytes(struct rfbc_client *c, const void *data, size_t n, int timeout_ms)
{
    return send_all(c, data, n, timeout_ms);
}

/* Makes room for at least want unparsed bytes plus more, moving unparsed
 * bytes to the front first. */
static int reserve(struct rfbc_client *c, size_t want)
{
    if (want > RFBC_MAX_UNIT + 2 * RFBC_READ_CHUNK)
        return fail(c, RFBC_ERR_PROTOCOL, "server message unit of %zu bytes exceeds the %zu byte limit",
                    want, RFBC_MAX_UNIT);
    if (c->start > 0) {
        memmove(c->buf, c->buf + c->start, c->len - c->start);
        c->len -= c->start;
        c->start = 0;
    }
    if (want <= c->cap)
        return RFBC_OK;
    size_t cap = c->cap ? c->cap : RFBC_READ_CHUNK;
    while (cap < want)
        cap *= 2;
    uint8_t *b = realloc(c->buf, cap);
    if (!b)
        return fail(c, RFBC_ERR_IO, "out of memory for a %zu byte receive buffer", cap);
    c->buf = b;
    c->cap = cap;
    return RFBC_OK;
}

/* Reads what the socket has (at least one byte) or fails on the deadline. */
static int recv_some(struct rfbc_client *c, int64_t deadline, const char *what)
{
    if (c->fd < 0)
        return fail(c, RFBC_ERR_IO, "not connected");
    size_t unparsed_len = c->len - c->start;
    if (c->cap - c->len < RFBC_READ_CHUNK / 2 || c->need > c->cap - c->start) {
        size_t base = c->need > unparsed_len ? c->need : unparsed_len;
        int r = reserve(c, base + RFBC_READ_CHUNK);
        if (r)
            return r;
    }
    for (;;) {
        ssize_t n = recv(c->fd, c->buf + c->len, c->cap - c->len, 0);
        if (n > 0) {
            c->len += (size_t)n;
            c->stats.bytes_received += (uint64_t)n;
            return RFBC_OK;
        }
        if (n == 0)
            return fail(c, RFBC_ERR_CLOSED, "server closed the connection while we waited for %s", what);
        if (errno == EINTR)
            continue;
        if (errno == ECONNRESET)
            return fail(c, RFBC_ERR_CLOSED, "server reset the connection while we waited for %s", what);
        if (errno != EAGAIN && errno != EWOULDBLOCK)
            return fail(c, RFBC_ERR_IO, "recv: %s", strerror(errno));
        int r = wait_fd(c, POLLIN, deadline, what);
        if (r)
            return r;
    }
}

/* Handshake helper: waits until n unparsed bytes are there. */
static int need_bytes(struct rfbc_client *c, size_t n, int64_t deadline, const char *what)
{
    c->need = n;
    while (c->len - c->start < n) {
        int r = recv_some(c, deadline, what);
        if (r)
            return r;
    }
    return RFBC_OK;
}

static const uint8_t *unparsed(const struct rfbc_client *c) { return c->buf + c->start; }
static void consume(struct rfbc_client *c, size_t n) { c->start += n; }

static int set_nonblocking(struct rfbc_client *c, int fd)
{
    int fl = fcntl(fd, F_GETFL);
    if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0)
        return fail(c, RFBC_ERR_IO, "fcntl O_NONBLOCK: %s", strerror(errno));
    return RFBC_OK;
}

int rfbc_attach_fd(struct rfbc_client *c, int fd)
{
    if (c->fd >= 0)
        close(c->fd);
    c->fd = fd;
    return set_nonblocking(c, fd);
}

static int connect_one(struct rfbc_client *c, const struct addrinfo *ai, int64_t deadline, int rcvbuf)
{
    int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, ai->ai_protocol);
    if (fd < 0)
        return fail(c, RFBC_ERR_IO, "socket: %s", strerror(errno));
    if (rcvbuf > 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    c->fd = fd;
    if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
        return RFBC_OK;
    if (errno != EINPROGRESS) {
        int r = fail(c, RFBC_ERR_IO, "connect: %s", strerror(errno));
        close(fd);
        c->fd = -1;
        return r;
    }
    int r = wait_fd(c, POLLOUT, deadline, "the TCP connection");
    int soerr = 0;
    socklen_t len = sizeof soerr;
    if (r == RFBC_OK && getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &len) == 0 && soerr != 0)
        r = fail(c, RFBC_ERR_IO, "connect: %s", strerror(soerr));
    if (r) {
        close(fd);
        c->fd = -1;
    }
    return r;
}

int rfbc_connect(struct rfbc_client *c, const char *host, const char *port, int timeout_ms, int rcvbuf)
{
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM};
    struct addrinfo *res = NULL;
    int gai = getaddrinfo(host, port, &hints, &res);
    if (gai != 0)
        return fail(c, RFBC_ERR_IO, "cannot resolve %s:%s: %s", host, port, gai_strerror(gai));
    int64_t deadline = clock_mono_ms() + timeout_ms;
    int r = RFBC_ERR_IO;
    for (const struct addrinfo *ai = res; ai; ai = ai->ai_next) {
        r = connect_one(c, ai, deadline, rcvbuf);
        if (r == RFBC_OK)
            break;
    }
    freeaddrinfo(res);
    if (r) {
        char why[sizeof c->err];
        memcpy(why, c->err, sizeof why);
        return fail(c, r, "cannot connect to %s:%s: %.400s", host, port, why);
    }
    return RFBC_OK;
}

/* ---- handshake (RFC 6143 section 7.1 to 7.3) ---- */

/* Reads a U32 length + string (failure reasons) into c->err after prefix. */
static int read_reason(struct rfbc_client *c, int64_t deadline, int status, const char *prefix)
{
    int r = need_bytes(c, 4, deadline, "the failure reason length");
    if (r)
        return fail(c, status, "%s (no reason given)", prefix);
    uint32_t n = be32(unparsed(c));
    if (n > RFBC_MAX_STRING)
        return fail(c, RFBC_ERR_PROTOCOL, "%s; reason string of %u bytes is too long", prefix, n);
    r = need_bytes(c, 4 + (size_t)n, deadline, "the failure reason");
    if (r)
        return fail(c, status, "%s (reason cut off)", prefix);
    int shown = n > 300 ? 300 : (int)n;
    char reason[301];
    memcpy(reason, unparsed(c) + 4, (size_t)shown);
    reason[shown] = 0;
    consume(c, 4 + (size_t)n);
    return fail(c, status, "%s: %s", prefix, reason);
}

static int read_version(struct rfbc_client *c, int64_t deadline)
{
    int r = need_bytes(c, 12, deadline, "the ProtocolVersion");
    if (r)
        return r;
    const uint8_t *p = unparsed(c);
    int major = 0, minor = 0;
    bool ok = memcmp(p, "RFB ", 4) == 0 && p[7] == '.' && p[11] == '\n';
    for (int i = 4; ok && i < 7; i++) {
        ok = p[i] >= '0' && p[i] <= '9';
        major = major * 10 + (p[i] - '0');
    }
    for (int i = 8; ok && i < 11; i++) {
        ok = p[i] >= '0' && p[i] <= '9';
        minor = minor * 10 + (p[i] - '0');
    }
    if (!ok)
        return fail(c, RFBC_ERR_PROTOCOL, "server did not send an RFB ProtocolVersion (got %02x %02x %02x %02x ...)",
                    p[0], p[1], p[2], p[3]);
    consume(c, 12);
    c->info.version_major = major;
    c->info.version_minor = minor;
    if (major < 3)
        return fail(c, RFBC_ERR_UNSUPPORTED, "server speaks RFB %d.%d, older than 3.3", major, minor);
    /* 3.4-3.6 are vendor variants of 3.3; anything newer talks 3.8 to us. */
    c->info.used_minor = major > 3 || minor >= 8 ? 8 : minor == 7 ? 7 : 3;
    char reply[13];
    snprintf(reply, sizeof reply, "RFB 003.%03d\n", c->info.used_minor);
    return send_all(c, reply, 12, ms_left(deadline));
}

static int choose_security(struct rfbc_client *c, const char *password, int64_t deadline)
{
    if (c->info.used_minor == 3) {
        int r = need_bytes(c, 4, deadline, "the security type");
        if (r)
            return r;
        uint32_t type = be32(unparsed(c));
        consume(c, 4);
        if (type == 0)
            return read_reason(c, deadline, RFBC_ERR_AUTH, "server refused the connection");
        if (type != 1 && type != 2)
            return fail(c, RFBC_ERR_UNSUPPORTED, "server demands security type %u (we do 1 None, 2 VncAuth)", type);
        c->info.security_type = (uint8_t)type;
        return RFBC_OK;
    }
    int r = need_bytes(c, 1, deadline, "the security types");
    if (r)
        return r;
    unsigned n = unparsed(c)[0];
    if (n == 0) {
        consume(c, 1);
        return read_reason(c, deadline, RFBC_ERR_AUTH, "server refused the connection");
    }
    r = need_bytes(c, 1 + (size_t)n, deadline, "the security types");
    if (r)
        return r;
    bool has_none = false, has_vnc = false;
    char offered[256 * 4 + 1] = "";
    size_t off = 0;
    for (unsigned i = 0; i < n; i++) {
        uint8_t t = unparsed(c)[1 + i];
        has_none |= t == 1;
        has_vnc |= t == 2;
        off += (size_t)snprintf(offered + off, sizeof offered - off, "%s%u", i ? "," : "", t);
    }
    consume(c, 1 + (size_t)n);
    uint8_t pick;
    if (has_vnc && password)
        pick = 2;
    else if (has_none)
        pick = 1;
    else if (has_vnc)
        return fail(c, RFBC_ERR_AUTH, "server requires VncAuth and no password was given");
    else
        return fail(c, RFBC_ERR_UNSUPPORTED, "no common security type (server offers %s; we do 1, 2)", offered);
    c->info.security_type = pick;
    return send_all(c, &pick, 1, ms_left(deadline));
}

static int vnc_auth(struct rfbc_client *c, const char *password, int64_t deadline)
{
    if (!password)
        return fail(c, RFBC_ERR_AUTH, "server requires VncAuth and no password was given");
    int r = need_bytes(c, 16, deadline, "the VncAuth challenge");
    if (r)
        return r;
    unsigned char challenge[16];
    memcpy(challenge, unparsed(c), 16);
    consume(c, 16);
    char pw[9] = {0}; /* VncAuth uses at most 8 characters */
    strncpy(pw, password, 8);
    rfbEncryptBytes(challenge, pw);
    return send_all(c, challenge, 16, ms_left(deadline));
}

static int security_result(struct rfbc_client *c, int64_t deadline)
{
    /* 3.3 and 3.7 send no SecurityResult after None. */
    if (c->info.security_type == 1 && c->info.used_minor < 8)
        return RFBC_OK;
    int r = need_bytes(c, 4, deadline, "the SecurityResult");
    if (r)
        return r;
    uint32_t result = be32(unparsed(c));
    consume(c, 4);
    if (result == 0)
        return RFBC_OK;
    if (c->info.used_minor >= 8)
        return read_reason(c, deadline, RFBC_ERR_AUTH, "authentication failed");
    return fail(c, RFBC_ERR_AUTH, "authentication failed (SecurityResult %u, no reason in RFB 3.%d)",
                result, c->info.used_minor);
}

static int server_init(struct rfbc_client *c, int64_t deadline)
{
    int r = need_bytes(c, 24, deadline, "the ServerInit");
    if (r)
        return r;
    const uint8_t *p = unparsed(c);
    uint32_t name_len = be32(p + 20);
    if (name_len > RFBC_MAX_STRING)
        return fail(c, RFBC_ERR_PROTOCOL, "ServerInit desktop name of %u bytes is too long", name_len);
    r = need_bytes(c, 24 + (size_t)name_len, deadline, "the desktop name");
    if (r)
        return r;
    p = unparsed(c);
    c->info.width = be16(p);
    c->info.height = be16(p + 2);
    c->info.bpp = p[4];
    c->info.depth = p[5];
    c->info.big_endian = p[6];
    c->info.true_colour = p[7];
    size_t shown = name_len < sizeof c->info.name ? name_len : sizeof c->info.name - 1;
    memcpy(c->info.name, p + 24, shown);
    c->info.name[shown] = 0;
    consume(c, 24 + (size_t)name_len);
    return rfbc_set_framebuffer_size(c, c->info.width, c->info.height);
}

static int set_pixel_format(struct rfbc_client *c, int timeout_ms)
{
    uint8_t m[20] = {0};
    m[0] = 0;   /* SetPixelFormat */
    m[4] = 32;  /* bits per pixel */
    m[5] = 24;  /* depth */
    m[6] = 0;   /* little-endian: bytes R, G, B, X in memory */
    m[7] = 1;   /* true colour */
    put16(m + 8, 255);
    put16(m + 10, 255);
    put16(m + 12, 255);
    m[14] = 0;  /* red shift */
    m[15] = 8;  /* green shift */
    m[16] = 16; /* blue shift */
    return send_all(c, m, sizeof m, timeout_ms);
}

int rfbc_handshake(struct rfbc_client *c, const char *password, bool shared, int timeout_ms)
{
    int64_t deadline = clock_mono_ms() + timeout_ms;
    int r = read_version(c, deadline);
    if (!r)
        r = choose_security(c, password, deadline);
    if (!r && c->info.security_type == 2)
        r = vnc_auth(c, password, deadline);
    if (!r)
        r = security_result(c, deadline);
    if (r)
        return r;
    uint8_t shared_flag = shared ? 1 : 0;
    r = send_all(c, &shared_flag, 1, ms_left(deadline));
    if (!r)
        r = server_init(c, deadline);
    if (!r)
        r = set_pixel_format(c, ms_left(deadline));
    c->need = 0;
    return r;
}

/* ---- client messages (RFC 6143 section 7.5) ---- */

int rfbc_set_encodings(struct rfbc_client *c, const int32_t *encodings, size_t n, int timeout_ms)
{
    if (n > 0xffff)
        return fail(c, RFBC_ERR_IO, "too many encodings (%zu)", n);
    uint8_t *m = malloc(4 + 4 * n);
    if (!m)
        return fail(c, RFBC_ERR_IO, "out of memory");
    m[0] = 2;
    m[1] = 0;
    put16(m + 2, (unsigned)n);
    for (size_t i = 0; i < n; i++)
        put32(m + 4 + 4 * i, (uint32_t)encodings[i]);
    int r = send_all(c, m, 4 + 4 * n, timeout_ms);
    free(m);
    return r;
}

int rfbc_request_update(struct rfbc_client *c, bool incremental, unsigned x, unsigned y, unsigned w,
                        unsigned h, int timeout_ms)
{
    uint8_t m[10] = {3, incremental ? 1 : 0};
    put16(m + 2, x);
    put16(m + 4, y);
    put16(m + 6, w);
    put16(m + 8, h);
    return send_all(c, m, sizeof m, timeout_ms);
}

int rfbc_request_full_update(struct rfbc_client *c, bool incremental, int timeout_ms)
{
    return rfbc_request_update(c, incremental, 0, 0, c->fb_w, c->fb_h, timeout_ms);
}

int rfbc_send_key(struct rfbc_client *c, bool down, uint32_t keysym, int timeout_ms)
{
    uint8_t m[8] = {4, down ? 1 : 0};
    put32(m + 4, keysym);
    return send_all(c, m, sizeof m, timeout_ms);
}

int rfbc_send_qemu_key(struct rfbc_client *c, bool down, uint32_t keysym, uint32_t xt_keycode,
                       int timeout_ms)
{
    uint8_t m[12] = {255, 0}; /* QEMU client message, extended key event */
    put16(m + 2, down ? 1 : 0);
    put32(m + 4, keysym);
    put32(m + 8, xt_keycode);
    return send_all(c, m, sizeof m, timeout_ms);
}

int rfbc_send_pointer(struct rfbc_client *c, uint8_t buttons, unsigned x, unsigned y, int timeout_ms)
{
    uint8_t m[6] = {5, buttons};
    put16(m + 2, x);
    put16(m + 4, y);
    return send_all(c, m, sizeof m, timeout_ms);
}

/* ---- server messages: the streaming parser ---- */

static int record_size_change(struct rfbc_client *c, unsigned w, unsigned h, int32_t encoding)
{
    if (w == c->fb_w && h == c->fb_h)
        return RFBC_OK;
    int r = rfbc_set_framebuffer_size(c, w, h);
    if (r)
        return r;
    if (c->nchanges < RFBC_MAX_SIZE_CHANGES)
        c->changes[c->nchanges++] = (struct rfbc_size_change){w, h, encoding, rfbc_elapsed_seconds(c)};
    return RFBC_OK;
}

static int check_inside(struct rfbc_client *c, unsigned x, unsigned y, unsigned w, unsigned h, int32_t enc)
{
    if ((uint64_t)x + w > c->fb_w || (uint64_t)y + h > c->fb_h)
        return fail(c, RFBC_ERR_PROTOCOL, "rect %ux%u+%u+%u (encoding %d) lies outside the %ux%u framebuffer",
                    w, h, x, y, enc, c->fb_w, c->fb_h);
    return RFBC_OK;
}

static enum rfbc_rect_kind tight_rect_kind(enum tight_kind k)
{
    switch (k) {
    case TIGHT_KIND_FILL: return RFBC_RECT_TIGHT_FILL;
    case TIGHT_KIND_JPEG: return RFBC_RECT_TIGHT_JPEG;
    case TIGHT_KIND_PALETTE: return RFBC_RECT_TIGHT_PALETTE;
    case TIGHT_KIND_GRADIENT: return RFBC_RECT_TIGHT_GRADIENT;
    case TIGHT_KIND_COPY: break;
    }
    return RFBC_RECT_TIGHT_ZLIB;
}

/* Parses one rect (header + payload) if it is all there. Returns 1 when
 * consumed, 0 when more bytes are needed (c->need set), <0 on error. */
static int parse_rect(struct rfbc_client *c)
{
    size_t avail = c->len - c->start;
    const uint8_t *p = unparsed(c);
    if (avail < 12) {
        c->need = 12;
        return 0;
    }
    unsigned x = be16(p), y = be16(p + 2), w = be16(p + 4), h = be16(p + 6);
    int32_t enc = (int32_t)be32(p + 8);
    const uint8_t *payload = p + 12;
    size_t pavail = avail - 12, plen = 0;
    enum rfbc_rect_kind kind;
    int r;
    switch (enc) {
    case RFBC_ENC_RAW: {
        if ((r = check_inside(c, x, y, w, h, enc)))
            return r;
        kind = RFBC_RECT_RAW;
        plen = (size_t)w * h * 4;
        if (plen > RFBC_MAX_UNIT)
            return fail(c, RFBC_ERR_PROTOCOL, "Raw rect %ux%u is too large", w, h);
        if (pavail < plen)
            break;
        for (unsigned row = 0; row < h; row++)
            memcpy(c->fb + ((size_t)(y + row) * c->fb_w + x) * 4, payload + (size_t)row * w * 4, (size_t)w * 4);
        mark_painted(c, x, y, w, h);
        break;
    }
    case RFBC_ENC_TIGHT: {
        if ((r = check_inside(c, x, y, w, h, enc)))
            return r;
        if (w == 0 || h == 0)
            return fail(c, RFBC_ERR_PROTOCOL, "empty Tight rect %ux%u+%u+%u", w, h, x, y);
        /* The decoder frames the payload too: 1 means it is not all here. */
        r = tight_decode_rect(c->tight, payload, pavail, &plen, x, y, w, h, c->fb, c->fb_w * 4);
        if (r == 1) {
            if (pavail >= RFBC_MAX_UNIT)
                return fail(c, RFBC_ERR_PROTOCOL, "Tight rect payload exceeds %zu bytes", RFBC_MAX_UNIT);
            c->need = avail + 1;
            return 0;
        }
        if (r != 0)
            return fail(c, RFBC_ERR_PROTOCOL, "Tight rect %ux%u+%u+%u (control byte 0x%02x) does not decode",
                        w, h, x, y, pavail ? payload[0] : 0);
        kind = tight_rect_kind(c->tight->last.kind);
        c->stats.tight_stream_resets += c->tight->last.resets != 0;
        mark_painted(c, x, y, w, h);
        break;
    }
    case RFBC_ENC_DESKTOP_SIZE:
        kind = RFBC_RECT_DESKTOP_SIZE;
        if ((r = record_size_change(c, w, h, enc)))
            return r;
        break;
    case RFBC_ENC_EXT_DESKTOP_SIZE:
        kind = RFBC_RECT_EXT_DESKTOP_SIZE;
        if (pavail < 4) {
            c->need = 12 + 4;
            return 0;
        }
        plen = 4 + (size_t)payload[0] * 16;
        if (pavail < plen)
            break;
        /* x is the reason, y the status; w x h is the size either way. */
        if ((r = record_size_change(c, w, h, enc)))
            return r;
        break;
    case RFBC_ENC_H264: {
        if (!c->h264_fn)
            return fail(c, RFBC_ERR_PROTOCOL, "H.264 rect %ux%u+%u+%u without a decoder", w, h, x, y);
        if ((r = check_inside(c, x, y, w, h, enc)))
            return r;
        kind = RFBC_RECT_H264;
        if (pavail < 8) {
            c->need = 12 + 8;
            return 0;
        }
        uint32_t len = be32(payload), flags = be32(payload + 4);
        if (len > RFBC_MAX_UNIT)
            return fail(c, RFBC_ERR_PROTOCOL, "H.264 rect payload of %u bytes", len);
        plen = 8 + (size_t)len;
        if (pavail < plen)
            break;
        if (c->h264_fn(c->h264_ctx, x, y, w, h, flags, payload + 8, len, c->fb, c->fb_w * 4) != 0)
            return fail(c, RFBC_ERR_PROTOCOL, "H.264 rect %ux%u+%u+%u does not decode", w, h, x, y);
        if (len)
            mark_painted(c, x, y, w, h);
        break;
    }
    case RFBC_ENC_LAST_RECT:
        kind = RFBC_RECT_LAST_RECT;
        break;
    case RFBC_ENC_QEMU_EXT_KEY:
        kind = RFBC_RECT_QEMU_EXT_KEY;
        c->qemu_key_acked = true;
        break;
    case RFBC_ENC_RICH_CURSOR:
        kind = RFBC_RECT_CURSOR;
        plen = (size_t)w * h * 4 + (size_t)((w + 7) / 8) * h;
        break;
    case RFBC_ENC_X_CURSOR:
        kind = RFBC_RECT_CURSOR;
        plen = w && h ? 6 + 2 * (size_t)((w + 7) / 8) * h : 0;
        break;
    case RFBC_ENC_POINTER_POS:
        kind = RFBC_RECT_POINTER_POS;
        break;
    case RFBC_ENC_QEMU_LED_STATE:
        kind = RFBC_RECT_LED_STATE;
        plen = 1;
        if (pavail >= plen)
            c->leds = payload[0];
        break;
    default:
        return fail(c, RFBC_ERR_PROTOCOL, "rect %ux%u+%u+%u has encoding %d, which we did not ask for",
                    w, h, x, y, enc);
    }
    if (pavail < plen) {
        c->need = 12 + plen;
        return 0;
    }
    consume(c, 12 + plen);
    if (c->trace)
        fprintf(c->trace, "[%.3f] rect %ux%u+%u+%u encoding %d (%s) payload %zu\n", rfbc_elapsed_seconds(c), w, h,
                x, y, enc, rfbc_rect_kind_name(kind), plen);
    c->stats.rects++;
    c->stats.rects_by_kind[kind]++;
    if (enc == RFBC_ENC_LAST_RECT)
        c->rects_left = 1;
    return 1;
}

/* Parses one unit. Returns 2 when a FramebufferUpdate completed, 1 when a
 * unit was consumed, 0 when more bytes are needed, <0 on error. */
static int parse_one(struct rfbc_client *c)
{
    size_t avail = c->len - c->start;
    const uint8_t *p = unparsed(c);
    c->need = 0;
    if (c->state == PARSE_SKIP) {
        size_t n = avail < c->skip_left ? avail : (size_t)c->skip_left;
        consume(c, n);
        c->skip_left -= n;
        if (c->skip_left == 0)
            c->state = PARSE_MESSAGE;
        c->need = 1;
        return n > 0 || c->state == PARSE_MESSAGE;
    }
    if (c->state == PARSE_RECT) {
        int r = parse_rect(c);
        if (r <= 0)
            return r;
        if (--c->rects_left > 0)
            return 1;
        c->state = PARSE_MESSAGE;
        c->stats.updates++;
        return 2;
    }
    if (avail < 1) {
        c->need = 1;
        return 0;
    }
    switch (p[0]) {
    case 0: /* FramebufferUpdate */
        if (avail < 4) {
            c->need = 4;
            return 0;
        }
        c->rects_left = be16(p + 2);
        consume(c, 4);
        if (c->trace)
            fprintf(c->trace, "[%.3f] FramebufferUpdate, %u rects\n", rfbc_elapsed_seconds(c), c->rects_left);
        if (c->rects_left == 0) {
            c->stats.updates++;
            return 2;
        }
        c->state = PARSE_RECT;
        return 1;
    case 1: { /* SetColourMapEntries: ignored, we asked for true colour */
        if (avail < 6) {
            c->need = 6;
            return 0;
        }
        size_t n = 6 + 6 * (size_t)be16(p + 4);
        if (avail < n) {
            c->need = n;
            return 0;
        }
        consume(c, n);
        c->stats.colour_map_entries_msgs++;
        return 1;
    }
    case 2: /* Bell */
        consume(c, 1);
        c->stats.bells++;
        return 1;
    case 3: /* ServerCutText: skipped as it streams in, whatever its length */
        if (avail < 8) {
            c->need = 8;
            return 0;
        }
        c->skip_left = be32(p + 4);
        consume(c, 8);
        c->stats.cut_texts++;
        if (c->skip_left > 0)
            c->state = PARSE_SKIP;
        return 1;
    default:
        return fail(c, RFBC_ERR_PROTOCOL, "server sent unknown message type %u", p[0]);
    }
}

static void note_update_done(struct rfbc_client *c)
{
    struct rfbc_stats *s = &c->stats;
    if (s->first_full_updates == 0 && rfbc_fully_painted(c)) {
        s->first_full_updates = s->updates;
        s->first_full_rects = s->rects;
        /* what the parser has consumed, not what sits unparsed in the buffer */
        s->first_full_bytes = s->bytes_received - (c->len - c->start);
        s->first_full_seconds = rfbc_elapsed_seconds(c);
    }
}

/* Parses until a FramebufferUpdate completes (1) or more bytes are needed (0). */
static int parse_available(struct rfbc_client *c)
{
    for (;;) {
        int r = parse_one(c);
        if (r == 2)
            note_update_done(c);
        if (r < 0 || r == 2)
            return r < 0 ? r : 1;
        if (r == 0)
            return 0;
    }
}

int rfbc_feed(struct rfbc_client *c, const uint8_t *data, size_t n)
{
    int r = reserve(c, c->len - c->start + n);
    if (r)
        return r;
    memcpy(c->buf + c->len, data, n);
    c->len += n;
    c->stats.bytes_received += n;
    int updates = 0;
    while ((r = parse_available(c)) > 0)
        updates++;
    return r < 0 ? r : updates;
}

int rfbc_wait_update(struct rfbc_client *c, int timeout_ms)
{
    int64_t deadline = clock_mono_ms() + timeout_ms;
    for (;;) {
        int r = parse_available(c);
        if (r)
            return r < 0 ? r : RFBC_OK;
        r = recv_some(c, deadline, "a framebuffer update");
        if (r)
            return r;
    }
}

int rfbc_wait_closed(struct rfbc_client *c, int timeout_ms)
{
    int64_t deadline = clock_mono_ms() + timeout_ms;
    for (;;) {
        c->start = c->len = 0; /* everything the server says now is discarded */
        c->need = 0;
        int r = recv_some(c, deadline, "the server to close the connection");
        if (r)
            return r;
    }
}
