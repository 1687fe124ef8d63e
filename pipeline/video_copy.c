/* pipeline/video_copy.c — a job's picture copied tile by tile. The encoder
 * thread converts a copy of the picture (the next frame overwrites the
 * pipeline's); copying all of it cost ~1 ms a 1080p YUYV frame on the server
 * thread, on the path of every keystroke's echo, for the tile or two a key
 * changes. A job buffer returns holding a picture a few frames old: the
 * tiles changed since are what it lacks. */
#include "pipeline/video_internal.h"

#include <stdlib.h>
#include <string.h>

#include "common/pixfmt.h"

void video_damage_set(struct video_damage *d, const struct tile_grid *grid, const uint8_t *map)
{
    size_t n = tile_grid_count(grid);
    d->grid = *grid;
    d->all = !map;
    if (d->all)
        return;
    if (n > d->cap) {
        uint8_t *b = realloc(d->map, n);
        if (!b) {
            d->all = true;
            return;
        }
        d->map = b;
        d->cap = n;
    }
    memcpy(d->map, map, n);
}

void video_damage_free(struct video_damage *d)
{
    free(d->map);
    *d = (struct video_damage){0};
}

void video_copy_note(struct video_copy_history *h, uint64_t seq, const struct video_damage *changed)
{
    struct video_copy_entry *e = &h->e[seq % VIDEO_COPY_HISTORY];
    e->seq = seq;
    video_damage_set(&e->changed, &changed->grid, changed->all ? NULL : changed->map);
}

/* The tiles changed in pictures held_seq+1 .. seq into h->want; false when
 * a picture between is not remembered or changed everything. */
static bool changed_since(struct video_copy_history *h, uint64_t held_seq, uint64_t seq,
                          const struct tile_grid *grid)
{
    if (held_seq == 0 || held_seq > seq || seq - held_seq > VIDEO_COPY_HISTORY)
        return false;
    size_t n = tile_grid_count(grid);
    if (n > h->want_cap) {
        uint8_t *b = realloc(h->want, n);
        if (!b)
            return false;
        h->want = b;
        h->want_cap = n;
    }
    memset(h->want, 0, n);
    for (uint64_t s = held_seq + 1; s <= seq; s++) {
        const struct video_copy_entry *e = &h->e[s % VIDEO_COPY_HISTORY];
        if (e->seq != s || e->changed.all || !tile_grid_same_layout(&e->changed.grid, grid))
            return false;
        for (size_t i = 0; i < n; i++)
            h->want[i] |= e->changed.map[i];
    }
    return true;
}

size_t video_copy_picture(struct video_copy_history *h, uint8_t *dst, uint64_t held_seq,
                          const struct capture_frame *held, const struct capture_frame *src, uint64_t seq,
                          const struct tile_grid *grid)
{
    size_t size = (size_t)src->stride * src->height;
    bool same = held && held->fmt == src->fmt && held->width == src->width && held->height == src->height &&
                held->stride == src->stride && grid->width == src->width && grid->height == src->height &&
                grid->tile > 0 && grid->cols * grid->tile >= src->width && grid->rows * grid->tile >= src->height;
    if (!same || !changed_since(h, held_seq, seq, grid)) {
        memcpy(dst, src->data, size);
        return size;
    }
    unsigned bpp = pixfmt_bytes_per_pixel(src->fmt), t = grid->tile;
    size_t copied = 0;
    for (unsigned ty = 0; ty < grid->rows; ty++) {
        unsigned y0 = ty * t, y1 = y0 + t < src->height ? y0 + t : src->height;
        const uint8_t *row = h->want + (size_t)ty * grid->cols;
        for (unsigned tx = 0; tx < grid->cols;) {
            if (!row[tx]) {
                tx++;
                continue;
            }
            unsigned run = tx; /* a run of changed tiles: one copy a line */
            while (run < grid->cols && row[run])
                run++;
            unsigned x0 = tx * t, x1 = run * t < src->width ? run * t : src->width;
            size_t off = (size_t)x0 * bpp, len = (size_t)(x1 - x0) * bpp;
            for (unsigned y = y0; y < y1; y++)
                memcpy(dst + (size_t)y * src->stride + off, src->data + (size_t)y * src->stride + off, len);
            copied += len * (y1 - y0);
            tx = run;
        }
    }
    return copied;
}

void video_copy_free(struct video_copy_history *h)
{
    for (int i = 0; i < VIDEO_COPY_HISTORY; i++)
        video_damage_free(&h->e[i].changed);
    free(h->want);
    memset(h, 0, sizeof(*h));
}
