/* h264/m2m_dev: finding a V4L2 M2M encoder by what it can do, not by its
 * path (the Pi's /dev/video11 moves when other V4L2 drivers load first),
 * and its controls. See m2m_internal.h. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <linux/videodev2.h>

#include "h264/m2m_internal.h"

int m2m_ioctl(int fd, unsigned long req, void *arg)
{
    int r;
    do
        r = ioctl(fd, req, arg);
    while (r < 0 && errno == EINTR);
    return r;
}

static bool m2m_has_format(int fd, uint32_t type, uint32_t fourcc)
{
    for (uint32_t i = 0; i < 64; i++) {
        struct v4l2_fmtdesc d = {.index = i, .type = type};
        if (m2m_ioctl(fd, VIDIOC_ENUM_FMT, &d) < 0)
            return false;
        if (d.pixelformat == fourcc)
            return true;
    }
    return false;
}

/* 0 when fd is an encoder for coded: fills mplane and raw. */
static int m2m_qualifies(int fd, uint32_t coded, bool *mplane, uint32_t *raw)
{
    struct v4l2_capability cap;
    memset(&cap, 0, sizeof(cap));
    if (m2m_ioctl(fd, VIDIOC_QUERYCAP, &cap) < 0)
        return -1;
    uint32_t caps = cap.capabilities & V4L2_CAP_DEVICE_CAPS ? cap.device_caps : cap.capabilities;
    if (!(caps & V4L2_CAP_STREAMING))
        return -1;
    /* Multi-planar first: the Pi's codec only speaks it. */
    static const uint32_t kinds[2] = {V4L2_CAP_VIDEO_M2M_MPLANE, V4L2_CAP_VIDEO_M2M};
    for (int k = 0; k < 2; k++) {
        if (!(caps & kinds[k]))
            continue;
        bool mp = k == 0;
        uint32_t out = mp ? V4L2_BUF_TYPE_VIDEO_OUTPUT_MPLANE : V4L2_BUF_TYPE_VIDEO_OUTPUT;
        uint32_t capt = mp ? V4L2_BUF_TYPE_VIDEO_CAPTURE_MPLANE : V4L2_BUF_TYPE_VIDEO_CAPTURE;
        if (!m2m_has_format(fd, capt, coded))
            continue;
        if (m2m_has_format(fd, out, V4L2_PIX_FMT_YUV420))
            *raw = V4L2_PIX_FMT_YUV420;
        else if (m2m_has_format(fd, out, V4L2_PIX_FMT_NV12))
            *raw = V4L2_PIX_FMT_NV12;
        else
            continue;
        *mplane = mp;
        return 0;
    }
    return -1;
}

static int m2m_name_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int m2m_find(const char *path, uint32_t coded_fourcc, char *found, size_t foundlen, bool *mplane,
             uint32_t *raw_fourcc, char *err, size_t errlen)
{
    if (path && path[0]) {
        int fd = open(path, O_RDWR | O_NONBLOCK | O_CLOEXEC);
        if (fd < 0) {
            snprintf(err, errlen, "cannot open %s: %s", path, strerror(errno));
            return -1;
        }
        if (m2m_qualifies(fd, coded_fourcc, mplane, raw_fourcc) != 0) {
            snprintf(err, errlen, "%s is not a V4L2 M2M encoder from YUV420/NV12 to %.4s", path,
                     (const char *)&coded_fourcc);
            close(fd);
            return -1;
        }
        snprintf(found, foundlen, "%s", path);
        return fd;
    }
    DIR *d = opendir("/dev");
    if (!d) {
        snprintf(err, errlen, "cannot list /dev: %s", strerror(errno));
        return -1;
    }
    /* In name order, so the same machine always picks the same device. */
    char *names[256] = {0};
    unsigned n = 0;
    struct dirent *de;
    while ((de = readdir(d)) && n < 256)
        if (strncmp(de->d_name, "video", 5) == 0 && (names[n] = strdup(de->d_name)))
            n++;
    closedir(d);
    qsort(names, n, sizeof(names[0]), m2m_name_cmp);
    int fd = -1;
    for (unsigned i = 0; i < n; i++) {
        char p[280];
        snprintf(p, sizeof(p), "/dev/%s", names[i]);
        if (fd < 0) {
            int f = open(p, O_RDWR | O_NONBLOCK | O_CLOEXEC);
            if (f >= 0 && m2m_qualifies(f, coded_fourcc, mplane, raw_fourcc) == 0) {
                snprintf(found, foundlen, "%s", p);
                fd = f;
            } else if (f >= 0) {
                close(f);
            }
        }
        free(names[i]);
    }
    if (fd < 0)
        snprintf(err, errlen, "no V4L2 M2M encoder from YUV420/NV12 to %.4s in /dev/video*",
                 (const char *)&coded_fourcc);
    return fd;
}

bool m2m_has_ctrl(int fd, uint32_t id)
{
    struct v4l2_queryctrl q = {.id = id};
    return m2m_ioctl(fd, VIDIOC_QUERYCTRL, &q) == 0 && !(q.flags & V4L2_CTRL_FLAG_DISABLED);
}

unsigned m2m_set_ctrls(int fd, const struct m2m_ctrl *c, unsigned n, char *missing, size_t len)
{
    unsigned refused = 0;
    size_t used = 0;
    if (len)
        missing[0] = '\0';
    for (unsigned i = 0; i < n; i++) {
        struct v4l2_ext_control ctrl = {.id = c[i].id, .value = c[i].value};
        struct v4l2_ext_controls all = {.which = V4L2_CTRL_WHICH_CUR_VAL, .count = 1,
                                        .controls = &ctrl};
        if (m2m_ioctl(fd, VIDIOC_S_EXT_CTRLS, &all) == 0)
            continue;
        refused++;
        if (used < len) {
            int w = snprintf(missing + used, len - used, "%s%s", used ? ", " : "", c[i].name);
            used += w > 0 ? (size_t)w : 0;
        }
    }
    return refused;
}
