/* common/pixfmt: the pixel formats frames come in, and conversions between
 * them. Pure functions, no state. RGBX here means 4 bytes per pixel in memory
 * order R, G, B, X (what the server hands to encoders and to libvncserver). */
#ifndef PIGLIX_COMMON_PIXFMT_H
#define PIGLIX_COMMON_PIXFMT_H

#include <stddef.h>
#include <stdint.h>

enum pixfmt { PIXFMT_YUYV, PIXFMT_UYVY, PIXFMT_RGB24 };

const char *pixfmt_name(enum pixfmt f);
int pixfmt_parse(const char *name);            /* "yuyv" -> PIXFMT_YUYV, -1 if unknown */
unsigned pixfmt_bytes_per_pixel(enum pixfmt f); /* 2, 2, 3 */

/* BT.601 limited range ("studio swing"), as HDMI sources and JPEG's YCbCr
 * differ: HDMI/V4L2 YUV is limited range; these convert to/from full-range RGB. */
void pixfmt_rgb_to_yuv(uint8_t r, uint8_t g, uint8_t b, uint8_t *y, uint8_t *u, uint8_t *v);
void pixfmt_yuv_to_rgb(uint8_t y, uint8_t u, uint8_t v, uint8_t *r, uint8_t *g, uint8_t *b);

/* Converts a w x h block (x and w even for 4:2:2 formats) to RGBX.
 * src points at the block's first pixel; strides are in bytes. */
void pixfmt_to_rgbx(enum pixfmt f, const uint8_t *src, unsigned src_stride,
                    uint8_t *dst, unsigned dst_stride, unsigned w, unsigned h);
/* Converts RGBX (or RGB24 when src_bpp is 3) to the format f (4:2:2 formats
 * average the chroma of each horizontal pixel pair). */
void pixfmt_from_rgb(enum pixfmt f, const uint8_t *src, unsigned src_bpp, unsigned src_stride,
                     uint8_t *dst, unsigned dst_stride, unsigned w, unsigned h);

#endif
