/* tests/support/tight_decode: see tight_decode.h. A payload is parsed in two
 * steps: first its length is worked out and checked against the bytes there
 * (so a short buffer changes nothing), then the stream resets are applied and
 * the pixels decoded. */
#include "tests/support/tight_decode.h"

#include <stdlib.h>
#include <string.h>

#include <turbojpeg.h>

#define TIGHT_MIN_TO_COMPRESS 12
#define TIGHT_BUF_SIZE ((size_t)TIGHT_DECODE_MAX_BASIC_PIXELS * 3)

enum { TIGHT_FILTER_COPY = 0, TIGHT_FILTER_PALETTE = 1, TIGHT_FILTER_GRADIENT = 2 };

const char *tight_kind_name(enum tight_kind k)
{
    switch (k) {
    case TIGHT_KIND_FILL: return "fill";
    case TIGHT_KIND_JPEG: return "jpeg";
    case TIGHT_KIND_PALETTE: return "palette";
    case TIGHT_KIND_COPY: return "copy";
    case TIGHT_KIND_GRADIENT: return "gradient";
    }
    return "unknown";
}

struct tight_decoder *tight_decoder_new(void)
{
    struct tight_decoder *d = calloc(1, sizeof(*d));
    if (!d)
        return NULL;
    d->buf = malloc(TIGHT_BUF_SIZE);
    d->tj = tjInitDecompress();
    if (!d->buf || !d->tj) {
        tight_decoder_free(d);
        return NULL;
    }
    return d;
}

void tight_decoder_set_size(struct tight_decoder *d, unsigned fb_width, unsigned fb_height)
{
    d->fb_width = fb_width;
    d->fb_height = fb_height;
}

void tight_decoder_free(struct tight_decoder *d)
{
    if (!d)
        return;
    for (int i = 0; i < 4; i++)
        if (d->zs_ready[i])
            inflateEnd(&d->zs[i]);
    if (d->tj)
        tjDestroy(d->tj);
    free(d->buf);
    free(d);
}

/* Reads a compact length at *pos. Returns 0, 1 (needs more bytes) or -1. */
static int tight_read_compact(const uint8_t *data, size_t len, size_t *pos, size_t *value)
{
    size_t v = 0;
    for (unsigned i = 0; i < 3; i++) {
        if (*pos >= len)
            return 1;
        uint8_t b = data[(*pos)++];
        if (i == 2) {
            v |= (size_t)b << 14;
            break;
        }
        v |= (size_t)(b & 0x7f) << (7 * i);
        if (!(b & 0x80))
            break;
    }
    *value = v;
    return 0;
}

/* The layout of one payload, found before anything is decoded. */
struct tight_layout {
    uint8_t ctl;
    enum tight_kind kind;
    unsigned stream, filter, colors;
    const uint8_t *palette;   /* colors * 3 bytes */
    size_t raw_len;           /* uncompressed basic data size */
    const uint8_t *body;      /* fill colour, JPEG data, raw data or zlib data */
    size_t body_len;
    bool compressed;
    size_t total;
};

static int tight_parse(const uint8_t *data, size_t len, unsigned w, unsigned h,
                       struct tight_layout *l)
{
    memset(l, 0, sizeof(*l));
    size_t pos = 0;
    if (len < 1)
        return 1;
    l->ctl = data[pos++];
    unsigned type = l->ctl >> 4;
    if (type == 8) {
        l->kind = TIGHT_KIND_FILL;
        l->body_len = 3;
    } else if (type == 9) {
        l->kind = TIGHT_KIND_JPEG;
        int rc = tight_read_compact(data, len, &pos, &l->body_len);
        if (rc != 0)
            return rc;
        if (l->body_len == 0)
            return -1;
    } else if (type > 9) {
        return -1; /* PNG and undefined types are not for 24-bit clients of this server */
    } else {
        if ((size_t)w * h > TIGHT_DECODE_MAX_BASIC_PIXELS)
            return -1;
        l->stream = type & 3;
        l->filter = TIGHT_FILTER_COPY;
        if (type & 4) {
            if (pos >= len)
                return 1;
            l->filter = data[pos++];
        }
        switch (l->filter) {
        case TIGHT_FILTER_COPY:
            l->kind = TIGHT_KIND_COPY;
            l->raw_len = (size_t)w * h * 3;
            break;
        case TIGHT_FILTER_GRADIENT:
            l->kind = TIGHT_KIND_GRADIENT;
            l->raw_len = (size_t)w * h * 3;
            break;
        case TIGHT_FILTER_PALETTE:
            l->kind = TIGHT_KIND_PALETTE;
            if (pos >= len)
                return 1;
            l->colors = (unsigned)data[pos++] + 1;
            if (l->colors < 2)
                return -1;
            if (len - pos < (size_t)l->colors * 3)
                return 1;
            l->palette = data + pos;
            pos += (size_t)l->colors * 3;
            l->raw_len = l->colors == 2 ? (size_t)((w + 7) / 8) * h : (size_t)w * h;
            break;
        default:
            return -1;
        }
        if (l->raw_len < TIGHT_MIN_TO_COMPRESS) {
            l->body_len = l->raw_len;
        } else {
            l->compressed = true;
            int rc = tight_read_compact(data, len, &pos, &l->body_len);
            if (rc != 0)
                return rc;
            if (l->body_len == 0)
                return -1;
        }
    }
    if (len - pos < l->body_len)
        return 1;
    l->body = data + pos;
    l->total = pos + l->body_len;
    return 0;
}

/* Inflates exactly out_len bytes from the whole of src with stream s. */
static int tight_inflate(struct tight_decoder *d, unsigned s, const uint8_t *src, size_t src_len,
                         uint8_t *out, size_t out_len)
{
    z_stream *zs = &d->zs[s];
    if (!d->zs_ready[s]) {
        memset(zs, 0, sizeof(*zs));
        if (inflateInit(zs) != Z_OK)
            return -1;
        d->zs_ready[s] = true;
    }
    zs->next_in = (Bytef *)src;
    zs->avail_in = (uInt)src_len;
    zs->next_out = out;
    zs->avail_out = (uInt)out_len;
    int rc = inflate(zs, Z_SYNC_FLUSH);
    if ((rc != Z_OK && rc != Z_STREAM_END && rc != Z_BUF_ERROR) || zs->avail_out != 0)
        return -1;
    /* The rest of the input may only be flush markers or a stream's end. */
    while (zs->avail_in > 0) {
        if (rc == Z_STREAM_END)
            return -1;
        uint8_t extra;
        zs->next_out = &extra;
        zs->avail_out = 1;
        uInt before = zs->avail_in;
        rc = inflate(zs, Z_SYNC_FLUSH);
        if ((rc != Z_OK && rc != Z_STREAM_END) || zs->avail_out == 0 || zs->avail_in == before)
            return -1;
    }
    return 0;
}

static void tight_put(uint8_t *p, const uint8_t *rgb)
{
    p[0] = rgb[0];
    p[1] = rgb[1];
    p[2] = rgb[2];
    p[3] = 0xff;
}

static int tight_paint_basic(struct tight_decoder *d, const struct tight_layout *l, unsigned w,
                             unsigned h, uint8_t *fb, unsigned stride)
{
    const uint8_t *src = l->body;
    if (l->compressed) {
        if (tight_inflate(d, l->stream, l->body, l->body_len, d->buf, l->raw_len) != 0)
            return -1;
        src = d->buf;
    }
    if (l->kind == TIGHT_KIND_PALETTE) {
        if (l->colors == 2) {
            unsigned row_bytes = (w + 7) / 8;
            for (unsigned j = 0; j < h; j++)
                for (unsigned i = 0; i < w; i++) {
                    unsigned bit = (src[(size_t)j * row_bytes + i / 8] >> (7 - i % 8)) & 1;
                    tight_put(fb + (size_t)j * stride + (size_t)i * 4, l->palette + bit * 3);
                }
        } else {
            for (unsigned j = 0; j < h; j++)
                for (unsigned i = 0; i < w; i++) {
                    unsigned idx = src[(size_t)j * w + i];
                    if (idx >= l->colors)
                        return -1;
                    tight_put(fb + (size_t)j * stride + (size_t)i * 4, l->palette + idx * 3);
                }
        }
    } else if (l->kind == TIGHT_KIND_COPY) {
        for (unsigned j = 0; j < h; j++)
            for (unsigned i = 0; i < w; i++)
                tight_put(fb + (size_t)j * stride + (size_t)i * 4, src + ((size_t)j * w + i) * 3);
    } else {
        /* Gradient: each component predicted as left + above - above-left
         * (clamped; outside the rect counts as 0), data is the difference. */
        for (unsigned j = 0; j < h; j++)
            for (unsigned i = 0; i < w; i++) {
                uint8_t *p = fb + (size_t)j * stride + (size_t)i * 4;
                uint8_t v[3];
                for (unsigned k = 0; k < 3; k++) {
                    int left = i ? (p - 4)[k] : 0;
                    int up = j ? (p - stride)[k] : 0;
                    int up_left = i && j ? (p - stride - 4)[k] : 0;
                    int pred = left + up - up_left;
                    pred = pred < 0 ? 0 : pred > 255 ? 255 : pred;
                    v[k] = (uint8_t)(src[((size_t)j * w + i) * 3 + k] + pred);
                }
                tight_put(p, v);
            }
    }
    return 0;
}

static int tight_paint_jpeg(struct tight_decoder *d, const struct tight_layout *l, unsigned w,
                            unsigned h, uint8_t *fb, unsigned stride)
{
    int jw, jh, samp, cs;
    if (tjDecompressHeader3(d->tj, l->body, (unsigned long)l->body_len, &jw, &jh, &samp, &cs) != 0)
        return -1;
    if ((unsigned)jw != w || (unsigned)jh != h)
        return -1;
    if (tjDecompress2(d->tj, l->body, (unsigned long)l->body_len, fb, (int)w, (int)stride, (int)h,
                      TJPF_RGBX, 0) != 0)
        return -1;
    return 0;
}

int tight_decode_rect(struct tight_decoder *d, const uint8_t *data, size_t len, size_t *consumed,
                      unsigned x, unsigned y, unsigned w, unsigned h, uint8_t *rgbx,
                      unsigned stride)
{
    if (w == 0 || h == 0 || w > TIGHT_DECODE_MAX_WIDTH || !rgbx || (uint64_t)x + w > stride / 4)
        return -1;
    if (d->fb_width && ((uint64_t)x + w > d->fb_width || (uint64_t)y + h > d->fb_height ||
                        stride < d->fb_width * 4))
        return -1;
    struct tight_layout l;
    int rc = tight_parse(data, len, w, h, &l);
    if (rc != 0)
        return rc;
    for (unsigned s = 0; s < 4; s++)
        if ((l.ctl >> s) & 1 && d->zs_ready[s] && inflateReset(&d->zs[s]) != Z_OK)
            return -1;
    uint8_t *fb = rgbx + (size_t)y * stride + (size_t)x * 4;
    if (l.kind == TIGHT_KIND_FILL) {
        for (unsigned j = 0; j < h; j++)
            for (unsigned i = 0; i < w; i++)
                tight_put(fb + (size_t)j * stride + (size_t)i * 4, l.body);
    } else if (l.kind == TIGHT_KIND_JPEG) {
        rc = tight_paint_jpeg(d, &l, w, h, fb, stride);
    } else {
        rc = tight_paint_basic(d, &l, w, h, fb, stride);
    }
    if (rc != 0)
        return -1;
    d->last = (struct tight_rect_info){
        .x = x, .y = y, .w = w, .h = h, .kind = l.kind, .colors = l.colors,
        .stream = l.stream, .compressed = l.compressed, .resets = (uint8_t)(l.ctl & 0x0f),
        .payload_len = l.total,
    };
    *consumed = l.total;
    return 0;
}

static unsigned tight_be16(const uint8_t *p) { return (unsigned)p[0] << 8 | p[1]; }

int tight_decode_rects(struct tight_decoder *d, const uint8_t *data, size_t len, uint32_t nrects,
                       uint8_t *rgbx, unsigned stride, tight_rect_fn fn, void *ctx)
{
    size_t pos = 0;
    for (uint32_t i = 0; i < nrects; i++) {
        if (len - pos < 12)
            return -1;
        const uint8_t *hdr = data + pos;
        int32_t enc = (int32_t)((uint32_t)hdr[8] << 24 | (uint32_t)hdr[9] << 16 |
                                (uint32_t)hdr[10] << 8 | hdr[11]);
        if (enc != 7)
            return -1;
        pos += 12;
        size_t used;
        if (tight_decode_rect(d, data + pos, len - pos, &used, tight_be16(hdr), tight_be16(hdr + 2),
                              tight_be16(hdr + 4), tight_be16(hdr + 6), rgbx, stride) != 0)
            return -1;
        pos += used;
        if (fn) {
            int rc = fn(ctx, &d->last);
            if (rc != 0)
                return rc;
        }
    }
    return pos == len ? 0 : -1;
}

int tight_decode_update(struct tight_decoder *d, const struct update *u, uint8_t *rgbx,
                        unsigned stride, tight_rect_fn fn, void *ctx)
{
    return tight_decode_rects(d, u->data, u->len, u->nrects, rgbx, stride, fn, ctx);
}
