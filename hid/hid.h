/* hid/: the keyboard and mice that viewers command. Owns the input interface
 * (struct hid_input) the VNC server delivers viewers' events to (from the
 * server thread only; calls never block), the USB device implementing it on
 * the gadget's HID functions (hid_device: pastes, combos, mouse mode and
 * status from any thread), and hid_usb, which makes both from [hid]. */
#ifndef PIGLIX_HID_H
#define PIGLIX_HID_H

#include <stdbool.h>
#include <stdint.h>
#include <stddef.h>
#include <sys/types.h>
#include "hid/hid_layout.h"
#include "hid/hid_pointer.h"
#include "hid/hid_report.h"
#include "common/config.h"

struct hid_input_ops {
    /* A key by X11 keysym (RFB KeyEvent); the backend maps it through the
     * target's keyboard layout. */
    void (*key_sym)(void *ctx, uint32_t keysym, bool down);
    /* A key by XT scancode as in the QEMU Extended Key Event (0xE0-prefixed
     * keys have 0x80 added to the low byte, i.e. 0xE0 0x48 -> 0xC8);
     * keysym is informational. Layout-independent. */
    void (*key_code)(void *ctx, uint32_t xt_scancode, uint32_t keysym, bool down);
    /* Absolute pointer in a width x height screen; buttons is the RFB mask
     * (bit 0 left, 1 middle, 2 right, 3/4 wheel up/down, 5/6 wheel left/right). */
    void (*pointer)(void *ctx, int x, int y, unsigned width, unsigned height, uint8_t buttons);
    /* Release every key and button one viewer holds (viewer gone). */
    void (*release_all)(void *ctx);
};

struct hid_input {
    const struct hid_input_ops *ops;
    void *ctx;
};

struct hid_log_counters {
    uint64_t key_sym, key_code, pointer, release_all;
};

/* The backend that logs (at debug level) and counts events. */
void hid_log_input_init(struct hid_input *in, struct hid_log_counters *counters);

/* ---- the USB keyboard and mice (hid_device.c) ---- */
/* hid/hid_device: the USB keyboard and mice at run time. It is a
 * struct hid_input backend (viewers' key and pointer events from the server
 * thread) and the API for pastes, key combos, the mouse mode and status
 * (from any thread). Nothing here blocks a caller: reports are written
 * non-blocking; a burst the host has not polled yet waits a few ms in a
 * small queue; a host that is off or unplugged gets nothing (reports
 * are dropped and counted, never replayed) and its keys are released. A
 * host that stops taking reports while configured (suspended) is asked to
 * wake up: the report that waits in the kernel is the key that woke it, what
 * waits here goes after it (within report_max_age_ms, else the state now). A
 * worker thread drains the queues, types pastes at their rate, watches the
 * host's connection, reads the keyboard LEDs and releases keys held too
 * long without events. */
/* How the device reaches its endpoints and learns whether the host is
 * there: the USB gadget's /dev/hidgN in piglix (hid_usb.c), socketpairs in tests. */
struct hid_device_io {
    /* Opens an endpoint's device file read-write and non-blocking: an fd,
     * or a negative errno. */
    int (*open)(void *ctx, enum hid_endpoint ep);
    /* Whether the USB host has configured the device now; state describes
     * it ("configured", "suspended", "not bound", ...). */
    bool (*host_ready)(void *ctx, char *state, size_t n);
    /* Asks a suspended host to resume (USB remote wakeup); never blocks.
     * 0 or a negative errno. NULL: the device cannot. */
    int (*wakeup)(void *ctx);
    /* An fd that poll() reports POLLPRI on when the host (re)configures
     * or resets the device, and how to re-arm it after each; a negative
     * errno when there is none. NULL: none (the state is only polled). */
    int (*state_fd)(void *ctx);
    void (*state_fd_rearm)(int fd);
    void *ctx;
};

struct hid_device_params {
    struct hid_device_io io;
    bool present[HID_EP_COUNT];  /* which functions the gadget presents */
    const struct hid_layout *layout;
    enum hid_mouse_mode mouse_mode;
    int paste_rate;              /* characters per second */
    int key_hold_max_ms;         /* release keys held this long without events; 0: never */
    int state_poll_ms;           /* how often the host state is read; 0: 200 */
    int report_max_age_ms;       /* a report not taken by then is dropped; 0: 500 */
    int wake_after_ms;           /* a report not taken this long: ask the host to wake up; 0: 100 */
};

struct hid_status {
    bool online;                 /* the host has configured the keyboard and mice */
    char host_state[32];
    enum hid_mouse_mode mouse_mode;
    bool present[HID_EP_COUNT];
    int leds;                    /* bit 0 Scroll, 1 Num, 2 Caps Lock; -1 never reported */
    char layout[8];
    bool pasting;
    size_t paste_steps_left;
    uint64_t key_events, pointer_events;
    uint64_t events_dropped;     /* arrived while the target was away: ignored */
    uint64_t reports_written, reports_dropped;
    uint64_t reports_waited;     /* written after waiting for the host's poll */
    uint64_t watchdog_releases, host_losses, unmapped_keys;
    uint64_t pastes, pastes_aborted;
    /* The host stopped taking reports (suspended, S3) or its UDC says
     * "suspended": input asks it to wake up (USB remote wakeup) and waits
     * for it; false again once it takes a report. */
    bool host_asleep;
    uint64_t wakeups_requested;  /* requests sent to the UDC */
    uint64_t host_wakeups;       /* the host took reports again after a request */
    /* From a viewer's key event arriving to its keyboard report written to
     * the device: all reports, and those written at once (not queued behind
     * one the host had not polled yet: piglix's own share). */
    struct hid_latency {
        uint64_t count, sum_ns, max_ns;
    } latency, latency_direct;
};

struct hid_device;

/* Starts the worker thread. NULL (logged) when that fails. */
struct hid_device *hid_device_create(const struct hid_device_params *p);
/* Releases everything held (best effort), stops the thread, closes. */
void hid_device_destroy(struct hid_device *d);

/* The struct hid_input backend (calls from one thread: the server's). */
void hid_device_input(struct hid_device *d, struct hid_input *in);

/* Called from the worker thread when the host sets the keyboard LEDs (and
 * with 0 when the host goes away). fn NULL stops the calls; once this
 * returns, no call of the old fn is running. */
void hid_device_set_led_callback(struct hid_device *d, void (*fn)(void *ctx, unsigned leds), void *ctx);

/* The following may be called from any thread. They return 0 or a negative
 * errno, with a message in err when errlen > 0: -EINVAL (bad text, key,
 * layout or mode), -EBUSY (a paste or combo is still being typed), -ENODEV
 * (the target is not connected). */

/* Types UTF-8 text with layout (NULL or "": [hid] layout) at the paste
 * rate; returns at once. Text the layout cannot type is refused whole. */
int hid_paste(struct hid_device *d, const char *text, const char *layout, char *err, size_t errlen);
/* A key combo viewers cannot send, e.g. "ctrl+alt+delete", "alt+sysrq",
 * "ctrl+alt+f2", "win": pressed in order, released in reverse. */
int hid_send_combo(struct hid_device *d, const char *combo, char *err, size_t errlen);
/* The same from key names. */
int hid_send_keys(struct hid_device *d, const char *const *keys, int n, char *err, size_t errlen);
/* Stops a paste or combo being typed (keys it holds are released). */
void hid_paste_cancel(struct hid_device *d);

/* Switches the pointer between the absolute and the relative mouse. */
int hid_set_mouse_mode(struct hid_device *d, enum hid_mouse_mode mode, char *err, size_t errlen);
/* A pointer event from elsewhere than the VNC server (e.g. the web API). */
void hid_device_pointer(struct hid_device *d, int x, int y, unsigned width, unsigned height, uint8_t buttons);

void hid_get_status(struct hid_device *d, struct hid_status *out);

/* ---- [hid] on the USB gadget (hid_usb.c) ---- */
struct gadget;
/* hid_usb: [hid] as configured: the HID functions on the USB gadget (gadget/) and the
 * keyboard and mice running on it (hid_device), made, started and stopped
 * together. Other functions join the gadget between create and start. */
struct hid_usb;

/* Whether hid_usb_create can work now (configfs, root or a gadget `piglix
 * gadget up` made, a USB device controller): 0, or -1 with the reason in
 * why, not logged (the daemon waits for the hardware and says it once). */
int hid_usb_probe(const struct config_hid *cfg, char *why, size_t n);
/* Builds the gadget from [hid] (not bound yet). NULL after logging why. */
struct hid_usb *hid_usb_create(const struct config_hid *cfg);
/* `piglix gadget up` / `down` (root): make and bind the gadget and leave it
 * for the unprivileged daemon, which then attaches to it; remove it.
 * add_functions (may be NULL) adds other modules' functions before the bind.
 * uid/gid: the daemon's user, handed the bound controller's remote wakeup
 * (gadget_hand_wakeup); (uid_t)-1 leaves it root's. 0 or -1 (logged). */
int hid_usb_gadget_up(const struct config_hid *cfg, uid_t uid, gid_t gid,
                      int (*add_functions)(void *ctx, struct gadget *g), void *ctx);
void hid_usb_gadget_down(void);
/* The gadget, for adding functions before hid_usb_start. */
struct gadget *hid_usb_gadget(struct hid_usb *u);
/* Binds the gadget and starts the keyboard and mice. 0 or -1 (logged). */
int hid_usb_start(struct hid_usb *u);
/* NULL before hid_usb_start. */
struct hid_device *hid_usb_device(struct hid_usb *u);
/* Logs the counters, stops the device, removes the gadget. NULL is fine. */
void hid_usb_destroy(struct hid_usb *u);

#endif
