#include "hid/hid_device_internal.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "common/clock.h"
#include "common/log.h"
#include "common/thread.h"
#include "hid/hid_keys.h"

void hid_device_wake(struct hid_device *d)
{
    uint64_t one = 1;
    if (write(d->wake_fd, &one, sizeof(one)) < 0 && errno != EAGAIN)
        LOG_WARN("hid", "eventfd write: %s", strerror(errno));
}

/* ---- writing reports ---------------------------------------------------- */

static void add_latency(struct hid_latency *l, int64_t ns)
{
    l->count++;
    l->sum_ns += (uint64_t)ns;
    if ((uint64_t)ns > l->max_ns)
        l->max_ns = (uint64_t)ns;
}

/* 1 written, 0 the host has not taken the previous one yet, -1 gone.
 * waited: it was queued (the host had not polled for the one before). */
static int write_report(struct hid_device *d, enum hid_endpoint ep, const uint8_t *data, unsigned len,
                        int64_t event_ns, bool waited)
{
    ssize_t w = write(d->ep[ep].fd, data, len);
    if (w == (ssize_t)len) {
        d->st.reports_written++;
        d->ep[ep].unacked = true; /* until POLLOUT: the host took it */
        d->ep[ep].written_ns = clock_mono_ns();
        if (!d->announced) {
            d->announced = true;
            LOG_INFO("hid", "the target is connected (%s)", d->host_state);
        }
        if (event_ns && ep == HID_EP_KEYBOARD) {
            int64_t took = clock_mono_ns() - event_ns;
            add_latency(&d->st.latency, took);
            if (!waited)
                add_latency(&d->st.latency_direct, took);
            LOG_DEBUG("hid", "keyboard report %02x %02x%02x%02x%02x%02x%02x written %lld us after its event%s",
                      data[0], data[2], data[3], data[4], data[5], data[6], data[7], (long long)(took / 1000),
                      waited ? " (waited for the host's poll)" : "");
        }
        return 1;
    }
    if (w < 0 && (errno == EAGAIN || errno == EINTR))
        return 0;
    char why[96];
    snprintf(why, sizeof(why), "%s: %s", hid_endpoint_name(ep), w < 0 ? strerror(errno) : "short write");
    hid_device_go_offline(d, why);
    return -1;
}

/* The state an endpoint's host should see now (after reports were lost). */
static unsigned state_report(struct hid_device *d, enum hid_endpoint ep, uint8_t out[HID_REPORT_MAX])
{
    if (ep == HID_EP_KEYBOARD) {
        hid_device_kbd_bytes(d, out);
        return HID_KBD_REPORT_LEN;
    }
    struct hid_mouse_report r = {0};
    bool active = (ep == HID_EP_MOUSE_ABS) == (d->ptr.mode == HID_MOUSE_ABSOLUTE);
    if (active)
        hid_pointer_report(&d->ptr, &r);
    return (unsigned)hid_mouse_encode(ep, &r, out);
}

static void drop_queue(struct hid_device *d, enum hid_endpoint ep, const char *why)
{
    struct hid_ep *e = &d->ep[ep];
    unsigned n = hid_outq_clear(&e->q);
    d->st.reports_dropped += n;
    e->resync = true;
    if (!d->drop_logged) {
        LOG_WARN("hid", "%s: %u reports dropped (%s); the host gets the current state when it polls again",
                 hid_endpoint_name(ep), n, why);
        d->drop_logged = true;
    }
    if (ep == HID_EP_KEYBOARD && d->pasting)
        hid_device_abort_paste(d, why, false);
}

void hid_device_send(struct hid_device *d, enum hid_endpoint ep, const uint8_t *data, unsigned len,
                     bool mergeable, int64_t event_ns)
{
    struct hid_ep *e = &d->ep[ep];
    if (!e->present)
        return;
    if (ep == HID_EP_KEYBOARD) {
        if (memcmp(e->last, data, len) == 0)
            return; /* a boot keyboard report is a state: the same again is nothing */
        memcpy(e->last, data, len);
    }
    if (!d->online || e->fd < 0) {
        d->st.reports_dropped++;
        return;
    }
    if (e->q.n == 0 && !e->resync) {
        if (write_report(d, ep, data, len, event_ns, false) != 0)
            return;
    }
    if (!hid_outq_push(&e->q, data, len, mergeable, event_ns, clock_mono_ns())) {
        d->st.reports_dropped++;
        drop_queue(d, ep, "queue full: the host is not polling");
        return;
    }
    hid_device_wake(d);
}

int hid_device_flush_ep(struct hid_device *d, enum hid_endpoint ep, int64_t now, int64_t max_age_ns)
{
    struct hid_ep *e = &d->ep[ep];
    while (d->online && e->fd >= 0) {
        if (e->resync) {
            uint8_t buf[HID_REPORT_MAX];
            unsigned len = state_report(d, ep, buf);
            int r = write_report(d, ep, buf, len, 0, true);
            if (r <= 0)
                return r;
            if (ep == HID_EP_KEYBOARD)
                memcpy(e->last, buf, len);
            e->resync = false;
            continue;
        }
        struct hid_outq_entry *h = hid_outq_head(&e->q);
        if (!h)
            return 1;
        if (now - h->queued_ns > max_age_ns) {
            drop_queue(d, ep, "the host stopped polling");
            continue;
        }
        int r = write_report(d, ep, h->data, h->len, h->event_ns, true);
        if (r <= 0)
            return r;
        d->st.reports_waited++;
        hid_outq_pop(&e->q);
    }
    return -1;
}

/* Adds what the paste holds to a viewers' report. */
static void add_paste_keys(const struct hid_device *d, struct hid_kbd_report *r)
{
    r->mods |= d->paste_keys.mods;
    int n = 0;
    while (n < 6 && r->keys[n])
        n++;
    for (int i = 0; i < 6 && d->paste_keys.keys[i] && n < 6; i++) {
        bool dup = false;
        for (int j = 0; j < n; j++)
            dup = dup || r->keys[j] == d->paste_keys.keys[i];
        if (!dup)
            r->keys[n++] = d->paste_keys.keys[i];
    }
}

void hid_device_kbd_bytes(struct hid_device *d, uint8_t out[HID_KBD_REPORT_LEN])
{
    struct hid_kbd_report r;
    hid_keyboard_report(&d->kb, &r);
    add_paste_keys(d, &r);
    hid_kbd_encode(&r, out);
}

void hid_device_send_kbd(struct hid_device *d, const struct hid_kbd_report *viewer, int64_t event_ns)
{
    /* viewer may be an intermediate state (modifiers before their key). */
    struct hid_kbd_report r = *viewer;
    add_paste_keys(d, &r);
    uint8_t buf[HID_KBD_REPORT_LEN];
    hid_kbd_encode(&r, buf);
    hid_device_send(d, HID_EP_KEYBOARD, buf, sizeof(buf), false, event_ns);
}

void hid_device_send_mouse(struct hid_device *d, enum hid_endpoint ep, const struct hid_mouse_report *r,
                           bool mergeable, int64_t event_ns)
{
    uint8_t buf[HID_REPORT_MAX];
    size_t len = hid_mouse_encode(ep, r, buf);
    hid_device_send(d, ep, buf, (unsigned)len, mergeable, event_ns);
}

static enum hid_endpoint pointer_ep(const struct hid_device *d)
{
    return d->ptr.mode == HID_MOUSE_ABSOLUTE ? HID_EP_MOUSE_ABS : HID_EP_MOUSE_REL;
}

void hid_device_release_viewers(struct hid_device *d, int64_t event_ns)
{
    struct hid_kbd_report kr[HID_KBD_MAX_REPORTS];
    int n = hid_keyboard_release_all(&d->kb, kr);
    for (int i = 0; i < n; i++)
        hid_device_send_kbd(d, &kr[i], event_ns);
    struct hid_mouse_report mr;
    if (hid_pointer_release(&d->ptr, &mr))
        hid_device_send_mouse(d, pointer_ep(d), &mr, false, event_ns);
}

void hid_device_abort_paste(struct hid_device *d, const char *why, bool send)
{
    if (!d->pasting)
        return;
    if (d->plan_at < d->plan.n) { /* else it was only waiting for its last step's time */
        LOG_WARN("hid", "paste stopped after %zu of %zu steps: %s", d->plan_at, d->plan.n, why);
        d->st.pastes_aborted++;
    }
    d->pasting = false;
    hid_plan_free(&d->plan);
    d->plan_at = 0;
    memset(&d->paste_keys, 0, sizeof(d->paste_keys));
    if (send) {
        uint8_t buf[HID_KBD_REPORT_LEN];
        hid_device_kbd_bytes(d, buf);
        hid_device_send(d, HID_EP_KEYBOARD, buf, sizeof(buf), false, 0);
    }
}

void hid_device_go_offline(struct hid_device *d, const char *why)
{
    if (!d->online)
        return;
    d->online = false;
    /* What the target loses with the connection: the keys and buttons the
     * viewers hold, the reports it had not taken, the rest of a paste. */
    bool held = d->kb.nkeys > 0 || d->kb.mods != 0 || d->ptr.buttons != 0;
    bool pasting = d->pasting && d->plan_at < d->plan.n;
    unsigned dropped = 0;
    for (int i = 0; i < HID_EP_COUNT; i++) {
        struct hid_ep *e = &d->ep[i];
        dropped += hid_outq_clear(&e->q);
        if (e->fd >= 0)
            close(e->fd);
        e->fd = -1;
        e->resync = true;
        e->unacked = false;
    }
    d->st.reports_dropped += dropped;
    if (d->announced) {
        d->st.host_losses++;
        /* A target resets its USB device on every boot (firmware, then the
         * OS, configure it in turn): a warning only when that cost something. */
        if (held || pasting || dropped > 0) {
            char lost[96] = "";
            size_t n = 0;
            if (held)
                n += (size_t)snprintf(lost + n, sizeof(lost) - n, "held keys and buttons released");
            if (pasting && n < sizeof(lost))
                n += (size_t)snprintf(lost + n, sizeof(lost) - n, "%spaste stopped", n ? ", " : "");
            if (dropped > 0 && n < sizeof(lost))
                snprintf(lost + n, sizeof(lost) - n, "%s%u unsent reports dropped", n ? ", " : "", dropped);
            LOG_WARN("hid", "the target is gone (%s): %s; input is dropped until it is back", why, lost);
        } else
            LOG_INFO("hid", "the target is gone (%s); nothing was held or waiting", why);
    } else { /* the UDC said "configured" before the function was ready: try again */
        LOG_DEBUG("hid", "the target is not ready yet (%s)", why);
    }
    d->asleep = false;
    struct hid_kbd_report kr[HID_KBD_MAX_REPORTS];
    hid_keyboard_release_all(&d->kb, kr);
    struct hid_mouse_report mr;
    hid_pointer_release(&d->ptr, &mr);
    hid_device_abort_paste(d, "the target is gone", false);
    memset(d->ep[HID_EP_KEYBOARD].last, 0, sizeof(d->ep[0].last));
    if (d->leds > 0)
        d->leds_changed = true;
    if (d->leds != -1)
        d->leds = 0;
    d->kb.caps_lock = false;
    hid_device_wake(d); /* the worker tells the LED change */
}

/* ---- struct hid_input: the server thread -------------------------------- */

static void op_key(struct hid_device *d, bool scancode, uint32_t xt, uint32_t keysym, bool down)
{
    int64_t t = clock_mono_ns();
    pthread_mutex_lock(&d->lock);
    d->last_input_ns = t;
    d->st.key_events++;
    if (!d->online) { /* nothing is held for a host that is not there */
        d->st.events_dropped++;
        pthread_mutex_unlock(&d->lock);
        return;
    }
    uint64_t unmapped = d->kb.unmapped;
    struct hid_kbd_report r[HID_KBD_MAX_REPORTS];
    int n = scancode ? hid_keyboard_key_xt(&d->kb, xt, keysym, down, r)
                     : hid_keyboard_key_sym(&d->kb, keysym, down, r);
    for (int i = 0; i < n; i++)
        hid_device_send_kbd(d, &r[i], t);
    if (d->kb.unmapped != unmapped)
        LOG_DEBUG("hid", "no key types keysym 0x%04x in layout %s", keysym, d->kb.layout->name);
    pthread_mutex_unlock(&d->lock);
}

/* struct hid_input's calls come from one thread (the VNC server's): the
 * viewer key state in d->kb assumes events arrive in one order. */
#define ASSERT_INPUT_THREAD(d) THREAD_ASSERT_OWNER(&(d)->input_owner, "hid's viewer input (struct hid_input)")

static void op_key_sym(void *ctx, uint32_t keysym, bool down)
{
    ASSERT_INPUT_THREAD((struct hid_device *)ctx);
    op_key(ctx, false, 0, keysym, down);
}

static void op_key_code(void *ctx, uint32_t xt, uint32_t keysym, bool down)
{
    ASSERT_INPUT_THREAD((struct hid_device *)ctx);
    op_key(ctx, true, xt, keysym, down);
}

void hid_device_pointer(struct hid_device *d, int x, int y, unsigned width, unsigned height, uint8_t buttons)
{
    int64_t t = clock_mono_ns();
    pthread_mutex_lock(&d->lock);
    d->last_input_ns = t;
    d->st.pointer_events++;
    if (!d->online) {
        d->st.events_dropped++;
        pthread_mutex_unlock(&d->lock);
        return;
    }
    struct hid_mouse_report r[HID_POINTER_MAX_REPORTS];
    uint8_t before = d->ptr.buttons;
    int n = hid_pointer_event(&d->ptr, x, y, width, height, buttons, r);
    enum hid_endpoint ep = pointer_ep(d);
    for (int i = 0; i < n; i++) {
        /* Absolute motion with the buttons unchanged may replace motion
         * still waiting: only the newest position matters. */
        bool motion = ep == HID_EP_MOUSE_ABS && !r[i].wheel && !r[i].pan && r[i].buttons == before;
        hid_device_send_mouse(d, ep, &r[i], motion, t);
        before = r[i].buttons;
    }
    pthread_mutex_unlock(&d->lock);
}

static void op_pointer(void *ctx, int x, int y, unsigned w, unsigned h, uint8_t buttons)
{
    ASSERT_INPUT_THREAD((struct hid_device *)ctx);
    hid_device_pointer(ctx, x, y, w, h, buttons);
}

static void op_release_all(void *ctx)
{
    struct hid_device *d = ctx;
    ASSERT_INPUT_THREAD(d);
    pthread_mutex_lock(&d->lock);
    hid_device_release_viewers(d, 0);
    pthread_mutex_unlock(&d->lock);
}

static const struct hid_input_ops device_ops = {
    .key_sym = op_key_sym,
    .key_code = op_key_code,
    .pointer = op_pointer,
    .release_all = op_release_all,
};

void hid_device_input(struct hid_device *d, struct hid_input *in)
{
    in->ops = &device_ops;
    in->ctx = d;
}

/* ---- the API for other threads ------------------------------------------ */

static int start_plan(struct hid_device *d, struct hid_plan *plan, char *err, size_t errlen)
{
    pthread_mutex_lock(&d->lock);
    int r = 0;
    if (!d->online) {
        hid_set_err(err, errlen, "the target is not connected (%s)", d->host_state);
        r = -ENODEV;
    } else if (d->pasting) {
        hid_set_err(err, errlen, "a paste is still being typed (%zu of %zu steps left)", d->plan.n - d->plan_at,
                d->plan.n);
        r = -EBUSY;
    } else {
        d->plan = *plan;
        memset(plan, 0, sizeof(*plan));
        d->plan_at = 0;
        d->pasting = true;
        d->paste_started_ns = d->next_step_ns = clock_mono_ns();
        d->st.pastes++;
        hid_device_wake(d);
    }
    pthread_mutex_unlock(&d->lock);
    hid_plan_free(plan);
    return r;
}

int hid_paste(struct hid_device *d, const char *text, const char *layout, char *err, size_t errlen)
{
    const struct hid_layout *l = layout && *layout ? hid_layout_find(layout) : d->p.layout;
    if (!l) {
        hid_set_err(err, errlen, "unknown layout '%s' (known: %s)", layout, hid_layout_names());
        return -EINVAL;
    }
    if (!text) {
        hid_set_err(err, errlen, "no text");
        return -EINVAL;
    }
    struct hid_plan plan = {0};
    int r = hid_plan_text(&plan, l, text, strlen(text), err, errlen);
    if (r < 0) {
        hid_plan_free(&plan);
        return r;
    }
    if (plan.n == 0)
        return 0;
    return start_plan(d, &plan, err, errlen);
}

int hid_send_combo(struct hid_device *d, const char *combo, char *err, size_t errlen)
{
    struct hid_plan plan = {0};
    int r = hid_plan_combo_string(&plan, combo, err, errlen);
    if (r < 0) {
        hid_plan_free(&plan);
        return r;
    }
    return start_plan(d, &plan, err, errlen);
}

int hid_send_keys(struct hid_device *d, const char *const *keys, int n, char *err, size_t errlen)
{
    struct hid_plan plan = {0};
    int r = hid_plan_combo(&plan, keys, n, err, errlen);
    if (r < 0) {
        hid_plan_free(&plan);
        return r;
    }
    return start_plan(d, &plan, err, errlen);
}

void hid_paste_cancel(struct hid_device *d)
{
    pthread_mutex_lock(&d->lock);
    hid_device_abort_paste(d, "cancelled", true);
    pthread_mutex_unlock(&d->lock);
}

int hid_set_mouse_mode(struct hid_device *d, enum hid_mouse_mode mode, char *err, size_t errlen)
{
    enum hid_endpoint ep = mode == HID_MOUSE_ABSOLUTE ? HID_EP_MOUSE_ABS : HID_EP_MOUSE_REL;
    if (!d->p.present[ep]) {
        hid_set_err(err, errlen, "the %s is not presented ([hid] mouse)", hid_endpoint_name(ep));
        return -EINVAL;
    }
    pthread_mutex_lock(&d->lock);
    if (d->ptr.mode != mode) {
        struct hid_mouse_report r;
        if (hid_pointer_release(&d->ptr, &r))
            hid_device_send_mouse(d, pointer_ep(d), &r, false, 0);
        hid_pointer_set_mode(&d->ptr, mode);
        LOG_INFO("hid", "pointer: the %s", hid_endpoint_name(ep));
    }
    pthread_mutex_unlock(&d->lock);
    return 0;
}

void hid_get_status(struct hid_device *d, struct hid_status *out)
{
    pthread_mutex_lock(&d->lock);
    *out = d->st;
    out->online = d->online;
    snprintf(out->host_state, sizeof(out->host_state), "%s", d->host_state);
    out->mouse_mode = d->ptr.mode;
    for (int i = 0; i < HID_EP_COUNT; i++)
        out->present[i] = d->ep[i].present;
    out->leds = d->leds;
    snprintf(out->layout, sizeof(out->layout), "%s", d->p.layout->name);
    out->pasting = d->pasting;
    out->paste_steps_left = d->pasting ? d->plan.n - d->plan_at : 0;
    out->unmapped_keys = d->kb.unmapped;
    out->host_asleep = d->online && (d->asleep || strcmp(d->host_state, "suspended") == 0);
    pthread_mutex_unlock(&d->lock);
}

void hid_device_set_led_callback(struct hid_device *d, void (*fn)(void *ctx, unsigned leds), void *ctx)
{
    pthread_mutex_lock(&d->cb_lock);
    d->led_cb = fn;
    d->led_ctx = ctx;
    pthread_mutex_unlock(&d->cb_lock);
}

/* ---- lifecycle ---------------------------------------------------------- */

struct hid_device *hid_device_create(const struct hid_device_params *p)
{
    struct hid_device *d = calloc(1, sizeof(*d));
    if (!d) {
        LOG_ERROR("hid", "out of memory");
        return NULL;
    }
    d->p = *p;
    if (d->p.paste_rate < 1)
        d->p.paste_rate = 1;
    if (d->p.state_poll_ms <= 0)
        d->p.state_poll_ms = 200;
    if (d->p.report_max_age_ms <= 0)
        d->p.report_max_age_ms = 500;
    if (d->p.wake_after_ms <= 0)
        d->p.wake_after_ms = 100;
    /* Each character is a press and a release: two steps per character. */
    d->step_ns = 1000000000LL / (2 * d->p.paste_rate);
    for (int i = 0; i < HID_EP_COUNT; i++) {
        d->ep[i].present = p->present[i];
        d->ep[i].fd = -1;
    }
    enum hid_mouse_mode mode = p->mouse_mode;
    if (mode == HID_MOUSE_ABSOLUTE && !p->present[HID_EP_MOUSE_ABS])
        mode = HID_MOUSE_RELATIVE;
    if (mode == HID_MOUSE_RELATIVE && !p->present[HID_EP_MOUSE_REL])
        mode = HID_MOUSE_ABSOLUTE;
    hid_pointer_init(&d->ptr, mode);
    hid_keyboard_init(&d->kb, p->layout);
    d->leds = -1;
    snprintf(d->host_state, sizeof(d->host_state), "unknown");
    pthread_mutex_init(&d->lock, NULL);
    pthread_mutex_init(&d->cb_lock, NULL);
    d->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (d->wake_fd < 0) {
        LOG_ERROR("hid", "eventfd: %s", strerror(errno));
        goto fail;
    }
    int r = thread_start(&d->thread, hid_device_thread_main, d);
    if (r != 0) {
        LOG_ERROR("hid", "cannot start the HID thread: %s", strerror(r));
        close(d->wake_fd);
        goto fail;
    }
    return d;
fail:
    pthread_mutex_destroy(&d->lock);
    pthread_mutex_destroy(&d->cb_lock);
    free(d);
    return NULL;
}

void hid_device_destroy(struct hid_device *d)
{
    if (!d)
        return;
    pthread_mutex_lock(&d->lock);
    d->stop = true;
    hid_device_abort_paste(d, "piglix is stopping", false);
    hid_device_release_viewers(d, 0);
    hid_device_wake(d);
    pthread_mutex_unlock(&d->lock);
    pthread_join(d->thread, NULL);
    for (int i = 0; i < HID_EP_COUNT; i++)
        if (d->ep[i].fd >= 0)
            close(d->ep[i].fd);
    close(d->wake_fd);
    hid_plan_free(&d->plan);
    pthread_mutex_destroy(&d->lock);
    pthread_mutex_destroy(&d->cb_lock);
    free(d);
}
