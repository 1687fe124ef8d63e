/* Chassis/1: the server's enclosure, with its sensors (sensors/sensors.h) as a
 * Sensors collection and, for clients that only know the older schemas
 * (sushy, redfishtool), as Thermal (temperatures, fans) and Power
 * (voltages). Chassis intrusion is PhysicalSecurity, not a sensor. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "atx/atx.h"
#include "sensors/sensors.h"
#include "web/redfish/redfish_internal.h"

#define CHASSIS RF_ROOT "/Chassis/1"

struct readings {
    struct sensor_reading *r;
    size_t n;
};

/* The current readings (none without sensors); 0, or -1 after replying. */
static int read_all(struct rf_req *r, struct readings *out)
{
    out->n = 0;
    out->r = malloc(SENSORS_MAX * sizeof(*out->r));
    if (!out->r) {
        rf_error(r, 500, RF_MSG_INTERNAL_ERROR);
        return -1;
    }
    if (r->w->sensors) {
        size_t n = sensors_read(r->w->sensors, out->r, SENSORS_MAX);
        out->n = n < SENSORS_MAX ? n : SENSORS_MAX;
    }
    return 0;
}

/* A sensor id as a URI segment: characters other than [A-Za-z0-9._-] become '_'. */
static void uri_id(const char *id, char *out, size_t n)
{
    size_t i = 0;
    for (; id[i] && i + 1 < n; i++) {
        char c = id[i];
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
                  c == '_' || c == '-';
        out[i] = ok ? c : '_';
    }
    out[i] = '\0';
}

static const char *reading_type(enum sensor_kind k)
{
    switch (k) {
    case SENSOR_TEMPERATURE: return "Temperature";
    case SENSOR_VOLTAGE: return "Voltage";
    case SENSOR_FAN: return "Rotational";
    case SENSOR_CURRENT: return "Current";
    case SENSOR_POWER: return "Power";
    default: return NULL;
    }
}

static const char *health(enum sensor_health h)
{
    switch (h) {
    case SENSOR_OK: return "OK";
    case SENSOR_WARNING: return "Warning";
    case SENSOR_CRITICAL: return "Critical";
    default: return NULL;
    }
}

static void sensor_status(cJSON *j, const struct sensor_reading *s)
{
    rf_status(j, s->health == SENSOR_UNAVAILABLE ? "UnavailableOffline" : "Enabled", health(s->health));
}

static void add_number(cJSON *j, const char *key, double v)
{
    if (isnan(v))
        return;
    cJSON_AddNumberToObject(j, key, v);
}

static void add_reading(cJSON *j, const char *key, const struct sensor_reading *s)
{
    if (s->health == SENSOR_UNAVAILABLE)
        cJSON_AddNullToObject(j, key);
    else
        cJSON_AddNumberToObject(j, key, s->value);
}

static const char *worst_health(const struct readings *rd)
{
    enum sensor_health worst = SENSOR_OK;
    for (size_t i = 0; i < rd->n; i++)
        if (rd->r[i].health != SENSOR_UNAVAILABLE && rd->r[i].health > worst)
            worst = rd->r[i].health;
    return health(worst);
}

void rf_chassis_coll(struct rf_req *r)
{
    cJSON *j = rf_collection(RF_T_CHASSIS_COLL, RF_ROOT "/Chassis", "Chassis Collection");
    rf_add_member(j, CHASSIS);
    rf_reply(r, 200, j);
}

void rf_chassis(struct rf_req *r)
{
    struct readings rd;
    if (read_all(r, &rd) < 0)
        return;
    cJSON *j = rf_resource(RF_T_CHASSIS, CHASSIS, "1", "Server chassis");
    cJSON_AddStringToObject(j, "ChassisType", "Other");
    const char *ps = rf_power_state(r->w);
    if (ps)
        cJSON_AddStringToObject(j, "PowerState", ps);
    else
        cJSON_AddNullToObject(j, "PowerState");
    rf_status(j, "Enabled", worst_health(&rd));
    struct atx_status st = {0};
    if (r->w->atx)
        atx_get_status(r->w->atx, &st);
    if (st.intrusion_wired) {
        cJSON *ps2 = cJSON_AddObjectToObject(j, "PhysicalSecurity");
        cJSON_AddStringToObject(ps2, "IntrusionSensor", st.intrusion ? "HardwareIntrusion" : "Normal");
    }
    rf_link(j, "Sensors", CHASSIS "/Sensors");
    rf_link(j, "Thermal", CHASSIS "/Thermal");
    rf_link(j, "Power", CHASSIS "/Power");
    cJSON *links = cJSON_AddObjectToObject(j, "Links");
    rf_link_array(links, "ComputerSystems", RF_ROOT "/Systems/1");
    rf_link_array(links, "ManagedBy", RF_ROOT "/Managers/1");
    free(rd.r);
    rf_reply(r, 200, j);
}

void rf_sensors(struct rf_req *r)
{
    struct readings rd;
    if (read_all(r, &rd) < 0)
        return;
    cJSON *j = rf_collection(RF_T_SENSOR_COLL, CHASSIS "/Sensors", "Sensors");
    char id[SENSOR_ID_MAX], uri[160];
    for (size_t i = 0; i < rd.n; i++) {
        if (!reading_type(rd.r[i].kind))
            continue;
        uri_id(rd.r[i].id, id, sizeof(id));
        snprintf(uri, sizeof(uri), CHASSIS "/Sensors/%s", id);
        rf_add_member(j, uri);
    }
    free(rd.r);
    rf_reply(r, 200, j);
}

static void add_threshold(cJSON *t, const char *key, double v)
{
    if (isnan(v))
        return;
    cJSON *o = cJSON_AddObjectToObject(t, key);
    cJSON_AddNumberToObject(o, "Reading", v);
}

void rf_sensor(struct rf_req *r)
{
    struct readings rd;
    if (read_all(r, &rd) < 0)
        return;
    char id[SENSOR_ID_MAX];
    const struct sensor_reading *s = NULL;
    for (size_t i = 0; i < rd.n && !s; i++) {
        uri_id(rd.r[i].id, id, sizeof(id));
        if (reading_type(rd.r[i].kind) && strcmp(id, r->arg) == 0)
            s = &rd.r[i];
    }
    if (!s) {
        free(rd.r);
        rf_error(r, 404, RF_MSG_RESOURCE_MISSING_AT_URI, r->uri);
        return;
    }
    char uri[160];
    snprintf(uri, sizeof(uri), CHASSIS "/Sensors/%s", id);
    cJSON *j = rf_resource(RF_T_SENSOR, uri, id, s->name[0] ? s->name : s->id);
    cJSON_AddStringToObject(j, "ReadingType", reading_type(s->kind));
    add_reading(j, "Reading", s);
    cJSON_AddStringToObject(j, "ReadingUnits", sensor_unit(s->kind));
    cJSON *t = cJSON_AddObjectToObject(j, "Thresholds");
    add_threshold(t, "LowerCritical", s->lower_critical);
    add_threshold(t, "LowerCaution", s->lower_warning);
    add_threshold(t, "UpperCaution", s->upper_warning);
    add_threshold(t, "UpperCritical", s->upper_critical);
    sensor_status(j, s);
    free(rd.r);
    rf_reply(r, 200, j);
}

/* One entry of Thermal's or Power's arrays (the older schemas' field names). */
static void add_legacy(cJSON *arr, const char *base, const char *array, const struct sensor_reading *s,
                       const char *reading_key)
{
    char uri[160], id[SENSOR_ID_MAX];
    cJSON *e = cJSON_CreateObject();
    snprintf(uri, sizeof(uri), "%s#/%s/%d", base, array, cJSON_GetArraySize(arr));
    uri_id(s->id, id, sizeof(id));
    cJSON_AddStringToObject(e, "@odata.id", uri);
    cJSON_AddStringToObject(e, "MemberId", id);
    cJSON_AddStringToObject(e, "Name", s->name[0] ? s->name : s->id);
    add_reading(e, reading_key, s);
    if (s->kind == SENSOR_FAN)
        cJSON_AddStringToObject(e, "ReadingUnits", "RPM");
    add_number(e, "LowerThresholdCritical", s->lower_critical);
    add_number(e, "LowerThresholdNonCritical", s->lower_warning);
    add_number(e, "UpperThresholdNonCritical", s->upper_warning);
    add_number(e, "UpperThresholdCritical", s->upper_critical);
    sensor_status(e, s);
    cJSON_AddItemToArray(arr, e);
}

void rf_thermal(struct rf_req *r)
{
    struct readings rd;
    if (read_all(r, &rd) < 0)
        return;
    const char *base = CHASSIS "/Thermal";
    cJSON *j = rf_resource(RF_T_THERMAL, base, "Thermal", "Thermal");
    cJSON *temps = cJSON_AddArrayToObject(j, "Temperatures");
    cJSON *fans = cJSON_AddArrayToObject(j, "Fans");
    for (size_t i = 0; i < rd.n; i++) {
        if (rd.r[i].kind == SENSOR_TEMPERATURE)
            add_legacy(temps, base, "Temperatures", &rd.r[i], "ReadingCelsius");
        else if (rd.r[i].kind == SENSOR_FAN)
            add_legacy(fans, base, "Fans", &rd.r[i], "Reading");
    }
    rf_status(j, "Enabled", worst_health(&rd));
    free(rd.r);
    rf_reply(r, 200, j);
}

void rf_power(struct rf_req *r)
{
    struct readings rd;
    if (read_all(r, &rd) < 0)
        return;
    const char *base = CHASSIS "/Power";
    cJSON *j = rf_resource(RF_T_POWER, base, "Power", "Power");
    cJSON *volts = cJSON_AddArrayToObject(j, "Voltages");
    for (size_t i = 0; i < rd.n; i++)
        if (rd.r[i].kind == SENSOR_VOLTAGE)
            add_legacy(volts, base, "Voltages", &rd.r[i], "ReadingVolts");
    free(rd.r);
    rf_reply(r, 200, j);
}
