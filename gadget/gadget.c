/* The gadget piglix makes and owns (through libusbgx): created, functions
 * added and linked, bound, its endpoints opened, destroyed. */
#include "gadget/gadget.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "common/log.h"
#include "common/sysfs.h"
#include "gadget/gadget_internal.h"

static int create_function(struct gadget *g, usbg_function_type type, const char *instance, void *attrs,
                           usbg_function **out)
{
    int r = usbg_create_function(g->gadget, type, instance, attrs, out);
    if (r != USBG_SUCCESS) {
        LOG_ERROR("gadget", "cannot create the gadget function %s.%s: %s%s", usbg_get_function_type_str(type),
                  instance, usbg_strerror(r),
                  r == USBG_ERROR_NOT_FOUND || r == USBG_ERROR_NO_DEV ? " (is its usb_f_ module loaded?)" : "");
        return -EIO;
    }
    return 0;
}

static int link_function(struct gadget *g, const char *instance, usbg_function *f)
{
    int r = usbg_add_config_function(g->config, instance, f);
    if (r != USBG_SUCCESS) {
        LOG_ERROR("gadget", "cannot add %s to the configuration: %s", instance, usbg_strerror(r));
        return -EIO;
    }
    return 0;
}

struct gadget *gadget_create(const struct gadget_params *p)
{
    struct gadget *g = calloc(1, sizeof(*g));
    if (!g) {
        LOG_ERROR("gadget", "out of memory");
        return NULL;
    }
    snprintf(g->configfs, sizeof(g->configfs), "%s", p->configfs ? p->configfs : DEFAULT_CONFIGFS);
    gadget_remove_stale(g->configfs);
    int r = usbg_init(g->configfs, &g->state);
    if (r != USBG_SUCCESS) {
        LOG_ERROR("gadget", "USB gadget configfs at %s/usb_gadget: %s (needs root, configfs mounted and the "
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
    r = usbg_create_gadget(g->state, GADGET_NAME, &attrs, &strs, &g->gadget);
    if (r != USBG_SUCCESS) {
        LOG_ERROR("gadget", "cannot create the USB gadget: %s", usbg_strerror(r));
        goto fail;
    }
    struct usbg_config_strs cstrs = {.configuration = "piglix"};
    r = usbg_create_config(g->gadget, 1, "c", NULL, &cstrs, &g->config);
    if (r == USBG_SUCCESS)
        r = usbg_set_config_max_power(g->config, p->max_power_ma);
    if (r == USBG_SUCCESS)
        /* bus powered, remote wakeup: a host in suspend (S3) lets the
         * keyboard wake it only when the configuration says it can */
        r = usbg_set_config_bm_attrs(g->config, GADGET_BM_ATTRIBUTES);
    if (r != USBG_SUCCESS) {
        LOG_ERROR("gadget", "cannot create the gadget's configuration: %s", usbg_strerror(r));
        goto fail;
    }
    return g;
fail:
    gadget_destroy(g);
    return NULL;
}


int gadget_add_function(struct gadget *g, usbg_function_type type, const char *instance, void *attrs,
                            usbg_function **out)
{
    return gadget_add_function_ex(g, type, instance, attrs, true, out);
}

int gadget_add_function_ex(struct gadget *g, usbg_function_type type, const char *instance, void *attrs,
                               bool link, usbg_function **out)
{
    if (g->attached) {
        LOG_ERROR("gadget", "%s.%s: the gadget was made by `piglix gadget up`; add functions there",
                  usbg_get_function_type_str(type), instance);
        return -EBUSY;
    }
    if (g->bound) {
        LOG_ERROR("gadget", "%s.%s: functions are added before the gadget is bound", usbg_get_function_type_str(type),
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

int gadget_bind(struct gadget *g, const char *udc_name)
{
    if (g->attached) {
        if (g->bound)
            return 0;
        LOG_ERROR("gadget", "the gadget `piglix gadget up` made is not bound to a USB device controller");
        return -1;
    }
    usbg_udc *udc = udc_name && *udc_name ? usbg_get_udc(g->state, udc_name) : usbg_get_first_udc(g->state);
    if (!udc) {
        if (udc_name && *udc_name)
            LOG_ERROR("gadget", "no USB device controller '%s' in %s", udc_name, SYS_CLASS_UDC);
        else
            LOG_ERROR("gadget", "no USB device controller in %s: the keyboard and mouse need a USB port in device "
                      "mode (on a Raspberry Pi: dtoverlay=dwc2 and the dwc2 module)", SYS_CLASS_UDC);
        return -1;
    }
    const char *name = usbg_get_udc_name(udc);
    usbg_gadget *other = usbg_get_udc_gadget(udc);
    if (other && other != g->gadget) {
        LOG_ERROR("gadget", "USB device controller %s is in use by the gadget '%s'", name, usbg_get_gadget_name(other));
        return -1;
    }
    int r = usbg_enable_gadget(g->gadget, udc);
    if (r != USBG_SUCCESS) {
        LOG_ERROR("gadget", "cannot bind the gadget to %s: %s", name, usbg_strerror(r));
        return -1;
    }
    snprintf(g->udc, sizeof(g->udc), "%s", name);
    g->bound = true;
    LOG_INFO("gadget", "USB gadget bound to %s", g->udc);
    return 0;
}


int gadget_set_linked(struct gadget *g, usbg_function *f, const char *function, bool link)
{
    const char *instance = strchr(function, '.') ? strchr(function, '.') + 1 : function;
    if (g->attached)
        return gadget_set_linked_attached(g, function, instance, link);
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
            LOG_ERROR("gadget", "cannot unbind the gadget to change its functions: %s", usbg_strerror(r));
            return -EIO;
        }
        g->bound = false;
    }
    int r = 0;
    if (link) {
        r = link_function(g, instance, f);
    } else if (usbg_rm_binding(b) != USBG_SUCCESS) {
        LOG_ERROR("gadget", "cannot remove %s from the configuration", function);
        r = -EIO;
    }
    if (was_bound && gadget_bind(g, udc) < 0)
        r = r ? r : -EIO;
    return r;
}


int gadget_function_dir(const struct gadget *g, const char *function, char *out, size_t n)
{
    int len = snprintf(out, n, "%s/usb_gadget/%s/functions/%s", g->configfs, GADGET_NAME, function);
    return len < 0 || (size_t)len >= n ? -ENAMETOOLONG : 0;
}

bool gadget_is_attached(const struct gadget *g)
{
    return g->attached;
}

const char *gadget_udc(const struct gadget *g)
{
    return g->udc;
}

int gadget_function_dev(const struct gadget *g, const char *function, dev_t *out)
{
    char path[PATH_MAX + 128], text[64];
    unsigned maj, min;
    snprintf(path, sizeof(path), "%s/usb_gadget/%s/functions/%s/dev", g->configfs, GADGET_NAME, function);
    int r = sysfs_read(path, text, sizeof(text));
    if (r < 0)
        return r;
    if (sscanf(text, "%u:%u", &maj, &min) != 2)
        return -EINVAL;
    *out = makedev(maj, min);
    return 0;
}

/* The UDC the gadget is bound to, as configfs says: 0, -ENOTCONN when it is
 * not bound (or the name is not a plain one), or -errno. */
static int bound_udc(const struct gadget *g, char *udc, size_t n)
{
    char path[PATH_MAX + 64];
    snprintf(path, sizeof(path), "%s/usb_gadget/%s/UDC", g->configfs, GADGET_NAME);
    int r = sysfs_read(path, udc, n);
    if (r < 0)
        return r;
    return !udc[0] || strchr(udc, '/') ? -ENOTCONN : 0;
}

bool gadget_host_ready(const struct gadget *g, char *state, size_t n)
{
    char path[PATH_MAX + 64], udc[64];
    if (bound_udc(g, udc, sizeof(udc)) < 0) {
        snprintf(state, n, "not bound");
        return false;
    }
    snprintf(path, sizeof(path), SYS_CLASS_UDC "/%s/state", udc);
    if (sysfs_read(path, state, n) < 0) {
        snprintf(state, n, "no UDC state");
        return false;
    }
    /* a suspended host keeps its configuration: reports wait for its resume */
    return strcmp(state, "configured") == 0 || strcmp(state, "suspended") == 0;
}

int gadget_host_wakeup(const struct gadget *g)
{
    char path[PATH_MAX + 64], udc[64];
    int r = bound_udc(g, udc, sizeof(udc));
    if (r < 0)
        return r;
    /* the UDC core's srp attribute calls usb_gadget_wakeup(); the kernel
     * gives no answer: whether the host resumed shows in its polling */
    snprintf(path, sizeof(path), SYS_CLASS_UDC "/%s/srp", udc);
    return sysfs_write(path, "1");
}

int gadget_host_state_fd(const struct gadget *g)
{
    char path[PATH_MAX + 64], udc[64];
    int r = bound_udc(g, udc, sizeof(udc));
    if (r < 0)
        return r;
    snprintf(path, sizeof(path), SYS_CLASS_UDC "/%s/state", udc);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    gadget_state_fd_rearm(fd); /* sysfs notifies only after a read */
    return fd;
}

void gadget_state_fd_rearm(int fd)
{
    char buf[64];
    if (lseek(fd, 0, SEEK_SET) == 0 && read(fd, buf, sizeof(buf)) < 0)
        LOG_DEBUG("gadget", "UDC state: %s", strerror(errno));
}

void gadget_destroy(struct gadget *g)
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
            LOG_ERROR("gadget", "cannot remove the USB gadget from configfs: %s", usbg_strerror(r));
    }
    usbg_cleanup(g->state);
    free(g);
}
