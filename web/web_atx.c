/* ATX power in the web API: the state in /api/info and GET /api/atx, and
 * POST /api/atx/ACTION (on, off, force-off, reset, cycle, wol). atx/'s calls
 * never block, so the web thread may make them. */
#include <string.h>

#include "atx/atx.h"
#include "common/log.h"
#include "audit/audit.h"
#include "web/web_internal.h"

int web_atx_http_status(int err)
{
    switch ((enum atx_error)err) {
    case ATX_OK: return 202;
    case ATX_ERR_ALREADY: return 200;
    case ATX_ERR_BUSY:
    case ATX_ERR_STATE: return 409;
    case ATX_ERR_UNSUPPORTED: return 501;
    case ATX_ERR_INVALID: return 400;
    case ATX_ERR_STOPPED: return 503;
    }
    return 500;
}

static cJSON *record_json(const struct atx_action_record *r)
{
    if (!r->id)
        return cJSON_CreateNull();
    cJSON *j = cJSON_CreateObject();
    cJSON_AddNumberToObject(j, "id", (double)r->id);
    cJSON_AddStringToObject(j, "action", atx_action_name(r->action));
    cJSON_AddStringToObject(j, "who", r->who);
    cJSON_AddStringToObject(j, "outcome", atx_outcome_name(r->outcome));
    cJSON_AddStringToObject(j, "detail", r->detail);
    int64_t end = r->finished_ms ? r->finished_ms : r->started_ms;
    cJSON_AddNumberToObject(j, "duration_ms", (double)(end - r->started_ms));
    return j;
}

static void add_led(cJSON *j, const char *name, bool wired, bool lit)
{
    if (wired)
        cJSON_AddBoolToObject(j, name, lit);
    else
        cJSON_AddNullToObject(j, name);
}

cJSON *web_atx_json(struct web *w)
{
    cJSON *j = cJSON_CreateObject();
    cJSON_AddBoolToObject(j, "configured", w->atx != NULL);
    if (!w->atx)
        return j;
    struct atx_status st;
    atx_get_status(w->atx, &st);
    cJSON_AddBoolToObject(j, "buttons", st.gpio);
    cJSON_AddBoolToObject(j, "wol", st.wol);
    cJSON_AddStringToObject(j, "power", atx_power_name(st.power));
    add_led(j, "power_led", st.power_led_wired, st.power_led);
    add_led(j, "hdd_led", st.hdd_led_wired, st.hdd_led);
    add_led(j, "intrusion", st.intrusion_wired, st.intrusion);
    cJSON_AddBoolToObject(j, "busy", st.busy);
    cJSON_AddItemToObject(j, "current", record_json(&st.current));
    cJSON_AddItemToObject(j, "last", record_json(&st.last));
    return j;
}

void web_atx_get(struct web_conn *c)
{
    web_reply_json(c, 200, web_atx_json(c->w));
}

void web_atx_post(struct web_conn *c, const char *name)
{
    struct web *w = c->w;
    int action = atx_action_parse(name);
    if (action < 0) {
        web_reply_error(c, 404, "no ATX action '%.32s' (on, off, force-off, reset, cycle, wol)", name);
        return;
    }
    if (!w->atx) {
        web_reply_error(c, 503, "ATX not configured");
        return;
    }
    char who[ATX_WHO_MAX];
    snprintf(who, sizeof(who), "web:%.24s@%.34s", c->user, c->addr);
    uint64_t id = 0;
    enum atx_error e = atx_request(w->atx, (enum atx_action)action, who, &id);
    LOG_INFO("web", "%s@%s: ATX %s: %s", c->user, c->addr, atx_action_name((enum atx_action)action),
             atx_error_name(e));
    audit_record(AUDIT_POWER_ACTION, web_audit_iface(c), e == ATX_OK ? AUDIT_OK : AUDIT_FAILED, c->user, c->addr,
                 "%s: %s", atx_action_name((enum atx_action)action), atx_error_name(e));
    int status = web_atx_http_status(e);
    if (status >= 300) {
        web_reply_error(c, status, "ATX %s: %s", atx_action_name((enum atx_action)action), atx_error_name(e));
        return;
    }
    cJSON *j = cJSON_CreateObject();
    cJSON_AddStringToObject(j, "result", atx_error_name(e));
    if (e == ATX_OK)
        cJSON_AddNumberToObject(j, "id", (double)id);
    cJSON_AddItemToObject(j, "atx", web_atx_json(w));
    web_reply_json(c, status, j);
}
