/* The V4L2 ioctls of the capture source. Every function returns 0 (or a
 * count) or a negative errno and leaves logging to the caller, which knows
 * whether an error is news (the state machine retries the same failing call
 * every half second). */
#include "capture/v4l2.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

static int xioctl(int fd, unsigned long request, void *arg)
{
    int r;
    do
        r = ioctl(fd, request, arg);
    while (r < 0 && errno == EINTR);
    return r < 0 ? -errno : 0;
}

const char *v4l2dev_fourcc_str(uint32_t fourcc, char buf[5])
{
    for (int i = 0; i < 4; i++) {
        char c = (char)((fourcc >> (8 * i)) & 0xff);
        buf[i] = c >= 0x20 && c < 0x7f ? c : '?';
    }
    buf[4] = '\0';
    return buf;
}

void v4l2dev_init(struct v4l2dev *d)
{
    memset(d, 0, sizeof(*d));
    d->fd = -1;
}

/* Whether the current input has DV timings: the input's capabilities say so;
 * drivers without inputs (subdevice-style bridges) answer G_DV_TIMINGS. */
static bool input_has_dv(int fd)
{
    int index = 0;
    if (xioctl(fd, VIDIOC_G_INPUT, &index) == 0) {
        struct v4l2_input in = {.index = (uint32_t)index};
        if (xioctl(fd, VIDIOC_ENUMINPUT, &in) == 0)
            return (in.capabilities & V4L2_IN_CAP_DV_TIMINGS) != 0;
    }
    struct v4l2_dv_timings t;
    memset(&t, 0, sizeof(t));
    return xioctl(fd, VIDIOC_G_DV_TIMINGS, &t) == 0;
}

int v4l2dev_open(struct v4l2dev *d, const char *path)
{
    v4l2dev_close(d);
    snprintf(d->path, sizeof(d->path), "%s", path);
    int fd = open(path, O_RDWR | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    struct v4l2_capability cap;
    memset(&cap, 0, sizeof(cap));
    int r = xioctl(fd, VIDIOC_QUERYCAP, &cap);
    if (r < 0) {
        close(fd);
        return r;
    }
    uint32_t caps = (cap.capabilities & V4L2_CAP_DEVICE_CAPS) ? cap.device_caps : cap.capabilities;
    if (!(caps & V4L2_CAP_VIDEO_CAPTURE) || !(caps & V4L2_CAP_STREAMING)) {
        close(fd);
        return -ENOTSUP; /* e.g. a metadata node or an output device */
    }
    d->fd = fd;
    snprintf(d->card, sizeof(d->card), "%.31s", (const char *)cap.card);
    d->has_dv = input_has_dv(fd);
    struct v4l2_event_subscription sub = {.type = V4L2_EVENT_SOURCE_CHANGE};
    d->has_events = xioctl(fd, VIDIOC_SUBSCRIBE_EVENT, &sub) == 0;
    return 0;
}

void v4l2dev_close(struct v4l2dev *d)
{
    if (d->fd < 0)
        return;
    v4l2dev_stop(d);
    close(d->fd);
    d->fd = -1;
    d->has_dv = d->has_events = false;
    memset(&d->timings, 0, sizeof(d->timings));
}

int v4l2dev_query_timings(struct v4l2dev *d, struct v4l2_dv_timings *t)
{
    memset(t, 0, sizeof(*t));
    int r = xioctl(d->fd, VIDIOC_QUERY_DV_TIMINGS, t);
    if (r == 0 && (t->type != V4L2_DV_BT_656_1120 || t->bt.width == 0 || t->bt.height == 0))
        return -ERANGE; /* nothing piglix can allocate buffers for */
    return r;
}

int v4l2dev_set_timings(struct v4l2dev *d, const struct v4l2_dv_timings *t)
{
    struct v4l2_dv_timings copy = *t;
    int r = xioctl(d->fd, VIDIOC_S_DV_TIMINGS, &copy);
    if (r == 0)
        d->timings = *t;
    return r;
}

bool v4l2dev_timings_equal(const struct v4l2_dv_timings *a, const struct v4l2_dv_timings *b)
{
    const struct v4l2_bt_timings *x = &a->bt, *y = &b->bt;
    return a->type == b->type && x->width == y->width && x->height == y->height &&
           x->interlaced == y->interlaced && x->pixelclock == y->pixelclock &&
           x->hfrontporch == y->hfrontporch && x->hsync == y->hsync &&
           x->hbackporch == y->hbackporch && x->vfrontporch == y->vfrontporch &&
           x->vsync == y->vsync && x->vbackporch == y->vbackporch;
}

double v4l2dev_timings_fps(const struct v4l2_dv_timings *t)
{
    const struct v4l2_bt_timings *bt = &t->bt;
    double total_w = (double)bt->width + bt->hfrontporch + bt->hsync + bt->hbackporch;
    double total_h = (double)bt->height + bt->vfrontporch + bt->vsync + bt->vbackporch;
    if (bt->interlaced)
        total_h += bt->il_vfrontporch + bt->il_vsync + bt->il_vbackporch;
    if (total_w <= 0 || total_h <= 0 || bt->pixelclock == 0)
        return 0;
    return (double)bt->pixelclock / (total_w * total_h);
}

int v4l2dev_get_edid(struct v4l2dev *d, uint8_t *buf, unsigned max_blocks)
{
    struct v4l2_edid e = {.pad = 0, .start_block = 0, .blocks = max_blocks, .edid = buf};
    int r = xioctl(d->fd, VIDIOC_G_EDID, &e);
    return r < 0 ? r : (int)e.blocks;
}

int v4l2dev_set_edid(struct v4l2dev *d, const uint8_t *edid, unsigned blocks)
{
    struct v4l2_edid e = {.pad = 0, .start_block = 0, .blocks = blocks, .edid = (uint8_t *)edid};
    return xioctl(d->fd, VIDIOC_S_EDID, &e);
}

/* ---- formats ---- */

/* The highest frame rate of fourcc at w x h, 0 when the device does not say. */
static double best_fps(int fd, uint32_t fourcc, unsigned w, unsigned h)
{
    double best = 0;
    for (uint32_t i = 0; i < 64; i++) {
        struct v4l2_frmivalenum iv = {.index = i, .pixel_format = fourcc, .width = w, .height = h};
        if (xioctl(fd, VIDIOC_ENUM_FRAMEINTERVALS, &iv) < 0)
            break;
        /* discrete: each interval; stepwise/continuous: the minimum */
        struct v4l2_fract f = iv.type == V4L2_FRMIVAL_TYPE_DISCRETE ? iv.discrete : iv.stepwise.min;
        if (f.numerator > 0 && (double)f.denominator / f.numerator > best)
            best = (double)f.denominator / f.numerator;
        if (iv.type != V4L2_FRMIVAL_TYPE_DISCRETE)
            break;
    }
    return best;
}

static unsigned fit_step(unsigned want, unsigned min, unsigned max, unsigned step)
{
    if (want < min)
        return min;
    if (want > max)
        return max;
    if (step > 1)
        want = min + (want - min) / step * step;
    return want;
}

static int add_candidate(struct v4l2_candidate *out, int n, int max, uint32_t fourcc, unsigned w,
                         unsigned h, double fps)
{
    if (n < max)
        out[n++] = (struct v4l2_candidate){.fourcc = fourcc, .width = w, .height = h, .fps = fps};
    return n;
}

/* Frame sizes of one format on a device without DV timings. */
static int list_sizes(int fd, uint32_t fourcc, unsigned want_w, unsigned want_h,
                      struct v4l2_candidate *out, int n, int max)
{
    for (uint32_t i = 0; i < 256; i++) {
        struct v4l2_frmsizeenum fs = {.index = i, .pixel_format = fourcc};
        if (xioctl(fd, VIDIOC_ENUM_FRAMESIZES, &fs) < 0) {
            if (i == 0) /* the driver does not enumerate sizes: let S_FMT adjust */
                n = add_candidate(out, n, max, fourcc, want_w, want_h, 0);
            break;
        }
        if (fs.type == V4L2_FRMSIZE_TYPE_DISCRETE) {
            unsigned w = fs.discrete.width, h = fs.discrete.height;
            n = add_candidate(out, n, max, fourcc, w, h, best_fps(fd, fourcc, w, h));
            continue;
        }
        unsigned w = fit_step(want_w, fs.stepwise.min_width, fs.stepwise.max_width,
                              fs.type == V4L2_FRMSIZE_TYPE_STEPWISE ? fs.stepwise.step_width : 1);
        unsigned h = fit_step(want_h, fs.stepwise.min_height, fs.stepwise.max_height,
                              fs.type == V4L2_FRMSIZE_TYPE_STEPWISE ? fs.stepwise.step_height : 1);
        n = add_candidate(out, n, max, fourcc, w, h, best_fps(fd, fourcc, w, h));
        break;
    }
    return n;
}

int v4l2dev_list_candidates(struct v4l2dev *d, unsigned want_w, unsigned want_h,
                            struct v4l2_candidate *out, int max)
{
    int n = 0;
    for (uint32_t i = 0; i < 128 && n < max; i++) {
        struct v4l2_fmtdesc fd = {.index = i, .type = V4L2_BUF_TYPE_VIDEO_CAPTURE};
        int r = xioctl(d->fd, VIDIOC_ENUM_FMT, &fd);
        if (r == -EINVAL)
            break;
        if (r < 0)
            return r;
        if (v4l2_fourcc_pixfmt(fd.pixelformat) < 0)
            continue;
        if (d->has_dv)
            n = add_candidate(out, n, max, fd.pixelformat, d->timings.bt.width, d->timings.bt.height,
                              v4l2dev_timings_fps(&d->timings));
        else
            n = list_sizes(d->fd, fd.pixelformat, want_w, want_h, out, n, max);
    }
    return n;
}

int v4l2dev_set_format(struct v4l2dev *d, uint32_t fourcc, unsigned width, unsigned height)
{
    struct v4l2_format f;
    memset(&f, 0, sizeof(f));
    f.type = V4L2_BUF_TYPE_VIDEO_CAPTURE;
    f.fmt.pix.width = width;
    f.fmt.pix.height = height;
    f.fmt.pix.pixelformat = fourcc;
    f.fmt.pix.field = V4L2_FIELD_ANY;
    int r = xioctl(d->fd, VIDIOC_S_FMT, &f);
    if (r < 0)
        return r;
    if (f.fmt.pix.pixelformat != fourcc)
        return -EINVAL; /* the driver substituted a format it listed itself: give up on it */
    d->fourcc = f.fmt.pix.pixelformat;
    d->width = f.fmt.pix.width;
    d->height = f.fmt.pix.height;
    d->sizeimage = f.fmt.pix.sizeimage;
    d->ycbcr_enc = f.fmt.pix.ycbcr_enc != V4L2_YCBCR_ENC_DEFAULT ? f.fmt.pix.ycbcr_enc
                                                                : V4L2_MAP_YCBCR_ENC_DEFAULT(f.fmt.pix.colorspace);
    d->quantization = f.fmt.pix.quantization != V4L2_QUANTIZATION_DEFAULT
                          ? f.fmt.pix.quantization
                          : V4L2_MAP_QUANTIZATION_DEFAULT(false, f.fmt.pix.colorspace, d->ycbcr_enc);
    unsigned min_stride = d->width * v4l2_fourcc_bytes_per_pixel(fourcc);
    d->stride = f.fmt.pix.bytesperline >= min_stride ? f.fmt.pix.bytesperline : min_stride;
    return 0;
}

void v4l2dev_set_fps(struct v4l2dev *d, unsigned fps)
{
    struct v4l2_streamparm p;
    memset(&p, 0, sizeof(p));
    p.type = V4L2_BUF_TYPE_VIDEO_CAPTURE;
    if (xioctl(d->fd, VIDIOC_G_PARM, &p) < 0 || !(p.parm.capture.capability & V4L2_CAP_TIMEPERFRAME))
        return;
    p.parm.capture.timeperframe.numerator = 1;
    p.parm.capture.timeperframe.denominator = fps;
    (void)xioctl(d->fd, VIDIOC_S_PARM, &p); /* a hint: the pacer enforces the limit anyway */
}

/* ---- buffers ---- */

static int request_buffers(int fd, unsigned count, unsigned *granted)
{
    struct v4l2_requestbuffers rb = {.count = count, .type = V4L2_BUF_TYPE_VIDEO_CAPTURE,
                                     .memory = V4L2_MEMORY_MMAP};
    int r = xioctl(fd, VIDIOC_REQBUFS, &rb);
    if (granted)
        *granted = rb.count;
    return r;
}

static void unmap_all(struct v4l2dev *d)
{
    for (unsigned i = 0; i < d->n_bufs; i++)
        if (d->bufs[i].start)
            munmap(d->bufs[i].start, d->bufs[i].length);
    memset(d->bufs, 0, sizeof(d->bufs));
    d->n_bufs = 0;
}

int v4l2dev_start(struct v4l2dev *d, unsigned n)
{
    if (n > V4L2DEV_MAX_BUFFERS)
        n = V4L2DEV_MAX_BUFFERS;
    unsigned granted = 0;
    int r = request_buffers(d->fd, n, &granted);
    if (r < 0)
        return r;
    if (granted < 2 || granted > V4L2DEV_MAX_BUFFERS) {
        request_buffers(d->fd, 0, NULL);
        return -ENOMEM;
    }
    for (unsigned i = 0; i < granted; i++) {
        struct v4l2_buffer b = {.index = i, .type = V4L2_BUF_TYPE_VIDEO_CAPTURE, .memory = V4L2_MEMORY_MMAP};
        r = xioctl(d->fd, VIDIOC_QUERYBUF, &b);
        if (r < 0)
            goto fail;
        void *p = mmap(NULL, b.length, PROT_READ | PROT_WRITE, MAP_SHARED, d->fd, b.m.offset);
        if (p == MAP_FAILED) {
            r = -errno;
            goto fail;
        }
        d->bufs[i] = (struct v4l2dev_mapping){.start = p, .length = b.length};
        d->n_bufs = i + 1;
        r = xioctl(d->fd, VIDIOC_QBUF, &b);
        if (r < 0)
            goto fail;
    }
    enum v4l2_buf_type type = V4L2_BUF_TYPE_VIDEO_CAPTURE;
    r = xioctl(d->fd, VIDIOC_STREAMON, &type);
    if (r < 0)
        goto fail;
    d->streaming = true;
    return 0;
fail:
    unmap_all(d);
    request_buffers(d->fd, 0, NULL);
    return r;
}

void v4l2dev_stop(struct v4l2dev *d)
{
    if (d->fd < 0)
        return;
    if (d->streaming) {
        enum v4l2_buf_type type = V4L2_BUF_TYPE_VIDEO_CAPTURE;
        (void)xioctl(d->fd, VIDIOC_STREAMOFF, &type);
        d->streaming = false;
    }
    if (d->n_bufs) {
        unmap_all(d);
        (void)request_buffers(d->fd, 0, NULL);
    }
}

/* ---- waiting and dequeueing ---- */

int v4l2dev_wait(struct v4l2dev *d, int timeout_ms)
{
    /* Without streaming, vb2 reports POLLERR for POLLIN: ask for events only. */
    struct pollfd p = {.fd = d->fd, .events = (short)(POLLPRI | (d->streaming ? POLLIN : 0))};
    int r;
    do
        r = poll(&p, 1, timeout_ms);
    while (r < 0 && errno == EINTR);
    if (r < 0)
        return -errno;
    int ready = 0;
    if (p.revents & POLLIN)
        ready |= V4L2DEV_READY_FRAME;
    if (p.revents & POLLPRI)
        ready |= V4L2DEV_READY_EVENT;
    if (p.revents & (POLLERR | POLLHUP | POLLNVAL))
        ready |= V4L2DEV_READY_ERROR;
    return ready;
}

int v4l2dev_take_events(struct v4l2dev *d)
{
    int source_change = 0;
    for (int i = 0; i < 64; i++) {
        struct v4l2_event ev;
        memset(&ev, 0, sizeof(ev));
        int r = xioctl(d->fd, VIDIOC_DQEVENT, &ev);
        if (r == -ENOENT || r == -EAGAIN)
            break;
        if (r < 0)
            return r;
        if (ev.type == V4L2_EVENT_SOURCE_CHANGE)
            source_change = 1;
    }
    return source_change;
}

int v4l2dev_dequeue_newest(struct v4l2dev *d, struct v4l2_buffer *buf, unsigned *skipped,
                           unsigned *skipped_broken)
{
    bool have = false;
    *skipped = 0;
    *skipped_broken = 0;
    for (unsigned i = 0; i <= V4L2DEV_MAX_BUFFERS; i++) {
        struct v4l2_buffer b = {.type = V4L2_BUF_TYPE_VIDEO_CAPTURE, .memory = V4L2_MEMORY_MMAP};
        int r = xioctl(d->fd, VIDIOC_DQBUF, &b);
        if (r == -EAGAIN)
            break;
        if (r < 0) {
            if (have)
                v4l2dev_requeue(d, buf->index);
            return r;
        }
        if (b.index >= d->n_bufs) {
            if (have)
                v4l2dev_requeue(d, buf->index);
            return -EIO;
        }
        if (have) {
            (*skipped)++;
            if (buf->flags & V4L2_BUF_FLAG_ERROR)
                (*skipped_broken)++;
            r = v4l2dev_requeue(d, buf->index);
            if (r < 0) {
                v4l2dev_requeue(d, b.index);
                return r;
            }
        }
        *buf = b;
        have = true;
    }
    return have ? 1 : 0;
}

int v4l2dev_requeue(struct v4l2dev *d, unsigned index)
{
    struct v4l2_buffer b = {.index = index, .type = V4L2_BUF_TYPE_VIDEO_CAPTURE, .memory = V4L2_MEMORY_MMAP};
    return xioctl(d->fd, VIDIOC_QBUF, &b);
}
