/* RGB24 canvas rows to what the capture side asked for: RGB24, BGR24, or
 * YUYV/UYVY (BT.601 or BT.709, limited or full range, chroma of each pixel
 * pair averaged). */
#include <linux/videodev2.h>
#include <string.h>

#include "sim_video.h"

bool sim_convert_supported(uint32_t fourcc)
{
    return fourcc == V4L2_PIX_FMT_RGB24 || fourcc == V4L2_PIX_FMT_BGR24 || fourcc == V4L2_PIX_FMT_YUYV ||
           fourcc == V4L2_PIX_FMT_UYVY;
}

/* Coefficients x 256: Y from R G B, Cb, Cr; and the luma offset/scale. */
struct yuv_coeffs {
    int yr, yg, yb, ur, ug, ub, vr, vg, vb, y_off;
};

static struct yuv_coeffs coeffs(uint32_t enc, uint32_t quant)
{
    bool bt709 = enc == V4L2_YCBCR_ENC_709;
    bool full = quant == V4L2_QUANTIZATION_FULL_RANGE;
    if (bt709 && full)
        return (struct yuv_coeffs){54, 183, 18, -29, -99, 128, 128, -116, -12, 0};
    if (bt709)
        return (struct yuv_coeffs){47, 157, 16, -26, -87, 112, 112, -102, -10, 16};
    if (full)
        return (struct yuv_coeffs){77, 150, 29, -43, -85, 128, 128, -107, -21, 0};
    return (struct yuv_coeffs){66, 129, 25, -38, -74, 112, 112, -94, -18, 16};
}

static uint8_t clamp(int v)
{
    return (uint8_t)(v < 0 ? 0 : v > 255 ? 255 : v);
}

static void row_yuv(const uint8_t *src, unsigned w, const struct yuv_coeffs *k, bool uyvy, uint8_t *dst)
{
    for (unsigned x = 0; x + 1 < w; x += 2, src += 6, dst += 4) {
        int r0 = src[0], g0 = src[1], b0 = src[2], r1 = src[3], g1 = src[4], b1 = src[5];
        int y0 = ((k->yr * r0 + k->yg * g0 + k->yb * b0 + 128) >> 8) + k->y_off;
        int y1 = ((k->yr * r1 + k->yg * g1 + k->yb * b1 + 128) >> 8) + k->y_off;
        int r = (r0 + r1) / 2, g = (g0 + g1) / 2, b = (b0 + b1) / 2;
        int u = ((k->ur * r + k->ug * g + k->ub * b + 128) >> 8) + 128;
        int v = ((k->vr * r + k->vg * g + k->vb * b + 128) >> 8) + 128;
        if (uyvy) {
            dst[0] = clamp(u), dst[1] = clamp(y0), dst[2] = clamp(v), dst[3] = clamp(y1);
        } else {
            dst[0] = clamp(y0), dst[1] = clamp(u), dst[2] = clamp(y1), dst[3] = clamp(v);
        }
    }
}

void sim_convert_rows(const struct sim_canvas *c, unsigned y0, unsigned y1, uint32_t fourcc, uint32_t ycbcr_enc,
                      uint32_t quantization, uint8_t *dst, unsigned dst_stride, unsigned dst_w)
{
    unsigned w = dst_w < c->w ? dst_w : c->w;
    struct yuv_coeffs k = coeffs(ycbcr_enc, quantization);
    for (unsigned y = y0; y < y1 && y < c->h; y++) {
        const uint8_t *s = c->rgb + (size_t)y * c->stride;
        uint8_t *d = dst + (size_t)y * dst_stride;
        switch (fourcc) {
        case V4L2_PIX_FMT_RGB24:
            memcpy(d, s, (size_t)w * 3);
            break;
        case V4L2_PIX_FMT_BGR24:
            for (unsigned x = 0; x < w; x++)
                d[3 * x] = s[3 * x + 2], d[3 * x + 1] = s[3 * x + 1], d[3 * x + 2] = s[3 * x];
            break;
        case V4L2_PIX_FMT_YUYV:
        case V4L2_PIX_FMT_UYVY:
            row_yuv(s, w, &k, fourcc == V4L2_PIX_FMT_UYVY, d);
            break;
        }
    }
}
