/* The web server's part of control/ (who is connected, who types): its
 * web sessions, API clients, browser viewers and Redfish sessions in the
 * one list, ended here on the web thread; and the API that shows the list
 * and the keyboard (GET /api/sessions, POST /api/sessions/ID/end,
 * GET /api/control, POST /api/control/request|release|take|give/ID). */
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "control/control.h"
#include "web/redfish/redfish_internal.h"
#include "web/web_internal.h"

/* What kind of this server's session an entry is (its control key). */
enum { KEY_WEB = 1, KEY_API, KEY_BROWSER, KEY_REDFISH };

enum auth_role web_account_role(struct web *w, const char *name)
{
    int r = auth_accounts_role(&w->accounts, name);
    /* gone since: listed as a viewer (the entry ends with its credentials) */
    return r < 0 ? AUTH_ROLE_VIEWER : (enum auth_role)r;
}

static void close_long(struct web_conn *c, const char *why)
{
    if (c->closing)
        return;
    LOG_INFO("web", "%s@%s: %s: closing its %s", c->user, c->addr, why, c->kind == WEB_CONN_WS ? "viewer" : "stream");
    c->closing = true;
    lws_callback_on_writable(c->wsi);
}

/* control_owner_service: an admin ended session id of this server. */
static void end_session(void *ctx, unsigned id, uintptr_t key)
{
    struct web *w = ctx;
    bool found = false;
    if (key == KEY_WEB) {
        for (int i = 0; i < AUTH_SESSIONS_MAX && !found; i++) {
            if (w->ctl_web[i].ctl_id != id)
                continue;
            struct auth_session *s = auth_session_by_id(&w->sessions, w->ctl_web[i].auth_id, clock_mono_ms());
            if (s) {
                LOG_INFO("web", "%s@%s: session ended by an admin", s->name, s->addr);
                auth_session_end(s);
                web_auth_revalidate(w); /* its viewers and streams close */
                found = true;
            }
        }
        web_control_sync(w); /* the entry goes with the session */
        return;
    }
    if (key == KEY_API) {
        for (int i = 0; i < WEB_API_CLIENTS; i++) {
            struct web_api_client *a = &w->api_clients[i];
            if (a->ctl_id != id)
                continue;
            LOG_INFO("web", "%s@%s: API client ended by an admin", a->name, a->addr);
            for (struct web_conn *c = w->longs; c; c = c->next_long)
                if (c->ctl_id == id)
                    close_long(c, "API client ended by an admin");
            memset(a, 0, sizeof(*a));
        }
    } else if (key == KEY_BROWSER) {
        for (struct web_conn *c = w->longs; c; c = c->next_long)
            if (c->kind == WEB_CONN_WS && c->viewer_ctl_id == id) {
                close_long(c, "viewer ended by an admin");
                found = true; /* web_bridge_closed closes the entry */
            }
    } else if (key == KEY_REDFISH) {
        redfish_end_session(w->redfish, w, id, "ended by an admin");
    }
    if (!found)
        control_session_close(w->ctl, id);
}

static void wake(void *ctx)
{
    struct web *w = ctx;
    if (w->ctx)
        lws_cancel_service(w->ctx); /* thread-safe: EVENT_WAIT_CANCELLED runs the service */
}

void web_set_control(struct web *w, struct control *ctl)
{
    w->ctl = ctl;
    w->ctl_owner = ctl ? control_owner_add(ctl, "web", wake, end_session, w) : NULL;
}

void web_control_service(struct web *w)
{
    control_owner_service(w->ctl, w->ctl_owner);
}

void web_control_sync(struct web *w)
{
    if (!w->ctl)
        return;
    int64_t now = clock_mono_ms();
    for (int i = 0; i < AUTH_SESSIONS_MAX; i++) {
        const struct auth_session *s = &w->sessions.s[i];
        struct web_ctl_web *m = &w->ctl_web[i];
        if (m->ctl_id && (!s->used || s->id != m->auth_id)) {
            control_session_close(w->ctl, m->ctl_id);
            memset(m, 0, sizeof(*m));
        }
        if (s->used && !m->ctl_id) {
            m->auth_id = s->id;
            m->last_ms = s->last_ms;
            m->ctl_id = control_session_open(w->ctl, w->ctl_owner, CONTROL_IF_WEB, s->name, s->addr,
                                             web_account_role(w, s->name), KEY_WEB, 0);
        } else if (s->used && s->last_ms != m->last_ms) {
            m->last_ms = s->last_ms;
            control_session_touch(w->ctl, m->ctl_id);
        }
    }
    for (int i = 0; i < WEB_API_CLIENTS; i++) {
        struct web_api_client *a = &w->api_clients[i];
        if (a->ctl_id && now - a->last_ms > WEB_API_IDLE_MS) {
            control_session_close(w->ctl, a->ctl_id);
            memset(a, 0, sizeof(*a));
        }
    }
}

/* The API client (account and address) behind a token or Basic request. */
static unsigned api_client(struct web *w, const char *name, const char *addr)
{
    int64_t now = clock_mono_ms();
    struct web_api_client *free_slot = NULL, *oldest = NULL;
    for (int i = 0; i < WEB_API_CLIENTS; i++) {
        struct web_api_client *a = &w->api_clients[i];
        if (a->ctl_id && strcmp(a->name, name) == 0 && strcmp(a->addr, addr) == 0) {
            a->last_ms = now;
            control_session_touch(w->ctl, a->ctl_id);
            return a->ctl_id;
        }
        if (!a->ctl_id && !free_slot)
            free_slot = a;
        if (a->ctl_id && (!oldest || a->last_ms < oldest->last_ms))
            oldest = a;
    }
    if (!free_slot) { /* the least recently used leaves the list (it works on) */
        control_session_close(w->ctl, oldest->ctl_id);
        free_slot = oldest;
    }
    memset(free_slot, 0, sizeof(*free_slot));
    snprintf(free_slot->name, sizeof(free_slot->name), "%s", name);
    snprintf(free_slot->addr, sizeof(free_slot->addr), "%s", addr);
    free_slot->last_ms = now;
    free_slot->ctl_id = control_session_open(w->ctl, w->ctl_owner, CONTROL_IF_API, name, addr,
                                             web_account_role(w, name), KEY_API, 0);
    return free_slot->ctl_id;
}

void web_control_identify(struct web_conn *c)
{
    struct web *w = c->w;
    c->ctl_id = 0;
    if (!w->ctl || !c->user[0])
        return;
    if (!c->session_id) {
        c->ctl_id = api_client(w, c->user, c->addr);
        return;
    }
    web_control_sync(w); /* a session made by this very login is listed now */
    for (int i = 0; i < AUTH_SESSIONS_MAX; i++)
        if (w->ctl_web[i].ctl_id && w->ctl_web[i].auth_id == c->session_id)
            c->ctl_id = w->ctl_web[i].ctl_id;
}

/* A long connection (browser viewer, serial terminal) listed under its web
 * session; an admin ends it through close_long (KEY_BROWSER). */
static unsigned long_open(struct web_conn *c, enum control_iface iface)
{
    struct web *w = c->w;
    if (!w->ctl)
        return 0;
    web_control_identify(c);
    c->viewer_ctl_id = control_session_open(w->ctl, w->ctl_owner, iface, c->user, c->addr,
                                            web_account_role(w, c->user), KEY_BROWSER, c->ctl_id);
    return c->viewer_ctl_id;
}

unsigned web_control_viewer_open(struct web_conn *c) { return long_open(c, CONTROL_IF_BROWSER); }

unsigned web_control_terminal_open(struct web_conn *c) { return long_open(c, CONTROL_IF_SERIAL); }

void web_control_viewer_closed(struct web_conn *c)
{
    control_session_close(c->w->ctl, c->viewer_ctl_id);
    c->viewer_ctl_id = 0;
}

unsigned web_control_redfish_open(struct web *w, const char *name, const char *addr)
{
    if (!w->ctl)
        return 0;
    return control_session_open(w->ctl, w->ctl_owner, CONTROL_IF_REDFISH, name, addr, web_account_role(w, name),
                                KEY_REDFISH, 0);
}

bool web_control_input(struct web_conn *c)
{
    struct web *w = c->w;
    if (!w->ctl || control_input(w->ctl, c->ctl_id))
        return true;
    struct control_state st;
    control_get_state(w->ctl, &st);
    web_reply_error(c, 409, "%s has the keyboard ([control] mode = exclusive): ask for it with POST /api/control/request",
                    st.holder ? st.holder_account : "another session");
    return false;
}

/* ---- the API ---- */

static bool mine(const struct web_conn *c, const struct control_session_info *s)
{
    return c->ctl_id && (s->id == c->ctl_id || s->parent == c->ctl_id);
}

static cJSON *session_json(const struct web_conn *c, const struct control_session_info *s)
{
    cJSON *j = cJSON_CreateObject();
    cJSON_AddNumberToObject(j, "id", s->id);
    cJSON_AddStringToObject(j, "interface", control_iface_name(s->iface));
    cJSON_AddStringToObject(j, "account", s->account);
    cJSON_AddStringToObject(j, "address", s->addr);
    cJSON_AddStringToObject(j, "role", auth_role_name(s->role));
    cJSON_AddNumberToObject(j, "started", (double)(s->start_unix_ms / 1000));
    cJSON_AddNumberToObject(j, "last_activity", (double)(s->last_unix_ms / 1000));
    if (s->parent)
        cJSON_AddNumberToObject(j, "parent", s->parent);
    cJSON_AddBoolToObject(j, "typing", s->typing);
    cJSON_AddBoolToObject(j, "holder", s->holder);
    cJSON_AddBoolToObject(j, "requested", s->requested);
    cJSON_AddNumberToObject(j, "dropped", (double)s->dropped);
    cJSON_AddBoolToObject(j, "you", mine(c, s));
    return j;
}

static struct control_session_info *list(struct web *w, int *n)
{
    web_control_sync(w);
    struct control_session_info *l = malloc(sizeof(*l) * CONTROL_SESSIONS_MAX);
    *n = l ? control_list(w->ctl, l, CONTROL_SESSIONS_MAX) : 0;
    return l;
}

static void sessions_get(struct web_conn *c)
{
    int n;
    struct control_session_info *l = list(c->w, &n);
    if (!l) {
        web_reply_error(c, 503, "out of memory");
        return;
    }
    cJSON *j = cJSON_CreateObject(), *a = cJSON_AddArrayToObject(j, "sessions");
    for (int i = 0; i < n; i++)
        cJSON_AddItemToArray(a, session_json(c, &l[i]));
    cJSON_AddNumberToObject(j, "you", c->ctl_id);
    free(l);
    web_reply_json(c, 200, j);
}

/* The state for the toolbar: who holds the keyboard, who asked, and who
 * else is watching or typing (one request per poll). */
static void control_get_reply(struct web_conn *c, int status)
{
    struct web *w = c->w;
    struct control_state st;
    control_get_state(w->ctl, &st);
    int n;
    struct control_session_info *l = list(w, &n);
    if (!l) {
        web_reply_error(c, 503, "out of memory");
        return;
    }
    cJSON *j = cJSON_CreateObject();
    cJSON_AddStringToObject(j, "mode", st.exclusive ? "exclusive" : "shared");
    cJSON_AddNumberToObject(j, "idle_release_s", st.idle_release_s);
    cJSON_AddNumberToObject(j, "you", c->ctl_id);
    cJSON_AddStringToObject(j, "role", auth_role_name(web_account_role(w, c->user)));
    if (st.holder) {
        cJSON *h = cJSON_AddObjectToObject(j, "holder");
        cJSON_AddNumberToObject(h, "id", st.holder);
        cJSON_AddStringToObject(h, "account", st.holder_account);
        cJSON_AddNumberToObject(h, "idle_s", (double)(st.holder_idle_ms / 1000));
    } else {
        cJSON_AddNullToObject(j, "holder");
    }
    if (st.requested_by) {
        cJSON *q = cJSON_AddObjectToObject(j, "requested_by");
        cJSON_AddNumberToObject(q, "id", st.requested_by);
        cJSON_AddStringToObject(q, "account", st.requested_account);
    } else {
        cJSON_AddNullToObject(j, "requested_by");
    }
    bool you_hold = false;
    cJSON *others = cJSON_AddArrayToObject(j, "others");
    for (int i = 0; i < n; i++) {
        if (mine(c, &l[i])) {
            you_hold |= l[i].holder;
            continue;
        }
        if (!control_iface_inputs(l[i].iface))
            continue; /* a login alone is neither watching nor typing */
        cJSON *o = cJSON_CreateObject();
        cJSON_AddNumberToObject(o, "id", l[i].id);
        cJSON_AddStringToObject(o, "account", l[i].account);
        cJSON_AddStringToObject(o, "interface", control_iface_name(l[i].iface));
        cJSON_AddBoolToObject(o, "typing", l[i].typing);
        cJSON_AddBoolToObject(o, "holder", l[i].holder);
        cJSON_AddItemToArray(others, o);
    }
    free(l);
    cJSON_AddBoolToObject(j, "you_hold", you_hold);
    cJSON_AddNumberToObject(j, "dropped", (double)st.dropped);
    cJSON_AddNumberToObject(j, "handovers", (double)st.handovers);
    web_reply_json(c, status, j);
}

static void reply_control_result(struct web_conn *c, int r, const char *what)
{
    if (r == -1)
        web_reply_error(c, 404, "no such session");
    else if (r == -2 && !control_exclusive(c->w->ctl))
        web_reply_error(c, 409, "[control] mode = shared: everyone with control rights types; nothing to %s", what);
    else if (r == -2)
        web_reply_error(c, 409, "cannot %s: not the holder, or the session may not type", what);
    else
        control_get_reply(c, 200);
}

void web_control_call(struct web_conn *c, const char *sub)
{
    struct web *w = c->w;
    unsigned id;
    enum web_ctl_route r = web_parse_control_path(sub, &id);
    bool get = r == WEB_CTL_SESSIONS || r == WEB_CTL_STATE;
    if (r == WEB_CTL_NONE) {
        web_reply_error(c, 404, "no such endpoint: %s", c->path);
        return;
    }
    if ((c->method == LWSHUMETH_GET) != get) {
        web_reply_error(c, 405, "%s is not allowed on %s", get ? "POST" : "GET", c->path);
        return;
    }
    /* authenticated, and the route's role checked, by web_api.c's table */
    if (!w->ctl) {
        web_reply_error(c, 503, "the session list is not available");
        return;
    }
    bool admin = web_account_role(w, c->user) >= AUTH_ROLE_ADMIN;
    switch (r) {
    case WEB_CTL_SESSIONS:
        sessions_get(c);
        return;
    case WEB_CTL_STATE:
        control_get_reply(c, 200);
        return;
    case WEB_CTL_SESSION_END: {
        if (!admin) {
            web_reply_error(c, 403, "ending a session needs the admin role");
            return;
        }
        struct control_session_info s;
        if (control_get(w->ctl, id, &s) < 0 || control_session_end(w->ctl, id) < 0) {
            web_reply_error(c, 404, "no such session: %u", id);
            return;
        }
        LOG_INFO("web", "%s@%s: ends %s session %u of %s@%s", c->user, c->addr, control_iface_name(s.iface),
                 id, s.account, s.addr);
        cJSON *j = cJSON_CreateObject();
        cJSON_AddBoolToObject(j, "ok", true);
        web_reply_json(c, 202, j); /* its interface ends it on its own thread */
        return;
    }
    case WEB_CTL_REQUEST: {
        int res = control_request(w->ctl, c->ctl_id);
        reply_control_result(c, res < 0 ? res : 0, "ask for the keyboard");
        return;
    }
    case WEB_CTL_RELEASE:
        reply_control_result(c, control_release(w->ctl, c->ctl_id), "release the keyboard");
        return;
    case WEB_CTL_GIVE:
        reply_control_result(c, control_give(w->ctl, c->ctl_id, id), "hand over the keyboard");
        return;
    case WEB_CTL_TAKE:
        if (!admin) {
            web_reply_error(c, 403, "taking the keyboard needs the admin role");
            return;
        }
        reply_control_result(c, control_take(w->ctl, c->ctl_id), "take the keyboard");
        return;
    case WEB_CTL_NONE:
        break;
    }
}
