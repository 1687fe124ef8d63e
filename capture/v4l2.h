/* capture/v4l2: internals of the V4L2 capture source, shared by its files
 * (not an API for other modules: they use capture_v4l2_create in capture.h).
 *   v4l2.c         the source: a state machine of open, set up, stream, retry
 *   v4l2_device.c  the ioctls: capabilities, DV timings, formats, buffers, events
 *   v4l2_choose.c  pure decisions: which format and size, which frames to drop
 *   v4l2_decode.c  device buffer -> capture_frame (MJPEG via TurboJPEG, BGR24)
 *   v4l2_edid.c    the EDID hex file */
#ifndef PIGLIX_CAPTURE_V4L2_H
#define PIGLIX_CAPTURE_V4L2_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <linux/videodev2.h>

#include "capture/capture.h"
#include "common/pixfmt.h"

/* ---- v4l2_device.c ---- */

#define V4L2DEV_MAX_BUFFERS 8

struct v4l2dev_mapping {
    void *start;
    size_t length;
};

struct v4l2dev {
    int fd;                         /* -1 when closed */
    char path[256];
    char card[32];
    bool has_dv;                    /* the input has DV timings (an HDMI bridge) */
    bool has_events;                /* source-change events subscribed */
    bool streaming;
    struct v4l2_dv_timings timings; /* applied with S_DV_TIMINGS (has_dv) */
    uint32_t fourcc;                /* negotiated pixel format */
    unsigned width, height, stride; /* negotiated frame */
    size_t sizeimage;
    uint32_t ycbcr_enc, quantization; /* as S_FMT reported, defaults resolved */
    unsigned n_bufs;
    struct v4l2dev_mapping bufs[V4L2DEV_MAX_BUFFERS];
};

void v4l2dev_init(struct v4l2dev *d);
/* Opens the node and checks it is a streaming video capture device; reads
 * whether its input has DV timings; subscribes to source-change events.
 * Returns 0 or a negative errno (logging is the caller's). */
int v4l2dev_open(struct v4l2dev *d, const char *path);
void v4l2dev_close(struct v4l2dev *d);

/* VIDIOC_QUERY_DV_TIMINGS: 0, or -ENOLINK (no signal), -ENOLCK (no lock),
 * -ERANGE (out of range), or another negative errno. */
int v4l2dev_query_timings(struct v4l2dev *d, struct v4l2_dv_timings *t);
/* VIDIOC_S_DV_TIMINGS (only while no buffers are allocated). */
int v4l2dev_set_timings(struct v4l2dev *d, const struct v4l2_dv_timings *t);
bool v4l2dev_timings_equal(const struct v4l2_dv_timings *a, const struct v4l2_dv_timings *b);
/* Frames per second of DV timings (0 when the totals are unknown). */
double v4l2dev_timings_fps(const struct v4l2_dv_timings *t);

/* EDID of input 0: G_EDID into buf (up to max_blocks); returns the blocks
 * read or a negative errno. S_EDID returns 0 or a negative errno. */
int v4l2dev_get_edid(struct v4l2dev *d, uint8_t *buf, unsigned max_blocks);
int v4l2dev_set_edid(struct v4l2dev *d, const uint8_t *edid, unsigned blocks);

/* Formats piglix can use, with frame sizes around want (see v4l2_choose). */
struct v4l2_candidate {
    uint32_t fourcc;
    unsigned width, height;
    double fps;   /* highest rate at this size, 0 when the device does not say */
};
#define V4L2_MAX_CANDIDATES 64
/* Lists usable formats. With DV timings every candidate has the timings'
 * size; else discrete sizes as enumerated, or want_w x want_h fitted into a
 * stepwise range. Returns the count (0: nothing usable) or a negative errno. */
int v4l2dev_list_candidates(struct v4l2dev *d, unsigned want_w, unsigned want_h,
                            struct v4l2_candidate *out, int max);
/* S_FMT; the driver may adjust: the result is in d->width etc. */
int v4l2dev_set_format(struct v4l2dev *d, uint32_t fourcc, unsigned width, unsigned height);
/* S_PARM: ask for at most fps frames per second (devices without DV timings). */
void v4l2dev_set_fps(struct v4l2dev *d, unsigned fps);
/* Allocates, maps and queues n buffers and starts streaming. */
int v4l2dev_start(struct v4l2dev *d, unsigned n);
/* Stops streaming and frees the buffers (harmless when not streaming). */
void v4l2dev_stop(struct v4l2dev *d);

/* Waits up to timeout_ms. While streaming it waits for a frame and events,
 * else for events only. Returns a mask of V4L2DEV_READY_* (0 on timeout),
 * or a negative errno. */
#define V4L2DEV_READY_FRAME 1
#define V4L2DEV_READY_EVENT 2
#define V4L2DEV_READY_ERROR 4
int v4l2dev_wait(struct v4l2dev *d, int timeout_ms);
/* Takes every pending event; returns 1 if one was a source change, 0 if
 * not, or a negative errno. */
int v4l2dev_take_events(struct v4l2dev *d);
/* Dequeues every finished buffer and keeps the newest in *buf, queueing the
 * older ones back (*skipped counts them, *skipped_broken those of them the
 * driver flagged as errors). Returns 1 with a buffer, 0 when none was
 * ready, or a negative errno. */
int v4l2dev_dequeue_newest(struct v4l2dev *d, struct v4l2_buffer *buf, unsigned *skipped,
                           unsigned *skipped_broken);
int v4l2dev_requeue(struct v4l2dev *d, unsigned index);

/* "YUYV" from a fourcc, in a caller buffer of at least 5 bytes. */
const char *v4l2dev_fourcc_str(uint32_t fourcc, char buf[5]);

/* ---- v4l2_choose.c (pure) ---- */

/* The pixel format a device fourcc becomes: YUYV, UYVY, RGB24 as they are,
 * BGR24 converted to RGB24, MJPEG decoded to RGB24. -1: not usable. */
int v4l2_fourcc_pixfmt(uint32_t fourcc);
/* Bytes per pixel in the device's buffer: 2 or 3, 0 for compressed formats. */
unsigned v4l2_fourcc_bytes_per_pixel(uint32_t fourcc);
/* Index of the best candidate: nearest size to want, then highest rate up to
 * want_fps, then the preferred format, then UYVY, YUYV, RGB24, BGR24, MJPEG.
 * -1 when n is 0. */
int v4l2_choose(const struct v4l2_candidate *c, int n, unsigned want_w, unsigned want_h,
                unsigned want_fps, enum pixfmt preferred);

/* Drops frames to stay at or under a rate: frame times are matched against a
 * schedule of 1/fps steps (with a quarter-step tolerance for jitter), so a
 * 60 fps source limited to 30 gives every other frame, evenly. */
struct v4l2_pacer {
    int64_t interval_us;
    int64_t next_due_us;
    bool started;
};
void v4l2_pacer_init(struct v4l2_pacer *p, unsigned fps);
/* True when the frame captured at now_us should be kept. */
bool v4l2_pacer_accept(struct v4l2_pacer *p, int64_t now_us);

/* ---- v4l2_decode.c ---- */

struct v4l2_decoder {
    void *tj;        /* tjhandle, created on first MJPEG frame */
    uint8_t *buf;    /* converted frame */
    size_t cap;
};
/* Makes a capture_frame of a device buffer of bytesused bytes in fourcc.
 * YUYV, UYVY and RGB24 point into data (no copy); BGR24 and MJPEG go to
 * the decoder's buffer. Returns 0, or -1 for a broken frame (short, bad JPEG;
 * logged at debug: a dongle can send many). */
int v4l2_decode(struct v4l2_decoder *dec, uint32_t fourcc, const uint8_t *data, size_t bytesused,
                unsigned width, unsigned height, unsigned stride, struct capture_frame *out);
void v4l2_decoder_free(struct v4l2_decoder *dec);

/* ---- v4l2_edid.c ---- */

#define V4L2_EDID_BLOCK 128
#define V4L2_EDID_MAX_BLOCKS 4
/* Parses EDID hex text: pairs of hex digits, whitespace between them
 * allowed, '#' starts a comment to the end of the line. The bytes must be
 * 1-4 blocks of 128 with a valid header and a checksum per block. Returns
 * the number of blocks, or -1 with a reason in err. */
int v4l2_edid_parse(const char *text, uint8_t *out, char *err, size_t err_size);
/* Reads and parses a file (at most 64 KiB). Same results. */
int v4l2_edid_load(const char *path, uint8_t *out, char *err, size_t err_size);

#endif
