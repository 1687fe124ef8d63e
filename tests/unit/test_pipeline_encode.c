/* Unit tests for server/encode (Tight, encode once) and for the test decoder
 * tests/support/tight_decode that checks it. Pictures are drawn in RGB,
 * converted to the capture format, encoded, decoded into a fresh RGBX
 * framebuffer and compared with pixfmt_to_rgbx of the source. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <math.h>

#include <cmocka.h>
#include <zlib.h>

#include "pipeline/encode.h"
#include "pipeline/encode_internal.h" /* the planar YUV kernel, tested directly */
#include "tests/support/tight_decode.h"

#define TILE 64
#define SENTINEL 0x5a
#define PSNR_MIN 30.0       /* JPEG of smooth photo content */
#define PSNR_MIN_MIXED 24.0 /* JPEG tiles that also hold text edges */

/* ---- pictures ---- */

typedef void (*gen_fn)(unsigned x, unsigned y, uint32_t seed, uint8_t rgb[3]);

static uint32_t hash3(uint32_t a, uint32_t b, uint32_t c)
{
    uint32_t h = a * 0x9E3779B1u ^ (b + 0x7F4A7C15u) * 0x85EBCA77u ^ (c + 1) * 0xC2B2AE3Du;
    h ^= h >> 15;
    h *= 0x2C1B3C6Du;
    h ^= h >> 12;
    return h;
}

static void put_rgb(uint8_t rgb[3], uint32_t v)
{
    rgb[0] = (uint8_t)(v >> 16);
    rgb[1] = (uint8_t)(v >> 8);
    rgb[2] = (uint8_t)v;
}

static void gen_solid(unsigned x, unsigned y, uint32_t seed, uint8_t rgb[3])
{
    (void)x, (void)y;
    put_rgb(rgb, seed);
}

/* Smooth colour waves with a little noise: many colours, JPEG-friendly. */
static void gen_photo(unsigned x, unsigned y, uint32_t seed, uint8_t rgb[3])
{
    int n = (int)(hash3(x, y, seed) % 13) - 6;
    double r = 128 + 90 * sin(x / 23.0 + seed) + n;
    double g = 128 + 90 * sin(y / 17.0 + x / 41.0) + n;
    double b = 128 + 90 * cos((x + y) / 31.0) + n;
    rgb[0] = (uint8_t)(r < 0 ? 0 : r > 255 ? 255 : r);
    rgb[1] = (uint8_t)(g < 0 ? 0 : g > 255 ? 255 : g);
    rgb[2] = (uint8_t)(b < 0 ? 0 : b > 255 ? 255 : b);
}

static void gen_noise(unsigned x, unsigned y, uint32_t seed, uint8_t rgb[3])
{
    put_rgb(rgb, hash3(x, y, seed));
}

/* Glyph-like cells (8x16) of two colours, pixel pairs alike so that 4:2:2
 * keeps exactly two colours. */
static void gen_text(unsigned x, unsigned y, uint32_t seed, uint8_t rgb[3])
{
    uint32_t glyph = hash3(x / 8, y / 16, seed);
    bool on = (hash3(glyph, (x % 8) / 2, y % 16) & 3) == 0 && y % 16 < 13;
    put_rgb(rgb, on ? 0xe0e0e0 : 0x0000a8);
}

/* Text with one-pixel strokes, as real glyphs have: in 4:2:2 a pair that
 * straddles a stroke edge shares its chroma, giving extra colours whose
 * first pixel may be the odd one of its pair. */
static void gen_thin_text(unsigned x, unsigned y, uint32_t seed, uint8_t rgb[3])
{
    uint32_t glyph = hash3(x / 8, y / 16, seed);
    bool on = (hash3(glyph, x % 8, y % 16) % 5) == 0 && y % 16 < 13;
    put_rgb(rgb, on ? 0xffff55 : 0x0000aa);
}

static const uint32_t few_colours[] = {
    0x000000, 0xffffff, 0xff0000, 0x00ff00, 0x0000ff, 0xffff00, 0x00ffff, 0xff00ff,
    0x808080, 0x800000, 0x008000, 0x000080, 0x808000, 0x008080, 0x800080, 0xc0c0c0,
    0x402000, 0x204060, 0x603020, 0x206020, 0x602060, 0x306090, 0x903060, 0x609030,
    0x123456, 0x654321, 0xabcdef, 0xfedcba, 0x13579b, 0x2468ac, 0x369cf0, 0x48c0f4,
};

/* seed colours (1..32) in small pair-aligned blocks. */
static void gen_few(unsigned x, unsigned y, uint32_t seed, uint8_t rgb[3])
{
    put_rgb(rgb, few_colours[hash3(x / 4, y / 3, 5) % seed]);
}

/* Quadrants of everything, and a solid band at the bottom. */
static void gen_mixed(unsigned x, unsigned y, uint32_t seed, uint8_t rgb[3])
{
    unsigned q = (x / 160 + y / 96) % 4;
    if (y % 400 >= 300)
        gen_solid(x, y, 0x3060a0, rgb);
    else if (q == 0)
        gen_text(x, y, seed, rgb);
    else if (q == 1)
        gen_photo(x, y, seed, rgb);
    else if (q == 2)
        gen_few(x, y, 6, rgb);
    else
        gen_solid(x, y, 0x101010, rgb);
}

struct pic {
    struct capture_frame f;
    struct tile_grid g;
    uint8_t *src, *want; /* capture format; its RGBX */
};

static void pic_draw(struct pic *p, gen_fn gen, uint32_t seed)
{
    unsigned w = p->f.width, h = p->f.height;
    uint8_t *rgb = malloc((size_t)w * h * 3);
    assert_non_null(rgb);
    for (unsigned y = 0; y < h; y++)
        for (unsigned x = 0; x < w; x++)
            gen(x, y, seed, rgb + ((size_t)y * w + x) * 3);
    pixfmt_from_rgb(p->f.fmt, rgb, 3, w * 3, p->src, p->f.stride, w, h);
    pixfmt_to_rgbx(p->f.fmt, p->src, p->f.stride, p->want, w * 4, w, h);
    free(rgb);
}

static void pic_make(struct pic *p, enum pixfmt fmt, unsigned w, unsigned h, gen_fn gen,
                     uint32_t seed)
{
    unsigned stride = w * pixfmt_bytes_per_pixel(fmt) + 6; /* padded, as capture may be */
    p->src = malloc((size_t)stride * h);
    p->want = malloc((size_t)w * h * 4);
    assert_non_null(p->src);
    assert_non_null(p->want);
    p->f = (struct capture_frame){.fmt = fmt, .width = w, .height = h, .stride = stride,
                                  .data = p->src};
    tile_grid_init(&p->g, w, h, TILE);
    pic_draw(p, gen, seed);
}

static void pic_free(struct pic *p)
{
    free(p->src);
    free(p->want);
}

/* ---- encode, decode, check ---- */

struct decoded {
    uint8_t *fb;
    uint8_t *cover;             /* rects covering each pixel */
    int *tile_kind;             /* kind of the rect covering each tile's first pixel, -1 none */
    unsigned *tile_colors;
    unsigned rects, rects_by_kind[5];
    unsigned max_w;
    const struct pic *p;
};

static int record_rect(void *ctx, const struct tight_rect_info *r)
{
    struct decoded *d = ctx;
    const struct pic *p = d->p;
    d->rects++;
    d->rects_by_kind[r->kind]++;
    if (r->w > d->max_w)
        d->max_w = r->w;
    for (unsigned y = r->y; y < r->y + r->h; y++)
        for (unsigned x = r->x; x < r->x + r->w; x++) {
            d->cover[(size_t)y * p->f.width + x]++;
            if (x % TILE == 0 && y % TILE == 0) {
                size_t t = (size_t)(y / TILE) * p->g.cols + x / TILE;
                d->tile_kind[t] = (int)r->kind;
                d->tile_colors[t] = r->colors;
            }
        }
    return 0;
}

static void decoded_init(struct decoded *d, const struct pic *p)
{
    memset(d, 0, sizeof(*d));
    d->p = p;
    size_t n = (size_t)p->f.width * p->f.height;
    d->fb = malloc(n * 4);
    d->cover = calloc(n, 1);
    d->tile_kind = malloc(tile_grid_count(&p->g) * sizeof(int));
    d->tile_colors = calloc(tile_grid_count(&p->g), sizeof(unsigned));
    assert_non_null(d->fb);
    memset(d->fb, SENTINEL, n * 4);
    for (size_t t = 0; t < tile_grid_count(&p->g); t++)
        d->tile_kind[t] = -1;
}

static void decoded_free(struct decoded *d)
{
    free(d->fb);
    free(d->cover);
    free(d->tile_kind);
    free(d->tile_colors);
}

static void decode_into(struct decoded *d, struct tight_decoder *dec, const struct update *u)
{
    tight_decoder_set_size(dec, d->p->f.width, d->p->f.height);
    assert_int_equal(tight_decode_update(dec, u, d->fb, d->p->f.width * 4, record_rect, d), 0);
}

static void decode_fresh(struct decoded *d, const struct update *u)
{
    struct tight_decoder *dec = tight_decoder_new();
    assert_non_null(dec);
    decode_into(d, dec, u);
    tight_decoder_free(dec);
}

static struct encoder *new_encoder(const struct encode_settings *s)
{
    struct encoder *e = encoder_create(s);
    assert_non_null(e); /* fails when TurboJPEG is mis-linked, see encode_jpeg.c */
    return e;
}

static struct update *encode(struct encoder *e, const struct pic *p, const uint8_t *tiles,
                             enum encode_mode mode, uint8_t *lossy)
{
    struct update *u = update_new();
    assert_non_null(u);
    assert_int_equal(encoder_encode(e, &p->f, &p->g, tiles, mode, u, lossy), 0);
    return u;
}

static uint8_t *all_tiles(const struct pic *p)
{
    uint8_t *t = malloc(tile_grid_count(&p->g));
    memset(t, 1, tile_grid_count(&p->g));
    return t;
}

static double psnr_over(const struct pic *p, const struct decoded *d, const uint8_t *lossy,
                        bool want_lossy)
{
    double se = 0;
    size_t n = 0;
    for (unsigned y = 0; y < p->f.height; y++)
        for (unsigned x = 0; x < p->f.width; x++) {
            size_t t = (size_t)(y / TILE) * p->g.cols + x / TILE;
            if ((lossy[t] == 1) != want_lossy)
                continue;
            const uint8_t *a = p->want + ((size_t)y * p->f.width + x) * 4;
            const uint8_t *b = d->fb + ((size_t)y * p->f.width + x) * 4;
            for (int k = 0; k < 3; k++)
                se += (double)(a[k] - b[k]) * (a[k] - b[k]);
            n += 3;
        }
    if (n == 0 || se == 0)
        return 99.0;
    return 10.0 * log10(255.0 * 255.0 / (se / n));
}

/* Checks a decode of the tiles set in tiles: every pixel of a set tile
 * painted exactly once and nothing else; lossless tiles bit-exact; JPEG
 * tiles (and only they) marked lossy and close enough. */
static void check_decoded(const struct pic *p, const struct decoded *d, const uint8_t *tiles,
                          const uint8_t *lossy, double psnr_min)
{
    unsigned w = p->f.width;
    for (unsigned y = 0; y < p->f.height; y++)
        for (unsigned x = 0; x < w; x++) {
            size_t t = (size_t)(y / TILE) * p->g.cols + x / TILE;
            size_t i = (size_t)y * w + x;
            if (d->cover[i] != tiles[t]) {
                fail_msg("pixel %u,%u covered %u times (tile set: %u)", x, y, d->cover[i],
                         tiles[t]);
            }
            const uint8_t *got = d->fb + i * 4, *want = p->want + i * 4;
            if (!tiles[t]) {
                static const uint8_t untouched[4] = {SENTINEL, SENTINEL, SENTINEL, SENTINEL};
                assert_memory_equal(got, untouched, 4);
            } else if (!lossy[t] && memcmp(got, want, 3) != 0) {
                fail_msg("lossless pixel %u,%u is %02x%02x%02x, want %02x%02x%02x (tile kind %s)",
                         x, y, got[0], got[1], got[2], want[0], want[1], want[2],
                         tight_kind_name((enum tight_kind)d->tile_kind[t]));
            }
        }
    for (size_t t = 0; t < tile_grid_count(&p->g); t++)
        if (tiles[t])
            assert_int_equal(lossy[t], d->tile_kind[t] == TIGHT_KIND_JPEG);
    double psnr = psnr_over(p, d, lossy, true);
    if (psnr < psnr_min)
        fail_msg("JPEG tiles PSNR %.1f dB < %.1f", psnr, psnr_min);
    assert_true(d->max_w <= 2048);
}

static const struct encode_settings default_settings = {.quality = 80,
                                                        .subsamp = ENCODE_SUBSAMP_422};

/* Encodes, decodes with a fresh decoder and with one whose zlib streams are
 * mid-stream from other rects, checks, and returns the first decode. */
static void roundtrip(const struct pic *p, const uint8_t *tiles, enum encode_mode mode,
                      const struct encode_settings *s, struct decoded *out, double psnr_min)
{
    struct encoder *e = new_encoder(s);
    encoder_invalidate(e, &p->g, NULL);
    uint8_t *lossy = malloc(tile_grid_count(&p->g));
    memset(lossy, 0xaa, tile_grid_count(&p->g));
    struct update *u = encode(e, p, tiles, mode, lossy);
    for (size_t t = 0; t < tile_grid_count(&p->g); t++)
        if (!tiles[t])
            assert_int_equal(lossy[t], 0xaa);
    decoded_init(out, p);
    decode_fresh(out, u);
    check_decoded(p, out, tiles, lossy, psnr_min);

    /* The same bytes after other rects have used every zlib stream. */
    struct pic other;
    pic_make(&other, p->f.fmt, p->f.width, p->f.height, gen_mixed, 777);
    uint8_t *other_tiles = all_tiles(&other);
    struct encoder *e2 = new_encoder(s);
    struct update *u_other = encode(e2, &other, other_tiles, ENCODE_LOSSLESS, NULL);
    struct tight_decoder *dirty = tight_decoder_new();
    struct decoded d2;
    decoded_init(&d2, p);
    decode_into(&d2, dirty, u_other);
    memset(d2.fb, SENTINEL, (size_t)p->f.width * p->f.height * 4);
    memset(d2.cover, 0, (size_t)p->f.width * p->f.height);
    decode_into(&d2, dirty, u);
    assert_memory_equal(d2.fb, out->fb, (size_t)p->f.width * p->f.height * 4);

    decoded_free(&d2);
    tight_decoder_free(dirty);
    update_unref(u_other);
    encoder_destroy(e2);
    free(other_tiles);
    pic_free(&other);
    update_unref(u);
    free(lossy);
    encoder_destroy(e);
}

/* ---- encoder tests ---- */

static void test_solid_frame_is_one_fill(void **state)
{
    (void)state;
    struct pic p;
    pic_make(&p, PIXFMT_YUYV, 1920, 1080, gen_solid, 0x2050a0);
    uint8_t *tiles = all_tiles(&p);
    struct decoded d;
    roundtrip(&p, tiles, ENCODE_LOSSY, &default_settings, &d, PSNR_MIN);
    assert_int_equal(d.rects, 1);
    assert_int_equal(d.rects_by_kind[TIGHT_KIND_FILL], 1);
    decoded_free(&d);
    free(tiles);
    pic_free(&p);
}

static void test_wide_rects_split_at_2048(void **state)
{
    (void)state;
    struct pic p;
    pic_make(&p, PIXFMT_UYVY, 2560, 128, gen_solid, 0x808080);
    uint8_t *tiles = all_tiles(&p);
    struct decoded d;
    roundtrip(&p, tiles, ENCODE_LOSSY, &default_settings, &d, PSNR_MIN);
    assert_int_equal(d.rects, 2);
    assert_int_equal(d.max_w, 2048);
    decoded_free(&d);
    free(tiles);
    pic_free(&p);

    pic_make(&p, PIXFMT_YUYV, 2560, 200, gen_photo, 3);
    tiles = all_tiles(&p);
    roundtrip(&p, tiles, ENCODE_LOSSY, &default_settings, &d, PSNR_MIN);
    /* 2048 wide: bands of 2 tile rows (ENC_JPEG_MAX_PIXELS); 512 wide: one. */
    assert_int_equal(d.rects_by_kind[TIGHT_KIND_JPEG], 3);
    assert_int_equal(d.rects, 3);
    decoded_free(&d);
    free(tiles);
    pic_free(&p);
}

/* A fully changed photo frame is a few JPEG bands of the full width (at most
 * ENC_JPEG_MAX_PIXELS each, so the workers can share it): 1080p at tile 64
 * is 17 tile rows in bands of 2. */
static void test_photo_frame_is_jpeg_bands(void **state)
{
    (void)state;
    static const enum pixfmt fmts[] = {PIXFMT_YUYV, PIXFMT_RGB24};
    for (int i = 0; i < 2; i++) {
        struct pic p;
        pic_make(&p, fmts[i], 1920, 1080, gen_photo, 1);
        uint8_t *tiles = all_tiles(&p);
        struct decoded d;
        roundtrip(&p, tiles, ENCODE_LOSSY, &default_settings, &d, PSNR_MIN);
        assert_int_equal(d.rects, 9);
        assert_int_equal(d.rects_by_kind[TIGHT_KIND_JPEG], 9);
        decoded_free(&d);
        free(tiles);
        pic_free(&p);
    }
}

/* Tiles of known content get the expected kind in every pixel format. */
static void test_known_tiles_classified(void **state)
{
    (void)state;
    static const enum pixfmt fmts[] = {PIXFMT_YUYV, PIXFMT_UYVY, PIXFMT_RGB24};
    for (int fi = 0; fi < 3; fi++) {
        struct pic p;
        pic_make(&p, fmts[fi], 7 * TILE, TILE, gen_solid, 0);
        /* Tiles: solid, text, 5 colours, 24 colours, 32 colours, noise, solid (other colour). */
        struct pic parts[7];
        pic_make(&parts[0], fmts[fi], TILE, TILE, gen_solid, 0xc0ffee);
        pic_make(&parts[1], fmts[fi], TILE, TILE, gen_text, 9);
        pic_make(&parts[2], fmts[fi], TILE, TILE, gen_few, 5);
        pic_make(&parts[3], fmts[fi], TILE, TILE, gen_few, 24);
        pic_make(&parts[4], fmts[fi], TILE, TILE, gen_few, 32);
        pic_make(&parts[5], fmts[fi], TILE, TILE, gen_noise, 4);
        pic_make(&parts[6], fmts[fi], TILE, TILE, gen_solid, 0x102030);
        unsigned bpp = pixfmt_bytes_per_pixel(fmts[fi]);
        for (int k = 0; k < 7; k++) {
            for (unsigned y = 0; y < TILE; y++)
                memcpy(p.src + (size_t)y * p.f.stride + (size_t)k * TILE * bpp,
                       parts[k].src + (size_t)y * parts[k].f.stride, TILE * bpp);
            pic_free(&parts[k]);
        }
        pixfmt_to_rgbx(p.f.fmt, p.src, p.f.stride, p.want, p.f.width * 4, p.f.width, p.f.height);
        uint8_t *tiles = all_tiles(&p);
        struct decoded d;
        roundtrip(&p, tiles, ENCODE_LOSSY, &default_settings, &d, 15.0);
        const int lossy_kinds[7] = {TIGHT_KIND_FILL,    TIGHT_KIND_PALETTE, TIGHT_KIND_PALETTE,
                                    TIGHT_KIND_PALETTE, TIGHT_KIND_JPEG,    TIGHT_KIND_JPEG,
                                    TIGHT_KIND_FILL};
        const unsigned colours[7] = {0, 2, 5, 24, 0, 0, 0};
        for (int k = 0; k < 7; k++) {
            assert_int_equal(d.tile_kind[k], lossy_kinds[k]);
            if (colours[k])
                assert_int_equal(d.tile_colors[k], colours[k]);
        }
        /* The two JPEG tiles are adjacent: one rect. */
        assert_int_equal(d.rects_by_kind[TIGHT_KIND_JPEG], 1);
        decoded_free(&d);

        roundtrip(&p, tiles, ENCODE_LOSSLESS, &default_settings, &d, 99.0);
        const int lossless_kinds[7] = {TIGHT_KIND_FILL,    TIGHT_KIND_PALETTE, TIGHT_KIND_PALETTE,
                                       TIGHT_KIND_PALETTE, TIGHT_KIND_PALETTE, TIGHT_KIND_COPY,
                                       TIGHT_KIND_FILL};
        for (int k = 0; k < 7; k++)
            assert_int_equal(d.tile_kind[k], lossless_kinds[k]);
        assert_int_equal(d.tile_colors[4], 32);
        assert_int_equal(d.rects_by_kind[TIGHT_KIND_JPEG], 0);
        decoded_free(&d);
        free(tiles);
        pic_free(&p);
    }
}

/* Adjacent fill tiles of one colour merge along rows and down. */
static void test_fill_tiles_merge(void **state)
{
    (void)state;
    struct pic p;
    pic_make(&p, PIXFMT_RGB24, 640, 480, gen_solid, 0x123456);
    /* A text tile in the middle breaks the fill into pieces around it. */
    for (unsigned y = 192; y < 256; y++)
        for (unsigned x = 320; x < 384; x++) {
            uint8_t rgb[3];
            gen_text(x, y, 1, rgb);
            memcpy(p.src + (size_t)y * p.f.stride + x * 3, rgb, 3);
        }
    pixfmt_to_rgbx(p.f.fmt, p.src, p.f.stride, p.want, p.f.width * 4, p.f.width, p.f.height);
    uint8_t *tiles = all_tiles(&p);
    struct decoded d;
    roundtrip(&p, tiles, ENCODE_LOSSY, &default_settings, &d, PSNR_MIN);
    assert_int_equal(d.rects_by_kind[TIGHT_KIND_PALETTE], 1);
    /* Above the text tile: one rect; its row: left and right; below: one. */
    assert_int_equal(d.rects_by_kind[TIGHT_KIND_FILL], 4);
    decoded_free(&d);
    free(tiles);
    pic_free(&p);
}

/* Sizes with partial edge tiles, every format, both modes. */
static void test_roundtrip_sizes_and_formats(void **state)
{
    (void)state;
    static const enum pixfmt fmts[] = {PIXFMT_YUYV, PIXFMT_UYVY, PIXFMT_RGB24};
    static const unsigned sizes[][2] = {{1366, 768}, {1280, 720}, {130, 66}, {2, 2}};
    for (int fi = 0; fi < 3; fi++)
        for (size_t si = 0; si < sizeof(sizes) / sizeof(sizes[0]); si++)
            for (int mode = 0; mode < 2; mode++) {
                struct pic p;
                pic_make(&p, fmts[fi], sizes[si][0], sizes[si][1], gen_mixed, 1 + (uint32_t)si);
                uint8_t *tiles = all_tiles(&p);
                struct decoded d;
                roundtrip(&p, tiles, mode == 0 ? ENCODE_LOSSY : ENCODE_LOSSLESS,
                          &default_settings, &d, PSNR_MIN_MIXED);
                if (mode == 1)
                    assert_int_equal(d.rects_by_kind[TIGHT_KIND_JPEG], 0);
                else if (sizes[si][0] > 640)
                    assert_true(d.rects_by_kind[TIGHT_KIND_JPEG] > 0);
                decoded_free(&d);
                free(tiles);
                pic_free(&p);
            }
}

/* Only the set tiles are sent, and lossy_out is left alone elsewhere. */
static void test_partial_tile_sets(void **state)
{
    (void)state;
    struct pic p;
    pic_make(&p, PIXFMT_YUYV, 1366, 768, gen_mixed, 5);
    uint8_t *tiles = malloc(tile_grid_count(&p.g));
    for (uint32_t round = 0; round < 4; round++) {
        for (size_t t = 0; t < tile_grid_count(&p.g); t++)
            tiles[t] = hash3((uint32_t)t, round, 1) % 3 == 0;
        struct decoded d;
        roundtrip(&p, tiles, round % 2 ? ENCODE_LOSSLESS : ENCODE_LOSSY, &default_settings, &d,
                  PSNR_MIN_MIXED);
        decoded_free(&d);
    }
    /* No tiles at all: an empty update. */
    memset(tiles, 0, tile_grid_count(&p.g));
    struct encoder *e = new_encoder(&default_settings);
    struct update *u = encode(e, &p, tiles, ENCODE_LOSSY, NULL);
    assert_int_equal(u->nrects, 0);
    assert_int_equal(u->len, 0);
    update_unref(u);
    encoder_destroy(e);
    free(tiles);
    pic_free(&p);
}

/* Lossless mode never sends JPEG, and a photo comes out bit-exact. */
static void test_lossless_photo_is_exact(void **state)
{
    (void)state;
    struct pic p;
    pic_make(&p, PIXFMT_YUYV, 320, 256, gen_photo, 8);
    uint8_t *tiles = all_tiles(&p);
    struct decoded d;
    roundtrip(&p, tiles, ENCODE_LOSSLESS, &default_settings, &d, 99.0);
    assert_int_equal(d.rects_by_kind[TIGHT_KIND_JPEG], 0);
    assert_true(d.rects_by_kind[TIGHT_KIND_COPY] + d.rects_by_kind[TIGHT_KIND_PALETTE] > 0);
    decoded_free(&d);
    free(tiles);
    pic_free(&p);
}

struct ctl_offsets {
    size_t pos, offsets[4096];
    unsigned n;
};

static int record_ctl(void *ctx, const struct tight_rect_info *r)
{
    struct ctl_offsets *c = ctx;
    if (c->n < 4096)
        c->offsets[c->n++] = c->pos + 12;
    c->pos += 12 + r->payload_len;
    return 0;
}

/* The reset bits are what makes the bytes decodable by a client whose
 * streams were used before: without them a used decoder fails. */
static void test_reset_bits_are_needed(void **state)
{
    (void)state;
    struct pic p;
    pic_make(&p, PIXFMT_RGB24, 512, 256, gen_few, 12);
    uint8_t *tiles = all_tiles(&p);
    struct encoder *e = new_encoder(&default_settings);
    struct update *u = encode(e, &p, tiles, ENCODE_LOSSLESS, NULL);
    struct tight_decoder *dec = tight_decoder_new();
    struct decoded d;
    decoded_init(&d, &p);
    struct ctl_offsets *c = calloc(1, sizeof(*c));
    tight_decoder_set_size(dec, p.f.width, p.f.height);
    assert_int_equal(tight_decode_update(dec, u, d.fb, p.f.width * 4, record_ctl, c), 0);
    /* Every compressed rect resets exactly the stream it uses. */
    unsigned compressed = 0;
    for (unsigned i = 0; i < c->n; i++) {
        uint8_t ctl = u->data[c->offsets[i]];
        if (ctl >> 4 < 8 && ctl & 0x0f) {
            assert_int_equal(ctl & 0x0f, 1u << ((ctl >> 4) & 3));
            compressed++;
        }
    }
    assert_true(compressed >= 8);
    /* Strip them: the decoder that just decoded the update fails on it. */
    uint8_t *stripped = malloc(u->len);
    memcpy(stripped, u->data, u->len);
    for (unsigned i = 0; i < c->n; i++)
        if (stripped[c->offsets[i]] >> 4 < 8)
            stripped[c->offsets[i]] &= 0xf0;
    assert_int_not_equal(tight_decode_rects(dec, stripped, u->len, u->nrects, d.fb,
                                            p.f.width * 4, NULL, NULL),
                         0);
    free(stripped);
    free(c);
    decoded_free(&d);
    tight_decoder_free(dec);
    update_unref(u);
    encoder_destroy(e);
    free(tiles);
    pic_free(&p);
}

/* Cached classification and conversions follow encoder_invalidate. */
static void test_cache_follows_invalidate(void **state)
{
    (void)state;
    struct pic p;
    pic_make(&p, PIXFMT_YUYV, 640, 384, gen_mixed, 2);
    uint8_t *tiles = all_tiles(&p);
    struct encoder *e = new_encoder(&default_settings);
    encoder_invalidate(e, &p.g, NULL);
    uint8_t *lossy = malloc(tile_grid_count(&p.g));
    struct update *u1 = encode(e, &p, tiles, ENCODE_LOSSY, lossy);
    struct update *u2 = encode(e, &p, tiles, ENCODE_LOSSY, lossy);
    assert_int_equal(u1->len, u2->len);
    assert_memory_equal(u1->data, u2->data, u1->len);
    unsigned stride;
    assert_non_null(encoder_rgbx(e, &p.f, &p.g, tiles, &stride));

    /* Redraw everything differently: what was text, solid or photo is now
     * something else, and the caches must not answer for the old picture. */
    pic_draw(&p, gen_photo, 4);
    encoder_invalidate(e, &p.g, tiles);
    for (int mode = 0; mode < 2; mode++) {
        struct update *u = encode(e, &p, tiles, mode ? ENCODE_LOSSLESS : ENCODE_LOSSY, lossy);
        struct decoded d;
        decoded_init(&d, &p);
        decode_fresh(&d, u);
        check_decoded(&p, &d, tiles, lossy, PSNR_MIN);
        decoded_free(&d);
        update_unref(u);
    }
    const uint8_t *rgbx = encoder_rgbx(e, &p.f, &p.g, NULL, &stride);
    assert_int_equal(stride, p.f.width * 4);
    assert_memory_equal(rgbx, p.want, (size_t)p.f.width * p.f.height * 4);
    update_unref(u1);
    update_unref(u2);
    free(lossy);
    encoder_destroy(e);
    free(tiles);
    pic_free(&p);
}

/* A lossless refresh of the tiles first sent as JPEG makes them exact. */
static void test_lossless_refresh_after_jpeg(void **state)
{
    (void)state;
    struct pic p;
    pic_make(&p, PIXFMT_UYVY, 640, 384, gen_mixed, 6);
    uint8_t *tiles = all_tiles(&p);
    struct encoder *e = new_encoder(&default_settings);
    encoder_invalidate(e, &p.g, NULL);
    uint8_t *lossy = malloc(tile_grid_count(&p.g));
    struct update *u = encode(e, &p, tiles, ENCODE_LOSSY, lossy);
    struct decoded d;
    decoded_init(&d, &p);
    decode_fresh(&d, u);
    update_unref(u);
    unsigned n_lossy = 0;
    for (size_t t = 0; t < tile_grid_count(&p.g); t++)
        n_lossy += lossy[t];
    assert_true(n_lossy > 0);
    uint8_t *refresh = malloc(tile_grid_count(&p.g));
    memcpy(refresh, lossy, tile_grid_count(&p.g));
    u = encode(e, &p, refresh, ENCODE_LOSSLESS, lossy);
    memset(d.cover, 0, (size_t)p.f.width * p.f.height);
    struct tight_decoder *dec = tight_decoder_new();
    decode_into(&d, dec, u);
    tight_decoder_free(dec);
    assert_memory_equal(d.fb, p.want, (size_t)p.f.width * p.f.height * 4);
    for (size_t t = 0; t < tile_grid_count(&p.g); t++)
        if (refresh[t])
            assert_int_equal(lossy[t], 0);
    update_unref(u);
    decoded_free(&d);
    free(refresh);
    free(lossy);
    encoder_destroy(e);
    free(tiles);
    pic_free(&p);
}

/* Thin-stroke text is lossless in every format and mode, and still palette
 * (a few colours) rather than JPEG. */
static void test_thin_text_is_exact_palette(void **state)
{
    (void)state;
    static const enum pixfmt fmts[] = {PIXFMT_YUYV, PIXFMT_UYVY, PIXFMT_RGB24};
    for (int fi = 0; fi < 3; fi++)
        for (int mode = 0; mode < 2; mode++) {
            struct pic p;
            pic_make(&p, fmts[fi], 640, 200, gen_thin_text, 21);
            uint8_t *tiles = all_tiles(&p);
            struct decoded d;
            roundtrip(&p, tiles, mode ? ENCODE_LOSSLESS : ENCODE_LOSSY, &default_settings, &d,
                      PSNR_MIN);
            assert_int_equal(d.rects_by_kind[TIGHT_KIND_JPEG], 0);
            assert_int_equal(d.rects_by_kind[TIGHT_KIND_COPY], 0);
            assert_memory_equal(d.fb, p.want, (size_t)p.f.width * p.f.height * 4);
            for (size_t t = 0; t < tile_grid_count(&p.g); t++)
                assert_true(d.tile_colors[t] >= 2 && d.tile_colors[t] <= 6);
            decoded_free(&d);
            free(tiles);
            pic_free(&p);
        }
}

/* A tile first classified for JPEG (too many colours for a lossy palette)
 * is looked at again for a lossless refresh: 32 colours make a palette, not
 * a copy-filter rect. */
static void test_lossless_refresh_reclassifies(void **state)
{
    (void)state;
    struct pic p;
    pic_make(&p, PIXFMT_YUYV, 256, 128, gen_few, 32);
    uint8_t *tiles = all_tiles(&p);
    struct encoder *e = new_encoder(&default_settings);
    uint8_t lossy[8];
    struct update *u = encode(e, &p, tiles, ENCODE_LOSSY, lossy);
    for (int t = 0; t < 8; t++)
        assert_int_equal(lossy[t], 1);
    update_unref(u);
    u = encode(e, &p, tiles, ENCODE_LOSSLESS, lossy);
    struct decoded d;
    decoded_init(&d, &p);
    decode_fresh(&d, u);
    assert_int_equal(d.rects_by_kind[TIGHT_KIND_PALETTE], 8);
    assert_memory_equal(d.fb, p.want, (size_t)p.f.width * p.f.height * 4);
    decoded_free(&d);
    update_unref(u);
    encoder_destroy(e);
    free(tiles);
    pic_free(&p);
}

/* The planar kernel (SIMD body and scalar tail alike) stretches limited to
 * full range within one step of the exact value, for every byte value. */
static void test_yuv_kernel_range(void **state)
{
    (void)state;
    uint8_t src[4 * 80], y[160], cb[80], cr[80];
    for (unsigned round = 0; round < 64; round++) {
        unsigned pairs = 1 + round % 80;
        for (unsigned i = 0; i < sizeof(src); i++)
            src[i] = (uint8_t)(round < 4 ? i * 4 + round : hash3(round, i, 7));
        bool uyvy = round & 1;
        enc_yuv422_row_to_planes(src, uyvy ? PIXFMT_UYVY : PIXFMT_YUYV, y, cb, cr, pairs);
        for (unsigned i = 0; i < pairs; i++) {
            const uint8_t *q = src + 4 * i;
            uint8_t in[4] = {uyvy ? q[1] : q[0], uyvy ? q[3] : q[2], uyvy ? q[0] : q[1],
                             uyvy ? q[2] : q[3]};
            uint8_t out[4] = {y[2 * i], y[2 * i + 1], cb[i], cr[i]};
            for (int k = 0; k < 4; k++) {
                double want = k < 2 ? (in[k] - 16) * 255.0 / 219.0
                                    : (in[k] - 128) * 255.0 / 224.0 + 128.0;
                want = want < 0 ? 0 : want > 255 ? 255 : want;
                if (fabs(out[k] - want) > 1.0)
                    fail_msg("pairs %u, pair %u, sample %d: %u -> %u, want %.1f", pairs, i, k,
                             in[k], out[k], want);
            }
        }
    }
}

static void gen_grey_photo(unsigned x, unsigned y, uint32_t seed, uint8_t rgb[3])
{
    gen_photo(x, y, seed, rgb);
    rgb[1] = rgb[2] = rgb[0];
}

static void test_subsampling_and_quality_settings(void **state)
{
    (void)state;
    static const enum pixfmt fmts[] = {PIXFMT_YUYV, PIXFMT_RGB24, PIXFMT_UYVY};
    static const enum encode_subsamp samps[] = {ENCODE_SUBSAMP_444, ENCODE_SUBSAMP_420,
                                                ENCODE_SUBSAMP_GRAY, ENCODE_SUBSAMP_422};
    for (int fi = 0; fi < 3; fi++)
        for (int si = 0; si < 4; si++) {
            struct encode_settings s = {.quality = 90, .subsamp = samps[si]};
            struct pic p;
            /* 4:2:0 with an odd height exercises the last chroma row. */
            pic_make(&p, fmts[fi], 300, 201,
                     samps[si] == ENCODE_SUBSAMP_GRAY ? gen_grey_photo : gen_photo, 2);
            uint8_t *tiles = all_tiles(&p);
            struct decoded d;
            roundtrip(&p, tiles, ENCODE_LOSSY, &s, &d, PSNR_MIN);
            assert_true(d.rects_by_kind[TIGHT_KIND_JPEG] >= 1);
            decoded_free(&d);
            free(tiles);
            pic_free(&p);
        }
    assert_int_equal(encode_subsamp_parse("444"), ENCODE_SUBSAMP_444);
    assert_int_equal(encode_subsamp_parse("422"), ENCODE_SUBSAMP_422);
    assert_int_equal(encode_subsamp_parse("420"), ENCODE_SUBSAMP_420);
    assert_int_equal(encode_subsamp_parse("gray"), ENCODE_SUBSAMP_GRAY);
    assert_int_equal(encode_subsamp_parse("411"), -1);
    struct encode_settings bad = {.quality = 0, .subsamp = ENCODE_SUBSAMP_422};
    assert_null(encoder_create(&bad));
}

static void test_stats_add_up(void **state)
{
    (void)state;
    struct pic p;
    pic_make(&p, PIXFMT_YUYV, 1280, 720, gen_mixed, 9);
    uint8_t *tiles = all_tiles(&p);
    struct encoder *e = new_encoder(&default_settings);
    struct update *u = encode(e, &p, tiles, ENCODE_LOSSY, NULL);
    struct encode_stats st;
    encoder_get_stats(e, &st);
    assert_int_equal(st.fill_tiles + st.palette_tiles + st.jpeg_tiles + st.zlib_tiles,
                     tile_grid_count(&p.g));
    assert_true(st.fill_tiles > 0 && st.palette_tiles > 0 && st.jpeg_tiles > 0);
    assert_int_equal(st.zlib_tiles, 0);
    assert_int_equal(st.rects, u->nrects);
    assert_int_equal(st.bytes, u->len);
    update_unref(u);
    encoder_destroy(e);
    free(tiles);
    pic_free(&p);
}

static void test_rejects_mismatched_picture(void **state)
{
    (void)state;
    struct pic p;
    pic_make(&p, PIXFMT_YUYV, 256, 128, gen_solid, 1);
    struct tile_grid g;
    tile_grid_init(&g, 320, 128, TILE);
    uint8_t tiles[10] = {1};
    struct encoder *e = new_encoder(&default_settings);
    struct update *u = update_new();
    assert_int_equal(encoder_encode(e, &p.f, &g, tiles, ENCODE_LOSSY, u, NULL), -1);
    update_unref(u);
    encoder_destroy(e);
    pic_free(&p);
}

/* ---- decoder tests (hand-made payloads, hostile bytes) ---- */

static int decode_one(struct tight_decoder *dec, const uint8_t *data, size_t len, unsigned w,
                      unsigned h, uint8_t *fb, size_t *used)
{
    tight_decoder_set_size(dec, 16, 16);
    return tight_decode_rect(dec, data, len, used, 0, 0, w, h, fb, 16 * 4);
}

static void test_decoder_hand_made_payloads(void **state)
{
    (void)state;
    struct tight_decoder *dec = tight_decoder_new();
    uint8_t fb[16 * 16 * 4];
    size_t used;
    /* Fill. */
    const uint8_t fill[] = {0x80, 1, 2, 3, 0xee};
    assert_int_equal(decode_one(dec, fill, sizeof(fill), 3, 2, fb, &used), 0);
    assert_int_equal(used, 4);
    assert_int_equal(fb[16 * 4 + 2 * 4 + 2], 3);
    assert_int_equal(dec->last.kind, TIGHT_KIND_FILL);
    /* Two-colour palette, 10x1: 2 bytes of bits, under 12 so uncompressed. */
    const uint8_t mono[] = {0x50, 1, 1, 10, 20, 30, 40, 50, 60, 0xa0, 0x40};
    assert_int_equal(decode_one(dec, mono, sizeof(mono), 10, 1, fb, &used), 0);
    assert_int_equal(used, sizeof(mono));
    assert_int_equal(fb[0], 40);  /* bit 1 */
    assert_int_equal(fb[4], 10);  /* bit 0 */
    assert_int_equal(fb[9 * 4], 40);
    assert_int_equal(fb[8 * 4 + 1], 20);
    /* Three-colour palette 2x2, indices raw. */
    const uint8_t idx[] = {0x60, 1, 2, 1, 1, 1, 2, 2, 2, 3, 3, 3, 0, 1, 2, 0};
    assert_int_equal(decode_one(dec, idx, sizeof(idx), 2, 2, fb, &used), 0);
    assert_int_equal(fb[4], 2);
    assert_int_equal(fb[16 * 4], 3);
    /* An index outside the palette. */
    const uint8_t bad_idx[] = {0x60, 1, 2, 1, 1, 1, 2, 2, 2, 3, 3, 3, 0, 1, 3, 0};
    assert_int_equal(decode_one(dec, bad_idx, sizeof(bad_idx), 2, 2, fb, &used), -1);
    /* Copy filter without the explicit filter byte, 2x1 raw. */
    const uint8_t copy[] = {0x00, 9, 8, 7, 6, 5, 4};
    assert_int_equal(decode_one(dec, copy, sizeof(copy), 2, 1, fb, &used), 0);
    assert_int_equal(fb[4], 6);
    assert_int_equal(dec->last.kind, TIGHT_KIND_COPY);
    /* Gradient filter, 4x3, zlib-compressed on stream 3. */
    uint8_t img[3][4][3], resid[36];
    for (int y = 0; y < 3; y++)
        for (int x = 0; x < 4; x++)
            for (int k = 0; k < 3; k++)
                img[y][x][k] = (uint8_t)(10 * x + 20 * y + 7 * k + (x * y) % 3);
    for (int y = 0; y < 3; y++)
        for (int x = 0; x < 4; x++)
            for (int k = 0; k < 3; k++) {
                int l = x ? img[y][x - 1][k] : 0, u = y ? img[y - 1][x][k] : 0;
                int ul = x && y ? img[y - 1][x - 1][k] : 0, pr = l + u - ul;
                pr = pr < 0 ? 0 : pr > 255 ? 255 : pr;
                resid[(y * 4 + x) * 3 + k] = (uint8_t)(img[y][x][k] - pr);
            }
    uint8_t grad[128] = {0x78 | 0x08, 2};
    uLongf zlen = sizeof(grad) - 3;
    assert_int_equal(compress(grad + 3, &zlen, resid, sizeof(resid)), Z_OK);
    assert_true(zlen < 128);
    grad[2] = (uint8_t)zlen;
    assert_int_equal(decode_one(dec, grad, 3 + zlen, 4, 3, fb, &used), 0);
    assert_int_equal(dec->last.kind, TIGHT_KIND_GRADIENT);
    for (int y = 0; y < 3; y++)
        for (int x = 0; x < 4; x++)
            assert_memory_equal(fb + y * 64 + x * 4, img[y][x], 3);
    /* Undefined types and filters, empty or oversized rects. */
    const uint8_t png[] = {0xa0, 0};
    assert_int_equal(decode_one(dec, png, sizeof(png), 1, 1, fb, &used), -1);
    const uint8_t bad_filter[] = {0x40, 3, 0, 0, 0};
    assert_int_equal(decode_one(dec, bad_filter, sizeof(bad_filter), 1, 1, fb, &used), -1);
    assert_int_equal(decode_one(dec, fill, sizeof(fill), 17, 1, fb, &used), -1);
    assert_int_equal(decode_one(dec, fill, sizeof(fill), 0, 1, fb, &used), -1);
    /* A JPEG that is not a JPEG. */
    const uint8_t jpeg[] = {0x90, 4, 0xff, 0xd8, 0xff, 0xd9};
    assert_int_equal(decode_one(dec, jpeg, sizeof(jpeg), 2, 2, fb, &used), -1);
    tight_decoder_free(dec);
}

/* Every prefix of a real update is "need more" (1), never an error or a
 * read past the end; flipped bytes never crash (ASan watches). */
static void test_decoder_truncated_and_corrupted(void **state)
{
    (void)state;
    struct pic p;
    pic_make(&p, PIXFMT_YUYV, 256, 128, gen_mixed, 3);
    uint8_t *tiles = all_tiles(&p);
    struct encoder *e = new_encoder(&default_settings);
    struct update *u = encode(e, &p, tiles, ENCODE_LOSSY, NULL);
    uint8_t *fb = malloc((size_t)256 * 128 * 4);
    struct tight_decoder *dec = tight_decoder_new();
    tight_decoder_set_size(dec, 256, 128);
    /* Walk to the rects and cut each payload short. */
    size_t pos = 0;
    for (uint32_t r = 0; r < u->nrects; r++) {
        const uint8_t *h = u->data + pos;
        unsigned x = h[0] << 8 | h[1], y = h[2] << 8 | h[3], w = h[4] << 8 | h[5],
                 hh = h[6] << 8 | h[7];
        pos += 12;
        size_t used = 0;
        assert_int_equal(tight_decode_rect(dec, u->data + pos, u->len - pos, &used, x, y, w, hh,
                                           fb, 256 * 4),
                         0);
        for (size_t cut = 0; cut < used; cut += 1 + cut / 7) {
            size_t u2;
            assert_int_equal(
                tight_decode_rect(dec, u->data + pos, cut, &u2, x, y, w, hh, fb, 256 * 4), 1);
        }
        pos += used;
    }
    assert_int_equal(pos, u->len);
    /* Corrupt bytes: any result but a crash; a fresh decoder each time. */
    uint8_t *copy = malloc(u->len);
    for (uint32_t round = 0; round < 300; round++) {
        memcpy(copy, u->data, u->len);
        for (int k = 0; k < 4; k++)
            copy[hash3(round, (uint32_t)k, 1) % u->len] ^= (uint8_t)(1 + hash3(round, k, 2) % 255);
        struct tight_decoder *d2 = tight_decoder_new();
        tight_decoder_set_size(d2, 256, 128);
        (void)tight_decode_rects(d2, copy, u->len, u->nrects, fb, 256 * 4, NULL, NULL);
        tight_decoder_free(d2);
    }
    /* Random garbage as rects of random sizes. */
    for (uint32_t round = 0; round < 300; round++) {
        for (size_t i = 0; i < u->len && i < 4096; i++)
            copy[i] = (uint8_t)hash3(round, (uint32_t)i, 3);
        copy[0] = (uint8_t)(round & 0xff);
        size_t used;
        (void)tight_decode_rect(dec, copy, u->len < 4096 ? u->len : 4096, &used, round % 200,
                                round % 100, 1 + round % 56, 1 + round % 28, fb, 256 * 4);
    }
    free(copy);
    tight_decoder_free(dec);
    free(fb);
    update_unref(u);
    encoder_destroy(e);
    free(tiles);
    pic_free(&p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_solid_frame_is_one_fill),
        cmocka_unit_test(test_wide_rects_split_at_2048),
        cmocka_unit_test(test_photo_frame_is_jpeg_bands),
        cmocka_unit_test(test_known_tiles_classified),
        cmocka_unit_test(test_fill_tiles_merge),
        cmocka_unit_test(test_roundtrip_sizes_and_formats),
        cmocka_unit_test(test_partial_tile_sets),
        cmocka_unit_test(test_lossless_photo_is_exact),
        cmocka_unit_test(test_reset_bits_are_needed),
        cmocka_unit_test(test_cache_follows_invalidate),
        cmocka_unit_test(test_lossless_refresh_after_jpeg),
        cmocka_unit_test(test_yuv_kernel_range),
        cmocka_unit_test(test_thin_text_is_exact_palette),
        cmocka_unit_test(test_lossless_refresh_reclassifies),
        cmocka_unit_test(test_subsampling_and_quality_settings),
        cmocka_unit_test(test_stats_add_up),
        cmocka_unit_test(test_rejects_mismatched_picture),
        cmocka_unit_test(test_decoder_hand_made_payloads),
        cmocka_unit_test(test_decoder_truncated_and_corrupted),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
