/* Managers/1/LogServices/Log: the audit log (audit/audit.h) as a Redfish
 * LogService. Entries is a collection of LogEntry resources, newest
 * first, expanded in Members as BMCs commonly do, paged with $top and
 * $skip (Members@odata.nextLink); each entry is EntryType "Oem" in
 * piglix's own record format, with Created, Severity, Message and the
 * record's fields under Oem.piglix. ClearLog empties the log (and records
 * who did). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "audit/audit.h"
#include "web/redfish/redfish_internal.h"

#define SERVICES RF_ROOT "/Managers/1/LogServices"
#define LOG SERVICES "/Log"
#define ENTRIES LOG "/Entries"
#define CLEAR "LogService.ClearLog"
#define PAGE_MAX 500

void rf_log_services(struct rf_req *r)
{
    cJSON *j = rf_collection(RF_T_LOG_SERVICE_COLL, SERVICES, "Log Service Collection");
    rf_add_member(j, LOG);
    rf_reply(r, 200, j);
}

void rf_log_service(struct rf_req *r)
{
    struct audit_stats st;
    if (audit_stats(&st) < 0) {
        rf_error_why(r, 503, "the audit log cannot be read", RF_MSG_UNAVAILABLE, "5");
        return;
    }
    cJSON *j = rf_resource(RF_T_LOG_SERVICE, LOG, "Log", "Audit Log");
    cJSON_AddStringToObject(j, "Description", "Logins, power actions, virtual media, account and "
                                              "configuration changes, signal and sensor events");
    /* Bounded by size: about this many records of a typical length fit. */
    cJSON_AddNumberToObject(j, "MaxNumberOfRecords", (double)(st.max_bytes / 120));
    cJSON_AddStringToObject(j, "OverWritePolicy", "WrapsWhenFull");
    cJSON_AddBoolToObject(j, "ServiceEnabled", true);
    cJSON_AddStringToObject(j, "LogEntryType", "OEM");
    char t[40];
    rf_time((int64_t)time(NULL), t, sizeof(t));
    cJSON_AddStringToObject(j, "DateTime", t);
    cJSON_AddStringToObject(j, "DateTimeLocalOffset", "+00:00");
    rf_status(j, "Enabled", "OK");
    rf_link(j, "Entries", ENTRIES);
    cJSON *act = cJSON_AddObjectToObject(cJSON_AddObjectToObject(j, "Actions"), "#" CLEAR);
    cJSON_AddStringToObject(act, "target", LOG "/Actions/" CLEAR);
    rf_reply(r, 200, j);
}

static const char *severity(const struct audit_event *ev)
{
    if (ev->kind == AUDIT_CHASSIS_INTRUSION)
        return "Critical";
    if (ev->kind == AUDIT_SENSOR_THRESHOLD || ev->kind == AUDIT_SIGNAL_LOST || ev->outcome != AUDIT_OK)
        return "Warning";
    return "OK";
}

static cJSON *entry_json(const struct rf_req *r, const struct audit_event *ev)
{
    const char *account = web_log_account_visible(r->c, ev) ? ev->account : WEB_LOG_ACCOUNT_HIDDEN;
    char uri[96], id[24], t[40], msg[AUDIT_DETAIL_MAX + AUDIT_ACCOUNT_MAX + AUDIT_ADDRESS_MAX + 64];
    snprintf(id, sizeof(id), "%llu", (unsigned long long)ev->id);
    snprintf(uri, sizeof(uri), ENTRIES "/%s", id);
    cJSON *j = rf_resource(RF_T_LOG_ENTRY, uri, id, "Audit Log Entry");
    audit_format_time(ev->time_ms, t, sizeof(t));
    cJSON_AddStringToObject(j, "Created", t);
    cJSON_AddStringToObject(j, "EntryType", "Oem");
    cJSON_AddStringToObject(j, "OemRecordFormat", "piglix");
    cJSON_AddStringToObject(j, "Severity", severity(ev));
    snprintf(msg, sizeof(msg), "%s (%s, %s)%s%s%s%s%s%s", audit_kind_name(ev->kind), audit_iface_name(ev->iface),
             audit_outcome_name(ev->outcome), ev->account[0] ? " by " : "", ev->account[0] ? account : "",
             ev->address[0] ? " from " : "", ev->address, ev->detail[0] ? ": " : "", ev->detail);
    cJSON_AddStringToObject(j, "Message", msg);
    cJSON *oem = cJSON_AddObjectToObject(cJSON_AddObjectToObject(j, "Oem"), "piglix");
    cJSON_AddStringToObject(oem, "Kind", audit_kind_name(ev->kind));
    cJSON_AddStringToObject(oem, "Interface", audit_iface_name(ev->iface));
    cJSON_AddStringToObject(oem, "Outcome", audit_outcome_name(ev->outcome));
    cJSON_AddStringToObject(oem, "Account", ev->account[0] ? account : "");
    cJSON_AddStringToObject(oem, "Address", ev->address);
    cJSON_AddStringToObject(oem, "Detail", ev->detail);
    return j;
}

/* $top / $skip: a non-negative number, or -1 (absent); -2 when malformed. */
static long query_num(struct rf_req *r, const char *name)
{
    char buf[32];
    const char *v = lws_get_urlarg_by_name(r->c->wsi, name, buf, sizeof(buf));
    if (!v)
        return -1;
    char *end;
    long n = strtol(v, &end, 10);
    return !*v || *end || n < 0 || n > 1000000 ? -2 : n;
}

void rf_log_entries(struct rf_req *r)
{
    long top = query_num(r, "$top="), skip = query_num(r, "$skip=");
    if (top == -2 || skip == -2 || top == 0) {
        rf_error_why(r, 400, "$top and $skip are numbers ($top at least 1)", RF_MSG_GENERAL_ERROR);
        return;
    }
    if (top < 0 || top > PAGE_MAX)
        top = top < 0 ? 100 : PAGE_MAX;
    if (skip < 0)
        skip = 0;
    struct audit_stats st;
    struct audit_event *evs = malloc(PAGE_MAX * sizeof(*evs));
    if (!evs || audit_stats(&st) < 0) {
        free(evs);
        rf_error_why(r, 503, "the audit log cannot be read", RF_MSG_UNAVAILABLE, "5");
        return;
    }
    cJSON *j = rf_collection(RF_T_LOG_ENTRY_COLL, ENTRIES, "Audit Log Entries");
    cJSON *members = cJSON_GetObjectItem(j, "Members");
    /* Newest first, on the event loop: audit_query reads back from the
     * newest record and stops after the page (a walk of pages by cursor,
     * one whole-log read per 500 skipped, let any ReadOnly account stall
     * every client for seconds). */
    struct audit_query q = {.skip = (uint64_t)skip};
    size_t n = 0;
    uint64_t next;
    long added = 0;
    if (audit_query(&q, evs, (size_t)top, &n, &next) == 0)
        for (size_t i = 0; i < n; i++, added++)
            cJSON_AddItemToArray(members, entry_json(r, &evs[i]));
    free(evs);
    cJSON_ReplaceItemInObject(j, "Members@odata.count", cJSON_CreateNumber((double)st.count));
    if ((size_t)(skip + added) < st.count) {
        char link[160];
        snprintf(link, sizeof(link), ENTRIES "?$skip=%ld&$top=%ld", skip + added, top);
        cJSON_AddStringToObject(j, "Members@odata.nextLink", link);
    }
    rf_reply(r, 200, j);
}

void rf_log_entry(struct rf_req *r)
{
    char *end;
    unsigned long long id = strtoull(r->arg, &end, 10);
    struct audit_event ev;
    int found = r->arg[0] >= '1' && r->arg[0] <= '9' && !*end ? audit_get(id, &ev) : 0;
    if (found < 0) {
        rf_error_why(r, 503, "the audit log cannot be read", RF_MSG_UNAVAILABLE, "5");
        return;
    }
    if (!found) {
        rf_error(r, 404, RF_MSG_RESOURCE_MISSING_AT_URI, r->uri);
        return;
    }
    rf_reply(r, 200, entry_json(r, &ev));
}

void rf_log_clear(struct rf_req *r)
{
    if (audit_clear(AUDIT_IF_REDFISH, r->c->user, r->c->addr) < 0) {
        rf_error_why(r, 503, "the audit log cannot be cleared", RF_MSG_UNAVAILABLE, "5");
        return;
    }
    rf_no_content(r);
}
