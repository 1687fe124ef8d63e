#include "sim_video.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/videodev2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#define NBUFS 4

struct buf {
    void *p;
    size_t len;
    bool queued;
    uint64_t gen;   /* the canvas generation this buffer holds */
};

struct sim_video {
    int cap_fd, out_fd;
    char cap_path[32], out_path[32];
    uint32_t loop_id, signal_id;
    struct v4l2_dv_timings timings;
    unsigned w, h;
    bool on, streaming, size_warned;
    uint32_t cap_fourcc;        /* what the capture side had when the output started */
    uint32_t fourcc, enc, quant;
    unsigned stride;
    size_t sizeimage;
    unsigned nbufs, queued;
    struct buf bufs[NBUFS];
    uint64_t queued_gen;
};

static int xioctl(int fd, unsigned long req, void *arg)
{
    int r;
    do
        r = ioctl(fd, req, arg);
    while (r < 0 && errno == EINTR);
    return r < 0 ? -errno : 0;
}

static const char *fourcc_str(uint32_t f, char s[5])
{
    for (int i = 0; i < 4; i++)
        s[i] = (char)((f >> (8 * i)) & 0xff);
    s[4] = 0;
    return s;
}

/* vivid's nodes by capability, unless given. */
static int find_nodes(struct sim_video *v, const char *cap, const char *out)
{
    if (cap)
        snprintf(v->cap_path, sizeof(v->cap_path), "%s", cap);
    if (out)
        snprintf(v->out_path, sizeof(v->out_path), "%s", out);
    for (int i = 0; i < 32 && (!v->cap_path[0] || !v->out_path[0]); i++) {
        char path[32];
        snprintf(path, sizeof(path), "/dev/video%d", i);
        int fd = open(path, O_RDWR | O_NONBLOCK | O_CLOEXEC);
        if (fd < 0)
            continue;
        struct v4l2_capability caps = {0};
        if (xioctl(fd, VIDIOC_QUERYCAP, &caps) == 0 && strcmp((const char *)caps.driver, "vivid") == 0) {
            uint32_t c = caps.capabilities & V4L2_CAP_DEVICE_CAPS ? caps.device_caps : caps.capabilities;
            if ((c & V4L2_CAP_VIDEO_CAPTURE) && !v->cap_path[0])
                snprintf(v->cap_path, sizeof(v->cap_path), "%s", path);
            if ((c & V4L2_CAP_VIDEO_OUTPUT) && !v->out_path[0])
                snprintf(v->out_path, sizeof(v->out_path), "%s", path);
        }
        close(fd);
    }
    if (!v->cap_path[0] || !v->out_path[0]) {
        fprintf(stderr, "simserver: no vivid capture and output nodes (load vivid with node_types=0x101)\n");
        return -1;
    }
    v->cap_fd = open(v->cap_path, O_RDWR | O_NONBLOCK | O_CLOEXEC);
    v->out_fd = open(v->out_path, O_RDWR | O_NONBLOCK | O_CLOEXEC);
    if (v->cap_fd < 0 || v->out_fd < 0) {
        fprintf(stderr, "simserver: cannot open %s / %s: %s\n", v->cap_path, v->out_path, strerror(errno));
        return -1;
    }
    return 0;
}

/* A control of the capture node by its name, compared in lower case without
 * punctuation ("Loop Video" = loop_video). */
static uint32_t find_control(int fd, const char *want)
{
    struct v4l2_query_ext_ctrl q = {.id = V4L2_CTRL_FLAG_NEXT_CTRL | V4L2_CTRL_FLAG_NEXT_COMPOUND};
    while (xioctl(fd, VIDIOC_QUERY_EXT_CTRL, &q) == 0) {
        char name[sizeof(q.name)];
        size_t n = 0;
        for (size_t i = 0; q.name[i] && i < sizeof(q.name); i++)
            if (isalnum((unsigned char)q.name[i]))
                name[n++] = (char)tolower((unsigned char)q.name[i]);
        name[n] = 0;
        if (strcmp(name, want) == 0)
            return q.id;
        q.id |= V4L2_CTRL_FLAG_NEXT_CTRL | V4L2_CTRL_FLAG_NEXT_COMPOUND;
    }
    return 0;
}

static int set_control(struct sim_video *v, uint32_t id, int value, const char *what)
{
    struct v4l2_control c = {.id = id, .value = value};
    int r = xioctl(v->cap_fd, VIDIOC_S_CTRL, &c);
    if (r < 0)
        fprintf(stderr, "simserver: %s %s=%d: %s\n", v->cap_path, what, value, strerror(-r));
    return r;
}

static int set_timings(struct sim_video *v, unsigned want_w, unsigned want_h)
{
    struct v4l2_dv_timings cur = {0};
    if (xioctl(v->cap_fd, VIDIOC_G_DV_TIMINGS, &cur) < 0) {
        fprintf(stderr, "simserver: %s has no DV timings (want an HDMI input: input_types=0x3)\n", v->cap_path);
        return -1;
    }
    if (cur.bt.width != want_w || cur.bt.height != want_h) {
        struct v4l2_enum_dv_timings e = {0};
        for (e.index = 0; xioctl(v->cap_fd, VIDIOC_ENUM_DV_TIMINGS, &e) == 0; e.index++)
            if (e.timings.bt.width == want_w && e.timings.bt.height == want_h && !e.timings.bt.interlaced)
                break;
        int r = e.timings.bt.width == want_w ? xioctl(v->cap_fd, VIDIOC_S_DV_TIMINGS, &e.timings) : -EINVAL;
        if (r < 0)
            fprintf(stderr, "simserver: keeping %ux%u on %s (%ux%u: %s)\n", cur.bt.width, cur.bt.height,
                    v->cap_path, want_w, want_h, strerror(-r));
        xioctl(v->cap_fd, VIDIOC_G_DV_TIMINGS, &cur);
    }
    v->timings = cur;
    v->w = cur.bt.width;
    v->h = cur.bt.height;
    int r = xioctl(v->out_fd, VIDIOC_S_DV_TIMINGS, &cur);
    if (r < 0) {
        fprintf(stderr, "simserver: %s: setting %ux%u timings: %s\n", v->out_path, v->w, v->h, strerror(-r));
        return -1;
    }
    return 0;
}

struct sim_video *sim_video_open(const char *cap_path, const char *out_path, unsigned want_w, unsigned want_h)
{
    struct sim_video *v = calloc(1, sizeof(*v));
    if (!v)
        return NULL;
    v->cap_fd = v->out_fd = -1;
    if (find_nodes(v, cap_path, out_path) < 0 || set_timings(v, want_w, want_h) < 0)
        goto fail;
    v->loop_id = find_control(v->cap_fd, "loopvideo");
    v->signal_id = find_control(v->cap_fd, "dvtimingssignalmode");
    if (!v->loop_id || !v->signal_id) {
        fprintf(stderr, "simserver: %s lacks vivid's loop_video / dv_timings_signal_mode controls\n", v->cap_path);
        goto fail;
    }
    if (set_control(v, v->loop_id, 1, "loop_video") < 0)
        goto fail;
    /* vivid draws its own text over the picture unless told not to */
    uint32_t osd = find_control(v->cap_fd, "osdtextmode");
    if (osd)
        set_control(v, osd, 2, "osd_text_mode");
    fprintf(stderr, "simserver: HDMI out %s looped into %s at %ux%u\n", v->out_path, v->cap_path, v->w, v->h);
    return v;
fail:
    sim_video_close(v);
    return NULL;
}

static void stop_output(struct sim_video *v)
{
    if (v->streaming) {
        int type = V4L2_BUF_TYPE_VIDEO_OUTPUT;
        xioctl(v->out_fd, VIDIOC_STREAMOFF, &type);
        v->streaming = false;
    }
    for (unsigned i = 0; i < v->nbufs; i++)
        if (v->bufs[i].p)
            munmap(v->bufs[i].p, v->bufs[i].len);
    if (v->nbufs) {
        struct v4l2_requestbuffers rb = {.count = 0, .type = V4L2_BUF_TYPE_VIDEO_OUTPUT, .memory = V4L2_MEMORY_MMAP};
        xioctl(v->out_fd, VIDIOC_REQBUFS, &rb);
    }
    memset(v->bufs, 0, sizeof(v->bufs));
    v->nbufs = v->queued = 0;
}

void sim_video_close(struct sim_video *v)
{
    if (!v)
        return;
    if (v->out_fd >= 0)
        stop_output(v);
    if (v->cap_fd >= 0)
        close(v->cap_fd);
    if (v->out_fd >= 0)
        close(v->out_fd);
    free(v);
}

void sim_video_size(const struct sim_video *v, unsigned *w, unsigned *h)
{
    *w = v->w;
    *h = v->h;
}

void sim_video_describe(const struct sim_video *v, char *buf, unsigned size)
{
    char s[5];
    if (v->streaming)
        snprintf(buf, size, "%ux%u %s looped to the capture", v->w, v->h, fourcc_str(v->fourcc, s));
    else
        snprintf(buf, size, "off");
}

static int queue(struct sim_video *v, unsigned i, const struct sim_canvas *c)
{
    struct buf *b = &v->bufs[i];
    unsigned y = 0;
    while (y < c->h) { /* runs of rows changed since this buffer's frame */
        if (c->row_gen[y] <= b->gen) {
            y++;
            continue;
        }
        unsigned y1 = y;
        while (y1 < c->h && c->row_gen[y1] > b->gen)
            y1++;
        sim_convert_rows(c, y, y1, v->fourcc, v->enc, v->quant, b->p, v->stride, v->w);
        y = y1;
    }
    b->gen = c->gen;
    struct v4l2_buffer vb = {.index = i, .type = V4L2_BUF_TYPE_VIDEO_OUTPUT, .memory = V4L2_MEMORY_MMAP,
                             .bytesused = (uint32_t)v->sizeimage, .field = V4L2_FIELD_NONE};
    int r = xioctl(v->out_fd, VIDIOC_QBUF, &vb);
    if (r < 0) {
        fprintf(stderr, "simserver: %s: queueing a frame: %s\n", v->out_path, strerror(-r));
        return r;
    }
    b->queued = true;
    v->queued++;
    v->queued_gen = c->gen;
    return 0;
}

static int start_output(struct sim_video *v, const struct sim_canvas *c, uint32_t cap_fourcc)
{
    char s[5];
    v->cap_fourcc = cap_fourcc;
    v->fourcc = sim_convert_supported(cap_fourcc) ? cap_fourcc : V4L2_PIX_FMT_RGB24;
    if (v->fourcc != cap_fourcc)
        fprintf(stderr, "simserver: the capture side uses %s, which this server cannot send: no picture\n",
                fourcc_str(cap_fourcc, s));
    bool rgb = v->fourcc == V4L2_PIX_FMT_RGB24 || v->fourcc == V4L2_PIX_FMT_BGR24;
    struct v4l2_format f = {.type = V4L2_BUF_TYPE_VIDEO_OUTPUT};
    f.fmt.pix = (struct v4l2_pix_format){.width = c->w, .height = c->h, .pixelformat = v->fourcc,
                                         .field = V4L2_FIELD_NONE, .colorspace = V4L2_COLORSPACE_SRGB,
                                         .ycbcr_enc = V4L2_YCBCR_ENC_601,
                                         .quantization = rgb ? V4L2_QUANTIZATION_FULL_RANGE
                                                             : V4L2_QUANTIZATION_LIM_RANGE};
    int r = xioctl(v->out_fd, VIDIOC_S_FMT, &f);
    if (r < 0 || f.fmt.pix.width != c->w || f.fmt.pix.height != c->h) {
        fprintf(stderr, "simserver: %s: format %s %ux%u: %s\n", v->out_path, fourcc_str(v->fourcc, s), c->w, c->h,
                r < 0 ? strerror(-r) : "size refused");
        return -1;
    }
    v->stride = f.fmt.pix.bytesperline;
    v->sizeimage = f.fmt.pix.sizeimage;
    v->enc = f.fmt.pix.ycbcr_enc == V4L2_YCBCR_ENC_709 ? V4L2_YCBCR_ENC_709 : V4L2_YCBCR_ENC_601;
    v->quant = f.fmt.pix.quantization == V4L2_QUANTIZATION_DEFAULT
                   ? (rgb ? V4L2_QUANTIZATION_FULL_RANGE : V4L2_QUANTIZATION_LIM_RANGE)
                   : f.fmt.pix.quantization;
    struct v4l2_requestbuffers rb = {.count = NBUFS, .type = V4L2_BUF_TYPE_VIDEO_OUTPUT, .memory = V4L2_MEMORY_MMAP};
    if ((r = xioctl(v->out_fd, VIDIOC_REQBUFS, &rb)) < 0 || rb.count < 2) {
        fprintf(stderr, "simserver: %s: buffers: %s\n", v->out_path, r < 0 ? strerror(-r) : "too few");
        return -1;
    }
    v->nbufs = rb.count < NBUFS ? rb.count : NBUFS;
    for (unsigned i = 0; i < v->nbufs; i++) {
        struct v4l2_buffer vb = {.index = i, .type = V4L2_BUF_TYPE_VIDEO_OUTPUT, .memory = V4L2_MEMORY_MMAP};
        if (xioctl(v->out_fd, VIDIOC_QUERYBUF, &vb) < 0)
            goto fail;
        void *p = mmap(NULL, vb.length, PROT_READ | PROT_WRITE, MAP_SHARED, v->out_fd, vb.m.offset);
        if (p == MAP_FAILED)
            goto fail;
        v->bufs[i] = (struct buf){.p = p, .len = vb.length};
    }
    /* vivid starts an output queue with two buffers and keeps showing the last one */
    if (queue(v, 0, c) < 0 || queue(v, 1, c) < 0)
        goto fail;
    int type = V4L2_BUF_TYPE_VIDEO_OUTPUT;
    if ((r = xioctl(v->out_fd, VIDIOC_STREAMON, &type)) < 0) {
        fprintf(stderr, "simserver: %s: stream on: %s\n", v->out_path, strerror(-r));
        goto fail;
    }
    v->streaming = true;
    fprintf(stderr, "simserver: sending %ux%u %s\n", c->w, c->h, fourcc_str(v->fourcc, s));
    return 0;
fail:
    stop_output(v);
    return -1;
}

/* The capture side's pixel format and size. */
static int capture_format(struct sim_video *v, uint32_t *fourcc, unsigned *w, unsigned *h)
{
    struct v4l2_format f = {.type = V4L2_BUF_TYPE_VIDEO_CAPTURE};
    int r = xioctl(v->cap_fd, VIDIOC_G_FMT, &f);
    if (r < 0)
        return r;
    *fourcc = f.fmt.pix.pixelformat;
    *w = f.fmt.pix.width;
    *h = f.fmt.pix.height;
    return 0;
}

bool sim_video_follow(struct sim_video *v, const struct sim_canvas *c)
{
    uint32_t fourcc;
    unsigned w, h;
    if (!v->on || capture_format(v, &fourcc, &w, &h) < 0)
        return false;
    if ((w != c->w || h != c->h) && !v->size_warned) {
        fprintf(stderr, "simserver: the capture side is %ux%u, the screen %ux%u: vivid cannot loop\n", w, h, c->w,
                c->h);
        v->size_warned = true;
    }
    if (v->streaming && fourcc == v->cap_fourcc)
        return false;
    stop_output(v);
    start_output(v, c, fourcc);
    return true;
}

int sim_video_power(struct sim_video *v, bool on, const struct sim_canvas *c)
{
    v->on = on;
    if (!on) {
        stop_output(v);
        return set_control(v, v->signal_id, 1, "dv_timings_signal_mode"); /* no signal */
    }
    int r = set_control(v, v->signal_id, 0, "dv_timings_signal_mode"); /* the current timings */
    uint32_t fourcc;
    unsigned w, h;
    if (capture_format(v, &fourcc, &w, &h) < 0)
        fourcc = V4L2_PIX_FMT_RGB24;
    return start_output(v, c, fourcc) < 0 ? -1 : r;
}

static void reclaim(struct sim_video *v)
{
    for (;;) {
        struct v4l2_buffer vb = {.type = V4L2_BUF_TYPE_VIDEO_OUTPUT, .memory = V4L2_MEMORY_MMAP};
        if (xioctl(v->out_fd, VIDIOC_DQBUF, &vb) < 0 || vb.index >= v->nbufs)
            return;
        if (v->bufs[vb.index].queued) {
            v->bufs[vb.index].queued = false;
            v->queued--;
        }
    }
}

void sim_video_present(struct sim_video *v, const struct sim_canvas *c)
{
    if (!v->streaming)
        return;
    reclaim(v);
    /* Nothing new; or one frame shown and one next already, where a third
     * would only wait behind them: the main loop polls the node and comes
     * back when a buffer returns. */
    if (c->gen == v->queued_gen || v->queued >= 2)
        return;
    for (unsigned i = 0; i < v->nbufs; i++)
        if (!v->bufs[i].queued) {
            queue(v, i, c);
            return;
        }
}

int sim_video_fd(const struct sim_video *v)
{
    return v->streaming && v->queued >= 2 ? v->out_fd : -1;
}
