/* server/damage: see damage.h. The common case is a frame identical to the
 * last one, so the first pass compares whole lines with memcmp (long, fast,
 * vectorised compares) and only a line that differs is looked at tile column
 * by tile column. Only changed tiles are copied into the shadow. */
#include "pipeline/damage.h"

#include <stdlib.h>
#include <string.h>

#include "common/log.h"

struct damage_tracker {
    unsigned tile;
    bool have_shadow;
    struct tile_grid grid;
    unsigned line_bytes; /* width * bytes per pixel: the shadow's stride */
    uint8_t *shadow;
    size_t shadow_cap;
    struct capture_frame shadow_frame;
};

void tile_grid_init(struct tile_grid *g, unsigned width, unsigned height, unsigned tile)
{
    g->width = width;
    g->height = height;
    g->tile = tile;
    g->cols = tile ? (width + tile - 1) / tile : 0;
    g->rows = tile ? (height + tile - 1) / tile : 0;
}

struct damage_tracker *damage_create(unsigned tile)
{
    /* Even tiles keep 4:2:2 pixel pairs inside one tile (the encoder relies
     * on it); the upper bound keeps tile rows well inside Tight's limits. */
    if (tile < 8 || tile > 1024 || tile % 2 != 0) {
        LOG_ERROR("damage", "tile size %u not supported (even, 8..1024)", tile);
        return NULL;
    }
    struct damage_tracker *d = calloc(1, sizeof(*d));
    if (!d)
        return NULL;
    d->tile = tile;
    return d;
}

void damage_destroy(struct damage_tracker *d)
{
    if (!d)
        return;
    free(d->shadow);
    free(d);
}

static bool damage_frame_valid(const struct capture_frame *f)
{
    if (f->fmt != PIXFMT_YUYV && f->fmt != PIXFMT_UYVY && f->fmt != PIXFMT_RGB24)
        return false;
    if (!f->data || f->width == 0 || f->height == 0 || f->width > 16384 || f->height > 16384)
        return false;
    if (f->fmt != PIXFMT_RGB24 && f->width % 2 != 0)
        return false;
    return f->stride >= f->width * pixfmt_bytes_per_pixel(f->fmt);
}

/* New size or format (or the first frame): take the whole frame. */
static int damage_rebuild(struct damage_tracker *d, const struct capture_frame *f, uint8_t *tiles,
                          size_t tiles_len)
{
    unsigned line = f->width * pixfmt_bytes_per_pixel(f->fmt);
    size_t need = (size_t)line * f->height;
    if (need > d->shadow_cap) {
        uint8_t *s = malloc(need);
        if (!s) {
            LOG_ERROR("damage", "cannot allocate a %ux%u shadow", f->width, f->height);
            return -1;
        }
        free(d->shadow);
        d->shadow = s;
        d->shadow_cap = need;
    }
    for (unsigned y = 0; y < f->height; y++)
        memcpy(d->shadow + (size_t)y * line, f->data + (size_t)y * f->stride, line);
    d->line_bytes = line;
    tile_grid_init(&d->grid, f->width, f->height, d->tile);
    d->have_shadow = true;
    size_t count = tile_grid_count(&d->grid);
    memset(tiles, 1, count < tiles_len ? count : tiles_len);
    return (int)count;
}

/* Marks the changed tiles of one tile row and returns how many. */
static unsigned damage_scan_row(struct damage_tracker *d, const struct capture_frame *f,
                                unsigned row, uint8_t *marks)
{
    const struct tile_grid *g = &d->grid;
    unsigned bpp = pixfmt_bytes_per_pixel(f->fmt);
    unsigned tile_bytes = g->tile * bpp;
    unsigned y0 = row * g->tile, y1 = y0 + g->tile < g->height ? y0 + g->tile : g->height;
    unsigned marked = 0;
    for (unsigned y = y0; y < y1 && marked < g->cols; y++) {
        const uint8_t *src = f->data + (size_t)y * f->stride;
        const uint8_t *old = d->shadow + (size_t)y * d->line_bytes;
        if (memcmp(src, old, d->line_bytes) == 0)
            continue;
        for (unsigned c = 0; c < g->cols; c++) {
            if (marks[c])
                continue;
            unsigned off = c * tile_bytes;
            unsigned len = d->line_bytes - off < tile_bytes ? d->line_bytes - off : tile_bytes;
            if (memcmp(src + off, old + off, len) != 0) {
                marks[c] = 1;
                marked++;
            }
        }
    }
    return marked;
}

/* Copies the marked tiles of one tile row into the shadow, a run of adjacent
 * marked tiles at a time. */
static void damage_copy_row(struct damage_tracker *d, const struct capture_frame *f, unsigned row,
                            const uint8_t *marks)
{
    const struct tile_grid *g = &d->grid;
    unsigned tile_bytes = g->tile * pixfmt_bytes_per_pixel(f->fmt);
    unsigned y0 = row * g->tile, y1 = y0 + g->tile < g->height ? y0 + g->tile : g->height;
    for (unsigned c0 = 0; c0 < g->cols;) {
        if (!marks[c0]) {
            c0++;
            continue;
        }
        unsigned c1 = c0;
        while (c1 < g->cols && marks[c1])
            c1++;
        unsigned off = c0 * tile_bytes;
        unsigned end = c1 * tile_bytes < d->line_bytes ? c1 * tile_bytes : d->line_bytes;
        for (unsigned y = y0; y < y1; y++)
            memcpy(d->shadow + (size_t)y * d->line_bytes + off, f->data + (size_t)y * f->stride + off,
                   end - off);
        c0 = c1;
    }
}

int damage_update(struct damage_tracker *d, const struct capture_frame *frame, uint8_t *tiles,
                  size_t tiles_len, bool *reset)
{
    *reset = false;
    if (!damage_frame_valid(frame)) {
        LOG_ERROR("damage", "invalid frame %ux%u stride %u", frame->width, frame->height,
                  frame->stride);
        return -1;
    }
    int changed;
    if (!d->have_shadow || frame->width != d->grid.width || frame->height != d->grid.height ||
        frame->fmt != d->shadow_frame.fmt) {
        changed = damage_rebuild(d, frame, tiles, tiles_len);
        if (changed < 0) {
            d->have_shadow = false;
            return -1;
        }
        *reset = true;
    } else {
        const struct tile_grid *g = &d->grid;
        if (tiles_len < tile_grid_count(g))
            return -1;
        memset(tiles, 0, tile_grid_count(g));
        changed = 0;
        for (unsigned row = 0; row < g->rows; row++) {
            uint8_t *marks = tiles + (size_t)row * g->cols;
            unsigned n = damage_scan_row(d, frame, row, marks);
            if (n) {
                damage_copy_row(d, frame, row, marks);
                changed += (int)n;
            }
        }
    }
    d->shadow_frame = (struct capture_frame){
        .fmt = frame->fmt,
        .width = frame->width,
        .height = frame->height,
        .stride = d->line_bytes,
        .data = d->shadow,
        .seq = frame->seq,
        .timestamp_us = frame->timestamp_us,
    };
    return changed;
}

const struct capture_frame *damage_shadow(const struct damage_tracker *d)
{
    return d->have_shadow ? &d->shadow_frame : NULL;
}

const struct tile_grid *damage_grid(const struct damage_tracker *d) { return &d->grid; }
