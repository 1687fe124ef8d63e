/* common/sdnotify against a real AF_UNIX datagram socket standing in for
 * systemd's notification socket. */
#include <errno.h>
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

#include "common/sdnotify.h"

struct listener {
    int fd;
    char path[108];     /* as put in NOTIFY_SOCKET */
};

/* Binds a datagram socket at a fresh path ('@' first: abstract namespace). */
static void listener_open(struct listener *l, bool abstract)
{
    static int serial;
    struct sockaddr_un addr = {.sun_family = AF_UNIX};
    snprintf(l->path, sizeof(l->path), "%s/piglix-sdnotify-%d-%d", abstract ? "@" : "/tmp",
             (int)getpid(), serial++);
    size_t len = strlen(l->path);
    memcpy(addr.sun_path, l->path, len);
    if (abstract)
        addr.sun_path[0] = '\0';
    l->fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    assert_true(l->fd >= 0);
    if (!abstract)
        unlink(l->path);
    assert_int_equal(bind(l->fd, (struct sockaddr *)&addr,
                          (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len)), 0);
    setenv("NOTIFY_SOCKET", l->path, 1);
}

static void listener_close(struct listener *l)
{
    close(l->fd);
    if (l->path[0] == '/')
        unlink(l->path);
    unsetenv("NOTIFY_SOCKET");
}

/* The next datagram, or "" when none is queued. */
static const char *listener_take(struct listener *l)
{
    static char buf[256];
    ssize_t n = recv(l->fd, buf, sizeof(buf) - 1, MSG_DONTWAIT);
    if (n < 0) {
        assert_true(errno == EAGAIN || errno == EWOULDBLOCK);
        n = 0;
    }
    buf[n] = '\0';
    return buf;
}

static void sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) < 0 && errno == EINTR) {
    }
}

static void test_no_socket_is_a_noop(void **state)
{
    unsetenv("NOTIFY_SOCKET");
    assert_int_equal(sdnotify_send("READY=1"), 0);
    setenv("NOTIFY_SOCKET", "", 1);
    assert_int_equal(sdnotify_send("READY=1"), 0);
    unsetenv("NOTIFY_SOCKET");
}

static void test_sends_to_a_path(void **state)
{
    struct listener l;
    listener_open(&l, false);
    assert_int_equal(sdnotify_send("READY=1\nSTATUS=serving"), 1);
    assert_string_equal(listener_take(&l), "READY=1\nSTATUS=serving");
    assert_string_equal(listener_take(&l), "");
    listener_close(&l);
}

static void test_sends_to_abstract_socket(void **state)
{
    struct listener l;
    listener_open(&l, true);
    assert_int_equal(sdnotify_send("STOPPING=1"), 1);
    assert_string_equal(listener_take(&l), "STOPPING=1");
    listener_close(&l);
}

static void test_bad_socket_names_fail(void **state)
{
    setenv("NOTIFY_SOCKET", "relative/path", 1);
    assert_int_equal(sdnotify_send("READY=1"), -EINVAL);
    char longpath[200];
    memset(longpath, 'x', sizeof(longpath) - 1);
    longpath[0] = '/';
    longpath[sizeof(longpath) - 1] = '\0';
    setenv("NOTIFY_SOCKET", longpath, 1);
    assert_int_equal(sdnotify_send("READY=1"), -EINVAL);
    /* Nobody listening: the error comes back, nothing crashes. */
    setenv("NOTIFY_SOCKET", "/nonexistent-dir/piglix-notify", 1);
    assert_true(sdnotify_send("READY=1") < 0);
    unsetenv("NOTIFY_SOCKET");
}

static void test_watchdog_off_without_usec(void **state)
{
    struct listener l;
    listener_open(&l, false);
    unsetenv("WATCHDOG_USEC");
    unsetenv("WATCHDOG_PID");
    struct sdnotify_watchdog wd;
    assert_false(sdnotify_watchdog_init(&wd));
    sleep_ms(5);
    sdnotify_watchdog_kick(&wd);
    assert_string_equal(listener_take(&l), "");
    listener_close(&l);
}

static void test_watchdog_kicks_at_half_interval(void **state)
{
    struct listener l;
    listener_open(&l, false);
    char pid[32];
    snprintf(pid, sizeof(pid), "%d", (int)getpid());
    setenv("WATCHDOG_PID", pid, 1);
    setenv("WATCHDOG_USEC", "200000", 1);
    struct sdnotify_watchdog wd;
    assert_true(sdnotify_watchdog_init(&wd));
    assert_int_equal(wd.interval_ms, 200);
    /* Too early: nothing goes out. */
    sdnotify_watchdog_kick(&wd);
    assert_string_equal(listener_take(&l), "");
    sleep_ms(120);
    sdnotify_watchdog_kick(&wd);
    assert_string_equal(listener_take(&l), "WATCHDOG=1");
    /* The next one is again half an interval away. */
    sdnotify_watchdog_kick(&wd);
    assert_string_equal(listener_take(&l), "");
    sleep_ms(120);
    sdnotify_watchdog_kick(&wd);
    assert_string_equal(listener_take(&l), "WATCHDOG=1");
    listener_close(&l);
    unsetenv("WATCHDOG_USEC");
    unsetenv("WATCHDOG_PID");
}

static void test_watchdog_not_ours(void **state)
{
    struct sdnotify_watchdog wd;
    setenv("WATCHDOG_USEC", "200000", 1);
    setenv("WATCHDOG_PID", "1", 1);     /* inherited from another service */
    assert_false(sdnotify_watchdog_init(&wd));
    unsetenv("WATCHDOG_PID");
    setenv("WATCHDOG_USEC", "soon", 1);
    assert_false(sdnotify_watchdog_init(&wd));
    setenv("WATCHDOG_USEC", "0", 1);
    assert_false(sdnotify_watchdog_init(&wd));
    unsetenv("WATCHDOG_USEC");
}

static void test_watchdog_failure_logged_once(void **state)
{
    setenv("NOTIFY_SOCKET", "/nonexistent-dir/piglix-notify", 1);
    setenv("WATCHDOG_USEC", "2000", 1);
    struct sdnotify_watchdog wd;
    assert_true(sdnotify_watchdog_init(&wd));
    sleep_ms(3);
    sdnotify_watchdog_kick(&wd);
    assert_true(wd.error_logged);
    unsetenv("NOTIFY_SOCKET");
    unsetenv("WATCHDOG_USEC");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_no_socket_is_a_noop),
        cmocka_unit_test(test_sends_to_a_path),
        cmocka_unit_test(test_sends_to_abstract_socket),
        cmocka_unit_test(test_bad_socket_names_fail),
        cmocka_unit_test(test_watchdog_off_without_usec),
        cmocka_unit_test(test_watchdog_kicks_at_half_interval),
        cmocka_unit_test(test_watchdog_not_ours),
        cmocka_unit_test(test_watchdog_failure_logged_once),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
