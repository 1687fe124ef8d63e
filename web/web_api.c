/* Routes: static files for the UI and noVNC, and the JSON API (web/API.md).
 * The API's HID calls go to the web_hid backend when main.c wired one. */
#include <errno.h>
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

static void api(struct web_conn *c)
{
    const char *p = c->path + 4; /* after "/api" */
    struct route { const char *path; int method; };
    static const struct route routes[] = {
        {"/setup", LWSHUMETH_GET}, {"/setup", LWSHUMETH_POST}, {"/login", LWSHUMETH_POST},
        {"/logout", LWSHUMETH_POST}, {"/session", LWSHUMETH_GET}, {"/info", LWSHUMETH_GET},
        {"/metrics", LWSHUMETH_GET}, {"/snapshot.jpg", LWSHUMETH_GET}, {"/stream.mjpg", LWSHUMETH_GET},
        {"/hid/keys", LWSHUMETH_POST}, {"/hid/combo", LWSHUMETH_POST}, {"/hid/paste", LWSHUMETH_POST},
        {"/hid/mouse", LWSHUMETH_POST}, {"/totp/setup", LWSHUMETH_POST},
        {"/totp/enable", LWSHUMETH_POST}, {"/totp/disable", LWSHUMETH_POST},
        {"/atx", LWSHUMETH_GET}, {"/sensors", LWSHUMETH_GET},
        {"/log", LWSHUMETH_GET},
    };
    bool known = false;
    for (size_t i = 0; i < sizeof(routes) / sizeof(routes[0]); i++) {
        if (strcmp(routes[i].path, p) != 0)
            continue;
        known = true;
        if (routes[i].method == c->method)
            goto found;
    }
    if (strncmp(p, "/atx/", 5) == 0 && c->method == LWSHUMETH_POST)
        goto found;
    if (strcmp(p, "/vmedia") == 0 || strncmp(p, "/vmedia/", 8) == 0)
        goto found; /* web_vmedia_call checks methods */
    if (known || strncmp(p, "/atx/", 5) == 0) {
        web_reply_error(c, 405, "%s is not allowed on %s", method_name(c->method), c->path);
        return;
    }
    web_reply_error(c, 404, "no such endpoint: %s", c->path);
    return;
found:
    if (is_post(c) && c->body_len && !json_body_ok(c))
        return;
    if (strcmp(p, "/setup") == 0) {
        if (is_get(c))
            web_auth_setup_get(c);
        else if (origin_ok(c))
            web_auth_setup_post(c);
        return;
    }
    if (strcmp(p, "/login") == 0) {
        if (origin_ok(c))
            web_auth_login(c);
        return;
    }
    if (strcmp(p, "/logout") == 0) {
        web_auth_logout(c);
        return;
    }
    if (strcmp(p, "/session") == 0) {
        web_auth_session(c);
        return;
    }
    if (strncmp(p, "/totp/", 6) == 0) {
        web_auth_totp(c, p + 6);
        return;
    }
    if (web_auth_request(c, !is_get(c)) < 0)
        return;
    if (strcmp(p, "/info") == 0)
        web_info_reply(c);
    else if (strcmp(p, "/metrics") == 0)
        web_metrics_reply(c);
    else if (strcmp(p, "/snapshot.jpg") == 0)
        web_stream_snapshot(c);
    else if (strcmp(p, "/stream.mjpg") == 0)
        web_stream_mjpeg(c);
    else if (strcmp(p, "/atx") == 0)
        web_atx_get(c);
    else if (strncmp(p, "/atx/", 5) == 0)
        web_atx_post(c, p + 5);
    else if (strcmp(p, "/sensors") == 0)
        web_sensors_get(c);
    else if (strncmp(p, "/vmedia", 7) == 0)
        web_vmedia_call(c, p + 7);
    else if (strcmp(p, "/log") == 0)
        web_log_get(c);
    else
        hid_call(c, p + 5);
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
    if (strncmp(c->path, "/novnc/", 7) == 0) {
        web_serve_file(c, c->w->novnc, c->path + 6);
        return;
    }
    web_serve_file(c, c->w->root, strcmp(c->path, "/") == 0 ? "/index.html" : c->path);
}
