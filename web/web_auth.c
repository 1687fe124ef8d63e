/* Who makes a request: a session cookie (browsers; state changes must show
 * the session's CSRF token), HTTP Basic or an API token (scripts). Login,
 * logout, the first-account set-up page and TOTP set-up. Failed logins are
 * throttled per address and per account with doubling delays. Every login,
 * failure and change is logged with account and address, never a secret. */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "audit/audit.h"
#include "common/clock.h"
#include "common/log.h"
#include "web/redfish/redfish.h"
#include "web/web_internal.h"
#include "auth/auth.h"

#define CSRF_HEADER "x-csrf-token:"

/* Two tables: addresses (bounded, may forget idle addresses) and accounts
 * (one entry per existing account at most, never evicted). A name that is
 * no account gets no state of its own: inventing names grows nothing. */
static bool is_account(struct web *w, const char *name)
{
    return name && name[0] && auth_accounts_find(&w->accounts, name) != NULL;
}

int web_auth_throttle_wait(struct web_conn *c, const char *name)
{
    struct web *w = c->w;
    int64_t now = clock_mono_ms();
    int wait = auth_throttle_check(w->throttle, c->addr, now);
    if (is_account(w, name)) {
        int u = auth_throttle_check(w->acct_throttle, name, now);
        if (u > wait)
            wait = u;
    }
    return wait;
}

void web_auth_throttle_record(struct web_conn *c, const char *name, bool ok)
{
    struct web *w = c->w;
    int64_t now = clock_mono_ms();
    auth_throttle_record(w->throttle, c->addr, ok, now);
    if (is_account(w, name))
        auth_throttle_record(w->acct_throttle, name, ok, now);
}

static bool keep_account(const char *key, void *ctx)
{
    return is_account(ctx, key);
}

void web_auth_throttle_prune(struct web *w)
{
    auth_throttle_prune(w->acct_throttle, keep_account, w);
}

/* A printable copy of a name the client sent, for logs. */
static const char *log_name(const char *name, char *buf, size_t n)
{
    snprintf(buf, n, "%s", auth_name_valid(name) ? name : "(invalid name)");
    return buf;
}

bool web_auth_hash_budget(struct web *w)
{
    int64_t now = clock_mono_ms();
    if (now - w->hash_window_ms >= 1000) {
        w->hash_window_ms = now;
        w->hashes_in_window = 0;
    }
    if (w->hashes_in_window >= WEB_HASHES_PER_S)
        return false;
    w->hashes_in_window++;
    return true;
}

struct auth_fail {
    int status;
    int retry_after;
    char msg[160];
};

static int fail(struct auth_fail *f, int status, const char *msg)
{
    f->status = status;
    snprintf(f->msg, sizeof(f->msg), "%s", msg);
    return -1;
}

static int throttled(struct web_conn *c, struct auth_fail *f, int wait, const char *name)
{
    char nb[AUTH_NAME_MAX + 20];
    c->w->stats.logins_throttled++;
    LOG_WARN("web", "%s@%s: refused, too many failed logins (retry in %d s)",
             log_name(name ? name : "", nb, sizeof(nb)), c->addr, wait);
    audit_record(AUDIT_LOGIN_FAILED, web_audit_iface(c), AUDIT_REFUSED, name, c->addr,
                 "too many failed logins: retry in %d s", wait);
    f->retry_after = wait;
    return fail(f, 429, "too many failed logins: try again later");
}

static int identify_header(struct web_conn *c, const char *auth, struct auth_fail *f)
{
    struct web *w = c->w;
    char token[160], user[AUTH_NAME_MAX + 2], pass[AUTH_PASSWORD_MAX + 1], nb[AUTH_NAME_MAX + 20];
    if (web_bearer_parse(auth, token, sizeof(token)) == 0) {
        int wait = web_auth_throttle_wait(c, NULL);
        if (wait)
            return throttled(c, f, wait, NULL);
        struct auth_account *acc = auth_accounts_check_token(&w->accounts, token);
        explicit_bzero(token, sizeof(token));
        if (!acc) {
            web_auth_throttle_record(c, NULL, false);
            LOG_WARN("web", "?@%s: wrong API token", c->addr);
            audit_record(AUDIT_LOGIN_FAILED, web_audit_iface(c), AUDIT_FAILED, NULL, c->addr, "wrong API token");
            return fail(f, 401, "wrong API token");
        }
        snprintf(c->user, sizeof(c->user), "%s", acc->name);
        auth_account_fingerprint(acc, c->cred_fp);
        return 0;
    }
    if (web_basic_auth_parse(auth, user, sizeof(user), pass, sizeof(pass)) == 0) {
        int wait = web_auth_throttle_wait(c, user);
        if (wait)
            return throttled(c, f, wait, user);
        if (c->kind == WEB_CONN_WS) {
            /* An upgrade is decided at once, and a hash is not done on the
             * event loop: browsers use the cookie, scripts an API token. */
            explicit_bzero(pass, sizeof(pass));
            return fail(f, 401, "WebSocket viewers log in with the session cookie or an API token");
        }
        struct auth_account *acc;
        enum web_pw pw = web_auth_password(c, user, pass, &acc);
        explicit_bzero(pass, sizeof(pass));
        if (pw == WEB_PW_PENDING)
            return fail(f, 0, ""); /* dispatched again when the hash is done */
        if (pw == WEB_PW_BUSY) {
            f->retry_after = 1;
            return fail(f, 503, "too many logins at once: retry in a second (scripts: use an API token)");
        }
        if (!acc) {
            web_auth_throttle_record(c, user, false);
            w->stats.logins_failed++;
            LOG_WARN("web", "%s@%s: wrong name or password (HTTP Basic)", log_name(user, nb, sizeof(nb)), c->addr);
            audit_record(AUDIT_LOGIN_FAILED, web_audit_iface(c), AUDIT_FAILED, user, c->addr,
                         "wrong name or password (HTTP Basic)");
            return fail(f, 401, "wrong name or password");
        }
        if (acc->totp[0]) {
            /* The same answer as a wrong password, and a failure as well. */
            web_auth_throttle_record(c, user, false);
            w->stats.logins_failed++;
            LOG_WARN("web", "%s@%s: HTTP Basic refused: the account uses TOTP (use an API token)", acc->name, c->addr);
            audit_record(AUDIT_LOGIN_FAILED, web_audit_iface(c), AUDIT_FAILED, acc->name, c->addr,
                         "HTTP Basic on an account with TOTP");
            return fail(f, 401, "wrong name or password");
        }
        web_auth_throttle_record(c, user, true);
        snprintf(c->user, sizeof(c->user), "%s", acc->name);
        auth_account_fingerprint(acc, c->cred_fp);
        return 0;
    }
    return fail(f, 401, "unsupported Authorization header (use Basic or Bearer)");
}

/* 0 with c->user (and c->session_id for cookies) set, or -1 with *f filled. */
static int identify(struct web_conn *c, bool csrf, struct auth_fail *f)
{
    struct web *w = c->w;
    memset(f, 0, sizeof(*f));
    if (w->accounts.n == 0)
        return fail(f, 403, "no account exists yet: create one on the set-up page "
                            "(token in piglix's log) or with `piglix user add NAME`");
    char auth[700];
    if (web_header(c, WSI_TOKEN_HTTP_AUTHORIZATION, auth, sizeof(auth)) > 0)
        return identify_header(c, auth, f);
    char cookies[2048], tok[AUTH_SESSION_TOKEN_HEX + 2];
    struct auth_session *s = NULL;
    /* The UI's status polls do not keep a session alive: only what a
     * person does counts (other requests, and input in the viewer). */
    char poll[4];
    bool touch = web_header_custom(c, "x-piglix-poll:", poll, sizeof(poll)) < 0;
    if (web_header(c, WSI_TOKEN_HTTP_COOKIE, cookies, sizeof(cookies)) > 0 &&
        web_cookie_get(cookies, WEB_SESSION_COOKIE, tok, sizeof(tok)) > 0)
        s = auth_session_find(&w->sessions, tok, clock_mono_ms(), touch);
    if (s && !web_auth_cred_current(w, s->name, s->cred_fp)) {
        /* the tick would end it within a second: end it now */
        LOG_INFO("web", "%s@%s: the account's credentials changed; session ended", s->name, s->addr);
        audit_record(AUDIT_SESSION_END, AUDIT_IF_WEB, AUDIT_OK, s->name, s->addr, "the account's credentials changed");
        auth_session_end(s);
        s = NULL;
    }
    if (!s)
        return fail(f, 401, "not logged in (or the session ended)");
    if (csrf) {
        char hdr[AUTH_SESSION_TOKEN_HEX + 2];
        if (web_header_custom(c, CSRF_HEADER, hdr, sizeof(hdr)) < 0 || !auth_session_csrf_ok(s, hdr)) {
            LOG_WARN("web", "%s@%s: %s %s refused: missing or wrong CSRF token", s->name, c->addr,
                     c->method == LWSHUMETH_DELETE ? "DELETE" : "POST", c->path);
            return fail(f, 403, "missing or wrong X-CSRF-Token header");
        }
    }
    c->session_id = s->id;
    snprintf(c->user, sizeof(c->user), "%s", s->name);
    memcpy(c->cred_fp, s->cred_fp, sizeof(c->cred_fp));
    return 0;
}

int web_auth_request(struct web_conn *c, bool csrf)
{
    struct auth_fail f;
    if (c->authed) /* already, on the headers, before the body (web_guard.c) */
        return 0;
    if (identify(c, csrf, &f) == 0) {
        if (web_role_check(c) < 0)
            return -1;
        c->authed = true;
        web_control_identify(c);
        return 0;
    }
    if (f.status == 0)
        return -1; /* a password hash is under way: the request comes back */
    if (f.retry_after)
        web_resp_header(&c->resp, "Retry-After: %d", f.retry_after);
    if (f.status == 401) /* no Basic challenge: browsers must not pop up a dialog */
        web_resp_header(&c->resp, "WWW-Authenticate: Bearer realm=\"piglix\"");
    web_reply_error(c, f.status, "%s", f.msg);
    return -1;
}

int web_auth_websocket(struct web_conn *c)
{
    struct web *w = c->w;
    char uri[128], origin[300], host[300];
    bool got_uri = web_header(c, WSI_TOKEN_GET_URI, uri, sizeof(uri)) >= 0;
    c->serial_ws = got_uri && strcmp(uri, "/api/serial") == 0;
    if (!got_uri || (strcmp(uri, "/api/vnc") != 0 && !c->serial_ws)) {
        LOG_INFO("web", "?@%s: WebSocket to %s refused (only /api/vnc and /api/serial)", c->addr,
                 got_uri ? uri : "?");
        return -1;
    }
    bool has_origin = web_header(c, WSI_TOKEN_ORIGIN, origin, sizeof(origin)) > 0;
    web_header(c, WSI_TOKEN_HOST, host, sizeof(host));
    if (has_origin && !web_origin_matches(origin, host)) {
        LOG_WARN("web", "?@%s: WebSocket refused: Origin %s is not https://%s", c->addr, origin, host);
        return -1;
    }
    char auth[8];
    bool header_auth = lws_hdr_total_length(c->wsi, WSI_TOKEN_HTTP_AUTHORIZATION) > 0;
    (void)auth;
    if (!has_origin && !header_auth) {
        LOG_WARN("web", "?@%s: WebSocket refused: a cookie session needs an Origin header", c->addr);
        return -1;
    }
    struct auth_fail f;
    if (identify(c, false, &f) < 0) {
        LOG_WARN("web", "?@%s: WebSocket refused: %s", c->addr, f.msg);
        return -1;
    }
    int role = auth_accounts_role(&w->accounts, c->user);
    if (role < AUTH_ROLE_VIEWER) {
        web_refuse_role(c, AUTH_ROLE_VIEWER, false);
        return -1;
    }
    c->role = role; /* below operator: a view-only viewer (web_bridge.c) */
    c->authed = true;
    if (c->serial_ws)
        return web_serial_ws_allowed(c) ? 0 : -1;
    if (w->viewers >= w->cfg->max_viewers && !web_bridge_make_room(c)) {
        LOG_WARN("web", "%s@%s: WebSocket refused: [web] max_viewers = %d reached", c->user, c->addr,
                 w->cfg->max_viewers);
        return -1;
    }
    return 0;
}

static void set_cookie(struct web_conn *c, const char *value, bool clear)
{
    web_resp_header(&c->resp, "Set-Cookie: %s=%s; Path=/; HttpOnly; Secure; SameSite=Strict%s",
                    WEB_SESSION_COOKIE, value, clear ? "; Max-Age=0" : "");
}

static cJSON *session_json(const struct web *w, const struct auth_session *s, const char *name)
{
    cJSON *j = cJSON_CreateObject();
    cJSON_AddStringToObject(j, "name", name);
    const struct auth_account *acc = auth_accounts_find((struct auth_accounts *)&w->accounts, name);
    cJSON_AddBoolToObject(j, "totp", acc && acc->totp[0]);
    /* what the UI shows and hides; the server decides (web_roles.c) */
    cJSON_AddStringToObject(j, "role", acc ? auth_role_name(acc->role) : "viewer");
    if (s) {
        cJSON_AddStringToObject(j, "auth", "session");
        cJSON_AddStringToObject(j, "csrf", s->csrf);
        cJSON_AddNumberToObject(j, "idle_s", w->cfg->session_idle_s);
        cJSON_AddNumberToObject(j, "max_s", w->cfg->session_max_s);
    } else {
        cJSON_AddStringToObject(j, "auth", "header");
    }
    return j;
}

static void start_session(struct web_conn *c, const char *name, int status)
{
    char cookie[AUTH_SESSION_TOKEN_HEX + 1];
    struct auth_session *s = auth_session_create(&c->w->sessions, name, c->addr, clock_mono_ms(), cookie);
    if (!s) {
        web_reply_error(c, 503, "no randomness for a session");
        return;
    }
    web_auth_cred_of(c->w, name, s->cred_fp);
    set_cookie(c, cookie, false);
    explicit_bzero(cookie, sizeof(cookie));
    web_reply_json(c, status, session_json(c->w, s, name));
}

/* Saves a change to one account under the file lock, re-reading first so
 * a concurrent `piglix user` change is kept. */
static int update_account(struct web *w, const char *name, const char *totp, int64_t last_step)
{
    if (auth_accounts_lock(&w->accounts, NULL) < 0)
        return -1;
    struct auth_account *acc = auth_accounts_find(&w->accounts, name);
    int r = -1;
    if (acc) {
        if (totp)
            snprintf(acc->totp, sizeof(acc->totp), "%s", totp);
        acc->totp_last_step = last_step;
        r = auth_accounts_save(&w->accounts, NULL);
    }
    auth_accounts_unlock(&w->accounts);
    if (r < 0)
        LOG_ERROR("web", "cannot save the accounts in %s", w->state_dir);
    return r;
}

void web_auth_login(struct web_conn *c)
{
    struct web *w = c->w;
    struct web_login_req req;
    char err[WEB_ERR_MAX], nb[AUTH_NAME_MAX + 20];
    int st = web_parse_login((const char *)c->body, c->body_len, &req, err);
    if (st) {
        web_reply_error(c, st, "%s", err);
        return;
    }
    if (w->accounts.n == 0) {
        web_reply_error(c, 403, "no account exists yet: use the set-up page");
        return;
    }
    int wait = web_auth_throttle_wait(c, req.name);
    if (wait) {
        struct auth_fail f;
        throttled(c, &f, wait, req.name);
        web_resp_header(&c->resp, "Retry-After: %d", wait);
        cJSON *j = cJSON_CreateObject();
        cJSON_AddStringToObject(j, "error", f.msg);
        cJSON_AddNumberToObject(j, "status", 429);
        cJSON_AddNumberToObject(j, "retry_after", wait);
        web_reply_json(c, 429, j);
        explicit_bzero(&req, sizeof(req));
        return;
    }
    struct auth_account *acc;
    enum web_pw pw = web_auth_password(c, req.name, req.password, &acc);
    if (pw != WEB_PW_DONE) {
        explicit_bzero(&req, sizeof(req));
        if (pw == WEB_PW_PENDING)
            return; /* dispatched again when the hash is done */
        web_resp_header(&c->resp, "Retry-After: 1");
        web_reply_error(c, 503, "too many logins at once: retry in a second");
        return;
    }
    const char *why = "wrong name or password";
    /* A right password without its code gets the answer a wrong password
     * gets, and counts as a failure: telling them apart would confirm the
     * password to whoever guessed it. */
    if (acc && acc->totp[0]) {
        uint8_t key[AUTH_TOTP_SECRET_BYTES + 8];
        int klen = auth_base32_decode(acc->totp, key, sizeof(key));
        int64_t step = klen > 0 ? auth_totp_verify(key, (size_t)klen, req.totp, time(NULL),
                                                  acc->totp_last_step) : -1;
        explicit_bzero(key, sizeof(key));
        if (step < 0) {
            acc = NULL;
            why = req.totp[0] ? "wrong one-time code" : "no one-time code";
        } else {
            update_account(w, req.name, NULL, step);
        }
    }
    explicit_bzero(req.password, sizeof(req.password));
    if (!acc) {
        web_auth_throttle_record(c, req.name, false);
        w->stats.logins_failed++;
        LOG_WARN("web", "%s@%s: login failed (%s)", log_name(req.name, nb, sizeof(nb)), c->addr, why);
        audit_record(AUDIT_LOGIN_FAILED, AUDIT_IF_WEB, AUDIT_FAILED, req.name, c->addr, "%s", why);
        web_resp_header(&c->resp, "WWW-Authenticate: Bearer realm=\"piglix\"");
        web_reply_error(c, 401, "wrong name, password or one-time code");
        return;
    }
    web_auth_throttle_record(c, req.name, true);
    w->stats.logins_ok++;
    LOG_INFO("web", "%s@%s: logged in", req.name, c->addr);
    audit_record(AUDIT_LOGIN, AUDIT_IF_WEB, AUDIT_OK, req.name, c->addr, "browser session");
    start_session(c, req.name, 200);
}

void web_auth_logout(struct web_conn *c)
{
    if (web_auth_request(c, true) < 0)
        return;
    struct auth_session *s = auth_session_by_id(&c->w->sessions, c->session_id, clock_mono_ms());
    if (!s) {
        web_reply_error(c, 400, "logout ends a browser session; this request has none");
        return;
    }
    LOG_INFO("web", "%s@%s: logged out", s->name, c->addr);
    audit_record(AUDIT_LOGOUT, AUDIT_IF_WEB, AUDIT_OK, s->name, c->addr, "browser session");
    auth_session_end(s);
    web_auth_revalidate(c->w);
    web_control_sync(c->w);
    set_cookie(c, "", true);
    cJSON *j = cJSON_CreateObject();
    cJSON_AddBoolToObject(j, "ok", true);
    web_reply_json(c, 200, j);
}

void web_auth_session(struct web_conn *c)
{
    if (web_auth_request(c, false) < 0)
        return;
    struct auth_session *s = c->session_id ? auth_session_by_id(&c->w->sessions, c->session_id, clock_mono_ms()) : NULL;
    web_reply_json(c, 200, session_json(c->w, s, c->user));
}

void web_auth_check_setup(struct web *w)
{
    if (w->accounts.n == 0 && !w->setup_token[0]) {
        uint8_t raw[16];
        if (auth_random(raw, sizeof(raw)) < 0)
            return;
        auth_hex(raw, sizeof(raw), w->setup_token);
        LOG_WARN("web", "no account exists: open https://<this host>%s%.0d/ and enter the set-up token %s "
                        "(or run `piglix user add NAME`)",
                 w->cfg->port == 443 ? "" : ":", w->cfg->port == 443 ? 0 : w->cfg->port,
                 w->setup_token);
    } else if (w->accounts.n > 0 && w->setup_token[0]) {
        explicit_bzero(w->setup_token, sizeof(w->setup_token));
        LOG_INFO("web", "an account exists: the set-up page is closed");
    }
}

void web_auth_setup_get(struct web_conn *c)
{
    cJSON *j = cJSON_CreateObject();
    cJSON_AddBoolToObject(j, "needed", c->w->accounts.n == 0);
    web_reply_json(c, 200, j);
}

void web_auth_setup_post(struct web_conn *c)
{
    struct web *w = c->w;
    struct web_setup_req req;
    char err[WEB_ERR_MAX];
    int st = web_parse_setup((const char *)c->body, c->body_len, &req, err);
    if (st) {
        web_reply_error(c, st, "%s", err);
        explicit_bzero(&req, sizeof(req));
        return;
    }
    if (w->accounts.n > 0 || !w->setup_token[0]) {
        explicit_bzero(&req, sizeof(req));
        web_reply_error(c, 409, "an account exists already: log in");
        return;
    }
    int wait = web_auth_throttle_wait(c, NULL);
    if (wait) {
        struct auth_fail f;
        throttled(c, &f, wait, NULL);
        web_resp_header(&c->resp, "Retry-After: %d", wait);
        web_reply_error(c, 429, "%s", f.msg);
        explicit_bzero(&req, sizeof(req));
        return;
    }
    if (strlen(req.token) != strlen(w->setup_token) ||
        !auth_equal_ct(req.token, w->setup_token, strlen(w->setup_token))) {
        web_auth_throttle_record(c, NULL, false);
        explicit_bzero(&req, sizeof(req));
        LOG_WARN("web", "?@%s: wrong set-up token", c->addr);
        audit_record(AUDIT_LOGIN_FAILED, AUDIT_IF_WEB, AUDIT_FAILED, NULL, c->addr, "wrong set-up token");
        web_reply_error(c, 403, "wrong set-up token (see piglix's log)");
        return;
    }
    char hash[AUTH_HASH_MAX];
    enum web_pw pw = web_auth_make_hash(c, req.password, hash);
    explicit_bzero(req.password, sizeof(req.password));
    if (pw != WEB_PW_DONE) {
        if (pw == WEB_PW_PENDING)
            return; /* dispatched again when the hash is made */
        web_resp_header(&c->resp, "Retry-After: 1");
        web_reply_error(c, 503, "too many requests at once: retry in a second");
        return;
    }
    int r = -1;
    if (auth_accounts_lock(&w->accounts, NULL) == 0) {
        r = w->accounts.n > 0 ? 1 : auth_accounts_set_hash(&w->accounts, req.name, hash, NULL);
        if (r == 0)
            r = auth_accounts_save(&w->accounts, NULL);
        auth_accounts_unlock(&w->accounts);
    }
    explicit_bzero(req.password, sizeof(req.password));
    if (r != 0) {
        web_reply_error(c, r > 0 ? 409 : 500, r > 0 ? "an account exists already" : "cannot save the account");
        return;
    }
    web_auth_throttle_record(c, NULL, true);
    LOG_INFO("web", "%s@%s: first account created on the set-up page", req.name, c->addr);
    audit_record(AUDIT_ACCOUNT_CHANGE, AUDIT_IF_WEB, AUDIT_OK, req.name, c->addr, "first account created on the set-up page");
    web_auth_check_setup(w);
    start_session(c, req.name, 201);
}

void web_auth_totp(struct web_conn *c, const char *action)
{
    struct web *w = c->w;
    if (web_auth_request(c, true) < 0)
        return;
    struct auth_session *s = c->session_id ? auth_session_by_id(&w->sessions, c->session_id, clock_mono_ms()) : NULL;
    struct auth_account *acc = auth_accounts_find(&w->accounts, c->user);
    if (!s || !acc) {
        web_reply_error(c, 400, "TOTP is set up from a browser session");
        return;
    }
    char code[16], err[WEB_ERR_MAX];
    if (strcmp(action, "setup") == 0) {
        if (acc->totp[0]) {
            web_reply_error(c, 409, "TOTP is already on: turn it off first");
            return;
        }
        if (auth_random(s->totp_pending, sizeof(s->totp_pending)) < 0) {
            web_reply_error(c, 503, "no randomness");
            return;
        }
        s->totp_pending_set = true;
        char b32[AUTH_TOTP_B32_MAX + 1], uri[256];
        auth_base32_encode(s->totp_pending, sizeof(s->totp_pending), b32);
        snprintf(uri, sizeof(uri), "otpauth://totp/piglix:%s?secret=%s&issuer=piglix&algorithm=SHA1&digits=6&period=30",
                 acc->name, b32);
        cJSON *j = cJSON_CreateObject();
        cJSON_AddStringToObject(j, "secret", b32);
        cJSON_AddStringToObject(j, "uri", uri);
        explicit_bzero(b32, sizeof(b32));
        explicit_bzero(uri, sizeof(uri));
        LOG_INFO("web", "%s@%s: TOTP set-up started", acc->name, c->addr);
        web_reply_json(c, 200, j);
        return;
    }
    int st = web_parse_code((const char *)c->body, c->body_len, code, sizeof(code), err);
    if (st) {
        web_reply_error(c, st, "%s", err);
        return;
    }
    bool enable = strcmp(action, "enable") == 0;
    uint8_t key[AUTH_TOTP_SECRET_BYTES + 8];
    int klen;
    if (enable) {
        if (acc->totp[0] || !s->totp_pending_set) {
            web_reply_error(c, 409, acc->totp[0] ? "TOTP is already on" : "start with /api/totp/setup");
            return;
        }
        memcpy(key, s->totp_pending, AUTH_TOTP_SECRET_BYTES);
        klen = AUTH_TOTP_SECRET_BYTES;
    } else {
        if (!acc->totp[0]) {
            web_reply_error(c, 409, "TOTP is not on");
            return;
        }
        klen = auth_base32_decode(acc->totp, key, sizeof(key));
    }
    int64_t step = klen > 0 ? auth_totp_verify(key, (size_t)klen, code, time(NULL),
                                              enable ? -1 : acc->totp_last_step) : -1;
    if (step < 0) {
        explicit_bzero(key, sizeof(key));
        LOG_WARN("web", "%s@%s: TOTP %s: wrong code", acc->name, c->addr, action);
        web_reply_error(c, 422, "wrong code (check the device's clock)");
        return;
    }
    char b32[AUTH_TOTP_B32_MAX + 1] = "";
    if (enable)
        auth_base32_encode(key, (size_t)klen, b32);
    explicit_bzero(key, sizeof(key));
    char name[AUTH_NAME_MAX + 1];
    snprintf(name, sizeof(name), "%s", acc->name);
    int r = update_account(w, name, b32, step);
    explicit_bzero(b32, sizeof(b32));
    explicit_bzero(s->totp_pending, sizeof(s->totp_pending));
    s->totp_pending_set = false;
    if (r < 0) {
        web_reply_error(c, 500, "cannot save the account");
        return;
    }
    /* The credentials changed: this session goes on with the new ones,
     * every other session, token stream and viewer of the account ends. */
    web_auth_cred_of(w, name, s->cred_fp);
    memcpy(c->cred_fp, s->cred_fp, sizeof(c->cred_fp));
    web_auth_enforce_credentials(w);
    LOG_INFO("web", "%s@%s: TOTP turned %s", name, c->addr, enable ? "on" : "off");
    audit_record(AUDIT_ACCOUNT_CHANGE, web_audit_iface(c), AUDIT_OK, name, c->addr, "one-time codes turned %s",
                 enable ? "on" : "off");
    cJSON *j = cJSON_CreateObject();
    cJSON_AddBoolToObject(j, "totp", enable);
    web_reply_json(c, 200, j);
}

void web_auth_cred_of(struct web *w, const char *name, uint8_t fp[AUTH_CRED_FP_LEN])
{
    const struct auth_account *acc = auth_accounts_find(&w->accounts, name);
    if (acc)
        auth_account_fingerprint(acc, fp);
    else
        memset(fp, 0, AUTH_CRED_FP_LEN);
}

bool web_auth_cred_current(struct web *w, const char *name, const uint8_t fp[AUTH_CRED_FP_LEN])
{
    const struct auth_account *acc = auth_accounts_find(&w->accounts, name);
    if (!acc)
        return false;
    uint8_t now[AUTH_CRED_FP_LEN];
    auth_account_fingerprint(acc, now);
    return auth_equal_ct(now, fp, AUTH_CRED_FP_LEN);
}

void web_auth_enforce_credentials(struct web *w)
{
    for (int i = 0; i < AUTH_SESSIONS_MAX; i++) {
        struct auth_session *s = &w->sessions.s[i];
        if (!s->used || web_auth_cred_current(w, s->name, s->cred_fp))
            continue;
        const char *why = auth_accounts_find(&w->accounts, s->name) ? "the account's credentials changed"
                                                                    : "account deleted";
        LOG_INFO("web", "%s@%s: %s; session ended", s->name, s->addr, why);
        audit_record(AUDIT_SESSION_END, AUDIT_IF_WEB, AUDIT_OK, s->name, s->addr, "%s", why);
        auth_session_end(s);
    }
    redfish_sweep(w->redfish, w);
    web_auth_revalidate(w);
}

void web_auth_revalidate(struct web *w)
{
    int64_t now = clock_mono_ms();
    for (struct web_conn *c = w->longs; c; c = c->next_long) {
        bool session = !c->session_id || auth_session_by_id(&w->sessions, c->session_id, now) != NULL;
        bool cred = web_auth_cred_current(w, c->user, c->cred_fp);
        if (!(session && cred) && !c->closing) {
            LOG_INFO("web", "%s@%s: %s: closing its %s", c->user, c->addr,
                     session ? "credentials changed" : "session ended", c->kind == WEB_CONN_WS ? "viewer" : "stream");
            c->closing = true;
            lws_callback_on_writable(c->wsi);
        }
    }
}
