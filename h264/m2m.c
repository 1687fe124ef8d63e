/* h264/m2m: the stateful encoder session (m2m_internal.h): formats, buffer
 * queues, streaming, one frame in and its coded buffer out, drain, resize,
 * a device that goes away. Single- and multi-planar alike: the buffer and
 * format types are chosen once and every ioctl goes through the helpers. */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <linux/videodev2.h>

#include "common/log.h"
#include "h264/m2m_internal.h"

#define M2M_NBUF 2

struct m2m_buf {
    void *map;
    size_t len;
    bool queued;
};

struct m2m_session {
    int fd;
    char path[64], driver[32], card[32];
    bool mplane, dead, streaming, has_force_key, dmabuf_in, dmabuf_tried, full_range;
    uint32_t out_type, cap_type, coded, raw;
    unsigned width, height, coded_w, coded_h, bpl, fps;
    size_t out_size;
    struct m2m_buf out[M2M_NBUF], cap[M2M_NBUF];
    unsigned nout, ncap, restarts;
    int timeout_ms;
    uint8_t *frame;           /* the last coded frame, copied out of its buffer */
    size_t frame_cap;
};

/* A device error: gone (ENODEV, EIO) kills the session, logged once. */
static int m2m_fail(struct m2m_session *s, const char *what)
{
    int e = errno;
    if (!s->dead) {
        if (e == ENODEV || e == EIO || e == ENXIO)
            LOG_ERROR("h264", "m2m %s: the device is gone (%s: %s)", s->path, what, strerror(e));
        else
            LOG_ERROR("h264", "m2m %s: %s: %s", s->path, what, strerror(e));
    }
    s->dead = true;
    return -1;
}

static void m2m_buf_init(struct m2m_session *s, struct v4l2_buffer *b, struct v4l2_plane *pl,
                         uint32_t type, uint32_t memory, unsigned index)
{
    memset(b, 0, sizeof(*b));
    memset(pl, 0, sizeof(*pl));
    b->type = type;
    b->memory = memory;
    b->index = index;
    if (s->mplane) {
        b->m.planes = pl;
        b->length = 1;
    }
}

static int m2m_set_formats(struct m2m_session *s)
{
    /* CAPTURE first (the coded format decides what OUTPUT may take), then
     * OUTPUT at the picture size: the driver aligns it (1080 -> 1088). */
    struct v4l2_format f;
    memset(&f, 0, sizeof(f));
    f.type = s->cap_type;
    if (s->mplane) {
        f.fmt.pix_mp.width = s->width;
        f.fmt.pix_mp.height = s->height;
        f.fmt.pix_mp.pixelformat = s->coded;
        f.fmt.pix_mp.num_planes = 1;
    } else {
        f.fmt.pix.width = s->width;
        f.fmt.pix.height = s->height;
        f.fmt.pix.pixelformat = s->coded;
    }
    if (m2m_ioctl(s->fd, VIDIOC_S_FMT, &f) < 0)
        return m2m_fail(s, "VIDIOC_S_FMT (coded)");
    /* The colour description the encoder writes into its stream (the VUI). */
    uint8_t quant = s->full_range ? V4L2_QUANTIZATION_FULL_RANGE : V4L2_QUANTIZATION_LIM_RANGE;
    memset(&f, 0, sizeof(f));
    f.type = s->out_type;
    if (s->mplane) {
        f.fmt.pix_mp.width = s->width;
        f.fmt.pix_mp.height = s->height;
        f.fmt.pix_mp.pixelformat = s->raw;
        f.fmt.pix_mp.num_planes = 1;
        f.fmt.pix_mp.field = V4L2_FIELD_NONE;
        f.fmt.pix_mp.colorspace = V4L2_COLORSPACE_SMPTE170M;
        f.fmt.pix_mp.ycbcr_enc = V4L2_YCBCR_ENC_601;
        f.fmt.pix_mp.quantization = quant;
    } else {
        f.fmt.pix.width = s->width;
        f.fmt.pix.height = s->height;
        f.fmt.pix.pixelformat = s->raw;
        f.fmt.pix.field = V4L2_FIELD_NONE;
        f.fmt.pix.colorspace = V4L2_COLORSPACE_SMPTE170M;
        f.fmt.pix.ycbcr_enc = V4L2_YCBCR_ENC_601;
        f.fmt.pix.quantization = quant;
    }
    if (m2m_ioctl(s->fd, VIDIOC_S_FMT, &f) < 0)
        return m2m_fail(s, "VIDIOC_S_FMT (picture)");
    uint32_t got = s->mplane ? f.fmt.pix_mp.pixelformat : f.fmt.pix.pixelformat;
    s->coded_w = s->mplane ? f.fmt.pix_mp.width : f.fmt.pix.width;
    s->coded_h = s->mplane ? f.fmt.pix_mp.height : f.fmt.pix.height;
    s->bpl = s->mplane ? f.fmt.pix_mp.plane_fmt[0].bytesperline : f.fmt.pix.bytesperline;
    s->out_size = s->mplane ? f.fmt.pix_mp.plane_fmt[0].sizeimage : f.fmt.pix.sizeimage;
    if (s->mplane && f.fmt.pix_mp.num_planes != 1) {
        LOG_ERROR("h264", "m2m %s: wants %u planes for one picture", s->path,
                  f.fmt.pix_mp.num_planes);
        return -1;
    }
    if (got != s->raw || s->coded_w < s->width || s->coded_h < s->height || s->bpl < s->width ||
        s->out_size < (size_t)s->bpl * s->coded_h * 3 / 2) {
        LOG_ERROR("h264", "m2m %s: refuses %ux%u (offers %ux%u, %u bytes a line)", s->path,
                  s->width, s->height, s->coded_w, s->coded_h, s->bpl);
        return -1;
    }
    /* The visible part of the aligned picture; drivers without crop encode
     * the aligned size, whose extra lines repeat the last one. */
    struct v4l2_selection sel = {.type = V4L2_BUF_TYPE_VIDEO_OUTPUT, .target = V4L2_SEL_TGT_CROP,
                                 .r = {.left = 0, .top = 0, .width = s->width,
                                       .height = s->height}};
    if ((s->coded_w != s->width || s->coded_h != s->height) &&
        m2m_ioctl(s->fd, VIDIOC_S_SELECTION, &sel) < 0)
        LOG_INFO("h264", "m2m %s: no crop to %ux%u (%s): encodes %ux%u", s->path, s->width,
                 s->height, strerror(errno), s->coded_w, s->coded_h);
    if (s->fps) {
        struct v4l2_streamparm parm = {.type = s->out_type};
        parm.parm.output.timeperframe = (struct v4l2_fract){1, s->fps};
        m2m_ioctl(s->fd, VIDIOC_S_PARM, &parm); /* a rate hint: optional */
    }
    return 0;
}

static void m2m_unmap(struct m2m_buf *b, unsigned n)
{
    for (unsigned i = 0; i < n; i++) {
        if (b[i].map && b[i].map != MAP_FAILED)
            munmap(b[i].map, b[i].len);
        b[i] = (struct m2m_buf){0};
    }
}

/* Requests and maps MMAP buffers on one queue. */
static int m2m_alloc(struct m2m_session *s, uint32_t type, struct m2m_buf *bufs, unsigned *n)
{
    struct v4l2_requestbuffers rb = {.count = M2M_NBUF, .type = type, .memory = V4L2_MEMORY_MMAP};
    if (m2m_ioctl(s->fd, VIDIOC_REQBUFS, &rb) < 0)
        return m2m_fail(s, "VIDIOC_REQBUFS");
    if (rb.count < 1) {
        LOG_ERROR("h264", "m2m %s: no buffers", s->path);
        return -1;
    }
    *n = rb.count < M2M_NBUF ? rb.count : M2M_NBUF;
    for (unsigned i = 0; i < *n; i++) {
        struct v4l2_buffer b;
        struct v4l2_plane pl;
        m2m_buf_init(s, &b, &pl, type, V4L2_MEMORY_MMAP, i);
        if (m2m_ioctl(s->fd, VIDIOC_QUERYBUF, &b) < 0)
            return m2m_fail(s, "VIDIOC_QUERYBUF");
        size_t len = s->mplane ? pl.length : b.length;
        off_t off = s->mplane ? pl.m.mem_offset : b.m.offset;
        bufs[i].map = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, s->fd, off);
        bufs[i].len = len;
        if (bufs[i].map == MAP_FAILED)
            return m2m_fail(s, "mmap");
    }
    return 0;
}

static void m2m_stop(struct m2m_session *s)
{
    uint32_t t = s->out_type, c = s->cap_type;
    m2m_ioctl(s->fd, VIDIOC_STREAMOFF, &t);
    m2m_ioctl(s->fd, VIDIOC_STREAMOFF, &c);
    for (unsigned i = 0; i < M2M_NBUF; i++)
        s->out[i].queued = s->cap[i].queued = false;
    s->streaming = false;
}

static int m2m_queue_cap(struct m2m_session *s, unsigned i)
{
    struct v4l2_buffer b;
    struct v4l2_plane pl;
    m2m_buf_init(s, &b, &pl, s->cap_type, V4L2_MEMORY_MMAP, i);
    if (s->mplane)
        pl.length = (uint32_t)s->cap[i].len;
    else
        b.length = (uint32_t)s->cap[i].len;
    if (m2m_ioctl(s->fd, VIDIOC_QBUF, &b) < 0)
        return m2m_fail(s, "VIDIOC_QBUF (coded)");
    s->cap[i].queued = true;
    return 0;
}

static int m2m_start(struct m2m_session *s)
{
    for (unsigned i = 0; i < s->ncap; i++)
        if (!s->cap[i].queued && m2m_queue_cap(s, i) != 0)
            return -1;
    uint32_t t = s->out_type, c = s->cap_type;
    if (m2m_ioctl(s->fd, VIDIOC_STREAMON, &t) < 0 || m2m_ioctl(s->fd, VIDIOC_STREAMON, &c) < 0)
        return m2m_fail(s, "VIDIOC_STREAMON");
    s->streaming = true;
    return 0;
}

static int m2m_setup(struct m2m_session *s)
{
    if (m2m_set_formats(s) != 0 || m2m_alloc(s, s->cap_type, s->cap, &s->ncap) != 0 ||
        m2m_alloc(s, s->out_type, s->out, &s->nout) != 0)
        return -1;
    return 0;
}

static void m2m_teardown(struct m2m_session *s)
{
    m2m_stop(s);
    m2m_unmap(s->out, s->nout);
    m2m_unmap(s->cap, s->ncap);
    s->nout = s->ncap = 0;
    struct v4l2_requestbuffers rb = {.count = 0, .type = s->out_type,
                                     .memory = s->dmabuf_in ? V4L2_MEMORY_DMABUF
                                                            : V4L2_MEMORY_MMAP};
    m2m_ioctl(s->fd, VIDIOC_REQBUFS, &rb);
    rb = (struct v4l2_requestbuffers){.count = 0, .type = s->cap_type,
                                      .memory = V4L2_MEMORY_MMAP};
    m2m_ioctl(s->fd, VIDIOC_REQBUFS, &rb);
    s->dmabuf_in = false;
}

struct m2m_session *m2m_open(const struct m2m_params *p, char *err, size_t errlen)
{
    if (p->width < 2 || p->height < 2 || p->width % 2 || p->height % 2 || p->width > 8192 ||
        p->height > 8192) {
        snprintf(err, errlen, "m2m: bad picture size %ux%u", p->width, p->height);
        return NULL;
    }
    struct m2m_session *s = calloc(1, sizeof(*s));
    if (!s) {
        snprintf(err, errlen, "m2m: out of memory");
        return NULL;
    }
    s->fd = m2m_find(p->device, p->coded_fourcc, s->path, sizeof(s->path), &s->mplane, &s->raw,
                     err, errlen);
    if (s->fd < 0) {
        free(s);
        return NULL;
    }
    struct v4l2_capability cap;
    memset(&cap, 0, sizeof(cap));
    m2m_ioctl(s->fd, VIDIOC_QUERYCAP, &cap);
    snprintf(s->driver, sizeof(s->driver), "%s", (const char *)cap.driver);
    snprintf(s->card, sizeof(s->card), "%s", (const char *)cap.card);
    s->coded = p->coded_fourcc;
    s->out_type = s->mplane ? V4L2_BUF_TYPE_VIDEO_OUTPUT_MPLANE : V4L2_BUF_TYPE_VIDEO_OUTPUT;
    s->cap_type = s->mplane ? V4L2_BUF_TYPE_VIDEO_CAPTURE_MPLANE : V4L2_BUF_TYPE_VIDEO_CAPTURE;
    s->width = p->width;
    s->height = p->height;
    s->fps = p->fps;
    s->full_range = p->full_range;
    s->timeout_ms = p->timeout_ms > 0 ? p->timeout_ms : 2000;
    if (m2m_setup(s) != 0) {
        snprintf(err, errlen, "m2m %s (%s): cannot set up %ux%u (see the log)", s->path,
                 s->driver, p->width, p->height);
        m2m_close(s);
        return NULL;
    }
    char missing[256];
    if (m2m_set_ctrls(s->fd, p->ctrls, p->nctrls, missing, sizeof(missing)) > 0)
        LOG_INFO("h264", "m2m %s (%s) lacks: %s (left at its defaults)", s->path, s->driver,
                 missing);
    s->has_force_key = m2m_has_ctrl(s->fd, V4L2_CID_MPEG_VIDEO_FORCE_KEY_FRAME);
    if (!s->has_force_key)
        LOG_INFO("h264", "m2m %s (%s) has no FORCE_KEY_FRAME: a key frame on demand restarts "
                 "the stream", s->path, s->driver);
    LOG_INFO("h264", "m2m %s (%s, %s): %ux%u as %ux%u, %s, %s in", s->path, s->driver, s->card,
             s->width, s->height, s->coded_w, s->coded_h,
             s->mplane ? "multi-planar" : "single-planar",
             s->raw == V4L2_PIX_FMT_NV12 ? "NV12" : "YUV420");
    return s;
}

void m2m_close(struct m2m_session *s)
{
    if (!s)
        return;
    if (s->fd >= 0) {
        m2m_teardown(s);
        close(s->fd);
    }
    free(s->frame);
    free(s);
}

void m2m_get_info(const struct m2m_session *s, struct m2m_info *o)
{
    *o = (struct m2m_info){.path = s->path, .driver = s->driver, .card = s->card,
                           .mplane = s->mplane, .dmabuf_in = s->dmabuf_in, .raw_fourcc = s->raw,
                           .width = s->width, .height = s->height, .coded_width = s->coded_w,
                           .coded_height = s->coded_h, .bytesperline = s->bpl,
                           .has_force_key = s->has_force_key, .restarts = s->restarts};
}

/* Copies the I420 picture into an OUTPUT buffer laid out as negotiated;
 * lines below the picture repeat its last line (seen only by drivers that
 * cannot crop). */
static void m2m_copy_in(const struct m2m_session *s, uint8_t *dst, const struct h264_picture *pic)
{
    unsigned bpl = s->bpl, w = s->width, h = s->height;
    for (unsigned y = 0; y < s->coded_h; y++)
        memcpy(dst + (size_t)y * bpl,
               y < h ? pic->plane[0] + (size_t)y * pic->stride[0] : dst + (size_t)(h - 1) * bpl,
               w);
    uint8_t *c = dst + (size_t)bpl * s->coded_h;
    unsigned cw = w / 2, ch = h / 2, crows = s->coded_h / 2;
    if (s->raw == V4L2_PIX_FMT_NV12) {
        for (unsigned y = 0; y < crows; y++) {
            unsigned sy = y < ch ? y : ch - 1;
            const uint8_t *u = pic->plane[1] + (size_t)sy * pic->stride[1];
            const uint8_t *v = pic->plane[2] + (size_t)sy * pic->stride[2];
            uint8_t *d = c + (size_t)y * bpl;
            for (unsigned x = 0; x < cw; x++) {
                d[2 * x] = u[x];
                d[2 * x + 1] = v[x];
            }
        }
        return;
    }
    unsigned cbpl = bpl / 2;
    for (int p = 1; p <= 2; p++) {
        uint8_t *plane = c + (size_t)(p - 1) * cbpl * crows;
        for (unsigned y = 0; y < crows; y++)
            memcpy(plane + (size_t)y * cbpl,
                   pic->plane[p] + (size_t)(y < ch ? y : ch - 1) * pic->stride[p], cw);
    }
}

/* Switches the OUTPUT queue to DMABUF import (or back to MMAP). */
static int m2m_out_memory(struct m2m_session *s, bool dmabuf)
{
    m2m_stop(s);
    m2m_unmap(s->out, s->nout);
    s->nout = 0;
    struct v4l2_requestbuffers rb = {.count = 0, .type = s->out_type,
                                     .memory = s->dmabuf_in ? V4L2_MEMORY_DMABUF
                                                            : V4L2_MEMORY_MMAP};
    m2m_ioctl(s->fd, VIDIOC_REQBUFS, &rb);
    s->dmabuf_in = false;
    if (dmabuf) {
        rb = (struct v4l2_requestbuffers){.count = M2M_NBUF, .type = s->out_type,
                                          .memory = V4L2_MEMORY_DMABUF};
        if (m2m_ioctl(s->fd, VIDIOC_REQBUFS, &rb) == 0 && rb.count >= 1) {
            s->nout = rb.count < M2M_NBUF ? rb.count : M2M_NBUF;
            s->dmabuf_in = true;
            return 0;
        }
        LOG_INFO("h264", "m2m %s imports no DMABUF (%s): copies each picture once", s->path,
                 strerror(errno));
    }
    return m2m_alloc(s, s->out_type, s->out, &s->nout);
}

/* Takes back OUTPUT buffers the driver is done with (never waits). */
static int m2m_reclaim(struct m2m_session *s)
{
    for (;;) {
        struct v4l2_buffer b;
        struct v4l2_plane pl;
        m2m_buf_init(s, &b, &pl, s->out_type,
                     s->dmabuf_in ? V4L2_MEMORY_DMABUF : V4L2_MEMORY_MMAP, 0);
        if (m2m_ioctl(s->fd, VIDIOC_DQBUF, &b) < 0)
            return errno == EAGAIN || errno == EINVAL || errno == EPIPE ? 0
                                                                        : m2m_fail(s, "DQBUF");
        if (b.index < M2M_NBUF)
            s->out[b.index].queued = false;
    }
}

/* Waits for events up to the session's timeout: 1 ready, -1 error. */
static int m2m_wait(struct m2m_session *s, short events)
{
    struct pollfd pfd = {.fd = s->fd, .events = events};
    int r;
    do
        r = poll(&pfd, 1, s->timeout_ms);
    while (r < 0 && errno == EINTR);
    if (r == 0) {
        errno = ETIMEDOUT;
        return m2m_fail(s, "no answer in time");
    }
    if (r < 0)
        return m2m_fail(s, "poll");
    return (pfd.revents & POLLERR) && !(pfd.revents & events) ? 0 : 1;
}

/* Dequeues the next coded buffer into s->frame: 0, 1 when the queue has
 * ended (EPIPE: drained), -1 on error. */
static int m2m_dequeue_coded(struct m2m_session *s, struct m2m_coded *out)
{
    for (;;) {
        struct v4l2_buffer b;
        struct v4l2_plane pl;
        m2m_buf_init(s, &b, &pl, s->cap_type, V4L2_MEMORY_MMAP, 0);
        if (m2m_ioctl(s->fd, VIDIOC_DQBUF, &b) == 0) {
            if (b.index >= s->ncap) {
                errno = EINVAL;
                return m2m_fail(s, "DQBUF (coded) index");
            }
            s->cap[b.index].queued = false;
            size_t used = s->mplane ? pl.bytesused : b.bytesused;
            size_t off = s->mplane ? pl.data_offset : 0;
            if (off > used || used > s->cap[b.index].len) {
                errno = EINVAL;
                return m2m_fail(s, "DQBUF (coded) size");
            }
            used -= off;
            if (used > s->frame_cap) {
                uint8_t *f = realloc(s->frame, used);
                if (!f)
                    return -1;
                s->frame = f;
                s->frame_cap = used;
            }
            if (used)
                memcpy(s->frame, (const uint8_t *)s->cap[b.index].map + off, used);
            *out = (struct m2m_coded){.data = s->frame, .size = used,
                                      .key = (b.flags & V4L2_BUF_FLAG_KEYFRAME) != 0,
                                      .last = (b.flags & V4L2_BUF_FLAG_LAST) != 0};
            if (!out->last && m2m_queue_cap(s, b.index) != 0)
                return -1;
            return 0;
        }
        if (errno == EPIPE)
            return 1;
        if (errno != EAGAIN)
            return m2m_fail(s, "DQBUF (coded)");
        int w = m2m_wait(s, POLLIN);
        if (w < 0)
            return -1;
        if (w == 0) {
            /* POLLERR with nothing to dequeue: ask once more for the reason. */
            if (m2m_ioctl(s->fd, VIDIOC_DQBUF, &b) == 0 || errno == EAGAIN)
                errno = EIO;
            if (errno == EPIPE)
                return 1;
            return m2m_fail(s, "poll error");
        }
    }
}

int m2m_encode(struct m2m_session *s, const struct h264_picture *pic, bool force_key,
               struct m2m_coded *out)
{
    if (s->dead)
        return -1;
    if (pic->dmabuf_fd >= 0 && !s->dmabuf_tried) {
        s->dmabuf_tried = true;
        if (m2m_out_memory(s, true) != 0)
            return -1;
    } else if (pic->dmabuf_fd < 0 && s->dmabuf_in && m2m_out_memory(s, false) != 0) {
        return -1;
    }
    if (force_key && !s->has_force_key && s->streaming) {
        m2m_stop(s); /* a stateful encoder starts a new sequence on STREAMON */
        s->restarts++;
    }
    if (!s->streaming && m2m_start(s) != 0)
        return -1;
    if (force_key && s->has_force_key) {
        struct v4l2_control c = {.id = V4L2_CID_MPEG_VIDEO_FORCE_KEY_FRAME, .value = 1};
        if (m2m_ioctl(s->fd, VIDIOC_S_CTRL, &c) < 0)
            return m2m_fail(s, "FORCE_KEY_FRAME");
    }
    if (m2m_reclaim(s) != 0)
        return -1;
    unsigned i = 0;
    while (i < s->nout && s->out[i].queued)
        i++;
    if (i == s->nout) {
        if (m2m_wait(s, POLLOUT) <= 0 || m2m_reclaim(s) != 0)
            return s->dead ? -1 : m2m_fail(s, "no free picture buffer");
        for (i = 0; i < s->nout && s->out[i].queued; i++)
            ;
        if (i == s->nout) {
            errno = EBUSY;
            return m2m_fail(s, "no free picture buffer");
        }
    }
    struct v4l2_buffer b;
    struct v4l2_plane pl;
    m2m_buf_init(s, &b, &pl, s->out_type, s->dmabuf_in ? V4L2_MEMORY_DMABUF : V4L2_MEMORY_MMAP,
                 i);
    uint32_t used = (uint32_t)((size_t)s->bpl * s->coded_h * 3 / 2);
    if (s->dmabuf_in) {
        if (s->mplane)
            pl.m.fd = pic->dmabuf_fd;
        else
            b.m.fd = pic->dmabuf_fd;
    } else {
        m2m_copy_in(s, s->out[i].map, pic);
    }
    if (s->mplane) {
        pl.bytesused = used;
        pl.length = s->dmabuf_in ? (uint32_t)s->out_size : (uint32_t)s->out[i].len;
    } else {
        b.bytesused = used;
        b.length = s->dmabuf_in ? (uint32_t)s->out_size : (uint32_t)s->out[i].len;
    }
    b.field = V4L2_FIELD_NONE;
    b.timestamp.tv_sec = pic->pts_us / 1000000;
    b.timestamp.tv_usec = pic->pts_us % 1000000;
    if (m2m_ioctl(s->fd, VIDIOC_QBUF, &b) < 0) {
        if (s->dmabuf_in && errno == EINVAL) {
            /* The driver took the queue but not this buffer: copy from now on. */
            LOG_INFO("h264", "m2m %s refused a DMABUF picture: copies each picture once",
                     s->path);
            if (m2m_out_memory(s, false) != 0 || m2m_start(s) != 0)
                return -1;
            struct h264_picture copy = *pic;
            copy.dmabuf_fd = -1;
            return m2m_encode(s, &copy, force_key, out);
        }
        return m2m_fail(s, "QBUF (picture)");
    }
    s->out[i].queued = true;
    int r = m2m_dequeue_coded(s, out);
    if (r == 1) {
        errno = EPIPE;
        return m2m_fail(s, "the coded queue ended");
    }
    if (r != 0 || m2m_reclaim(s) != 0)
        return -1;
    return 0;
}

int m2m_drain(struct m2m_session *s, void (*fn)(void *ctx, const struct m2m_coded *c), void *ctx)
{
    if (s->dead)
        return -1;
    if (!s->streaming)
        return 0;
    struct v4l2_encoder_cmd cmd = {.cmd = V4L2_ENC_CMD_STOP};
    int frames = 0;
    if (m2m_ioctl(s->fd, VIDIOC_ENCODER_CMD, &cmd) < 0) {
        if (errno != ENOTTY && errno != EINVAL)
            return m2m_fail(s, "V4L2_ENC_CMD_STOP");
        /* No drain command: one frame in, one out means nothing is inside. */
    } else {
        for (;;) {
            struct m2m_coded c;
            int r = m2m_dequeue_coded(s, &c);
            if (r < 0)
                return -1;
            if (r == 1)
                break;
            if (c.size) {
                frames++;
                if (fn)
                    fn(ctx, &c);
            }
            if (c.last)
                break;
        }
    }
    m2m_stop(s);
    return frames;
}

int m2m_resize(struct m2m_session *s, unsigned width, unsigned height)
{
    if (s->dead)
        return -1;
    if (width < 2 || height < 2 || width % 2 || height % 2 || width > 8192 || height > 8192)
        return -1;
    if (m2m_drain(s, NULL, NULL) < 0)
        return -1;
    m2m_teardown(s);
    s->dmabuf_tried = false;
    s->width = width;
    s->height = height;
    if (m2m_setup(s) != 0) {
        s->dead = true;
        return -1;
    }
    return 0;
}
