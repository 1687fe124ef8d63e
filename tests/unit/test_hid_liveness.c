/* HID's device writer under the watchdog (common/liveness.h): the real
 * writer thread, frozen through the test build's hook, starves systemd's
 * watchdog (a datagram socket stands in for it) and is named in the log;
 * thawed, the watchdog is fed again. (The e2e test freezes every other
 * thread in a running daemon; this one needs a USB device controller there,
 * so here it runs on a device whose host is away, as when the cable is
 * out: its loop still turns.) */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/clock.h"
#include "common/liveness.h"
#include "hid/hid.h"
#include "tests/support/notify_sink.h"

static int away_open(void *ctx, enum hid_endpoint ep)
{
    return -ENODEV;
}

static bool away_ready(void *ctx, char *state, size_t n)
{
    snprintf(state, n, "not attached");
    return false;
}

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "we");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static int count_in_file(const char *path, const char *what)
{
    static char buf[65536];
    FILE *f = fopen(path, "re");
    assert_non_null(f);
    size_t n = fread(buf, 1, sizeof(buf) - 1, f);
    fclose(f);
    buf[n] = '\0';
    int count = 0;
    for (const char *p = buf; (p = strstr(p, what)); p++)
        count++;
    return count;
}

static void test_frozen_writer_starves_the_watchdog(void **state)
{
    char sock_path[108], freeze[64], log_path[64];
    snprintf(freeze, sizeof(freeze), "/tmp/piglix-hid-freeze-%d", (int)getpid());
    snprintf(log_path, sizeof(log_path), "/tmp/piglix-hid-log-%d", (int)getpid());
    int fd = notify_sink_open("hid", sock_path, sizeof(sock_path));
    assert_true(fd >= 0);
    setenv("WATCHDOG_USEC", "300000", 1);
    unsetenv("WATCHDOG_PID");
    write_file(freeze, "");
    setenv("PIGLIX_TEST_FREEZE", freeze, 1);
    /* the log (stderr) into a file */
    fflush(stderr);
    int saved = dup(STDERR_FILENO);
    int lfd = open(log_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    assert_true(lfd >= 0);
    dup2(lfd, STDERR_FILENO);
    close(lfd);

    liveness_set_deadline_ms(600);
    assert_int_equal(liveness_watchdog_start(), 0);
    struct hid_device_params p = {.io = {.open = away_open, .host_ready = away_ready},
                                  .present = {true, true, true}, .layout = hid_layout_find("us")};
    struct hid_device *d = hid_device_create(&p);
    assert_non_null(d);
    assert_true(notify_sink_kicks(fd, 700) >= 3); /* all well */

    write_file(freeze, "hid\n");
    notify_sink_kicks(fd, 600 + 500 + 200); /* the next beat freezes it; its deadline passes */
    assert_int_equal(notify_sink_kicks(fd, 500), 0);
    fflush(stderr);
    assert_int_equal(count_in_file(log_path, "thread hid is wedged: no progress for "), 1);

    write_file(freeze, "");
    assert_true(notify_sink_kicks(fd, 700) >= 2); /* thawed: fed again */
    fflush(stderr);
    assert_int_equal(count_in_file(log_path, "thread hid moves again after "), 1);

    hid_device_destroy(d);
    liveness_watchdog_stop();
    fflush(stderr);
    dup2(saved, STDERR_FILENO);
    close(saved);
    close(fd);
    unlink(sock_path);
    unlink(freeze);
    unlink(log_path);
    unsetenv("NOTIFY_SOCKET");
    unsetenv("WATCHDOG_USEC");
    unsetenv("PIGLIX_TEST_FREEZE");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_frozen_writer_starves_the_watchdog),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
