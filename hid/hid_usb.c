/* [hid] on the USB gadget: the keyboard and mice as HID functions of
 * gadget/'s composite device, and their /dev/hidgN nodes for hid_device. */
#include "hid/hid.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>
#include <usbg/function/hid.h>

#include "common/log.h"
#include "common/sysfs.h"
#include "gadget/gadget.h"
#include "hid/hid_report.h"

struct hid_usb {
    struct gadget *gadget;
    struct hid_device *device;
    struct hid_device_params params;
    dev_t dev[HID_EP_COUNT];
    char udc[64];
};

/* The report's OUT endpoint is left out: LED reports then come as
 * SET_REPORT on the control pipe, which is how BIOSes send them (f_hid
 * stalls SET_REPORT when it has an OUT endpoint), and it saves endpoints
 * for other functions. Kernels before 5.19 lack the switch. */
static void no_out_endpoint(struct gadget *g, const char *function)
{
    char dir[PATH_MAX], path[PATH_MAX + 32];
    if (gadget_function_dir(g, function, dir, sizeof(dir)) < 0)
        return;
    snprintf(path, sizeof(path), "%s/no_out_endpoint", dir);
    int r = sysfs_write(path, "1");
    if (r < 0)
        LOG_WARN("hid", "%s: %s (LED reports from BIOSes may be refused)", path, strerror(-r));
}

/* One HID function: made unlinked, so that no_out_endpoint can still be
 * set (it is fixed once linked), then put into the configuration. */
static int add_hid(struct hid_usb *u, enum hid_endpoint ep)
{
    const struct hid_function_desc *fn = hid_report_function(ep);
    struct usbg_f_hid_attrs attrs = {
        .protocol = fn->protocol,
        .subclass = fn->subclass,
        .report_length = fn->report_length,
        .report_desc = {.desc = (char *)fn->report_desc, .len = (unsigned)fn->report_desc_len},
    };
    char function[64];
    snprintf(function, sizeof(function), "hid.%s", fn->instance);
    usbg_function *f;
    if (gadget_add_function_ex(u->gadget, USBG_F_HID, fn->instance, &attrs, false, &f) < 0)
        return -1;
    no_out_endpoint(u->gadget, function);
    if (gadget_set_linked(u->gadget, f, function, true) < 0)
        return -1;
    return 0;
}

/* Which /dev/hidgN each present endpoint is, for a gadget piglix made or
 * one `piglix gadget up` made. */
static int find_devices(struct hid_usb *u)
{
    for (int i = 0; i < HID_EP_COUNT; i++) {
        if (!u->params.present[i])
            continue;
        const struct hid_function_desc *fn = hid_report_function((enum hid_endpoint)i);
        char function[64];
        snprintf(function, sizeof(function), "hid.%s", fn->instance);
        int r = gadget_function_dev(u->gadget, function, &u->dev[i]);
        if (r < 0) {
            LOG_ERROR("hid", "the USB gadget has no %s (%s)%s", function, strerror(-r),
                      gadget_is_attached(u->gadget) ? ": run `piglix gadget up` again with the same [hid] settings" : "");
            return -1;
        }
    }
    return 0;
}

static int open_endpoint(void *ctx, enum hid_endpoint ep)
{
    struct hid_usb *u = ctx;
    if (ep >= HID_EP_COUNT || !u->params.present[ep])
        return -ENOENT;
    /* f_hid names its nodes after their minor number. */
    char path[64];
    snprintf(path, sizeof(path), "/dev/hidg%u", minor(u->dev[ep]));
    int fd = open(path, O_RDWR | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    struct stat st;
    if (fstat(fd, &st) < 0 || !S_ISCHR(st.st_mode) || st.st_rdev != u->dev[ep]) {
        LOG_ERROR("hid", "%s is not the device %u:%u", path, major(u->dev[ep]), minor(u->dev[ep]));
        close(fd);
        return -ENODEV;
    }
    return fd;
}

static bool host_ready(void *ctx, char *state, size_t n)
{
    struct hid_usb *u = ctx;
    return gadget_host_ready(u->gadget, state, n);
}

static int host_wakeup(void *ctx)
{
    struct hid_usb *u = ctx;
    return gadget_host_wakeup(u->gadget);
}

static int host_state_fd(void *ctx)
{
    struct hid_usb *u = ctx;
    return gadget_host_state_fd(u->gadget);
}

int hid_usb_probe(const struct config_hid *cfg, char *why, size_t n)
{
    return gadget_probe(NULL, NULL, cfg->udc, why, n);
}

struct hid_usb *hid_usb_create(const struct config_hid *cfg)
{
    const struct hid_layout *layout = hid_layout_find(cfg->layout);
    if (!layout) { /* config_validate allows only shipped layouts */
        LOG_ERROR("hid", "unknown layout '%s' (known: %s)", cfg->layout, hid_layout_names());
        return NULL;
    }
    struct hid_usb *u = calloc(1, sizeof(*u));
    if (!u) {
        LOG_ERROR("hid", "out of memory");
        return NULL;
    }
    bool both = strcmp(cfg->mouse, "both") == 0;
    struct gadget_params gp = {
        .vendor_id = (uint16_t)strtoul(cfg->vendor_id, NULL, 16),
        .product_id = (uint16_t)strtoul(cfg->product_id, NULL, 16),
        .manufacturer = cfg->manufacturer,
        .product = cfg->product,
        .serial = cfg->serial,
        .max_power_ma = cfg->max_power,
    };
    struct hid_device_params *dp = &u->params;
    dp->present[HID_EP_KEYBOARD] = true;
    dp->present[HID_EP_MOUSE_ABS] = both || strcmp(cfg->mouse, "absolute") == 0;
    dp->present[HID_EP_MOUSE_REL] = both || strcmp(cfg->mouse, "relative") == 0;
    bool attached = gadget_is_external(NULL);
    u->gadget = attached ? gadget_attach(&gp) : gadget_create(&gp);
    if (!u->gadget) {
        free(u);
        return NULL;
    }
    for (int i = 0; i < HID_EP_COUNT && !attached; i++)
        if (dp->present[i] && add_hid(u, (enum hid_endpoint)i) < 0)
            goto fail;
    if (find_devices(u) < 0)
        goto fail;
    dp->layout = layout;
    dp->mouse_mode = strcmp(cfg->mouse_mode, "relative") == 0 ? HID_MOUSE_RELATIVE : HID_MOUSE_ABSOLUTE;
    dp->paste_rate = cfg->paste_rate;
    dp->key_hold_max_ms = cfg->key_hold_max_ms;
    snprintf(u->udc, sizeof(u->udc), "%s", cfg->udc);
    return u;
fail:
    gadget_destroy(u->gadget);
    free(u);
    return NULL;
}

int hid_usb_gadget_up(const struct config_hid *cfg, uid_t uid, gid_t gid,
                      int (*add_functions)(void *ctx, struct gadget *g), void *ctx)
{
    struct hid_usb *u = hid_usb_create(cfg);
    if (!u)
        return -1;
    int r = add_functions ? add_functions(ctx, u->gadget) : 0;
    if (r < 0) {
        gadget_destroy(u->gadget);
        free(u);
        return -1;
    }
    r = gadget_bind(u->gadget, u->udc);
    /* the unprivileged daemon asks a suspended host to wake up (srp) */
    if (r == 0 && uid != (uid_t)-1 && gadget_hand_wakeup(u->gadget, NULL, uid, gid) < 0)
        r = -1;
    /* leave it in configfs for the daemon */
    gadget_release(u->gadget);
    free(u);
    return r;
}

void hid_usb_gadget_down(void)
{
    gadget_remove(NULL);
}

struct gadget *hid_usb_gadget(struct hid_usb *u)
{
    return u->gadget;
}

int hid_usb_start(struct hid_usb *u)
{
    if (gadget_bind(u->gadget, u->udc) < 0)
        return -1;
    u->params.io = (struct hid_device_io){.open = open_endpoint, .host_ready = host_ready, .wakeup = host_wakeup,
                                         .state_fd = host_state_fd, .state_fd_rearm = gadget_state_fd_rearm,
                                         .ctx = u};
    u->device = hid_device_create(&u->params);
    if (!u->device)
        return -1;
    LOG_INFO("hid", "keyboard (layout %s)%s%s on %s", u->params.layout->name,
             u->params.present[HID_EP_MOUSE_ABS] ? ", absolute mouse" : "",
             u->params.present[HID_EP_MOUSE_REL] ? ", relative mouse" : "", gadget_udc(u->gadget));
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
        if (st.wakeups_requested)
            LOG_INFO("hid", "asked the target to wake up %llu times; it woke %llu times",
                     (unsigned long long)st.wakeups_requested, (unsigned long long)st.host_wakeups);
        hid_device_destroy(u->device);
    }
    gadget_destroy(u->gadget);
    free(u);
}
