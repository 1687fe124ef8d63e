/* server/encode_classify: finds how many colours a tile has, working on the
 * capture format directly (for 4:2:2 formats a colour is a (Y, U, V) triple:
 * equal triples convert to equal RGB), so tiles that go out as JPEG from YUV
 * are never converted to RGB at all. Scans stop at the first pixel that
 * proves the answer: a photo tile costs a few dozen pixels. */
#include <string.h>

#include "pipeline/encode_internal.h"

bool enc_tile_is_solid(const struct capture_frame *pic, unsigned x, unsigned y, unsigned w,
                       unsigned h)
{
    unsigned bpp = pixfmt_bytes_per_pixel(pic->fmt);
    const uint8_t *first = pic->data + (size_t)y * pic->stride + (size_t)x * bpp;
    size_t row_bytes = (size_t)w * bpp;
    /* A row is one colour when it equals itself shifted by one pixel (or one
     * pixel pair whose two lumas are equal, for 4:2:2). */
    size_t unit = bpp;
    if (pic->fmt == PIXFMT_YUYV) {
        if (first[0] != first[2])
            return false;
        unit = 4;
    } else if (pic->fmt == PIXFMT_UYVY) {
        if (first[1] != first[3])
            return false;
        unit = 4;
    }
    if (row_bytes > unit && memcmp(first + unit, first, row_bytes - unit) != 0)
        return false;
    for (unsigned j = 1; j < h; j++)
        if (memcmp(first + (size_t)j * pic->stride, first, row_bytes) != 0)
            return false;
    return true;
}

/* Returns the colour's index, adding it if new; -1 when that would make
 * more than max colours. */
static inline int enc_palette_lookup(struct enc_palette *pal, uint32_t key, unsigned max,
                                     unsigned px, unsigned py)
{
    unsigned h = (key * 0x9E3779B1u) >> 23; /* 9 bits: ENC_PALETTE_HASH slots */
    while (pal->hash_key[h] != 0) {
        if (pal->hash_key[h] == key + 1)
            return pal->hash_index[h];
        h = (h + 1) & (ENC_PALETTE_HASH - 1);
    }
    if (pal->n >= max)
        return -1;
    unsigned i = pal->n++;
    pal->hash_key[h] = key + 1;
    pal->hash_index[h] = (uint8_t)i;
    pal->key[i] = key;
    pal->first_x[i] = (uint16_t)px;
    pal->first_y[i] = (uint16_t)py;
    return (int)i;
}

/* One pixel's colour, remembering the last one: runs of one colour (text
 * backgrounds) skip the hash. Bails out of the enclosing function. */
#define ENC_PALETTE_PIXEL(key_expr, px)                                                     \
    do {                                                                                    \
        uint32_t key_ = (key_expr);                                                         \
        if (key_ != last_key) {                                                             \
            int i_ = enc_palette_lookup(pal, key_, max_colors, (px), j);                    \
            if (i_ < 0)                                                                     \
                return max_colors + 1;                                                      \
            last_key = key_;                                                                \
            last_index = (uint8_t)i_;                                                       \
        }                                                                                   \
        *out++ = last_index;                                                                \
    } while (0)

unsigned enc_palette_build(struct enc_palette *pal, const struct capture_frame *pic, unsigned x,
                           unsigned y, unsigned w, unsigned h, unsigned max_colors, uint8_t *index)
{
    if (max_colors > ENC_PALETTE_MAX)
        max_colors = ENC_PALETTE_MAX;
    pal->n = 0;
    memset(pal->hash_key, 0, sizeof(pal->hash_key));
    uint32_t last_key = UINT32_MAX; /* keys are 24-bit: never equal */
    uint8_t last_index = 0;
    uint8_t *out = index;
    unsigned bpp = pixfmt_bytes_per_pixel(pic->fmt);
    for (unsigned j = 0; j < h; j++) {
        const uint8_t *p = pic->data + (size_t)(y + j) * pic->stride + (size_t)x * bpp;
        switch (pic->fmt) {
        case PIXFMT_YUYV:
            for (unsigned i = 0; i < w; i += 2, p += 4) {
                uint32_t uv = (uint32_t)p[1] << 8 | (uint32_t)p[3] << 16;
                ENC_PALETTE_PIXEL(uv | p[0], i);
                ENC_PALETTE_PIXEL(uv | p[2], i + 1);
            }
            break;
        case PIXFMT_UYVY:
            for (unsigned i = 0; i < w; i += 2, p += 4) {
                uint32_t uv = (uint32_t)p[0] << 8 | (uint32_t)p[2] << 16;
                ENC_PALETTE_PIXEL(uv | p[1], i);
                ENC_PALETTE_PIXEL(uv | p[3], i + 1);
            }
            break;
        case PIXFMT_RGB24:
            for (unsigned i = 0; i < w; i++, p += 3)
                ENC_PALETTE_PIXEL((uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16, i);
            break;
        }
    }
    return pal->n;
}

uint32_t enc_pixel_rgb(const struct capture_frame *pic, unsigned x, unsigned y)
{
    const uint8_t *line = pic->data + (size_t)y * pic->stride;
    if (pic->fmt == PIXFMT_RGB24) {
        const uint8_t *p = line + (size_t)x * 3;
        return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16;
    }
    /* Convert the whole pixel pair, exactly as the picture converts. */
    uint8_t rgbx[8];
    unsigned pair_x = x & ~1u;
    pixfmt_to_rgbx(pic->fmt, line + (size_t)pair_x * 2, pic->stride, rgbx, 8, 2, 1);
    const uint8_t *q = rgbx + (x - pair_x) * 4;
    return (uint32_t)q[0] | (uint32_t)q[1] << 8 | (uint32_t)q[2] << 16;
}

void enc_palette_rgb(struct enc_palette *pal, const struct capture_frame *pic, unsigned x,
                     unsigned y)
{
    for (unsigned i = 0; i < pal->n; i++)
        pal->rgb[i] = enc_pixel_rgb(pic, x + pal->first_x[i], y + pal->first_y[i]);
}
