/* Device buffers to capture frames. Formats the server takes as they are
 * (YUYV, UYVY, RGB24) are passed by pointer: the slot copies them anyway.
 * BGR24 is swapped to RGB24 and MJPEG decoded to RGB24 with TurboJPEG
 * (limited-range YUV would be wrong: JPEG's YCbCr is full range). */
#include "capture/v4l2.h"

#include <stdlib.h>
#include <string.h>
#include <turbojpeg.h>

#include "common/log.h"

/* Frames above this are refused (a corrupt JPEG header must not make the
 * decoder allocate gigabytes). */
#define V4L2_DECODE_MAX_EDGE 8192

static int ensure_buffer(struct v4l2_decoder *dec, size_t size)
{
    if (dec->cap >= size)
        return 0;
    uint8_t *mem = realloc(dec->buf, size);
    if (!mem)
        return -1;
    dec->buf = mem;
    dec->cap = size;
    return 0;
}

static int decode_jpeg(struct v4l2_decoder *dec, const uint8_t *data, size_t bytesused,
                       struct capture_frame *out)
{
    if (!dec->tj) {
        dec->tj = tjInitDecompress();
        if (!dec->tj) {
            LOG_ERROR("capture", "TurboJPEG: %s", tjGetErrorStr2(NULL));
            return -1;
        }
    }
    int w, h, subsamp, colorspace;
    if (tjDecompressHeader3(dec->tj, data, (unsigned long)bytesused, &w, &h, &subsamp, &colorspace) < 0) {
        LOG_DEBUG("capture", "broken JPEG frame (%zu bytes): %s", bytesused, tjGetErrorStr2(dec->tj));
        return -1;
    }
    if (w <= 0 || h <= 0 || w > V4L2_DECODE_MAX_EDGE || h > V4L2_DECODE_MAX_EDGE) {
        LOG_DEBUG("capture", "JPEG frame of %dx%d refused", w, h);
        return -1;
    }
    size_t stride = (size_t)w * 3;
    if (ensure_buffer(dec, stride * (size_t)h) < 0) {
        LOG_ERROR("capture", "out of memory for a %dx%d frame", w, h);
        return -1;
    }
    if (tjDecompress2(dec->tj, data, (unsigned long)bytesused, dec->buf, w, (int)stride, h, TJPF_RGB,
                      TJFLAG_FASTDCT) < 0 &&
        tjGetErrorCode(dec->tj) != TJERR_WARNING) {
        /* warnings (e.g. a few missing bytes at the end) still give a picture */
        LOG_DEBUG("capture", "JPEG frame not decoded: %s", tjGetErrorStr2(dec->tj));
        return -1;
    }
    out->fmt = PIXFMT_RGB24;
    out->width = (unsigned)w & ~1u; /* 4:2:2 downstream wants even widths */
    out->height = (unsigned)h;
    out->stride = (unsigned)stride;
    out->data = dec->buf;
    return 0;
}

static int swap_bgr(struct v4l2_decoder *dec, const uint8_t *data, unsigned width, unsigned height,
                    unsigned stride, struct capture_frame *out)
{
    size_t out_stride = (size_t)width * 3;
    if (ensure_buffer(dec, out_stride * height) < 0) {
        LOG_ERROR("capture", "out of memory for a %ux%u frame", width, height);
        return -1;
    }
    for (unsigned y = 0; y < height; y++) {
        const uint8_t *s = data + (size_t)y * stride;
        uint8_t *d = dec->buf + (size_t)y * out_stride;
        for (unsigned x = 0; x < width; x++, s += 3, d += 3) {
            d[0] = s[2];
            d[1] = s[1];
            d[2] = s[0];
        }
    }
    out->fmt = PIXFMT_RGB24;
    out->stride = (unsigned)out_stride;
    out->data = dec->buf;
    return 0;
}

int v4l2_decode(struct v4l2_decoder *dec, uint32_t fourcc, const uint8_t *data, size_t bytesused,
                unsigned width, unsigned height, unsigned stride, struct capture_frame *out)
{
    memset(out, 0, sizeof(*out));
    if (fourcc == V4L2_PIX_FMT_MJPEG || fourcc == V4L2_PIX_FMT_JPEG)
        return bytesused ? decode_jpeg(dec, data, bytesused, out) : -1;
    int fmt = v4l2_fourcc_pixfmt(fourcc);
    unsigned bpp = v4l2_fourcc_bytes_per_pixel(fourcc);
    if (fmt < 0 || bpp == 0 || width == 0 || height == 0 || stride < width * bpp)
        return -1;
    /* Whole strides: the slot copies stride * height bytes. */
    size_t need = (size_t)stride * height;
    if (bytesused < need) {
        LOG_DEBUG("capture", "short frame: %zu of %zu bytes", bytesused, need);
        return -1;
    }
    out->width = width & ~1u;
    out->height = height;
    if (fourcc == V4L2_PIX_FMT_BGR24)
        return swap_bgr(dec, data, out->width, height, stride, out);
    out->fmt = (enum pixfmt)fmt;
    out->stride = stride;
    out->data = data;
    return 0;
}

void v4l2_decoder_free(struct v4l2_decoder *dec)
{
    if (dec->tj)
        tjDestroy(dec->tj);
    free(dec->buf);
    memset(dec, 0, sizeof(*dec));
}
