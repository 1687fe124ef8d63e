/* Remote wakeup: a host that suspends its USB bus (S3, runtime suspend)
 * stops taking reports but keeps its configuration, and Linux 6.1's UDC
 * drivers (dummy_hcd, dwc2) still say "configured" then. So the sign is a
 * report the host has not taken (no POLLOUT on /dev/hidgN) for
 * wake_after_ms, or a UDC that does say "suspended": piglix then asks the
 * host to resume (hid_device_io.wakeup: the UDC's srp, usb_gadget_wakeup)
 * and retries a few times. The report already in the kernel (the key that
 * woke it) reaches the host when it polls again; what waits in piglix's
 * queues follows if the resume takes less than report_max_age_ms, else it
 * is dropped as for any host that stops polling and the host gets the state
 * now (keys released) instead: nothing stays held. A stalled host and a
 * suspended one look the same from here; asking a host that is not
 * suspended to wake up does nothing. Runs on the worker thread, under
 * d->lock. */
#include <stdint.h>
#include <string.h>

#include "common/log.h"
#include "hid/hid_device_internal.h"

#define MS 1000000LL
#define WAKE_RETRY_NS (1000 * MS)  /* a request the kernel ignored (bus not suspended yet): again */
#define WAKE_TRIES 5

static bool udc_says_suspended(const struct hid_device *d)
{
    return strcmp(d->host_state, "suspended") == 0;
}

/* When the oldest keyboard report the host has not taken was written or
 * queued; INT64_MAX when nothing waits. Only the keyboard: a running OS
 * polls an interface only while something has its input device open (a
 * text console opens keyboards, nothing opens the mice), so an untaken
 * mouse report says nothing about sleep; a BIOS polls all of them. */
static int64_t oldest_waiting(const struct hid_device *d)
{
    int64_t t = INT64_MAX;
    for (int i = HID_EP_KEYBOARD; i == HID_EP_KEYBOARD; i++) {
        const struct hid_ep *e = &d->ep[i];
        if (e->fd < 0)
            continue;
        if (e->unacked && e->written_ns < t)
            t = e->written_ns;
        if (e->q.n && e->q.e[e->q.head].queued_ns < t)
            t = e->q.e[e->q.head].queued_ns;
    }
    return t;
}

static int64_t wake_after_ns(const struct hid_device *d)
{
    return udc_says_suspended(d) ? 0 : (int64_t)d->p.wake_after_ms * MS;
}

void hid_device_wake_check(struct hid_device *d, int64_t now)
{
    if (!d->online) {
        d->asleep = false;
        return;
    }
    int64_t since = oldest_waiting(d);
    if (since == INT64_MAX || now - since < wake_after_ns(d))
        return;
    if (!d->asleep) {
        d->asleep = true;
        d->asleep_since_ns = since;
        d->wake_tries = 0;
        d->next_wake_ns = now;
        LOG_INFO("hid", "the target has not taken a report for %lld ms (USB state \"%s\"): asleep? asking it "
                 "to wake up", (long long)((now - since) / MS), d->host_state);
    }
    if (now < d->next_wake_ns)
        return;
    if (d->wake_tries >= WAKE_TRIES) {
        if (!d->wake_failed_logged)
            LOG_WARN("hid", "the target did not wake up after %d requests: its BIOS may not allow USB wakeup, "
                     "or the USB device controller cannot signal it (see hid/README.md); keys wait until it "
                     "resumes", WAKE_TRIES);
        d->wake_failed_logged = true;
        d->next_wake_ns = INT64_MAX;
        return;
    }
    d->wake_tries++;
    d->next_wake_ns = now + WAKE_RETRY_NS;
    if (!d->p.io.wakeup) {
        d->wake_tries = WAKE_TRIES;
        return;
    }
    d->st.wakeups_requested++;
    int r = d->p.io.wakeup(d->p.io.ctx);
    if (r < 0 && !d->wake_failed_logged) {
        LOG_WARN("hid", "cannot ask the target to wake up: %s", strerror(-r));
        d->wake_failed_logged = true;
    }
}

void hid_device_wake_taken(struct hid_device *d, enum hid_endpoint ep, int64_t now)
{
    d->ep[ep].unacked = false;
    if (!d->asleep || oldest_waiting(d) != INT64_MAX)
        return;
    if (d->wake_tries)
        d->st.host_wakeups++;
    LOG_INFO("hid", "the target takes reports again after %lld ms%s", (long long)((now - d->asleep_since_ns) / MS),
             d->wake_tries ? " (after a remote wakeup request)" : "");
    d->asleep = false;
    d->wake_tries = 0;
    d->wake_failed_logged = false;
}

void hid_device_wake_leds(struct hid_device *d, int64_t now)
{
    /* the host set its LEDs: it is awake, whatever it left untaken */
    d->ep[HID_EP_KEYBOARD].unacked = false;
    if (d->asleep)
        hid_device_wake_taken(d, HID_EP_KEYBOARD, now);
}

int64_t hid_device_wake_deadline(const struct hid_device *d)
{
    if (!d->online)
        return INT64_MAX;
    int64_t since = oldest_waiting(d);
    if (since == INT64_MAX)
        return INT64_MAX;
    if (!d->asleep)
        return since + wake_after_ns(d);
    return d->next_wake_ns;
}
