/* Redfish's sessions (X-Auth-Token) and SessionService. Sessions end
 * after SessionService's SessionTimeout unused, [web] session_max_s after
 * login, on DELETE, or when their account's credentials change or it is
 * deleted. */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "audit/audit.h"
#include "common/clock.h"
#include "common/log.h"
#include "control/control.h"
#include "web/redfish/redfish_internal.h"

#define SESSIONS RF_ROOT "/SessionService/Sessions"

static void session_end(struct web *w, struct rf_session *s, const char *why)
{
    LOG_INFO("redfish", "%s@%s: session %s ended (%s)", s->name, s->addr, s->id, why);
    control_session_close(w->ctl, s->ctl_id);
    bool deleted = strncmp(why, "deleted", 7) == 0; /* by DELETE: a logout */
    audit_record(deleted ? AUDIT_LOGOUT : AUDIT_SESSION_END, AUDIT_IF_REDFISH, AUDIT_OK, s->name, s->addr,
                 "session %s %s", s->id, why);
    explicit_bzero(s, sizeof(*s));
}

bool redfish_end_session(struct redfish *rf, struct web *w, unsigned ctl_id, const char *why)
{
    for (int i = 0; rf && ctl_id && i < RF_SESSIONS_MAX; i++)
        if (rf->sessions[i].used && rf->sessions[i].ctl_id == ctl_id) {
            session_end(w, &rf->sessions[i], why);
            return true;
        }
    return false;
}

void redfish_sweep(struct redfish *rf, struct web *w)
{
    if (!rf)
        return;
    int64_t now = clock_mono_ms();
    for (int i = 0; i < RF_SESSIONS_MAX; i++) {
        struct rf_session *s = &rf->sessions[i];
        if (!s->used)
            continue;
        if (now - s->last_ms > (int64_t)rf->timeout_s * 1000)
            session_end(w, s, "timed out");
        else if (now - s->created_ms > (int64_t)w->cfg->session_max_s * 1000)
            session_end(w, s, "[web] session_max_s");
        else if (!auth_accounts_find(&w->accounts, s->name))
            session_end(w, s, "account deleted");
        else if (!web_auth_cred_current(w, s->name, s->cred_fp))
            session_end(w, s, "the account's credentials changed");
    }
}

static void sweep(struct rf_req *r, int64_t now)
{
    (void)now;
    redfish_sweep(r->rf, r->w);
}

struct rf_session *rf_session_by_token(struct rf_req *r, const char *hex)
{
    uint8_t tok[32];
    if (strlen(hex) != 64)
        return NULL;
    for (int i = 0; i < 32; i++) {
        unsigned v;
        if (sscanf(hex + 2 * i, "%2x", &v) != 1)
            return NULL;
        tok[i] = (uint8_t)v;
    }
    int64_t now = clock_mono_ms();
    sweep(r, now);
    for (int i = 0; i < RF_SESSIONS_MAX; i++) {
        struct rf_session *s = &r->rf->sessions[i];
        if (s->used && auth_equal_ct(s->token, tok, sizeof(tok))) {
            s->last_ms = now;
            control_session_touch(r->w->ctl, s->ctl_id);
            return s;
        }
    }
    return NULL;
}

/* ---- SessionService ---- */

static cJSON *service_json(struct rf_req *r)
{
    cJSON *j = rf_resource(RF_T_SESSION_SERVICE, RF_ROOT "/SessionService", "SessionService", "Session Service");
    cJSON_AddBoolToObject(j, "ServiceEnabled", true);
    cJSON_AddNumberToObject(j, "SessionTimeout", r->rf->timeout_s);
    rf_status(j, "Enabled", "OK");
    rf_link(j, "Sessions", SESSIONS);
    return j;
}

static void service_patch(struct rf_req *r)
{
    cJSON *cur = service_json(r);
    char etag[24];
    rf_etag_of(cur, etag);
    int timeout = -1;
    if (!rf_if_match(r, etag)) {
        rf_error(r, 412, RF_MSG_PRECONDITION_FAILED);
        goto out;
    }
    for (cJSON *p = r->body->child; p; p = p->next) {
        if (p->string[0] == '@')
            continue; /* annotations (@odata.etag, ...) are not properties */
        if (strcmp(p->string, "SessionTimeout") != 0) {
            rf_error(r, 400, cJSON_HasObjectItem(cur, p->string) ? RF_MSG_PROPERTY_NOT_WRITABLE
                                                                  : RF_MSG_PROPERTY_UNKNOWN, p->string);
            goto out;
        }
        char *text = cJSON_PrintUnformatted(p);
        const char *v = text ? text : "?";
        bool integer = cJSON_IsNumber(p) && p->valuedouble == (double)(int)p->valuedouble;
        if (!integer || p->valueint < RF_TIMEOUT_MIN_S || p->valueint > RF_TIMEOUT_MAX_S)
            rf_error(r, 400, integer ? RF_MSG_PROPERTY_OUT_OF_RANGE : RF_MSG_PROPERTY_TYPE_ERROR, v,
                     "SessionTimeout");
        free(text);
        if (!integer || p->valueint < RF_TIMEOUT_MIN_S || p->valueint > RF_TIMEOUT_MAX_S)
            goto out;
        timeout = p->valueint;
    }
    if (timeout > 0) {
        LOG_INFO("redfish", "%s@%s: SessionTimeout %d -> %d s", r->c->user, r->c->addr, r->rf->timeout_s, timeout);
        r->rf->timeout_s = timeout;
    }
    rf_reply(r, 200, service_json(r));
out:
    cJSON_Delete(cur);
}

void rf_session_service(struct rf_req *r)
{
    if (r->method == RF_PATCH)
        service_patch(r);
    else
        rf_reply(r, 200, service_json(r));
}

/* ---- Sessions ---- */

static cJSON *session_json(const struct rf_session *s)
{
    char uri[128], t[40];
    snprintf(uri, sizeof(uri), SESSIONS "/%s", s->id);
    cJSON *j = rf_resource(RF_T_SESSION, uri, s->id, "User Session");
    cJSON_AddStringToObject(j, "UserName", s->name);
    cJSON_AddNullToObject(j, "Password");
    cJSON_AddStringToObject(j, "SessionType", "Redfish");
    cJSON_AddStringToObject(j, "ClientOriginIPAddress", s->addr);
    rf_time(s->created_wall, t, sizeof(t));
    cJSON_AddStringToObject(j, "CreatedTime", t);
    return j;
}

static const char *string_prop(struct rf_req *r, const char *name, bool *bad)
{
    cJSON *p = cJSON_GetObjectItemCaseSensitive(r->body, name);
    if (!p) {
        rf_error(r, 400, RF_MSG_CREATE_MISSING_PROPS, name);
        *bad = true;
        return NULL;
    }
    if (!cJSON_IsString(p)) {
        rf_error(r, 400, RF_MSG_PROPERTY_TYPE_ERROR, cJSON_IsNull(p) ? "null" : "(not a string)", name);
        *bad = true;
        return NULL;
    }
    return p->valuestring;
}

static void session_create(struct rf_req *r)
{
    bool bad = false;
    if (!r->body) {
        rf_error(r, 400, RF_MSG_CREATE_MISSING_PROPS, "UserName");
        return;
    }
    const char *user = string_prop(r, "UserName", &bad);
    const char *pass = bad ? NULL : string_prop(r, "Password", &bad);
    if (bad)
        return;
    if (r->w->accounts.n == 0) {
        rf_unauthorized(r, "no account exists yet: create one with `piglix user add NAME`");
        return;
    }
    char pw[AUTH_PASSWORD_MAX + 1];
    snprintf(pw, sizeof(pw), "%s", pass);
    explicit_bzero((char *)pass, strlen(pass));
    int rc = rf_check_password(r, user, pw, "Redfish session login");
    explicit_bzero(pw, sizeof(pw));
    if (rc < 0)
        return;
    int64_t now = clock_mono_ms();
    sweep(r, now);
    struct rf_session *s = NULL;
    for (int i = 0; i < RF_SESSIONS_MAX && !s; i++)
        if (!r->rf->sessions[i].used)
            s = &r->rf->sessions[i];
    if (!s) {
        LOG_WARN("redfish", "%s@%s: no session: all %d in use", r->c->user, r->c->addr, RF_SESSIONS_MAX);
        rf_error(r, 503, RF_MSG_SESSION_LIMIT);
        return;
    }
    uint8_t id[RF_SESSION_ID_HEX / 2];
    if (auth_random(s->token, sizeof(s->token)) < 0 || auth_random(id, sizeof(id)) < 0) {
        explicit_bzero(s, sizeof(*s));
        rf_error(r, 503, RF_MSG_INTERNAL_ERROR);
        return;
    }
    s->used = true;
    auth_hex(id, sizeof(id), s->id);
    snprintf(s->name, sizeof(s->name), "%s", r->c->user);
    snprintf(s->addr, sizeof(s->addr), "%s", r->c->addr);
    s->created_ms = s->last_ms = now;
    s->created_wall = (int64_t)time(NULL);
    web_auth_cred_of(r->w, s->name, s->cred_fp);
    s->ctl_id = web_control_redfish_open(r->w, s->name, s->addr);
    r->w->stats.logins_ok++;
    char token[65];
    auth_hex(s->token, sizeof(s->token), token);
    web_resp_header(&r->c->resp, "X-Auth-Token: %s", token);
    explicit_bzero(token, sizeof(token));
    web_resp_header(&r->c->resp, "Location: " SESSIONS "/%s", s->id);
    LOG_INFO("redfish", "%s@%s: session %s created", s->name, s->addr, s->id);
    audit_record(AUDIT_LOGIN, AUDIT_IF_REDFISH, AUDIT_OK, s->name, s->addr, "session %s", s->id);
    rf_reply(r, 201, session_json(s));
}

void rf_sessions(struct rf_req *r)
{
    if (r->method == RF_POST) {
        session_create(r);
        return;
    }
    sweep(r, clock_mono_ms());
    cJSON *j = rf_collection(RF_T_SESSION_COLL, SESSIONS, "Session Collection");
    char uri[128];
    for (int i = 0; i < RF_SESSIONS_MAX; i++) {
        if (!r->rf->sessions[i].used)
            continue;
        snprintf(uri, sizeof(uri), SESSIONS "/%s", r->rf->sessions[i].id);
        rf_add_member(j, uri);
    }
    rf_reply(r, 200, j);
}

void rf_session(struct rf_req *r)
{
    sweep(r, clock_mono_ms());
    struct rf_session *s = NULL;
    for (int i = 0; i < RF_SESSIONS_MAX && !s; i++)
        if (r->rf->sessions[i].used && strcmp(r->rf->sessions[i].id, r->arg) == 0)
            s = &r->rf->sessions[i];
    if (!s) {
        rf_error(r, 404, RF_MSG_RESOURCE_MISSING_AT_URI, r->uri);
        return;
    }
    if (r->method == RF_DELETE && strcmp(s->name, r->c->user) != 0 && r->c->role < AUTH_ROLE_ADMIN) {
        rf_refuse_role(r, AUTH_ROLE_ADMIN); /* another account's session */
        return;
    }
    if (r->method == RF_DELETE) {
        char why[128];
        snprintf(why, sizeof(why), "deleted by %s@%s", r->c->user, r->c->addr);
        session_end(r->w, s, why);
        rf_no_content(r);
        return;
    }
    rf_reply(r, 200, session_json(s));
}
