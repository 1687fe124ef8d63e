/* health: the report, and the checks of the hardware piglix drives:
 * capture, CMA, the USB device controller and gadget, the ATX GPIO chip. */
#include "health/health.h"
#include "health/health_internal.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/sysfs.h"

const char *health_status_name(enum health_status status)
{
    switch (status) {
    case HEALTH_OK: return "ok";
    case HEALTH_WARNING: return "warning";
    default: return "problem";
    }
}

void health_add(struct health_report *r, const char *name, enum health_status status, const char *fmt, ...)
{
    if (r->n >= HEALTH_MAX_CHECKS)
        return;
    struct health_check *c = &r->checks[r->n++];
    health_fmt(c->name, sizeof(c->name), "%s", name);
    c->status = status;
    char all[2 * HEALTH_TEXT_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(all, sizeof(all), fmt, ap);
    va_end(ap);
    char *sep = strchr(all, HEALTH_FIX[0]);
    if (sep)
        *sep = '\0';
    health_fmt(c->text, sizeof(c->text), "%s", all);
    health_fmt(c->fix, sizeof(c->fix), "%s", sep ? sep + 1 : "");
}

enum health_status health_worst(const struct health_report *r)
{
    enum health_status worst = HEALTH_OK;
    for (int i = 0; i < r->n; i++)
        if (r->checks[i].status > worst)
            worst = r->checks[i].status;
    return worst;
}

const struct health_check *health_find(const struct health_report *r, const char *name)
{
    for (int i = 0; i < r->n; i++)
        if (strcmp(r->checks[i].name, name) == 0)
            return &r->checks[i];
    return NULL;
}

void health_print(const struct health_report *r, FILE *out)
{
    for (int i = 0; i < r->n; i++)
        fprintf(out, "%-8s %s: %s%s%s\n", health_status_name(r->checks[i].status), r->checks[i].name,
                r->checks[i].text, r->checks[i].fix[0] ? ": " : "", r->checks[i].fix);
}

void health_fmt(char *out, size_t size, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(out, size, fmt, ap);
    va_end(ap);
}

/* A configured /dev/... path read under the devfs root (tests point it at a
 * fixture); other paths are taken as they are. */
void health_dev_path(const struct health_env *env, const char *path, char *out, size_t size)
{
    if (strncmp(path, "/dev/", 5) == 0)
        health_fmt(out, size, "%s/%s", env->dev, path + 5);
    else
        health_fmt(out, size, "%s", path);
}

int health_read(const char *root, const char *rel, char *buf, size_t size)
{
    char path[PATH_MAX];
    if ((size_t)snprintf(path, sizeof(path), "%s/%s", root, rel) >= sizeof(path))
        return -ENAMETOOLONG;
    return sysfs_read(path, buf, size);
}

static bool is_dir(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

/* The last component of a symlink's target: a sysfs device's driver. */
int health_link_name(const char *path, char *out, size_t size)
{
    char target[PATH_MAX];
    ssize_t n = readlink(path, target, sizeof(target) - 1);
    if (n < 0)
        return -errno;
    target[n] = '\0';
    const char *slash = strrchr(target, '/');
    health_fmt(out, size, "%s", slash ? slash + 1 : target);
    return 0;
}

/* Video nodes that are not the picture: vivid's outputs and VBI/SDR/touch
 * nodes, unicam's embedded-data node, UVC's metadata node (index 1). */
static bool not_video_capture(const char *name, const char *driver, const char *index)
{
    static const char *const other[] = {"vid-out", "vbi", "sdr", "touch", "meta", "embedded"};
    for (size_t i = 0; i < sizeof(other) / sizeof(other[0]); i++)
        if (strstr(name, other[i]))
            return true;
    return strcmp(driver, "uvcvideo") == 0 && index[0] && strcmp(index, "0") != 0;
}

/* What each driver means for the user (the chip behind unicam is the
 * HDMI-to-CSI bridge the tc358743 overlay adds). */
static const char *driver_note(const char *driver, const char *name)
{
    if (strcmp(driver, "unicam") == 0 || strstr(name, "unicam"))
        return "CSI-2 receiver (HDMI bridge such as the tc358743)";
    if (strcmp(driver, "vivid") == 0)
        return "the kernel's virtual test device";
    if (strcmp(driver, "uvcvideo") == 0)
        return "USB capture stick (UVC)";
    return "";
}

void health_check_capture(struct health_report *r, const struct health_env *env,
                          const struct config_capture *capture)
{
    if (strcmp(capture->source, "v4l2") != 0) {
        health_add(r, "capture", HEALTH_OK, "the built-in test picture ([capture] source = %s); set "
                   "source = v4l2 to show a real screen", capture->source);
        return;
    }
    char dev[PATH_MAX];
    health_dev_path(env, capture->device, dev, sizeof(dev));
    struct stat st;
    if (stat(dev, &st) < 0) {
        health_add(r, "capture", HEALTH_PROBLEM, "%s does not exist" HEALTH_FIX "on a Pi with an HDMI-to-CSI bridge add "
                   "dtoverlay=tc358743 to /boot/firmware/config.txt and reboot; for a USB stick plug it in "
                   "(and check [capture] device)", capture->device);
        return;
    }
    const char *base = strrchr(capture->device, '/');
    base = base ? base + 1 : capture->device;
    char rel[PATH_MAX], name[128] = "", driver[64] = "", index[16] = "";
    health_fmt(rel, sizeof(rel), "class/video4linux/%s", base);
    char sysdir[PATH_MAX];
    health_fmt(sysdir, sizeof(sysdir), "%s/%s", env->sys, rel);
    if (!is_dir(sysdir)) {
        health_add(r, "capture", HEALTH_PROBLEM, "%s is not a V4L2 device (nothing in %s/class/video4linux)" HEALTH_FIX
                   "set [capture] device to a /dev/videoN capture node (v4l2-ctl --list-devices)",
                   capture->device, env->sys);
        return;
    }
    char path[PATH_MAX];
    health_fmt(path, sizeof(path), "%s/name", rel);
    health_read(env->sys, path, name, sizeof(name));
    health_fmt(path, sizeof(path), "%s/index", rel);
    health_read(env->sys, path, index, sizeof(index));
    health_fmt(path, sizeof(path), "%s/device/driver", sysdir);
    if (health_link_name(path, driver, sizeof(driver)) < 0)
        health_fmt(driver, sizeof(driver), "unknown");
    if (not_video_capture(name, driver, index)) {
        health_add(r, "capture", HEALTH_PROBLEM, "%s (%s, driver %s) is not a video capture node" HEALTH_FIX "set "
                   "[capture] device to the capture node of the same device (v4l2-ctl --list-devices)",
                   capture->device, name, driver);
        return;
    }
    const char *note = driver_note(driver, name);
    health_add(r, "capture", HEALTH_OK, "%s: %s, driver %s%s%s%s", capture->device, name[0] ? name : "?",
               driver, note[0] ? " (" : "", note, note[0] ? ")" : "");
}

/* A value in kB from a meminfo-style file; -1 when absent. */
int64_t health_meminfo_kb(const struct health_env *env, const char *key)
{
    char path[PATH_MAX];
    health_fmt(path, sizeof(path), "%s/meminfo", env->proc);
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    char line[256];
    int64_t value = -1;
    size_t klen = strlen(key);
    while (fgets(line, sizeof(line), f))
        if (strncmp(line, key, klen) == 0 && line[klen] == ':') {
            value = strtoll(line + klen + 1, NULL, 10);
            break;
        }
    fclose(f);
    return value;
}

static bool is_raspberry_pi(const struct health_env *env)
{
    char model[128] = "";
    /* device-tree/model ends in a NUL, which sysfs_read keeps out of the text */
    if (health_read(env->proc, "device-tree/model", model, sizeof(model)) < 0)
        return false;
    return strstr(model, "Raspberry Pi") != NULL;
}

void health_check_cma(struct health_report *r, const struct health_env *env,
                      const struct config_capture *capture)
{
    /* Only a Pi's CSI-2 receiver takes its frame buffers from CMA. */
    if (strcmp(capture->source, "v4l2") != 0 || !is_raspberry_pi(env))
        return;
    int64_t kb = health_meminfo_kb(env, "CmaTotal");
    uint64_t min_mib = env->min_cma_bytes >> 20;
    if (kb < 0) {
        health_add(r, "cma", HEALTH_WARNING, "no CmaTotal in %s/meminfo: V4L2 capture needs about %" PRIu64
                   " MiB of CMA" HEALTH_FIX "add cma=128M to /boot/firmware/cmdline.txt (or dtoverlay=vc4-kms-v3d,cma-256 "
                   "to config.txt) and reboot", env->proc, min_mib);
    } else if ((uint64_t)kb * 1024 < env->min_cma_bytes) {
        health_add(r, "cma", HEALTH_WARNING, "CMA is %" PRId64 " MiB, under %" PRIu64 " MiB: capture may fail "
                   "to get frame buffers at 1080p" HEALTH_FIX "add cma=128M to /boot/firmware/cmdline.txt (or "
                   "dtoverlay=vc4-kms-v3d,cma-256 to config.txt) and reboot", kb / 1024, min_mib);
    } else {
        health_add(r, "cma", HEALTH_OK, "CMA is %" PRId64 " MiB", kb / 1024);
    }
}

/* The first entry of a directory (a UDC name), or "" when none. */
static int first_entry(const char *dir, char *out, size_t size)
{
    DIR *d = opendir(dir);
    if (!d)
        return -errno;
    out[0] = '\0';
    struct dirent *e;
    while ((e = readdir(d)))
        if (e->d_name[0] != '.') {
            health_fmt(out, size, "%s", e->d_name);
            break;
        }
    closedir(d);
    return 0;
}

#define GADGET_DIR "usb_gadget/piglix" /* gadget/'s GADGET_NAME: what `piglix gadget up` makes */

void health_check_usb(struct health_report *r, const struct health_env *env, const struct config_hid *hid)
{
    if (!hid->enabled) {
        health_add(r, "usb", HEALTH_OK, "[hid] enabled = no: no USB keyboard, mouse or drive for the target");
        return;
    }
    char dir[PATH_MAX], udc[64] = "";
    health_fmt(dir, sizeof(dir), "%s/class/udc", env->sys);
    if (hid->udc[0]) {
        char one[PATH_MAX];
        health_fmt(one, sizeof(one), "%s/%s", dir, hid->udc);
        if (is_dir(one))
            health_fmt(udc, sizeof(udc), "%s", hid->udc);
    } else {
        first_entry(dir, udc, sizeof(udc));
    }
    if (!udc[0]) {
        if (hid->udc[0])
            health_add(r, "usb-controller", HEALTH_PROBLEM, "no USB device controller %s (in %s)" HEALTH_FIX "set [hid] udc "
                       "to one listed there, or leave it empty for the first", hid->udc, dir);
        else
            health_add(r, "usb-controller", HEALTH_PROBLEM, "no USB device controller (%s is empty)" HEALTH_FIX "on a Pi 4 add "
                       "dtoverlay=dwc2,dr_mode=peripheral to /boot/firmware/config.txt and reboot, and use the "
                       "USB-C port", dir);
    } else {
        health_add(r, "usb-controller", HEALTH_OK, "USB device controller %s", udc);
    }

    char gadgets[PATH_MAX];
    health_fmt(gadgets, sizeof(gadgets), "%s/usb_gadget", env->configfs);
    if (!is_dir(gadgets)) {
        health_add(r, "usb-gadget", HEALTH_PROBLEM, "no USB gadget configfs (%s)" HEALTH_FIX "modprobe libcomposite "
                   "(and mount configfs on %s)", gadgets, env->configfs);
        return;
    }
    char gadget[PATH_MAX];
    health_fmt(gadget, sizeof(gadget), "%s/" GADGET_DIR, env->configfs);
    if (!is_dir(gadget)) {
        health_add(r, "usb-gadget", HEALTH_PROBLEM, "the piglix gadget is not made (%s)" HEALTH_FIX "run `piglix gadget up` "
                   "as root (the service does it at start)", gadget);
        return;
    }
    char bound[64] = "";
    health_read(env->configfs, GADGET_DIR "/UDC", bound, sizeof(bound));
    if (!bound[0]) {
        health_add(r, "usb-gadget", HEALTH_PROBLEM, "the piglix gadget is made but not bound to a controller" HEALTH_FIX
                   "run `piglix gadget up` as root once the controller is there");
        return;
    }
    health_add(r, "usb-gadget", HEALTH_OK, "the piglix gadget is bound to %s", bound);

    char rel[128], state[64] = "";
    health_fmt(rel, sizeof(rel), "class/udc/%s/state", bound);
    if (health_read(env->sys, rel, state, sizeof(state)) < 0) {
        health_add(r, "usb-host", HEALTH_WARNING, "the state of %s is unknown (no %s/%s)", bound, env->sys, rel);
    } else if (strcmp(state, "configured") == 0) {
        health_add(r, "usb-host", HEALTH_OK, "the target's USB host has configured the keyboard and mouse");
    } else if (strcmp(state, "not attached") == 0) {
        health_add(r, "usb-host", HEALTH_WARNING, "no USB host attached" HEALTH_FIX "plug the USB-C port into the target; "
                   "if it is, the cable may have no data lines (a charging cable)");
    } else {
        health_add(r, "usb-host", HEALTH_WARNING, "the USB host has not configured the device yet (state \"%s\")" HEALTH_FIX
                   "the target may be off or asleep, or still booting", state);
    }
}

/* /sys/bus/gpio/devices/gpiochipN/label (older kernels: the legacy
 * /sys/class/gpio/gpiochipBASE/label, with the chip's number in device/). */
static bool gpio_label_found(const struct health_env *env, const char *label, char *chip, size_t size)
{
    static const char *const dirs[] = {"bus/gpio/devices", "class/gpio"};
    for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
        char dir[PATH_MAX];
        health_fmt(dir, sizeof(dir), "%s/%s", env->sys, dirs[i]);
        DIR *d = opendir(dir);
        if (!d)
            continue;
        struct dirent *e;
        bool found = false;
        while (!found && (e = readdir(d))) {
            if (strncmp(e->d_name, "gpiochip", 8) != 0)
                continue;
            char rel[PATH_MAX], value[128] = "";
            health_fmt(rel, sizeof(rel), "%s/%s/label", dirs[i], e->d_name);
            if (health_read(env->sys, rel, value, sizeof(value)) == 0 && strcmp(value, label) == 0) {
                health_fmt(chip, size, "%s", e->d_name);
                found = true;
            }
        }
        closedir(d);
        if (found)
            return true;
    }
    return false;
}

void health_check_atx(struct health_report *r, const struct health_env *env, const struct config_atx *atx)
{
    if (!atx->enabled) {
        health_add(r, "atx", HEALTH_OK, "[atx] enabled = no: no power buttons (set the pins in [atx] to turn it on)");
        return;
    }
    if (!atx->chip[0]) {
        health_add(r, "atx", HEALTH_OK, "[atx] has no GPIO chip: Wake-on-LAN only");
        return;
    }
    /* The forms libgpiod's lookup takes: a path, a name, a number, a label. */
    char path[PATH_MAX];
    bool digits = true;
    for (const char *p = atx->chip; *p; p++)
        digits = digits && isdigit((unsigned char)*p);
    if (atx->chip[0] == '/')
        health_dev_path(env, atx->chip, path, sizeof(path));
    else if (digits)
        health_fmt(path, sizeof(path), "%s/gpiochip%s", env->dev, atx->chip);
    else
        health_fmt(path, sizeof(path), "%s/%s", env->dev, atx->chip);
    if (access(path, F_OK) == 0) {
        health_add(r, "atx", HEALTH_OK, "GPIO chip %s found", atx->chip);
        return;
    }
    char chip[64];
    if (atx->chip[0] != '/' && !digits && gpio_label_found(env, atx->chip, chip, sizeof(chip))) {
        health_add(r, "atx", HEALTH_OK, "GPIO chip \"%s\" found (%s)", atx->chip, chip);
        return;
    }
    health_add(r, "atx", HEALTH_PROBLEM, "GPIO chip \"%s\" not found (no %s, no chip with that label)" HEALTH_FIX "set [atx] "
               "chip to one `gpiodetect` lists (on a Pi: gpiochip0, label pinctrl-bcm2711 or pinctrl-rp1)", atx->chip, path);
}
