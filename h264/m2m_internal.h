/* h264/m2m_internal.h — a V4L2 stateful memory-to-memory encoder session,
 * for any coded format: the same code drives the Pi 4's bcm2835-codec
 * (H.264) in h264_m2m.c and Linux's vicodec (FWHT) in tests/vm/m2m_probe.c.
 *
 * The device is found by capability (VIDIOC_QUERYCAP: video M2M, single- or
 * multi-planar; an OUTPUT format YUV420 or NV12 and a CAPTURE format of the
 * wanted fourcc), or given by path. One picture in, its coded buffer out:
 * every wait is a poll() with a timeout, so a wedged device is an error,
 * never a hang. A device that goes away (ENODEV, EIO) makes the session
 * dead: every later call returns -1, and it is logged once.
 *
 * Threads: a session belongs to the thread that opened it. */
#ifndef PIGLIX_H264_M2M_INTERNAL_H
#define PIGLIX_H264_M2M_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "h264/h264.h"

struct m2m_ctrl {
    uint32_t id;
    int32_t value;
    const char *name; /* for the log line naming the controls a driver lacks */
};

struct m2m_params {
    const char *device;      /* NULL or "": search /dev/video* */
    uint32_t coded_fourcc;   /* V4L2_PIX_FMT_H264, V4L2_PIX_FMT_FWHT, ... */
    unsigned width, height;  /* the visible picture */
    unsigned fps;            /* 0: leave the driver's rate */
    bool full_range;         /* the picture's range (BT.601 either way) */
    const struct m2m_ctrl *ctrls; /* set after the formats; missing ones logged once */
    unsigned nctrls;
    int timeout_ms;          /* per frame; 0 = 2000 */
};

/* One coded frame, valid until the next call on the session. */
struct m2m_coded {
    const uint8_t *data;
    size_t size;
    bool key;                /* V4L2_BUF_FLAG_KEYFRAME */
    bool last;               /* V4L2_BUF_FLAG_LAST (drain) */
};

struct m2m_session;

struct m2m_session *m2m_open(const struct m2m_params *p, char *err, size_t errlen);
void m2m_close(struct m2m_session *s);

/* Encodes one I420 picture of the session's size: 0 with its coded frame in
 * out, -1 on error (timeout, device gone: the session is dead). force_key
 * asks for a key frame: V4L2_CID_MPEG_VIDEO_FORCE_KEY_FRAME where the driver
 * has it, else both queues are restarted, which starts a new sequence. When
 * pic->dmabuf_fd >= 0 the OUTPUT queue imports that buffer (DMABUF) if the
 * driver accepts it, else the planes are copied once into an MMAP buffer. */
int m2m_encode(struct m2m_session *s, const struct h264_picture *pic, bool force_key,
               struct m2m_coded *out);

/* Drains (V4L2_ENC_CMD_STOP): calls fn for every coded frame still inside
 * the encoder, up to the one flagged LAST (or EPIPE). Returns the number of
 * frames, or -1. The next m2m_encode restarts streaming. */
int m2m_drain(struct m2m_session *s, void (*fn)(void *ctx, const struct m2m_coded *c), void *ctx);

/* A new picture size: drain, stop, free the buffers, negotiate again. */
int m2m_resize(struct m2m_session *s, unsigned width, unsigned height);

/* What was found and negotiated. */
struct m2m_info {
    const char *path, *driver, *card;
    bool mplane, dmabuf_in;
    uint32_t raw_fourcc;            /* YUV420 or NV12 */
    unsigned width, height;         /* visible */
    unsigned coded_width, coded_height; /* the driver's aligned size */
    unsigned bytesperline;
    bool has_force_key;
    unsigned restarts;              /* key frames forced by restarting */
};
void m2m_get_info(const struct m2m_session *s, struct m2m_info *out);

/* ---- m2m_dev.c ---- */
/* Finds an encoder for coded_fourcc: opens path when given, else the first
 * /dev/videoN that qualifies. Returns the open fd (O_NONBLOCK) and fills
 * path, mplane and raw_fourcc, or -1 with a sentence in err. */
int m2m_find(const char *path, uint32_t coded_fourcc, char *found, size_t foundlen, bool *mplane,
             uint32_t *raw_fourcc, char *err, size_t errlen);
/* Sets each control; returns how many the driver refused, naming them in
 * missing (comma-separated). */
unsigned m2m_set_ctrls(int fd, const struct m2m_ctrl *c, unsigned n, char *missing, size_t len);
/* True when the driver has the control. */
bool m2m_has_ctrl(int fd, uint32_t id);
/* ioctl, retried on EINTR. */
int m2m_ioctl(int fd, unsigned long req, void *arg);

#endif
