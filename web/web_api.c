/* Routes: static files for the UI and noVNC, and the JSON API (web/API.md).
 * The API's HID calls go to the web_hid backend when main.c wired one. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/log.h"
#include "web/redfish/redfish.h"
#include "web/web_internal.h"

static const char *method_name(int m)
{
    switch (m) {
    case LWSHUMETH_GET: return "GET";
    case LWSHUMETH_POST: return "POST";
    case LWSHUMETH_PUT: return "PUT";
    case LWSHUMETH_DELETE: return "DELETE";
    case LWSHUMETH_HEAD: return "HEAD";
    case LWSHUMETH_OPTIONS: return "OPTIONS";
    case LWSHUMETH_PATCH: return "PATCH";
    default: return "?";
    }
}

/* JSON bodies must say so: a cross-site form cannot, and a cross-site
 * fetch() that does needs a CORS preflight piglix never grants. */
static bool json_body_ok(struct web_conn *c)
{
    char ct[128];
    if (web_header(c, WSI_TOKEN_HTTP_CONTENT_TYPE, ct, sizeof(ct)) < 0 ||
        strncasecmp(ct, "application/json", 16) != 0 || (ct[16] && ct[16] != ';' && ct[16] != ' ')) {
        web_reply_error(c, 415, "Content-Type must be application/json");
        return false;
    }
    return true;
}

/* Same-origin check for requests that log in: a cross-site page must not
 * log a victim's browser into the attacker's account. */
static bool origin_ok(struct web_conn *c)
{
    char origin[300], host[300];
    if (web_header(c, WSI_TOKEN_ORIGIN, origin, sizeof(origin)) < 0)
        return true; /* scripts send none; browsers always do on POST */
    web_header(c, WSI_TOKEN_HOST, host, sizeof(host));
    if (web_origin_matches(origin, host))
        return true;
    LOG_WARN("web", "?@%s: %s refused: Origin %s is not this host", c->addr, c->path, origin);
    web_reply_error(c, 403, "cross-origin request refused");
    return false;
}

static int hid_status(int r)
{
    switch (r) {
    case -EINVAL: return 422;
    case -EBUSY: return 409;
    case -ENODEV: return 503;
    default: return 500;
    }
}

static void reply_ok(struct web_conn *c)
{
    cJSON *j = cJSON_CreateObject();
    cJSON_AddBoolToObject(j, "ok", true);
    web_reply_json(c, 200, j);
}

static void hid_call(struct web_conn *c, const char *what)
{
    struct web *w = c->w;
    /* The body is checked first: a bad request is a 400/422 either way. */
    const struct web_hid_ops *ops = w->have_hid ? w->hid.ops : NULL;
    /* [control] mode = exclusive: only the keyboard's holder types, clicks
     * and pastes; anyone else's call is refused whole (409). */
    if (!web_control_input(c))
        return;
    char err[WEB_ERR_MAX] = "";
    int st, r = -EINVAL;
    if (strcmp(what, "keys") == 0 || strcmp(what, "combo") == 0) {
        struct web_keys_req *k = malloc(sizeof(*k));
        if (!k) {
            web_reply_error(c, 503, "out of memory");
            return;
        }
        /* keys ({"keys": [...]}) and combo ({"combo": "a+b"}) both send one
         * chord; text is typed with paste (a backend types one thing at a time). */
        st = web_parse_keys((const char *)c->body, c->body_len, WEB_COMBO_MAX, k, err);
        if (st == 0 && !(ops && ops->combo)) {
            st = 503;
            snprintf(err, sizeof(err), ops ? "the HID backend cannot send keys" : "HID not configured");
        }
        if (st == 0) {
            const char *names[WEB_KEYS_MAX];
            for (int i = 0; i < k->n; i++)
                names[i] = k->keys[i];
            r = ops->combo(w->hid.ctx, names, k->n, err, sizeof(err));
            LOG_INFO("web", "%s@%s: HID %s (%d key%s)%s", c->user, c->addr, what, k->n,
                     k->n == 1 ? "" : "s", r ? " failed" : "");
        }
        free(k);
    } else if (strcmp(what, "paste") == 0) {
        struct web_paste_req p;
        st = web_parse_paste((const char *)c->body, c->body_len, &p, err);
        if (st == 0 && !(ops && ops->paste)) {
            st = 503;
            snprintf(err, sizeof(err), ops ? "the HID backend cannot paste" : "HID not configured");
        }
        if (st == 0) {
            r = ops->paste(w->hid.ctx, p.text, p.layout, err, sizeof(err));
            LOG_INFO("web", "%s@%s: HID paste of %zu bytes, layout %s%s", c->user, c->addr,
                     strlen(p.text), p.layout, r ? " failed" : "");
        }
        free(p.text);
    } else {
        struct web_mouse_req m;
        st = web_parse_mouse((const char *)c->body, c->body_len, &m, err);
        struct capture_stats cs;
        capture_slot_stats(w->slot, &cs);
        if (st == 0 && (!cs.width || m.x >= (int)cs.width || m.y >= (int)cs.height)) {
            st = 422;
            snprintf(err, sizeof(err), "x,y must lie in the picture (%ux%u)", cs.width, cs.height);
        }
        if (st == 0 && !(ops && ops->mouse)) {
            st = 503;
            snprintf(err, sizeof(err), ops ? "the HID backend has no mouse" : "HID not configured");
        }
        if (st == 0) {
            r = ops->mouse(w->hid.ctx, m.x, m.y, cs.width, cs.height, m.buttons);
            LOG_INFO("web", "%s@%s: HID mouse %d,%d buttons %u%s", c->user, c->addr, m.x, m.y,
                     m.buttons, r ? " failed" : "");
        }
    }
    if (st)
        web_reply_error(c, st, "%s", err);
    else if (r)
        web_reply_error(c, hid_status(r), "HID %s failed: %s", what, err[0] ? err : strerror(-r));
    else
        reply_ok(c);
}

static bool is_get(const struct web_conn *c) { return c->method == LWSHUMETH_GET; }
static bool is_post(const struct web_conn *c) { return c->method == LWSHUMETH_POST; }

/* The handlers, each given the route's "*" segment and what follows it
 * (or the path after /api/vmedia for the image store). The routes that
 * log in authenticate from their bodies; every other handler runs after
 * web_auth_request, which checks the route's role. */
static void h_setup_get(struct web_conn *c, const char *arg) { (void)arg; web_auth_setup_get(c); }
static void h_setup_post(struct web_conn *c, const char *arg)
{
    (void)arg;
    if (origin_ok(c))
        web_auth_setup_post(c);
}
static void h_login(struct web_conn *c, const char *arg)
{
    (void)arg;
    if (origin_ok(c))
        web_auth_login(c);
}
static void h_logout(struct web_conn *c, const char *arg) { (void)arg; web_auth_logout(c); }
static void h_session(struct web_conn *c, const char *arg) { (void)arg; web_auth_session(c); }
static void h_totp(struct web_conn *c, const char *arg)
{
    (void)arg;
    web_auth_totp(c, c->path + strlen("/api/totp/"));
}
static void h_info(struct web_conn *c, const char *arg) { (void)arg; web_info_reply(c); }
static void h_metrics(struct web_conn *c, const char *arg) { (void)arg; web_metrics_reply(c); }
static void h_snapshot(struct web_conn *c, const char *arg) { (void)arg; web_stream_snapshot(c); }
static void h_mjpeg(struct web_conn *c, const char *arg) { (void)arg; web_stream_mjpeg(c); }
static void h_hid(struct web_conn *c, const char *arg)
{
    (void)arg;
    hid_call(c, c->path + strlen("/api/hid/"));
}
static void h_atx_get(struct web_conn *c, const char *arg) { (void)arg; web_atx_get(c); }
static void h_atx_post(struct web_conn *c, const char *arg) { web_atx_post(c, arg); }
static void h_sensors(struct web_conn *c, const char *arg) { (void)arg; web_sensors_get(c); }
static void h_vmedia(struct web_conn *c, const char *arg)
{
    (void)arg;
    web_vmedia_call(c, c->path + strlen("/api/vmedia"));
}
static void h_websocket(struct web_conn *c, const char *arg)
{
    (void)arg;
    web_reply_error(c, 400, "%s is a WebSocket (send Upgrade: websocket)", c->path);
}

#define R_PUBLIC (-1) /* no account needed: the route logs in (its body is the credential) */
#define R_VIEWER AUTH_ROLE_VIEWER
#define R_OPERATOR AUTH_ROLE_OPERATOR
#define R_ADMIN AUTH_ROLE_ADMIN

/* Every API route with the least role that may use it: a route added here
 * must say who may call it, and `piglix api-routes` (which the role-matrix
 * test walks, and web/API.md documents) prints this very table. "*" is one
 * path segment. */
static void h_serial(struct web_conn *c, const char *arg)
{
    (void)arg;
    web_serial_get(c);
}

static void h_serial_break(struct web_conn *c, const char *arg)
{
    (void)arg;
    web_serial_break_post(c);
}

static void h_log(struct web_conn *c, const char *arg)
{
    (void)arg;
    web_log_get(c);
}

static void h_health(struct web_conn *c, const char *arg)
{
    (void)arg;
    web_health_get(c);
}

static void h_control(struct web_conn *c, const char *arg)
{
    (void)arg;
    web_control_call(c, c->path + strlen("/api"));
}

static const struct web_route routes[] = {
    {"GET", "/api/setup", R_PUBLIC, h_setup_get},
    {"POST", "/api/setup", R_PUBLIC, h_setup_post},
    {"POST", "/api/login", R_PUBLIC, h_login},
    {"POST", "/api/logout", R_VIEWER, h_logout},
    {"GET", "/api/session", R_VIEWER, h_session},
    {"POST", "/api/totp/setup", R_VIEWER, h_totp}, /* one's own second factor */
    {"POST", "/api/totp/enable", R_VIEWER, h_totp},
    {"POST", "/api/totp/disable", R_VIEWER, h_totp},
    {"GET", "/api/info", R_VIEWER, h_info},
    {"GET", "/api/metrics", R_VIEWER, h_metrics},
    {"GET", "/api/snapshot.jpg", R_VIEWER, h_snapshot},
    {"GET", "/api/stream.mjpg", R_VIEWER, h_mjpeg},
    {"GET", "/api/vnc", R_VIEWER, h_websocket}, /* below operator: view only (web_bridge.c) */
    {"POST", "/api/hid/keys", R_OPERATOR, h_hid},
    {"POST", "/api/hid/combo", R_OPERATOR, h_hid},
    {"POST", "/api/hid/paste", R_OPERATOR, h_hid},
    {"POST", "/api/hid/mouse", R_OPERATOR, h_hid},
    {"GET", "/api/atx", R_VIEWER, h_atx_get},
    {"POST", "/api/atx/*", R_OPERATOR, h_atx_post},
    {"GET", "/api/sensors", R_VIEWER, h_sensors},
    {"GET", "/api/vmedia", R_VIEWER, h_vmedia},
    {"PUT", "/api/vmedia/images/*", R_OPERATOR, h_vmedia},
    {"DELETE", "/api/vmedia/images/*", R_OPERATOR, h_vmedia},
    {"POST", "/api/vmedia/images/*/rename", R_OPERATOR, h_vmedia},
    {"POST", "/api/vmedia/download", R_OPERATOR, h_vmedia},
    {"DELETE", "/api/vmedia/transfers/*", R_OPERATOR, h_vmedia},
    {"POST", "/api/vmedia/mount", R_OPERATOR, h_vmedia},
    {"POST", "/api/vmedia/mount-url", R_OPERATOR, h_vmedia},
    {"POST", "/api/vmedia/eject", R_OPERATOR, h_vmedia},
    /* who is connected, who types (web_control.c) */
    {"GET", "/api/serial", R_VIEWER, h_serial}, /* the console's state; its WebSocket: web_serial.c */
    {"POST", "/api/serial/break", R_OPERATOR, h_serial_break},
    {"GET", "/api/health", R_VIEWER, h_health},
    {"GET", "/api/log", R_VIEWER, h_log}, /* the audit log (web_log.c) */ /* piglix doctor's checks (web_health.c) */
    {"GET", "/api/sessions", R_VIEWER, h_control},
    {"POST", "/api/sessions/*/end", R_ADMIN, h_control},
    {"GET", "/api/control", R_VIEWER, h_control},
    {"POST", "/api/control/request", R_OPERATOR, h_control},
    {"POST", "/api/control/release", R_OPERATOR, h_control},
    {"POST", "/api/control/give/*", R_OPERATOR, h_control},
    {"POST", "/api/control/take", R_ADMIN, h_control},
};

/* pattern matches path, "*" standing for one non-empty segment; *arg is
 * where the first "*" begins in path (for the handler). */
static bool route_match(const char *pattern, const char *path, const char **arg)
{
    while (*pattern) {
        if (*pattern == '*') {
            if (!*path || *path == '/')
                return false;
            if (!*arg)
                *arg = path;
            while (*path && *path != '/')
                path++;
            pattern++;
        } else if (*pattern++ != *path++) {
            return false;
        }
    }
    return *path == '\0';
}

const struct web_route *web_route_find(int method, const char *path, bool *path_known, const char **arg)
{
    const char *m = method_name(method);
    if (path_known)
        *path_known = false;
    for (size_t i = 0; i < sizeof(routes) / sizeof(routes[0]); i++) {
        const char *a = NULL;
        if (!route_match(routes[i].pattern, path, &a))
            continue;
        if (path_known)
            *path_known = true;
        if (strcmp(routes[i].method, m) == 0) {
            if (arg)
                *arg = a ? a : "";
            return &routes[i];
        }
    }
    return NULL;
}

void web_routes_print(FILE *out)
{
    for (size_t i = 0; i < sizeof(routes) / sizeof(routes[0]); i++)
        fprintf(out, "%s %s %s\n", routes[i].method, routes[i].pattern,
                routes[i].role == R_PUBLIC ? "public" : auth_role_name((enum auth_role)routes[i].role));
    redfish_routes_print(out);
}

static void api(struct web_conn *c)
{
    bool known;
    const char *arg = "";
    const struct web_route *r = web_route_find(c->method, c->path, &known, &arg);
    if (!r) {
        if (known)
            web_reply_error(c, 405, "%s is not allowed on %s", method_name(c->method), c->path);
        else
            web_reply_error(c, 404, "no such endpoint: %s", c->path);
        return;
    }
    if (is_post(c) && c->body_len && !json_body_ok(c))
        return;
    /* Every route but the logins goes through web_auth_request, which
     * refuses a role below the route's (web_roles.c). */
    if (r->role != R_PUBLIC && web_auth_request(c, !is_get(c)) < 0)
        return;
    r->fn(c, arg);
}

void web_api_dispatch(struct web_conn *c)
{
    if (c->w->redfish && redfish_path(c->path)) {
        redfish_dispatch(c);
        return;
    }
    if (strcmp(c->path, "/api") == 0 || strncmp(c->path, "/api/", 5) == 0) {
        api(c);
        return;
    }
    if (!is_get(c)) {
        web_reply_error(c, 405, "%s is not allowed on %s", method_name(c->method), c->path);
        return;
    }
    if (strncmp(c->path, "/xterm/", 7) == 0) {
        web_serve_file(c, c->w->xterm, c->path + 6);
        return;
    }
    if (strncmp(c->path, "/novnc/", 7) == 0) {
        web_serve_file(c, c->w->novnc, c->path + 6);
        return;
    }
    web_serve_file(c, c->w->root, strcmp(c->path, "/") == 0 ? "/index.html" : c->path);
}
