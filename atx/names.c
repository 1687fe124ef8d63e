#include "atx/atx.h"

#include <stdio.h>
#include <string.h>

static const char *const action_names[ATX_ACTION_COUNT] = {"on", "off", "force-off", "reset", "cycle", "wol"};

const char *atx_action_name(enum atx_action action)
{
    return (unsigned)action < ATX_ACTION_COUNT ? action_names[action] : "invalid";
}

const char *atx_power_name(enum atx_power power)
{
    switch (power) {
    case ATX_POWER_OFF: return "off";
    case ATX_POWER_ON: return "on";
    case ATX_POWER_STANDBY: return "standby";
    default: return "unknown";
    }
}

const char *atx_error_name(enum atx_error err)
{
    switch (err) {
    case ATX_OK: return "ok";
    case ATX_ERR_ALREADY: return "already";
    case ATX_ERR_BUSY: return "busy";
    case ATX_ERR_STATE: return "state";
    case ATX_ERR_UNSUPPORTED: return "unsupported";
    case ATX_ERR_INVALID: return "invalid";
    case ATX_ERR_STOPPED: return "stopped";
    }
    return "invalid";
}

const char *atx_outcome_name(enum atx_outcome outcome)
{
    switch (outcome) {
    case ATX_OUTCOME_NONE: return "none";
    case ATX_OUTCOME_RUNNING: return "running";
    case ATX_OUTCOME_DONE: return "done";
    case ATX_OUTCOME_PRESSED: return "pressed";
    case ATX_OUTCOME_SENT: return "sent";
    case ATX_OUTCOME_TIMEOUT: return "timeout";
    case ATX_OUTCOME_FAILED: return "failed";
    case ATX_OUTCOME_SUPERSEDED: return "superseded";
    case ATX_OUTCOME_ABORTED: return "aborted";
    }
    return "invalid";
}

int atx_action_parse(const char *name)
{
    for (int i = 0; i < ATX_ACTION_COUNT; i++)
        if (strcmp(name, action_names[i]) == 0)
            return i;
    if (strcmp(name, "force_off") == 0)
        return ATX_ACTION_FORCE_OFF;
    if (strcmp(name, "power-cycle") == 0 || strcmp(name, "power_cycle") == 0)
        return ATX_ACTION_CYCLE;
    return -1;
}

/* Appends like snprintf: n counts what would have been written. */
#define APPEND(buf, size, n, ...)                                                                  \
    do {                                                                                           \
        int r_ = snprintf((n) < (size) ? (buf) + (n) : NULL, (n) < (size) ? (size) - (n) : 0,     \
                          __VA_ARGS__);                                                            \
        if (r_ > 0)                                                                                \
            (n) += (size_t)r_;                                                                     \
    } while (0)

static void record_format(const char *prefix, const struct atx_action_record *r, char *buf, size_t size,
                          size_t *n)
{
    if (r->id == 0) {
        APPEND(buf, size, *n, " %s=none", prefix);
        return;
    }
    APPEND(buf, size, *n, " %s=%s %s_id=%llu %s_by=\"%s\" %s_outcome=%s %s_detail=\"%s\"", prefix,
           atx_action_name(r->action), prefix, (unsigned long long)r->id, prefix, r->who, prefix,
           atx_outcome_name(r->outcome), prefix, r->detail);
}

int atx_status_format(const struct atx_status *st, char *buf, size_t size)
{
    size_t n = 0;
    APPEND(buf, size, n, "power=%s power_led=%s hdd_led=%s hdd_activity=%llu intrusion=%s busy=%s",
           atx_power_name(st->power), st->power_led_wired ? (st->power_led ? "on" : "off") : "none",
           st->hdd_led_wired ? (st->hdd_led ? "on" : "off") : "none", (unsigned long long)st->hdd_activity,
           st->intrusion_wired ? (st->intrusion ? "open" : "closed") : "none", st->busy ? "yes" : "no");
    if (st->busy)
        record_format("current", &st->current, buf, size, &n);
    record_format("last", &st->last, buf, size, &n);
    return (int)n;
}
