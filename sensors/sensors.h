/* atx/sensors: the server's and the appliance's health readings: hwmon
 * (temperatures, voltages, fan speeds, currents, power under
 * [sensors] root/class/hwmon), thermal zones (root/class/thermal), and the
 * chassis-intrusion input of the ATX board. One thread polls every
 * [sensors] poll_ms and keeps the latest readings; threshold crossings are
 * logged as events (once per crossing, not per poll). Readers take a copy.
 * All functions are thread-safe.
 *
 * Sensor ids are stable across restarts and name the source, e.g.
 * "hwmon.cpu_thermal.temp1", "thermal.cpu-thermal", "atx.intrusion"
 * (the rules: atx/sensors_scan.c). */
#ifndef PIGLIX_ATX_SENSORS_H
#define PIGLIX_ATX_SENSORS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

struct config_sensors;
struct atx;
struct sensors;

#define SENSOR_ID_MAX 64
#define SENSOR_NAME_MAX 64
#define SENSORS_MAX 64

enum sensor_kind {
    SENSOR_TEMPERATURE, /* degrees Celsius */
    SENSOR_VOLTAGE,     /* volts */
    SENSOR_FAN,         /* revolutions per minute */
    SENSOR_CURRENT,     /* amperes */
    SENSOR_POWER,       /* watts */
    SENSOR_INTRUSION,   /* discrete: value 1 = chassis open */
};

enum sensor_health {
    SENSOR_OK,
    SENSOR_WARNING,     /* past a warning limit */
    SENSOR_CRITICAL,    /* past a critical limit, or intrusion */
    SENSOR_UNAVAILABLE, /* could not be read this time */
};

struct sensor_reading {
    char id[SENSOR_ID_MAX];
    char name[SENSOR_NAME_MAX];  /* [sensors] names, else the hwmon label/name */
    enum sensor_kind kind;
    double value;                /* in the unit of its kind; valid only if health != UNAVAILABLE */
    /* Limits in the same unit; NAN when unset ([sensors] thresholds, else
     * the hwmon _min/_max/_crit/_lcrit files). */
    double lower_critical, lower_warning, upper_warning, upper_critical;
    enum sensor_health health;
    int64_t read_ms;             /* CLOCK_MONOTONIC ms of the reading */
};

/* Finds the sensors (none is fine), reads them once, starts the polling
 * thread. atx (NULL: none) gives the intrusion input. NULL after logging
 * why (a bad [sensors] names/thresholds string). */
struct sensors *sensors_start(const struct config_sensors *cfg, struct atx *atx);
void sensors_stop(struct sensors *s);   /* NULL is fine */

/* Copies up to max readings, in a stable order; returns how many there are. */
size_t sensors_read(struct sensors *s, struct sensor_reading *out, size_t max);
/* One reading by id: 0, or -1 when there is no such sensor. */
int sensors_get(struct sensors *s, const char *id, struct sensor_reading *out);

/* Reads every sensor now, as the thread does every poll_ms (for tests and
 * tools that cannot wait a poll). */
void sensors_poll(struct sensors *s);

/* Checks [sensors] names and thresholds (for load_config/--check-config):
 * 0, or -1 after writing "config: [sensors] KEY: ..." to err. */
int sensors_check_config(const struct config_sensors *cfg, FILE *err);

/* "temperature", "voltage", ...; "ok", "warning", "critical", "unavailable";
 * the unit ("Cel", "V", "RPM", "A", "W", "") as Redfish and UCUM spell them. */
const char *sensor_kind_name(enum sensor_kind k);
const char *sensor_health_name(enum sensor_health h);
const char *sensor_unit(enum sensor_kind k);

#endif
