/* Systems/1: the server piglix is attached to. PowerState comes from the
 * power LED (atx/atx.h); ComputerSystem.Reset presses the buttons, and its
 * AllowableValues list only what the wired lines can do. atx/'s calls never
 * block, so the web thread makes them. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "atx/atx.h"
#include "audit/audit.h"
#include "common/log.h"
#include "web/redfish/redfish_internal.h"

#define SYSTEM RF_ROOT "/Systems/1"
#define RESET_ACTION "ComputerSystem.Reset"

enum { PUSH = -2 }; /* PushPowerButton: on or off by the power state */

static const struct {
    const char *name;
    int action;                 /* enum atx_action or PUSH */
} resets[] = {
    {"On", ATX_ACTION_ON},
    {"ForceOff", ATX_ACTION_FORCE_OFF},
    {"GracefulShutdown", ATX_ACTION_OFF},
    {"ForceRestart", ATX_ACTION_RESET},
    {"PushPowerButton", PUSH},
    {"PowerCycle", ATX_ACTION_CYCLE},
};
#define N_RESETS (sizeof(resets) / sizeof(resets[0]))

/* Whether a reset type works with what is wired: the power button for all
 * but ForceRestart (the reset button); On also through Wake-on-LAN. */
static bool reset_allowed(struct web *w, const struct atx_status *st, size_t i)
{
    if (!w->atx)
        return false;
    bool power = st->gpio && st->power_button_wired;
    bool reset = st->gpio && st->reset_button_wired;
    if (resets[i].action == ATX_ACTION_RESET)
        return reset;
    if (resets[i].action == ATX_ACTION_ON)
        return power || st->wol;
    return power;
}

const char *rf_power_state(struct web *w)
{
    if (!w->atx)
        return NULL;
    struct atx_status st;
    atx_get_status(w->atx, &st);
    if (!st.power_led_wired)
        return NULL;
    enum atx_action doing = st.busy ? st.current.action : ATX_ACTION_COUNT;
    switch (st.power) {
    case ATX_POWER_ON:
        return doing == ATX_ACTION_OFF || doing == ATX_ACTION_FORCE_OFF ? "PoweringOff" : "On";
    case ATX_POWER_OFF:
        return doing == ATX_ACTION_ON || doing == ATX_ACTION_CYCLE || doing == ATX_ACTION_WOL ? "PoweringOn"
                                                                                               : "Off";
    case ATX_POWER_STANDBY: /* asleep (S3): not running; On wakes it */
        return "Off";
    default:
        return NULL;
    }
}

void rf_systems(struct rf_req *r)
{
    cJSON *j = rf_collection(RF_T_SYSTEM_COLL, RF_ROOT "/Systems", "Computer System Collection");
    rf_add_member(j, SYSTEM);
    rf_reply(r, 200, j);
}

void rf_system(struct rf_req *r)
{
    struct web *w = r->w;
    struct atx_status st = {0};
    if (w->atx)
        atx_get_status(w->atx, &st);
    cJSON *j = rf_resource(RF_T_SYSTEM, SYSTEM, "1", "Server");
    cJSON_AddStringToObject(j, "Description", "The server this piglix appliance is attached to");
    cJSON_AddStringToObject(j, "SystemType", "Physical");
    const char *ps = rf_power_state(w);
    if (ps)
        cJSON_AddStringToObject(j, "PowerState", ps);
    else
        cJSON_AddNullToObject(j, "PowerState");
    rf_status(j, st.power_led_wired && st.power == ATX_POWER_STANDBY ? "StandbyOffline" : "Enabled", "OK");
    /* piglix cannot change the firmware's boot order: no override. */
    cJSON *boot = cJSON_AddObjectToObject(j, "Boot");
    cJSON_AddStringToObject(boot, "BootSourceOverrideEnabled", "Disabled");
    cJSON_AddStringToObject(boot, "BootSourceOverrideTarget", "None");
    cJSON *bt = cJSON_AddArrayToObject(boot, "BootSourceOverrideTarget@Redfish.AllowableValues");
    cJSON_AddItemToArray(bt, cJSON_CreateString("None"));
    cJSON *links = cJSON_AddObjectToObject(j, "Links");
    rf_link_array(links, "Chassis", RF_ROOT "/Chassis/1");
    rf_link_array(links, "ManagedBy", RF_ROOT "/Managers/1");
    cJSON *actions = cJSON_AddObjectToObject(j, "Actions");
    cJSON *allowed = cJSON_CreateArray();
    for (size_t i = 0; i < N_RESETS; i++)
        if (reset_allowed(w, &st, i))
            cJSON_AddItemToArray(allowed, cJSON_CreateString(resets[i].name));
    if (cJSON_GetArraySize(allowed) > 0) {
        cJSON *reset = cJSON_AddObjectToObject(actions, "#" RESET_ACTION);
        cJSON_AddStringToObject(reset, "target", SYSTEM "/Actions/" RESET_ACTION);
        cJSON_AddItemToObject(reset, "ResetType@Redfish.AllowableValues", allowed);
    } else {
        cJSON_Delete(allowed);
    }
    rf_reply(r, 200, j);
}

static void reply_atx_error(struct rf_req *r, enum atx_error e, const struct atx_status *st, const char *what)
{
    char why[160];
    snprintf(why, sizeof(why), "%s: %s", what, atx_error_name(e));
    switch (e) {
    case ATX_ERR_BUSY:
        snprintf(why, sizeof(why), "%s: another power action is running (%s)", what,
                 atx_action_name(st->current.action));
        rf_error_why(r, 409, why, RF_MSG_RESOURCE_IN_USE);
        break;
    case ATX_ERR_STATE:
        if (st->power == ATX_POWER_STANDBY)
            rf_error_why(r, 409, why, RF_MSG_RESOURCE_IN_STANDBY);
        else if (st->power == ATX_POWER_OFF)
            rf_error_why(r, 409, why, RF_MSG_POWER_ON_REQUIRED, "1");
        else
            rf_error_why(r, 409, "the power state is not known yet: retry in a second",
                         RF_MSG_OPERATION_FAILED);
        break;
    case ATX_ERR_STOPPED:
        rf_error(r, 503, RF_MSG_SHUTTING_DOWN);
        break;
    default:
        rf_error_why(r, 500, why, RF_MSG_OPERATION_FAILED);
        break;
    }
}

void rf_system_reset(struct rf_req *r)
{
    struct web *w = r->w;
    const char *act = RESET_ACTION;
    cJSON *type = r->body ? cJSON_GetObjectItemCaseSensitive(r->body, "ResetType") : NULL;
    for (cJSON *p = r->body ? r->body->child : NULL; p; p = p->next)
        if (strcmp(p->string, "ResetType") != 0) {
            rf_error(r, 400, RF_MSG_ACTION_PARAM_UNKNOWN, act, p->string);
            return;
        }
    if (!type) {
        rf_error(r, 400, RF_MSG_ACTION_PARAM_MISSING, act, "ResetType");
        return;
    }
    if (!cJSON_IsString(type)) {
        char *v = cJSON_PrintUnformatted(type);
        rf_error(r, 400, RF_MSG_ACTION_PARAM_TYPE_ERROR, v ? v : "?", "ResetType", act);
        free(v);
        return;
    }
    struct atx_status st = {0};
    if (w->atx)
        atx_get_status(w->atx, &st);
    size_t i = 0;
    while (i < N_RESETS && strcmp(resets[i].name, type->valuestring) != 0)
        i++;
    if (i == N_RESETS || !reset_allowed(w, &st, i)) {
        LOG_INFO("redfish", "%s@%s: reset %.32s refused: not among the allowable values", r->c->user,
                 r->c->addr, type->valuestring);
        rf_error(r, 400, RF_MSG_ACTION_PARAM_NOT_IN_LIST, type->valuestring, "ResetType", act);
        return;
    }
    bool power_button = st.gpio && st.power_button_wired;
    enum atx_action a;
    if (resets[i].action == PUSH)
        a = st.power_led_wired && st.power == ATX_POWER_ON ? ATX_ACTION_OFF : ATX_ACTION_ON;
    else if (resets[i].action == ATX_ACTION_ON && !power_button)
        a = ATX_ACTION_WOL;
    else
        a = (enum atx_action)resets[i].action;
    char who[ATX_WHO_MAX];
    snprintf(who, sizeof(who), "redfish:%.24s@%.30s", r->c->user, r->c->addr);
    enum atx_error e = atx_request(w->atx, a, who, NULL);
    LOG_INFO("redfish", "%s@%s: reset %s (ATX %s): %s", r->c->user, r->c->addr, resets[i].name,
             atx_action_name(a), atx_error_name(e));
    audit_record(AUDIT_POWER_ACTION, AUDIT_IF_REDFISH, e == ATX_OK ? AUDIT_OK : AUDIT_FAILED, r->c->user, r->c->addr,
                 "ComputerSystem.Reset %s (%s): %s", resets[i].name, atx_action_name(a), atx_error_name(e));
    if (e == ATX_OK || e == ATX_ERR_ALREADY) {
        rf_no_content(r);
        return;
    }
    char what[64];
    snprintf(what, sizeof(what), "ResetType %s", resets[i].name);
    atx_get_status(w->atx, &st); /* why it was refused: the state now */
    reply_atx_error(r, e, &st, what);
}
