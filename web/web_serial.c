/* The web terminal: a WebSocket (/api/serial) onto the serial console.
 * Each terminal keeps its own offset in the console's ring, so one that
 * reads slowly only falls behind (and is told how much it missed) while
 * the others and the console go on. The console thread only wakes this
 * loop (serial_watch -> lws_cancel_service); the web thread does the rest.
 *
 * Messages: server -> browser: binary = console output; text = JSON
 * {"type":"status",...} on open and on every change, {"type":"lost",
 * "bytes":N} when this terminal fell behind the ring, {"type":"error",...}.
 * Browser -> server: binary = bytes to type; text = JSON {"type":"break"}. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "common/clock.h"
#include "common/log.h"
#include "control/control.h"
#include "serial/serial.h"
#include "web/web_internal.h"

#define WS_SERIAL_MSG (16 * 1024)      /* console output per WebSocket message */
#define WS_SERIAL_PENDING (64 * 1024)  /* typed bytes waiting for the transmit queue */
#define WS_SERIAL_CTRL 256             /* the longest control message */
#define WS_SERIAL_RETRY_US 20000       /* retry typing into a full transmit queue */

struct web_serial_term {
    uint64_t pos;                      /* next console byte to send */
    uint64_t status_seen;              /* serial_status_stamp of the last status sent */
    bool status_sent;
    uint8_t pending[WS_SERIAL_PENDING];
    size_t pending_len;
    bool rx_paused;
    char ctrl[WS_SERIAL_CTRL + 1];
    size_t ctrl_len;
    bool ctrl_too_long;
    uint64_t lost;                     /* to report */
    int64_t opened_ms;
};

/* THE write decision: every byte typed and every BREAK from the web goes
 * through here. Any authenticated session may write for now; roles
 * (viewers read, operators and admins write) are wired in here. */
/* Writers follow the keyboard's rules: an operator or admin, and in
 * [control] mode = exclusive only the keyboard's holder (its terminal is
 * listed under its web session, which holds for it). */
bool web_serial_may_write(const struct web_conn *c)
{
    if (!c->authed || c->role < AUTH_ROLE_OPERATOR)
        return false;
    return !c->w->ctl || control_input(c->w->ctl, c->viewer_ctl_id ? c->viewer_ctl_id : c->ctl_id);
}

static void on_console(void *ctx)
{
    struct web *w = ctx;
    atomic_store(&w->serial_ready, 1);
    lws_cancel_service(w->ctx);
}

void web_set_serial(struct web *w, struct serial_console *console, bool sol)
{
    w->serial = console;
    w->serial_sol = console && sol;
    if (console)
        w->serial_watch = serial_watch(console, on_console, w);
}

void web_serial_detach(struct web *w)
{
    if (w->serial && w->serial_watch)
        serial_unwatch(w->serial, w->serial_watch);
    w->serial_watch = NULL;
}

/* A change of state worth telling terminals about. */
static uint64_t status_stamp(const struct serial_status *st)
{
    return (st->connected ? 1u : 0u) | (st->reconnects << 1);
}

static cJSON *status_json(const struct serial_status *st)
{
    cJSON *j = cJSON_CreateObject();
    cJSON_AddBoolToObject(j, "connected", st->connected);
    cJSON_AddStringToObject(j, "device", st->device);
    cJSON_AddNumberToObject(j, "baud", st->baud);
    cJSON_AddStringToObject(j, "framing", st->framing);
    cJSON_AddStringToObject(j, "flow", st->flow);
    cJSON_AddStringToObject(j, "why", st->connected ? "" : st->why);
    cJSON_AddNumberToObject(j, "rx_bytes", (double)st->rx_bytes);
    cJSON_AddNumberToObject(j, "tx_bytes", (double)st->tx_bytes);
    cJSON_AddNumberToObject(j, "reconnects", (double)st->reconnects);
    cJSON_AddNumberToObject(j, "breaks", (double)st->breaks);
    return j;
}

/* GET /api/serial */
void web_serial_get(struct web_conn *c)
{
    if (!c->w->serial) {
        web_reply_error(c, 404, "no serial console configured ([serial] enabled = no)");
        return;
    }
    struct serial_status st;
    serial_get_status(c->w->serial, &st);
    cJSON *j = status_json(&st);
    cJSON_AddBoolToObject(j, "may_write", web_serial_may_write(c));
    cJSON_AddNumberToObject(j, "terminals", c->w->serial_terms);
    web_reply_json(c, 200, j);
}

/* POST /api/serial/break */
void web_serial_break_post(struct web_conn *c)
{
    if (!c->w->serial) {
        web_reply_error(c, 404, "no serial console configured ([serial] enabled = no)");
        return;
    }
    if (!web_serial_may_write(c)) {
        web_reply_error(c, 403, "this account may not write to the serial console");
        return;
    }
    if (serial_send_break(c->w->serial) < 0) {
        web_reply_error(c, 503, "the serial console's device is not connected");
        return;
    }
    LOG_INFO("web", "%s@%s: serial BREAK", c->user, c->addr);
    web_reply_json(c, 204, NULL);
}

/* All terminals are open: one that may type (an operator or admin) closes
 * the oldest read-only one (a viewer's) rather than be refused, so the
 * lowest role cannot lock the console's writers out by opening them all. */
static bool make_room(struct web_conn *c)
{
    if (c->role < AUTH_ROLE_OPERATOR)
        return false;
    struct web_conn *oldest = NULL;
    for (struct web_conn *o = c->w->longs; o; o = o->next_long)
        if (o->serial_term && !o->closing && o->role < AUTH_ROLE_OPERATOR &&
            (!oldest || o->serial_term->opened_ms < oldest->serial_term->opened_ms))
            oldest = o;
    if (!oldest)
        return false;
    LOG_INFO("web", "%s@%s: serial terminal closed: all %d in use, %s@%s may type", oldest->user, oldest->addr,
             WEB_SERIAL_TERMS_MAX, c->user, c->addr);
    oldest->closing = true;
    lws_callback_on_writable(oldest->wsi);
    return true;
}

bool web_serial_ws_allowed(struct web_conn *c)
{
    if (!c->w->serial) {
        LOG_INFO("web", "%s@%s: serial WebSocket refused: no [serial] console", c->user, c->addr);
        return false;
    }
    if (c->w->serial_terms >= WEB_SERIAL_TERMS_MAX && !make_room(c)) {
        LOG_WARN("web", "%s@%s: serial WebSocket refused: %d terminals open", c->user, c->addr,
                 WEB_SERIAL_TERMS_MAX);
        return false;
    }
    return true;
}

int web_serial_open(struct web_conn *c)
{
    struct web_serial_term *t = calloc(1, sizeof(*t));
    if (!t)
        return -1;
    /* The scrollback: all the ring keeps. */
    t->pos = serial_backlog_pos(c->w->serial, SIZE_MAX);
    t->opened_ms = clock_mono_ms();
    c->serial_term = t;
    c->w->serial_terms++;
    web_control_terminal_open(c); /* in the session list, ended like a viewer */
    web_longs_add(c);
    LOG_INFO("web", "%s@%s: serial terminal connected", c->user, c->addr);
    lws_callback_on_writable(c->wsi);
    return 0;
}

void web_serial_closed(struct web_conn *c)
{
    struct web_serial_term *t = c->serial_term;
    if (!t)
        return;
    c->serial_term = NULL;
    c->w->serial_terms--;
    web_control_viewer_closed(c);
    LOG_INFO("web", "%s@%s: serial terminal disconnected after %lld s", c->user, c->addr,
             (long long)((clock_mono_ms() - t->opened_ms) / 1000));
    free(t);
}

/* The console has news: every terminal gets a writeable callback. */
void web_serial_wake(struct web *w)
{
    if (!atomic_exchange(&w->serial_ready, 0))
        return;
    for (struct web_conn *c = w->longs; c; c = c->next_long)
        if (c->serial_term)
            lws_callback_on_writable(c->wsi);
}

static int send_json(struct web_conn *c, cJSON *j)
{
    char *s = cJSON_PrintUnformatted(j);
    cJSON_Delete(j);
    if (!s)
        return -1;
    size_t n = strlen(s);
    uint8_t *msg = malloc(LWS_PRE + n);
    if (!msg) {
        free(s);
        return -1;
    }
    memcpy(msg + LWS_PRE, s, n);
    free(s);
    int wr = lws_write(c->wsi, msg + LWS_PRE, n, LWS_WRITE_TEXT);
    free(msg);
    return wr < (int)n ? -1 : 0;
}

/* Types what waits; the rest stays (and input pauses) until the queue has room. */
static void flush_pending(struct web_conn *c)
{
    struct web_serial_term *t = c->serial_term;
    if (!t->pending_len)
        return;
    ssize_t n = serial_write(c->w->serial, t->pending, t->pending_len);
    if (n < 0) {            /* no device: what was typed is dropped, as on a real console */
        t->pending_len = 0;
    } else if (n > 0) {
        memmove(t->pending, t->pending + n, t->pending_len - (size_t)n);
        t->pending_len -= (size_t)n;
    }
    if (t->pending_len) {
        if (!t->rx_paused) {
            lws_rx_flow_control(c->wsi, 0);
            t->rx_paused = true;
        }
        lws_set_timer_usecs(c->wsi, WS_SERIAL_RETRY_US);
    } else if (t->rx_paused) {
        lws_rx_flow_control(c->wsi, 1);
        t->rx_paused = false;
    }
}

void web_serial_timer(struct web_conn *c)
{
    if (c->serial_term)
        flush_pending(c);
}

enum web_serial_ctrl web_serial_parse_control(const char *text, size_t len)
{
    cJSON *j = cJSON_ParseWithLength(text, len);
    const cJSON *type = cJSON_GetObjectItemCaseSensitive(j, "type");
    enum web_serial_ctrl r = WEB_SERIAL_CTRL_BAD;
    if (cJSON_IsString(type) && strcmp(type->valuestring, "break") == 0)
        r = WEB_SERIAL_CTRL_BREAK;
    cJSON_Delete(j);
    return r;
}

/* 0, 1 when refused (the status says may_write), -1 to close. */
static int control(struct web_conn *c, const char *text, size_t len)
{
    if (web_serial_parse_control(text, len) != WEB_SERIAL_CTRL_BREAK) {
        LOG_WARN("web", "%s@%s: serial terminal sent an unknown message; closing", c->user, c->addr);
        return -1;
    }
    if (!web_serial_may_write(c))
        return 1;
    if (serial_send_break(c->w->serial) == 0)
        LOG_INFO("web", "%s@%s: serial BREAK", c->user, c->addr);
    return 0;
}

int web_serial_ws_rx(struct web_conn *c, const void *in, size_t len)
{
    struct web_serial_term *t = c->serial_term;
    if (!t || c->closing)
        return t ? 0 : -1;
    if (!lws_frame_is_binary(c->wsi)) {
        if (t->ctrl_len + len > WS_SERIAL_CTRL)
            t->ctrl_too_long = true;
        else {
            memcpy(t->ctrl + t->ctrl_len, in, len);
            t->ctrl_len += len;
        }
        if (!lws_is_final_fragment(c->wsi))
            return 0;
        t->ctrl[t->ctrl_len] = '\0';
        bool too_long = t->ctrl_too_long;
        t->ctrl_len = 0;
        t->ctrl_too_long = false;
        if (too_long)
            return -1;
        int r = control(c, t->ctrl, strlen(t->ctrl));
        if (r > 0) {
            t->status_sent = false; /* the next write says why */
            lws_callback_on_writable(c->wsi);
        }
        return r < 0 ? -1 : 0;
    }
    if (!web_serial_may_write(c))
        return 0;   /* read-only: keys are ignored */
    if (c->session_id) {    /* typing is use of the session */
        struct auth_session *s = auth_session_by_id(&c->w->sessions, c->session_id, clock_mono_ms());
        if (s)
            s->last_ms = clock_mono_ms();
    }
    if (t->pending_len + len > WS_SERIAL_PENDING) {
        LOG_WARN("web", "%s@%s: serial terminal ignores flow control; closing", c->user, c->addr);
        return -1;
    }
    memcpy(t->pending + t->pending_len, in, len);
    t->pending_len += len;
    flush_pending(c);
    return 0;
}

int web_serial_ws_writeable(struct web_conn *c)
{
    struct web_serial_term *t = c->serial_term;
    if (c->closing || !t) {
        static const char why[] = "session ended";
        lws_close_reason(c->wsi, LWS_CLOSE_STATUS_POLICY_VIOLATION, (unsigned char *)why,
                         sizeof(why) - 1);
        return -1;
    }
    struct serial_status st;
    serial_get_status(c->w->serial, &st);
    if (!t->status_sent || status_stamp(&st) != t->status_seen) {
        cJSON *j = status_json(&st);
        cJSON_AddStringToObject(j, "type", "status");
        cJSON_AddBoolToObject(j, "may_write", web_serial_may_write(c));
        t->status_sent = true;
        t->status_seen = status_stamp(&st);
        if (send_json(c, j) < 0)
            return -1;
        lws_callback_on_writable(c->wsi);
        return 0;
    }
    uint8_t *msg = malloc(LWS_PRE + WS_SERIAL_MSG);
    if (!msg)
        return -1;
    uint64_t lost = 0;
    size_t n = serial_read(c->w->serial, &t->pos, msg + LWS_PRE, WS_SERIAL_MSG, &lost);
    t->lost += lost;
    if (t->lost) {
        free(msg);
        t->pos -= n; /* sent after the notice */
        cJSON *j = cJSON_CreateObject();
        cJSON_AddStringToObject(j, "type", "lost");
        cJSON_AddNumberToObject(j, "bytes", (double)t->lost);
        t->lost = 0;
        if (send_json(c, j) < 0)
            return -1;
        lws_callback_on_writable(c->wsi);
        return 0;
    }
    int wr = n ? lws_write(c->wsi, msg + LWS_PRE, n, LWS_WRITE_BINARY) : 0;
    free(msg);
    if (wr < (int)n)
        return -1;
    c->w->stats.serial_bytes_to_browser += n;
    if (n == WS_SERIAL_MSG)
        lws_callback_on_writable(c->wsi);
    return 0;
}
