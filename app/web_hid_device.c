/* web_hid on top of hid/'s USB keyboard and mice: the device's paste,
 * combo and pointer calls are thread-safe and never block, as the web
 * thread needs. The device sits in a slot that main fills when the USB
 * device controller appears (app/usb_wait.c); until then the calls say
 * -ENODEV (503) and the status says offline. */
#include <errno.h>
#include <stdio.h>

#include "app/app.h"
#include "hid/hid.h"
#include "web/web.h"

static struct hid_device *device(void *ctx)
{
    struct hid_device *_Atomic *slot = ctx;
    return *slot;
}

static const char no_device[] = "the USB keyboard and mouse are not available (no USB device controller yet: see the log)";

static bool dev_online(void *ctx)
{
    struct hid_device *d = device(ctx);
    if (!d)
        return false;
    struct hid_status st;
    hid_get_status(d, &st);
    return st.online;
}

static int dev_leds(void *ctx)
{
    struct hid_device *d = device(ctx);
    if (!d)
        return -1;
    struct hid_status st;
    hid_get_status(d, &st);
    return st.leds;
}

static bool dev_asleep(void *ctx)
{
    struct hid_device *d = device(ctx);
    if (!d)
        return false;
    struct hid_status st;
    hid_get_status(d, &st);
    return st.host_asleep;
}

static int dev_combo(void *ctx, const char *const *keys, int n, char *err, size_t errlen)
{
    struct hid_device *d = device(ctx);
    if (!d) {
        snprintf(err, errlen, "%s", no_device);
        return -ENODEV;
    }
    return hid_send_keys(d, keys, n, err, errlen);
}

static int dev_paste(void *ctx, const char *text, const char *layout, char *err, size_t errlen)
{
    struct hid_device *d = device(ctx);
    if (!d) {
        snprintf(err, errlen, "%s", no_device);
        return -ENODEV;
    }
    return hid_paste(d, text, layout, err, errlen);
}

static int dev_mouse(void *ctx, int x, int y, unsigned width, unsigned height, unsigned buttons)
{
    struct hid_device *d = device(ctx);
    if (!d || !dev_online(ctx))
        return -ENODEV;
    hid_device_pointer(d, x, y, width, height, (uint8_t)buttons);
    return 0;
}

static const struct web_hid_ops device_ops = {
    .online = dev_online,
    .leds = dev_leds,
    .combo = dev_combo,
    .paste = dev_paste,
    .mouse = dev_mouse,
    .asleep = dev_asleep,
};

void app_web_hid_from_slot(struct web_hid *out, struct hid_device *_Atomic *slot)
{
    out->ops = &device_ops;
    out->ctx = slot;
}
