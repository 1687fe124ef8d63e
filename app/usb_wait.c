/* [hid] (and [vmedia]'s USB drive) on a USB device controller that may not
 * be there yet: a Pi whose dwc2 overlay is off, configfs not mounted, a
 * board without a device port. piglix then runs without them (VNC and the
 * web UI work, the web API's HID calls answer 503), says why once, and
 * tries again every few seconds: the keyboard, mice and drive come up when
 * the controller does. Everything here runs on the main thread, which is
 * also the VNC server's thread: the server's input goes through a
 * forwarder that main switches between its own loop turns; the web thread
 * reads the device from an atomic slot that only goes from NULL to a
 * device outliving the web server. */
#include <stdlib.h>
#include <string.h>

#include "app/app.h"
#include "common/log.h"
#include "hid/hid.h"
#include "serial/serial.h"
#include "vmedia/vmedia.h"
#include "web/web.h"

#define RETRY_MS 5000
#define RETRY_MAX_MS 300000

struct app_usb {
    const struct piglix_config *cfg;
    struct vmedia_store *store;
    struct hid_input log_input;   /* until the device comes: events only counted */
    struct hid_input current;     /* what the forwarder calls (main thread) */
    struct hid_device *_Atomic device; /* for the web thread; NULL: none yet */
    struct hid_usb *usb;
    struct vmedia_drive *drive;
    int64_t next_try_ms;
    int fail_wait_ms;             /* after a start that failed with the hardware there */
    char why[256];                /* the reason last logged, so each is said once */
    struct serial_console *serial; /* its ACM tty: released after the start, held before removal */
};

static void fwd_key_sym(void *ctx, uint32_t keysym, bool down)
{
    struct app_usb *a = ctx;
    a->current.ops->key_sym(a->current.ctx, keysym, down);
}

static void fwd_key_code(void *ctx, uint32_t xt_scancode, uint32_t keysym, bool down)
{
    struct app_usb *a = ctx;
    a->current.ops->key_code(a->current.ctx, xt_scancode, keysym, down);
}

static void fwd_pointer(void *ctx, int x, int y, unsigned width, unsigned height, uint8_t buttons)
{
    struct app_usb *a = ctx;
    a->current.ops->pointer(a->current.ctx, x, y, width, height, buttons);
}

static void fwd_release_all(void *ctx)
{
    struct app_usb *a = ctx;
    a->current.ops->release_all(a->current.ctx);
}

static const struct hid_input_ops forward_ops = {
    .key_sym = fwd_key_sym,
    .key_code = fwd_key_code,
    .pointer = fwd_pointer,
    .release_all = fwd_release_all,
};

struct app_usb *app_usb_create(const struct piglix_config *cfg, struct vmedia_store *store,
                               struct hid_log_counters *counters)
{
    struct app_usb *a = calloc(1, sizeof(*a));
    if (!a) {
        LOG_ERROR("main", "out of memory");
        return NULL;
    }
    a->cfg = cfg;
    a->store = store;
    hid_log_input_init(&a->log_input, counters);
    a->current = a->log_input;
    a->fail_wait_ms = RETRY_MS;
    return a;
}

void app_usb_input(struct app_usb *a, struct hid_input *out)
{
    out->ops = &forward_ops;
    out->ctx = a;
}

void app_usb_web_hid(struct app_usb *a, struct web_hid *out)
{
    app_web_hid_from_slot(out, &a->device);
}

/* Makes the gadget with the drive's function (it joins before the bind),
 * binds it and starts the keyboard and mice. 0, or -1 with nothing left. */
static int start(struct app_usb *a)
{
    const struct piglix_config *cfg = a->cfg;
    a->usb = hid_usb_create(&cfg->hid);
    if (a->usb && serial_gadget_add(&cfg->serial, hid_usb_gadget(a->usb)) < 0) {
        hid_usb_destroy(a->usb);
        a->usb = NULL;
    }
    if (a->usb && a->store &&
        !(a->drive = vmedia_drive_create(&cfg->vmedia, cfg->state.dir, a->store, hid_usb_gadget(a->usb)))) {
        hid_usb_destroy(a->usb);
        a->usb = NULL;
    }
    if (!a->usb || hid_usb_start(a->usb) < 0) {
        vmedia_drive_destroy(a->drive);
        a->drive = NULL;
        hid_usb_destroy(a->usb);
        a->usb = NULL;
        return -1;
    }
    struct hid_device *d = hid_usb_device(a->usb);
    hid_device_input(d, &a->current);
    a->device = d;
    if (a->drive)
        vmedia_drive_restore(a->drive);
    serial_release(a->serial);
    return 0;
}

int app_usb_poll(struct app_usb *a, int64_t now_ms)
{
    if (a->usb || now_ms < a->next_try_ms)
        return 0;
    char why[sizeof(a->why)];
    if (hid_usb_probe(&a->cfg->hid, why, sizeof(why)) < 0) {
        a->next_try_ms = now_ms + RETRY_MS;
        if (strcmp(why, a->why) != 0) {
            LOG_WARN("main", "no USB keyboard and mouse%s yet: %s. piglix runs without them (VNC and the web UI "
                     "work) and tries again every %d s", a->store ? " or USB drive" : "", why, RETRY_MS / 1000);
            snprintf(a->why, sizeof(a->why), "%s", why);
        }
        return 0;
    }
    if (start(a) < 0) {
        /* The hardware is there but the gadget failed (logged above):
         * trying again is worth it, but not so often the log fills. */
        LOG_WARN("main", "the USB gadget did not start; trying again in %d s", a->fail_wait_ms / 1000);
        a->next_try_ms = now_ms + a->fail_wait_ms;
        if (a->fail_wait_ms < RETRY_MAX_MS)
            a->fail_wait_ms = a->fail_wait_ms * 2 > RETRY_MAX_MS ? RETRY_MAX_MS : a->fail_wait_ms * 2;
        snprintf(a->why, sizeof(a->why), "(start failed)");
        return 0;
    }
    if (a->why[0])
        LOG_INFO("main", "the USB device controller is there now: keyboard and mice%s started",
                 a->drive ? " and USB drive" : "");
    a->why[0] = '\0';
    return 1;
}

struct hid_device *app_usb_device(struct app_usb *a)
{
    return a ? a->device : NULL;
}

struct vmedia_drive *app_usb_drive(struct app_usb *a)
{
    return a ? a->drive : NULL;
}

void app_usb_destroy(struct app_usb *a)
{
    if (!a)
        return;
    serial_hold(a->serial);
    vmedia_drive_destroy(a->drive);
    hid_usb_destroy(a->usb);
    free(a);
}

void app_usb_set_serial(struct app_usb *a, struct serial_console *serial)
{
    if (a && serial_wants_gadget(&a->cfg->serial))
        a->serial = serial;
}
