/* GET /api/snapshot.jpg and GET /api/stream.mjpg: full-frame JPEGs from the
 * server thread (server_request_jpeg), shared by every reader. A stream
 * sends one frame at a time and asks for the next only when its socket took
 * the last one, so a slow reader skips frames instead of piling them up. */
#include <stdio.h>
#include <string.h>

#include "common/clock.h"
#include "common/log.h"
#include "web/web_internal.h"

#define BOUNDARY "piglixframe"
#define PART_TAIL "\r\n"

void web_stream_snapshot(struct web_conn *c)
{
    const struct server_jpeg *j = server_request_jpeg(c->w->srv, 0);
    if (j) {
        c->w->stats.snapshots++;
        web_reply_jpeg(c, j);
        return;
    }
    c->kind = WEB_CONN_SNAPSHOT;
    c->wait_since_ms = clock_mono_ms();
    web_longs_add(c);
}

/* Takes the next frame for a stream if one is ready; else it waits. */
static void stream_next(struct web_conn *c)
{
    if (c->frame)
        return;
    const struct server_jpeg *j = server_request_jpeg(c->w->srv, c->last_seq);
    if (!j)
        return;
    c->frame = j;
    c->last_seq = j->seq;
    c->frame_off = 0;
    int n = snprintf(c->part_head, sizeof(c->part_head),
                     "--" BOUNDARY "\r\nContent-Type: image/jpeg\r\nContent-Length: %zu\r\n\r\n", j->len);
    c->part_len = (size_t)n + j->len + strlen(PART_TAIL);
    c->w->stats.stream_frames++;
    lws_callback_on_writable(c->wsi);
}

void web_stream_mjpeg(struct web_conn *c)
{
    c->kind = WEB_CONN_STREAM;
    c->resp.status = 200;
    c->resp.ctype = "multipart/x-mixed-replace; boundary=" BOUNDARY;
    web_resp_header(&c->resp, "Cache-Control: no-store");
    web_longs_add(c);
    LOG_INFO("web", "%s@%s: MJPEG stream started", c->user, c->addr);
    lws_callback_on_writable(c->wsi);
}

void web_stream_jpeg_ready(struct web *w)
{
    for (struct web_conn *c = w->longs, *next; c; c = next) {
        next = c->next_long;
        if (c->kind == WEB_CONN_SNAPSHOT) {
            const struct server_jpeg *j = server_request_jpeg(w->srv, 0);
            if (!j)
                continue;
            web_longs_remove(c);
            c->kind = WEB_CONN_HTTP;
            w->stats.snapshots++;
            web_reply_jpeg(c, j);
        } else if (c->kind == WEB_CONN_STREAM && c->resp.headers_sent) {
            stream_next(c);
        }
    }
}

/* Copies bytes [off, off+n) of head | jpeg | tail into dst. */
static void part_copy(const struct web_conn *c, size_t off, uint8_t *dst, size_t n)
{
    size_t hl = strlen(c->part_head), jl = c->frame->len;
    while (n) {
        const uint8_t *src;
        size_t avail;
        if (off < hl) {
            src = (const uint8_t *)c->part_head + off;
            avail = hl - off;
        } else if (off < hl + jl) {
            src = c->frame->data + (off - hl);
            avail = hl + jl - off;
        } else {
            src = (const uint8_t *)PART_TAIL + (off - hl - jl);
            avail = c->part_len - off;
        }
        size_t k = avail < n ? avail : n;
        memcpy(dst, src, k);
        dst += k;
        off += k;
        n -= k;
    }
}

int web_stream_writeable(struct web_conn *c)
{
    if (!c->resp.headers_sent) {
        if (web_http_write_headers(c, LWS_ILLEGAL_HTTP_CONTENT_LEN) < 0)
            return -1;
        c->resp.headers_sent = true;
        /* a stream has no end: no transaction timeout (the web thread's
         * tick still ends it with its session) */
        lws_set_timeout(c->wsi, NO_PENDING_TIMEOUT, 0);
        stream_next(c);
        return 0;
    }
    if (!c->frame)
        return 0;
    size_t n = c->part_len - c->frame_off;
    if (n > WEB_CHUNK)
        n = WEB_CHUNK;
    uint8_t buf[LWS_PRE + WEB_CHUNK];
    part_copy(c, c->frame_off, buf + LWS_PRE, n);
    if (lws_write(c->wsi, buf + LWS_PRE, n, LWS_WRITE_HTTP) < (int)n)
        return -1;
    c->frame_off += n;
    if (c->frame_off < c->part_len) {
        lws_callback_on_writable(c->wsi);
        return 0;
    }
    server_jpeg_unref(c->frame);
    c->frame = NULL;
    stream_next(c);
    return 0;
}

void web_stream_tick(struct web *w, int64_t now_ms)
{
    for (struct web_conn *c = w->longs, *next; c; c = next) {
        next = c->next_long;
        if (c->kind == WEB_CONN_SNAPSHOT && now_ms - c->wait_since_ms > WEB_SNAPSHOT_WAIT_MS) {
            web_longs_remove(c);
            c->kind = WEB_CONN_HTTP;
            web_reply_error(c, 503, "no picture yet");
        }
    }
}

void web_stream_closed(struct web_conn *c)
{
    if (c->frame) {
        server_jpeg_unref(c->frame);
        c->frame = NULL;
    }
    if (c->kind == WEB_CONN_STREAM)
        LOG_INFO("web", "%s@%s: MJPEG stream ended", c->user, c->addr);
    c->kind = WEB_CONN_HTTP;
}
