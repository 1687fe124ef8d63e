/* The gadget piglix makes and owns (through libusbgx): created, functions
 * added and linked, bound, its endpoints opened, destroyed. */
#include "hid/hid_gadget.h"

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
#include "hid/hid_gadget_internal.h"

/* The report's OUT endpoint is left out: LED reports then come as
 * SET_REPORT on the control pipe, which is how BIOSes send them (f_hid
 * stalls SET_REPORT when it has an OUT endpoint), and it saves endpoints
 * for other functions. Kernels before 5.19 lack the switch. */
static void no_out_endpoint(struct hid_gadget *g, const char *instance)
{
    char path[PATH_MAX + 128];
    snprintf(path, sizeof(path), "%s/usb_gadget/%s/functions/hid.%s/no_out_endpoint", g->configfs,
             HID_GADGET_NAME, instance);
    int r = sysfs_write(path, "1");
    if (r < 0)
        LOG_WARN("hid", "%s: %s (LED reports from BIOSes may be refused)", path, strerror(-r));
}

static int create_function(struct hid_gadget *g, usbg_function_type type, const char *instance, void *attrs,
                           usbg_function **out)
{
    int r = usbg_create_function(g->gadget, type, instance, attrs, out);
    if (r != USBG_SUCCESS) {
        LOG_ERROR("hid", "cannot create the gadget function %s.%s: %s%s", usbg_get_function_type_str(type),
                  instance, usbg_strerror(r),
                  r == USBG_ERROR_NOT_FOUND || r == USBG_ERROR_NO_DEV ? " (is its usb_f_ module loaded?)" : "");
        return -EIO;
    }
    return 0;
}

static int link_function(struct hid_gadget *g, const char *instance, usbg_function *f)
{
    int r = usbg_add_config_function(g->config, instance, f);
    if (r != USBG_SUCCESS) {
        LOG_ERROR("hid", "cannot add %s to the configuration: %s", instance, usbg_strerror(r));
        return -EIO;
    }
    return 0;
}

static int add_hid(struct hid_gadget *g, enum hid_endpoint ep)
{
    const struct hid_function_desc *fn = hid_report_function(ep);
    struct usbg_f_hid_attrs attrs = {
        .protocol = fn->protocol,
        .subclass = fn->subclass,
        .report_length = fn->report_length,
        .report_desc = {.desc = (char *)fn->report_desc, .len = (unsigned)fn->report_desc_len},
    };
    usbg_function *f;
    if (create_function(g, USBG_F_HID, fn->instance, &attrs, &f) < 0)
        return -1;
    no_out_endpoint(g, fn->instance); /* before the link: it is fixed once linked */
    if (link_function(g, fn->instance, f) < 0)
        return -1;
    dev_t dev;
    int r = usbg_f_hid_get_dev(usbg_to_hid_function(f), &dev);
    if (r != USBG_SUCCESS) {
        LOG_ERROR("hid", "hid.%s: cannot read its device number: %s", fn->instance, usbg_strerror(r));
        return -1;
    }
    g->dev[ep] = dev;
    return 0;
}

struct hid_gadget *hid_gadget_create(const struct hid_gadget_params *p)
{
    struct hid_gadget *g = calloc(1, sizeof(*g));
    if (!g) {
        LOG_ERROR("hid", "out of memory");
        return NULL;
    }
    snprintf(g->configfs, sizeof(g->configfs), "%s", p->configfs ? p->configfs : DEFAULT_CONFIGFS);
    hid_gadget_remove_stale(g->configfs);
    int r = usbg_init(g->configfs, &g->state);
    if (r != USBG_SUCCESS) {
        LOG_ERROR("hid", "USB gadget configfs at %s/usb_gadget: %s (needs root, configfs mounted and the "
                  "libcomposite module)", g->configfs, usbg_strerror(r));
        free(g);
        return NULL;
    }
    struct usbg_gadget_attrs attrs = {
        .bcdUSB = 0x0200,
        .bMaxPacketSize0 = 64,
        .idVendor = p->vendor_id,
        .idProduct = p->product_id,
        .bcdDevice = 0x0100,
    };
    struct usbg_gadget_strs strs = {
        .manufacturer = (char *)p->manufacturer,
        .product = (char *)p->product,
        .serial = (char *)p->serial,
    };
    r = usbg_create_gadget(g->state, HID_GADGET_NAME, &attrs, &strs, &g->gadget);
    if (r != USBG_SUCCESS) {
        LOG_ERROR("hid", "cannot create the USB gadget: %s", usbg_strerror(r));
        goto fail;
    }
    struct usbg_config_strs cstrs = {.configuration = "piglix"};
    r = usbg_create_config(g->gadget, 1, "c", NULL, &cstrs, &g->config);
    if (r == USBG_SUCCESS)
        r = usbg_set_config_max_power(g->config, p->max_power_ma);
    if (r == USBG_SUCCESS)
        r = usbg_set_config_bm_attrs(g->config, 0x80); /* bus powered */
    if (r != USBG_SUCCESS) {
        LOG_ERROR("hid", "cannot create the gadget's configuration: %s", usbg_strerror(r));
        goto fail;
    }
    for (int i = 0; i < HID_EP_COUNT; i++) {
        g->present[i] = p->present[i];
        if (p->present[i] && add_hid(g, (enum hid_endpoint)i) < 0)
            goto fail;
    }
    return g;
fail:
    hid_gadget_destroy(g);
    return NULL;
}


int hid_gadget_add_function(struct hid_gadget *g, usbg_function_type type, const char *instance, void *attrs,
                            usbg_function **out)
{
    return hid_gadget_add_function_ex(g, type, instance, attrs, true, out);
}

int hid_gadget_add_function_ex(struct hid_gadget *g, usbg_function_type type, const char *instance, void *attrs,
                               bool link, usbg_function **out)
{
    if (g->attached) {
        LOG_ERROR("hid", "%s.%s: the gadget was made by `piglix gadget up`; add functions there",
                  usbg_get_function_type_str(type), instance);
        return -EBUSY;
    }
    if (g->bound) {
        LOG_ERROR("hid", "%s.%s: functions are added before the gadget is bound", usbg_get_function_type_str(type),
                  instance);
        return -EBUSY;
    }
    usbg_function *f;
    int r = create_function(g, type, instance, attrs, &f);
    if (!r && link)
        r = link_function(g, instance, f);
    if (!r && out)
        *out = f;
    return r;
}

int hid_gadget_bind(struct hid_gadget *g, const char *udc_name)
{
    if (g->attached) {
        if (g->bound)
            return 0;
        LOG_ERROR("hid", "the gadget `piglix gadget up` made is not bound to a USB device controller");
        return -1;
    }
    usbg_udc *udc = udc_name && *udc_name ? usbg_get_udc(g->state, udc_name) : usbg_get_first_udc(g->state);
    if (!udc) {
        if (udc_name && *udc_name)
            LOG_ERROR("hid", "no USB device controller '%s' in %s", udc_name, SYS_CLASS_UDC);
        else
            LOG_ERROR("hid", "no USB device controller in %s: the keyboard and mouse need a USB port in device "
                      "mode (on a Raspberry Pi: dtoverlay=dwc2 and the dwc2 module)", SYS_CLASS_UDC);
        return -1;
    }
    const char *name = usbg_get_udc_name(udc);
    usbg_gadget *other = usbg_get_udc_gadget(udc);
    if (other && other != g->gadget) {
        LOG_ERROR("hid", "USB device controller %s is in use by the gadget '%s'", name, usbg_get_gadget_name(other));
        return -1;
    }
    int r = usbg_enable_gadget(g->gadget, udc);
    if (r != USBG_SUCCESS) {
        LOG_ERROR("hid", "cannot bind the gadget to %s: %s", name, usbg_strerror(r));
        return -1;
    }
    snprintf(g->udc, sizeof(g->udc), "%s", name);
    g->bound = true;
    LOG_INFO("hid", "USB gadget bound to %s", g->udc);
    return 0;
}


int hid_gadget_set_linked(struct hid_gadget *g, usbg_function *f, const char *function, bool link)
{
    const char *instance = strchr(function, '.') ? strchr(function, '.') + 1 : function;
    if (g->attached)
        return hid_gadget_set_linked_attached(g, function, instance, link);
    usbg_binding *b = NULL;
    for (usbg_binding *it = usbg_get_first_binding(g->config); it && !b; it = usbg_get_next_binding(it))
        if (usbg_get_binding_target(it) == f)
            b = it;
    if ((b != NULL) == link)
        return 0;
    bool was_bound = g->bound;
    char udc[sizeof(g->udc)];
    snprintf(udc, sizeof(udc), "%s", g->udc);
    if (was_bound) {
        int r = usbg_disable_gadget(g->gadget);
        if (r != USBG_SUCCESS) {
            LOG_ERROR("hid", "cannot unbind the gadget to change its functions: %s", usbg_strerror(r));
            return -EIO;
        }
        g->bound = false;
    }
    int r = 0;
    if (link) {
        r = link_function(g, instance, f);
    } else if (usbg_rm_binding(b) != USBG_SUCCESS) {
        LOG_ERROR("hid", "cannot remove %s from the configuration", function);
        r = -EIO;
    }
    if (was_bound && hid_gadget_bind(g, udc) < 0)
        r = r ? r : -EIO;
    return r;
}


int hid_gadget_function_dir(const struct hid_gadget *g, const char *function, char *out, size_t n)
{
    int len = snprintf(out, n, "%s/usb_gadget/%s/functions/%s", g->configfs, HID_GADGET_NAME, function);
    return len < 0 || (size_t)len >= n ? -ENAMETOOLONG : 0;
}

bool hid_gadget_is_attached(const struct hid_gadget *g)
{
    return g->attached;
}

const char *hid_gadget_udc(const struct hid_gadget *g)
{
    return g->udc;
}

static int gadget_open(void *ctx, enum hid_endpoint ep)
{
    struct hid_gadget *g = ctx;
    if (ep >= HID_EP_COUNT || !g->present[ep])
        return -ENOENT;
    /* f_hid names its nodes after their minor number. */
    char path[64];
    snprintf(path, sizeof(path), "/dev/hidg%u", minor(g->dev[ep]));
    int fd = open(path, O_RDWR | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    struct stat st;
    if (fstat(fd, &st) < 0 || !S_ISCHR(st.st_mode) || st.st_rdev != g->dev[ep]) {
        LOG_ERROR("hid", "%s is not the device %u:%u", path, major(g->dev[ep]), minor(g->dev[ep]));
        close(fd);
        return -ENODEV;
    }
    return fd;
}

/* Online means: still bound to our UDC (writing "" to the gadget's UDC
 * file unbinds it behind our back, and some UDCs then keep showing their
 * old state) and the host has configured it. */
static bool gadget_host_ready(void *ctx, char *state, size_t n)
{
    struct hid_gadget *g = ctx;
    char path[PATH_MAX + 64], udc[64];
    snprintf(path, sizeof(path), "%s/usb_gadget/%s/UDC", g->configfs, HID_GADGET_NAME);
    if (sysfs_read(path, udc, sizeof(udc)) < 0 || !udc[0]) {
        snprintf(state, n, "not bound");
        return false;
    }
    snprintf(path, sizeof(path), SYS_CLASS_UDC "/%s/state", udc);
    if (sysfs_read(path, state, n) < 0) {
        snprintf(state, n, "no UDC state");
        return false;
    }
    return strcmp(state, "configured") == 0;
}

void hid_gadget_io(struct hid_gadget *g, struct hid_device_io *io)
{
    io->open = gadget_open;
    io->host_ready = gadget_host_ready;
    io->ctx = g;
}

void hid_gadget_destroy(struct hid_gadget *g)
{
    if (!g)
        return;
    if (g->attached) { /* `piglix gadget down` removes it */
        free(g);
        return;
    }
    if (g->gadget) {
        usbg_disable_gadget(g->gadget);
        int r = usbg_rm_gadget(g->gadget, USBG_RM_RECURSE);
        if (r != USBG_SUCCESS)
            LOG_ERROR("hid", "cannot remove the USB gadget from configfs: %s", usbg_strerror(r));
    }
    usbg_cleanup(g->state);
    free(g);
}
