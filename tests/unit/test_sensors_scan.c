/* Unit tests for atx/sensors against a copy of the fixture sysfs tree in
 * tests/unit/fixtures/sysfs (hwmon chips of several kinds, an old-style
 * driver, thermal zones): ids, kinds, units, values, limits, [sensors]
 * names and thresholds and their errors, health crossings logged once each,
 * unreadable and missing files, a probe that vanishes and comes back
 * renumbered, and the polling thread. The intrusion input of the ATX board
 * needs GPIO: tests/vm/test_atx.py covers it. */
#include <fcntl.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "sensors/sensors.h"
#include "common/config.h"
#include "tests/support/tmpdir.h"

static struct piglix_config cfg;
static char root[64];

static void sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void sh(const char *fmt, ...)
{
    char cmd[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cmd, sizeof(cmd), fmt, ap);
    va_end(ap);
    assert_int_equal(system(cmd), 0);
}

static void put(const char *rel, const char *text)
{
    char path[256];
    snprintf(path, sizeof(path), "%s/%s", root, rel);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fprintf(f, "%s\n", text);
    fclose(f);
}

static int setup(void **state)
{
    (void)state;
    snprintf(root, sizeof(root), "/tmp/piglix-sensors-XXXXXX");
    assert_non_null(mkdtemp(root));
    sh("cp -a '%s/tests/unit/fixtures/sysfs/.' '%s/'", PIGLIX_SOURCE_DIR, root);
    config_defaults(&cfg);
    assert_int_equal(config_set(&cfg, "sensors", "root", root, "test", stderr), 0);
    /* The thread stays out of the way; tests poll with sensors_poll. */
    assert_int_equal(config_set(&cfg, "sensors", "poll_ms", "600000", "test", stderr), 0);
    return 0;
}

static void end_capture(void);

static int teardown(void **state)
{
    (void)state;
    end_capture(); /* a failed test left stderr in the file */
    assert_int_equal(test_tmpdir_remove(root), 0);
    return 0;
}

/* stderr (the log) into a file while a test looks at what was logged. */
static int saved_stderr = -1;
static char logpath[80];

static void capture_log(void)
{
    snprintf(logpath, sizeof(logpath), "%s.log", root);
    int fd = open(logpath, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    assert_true(fd >= 0);
    fflush(stderr);
    saved_stderr = dup(2);
    dup2(fd, 2);
    close(fd);
}

static void end_capture(void)
{
    if (saved_stderr < 0)
        return;
    fflush(stderr);
    dup2(saved_stderr, 2);
    close(saved_stderr);
    saved_stderr = -1;
}

/* Stops capturing; returns what was logged (static buffer). */
static const char *captured_log(void)
{
    static char buf[16384];
    end_capture();
    FILE *f = fopen(logpath, "r");
    assert_non_null(f);
    size_t n = fread(buf, 1, sizeof(buf) - 1, f);
    buf[n] = '\0';
    fclose(f);
    unlink(logpath);
    fputs(buf, stderr);
    return buf;
}

static int count(const char *hay, const char *needle)
{
    int n = 0;
    for (const char *p = hay; (p = strstr(p, needle)); p++)
        n++;
    return n;
}

#define assert_near(a, b) near((a), (b), #a, __LINE__)
static void near(double a, double b, const char *what, int line)
{
    if (!(fabs(a - b) < 1e-9))
        fail_msg("line %d: %s is %.17g, wanted %.17g", line, what, a, b);
}

static struct sensor_reading get(struct sensors *s, const char *id)
{
    struct sensor_reading r;
    if (sensors_get(s, id, &r) != 0)
        fail_msg("no sensor %s", id);
    return r;
}

static void test_fixture_tree(void **state)
{
    (void)state;
    struct sensors *s = sensors_start(&cfg.sensors, NULL);
    assert_non_null(s);
    static const char *const ids[] = {
        "hwmon.cpu_thermal.temp1", "hwmon.lm75-1-0048.temp1", "hwmon.lm75-1-0049.temp1",
        "hwmon.nct6775.curr1",     "hwmon.nct6775.fan1",      "hwmon.nct6775.fan2",
        "hwmon.nct6775.in0",       "hwmon.nct6775.in1",       "hwmon.nct6775.intrusion0",
        "hwmon.nct6775.power1",    "hwmon.nct6775.temp7",     "hwmon.w83627hf.temp1",
        "thermal.acpitz-1",        "thermal.acpitz-2",        "thermal.cpu-thermal",
    };
    struct sensor_reading r[SENSORS_MAX];
    size_t n = sensors_read(s, r, SENSORS_MAX);
    assert_int_equal(n, sizeof(ids) / sizeof(ids[0]));
    for (size_t i = 0; i < n; i++)
        assert_string_equal(r[i].id, ids[i]);
    /* a short buffer gets a prefix and the full count */
    assert_int_equal(sensors_read(s, r, 2), n);

    struct sensor_reading t = get(s, "hwmon.cpu_thermal.temp1");
    assert_int_equal(t.kind, SENSOR_TEMPERATURE);
    assert_string_equal(t.name, "cpu_thermal temp1");
    assert_near(t.value, 45.1);
    assert_near(t.upper_critical, 110);
    assert_true(isnan(t.upper_warning) && isnan(t.lower_warning) && isnan(t.lower_critical));
    assert_int_equal(t.health, SENSOR_OK);
    assert_true(t.read_ms > 0);

    t = get(s, "hwmon.lm75-1-0048.temp1");
    assert_near(t.value, 30.5);
    assert_near(t.upper_warning, 80);
    assert_near(get(s, "hwmon.lm75-1-0049.temp1").value, 29);

    t = get(s, "hwmon.nct6775.in0");
    assert_int_equal(t.kind, SENSOR_VOLTAGE);
    assert_string_equal(t.name, "Vcore");
    assert_near(t.value, 1.2);
    assert_near(t.lower_warning, 1.1);
    assert_near(t.upper_warning, 1.3);
    t = get(s, "hwmon.nct6775.in1");
    assert_near(t.lower_critical, 10.8);
    assert_near(t.upper_critical, 13.2);
    assert_int_equal(t.health, SENSOR_OK);

    t = get(s, "hwmon.nct6775.fan1");
    assert_int_equal(t.kind, SENSOR_FAN);
    assert_string_equal(t.name, "CPU fan");
    assert_near(t.value, 1500);
    assert_near(t.lower_warning, 600);
    /* a stopped fan whose minimum is 0 is not past it */
    assert_int_equal(get(s, "hwmon.nct6775.fan2").health, SENSOR_OK);

    t = get(s, "hwmon.nct6775.curr1");
    assert_int_equal(t.kind, SENSOR_CURRENT);
    assert_near(t.value, 2.5);
    t = get(s, "hwmon.nct6775.power1"); /* from power1_average: the chip has no power1_input */
    assert_int_equal(t.kind, SENSOR_POWER);
    assert_near(t.value, 12.5);
    assert_near(t.upper_warning, 100);
    t = get(s, "hwmon.nct6775.intrusion0");
    assert_int_equal(t.kind, SENSOR_INTRUSION);
    assert_int_equal(t.health, SENSOR_OK);

    /* unreadable value: listed, unavailable */
    assert_int_equal(get(s, "hwmon.nct6775.temp7").health, SENSOR_UNAVAILABLE);
    /* old-style driver (attributes under device/), below its minimum */
    t = get(s, "hwmon.w83627hf.temp1");
    assert_near(t.value, -5);
    assert_int_equal(t.health, SENSOR_WARNING);

    /* thermal zones: trip points as limits; a shared type gets the zone number */
    t = get(s, "thermal.cpu-thermal");
    assert_string_equal(t.name, "cpu-thermal");
    assert_near(t.value, 45.1);
    assert_near(t.upper_warning, 90);
    assert_near(t.upper_critical, 110);
    assert_near(get(s, "thermal.acpitz-2").value, 29.8);
    assert_int_equal(sensors_get(s, "hwmon.rpi_volt.in0", &t), -1);
    assert_int_equal(sensors_get(s, "atx.intrusion", &t), -1);
    sensors_stop(s);
}

static void test_names_units(void **state)
{
    (void)state;
    assert_string_equal(sensor_kind_name(SENSOR_TEMPERATURE), "temperature");
    assert_string_equal(sensor_kind_name(SENSOR_FAN), "fan");
    assert_string_equal(sensor_kind_name(SENSOR_INTRUSION), "intrusion");
    assert_string_equal(sensor_unit(SENSOR_TEMPERATURE), "Cel");
    assert_string_equal(sensor_unit(SENSOR_VOLTAGE), "V");
    assert_string_equal(sensor_unit(SENSOR_FAN), "RPM");
    assert_string_equal(sensor_unit(SENSOR_CURRENT), "A");
    assert_string_equal(sensor_unit(SENSOR_POWER), "W");
    assert_string_equal(sensor_unit(SENSOR_INTRUSION), "");
    assert_string_equal(sensor_health_name(SENSOR_WARNING), "warning");
    assert_string_equal(sensor_health_name(SENSOR_UNAVAILABLE), "unavailable");
}

static void test_config_names_thresholds(void **state)
{
    (void)state;
    assert_int_equal(config_set(&cfg, "sensors", "names",
                                " hwmon.cpu_thermal.temp1 = SoC ,thermal.acpitz-1=Board, ", "test", stderr), 0);
    /* replaces all four file limits: the empty fields mean no limit */
    assert_int_equal(config_set(&cfg, "sensors", "thresholds",
                                "hwmon.cpu_thermal.temp1::10:40:,hwmon.lm75-1-0048.temp1:::: ,"
                                "hwmon.nct6775.fan1:1600:1700::", "test", stderr), 0);
    assert_int_equal(sensors_check_config(&cfg.sensors, stderr), 0);
    struct sensors *s = sensors_start(&cfg.sensors, NULL);
    assert_non_null(s);
    struct sensor_reading t = get(s, "hwmon.cpu_thermal.temp1");
    assert_string_equal(t.name, "SoC");
    assert_near(t.lower_warning, 10);
    assert_near(t.upper_warning, 40);
    assert_true(isnan(t.upper_critical) && isnan(t.lower_critical));
    assert_int_equal(t.health, SENSOR_WARNING);
    assert_string_equal(get(s, "thermal.acpitz-1").name, "Board");
    t = get(s, "hwmon.lm75-1-0048.temp1");
    assert_true(isnan(t.upper_warning));
    t = get(s, "hwmon.nct6775.fan1");
    assert_int_equal(t.health, SENSOR_CRITICAL);
    assert_near(t.lower_critical, 1600);
    sensors_stop(s);
}

static void expect_bad(const char *key, const char *value, const char *message)
{
    config_defaults(&cfg);
    assert_int_equal(config_set(&cfg, "sensors", "root", root, "test", stderr), 0);
    assert_int_equal(config_set(&cfg, "sensors", key, value, "test", stderr), 0);
    char buf[1024] = "";
    FILE *f = fmemopen(buf, sizeof(buf) - 1, "w");
    assert_int_equal(sensors_check_config(&cfg.sensors, f), -1);
    fclose(f);
    char want[64];
    snprintf(want, sizeof(want), "config: [sensors] %s: ", key);
    if (!strstr(buf, want) || !strstr(buf, message))
        fail_msg("%s = %s: wanted '%s' and '%s', got: %s", key, value, want, message, buf);
    capture_log();
    struct sensors *s = sensors_start(&cfg.sensors, NULL);
    const char *log = captured_log();
    assert_null(s);
    assert_non_null(strstr(log, message));
}

static void test_bad_config(void **state)
{
    (void)state;
    expect_bad("names", "hwmon.x.temp1", "has no '='");
    expect_bad("names", "hwmon.x.temp1=", "the name is empty");
    expect_bad("names", "=CPU", "is not a sensor id");
    expect_bad("names", "hwmon x=CPU", "is not a sensor id");
    expect_bad("names", "a=CPU,a=GPU", "'a' is named twice");
    expect_bad("names", "a=0123456789012345678901234567890123456789012345678901234567890123456789",
               "the name is longer than 63");
    expect_bad("thresholds", "hwmon.x.temp1:1:2:3", "want ID:lower_critical");
    expect_bad("thresholds", "hwmon.x.temp1:1:2:3:4:5", "want ID:lower_critical");
    expect_bad("thresholds", "hwmon.x.temp1::abc::", "lower_warning 'abc' is not a number");
    expect_bad("thresholds", "hwmon.x.temp1:::nan:", "upper_warning 'nan' is not a number");
    expect_bad("thresholds", "hwmon.x.temp1:::90:80", "upper_warning 90 is above upper_critical 80");
    expect_bad("thresholds", "hwmon.x.temp1:50:::40", "lower_critical 50 is above upper_critical 40");
    expect_bad("thresholds", "a::::1,a::::2", "'a' is given twice");
    expect_bad("thresholds", "a b::::1", "'a b' is not a sensor id");
    config_defaults(&cfg);
    assert_int_equal(sensors_check_config(&cfg.sensors, stderr), 0); /* empty is fine */
}

static void test_crossings_logged_once(void **state)
{
    (void)state;
    assert_int_equal(config_set(&cfg, "sensors", "thresholds", "hwmon.lm75-1-0048.temp1:0:5:40:50", "test",
                                stderr), 0);
    assert_int_equal(config_set(&cfg, "sensors", "names", "hwmon.lm75-1-0048.temp1=Inlet", "test", stderr), 0);
    capture_log();
    struct sensors *s = sensors_start(&cfg.sensors, NULL);
    assert_non_null(s);
    const char *file = "class/hwmon/hwmon1/temp1_input";
    static const struct { const char *raw; enum sensor_health h; } steps[] = {
        {"30500", SENSOR_OK},      {"41000", SENSOR_WARNING},  {"42000", SENSOR_WARNING},
        {"51000", SENSOR_CRITICAL}, {"52000", SENSOR_CRITICAL}, {"45000", SENSOR_WARNING},
        {"20000", SENSOR_OK},      {"21000", SENSOR_OK},       {"-1000", SENSOR_CRITICAL},
        {"2000", SENSOR_WARNING},  {"garbage", SENSOR_UNAVAILABLE}, {"garbage", SENSOR_UNAVAILABLE},
        {"25000", SENSOR_OK},
    };
    for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
        put(file, steps[i].raw);
        sensors_poll(s);
        struct sensor_reading r = get(s, "hwmon.lm75-1-0048.temp1");
        if (r.health != steps[i].h)
            fail_msg("step %zu (%s): health %s, wanted %s", i, steps[i].raw, sensor_health_name(r.health),
                     sensor_health_name(steps[i].h));
    }
    sensors_stop(s);
    const char *log = captured_log();
    assert_int_equal(count(log, "W sensors: Inlet (hwmon.lm75-1-0048.temp1): warning: 41 °C, above upper "
                                "warning 40 °C"), 1);
    assert_int_equal(count(log, "W sensors: Inlet (hwmon.lm75-1-0048.temp1): critical: 51 °C, above upper "
                                "critical 50 °C"), 1);
    assert_int_equal(count(log, "W sensors: Inlet (hwmon.lm75-1-0048.temp1): warning: 45 °C"), 1);
    /* (the audit log's journal line repeats each crossing: count the sensors' own) */
    assert_int_equal(count(log, "Inlet (hwmon.lm75-1-0048.temp1): critical: -1 °C, below lower critical 0 °C"), 1);
    assert_int_equal(count(log, "Inlet (hwmon.lm75-1-0048.temp1): warning: 2 °C, below lower warning 5 °C"), 1);
    assert_int_equal(count(log, "I sensors: Inlet (hwmon.lm75-1-0048.temp1): back to ok: 20 °C"), 1);
    assert_int_equal(count(log, "Inlet (hwmon.lm75-1-0048.temp1): cannot be read: Invalid argument"), 1);
    assert_int_equal(count(log, "I sensors: Inlet (hwmon.lm75-1-0048.temp1): readable again: 25 °C"), 1);
    /* 8 changes of health, each logged once; nothing for the steady polls */
    assert_int_equal(count(log, "Inlet (hwmon.lm75-1-0048.temp1)"), 8);
    /* the unreadable and below-minimum fixture sensors, once each at the first poll */
    assert_int_equal(count(log, "hwmon.nct6775.temp7): cannot be read"), 1);
    assert_int_equal(count(log, "hwmon.w83627hf.temp1): warning: -5 °C, below lower warning 0 °C"), 1);
}

static void test_vanish_and_return(void **state)
{
    (void)state;
    capture_log();
    struct sensors *s = sensors_start(&cfg.sensors, NULL);
    assert_non_null(s);
    struct sensor_reading before[SENSORS_MAX], after[SENSORS_MAX];
    size_t n = sensors_read(s, before, SENSORS_MAX);
    /* the probe at 1-0048 goes (module unloaded, cable pulled) */
    sh("rm -rf '%s/class/hwmon/hwmon1'", root);
    sensors_poll(s);
    sensors_poll(s);
    struct sensor_reading t = get(s, "hwmon.lm75-1-0048.temp1");
    assert_int_equal(t.health, SENSOR_UNAVAILABLE);
    assert_true(isnan(t.value));
    assert_int_equal(get(s, "hwmon.lm75-1-0049.temp1").health, SENSOR_OK);
    /* it comes back as hwmon7 with a new reading: same id, same place */
    sh("mkdir '%s/class/hwmon/hwmon7' && ln -s ../../../devices/i2c-1/1-0048 '%s/class/hwmon/hwmon7/device'",
       root, root);
    put("class/hwmon/hwmon7/name", "lm75");
    put("class/hwmon/hwmon7/temp1_input", "33250");
    /* and a new chip appears: appended, the order of the others kept */
    sh("mkdir '%s/class/hwmon/hwmon8'", root);
    put("class/hwmon/hwmon8/name", "amdgpu");
    put("class/hwmon/hwmon8/temp1_input", "50000");
    sensors_poll(s);
    assert_int_equal(sensors_read(s, after, SENSORS_MAX), n + 1);
    for (size_t i = 0; i < n; i++)
        assert_string_equal(after[i].id, before[i].id);
    assert_string_equal(after[n].id, "hwmon.amdgpu.temp1");
    t = get(s, "hwmon.lm75-1-0048.temp1");
    assert_int_equal(t.health, SENSOR_OK);
    assert_near(t.value, 33.25);
    /* a whole class directory gone: everything unavailable, nothing crashes */
    sh("rm -rf '%s/class'", root);
    sensors_poll(s);
    assert_int_equal(sensors_read(s, after, SENSORS_MAX), n + 1);
    for (size_t i = 0; i < n + 1; i++)
        assert_int_equal(after[i].health, SENSOR_UNAVAILABLE);
    sensors_stop(s);
    const char *log = captured_log();
    assert_int_equal(count(log, "lm75 temp1 (hwmon.lm75-1-0048.temp1): gone from"), 2);
    assert_int_equal(count(log, "lm75 temp1 (hwmon.lm75-1-0048.temp1): readable again: 33.25 °C"), 1);
    assert_int_equal(count(log, "new sensor hwmon.amdgpu.temp1"), 1);
}

static void test_no_sensors_and_thread(void **state)
{
    (void)state;
    /* no hwmon, no thermal: fine, an empty list */
    config_defaults(&cfg);
    assert_int_equal(config_set(&cfg, "sensors", "root", "/nonexistent-piglix", "test", stderr), 0);
    struct sensors *s = sensors_start(&cfg.sensors, NULL);
    assert_non_null(s);
    struct sensor_reading r[1];
    assert_int_equal(sensors_read(s, r, 1), 0);
    sensors_stop(s);
    sensors_stop(NULL);

    /* the thread polls by itself every poll_ms */
    assert_int_equal(config_set(&cfg, "sensors", "root", root, "test", stderr), 0);
    assert_int_equal(config_set(&cfg, "sensors", "poll_ms", "100", "test", stderr), 0);
    s = sensors_start(&cfg.sensors, NULL);
    assert_non_null(s);
    put("class/hwmon/hwmon0/temp1_input", "61000");
    struct timespec pause = {0, 20 * 1000000L};
    int waited = 0;
    while (get(s, "hwmon.cpu_thermal.temp1").value != 61 && waited < 3000) {
        nanosleep(&pause, NULL);
        waited += 20;
    }
    assert_near(get(s, "hwmon.cpu_thermal.temp1").value, 61);
    sensors_stop(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_fixture_tree, setup, teardown),
        cmocka_unit_test(test_names_units),
        cmocka_unit_test_setup_teardown(test_config_names_thresholds, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_config, setup, teardown),
        cmocka_unit_test_setup_teardown(test_crossings_logged_once, setup, teardown),
        cmocka_unit_test_setup_teardown(test_vanish_and_return, setup, teardown),
        cmocka_unit_test_setup_teardown(test_no_sensors_and_thread, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
