/* common/liveness: the registry's arithmetic at chosen times, its log lines
 * (once per wedge), and the watchdog thread against a real AF_UNIX
 * datagram socket standing in for systemd's notification socket. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
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
#include "tests/support/notify_sink.h"

/* stderr into a file, so the log lines can be read back. */
static char log_path[64];
static int saved_stderr = -1;

static void log_capture(void)
{
    snprintf(log_path, sizeof(log_path), "/tmp/piglix-liveness-%d.log", (int)getpid());
    fflush(stderr);
    saved_stderr = dup(STDERR_FILENO);
    int fd = open(log_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    assert_true(fd >= 0);
    dup2(fd, STDERR_FILENO);
    close(fd);
}

/* The captured text (stderr restored); counts lines holding what. */
static int log_count(const char *what)
{
    fflush(stderr);
    dup2(saved_stderr, STDERR_FILENO);
    close(saved_stderr);
    static char buf[16384];
    FILE *f = fopen(log_path, "re");
    assert_non_null(f);
    size_t n = fread(buf, 1, sizeof(buf) - 1, f);
    fclose(f);
    unlink(log_path);
    buf[n] = '\0';
    int count = 0;
    for (const char *p = buf; (p = strstr(p, what)); p++)
        count++;
    return count;
}

static void sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) < 0 && errno == EINTR) {
    }
}

static void test_deadline_and_wake(void **state)
{
    liveness_set_deadline_ms(1000);
    assert_int_equal(liveness_deadline_ms(), 1000);
    assert_int_equal(liveness_wake_ms(), 500);
    assert_int_equal(liveness_poll_ms(-1), 500);
    assert_int_equal(liveness_poll_ms(2000), 500);
    assert_int_equal(liveness_poll_ms(20), 20);
    assert_int_equal(liveness_poll_ms(0), 0);
    liveness_set_deadline_ms(5);
    assert_int_equal(liveness_deadline_ms(), 100);
    liveness_set_deadline_ms(10000000);
    assert_int_equal(liveness_deadline_ms(), 600000);
    /* wake_at: half the deadline from now, or the earlier limit */
    liveness_set_deadline_ms(1000);
    struct timespec now, limit;
    clock_gettime(CLOCK_MONOTONIC, &now);
    struct timespec w = liveness_wake_at(NULL);
    int64_t d = (int64_t)(w.tv_sec - now.tv_sec) * 1000 + (w.tv_nsec - now.tv_nsec) / 1000000;
    assert_true(d >= 490 && d <= 510);
    limit = now;
    w = liveness_wake_at(&limit);
    assert_true(w.tv_sec == limit.tv_sec && w.tv_nsec == limit.tv_nsec);
}

static void test_alive_until_the_deadline(void **state)
{
    liveness_set_deadline_ms(1000);
    int64_t t0 = clock_mono_ms();
    struct liveness *a = liveness_register("alpha");
    struct liveness *b = liveness_register("beta");
    assert_non_null(a);
    assert_non_null(b);
    assert_true(liveness_all_alive(t0 + 900));
    assert_false(liveness_all_alive(clock_mono_ms() + 1100));
    struct liveness_status st[4];
    assert_int_equal(liveness_snapshot(st, 4), 2);
    assert_string_equal(st[0].name, "alpha");
    assert_string_equal(st[1].name, "beta");
    assert_false(st[0].wedged);
    /* beta falls silent, alpha keeps beating */
    sleep_ms(150);
    liveness_beat(a);
    int64_t t1 = clock_mono_ms();
    assert_true(liveness_all_alive(t1 + 800));
    assert_false(liveness_all_alive(t1 + 1000)); /* beta's beat is 150 ms older */
    liveness_unregister(b);
    assert_true(liveness_all_alive(t1 + 1000));  /* a thread that left is not watched */
    assert_int_equal(liveness_snapshot(st, 4), 1);
    liveness_unregister(a);
    assert_int_equal(liveness_snapshot(st, 4), 0);
    assert_true(liveness_all_alive(t1 + 100000));
    liveness_beat(NULL);      /* a full registry's NULL handle is harmless */
    liveness_unregister(NULL);
}

static void test_snapshot_marks_the_wedged(void **state)
{
    liveness_set_deadline_ms(100);
    struct liveness *a = liveness_register("quick");
    struct liveness *b = liveness_register("stuck");
    sleep_ms(180);
    liveness_beat(a);
    struct liveness_status st[4];
    assert_int_equal(liveness_snapshot(st, 1), 2); /* the count, even when out is short */
    assert_int_equal(liveness_snapshot(st, 4), 2);
    assert_false(st[0].wedged);
    assert_true(st[1].wedged);
    assert_true(st[1].silent_ms >= 150);
    liveness_unregister(a);
    liveness_unregister(b);
}

static void test_wedge_logged_once_with_its_length(void **state)
{
    liveness_set_deadline_ms(1000);
    struct liveness *w = liveness_register("wedgie");
    int64_t t = clock_mono_ms();
    log_capture();
    assert_true(liveness_check(t + 500));
    assert_false(liveness_check(t + 1500));
    assert_false(liveness_check(t + 1600));
    assert_false(liveness_check(t + 2600));
    liveness_beat(w);
    assert_true(liveness_check(clock_mono_ms()));
    assert_false(liveness_check(clock_mono_ms() + 1200));
    liveness_unregister(w);
    assert_int_equal(log_count("thread wedgie is wedged: no progress for 1"), 2);
}

static void test_registry_full(void **state)
{
    struct liveness *l[LIVENESS_MAX];
    for (int i = 0; i < LIVENESS_MAX; i++)
        assert_non_null(l[i] = liveness_register("many"));
    log_capture();
    assert_null(liveness_register("one-too-many"));
    assert_null(liveness_register("two-too-many"));
    assert_int_equal(log_count("not watched"), 1);
    for (int i = 0; i < LIVENESS_MAX; i++)
        liveness_unregister(l[i]);
    struct liveness *again = liveness_register("again");
    assert_non_null(again);
    liveness_unregister(again);
}

struct waiter {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int64_t waited_ms;
};

static void *wait_once(void *arg)
{
    struct waiter *w = arg;
    struct liveness *l = liveness_register("waiter");
    pthread_mutex_lock(&w->mu);
    int64_t t = clock_mono_ms();
    liveness_cond_wait(l, &w->cv, &w->mu); /* nobody signals: the wake-up bound ends it */
    w->waited_ms = clock_mono_ms() - t;
    pthread_mutex_unlock(&w->mu);
    liveness_unregister(l);
    return NULL;
}

static void test_cond_wait_wakes_in_time(void **state)
{
    liveness_set_deadline_ms(200);
    struct waiter w = {.mu = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER};
    pthread_t tid;
    assert_int_equal(pthread_create(&tid, NULL, wait_once, &w), 0);
    pthread_join(tid, NULL);
    assert_true(w.waited_ms >= 90 && w.waited_ms < 1000);
}

/* A signal sent as the waiter goes to wait is not lost: the producer is
 * already queued on the lock when the waiter calls liveness_cond_wait, so
 * any moment the lock is free before the wait begins lets it in. */
struct handoff {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    atomic_bool waiter_holds;
    bool flag;
    int64_t signalled_ms;
};

static void *produce(void *arg)
{
    struct handoff *h = arg;
    while (!atomic_load(&h->waiter_holds))
        sched_yield();
    pthread_mutex_lock(&h->mu); /* queued behind the waiter */
    h->flag = true;
    h->signalled_ms = clock_mono_ms();
    pthread_cond_signal(&h->cv);
    pthread_mutex_unlock(&h->mu);
    return NULL;
}

static void test_cond_wait_loses_no_signal(void **state)
{
    liveness_set_deadline_ms(4000); /* a lost signal would wait 2 s */
    struct liveness *l = liveness_register("handoff");
    for (int round = 0; round < 20; round++) {
        struct handoff h = {.mu = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER};
        pthread_t tid;
        assert_int_equal(pthread_create(&tid, NULL, produce, &h), 0);
        pthread_mutex_lock(&h.mu);
        atomic_store(&h.waiter_holds, true);
        struct timespec ts = {.tv_nsec = 20 * 1000000L};
        nanosleep(&ts, NULL); /* the producer blocks on the lock meanwhile */
        while (!h.flag)
            liveness_cond_wait(l, &h.cv, &h.mu);
        int64_t late = clock_mono_ms() - h.signalled_ms;
        pthread_mutex_unlock(&h.mu);
        pthread_join(tid, NULL);
        if (late >= 500)
            fail_msg("round %d: the signal was noticed %lld ms late (lost, found by the wake-up bound)", round,
                     (long long)late);
    }
    liveness_unregister(l);
}

/* A datagram socket as systemd's; counts WATCHDOG=1 over a period. */
static void test_watchdog_fed_only_while_all_beat(void **state)
{
    char path[108];
    int fd = notify_sink_open("liveness", path, sizeof(path));
    assert_true(fd >= 0);
    setenv("WATCHDOG_USEC", "200000", 1);
    unsetenv("WATCHDOG_PID");
    liveness_set_deadline_ms(300);
    struct liveness *a = liveness_register("steady");
    struct liveness *b = liveness_register("sleepy");
    assert_int_equal(liveness_watchdog_start(), 0);
    /* both beat: a WATCHDOG=1 every 100 ms or so */
    int64_t until = clock_mono_ms() + 600;
    int kicks = 0;
    while (clock_mono_ms() < until) {
        liveness_beat(a);
        liveness_beat(b);
        kicks += notify_sink_kicks(fd, 50);
    }
    assert_true(kicks >= 3);
    /* sleepy stops: after its deadline, no more */
    until = clock_mono_ms() + 450;
    while (clock_mono_ms() < until) {
        liveness_beat(a);
        notify_sink_kicks(fd, 50);
    }
    int after = 0;
    until = clock_mono_ms() + 600;
    while (clock_mono_ms() < until) {
        liveness_beat(a);
        after += notify_sink_kicks(fd, 50);
    }
    assert_int_equal(after, 0);
    /* it moves again: the watchdog is fed again */
    kicks = 0;
    until = clock_mono_ms() + 600;
    while (clock_mono_ms() < until) {
        liveness_beat(a);
        liveness_beat(b);
        kicks += notify_sink_kicks(fd, 50);
    }
    assert_true(kicks >= 2);
    liveness_watchdog_stop();
    liveness_unregister(a);
    liveness_unregister(b);
    close(fd);
    unlink(path);
    unsetenv("NOTIFY_SOCKET");
    unsetenv("WATCHDOG_USEC");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_deadline_and_wake),
        cmocka_unit_test(test_alive_until_the_deadline),
        cmocka_unit_test(test_snapshot_marks_the_wedged),
        cmocka_unit_test(test_wedge_logged_once_with_its_length),
        cmocka_unit_test(test_registry_full),
        cmocka_unit_test(test_cond_wait_wakes_in_time),
        cmocka_unit_test(test_cond_wait_loses_no_signal),
        cmocka_unit_test(test_watchdog_fed_only_while_all_beat),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
