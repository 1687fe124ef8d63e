/* h264/h264_openh264.c — Cisco's openh264 (BSD), tuned like x264 for
 * latency: real-time screen content, no frame skipping (a skipped frame
 * would leave viewers on an old picture), one thread, constant SPS/PPS ids,
 * SPS/PPS before every IDR (openh264 writes them with each IDR). */
#include "h264/h264_internal.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wels/codec_api.h>

#include "common/log.h"

struct oh264_priv {
    ISVCEncoder *enc;
    uint8_t *buf;
    size_t cap;
    long long ts_ms;
};

static void oh264_close(struct h264_encoder *e)
{
    struct oh264_priv *o = e->priv;
    if (!o)
        return;
    if (o->enc) {
        (*o->enc)->Uninitialize(o->enc);
        WelsDestroySVCEncoder(o->enc);
    }
    free(o->buf);
    free(o);
    e->priv = NULL;
}

static int oh264_open(struct h264_encoder *e, const struct h264_params *p, char *err, size_t errlen)
{
    struct oh264_priv *o = calloc(1, sizeof(*o));
    if (!o || WelsCreateSVCEncoder(&o->enc) != 0 || !o->enc) {
        snprintf(err, errlen, "openh264: cannot create an encoder");
        free(o);
        return -1;
    }
    e->priv = o;
    int quiet = WELS_LOG_QUIET; /* it would print to stderr; failures are reported here */
    (*o->enc)->SetOption(o->enc, ENCODER_OPTION_TRACE_LEVEL, &quiet);
    SEncParamExt par;
    (*o->enc)->GetDefaultParams(o->enc, &par);
    unsigned kbps = p->bitrate_kbps ? p->bitrate_kbps : h264_software_default_kbps(p->width, p->height);
    e->ceiling_kbps = kbps;
    par.iUsageType = CAMERA_VIDEO_REAL_TIME;
    par.iPicWidth = (int)p->width;
    par.iPicHeight = (int)p->height;
    par.iTargetBitrate = (int)kbps * 1000;
    par.iMaxBitrate = (int)kbps * 1000;
    par.iRCMode = RC_BITRATE_MODE;
    par.fMaxFrameRate = (float)p->fps;
    par.iTemporalLayerNum = 1;
    par.iSpatialLayerNum = 1;
    par.uiIntraPeriod = p->keyframe_interval;
    par.iNumRefFrame = 1;
    par.eSpsPpsIdStrategy = CONSTANT_ID;
    par.bPrefixNalAddingCtrl = false;
    par.iEntropyCodingModeFlag = 0;
    par.bEnableFrameSkip = false;
    par.iMultipleThreadIdc = 1;
    par.bEnableDenoise = false;
    par.bEnableBackgroundDetection = false;
    par.bEnableSceneChangeDetect = false;
    par.bEnableAdaptiveQuant = false;
    /* The rate control of h264.h: the bitrate is the ceiling, the min QP
     * holds the quality, so a still picture stops costing bits. */
    par.iMinQp = (int)(p->quality_qp ? p->quality_qp : H264_QUALITY_QP_DEFAULT);
    par.iMaxQp = 51;
    SSpatialLayerConfig *l = &par.sSpatialLayers[0];
    l->iVideoWidth = (int)p->width;
    l->iVideoHeight = (int)p->height;
    l->fFrameRate = (float)p->fps;
    l->iSpatialBitrate = (int)kbps * 1000;
    l->iMaxSpatialBitrate = (int)kbps * 1000;
    l->uiProfileIdc = PRO_BASELINE;
    l->sSliceArgument.uiSliceMode = SM_SINGLE_SLICE;
    l->bVideoSignalTypePresent = true;
    l->uiVideoFormat = 5; /* unspecified */
    l->bFullRange = p->full_range;
    l->bColorDescriptionPresent = true;
    l->uiColorPrimaries = CP_SMPTE170M;
    l->uiTransferCharacteristics = TRC_SMPTE170M;
    l->uiColorMatrix = CM_SMPTE170M;
    if ((*o->enc)->InitializeExt(o->enc, &par) != 0) {
        snprintf(err, errlen, "openh264: cannot initialize for %ux%u", p->width, p->height);
        oh264_close(e);
        return -1;
    }
    int fmt = videoFormatI420;
    (*o->enc)->SetOption(o->enc, ENCODER_OPTION_DATAFORMAT, &fmt);
    snprintf(e->name, sizeof(e->name), "openh264");
    return 0;
}

static int oh264_encode(struct h264_encoder *e, const struct h264_picture *in, bool force_idr,
                        struct h264_output *out)
{
    struct oh264_priv *o = e->priv;
    SSourcePicture pic;
    memset(&pic, 0, sizeof(pic));
    pic.iColorFormat = videoFormatI420;
    pic.iPicWidth = (int)e->params.width;
    pic.iPicHeight = (int)e->params.height;
    for (int i = 0; i < 3; i++) {
        pic.pData[i] = (unsigned char *)in->plane[i]; /* read only */
        pic.iStride[i] = (int)in->stride[i];
    }
    pic.uiTimeStamp = o->ts_ms;
    o->ts_ms += 1000 / (long long)e->params.fps;
    if (force_idr)
        (*o->enc)->ForceIntraFrame(o->enc, true);
    SFrameBSInfo info;
    memset(&info, 0, sizeof(info));
    if ((*o->enc)->EncodeFrame(o->enc, &pic, &info) != cmResultSuccess) {
        LOG_ERROR("h264", "openh264: encoding failed");
        return -1;
    }
    if (info.eFrameType == videoFrameTypeSkip || info.eFrameType == videoFrameTypeInvalid)
        return 0;
    /* The layers' NAL units (with start codes) into one buffer. */
    size_t total = 0;
    for (int li = 0; li < info.iLayerNum; li++)
        for (int n = 0; n < info.sLayerInfo[li].iNalCount; n++)
            total += (size_t)info.sLayerInfo[li].pNalLengthInByte[n];
    if (total > o->cap) {
        uint8_t *b = realloc(o->buf, total);
        if (!b) {
            LOG_ERROR("h264", "openh264: out of memory");
            return -1;
        }
        o->buf = b;
        o->cap = total;
    }
    size_t off = 0;
    for (int li = 0; li < info.iLayerNum; li++) {
        const SLayerBSInfo *l = &info.sLayerInfo[li];
        size_t len = 0;
        for (int n = 0; n < l->iNalCount; n++)
            len += (size_t)l->pNalLengthInByte[n];
        memcpy(o->buf + off, l->pBsBuf, len);
        off += len;
    }
    out->data = o->buf;
    out->size = off;
    out->idr = info.eFrameType == videoFrameTypeIDR;
    return 0;
}

static const struct h264_backend_ops oh264_ops = {
    .name = "openh264", .open = oh264_open, .encode = oh264_encode, .close = oh264_close,
};
const struct h264_backend_ops *const h264_backend_openh264 = &oh264_ops;
