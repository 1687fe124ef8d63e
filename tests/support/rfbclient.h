/* tests/support/rfbclient: a small RFB (VNC) client written from RFC 6143 and
 * the community rfbproto notes, for end-to-end tests of piglix's VNC server.
 * It talks RFB 3.3/3.7/3.8 with security None or VncAuth, asks for 32bpp
 * depth-24 little-endian true colour (R shift 0, G 8, B 16: bytes R,G,B,X in
 * memory, the same RGBX layout the server uses internally) and keeps the
 * framebuffer in that layout.
 *
 * Server messages go through a streaming parser over a receive buffer: bytes
 * are consumed only once a whole unit (message header, one rectangle, ...) is
 * there, so a short read is never an error and a bad length never reads out
 * of bounds. Every wait has a deadline, so a silent or stalled server ends in
 * RFBC_ERR_TIMEOUT, never a hang. Tight rectangles are framed and decoded
 * by tests/support/tight_decode (which says when a payload is incomplete).
 *
 * Functions return RFBC_OK (0) or a negative enum rfbc_status; the text of
 * the last failure is in rfbc_error(). Single-threaded. */
#ifndef PIGLIX_TESTS_RFBCLIENT_H
#define PIGLIX_TESTS_RFBCLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

enum rfbc_status {
    RFBC_OK = 0,
    RFBC_ERR_IO = -1,          /* socket error, or a local file/allocation failure */
    RFBC_ERR_TIMEOUT = -2,     /* the deadline passed first */
    RFBC_ERR_CLOSED = -3,      /* the server closed the connection */
    RFBC_ERR_PROTOCOL = -4,    /* the server sent something invalid or unknown */
    RFBC_ERR_AUTH = -5,        /* security failed or was refused (reason in rfbc_error) */
    RFBC_ERR_UNSUPPORTED = -6, /* no common version or security type */
};

/* Encoding numbers (RFC 6143 section 7.7 and the rfbproto registry). */
enum {
    RFBC_ENC_RAW = 0,
    RFBC_ENC_TIGHT = 7,
    RFBC_ENC_H264 = 50,              /* Open H.264: only with a handler (rfbc_set_h264_handler) */
    RFBC_ENC_DESKTOP_SIZE = -223,
    RFBC_ENC_LAST_RECT = -224,
    RFBC_ENC_POINTER_POS = -232,
    RFBC_ENC_RICH_CURSOR = -239,
    RFBC_ENC_X_CURSOR = -240,
    RFBC_ENC_QEMU_EXT_KEY = -258,
    RFBC_ENC_QEMU_LED_STATE = -261,  /* keyboard LEDs: one byte, bit 0 Scroll, 1 Num, 2 Caps */
    RFBC_ENC_EXT_DESKTOP_SIZE = -308,
    RFBC_ENC_JPEG_QUALITY_0 = -32,   /* -32 + level (0..9) */
    RFBC_ENC_COMPRESS_LEVEL_0 = -256, /* -256 + level (0..9) */
};

/* What a received rectangle was; Tight rects are split by subencoding. */
enum rfbc_rect_kind {
    RFBC_RECT_RAW,
    RFBC_RECT_TIGHT_FILL,
    RFBC_RECT_TIGHT_PALETTE,
    RFBC_RECT_TIGHT_ZLIB,     /* basic compression, copy filter (zlib or under 12 bytes raw) */
    RFBC_RECT_TIGHT_GRADIENT,
    RFBC_RECT_TIGHT_JPEG,
    RFBC_RECT_DESKTOP_SIZE,
    RFBC_RECT_EXT_DESKTOP_SIZE,
    RFBC_RECT_LAST_RECT,
    RFBC_RECT_QEMU_EXT_KEY,
    RFBC_RECT_CURSOR,         /* RichCursor or XCursor shape, skipped */
    RFBC_RECT_POINTER_POS,
    RFBC_RECT_LED_STATE,
    RFBC_RECT_H264,
    RFBC_RECT_KIND_COUNT
};
const char *rfbc_rect_kind_name(enum rfbc_rect_kind k); /* "raw", "tight_fill", ... */

struct rfbc_stats {
    uint64_t bytes_received, bytes_sent;
    uint64_t updates;          /* FramebufferUpdate messages completed */
    uint64_t rects;            /* rectangles of every kind, LastRect included */
    uint64_t rects_by_kind[RFBC_RECT_KIND_COUNT];
    uint64_t tight_stream_resets; /* Tight rects whose control byte reset a zlib stream */
    uint64_t pixels_painted;   /* area of Raw and Tight rects */
    uint64_t bells, cut_texts, colour_map_entries_msgs;
    /* The cost of the first full picture: totals at the end of the update
     * that first completed painting every pixel (0 until it happens). */
    uint64_t first_full_bytes, first_full_rects, first_full_updates;
    double first_full_seconds;
};

/* A framebuffer size change announced by DesktopSize or ExtendedDesktopSize. */
struct rfbc_size_change {
    unsigned width, height;
    int32_t encoding;
    double at_seconds;         /* since rfbc_new */
};

struct rfbc_server_info {
    int version_major, version_minor;     /* what the server offered */
    int used_minor;                        /* 3, 7 or 8: what we speak */
    uint8_t security_type;                 /* 1 None, 2 VncAuth */
    unsigned width, height;                /* from ServerInit */
    uint8_t bpp, depth, big_endian, true_colour; /* server's native pixel format */
    char name[256];                        /* desktop name, cut to fit */
};

struct rfbc_client;

struct rfbc_client *rfbc_new(void);
void rfbc_free(struct rfbc_client *c); /* closes the socket; NULL is fine */

const char *rfbc_error(const struct rfbc_client *c);
/* Prints one line per update and rect to trace (NULL: off). */
void rfbc_set_trace(struct rfbc_client *c, FILE *trace);

/* Connects by TCP (non-blocking connect bounded by timeout_ms). rcvbuf > 0
 * sets SO_RCVBUF first, so a client that stops reading stalls the server
 * sooner. */
int rfbc_connect(struct rfbc_client *c, const char *host, const char *port, int timeout_ms,
                 int rcvbuf);
/* Uses an already connected socket (tests use a socketpair); takes ownership. */
int rfbc_attach_fd(struct rfbc_client *c, int fd);

/* Version, security (password NULL: only None is acceptable), ClientInit,
 * ServerInit, then SetPixelFormat (RGBX as above). RFBC_ERR_AUTH carries the
 * server's reason when it gave one. */
int rfbc_handshake(struct rfbc_client *c, const char *password, bool shared, int timeout_ms);

const struct rfbc_server_info *rfbc_server_info(const struct rfbc_client *c);

/* Client-to-server messages; each waits at most timeout_ms for the socket. */
int rfbc_set_encodings(struct rfbc_client *c, const int32_t *encodings, size_t n, int timeout_ms);
int rfbc_request_update(struct rfbc_client *c, bool incremental, unsigned x, unsigned y,
                        unsigned w, unsigned h, int timeout_ms);
int rfbc_request_full_update(struct rfbc_client *c, bool incremental, int timeout_ms);
int rfbc_send_key(struct rfbc_client *c, bool down, uint32_t keysym, int timeout_ms);
/* QEMU Extended Key Event (only if the server acknowledged encoding -258). */
int rfbc_send_qemu_key(struct rfbc_client *c, bool down, uint32_t keysym, uint32_t xt_keycode,
                       int timeout_ms);
int rfbc_send_pointer(struct rfbc_client *c, uint8_t buttons, unsigned x, unsigned y,
                      int timeout_ms);
/* Arbitrary bytes (for malformed-message tests). */
int rfbc_send_bytes(struct rfbc_client *c, const void *data, size_t n, int timeout_ms);

/* Reads and parses server messages until one FramebufferUpdate is complete
 * (RFBC_OK) or timeout_ms passes (RFBC_ERR_TIMEOUT; the parser state is kept,
 * so waiting again continues where it was). */
int rfbc_wait_update(struct rfbc_client *c, int timeout_ms);
/* Reads and discards everything until the server closes (RFBC_ERR_CLOSED,
 * also for a reset) or timeout_ms passes (RFBC_ERR_TIMEOUT). */
int rfbc_wait_closed(struct rfbc_client *c, int timeout_ms);

/* Parses bytes as if received from the socket (tests of the parser). Returns
 * the number of FramebufferUpdates completed, or a negative status. */
int rfbc_feed(struct rfbc_client *c, const uint8_t *data, size_t n);
/* Sets the framebuffer size without a handshake (parser tests). */
int rfbc_set_framebuffer_size(struct rfbc_client *c, unsigned w, unsigned h);

/* Open H.264 (encoding 50): the client parses the rect's length and flags
 * and hands the Annex-B payload to fn, which decodes it into fb (RGBX,
 * stride bytes a row) at the rect; fn returns 0, or -1 to fail the parse.
 * The client links no decoder itself (a bench brings libavcodec). Without a
 * handler an encoding-50 rect is a protocol error. */
typedef int (*rfbc_h264_fn)(void *ctx, unsigned x, unsigned y, unsigned w, unsigned h, uint32_t flags,
                            const uint8_t *data, size_t len, uint8_t *fb, unsigned stride);
void rfbc_set_h264_handler(struct rfbc_client *c, rfbc_h264_fn fn, void *ctx);

/* The framebuffer: width*height pixels of R,G,B,X; stride = 4*width. */
const uint8_t *rfbc_framebuffer(const struct rfbc_client *c, unsigned *width, unsigned *height,
                                unsigned *stride);
/* True once every pixel was painted by a Raw or Tight rect since the last
 * size change (or since rfbc_reset_painted). */
bool rfbc_fully_painted(const struct rfbc_client *c);
void rfbc_reset_painted(struct rfbc_client *c);
/* True once the server acknowledged the QEMU extended key encoding. */
bool rfbc_qemu_key_acked(const struct rfbc_client *c);
/* The last QEMU LED state received (bit 0 Scroll, 1 Num, 2 Caps Lock), or
 * -1 before any. */
int rfbc_keyboard_leds(const struct rfbc_client *c);

const struct rfbc_stats *rfbc_stats(const struct rfbc_client *c);
const struct rfbc_size_change *rfbc_size_changes(const struct rfbc_client *c, size_t *count);
double rfbc_elapsed_seconds(const struct rfbc_client *c);

#endif
