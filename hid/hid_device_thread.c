/* The HID worker thread: everything that happens over time rather than in
 * answer to a call (see hid.h). */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "common/liveness.h"
#include "common/clock.h"
#include "common/log.h"
#include "hid/hid_device_internal.h"
#include "hid/hid_keys.h"

#define MS 1000000LL

static void go_online(struct hid_device *d, const char *state)
{
    int fds[HID_EP_COUNT];
    for (int i = 0; i < HID_EP_COUNT; i++)
        fds[i] = -1;
    for (int i = 0; i < HID_EP_COUNT; i++) {
        if (!d->ep[i].present)
            continue;
        fds[i] = d->p.io.open(d->p.io.ctx, (enum hid_endpoint)i);
        if (fds[i] < 0) {
            if (!d->open_failed_logged)
                LOG_WARN("hid", "the target is connected (%s) but the %s cannot be opened: %s", state,
                         hid_endpoint_name((enum hid_endpoint)i), strerror(-fds[i]));
            d->open_failed_logged = true;
            for (int j = 0; j < i; j++)
                if (fds[j] >= 0)
                    close(fds[j]);
            return;
        }
    }
    for (int i = 0; i < HID_EP_COUNT; i++) {
        d->ep[i].fd = fds[i];
        d->ep[i].resync = true;
        d->ep[i].unacked = false;
    }
    d->online = true;
    d->open_failed_logged = d->drop_logged = d->announced = false;
    LOG_DEBUG("hid", "the host says %s: endpoints open", state);
}

static void apply_host_state(struct hid_device *d, bool ready, const char *state)
{
    snprintf(d->host_state, sizeof(d->host_state), "%s", state);
    /* A host that rebooted or lost the cable for a moment has forgotten
     * every key and button: forget them too, and start from all released. */
    if (d->reconfigured && d->online)
        hid_device_go_offline(d, "the host reset or configured the USB device again");
    d->reconfigured = false;
    if (ready && !d->online)
        go_online(d, state);
    else if (!ready && d->online)
        hid_device_go_offline(d, state);
}

/* The worker's own work: the LED reads, paste steps and the key watchdog
 * run on the worker thread only (their timing state is its). */
#define ASSERT_WORKER(d) THREAD_ASSERT_OWNER(&(d)->worker_owner, "hid's worker thread")

static void read_leds(struct hid_device *d)
{
    ASSERT_WORKER(d);
    uint8_t buf[HID_REPORT_MAX];
    ssize_t n = read(d->ep[HID_EP_KEYBOARD].fd, buf, sizeof(buf));
    if (n >= 1) {
        int leds = (int)hid_leds_from_report(buf[0]);
        LOG_DEBUG("hid", "keyboard LEDs from the target: 0x%02x", buf[0]);
        hid_device_wake_leds(d, clock_mono_ns());
        if (leds != d->leds) {
            d->leds = leds;
            d->leds_changed = true;
        }
        d->kb.caps_lock = (leds & HID_LED_CAPS) != 0;
    } else if (n < 0 && errno != EAGAIN && errno != EINTR) {
        char why[96];
        snprintf(why, sizeof(why), "keyboard: %s", strerror(errno));
        hid_device_go_offline(d, why);
    }
}

static void finish_paste(struct hid_device *d, int64_t now)
{
    double took = (double)(now - d->paste_started_ns) / 1e9;
    if (d->plan.chars)
        LOG_INFO("hid", "typed %zu characters (%zu reports) in %.1f s", d->plan.chars, d->plan.n, took);
    else
        LOG_INFO("hid", "sent a key combo (%zu reports)", d->plan.n);
    d->pasting = false;
    hid_plan_free(&d->plan);
    d->plan_at = 0;
    memset(&d->paste_keys, 0, sizeof(d->paste_keys));
    uint8_t buf[HID_KBD_REPORT_LEN];
    hid_device_kbd_bytes(d, buf);
    hid_device_send(d, HID_EP_KEYBOARD, buf, sizeof(buf), false, 0);
}

/* Holds the next paste states whose time has come. A step that changes
 * nothing the host sees takes no time. */
static void paste_steps(struct hid_device *d, int64_t now)
{
    ASSERT_WORKER(d);
    struct hid_ep *kbd = &d->ep[HID_EP_KEYBOARD];
    while (d->pasting && now >= d->next_step_ns) {
        if (kbd->q.n || kbd->resync) { /* let the host take what waits first */
            d->next_step_ns = now + MS;
            return;
        }
        if (d->plan_at == d->plan.n) {
            finish_paste(d, now);
            return;
        }
        const struct hid_step *s = &d->plan.steps[d->plan_at++];
        struct hid_kbd_report r = {.mods = s->mods};
        if ((s->flags & HID_STEP_CAPS) && d->kb.caps_lock)
            r.mods ^= HID_MOD_LSHIFT;
        memcpy(r.keys, s->keys, sizeof(s->keys));
        d->paste_keys = r;
        uint8_t before[HID_KBD_REPORT_LEN], now_bytes[HID_KBD_REPORT_LEN];
        memcpy(before, kbd->last, sizeof(before));
        hid_device_kbd_bytes(d, now_bytes);
        hid_device_send(d, HID_EP_KEYBOARD, now_bytes, sizeof(now_bytes), false, 0);
        if (memcmp(before, now_bytes, sizeof(before)) != 0)
            d->next_step_ns = now + d->step_ns;
    }
}

static void watchdog(struct hid_device *d, int64_t now)
{
    ASSERT_WORKER(d);
    int64_t hold = (int64_t)d->p.key_hold_max_ms * MS;
    if (hold <= 0 || !(hid_keyboard_any_held(&d->kb) || d->ptr.buttons))
        return;
    if (now - d->last_input_ns < hold)
        return;
    LOG_WARN("hid", "keys or buttons held %d ms without any event from viewers: released",
             d->p.key_hold_max_ms);
    d->st.watchdog_releases++;
    hid_device_release_viewers(d, 0);
}

static int64_t min64(int64_t a, int64_t b)
{
    return a < b ? a : b;
}

/* When the worker must next act by itself. */
static int64_t next_deadline(const struct hid_device *d, int64_t max_age_ns)
{
    int64_t t = min64(d->next_state_check_ns, hid_device_wake_deadline(d));
    if (d->pasting)
        t = min64(t, d->next_step_ns);
    if (d->p.key_hold_max_ms > 0 && (hid_keyboard_any_held(&d->kb) || d->ptr.buttons))
        t = min64(t, d->last_input_ns + (int64_t)d->p.key_hold_max_ms * MS);
    for (int i = 0; i < HID_EP_COUNT; i++) {
        const struct hid_ep *e = &d->ep[i];
        if (e->q.n)
            t = min64(t, e->q.e[e->q.head].queued_ns + max_age_ns + 1);
    }
    return t;
}

static void tell_leds(struct hid_device *d)
{
    int leds = d->leds;
    d->leds_changed = false;
    pthread_mutex_unlock(&d->lock);
    pthread_mutex_lock(&d->cb_lock);
    if (d->led_cb)
        d->led_cb(d->led_ctx, leds < 0 ? 0 : (unsigned)leds);
    pthread_mutex_unlock(&d->cb_lock);
    pthread_mutex_lock(&d->lock);
}

/* At exit: give the host a moment to take the release reports. */
static void last_flush(struct hid_device *d, int64_t max_age_ns)
{
    int64_t until = clock_mono_ns() + 100 * MS;
    for (;;) {
        int64_t now = clock_mono_ns();
        struct pollfd pfd[HID_EP_COUNT];
        nfds_t n = 0;
        for (int i = 0; i < HID_EP_COUNT; i++)
            if (hid_device_flush_ep(d, (enum hid_endpoint)i, now, max_age_ns) == 0)
                pfd[n++] = (struct pollfd){.fd = d->ep[i].fd, .events = POLLOUT};
        if (n == 0 || now >= until)
            return;
        pthread_mutex_unlock(&d->lock);
        poll(pfd, n, (int)((until - now) / MS) + 1);
        pthread_mutex_lock(&d->lock);
    }
}

void *hid_device_thread_main(void *arg)
{
    struct hid_device *d = arg;
    const int64_t max_age_ns = (int64_t)d->p.report_max_age_ms * MS;
    const int64_t state_poll_ns = (int64_t)d->p.state_poll_ms * MS;
    int64_t next_state_check = 0;
    struct liveness *live = liveness_register("hid");
    int state_fd = d->p.io.state_fd ? d->p.io.state_fd(d->p.io.ctx) : -1;
    if (state_fd < 0 && d->p.io.state_fd)
        LOG_DEBUG("hid", "no notification of the USB state (%s): polled only", strerror(-state_fd));
    pthread_mutex_lock(&d->lock);
    while (!d->stop) {
        int64_t now = clock_mono_ns();
        if (now >= next_state_check) {
            /* sysfs reads, outside the lock the server thread takes */
            pthread_mutex_unlock(&d->lock);
            char state[32] = "";
            bool ready = d->p.io.host_ready(d->p.io.ctx, state, sizeof(state));
            pthread_mutex_lock(&d->lock);
            apply_host_state(d, ready, state);
            now = clock_mono_ns();
            next_state_check = now + state_poll_ns;
            d->next_state_check_ns = next_state_check;
        }
        watchdog(d, now);
        paste_steps(d, now);
        hid_device_wake_check(d, now);
        struct pollfd pfd[2 + HID_EP_COUNT];
        int pfd_ep[2 + HID_EP_COUNT];
        nfds_t n = 0;
        pfd[n] = (struct pollfd){.fd = d->wake_fd, .events = POLLIN};
        pfd_ep[n++] = -1;
        pfd[n] = (struct pollfd){.fd = state_fd, .events = POLLPRI}; /* a negative fd is skipped */
        pfd_ep[n++] = -1;
        for (int i = 0; i < HID_EP_COUNT; i++) {
            int r = hid_device_flush_ep(d, (enum hid_endpoint)i, now, max_age_ns);
            struct hid_ep *e = &d->ep[i];
            if (!d->online || e->fd < 0)
                continue;
            /* POLLOUT also for a report written but not taken yet: when
             * it comes, the host is polling (awake) */
            short events = (short)((i == HID_EP_KEYBOARD ? POLLIN : 0) | (r == 0 || e->unacked ? POLLOUT : 0));
            if (events) {
                pfd[n] = (struct pollfd){.fd = e->fd, .events = events};
                pfd_ep[n++] = i;
            }
        }
        if (d->leds_changed)
            tell_leds(d);
        if (d->stop)
            break;
        now = clock_mono_ns();
        int64_t wait_ns = next_deadline(d, max_age_ns) - now;
        int timeout = wait_ns <= 0 ? 0 : (int)((wait_ns + MS - 1) / MS);
        pthread_mutex_unlock(&d->lock);
        liveness_beat(live);
        int pr = poll(pfd, n, liveness_poll_ms(timeout));
        pthread_mutex_lock(&d->lock);
        if (pr <= 0)
            continue;
        if (pfd[0].revents & POLLIN) {
            uint64_t v;
            if (read(d->wake_fd, &v, sizeof(v)) < 0 && errno != EAGAIN)
                LOG_WARN("hid", "eventfd read: %s", strerror(errno));
        }
        if (pfd[1].revents & (POLLPRI | POLLERR)) { /* sysfs_notify: the kernel set the state */
            d->p.io.state_fd_rearm(state_fd);
            LOG_DEBUG("hid", "the USB state changed");
            d->reconfigured = d->online;
            next_state_check = 0;
        }
        for (nfds_t i = 2; i < n; i++) {
            int ep = pfd_ep[i];
            if (!d->online || d->ep[ep].fd != pfd[i].fd)
                continue; /* closed meanwhile */
            if (pfd[i].revents & (POLLERR | POLLHUP | POLLNVAL)) {
                char why[64];
                snprintf(why, sizeof(why), "%s: device error", hid_endpoint_name((enum hid_endpoint)ep));
                hid_device_go_offline(d, why);
                continue;
            }
            if (pfd[i].revents & POLLOUT)
                hid_device_wake_taken(d, (enum hid_endpoint)ep, clock_mono_ns());
            if (ep == HID_EP_KEYBOARD && (pfd[i].revents & POLLIN))
                read_leds(d);
        }
    }
    last_flush(d, max_age_ns);
    pthread_mutex_unlock(&d->lock);
    liveness_unregister(live);
    if (state_fd >= 0)
        close(state_fd);
    return NULL;
}
