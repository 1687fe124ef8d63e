/* server/encode: see encode.h. This file keeps the per-tile caches and plans
 * the rectangles: each changed tile is classified (cached until the tile
 * changes), palette and lossless tiles go out one rect per tile, and fill and
 * JPEG tiles are merged into runs along tile rows, then runs with the same
 * span in consecutive rows into one rect, so a fully changed photo frame is
 * about one JPEG (split only at Tight's width limit). */
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "pipeline/encode_internal.h"

/* Run keys: 0 = not part of a run, fill colour + 1, or JPEG. */
#define ENC_RUN_NONE 0u
#define ENC_RUN_JPEG 0x80000000u

int encode_subsamp_parse(const char *name)
{
    if (!name)
        return -1;
    if (strcmp(name, "444") == 0)
        return ENCODE_SUBSAMP_444;
    if (strcmp(name, "422") == 0)
        return ENCODE_SUBSAMP_422;
    if (strcmp(name, "420") == 0)
        return ENCODE_SUBSAMP_420;
    if (strcmp(name, "gray") == 0 || strcmp(name, "grey") == 0)
        return ENCODE_SUBSAMP_GRAY;
    return -1;
}

struct encoder *encoder_create(const struct encode_settings *s)
{
    if (s->quality < 1 || s->quality > 100 || s->subsamp < ENCODE_SUBSAMP_444 ||
        s->subsamp > ENCODE_SUBSAMP_GRAY) {
        LOG_ERROR("encode", "invalid settings (quality %d)", s->quality);
        return NULL;
    }
    struct encoder *e = calloc(1, sizeof(*e));
    if (!e)
        return NULL;
    e->settings = *s;
    if (enc_tight_init(e) != 0 || enc_jpeg_init(e) != 0) {
        LOG_ERROR("encode", "cannot set up the encoder");
        encoder_destroy(e);
        return NULL;
    }
    return e;
}

void encoder_destroy(struct encoder *e)
{
    if (!e)
        return;
    enc_tight_free(e);
    enc_jpeg_free(e);
    free(e->tiles);
    free(e->rgbx);
    free(e->index);
    free(e->run_keys);
    free(e->runs);
    free(e);
}

static bool enc_grid_same(const struct tile_grid *a, const struct tile_grid *b)
{
    return a->width == b->width && a->height == b->height && a->tile == b->tile;
}

/* A new picture geometry: every cache starts over. */
static int enc_reset_grid(struct encoder *e, const struct tile_grid *g)
{
    e->have_grid = false;
    size_t count = tile_grid_count(g);
    free(e->tiles);
    free(e->run_keys);
    free(e->runs);
    free(e->index);
    e->tiles = calloc(count ? count : 1, sizeof(*e->tiles));
    e->run_keys = calloc(count ? count : 1, sizeof(*e->run_keys));
    e->runs = calloc(2 * (size_t)g->cols + 2, sizeof(*e->runs));
    e->index = malloc((size_t)g->tile * g->tile);
    if (!e->tiles || !e->run_keys || !e->runs || !e->index) {
        LOG_ERROR("encode", "cannot allocate tile state for %ux%u", g->width, g->height);
        return -1;
    }
    e->grid = *g;
    e->have_grid = true;
    return 0;
}

void encoder_invalidate(struct encoder *e, const struct tile_grid *g, const uint8_t *tiles)
{
    if (!e->have_grid || !enc_grid_same(&e->grid, g)) {
        enc_reset_grid(e, g); /* leaves have_grid false on failure: retried on use */
        return;
    }
    size_t count = tile_grid_count(g);
    for (size_t t = 0; t < count; t++)
        if (!tiles || tiles[t])
            memset(&e->tiles[t], 0, sizeof(e->tiles[t]));
}

/* Checks the picture against the grid and brings the caches up to it. */
static int enc_prepare(struct encoder *e, const struct capture_frame *pic,
                       const struct tile_grid *g)
{
    if (!pic || !pic->data || pic->width != g->width || pic->height != g->height ||
        g->tile < 2 || g->tile % 2 != 0 || g->tile > 1024 ||
        (pic->fmt != PIXFMT_YUYV && pic->fmt != PIXFMT_UYVY && pic->fmt != PIXFMT_RGB24) ||
        pic->stride < pic->width * pixfmt_bytes_per_pixel(pic->fmt)) {
        LOG_ERROR("encode", "picture does not match its tile grid");
        return -1;
    }
    if (!e->have_grid || !enc_grid_same(&e->grid, g)) {
        if (enc_reset_grid(e, g) != 0)
            return -1;
        e->have_fmt = false;
    }
    if (!e->have_fmt || e->fmt != pic->fmt) {
        memset(e->tiles, 0, tile_grid_count(g) * sizeof(*e->tiles));
        e->fmt = pic->fmt;
        e->have_fmt = true;
    }
    return 0;
}

int enc_rgbx_ensure(struct encoder *e, const struct capture_frame *pic, unsigned c0, unsigned c1,
                    unsigned r0, unsigned r1)
{
    const struct tile_grid *g = &e->grid;
    size_t need = (size_t)g->width * g->height * 4;
    if (need > e->rgbx_cap) {
        free(e->rgbx);
        e->rgbx = malloc(need);
        e->rgbx_cap = e->rgbx ? need : 0;
        if (!e->rgbx) {
            LOG_ERROR("encode", "cannot allocate the RGBX picture");
            return -1;
        }
        for (size_t t = 0; t < tile_grid_count(g); t++)
            e->tiles[t].rgbx_fresh = 0;
    }
    unsigned bpp = pixfmt_bytes_per_pixel(pic->fmt), stride = g->width * 4;
    for (unsigned r = r0; r < r1; r++) {
        struct enc_tile *row = e->tiles + (size_t)r * g->cols;
        unsigned y0 = r * g->tile, y1 = enc_min(y0 + g->tile, g->height);
        for (unsigned c = c0; c < c1;) {
            if (row[c].rgbx_fresh) {
                c++;
                continue;
            }
            unsigned end = c;
            while (end < c1 && !row[end].rgbx_fresh)
                row[end++].rgbx_fresh = 1;
            unsigned x0 = c * g->tile, x1 = enc_min(end * g->tile, g->width);
            pixfmt_to_rgbx(pic->fmt, pic->data + (size_t)y0 * pic->stride + (size_t)x0 * bpp,
                           pic->stride, e->rgbx + (size_t)y0 * stride + (size_t)x0 * 4, stride,
                           x1 - x0, y1 - y0);
            c = end;
        }
    }
    return 0;
}

const uint8_t *encoder_rgbx(struct encoder *e, const struct capture_frame *pic,
                            const struct tile_grid *g, const uint8_t *tiles, unsigned *stride)
{
    if (enc_prepare(e, pic, g) != 0)
        return NULL;
    for (unsigned r = 0; r < g->rows; r++) {
        const uint8_t *want = tiles ? tiles + (size_t)r * g->cols : NULL;
        for (unsigned c = 0; c < g->cols;) {
            if (want && !want[c]) {
                c++;
                continue;
            }
            unsigned end = c + 1;
            while (end < g->cols && (!want || want[end]))
                end++;
            if (enc_rgbx_ensure(e, pic, c, end, r, r + 1) != 0)
                return NULL;
            c = end;
        }
    }
    *stride = g->width * 4;
    return e->rgbx;
}

/* The class of tile t for a mode allowing up to max_colors in a palette.
 * For ENC_CLASS_PALETTE, e->pal and e->index hold the tile's palette. */
static enum enc_class enc_classify(struct encoder *e, const struct capture_frame *pic, size_t t,
                                   unsigned x, unsigned y, unsigned w, unsigned h,
                                   unsigned max_colors)
{
    struct enc_tile *ts = &e->tiles[t];
    if (ts->cls == ENC_CLASS_FILL)
        return ENC_CLASS_FILL;
    if (ts->cls == ENC_CLASS_PHOTO && ts->scanned >= max_colors)
        return ENC_CLASS_PHOTO;
    if (ts->cls == ENC_CLASS_PALETTE && ts->ncolors > max_colors)
        return ENC_CLASS_PHOTO;
    if (ts->cls == ENC_CLASS_UNKNOWN && enc_tile_is_solid(pic, x, y, w, h)) {
        ts->cls = ENC_CLASS_FILL;
        ts->fill_rgb = enc_pixel_rgb(pic, x, y);
        return ENC_CLASS_FILL;
    }
    unsigned n = enc_palette_build(&e->pal, pic, x, y, w, h, max_colors, e->index);
    if (n > max_colors) {
        ts->cls = ENC_CLASS_PHOTO;
        ts->scanned = (uint16_t)max_colors;
        return ENC_CLASS_PHOTO;
    }
    if (n == 1) {
        ts->cls = ENC_CLASS_FILL;
        ts->fill_rgb = enc_pixel_rgb(pic, x, y);
        return ENC_CLASS_FILL;
    }
    ts->cls = ENC_CLASS_PALETTE;
    ts->ncolors = (uint16_t)n;
    enc_palette_rgb(&e->pal, pic, x, y);
    return ENC_CLASS_PALETTE;
}

static int enc_emit_run(struct encoder *e, const struct capture_frame *pic, struct update *out,
                        const struct enc_run *run, unsigned r_end)
{
    const struct tile_grid *g = &e->grid;
    unsigned x = run->c0 * g->tile, y = run->r0 * g->tile;
    unsigned w = enc_min(run->c1 * g->tile, g->width) - x;
    unsigned h = enc_min(r_end * g->tile, g->height) - y;
    if (run->key == ENC_RUN_JPEG)
        return enc_jpeg_rect(e, pic, out, x, y, w, h);
    return enc_tight_fill(e, out, x, y, w, h, run->key - 1);
}

/* Merges tiles with equal run keys: along each row (at most Tight's width),
 * then identical spans down consecutive rows. */
static int enc_emit_runs(struct encoder *e, const struct capture_frame *pic, struct update *out)
{
    const struct tile_grid *g = &e->grid;
    unsigned max_cols = ENC_TIGHT_MAX_WIDTH / g->tile;
    struct enc_run *open = e->runs, *next = e->runs + g->cols + 1;
    unsigned n_open = 0;
    for (unsigned r = 0; r <= g->rows; r++) {
        unsigned n_next = 0;
        const uint32_t *keys = e->run_keys + (size_t)r * g->cols;
        for (unsigned c = 0; r < g->rows && c < g->cols;) {
            if (keys[c] == ENC_RUN_NONE) {
                c++;
                continue;
            }
            unsigned end = c + 1;
            while (end < g->cols && keys[end] == keys[c] && end - c < max_cols)
                end++;
            next[n_next++] = (struct enc_run){.c0 = c, .c1 = end, .r0 = r, .key = keys[c]};
            c = end;
        }
        /* Both lists are sorted by c0: continue open runs with the same span. */
        unsigned j = 0;
        for (unsigned i = 0; i < n_open; i++) {
            while (j < n_next && next[j].c0 < open[i].c0)
                j++;
            if (j < n_next && next[j].c0 == open[i].c0 && next[j].c1 == open[i].c1 &&
                next[j].key == open[i].key)
                next[j].r0 = open[i].r0;
            else if (enc_emit_run(e, pic, out, &open[i], r) != 0)
                return -1;
        }
        struct enc_run *swap = open;
        open = next;
        next = swap;
        n_open = n_next;
    }
    return 0;
}

int encoder_encode(struct encoder *e, const struct capture_frame *pic, const struct tile_grid *g,
                   const uint8_t *tiles, enum encode_mode mode, struct update *out,
                   uint8_t *lossy_out)
{
    if (enc_prepare(e, pic, g) != 0)
        return -1;
    size_t len0 = out->len;
    uint32_t rects0 = out->nrects;
    unsigned max_colors = mode == ENCODE_LOSSY ? ENC_PALETTE_MAX_LOSSY : ENC_PALETTE_MAX;
    unsigned stride = g->width * 4;
    memset(e->run_keys, 0, tile_grid_count(g) * sizeof(*e->run_keys));
    for (unsigned r = 0; r < g->rows; r++) {
        unsigned y = r * g->tile, h = enc_min(g->tile, g->height - y);
        for (unsigned c = 0; c < g->cols; c++) {
            size_t t = (size_t)r * g->cols + c;
            if (tiles && !tiles[t])
                continue;
            unsigned x = c * g->tile, w = enc_min(g->tile, g->width - x);
            bool lossy = false;
            int rc = 0;
            switch (enc_classify(e, pic, t, x, y, w, h, max_colors)) {
            case ENC_CLASS_FILL:
                e->run_keys[t] = e->tiles[t].fill_rgb + 1;
                e->stats.fill_tiles++;
                break;
            case ENC_CLASS_PALETTE:
                rc = enc_tight_palette(e, out, x, y, w, h, e->index, w);
                e->stats.palette_tiles++;
                break;
            case ENC_CLASS_PHOTO:
            case ENC_CLASS_UNKNOWN:
                if (mode == ENCODE_LOSSY) {
                    e->run_keys[t] = ENC_RUN_JPEG;
                    e->stats.jpeg_tiles++;
                    lossy = true;
                } else {
                    rc = enc_rgbx_ensure(e, pic, c, c + 1, r, r + 1);
                    if (rc == 0)
                        rc = enc_tight_copy(e, out, x, y, w, h,
                                            e->rgbx + (size_t)y * stride + (size_t)x * 4, stride);
                    e->stats.zlib_tiles++;
                }
                break;
            }
            if (rc != 0)
                return -1;
            if (lossy_out)
                lossy_out[t] = lossy;
        }
    }
    int rc = enc_emit_runs(e, pic, out);
    e->stats.rects += out->nrects - rects0;
    e->stats.bytes += out->len - len0;
    return rc;
}

void encoder_get_stats(const struct encoder *e, struct encode_stats *out) { *out = e->stats; }
