/* server/encode_yuv: the inner loop of JPEG from 4:2:2 captures: splits rows
 * of YUYV/UYVY pixel pairs into Y, Cb and Cr planes and stretches them from
 * the capture's limited range (Y 16..235, C 16..240, BT.601) to JFIF's full
 * range on the way. It runs over every changed photo pixel, so it has SIMD
 * versions (SSE2, NEON); all versions use the same fixed-point formulas and
 * give identical bytes:
 *   luma   = min(255, ((max(y, 16) - 16) * 149 + 64) >> 7)        (255/219)
 *   chroma = clamp(((c * 73 + 928) >> 6) - 32, 0, 255)  = (c-128)*73/64+128 */
#include "pipeline/encode_internal.h"

#if defined(__SSE2__)
#include <emmintrin.h>
#elif defined(__ARM_NEON)
#include <arm_neon.h>
#endif

static inline uint8_t enc_yuv_luma(uint8_t y)
{
    unsigned d = y > 16 ? y - 16u : 0u;
    unsigned v = (d * 149u + 64u) >> 7;
    return (uint8_t)(v < 255 ? v : 255);
}

static inline uint8_t enc_yuv_chroma(uint8_t c)
{
    int v = (int)((c * 73u + 928u) >> 6) - 32;
    return (uint8_t)(v < 0 ? 0 : v > 255 ? 255 : v);
}

static void enc_yuv_row_scalar(const uint8_t *src, unsigned oy0, unsigned ou, unsigned oy1,
                               unsigned ov, uint8_t *py, uint8_t *pu, uint8_t *pv, unsigned pairs)
{
    for (unsigned i = 0; i < pairs; i++, src += 4) {
        py[2 * i] = enc_yuv_luma(src[oy0]);
        py[2 * i + 1] = enc_yuv_luma(src[oy1]);
        pu[i] = enc_yuv_chroma(src[ou]);
        pv[i] = enc_yuv_chroma(src[ov]);
    }
}

#if defined(__SSE2__)
/* 8 samples in 16-bit lanes -> converted, still 16-bit (packus clamps later). */
static inline __m128i enc_yuv_luma8(__m128i y)
{
    y = _mm_subs_epu16(y, _mm_set1_epi16(16));
    y = _mm_add_epi16(_mm_mullo_epi16(y, _mm_set1_epi16(149)), _mm_set1_epi16(64));
    return _mm_srli_epi16(y, 7);
}

static inline __m128i enc_yuv_chroma8(__m128i c)
{
    c = _mm_add_epi16(_mm_mullo_epi16(c, _mm_set1_epi16(73)), _mm_set1_epi16(928));
    return _mm_sub_epi16(_mm_srli_epi16(c, 6), _mm_set1_epi16(32));
}

/* 16 pairs: each 16-bit word of the source is one luma and one chroma byte. */
static unsigned enc_yuv_row_simd(const uint8_t *src, bool uyvy, uint8_t *py, uint8_t *pu,
                                 uint8_t *pv, unsigned pairs)
{
    const __m128i low = _mm_set1_epi16(0x00ff);
    unsigned i = 0;
    for (; i + 16 <= pairs; i += 16, src += 64, py += 32, pu += 16, pv += 16) {
        __m128i luma[4], chroma[4];
        for (int k = 0; k < 4; k++) {
            __m128i v = _mm_loadu_si128((const __m128i *)(src + 16 * k));
            __m128i lo = _mm_and_si128(v, low), hi = _mm_srli_epi16(v, 8);
            luma[k] = enc_yuv_luma8(uyvy ? hi : lo);
            chroma[k] = enc_yuv_chroma8(uyvy ? lo : hi);
        }
        _mm_storeu_si128((__m128i *)py, _mm_packus_epi16(luma[0], luma[1]));
        _mm_storeu_si128((__m128i *)(py + 16), _mm_packus_epi16(luma[2], luma[3]));
        /* Chroma bytes alternate Cb, Cr: split them as the low and high
         * bytes of 16-bit words. */
        __m128i c01 = _mm_packus_epi16(chroma[0], chroma[1]);
        __m128i c23 = _mm_packus_epi16(chroma[2], chroma[3]);
        _mm_storeu_si128((__m128i *)pu, _mm_packus_epi16(_mm_and_si128(c01, low),
                                                         _mm_and_si128(c23, low)));
        _mm_storeu_si128((__m128i *)pv, _mm_packus_epi16(_mm_srli_epi16(c01, 8),
                                                         _mm_srli_epi16(c23, 8)));
    }
    return i;
}
#elif defined(__ARM_NEON)
static inline uint8x8_t enc_yuv_luma8(uint8x8_t y)
{
    uint16x8_t v = vqsubq_u16(vmovl_u8(y), vdupq_n_u16(16));
    v = vaddq_u16(vmulq_n_u16(v, 149), vdupq_n_u16(64));
    return vqmovn_u16(vshrq_n_u16(v, 7));
}

static inline uint8x8_t enc_yuv_chroma8(uint8x8_t c)
{
    uint16x8_t v = vaddq_u16(vmulq_n_u16(vmovl_u8(c), 73), vdupq_n_u16(928));
    int16x8_t s = vsubq_s16(vreinterpretq_s16_u16(vshrq_n_u16(v, 6)), vdupq_n_s16(32));
    return vqmovun_s16(s);
}

static inline uint8x16_t enc_yuv_luma16(uint8x16_t y)
{
    return vcombine_u8(enc_yuv_luma8(vget_low_u8(y)), enc_yuv_luma8(vget_high_u8(y)));
}

static inline uint8x16_t enc_yuv_chroma16(uint8x16_t c)
{
    return vcombine_u8(enc_yuv_chroma8(vget_low_u8(c)), enc_yuv_chroma8(vget_high_u8(c)));
}

/* 16 pairs: vld4 splits the four bytes of each pair into four vectors. */
static unsigned enc_yuv_row_simd(const uint8_t *src, bool uyvy, uint8_t *py, uint8_t *pu,
                                 uint8_t *pv, unsigned pairs)
{
    unsigned i = 0;
    for (; i + 16 <= pairs; i += 16, src += 64, py += 32, pu += 16, pv += 16) {
        uint8x16x4_t q = vld4q_u8(src);
        uint8x16x2_t y;
        if (uyvy) {
            y.val[0] = enc_yuv_luma16(q.val[1]);
            y.val[1] = enc_yuv_luma16(q.val[3]);
            vst1q_u8(pu, enc_yuv_chroma16(q.val[0]));
            vst1q_u8(pv, enc_yuv_chroma16(q.val[2]));
        } else {
            y.val[0] = enc_yuv_luma16(q.val[0]);
            y.val[1] = enc_yuv_luma16(q.val[2]);
            vst1q_u8(pu, enc_yuv_chroma16(q.val[1]));
            vst1q_u8(pv, enc_yuv_chroma16(q.val[3]));
        }
        vst2q_u8(py, y);
    }
    return i;
}
#else
static unsigned enc_yuv_row_simd(const uint8_t *src, bool uyvy, uint8_t *py, uint8_t *pu,
                                 uint8_t *pv, unsigned pairs)
{
    (void)src, (void)uyvy, (void)py, (void)pu, (void)pv, (void)pairs;
    return 0;
}
#endif

void enc_yuv422_row_to_planes(const uint8_t *src, enum pixfmt fmt, uint8_t *py, uint8_t *pu,
                              uint8_t *pv, unsigned pairs)
{
    bool uyvy = fmt == PIXFMT_UYVY;
    unsigned done = enc_yuv_row_simd(src, uyvy, py, pu, pv, pairs);
    if (uyvy)
        enc_yuv_row_scalar(src + 4 * done, 1, 0, 3, 2, py + 2 * done, pu + done, pv + done,
                           pairs - done);
    else
        enc_yuv_row_scalar(src + 4 * done, 0, 1, 2, 3, py + 2 * done, pu + done, pv + done,
                           pairs - done);
}
