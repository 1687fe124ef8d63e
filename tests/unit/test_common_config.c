#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "common/config.h"

static char errbuf[4096];

static int load_text(struct piglix_config *cfg, const char *text)
{
    FILE *in = fmemopen((void *)text, strlen(text), "r");
    FILE *err = fmemopen(errbuf, sizeof(errbuf), "w");
    memset(errbuf, 0, sizeof(errbuf));
    int r = config_load_stream(cfg, in, "t.ini", err);
    fclose(in);
    fclose(err);
    return r;
}

static void test_defaults(void **state)
{
    (void)state;
    struct piglix_config c;
    config_defaults(&c);
    assert_string_equal(c.capture.source, "test");
    assert_int_equal(c.capture.width, 1920);
    assert_int_equal(c.capture.height, 1080);
    assert_int_equal(c.capture.fps, 30);
    assert_string_equal(c.capture.scenario, "bios");
    assert_int_equal(c.vnc.port, 5900);
    assert_string_equal(c.vnc.auth, "vnc");
    assert_string_equal(c.state.dir, "/var/lib/piglix");
}

static void test_load_values(void **state)
{
    (void)state;
    struct piglix_config c;
    config_defaults(&c);
    assert_int_equal(load_text(&c, "[capture]\nwidth = 1280\nheight=720\nscenario = motion\n"
                                   "[vnc]\nport = 5901\n[state]\ndir = /tmp/x\n"), 0);
    assert_int_equal(c.capture.width, 1280);
    assert_int_equal(c.capture.height, 720);
    assert_string_equal(c.capture.scenario, "motion");
    assert_int_equal(c.vnc.port, 5901);
    assert_string_equal(c.state.dir, "/tmp/x");
}

static void test_unknown_key_names_line(void **state)
{
    (void)state;
    struct piglix_config c;
    config_defaults(&c);
    assert_int_equal(load_text(&c, "[vnc]\nport = 5900\n\nprot = 1\n"), -1);
    assert_non_null(strstr(errbuf, "t.ini:4"));
    assert_non_null(strstr(errbuf, "prot"));
}

static void test_bad_values(void **state)
{
    (void)state;
    struct piglix_config c;
    config_defaults(&c);
    assert_int_equal(load_text(&c, "[vnc]\nport = 70000\n"), -1);
    assert_non_null(strstr(errbuf, "t.ini:2"));
    assert_non_null(strstr(errbuf, "port"));
    assert_int_equal(load_text(&c, "[capture]\nscenario = nope\n"), -1);
    assert_non_null(strstr(errbuf, "scenario"));
    assert_int_equal(load_text(&c, "[capture]\nfps = 3x\n"), -1);
    assert_int_equal(load_text(&c, "[video]\nquality_qp = 9\n"), -1); /* 10..40 */
    assert_non_null(strstr(errbuf, "quality_qp"));
    assert_int_equal(load_text(&c, "[nosuch]\na = b\n"), -1);
    assert_non_null(strstr(errbuf, "nosuch"));
    assert_int_equal(load_text(&c, "just garbage\n"), -1);
    assert_non_null(strstr(errbuf, "t.ini:1"));
    /* every error is reported, not just the first */
    assert_int_equal(load_text(&c, "[vnc]\nport = 0\nauth = maybe\n"), -1);
    assert_non_null(strstr(errbuf, "port"));
    assert_non_null(strstr(errbuf, "auth"));
}

static void test_overrides(void **state)
{
    (void)state;
    struct piglix_config c;
    config_defaults(&c);
    FILE *err = fmemopen(errbuf, sizeof(errbuf), "w");
    assert_int_equal(config_set_override(&c, "capture.fps=15", err), 0);
    assert_int_equal(c.capture.fps, 15);
    assert_int_equal(config_set_override(&c, "capture.fps", err), -1);
    assert_int_equal(config_set_override(&c, "fps=15", err), -1);
    assert_int_equal(config_set_override(&c, "vnc.nokey=1", err), -1);
    fclose(err);
}

static void test_auth_none_needs_loopback(void **state)
{
    (void)state;
    struct piglix_config c;
    config_defaults(&c);
    FILE *err = fopen("/dev/null", "w");
    strcpy(c.vnc.auth, "none");
    assert_int_equal(config_validate(&c, err), -1);
    strcpy(c.vnc.listen, "127.0.0.1");
    assert_int_equal(config_validate(&c, err), 0);
    strcpy(c.vnc.listen, "::1");
    assert_int_equal(config_validate(&c, err), 0);
    strcpy(c.vnc.listen, "0.0.0.0");
    assert_int_equal(config_validate(&c, err), -1);
    fclose(err);
}

static void test_serial_gadget_needs_hid(void **state)
{
    (void)state;
    struct piglix_config c;
    config_defaults(&c);
    FILE *err = fopen("/dev/null", "w");
    c.serial.enabled = true;
    strcpy(c.serial.device, "gadget");
    assert_int_equal(config_validate(&c, err), -1);
    c.hid.enabled = true;
    assert_int_equal(config_validate(&c, err), 0);
    c.hid.enabled = false;
    strcpy(c.serial.device, "/dev/ttyUSB0");
    assert_int_equal(config_validate(&c, err), 0);
    fclose(err);
}

static void test_handshake_pool(void **state)
{
    (void)state;
    struct piglix_config c;
    config_defaults(&c);
    assert_int_equal(c.vnc.max_pending, 32);
    assert_int_equal(c.vnc.max_pending_per_addr, 4);
    assert_int_equal(c.vnc.handshake_timeout_s, 10);
    FILE *err = fopen("/dev/null", "w");
    assert_int_equal(config_validate(&c, err), 0);
    c.vnc.max_pending_per_addr = 33;
    assert_int_equal(config_validate(&c, err), -1);
    fclose(err);
}

static void test_print_roundtrip(void **state)
{
    (void)state;
    struct piglix_config a, b;
    config_defaults(&a);
    a.capture.width = 1366;
    strcpy(a.capture.scenario, "desktop");
    char *text = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&text, &len);
    config_print(&a, out);
    fclose(out);
    config_defaults(&b);
    assert_int_equal(load_text(&b, text), 0);
    assert_memory_equal(&a, &b, sizeof(a));
    free(text);
}

static void test_shipped_example_loads(void **state)
{
    (void)state;
    struct piglix_config a, b;
    config_defaults(&a);
    config_defaults(&b);
    FILE *err = fmemopen(errbuf, sizeof(errbuf), "w");
    assert_int_equal(config_load_file(&a, PIGLIX_SOURCE_DIR "/deploy/piglix.ini", err), 0);
    fclose(err);
    /* the example documents the defaults */
    assert_memory_equal(&a, &b, sizeof(a));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_load_values),
        cmocka_unit_test(test_unknown_key_names_line),
        cmocka_unit_test(test_bad_values),
        cmocka_unit_test(test_overrides),
        cmocka_unit_test(test_auth_none_needs_loopback),
        cmocka_unit_test(test_handshake_pool),
        cmocka_unit_test(test_serial_gadget_needs_hid),
        cmocka_unit_test(test_print_roundtrip),
        cmocka_unit_test(test_shipped_example_loads),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
