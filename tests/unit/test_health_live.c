/* health's checks that need the running daemon ("frames", "keyboard-leds")
 * and the status file it writes for `piglix doctor`: the fixture file
 * (tests/unit/fixtures/health/live) read, each state of the daemon as the
 * checks report it, and texts that are not such a file refused. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "health/health.h"

#define NOW 1796000000
#define FIXTURE PIGLIX_SOURCE_DIR "/tests/unit/fixtures/health/live"

static const struct health_check *run(struct health_report *r, const struct health_live *live, bool hid,
                                      const char *name)
{
    struct config_hid h = {.enabled = hid};
    r->n = 0;
    health_check_live(r, live, NOW + 1, &h);
    return health_find(r, name);
}

static void test_fixture_file(void **state)
{
    (void)state;
    struct health_live l;
    assert_int_equal(health_live_read(FIXTURE, &l), 0);
    assert_int_equal(l.written_s, NOW);
    assert_int_equal(l.frames, 12345);
    assert_true(l.fps > 29.8 && l.fps < 30.0);
    assert_true(l.signal_ok && l.hid && l.hid_online);
    assert_int_equal(l.leds, 2);
    struct health_report r;
    const struct health_check *c = run(&r, &l, true, "frames");
    assert_non_null(c);
    assert_int_equal(c->status, HEALTH_OK);
    assert_non_null(strstr(c->text, "frames arriving: 29.9 per second (the source sends 60.0), 12345 since start"));
    c = health_find(&r, "keyboard-leds");
    assert_non_null(c);
    assert_int_equal(c->status, HEALTH_OK);
    assert_non_null(strstr(c->text, "Num Lock on, Caps Lock off"));
    assert_int_equal(health_live_read(FIXTURE "/missing", &l), -1);
}

static void test_round_trip(void **state)
{
    (void)state;
    struct health_live a = {.written_s = NOW, .frames = 7, .fps = 12.5, .source_fps = 0, .signal_ok = false,
                            .hid = true, .hid_online = false, .leds = -1}, b;
    char text[512];
    int n = health_live_format(&a, text, sizeof(text));
    assert_true(n > 0);
    assert_int_equal(health_live_parse(text, (size_t)n, &b), 0);
    assert_int_equal(b.written_s, a.written_s);
    assert_int_equal(b.frames, 7);
    assert_true(b.fps == 12.5 && !b.signal_ok && b.hid && !b.hid_online && b.leds == -1);
    assert_int_equal(health_live_format(&a, text, 16), -1);
}

static void test_refused(void **state)
{
    (void)state;
    static const char *bad[] = {"", "frames=1\n", "written=x\n", "written=1\nfps=-3\n", "written=1\nleds=9999\n",
                                "written=1\nhid=2\n", "written=1\nno equals sign\n", "written=1e9\n",
                                "written=99999999999999999999999\n"};
    struct health_live l;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_int_equal(health_live_parse(bad[i], strlen(bad[i]), &l), -1);
    const char *later = "written=5\nsomething_new=abc\n";
    assert_int_equal(health_live_parse(later, strlen(later), &l), 0);
    assert_int_equal(l.leds, -1);
}

static void test_states(void **state)
{
    (void)state;
    struct health_report r;
    /* no daemon: a warning saying to start it, for both */
    const struct health_check *c = run(&r, NULL, true, "frames");
    assert_int_equal(c->status, HEALTH_WARNING);
    assert_non_null(strstr(c->fix, "start piglix"));
    assert_int_equal(health_find(&r, "keyboard-leds")->status, HEALTH_WARNING);
    assert_non_null(strstr(health_find(&r, "keyboard-leds")->fix, "start piglix"));
    /* [hid] off: no keyboard line */
    struct health_live l = {.written_s = NOW, .frames = 100, .fps = 30, .signal_ok = true, .leds = -1};
    run(&r, &l, false, "frames");
    assert_int_equal(r.n, 1);
    /* a file left by a daemon that is gone */
    l.written_s = NOW - 60;
    c = run(&r, &l, false, "frames");
    assert_int_equal(c->status, HEALTH_WARNING);
    assert_non_null(strstr(c->text, "61 s old"));
    /* just started: signal ok, no frame yet */
    struct health_live start = {.written_s = NOW, .signal_ok = true, .leds = -1};
    c = run(&r, &start, false, "frames");
    assert_int_equal(c->status, HEALTH_WARNING);
    assert_non_null(strstr(c->text, "no frame captured yet"));
    /* no signal: no frames, a problem */
    l.written_s = NOW;
    l.signal_ok = false;
    l.fps = 0;
    c = run(&r, &l, false, "frames");
    assert_int_equal(c->status, HEALTH_PROBLEM);
    assert_non_null(strstr(c->text, "no frames arriving (no signal, 100 since start)"));
    /* the keyboard: the host has not configured it; configured, no LED report */
    l.hid = true;
    c = run(&r, &l, true, "keyboard-leds");
    assert_int_equal(c->status, HEALTH_WARNING);
    assert_non_null(strstr(c->text, "has not configured"));
    l.hid_online = true;
    c = run(&r, &l, true, "keyboard-leds");
    assert_int_equal(c->status, HEALTH_WARNING);
    assert_non_null(strstr(c->text, "no LED report"));
    l.hid_asleep = true; /* the host suspended the bus */
    c = run(&r, &l, true, "keyboard-leds");
    assert_int_equal(c->status, HEALTH_WARNING);
    assert_non_null(strstr(c->text, "suspended the USB bus"));
    l.hid_asleep = false;
    l.leds = 4 | 1;
    c = run(&r, &l, true, "keyboard-leds");
    assert_int_equal(c->status, HEALTH_OK);
    assert_non_null(strstr(c->text, "Num Lock off, Caps Lock on, Scroll Lock on"));
}

/* [reliability] capture chip trouble: streaming restarts, through the file. */
static void test_stalls(void **state)
{
    (void)state;
    struct health_live a = {.written_s = NOW, .frames = 900, .fps = 30, .signal_ok = true, .leds = -1,
                            .stalls = 3, .stall_age_s = 42}, b;
    char text[512];
    int n = health_live_format(&a, text, sizeof(text));
    assert_true(n > 0);
    assert_int_equal(health_live_parse(text, (size_t)n, &b), 0);
    assert_int_equal(b.stalls, 3);
    assert_int_equal(b.stall_age_s, 42);
    struct health_report r;
    const struct health_check *c = run(&r, &b, false, "capture-stalls");
    assert_non_null(c);
    assert_int_equal(c->status, HEALTH_WARNING);
    assert_non_null(strstr(c->text, "stopped delivering frames 3 times since start (last 42 s ago)"));
    assert_non_null(strstr(c->fix, "journal"));
    b.stall_age_s = HEALTH_STALL_RECENT_S + 1;
    c = run(&r, &b, false, "capture-stalls");
    assert_int_equal(c->status, HEALTH_OK);
    /* none: no line at all; an older daemon's file (no key) reads as none */
    b.stalls = 0;
    assert_null(run(&r, &b, false, "capture-stalls"));
    const char *old = "written=5\nframes=1\n";
    assert_int_equal(health_live_parse(old, strlen(old), &b), 0);
    assert_int_equal(b.stalls, 0);
    assert_int_equal(b.stall_age_s, -1);
    const char *bad = "written=5\nstall_age=-7\n";
    assert_int_equal(health_live_parse(bad, strlen(bad), &b), -1);
}

/* [reliability] the watchdog: the running daemon's threads. */
static void test_threads(void **state)
{
    (void)state;
    struct health_report r = {0};
    struct liveness_status st[3] = {{"capture", 120, false}, {"web", 40, false}, {"ipmi", 300, false}};
    health_check_threads(&r, st, 3, 10000);
    const struct health_check *c = health_find(&r, "threads");
    assert_int_equal(c->status, HEALTH_OK);
    assert_non_null(strstr(c->text, "all 3 threads made progress within 10000 ms"));
    r.n = 0;
    st[0] = (struct liveness_status){"capture", 12345, true};
    st[2] = (struct liveness_status){"ipmi", 60000, true};
    health_check_threads(&r, st, 3, 10000);
    c = health_find(&r, "threads");
    assert_int_equal(c->status, HEALTH_PROBLEM);
    assert_non_null(strstr(c->text, "2 of 3 threads wedged: capture (silent 12.3 s), ipmi (silent 60.0 s)"));
    assert_non_null(strstr(c->fix, "restarts piglix"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fixture_file),
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_refused),
        cmocka_unit_test(test_states),
        cmocka_unit_test(test_stalls),
        cmocka_unit_test(test_threads),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
