/* server/encode_tight: writes Tight rectangles (RFB encoding 7) for clients
 * with 24-bit true colour, whose pixels (TPIXEL) are 3 bytes R, G, B.
 * Every zlib payload is a complete fresh stream (deflateReset, then a sync
 * flush) whose control byte tells the client to reset that stream first, so
 * one encoding is valid for every client, whatever it decoded before. */
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "pipeline/encode_internal.h"

/* Small tiles (a few KiB each) dominate, so the deflate state is kept small:
 * deflateReset clears the hash table, whose size memLevel sets. */
#define ENC_ZLIB_MEM_LEVEL 6
#define ENC_ZLIB_LEVEL_INDEXED 1
#define ENC_ZLIB_LEVEL_COPY 1

int enc_tight_init(struct encoder *e)
{
    if (deflateInit2(&e->zs_indexed, ENC_ZLIB_LEVEL_INDEXED, Z_DEFLATED, 15, ENC_ZLIB_MEM_LEVEL,
                     Z_DEFAULT_STRATEGY) != Z_OK)
        return -1;
    e->zs_indexed_ready = true;
    if (deflateInit2(&e->zs_copy, ENC_ZLIB_LEVEL_COPY, Z_DEFLATED, 15, ENC_ZLIB_MEM_LEVEL,
                     Z_DEFAULT_STRATEGY) != Z_OK)
        return -1;
    e->zs_copy_ready = true;
    e->raw_cap = (size_t)ENC_TIGHT_MAX_BASIC * 3;
    e->raw = malloc(e->raw_cap);
    /* A sync flush may add a few bytes past deflateBound. */
    e->zbuf_cap = deflateBound(&e->zs_copy, (uLong)e->raw_cap) + 64;
    e->zbuf = malloc(e->zbuf_cap);
    return e->raw && e->zbuf ? 0 : -1;
}

void enc_tight_free(struct encoder *e)
{
    if (e->zs_indexed_ready)
        deflateEnd(&e->zs_indexed);
    if (e->zs_copy_ready)
        deflateEnd(&e->zs_copy);
    free(e->raw);
    free(e->zbuf);
}

static size_t enc_tight_compact_len(uint8_t *p, size_t len)
{
    p[0] = (uint8_t)(len & 0x7f);
    if (len < 0x80)
        return 1;
    p[0] |= 0x80;
    p[1] = (uint8_t)((len >> 7) & 0x7f);
    if (len < 0x4000)
        return 2;
    p[1] |= 0x80;
    p[2] = (uint8_t)(len >> 14);
    return 3;
}

static void enc_tight_put_rgb(uint8_t *p, uint32_t rgb)
{
    p[0] = (uint8_t)rgb;
    p[1] = (uint8_t)(rgb >> 8);
    p[2] = (uint8_t)(rgb >> 16);
}

int enc_tight_fill(struct encoder *e, struct update *out, unsigned x, unsigned y, unsigned w,
                   unsigned h, uint32_t rgb)
{
    (void)e;
    uint8_t body[4] = {ENC_CTL_FILL};
    enc_tight_put_rgb(body + 1, rgb);
    if (update_append_rect_header(out, x, y, w, h, ENC_TIGHT_ENCODING) != 0)
        return -1;
    return update_append(out, body, sizeof(body));
}

/* Deflates n bytes as a complete stream of its own into e->zbuf. */
static long enc_tight_deflate(struct encoder *e, z_stream *zs, const uint8_t *data, size_t n)
{
    if (deflateReset(zs) != Z_OK)
        return -1;
    zs->next_in = (Bytef *)data;
    zs->avail_in = (uInt)n;
    zs->next_out = e->zbuf;
    zs->avail_out = (uInt)e->zbuf_cap;
    int rc = deflate(zs, Z_SYNC_FLUSH);
    if ((rc != Z_OK && rc != Z_BUF_ERROR) || zs->avail_in != 0 || zs->avail_out == 0) {
        LOG_ERROR("encode", "deflate failed (%d)", rc);
        return -1;
    }
    return (long)(e->zbuf_cap - zs->avail_out);
}

/* A basic-compression rect: control byte, explicit filter, palette (when
 * pal_n > 0), then the data, raw when tiny, else length + zlib. */
static int enc_tight_basic(struct encoder *e, struct update *out, unsigned x, unsigned y,
                           unsigned w, unsigned h, unsigned stream, uint8_t filter,
                           const uint32_t *pal, unsigned pal_n, const uint8_t *data, size_t n)
{
    uint8_t head[3 + 3 * ENC_PALETTE_MAX + 3];
    size_t hl = 0;
    head[hl++] = (uint8_t)(ENC_CTL_EXPLICIT_FILTER | stream << 4);
    head[hl++] = filter;
    if (pal_n) {
        head[hl++] = (uint8_t)(pal_n - 1);
        for (unsigned i = 0; i < pal_n; i++, hl += 3)
            enc_tight_put_rgb(head + hl, pal[i]);
    }
    const uint8_t *payload = data;
    size_t payload_len = n;
    if (n >= ENC_TIGHT_MIN_TO_COMPRESS) {
        z_stream *zs = filter == ENC_FILTER_COPY ? &e->zs_copy : &e->zs_indexed;
        long zl = enc_tight_deflate(e, zs, data, n);
        if (zl < 0)
            return -1;
        head[0] |= (uint8_t)(1u << stream); /* the client resets this stream first */
        hl += enc_tight_compact_len(head + hl, (size_t)zl);
        payload = e->zbuf;
        payload_len = (size_t)zl;
    }
    if (update_append_rect_header(out, x, y, w, h, ENC_TIGHT_ENCODING) != 0 ||
        update_append(out, head, hl) != 0 || update_append(out, payload, payload_len) != 0)
        return -1;
    return 0;
}

int enc_tight_palette(struct encoder *e, struct update *out, unsigned x, unsigned y, unsigned w,
                      unsigned h, const uint8_t *index, unsigned index_stride)
{
    unsigned n = e->pal.n;
    if (n < 2 || w == 0 || w > ENC_TIGHT_MAX_WIDTH)
        return -1;
    unsigned strip = ENC_TIGHT_MAX_BASIC / w;
    for (unsigned y0 = 0; y0 < h; y0 += strip) {
        unsigned sh = enc_min(strip, h - y0);
        const uint8_t *src = index + (size_t)y0 * index_stride;
        const uint8_t *data = e->raw;
        size_t len;
        if (n == 2) {
            /* One bit per pixel, most significant first, rows padded to a byte. */
            unsigned row_bytes = (w + 7) / 8;
            uint8_t *dst = e->raw;
            for (unsigned j = 0; j < sh; j++, src += index_stride) {
                unsigned i = 0;
                for (; i + 8 <= w; i += 8)
                    *dst++ = (uint8_t)(src[i] << 7 | src[i + 1] << 6 | src[i + 2] << 5 |
                                       src[i + 3] << 4 | src[i + 4] << 3 | src[i + 5] << 2 |
                                       src[i + 6] << 1 | src[i + 7]);
                if (i < w) {
                    uint8_t b = 0;
                    for (unsigned k = 0; i + k < w; k++)
                        b |= (uint8_t)(src[i + k] << (7 - k));
                    *dst++ = b;
                }
            }
            len = (size_t)row_bytes * sh;
        } else {
            len = (size_t)w * sh;
            if (index_stride == w)
                data = src;
            else
                for (unsigned j = 0; j < sh; j++)
                    memcpy(e->raw + (size_t)j * w, src + (size_t)j * index_stride, w);
        }
        unsigned stream = n == 2 ? ENC_STREAM_MONO : ENC_STREAM_INDEXED;
        if (enc_tight_basic(e, out, x, y + y0, w, sh, stream, ENC_FILTER_PALETTE, e->pal.rgb, n,
                            data, len) != 0)
            return -1;
    }
    return 0;
}

int enc_tight_copy(struct encoder *e, struct update *out, unsigned x, unsigned y, unsigned w,
                   unsigned h, const uint8_t *rgbx, unsigned rgbx_stride)
{
    if (w == 0 || w > ENC_TIGHT_MAX_WIDTH)
        return -1;
    unsigned strip = ENC_TIGHT_MAX_BASIC / w;
    for (unsigned y0 = 0; y0 < h; y0 += strip) {
        unsigned sh = enc_min(strip, h - y0);
        uint8_t *dst = e->raw;
        for (unsigned j = 0; j < sh; j++) {
            const uint8_t *src = rgbx + (size_t)(y0 + j) * rgbx_stride;
            for (unsigned i = 0; i < w; i++, src += 4, dst += 3) {
                dst[0] = src[0];
                dst[1] = src[1];
                dst[2] = src[2];
            }
        }
        if (enc_tight_basic(e, out, x, y + y0, w, sh, ENC_STREAM_COPY, ENC_FILTER_COPY, NULL, 0,
                            e->raw, (size_t)w * sh * 3) != 0)
            return -1;
    }
    return 0;
}

int enc_tight_jpeg(struct encoder *e, struct update *out, unsigned x, unsigned y, unsigned w,
                   unsigned h, const uint8_t *jpeg, size_t jpeg_len)
{
    (void)e;
    if (jpeg_len > 0x3fffff) /* the compact length's limit */
        return -1;
    uint8_t head[4] = {ENC_CTL_JPEG};
    size_t hl = 1 + enc_tight_compact_len(head + 1, jpeg_len);
    if (update_append_rect_header(out, x, y, w, h, ENC_TIGHT_ENCODING) != 0 ||
        update_append(out, head, hl) != 0 || update_append(out, jpeg, jpeg_len) != 0)
        return -1;
    return 0;
}
