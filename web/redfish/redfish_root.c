/* The public part of Redfish: /redfish (protocol versions), the service
 * root, the OData service document and $metadata; and the schema types
 * every resource names in @odata.type and @odata.context. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "web/redfish/redfish_internal.h"

#ifndef PIGLIX_VERSION
#define PIGLIX_VERSION "0"
#endif

/* Namespace and version of each type; collections are unversioned. */
static const struct {
    const char *ns, *ver;
} types[RF_T_COUNT] = {
    [RF_T_SERVICE_ROOT] = {"ServiceRoot", "v1_11_0"},
    [RF_T_SYSTEM_COLL] = {"ComputerSystemCollection", NULL},
    [RF_T_SYSTEM] = {"ComputerSystem", "v1_13_0"},
    [RF_T_CHASSIS_COLL] = {"ChassisCollection", NULL},
    [RF_T_CHASSIS] = {"Chassis", "v1_14_0"},
    [RF_T_SENSOR_COLL] = {"SensorCollection", NULL},
    [RF_T_SENSOR] = {"Sensor", "v1_2_0"},
    [RF_T_THERMAL] = {"Thermal", "v1_6_0"},
    [RF_T_POWER] = {"Power", "v1_6_0"},
    [RF_T_MANAGER_COLL] = {"ManagerCollection", NULL},
    [RF_T_MANAGER] = {"Manager", "v1_10_0"},
    [RF_T_VMEDIA_COLL] = {"VirtualMediaCollection", NULL},
    [RF_T_VMEDIA] = {"VirtualMedia", "v1_4_0"},
    [RF_T_SESSION_SERVICE] = {"SessionService", "v1_1_8"},
    [RF_T_SESSION_COLL] = {"SessionCollection", NULL},
    [RF_T_SESSION] = {"Session", "v1_5_0"},
    [RF_T_ACCOUNT_SERVICE] = {"AccountService", "v1_8_0"},
    [RF_T_ACCOUNT_COLL] = {"ManagerAccountCollection", NULL},
    [RF_T_ACCOUNT] = {"ManagerAccount", "v1_7_0"},
    [RF_T_ROLE_COLL] = {"RoleCollection", NULL},
    [RF_T_ROLE] = {"Role", "v1_3_0"},
    [RF_T_MESSAGE] = {"Message", "v1_1_1"},
    [RF_T_LOG_SERVICE_COLL] = {"LogServiceCollection", NULL},
    [RF_T_LOG_SERVICE] = {"LogService", "v1_3_0"},
    [RF_T_LOG_ENTRY_COLL] = {"LogEntryCollection", NULL},
    [RF_T_LOG_ENTRY] = {"LogEntry", "v1_9_0"},
};

const char *rf_type_name(enum rf_type t, char *buf, size_t n)
{
    if (types[t].ver)
        snprintf(buf, n, "#%s.%s.%s", types[t].ns, types[t].ver, types[t].ns);
    else
        snprintf(buf, n, "#%s.%s", types[t].ns, types[t].ns);
    return buf;
}

static cJSON *skeleton(enum rf_type t, const char *uri)
{
    char buf[160];
    cJSON *j = cJSON_CreateObject();
    snprintf(buf, sizeof(buf), RF_ROOT "/$metadata#%s.%s", types[t].ns, types[t].ns);
    cJSON_AddStringToObject(j, "@odata.context", buf);
    cJSON_AddStringToObject(j, "@odata.id", uri);
    cJSON_AddStringToObject(j, "@odata.type", rf_type_name(t, buf, sizeof(buf)));
    return j;
}

cJSON *rf_resource(enum rf_type t, const char *uri, const char *id, const char *name)
{
    cJSON *j = skeleton(t, uri);
    cJSON_AddStringToObject(j, "Id", id);
    cJSON_AddStringToObject(j, "Name", name);
    return j;
}

cJSON *rf_collection(enum rf_type t, const char *uri, const char *name)
{
    cJSON *j = skeleton(t, uri);
    cJSON_AddStringToObject(j, "Name", name);
    cJSON_AddArrayToObject(j, "Members");
    cJSON_AddNumberToObject(j, "Members@odata.count", 0);
    return j;
}

void rf_add_member(cJSON *coll, const char *uri)
{
    cJSON *m = cJSON_CreateObject();
    cJSON_AddStringToObject(m, "@odata.id", uri);
    cJSON *members = cJSON_GetObjectItem(coll, "Members");
    cJSON_AddItemToArray(members, m);
    cJSON_SetNumberValue(cJSON_GetObjectItem(coll, "Members@odata.count"), cJSON_GetArraySize(members));
}

void rf_link(cJSON *obj, const char *key, const char *uri)
{
    cJSON *l = cJSON_AddObjectToObject(obj, key);
    cJSON_AddStringToObject(l, "@odata.id", uri);
}

void rf_link_array(cJSON *obj, const char *key, const char *uri)
{
    cJSON *a = cJSON_AddArrayToObject(obj, key);
    cJSON *l = cJSON_CreateObject();
    cJSON_AddStringToObject(l, "@odata.id", uri);
    cJSON_AddItemToArray(a, l);
}

void rf_status(cJSON *obj, const char *state, const char *health)
{
    cJSON *s = cJSON_AddObjectToObject(obj, "Status");
    cJSON_AddStringToObject(s, "State", state);
    if (health)
        cJSON_AddStringToObject(s, "Health", health);
}

void rf_time(int64_t t, char *buf, size_t n)
{
    time_t tt = (time_t)t;
    struct tm tm;
    gmtime_r(&tt, &tm);
    strftime(buf, n, "%Y-%m-%dT%H:%M:%S+00:00", &tm);
}

void rf_versions_get(struct rf_req *r)
{
    cJSON *j = cJSON_CreateObject();
    cJSON_AddStringToObject(j, "v1", RF_ROOT "/");
    rf_reply(r, 200, j);
}

void rf_root_get(struct rf_req *r)
{
    cJSON *j = rf_resource(RF_T_SERVICE_ROOT, RF_ROOT "/", "RootService", "piglix Redfish service");
    cJSON_AddStringToObject(j, "RedfishVersion", "1.11.0");
    cJSON_AddStringToObject(j, "UUID", r->rf->uuid);
    cJSON_AddStringToObject(j, "Product", "piglix " PIGLIX_VERSION);
    cJSON_AddStringToObject(j, "Vendor", "piglix");
    /* No $expand, $filter, $select, only or excerpt: query options are ignored. */
    cJSON *pf = cJSON_AddObjectToObject(j, "ProtocolFeaturesSupported");
    cJSON *ex = cJSON_AddObjectToObject(pf, "ExpandQuery");
    cJSON_AddBoolToObject(ex, "ExpandAll", false);
    cJSON_AddBoolToObject(ex, "Levels", false);
    cJSON_AddBoolToObject(ex, "Links", false);
    cJSON_AddBoolToObject(ex, "NoLinks", false);
    cJSON_AddBoolToObject(pf, "FilterQuery", false);
    cJSON_AddBoolToObject(pf, "SelectQuery", false);
    cJSON_AddBoolToObject(pf, "OnlyMemberQuery", false);
    cJSON_AddBoolToObject(pf, "ExcerptQuery", false);
    rf_link(j, "Systems", RF_ROOT "/Systems");
    rf_link(j, "Chassis", RF_ROOT "/Chassis");
    rf_link(j, "Managers", RF_ROOT "/Managers");
    rf_link(j, "SessionService", RF_ROOT "/SessionService");
    rf_link(j, "AccountService", RF_ROOT "/AccountService");
    cJSON *links = cJSON_AddObjectToObject(j, "Links");
    rf_link(links, "Sessions", RF_ROOT "/SessionService/Sessions");
    rf_reply(r, 200, j);
}

void rf_odata_get(struct rf_req *r)
{
    static const char *const top[][2] = {
        {"Service", RF_ROOT "/"},           {"Systems", RF_ROOT "/Systems"},
        {"Chassis", RF_ROOT "/Chassis"},    {"Managers", RF_ROOT "/Managers"},
        {"SessionService", RF_ROOT "/SessionService"}, {"AccountService", RF_ROOT "/AccountService"},
        {"Sessions", RF_ROOT "/SessionService/Sessions"},
    };
    cJSON *j = cJSON_CreateObject();
    cJSON_AddStringToObject(j, "@odata.context", RF_ROOT "/$metadata");
    cJSON *v = cJSON_AddArrayToObject(j, "value");
    for (size_t i = 0; i < sizeof(top) / sizeof(top[0]); i++) {
        cJSON *e = cJSON_CreateObject();
        cJSON_AddStringToObject(e, "name", top[i][0]);
        cJSON_AddStringToObject(e, "kind", "Singleton");
        cJSON_AddStringToObject(e, "url", top[i][1]);
        cJSON_AddItemToArray(v, e);
    }
    rf_reply(r, 200, j);
}

/* The CSDL document: a reference to the DMTF schema file of every type
 * piglix serves, and the service's entity container. */
void rf_metadata_get(struct rf_req *r)
{
    size_t cap = 8192, len = 0;
    char *x = malloc(cap);
    if (!x) {
        rf_error(r, 500, RF_MSG_INTERNAL_ERROR);
        return;
    }
#define ADD(...) len += (size_t)snprintf(x + len, len < cap ? cap - len : 0, __VA_ARGS__)
    ADD("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
        "<edmx:Edmx xmlns:edmx=\"http://docs.oasis-open.org/odata/ns/edmx\" Version=\"4.0\">\n");
    for (int t = 0; t < RF_T_COUNT; t++) {
        ADD("  <edmx:Reference Uri=\"http://redfish.dmtf.org/schemas/v1/%s_v1.xml\">\n"
            "    <edmx:Include Namespace=\"%s\"/>\n", types[t].ns, types[t].ns);
        if (types[t].ver)
            ADD("    <edmx:Include Namespace=\"%s.%s\"/>\n", types[t].ns, types[t].ver);
        ADD("  </edmx:Reference>\n");
    }
    ADD("  <edmx:DataServices>\n"
        "    <Schema xmlns=\"http://docs.oasis-open.org/odata/ns/edm\" Namespace=\"Service\">\n"
        "      <EntityContainer Name=\"Service\" Extends=\"ServiceRoot.%s.ServiceContainer\"/>\n"
        "    </Schema>\n"
        "  </edmx:DataServices>\n"
        "</edmx:Edmx>\n", types[RF_T_SERVICE_ROOT].ver);
#undef ADD
    if (len >= cap) { /* the table outgrew the buffer: a programming error */
        free(x);
        rf_error(r, 500, RF_MSG_INTERNAL_ERROR);
        return;
    }
    web_resp_header(&r->c->resp, "OData-Version: 4.0");
    web_reply_bytes(r->c, 200, "application/xml", (uint8_t *)x, len);
}
