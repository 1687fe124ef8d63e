/* GET /api/log: the audit log, newest first, filtered and paged
 * (web/API.md), and which door a web request is for the log. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "audit/audit.h"
#include "web/web_internal.h"

#define LOG_LIMIT_DEFAULT 100
#define LOG_LIMIT_MAX 500

enum audit_iface web_audit_iface(const struct web_conn *c)
{
    if (strncmp(c->path, "/redfish", 8) == 0)
        return AUDIT_IF_REDFISH;
    /* A cookie session is a person in the UI; a token or Basic, a script. */
    return c->session_id ? AUDIT_IF_WEB : AUDIT_IF_API;
}

/* One URL argument ("name=" included in name), or NULL. */
static const char *arg(struct web_conn *c, const char *name, char *buf, int len)
{
    return lws_get_urlarg_by_name(c->wsi, name, buf, len);
}

bool web_log_account_visible(const struct web_conn *c, const struct audit_event *ev)
{
    return ev->kind != AUDIT_LOGIN_FAILED || c->role >= AUTH_ROLE_ADMIN || strcmp(ev->account, c->user) == 0;
}

cJSON *web_log_entry_json(const struct audit_event *ev, bool account_visible)
{
    char t[40];
    cJSON *j = cJSON_CreateObject();
    audit_format_time(ev->time_ms, t, sizeof(t));
    cJSON_AddNumberToObject(j, "id", (double)ev->id);
    cJSON_AddStringToObject(j, "time", t);
    cJSON_AddNumberToObject(j, "time_ms", (double)ev->time_ms);
    cJSON_AddStringToObject(j, "kind", audit_kind_name(ev->kind));
    cJSON_AddStringToObject(j, "interface", audit_iface_name(ev->iface));
    cJSON_AddStringToObject(j, "outcome", audit_outcome_name(ev->outcome));
    cJSON_AddStringToObject(j, "account", account_visible ? ev->account : WEB_LOG_ACCOUNT_HIDDEN);
    cJSON_AddStringToObject(j, "address", ev->address);
    cJSON_AddStringToObject(j, "detail", ev->detail);
    return j;
}

void web_log_get(struct web_conn *c)
{
    struct audit_query q = {0};
    long limit = LOG_LIMIT_DEFAULT;
    char buf[512];
    const char *v;
    if ((v = arg(c, "since=", buf, sizeof(buf))) && audit_parse_time(v, &q.since_ms) < 0) {
        web_reply_error(c, 400, "since: not a time (milliseconds since the epoch or 2026-12-06T18:00:00Z)");
        return;
    }
    if ((v = arg(c, "until=", buf, sizeof(buf))) && audit_parse_time(v, &q.until_ms) < 0) {
        web_reply_error(c, 400, "until: not a time (milliseconds since the epoch or 2026-12-06T18:00:00Z)");
        return;
    }
    if ((v = arg(c, "kind=", buf, sizeof(buf))) && audit_parse_kinds(v, &q.kinds) < 0) {
        web_reply_error(c, 400, "kind: not a comma-separated list of kinds (web/API.md)");
        return;
    }
    if ((v = arg(c, "limit=", buf, sizeof(buf)))) {
        char *end;
        limit = strtol(v, &end, 10);
        if (!*v || *end || limit < 1 || limit > LOG_LIMIT_MAX) {
            web_reply_error(c, 400, "limit: a number from 1 to %d", LOG_LIMIT_MAX);
            return;
        }
    }
    if ((v = arg(c, "cursor=", buf, sizeof(buf)))) {
        char *end;
        errno = 0;
        unsigned long long id = strtoull(v, &end, 10);
        /* ERANGE: saturated to ULLONG_MAX, a cursor no page ever gave */
        if (!*v || *end || id == 0 || v[0] == '-' || errno == ERANGE) {
            web_reply_error(c, 400, "cursor: the next_cursor of the previous page");
            return;
        }
        q.before_id = id;
    }
    struct audit_event *evs = malloc((size_t)limit * sizeof(*evs));
    size_t n = 0;
    uint64_t next = 0;
    if (!evs || audit_query(&q, evs, (size_t)limit, &n, &next) < 0) {
        free(evs);
        web_reply_error(c, 503, "the audit log cannot be read (see piglix's log)");
        return;
    }
    cJSON *j = cJSON_CreateObject();
    cJSON *arr = cJSON_AddArrayToObject(j, "entries");
    for (size_t i = 0; i < n; i++)
        cJSON_AddItemToArray(arr, web_log_entry_json(&evs[i], web_log_account_visible(c, &evs[i])));
    free(evs);
    if (next) {
        char cur[24];
        snprintf(cur, sizeof(cur), "%llu", (unsigned long long)next);
        cJSON_AddStringToObject(j, "next_cursor", cur);
    } else {
        cJSON_AddNullToObject(j, "next_cursor");
    }
    web_reply_json(c, 200, j);
}
