/* h264/h264_internal.h — what a backend implements (h264.c picks one). */
#ifndef PIGLIX_H264_INTERNAL_H
#define PIGLIX_H264_INTERNAL_H

#include "common/thread.h"
#include "h264.h"

struct h264_backend_ops {
    const char *name;
    /* Fills e->priv, e->name and e->ceiling_kbps; returns 0, or -1 with a sentence in err. */
    int (*open)(struct h264_encoder *e, const struct h264_params *p, char *err, size_t errlen);
    int (*encode)(struct h264_encoder *e, const struct h264_picture *in, bool force_idr,
                  struct h264_output *out);
    void (*close)(struct h264_encoder *e);
};

struct h264_encoder {
    const struct h264_backend_ops *ops;
    struct h264_params params;
    char name[96];
    void *priv;
    struct thread_owner owner; /* the thread that opened it (h264.h) */
    unsigned ceiling_kbps;       /* the bitrate ceiling the backend set (its default when 0 was asked) */
    struct h264_follow follow;  /* its stream, for previews */
    /* The previews' budget (bytes): what the frames leave of the ceiling,
     * refilled with the pictures' time (h264.c). */
    double preview_tokens;
    int64_t preview_pts_us;
    bool preview_timed;
};

/* The speed governor of a software encoder (speed.c), on the encoder's
 * thread: it starts at QUALITY (more analysis: better pictures per bit)
 * and steps to FAST while frames take most of the frame time, back once
 * they take well under half of it. Feed it each frame's wall time;
 * h264_speed_note returns true when the level changed (the backend then
 * reconfigures). */
enum h264_speed_level { H264_SPEED_FAST, H264_SPEED_QUALITY };
#define H264_SPEED_WINDOW 5
struct h264_speed {
    enum h264_speed_level level;
    double frame_ms;
    double median_ms;                  /* of recent */
    double recent[H264_SPEED_WINDOW];  /* the last frames' times, a ring */
    unsigned pos, filled;
    unsigned frames;                   /* since the last change */
};
void h264_speed_init(struct h264_speed *s, unsigned fps);
bool h264_speed_note(struct h264_speed *s, double encode_ms);

/* The software encoders' ceiling when none is configured (kbit/s). */
static inline unsigned h264_software_default_kbps(unsigned width, unsigned height)
{
    return width * height >= 1280 * 720 ? 4000 : 2000;
}

/* NULL in builds without that backend (PIGLIX_WITH_X264=OFF etc.). */
extern const struct h264_backend_ops *const h264_backend_m2m;
extern const struct h264_backend_ops *const h264_backend_x264;
extern const struct h264_backend_ops *const h264_backend_openh264;

#endif
