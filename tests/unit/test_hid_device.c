/* The HID runtime (hid_device) against a simulated gadget: each endpoint is
 * a socketpair (one report per message; a small send buffer makes a host
 * that polls slowly), the host's state a flag. Keys arrive in order, a slow
 * host delays them, a stalled one loses them (and gets the current state
 * afterwards), a gone one gets nothing and its keys are released; nothing a
 * caller does ever blocks; pastes type the text at their rate or are
 * refused whole; combos; LEDs come back; the watchdog releases held keys.
 * Prints the event-to-report latency of the fast path. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "common/clock.h"
#include "hid/hid.h"
#include "hid/hid_keys.h"

struct fake {
    pthread_mutex_t lock;
    bool ready;
    int host_fd[HID_EP_COUNT];
    int opens;
    int sndbuf; /* 0: the default */
    unsigned leds_seen;
    int led_calls;
    atomic_int wakeups; /* remote wakeup requests */
    int state_fd[2];    /* the UDC state's notification: urgent data on [0] (POLLPRI) */
};

static int fake_state_fd(void *ctx)
{
    struct fake *f = ctx;
    return f->state_fd[0] >= 0 ? dup(f->state_fd[0]) : -ENOENT;
}

static void fake_state_rearm(int fd)
{
    char c;
    while (recv(fd, &c, 1, MSG_OOB | MSG_DONTWAIT) == 1)
        ;
}

/* The kernel set the state again (a reset and reconfiguration). */
static void notify_state(struct fake *f)
{
    assert_int_equal(send(f->state_fd[1], "s", 1, MSG_OOB), 1);
}

static int fake_wakeup(void *ctx)
{
    struct fake *f = ctx;
    atomic_fetch_add(&f->wakeups, 1);
    return 0;
}

static int fake_open(void *ctx, enum hid_endpoint ep)
{
    struct fake *f = ctx;
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
        return -errno;
    fcntl(sv[0], F_SETFL, O_NONBLOCK);
    if (f->sndbuf)
        setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &f->sndbuf, sizeof(f->sndbuf));
    pthread_mutex_lock(&f->lock);
    if (f->host_fd[ep] >= 0)
        close(f->host_fd[ep]);
    f->host_fd[ep] = sv[1];
    f->opens++;
    pthread_mutex_unlock(&f->lock);
    return sv[0];
}

static bool fake_ready(void *ctx, char *state, size_t n)
{
    struct fake *f = ctx;
    pthread_mutex_lock(&f->lock);
    bool ready = f->ready;
    pthread_mutex_unlock(&f->lock);
    snprintf(state, n, "%s", ready ? "configured" : "not attached");
    return ready;
}

static void set_ready(struct fake *f, bool ready)
{
    pthread_mutex_lock(&f->lock);
    f->ready = ready;
    pthread_mutex_unlock(&f->lock);
}

static int host_fd(struct fake *f, enum hid_endpoint ep)
{
    pthread_mutex_lock(&f->lock);
    int fd = f->host_fd[ep];
    pthread_mutex_unlock(&f->lock);
    return fd;
}

static void on_leds(void *ctx, unsigned leds)
{
    struct fake *f = ctx;
    pthread_mutex_lock(&f->lock);
    f->leds_seen = leds;
    f->led_calls++;
    pthread_mutex_unlock(&f->lock);
}

static void sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* One report from the host's end: its length, 0 after timeout_ms, -1 when
 * the device side closed. */
static int host_read(struct fake *f, enum hid_endpoint ep, uint8_t *buf, int timeout_ms)
{
    struct pollfd p = {.fd = host_fd(f, ep), .events = POLLIN};
    if (poll(&p, 1, timeout_ms) <= 0)
        return 0;
    ssize_t n = recv(p.fd, buf, HID_REPORT_MAX, MSG_DONTWAIT);
    return n > 0 ? (int)n : n == 0 ? -1 : 0;
}

struct rig {
    struct fake f;
    struct hid_device *d;
    struct hid_input in;
};

/* sndbuf: the device end's send buffer (0: default; 1: the kernel's
 * minimum, a few reports: a host that polls slowly). */
static void rig_start(struct rig *r, const struct hid_device_params *over, int sndbuf)
{
    memset(r, 0, sizeof(*r));
    r->f.sndbuf = sndbuf;
    pthread_mutex_init(&r->f.lock, NULL);
    for (int i = 0; i < HID_EP_COUNT; i++)
        r->f.host_fd[i] = -1;
    r->f.ready = true;
    struct hid_device_params p = {
        .present = {true, true, true},
        .layout = hid_layout_find("us"),
        .mouse_mode = HID_MOUSE_ABSOLUTE,
        .paste_rate = 500,
        .state_poll_ms = 10,
        .report_max_age_ms = 2000,
    };
    if (over) {
        if (over->layout)
            p.layout = over->layout;
        if (over->paste_rate)
            p.paste_rate = over->paste_rate;
        if (over->key_hold_max_ms)
            p.key_hold_max_ms = over->key_hold_max_ms;
        if (over->report_max_age_ms)
            p.report_max_age_ms = over->report_max_age_ms;
        p.wake_after_ms = over->wake_after_ms;
        if (!over->present[HID_EP_MOUSE_REL] && over->present[HID_EP_MOUSE_ABS])
            p.present[HID_EP_MOUSE_REL] = false;
    }
    r->f.state_fd[0] = r->f.state_fd[1] = -1;
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, r->f.state_fd) < 0)
        r->f.state_fd[0] = r->f.state_fd[1] = -1;
    p.io = (struct hid_device_io){.open = fake_open, .host_ready = fake_ready, .wakeup = fake_wakeup,
                                  .state_fd = fake_state_fd, .state_fd_rearm = fake_state_rearm, .ctx = &r->f};
    r->d = hid_device_create(&p);
    assert_non_null(r->d);
    hid_device_input(r->d, &r->in);
}

static bool wait_online(struct rig *r, bool online, int timeout_ms)
{
    int64_t end = clock_mono_ms() + timeout_ms;
    while (clock_mono_ms() < end) {
        struct hid_status st;
        hid_get_status(r->d, &st);
        if (st.online == online)
            return true;
        sleep_ms(2);
    }
    return false;
}

/* Until the paste or combo being typed is done. */
static void wait_idle(struct rig *r)
{
    int64_t end = clock_mono_ms() + 5000;
    struct hid_status st;
    do {
        hid_get_status(r->d, &st);
        if (!st.pasting)
            return;
        sleep_ms(2);
    } while (clock_mono_ms() < end);
    fail_msg("the paste did not end");
}

/* The resynchronisation reports a (re)connected host gets first. */
static void drain_resync(struct rig *r)
{
    uint8_t b[HID_REPORT_MAX];
    for (int i = 0; i < HID_EP_COUNT; i++)
        while (host_read(&r->f, (enum hid_endpoint)i, b, 50) > 0)
            ;
}

static void rig_online(struct rig *r, const struct hid_device_params *over)
{
    rig_start(r, over, 0);
    assert_true(wait_online(r, true, 2000));
    drain_resync(r);
}

static void rig_stop(struct rig *r)
{
    hid_device_destroy(r->d);
    for (int i = 0; i < 2; i++)
        if (r->f.state_fd[i] >= 0)
            close(r->f.state_fd[i]);
    for (int i = 0; i < HID_EP_COUNT; i++)
        if (r->f.host_fd[i] >= 0)
            close(r->f.host_fd[i]);
    pthread_mutex_destroy(&r->f.lock);
}

static void key(struct rig *r, uint32_t keysym, bool down)
{
    r->in.ops->key_sym(r->in.ctx, keysym, down);
}

static void expect_kbd(struct rig *r, uint8_t mods, uint8_t k0)
{
    uint8_t b[HID_REPORT_MAX];
    int n = host_read(&r->f, HID_EP_KEYBOARD, b, 2000);
    assert_int_equal(n, HID_KBD_REPORT_LEN);
    if (b[0] != mods || b[2] != k0)
        fail_msg("keyboard report %02x %02x, expected %02x %02x", b[0], b[2], mods, k0);
}

static void expect_quiet(struct rig *r, enum hid_endpoint ep, int ms)
{
    uint8_t b[HID_REPORT_MAX];
    int n = host_read(&r->f, ep, b, ms);
    if (n > 0)
        fail_msg("unexpected report %02x %02x %02x", b[0], b[1], b[2]);
}

struct drainer {
    struct fake *f;
    atomic_bool stop;
    long reports;
};

static void *drain_thread(void *arg)
{
    struct drainer *dr = arg;
    uint8_t b[HID_REPORT_MAX];
    while (!atomic_load(&dr->stop))
        if (host_read(dr->f, HID_EP_KEYBOARD, b, 10) > 0)
            dr->reports++;
    return NULL;
}

/* 'a' pressed and released, each report seen by the host at once. */
static void tap_a(struct rig *r)
{
    key(r, 'a', true);
    expect_kbd(r, 0, HID_KEY_A);
    key(r, 'a', false);
    expect_kbd(r, 0, 0);
}

static void test_keys_reach_the_host_at_once(void **state)
{
    (void)state;
    struct rig r;
    rig_online(&r, NULL);
    tap_a(&r);
    key(&r, 0xffe1, true);
    key(&r, 'B', true);
    expect_kbd(&r, HID_MOD_LSHIFT, 0);
    expect_kbd(&r, HID_MOD_LSHIFT, 0x05);
    key(&r, 'B', false);
    key(&r, 0xffe1, false);
    expect_kbd(&r, HID_MOD_LSHIFT, 0);
    expect_kbd(&r, 0, 0);

    /* the fast path's latency, with a host reading as fast as it can */
    struct drainer dr = {.f = &r.f};
    pthread_t t;
    pthread_create(&t, NULL, drain_thread, &dr);
    struct hid_status before;
    hid_get_status(r.d, &before);
    /* paced like very fast typing, so the reader keeps up */
    const int events = 4000;
    int64_t took_ns = 0;
    for (int i = 0; i < events / 2; i++) {
        struct timespec a, z;
        clock_gettime(CLOCK_MONOTONIC, &a);
        key(&r, 'x', true);
        key(&r, 'x', false);
        clock_gettime(CLOCK_MONOTONIC, &z);
        took_ns += (z.tv_sec - a.tv_sec) * 1000000000LL + (z.tv_nsec - a.tv_nsec);
        struct timespec pause = {0, 100000};
        nanosleep(&pause, NULL);
    }
    sleep_ms(100);
    atomic_store(&dr.stop, true);
    pthread_join(t, NULL);
    struct hid_status st;
    hid_get_status(r.d, &st);
    uint64_t n = st.latency_direct.count - before.latency_direct.count;
    assert_true(n > 0);
    printf("fast path: %d key events, %.1f us per call; event to report written: "
           "avg %.1f us, max %.1f us over %llu reports written at once (%llu waited for the host)\n",
           events, (double)took_ns / 1e3 / events,
           (double)(st.latency_direct.sum_ns - before.latency_direct.sum_ns) / (double)n / 1e3,
           (double)st.latency_direct.max_ns / 1e3, (unsigned long long)n,
           (unsigned long long)(st.reports_waited - before.reports_waited));
    assert_int_equal(st.reports_dropped, 0);
    rig_stop(&r);
}

static void test_slow_host_gets_everything_in_order(void **state)
{
    (void)state;
    struct rig r;
    rig_start(&r, NULL, 1);
    assert_true(wait_online(&r, true, 2000));
    drain_resync(&r);
    int64_t start = clock_mono_ms();
    const char *text = "abcdefghijklmnopqrstuvwxyz";
    for (const char *c = text; *c; c++) {
        key(&r, (uint32_t)*c, true);
        key(&r, (uint32_t)*c, false);
    }
    assert_true(clock_mono_ms() - start < 200); /* nobody waited */
    for (const char *c = text; *c; c++) {
        expect_kbd(&r, 0, (uint8_t)(HID_KEY_A + (*c - 'a')));
        expect_kbd(&r, 0, 0);
    }
    expect_quiet(&r, HID_EP_KEYBOARD, 50);
    struct hid_status st;
    hid_get_status(r.d, &st);
    assert_true(st.reports_waited > 0);
    assert_int_equal(st.reports_dropped, 0);
    rig_stop(&r);
}

static void test_stalled_host_loses_reports_not_state(void **state)
{
    (void)state;
    struct rig r;
    struct hid_device_params over = {.report_max_age_ms = 100};
    rig_start(&r, &over, 1);
    assert_true(wait_online(&r, true, 2000));
    drain_resync(&r);
    int64_t start = clock_mono_ms();
    for (int i = 0; i < 100; i++) { /* the host not reading: they age out */
        key(&r, 'x', true);
        key(&r, 'x', false);
    }
    key(&r, 'q', true); /* held */
    assert_true(clock_mono_ms() - start < 200);
    sleep_ms(400); /* older than report_max_age_ms */
    struct hid_status st;
    hid_get_status(r.d, &st);
    assert_true(st.reports_dropped > 0);
    /* whatever the socket kept, the host ends with the state now: q held */
    uint8_t b[HID_REPORT_MAX], last[HID_REPORT_MAX] = {0};
    int got = 0, n;
    while ((n = host_read(&r.f, HID_EP_KEYBOARD, b, 100)) > 0) {
        memcpy(last, b, sizeof(last));
        got++;
    }
    assert_true(got < 201);
    assert_int_equal(last[2], 0x14);
    key(&r, 'q', false);
    expect_kbd(&r, 0, 0);
    rig_stop(&r);
}

/* A host that suspended its bus takes nothing but stays configured: piglix
 * asks it to wake up (only then), the reports wait, and once it reads again
 * every key arrives in order, none lost or held. */
static void test_asleep_host_is_woken_and_gets_the_keys(void **state)
{
    (void)state;
    struct rig r;
    struct hid_device_params over = {.wake_after_ms = 50};
    rig_start(&r, &over, 1);
    assert_true(wait_online(&r, true, 2000));
    drain_resync(&r);
    struct hid_status st;
    hid_get_status(r.d, &st);
    assert_false(st.host_asleep);
    sleep_ms(200); /* a host that takes every report is never asked */
    assert_int_equal(atomic_load(&r.f.wakeups), 0);
    const char word[] = "wakeup";
    for (const char *c = word; *c; c++) {
        key(&r, (uint32_t)*c, true);
        key(&r, (uint32_t)*c, false);
    }
    int64_t end = clock_mono_ms() + 2000;
    while (atomic_load(&r.f.wakeups) == 0 && clock_mono_ms() < end)
        sleep_ms(5);
    assert_true(atomic_load(&r.f.wakeups) >= 1);
    hid_get_status(r.d, &st);
    assert_true(st.host_asleep);
    assert_true(st.online);
    sleep_ms(300); /* the resume */
    for (const char *c = word; *c; c++) { /* the host reads again */
        expect_kbd(&r, 0, (uint8_t)(0x04 + (*c - 'a')));
        expect_kbd(&r, 0, 0);
    }
    expect_quiet(&r, HID_EP_KEYBOARD, 100);
    end = clock_mono_ms() + 2000;
    do {
        hid_get_status(r.d, &st);
        if (!st.host_asleep)
            break;
        sleep_ms(5);
    } while (clock_mono_ms() < end);
    assert_false(st.host_asleep);
    assert_int_equal(st.host_wakeups, 1);
    assert_int_equal(st.reports_dropped, 0);
    rig_stop(&r);
}

/* The next keyboard report that is not all released (a loaded machine
 * may write the resynchronisation a connection starts with late); it
 * must be k0 alone. */
static void expect_kbd_after_zeros(struct rig *r, uint8_t k0)
{
    uint8_t b[HID_REPORT_MAX];
    int n;
    do
        n = host_read(&r->f, HID_EP_KEYBOARD, b, 2000);
    while (n == HID_KBD_REPORT_LEN && b[0] == 0 && b[2] == 0);
    assert_int_equal(n, HID_KBD_REPORT_LEN);
    if (b[0] != 0 || b[2] != k0 || b[3] != 0)
        fail_msg("keyboard report %02x %02x %02x, expected 00 %02x 00", b[0], b[2], b[3], k0);
}

/* The host reset and configured the device again (a reboot, a cable pulled
 * and put back) faster than the state is polled: the words stay
 * "configured", but the kernel's notification makes piglix forget the held
 * key and start the new session from all released. */
static void test_reconfigured_host_gets_no_held_key(void **state)
{
    (void)state;
    struct rig r;
    struct hid_device_params over = {0};
    rig_online(&r, &over);
    if (r.f.state_fd[0] < 0)
        skip();
    key(&r, 'a', true); /* held through the reset */
    expect_kbd_after_zeros(&r, 0x04);
    pthread_mutex_lock(&r.f.lock);
    int opens = r.f.opens;
    pthread_mutex_unlock(&r.f.lock);
    notify_state(&r.f);
    int64_t end = clock_mono_ms() + 2000;
    for (;;) { /* the endpoints opened again: a new session */
        pthread_mutex_lock(&r.f.lock);
        bool reopened = r.f.opens > opens;
        pthread_mutex_unlock(&r.f.lock);
        if (reopened || clock_mono_ms() > end)
            break;
        sleep_ms(2);
    }
    key(&r, 'b', true);
    expect_kbd_after_zeros(&r, 0x05); /* b alone, after the all-released start: a is forgotten */
    key(&r, 'a', false);
    key(&r, 'b', false);
    expect_kbd(&r, 0, 0);
    struct hid_status st;
    hid_get_status(r.d, &st);
    assert_true(st.online);
    rig_stop(&r);
}

static void test_host_gone_releases_and_drops(void **state)
{
    (void)state;
    struct rig r;
    rig_online(&r, NULL);
    key(&r, 'a', true);
    expect_kbd(&r, 0, HID_KEY_A);
    r.in.ops->pointer(r.in.ctx, 10, 10, 100, 100, 1);
    uint8_t b[HID_REPORT_MAX];
    assert_int_equal(host_read(&r.f, HID_EP_MOUSE_ABS, b, 1000), HID_ABS_REPORT_LEN);
    set_ready(&r.f, false);
    assert_true(wait_online(&r, false, 2000));
    assert_int_equal(host_read(&r.f, HID_EP_KEYBOARD, b, 1000), -1); /* closed */
    int64_t start = clock_mono_ms();
    for (int i = 0; i < 1000; i++)
        key(&r, 'b', i % 2 == 0);
    assert_true(clock_mono_ms() - start < 200);
    char err[128];
    assert_int_equal(hid_paste(r.d, "abc", NULL, err, sizeof(err)), -ENODEV);
    assert_non_null(strstr(err, "not connected"));
    struct hid_status st;
    hid_get_status(r.d, &st);
    assert_int_equal(st.events_dropped, 1000);
    assert_int_equal(st.host_losses, 1);
    /* back: the host gets the state, nothing held, nothing replayed */
    set_ready(&r.f, true);
    assert_true(wait_online(&r, true, 2000));
    expect_kbd(&r, 0, 0);
    assert_int_equal(host_read(&r.f, HID_EP_MOUSE_ABS, b, 1000), HID_ABS_REPORT_LEN);
    assert_int_equal(b[0], 0); /* button released */
    expect_quiet(&r, HID_EP_KEYBOARD, 50);
    key(&r, 'c', true);
    expect_kbd(&r, 0, 0x06);
    rig_stop(&r);
}

/* stderr to a temporary file while the worker logs; stderr_read_back
 * restores it and returns what was written (caller frees). */
static int stderr_to_file(FILE **tmp)
{
    fflush(stderr);
    int saved = dup(2);
    assert_true(saved >= 0);
    *tmp = tmpfile();
    assert_non_null(*tmp);
    assert_true(dup2(fileno(*tmp), 2) >= 0);
    return saved;
}

static char *stderr_read_back(FILE *tmp, int saved)
{
    fflush(stderr);
    assert_true(dup2(saved, 2) >= 0);
    close(saved);
    static char text[4096];
    rewind(tmp);
    size_t n = fread(text, 1, sizeof(text) - 1, tmp);
    text[n] = 0;
    fclose(tmp);
    fputs(text, stderr); /* still in the test's output */
    return text;
}

/* A target resets its USB device on every boot: the connection going with
 * nothing held or waiting is news (info), one that drops a held key is a
 * warning. Both count as a loss in the status. */
static void test_host_gone_warns_only_when_something_was_lost(void **state)
{
    (void)state;
    struct rig r;
    rig_online(&r, NULL);
    tap_a(&r);
    FILE *tmp;
    int saved = stderr_to_file(&tmp);
    set_ready(&r.f, false);
    bool offline = wait_online(&r, false, 2000);
    char *text = stderr_read_back(tmp, saved);
    assert_true(offline);
    assert_non_null(strstr(text, "the target is gone"));
    assert_null(strstr(text, " W "));
    set_ready(&r.f, true);
    assert_true(wait_online(&r, true, 2000));
    expect_kbd(&r, 0, 0);
    key(&r, 'b', true); /* held when the target goes */
    expect_kbd(&r, 0, 0x05);
    saved = stderr_to_file(&tmp);
    set_ready(&r.f, false);
    offline = wait_online(&r, false, 2000);
    text = stderr_read_back(tmp, saved);
    assert_true(offline);
    assert_non_null(strstr(text, " W hid: the target is gone"));
    assert_non_null(strstr(text, "held keys and buttons released"));
    struct hid_status st;
    hid_get_status(r.d, &st);
    assert_int_equal(st.host_losses, 2);
    rig_stop(&r);
}

static void test_release_all_and_watchdog(void **state)
{
    (void)state;
    struct rig r;
    struct hid_device_params over = {.key_hold_max_ms = 300};
    rig_online(&r, &over);
    key(&r, 0xffe3, true);
    key(&r, 'c', true);
    expect_kbd(&r, HID_MOD_LCTRL, 0);
    expect_kbd(&r, HID_MOD_LCTRL, 0x06);
    r.in.ops->release_all(r.in.ctx); /* the viewer went away */
    expect_kbd(&r, 0, 0);
    /* held with events still coming: kept */
    key(&r, 'z', true);
    expect_kbd(&r, 0, HID_KEY_Z);
    for (int i = 0; i < 12; i++) {
        sleep_ms(50);
        r.in.ops->pointer(r.in.ctx, i, i, 100, 100, 0);
    }
    expect_quiet(&r, HID_EP_KEYBOARD, 10);
    /* held without events: released by the watchdog */
    int64_t start = clock_mono_ms();
    expect_kbd(&r, 0, 0);
    int64_t waited = clock_mono_ms() - start;
    assert_true(waited >= 200 && waited < 3000);
    struct hid_status st;
    hid_get_status(r.d, &st);
    assert_int_equal(st.watchdog_releases, 1);
    rig_stop(&r);
}

static void test_leds_come_back(void **state)
{
    (void)state;
    struct rig r;
    rig_online(&r, NULL);
    hid_device_set_led_callback(r.d, on_leds, &r.f);
    uint8_t caps = 0x02; /* Caps Lock in the keyboard's output report */
    assert_int_equal(send(host_fd(&r.f, HID_EP_KEYBOARD), &caps, 1, 0), 1);
    int64_t end = clock_mono_ms() + 2000;
    while (clock_mono_ms() < end) {
        pthread_mutex_lock(&r.f.lock);
        bool seen = r.f.led_calls > 0;
        pthread_mutex_unlock(&r.f.lock);
        if (seen)
            break;
        sleep_ms(2);
    }
    assert_int_equal(r.f.leds_seen, 4); /* viewers' bit 2: Caps Lock */
    struct hid_status st;
    hid_get_status(r.d, &st);
    assert_int_equal(st.leds, 4);
    /* with Caps Lock on, 'a' is typed with Shift */
    key(&r, 'a', true);
    expect_kbd(&r, HID_MOD_LSHIFT, 0);
    expect_kbd(&r, HID_MOD_LSHIFT, HID_KEY_A);
    key(&r, 'a', false);
    hid_device_set_led_callback(r.d, NULL, NULL);
    rig_stop(&r);
}

/* A host typing in layout l from the keyboard reports it reads. */
static size_t host_type(struct rig *r, const struct hid_layout *l, bool caps, uint32_t *typed, size_t max,
                        int quiet_ms)
{
    uint8_t prev[HID_REPORT_MAX] = {0}, b[HID_REPORT_MAX];
    uint32_t dead = 0;
    size_t n = 0;
    while (host_read(&r->f, HID_EP_KEYBOARD, b, quiet_ms) > 0) {
        for (int i = 2; i < 8; i++) {
            if (!b[i] || memchr(prev + 2, b[i], 6))
                continue;
            unsigned level = ((b[0] & HID_MOD_SHIFT) ? 1 : 0) | ((b[0] & HID_MOD_RALT) ? 2 : 0);
            uint32_t c = hid_layout_char(l, b[i], level, caps);
            if (c & HID_DEAD) {
                dead = HID_DEAD_ACCENT(c);
                continue;
            }
            if (dead) {
                c = c == ' ' ? dead : hid_compose(dead, c);
                dead = 0;
            }
            if (n < max)
                typed[n++] = c;
        }
        memcpy(prev, b, sizeof(prev));
    }
    return n;
}

static void test_paste_types_the_text(void **state)
{
    (void)state;
    struct rig r;
    const struct hid_layout *de = hid_layout_find("de");
    struct hid_device_params over = {.layout = de, .paste_rate = 100};
    rig_online(&r, &over);
    /* "Grüße, Welt! @€ â\r\n" */
    const char *text = "Gr\xc3\xbc\xc3\x9f" "e, Welt! @\xe2\x82\xac \xc3\xa2\r\n";
    const uint32_t want[] = {'G', 'r', 0xfc, 0xdf, 'e', ',', ' ', 'W', 'e', 'l', 't', '!', ' ', '@', 0x20ac,
                             ' ', 0xe2, '\n'};
    char err[256];
    int64_t start = clock_mono_ms();
    assert_int_equal(hid_paste(r.d, text, NULL, err, sizeof(err)), 0);
    assert_true(clock_mono_ms() - start < 50); /* returns at once */
    uint32_t typed[64];
    size_t n = host_type(&r, de, false, typed, 64, 300);
    int64_t took = clock_mono_ms() - start - 300;
    assert_int_equal(n, sizeof(want) / sizeof(want[0]));
    assert_memory_equal(typed, want, sizeof(want));
    /* 18 characters at 100 per second: close to 0.18 s, not much faster */
    printf("pasted 18 characters at paste_rate 100 in %lld ms\n", (long long)took);
    assert_true(took >= 150 && took < 3000);
    struct hid_status st;
    hid_get_status(r.d, &st);
    assert_false(st.pasting);
    assert_int_equal(st.pastes, 1);
    /* another layout for one paste; Caps Lock on: still typed as written */
    wait_idle(&r);
    uint8_t caps = 0x02;
    send(host_fd(&r.f, HID_EP_KEYBOARD), &caps, 1, 0);
    int64_t end = clock_mono_ms() + 5000;
    do {
        hid_get_status(r.d, &st);
        sleep_ms(2);
    } while (st.leds != 4 && clock_mono_ms() < end);
    assert_int_equal(st.leds, 4);
    assert_int_equal(hid_paste(r.d, "aZ\xd0\x96", "ru", err, sizeof(err)), -EINVAL); /* ru has no Latin */
    assert_int_equal(hid_paste(r.d, "\xd0\x96\xd0\xb6 Qz", "ru", err, sizeof(err)), -EINVAL);
    assert_int_equal(hid_paste(r.d, "aZ", "us", err, sizeof(err)), 0);
    n = host_type(&r, hid_layout_find("us"), true, typed, 64, 300);
    assert_int_equal(n, 2);
    assert_int_equal(typed[0], 'a');
    assert_int_equal(typed[1], 'Z');
    wait_idle(&r);
    assert_int_equal(hid_paste(r.d, "\xd0\x96\xd0\xb6.", "ru", err, sizeof(err)), 0);
    n = host_type(&r, hid_layout_find("ru"), true, typed, 64, 300);
    assert_int_equal(n, 3);
    assert_int_equal(typed[0], 0x416);
    assert_int_equal(typed[1], 0x436);
    rig_stop(&r);
}

static void test_paste_refuses_up_front(void **state)
{
    (void)state;
    struct rig r;
    rig_online(&r, NULL);
    char err[256];
    /* "Hello ж €!" on us: two characters it cannot type, named */
    assert_int_equal(hid_paste(r.d, "Hello \xd0\xb6 \xe2\x82\xac!", NULL, err, sizeof(err)), -EINVAL);
    assert_non_null(strstr(err, "layout us cannot type"));
    assert_non_null(strstr(err, "'\xd0\xb6' (U+0436)"));
    assert_non_null(strstr(err, "U+20AC"));
    assert_int_equal(hid_paste(r.d, "ok \xc3\x28", NULL, err, sizeof(err)), -EINVAL);
    assert_non_null(strstr(err, "invalid UTF-8 at byte 3"));
    assert_int_equal(hid_paste(r.d, "abc", "klingon", err, sizeof(err)), -EINVAL);
    assert_non_null(strstr(err, "unknown layout"));
    assert_int_equal(hid_paste(r.d, "tab\there\x07", NULL, err, sizeof(err)), -EINVAL);
    assert_non_null(strstr(err, "U+0007"));
    expect_quiet(&r, HID_EP_KEYBOARD, 100); /* nothing typed */
    assert_int_equal(hid_paste(r.d, "", NULL, err, sizeof(err)), 0);
    rig_stop(&r);
}

static void test_paste_busy_cancel_and_host_loss(void **state)
{
    (void)state;
    struct rig r;
    struct hid_device_params over = {.paste_rate = 50};
    rig_online(&r, &over);
    char err[256];
    assert_int_equal(hid_paste(r.d, "a long text typed slowly", NULL, err, sizeof(err)), 0);
    assert_int_equal(hid_paste(r.d, "more", NULL, err, sizeof(err)), -EBUSY);
    assert_int_equal(hid_send_combo(r.d, "ctrl+alt+delete", err, sizeof(err)), -EBUSY);
    sleep_ms(60);
    hid_paste_cancel(r.d);
    struct hid_status st;
    hid_get_status(r.d, &st);
    assert_false(st.pasting);
    assert_int_equal(st.pastes_aborted, 1);
    uint8_t b[HID_REPORT_MAX], last[HID_REPORT_MAX] = {1};
    while (host_read(&r.f, HID_EP_KEYBOARD, b, 100) > 0)
        memcpy(last, b, sizeof(last));
    static const uint8_t zero[HID_KBD_REPORT_LEN];
    assert_memory_equal(last, zero, sizeof(zero)); /* nothing left held */
    /* the target goes away mid-paste: the paste stops, nothing resumes */
    assert_int_equal(hid_paste(r.d, "another long text typed slowly", NULL, err, sizeof(err)), 0);
    sleep_ms(60);
    set_ready(&r.f, false);
    assert_true(wait_online(&r, false, 2000));
    hid_get_status(r.d, &st);
    assert_false(st.pasting);
    assert_int_equal(st.pastes_aborted, 2);
    set_ready(&r.f, true);
    assert_true(wait_online(&r, true, 2000));
    expect_kbd(&r, 0, 0);
    expect_quiet(&r, HID_EP_KEYBOARD, 200);
    rig_stop(&r);
}

static void test_combos(void **state)
{
    (void)state;
    struct rig r;
    rig_online(&r, NULL);
    char err[128];
    assert_int_equal(hid_send_combo(r.d, "Ctrl+Alt+Delete", err, sizeof(err)), 0);
    expect_kbd(&r, HID_MOD_LCTRL, 0);
    expect_kbd(&r, HID_MOD_LCTRL | HID_MOD_LALT, 0);
    expect_kbd(&r, HID_MOD_LCTRL | HID_MOD_LALT, HID_KEY_DELETE);
    expect_kbd(&r, HID_MOD_LCTRL | HID_MOD_LALT, 0);
    expect_kbd(&r, HID_MOD_LCTRL, 0);
    expect_kbd(&r, 0, 0);
    wait_idle(&r);
    const char *sysrq[] = {"alt", "sysrq"};
    assert_int_equal(hid_send_keys(r.d, sysrq, 2, err, sizeof(err)), 0);
    expect_kbd(&r, HID_MOD_LALT, 0);
    expect_kbd(&r, HID_MOD_LALT, HID_KEY_PRINT_SCREEN);
    expect_kbd(&r, HID_MOD_LALT, 0);
    expect_kbd(&r, 0, 0);
    wait_idle(&r);
    assert_int_equal(hid_send_combo(r.d, "win", err, sizeof(err)), 0);
    expect_kbd(&r, HID_MOD_LGUI, 0);
    expect_kbd(&r, 0, 0);
    assert_int_equal(hid_send_combo(r.d, "ctrl+bogus", err, sizeof(err)), -EINVAL);
    assert_non_null(strstr(err, "bogus"));
    assert_int_equal(hid_send_combo(r.d, "ctrl+ctrl", err, sizeof(err)), -EINVAL);
    assert_int_equal(hid_send_combo(r.d, "+", err, sizeof(err)), -EINVAL);
    assert_int_equal(hid_send_combo(r.d, "a+b+c+d+e+f+g+h+i", err, sizeof(err)), -EINVAL);
    rig_stop(&r);
}

static void test_mouse_modes(void **state)
{
    (void)state;
    struct rig r;
    rig_online(&r, NULL);
    uint8_t b[HID_REPORT_MAX];
    r.in.ops->pointer(r.in.ctx, 639, 479, 640, 480, 0);
    assert_int_equal(host_read(&r.f, HID_EP_MOUSE_ABS, b, 1000), HID_ABS_REPORT_LEN);
    assert_int_equal(b[1] | b[2] << 8, 32767);
    assert_int_equal(b[3] | b[4] << 8, 32767);
    r.in.ops->pointer(r.in.ctx, 0, 0, 640, 480, 0);
    assert_int_equal(host_read(&r.f, HID_EP_MOUSE_ABS, b, 1000), HID_ABS_REPORT_LEN);
    assert_int_equal(b[1] | b[2] << 8, 0);
    char err[128];
    assert_int_equal(hid_set_mouse_mode(r.d, HID_MOUSE_RELATIVE, err, sizeof(err)), 0);
    r.in.ops->pointer(r.in.ctx, 100, 100, 640, 480, 0);
    r.in.ops->pointer(r.in.ctx, 110, 95, 640, 480, 4);
    assert_int_equal(host_read(&r.f, HID_EP_MOUSE_REL, b, 1000), HID_REL_REPORT_LEN);
    assert_int_equal(b[0], 0x02); /* right button */
    assert_int_equal((int8_t)b[1], 10);
    assert_int_equal((int8_t)b[2], -5);
    /* switching releases the buttons on the mouse left behind */
    assert_int_equal(hid_set_mouse_mode(r.d, HID_MOUSE_ABSOLUTE, err, sizeof(err)), 0);
    assert_int_equal(host_read(&r.f, HID_EP_MOUSE_REL, b, 1000), HID_REL_REPORT_LEN);
    assert_int_equal(b[0], 0);
    expect_quiet(&r, HID_EP_MOUSE_ABS, 50);
    rig_stop(&r);

    struct hid_device_params over = {.present = {true, true, false}};
    rig_online(&r, &over);
    assert_int_equal(hid_set_mouse_mode(r.d, HID_MOUSE_RELATIVE, err, sizeof(err)), -EINVAL);
    assert_non_null(strstr(err, "relative mouse"));
    rig_stop(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_keys_reach_the_host_at_once),
        cmocka_unit_test(test_slow_host_gets_everything_in_order),
        cmocka_unit_test(test_stalled_host_loses_reports_not_state),
        cmocka_unit_test(test_asleep_host_is_woken_and_gets_the_keys),
        cmocka_unit_test(test_reconfigured_host_gets_no_held_key),
        cmocka_unit_test(test_host_gone_releases_and_drops),
        cmocka_unit_test(test_host_gone_warns_only_when_something_was_lost),
        cmocka_unit_test(test_release_all_and_watchdog),
        cmocka_unit_test(test_leds_come_back),
        cmocka_unit_test(test_paste_types_the_text),
        cmocka_unit_test(test_paste_refuses_up_front),
        cmocka_unit_test(test_paste_busy_cancel_and_host_loss),
        cmocka_unit_test(test_combos),
        cmocka_unit_test(test_mouse_modes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
