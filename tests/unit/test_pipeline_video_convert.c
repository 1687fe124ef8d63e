/* Unit tests for pipeline/video_convert.c: converting only the changed
 * tiles into the encoder's last picture gives the same I420 as converting
 * the whole picture; the macroblocks of unchanged tiles are still; while
 * few tiles changed, so are those of a changed tile whose samples came out
 * the same (a glyph: one macroblock of its tile's sixteen), and with many
 * tiles changed the whole tiles count as changed. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "pipeline/video_internal.h"

#define W 320 /* 5 x 4 tiles of 64: 20 tiles, 20 x 15 macroblocks */
#define H 240
#define TILE 64
#define MBW (W / 16)

static uint8_t src[W * 2 * H];

static struct capture_frame frame(void)
{
    return (struct capture_frame){.fmt = PIXFMT_YUYV, .width = W, .height = H, .stride = W * 2, .data = src};
}

/* An 8x8 block of luma at x, y (a glyph in one macroblock). */
static void glyph(unsigned x, unsigned y, uint8_t v)
{
    for (unsigned r = y; r < y + 8; r++)
        for (unsigned c = x; c < x + 8; c++)
            src[r * W * 2 + c * 2] = v;
}

static void check_same_as_whole(const struct video_convert *v)
{
    struct video_convert whole = {0};
    assert_int_equal(video_convert_size(&whole, W, H), 0);
    struct video_damage all = {.all = true};
    struct capture_frame f = frame();
    assert_null(video_convert(&whole, &f, &all, W, H));
    assert_memory_equal(whole.i420, v->i420, W * H * 3 / 2);
    video_convert_free(&whole);
}

static void test_changed_macroblocks(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(src); i++)
        src[i] = (uint8_t)(i % 2 ? 128 + i % 5 : 16 + (i / 2) % 200);
    struct video_convert v = {0};
    assert_int_equal(video_convert_size(&v, W, H), 0);
    struct capture_frame f = frame();
    struct tile_grid g;
    tile_grid_init(&g, W, H, TILE);
    struct video_damage d = {0};
    uint8_t map[20] = {0};
    /* Not current yet: the whole picture, nothing known still. */
    video_damage_set(&d, &g, map);
    assert_null(video_convert(&v, &f, &d, W, H));
    v.current = true;
    /* A glyph in macroblock (5, 6) of tile (1, 1): only it changed. */
    glyph(84, 100, 250);
    map[1 * 5 + 1] = 1;
    video_damage_set(&d, &g, map);
    const uint8_t *still = video_convert(&v, &f, &d, W, H);
    assert_non_null(still);
    for (unsigned m = 0; m < MBW * (H / 16); m++)
        assert_int_equal(still[m], m != 6 * MBW + 5);
    check_same_as_whole(&v);
    /* A tile said changed that did not: all of its macroblocks still. */
    map[1 * 5 + 1] = 0;
    map[2 * 5 + 3] = 1;
    video_damage_set(&d, &g, map);
    still = video_convert(&v, &f, &d, W, H);
    for (unsigned m = 0; m < MBW * (H / 16); m++)
        assert_int_equal(still[m], 1);
    /* Five tiles of twenty changed (1/4: not few): whole tiles count. */
    memset(map, 0, sizeof(map));
    for (unsigned t = 0; t < 5; t++)
        map[t] = 1;
    glyph(4, 4, 10);
    video_damage_set(&d, &g, map);
    still = video_convert(&v, &f, &d, W, H);
    for (unsigned m = 0; m < MBW * (H / 16); m++)
        assert_int_equal(still[m], m / MBW >= 4); /* the first row of tiles: 4 macroblock rows */
    check_same_as_whole(&v);
    video_damage_free(&d);
    video_convert_free(&v);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_changed_macroblocks),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
