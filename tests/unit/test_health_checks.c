/* health's checks on a fixture tree (tests/unit/fixtures/health/pi, a
 * Raspberry Pi 4 with all well), copied for each test so a test can take
 * pieces away: each missing piece is its own warning or problem, with the
 * fix in the text. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "health/health.h"
#include "tests/support/tmpdir.h"

struct fixture {
    char root[64];
    struct health_env env;
    struct health_report r;
    struct piglix_config cfg;
};

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    if (!f)
        return -1;
    snprintf(f->root, sizeof(f->root), "/tmp/piglix-health-XXXXXX");
    if (!mkdtemp(f->root))
        return -1;
    char cmd[512];
    snprintf(cmd, sizeof(cmd), "cp -a '%s/tests/unit/fixtures/health/pi/.' '%s/'", PIGLIX_SOURCE_DIR, f->root);
    if (system(cmd) != 0)
        return -1;
    health_env_defaults(&f->env);
    snprintf(f->env.sys, sizeof(f->env.sys), "%s/sys", f->root);
    snprintf(f->env.dev, sizeof(f->env.dev), "%s/dev", f->root);
    snprintf(f->env.configfs, sizeof(f->env.configfs), "%s/config", f->root);
    snprintf(f->env.proc, sizeof(f->env.proc), "%s/proc", f->root);
    config_defaults(&f->cfg);
    snprintf(f->cfg.capture.source, sizeof(f->cfg.capture.source), "v4l2");
    snprintf(f->cfg.capture.device, sizeof(f->cfg.capture.device), "/dev/video0");
    f->cfg.hid.enabled = true;
    f->cfg.hid.udc[0] = '\0';
    f->cfg.atx.enabled = true;
    snprintf(f->cfg.atx.chip, sizeof(f->cfg.atx.chip), "pinctrl-bcm2711");
    snprintf(f->cfg.state.dir, sizeof(f->cfg.state.dir), "%s/state", f->root);
    if (mkdir(f->cfg.state.dir, 0700) < 0)
        return -1;
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    int r = test_tmpdir_remove(f->root);
    free(f);
    return r == 0 ? 0 : -1;
}

/* Runs a shell command in the fixture's root (taking a piece away). */
static void in_root(struct fixture *f, const char *what)
{
    char cmd[1024];
    snprintf(cmd, sizeof(cmd), "cd '%s' && %s", f->root, what);
    assert_int_equal(system(cmd), 0);
}

/* The one check of that name, with that status and those words in it. */
static void expect(struct fixture *f, const char *name, enum health_status status, const char *words)
{
    const struct health_check *c = health_find(&f->r, name);
    if (!c) {
        health_print(&f->r, stderr);
        fail_msg("no check named %s", name);
    }
    char line[2 * HEALTH_TEXT_MAX + 2]; /* as `piglix doctor` prints it */
    snprintf(line, sizeof(line), "%s%s%s", c->text, c->fix[0] ? ": " : "", c->fix);
    if (c->status != status || (words && !strstr(line, words))) {
        health_print(&f->r, stderr);
        fail_msg("%s: want %s with \"%s\", got %s: %s", name, health_status_name(status), words ? words : "",
                 health_status_name(c->status), line);
    }
}

static void test_all_well(void **state)
{
    struct fixture *f = *state;
    health_check_capture(&f->r, &f->env, &f->cfg.capture);
    health_check_cma(&f->r, &f->env, &f->cfg.capture);
    health_check_usb(&f->r, &f->env, &f->cfg.hid);
    health_check_atx(&f->r, &f->env, &f->cfg.atx);
    health_check_state(&f->r, &f->env, &f->cfg.state);
    health_check_memory(&f->r, &f->env);
    health_check_temperature(&f->r, &f->env);
    if (health_worst(&f->r) != HEALTH_OK) {
        health_print(&f->r, stderr);
        fail();
    }
    expect(f, "capture", HEALTH_OK, "unicam-image, driver unicam");
    expect(f, "capture", HEALTH_OK, "tc358743");
    expect(f, "cma", HEALTH_OK, "256 MiB");
    expect(f, "usb-controller", HEALTH_OK, "fe980000.usb");
    expect(f, "usb-gadget", HEALTH_OK, "bound to fe980000.usb");
    expect(f, "usb-host", HEALTH_OK, "configured");
    expect(f, "atx", HEALTH_OK, "gpiochip0");
    expect(f, "memory", HEALTH_OK, "3321 MiB available");
    expect(f, "temperature", HEALTH_OK, "52.1 °C (thermal_zone0, cpu-thermal)");
    char text[4096];
    FILE *out = fmemopen(text, sizeof(text), "w");
    assert_non_null(out);
    health_print(&f->r, out);
    fclose(out);
    assert_non_null(strstr(text, "ok       capture: /dev/video0: unicam-image"));
}

static void test_capture(void **state)
{
    struct fixture *f = *state;
    /* the embedded-data node is not the picture */
    snprintf(f->cfg.capture.device, sizeof(f->cfg.capture.device), "/dev/video1");
    health_check_capture(&f->r, &f->env, &f->cfg.capture);
    expect(f, "capture", HEALTH_PROBLEM, "not a video capture node");
    /* a node with no video4linux entry is not V4L2 */
    f->r.n = 0;
    in_root(f, "touch dev/video7");
    snprintf(f->cfg.capture.device, sizeof(f->cfg.capture.device), "/dev/video7");
    health_check_capture(&f->r, &f->env, &f->cfg.capture);
    expect(f, "capture", HEALTH_PROBLEM, "not a V4L2 device");
    /* no device: the overlay that makes one */
    f->r.n = 0;
    in_root(f, "rm dev/video0");
    snprintf(f->cfg.capture.device, sizeof(f->cfg.capture.device), "/dev/video0");
    health_check_capture(&f->r, &f->env, &f->cfg.capture);
    expect(f, "capture", HEALTH_PROBLEM, "dtoverlay=tc358743");
    /* vivid and UVC are named; UVC's metadata node is refused */
    f->r.n = 0;
    in_root(f, "touch dev/video0 && echo vivid-000-vid-cap > sys/class/video4linux/video0/name && "
               "mkdir -p sys/bus/platform/drivers/vivid && "
               "ln -sfn ../../../bus/platform/drivers/vivid sys/devices/platform/fe801000.csi/driver");
    health_check_capture(&f->r, &f->env, &f->cfg.capture);
    expect(f, "capture", HEALTH_OK, "driver vivid (the kernel's virtual test device)");
    f->r.n = 0;
    in_root(f, "echo 'USB Video' > sys/class/video4linux/video1/name && mkdir -p sys/bus/usb/drivers/uvcvideo && "
               "ln -sfn ../../../bus/usb/drivers/uvcvideo sys/devices/platform/fe801000.csi/driver");
    health_check_capture(&f->r, &f->env, &f->cfg.capture);
    expect(f, "capture", HEALTH_OK, "driver uvcvideo (USB capture stick (UVC))");
    f->r.n = 0;
    snprintf(f->cfg.capture.device, sizeof(f->cfg.capture.device), "/dev/video1");
    health_check_capture(&f->r, &f->env, &f->cfg.capture);
    expect(f, "capture", HEALTH_PROBLEM, "not a video capture node");
    /* the test source needs no hardware */
    f->r.n = 0;
    snprintf(f->cfg.capture.source, sizeof(f->cfg.capture.source), "test");
    health_check_capture(&f->r, &f->env, &f->cfg.capture);
    expect(f, "capture", HEALTH_OK, "test picture");
}

static void test_cma(void **state)
{
    struct fixture *f = *state;
    in_root(f, "sed -i 's/^CmaTotal:.*/CmaTotal:          65536 kB/' proc/meminfo");
    health_check_cma(&f->r, &f->env, &f->cfg.capture);
    expect(f, "cma", HEALTH_WARNING, "CMA is 64 MiB, under 128 MiB");
    expect(f, "cma", HEALTH_WARNING, "dtoverlay=vc4-kms-v3d,cma-256");
    /* only v4l2 capture on a Pi takes frame buffers from CMA */
    f->r.n = 0;
    snprintf(f->cfg.capture.source, sizeof(f->cfg.capture.source), "test");
    health_check_cma(&f->r, &f->env, &f->cfg.capture);
    assert_int_equal(f->r.n, 0);
    snprintf(f->cfg.capture.source, sizeof(f->cfg.capture.source), "v4l2");
    in_root(f, "rm proc/device-tree/model");
    health_check_cma(&f->r, &f->env, &f->cfg.capture);
    assert_int_equal(f->r.n, 0);
}

static void test_usb(void **state)
{
    struct fixture *f = *state;
    /* host unplugged, or a charge-only cable */
    in_root(f, "echo 'not attached' > sys/class/udc/fe980000.usb/state");
    health_check_usb(&f->r, &f->env, &f->cfg.hid);
    expect(f, "usb-host", HEALTH_WARNING, "no data lines");
    /* made but not bound */
    f->r.n = 0;
    in_root(f, "echo > config/usb_gadget/piglix/UDC");
    health_check_usb(&f->r, &f->env, &f->cfg.hid);
    expect(f, "usb-gadget", HEALTH_PROBLEM, "not bound");
    assert_null(health_find(&f->r, "usb-host"));
    /* not made */
    f->r.n = 0;
    in_root(f, "rm -r config/usb_gadget/piglix");
    health_check_usb(&f->r, &f->env, &f->cfg.hid);
    expect(f, "usb-gadget", HEALTH_PROBLEM, "piglix gadget up");
    /* no configfs gadgets: libcomposite */
    f->r.n = 0;
    in_root(f, "rm -r config/usb_gadget");
    health_check_usb(&f->r, &f->env, &f->cfg.hid);
    expect(f, "usb-gadget", HEALTH_PROBLEM, "modprobe libcomposite");
    expect(f, "usb-controller", HEALTH_OK, "fe980000.usb");
    /* a controller that is not there by name */
    f->r.n = 0;
    snprintf(f->cfg.hid.udc, sizeof(f->cfg.hid.udc), "dummy_udc.0");
    health_check_usb(&f->r, &f->env, &f->cfg.hid);
    expect(f, "usb-controller", HEALTH_PROBLEM, "no USB device controller dummy_udc.0");
    /* no controller at all: dwc2 */
    f->r.n = 0;
    f->cfg.hid.udc[0] = '\0';
    in_root(f, "rm -r sys/class/udc/fe980000.usb");
    health_check_usb(&f->r, &f->env, &f->cfg.hid);
    expect(f, "usb-controller", HEALTH_PROBLEM, "dtoverlay=dwc2");
    assert_int_equal(health_worst(&f->r), HEALTH_PROBLEM);
    /* [hid] off: nothing to check, nothing wrong */
    f->r.n = 0;
    f->cfg.hid.enabled = false;
    health_check_usb(&f->r, &f->env, &f->cfg.hid);
    assert_int_equal(f->r.n, 1);
    expect(f, "usb", HEALTH_OK, "[hid] enabled = no");
}

static void test_atx(void **state)
{
    struct fixture *f = *state;
    const char *found[] = {"0", "gpiochip0", "/dev/gpiochip0", "pinctrl-bcm2711"};
    for (size_t i = 0; i < sizeof(found) / sizeof(found[0]); i++) {
        f->r.n = 0;
        snprintf(f->cfg.atx.chip, sizeof(f->cfg.atx.chip), "%s", found[i]);
        health_check_atx(&f->r, &f->env, &f->cfg.atx);
        expect(f, "atx", HEALTH_OK, "found");
    }
    const char *missing[] = {"1", "gpiochip4", "/dev/gpiochip4", "pinctrl-rp1"};
    for (size_t i = 0; i < sizeof(missing) / sizeof(missing[0]); i++) {
        f->r.n = 0;
        snprintf(f->cfg.atx.chip, sizeof(f->cfg.atx.chip), "%s", missing[i]);
        health_check_atx(&f->r, &f->env, &f->cfg.atx);
        expect(f, "atx", HEALTH_PROBLEM, "gpiodetect");
    }
    f->r.n = 0;
    f->cfg.atx.enabled = false;
    health_check_atx(&f->r, &f->env, &f->cfg.atx);
    expect(f, "atx", HEALTH_OK, "enabled = no");
}

static void test_state_and_credentials(void **state)
{
    struct fixture *f = *state;
    const struct config_state *st = &f->cfg.state;
    health_check_state(&f->r, &f->env, st);
    expect(f, "state", HEALTH_OK, "mode 700");
    f->cfg.web.enabled = true;
    f->cfg.vnc.enabled = true;
    health_check_vnc_password(&f->r, &f->env, st, &f->cfg.vnc);
    health_check_web_accounts(&f->r, &f->env, st, &f->cfg.web);
    expect(f, "vnc-password", HEALTH_WARNING, "the VNC port stays closed until `piglix vnc-passwd`");
    expect(f, "web-accounts", HEALTH_WARNING, "one-time token");
    assert_int_equal(health_worst(&f->r), HEALTH_WARNING);
    /* set them */
    f->r.n = 0;
    in_root(f, "printf '12345678' > state/vnc.passwd && printf '# piglix web accounts\\nadmin:$y$x:::\\n' "
               "> state/web.users");
    health_check_vnc_password(&f->r, &f->env, st, &f->cfg.vnc);
    health_check_web_accounts(&f->r, &f->env, st, &f->cfg.web);
    expect(f, "vnc-password", HEALTH_OK, "set");
    expect(f, "web-accounts", HEALTH_OK, "1 web account");
    /* group-writable, then someone else's */
    f->r.n = 0;
    assert_int_equal(chmod(st->dir, 0770), 0);
    health_check_state(&f->r, &f->env, st);
    expect(f, "state", HEALTH_PROBLEM, "chmod go-w");
    f->r.n = 0;
    assert_int_equal(chmod(st->dir, 0700), 0);
    f->env.daemon_uid = geteuid() + 1;
    snprintf(f->env.daemon_user, sizeof(f->env.daemon_user), "piglix");
    health_check_state(&f->r, &f->env, st);
    expect(f, "state", HEALTH_PROBLEM, "chown -R piglix:");
    f->r.n = 0;
    in_root(f, "rm -r state");
    health_check_state(&f->r, &f->env, st);
    expect(f, "state", HEALTH_PROBLEM, "does not exist");
}

static void test_image_store(void **state)
{
    struct fixture *f = *state;
    f->cfg.vmedia.enabled = true;
    snprintf(f->cfg.vmedia.dir, sizeof(f->cfg.vmedia.dir), "%s", f->root);
    f->env.min_free_bytes = 0;
    health_check_image_store(&f->r, &f->env, &f->cfg.vmedia);
    expect(f, "image-store", HEALTH_OK, "MiB free");
    f->r.n = 0;
    f->env.min_free_bytes = UINT64_MAX;
    health_check_image_store(&f->r, &f->env, &f->cfg.vmedia);
    expect(f, "image-store", HEALTH_WARNING, "may not fit");
    f->r.n = 0;
    snprintf(f->cfg.vmedia.dir, sizeof(f->cfg.vmedia.dir), "%s/no-such-dir", f->root);
    health_check_image_store(&f->r, &f->env, &f->cfg.vmedia);
    expect(f, "image-store", HEALTH_PROBLEM, "No such file");
}

static int clock_unsync(struct timex *t)
{
    t->status = STA_UNSYNC;
    return TIME_ERROR;
}

static int clock_sync(struct timex *t)
{
    t->status = STA_PLL;
    return TIME_OK;
}

static void test_clock(void **state)
{
    struct fixture *f = *state;
    f->env.adjtimex = clock_unsync;
    health_check_clock(&f->r, &f->env);
    expect(f, "clock", HEALTH_WARNING, "TOTP");
    f->r.n = 0;
    f->env.adjtimex = clock_sync;
    health_check_clock(&f->r, &f->env);
    expect(f, "clock", HEALTH_OK, "synchronised");
}

static void test_memory_and_temperature(void **state)
{
    struct fixture *f = *state;
    in_root(f, "sed -i 's/^MemAvailable:.*/MemAvailable:      40960 kB/' proc/meminfo && "
               "mkdir sys/class/thermal/thermal_zone1 && echo 80500 > sys/class/thermal/thermal_zone1/temp");
    health_check_memory(&f->r, &f->env);
    health_check_temperature(&f->r, &f->env);
    expect(f, "memory", HEALTH_WARNING, "40 MiB available, under 64 MiB");
    expect(f, "temperature", HEALTH_WARNING, "80.5 °C (thermal_zone1)");
    f->r.n = 0;
    in_root(f, "echo 86000 > sys/class/thermal/thermal_zone0/temp");
    health_check_temperature(&f->r, &f->env);
    expect(f, "temperature", HEALTH_PROBLEM, "86.0 °C (thermal_zone0, cpu-thermal)");
    f->r.n = 0;
    in_root(f, "rm -r sys/class/thermal");
    health_check_temperature(&f->r, &f->env);
    expect(f, "temperature", HEALTH_OK, "no thermal zone");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_all_well, setup, teardown),
        cmocka_unit_test_setup_teardown(test_capture, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cma, setup, teardown),
        cmocka_unit_test_setup_teardown(test_usb, setup, teardown),
        cmocka_unit_test_setup_teardown(test_atx, setup, teardown),
        cmocka_unit_test_setup_teardown(test_state_and_credentials, setup, teardown),
        cmocka_unit_test_setup_teardown(test_image_store, setup, teardown),
        cmocka_unit_test_setup_teardown(test_clock, setup, teardown),
        cmocka_unit_test_setup_teardown(test_memory_and_temperature, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
