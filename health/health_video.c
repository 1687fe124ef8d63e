/* health: what the capture device sees: the EDID it offers the source and
 * the signal's timings, with whether they fit the CSI-2 link between an
 * HDMI-to-CSI bridge and a Pi (deploy/edid/README.md has the arithmetic). */
#include "health/health.h"
#include "health/health_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <linux/videodev2.h>

static uint16_t le16(const uint8_t *p)
{
    return (uint16_t)(p[0] | (p[1] << 8));
}

int health_edid_parse(const uint8_t *edid, size_t len, struct health_edid *out)
{
    static const uint8_t header[8] = {0x00, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x00};
    memset(out, 0, sizeof(*out));
    if (len < 128 || memcmp(edid, header, sizeof(header)) != 0)
        return -1;
    uint8_t sum = 0;
    for (int i = 0; i < 128; i++)
        sum = (uint8_t)(sum + edid[i]);
    if (sum != 0)
        return -1;
    /* three 5-bit letters, 1 = 'A' */
    uint16_t id = (uint16_t)((edid[8] << 8) | edid[9]);
    for (int i = 0; i < 3; i++) {
        int c = (id >> (10 - 5 * i)) & 0x1f;
        out->vendor[i] = (c >= 1 && c <= 26) ? (char)('A' + c - 1) : '?';
    }
    out->extensions = edid[126];
    /* four 18-byte descriptors: a detailed timing when the pixel clock is
     * not 0 (the first one is the preferred mode), else a display
     * descriptor (0xfc: the monitor's name, up to 13 characters ended by \n) */
    for (int d = 0; d < 4; d++) {
        const uint8_t *p = edid + 54 + 18 * d;
        uint16_t clock = le16(p);
        if (clock != 0) {
            if (d == 0) {
                out->pixclk_khz = (uint32_t)clock * 10;
                out->width = p[2] | ((p[4] & 0xf0) << 4);
                out->height = p[5] | ((p[7] & 0xf0) << 4);
                int hblank = p[3] | ((p[4] & 0x0f) << 8);
                int vblank = p[6] | ((p[7] & 0x0f) << 8);
                out->interlaced = (p[17] & 0x80) != 0;
                uint64_t total = (uint64_t)(out->width + hblank) * (uint64_t)(out->height + vblank);
                if (total)
                    out->refresh_mhz = (uint32_t)((uint64_t)out->pixclk_khz * 1000000u / total);
            }
        } else if (p[3] == 0xfc) {
            size_t n = 0;
            for (; n < 13 && p[5 + n] != '\n' && p[5 + n] != 0; n++)
                out->name[n] = (p[5 + n] >= 0x20 && p[5 + n] < 0x7f) ? (char)p[5 + n] : '?';
            out->name[n] = '\0';
        }
    }
    return 0;
}

bool health_csi2_fits(uint64_t pixclk_hz, int bits_per_pixel, int lanes, int lane_mbps)
{
    return pixclk_hz * (uint64_t)bits_per_pixel <= (uint64_t)lanes * (uint64_t)lane_mbps * 1000000u;
}

/* Where a mode stands against the link, in words ("" when there is no CSI-2
 * link to fit: vivid, a USB stick). */
static void link_words(const struct health_env *env, bool csi2, uint64_t pixclk_hz, int bpp, char *out,
                       size_t size, bool *fits)
{
    *fits = true;
    out[0] = '\0';
    if (!csi2)
        return;
    uint64_t need = pixclk_hz * (uint64_t)bpp / 1000000u;
    unsigned cap = (unsigned)(env->csi2_lanes * env->csi2_lane_mbps);
    *fits = health_csi2_fits(pixclk_hz, bpp, env->csi2_lanes, env->csi2_lane_mbps);
    health_fmt(out, size, "; needs %llu Mbit/s at %d bits per pixel, %s the CSI-2 link's %u (%d lanes x %d)",
               (unsigned long long)need, bpp, *fits ? "within" : "MORE than", cap, env->csi2_lanes,
               env->csi2_lane_mbps);
}

static int open_capture(const struct health_env *env, const struct config_capture *capture, bool *csi2, int *bpp)
{
    char dev[PATH_MAX];
    health_dev_path(env, capture->device, dev, sizeof(dev));
    /* the driver decides whether there is a CSI-2 link to fit */
    const char *base = strrchr(capture->device, '/');
    base = base ? base + 1 : capture->device;
    char link[PATH_MAX], driver[64] = "", name[128] = "", rel[PATH_MAX];
    health_fmt(link, sizeof(link), "%s/class/video4linux/%s/device/driver", env->sys, base);
    health_link_name(link, driver, sizeof(driver));
    health_fmt(rel, sizeof(rel), "class/video4linux/%s/name", base);
    health_read(env->sys, rel, name, sizeof(name));
    *csi2 = strcmp(driver, "unicam") == 0 || strstr(name, "unicam") != NULL;
    /* the bridge sends UYVY unless piglix asks for RGB */
    *bpp = strcmp(capture->format, "rgb24") == 0 ? 24 : 16;
    return open(dev, O_RDWR | O_NONBLOCK | O_CLOEXEC);
}

static void check_edid(struct health_report *r, const struct health_env *env, int fd, bool csi2, int bpp,
                       const struct config_capture *capture)
{
    uint8_t buf[256];
    struct v4l2_edid e = {.pad = 0, .start_block = 0, .blocks = 2, .edid = buf};
    memset(buf, 0, sizeof(buf));
    if (env->ioctl(fd, VIDIOC_G_EDID, &e) < 0) {
        int err = errno;
        if (err == ENOTTY || err == EINVAL)
            health_add(r, "edid", HEALTH_OK, "%s takes no EDID (the device answers the source itself)",
                       capture->device);
        else if (err == ENODATA)
            health_add(r, "edid", HEALTH_PROBLEM, "no EDID loaded: the source sees no monitor and may send no "
                       "picture" HEALTH_FIX "set [capture] edid = /usr/share/piglix/edid/tc358743-1080p30.hex (piglix "
                       "loads it at start)");
        else
            health_add(r, "edid", HEALTH_WARNING, "cannot read the EDID of %s: %s", capture->device, strerror(err));
        return;
    }
    struct health_edid info;
    if (e.blocks == 0) {
        health_add(r, "edid", HEALTH_PROBLEM, "no EDID loaded: the source sees no monitor and may send no "
                   "picture" HEALTH_FIX "set [capture] edid = /usr/share/piglix/edid/tc358743-1080p30.hex");
        return;
    }
    if (health_edid_parse(buf, 128, &info) < 0) {
        health_add(r, "edid", HEALTH_PROBLEM, "the EDID in %s is not valid (header or checksum)" HEALTH_FIX "set [capture] "
                   "edid = /usr/share/piglix/edid/tc358743-1080p30.hex and restart piglix", capture->device);
        return;
    }
    char what[160];
    health_fmt(what, sizeof(what), "EDID %s%s%s%s, %d block%s", info.vendor, info.name[0] ? " \"" : "", info.name,
               info.name[0] ? "\"" : "", 1 + info.extensions, info.extensions ? "s" : "");
    if (!info.width) {
        health_add(r, "edid", HEALTH_WARNING, "%s with no preferred mode: the source picks one itself", what);
        return;
    }
    char words[160];
    bool fits;
    link_words(env, csi2, (uint64_t)info.pixclk_khz * 1000u, bpp, words, sizeof(words), &fits);
    if (!fits)
        health_add(r, "edid", HEALTH_WARNING, "%s prefers %dx%d%s%u (%.2f MHz)%s: the source will likely send it "
                   "and the bridge cannot" HEALTH_FIX "set [capture] edid = /usr/share/piglix/edid/tc358743-1080p30.hex",
                   what, info.width, info.height, info.interlaced ? "i" : "p", (info.refresh_mhz + 500) / 1000,
                   info.pixclk_khz / 1000.0, words);
    else
        health_add(r, "edid", HEALTH_OK, "%s prefers %dx%d%s%u (%.2f MHz)%s", what, info.width, info.height,
                   info.interlaced ? "i" : "p", (info.refresh_mhz + 500) / 1000, info.pixclk_khz / 1000.0, words);
}

static void check_signal(struct health_report *r, const struct health_env *env, int fd, bool csi2, int bpp,
                         const struct config_capture *capture)
{
    struct v4l2_dv_timings t;
    memset(&t, 0, sizeof(t));
    if (env->ioctl(fd, VIDIOC_QUERY_DV_TIMINGS, &t) < 0) {
        int err = errno;
        if (err == ENOLINK)
            health_add(r, "signal", HEALTH_PROBLEM, "no signal on %s" HEALTH_FIX "the source is off or asleep, the HDMI cable "
                       "is loose, or the source ignores the EDID (try another port, or wake it with a key)",
                       capture->device);
        else if (err == ENOLCK)
            health_add(r, "signal", HEALTH_PROBLEM, "a signal that does not lock on %s" HEALTH_FIX "a poor HDMI cable or "
                       "adapter, or a mode the bridge cannot take", capture->device);
        else if (err == ERANGE)
            health_add(r, "signal", HEALTH_PROBLEM, "the signal on %s is out of range for the capture chip" HEALTH_FIX "give "
                       "the source an EDID it can follow ([capture] edid)", capture->device);
        else if (err == ENOTTY || err == ENODATA || err == EINVAL)
            health_add(r, "signal", HEALTH_OK, "%s has no DV timings (the device picks the mode; [capture] "
                       "width/height/fps apply)", capture->device);
        else
            health_add(r, "signal", HEALTH_WARNING, "cannot query the signal on %s: %s", capture->device,
                       strerror(err));
        return;
    }
    const struct v4l2_bt_timings *bt = &t.bt;
    uint64_t total = (uint64_t)V4L2_DV_BT_FRAME_WIDTH(bt) * (uint64_t)V4L2_DV_BT_FRAME_HEIGHT(bt);
    double fps = total ? (double)bt->pixelclock / (double)total : 0;
    char words[160];
    bool fits;
    link_words(env, csi2, bt->pixelclock, bpp, words, sizeof(words), &fits);
    if (!fits)
        health_add(r, "signal", HEALTH_PROBLEM, "%ux%u%s%.0f, pixel clock %.2f MHz%s: no picture at this mode" HEALTH_FIX
                   "set the source to 1920x1080 at 30 Hz or 1280x720 at 60 Hz, or load piglix's EDID ([capture] "
                   "edid)", bt->width, bt->height, bt->interlaced ? "i" : "p", fps, bt->pixelclock / 1e6, words);
    else
        health_add(r, "signal", HEALTH_OK, "%ux%u%s%.0f, pixel clock %.2f MHz%s", bt->width, bt->height,
                   bt->interlaced ? "i" : "p", fps, bt->pixelclock / 1e6, words);
}

void health_check_video(struct health_report *r, const struct health_env *env, const struct config_capture *capture)
{
    if (strcmp(capture->source, "v4l2") != 0)
        return;
    bool csi2;
    int bpp;
    int fd = open_capture(env, capture, &csi2, &bpp);
    if (fd < 0) {
        if (errno == ENOENT)
            return; /* the capture line says the device is missing */
        if (errno == EACCES)
            health_add(r, "signal", HEALTH_WARNING, "cannot open %s (%s)" HEALTH_FIX "run `piglix doctor` as root or as %s",
                       capture->device, strerror(errno), env->daemon_user);
        else
            health_add(r, "signal", HEALTH_PROBLEM, "cannot open %s: %s (see the capture line)", capture->device,
                       strerror(errno));
        return;
    }
    check_edid(r, env, fd, csi2, bpp, capture);
    check_signal(r, env, fd, csi2, bpp, capture);
    close(fd);
}
