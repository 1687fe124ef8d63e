/* GET /api/sensors, and the hardware part of /api/metrics: the sensors,
 * the ATX front panel and the USB drive, in the Prometheus text format.
 * Everything here reads copies (sensors_read, atx_get_status,
 * vmedia_drive_get_status): nothing blocks the web thread.
 *
 * Metric names carry their base unit (one family per sensor kind:
 * piglix_sensor_temperature_celsius, ..._voltage_volts, ..._fan_rpm,
 * ..._current_amperes, ..._power_watts) rather than one family with a unit
 * label, as Prometheus' naming rules ask; states (health, power state) are
 * one 0/1 series per state. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "atx/atx.h"
#include "sensors/sensors.h"
#include "vmedia/vmedia.h"
#include "web/web_internal.h"

static cJSON *number_or_null(double v)
{
    return isnan(v) ? cJSON_CreateNull() : cJSON_CreateNumber(v);
}

void web_sensors_get(struct web_conn *c)
{
    struct web *w = c->w;
    if (!w->sensors) {
        web_reply_error(c, 503, "sensors not enabled ([sensors] enabled = no)");
        return;
    }
    struct sensor_reading *r = malloc(SENSORS_MAX * sizeof(*r));
    if (!r) {
        web_reply_error(c, 503, "out of memory");
        return;
    }
    size_t n = sensors_read(w->sensors, r, SENSORS_MAX);
    if (n > SENSORS_MAX)
        n = SENSORS_MAX;
    int64_t now = clock_mono_ms();
    cJSON *j = cJSON_CreateObject();
    cJSON *arr = cJSON_AddArrayToObject(j, "sensors");
    for (size_t i = 0; i < n; i++) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "id", r[i].id);
        cJSON_AddStringToObject(o, "name", r[i].name);
        cJSON_AddStringToObject(o, "kind", sensor_kind_name(r[i].kind));
        cJSON_AddStringToObject(o, "unit", sensor_unit(r[i].kind));
        bool ok = r[i].health != SENSOR_UNAVAILABLE;
        cJSON_AddItemToObject(o, "value", number_or_null(ok ? r[i].value : NAN));
        cJSON *lim = cJSON_AddObjectToObject(o, "limits");
        cJSON_AddItemToObject(lim, "lower_critical", number_or_null(r[i].lower_critical));
        cJSON_AddItemToObject(lim, "lower_warning", number_or_null(r[i].lower_warning));
        cJSON_AddItemToObject(lim, "upper_warning", number_or_null(r[i].upper_warning));
        cJSON_AddItemToObject(lim, "upper_critical", number_or_null(r[i].upper_critical));
        cJSON_AddStringToObject(o, "health", sensor_health_name(r[i].health));
        cJSON_AddNumberToObject(o, "age_ms", (double)(now - r[i].read_ms));
        cJSON_AddItemToArray(arr, o);
    }
    cJSON_AddNumberToObject(j, "poll_ms", w->sensors_poll_ms);
    free(r);
    web_reply_json(c, 200, j);
}

/* ---- Prometheus text ---- */

static void family(FILE *f, const char *name, const char *type, const char *help)
{
    fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* A label value: backslash, double quote and newline escaped. */
static void label(FILE *f, const char *key, const char *value, bool first)
{
    fprintf(f, "%s%s=\"", first ? "" : ",", key);
    for (const char *p = value; *p; p++) {
        if (*p == '\\' || *p == '"')
            fputc('\\', f);
        if (*p == '\n')
            fputs("\\n", f);
        else
            fputc(*p, f);
    }
    fputc('"', f);
}

/* The shortest text that reads back as v (sensor values like 45.1 stay 45.1). */
static void value(FILE *f, double v)
{
    char buf[40];
    snprintf(buf, sizeof(buf), "%.15g", v);
    if (strtod(buf, NULL) != v)
        snprintf(buf, sizeof(buf), "%.17g", v);
    fprintf(f, " %s\n", buf);
}

static void sensor_labels(FILE *f, const char *metric, const struct sensor_reading *r)
{
    fprintf(f, "%s{", metric);
    label(f, "id", r->id, true);
    label(f, "name", r->name, false);
}

static void sensors_metrics(FILE *f, struct sensors *s)
{
    static const struct { enum sensor_kind kind; const char *name, *help; } kinds[] = {
        {SENSOR_TEMPERATURE, "piglix_sensor_temperature_celsius", "Temperature readings in degrees Celsius."},
        {SENSOR_VOLTAGE, "piglix_sensor_voltage_volts", "Voltage readings in volts."},
        {SENSOR_FAN, "piglix_sensor_fan_rpm", "Fan speeds in revolutions per minute."},
        {SENSOR_CURRENT, "piglix_sensor_current_amperes", "Current readings in amperes."},
        {SENSOR_POWER, "piglix_sensor_power_watts", "Power readings in watts."},
        {SENSOR_INTRUSION, "piglix_sensor_intrusion", "Chassis intrusion inputs: 1 when the chassis is open."},
    };
    struct sensor_reading *r = malloc(SENSORS_MAX * sizeof(*r));
    if (!r)
        return;
    size_t n = sensors_read(s, r, SENSORS_MAX);
    if (n > SENSORS_MAX)
        n = SENSORS_MAX;
    for (size_t k = 0; k < sizeof(kinds) / sizeof(kinds[0]); k++) {
        bool any = false;
        for (size_t i = 0; i < n; i++) {
            if (r[i].kind != kinds[k].kind || r[i].health == SENSOR_UNAVAILABLE)
                continue;
            if (!any)
                family(f, kinds[k].name, "gauge", kinds[k].help);
            any = true;
            sensor_labels(f, kinds[k].name, &r[i]);
            fputc('}', f);
            value(f, r[i].value);
        }
    }
    if (n)
        family(f, "piglix_sensor_health", "gauge",
               "1 for each sensor's current health: ok, warning, critical or unavailable.");
    static const enum sensor_health states[] = {SENSOR_OK, SENSOR_WARNING, SENSOR_CRITICAL, SENSOR_UNAVAILABLE};
    for (size_t i = 0; i < n; i++)
        for (size_t h = 0; h < sizeof(states) / sizeof(states[0]); h++) {
            sensor_labels(f, "piglix_sensor_health", &r[i]);
            label(f, "kind", sensor_kind_name(r[i].kind), false);
            label(f, "health", sensor_health_name(states[h]), false);
            fprintf(f, "} %d\n", r[i].health == states[h]);
        }
    free(r);
}

static void gauge(FILE *f, const char *name, const char *help, double v)
{
    family(f, name, "gauge", help);
    fputs(name, f);
    value(f, v);
}

static void atx_metrics(FILE *f, struct atx *atx)
{
    gauge(f, "piglix_atx_configured", "1 when an ATX board ([atx]) is configured.", atx != NULL);
    if (!atx)
        return;
    struct atx_status st;
    atx_get_status(atx, &st);
    family(f, "piglix_atx_power_state", "gauge", "1 for the server's power state as the power LED shows it.");
    static const enum atx_power states[] = {ATX_POWER_UNKNOWN, ATX_POWER_OFF, ATX_POWER_ON, ATX_POWER_STANDBY};
    for (size_t i = 0; i < sizeof(states) / sizeof(states[0]); i++)
        fprintf(f, "piglix_atx_power_state{state=\"%s\"} %d\n", atx_power_name(states[i]), st.power == states[i]);
    if (st.power_led_wired)
        gauge(f, "piglix_atx_power_led", "1 when the power LED is lit.", st.power_led);
    if (st.hdd_led_wired) {
        gauge(f, "piglix_atx_hdd_led", "1 when the HDD LED is lit.", st.hdd_led);
        family(f, "piglix_atx_hdd_activity_total", "counter", "HDD LED flashes seen.");
        fprintf(f, "piglix_atx_hdd_activity_total %llu\n", (unsigned long long)st.hdd_activity);
    }
    if (st.intrusion_wired)
        gauge(f, "piglix_atx_intrusion", "1 when the chassis intrusion input says open.", st.intrusion);
    gauge(f, "piglix_atx_busy", "1 while a power action runs.", st.busy);
}

static void media_metrics(FILE *f, struct vmedia_drive *d)
{
    gauge(f, "piglix_media_configured", "1 when the virtual USB drive ([vmedia]) is configured.", d != NULL);
    if (!d)
        return;
    struct vmedia_drive_status st;
    vmedia_drive_get_status(d, &st);
    gauge(f, "piglix_media_present", "1 when the USB drive is on the bus.", st.present);
    gauge(f, "piglix_media_host_online", "1 when the server has configured the USB gadget.", st.host_online);
    gauge(f, "piglix_media_mounted", "1 when an image is mounted.", st.mounted);
    gauge(f, "piglix_media_pending", "1 while a mount waits for its URL download.", st.pending);
    gauge(f, "piglix_media_size_bytes", "Size of the mounted image in bytes (0: none).",
          st.mounted ? (double)st.size : 0);
    if (!st.mounted)
        return;
    family(f, "piglix_media_info", "gauge", "The mounted image: its name and how it is presented.");
    fputs("piglix_media_info{", f);
    label(f, "image", st.image, true);
    label(f, "mode", st.as_disk ? "disk" : vmedia_mode_name(st.mode), false);
    label(f, "writable", st.rw ? "yes" : "no", false);
    fputs("} 1\n", f);
}

char *web_metrics_hw(struct web *w)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    if (!f)
        return NULL;
    if (w->sensors)
        sensors_metrics(f, w->sensors);
    atx_metrics(f, w->atx);
    media_metrics(f, w->vdrive);
    if (fclose(f) != 0) {
        free(buf);
        return NULL;
    }
    return buf;
}
