/* sensors_driver: atx/sensors on a real kernel, for tests/vm/test_atx.py:
 * starts atx (when [atx] enabled) and the sensors as the daemon does, then
 * runs a script of steps in one process.
 *
 *   sensors_driver CONFIG STEP...
 *   steps: list                 -> one "sensor id=.. kind=.. unit=.. value=.. health=.. name=.." line each
 *          wait ID VALUE MS     -> "ID=VALUE health=.. after N ms" (exit 1 on timeout)
 *          write PATH TEXT      -> writes TEXT to PATH (a module parameter)
 * Each step is one argument with spaces ("wait atx.intrusion 1 5000"). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "atx/atx.h"
#include "sensors/sensors.h"
#include "common/clock.h"
#include "common/config.h"

static void list(struct sensors *s)
{
    struct sensor_reading r[SENSORS_MAX];
    size_t n = sensors_read(s, r, SENSORS_MAX);
    for (size_t i = 0; i < n && i < SENSORS_MAX; i++)
        printf("sensor id=%s kind=%s unit=%s value=%g health=%s name=\"%s\"\n", r[i].id,
               sensor_kind_name(r[i].kind), sensor_unit(r[i].kind), r[i].value,
               sensor_health_name(r[i].health), r[i].name);
    printf("sensors %zu\n", n);
}

static int wait_value(struct sensors *s, const char *id, double want, int ms)
{
    int64_t start = clock_mono_ms();
    struct sensor_reading r;
    for (;;) {
        if (sensors_get(s, id, &r) == 0 && r.health != SENSOR_UNAVAILABLE && r.value == want) {
            printf("%s=%g health=%s after %lld ms\n", id, r.value, sensor_health_name(r.health),
                   (long long)(clock_mono_ms() - start));
            return 0;
        }
        if (clock_mono_ms() - start >= ms) {
            printf("timeout waiting for %s=%g\n", id, want);
            return -1;
        }
        struct timespec pause = {0, 20 * 1000000L};
        nanosleep(&pause, NULL);
    }
}

static int write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    if (!f || fprintf(f, "%s\n", text) < 0 || fclose(f) != 0) {
        printf("write %s failed\n", path);
        return -1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    static struct piglix_config cfg;
    if (argc < 2) {
        fprintf(stderr, "usage: sensors_driver CONFIG STEP...\n");
        return 2;
    }
    config_defaults(&cfg);
    if (config_load_file(&cfg, argv[1], stderr) < 0 || config_validate(&cfg, stderr) < 0 ||
        sensors_check_config(&cfg.sensors, stderr) < 0)
        return 2;
    setvbuf(stdout, NULL, _IOLBF, 0);
    struct atx *atx = NULL;
    if (cfg.atx.enabled && !(atx = atx_start(&cfg.atx)))
        return 1;
    struct sensors *s = sensors_start(&cfg.sensors, atx);
    int rc = s ? 0 : 1;
    for (int i = 2; i < argc && rc == 0; i++) {
        char id[SENSOR_ID_MAX], path[256], text[64];
        double v;
        int ms;
        if (strcmp(argv[i], "list") == 0)
            list(s);
        else if (sscanf(argv[i], "wait %63s %lf %d", id, &v, &ms) == 3)
            rc = wait_value(s, id, v, ms) ? 1 : 0;
        else if (sscanf(argv[i], "write %255s %63s", path, text) == 2)
            rc = write_file(path, text) ? 1 : 0;
        else {
            fprintf(stderr, "sensors_driver: bad step '%s'\n", argv[i]);
            rc = 2;
        }
    }
    sensors_stop(s);
    atx_stop(atx);
    return rc;
}
