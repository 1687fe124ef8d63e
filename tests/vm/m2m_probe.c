/* m2m_probe: drives piglix's V4L2 M2M encoder session (h264/m2m.c) against
 * a real stateful encoder, Linux's vicodec (FWHT), inside the test VM
 * (tests/vm/test_m2m.py). Prints key=value lines; exits 0 when every check
 * held, 1 on a failed check, 3 when the session reported an error.
 *
 *   m2m_probe stream W H N [W2 H2 N2]  find by capability, N frames (frame 3
 *       forced to a key frame), drain, then optionally resize and N2 more
 *   m2m_probe forever W H              frames until the session fails
 *                                      (the device goes away)
 *   m2m_probe dmabuf CAPDEV N          N frames captured by CAPDEV (vivid,
 *       YU12) handed over as DMABUF (VIDIOC_EXPBUF), no copy */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <linux/v4l2-controls.h>
#include <linux/videodev2.h>

#include "h264/m2m_internal.h"

/* vicodec's header in front of every coded frame (big-endian fields). */
struct fwht_hdr {
    uint32_t magic1, magic2, version, width, height, flags, colorspace, xfer_func, ycbcr_enc,
        quantization, size;
};
#define FWHT_MAGIC1 0x4f4f4f4fu
#define FWHT_MAGIC2 0xffffffffu

static int failures;

static void check(int ok, const char *what, long a, long b)
{
    if (!ok) {
        printf("FAIL %s (%ld vs %ld)\n", what, a, b);
        failures++;
    }
}

struct pic {
    uint8_t *y, *u, *v;
    unsigned w, h;
};

static void pic_make(struct pic *p, unsigned w, unsigned h)
{
    p->w = w;
    p->h = h;
    p->y = malloc((size_t)w * h);
    p->u = malloc((size_t)w * h / 4);
    p->v = malloc((size_t)w * h / 4);
    if (!p->y || !p->u || !p->v)
        exit(2);
}

/* A known picture: gradients and a bar that moves with the frame number. */
static void pic_draw(struct pic *p, unsigned n)
{
    for (unsigned y = 0; y < p->h; y++)
        for (unsigned x = 0; x < p->w; x++) {
            unsigned bar = (x + 8 * n) % p->w < 64;
            p->y[(size_t)y * p->w + x] = bar ? 235 : (uint8_t)(16 + (x + 2 * y) % 200);
        }
    for (unsigned y = 0; y < p->h / 2; y++)
        for (unsigned x = 0; x < p->w / 2; x++) {
            p->u[(size_t)y * (p->w / 2) + x] = (uint8_t)(64 + (x % 128));
            p->v[(size_t)y * (p->w / 2) + x] = (uint8_t)(64 + (y % 128));
        }
}

static struct h264_picture pic_in(const struct pic *p, unsigned n)
{
    return (struct h264_picture){.plane = {p->y, p->u, p->v},
                                 .stride = {p->w, p->w / 2, p->w / 2},
                                 .dmabuf_fd = -1,
                                 .pts_us = (int64_t)n * 33333};
}

/* Checks one coded frame: a whole FWHT frame of the session's coded size. */
static bool check_frame(const struct m2m_coded *c, const struct m2m_info *info, unsigned n)
{
    struct fwht_hdr h;
    check(c->size > sizeof(h), "frame larger than its header", (long)c->size, (long)sizeof(h));
    if (c->size <= sizeof(h))
        return false;
    memcpy(&h, c->data, sizeof(h));
    check(ntohl(h.magic1) == FWHT_MAGIC1 && ntohl(h.magic2) == FWHT_MAGIC2, "FWHT magic",
          (long)ntohl(h.magic1), FWHT_MAGIC1);
    check(ntohl(h.width) == info->width, "header width", (long)ntohl(h.width), info->width);
    check(ntohl(h.height) == info->height, "header height", (long)ntohl(h.height), info->height);
    check(ntohl(h.size) + sizeof(h) == c->size, "header size = payload", (long)ntohl(h.size),
          (long)(c->size - sizeof(h)));
    bool iframe = (ntohl(h.flags) & V4L2_FWHT_FL_I_FRAME) != 0;
    /* vicodec's encoder flags no buffer: its header says what the frame is. */
    check(!c->key || iframe, "KEYFRAME flag on an I-frame only", iframe, c->key);
    printf("frame n=%u size=%zu key=%d flagged=%d\n", n, c->size, iframe, c->key);
    return iframe;
}

static void on_drained(void *ctx, const struct m2m_coded *c)
{
    (*(unsigned *)ctx)++;
    printf("drained size=%zu last=%d\n", c->size, c->last);
}

static void print_info(const struct m2m_session *s)
{
    struct m2m_info i;
    m2m_get_info(s, &i);
    printf("info path=%s driver=%s mplane=%d raw=%.4s width=%u height=%u coded_width=%u "
           "coded_height=%u bytesperline=%u force_key=%d dmabuf=%d\n",
           i.path, i.driver, i.mplane, (const char *)&i.raw_fourcc, i.width, i.height,
           i.coded_width, i.coded_height, i.bytesperline, i.has_force_key, i.dmabuf_in);
}

/* N frames of w x h; frame 0 and frame 3 (forced) must be key frames, the
 * others P-frames (GOP longer than the run). */
static int run_frames(struct m2m_session *s, unsigned w, unsigned h, unsigned frames)
{
    struct pic p;
    pic_make(&p, w, h);
    struct m2m_info info;
    m2m_get_info(s, &info);
    unsigned keys = 0;
    for (unsigned n = 0; n < frames; n++) {
        pic_draw(&p, n);
        struct h264_picture in = pic_in(&p, n);
        struct m2m_coded c;
        if (m2m_encode(s, &in, n == 3, &c) != 0) {
            printf("error encode n=%u\n", n);
            return 3;
        }
        bool key = check_frame(&c, &info, n);
        keys += key;
        check(key == (n == 0 || n == 3), "key frames at 0 and the forced 3", n, key);
    }
    printf("frames count=%u keys=%u\n", frames, keys);
    free(p.y);
    free(p.u);
    free(p.v);
    return 0;
}

/* A capture device streaming YU12 into exported buffers. */
struct cap {
    int fd;
    unsigned w, h, n;
    int dmabuf[2];
    uint8_t *map[2];
    size_t len[2];
};

static int cap_open(struct cap *c, const char *dev)
{
    c->fd = open(dev, O_RDWR | O_NONBLOCK);
    struct v4l2_format f = {.type = V4L2_BUF_TYPE_VIDEO_CAPTURE};
    if (c->fd < 0 || ioctl(c->fd, VIDIOC_G_FMT, &f) < 0)
        return -1;
    f.fmt.pix.pixelformat = V4L2_PIX_FMT_YUV420;
    f.fmt.pix.bytesperline = 0; /* else vivid keeps the last format's (YUYV) */
    f.fmt.pix.sizeimage = 0;
    if (ioctl(c->fd, VIDIOC_S_FMT, &f) < 0)
        return -1;
    printf("capture %ux%u %.4s bytesperline=%u sizeimage=%u\n", f.fmt.pix.width,
           f.fmt.pix.height, (const char *)&f.fmt.pix.pixelformat, f.fmt.pix.bytesperline,
           f.fmt.pix.sizeimage);
    if (f.fmt.pix.pixelformat != V4L2_PIX_FMT_YUV420 || f.fmt.pix.bytesperline != f.fmt.pix.width)
        return -1;
    c->w = f.fmt.pix.width;
    c->h = f.fmt.pix.height;
    struct v4l2_requestbuffers rb = {.count = 2, .type = V4L2_BUF_TYPE_VIDEO_CAPTURE,
                                     .memory = V4L2_MEMORY_MMAP};
    if (ioctl(c->fd, VIDIOC_REQBUFS, &rb) < 0 || rb.count < 2) {
        printf("capture buffers: %u\n", rb.count);
        return -1;
    }
    c->n = 2;
    for (unsigned i = 0; i < c->n; i++) {
        struct v4l2_buffer b = {.type = V4L2_BUF_TYPE_VIDEO_CAPTURE, .memory = V4L2_MEMORY_MMAP,
                                .index = i};
        struct v4l2_exportbuffer e = {.type = V4L2_BUF_TYPE_VIDEO_CAPTURE, .index = i,
                                      .flags = O_RDWR | O_CLOEXEC};
        if (ioctl(c->fd, VIDIOC_QUERYBUF, &b) < 0 || ioctl(c->fd, VIDIOC_EXPBUF, &e) < 0)
            return -1;
        c->dmabuf[i] = e.fd;
        c->len[i] = b.length;
        c->map[i] = mmap(NULL, b.length, PROT_READ, MAP_SHARED, c->fd, b.m.offset);
        if (c->map[i] == MAP_FAILED || ioctl(c->fd, VIDIOC_QBUF, &b) < 0)
            return -1;
    }
    uint32_t type = V4L2_BUF_TYPE_VIDEO_CAPTURE;
    return ioctl(c->fd, VIDIOC_STREAMON, &type);
}

static int run_dmabuf(const char *dev, unsigned frames)
{
    struct cap c;
    if (cap_open(&c, dev) != 0) {
        printf("error capture %s: %s\n", dev, strerror(errno));
        return 3;
    }
    struct m2m_params mp = {.coded_fourcc = V4L2_PIX_FMT_FWHT, .width = c.w, .height = c.h,
                            .fps = 30, .timeout_ms = 3000};
    char err[256];
    struct m2m_session *s = m2m_open(&mp, err, sizeof(err));
    if (!s) {
        printf("error open %s\n", err);
        return 3;
    }
    int rc = 0;
    unsigned keys = 0;
    for (unsigned n = 0; n < frames && rc == 0; n++) {
        struct pollfd pfd = {.fd = c.fd, .events = POLLIN};
        struct v4l2_buffer b = {.type = V4L2_BUF_TYPE_VIDEO_CAPTURE, .memory = V4L2_MEMORY_MMAP};
        if (poll(&pfd, 1, 5000) != 1 || ioctl(c.fd, VIDIOC_DQBUF, &b) < 0) {
            printf("error capture frame %u\n", n);
            rc = 3;
            break;
        }
        const uint8_t *y = c.map[b.index];
        struct h264_picture in = {.plane = {y, y + c.w * c.h, y + c.w * c.h * 5 / 4},
                                  .stride = {c.w, c.w / 2, c.w / 2},
                                  .dmabuf_fd = c.dmabuf[b.index], .pts_us = (int64_t)n * 33333};
        struct m2m_coded out;
        if (m2m_encode(s, &in, false, &out) != 0) {
            printf("error encode n=%u\n", n);
            rc = 3;
            break;
        }
        struct m2m_info info;
        m2m_get_info(s, &info);
        keys += check_frame(&out, &info, n);
        ioctl(c.fd, VIDIOC_QBUF, &b);
    }
    /* The import reads the very pixels: one more captured picture as a
     * forced I-frame through DMABUF, and through a fresh session that
     * copies it, must give the same bytes. */
    int same = -1;
    struct pollfd pfd = {.fd = c.fd, .events = POLLIN};
    struct v4l2_buffer b = {.type = V4L2_BUF_TYPE_VIDEO_CAPTURE, .memory = V4L2_MEMORY_MMAP};
    struct m2m_session *s2 = rc ? NULL : m2m_open(&mp, err, sizeof(err));
    if (s2 && poll(&pfd, 1, 5000) == 1 && ioctl(c.fd, VIDIOC_DQBUF, &b) == 0) {
        const uint8_t *y = c.map[b.index];
        struct h264_picture in = {.plane = {y, y + c.w * c.h, y + c.w * c.h * 5 / 4},
                                  .stride = {c.w, c.w / 2, c.w / 2},
                                  .dmabuf_fd = c.dmabuf[b.index]};
        struct m2m_coded a, copy;
        uint8_t *abuf = NULL;
        size_t alen = 0;
        if (m2m_encode(s, &in, true, &a) == 0 && (abuf = malloc(a.size))) {
            memcpy(abuf, a.data, a.size);
            alen = a.size;
            in.dmabuf_fd = -1;
            if (m2m_encode(s2, &in, false, &copy) == 0)
                same = copy.size == alen && memcmp(copy.data, abuf, alen) == 0;
        }
        free(abuf);
    }
    m2m_close(s2);
    print_info(s);
    struct m2m_info info;
    m2m_get_info(s, &info);
    printf("dmabuf frames=%u keys=%u imported=%d same_as_copy=%d\n", frames, keys,
           info.dmabuf_in, same);
    m2m_close(s);
    return rc;
}

int main(int argc, char **argv)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (argc == 4 && strcmp(argv[1], "dmabuf") == 0) {
        int rc = run_dmabuf(argv[2], (unsigned)atoi(argv[3]));
        if (rc == 0 && failures)
            rc = 1;
        printf("done rc=%d failures=%d\n", rc, failures);
        return rc;
    }
    if (argc < 4)
        return 2;
    unsigned w = (unsigned)atoi(argv[2]), h = (unsigned)atoi(argv[3]);
    /* GOP longer than any run: every key frame here is the first or forced. */
    const struct m2m_ctrl ctrls[] = {
        {V4L2_CID_MPEG_VIDEO_GOP_SIZE, 1000, "GOP size"},
        {V4L2_CID_MPEG_VIDEO_H264_PROFILE, V4L2_MPEG_VIDEO_H264_PROFILE_CONSTRAINED_BASELINE,
         "H.264 profile"},
    };
    struct m2m_params mp = {.coded_fourcc = V4L2_PIX_FMT_FWHT, .width = w, .height = h,
                            .fps = 30, .ctrls = ctrls, .nctrls = 2, .timeout_ms = 3000};
    char err[256];
    struct m2m_session *s = m2m_open(&mp, err, sizeof(err));
    if (!s) {
        printf("error open %s\n", err);
        return 3;
    }
    print_info(s);
    int rc = 0;
    if (strcmp(argv[1], "forever") == 0) {
        struct pic p;
        pic_make(&p, w, h);
        for (unsigned n = 0;; n++) {
            pic_draw(&p, n);
            struct h264_picture in = pic_in(&p, n);
            struct m2m_coded c;
            if (m2m_encode(s, &in, false, &c) != 0) {
                printf("error encode n=%u\n", n);
                rc = 3;
                break;
            }
            printf("frame n=%u size=%zu key=%d\n", n, c.size, c.key);
        }
        /* A dead session stays dead and says so, without touching the device. */
        struct h264_picture in = pic_in(&p, 0);
        struct m2m_coded c;
        printf("after encode=%d drain=%d resize=%d\n", m2m_encode(s, &in, false, &c),
               m2m_drain(s, NULL, NULL), m2m_resize(s, w, h));
        free(p.y);
        free(p.u);
        free(p.v);
    } else if (strcmp(argv[1], "stream") == 0 && argc >= 5) {
        rc = run_frames(s, w, h, (unsigned)atoi(argv[4]));
        unsigned drained = 0;
        int d = rc ? -1 : m2m_drain(s, on_drained, &drained);
        printf("drain rc=%d frames=%u\n", d, drained);
        check(d >= 0, "drain", d, 0);
        if (rc == 0 && argc >= 8) {
            unsigned w2 = (unsigned)atoi(argv[5]), h2 = (unsigned)atoi(argv[6]);
            if (m2m_resize(s, w2, h2) != 0) {
                printf("error resize\n");
                rc = 3;
            } else {
                print_info(s);
                rc = run_frames(s, w2, h2, (unsigned)atoi(argv[7]));
            }
        }
    } else {
        rc = 2;
    }
    m2m_close(s);
    if (rc == 0 && failures)
        rc = 1;
    printf("done rc=%d failures=%d\n", rc, failures);
    return rc;
}
