/* h264/h264_internal.h — what a backend implements (h264.c picks one). */
#ifndef PIGLIX_H264_INTERNAL_H
#define PIGLIX_H264_INTERNAL_H

#include "common/thread.h"
#include "h264.h"

struct h264_backend_ops {
    const char *name;
    /* Fills e->priv and e->name; returns 0, or -1 with a sentence in err. */
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
};

/* NULL in builds without that backend (PIGLIX_WITH_X264=OFF etc.). */
extern const struct h264_backend_ops *const h264_backend_m2m;
extern const struct h264_backend_ops *const h264_backend_x264;
extern const struct h264_backend_ops *const h264_backend_openh264;

#endif
