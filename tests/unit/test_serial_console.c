/* Unit tests for serial/serial: the console on a real kernel pty (the
 * master plays the server). Output reaches readers and the log, keys reach
 * the server, a watcher is woken, the transmit queue stays bounded when the
 * server stops reading, and the device going away (the master closed, its
 * path gone) and coming back is seen and survived. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pty.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/config.h"
#include "serial/serial.h"
#include "tests/support/tmpdir.h"

static char dir[64], link_path[128];

static void cfg_init(struct config_serial *cfg)
{
    memset(cfg, 0, sizeof(*cfg));
    cfg->enabled = true;
    snprintf(cfg->device, sizeof(cfg->device), "%s", link_path);
    cfg->baud = 115200;
    cfg->data_bits = 8;
    snprintf(cfg->parity, sizeof(cfg->parity), "none");
    cfg->stop_bits = 1;
    snprintf(cfg->flow, sizeof(cfg->flow), "none");
    cfg->log_kb = 64;
    cfg->log_files = 1;
    cfg->backlog_kb = 4;
}

/* A pty whose slave the link points at; returns the master. */
static int plug(void)
{
    int m, s;
    char name[64];
    assert_int_equal(openpty(&m, &s, name, NULL, NULL), 0);
    close(s);   /* piglix opens it by its path */
    unlink(link_path);
    assert_int_equal(symlink(name, link_path), 0);
    return m;
}

static int setup(void **state)
{
    (void)state;
    snprintf(dir, sizeof(dir), "/tmp/piglix-serial-XXXXXX");
    if (!mkdtemp(dir))
        return -1;
    snprintf(link_path, sizeof(link_path), "%s/tty", dir);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    return test_tmpdir_remove(dir) == 0 ? 0 : -1;
}

static bool wait_connected(struct serial_console *c, bool want)
{
    for (int i = 0; i < 400; i++) {
        struct serial_status st;
        serial_get_status(c, &st);
        if (st.connected == want)
            return true;
        usleep(10000);
    }
    return false;
}

/* Reads from the console until want has arrived (3 s at most). */
static bool read_until(struct serial_console *c, uint64_t *pos, const char *want)
{
    char got[8192] = "";
    size_t have = 0;
    for (int i = 0; i < 300; i++) {
        have += serial_read(c, pos, (uint8_t *)got + have, sizeof(got) - 1 - have, NULL);
        got[have] = '\0';
        if (strstr(got, want))
            return true;
        usleep(10000);
    }
    return false;
}

static bool master_read_until(int m, const char *want)
{
    char got[4096] = "";
    size_t have = 0;
    struct pollfd p = {.fd = m, .events = POLLIN};
    while (poll(&p, 1, 3000) == 1) {
        ssize_t n = read(m, got + have, sizeof(got) - 1 - have);
        if (n <= 0)
            return false;
        have += (size_t)n;
        got[have] = '\0';
        if (strstr(got, want))
            return true;
    }
    return false;
}

static atomic_int woken;
static void on_watch(void *ctx)
{
    (void)ctx;
    atomic_fetch_add(&woken, 1);
}

static void test_both_ways_and_log(void **state)
{
    (void)state;
    int m = plug();
    struct config_serial cfg;
    cfg_init(&cfg);
    char err[256];
    struct serial_console *c = serial_start(&cfg, dir, err, sizeof(err));
    assert_non_null(c);
    struct serial_watch *w = serial_watch(c, on_watch, NULL);
    assert_true(wait_connected(c, true));
    struct serial_status st;
    serial_get_status(c, &st);
    assert_string_equal(st.framing, "8N1");
    assert_int_equal(st.baud, 115200);

    uint64_t pos = serial_backlog_pos(c, 4096);
    assert_int_equal(write(m, "BIOS\r\nlogin: ", 13), 13);
    assert_true(read_until(c, &pos, "login: "));
    for (int i = 0; i < 300 && atomic_load(&woken) == 0; i++)
        usleep(10000);      /* the watcher runs just after the ring has the bytes */
    assert_true(atomic_load(&woken) > 0);

    /* Keys, Ctrl-C included, arrive as typed (raw mode: no echo back). */
    assert_int_equal(serial_write(c, (const uint8_t *)"root\r\x03", 6), 6);
    assert_true(master_read_until(m, "root\r\x03"));
    assert_int_equal(serial_send_break(c), 0);

    /* A reader that connects later sees the last screenful. */
    uint64_t late = serial_backlog_pos(c, 7);
    uint8_t buf[16];
    assert_int_equal(serial_read(c, &late, buf, sizeof(buf), NULL), 7);
    assert_memory_equal(buf, "login: ", 7);

    serial_unwatch(c, w);
    /* The counter moves just after the write the master already read. */
    for (int i = 0; i < 300; i++) {
        serial_get_status(c, &st);
        if (st.tx_bytes == 6)
            break;
        usleep(10000);
    }
    assert_int_equal(st.rx_bytes, 13);
    assert_int_equal(st.tx_bytes, 6);
    serial_stop(c);
    close(m);

    char p[256];
    snprintf(p, sizeof(p), "%s/serial/console.log", dir);
    FILE *f = fopen(p, "r");
    assert_non_null(f);
    char line[256];
    assert_non_null(fgets(line, sizeof(line), f));
    assert_string_equal(line + 25, "BIOS\r\n");
    assert_non_null(fgets(line, sizeof(line), f));
    assert_string_equal(line + 25, "login: ");
    fclose(f);
}

static void test_unplug_and_back(void **state)
{
    (void)state;
    int m = plug();
    struct config_serial cfg;
    cfg_init(&cfg);
    char err[256];
    struct serial_console *c = serial_start(&cfg, dir, err, sizeof(err));
    assert_non_null(c);
    assert_true(wait_connected(c, true));
    close(m);                   /* the adapter is pulled: EIO/HUP, then its path is gone */
    unlink(link_path);
    assert_true(wait_connected(c, false));
    struct serial_status st;
    serial_get_status(c, &st);
    assert_true(st.why[0] != '\0');
    assert_int_equal(serial_write(c, (const uint8_t *)"x", 1), -1);
    assert_int_equal(serial_send_break(c), -1);
    for (int i = 0; i < 300; i++) {     /* a retry finds the path gone */
        serial_get_status(c, &st);
        if (strstr(st.why, "no such device"))
            break;
        usleep(10000);
    }
    assert_false(st.connected);
    assert_non_null(strstr(st.why, "no such device"));

    m = plug();                 /* back */
    assert_true(wait_connected(c, true));
    serial_get_status(c, &st);
    assert_int_equal(st.reconnects, 1);
    uint64_t pos = serial_backlog_pos(c, 0);
    assert_int_equal(write(m, "again\n", 6), 6);
    assert_true(read_until(c, &pos, "again"));
    assert_int_equal(serial_write(c, (const uint8_t *)"k", 1), 1);
    assert_true(master_read_until(m, "k"));
    serial_stop(c);
    close(m);
}

/* serial_hold (the gadget's ACM function is about to be removed) returns
 * with the tty really closed, which the master sees as a hangup at once;
 * held, the console does not reopen it on its 1 s retry; released, it does.
 * With device = gadget it starts held, waiting for the gadget. */
static void test_hold_and_release(void **state)
{
    (void)state;
    int m = plug();
    struct config_serial cfg;
    cfg_init(&cfg);
    char err[256];
    struct serial_console *c = serial_start(&cfg, dir, err, sizeof(err));
    assert_non_null(c);
    assert_true(wait_connected(c, true));
    assert_int_equal(serial_write(c, (const uint8_t *)"queued", 6), 6);
    serial_hold(c);
    struct pollfd p = {.fd = m, .events = POLLIN};
    char junk[64];
    while (poll(&p, 1, 0) == 1 && !(p.revents & POLLHUP) && read(m, junk, sizeof(junk)) > 0)
        ;   /* what was written before the hold may still be there */
    assert_true(p.revents & POLLHUP);
    struct serial_status st;
    serial_get_status(c, &st);
    assert_false(st.connected);
    usleep(1500 * 1000);        /* longer than the retry */
    serial_get_status(c, &st);
    assert_false(st.connected);
    assert_int_equal(st.reconnects, 0);
    serial_hold(c);             /* again: already closed, returns at once */
    serial_release(c);
    assert_true(wait_connected(c, true));
    serial_get_status(c, &st);
    assert_int_equal(st.reconnects, 1);
    assert_int_equal(serial_write(c, (const uint8_t *)"k", 1), 1);
    assert_true(master_read_until(m, "k"));
    serial_stop(c);
    close(m);

    snprintf(cfg.device, sizeof(cfg.device), "gadget");
    c = serial_start(&cfg, dir, err, sizeof(err));
    assert_non_null(c);
    for (int i = 0; i < 300; i++) {
        serial_get_status(c, &st);
        if (strstr(st.why, "waiting for the USB gadget"))
            break;
        usleep(10000);
    }
    assert_string_equal(st.device, "/dev/ttyGS0");
    assert_non_null(strstr(st.why, "waiting for the USB gadget"));
    serial_stop(c);
}

/* A server that stopped reading: writes are accepted up to the queue and
 * the pty's buffer, then refused (0), without blocking. */
static void test_bounded_transmit(void **state)
{
    (void)state;
    int m = plug();
    struct config_serial cfg;
    cfg_init(&cfg);
    char err[256];
    struct serial_console *c = serial_start(&cfg, dir, err, sizeof(err));
    assert_non_null(c);
    assert_true(wait_connected(c, true));
    uint8_t junk[1024];
    memset(junk, 'z', sizeof(junk));
    size_t total = 0;
    int zero_in_a_row = 0;
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (int i = 0; i < 2000 && zero_in_a_row < 50; i++) {
        ssize_t n = serial_write(c, junk, sizeof(junk));
        assert_true(n >= 0);
        total += (size_t)n;
        zero_in_a_row = n == 0 ? zero_in_a_row + 1 : 0;
        usleep(1000);
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    assert_int_equal(zero_in_a_row, 50);
    assert_true(total < 1024 * 1024);
    assert_true(t1.tv_sec - t0.tv_sec < 10);
    serial_stop(c);
    close(m);
}

static void test_bad_settings(void **state)
{
    (void)state;
    struct config_serial cfg;
    cfg_init(&cfg);
    char err[256];
    cfg.baud = 12345;
    assert_null(serial_start(&cfg, dir, err, sizeof(err)));
    assert_non_null(strstr(err, "baud"));
    cfg_init(&cfg);
    snprintf(cfg.device, sizeof(cfg.device), "ttyUSB0");
    assert_null(serial_start(&cfg, dir, err, sizeof(err)));
    /* A missing device is not fatal: it is retried and reported. */
    cfg_init(&cfg);
    snprintf(cfg.device, sizeof(cfg.device), "%s/none", dir);
    struct serial_console *c = serial_start(&cfg, dir, err, sizeof(err));
    assert_non_null(c);
    usleep(100 * 1000);
    struct serial_status st;
    serial_get_status(c, &st);
    assert_false(st.connected);
    serial_stop(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_both_ways_and_log, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unplug_and_back, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bounded_transmit, setup, teardown),
        cmocka_unit_test_setup_teardown(test_hold_and_release, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_settings, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
