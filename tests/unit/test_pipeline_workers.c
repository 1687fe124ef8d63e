/* Unit tests for the parallel encoder (pipeline/encode_pool.c and the two
 * job phases of encode.c): for every scenario of the test source, pixel
 * format, subsampling and mode, an encoder with several workers must give
 * the very bytes, rect count, lossy map and tile statistics of an encoder
 * with one, frame after frame (caches carried over), for whole frames and
 * for scattered damage. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "capture/capture.h"
#include "pipeline/damage.h"
#include "pipeline/encode.h"
#include "pipeline/encode_internal.h" /* enc_set_parallel_min */
#include "pipeline/update.h"

#define TILE 64

struct side {
    struct encoder *enc;
    uint8_t *lossy;
};

static void side_open(struct side *s, const struct encode_settings *base, unsigned workers,
                      size_t ntiles)
{
    struct encode_settings es = *base;
    es.workers = workers;
    s->enc = encoder_create(&es);
    assert_non_null(s->enc);
    /* Every phase on the workers, however small the picture. */
    enc_set_parallel_min(s->enc, 1, 1);
    s->lossy = calloc(1, ntiles);
    assert_non_null(s->lossy);
}

static void side_close(struct side *s)
{
    encoder_destroy(s->enc);
    free(s->lossy);
}

/* Encodes tiles of f with both encoders and compares everything. */
static void encode_both(struct side *a, struct side *b, const struct capture_frame *f,
                        const struct tile_grid *g, const uint8_t *tiles, enum encode_mode mode)
{
    size_t n = tile_grid_count(g);
    encoder_invalidate(a->enc, g, tiles);
    encoder_invalidate(b->enc, g, tiles);
    struct update *ua = update_new(), *ub = update_new();
    assert_non_null(ua);
    assert_non_null(ub);
    memset(a->lossy, 0x5a, n);
    memset(b->lossy, 0x5a, n);
    assert_int_equal(encoder_encode(a->enc, f, g, tiles, mode, ua, a->lossy), 0);
    assert_int_equal(encoder_encode(b->enc, f, g, tiles, mode, ub, b->lossy), 0);
    assert_true(ua->len > 0);
    assert_int_equal(ua->nrects, ub->nrects);
    assert_int_equal(ua->len, ub->len);
    assert_memory_equal(ua->data, ub->data, ua->len);
    assert_memory_equal(a->lossy, b->lossy, n);
    struct encode_stats sa, sb;
    encoder_get_stats(a->enc, &sa);
    encoder_get_stats(b->enc, &sb);
    assert_memory_equal(&sa, &sb, sizeof(sa));
    update_unref(ua);
    update_unref(ub);
}

static void compare(const char *scenario, enum pixfmt fmt, enum encode_subsamp ss,
                    enum encode_mode mode, unsigned w, unsigned h, unsigned workers, int frames)
{
    struct capture_source src;
    struct config_capture cc = {.width = (int)w, .height = (int)h, .fps = 1000};
    snprintf(cc.scenario, sizeof(cc.scenario), "%s", scenario);
    snprintf(cc.format, sizeof(cc.format), "%s",
             fmt == PIXFMT_YUYV ? "yuyv" : fmt == PIXFMT_UYVY ? "uyvy" : "rgb24");
    assert_int_equal(capture_testsrc_create(&cc, NULL, &src), 0);
    struct tile_grid g;
    tile_grid_init(&g, w, h, TILE);
    size_t n = tile_grid_count(&g);
    struct encode_settings es = {.quality = 80, .subsamp = ss};
    struct side one, many;
    side_open(&one, &es, 1, n);
    side_open(&many, &es, workers, n);
    struct damage_tracker *d = damage_create(TILE);
    uint8_t *map = calloc(1, n), *scatter = calloc(1, n);
    assert_non_null(d);
    assert_non_null(map);
    assert_non_null(scatter);
    for (int i = 0; i < frames; i++) {
        struct capture_frame f;
        enum capture_signal sig;
        for (int skip = 0; skip < 7; skip++) /* frames far enough apart to differ */
            assert_int_equal(src.next(src.ctx, &f, &sig), 0);
        assert_int_equal(f.fmt, fmt);
        bool reset = false;
        int changed = damage_update(d, &f, map, n, &reset);
        assert_true(changed >= 0);
        if (changed > 0)
            encode_both(&one, &many, &f, &g, map, mode);
        /* Scattered tiles (a viewer that missed some updates). */
        for (size_t t = 0; t < n; t++)
            scatter[t] = (uint8_t)(((t * 7 + (size_t)i) % 3) == 0);
        encode_both(&one, &many, &f, &g, scatter, mode);
        /* Everything (a new viewer, a lossless refresh). */
        encode_both(&one, &many, &f, &g, NULL, mode);
    }
    free(map);
    free(scatter);
    damage_destroy(d);
    side_close(&one);
    side_close(&many);
    src.destroy(src.ctx);
}

static void test_same_bytes_all_scenarios(void **state)
{
    (void)state;
    static const char *const scenarios[] = {"bios", "desktop", "motion"};
    static const enum pixfmt fmts[] = {PIXFMT_YUYV, PIXFMT_UYVY, PIXFMT_RGB24};
    static const enum encode_subsamp subs[] = {ENCODE_SUBSAMP_422, ENCODE_SUBSAMP_420,
                                               ENCODE_SUBSAMP_444, ENCODE_SUBSAMP_GRAY};
    /* Partial tiles at the right and bottom; lossless once per format. */
    for (size_t s = 0; s < 3; s++)
        for (size_t f = 0; f < 3; f++) {
            for (size_t k = 0; k < 4; k++)
                compare(scenarios[s], fmts[f], subs[k], ENCODE_LOSSY, 328, 250, 3, 2);
            compare(scenarios[s], fmts[f], ENCODE_SUBSAMP_422, ENCODE_LOSSLESS, 328, 250, 3, 2);
        }
}

/* A full 1080p motion frame: bands of JPEG on 2 and 4 workers. */
static void test_same_bytes_1080p(void **state)
{
    (void)state;
    compare("motion", PIXFMT_YUYV, ENCODE_SUBSAMP_422, ENCODE_LOSSY, 1920, 1080, 2, 1);
    compare("desktop", PIXFMT_YUYV, ENCODE_SUBSAMP_420, ENCODE_LOSSY, 1920, 1080, 4, 1);
}

/* A whole-frame photo is cut into JPEG bands of at most 256 Ki pixels, so
 * the workers have something to share. */
static void test_photo_frame_is_banded(void **state)
{
    (void)state;
    struct capture_source src;
    struct config_capture cc = {.width = 1920, .height = 1080, .fps = 1000,
                                .scenario = "motion", .format = "yuyv"};
    assert_int_equal(capture_testsrc_create(&cc, NULL, &src), 0);
    struct capture_frame f;
    enum capture_signal sig;
    assert_int_equal(src.next(src.ctx, &f, &sig), 0);
    struct tile_grid g;
    tile_grid_init(&g, 1920, 1080, TILE);
    struct encode_settings es = {.quality = 80, .subsamp = ENCODE_SUBSAMP_422, .workers = 2};
    struct encoder *e = encoder_create(&es);
    assert_non_null(e);
    struct update *u = update_new();
    assert_int_equal(encoder_encode(e, &f, &g, NULL, ENCODE_LOSSY, u, NULL), 0);
    struct encode_stats st;
    encoder_get_stats(e, &st);
    assert_true(st.jpeg_tiles > tile_grid_count(&g) / 2);
    /* The motion scenario is photo nearly everywhere: at least 9 bands. */
    assert_true(u->nrects >= 9);
    update_unref(u);
    encoder_destroy(e);
    src.destroy(src.ctx);
}

static void test_workers_parse(void **state)
{
    (void)state;
    assert_int_equal(encode_workers_parse("auto"), 0);
    assert_int_equal(encode_workers_parse("1"), 1);
    assert_int_equal(encode_workers_parse("8"), 8);
    assert_int_equal(encode_workers_parse("9"), -1);
    assert_int_equal(encode_workers_parse("0"), -1);
    assert_int_equal(encode_workers_parse("12"), -1);
    assert_int_equal(encode_workers_parse(""), -1);
    assert_int_equal(encode_workers_parse(NULL), -1);
    struct encode_settings bad = {.quality = 80, .subsamp = ENCODE_SUBSAMP_422,
                                  .workers = ENCODE_MAX_WORKERS + 1};
    assert_null(encoder_create(&bad));
    /* auto: one per CPU, and it works. */
    struct encode_settings any = {.quality = 80, .subsamp = ENCODE_SUBSAMP_422};
    struct encoder *e = encoder_create(&any);
    assert_non_null(e);
    encoder_destroy(e);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_same_bytes_all_scenarios),
        cmocka_unit_test(test_same_bytes_1080p),
        cmocka_unit_test(test_photo_frame_is_banded),
        cmocka_unit_test(test_workers_parse),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
