/* Internal to sensors/: where a sensor is read from (sensors_scan.c
 * finds them under the sysfs root), the [sensors] names and thresholds
 * (sensors_config.c), and the reading and health rules (sensors.c). */
#ifndef PIGLIX_ATX_SENSORS_INTERNAL_H
#define PIGLIX_ATX_SENSORS_INTERNAL_H

#include <stddef.h>

#include "sensors/sensors.h"

#define SENSORS_PATH_MAX 512
/* A scan keeps this many; more than SENSORS_MAX are dropped after sorting. */
#define SENSORS_SCAN_MAX 256

enum sensor_limit { SENSOR_LC, SENSOR_LW, SENSOR_UW, SENSOR_UC, SENSOR_LIMITS };

enum sensor_source_type {
    SENSOR_SRC_FILE,      /* an integer in path, divided by divisor */
    SENSOR_SRC_ATX,       /* the ATX board's intrusion input (value set by the poller) */
};

struct sensor_source {
    char id[SENSOR_ID_MAX];
    char name[SENSOR_NAME_MAX];       /* the default: hwmon label, zone type, ... */
    enum sensor_kind kind;
    enum sensor_source_type type;
    char path[SENSORS_PATH_MAX];
    double divisor;                   /* raw / divisor = value in the kind's unit */
    double limits[SENSOR_LIMITS];     /* from the hwmon/thermal files; NAN unset */
    double atx_value;                 /* SENSOR_SRC_ATX */
};

struct sensors_conf {
    size_t n_names, n_limits;
    struct {
        char id[SENSOR_ID_MAX];
        char name[SENSOR_NAME_MAX];
    } names[SENSORS_MAX];
    struct {
        char id[SENSOR_ID_MAX];
        double limits[SENSOR_LIMITS];
    } limits[SENSORS_MAX];
};

/* sensors_config.c: parses [sensors] names ("ID=Name,...") and thresholds
 * ("ID:lc:lw:uw:uc,..."). 0, or -1 with a message naming the key in err. */
int sensors_conf_parse(struct sensors_conf *c, const char *names, const char *thresholds, char *err,
                       size_t errlen);
/* The configured name or limits for id; NULL when none is configured. */
const char *sensors_conf_name(const struct sensors_conf *c, const char *id);
const double *sensors_conf_limits(const struct sensors_conf *c, const char *id);
/* Sensor ids are [A-Za-z0-9_.-]+: they appear in the config syntax above. */
bool sensors_id_valid(const char *id);

/* Chip names and zone types seen shared by two at once since start: they
 * keep the longer id form when one of the two goes, so the other's id
 * does not change under it. */
#define SENSORS_SHARED_MAX 32
struct sensors_shared {
    size_t n;
    char names[SENSORS_SHARED_MAX][72];
};

/* sensors_scan.c: finds the hwmon and thermal-zone sensors under root,
 * sorted by id. Returns how many were found (at most max). */
size_t sensors_scan(const char *root, struct sensor_source *out, size_t max, struct sensors_shared *shared);
/* Reads a file source's value: 0, or a negative errno (-ENOENT: gone). */
int sensors_source_read(const struct sensor_source *src, double *value);

/* sensors.c: the health of a value against limits (NAN: unset); strictly
 * past a limit counts, so a fan whose minimum is 0 RPM is fine at 0. */
enum sensor_health sensors_health(enum sensor_kind kind, double value, const double limits[SENSOR_LIMITS]);

#endif
