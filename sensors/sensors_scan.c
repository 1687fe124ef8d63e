/* Finding sensors under the sysfs root and reading them.
 *
 * hwmon (Documentation/hwmon/sysfs-interface): class/hwmon/hwmonN/name and
 * {temp,in,fan,curr,power}K_input (millidegrees, millivolts, RPM,
 * milliamperes, microwatts; power may only have _average), K_label,
 * K_lcrit/_min/_max/_crit, and intrusionK_alarm. Old drivers keep the
 * attributes in hwmonN/device/. Thermal zones: class/thermal/thermal_zoneN/
 * type, temp (millidegrees), trip_point_K_{type,temp}.
 *
 * Ids must survive reboots, where hwmonN and thermal_zoneN numbers may
 * change: "hwmon.CHIP.tempK" with the chip's name, made unique by its
 * device ("hwmon.lm75-1-0048.temp1", else by hwmonN) only when two chips
 * share a name; "thermal.TYPE", with the zone number ("thermal.acpitz-1")
 * only when two zones share a type. A name once shared stays in the long
 * form while piglix runs (struct sensors_shared). */
#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sensors/sensors_internal.h"
#include "common/sysfs.h"

#define CHIPS_MAX 64

/* snprintf that says whether it fitted: a path too long for the buffers is
 * skipped, never opened cut short. */
static bool fmt(char *out, size_t size, const char *f, ...) __attribute__((format(printf, 3, 4)));
static bool fmt(char *out, size_t size, const char *f, ...)
{
    va_list ap;
    va_start(ap, f);
    int n = vsnprintf(out, size, f, ap);
    va_end(ap);
    return n >= 0 && (size_t)n < size;
}

static int read_int(const char *path, long long *v)
{
    char buf[64];
    int r = sysfs_read(path, buf, sizeof(buf));
    if (r < 0)
        return r;
    char *end;
    errno = 0;
    *v = strtoll(buf, &end, 10);
    return errno || end == buf || *end ? -EINVAL : 0;
}

int sensors_source_read(const struct sensor_source *src, double *value)
{
    long long raw;
    int r = read_int(src->path, &raw);
    if (r == 0)
        *value = (double)raw / src->divisor;
    return r;
}

/* Ids keep [A-Za-z0-9_-] of a sysfs name; the rest (':' and '.' in device
 * names) becomes '_', so '.' only separates the parts. */
static void id_part(char *out, size_t size, const char *s)
{
    size_t i = 0;
    for (; s[i] && i + 1 < size; i++) {
        char ch = s[i];
        bool ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
                  ch == '_' || ch == '-';
        out[i] = ok ? ch : '_';
    }
    out[i] = '\0';
}

/* Whether key ("hwmon:NAME", "thermal:TYPE") is shared: count > 1 now, or
 * was since start (remembered). */
static bool shared_name(struct sensors_shared *sh, const char *key, size_t count)
{
    for (size_t i = 0; i < sh->n; i++)
        if (strcmp(sh->names[i], key) == 0)
            return true;
    if (count > 1 && sh->n < SENSORS_SHARED_MAX)
        fmt(sh->names[sh->n++], sizeof(sh->names[0]), "%s", key);
    return count > 1;
}

static double limit_file(const char *dir, const char *attr, const char *suffix, double divisor)
{
    char path[SENSORS_PATH_MAX];
    long long v;
    if (!fmt(path, sizeof(path), "%s/%s_%s", dir, attr, suffix) || read_int(path, &v) < 0)
        return NAN;
    return (double)v / divisor;
}

static const struct {
    const char *prefix;
    enum sensor_kind kind;
    double divisor;
} hwmon_kinds[] = {
    {"temp", SENSOR_TEMPERATURE, 1000}, {"in", SENSOR_VOLTAGE, 1000},  {"fan", SENSOR_FAN, 1},
    {"curr", SENSOR_CURRENT, 1000},     {"power", SENSOR_POWER, 1e6}, {"intrusion", SENSOR_INTRUSION, 1},
};

struct chip {
    char attrs[SENSORS_PATH_MAX]; /* the directory with the attributes */
    char name[64], device[64], dirname[32];
    char id[SENSOR_ID_MAX - 16];
};

static bool has_inputs(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return false;
    bool found = false;
    for (struct dirent *e; !found && (e = readdir(d));) {
        size_t n = strlen(e->d_name);
        found = (n > 6 && strcmp(e->d_name + n - 6, "_input") == 0) ||
                (n > 6 && strncmp(e->d_name, "intrusion", 9) == 0);
    }
    closedir(d);
    return found;
}

/* Parses "tempK_input" (or power "K_average", intrusion "K_alarm") into its
 * kind index and the attribute base "tempK"; -1 when it is not a value. */
static int value_file(const char *file, char *base, size_t size, bool *average)
{
    for (size_t k = 0; k < sizeof(hwmon_kinds) / sizeof(hwmon_kinds[0]); k++) {
        size_t pl = strlen(hwmon_kinds[k].prefix);
        if (strncmp(file, hwmon_kinds[k].prefix, pl) != 0 || file[pl] < '0' || file[pl] > '9')
            continue;
        const char *p = file + pl;
        while (*p >= '0' && *p <= '9')
            p++;
        const char *want = hwmon_kinds[k].kind == SENSOR_INTRUSION ? "_alarm" : "_input";
        *average = hwmon_kinds[k].kind == SENSOR_POWER && strcmp(p, "_average") == 0;
        if ((strcmp(p, want) != 0 && !*average) || (size_t)(p - file) >= size)
            return -1;
        memcpy(base, file, (size_t)(p - file));
        base[p - file] = '\0';
        return (int)k;
    }
    return -1;
}

static size_t scan_chip(const struct chip *c, struct sensor_source *out, size_t n, size_t max)
{
    DIR *d = opendir(c->attrs);
    if (!d)
        return n;
    for (struct dirent *e; n < max && (e = readdir(d));) {
        char base[32];
        bool average;
        int k = value_file(e->d_name, base, sizeof(base), &average);
        if (k < 0)
            continue;
        if (average) { /* only where the chip has no powerK_input */
            char input[SENSORS_PATH_MAX];
            if (!fmt(input, sizeof(input), "%s/%s_input", c->attrs, base) || access(input, F_OK) == 0)
                continue;
        }
        struct sensor_source *s = &out[n];
        memset(s, 0, sizeof(*s));
        s->kind = hwmon_kinds[k].kind;
        s->type = SENSOR_SRC_FILE;
        s->divisor = hwmon_kinds[k].divisor;
        fmt(s->id, sizeof(s->id), "hwmon.%s.%s", c->id, base);
        if (!fmt(s->path, sizeof(s->path), "%s/%s", c->attrs, e->d_name))
            continue;
        char label[SENSOR_NAME_MAX], lpath[SENSORS_PATH_MAX];
        if (fmt(lpath, sizeof(lpath), "%s/%s_label", c->attrs, base) &&
            sysfs_read(lpath, label, sizeof(label)) == 0 && label[0])
            fmt(s->name, sizeof(s->name), "%s", label);
        else
            fmt(s->name, sizeof(s->name), "%s %s", c->name, base);
        static const char *const suffix[SENSOR_LIMITS] = {"lcrit", "min", "max", "crit"};
        for (int i = 0; i < SENSOR_LIMITS; i++)
            s->limits[i] = s->kind == SENSOR_INTRUSION ? NAN : limit_file(c->attrs, base, suffix[i], s->divisor);
        n++;
    }
    closedir(d);
    return n;
}

static size_t scan_hwmon(const char *root, struct sensor_source *out, size_t n, size_t max,
                         struct sensors_shared *shared)
{
    char dir[SENSORS_PATH_MAX];
    DIR *d = fmt(dir, sizeof(dir), "%s/class/hwmon", root) ? opendir(dir) : NULL;
    if (!d)
        return n;
    struct chip *chips = calloc(CHIPS_MAX, sizeof(*chips));
    size_t nc = 0;
    for (struct dirent *e; chips && nc < CHIPS_MAX && (e = readdir(d));) {
        if (strncmp(e->d_name, "hwmon", 5) != 0)
            continue;
        struct chip *c = &chips[nc];
        memset(c, 0, sizeof(*c));
        char path[SENSORS_PATH_MAX], tmp[SENSORS_PATH_MAX];
        if (!fmt(path, sizeof(path), "%s/%s", dir, e->d_name) || !fmt(tmp, sizeof(tmp), "%s/device", path))
            continue;
        if (has_inputs(path))
            fmt(c->attrs, sizeof(c->attrs), "%s", path);
        else if (has_inputs(tmp))
            fmt(c->attrs, sizeof(c->attrs), "%s", tmp);
        else
            continue;
        char name[64];
        if (!fmt(tmp, sizeof(tmp), "%s/name", c->attrs) || sysfs_read(tmp, name, sizeof(name)) < 0 || !name[0])
            fmt(name, sizeof(name), "%s", e->d_name);
        id_part(c->name, sizeof(c->name), name);
        fmt(c->dirname, sizeof(c->dirname), "%.31s", e->d_name);
        fmt(tmp, sizeof(tmp), "%s/device", path); /* fitted above */
        char link[SENSORS_PATH_MAX];
        ssize_t ln = readlink(tmp, link, sizeof(link) - 1);
        if (ln > 0) {
            link[ln] = '\0';
            const char *slash = strrchr(link, '/');
            id_part(c->device, sizeof(c->device), slash ? slash + 1 : link);
        }
        nc++;
    }
    closedir(d);
    /* A chip's name alone when unique, else with its device, else with hwmonN. */
    for (size_t i = 0; i < nc; i++) {
        size_t same = 0, same_dev = 0;
        for (size_t j = 0; j < nc; j++) {
            same += strcmp(chips[j].name, chips[i].name) == 0;
            same_dev += strcmp(chips[j].name, chips[i].name) == 0 && strcmp(chips[j].device, chips[i].device) == 0;
        }
        char key[72];
        fmt(key, sizeof(key), "hwmon:%s", chips[i].name);
        if (!shared_name(shared, key, same))
            fmt(chips[i].id, sizeof(chips[i].id), "%s", chips[i].name);
        else if (chips[i].device[0] && same_dev == 1)
            fmt(chips[i].id, sizeof(chips[i].id), "%.20s-%.20s", chips[i].name, chips[i].device);
        else
            fmt(chips[i].id, sizeof(chips[i].id), "%.20s-%.20s", chips[i].name, chips[i].dirname);
    }
    for (size_t i = 0; i < nc; i++)
        n = scan_chip(&chips[i], out, n, max);
    free(chips);
    return n;
}

static void zone_trips(const char *zone, struct sensor_source *s)
{
    for (int k = 0; k < 32; k++) {
        char path[SENSORS_PATH_MAX], type[32];
        long long t;
        if (!fmt(path, sizeof(path), "%s/trip_point_%d_type", zone, k) || sysfs_read(path, type, sizeof(type)) < 0)
            break;
        if (!fmt(path, sizeof(path), "%s/trip_point_%d_temp", zone, k) || read_int(path, &t) < 0)
            continue;
        int which = strcmp(type, "critical") == 0 ? SENSOR_UC : strcmp(type, "hot") == 0 ? SENSOR_UW : -1;
        if (which >= 0 && (isnan(s->limits[which]) || t / 1000.0 < s->limits[which]))
            s->limits[which] = (double)t / 1000;
    }
}

static size_t scan_thermal(const char *root, struct sensor_source *out, size_t n, size_t max,
                           struct sensors_shared *shared)
{
    char dir[SENSORS_PATH_MAX];
    DIR *d = fmt(dir, sizeof(dir), "%s/class/thermal", root) ? opendir(dir) : NULL;
    if (!d)
        return n;
    size_t first = n;
    for (struct dirent *e; n < max && (e = readdir(d));) {
        if (strncmp(e->d_name, "thermal_zone", 12) != 0)
            continue;
        struct sensor_source *s = &out[n];
        memset(s, 0, sizeof(*s));
        char zone[SENSORS_PATH_MAX], path[SENSORS_PATH_MAX], type[SENSOR_NAME_MAX];
        if (!fmt(zone, sizeof(zone), "%s/%s", dir, e->d_name) || !fmt(s->path, sizeof(s->path), "%s/temp", zone) ||
            access(s->path, F_OK) != 0)
            continue;
        if (!fmt(path, sizeof(path), "%s/type", zone) || sysfs_read(path, type, sizeof(type)) < 0 || !type[0])
            fmt(type, sizeof(type), "%s", e->d_name);
        fmt(s->name, sizeof(s->name), "%s", type);
        char part[SENSOR_ID_MAX - 16];
        id_part(part, sizeof(part), type);
        /* The zone number goes in id for now; dropped below when the type is unique. */
        fmt(s->id, sizeof(s->id), "thermal.%s-%s", part, e->d_name + 12);
        s->kind = SENSOR_TEMPERATURE;
        s->type = SENSOR_SRC_FILE;
        s->divisor = 1000;
        for (int i = 0; i < SENSOR_LIMITS; i++)
            s->limits[i] = NAN;
        zone_trips(zone, s);
        n++;
    }
    closedir(d);
    for (size_t i = first; i < n; i++) {
        size_t same = 0;
        for (size_t j = first; j < n; j++)
            same += strcmp(out[i].name, out[j].name) == 0;
        char key[72];
        fmt(key, sizeof(key), "thermal:%s", out[i].name);
        if (!shared_name(shared, key, same))
            *strrchr(out[i].id, '-') = '\0';
    }
    return n;
}

static int by_id(const void *a, const void *b)
{
    return strcmp(((const struct sensor_source *)a)->id, ((const struct sensor_source *)b)->id);
}

size_t sensors_scan(const char *root, struct sensor_source *out, size_t max, struct sensors_shared *shared)
{
    size_t n = scan_hwmon(root, out, 0, max, shared);
    n = scan_thermal(root, out, n, max, shared);
    qsort(out, n, sizeof(*out), by_id);
    return n;
}
