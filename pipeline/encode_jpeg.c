/* server/encode_jpeg: JPEG rects. From a 4:2:2 capture (YUYV, UYVY) with
 * 4:2:2, 4:2:0 or grey subsampling the JPEG is made straight from planar YUV:
 * the changed tiles are de-interleaved into full-frame planes (and moved from
 * the capture's limited range to JPEG's full range on the way), with no RGB
 * step at all. Other cases compress RGB: RGB24 captures directly, 4:4:4 from
 * the encoder's RGBX copy. */
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "pipeline/encode_internal.h"

/* libvncserver exports its own copy of the old TurboJPEG API (tjInitCompress,
 * tjCompress2, tjDestroy, ...). When it comes before libturbojpeg in the
 * link order those names bind to it while the newer functions bind to
 * libturbojpeg, and the two disagree about the handle. Compressing a tiny
 * picture here turns that into one clear error at start-up. */
static int enc_jpeg_self_check(struct encoder *e)
{
    static const uint8_t grey[16 * 8];
    const unsigned char *planes[3] = {grey, grey, grey};
    int strides[3] = {16, 8, 8};
    unsigned char *jpeg = NULL;
    unsigned long size = 0;
    int rc = tjCompressFromYUVPlanes(e->tj, planes, 16, strides, 8, TJSAMP_422, &jpeg, &size, 50,
                                     0);
    tjFree(jpeg);
    if (rc != 0) {
        LOG_ERROR("encode", "TurboJPEG does not work (%s): is libturbojpeg linked before "
                  "libvncserver?", tjGetErrorStr2(e->tj));
        return -1;
    }
    return 0;
}

int enc_jpeg_init(struct encoder *e)
{
    e->tj = tjInitCompress();
    if (!e->tj) {
        LOG_ERROR("encode", "tjInitCompress failed: %s", tjGetErrorStr2(NULL));
        return -1;
    }
    return enc_jpeg_self_check(e);
}

void enc_jpeg_free(struct encoder *e)
{
    if (e->tj)
        tjDestroy(e->tj);
    tjFree(e->jpeg);
    for (int i = 0; i < 3; i++)
        free(e->plane[i]);
    free(e->chroma_rows);
}

static int enc_jpeg_tjsamp(enum encode_subsamp s)
{
    switch (s) {
    case ENCODE_SUBSAMP_444: return TJSAMP_444;
    case ENCODE_SUBSAMP_422: return TJSAMP_422;
    case ENCODE_SUBSAMP_420: return TJSAMP_420;
    case ENCODE_SUBSAMP_GRAY: return TJSAMP_GRAY;
    }
    return TJSAMP_422;
}

static bool enc_jpeg_from_planes(const struct encoder *e, enum pixfmt fmt)
{
    return (fmt == PIXFMT_YUYV || fmt == PIXFMT_UYVY) &&
           e->settings.subsamp != ENCODE_SUBSAMP_444;
}

static int enc_planes_alloc(struct encoder *e)
{
    const struct tile_grid *g = &e->grid;
    unsigned luma_h = e->settings.subsamp == ENCODE_SUBSAMP_420 ? (g->height + 1) & ~1u : g->height;
    unsigned chroma_h = e->settings.subsamp == ENCODE_SUBSAMP_420 ? luma_h / 2 : g->height;
    size_t need[3] = {(size_t)g->width * luma_h, (size_t)(g->width / 2) * chroma_h,
                      (size_t)(g->width / 2) * chroma_h};
    unsigned planes = e->settings.subsamp == ENCODE_SUBSAMP_GRAY ? 1 : 3;
    e->plane_stride[0] = g->width;
    e->plane_stride[1] = e->plane_stride[2] = g->width / 2;
    if (e->settings.subsamp != ENCODE_SUBSAMP_422 && e->chroma_rows_cap < (size_t)g->width * 2) {
        free(e->chroma_rows);
        e->chroma_rows = malloc((size_t)g->width * 2);
        e->chroma_rows_cap = e->chroma_rows ? (size_t)g->width * 2 : 0;
        if (!e->chroma_rows) {
            LOG_ERROR("encode", "cannot allocate YUV planes");
            return -1;
        }
    }
    for (unsigned i = 0; i < planes; i++) {
        if (need[i] <= e->plane_cap[i])
            continue;
        free(e->plane[i]);
        e->plane[i] = malloc(need[i]);
        e->plane_cap[i] = e->plane[i] ? need[i] : 0;
        if (!e->plane[i]) {
            LOG_ERROR("encode", "cannot allocate YUV planes");
            return -1;
        }
    }
    return 0;
}

/* De-interleaves the block x0..x1, y0..y1 (tile-aligned, x even, y0 even)
 * into the planes. HDMI/V4L2 YUV is BT.601 limited range; JFIF YCbCr is the
 * same matrix at full range, so a per-sample stretch (encode_yuv.c) is
 * exactly what the client's decoder undoes. */
static void enc_planes_fill(struct encoder *e, const struct capture_frame *pic, unsigned x0,
                            unsigned x1, unsigned y0, unsigned y1)
{
    unsigned pairs = (x1 - x0) / 2, half = e->grid.width / 2;
    enum encode_subsamp ss = e->settings.subsamp;
    for (unsigned y = y0; y < y1; y++) {
        const uint8_t *src = pic->data + (size_t)y * pic->stride + (size_t)x0 * 2;
        uint8_t *py = e->plane[0] + (size_t)y * e->plane_stride[0] + x0;
        if (ss == ENCODE_SUBSAMP_422) {
            enc_yuv422_row_to_planes(src, pic->fmt, py,
                                     e->plane[1] + (size_t)y * e->plane_stride[1] + x0 / 2,
                                     e->plane[2] + (size_t)y * e->plane_stride[2] + x0 / 2, pairs);
            continue;
        }
        /* 4:2:0 averages the chroma of each even row and the row below (or
         * takes it as it is, at an odd bottom); grey drops it. */
        uint8_t *cb = e->chroma_rows + (y & 1) * half, *cr = cb + 2 * half;
        enc_yuv422_row_to_planes(src, pic->fmt, py, cb, cr, pairs);
        if (ss != ENCODE_SUBSAMP_420 || (y % 2 == 0 && y + 1 < y1))
            continue;
        uint8_t *pu = e->plane[1] + (size_t)(y / 2) * e->plane_stride[1] + x0 / 2;
        uint8_t *pv = e->plane[2] + (size_t)(y / 2) * e->plane_stride[2] + x0 / 2;
        if (y % 2 == 0) {
            memcpy(pu, cb, pairs);
            memcpy(pv, cr, pairs);
            /* TurboJPEG reads 4:2:0 luma down to an even height. */
            memcpy(py + e->plane_stride[0], py, 2 * pairs);
            continue;
        }
        const uint8_t *cb0 = e->chroma_rows, *cr0 = cb0 + 2 * half;
        for (unsigned i = 0; i < pairs; i++) {
            pu[i] = (uint8_t)((cb0[i] + cb[i] + 1) >> 1);
            pv[i] = (uint8_t)((cr0[i] + cr[i] + 1) >> 1);
        }
    }
}

/* Makes sure the planes hold the tiles in columns c0..c1-1, rows r0..r1-1,
 * converting runs of stale tiles a line at a time. */
static int enc_planes_ensure(struct encoder *e, const struct capture_frame *pic, unsigned c0,
                             unsigned c1, unsigned r0, unsigned r1)
{
    if (enc_planes_alloc(e) != 0)
        return -1;
    const struct tile_grid *g = &e->grid;
    for (unsigned r = r0; r < r1; r++) {
        struct enc_tile *row = e->tiles + (size_t)r * g->cols;
        for (unsigned c = c0; c < c1;) {
            if (row[c].yuv_fresh) {
                c++;
                continue;
            }
            unsigned end = c;
            while (end < c1 && !row[end].yuv_fresh)
                row[end++].yuv_fresh = 1;
            enc_planes_fill(e, pic, c * g->tile, enc_min(end * g->tile, g->width), r * g->tile,
                            enc_min((r + 1) * g->tile, g->height));
            c = end;
        }
    }
    return 0;
}

static int enc_jpeg_buffer(struct encoder *e, unsigned w, unsigned h, int samp)
{
    unsigned long need = tjBufSize((int)w, (int)h, samp);
    if (need == (unsigned long)-1)
        return -1;
    if (need <= e->jpeg_cap)
        return 0;
    tjFree(e->jpeg);
    e->jpeg = tjAlloc((int)need);
    e->jpeg_cap = e->jpeg ? need : 0;
    return e->jpeg ? 0 : -1;
}

int enc_jpeg_rect(struct encoder *e, const struct capture_frame *pic, struct update *out,
                  unsigned x, unsigned y, unsigned w, unsigned h)
{
    int samp = enc_jpeg_tjsamp(e->settings.subsamp);
    if (enc_jpeg_buffer(e, w, h, samp) != 0) {
        LOG_ERROR("encode", "cannot allocate a JPEG buffer for %ux%u", w, h);
        return -1;
    }
    const struct tile_grid *g = &e->grid;
    unsigned c0 = x / g->tile, c1 = (x + w + g->tile - 1) / g->tile;
    unsigned r0 = y / g->tile, r1 = (y + h + g->tile - 1) / g->tile;
    unsigned long size = e->jpeg_cap;
    int flags = TJFLAG_NOREALLOC;
    int rc;
    if (enc_jpeg_from_planes(e, pic->fmt)) {
        if (enc_planes_ensure(e, pic, c0, c1, r0, r1) != 0)
            return -1;
        unsigned cy = e->settings.subsamp == ENCODE_SUBSAMP_420 ? y / 2 : y;
        const unsigned char *planes[3] = {
            e->plane[0] + (size_t)y * e->plane_stride[0] + x,
            e->plane[1] ? e->plane[1] + (size_t)cy * e->plane_stride[1] + x / 2 : NULL,
            e->plane[2] ? e->plane[2] + (size_t)cy * e->plane_stride[2] + x / 2 : NULL,
        };
        int strides[3] = {(int)e->plane_stride[0], (int)e->plane_stride[1],
                          (int)e->plane_stride[2]};
        rc = tjCompressFromYUVPlanes(e->tj, planes, (int)w, strides, (int)h, samp, &e->jpeg, &size,
                                     e->settings.quality, flags);
    } else if (pic->fmt == PIXFMT_RGB24) {
        rc = tjCompress2(e->tj, pic->data + (size_t)y * pic->stride + (size_t)x * 3, (int)w,
                         (int)pic->stride, (int)h, TJPF_RGB, &e->jpeg, &size, samp,
                         e->settings.quality, flags);
    } else {
        if (enc_rgbx_ensure(e, pic, c0, c1, r0, r1) != 0)
            return -1;
        unsigned stride = g->width * 4;
        rc = tjCompress2(e->tj, e->rgbx + (size_t)y * stride + (size_t)x * 4, (int)w, (int)stride,
                         (int)h, TJPF_RGBX, &e->jpeg, &size, samp, e->settings.quality, flags);
    }
    if (rc != 0) {
        LOG_ERROR("encode", "JPEG compression of %ux%u failed: %s", w, h,
                  tjGetErrorStr2(e->tj));
        return -1;
    }
    return enc_tight_jpeg(e, out, x, y, w, h, e->jpeg, size);
}

int enc_jpeg_prepare(struct encoder *e, const struct capture_frame *pic)
{
    if (enc_jpeg_from_planes(e, pic->fmt))
        return enc_planes_alloc(e);
    if (pic->fmt != PIXFMT_RGB24)
        return enc_rgbx_ensure(e, pic, 0, 0, 0, 0);
    return 0;
}
