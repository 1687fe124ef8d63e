/* health's checks of what the devices say (EDID, signal and the CSI-2 link,
 * GPIO lines and the power LED), the gadget's mass-storage function, the
 * web certificate and the ports, on the fixture Pi
 * (tests/unit/fixtures/health/pi). The device nodes there are plain
 * files, so the ioctls are answered here, as the drivers answer them
 * (the real drivers answer in tests/vm: vivid, dummy_hcd, the ATX board). */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include <linux/gpio.h>
#include <linux/videodev2.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <openssl/pem.h>

#include "health/health.h"
#include "tests/support/tmpdir.h"

/* What the fake drivers answer. */
static struct {
    int edid_errno;                 /* VIDIOC_G_EDID fails with it when not 0 */
    uint8_t edid[256];
    unsigned edid_blocks;
    int dv_errno;
    struct v4l2_dv_timings dv;
    unsigned gpio_lines;
    const char *line_consumer;      /* the power LED line is held by it when not NULL */
    int led_value;
} drv;

static int fake_ioctl(int fd, unsigned long request, void *arg)
{
    (void)fd;
    switch (request) {
    case VIDIOC_G_EDID: {
        struct v4l2_edid *e = arg;
        if (drv.edid_errno) {
            errno = drv.edid_errno;
            return -1;
        }
        e->blocks = drv.edid_blocks < e->blocks ? drv.edid_blocks : e->blocks;
        memcpy(e->edid, drv.edid, 128u * e->blocks);
        return 0;
    }
    case VIDIOC_QUERY_DV_TIMINGS:
        if (drv.dv_errno) {
            errno = drv.dv_errno;
            return -1;
        }
        memcpy(arg, &drv.dv, sizeof(drv.dv));
        return 0;
    case GPIO_GET_CHIPINFO_IOCTL: {
        struct gpiochip_info *c = arg;
        snprintf(c->name, sizeof(c->name), "gpiochip0");
        snprintf(c->label, sizeof(c->label), "pinctrl-bcm2711");
        c->lines = drv.gpio_lines;
        return 0;
    }
    case GPIO_GET_LINEINFO_IOCTL: {
        struct gpioline_info *l = arg;
        l->flags = drv.line_consumer ? GPIOLINE_FLAG_KERNEL : 0;
        snprintf(l->consumer, sizeof(l->consumer), "%s", drv.line_consumer ? drv.line_consumer : "");
        return 0;
    }
    case GPIO_GET_LINEHANDLE_IOCTL: {
        struct gpiohandle_request *h = arg;
        h->fd = dup(fd);
        return h->fd < 0 ? -1 : 0;
    }
    case GPIOHANDLE_GET_LINE_VALUES_IOCTL:
        ((struct gpiohandle_data *)arg)->values[0] = (uint8_t)drv.led_value;
        return 0;
    default:
        errno = ENOTTY;
        return -1;
    }
}

/* CEA-861 timings: width, height, pixel clock, totals. */
static void set_dv(unsigned w, unsigned h, uint64_t clock, unsigned htotal, unsigned vtotal)
{
    memset(&drv.dv, 0, sizeof(drv.dv));
    drv.dv.type = V4L2_DV_BT_656_1120;
    drv.dv.bt.width = w;
    drv.dv.bt.height = h;
    drv.dv.bt.pixelclock = clock;
    drv.dv.bt.hbackporch = htotal - w; /* all blanking in one porch: only the totals count */
    drv.dv.bt.vbackporch = vtotal - h;
}

/* deploy/edid/tc358743-1080p30.hex: the EDID piglix ships. */
static void load_shipped_edid(void)
{
    char path[512];
    snprintf(path, sizeof(path), "%s/deploy/edid/tc358743-1080p30.hex", PIGLIX_SOURCE_DIR);
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    unsigned v, n = 0;
    while (n < sizeof(drv.edid) && fscanf(f, "%x", &v) == 1)
        drv.edid[n++] = (uint8_t)v;
    fclose(f);
    assert_int_equal(n, 256);
    drv.edid_blocks = 2;
}

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
    f->env.ioctl = fake_ioctl;
    config_defaults(&f->cfg);
    snprintf(f->cfg.capture.source, sizeof(f->cfg.capture.source), "v4l2");
    snprintf(f->cfg.capture.device, sizeof(f->cfg.capture.device), "/dev/video0");
    f->cfg.hid.enabled = true;
    f->cfg.vmedia.enabled = true;
    f->cfg.web.enabled = true;
    f->cfg.atx.enabled = true;
    snprintf(f->cfg.atx.chip, sizeof(f->cfg.atx.chip), "pinctrl-bcm2711");
    f->cfg.atx.power_led_line = 17;
    f->cfg.atx.power_button_line = 27;
    f->cfg.atx.reset_button_line = 22;
    f->cfg.atx.hdd_led_line = f->cfg.atx.intrusion_line = -1;
    snprintf(f->cfg.state.dir, sizeof(f->cfg.state.dir), "%s/state", f->root);
    if (mkdir(f->cfg.state.dir, 0700) < 0)
        return -1;
    memset(&drv, 0, sizeof(drv));
    load_shipped_edid();
    set_dv(1920, 1080, 74250000, 2200, 1125); /* 1080p30 */
    drv.gpio_lines = 58;
    drv.led_value = 1;
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

static void in_root(struct fixture *f, const char *what)
{
    char cmd[1024];
    snprintf(cmd, sizeof(cmd), "cd '%s' && %s", f->root, what);
    assert_int_equal(system(cmd), 0);
}

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

static void video(struct fixture *f)
{
    f->r.n = 0;
    health_check_video(&f->r, &f->env, &f->cfg.capture);
}

static void test_edid(void **state)
{
    struct fixture *f = *state;
    video(f);
    expect(f, "edid", HEALTH_OK, "EDID PGX \"piglix\", 2 blocks prefers 1920x1080p30 (74.25 MHz)");
    expect(f, "edid", HEALTH_OK, "needs 1188 Mbit/s at 16 bits per pixel, within the CSI-2 link's 1944 (2 lanes x 972)");
    /* an EDID that prefers 1080p60 (148.5 MHz): the source will send what the link cannot carry */
    drv.edid[54] = 0x02, drv.edid[55] = 0x3a; /* 14850 x 10 kHz */
    drv.edid[127] = (uint8_t)(drv.edid[127] - (0x02 - 0x01) - (0x3a - 0x1d)); /* keep the checksum */
    video(f);
    expect(f, "edid", HEALTH_WARNING, "prefers 1920x1080p60 (148.50 MHz); needs 2376 Mbit/s at 16 bits per pixel, "
           "MORE than");
    expect(f, "edid", HEALTH_WARNING, "tc358743-1080p30.hex");
    /* a broken checksum, no EDID loaded, a device without EDIDs */
    drv.edid[127]++;
    video(f);
    expect(f, "edid", HEALTH_PROBLEM, "not valid");
    drv.edid_errno = ENODATA;
    video(f);
    expect(f, "edid", HEALTH_PROBLEM, "no EDID loaded");
    drv.edid_errno = ENOTTY;
    video(f);
    expect(f, "edid", HEALTH_OK, "takes no EDID");
}

static void test_edid_parse(void **state)
{
    (void)state;
    load_shipped_edid();
    struct health_edid e;
    assert_int_equal(health_edid_parse(drv.edid, 256, &e), 0);
    assert_string_equal(e.vendor, "PGX");
    assert_string_equal(e.name, "piglix");
    assert_int_equal(e.width, 1920);
    assert_int_equal(e.height, 1080);
    assert_int_equal(e.pixclk_khz, 74250);
    assert_int_equal(e.refresh_mhz, 30000);
    assert_int_equal(e.extensions, 1);
    assert_int_equal(health_edid_parse(drv.edid, 127, &e), -1);
    drv.edid[0] = 1;
    assert_int_equal(health_edid_parse(drv.edid, 256, &e), -1);
}

static void test_signal(void **state)
{
    struct fixture *f = *state;
    video(f);
    expect(f, "signal", HEALTH_OK, "1920x1080p30, pixel clock 74.25 MHz; needs 1188 Mbit/s");
    /* 720p60 fits, 1080p50 and 1080p60 do not (deploy/edid/README.md) */
    set_dv(1280, 720, 74250000, 1650, 750);
    video(f);
    expect(f, "signal", HEALTH_OK, "1280x720p60, pixel clock 74.25 MHz; needs 1188 Mbit/s");
    set_dv(1920, 1080, 148500000, 2640, 1125);
    video(f);
    expect(f, "signal", HEALTH_PROBLEM, "1920x1080p50, pixel clock 148.50 MHz; needs 2376 Mbit/s at 16 bits per "
           "pixel, MORE than the CSI-2 link's 1944");
    health_print(&f->r, stdout); /* deploy/INSTALL.md quotes it */
    set_dv(1920, 1080, 148500000, 2200, 1125);
    video(f);
    expect(f, "signal", HEALTH_PROBLEM, "1920x1080p60");
    /* four lanes (a Compute Module) carry it */
    f->env.csi2_lanes = 4;
    video(f);
    expect(f, "signal", HEALTH_OK, "within the CSI-2 link's 3888 (4 lanes x 972)");
    /* RGB takes 24 bits a pixel: 1080p30 still fits (1782 Mbit/s) */
    f->env.csi2_lanes = 2;
    set_dv(1920, 1080, 74250000, 2200, 1125);
    snprintf(f->cfg.capture.format, sizeof(f->cfg.capture.format), "rgb24");
    video(f);
    expect(f, "signal", HEALTH_OK, "needs 1782 Mbit/s at 24 bits per pixel, within");
    /* what the drivers say without a good signal */
    drv.dv_errno = ENOLINK;
    video(f);
    expect(f, "signal", HEALTH_PROBLEM, "no signal");
    drv.dv_errno = ENOLCK;
    video(f);
    expect(f, "signal", HEALTH_PROBLEM, "does not lock");
    drv.dv_errno = ERANGE;
    video(f);
    expect(f, "signal", HEALTH_PROBLEM, "out of range");
    drv.dv_errno = ENODATA;
    video(f);
    expect(f, "signal", HEALTH_OK, "no DV timings");
    /* no CSI-2 link to fit behind vivid */
    drv.dv_errno = 0;
    set_dv(1920, 1080, 148500000, 2200, 1125);
    in_root(f, "echo vivid-000-vid-cap > sys/class/video4linux/video0/name && mkdir -p sys/bus/platform/drivers/vivid && "
               "ln -sfn ../../../bus/platform/drivers/vivid sys/devices/platform/fe801000.csi/driver");
    video(f);
    expect(f, "signal", HEALTH_OK, "1920x1080p60, pixel clock 148.50 MHz");
    assert_null(strstr(health_find(&f->r, "signal")->text, "CSI-2"));
    /* a missing device is the capture line's to report */
    in_root(f, "rm dev/video0");
    video(f);
    assert_int_equal(f->r.n, 0);
}

static void atx(struct fixture *f)
{
    f->r.n = 0;
    health_check_atx_lines(&f->r, &f->env, &f->cfg.atx);
}

static void test_atx_lines(void **state)
{
    struct fixture *f = *state;
    atx(f);
    expect(f, "atx-lines", HEALTH_OK, "3 configured lines within pinctrl-bcm2711's 58; the power LED reads lit");
    drv.led_value = 0;
    atx(f);
    expect(f, "atx-lines", HEALTH_OK, "the power LED reads dark (the server is off or in standby)");
    drv.line_consumer = "piglix-atx";
    atx(f);
    expect(f, "atx-lines", HEALTH_OK, "power LED held by the running piglix");
    drv.line_consumer = "sysfs";
    atx(f);
    expect(f, "atx-lines", HEALTH_OK, "held by \"sysfs\", not piglix");
    f->cfg.atx.reset_button_line = 60;
    atx(f);
    expect(f, "atx-lines", HEALTH_PROBLEM, "has lines 0-57 only: no reset_button_line = 60");
    f->cfg.atx.power_led_line = f->cfg.atx.power_button_line = f->cfg.atx.reset_button_line = -1;
    atx(f);
    expect(f, "atx-lines", HEALTH_WARNING, "no line is wired");
    /* a missing chip is the atx line's to report */
    in_root(f, "rm dev/gpiochip0");
    snprintf(f->cfg.atx.chip, sizeof(f->cfg.atx.chip), "gpiochip0");
    atx(f);
    assert_int_equal(f->r.n, 0);
}

static void test_mass_storage(void **state)
{
    struct fixture *f = *state;
    health_check_mass_storage(&f->r, &f->env, &f->cfg.hid, &f->cfg.vmedia);
    expect(f, "mass-storage", HEALTH_OK, "USB CD-ROM mass_storage.usb0 in the gadget, holding debian-12.iso");
    in_root(f, "rm config/usb_gadget/piglix/configs/c.1/usb0");
    f->r.n = 0;
    health_check_mass_storage(&f->r, &f->env, &f->cfg.hid, &f->cfg.vmedia);
    expect(f, "mass-storage", HEALTH_WARNING, "no mass-storage function");
    snprintf(f->cfg.vmedia.usb, sizeof(f->cfg.vmedia.usb), "mounted");
    f->r.n = 0;
    health_check_mass_storage(&f->r, &f->env, &f->cfg.hid, &f->cfg.vmedia);
    expect(f, "mass-storage", HEALTH_OK, "comes when an image is mounted");
}

/* A certificate valid from now+from_s to now+to_s, self-signed or signed by
 * a CA of another name. */
static void make_cert(const char *path, long from_s, long to_s, bool self_signed)
{
    EVP_PKEY *key = EVP_EC_gen("P-256");
    assert_non_null(key);
    X509 *x = X509_new();
    X509_set_version(x, 2);
    ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
    X509_gmtime_adj(X509_getm_notBefore(x), from_s);
    X509_gmtime_adj(X509_getm_notAfter(x), to_s);
    X509_NAME_add_entry_by_txt(X509_get_subject_name(x), "CN", MBSTRING_ASC, (const unsigned char *)"piglix", -1,
                               -1, 0);
    X509_NAME_add_entry_by_txt(X509_get_issuer_name(x), "CN", MBSTRING_ASC,
                               (const unsigned char *)(self_signed ? "piglix" : "Example CA"), -1, -1, 0);
    X509_set_pubkey(x, key);
    assert_true(X509_sign(x, key, EVP_sha256()) > 0);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    assert_int_equal(PEM_write_X509(f, x), 1);
    fclose(f);
    X509_free(x);
    EVP_PKEY_free(key);
}

static void cert(struct fixture *f, long from_s, long to_s, bool self_signed)
{
    char path[256];
    snprintf(path, sizeof(path), "%s/web-cert.pem", f->cfg.state.dir);
    make_cert(path, from_s, to_s, self_signed);
    f->r.n = 0;
    health_check_certificate(&f->r, &f->cfg.web, &f->cfg.state);
}

static void test_certificate(void **state)
{
    struct fixture *f = *state;
    const long day = 86400;
    health_check_certificate(&f->r, &f->cfg.web, &f->cfg.state);
    expect(f, "certificate", HEALTH_OK, "piglix makes a self-signed one at its first start");
    cert(f, -day, 400 * day - 3600, false);
    expect(f, "certificate", HEALTH_OK, "valid 399 more days");
    cert(f, -day, 400 * day - 3600, true);
    expect(f, "certificate", HEALTH_WARNING, "is self-signed (valid 399 more days)");
    cert(f, -day, 10 * day + 60, false);
    expect(f, "certificate", HEALTH_WARNING, "expires in 10 days: renew it");
    cert(f, -day, 10 * day + 60, true);
    expect(f, "certificate", HEALTH_WARNING, "delete it and restart piglix for a new one");
    cert(f, -10 * day, -3 * day - 60, false);
    expect(f, "certificate", HEALTH_PROBLEM, "expired 3 days ago");
    cert(f, 2 * day, 400 * day, false);
    expect(f, "certificate", HEALTH_PROBLEM, "not valid yet");
    in_root(f, "echo garbage > state/web-cert.pem");
    f->r.n = 0;
    health_check_certificate(&f->r, &f->cfg.web, &f->cfg.state);
    expect(f, "certificate", HEALTH_PROBLEM, "holds no PEM certificate");
}

static void test_ports(void **state)
{
    struct fixture *f = *state;
    /* something listening on the web port; nothing on the VNC one */
    int s = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(s >= 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof(a);
    assert_int_equal(bind(s, (struct sockaddr *)&a, sizeof(a)), 0);
    assert_int_equal(listen(s, 4), 0);
    assert_int_equal(getsockname(s, (struct sockaddr *)&a, &len), 0);
    snprintf(f->cfg.web.listen, sizeof(f->cfg.web.listen), "127.0.0.1");
    f->cfg.web.port = ntohs(a.sin_port);
    snprintf(f->cfg.vnc.listen, sizeof(f->cfg.vnc.listen), "0.0.0.0");
    f->cfg.vnc.port = ntohs(a.sin_port) == 65535 ? 65534 : ntohs(a.sin_port) + 1;
    health_check_ports(&f->r, &f->env, &f->cfg.vnc, &f->cfg.web, &f->cfg.ipmi, &f->cfg.state);
    /* no VNC password: its port is closed by design */
    expect(f, "ports", HEALTH_OK, "not listening (before login: the RFB version and VncAuth); HTTPS tcp 127.0.0.1:");
    expect(f, "ports", HEALTH_OK, "(before login: the login and set-up pages, /redfish/v1's root)");
    in_root(f, "printf x > state/vnc.passwd");
    f->r.n = 0;
    health_check_ports(&f->r, &f->env, &f->cfg.vnc, &f->cfg.web, &f->cfg.ipmi, &f->cfg.state);
    expect(f, "ports", HEALTH_WARNING, "is the piglix service running");
    f->cfg.vnc.enabled = false;
    f->cfg.ipmi.enabled = true;
    f->r.n = 0;
    health_check_ports(&f->r, &f->env, &f->cfg.vnc, &f->cfg.web, &f->cfg.ipmi, &f->cfg.state);
    expect(f, "ports", HEALTH_OK, "IPMI udp 0.0.0.0:623 (before login: RMCP+ session set-up)");
    close(s);
    f->cfg.web.enabled = f->cfg.ipmi.enabled = false;
    f->r.n = 0;
    health_check_ports(&f->r, &f->env, &f->cfg.vnc, &f->cfg.web, &f->cfg.ipmi, &f->cfg.state);
    expect(f, "ports", HEALTH_WARNING, "no port is open");
}

/* The Pi of the fixture with everything checked, as `piglix doctor` runs
 * them (app/doctor.c): what deploy/INSTALL.md quotes. Only the clock (this
 * machine's) and the ports (nothing listens) may differ from ok. */
static void test_pi_report(void **state)
{
    struct fixture *f = *state;
    snprintf(f->cfg.vmedia.dir, sizeof(f->cfg.vmedia.dir), "%s", f->root);
    in_root(f, "printf x > state/vnc.passwd && printf '# piglix\\nadmin:x\\n' > state/web.users");
    f->cfg.web.port = 1; /* nothing listens there */
    f->cfg.vnc.port = 2;
    struct health_report *r = &f->r;
    health_check_capture(r, &f->env, &f->cfg.capture);
    health_check_video(r, &f->env, &f->cfg.capture);
    health_check_cma(r, &f->env, &f->cfg.capture);
    health_check_usb(r, &f->env, &f->cfg.hid);
    health_check_mass_storage(r, &f->env, &f->cfg.hid, &f->cfg.vmedia);
    health_check_atx(r, &f->env, &f->cfg.atx);
    health_check_atx_lines(r, &f->env, &f->cfg.atx);
    health_check_state(r, &f->env, &f->cfg.state);
    health_check_vnc_password(r, &f->env, &f->cfg.state, &f->cfg.vnc);
    health_check_web_accounts(r, &f->env, &f->cfg.state, &f->cfg.web);
    health_check_certificate(r, &f->cfg.web, &f->cfg.state);
    health_check_memory(r, &f->env);
    health_check_temperature(r, &f->env);
    health_print(r, stdout);
    for (int i = 0; i < r->n; i++)
        if (r->checks[i].status != HEALTH_OK)
            fail_msg("%s: %s", r->checks[i].name, r->checks[i].text);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_edid, setup, teardown),
        cmocka_unit_test_setup_teardown(test_edid_parse, setup, teardown),
        cmocka_unit_test_setup_teardown(test_signal, setup, teardown),
        cmocka_unit_test_setup_teardown(test_atx_lines, setup, teardown),
        cmocka_unit_test_setup_teardown(test_mass_storage, setup, teardown),
        cmocka_unit_test_setup_teardown(test_certificate, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ports, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pi_report, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
