/* Tests of the RFB test client (tests/support/rfbclient): handshakes against
 * scripted servers on a socketpair, and the streaming parser fed whole and
 * one byte at a time, which must agree. */
#include <dlfcn.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include <rfb/rfbproto.h>
#include <turbojpeg.h>
#include <zlib.h>

#include "tests/support/rfbclient.h"

/* A growable byte string for scripting what a server says. */
struct bytes {
    uint8_t data[8192];
    size_t len;
};

static void put(struct bytes *b, const void *p, size_t n)
{
    assert_true(b->len + n <= sizeof b->data);
    memcpy(b->data + b->len, p, n);
    b->len += n;
}
static void put8(struct bytes *b, unsigned v) { uint8_t x = (uint8_t)v; put(b, &x, 1); }
static void put16(struct bytes *b, unsigned v) { put8(b, v >> 8); put8(b, v); }
static void put32(struct bytes *b, uint32_t v) { put16(b, v >> 16); put16(b, v & 0xffff); }
static void put_rect(struct bytes *b, unsigned x, unsigned y, unsigned w, unsigned h, int32_t enc)
{
    put16(b, x); put16(b, y); put16(b, w); put16(b, h); put32(b, (uint32_t)enc);
}
static void put_server_init(struct bytes *b, unsigned w, unsigned h, const char *name)
{
    put16(b, w); put16(b, h);
    uint8_t pf[16] = {32, 24, 0, 1, 0, 255, 0, 255, 0, 255, 16, 8, 0};
    put(b, pf, sizeof pf);
    put32(b, (uint32_t)strlen(name));
    put(b, name, strlen(name));
}

/* Runs a handshake with the server's bytes written up front; returns what
 * the client sent in *sent. */
static int scripted_handshake(const struct bytes *script, const char *password, struct bytes *sent,
                              struct rfbc_client **out)
{
    int sv[2];
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    assert_int_equal(write(sv[1], script->data, script->len), (ssize_t)script->len);
    struct rfbc_client *c = rfbc_new();
    assert_non_null(c);
    assert_int_equal(rfbc_attach_fd(c, sv[0]), 0);
    int r = rfbc_handshake(c, password, true, 500);
    shutdown(sv[1], SHUT_WR);
    sent->len = 0;
    ssize_t n;
    while ((n = recv(sv[1], sent->data + sent->len, sizeof sent->data - sent->len, MSG_DONTWAIT)) > 0)
        sent->len += (size_t)n;
    close(sv[1]);
    *out = c;
    return r;
}

static void test_handshake_38_none(void **state)
{
    (void)state;
    struct bytes s = {0}, sent;
    put(&s, "RFB 003.008\n", 12);
    put8(&s, 2); put8(&s, 2); put8(&s, 1); /* VncAuth, None: no password -> None */
    put32(&s, 0);                          /* SecurityResult OK */
    put_server_init(&s, 640, 480, "piglix");
    struct rfbc_client *c;
    assert_int_equal(scripted_handshake(&s, NULL, &sent, &c), RFBC_OK);
    const struct rfbc_server_info *si = rfbc_server_info(c);
    assert_int_equal(si->used_minor, 8);
    assert_int_equal(si->security_type, 1);
    assert_string_equal(si->name, "piglix");
    unsigned w, h, stride;
    assert_non_null(rfbc_framebuffer(c, &w, &h, &stride));
    assert_int_equal(w, 640);
    assert_int_equal(h, 480);
    assert_int_equal(stride, 2560);
    /* version, security choice, shared flag, SetPixelFormat */
    assert_int_equal(sent.len, 12 + 1 + 1 + 20);
    assert_memory_equal(sent.data, "RFB 003.008\n", 12);
    assert_int_equal(sent.data[12], 1);
    assert_int_equal(sent.data[13], 1);
    const uint8_t *pf = sent.data + 14;
    assert_int_equal(pf[0], 0);
    assert_int_equal(pf[4], 32);
    assert_int_equal(pf[5], 24);
    assert_int_equal(pf[6], 0);
    assert_int_equal(pf[7], 1);
    assert_int_equal(pf[14], 0);
    assert_int_equal(pf[15], 8);
    assert_int_equal(pf[16], 16);
    rfbc_free(c);
}

static void test_handshake_33_vncauth(void **state)
{
    (void)state;
    struct bytes s = {0}, sent;
    uint8_t challenge[16];
    for (int i = 0; i < 16; i++)
        challenge[i] = (uint8_t)(i * 17 + 3);
    put(&s, "RFB 003.003\n", 12);
    put32(&s, 2);
    put(&s, challenge, 16);
    put32(&s, 0);
    put_server_init(&s, 8, 4, "x");
    struct rfbc_client *c;
    /* Only the first 8 characters of a VNC password count. */
    assert_int_equal(scripted_handshake(&s, "secret-and-more", &sent, &c), RFBC_OK);
    assert_int_equal(rfbc_server_info(c)->used_minor, 3);
    assert_int_equal(sent.len, 12 + 16 + 1 + 20);
    assert_memory_equal(sent.data, "RFB 003.003\n", 12);
    unsigned char expect[16];
    memcpy(expect, challenge, 16);
    rfbEncryptBytes(expect, "secret-a");
    assert_memory_equal(sent.data + 12, expect, 16);
    assert_memory_not_equal(sent.data + 12, challenge, 16);
    rfbc_free(c);
}

static void test_handshake_auth_failure_reason(void **state)
{
    (void)state;
    struct bytes s = {0}, sent;
    put(&s, "RFB 003.008\n", 12);
    put8(&s, 1); put8(&s, 2);
    uint8_t challenge[16] = {0};
    put(&s, challenge, 16);
    put32(&s, 1);
    put32(&s, 14);
    put(&s, "wrong password", 14);
    struct rfbc_client *c;
    assert_int_equal(scripted_handshake(&s, "pw", &sent, &c), RFBC_ERR_AUTH);
    assert_non_null(strstr(rfbc_error(c), "wrong password"));
    rfbc_free(c);
}

static void test_handshake_refusals(void **state)
{
    (void)state;
    struct bytes s = {0}, sent;
    struct rfbc_client *c;
    put(&s, "RFB 003.007\n", 12);
    put8(&s, 0);
    put32(&s, 4);
    put(&s, "busy", 4);
    assert_int_equal(scripted_handshake(&s, NULL, &sent, &c), RFBC_ERR_AUTH);
    assert_non_null(strstr(rfbc_error(c), "busy"));
    rfbc_free(c);

    s.len = 0; /* VncAuth only, no password */
    put(&s, "RFB 003.008\n", 12);
    put8(&s, 1); put8(&s, 2);
    assert_int_equal(scripted_handshake(&s, NULL, &sent, &c), RFBC_ERR_AUTH);
    rfbc_free(c);

    s.len = 0; /* nothing we speak */
    put(&s, "RFB 003.008\n", 12);
    put8(&s, 2); put8(&s, 16); put8(&s, 19);
    assert_int_equal(scripted_handshake(&s, "pw", &sent, &c), RFBC_ERR_UNSUPPORTED);
    rfbc_free(c);

    s.len = 0;
    put(&s, "HTTP/1.1 400 Bad", 16);
    assert_int_equal(scripted_handshake(&s, NULL, &sent, &c), RFBC_ERR_PROTOCOL);
    rfbc_free(c);
}

static void test_handshake_truncated_times_out(void **state)
{
    (void)state;
    struct bytes s = {0}, sent;
    struct rfbc_client *c;
    put(&s, "RFB 003.008\n", 12);
    put8(&s, 1); put8(&s, 1);
    put32(&s, 0);
    put16(&s, 640); /* ServerInit cut short; the peer stays open */
    int sv[2];
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    assert_int_equal(write(sv[1], s.data, s.len), (ssize_t)s.len);
    c = rfbc_new();
    assert_int_equal(rfbc_attach_fd(c, sv[0]), 0);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    assert_int_equal(rfbc_handshake(c, NULL, true, 200), RFBC_ERR_TIMEOUT);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double took = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    assert_true(took >= 0.15 && took < 2.0);
    rfbc_free(c);
    close(sv[1]);
    (void)sent;
}

/* The server side of a session after the handshake: Bell, colour map,
 * cut text, then three updates exercising every rect type we handle. */
static void script_updates(struct bytes *b)
{
    put8(b, 2); /* Bell */
    put8(b, 1); put8(b, 0); put16(b, 0); put16(b, 2); /* SetColourMapEntries, 2 entries */
    for (int i = 0; i < 12; i++)
        put8(b, i);
    put8(b, 3); put8(b, 0); put16(b, 0); put32(b, 5); put(b, "hello", 5); /* ServerCutText */

    put8(b, 0); put8(b, 0); put16(b, 3); /* update 1: 3 rects on a 4x4 framebuffer */
    put_rect(b, 0, 0, 4, 4, RFBC_ENC_RAW);
    for (int i = 0; i < 16; i++) {
        put8(b, i * 10); put8(b, i); put8(b, 255 - i); put8(b, 0);
    }
    put_rect(b, 0, 0, 3, 2, RFBC_ENC_RICH_CURSOR); /* 3*2*4 pixels + 1*2 mask */
    for (int i = 0; i < 26; i++)
        put8(b, 0xcc);
    put_rect(b, 2, 2, 2, 2, RFBC_ENC_TIGHT);
    put8(b, 0x80); put8(b, 10); put8(b, 20); put8(b, 30); /* fill */

    put8(b, 0); put8(b, 0); put16(b, 0xffff); /* update 2: ends with LastRect */
    put_rect(b, 0, 0, 6, 5, RFBC_ENC_EXT_DESKTOP_SIZE);
    put8(b, 1); put8(b, 0); put16(b, 0);
    put32(b, 0); put16(b, 0); put16(b, 0); put16(b, 6); put16(b, 5); put32(b, 0);
    put_rect(b, 0, 0, 6, 5, RFBC_ENC_TIGHT); /* copy filter, zlib stream 0 (reset) */
    uint8_t raw[6 * 5 * 3], z[256];
    for (size_t i = 0; i < sizeof raw; i++)
        raw[i] = (uint8_t)(i * 7);
    uLongf zlen = sizeof z;
    assert_int_equal(compress(z, &zlen, raw, sizeof raw), Z_OK);
    put8(b, 0x01); /* reset stream 0, basic, stream 0, no filter byte */
    assert_true(zlen < 128);
    put8(b, (unsigned)zlen);
    put(b, z, zlen);
    put_rect(b, 0, 0, 0, 0, RFBC_ENC_LAST_RECT);

    put8(b, 0); put8(b, 0); put16(b, 4); /* update 3 */
    put_rect(b, 0, 0, 0, 0, RFBC_ENC_QEMU_EXT_KEY);
    put_rect(b, 5, 5, 0, 0, RFBC_ENC_POINTER_POS);
    put_rect(b, 0, 0, 2, 2, RFBC_ENC_X_CURSOR); /* 6 colour bytes + 2 * 1 * 2 */
    for (int i = 0; i < 10; i++)
        put8(b, 0);
    put_rect(b, 0, 0, 3, 3, RFBC_ENC_DESKTOP_SIZE);
}

static void check_after_script(struct rfbc_client *c)
{
    const struct rfbc_stats *st = rfbc_stats(c);
    assert_int_equal(st->updates, 3);
    assert_int_equal(st->bells, 1);
    assert_int_equal(st->cut_texts, 1);
    assert_int_equal(st->colour_map_entries_msgs, 1);
    assert_int_equal(st->rects, 3 + 3 + 4);
    assert_int_equal(st->rects_by_kind[RFBC_RECT_RAW], 1);
    assert_int_equal(st->rects_by_kind[RFBC_RECT_TIGHT_FILL], 1);
    assert_int_equal(st->rects_by_kind[RFBC_RECT_TIGHT_ZLIB], 1);
    assert_int_equal(st->rects_by_kind[RFBC_RECT_CURSOR], 2);
    assert_int_equal(st->rects_by_kind[RFBC_RECT_LAST_RECT], 1);
    assert_int_equal(st->rects_by_kind[RFBC_RECT_EXT_DESKTOP_SIZE], 1);
    assert_int_equal(st->rects_by_kind[RFBC_RECT_DESKTOP_SIZE], 1);
    assert_int_equal(st->tight_stream_resets, 1);
    assert_true(rfbc_qemu_key_acked(c));
    assert_int_equal(st->first_full_updates, 1); /* update 1 painted all 4x4 */
    assert_int_equal(st->first_full_rects, 3);
    size_t n;
    const struct rfbc_size_change *ch = rfbc_size_changes(c, &n);
    assert_int_equal(n, 2);
    assert_int_equal(ch[0].width, 6);
    assert_int_equal(ch[0].height, 5);
    assert_int_equal(ch[0].encoding, RFBC_ENC_EXT_DESKTOP_SIZE);
    assert_int_equal(ch[1].width, 3);
    assert_int_equal(ch[1].encoding, RFBC_ENC_DESKTOP_SIZE);
    unsigned w, h, stride;
    rfbc_framebuffer(c, &w, &h, &stride);
    assert_int_equal(w, 3);
    assert_int_equal(h, 3);
    assert_false(rfbc_fully_painted(c)); /* the new size was never painted */
}

static void test_parser_whole_and_bytewise(void **state)
{
    (void)state;
    static struct bytes b;
    b.len = 0;
    script_updates(&b);

    struct rfbc_client *whole = rfbc_new(), *bytewise = rfbc_new();
    assert_int_equal(rfbc_set_framebuffer_size(whole, 4, 4), 0);
    assert_int_equal(rfbc_set_framebuffer_size(bytewise, 4, 4), 0);

    /* Feed only update 1 and check the pixels before later updates resize. */
    size_t upd1_end = 0;
    for (size_t i = 0; i < b.len; i++) {
        int r = rfbc_feed(bytewise, b.data + i, 1);
        assert_true(r >= 0);
        if (r == 1 && !upd1_end) {
            upd1_end = i + 1;
            unsigned w, h, stride;
            const uint8_t *fb = rfbc_framebuffer(bytewise, &w, &h, &stride);
            assert_true(rfbc_fully_painted(bytewise));
            assert_int_equal(fb[(1 * 4 + 1) * 4 + 0], 50);  /* raw pixel 5 */
            assert_int_equal(fb[(1 * 4 + 1) * 4 + 2], 250);
            assert_int_equal(fb[(3 * 4 + 3) * 4 + 0], 10);  /* fill */
            assert_int_equal(fb[(3 * 4 + 3) * 4 + 1], 20);
            assert_int_equal(fb[(3 * 4 + 3) * 4 + 2], 30);
        }
        if (rfbc_stats(bytewise)->updates == 2 && rfbc_stats(bytewise)->rects == 6) {
            unsigned w, h, stride;
            const uint8_t *fb = rfbc_framebuffer(bytewise, &w, &h, &stride);
            assert_int_equal(w, 6);
            for (unsigned p = 0; p < 30; p++)
                for (unsigned k = 0; k < 3; k++)
                    assert_int_equal(fb[p * 4 + k], (uint8_t)((p * 3 + k) * 7));
        }
    }
    assert_true(upd1_end > 0);
    check_after_script(bytewise);

    /* All at once: parse stops after each update; feeding again continues. */
    assert_int_equal(rfbc_feed(whole, b.data, b.len), 3);
    check_after_script(whole);
    assert_int_equal(rfbc_stats(bytewise)->first_full_bytes, upd1_end);
    assert_int_equal(rfbc_stats(whole)->first_full_bytes, upd1_end);
    assert_int_equal(rfbc_stats(whole)->bytes_received, b.len);
    rfbc_free(whole);
    rfbc_free(bytewise);
}

static int feed_one(const void *data, size_t n, unsigned fb_w, unsigned fb_h)
{
    struct rfbc_client *c = rfbc_new();
    assert_int_equal(rfbc_set_framebuffer_size(c, fb_w, fb_h), 0);
    int r = rfbc_feed(c, data, n);
    rfbc_free(c);
    return r;
}

static void test_parser_rejects(void **state)
{
    (void)state;
    struct bytes b = {0};
    put8(&b, 77);
    assert_int_equal(feed_one(b.data, b.len, 4, 4), RFBC_ERR_PROTOCOL);

    b.len = 0; /* an encoding we never asked for (Hextile) */
    put8(&b, 0); put8(&b, 0); put16(&b, 1);
    put_rect(&b, 0, 0, 1, 1, 5);
    assert_int_equal(feed_one(b.data, b.len, 4, 4), RFBC_ERR_PROTOCOL);

    b.len = 0; /* Raw rect past the framebuffer's edge */
    put8(&b, 0); put8(&b, 0); put16(&b, 1);
    put_rect(&b, 3, 0, 2, 1, RFBC_ENC_RAW);
    assert_int_equal(feed_one(b.data, b.len, 4, 4), RFBC_ERR_PROTOCOL);

    b.len = 0; /* Tight PNG (not asked for) */
    put8(&b, 0); put8(&b, 0); put16(&b, 1);
    put_rect(&b, 0, 0, 1, 1, RFBC_ENC_TIGHT);
    put8(&b, 0xa0); put8(&b, 1); put8(&b, 0);
    assert_int_equal(feed_one(b.data, b.len, 4, 4), RFBC_ERR_PROTOCOL);

    b.len = 0; /* incomplete input is not an error */
    put8(&b, 0); put8(&b, 0); put16(&b, 1);
    put_rect(&b, 0, 0, 4, 4, RFBC_ENC_RAW);
    put8(&b, 1);
    assert_int_equal(feed_one(b.data, b.len, 4, 4), 0);
}

static void test_huge_cut_text_is_streamed(void **state)
{
    (void)state;
    struct rfbc_client *c = rfbc_new();
    assert_int_equal(rfbc_set_framebuffer_size(c, 2, 2), 0);
    uint8_t hdr[8] = {3, 0, 0, 0, 0x7f, 0xff, 0xff, 0xff};
    assert_int_equal(rfbc_feed(c, hdr, sizeof hdr), 0);
    static uint8_t chunk[1 << 16];
    for (int i = 0; i < 64; i++) /* 4 MiB of text is skipped, not kept */
        assert_int_equal(rfbc_feed(c, chunk, sizeof chunk), 0);
    assert_int_equal(rfbc_stats(c)->cut_texts, 1);
    rfbc_free(c);
}

/* A Tight JPEG rect (what piglix sends for photo-like tiles) decodes to
 * about the colour it was made from. This also fails when libvncserver's
 * bundled tj* symbols shadow libturbojpeg's (libturbojpeg must come first
 * in the link order): then tjInitDecompress and tjDecompressHeader3 come
 * from different libraries and every JPEG is refused. */
static void test_tight_jpeg(void **state)
{
    (void)state;
    Dl_info init_lib, header_lib;
    assert_true(dladdr((void *)tjInitDecompress, &init_lib) && dladdr((void *)tjDecompressHeader3, &header_lib));
    if (strcmp(init_lib.dli_fname, header_lib.dli_fname) != 0)
        fail_msg("tjInitDecompress comes from %s but tjDecompressHeader3 from %s: "
                 "libturbojpeg must come before libvncserver in the link line",
                 init_lib.dli_fname, header_lib.dli_fname);
    enum { W = 32, H = 16 };
    uint8_t rgb[W * H * 3];
    for (int i = 0; i < W * H; i++) {
        rgb[i * 3] = 200; rgb[i * 3 + 1] = 100; rgb[i * 3 + 2] = 50;
    }
    tjhandle tj = tjInitCompress();
    assert_non_null(tj);
    unsigned char *jpeg = NULL;
    unsigned long jpeg_len = 0;
    assert_int_equal(tjCompress2(tj, rgb, W, W * 3, H, TJPF_RGB, &jpeg, &jpeg_len, TJSAMP_420, 90, 0), 0);
    tjDestroy(tj);
    static struct bytes b;
    b.len = 0;
    put8(&b, 0); put8(&b, 0); put16(&b, 1);
    put_rect(&b, 8, 4, W, H, RFBC_ENC_TIGHT);
    put8(&b, 0x90);
    assert_true(jpeg_len < 16384);
    put8(&b, 0x80 | (jpeg_len & 0x7f));
    put8(&b, (unsigned)(jpeg_len >> 7));
    put(&b, jpeg, jpeg_len);
    tjFree(jpeg);
    struct rfbc_client *c = rfbc_new();
    assert_int_equal(rfbc_set_framebuffer_size(c, 48, 24), 0);
    int r = rfbc_feed(c, b.data, b.len);
    if (r != 1)
        print_error("JPEG rect: %s\n", rfbc_error(c));
    assert_int_equal(r, 1);
    assert_int_equal(rfbc_stats(c)->rects_by_kind[RFBC_RECT_TIGHT_JPEG], 1);
    unsigned w, h, stride;
    const uint8_t *fb = rfbc_framebuffer(c, &w, &h, &stride);
    const uint8_t *px = fb + (size_t)(4 + 8) * stride + (8 + 16) * 4;
    assert_in_range(px[0], 195, 205);
    assert_in_range(px[1], 95, 105);
    assert_in_range(px[2], 45, 55);
    assert_int_equal(fb[0], 0); /* outside the rect: untouched */
    rfbc_free(c);
}

static void test_wait_update_timeout_and_close(void **state)
{
    (void)state;
    int sv[2];
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    struct rfbc_client *c = rfbc_new();
    assert_int_equal(rfbc_attach_fd(c, sv[0]), 0);
    assert_int_equal(rfbc_set_framebuffer_size(c, 2, 2), 0);
    uint8_t half[3] = {0, 0, 0}; /* half a FramebufferUpdate header */
    assert_int_equal(write(sv[1], half, sizeof half), 3);
    assert_int_equal(rfbc_wait_update(c, 100), RFBC_ERR_TIMEOUT);
    uint8_t rest[1] = {0}; /* ... completed later: zero rects */
    assert_int_equal(write(sv[1], rest, 1), 1);
    assert_int_equal(rfbc_wait_update(c, 1000), RFBC_OK);
    assert_int_equal(rfbc_wait_closed(c, 100), RFBC_ERR_TIMEOUT);
    close(sv[1]);
    assert_int_equal(rfbc_wait_update(c, 1000), RFBC_ERR_CLOSED);
    rfbc_free(c);
}

static void test_client_messages(void **state)
{
    (void)state;
    int sv[2];
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    struct rfbc_client *c = rfbc_new();
    assert_int_equal(rfbc_attach_fd(c, sv[0]), 0);
    assert_int_equal(rfbc_set_framebuffer_size(c, 1920, 1080), 0);
    int32_t enc[2] = {RFBC_ENC_TIGHT, RFBC_ENC_QEMU_EXT_KEY};
    assert_int_equal(rfbc_set_encodings(c, enc, 2, 100), 0);
    assert_int_equal(rfbc_request_full_update(c, true, 100), 0);
    assert_int_equal(rfbc_send_key(c, true, 0xff0d, 100), 0);
    assert_int_equal(rfbc_send_qemu_key(c, false, 0x61, 0x1e, 100), 0);
    assert_int_equal(rfbc_send_pointer(c, 5, 300, 200, 100), 0);
    static const uint8_t expect[] = {
        2, 0, 0, 2, 0, 0, 0, 7, 0xff, 0xff, 0xfe, 0xfe,
        3, 1, 0, 0, 0, 0, 0x07, 0x80, 0x04, 0x38,
        4, 1, 0, 0, 0, 0, 0xff, 0x0d,
        255, 0, 0, 0, 0, 0, 0, 0x61, 0, 0, 0, 0x1e,
        5, 5, 0x01, 0x2c, 0x00, 0xc8,
    };
    uint8_t got[sizeof expect + 8];
    ssize_t n = recv(sv[1], got, sizeof got, MSG_DONTWAIT);
    assert_int_equal(n, (ssize_t)sizeof expect);
    assert_memory_equal(got, expect, sizeof expect);
    assert_int_equal(rfbc_stats(c)->bytes_sent, sizeof expect);
    rfbc_free(c);
    close(sv[1]);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_handshake_38_none),
        cmocka_unit_test(test_handshake_33_vncauth),
        cmocka_unit_test(test_handshake_auth_failure_reason),
        cmocka_unit_test(test_handshake_refusals),
        cmocka_unit_test(test_handshake_truncated_times_out),
        cmocka_unit_test(test_parser_whole_and_bytewise),
        cmocka_unit_test(test_parser_rejects),
        cmocka_unit_test(test_huge_cut_text_is_streamed),
        cmocka_unit_test(test_tight_jpeg),
        cmocka_unit_test(test_wait_update_timeout_and_close),
        cmocka_unit_test(test_client_messages),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
