/* web_hid on top of hid/'s USB keyboard and mice: the device's paste,
 * combo and pointer calls are thread-safe and never block, as the web
 * thread needs. */
#include <errno.h>
#include <stdio.h>

#include "app/app.h"
#include "hid/hid.h"
#include "web/web.h"

static bool dev_online(void *ctx)
{
    struct hid_status st;
    hid_get_status(ctx, &st);
    return st.online;
}

static int dev_leds(void *ctx)
{
    struct hid_status st;
    hid_get_status(ctx, &st);
    return st.leds;
}

static int dev_combo(void *ctx, const char *const *keys, int n, char *err, size_t errlen)
{
    return hid_send_keys(ctx, keys, n, err, errlen);
}

static int dev_paste(void *ctx, const char *text, const char *layout, char *err, size_t errlen)
{
    return hid_paste(ctx, text, layout, err, errlen);
}

static int dev_mouse(void *ctx, int x, int y, unsigned width, unsigned height, unsigned buttons)
{
    if (!dev_online(ctx))
        return -ENODEV;
    hid_device_pointer(ctx, x, y, width, height, (uint8_t)buttons);
    return 0;
}

static const struct web_hid_ops device_ops = {
    .online = dev_online,
    .leds = dev_leds,
    .combo = dev_combo,
    .paste = dev_paste,
    .mouse = dev_mouse,
};

void app_web_hid_from_device(struct web_hid *out, struct hid_device *d)
{
    out->ops = d ? &device_ops : NULL;
    out->ctx = d;
}
