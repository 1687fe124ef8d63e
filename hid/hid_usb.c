#include "hid/hid_usb.h"

#include <stdlib.h>
#include <string.h>

#include "common/log.h"

struct hid_usb {
    struct hid_gadget *gadget;
    struct hid_device *device;
    struct hid_device_params params;
    char udc[64];
};

struct hid_usb *hid_usb_create(const struct piglix_config *cfg)
{
    const struct hid_layout *layout = hid_layout_find(cfg->hid.layout);
    if (!layout) { /* config_validate allows only shipped layouts */
        LOG_ERROR("hid", "unknown layout '%s' (known: %s)", cfg->hid.layout, hid_layout_names());
        return NULL;
    }
    struct hid_usb *u = calloc(1, sizeof(*u));
    if (!u) {
        LOG_ERROR("hid", "out of memory");
        return NULL;
    }
    bool both = strcmp(cfg->hid.mouse, "both") == 0;
    struct hid_gadget_params gp = {
        .vendor_id = (uint16_t)strtoul(cfg->hid.vendor_id, NULL, 16),
        .product_id = (uint16_t)strtoul(cfg->hid.product_id, NULL, 16),
        .manufacturer = cfg->hid.manufacturer,
        .product = cfg->hid.product,
        .serial = cfg->hid.serial,
        .max_power_ma = cfg->hid.max_power,
        .present = {
            [HID_EP_KEYBOARD] = true,
            [HID_EP_MOUSE_ABS] = both || strcmp(cfg->hid.mouse, "absolute") == 0,
            [HID_EP_MOUSE_REL] = both || strcmp(cfg->hid.mouse, "relative") == 0,
        },
    };
    u->gadget = hid_gadget_is_external(NULL) ? hid_gadget_attach(&gp) : hid_gadget_create(&gp);
    if (!u->gadget) {
        free(u);
        return NULL;
    }
    struct hid_device_params *dp = &u->params;
    memcpy(dp->present, gp.present, sizeof(dp->present));
    dp->layout = layout;
    dp->mouse_mode = strcmp(cfg->hid.mouse_mode, "relative") == 0 ? HID_MOUSE_RELATIVE : HID_MOUSE_ABSOLUTE;
    dp->paste_rate = cfg->hid.paste_rate;
    dp->key_hold_max_ms = cfg->hid.key_hold_max_ms;
    snprintf(u->udc, sizeof(u->udc), "%s", cfg->hid.udc);
    return u;
}

int hid_usb_gadget_up(const struct piglix_config *cfg,
                      int (*add_functions)(const struct piglix_config *cfg, struct hid_gadget *g))
{
    struct hid_usb *u = hid_usb_create(cfg);
    if (!u)
        return -1;
    int r = add_functions ? add_functions(cfg, u->gadget) : 0;
    if (r < 0) {
        hid_gadget_destroy(u->gadget);
        free(u);
        return -1;
    }
    r = hid_gadget_bind(u->gadget, u->udc);
    /* leave it in configfs for the daemon */
    hid_gadget_release(u->gadget);
    free(u);
    return r;
}

void hid_usb_gadget_down(void)
{
    hid_gadget_remove(NULL);
}

struct hid_gadget *hid_usb_gadget(struct hid_usb *u)
{
    return u->gadget;
}

int hid_usb_start(struct hid_usb *u)
{
    if (hid_gadget_bind(u->gadget, u->udc) < 0)
        return -1;
    hid_gadget_io(u->gadget, &u->params.io);
    u->device = hid_device_create(&u->params);
    if (!u->device)
        return -1;
    LOG_INFO("hid", "keyboard (layout %s)%s%s on %s", u->params.layout->name,
             u->params.present[HID_EP_MOUSE_ABS] ? ", absolute mouse" : "",
             u->params.present[HID_EP_MOUSE_REL] ? ", relative mouse" : "", hid_gadget_udc(u->gadget));
    return 0;
}

struct hid_device *hid_usb_device(struct hid_usb *u)
{
    return u->device;
}

void hid_usb_destroy(struct hid_usb *u)
{
    if (!u)
        return;
    if (u->device) {
        struct hid_status st;
        hid_get_status(u->device, &st);
        const struct hid_latency *all = &st.latency, *direct = &st.latency_direct;
        LOG_INFO("hid", "%llu key and %llu pointer events (%llu while the target was away); %llu reports written (%llu after waiting for the "
                 "host's poll), %llu dropped; %llu watchdog releases, target lost %llu times, %llu pastes "
                 "(%llu stopped)",
                 (unsigned long long)st.key_events, (unsigned long long)st.pointer_events,
                 (unsigned long long)st.events_dropped, (unsigned long long)st.reports_written, (unsigned long long)st.reports_waited,
                 (unsigned long long)st.reports_dropped, (unsigned long long)st.watchdog_releases,
                 (unsigned long long)st.host_losses, (unsigned long long)st.pastes,
                 (unsigned long long)st.pastes_aborted);
        LOG_INFO("hid", "key event to report written: avg %.0f us, max %.0f us over %llu reports; written at "
                 "once: avg %.0f us, max %.0f us over %llu",
                 all->count ? (double)all->sum_ns / (double)all->count / 1e3 : 0, (double)all->max_ns / 1e3,
                 (unsigned long long)all->count,
                 direct->count ? (double)direct->sum_ns / (double)direct->count / 1e3 : 0,
                 (double)direct->max_ns / 1e3, (unsigned long long)direct->count);
        hid_device_destroy(u->device);
    }
    hid_gadget_destroy(u->gadget);
    free(u);
}
