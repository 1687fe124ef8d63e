/* GET /api/info (JSON for the UI and scripts) and GET /api/metrics
 * (Prometheus text format). Both read the capture slot's statistics and the
 * server's shared copy, never the server thread's own state. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "web/web_internal.h"

#ifndef PIGLIX_VERSION
#define PIGLIX_VERSION "unknown"
#endif

/* Stable identifiers for scripts (capture_signal_name is for people). */
static const char *signal_id(enum capture_signal sig)
{
    switch (sig) {
    case CAPTURE_SIGNAL_OK: return "ok";
    case CAPTURE_SIGNAL_NONE: return "no_signal";
    case CAPTURE_SIGNAL_NO_LOCK: return "no_lock";
    case CAPTURE_SIGNAL_OUT_OF_RANGE: return "out_of_range";
    case CAPTURE_SIGNAL_TIMEOUT: return "timeout";
    case CAPTURE_SIGNAL_NO_DEVICE: return "no_device";
    }
    return "unknown";
}

static cJSON *viewers_json(struct web *w, int *n)
{
    cJSON *arr = cJSON_CreateArray();
    *n = 0;
    for (struct web_conn *c = w->longs; c; c = c->next_long) {
        if (c->kind != WEB_CONN_WS || c->closing)
            continue;
        cJSON *v = cJSON_CreateObject();
        cJSON_AddStringToObject(v, "name", c->user);
        cJSON_AddStringToObject(v, "address", c->addr);
        cJSON_AddItemToArray(arr, v);
        (*n)++;
    }
    return arr;
}

void web_info_reply(struct web_conn *c)
{
    struct web *w = c->w;
    struct capture_stats cs;
    capture_slot_stats(w->slot, &cs);
    struct server_stats ss;
    server_get_stats_shared(w->srv, &ss);
    cJSON *j = cJSON_CreateObject();
    cJSON_AddStringToObject(j, "version", PIGLIX_VERSION);
    cJSON_AddStringToObject(j, "you", c->user);
    cJSON_AddStringToObject(j, "signal", signal_id(cs.signal));
    cJSON_AddStringToObject(j, "signal_text", capture_signal_name(cs.signal));
    cJSON *res = cJSON_AddObjectToObject(j, "resolution");
    cJSON_AddNumberToObject(res, "width", cs.width);
    cJSON_AddNumberToObject(res, "height", cs.height);
    cJSON_AddNumberToObject(j, "fps", (double)(int)(cs.fps * 10 + 0.5) / 10);
    cJSON_AddStringToObject(j, "source", w->capture_source);

    cJSON *cl = cJSON_AddObjectToObject(j, "clients");
    int n_web = 0;
    cJSON *viewers = viewers_json(w, &n_web);
    cJSON_AddNumberToObject(cl, "vnc", ss.clients >= (unsigned)n_web ? ss.clients - (unsigned)n_web : 0);
    cJSON_AddNumberToObject(cl, "web", n_web);
    cJSON_AddItemToObject(cl, "web_viewers", viewers);

    cJSON *hid = cJSON_AddObjectToObject(j, "hid");
    cJSON_AddBoolToObject(hid, "configured", w->have_hid);
    bool online = w->have_hid && w->hid.ops->online && w->hid.ops->online(w->hid.ctx);
    cJSON_AddBoolToObject(hid, "online", online);
    cJSON_AddBoolToObject(hid, "asleep", online && w->hid.ops->asleep && w->hid.ops->asleep(w->hid.ctx));
    int leds = w->have_hid && w->hid.ops->leds ? w->hid.ops->leds(w->hid.ctx) : -1;
    if (leds >= 0) {
        cJSON *l = cJSON_AddObjectToObject(hid, "leds");
        cJSON_AddBoolToObject(l, "scroll_lock", leds & 1);
        cJSON_AddBoolToObject(l, "num_lock", leds & 2);
        cJSON_AddBoolToObject(l, "caps_lock", leds & 4);
    } else {
        cJSON_AddNullToObject(hid, "leds");
    }
    /* Virtual media is not served yet: say so, so UIs can show it. */
    cJSON *media = cJSON_AddObjectToObject(j, "media");
    cJSON_AddBoolToObject(media, "configured", false);
    cJSON_AddItemToObject(j, "atx", web_atx_json(w));
    web_reply_json(c, 200, j);
}

struct text {
    char *buf;
    size_t len, cap;
};

static void put(struct text *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put(struct text *t, const char *fmt, ...)
{
    for (;;) {
        va_list ap;
        va_start(ap, fmt);
        int n = t->buf ? vsnprintf(t->buf + t->len, t->cap - t->len, fmt, ap) : -1;
        va_end(ap);
        if (n >= 0 && (size_t)n < t->cap - t->len) {
            t->len += (size_t)n;
            return;
        }
        size_t cap = t->cap ? t->cap * 2 : 4096;
        char *b = realloc(t->buf, cap);
        if (!b)
            return;
        t->buf = b;
        t->cap = cap;
    }
}

static void metric(struct text *t, const char *name, const char *type, const char *help, double v)
{
    put(t, "# HELP %s %s\n# TYPE %s %s\n%s %.17g\n", name, help, name, type, name, v);
}

void web_metrics_reply(struct web_conn *c)
{
    struct web *w = c->w;
    struct capture_stats cs;
    capture_slot_stats(w->slot, &cs);
    struct server_stats ss;
    server_get_stats_shared(w->srv, &ss);
    int n_web = 0;
    cJSON_Delete(viewers_json(w, &n_web));
    struct text t = {0};
    put(&t, "# HELP piglix_info piglix's version.\n# TYPE piglix_info gauge\npiglix_info{version=\"%s\"} 1\n",
        PIGLIX_VERSION);
    metric(&t, "piglix_capture_signal", "gauge", "1 when the capture has a picture.", cs.signal == CAPTURE_SIGNAL_OK);
    metric(&t, "piglix_capture_width", "gauge", "Captured picture width in pixels.", cs.width);
    metric(&t, "piglix_capture_height", "gauge", "Captured picture height in pixels.", cs.height);
    metric(&t, "piglix_capture_fps", "gauge", "Captured frames per second, recent.", cs.fps);
    metric(&t, "piglix_capture_frames_total", "counter", "Frames captured.", (double)cs.captured);
    metric(&t, "piglix_capture_dropped_total", "counter", "Frames replaced before the server took them.", (double)cs.dropped);
    /* [reliability] capture chip trouble (capture/v4l2.c) */
    metric(&t, "piglix_capture_broken_total", "counter", "Error-flagged, short or undecodable frames, not shown.",
           (double)cs.source.broken);
    metric(&t, "piglix_capture_stalls_total", "counter",
           "Streaming restarted: no good frame within [capture] frame_timeout_ms, no source change.",
           (double)cs.source.stalls);
    metric(&t, "piglix_capture_reopens_total", "counter", "Capture device reopened: streaming would not restart.",
           (double)cs.source.reopens);
    metric(&t, "piglix_vnc_clients", "gauge", "Connected RFB clients (VNC and browsers).", ss.clients);
    metric(&t, "piglix_vnc_connections_total", "counter", "RFB connections accepted.", (double)ss.connections);
    metric(&t, "piglix_vnc_auth_failures_total", "counter", "Failed VNC logins.", (double)ss.auth_failures);
    metric(&t, "piglix_vnc_updates_total", "counter", "Framebuffer updates sent.", (double)ss.updates_sent);
    metric(&t, "piglix_vnc_bytes_total", "counter", "Bytes of updates sent.", (double)ss.bytes_sent);
    metric(&t, "piglix_frames_total", "counter", "Frames the server took.", (double)ss.frames);
    metric(&t, "piglix_frames_static_total", "counter", "Frames that changed nothing.", (double)ss.static_frames);
    metric(&t, "piglix_encodes_total", "counter", "Updates encoded.", (double)ss.encodes);
    metric(&t, "piglix_encode_shared_total", "counter", "Updates reused for another client.", (double)ss.encode_cache_hits);
    metric(&t, "piglix_encode_seconds_total", "counter", "Time spent encoding updates.", (double)ss.encode_ns / 1e9);
    metric(&t, "piglix_h264_frames_total", "counter", "H.264 frames encoded (once for all viewers).", (double)ss.h264_frames);
    metric(&t, "piglix_h264_previews_total", "counter",
           "Previews of pictures with few changes (typing), ahead of their frame.", (double)ss.h264_previews);
    metric(&t, "piglix_h264_preview_bytes_total", "counter", "Bytes of those previews (made once for all viewers).",
           (double)ss.h264_preview_bytes);
    metric(&t, "piglix_h264_rects_total", "counter", "H.264 rectangles (RFB encoding 50) sent.", (double)ss.h264_rects);
    metric(&t, "piglix_h264_bytes_total", "counter", "Bytes of H.264 rectangles sent.", (double)ss.h264_bytes);
    metric(&t, "piglix_h264_resyncs_total", "counter", "Viewers sent tiles to wait for an IDR (new, slow).", (double)ss.h264_resyncs);
    metric(&t, "piglix_h264_encode_seconds_total", "counter", "Time spent converting and encoding H.264.", (double)ss.h264_encode_ns / 1e9);
    metric(&t, "piglix_web_requests_total", "counter", "HTTP requests and WebSocket upgrades.", (double)w->stats.requests);
    metric(&t, "piglix_web_sessions", "gauge", "Live browser sessions.", auth_sessions_count(&w->sessions));
    metric(&t, "piglix_web_viewers", "gauge", "Open browser viewers.", n_web);
    put(&t, "# HELP piglix_web_logins_total Logins by result.\n# TYPE piglix_web_logins_total counter\n"
            "piglix_web_logins_total{result=\"ok\"} %llu\npiglix_web_logins_total{result=\"failed\"} %llu\n"
            "piglix_web_logins_total{result=\"throttled\"} %llu\n",
        (unsigned long long)w->stats.logins_ok, (unsigned long long)w->stats.logins_failed,
        (unsigned long long)w->stats.logins_throttled);
    metric(&t, "piglix_web_password_hashes_total", "counter",
           "Password hashes computed (logins, known names or not).", (double)auth_password_hashes());
    metric(&t, "piglix_web_snapshots_total", "counter", "JPEG snapshots served.", (double)w->stats.snapshots);
    metric(&t, "piglix_web_stream_frames_total", "counter", "MJPEG frames sent.", (double)w->stats.stream_frames);
    metric(&t, "piglix_web_ws_to_browser_bytes_total", "counter", "RFB bytes sent to browsers.",
           (double)w->stats.ws_bytes_to_browser);
    metric(&t, "piglix_web_ws_from_browser_bytes_total", "counter", "RFB bytes from browsers.",
           (double)w->stats.ws_bytes_from_browser);
    metric(&t, "piglix_vnc_input_dropped_total", "counter",
           "Key, pointer and clipboard messages of view-only viewers, dropped.",
           (double)ss.input_dropped_view_only);
    put(&t, "# HELP piglix_role_refusals_total Requests refused for the account's role.\n"
            "# TYPE piglix_role_refusals_total counter\n"
            "piglix_role_refusals_total{interface=\"web\"} %llu\npiglix_role_refusals_total{interface=\"redfish\"} %llu\n",
        (unsigned long long)w->stats.role_refusals, (unsigned long long)w->stats.role_refusals_redfish);
    metric(&t, "piglix_hid_online", "gauge", "1 when the target sees the keyboard and mouse.",
           w->have_hid && w->hid.ops->online && w->hid.ops->online(w->hid.ctx));
    char *hw = web_metrics_hw(w);
    if (hw)
        put(&t, "%s", hw);
    if (!t.buf || !hw) {
        free(t.buf);
        free(hw);
        web_reply_error(c, 503, "out of memory");
        return;
    }
    free(hw);
    web_resp_header(&c->resp, "Cache-Control: no-store");
    web_reply_bytes(c, 200, "text/plain; version=0.0.4; charset=utf-8", (uint8_t *)t.buf, t.len);
}
