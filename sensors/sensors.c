/* The sensors' poller and the public API. Each poll rescans the sysfs root
 * (a probe that comes, goes or is renumbered hwmonN -> hwmonM is followed by
 * id), reads every sensor, applies the [sensors] names and thresholds, logs
 * the health changes and publishes a copy for readers. A sensor once seen
 * stays in the list (unavailable while gone), so the list's order, which
 * Redfish and IPMI number their sensors by, never shifts: sorted by id at
 * start, later arrivals appended. */
#include "sensors/sensors.h"

#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "atx/atx.h"
#include "sensors/sensors_internal.h"
#include "common/liveness.h"
#include "common/clock.h"
#include "common/config.h"
#include "audit/audit.h"
#include "common/log.h"
#include "common/thread.h"

#define INTRUSION_ID "atx.intrusion"

struct entry {
    struct sensor_source src;
    struct sensor_reading r;
    int err;                    /* why unavailable: a negative errno; -ENOENT: gone */
};

struct sensors {
    char root[CONFIG_STR_MAX];
    int poll_ms;
    struct atx *atx;
    struct sensors_conf conf;
    pthread_t thread;
    bool started;
    /* One poll at a time (the thread, or sensors_poll); the poller's own. */
    pthread_mutex_t poll_lock;
    struct entry work[SENSORS_MAX];
    size_t n_work;
    struct sensor_source scan[SENSORS_SCAN_MAX];
    struct sensors_shared shared;
    uint64_t polls;
    bool full_logged;
    /* What readers see, and the stop flag. */
    pthread_mutex_t lock;
    pthread_cond_t wake;
    bool stop;
    struct sensor_reading pub[SENSORS_MAX];
    size_t n_pub;
};

static const char *display_unit(enum sensor_kind k)
{
    switch (k) {
    case SENSOR_TEMPERATURE: return " °C";
    case SENSOR_VOLTAGE: return " V";
    case SENSOR_FAN: return " RPM";
    case SENSOR_CURRENT: return " A";
    case SENSOR_POWER: return " W";
    default: return "";
    }
}

enum sensor_health sensors_health(enum sensor_kind kind, double v, const double lim[SENSOR_LIMITS])
{
    if (isnan(v))
        return SENSOR_UNAVAILABLE;
    if (kind == SENSOR_INTRUSION)
        return v != 0 ? SENSOR_CRITICAL : SENSOR_OK;
    /* Comparisons with an unset (NAN) limit are false. */
    if (v < lim[SENSOR_LC] || v > lim[SENSOR_UC])
        return SENSOR_CRITICAL;
    if (v < lim[SENSOR_LW] || v > lim[SENSOR_UW])
        return SENSOR_WARNING;
    return SENSOR_OK;
}

/* "71.5 °C, above upper warning 70 °C" */
static void why(const struct sensor_reading *r, char *buf, size_t size)
{
    if (r->kind == SENSOR_INTRUSION) {
        snprintf(buf, size, "the chassis is %s", r->value != 0 ? "open" : "closed");
        return;
    }
    const char *u = display_unit(r->kind);
    int n = snprintf(buf, size, "%g%s", r->value, u);
    const struct { double lim; bool above; const char *what; } checks[] = {
        {r->lower_critical, false, "lower critical"}, {r->upper_critical, true, "upper critical"},
        {r->lower_warning, false, "lower warning"},   {r->upper_warning, true, "upper warning"},
    };
    for (size_t i = 0; i < sizeof(checks) / sizeof(checks[0]); i++)
        if (checks[i].above ? r->value > checks[i].lim : r->value < checks[i].lim) {
            snprintf(buf + n, size - (size_t)n, ", %s %s %g%s", checks[i].above ? "above" : "below",
                     checks[i].what, checks[i].lim, u);
            return;
        }
}

static void log_change(const struct sensors *s, const struct entry *e, enum sensor_health before)
{
    const struct sensor_reading *r = &e->r;
    if (r->health == before)
        return;
    char text[160];
    switch (r->health) {
    case SENSOR_UNAVAILABLE:
        if (e->err == -ENOENT)
            LOG_WARN("sensors", "%s (%s): gone from %s", r->name, r->id,
                     e->src.type == SENSOR_SRC_ATX ? "the ATX board" : s->root);
        else
            LOG_WARN("sensors", "%s (%s): cannot be read: %s", r->name, r->id, strerror(-e->err));
        return;
    case SENSOR_WARNING:
    case SENSOR_CRITICAL:
        why(r, text, sizeof(text));
        LOG_WARN("sensors", "%s (%s): %s: %s", r->name, r->id, sensor_health_name(r->health), text);
        audit_record(r->kind == SENSOR_INTRUSION ? AUDIT_CHASSIS_INTRUSION : AUDIT_SENSOR_THRESHOLD,
                     AUDIT_IF_SYSTEM, AUDIT_OK, NULL, NULL, "%s (%s): %s: %s", r->id, sensor_kind_name(r->kind),
                     sensor_health_name(r->health), text);
        return;
    case SENSOR_OK:
        why(r, text, sizeof(text));
        LOG_INFO("sensors", "%s (%s): %s: %s", r->name, r->id,
                 before == SENSOR_UNAVAILABLE ? "readable again" : "back to ok", text);
        if (before != SENSOR_UNAVAILABLE)
            audit_record(r->kind == SENSOR_INTRUSION ? AUDIT_CHASSIS_INTRUSION : AUDIT_SENSOR_THRESHOLD,
                         AUDIT_IF_SYSTEM, AUDIT_OK, NULL, NULL, "%s (%s): back to ok: %s", r->id,
                         sensor_kind_name(r->kind), text);
        return;
    }
}

static void update(struct sensors *s, struct entry *e, bool present, int64_t now)
{
    struct sensor_reading *r = &e->r;
    enum sensor_health before = r->health;
    const struct sensor_source *src = &e->src;
    snprintf(r->id, sizeof(r->id), "%s", src->id);
    const char *name = sensors_conf_name(&s->conf, src->id);
    snprintf(r->name, sizeof(r->name), "%s", name ? name : src->name);
    r->kind = src->kind;
    const double *lim = sensors_conf_limits(&s->conf, src->id);
    if (!lim || src->kind == SENSOR_INTRUSION)
        lim = src->limits;
    r->lower_critical = lim[SENSOR_LC];
    r->lower_warning = lim[SENSOR_LW];
    r->upper_warning = lim[SENSOR_UW];
    r->upper_critical = lim[SENSOR_UC];
    double v = NAN;
    if (!present)
        e->err = -ENOENT;
    else if (src->type == SENSOR_SRC_ATX) {
        v = src->atx_value;
        e->err = 0;
    } else
        e->err = sensors_source_read(src, &v);
    r->value = e->err ? NAN : v;
    r->health = e->err ? SENSOR_UNAVAILABLE : sensors_health(r->kind, v, lim);
    r->read_ms = now;
    log_change(s, e, before);
}

static size_t find(const struct sensors *s, const char *id)
{
    for (size_t i = 0; i < s->n_work; i++)
        if (strcmp(s->work[i].src.id, id) == 0)
            return i;
    return SIZE_MAX;
}

/* The intrusion input first: "atx." sorts before "hwmon." and "thermal.". */
static size_t scan_all(struct sensors *s)
{
    size_t n = 0;
    if (s->atx) {
        struct atx_status st;
        atx_get_status(s->atx, &st);
        if (st.intrusion_wired) {
            struct sensor_source *src = &s->scan[n++];
            memset(src, 0, sizeof(*src));
            snprintf(src->id, sizeof(src->id), INTRUSION_ID);
            snprintf(src->name, sizeof(src->name), "Chassis intrusion");
            src->kind = SENSOR_INTRUSION;
            src->type = SENSOR_SRC_ATX;
            src->atx_value = st.intrusion ? 1 : 0;
            for (int i = 0; i < SENSOR_LIMITS; i++)
                src->limits[i] = NAN;
        }
    }
    return n + sensors_scan(s->root, s->scan + n, SENSORS_SCAN_MAX - n, &s->shared);
}

void sensors_poll(struct sensors *s)
{
    pthread_mutex_lock(&s->poll_lock);
    size_t found = scan_all(s);
    bool present[SENSORS_MAX] = {0};
    for (size_t i = 0; i < found; i++) {
        size_t k = find(s, s->scan[i].id);
        if (k == SIZE_MAX) {
            if (s->n_work == SENSORS_MAX) {
                if (!s->full_logged)
                    LOG_WARN("sensors", "more than %d sensors: %s and any later ones are left out", SENSORS_MAX,
                             s->scan[i].id);
                s->full_logged = true;
                continue;
            }
            k = s->n_work++;
            memset(&s->work[k], 0, sizeof(s->work[k]));
            s->work[k].r.health = SENSOR_OK; /* so a first bad reading is logged */
            if (s->polls)
                LOG_INFO("sensors", "new sensor %s (%s)", s->scan[i].id, s->scan[i].name);
        }
        s->work[k].src = s->scan[i];
        present[k] = true;
    }
    int64_t now = clock_mono_ms();
    for (size_t k = 0; k < s->n_work; k++)
        update(s, &s->work[k], present[k], now);
    s->polls++;
    pthread_mutex_lock(&s->lock);
    for (size_t k = 0; k < s->n_work; k++)
        s->pub[k] = s->work[k].r;
    s->n_pub = s->n_work;
    pthread_mutex_unlock(&s->lock);
    pthread_mutex_unlock(&s->poll_lock);
}

static void *run(void *arg)
{
    struct sensors *s = arg;
    struct liveness *live = liveness_register("sensors");
    pthread_mutex_lock(&s->lock);
    while (!s->stop) {
        struct timespec until;
        clock_gettime(CLOCK_MONOTONIC, &until);
        until.tv_sec += s->poll_ms / 1000;
        until.tv_nsec += (long)(s->poll_ms % 1000) * 1000000L;
        if (until.tv_nsec >= 1000000000L) {
            until.tv_sec++;
            until.tv_nsec -= 1000000000L;
        }
        /* A poll period longer than the watchdog's: beat on the way. */
        while (!s->stop) {
            struct timespec w = liveness_wake_at(&until);
            if (pthread_cond_timedwait(&s->wake, &s->lock, &w) != ETIMEDOUT)
                continue;
            pthread_mutex_unlock(&s->lock); /* others read under it */
            liveness_beat(live);
            pthread_mutex_lock(&s->lock);
            if (w.tv_sec == until.tv_sec && w.tv_nsec == until.tv_nsec)
                break;
        }
        if (s->stop)
            break;
        pthread_mutex_unlock(&s->lock);
        sensors_poll(s);
        liveness_beat(live);
        pthread_mutex_lock(&s->lock);
    }
    pthread_mutex_unlock(&s->lock);
    liveness_unregister(live);
    return NULL;
}

/* A configured id that matches nothing is most likely a typo. */
static void warn_unknown_ids(const struct sensors *s)
{
    for (size_t i = 0; i < s->conf.n_names; i++)
        if (find(s, s->conf.names[i].id) == SIZE_MAX)
            LOG_WARN("sensors", "[sensors] names: no sensor %s (yet; see GET /api/sensors)", s->conf.names[i].id);
    for (size_t i = 0; i < s->conf.n_limits; i++)
        if (find(s, s->conf.limits[i].id) == SIZE_MAX)
            LOG_WARN("sensors", "[sensors] thresholds: no sensor %s (yet; see GET /api/sensors)",
                     s->conf.limits[i].id);
}

struct sensors *sensors_start(const struct config_sensors *cfg, struct atx *atx)
{
    struct sensors *s = calloc(1, sizeof(*s));
    if (!s) {
        LOG_ERROR("sensors", "out of memory");
        return NULL;
    }
    char err[CONFIG_STR_MAX + 256];
    if (sensors_conf_parse(&s->conf, cfg->names, cfg->thresholds, err, sizeof(err)) < 0) {
        LOG_ERROR("sensors", "%s", err);
        free(s);
        return NULL;
    }
    snprintf(s->root, sizeof(s->root), "%s", cfg->root);
    s->poll_ms = cfg->poll_ms > 0 ? cfg->poll_ms : 2000;
    s->atx = atx;
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&s->wake, &ca);
    pthread_condattr_destroy(&ca);
    pthread_mutex_init(&s->lock, NULL);
    pthread_mutex_init(&s->poll_lock, NULL);
    sensors_poll(s);
    size_t unavailable = 0;
    for (size_t i = 0; i < s->n_work; i++)
        unavailable += s->work[i].r.health == SENSOR_UNAVAILABLE;
    LOG_INFO("sensors", "%zu sensor%s under %s%s (%zu unreadable), read every %d ms", s->n_work,
             s->n_work == 1 ? "" : "s", s->root, find(s, INTRUSION_ID) != SIZE_MAX ? " and the ATX board" : "",
             unavailable, s->poll_ms);
    warn_unknown_ids(s);
    int r = thread_start(&s->thread, run, s);
    if (r) {
        LOG_ERROR("sensors", "cannot start the polling thread: %s", strerror(r));
        sensors_stop(s);
        return NULL;
    }
    s->started = true;
    return s;
}

void sensors_stop(struct sensors *s)
{
    if (!s)
        return;
    if (s->started) {
        pthread_mutex_lock(&s->lock);
        s->stop = true;
        pthread_cond_signal(&s->wake);
        pthread_mutex_unlock(&s->lock);
        pthread_join(s->thread, NULL);
    }
    pthread_cond_destroy(&s->wake);
    pthread_mutex_destroy(&s->lock);
    pthread_mutex_destroy(&s->poll_lock);
    free(s);
}

size_t sensors_read(struct sensors *s, struct sensor_reading *out, size_t max)
{
    pthread_mutex_lock(&s->lock);
    size_t n = s->n_pub;
    memcpy(out, s->pub, (n < max ? n : max) * sizeof(*out));
    pthread_mutex_unlock(&s->lock);
    return n;
}

int sensors_get(struct sensors *s, const char *id, struct sensor_reading *out)
{
    int r = -1;
    pthread_mutex_lock(&s->lock);
    for (size_t i = 0; i < s->n_pub && r < 0; i++)
        if (strcmp(s->pub[i].id, id) == 0) {
            *out = s->pub[i];
            r = 0;
        }
    pthread_mutex_unlock(&s->lock);
    return r;
}

const char *sensor_kind_name(enum sensor_kind k)
{
    switch (k) {
    case SENSOR_TEMPERATURE: return "temperature";
    case SENSOR_VOLTAGE: return "voltage";
    case SENSOR_FAN: return "fan";
    case SENSOR_CURRENT: return "current";
    case SENSOR_POWER: return "power";
    case SENSOR_INTRUSION: return "intrusion";
    }
    return "unknown";
}

const char *sensor_health_name(enum sensor_health h)
{
    switch (h) {
    case SENSOR_OK: return "ok";
    case SENSOR_WARNING: return "warning";
    case SENSOR_CRITICAL: return "critical";
    case SENSOR_UNAVAILABLE: return "unavailable";
    }
    return "unknown";
}

const char *sensor_unit(enum sensor_kind k)
{
    switch (k) {
    case SENSOR_TEMPERATURE: return "Cel";
    case SENSOR_VOLTAGE: return "V";
    case SENSOR_FAN: return "RPM";
    case SENSOR_CURRENT: return "A";
    case SENSOR_POWER: return "W";
    case SENSOR_INTRUSION: return "";
    }
    return "";
}
