#include "common/pixfmt.h"

#include <pthread.h>
#include <string.h>
#include <strings.h>

/* BT.601 coefficients in 16.16 fixed point, already scaled for limited range
 * (Y 16..235, Cb/Cr 16..240). Each chroma row sums to zero so that greys map
 * to exactly 128. */
enum {
    FIX_SHIFT = 16,
    FIX_HALF = 1 << (FIX_SHIFT - 1),
    Y_R = 16829, Y_G = 33039, Y_B = 6416,
    U_R = -9714, U_G = -19070, U_B = 28784,
    V_R = 28784, V_G = -24103, V_B = -4681,
    /* YUV -> RGB: 255/219 for luma, then the chroma factors of R, G and B. */
    K_Y = 76309, K_RV = 104597, K_GU = 25675, K_GV = 53279, K_BU = 132201,
};

/* Both directions go through tables built once: a lookup per term instead
 * of a multiply, about 1.3x (RGB -> YUV) and 1.7x (YUV -> RGB) faster in
 * scalar code, and these run over every changed tile of every frame.
 *
 * RGB -> YUV: each coefficient times every value, offsets and rounding
 * folded into the R tables. Chroma tables are indexed by the sum of a pixel
 * pair (0..510) and shifted one bit further, which averages the pair; a
 * single pixel uses index 2 * value, which gives the same result.
 *
 * YUV -> RGB: terms in 1/DEC_ONE steps summed, then one lookup rounds and
 * clamps. At most 1 off the exactly rounded result. */
enum {
    DEC_BITS = 3,
    DEC_ONE = 1 << DEC_BITS,
    /* Sums range over -277..535 levels; the bias keeps indexes positive. */
    DEC_BIAS = 288 * DEC_ONE,
    DEC_CLAMP_SIZE = 832 * DEC_ONE,
};

static struct {
    int32_t y_r[256], y_g[256], y_b[256];
    int32_t u_r[511], u_g[511], u_b[511];
    int32_t v_r[511], v_g[511], v_b[511];
    int16_t y[256]; /* DEC_BIAS included */
    int16_t rv[256], gu[256], gv[256], bu[256];
    uint8_t clamp[DEC_CLAMP_SIZE];
} tab;
static pthread_once_t tab_once = PTHREAD_ONCE_INIT;

/* round(value * k / 65536) in 1/DEC_ONE steps, halves away from zero. */
static int16_t dec_term(int value, int k)
{
    int64_t scaled = (int64_t)value * k * DEC_ONE;
    int64_t rounded = scaled >= 0 ? (scaled + FIX_HALF) >> FIX_SHIFT
                                  : -((-scaled + FIX_HALF) >> FIX_SHIFT);
    return (int16_t)rounded;
}

static void tab_build(void)
{
    for (int i = 0; i < 256; i++) {
        tab.y_r[i] = Y_R * i + (16 << FIX_SHIFT) + FIX_HALF;
        tab.y_g[i] = Y_G * i;
        tab.y_b[i] = Y_B * i;
        tab.y[i] = (int16_t)(dec_term(i - 16, K_Y) + DEC_BIAS);
        tab.rv[i] = dec_term(i - 128, K_RV);
        tab.gu[i] = dec_term(i - 128, K_GU);
        tab.gv[i] = dec_term(i - 128, K_GV);
        tab.bu[i] = dec_term(i - 128, K_BU);
    }
    /* The offsets keep every sum positive, so the shifts never see a negative. */
    for (int i = 0; i < 511; i++) {
        tab.u_r[i] = U_R * i + (128 << (FIX_SHIFT + 1)) + (1 << FIX_SHIFT);
        tab.u_g[i] = U_G * i;
        tab.u_b[i] = U_B * i;
        tab.v_r[i] = V_R * i + (128 << (FIX_SHIFT + 1)) + (1 << FIX_SHIFT);
        tab.v_g[i] = V_G * i;
        tab.v_b[i] = V_B * i;
    }
    for (int i = 0; i < DEC_CLAMP_SIZE; i++) {
        int level = i - DEC_BIAS + DEC_ONE / 2;
        level = level < 0 ? 0 : level / DEC_ONE;
        tab.clamp[i] = (uint8_t)(level > 255 ? 255 : level);
    }
}

const char *pixfmt_name(enum pixfmt f)
{
    switch (f) {
    case PIXFMT_YUYV: return "yuyv";
    case PIXFMT_UYVY: return "uyvy";
    case PIXFMT_RGB24: return "rgb24";
    }
    return "unknown";
}

int pixfmt_parse(const char *name)
{
    static const enum pixfmt all[] = {PIXFMT_YUYV, PIXFMT_UYVY, PIXFMT_RGB24};
    for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++)
        if (strcasecmp(name, pixfmt_name(all[i])) == 0)
            return (int)all[i];
    return -1;
}

unsigned pixfmt_bytes_per_pixel(enum pixfmt f) { return f == PIXFMT_RGB24 ? 3 : 2; }

static inline uint8_t luma(const uint8_t *p)
{
    return (uint8_t)((tab.y_r[p[0]] + tab.y_g[p[1]] + tab.y_b[p[2]]) >> FIX_SHIFT);
}

/* Chroma of a pixel pair from its channel sums (0..510). */
static inline uint8_t chroma_u(int r_sum, int g_sum, int b_sum)
{
    return (uint8_t)((tab.u_r[r_sum] + tab.u_g[g_sum] + tab.u_b[b_sum]) >> (FIX_SHIFT + 1));
}

static inline uint8_t chroma_v(int r_sum, int g_sum, int b_sum)
{
    return (uint8_t)((tab.v_r[r_sum] + tab.v_g[g_sum] + tab.v_b[b_sum]) >> (FIX_SHIFT + 1));
}

void pixfmt_rgb_to_yuv(uint8_t r, uint8_t g, uint8_t b, uint8_t *y, uint8_t *u, uint8_t *v)
{
    pthread_once(&tab_once, tab_build);
    const uint8_t p[3] = {r, g, b};
    *y = luma(p);
    *u = chroma_u(2 * r, 2 * g, 2 * b);
    *v = chroma_v(2 * r, 2 * g, 2 * b);
}

void pixfmt_yuv_to_rgb(uint8_t y, uint8_t u, uint8_t v, uint8_t *r, uint8_t *g, uint8_t *b)
{
    pthread_once(&tab_once, tab_build);
    int luma_term = tab.y[y];
    *r = tab.clamp[luma_term + tab.rv[v]];
    *g = tab.clamp[luma_term - tab.gu[u] - tab.gv[v]];
    *b = tab.clamp[luma_term + tab.bu[u]];
}

/* 4:2:2 rows: y0/u/y1/v are the byte offsets of each sample in a 4-byte
 * pair. Always inlined so the offsets are constants in each caller. */
static inline __attribute__((always_inline)) void
yuv422_row_to_rgbx(const uint8_t *src, uint8_t *dst, unsigned w, int y0, int u, int y1, int v)
{
    unsigned pairs = w / 2;
    for (unsigned i = 0; i < pairs; i++, src += 4, dst += 8) {
        int rv = tab.rv[src[v]], guv = tab.gu[src[u]] + tab.gv[src[v]], bu = tab.bu[src[u]];
        int a = tab.y[src[y0]], b = tab.y[src[y1]];
        dst[0] = tab.clamp[a + rv];
        dst[1] = tab.clamp[a - guv];
        dst[2] = tab.clamp[a + bu];
        dst[3] = 0xff;
        dst[4] = tab.clamp[b + rv];
        dst[5] = tab.clamp[b - guv];
        dst[6] = tab.clamp[b + bu];
        dst[7] = 0xff;
    }
    /* An odd w is outside the contract; the last pixel then borrows the V of
     * its pair, which lies past the block but inside any real 4:2:2 frame. */
    if (w & 1) {
        pixfmt_yuv_to_rgb(src[y0], src[u], src[v], &dst[0], &dst[1], &dst[2]);
        dst[3] = 0xff;
    }
}

void pixfmt_to_rgbx(enum pixfmt f, const uint8_t *src, unsigned src_stride, uint8_t *dst,
                    unsigned dst_stride, unsigned w, unsigned h)
{
    pthread_once(&tab_once, tab_build);
    for (unsigned row = 0; row < h; row++) {
        const uint8_t *s = src + (size_t)row * src_stride;
        uint8_t *d = dst + (size_t)row * dst_stride;
        switch (f) {
        case PIXFMT_YUYV:
            yuv422_row_to_rgbx(s, d, w, 0, 1, 2, 3);
            break;
        case PIXFMT_UYVY:
            yuv422_row_to_rgbx(s, d, w, 1, 0, 3, 2);
            break;
        case PIXFMT_RGB24:
            for (unsigned x = 0; x < w; x++, s += 3, d += 4) {
                d[0] = s[0];
                d[1] = s[1];
                d[2] = s[2];
                d[3] = 0xff;
            }
            break;
        }
    }
}

static inline __attribute__((always_inline)) void
rgb_row_to_yuv422(const uint8_t *src, unsigned bpp, uint8_t *dst, unsigned w, int y0, int u,
                  int y1, int v)
{
    unsigned pairs = w / 2;
    for (unsigned i = 0; i < pairs; i++, src += 2 * bpp, dst += 4) {
        const uint8_t *a = src, *b = src + bpp;
        dst[y0] = luma(a);
        dst[y1] = luma(b);
        int rs = a[0] + b[0], gs = a[1] + b[1], bs = a[2] + b[2];
        dst[u] = chroma_u(rs, gs, bs);
        dst[v] = chroma_v(rs, gs, bs);
    }
    /* An odd last pixel (outside the contract) gets only the two bytes that
     * lie inside the block; in both byte orders they are its Y and its U. */
    if (w & 1) {
        dst[y0] = luma(src);
        dst[u] = chroma_u(2 * src[0], 2 * src[1], 2 * src[2]);
    }
}

void pixfmt_from_rgb(enum pixfmt f, const uint8_t *src, unsigned src_bpp, unsigned src_stride,
                     uint8_t *dst, unsigned dst_stride, unsigned w, unsigned h)
{
    pthread_once(&tab_once, tab_build);
    for (unsigned row = 0; row < h; row++) {
        const uint8_t *s = src + (size_t)row * src_stride;
        uint8_t *d = dst + (size_t)row * dst_stride;
        switch (f) {
        case PIXFMT_YUYV:
            rgb_row_to_yuv422(s, src_bpp, d, w, 0, 1, 2, 3);
            break;
        case PIXFMT_UYVY:
            rgb_row_to_yuv422(s, src_bpp, d, w, 1, 0, 3, 2);
            break;
        case PIXFMT_RGB24:
            if (src_bpp == 3) {
                memcpy(d, s, (size_t)w * 3);
            } else {
                for (unsigned x = 0; x < w; x++, s += src_bpp, d += 3) {
                    d[0] = s[0];
                    d[1] = s[1];
                    d[2] = s[2];
                }
            }
            break;
        }
    }
}
