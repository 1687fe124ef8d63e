/* Unit tests for the atx API without GPIO hardware: the thread, requests and
 * their refusals, the status record, change notification, names; the one
 * action that needs no GPIO (Wake-on-LAN) goes to a loopback socket. The
 * GPIO side runs against a simulated board in tests/vm/test_atx.py. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "atx/atx.h"
#include "common/config.h"

static struct piglix_config cfg;

static int udp_listener(int *port)
{
    int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    assert_true(fd >= 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
    socklen_t len = sizeof(a);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &len), 0);
    *port = ntohs(a.sin_port);
    return fd;
}

static struct atx *start_wol_only(int port)
{
    config_defaults(&cfg);
    assert_int_equal(config_set(&cfg, "atx", "chip", "", "test", stderr), 0);
    assert_int_equal(config_set(&cfg, "atx", "wol_mac", "02:00:00:aa:bb:cc", "test", stderr), 0);
    assert_int_equal(config_set(&cfg, "atx", "wol_address", "127.0.0.1", "test", stderr), 0);
    char p[16];
    snprintf(p, sizeof(p), "%d", port);
    assert_int_equal(config_set(&cfg, "atx", "wol_port", p, "test", stderr), 0);
    assert_int_equal(config_validate(&cfg, stderr), 0);
    struct atx *atx = atx_start(&cfg.atx);
    assert_non_null(atx);
    return atx;
}

static void test_wol_through_the_thread(void **state)
{
    (void)state;
    int port;
    int fd = udp_listener(&port);
    struct atx *atx = start_wol_only(port);
    struct atx_status st;
    atx_get_status(atx, &st);
    assert_false(st.gpio);
    assert_true(st.wol);
    assert_false(st.busy);
    assert_int_equal(st.power, ATX_POWER_UNKNOWN);
    assert_int_equal(st.last.id, 0);

    /* GPIO actions are not configured; bad requests are refused */
    assert_int_equal(atx_request(atx, ATX_ACTION_ON, "tester", NULL), ATX_ERR_UNSUPPORTED);
    assert_int_equal(atx_request(atx, ATX_ACTION_RESET, "tester", NULL), ATX_ERR_UNSUPPORTED);
    assert_int_equal(atx_request(atx, ATX_ACTION_WOL, "", NULL), ATX_ERR_INVALID);
    assert_int_equal(atx_request(atx, ATX_ACTION_WOL, NULL, NULL), ATX_ERR_INVALID);
    assert_int_equal(atx_request(atx, (enum atx_action)99, "tester", NULL), ATX_ERR_INVALID);

    uint64_t gen = st.generation, id = 0;
    assert_int_equal(atx_request(atx, ATX_ACTION_WOL, "web:alice@\"10.0.0.1\"\n", &id), ATX_OK);
    assert_int_equal(id, 1);
    /* the notify fd becomes readable */
    struct pollfd p = {.fd = atx_notify_fd(atx), .events = POLLIN};
    assert_int_equal(poll(&p, 1, 2000), 1);
    atx_get_status(atx, &st);
    while (st.last.id < id) {
        uint64_t now = atx_wait_change(atx, st.generation, 2000);
        assert_true(now != st.generation);
        atx_get_status(atx, &st);
    }
    assert_true(st.generation > gen);
    assert_false(st.busy);
    assert_int_equal(st.last.action, ATX_ACTION_WOL);
    assert_int_equal(st.last.outcome, ATX_OUTCOME_SENT);
    assert_string_equal(st.last.who, "web:alice@?10.0.0.1??"); /* quotes and control bytes replaced */
    assert_true(st.last.finished_ms >= st.last.started_ms);
    assert_non_null(strstr(st.last.detail, "02:00:00:aa:bb:cc"));

    uint8_t got[200];
    struct pollfd q = {.fd = fd, .events = POLLIN};
    assert_int_equal(poll(&q, 1, 2000), 1);
    assert_int_equal(recv(fd, got, sizeof(got), 0), 102);
    assert_int_equal(got[0], 0xff);
    assert_int_equal(got[6], 0x02);
    assert_int_equal(got[101], 0xcc);

    char line[1024];
    assert_true(atx_status_format(&st, line, sizeof(line)) > 0);
    assert_non_null(strstr(line, "power=unknown"));
    assert_non_null(strstr(line, "last=wol last_id=1"));
    assert_non_null(strstr(line, "last_outcome=sent"));

    /* nothing changes: the wait times out with the same generation */
    atx_get_status(atx, &st);
    assert_int_equal(atx_wait_change(atx, st.generation, 50), st.generation);
    atx_stop(atx);
    close(fd);
}

static void test_long_who_is_cut(void **state)
{
    (void)state;
    int port;
    int fd = udp_listener(&port);
    struct atx *atx = start_wol_only(port);
    char who[200];
    memset(who, 'x', sizeof(who) - 1);
    who[sizeof(who) - 1] = '\0';
    uint64_t id;
    assert_int_equal(atx_request(atx, ATX_ACTION_WOL, who, &id), ATX_OK);
    struct atx_status st;
    atx_get_status(atx, &st);
    if (st.busy)
        assert_int_equal(strlen(st.current.who), ATX_WHO_MAX - 1);
    atx_stop(atx); /* also fine while an action may still be running */
    close(fd);
}

static void test_no_gpio_no_wol(void **state)
{
    (void)state;
    config_defaults(&cfg);
    assert_int_equal(config_set(&cfg, "atx", "chip", "", "test", stderr), 0);
    struct atx *atx = atx_start(&cfg.atx);
    assert_non_null(atx);
    assert_int_equal(atx_request(atx, ATX_ACTION_WOL, "tester", NULL), ATX_ERR_UNSUPPORTED);
    assert_int_equal(atx_request(atx, ATX_ACTION_FORCE_OFF, "tester", NULL), ATX_ERR_UNSUPPORTED);
    atx_stop(atx);
    atx_stop(NULL);
}

/* A chip that is not there is waited for (tests/vm/test_doctor.py loads
 * one later): atx runs, without buttons until then. */
static void test_missing_chip_waits(void **state)
{
    (void)state;
    config_defaults(&cfg);
    assert_int_equal(config_set(&cfg, "atx", "chip", "/nonexistent/gpiochip9", "test", stderr), 0);
    struct atx *atx = atx_start(&cfg.atx);
    assert_non_null(atx);
    struct atx_status st;
    atx_get_status(atx, &st);
    assert_false(st.gpio);
    assert_false(st.power_button_wired);
    assert_int_equal(atx_request(atx, ATX_ACTION_ON, "tester", NULL), ATX_ERR_UNSUPPORTED);
    atx_stop(atx);
}

static void test_names(void **state)
{
    (void)state;
    for (int a = 0; a < ATX_ACTION_COUNT; a++)
        assert_int_equal(atx_action_parse(atx_action_name(a)), a);
    assert_int_equal(atx_action_parse("force_off"), ATX_ACTION_FORCE_OFF);
    assert_int_equal(atx_action_parse("power-cycle"), ATX_ACTION_CYCLE);
    assert_int_equal(atx_action_parse("status"), -1);
    assert_int_equal(atx_action_parse(""), -1);
    assert_string_equal(atx_power_name(ATX_POWER_STANDBY), "standby");
    assert_string_equal(atx_error_name(ATX_ERR_BUSY), "busy");
    assert_string_equal(atx_outcome_name(ATX_OUTCOME_SUPERSEDED), "superseded");
    assert_string_equal(atx_action_name((enum atx_action)42), "invalid");

    struct atx_status st = {.power = ATX_POWER_ON, .power_led_wired = true, .power_led = true,
                            .busy = true};
    st.current = (struct atx_action_record){.id = 7, .action = ATX_ACTION_OFF, .outcome = ATX_OUTCOME_RUNNING};
    snprintf(st.current.who, sizeof(st.current.who), "bob");
    char small[16];
    int n = atx_status_format(&st, small, sizeof(small));
    assert_true(n > (int)sizeof(small)); /* says how long it would be, like snprintf */
    assert_int_equal(strlen(small), sizeof(small) - 1);
    char line[1024];
    atx_status_format(&st, line, sizeof(line));
    assert_non_null(strstr(line, "power=on power_led=on hdd_led=none"));
    assert_non_null(strstr(line, "busy=yes current=off current_id=7 current_by=\"bob\""));
    assert_non_null(strstr(line, "last=none"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_wol_through_the_thread),
        cmocka_unit_test(test_long_who_is_cut),
        cmocka_unit_test(test_no_gpio_no_wol),
        cmocka_unit_test(test_missing_chip_waits),
        cmocka_unit_test(test_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
