/* h264/h264_m2m: the V4L2 M2M hardware encoder as an H.264 backend (the
 * Pi 4's bcm2835-codec), on the generic session of m2m.c. Latency first: the
 * codec has no B-frames, and each call waits for its own frame's NAL units.
 * Every IDR carries SPS/PPS (REPEAT_SEQ_HEADER); the VUI's colour
 * description comes from the OUTPUT format's colorspace and quantization
 * (BT.601, the range asked for), which the Pi's codec writes into its SPS. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <linux/videodev2.h>

#include "common/log.h"
#include "h264/h264_internal.h"
#include "h264/m2m_internal.h"

/* The coarsest quantiser the codec may use when the bitrate ceiling bites
 * (a moving picture): beyond it the picture is mush; ustreamer caps at 32,
 * which makes the ceiling soft at high motion. */
#define H264_M2M_MAX_QP 40

struct h264_m2m {
    struct m2m_session *s;
    bool reported;
};

/* The bitrate for a size when none is asked: ~5 Mbit/s at 1080p30 as PiKVM
 * uses, scaled by area, within the codec's 25 kbit/s .. 25 Mbit/s. */
static unsigned h264_m2m_default_kbps(unsigned w, unsigned h)
{
    unsigned long long k = 5000ULL * w * h / (1920ULL * 1080ULL);
    return k < 500 ? 500 : k > 25000 ? 25000 : (unsigned)k;
}

static int h264_m2m_open(struct h264_encoder *e, const struct h264_params *p, char *err,
                         size_t errlen)
{
    struct h264_m2m *m = calloc(1, sizeof(*m));
    if (!m) {
        snprintf(err, errlen, "m2m: out of memory");
        return -1;
    }
    unsigned kbps = p->bitrate_kbps ? p->bitrate_kbps : h264_m2m_default_kbps(p->width, p->height);
    e->ceiling_kbps = kbps;
    unsigned qp = p->quality_qp ? p->quality_qp : H264_QUALITY_QP_DEFAULT;
    if (qp > H264_M2M_MAX_QP)
        qp = H264_M2M_MAX_QP;
    /* Level 4.0 covers 1080p30 (8160 macroblocks a frame); above, 4.2. */
    unsigned mbs = ((p->width + 15) / 16) * ((p->height + 15) / 16);
    int level = mbs <= 8192 ? V4L2_MPEG_VIDEO_H264_LEVEL_4_0 : V4L2_MPEG_VIDEO_H264_LEVEL_4_2;
    /* 0 = only when asked: the longest period the control takes. */
    int period = p->keyframe_interval ? (int)p->keyframe_interval : 0x7fffffff;
    const struct m2m_ctrl ctrls[] = {
        /* The same rate control as the software encoders (h264.h): VBR
         * with the bitrate as its ceiling, the quality held by the min QP,
         * so a still picture stops costing bits once it is that good. */
        {V4L2_CID_MPEG_VIDEO_BITRATE_MODE, V4L2_MPEG_VIDEO_BITRATE_MODE_VBR, "VBR bitrate mode"},
        {V4L2_CID_MPEG_VIDEO_BITRATE, (int32_t)(kbps * 1000u), "bitrate"},
        {V4L2_CID_MPEG_VIDEO_H264_PROFILE, V4L2_MPEG_VIDEO_H264_PROFILE_CONSTRAINED_BASELINE,
         "constrained baseline profile"},
        {V4L2_CID_MPEG_VIDEO_H264_LEVEL, level, "level"},
        {V4L2_CID_MPEG_VIDEO_H264_I_PERIOD, period, "I-period"},
        {V4L2_CID_MPEG_VIDEO_REPEAT_SEQ_HEADER, 1, "REPEAT_SEQ_HEADER"},
        {V4L2_CID_MPEG_VIDEO_H264_MIN_QP, (int32_t)qp, "min QP"},
        {V4L2_CID_MPEG_VIDEO_H264_MAX_QP, H264_M2M_MAX_QP, "max QP"},
        {V4L2_CID_MPEG_VIDEO_B_FRAMES, 0, "B-frames"},
    };
    struct m2m_params mp = {.device = p->m2m_device, .coded_fourcc = V4L2_PIX_FMT_H264,
                            .width = p->width, .height = p->height, .fps = p->fps,
                            .full_range = p->full_range,
                            .ctrls = ctrls, .nctrls = sizeof(ctrls) / sizeof(ctrls[0])};
    m->s = m2m_open(&mp, err, errlen);
    if (!m->s) {
        free(m);
        return -1;
    }
    struct m2m_info info;
    m2m_get_info(m->s, &info);
    snprintf(e->name, sizeof(e->name), "m2m:%s (%s)", info.path, info.driver);
    e->priv = m;
    return 0;
}

static int h264_m2m_encode(struct h264_encoder *e, const struct h264_picture *in, bool force_idr,
                           struct h264_output *out)
{
    struct h264_m2m *m = e->priv;
    struct m2m_coded c;
    if (m2m_encode(m->s, in, force_idr, &c) != 0)
        return -1;
    if (c.size == 0 && !m->reported) {
        /* A codec that holds frames back breaks latency-first: say so once. */
        LOG_WARN("h264", "%s returned an empty frame", e->name);
        m->reported = true;
    }
    *out = (struct h264_output){.data = c.data, .size = c.size, .idr = c.key};
    return 0;
}

static void h264_m2m_close(struct h264_encoder *e)
{
    struct h264_m2m *m = e->priv;
    if (!m)
        return;
    m2m_close(m->s);
    free(m);
    e->priv = NULL;
}

static const struct h264_backend_ops h264_m2m_ops = {
    .name = "m2m",
    .open = h264_m2m_open,
    .encode = h264_m2m_encode,
    .close = h264_m2m_close,
};

const struct h264_backend_ops *const h264_backend_m2m = &h264_m2m_ops;
