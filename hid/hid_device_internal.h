/* hid/hid_device_internal: what hid_device.c (the callers' side) and
 * hid_device_thread.c (the worker) share. Every field is guarded by lock
 * except where noted. */
#ifndef PIGLIX_HID_DEVICE_INTERNAL_H
#define PIGLIX_HID_DEVICE_INTERNAL_H

#include <pthread.h>

#include "common/thread.h"

#include "common/clock.h"
#include "hid/hid.h"
#include "hid/hid_keyboard.h"
#include "hid/hid_outq.h"
#include "hid/hid_plan.h"

struct hid_ep {
    bool present;
    int fd;                          /* -1 while the host is away */
    struct hid_outq q;
    bool resync;                     /* send the state before anything queued */
    uint8_t last[HID_REPORT_MAX];    /* the last keyboard report sent or dropped */
    bool unacked;                    /* written, not taken by the host yet (no POLLOUT) */
    int64_t written_ns;              /* when that report was written */
};

struct hid_device {
    pthread_mutex_t lock;
    pthread_t thread;
    int wake_fd;                     /* eventfd: work for the worker */
    bool stop;

    struct hid_device_params p;
    struct hid_ep ep[HID_EP_COUNT];
    bool online;
    bool open_failed_logged, drop_logged;
    bool announced;                  /* a report went through since online: say so once */
    char host_state[32];
    int64_t next_state_check_ns;
    bool reconfigured;               /* the host (re)configured or reset the device since the last check */

    struct hid_keyboard kb;
    struct hid_pointer ptr;
    int64_t last_input_ns;

    struct hid_plan plan;            /* the paste or combo being typed */
    size_t plan_at;
    bool pasting;
    int64_t next_step_ns, step_ns, paste_started_ns;
    struct hid_kbd_report paste_keys; /* what the paste holds now */

    int leds;                        /* -1: never reported */
    bool leds_changed;               /* to be told to the callback */

    pthread_mutex_t cb_lock;         /* guards the callback and its calls */
    void (*led_cb)(void *ctx, unsigned leds);
    void *led_ctx;

    /* remote wakeup (hid_device_wake.c): a report the host does not take */
    bool asleep;                     /* asking it to wake up, or it took nothing since */
    int wake_tries;
    int64_t asleep_since_ns, next_wake_ns;
    bool wake_failed_logged;

    struct hid_status st;            /* counters */
    struct thread_owner input_owner; /* the thread calling struct hid_input (test builds) */
    struct thread_owner worker_owner; /* hid_device_thread_main's thread */
};

void hid_device_wake(struct hid_device *d);

/* Sends one report to an endpoint: written at once when nothing waits,
 * else queued for the worker; dropped (and counted) while the host is away. */
void hid_device_send(struct hid_device *d, enum hid_endpoint ep, const uint8_t *data, unsigned len,
                     bool mergeable, int64_t event_ns);
/* Sends the keyboard state: the viewers' keys with the paste's. */
void hid_device_send_kbd(struct hid_device *d, const struct hid_kbd_report *viewer, int64_t event_ns);
void hid_device_send_mouse(struct hid_device *d, enum hid_endpoint ep, const struct hid_mouse_report *r,
                           bool mergeable, int64_t event_ns);
/* Writes what waits for an endpoint until the host stops taking reports:
 * 1 all written, 0 the host has one pending (poll for POLLOUT), -1 the
 * endpoint is closed or gone. Reports older than max_age_ns are dropped. */
int hid_device_flush_ep(struct hid_device *d, enum hid_endpoint ep, int64_t now, int64_t max_age_ns);
/* The keyboard report for the state now (viewers' keys with the paste's). */
void hid_device_kbd_bytes(struct hid_device *d, uint8_t out[HID_KBD_REPORT_LEN]);
/* Releases viewers' keys and buttons (reports sent). */
void hid_device_release_viewers(struct hid_device *d, int64_t event_ns);
/* Ends a paste early; its keys are released when send is true. */
void hid_device_abort_paste(struct hid_device *d, const char *why, bool send);
/* The host went away: drop, release, close. */
void hid_device_go_offline(struct hid_device *d, const char *why);

/* Remote wakeup, on the worker: asks a host that has not taken a report
 * for wake_after_ms (or whose UDC says "suspended") to resume; notices it
 * took one again. hid_device_wake_deadline: when the next check is due
 * (INT64_MAX: none). */
void hid_device_wake_check(struct hid_device *d, int64_t now);
void hid_device_wake_taken(struct hid_device *d, enum hid_endpoint ep, int64_t now);
void hid_device_wake_leds(struct hid_device *d, int64_t now); /* an LED report: the host is awake */
int64_t hid_device_wake_deadline(const struct hid_device *d);

void *hid_device_thread_main(void *arg);

#endif
