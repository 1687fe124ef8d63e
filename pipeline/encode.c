/* server/encode: see encode.h. This file keeps the per-tile caches and plans
 * the rectangles: each changed tile is classified (cached until the tile
 * changes), palette and lossless tiles go out one rect per tile, and fill and
 * JPEG tiles are merged into runs along tile rows, then runs with the same
 * span in consecutive rows into one rect, so a fully changed photo frame is
 * a few full-width JPEG bands (ENC_JPEG_MAX_PIXELS; split at Tight's width
 * limit too). With several workers (encode_pool.c) both phases run in
 * parallel, tile rows first, then the planned rects, each job into its own
 * buffer, joined in order: the bytes do not depend on the worker count. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"
#include "pipeline/encode_internal.h"

/* Run keys (encode_internal.h): 0 = not part of a run, fill colour + 1, or JPEG. */

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

int encode_workers_parse(const char *name)
{
    if (!name)
        return -1;
    if (strcmp(name, "auto") == 0)
        return 0;
    if (name[0] >= '1' && name[0] <= '0' + ENCODE_MAX_WORKERS && name[1] == '\0')
        return name[0] - '0';
    return -1;
}

static unsigned enc_workers_auto(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    if (n < 1)
        return 1;
    return n > ENCODE_MAX_WORKERS ? ENCODE_MAX_WORKERS : (unsigned)n;
}

/* A helper only borrows the picture caches: it frees its own scratch. */
static void enc_helper_destroy(struct encoder *h)
{
    if (!h)
        return;
    h->tiles = NULL;
    h->rgbx = NULL;
    for (int k = 0; k < 3; k++)
        h->plane[k] = NULL;
    enc_tight_free(h);
    enc_jpeg_free(h);
    free(h->index);
    free(h);
}

static int enc_workers_start(struct encoder *e, unsigned n)
{
    e->helper[0] = e;
    e->nworkers = 1;
    for (unsigned i = 1; i < n; i++) {
        struct encoder *h = calloc(1, sizeof(*h));
        if (!h)
            return -1;
        h->settings = e->settings;
        h->is_helper = true;
        e->helper[e->nworkers++] = h;
        if (enc_tight_init(h) != 0 || enc_jpeg_init(h) != 0)
            return -1;
    }
    if (n > 1 && !(e->pool = enc_pool_create(n - 1)))
        return -1;
    return 0;
}

struct encoder *encoder_create(const struct encode_settings *s)
{
    if (s->quality < 1 || s->quality > 100 || s->subsamp < ENCODE_SUBSAMP_444 ||
        s->subsamp > ENCODE_SUBSAMP_GRAY || s->workers > ENCODE_MAX_WORKERS) {
        LOG_ERROR("encode", "invalid settings (quality %d, workers %u)", s->quality, s->workers);
        return NULL;
    }
    struct encoder *e = calloc(1, sizeof(*e));
    if (!e)
        return NULL;
    e->settings = *s;
    e->parallel_min_tiles = ENC_PARALLEL_MIN_TILES;
    e->parallel_min_jpeg_pixels = ENC_PARALLEL_MIN_JPEG_PIXELS;
    if (enc_tight_init(e) != 0 || enc_jpeg_init(e) != 0 ||
        enc_workers_start(e, s->workers ? s->workers : enc_workers_auto()) != 0) {
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
    enc_pool_destroy(e->pool);
    for (unsigned i = 1; i < e->nworkers; i++)
        enc_helper_destroy(e->helper[i]);
    for (size_t j = 0; j < e->job_out_cap; j++)
        free(e->job_out[j].data);
    free(e->job_out);
    free(e->jobs);
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

/* Appends the rect of run (rows r0..r_end-1) to the frame's job list. */
static int enc_job_add(struct encoder *e, const struct enc_run *run, unsigned r_end)
{
    if (e->njobs == e->jobs_cap) {
        size_t cap = e->jobs_cap ? 2 * e->jobs_cap : 64;
        struct enc_job *j = realloc(e->jobs, cap * sizeof(*j));
        if (!j)
            return -1;
        e->jobs = j;
        e->jobs_cap = cap;
    }
    const struct tile_grid *g = &e->grid;
    unsigned x = run->c0 * g->tile, y = run->r0 * g->tile;
    e->jobs[e->njobs++] = (struct enc_job){.x = x, .y = y,
                                           .w = enc_min(run->c1 * g->tile, g->width) - x,
                                           .h = enc_min(r_end * g->tile, g->height) - y,
                                           .key = run->key};
    return 0;
}

/* Plans the fill and JPEG rects: tiles with equal run keys merged along each
 * row (at most Tight's width), then identical spans down consecutive rows
 * (a JPEG rect up to ENC_JPEG_MAX_PIXELS), into e->jobs in sending order. */
static int enc_plan_runs(struct encoder *e)
{
    const struct tile_grid *g = &e->grid;
    unsigned max_cols = ENC_TIGHT_MAX_WIDTH / g->tile;
    struct enc_run *open = e->runs, *next = e->runs + g->cols + 1;
    unsigned n_open = 0;
    e->njobs = 0;
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
            size_t pixels = (size_t)(r + 1 - open[i].r0) * g->tile * (open[i].c1 - open[i].c0) *
                            g->tile;
            if (j < n_next && next[j].c0 == open[i].c0 && next[j].c1 == open[i].c1 &&
                next[j].key == open[i].key &&
                (open[i].key != ENC_RUN_JPEG || pixels <= ENC_JPEG_MAX_PIXELS))
                next[j].r0 = open[i].r0;
            else if (enc_job_add(e, &open[i], r) != 0)
                return -1;
        }
        struct enc_run *swap = open;
        open = next;
        next = swap;
        n_open = n_next;
    }
    return 0;
}

/* One frame's work, shared by the jobs of both phases. */
struct enc_frame {
    struct encoder *e;
    const struct capture_frame *pic;
    const uint8_t *tiles;
    enum encode_mode mode;
    uint8_t *lossy_out;
    struct update *direct; /* one thread: every job appends here, in order */
};

static struct update *enc_job_dest(struct enc_frame *f, unsigned job)
{
    return f->direct ? f->direct : &f->e->job_out[job];
}

/* Phase 1, one job per tile row: classifies the row's changed tiles, writes
 * its palette and lossless rects and marks fill and JPEG tiles for merging. */
static int enc_row_job(void *ctx, unsigned worker, unsigned r)
{
    struct enc_frame *f = ctx;
    struct encoder *e = f->e, *we = e->helper[worker];
    struct update *out = enc_job_dest(f, r);
    const struct tile_grid *g = &e->grid;
    unsigned max_colors = f->mode == ENCODE_LOSSY ? ENC_PALETTE_MAX_LOSSY : ENC_PALETTE_MAX;
    unsigned stride = g->width * 4;
    unsigned y = r * g->tile, h = enc_min(g->tile, g->height - y);
    for (unsigned c = 0; c < g->cols; c++) {
        size_t t = (size_t)r * g->cols + c;
        if (f->tiles && !f->tiles[t])
            continue;
        unsigned x = c * g->tile, w = enc_min(g->tile, g->width - x);
        bool lossy = false;
        int rc = 0;
        switch (enc_classify(we, f->pic, t, x, y, w, h, max_colors)) {
        case ENC_CLASS_FILL:
            e->run_keys[t] = e->tiles[t].fill_rgb + 1;
            we->stats.fill_tiles++;
            break;
        case ENC_CLASS_PALETTE:
            rc = enc_tight_palette(we, out, x, y, w, h, we->index, w);
            we->stats.palette_tiles++;
            break;
        case ENC_CLASS_PHOTO:
        case ENC_CLASS_UNKNOWN:
            if (f->mode == ENCODE_LOSSY) {
                e->run_keys[t] = ENC_RUN_JPEG;
                we->stats.jpeg_tiles++;
                lossy = true;
            } else {
                rc = enc_rgbx_ensure(we, f->pic, c, c + 1, r, r + 1);
                if (rc == 0)
                    rc = enc_tight_copy(we, out, x, y, w, h,
                                        e->rgbx + (size_t)y * stride + (size_t)x * 4, stride);
                we->stats.zlib_tiles++;
            }
            break;
        }
        if (rc != 0)
            return -1;
        if (f->lossy_out)
            f->lossy_out[t] = lossy;
    }
    return 0;
}

/* Phase 2, one job per planned fill or JPEG rect. */
static int enc_rect_job(void *ctx, unsigned worker, unsigned j)
{
    struct enc_frame *f = ctx;
    struct encoder *we = f->e->helper[worker];
    const struct enc_job *job = &f->e->jobs[j];
    struct update *out = enc_job_dest(f, j);
    if (job->key == ENC_RUN_JPEG)
        return enc_jpeg_rect(we, f->pic, out, job->x, job->y, job->w, job->h);
    return enc_tight_fill(we, out, job->x, job->y, job->w, job->h, job->key - 1);
}

/* Lends the picture caches to the helpers (after any reallocation). */
static int enc_helpers_sync(struct encoder *e)
{
    size_t index_need = (size_t)e->grid.tile * e->grid.tile;
    for (unsigned i = 1; i < e->nworkers; i++) {
        struct encoder *h = e->helper[i];
        h->have_grid = e->have_grid;
        h->grid = e->grid;
        h->have_fmt = e->have_fmt;
        h->fmt = e->fmt;
        h->tiles = e->tiles;
        h->rgbx = e->rgbx;
        h->rgbx_cap = e->rgbx_cap;
        for (int k = 0; k < 3; k++) {
            h->plane[k] = e->plane[k];
            h->plane_cap[k] = e->plane_cap[k];
            h->plane_stride[k] = e->plane_stride[k];
        }
        if (h->index_cap < index_need) {
            free(h->index);
            h->index = malloc(index_need);
            h->index_cap = h->index ? index_need : 0;
            if (!h->index)
                return -1;
        }
    }
    return 0;
}

/* Runs njobs jobs: in order into out on one thread, or on the pool into
 * one buffer each, then appended to out in job order (the same bytes). */
static int enc_run_phase(struct enc_frame *f, unsigned njobs, enc_pool_fn fn, bool parallel,
                         struct update *out)
{
    struct encoder *e = f->e;
    if (!e->pool || njobs < 2 || !parallel) {
        f->direct = out;
        return enc_pool_run(NULL, njobs, fn, f);
    }
    if (e->job_out_cap < njobs) {
        struct update *u = realloc(e->job_out, njobs * sizeof(*u));
        if (!u)
            return -1;
        memset(u + e->job_out_cap, 0, (njobs - e->job_out_cap) * sizeof(*u));
        e->job_out = u;
        e->job_out_cap = njobs;
    }
    for (unsigned j = 0; j < njobs; j++) {
        e->job_out[j].len = 0;
        e->job_out[j].nrects = 0;
    }
    if (enc_helpers_sync(e) != 0)
        return -1;
    f->direct = NULL;
    int rc = enc_pool_run(e->pool, njobs, fn, f);
    for (unsigned i = 1; i < e->nworkers; i++) {
        struct encode_stats *hs = &e->helper[i]->stats;
        e->stats.fill_tiles += hs->fill_tiles;
        e->stats.palette_tiles += hs->palette_tiles;
        e->stats.jpeg_tiles += hs->jpeg_tiles;
        e->stats.zlib_tiles += hs->zlib_tiles;
        memset(hs, 0, sizeof(*hs));
    }
    for (unsigned j = 0; rc == 0 && j < njobs; j++) {
        if (e->job_out[j].len && update_append(out, e->job_out[j].data, e->job_out[j].len) != 0)
            rc = -1;
        out->nrects += e->job_out[j].nrects;
    }
    return rc;
}

int encoder_encode(struct encoder *e, const struct capture_frame *pic, const struct tile_grid *g,
                   const uint8_t *tiles, enum encode_mode mode, struct update *out,
                   uint8_t *lossy_out)
{
    THREAD_ASSERT_OWNER(&e->owner, "encoder");
    if (enc_prepare(e, pic, g) != 0)
        return -1;
    size_t len0 = out->len;
    uint32_t rects0 = out->nrects;
    memset(e->run_keys, 0, tile_grid_count(g) * sizeof(*e->run_keys));
    struct enc_frame f = {.e = e, .pic = pic, .tiles = tiles, .mode = mode,
                          .lossy_out = lossy_out};
    /* Buffers the jobs write into are allocated before they start. */
    int rc = mode == ENCODE_LOSSLESS ? enc_rgbx_ensure(e, pic, 0, 0, 0, 0) : 0;
    /* Waking the workers costs more than a few tiles or fill rects take:
     * small updates stay on this thread (the bytes are the same). */
    size_t changed = 0, ntiles = tile_grid_count(g);
    for (size_t t = 0; t < ntiles; t++)
        changed += !tiles || tiles[t];
    if (rc == 0)
        rc = enc_run_phase(&f, g->rows, enc_row_job, changed >= e->parallel_min_tiles, out);
    if (rc == 0)
        rc = enc_plan_runs(e);
    unsigned jpegs = 0;
    size_t jpeg_pixels = 0;
    for (size_t j = 0; rc == 0 && j < e->njobs; j++)
        if (e->jobs[j].key == ENC_RUN_JPEG) {
            jpegs++;
            jpeg_pixels += (size_t)e->jobs[j].w * e->jobs[j].h;
        }
    if (rc == 0 && jpegs > 0)
        rc = enc_jpeg_prepare(e, pic);
    if (rc == 0)
        rc = enc_run_phase(&f, (unsigned)e->njobs, enc_rect_job,
                           jpegs >= 2 && jpeg_pixels >= e->parallel_min_jpeg_pixels, out);
    e->stats.rects += out->nrects - rects0;
    e->stats.bytes += out->len - len0;
    return rc;
}

void enc_set_parallel_min(struct encoder *e, unsigned tiles, unsigned jpeg_pixels)
{
    e->parallel_min_tiles = tiles;
    e->parallel_min_jpeg_pixels = jpeg_pixels;
}

void encoder_get_stats(const struct encoder *e, struct encode_stats *out) { *out = e->stats; }
