/* [sensors] names and thresholds: parsed once at start (and by
 * sensors_check_config for --check-config), so a typo stops piglix with
 * the key and the entry named instead of silently leaving a limit unset. */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sensors/sensors_internal.h"
#include "common/config.h"

static const char *const limit_names[SENSOR_LIMITS] = {"lower_critical", "lower_warning", "upper_warning",
                                                       "upper_critical"};

bool sensors_id_valid(const char *id)
{
    if (!*id)
        return false;
    for (const char *p = id; *p; p++)
        if (!isalnum((unsigned char)*p) && *p != '_' && *p != '.' && *p != '-')
            return false;
    return true;
}

static int fail(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int fail(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
    return -1;
}

/* Copies s[0..len) without surrounding blanks into out (size outsz); -1 when it does not fit. */
static int trimmed(const char *s, size_t len, char *out, size_t outsz)
{
    while (len && isspace((unsigned char)*s)) {
        s++;
        len--;
    }
    while (len && isspace((unsigned char)s[len - 1]))
        len--;
    if (len >= outsz)
        return -1;
    memcpy(out, s, len);
    out[len] = '\0';
    return 0;
}

/* Calls fn for each comma-separated, non-empty entry of list. */
static int each_entry(const char *list, int (*fn)(struct sensors_conf *, const char *, char *, size_t),
                      struct sensors_conf *c, char *err, size_t errlen)
{
    const char *p = list;
    while (*p) {
        const char *end = strchr(p, ',');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        char entry[CONFIG_STR_MAX];
        if (trimmed(p, len, entry, sizeof(entry)) < 0)
            return fail(err, errlen, "entry too long");
        if (entry[0] && fn(c, entry, err, errlen) < 0)
            return -1;
        p += len;
        if (*p == ',')
            p++;
    }
    return 0;
}

static int check_id(const char *key, const char *entry, const char *id, char *err, size_t errlen)
{
    if (strlen(id) >= SENSOR_ID_MAX)
        return fail(err, errlen, "[sensors] %s: '%s': the id is longer than %d characters", key, entry,
                    SENSOR_ID_MAX - 1);
    if (!sensors_id_valid(id))
        return fail(err, errlen, "[sensors] %s: '%s': '%s' is not a sensor id (letters, digits, '.', '_', '-'; "
                    "see GET /api/sensors)", key, entry, id);
    return 0;
}

static int add_name(struct sensors_conf *c, const char *entry, char *err, size_t errlen)
{
    const char *eq = strchr(entry, '=');
    if (!eq)
        return fail(err, errlen, "[sensors] names: '%s' has no '=' (want ID=Name,ID=Name)", entry);
    char id[CONFIG_STR_MAX], name[CONFIG_STR_MAX];
    trimmed(entry, (size_t)(eq - entry), id, sizeof(id));
    trimmed(eq + 1, strlen(eq + 1), name, sizeof(name));
    if (check_id("names", entry, id, err, errlen) < 0)
        return -1;
    if (!name[0])
        return fail(err, errlen, "[sensors] names: '%s': the name is empty", entry);
    if (strlen(name) >= SENSOR_NAME_MAX)
        return fail(err, errlen, "[sensors] names: '%s': the name is longer than %d characters", entry,
                    SENSOR_NAME_MAX - 1);
    for (const char *p = name; *p; p++)
        if (iscntrl((unsigned char)*p))
            return fail(err, errlen, "[sensors] names: '%s': control characters in the name", entry);
    if (sensors_conf_name(c, id))
        return fail(err, errlen, "[sensors] names: '%s' is named twice", id);
    if (c->n_names >= SENSORS_MAX)
        return fail(err, errlen, "[sensors] names: more than %d entries", SENSORS_MAX);
    snprintf(c->names[c->n_names].id, SENSOR_ID_MAX, "%.*s", SENSOR_ID_MAX - 1, id);
    snprintf(c->names[c->n_names].name, SENSOR_NAME_MAX, "%.*s", SENSOR_NAME_MAX - 1, name);
    c->n_names++;
    return 0;
}

static int add_limits(struct sensors_conf *c, const char *entry, char *err, size_t errlen)
{
    char field[5][CONFIG_STR_MAX];
    int n = 0;
    for (const char *p = entry;;) {
        const char *colon = strchr(p, ':');
        if (n == 5) {
            n++; /* too many */
            break;
        }
        trimmed(p, colon ? (size_t)(colon - p) : strlen(p), field[n], sizeof(field[n]));
        n++;
        if (!colon)
            break;
        p = colon + 1;
    }
    if (n != 5)
        return fail(err, errlen, "[sensors] thresholds: '%s': want ID:lower_critical:lower_warning:"
                    "upper_warning:upper_critical (5 fields, empty = unset)", entry);
    if (check_id("thresholds", entry, field[0], err, errlen) < 0)
        return -1;
    double lim[SENSOR_LIMITS];
    for (int i = 0; i < SENSOR_LIMITS; i++) {
        const char *f = field[i + 1];
        lim[i] = NAN;
        if (!f[0])
            continue;
        char *end;
        errno = 0;
        double v = strtod(f, &end);
        if (errno || *end || !isfinite(v))
            return fail(err, errlen, "[sensors] thresholds: '%s': %s '%s' is not a number", entry,
                        limit_names[i], f);
        lim[i] = v;
    }
    /* Set limits must nest: lc <= lw <= uw <= uc. */
    for (int i = 0; i < SENSOR_LIMITS; i++)
        for (int j = i + 1; j < SENSOR_LIMITS; j++)
            if (!isnan(lim[i]) && !isnan(lim[j]) && lim[i] > lim[j])
                return fail(err, errlen, "[sensors] thresholds: '%s': %s %g is above %s %g", entry,
                            limit_names[i], lim[i], limit_names[j], lim[j]);
    if (sensors_conf_limits(c, field[0]))
        return fail(err, errlen, "[sensors] thresholds: '%s' is given twice", field[0]);
    if (c->n_limits >= SENSORS_MAX)
        return fail(err, errlen, "[sensors] thresholds: more than %d entries", SENSORS_MAX);
    snprintf(c->limits[c->n_limits].id, SENSOR_ID_MAX, "%.*s", SENSOR_ID_MAX - 1, field[0]);
    memcpy(c->limits[c->n_limits].limits, lim, sizeof(lim));
    c->n_limits++;
    return 0;
}

int sensors_conf_parse(struct sensors_conf *c, const char *names, const char *thresholds, char *err,
                       size_t errlen)
{
    memset(c, 0, sizeof(*c));
    if (each_entry(names, add_name, c, err, errlen) < 0)
        return -1;
    return each_entry(thresholds, add_limits, c, err, errlen);
}

const char *sensors_conf_name(const struct sensors_conf *c, const char *id)
{
    for (size_t i = 0; i < c->n_names; i++)
        if (strcmp(c->names[i].id, id) == 0)
            return c->names[i].name;
    return NULL;
}

const double *sensors_conf_limits(const struct sensors_conf *c, const char *id)
{
    for (size_t i = 0; i < c->n_limits; i++)
        if (strcmp(c->limits[i].id, id) == 0)
            return c->limits[i].limits;
    return NULL;
}

int sensors_check_config(const struct config_sensors *cfg, FILE *err)
{
    struct sensors_conf *c = malloc(sizeof(*c));
    char msg[CONFIG_STR_MAX + 256];
    if (!c) {
        fprintf(err, "config: out of memory\n");
        return -1;
    }
    int r = sensors_conf_parse(c, cfg->names, cfg->thresholds, msg, sizeof(msg));
    if (r < 0)
        fprintf(err, "config: %s\n", msg);
    free(c);
    return r;
}
