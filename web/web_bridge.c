/* noVNC's WebSocket, bridged into the VNC server: RFB bytes go both ways
 * between the WebSocket and one end of a socketpair whose other end the VNC
 * server adopted as an already-authenticated client (the web session is the
 * authentication). Both directions have bounded buffers; when one fills,
 * reading from its source stops (lws_rx_flow_control) until it drains, so a
 * slow browser slows only its own RFB client, which the VNC server already
 * handles (one update in flight, newest damage wins). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/clock.h"
#include "common/log.h"
#include "server/server.h"
#include "web/web_internal.h"

#define BRIDGE_HIGH (256 * 1024)   /* stop reading the source above this */
#define BRIDGE_HARD (1024 * 1024)  /* a peer that ignores flow control is dropped */
#define BRIDGE_MSG (64 * 1024)     /* bytes per WebSocket message */

/* libvncserver waits up to 100 ms for the first bytes of every new client
 * (to spot WebSocket or TLS clients), blocking the VNC server thread. An RFB
 * client speaks only after the server's version, so the bridge answers for
 * it: it sends the client's version ahead and drops the browser's own, which
 * must be the same (noVNC answers a 3.8 server with 3.8). Until then the
 * browser gets nothing after the server's version: noVNC reads what follows
 * the version in the same message only when more arrives. */
static const char rfb_version[] = "RFB 003.008\n";
#define RFB_VERSION_LEN 12

struct bridge_buf {
    uint8_t *data;
    size_t off, len, cap;
};

struct web_bridge {
    struct web_conn *conn;      /* the WebSocket's connection */
    struct lws *pipe;           /* our end of the socketpair, adopted by lws */
    struct bridge_buf to_browser, to_vnc;
    bool pipe_paused, ws_paused;
    size_t version_seen;        /* bytes of the browser's version dropped so far */
    /* Browser -> server messages are framed here (rfb_msg) and passed on
     * whole: input (key, pointer) counts as use of the session, and what
     * the VNC server would reject is refused before it gets there. */
    enum rfb_msg_stage stage;
    size_t framed;              /* bytes at the front of to_vnc that are whole messages */
    uint64_t sent_to_browser;
    int64_t opened_ms;
};

static int buf_append(struct bridge_buf *b, const void *in, size_t n)
{
    if (b->off && b->off + b->len + n > b->cap) { /* compact before growing */
        memmove(b->data, b->data + b->off, b->len);
        b->off = 0;
    }
    if (b->len + n > BRIDGE_HARD)
        return -1;
    if (b->off + b->len + n > b->cap) {
        size_t cap = b->cap ? b->cap : 16384;
        while (cap < b->len + n)
            cap *= 2;
        uint8_t *d = realloc(b->data, cap);
        if (!d)
            return -1;
        b->data = d;
        b->cap = cap;
    }
    memcpy(b->data + b->off + b->len, in, n);
    b->len += n;
    return 0;
}

static void buf_consume(struct bridge_buf *b, size_t n)
{
    b->off += n;
    b->len -= n;
    if (!b->len)
        b->off = 0;
}

int web_bridge_open(struct web_conn *c)
{
    struct web *w = c->w;
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0, sv) < 0) {
        LOG_ERROR("web", "socketpair: %s", strerror(errno));
        return -1;
    }
    struct web_bridge *b = calloc(1, sizeof(*b));
    if (!b || write(sv[0], rfb_version, RFB_VERSION_LEN) != RFB_VERSION_LEN) {
        free(b);
        close(sv[0]);
        close(sv[1]);
        return -1;
    }
    b->conn = c;
    b->opened_ms = clock_mono_ms();
    b->stage = RFB_STAGE_SECURITY; /* the version is the bridge's (above) */
    c->bridge = b; /* from here on web_bridge_closed frees it and counts the viewer out */
    w->viewers++;
    lws_adopt_desc_t ad;
    memset(&ad, 0, sizeof(ad));
    ad.vh = w->vhost;
    ad.type = LWS_ADOPT_SOCKET;
    ad.fd.sockfd = sv[0];
    ad.vh_prot_name = "piglix-rfb-pipe";
    ad.opaque = b;
    b->pipe = lws_adopt_descriptor_vhost_via_info(&ad);
    if (!b->pipe) { /* lws closed sv[0] */
        close(sv[1]);
        c->bridge = NULL;
        w->viewers--;
        free(b);
        LOG_ERROR("web", "cannot adopt the RFB pipe");
        return -1;
    }
    char who[64]; /* the VNC server keeps 63 characters of it */
    snprintf(who, sizeof(who), "web %.24s@%.34s", c->user, c->addr);
    /* A viewer below operator watches: the VNC server drops its input. */
    bool view_only = c->role < AUTH_ROLE_OPERATOR;
    if (server_adopt_client_session(w->srv, sv[1], who, view_only, web_control_viewer_open(c)) < 0)
        return -1; /* the pipe closes with the WebSocket */
    c->kind = WEB_CONN_WS;
    w->stats.ws_opened++;
    web_longs_add(c);
    LOG_INFO("web", "%s@%s: viewer connected%s", c->user, c->addr, view_only ? " (view only: role viewer)" : "");
    return 0;
}

/* Browser -> VNC server. */
int web_bridge_ws_rx(struct web_conn *c, const void *in, size_t len)
{
    struct web_bridge *b = c->bridge;
    if (!b || !b->pipe)
        return -1;
    if (c->closing)
        return 0;
    if (b->version_seen < RFB_VERSION_LEN) {
        size_t n = RFB_VERSION_LEN - b->version_seen < len ? RFB_VERSION_LEN - b->version_seen : len;
        if (memcmp(in, rfb_version + b->version_seen, n) != 0) {
            LOG_WARN("web", "%s@%s: viewer does not speak RFB 3.8; closing", c->user, c->addr);
            return -1;
        }
        b->version_seen += n;
        in = (const uint8_t *)in + n;
        len -= n;
        if (b->version_seen == RFB_VERSION_LEN)
            lws_callback_on_writable(c->wsi); /* what the server sent since */
        if (!len)
            return 0;
    }
    if (buf_append(&b->to_vnc, in, len) < 0) {
        LOG_WARN("web", "%s@%s: viewer sends faster than the VNC server reads; closing", c->user, c->addr);
        return -1;
    }
    c->w->stats.ws_bytes_from_browser += len;
    bool input = false;
    while (b->framed < b->to_vnc.len) {
        struct rfb_msg_info info;
        int r = rfb_msg_frame(b->stage, b->to_vnc.data + b->to_vnc.off + b->framed,
                              b->to_vnc.len - b->framed, &info);
        if (r < 0) {
            LOG_WARN("web", "%s@%s: viewer sent a bad RFB message (%s); closing", c->user, c->addr, info.error);
            return -1;
        }
        if (r == 0)
            break;
        if (b->stage == RFB_STAGE_NORMAL && (info.type == 4 || info.type == 5))
            input = true;
        b->framed += info.size;
        if (b->stage == RFB_STAGE_SECURITY)
            b->stage = RFB_STAGE_INIT;
        else if (b->stage == RFB_STAGE_INIT)
            b->stage = RFB_STAGE_NORMAL;
    }
    if (input && c->session_id) {
        struct auth_session *s = auth_session_by_id(&c->w->sessions, c->session_id, clock_mono_ms());
        if (s)
            s->last_ms = clock_mono_ms();
    }
    if (b->to_vnc.len > BRIDGE_HIGH && !b->ws_paused) {
        lws_rx_flow_control(c->wsi, 0);
        b->ws_paused = true;
    }
    lws_callback_on_writable(b->pipe);
    return 0;
}

bool web_bridge_make_room(struct web_conn *c)
{
    if (c->role < AUTH_ROLE_OPERATOR)
        return false;
    struct web_conn *oldest = NULL;
    for (struct web_conn *o = c->w->longs; o; o = o->next_long)
        if (o->bridge && !o->closing && o->role < AUTH_ROLE_OPERATOR &&
            (!oldest || o->bridge->opened_ms < oldest->bridge->opened_ms))
            oldest = o;
    if (!oldest)
        return false;
    LOG_INFO("web", "%s@%s: view-only viewer closed: all %d in use, %s@%s may type", oldest->user, oldest->addr,
             c->w->cfg->max_viewers, c->user, c->addr);
    oldest->closing = true;
    lws_callback_on_writable(oldest->wsi);
    return true;
}

/* VNC server -> browser, one message per writeable callback. */
int web_bridge_ws_writeable(struct web_conn *c)
{
    struct web_bridge *b = c->bridge;
    if (c->closing || !b || !b->pipe) {
        const char *why = b && !b->pipe ? "the VNC server closed the connection" : "session ended";
        lws_close_reason(c->wsi, b && !b->pipe ? LWS_CLOSE_STATUS_GOINGAWAY : LWS_CLOSE_STATUS_POLICY_VIOLATION,
                         (unsigned char *)why, strlen(why));
        return -1;
    }
    struct bridge_buf *q = &b->to_browser;
    if (!q->len)
        return 0;
    size_t n = q->len < BRIDGE_MSG ? q->len : BRIDGE_MSG;
    if (b->version_seen < RFB_VERSION_LEN) {
        size_t left = b->sent_to_browser < RFB_VERSION_LEN ? RFB_VERSION_LEN - (size_t)b->sent_to_browser : 0;
        if (n > left)
            n = left;
        if (!n)
            return 0;
    }
    uint8_t *msg = malloc(LWS_PRE + n);
    if (!msg)
        return -1;
    memcpy(msg + LWS_PRE, q->data + q->off, n);
    int wr = lws_write(c->wsi, msg + LWS_PRE, n, LWS_WRITE_BINARY);
    free(msg);
    if (wr < (int)n)
        return -1;
    buf_consume(q, n);
    b->sent_to_browser += n;
    c->w->stats.ws_bytes_to_browser += n;
    if (b->pipe_paused && q->len < BRIDGE_HIGH / 2) {
        lws_rx_flow_control(b->pipe, 1);
        b->pipe_paused = false;
    }
    if (q->len)
        lws_callback_on_writable(c->wsi);
    return 0;
}

void web_bridge_closed(struct web_conn *c)
{
    struct web_bridge *b = c->bridge;
    if (!b)
        return;
    c->bridge = NULL;
    c->w->viewers--;
    web_control_viewer_closed(c);
    LOG_INFO("web", "%s@%s: viewer disconnected after %lld s", c->user, c->addr,
             (long long)((clock_mono_ms() - b->opened_ms) / 1000));
    if (b->pipe) {
        lws_set_opaque_user_data(b->pipe, NULL);
        lws_set_timeout(b->pipe, PENDING_TIMEOUT_KILLED_BY_PARENT, LWS_TO_KILL_ASYNC);
    }
    free(b->to_browser.data);
    free(b->to_vnc.data);
    free(b);
}

int web_bridge_pipe_callback(struct lws *wsi, enum lws_callback_reasons reason, void *in, size_t len)
{
    struct web_bridge *b = lws_get_opaque_user_data(wsi);
    switch (reason) {
    case LWS_CALLBACK_RAW_RX:
        if (!b)
            return -1;
        if (buf_append(&b->to_browser, in, len) < 0)
            return -1;
        if (b->to_browser.len > BRIDGE_HIGH && !b->pipe_paused) {
            lws_rx_flow_control(wsi, 0);
            b->pipe_paused = true;
        }
        lws_callback_on_writable(b->conn->wsi);
        return 0;
    case LWS_CALLBACK_RAW_WRITEABLE: {
        if (!b)
            return -1;
        struct bridge_buf *q = &b->to_vnc;
        if (!b->framed)
            return 0;
        size_t n = b->framed < BRIDGE_MSG ? b->framed : BRIDGE_MSG;
        uint8_t *msg = malloc(LWS_PRE + n);
        if (!msg)
            return -1;
        memcpy(msg + LWS_PRE, q->data + q->off, n);
        int wr = lws_write(wsi, msg + LWS_PRE, n, LWS_WRITE_RAW);
        free(msg);
        if (wr < (int)n)
            return -1;
        buf_consume(q, n);
        b->framed -= n;
        if (b->ws_paused && q->len < BRIDGE_HIGH / 2) {
            lws_rx_flow_control(b->conn->wsi, 1);
            b->ws_paused = false;
        }
        if (b->framed)
            lws_callback_on_writable(wsi);
        return 0;
    }
    case LWS_CALLBACK_RAW_CLOSE:
        if (b) { /* the VNC server closed it: end the WebSocket too */
            b->pipe = NULL;
            b->conn->closing = true;
            lws_callback_on_writable(b->conn->wsi);
        }
        return 0;
    default:
        return 0;
    }
}
