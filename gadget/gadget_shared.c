/* The gadget root makes and the unprivileged daemon uses (`piglix gadget
 * up|down`), and the removal of a gadget a crashed run left: plain configfs
 * operations, no libusbgx state. */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "common/log.h"
#include "common/sysfs.h"
#include "gadget/gadget_internal.h"

static void rmdir_children(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return;
    struct dirent *e;
    char path[PATH_MAX];
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.')
            continue;
        int len = snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
        if (len > 0 && (size_t)len < sizeof(path))
            rmdir(path);
    }
    closedir(d);
}

/* Removes a gadget of our name that an earlier run left (killed, crashed)
 * with plain configfs operations, in the order configfs wants: unbound,
 * function links out of the configurations, then the directories inside
 * out. Done before libusbgx reads configfs: it need not understand what it
 * would find there. */
void gadget_remove_stale(const char *configfs)
{
    char g[PATH_MAX], path[PATH_MAX + 256];
    snprintf(g, sizeof(g), "%s/usb_gadget/%s", configfs, GADGET_NAME);
    if (access(g, F_OK) != 0)
        return;
    LOG_WARN("gadget", "removing the USB gadget '%s' an earlier run left in configfs", GADGET_NAME);
    snprintf(path, sizeof(path), "%s/UDC", g);
    sysfs_write(path, "\n");
    static const char *const linked[] = {"configs", "os_desc"};
    for (size_t i = 0; i < sizeof(linked) / sizeof(linked[0]); i++) {
        snprintf(path, sizeof(path), "%s/%s", g, linked[i]);
        DIR *d = opendir(path);
        struct dirent *e;
        while (d && (e = readdir(d))) {
            if (e->d_name[0] == '.')
                continue;
            char sub[PATH_MAX * 2];
            snprintf(sub, sizeof(sub), "%s/%s", path, e->d_name);
            struct stat st;
            if (lstat(sub, &st) == 0 && S_ISLNK(st.st_mode)) {
                unlink(sub); /* os_desc's link to a configuration */
                continue;
            }
            DIR *c = opendir(sub);
            struct dirent *f;
            while (c && (f = readdir(c))) {
                char item[PATH_MAX * 3];
                snprintf(item, sizeof(item), "%s/%s", sub, f->d_name);
                if (f->d_name[0] != '.' && lstat(item, &st) == 0 && S_ISLNK(st.st_mode))
                    unlink(item); /* a function in the configuration */
            }
            if (c)
                closedir(c);
            snprintf(sub, sizeof(sub), "%s/%s/strings", path, e->d_name);
            rmdir_children(sub);
        }
        if (d)
            closedir(d);
    }
    snprintf(path, sizeof(path), "%s/configs", g);
    rmdir_children(path);
    /* a function's own subdirectories first (mass storage's lun.1 and up) */
    snprintf(path, sizeof(path), "%s/functions", g);
    DIR *fd = opendir(path);
    struct dirent *fe;
    while (fd && (fe = readdir(fd))) {
        char sub[PATH_MAX * 2];
        snprintf(sub, sizeof(sub), "%s/%s", path, fe->d_name);
        if (fe->d_name[0] != '.')
            rmdir_children(sub);
    }
    if (fd)
        closedir(fd);
    rmdir_children(path);
    snprintf(path, sizeof(path), "%s/strings", g);
    rmdir_children(path);
    if (rmdir(g) < 0)
        LOG_ERROR("gadget", "cannot remove the stale gadget %s: %s", g, strerror(errno));
}

bool gadget_is_external(const char *configfs)
{
    char dir[PATH_MAX], g[PATH_MAX + 64];
    snprintf(dir, sizeof(dir), "%s/usb_gadget", configfs ? configfs : DEFAULT_CONFIGFS);
    snprintf(g, sizeof(g), "%s/%s", dir, GADGET_NAME);
    return access(g, F_OK) == 0 && access(dir, W_OK) != 0;
}

struct gadget *gadget_attach(const struct gadget_params *p)
{
    struct gadget *g = calloc(1, sizeof(*g));
    if (!g) {
        LOG_ERROR("gadget", "out of memory");
        return NULL;
    }
    snprintf(g->configfs, sizeof(g->configfs), "%s", p->configfs ? p->configfs : DEFAULT_CONFIGFS);
    g->attached = true;
    char path[PATH_MAX + 128];
    snprintf(path, sizeof(path), "%s/usb_gadget/%s/UDC", g->configfs, GADGET_NAME);
    if (sysfs_read(path, g->udc, sizeof(g->udc)) == 0 && g->udc[0])
        g->bound = true;
    LOG_INFO("gadget", "using the USB gadget `piglix gadget up` made%s%s", g->bound ? ", bound to " : " (not bound)",
             g->udc);
    return g;
}

void gadget_release(struct gadget *g)
{
    if (!g)
        return;
    if (g->state)
        usbg_cleanup(g->state);
    free(g);
}

void gadget_remove(const char *configfs)
{
    gadget_remove_stale(configfs ? configfs : DEFAULT_CONFIGFS);
}

/* The same for a gadget `piglix gadget up` made: plain configfs operations
 * on the configuration and the UDC file it handed to the daemon's user. */
int gadget_set_linked_attached(struct gadget *g, const char *function, const char *instance, bool link)
{
    char base[PATH_MAX + 32], lnk[PATH_MAX + 128], target[PATH_MAX + 128], udc_path[PATH_MAX + 64], udc[64] = "";
    snprintf(base, sizeof(base), "%s/usb_gadget/%s", g->configfs, GADGET_NAME);
    snprintf(lnk, sizeof(lnk), "%s/configs/c.1/%s", base, instance);
    snprintf(target, sizeof(target), "%s/functions/%s", base, function);
    snprintf(udc_path, sizeof(udc_path), "%s/UDC", base);
    struct stat st;
    if ((lstat(lnk, &st) == 0) == link)
        return 0;
    sysfs_read(udc_path, udc, sizeof(udc));
    int r = udc[0] ? sysfs_write(udc_path, "\n") : 0;
    if (r == 0 && (link ? symlink(target, lnk) : unlink(lnk)) < 0)
        r = -errno;
    if (r < 0)
        LOG_ERROR("gadget", "cannot %s %s in the gadget `piglix gadget up` made: %s", link ? "add" : "remove",
                  function, strerror(-r));
    if (udc[0] && sysfs_write(udc_path, udc) < 0) {
        LOG_ERROR("gadget", "cannot bind the gadget to %s again: %s", udc, strerror(errno));
        r = r ? r : -EIO;
    }
    return r;
}

bool gadget_is_linked(const struct gadget *g, const char *function)
{
    const char *instance = strchr(function, '.') ? strchr(function, '.') + 1 : function;
    char lnk[PATH_MAX + 64];
    struct stat st;
    snprintf(lnk, sizeof(lnk), "%s/usb_gadget/%s/configs/c.1/%s", g->configfs, GADGET_NAME, instance);
    return lstat(lnk, &st) == 0;
}

int gadget_hand_over(const struct gadget *g, uid_t uid, gid_t gid)
{
    char path[PATH_MAX + 32];
    const char *const owned[] = {"configs/c.1", "UDC"};
    for (size_t i = 0; i < sizeof(owned) / sizeof(owned[0]); i++) {
        snprintf(path, sizeof(path), "%s/usb_gadget/%s/%s", g->configfs, GADGET_NAME, owned[i]);
        if (chown(path, uid, gid) < 0) {
            LOG_ERROR("gadget", "%s: cannot hand it to uid %u: %s", path, (unsigned)uid, strerror(errno));
            return -errno;
        }
    }
    return 0;
}

int gadget_hand_wakeup(const struct gadget *g, const char *udc_dir, uid_t uid, gid_t gid)
{
    char path[PATH_MAX + 128], udc[64];
    snprintf(path, sizeof(path), "%s/usb_gadget/%s/UDC", g->configfs, GADGET_NAME);
    int r = sysfs_read(path, udc, sizeof(udc));
    if (r < 0 || !udc[0] || strchr(udc, '/') || udc[0] == '.') {
        LOG_ERROR("gadget", "cannot hand the USB remote wakeup to uid %u: the gadget is not bound", (unsigned)uid);
        return -ENOTCONN;
    }
    snprintf(path, sizeof(path), "%s/%s/srp", udc_dir ? udc_dir : SYS_CLASS_UDC, udc);
    /* the daemon only writes it (gadget_host_wakeup): owner write, no more */
    if (chown(path, uid, gid) == 0) {
        LOG_INFO("gadget", "uid %u may ask the host to wake up (%s)", (unsigned)uid, path);
        return 0;
    }
    r = -errno;
    if (r == -ENOENT) {
        LOG_WARN("gadget", "%s: none (this kernel's USB device controller core has no srp): piglix cannot wake "
                 "a suspended host", path);
        return 0;
    }
    LOG_ERROR("gadget", "%s: cannot hand it to uid %u: %s", path, (unsigned)uid, strerror(-r));
    return r;
}

/* True when dir has an entry not starting with a dot. */
static bool has_entry(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return false;
    struct dirent *e;
    bool found = false;
    while (!found && (e = readdir(d)))
        found = e->d_name[0] != '.';
    closedir(d);
    return found;
}

int gadget_probe(const char *configfs, const char *udc_dir, const char *udc, char *why, size_t n)
{
    const char *cfs = configfs ? configfs : DEFAULT_CONFIGFS;
    const char *udcs = udc_dir ? udc_dir : SYS_CLASS_UDC;
    char dir[PATH_MAX], path[PATH_MAX + 64];
    snprintf(dir, sizeof(dir), "%s/usb_gadget", cfs);
    /* `piglix gadget up` already bound it: the daemon only attaches. */
    if (gadget_is_external(configfs))
        return 0;
    /* The hardware first: without a controller nothing else would help. */
    if (udc && *udc) {
        snprintf(path, sizeof(path), "%s/%s", udcs, udc);
        if (access(path, F_OK) != 0) {
            snprintf(why, n, "no USB device controller '%s' in %s ([hid] udc; `ls %s` lists those present)", udc, udcs,
                     udcs);
            return -1;
        }
    } else if (!has_entry(udcs)) {
        snprintf(why, n, "no USB device controller in %s (the USB port must be in device mode: on a Raspberry Pi 4, "
                 "dtoverlay=dwc2 in config.txt and the dwc2 module; a USB-C cable with data lines)", udcs);
        return -1;
    }
    if (access(dir, F_OK) != 0) {
        snprintf(why, n, "no USB gadget configfs at %s (mount configfs on %s and load the libcomposite module)", dir,
                 cfs);
        return -1;
    }
    if (access(dir, W_OK) != 0) {
        snprintf(why, n, "%s is not writable and holds no piglix gadget (root makes it: `systemctl restart "
                 "piglix-gadget`, or `piglix gadget up`)", dir);
        return -1;
    }
    return 0;
}
