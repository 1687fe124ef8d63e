/* Unit tests for common/font: every glyph present and distinct, and text
 * drawing (scale, colours, transparency, clipping). */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "common/font.h"

static void test_glyphs_present_and_distinct(void **state)
{
    (void)state;
    for (int c = 0x21; c <= 0x7e; c++) {
        const uint8_t *g = font_glyph((char)c);
        int ink = 0;
        for (int r = 0; r < FONT_HEIGHT; r++)
            for (int b = 0; b < 8; b++)
                ink += (g[r] >> b) & 1;
        if (ink == 0)
            fail_msg("glyph 0x%02x is empty", c);
        /* Two empty rows above and below keep lines apart. */
        assert_int_equal(g[0] | g[1] | g[14] | g[15], 0);
        for (int d = 0x20; d < c; d++)
            if (memcmp(g, font_glyph((char)d), FONT_HEIGHT) == 0)
                fail_msg("glyphs 0x%02x and 0x%02x are the same", c, d);
    }
    const uint8_t *space = font_glyph(' ');
    for (int r = 0; r < FONT_HEIGHT; r++)
        assert_int_equal(space[r], 0);
    /* Characters without a glyph show '?'. */
    assert_memory_equal(font_glyph('\t'), font_glyph('?'), FONT_HEIGHT);
    assert_memory_equal(font_glyph((char)0xe9), font_glyph('?'), FONT_HEIGHT);
}

#define W 40
#define H 40

static void pixel(const uint8_t *buf, int x, int y, uint8_t out[3])
{
    memcpy(out, buf + (y * W + x) * 3, 3);
}

static void test_draw_scaled_with_colours(void **state)
{
    (void)state;
    uint8_t buf[W * H * 3];
    memset(buf, 7, sizeof(buf));
    unsigned width = font_draw_text_rgb24(buf, W * 3, W, H, 3, 2, "H", 0xff0000, 0x0000ff, 2);
    assert_int_equal(width, 16);
    const uint8_t *g = font_glyph('H');
    for (int y = 0; y < H; y++)
        for (int x = 0; x < W; x++) {
            uint8_t p[3];
            pixel(buf, x, y, p);
            bool inside = x >= 3 && x < 3 + 16 && y >= 2 && y < 2 + 32;
            if (!inside) {
                assert_int_equal(p[0], 7);
                continue;
            }
            bool ink = g[(y - 2) / 2] & (0x80 >> ((x - 3) / 2));
            assert_int_equal(p[0], ink ? 0xff : 0);
            assert_int_equal(p[1], 0);
            assert_int_equal(p[2], ink ? 0 : 0xff);
        }
}

static void test_draw_transparent_and_clipped(void **state)
{
    (void)state;
    uint8_t buf[W * H * 3];
    memset(buf, 7, sizeof(buf));
    /* Starts left of and above the buffer and runs off its right edge. */
    unsigned width = font_draw_text_rgb24(buf, W * 3, W, H, -5, -3, "AMW#@", 0xffffff,
                                          FONT_BG_NONE, 1);
    assert_int_equal(width, 40);
    int ink = 0;
    for (int y = 0; y < H; y++)
        for (int x = 0; x < W; x++) {
            uint8_t p[3];
            pixel(buf, x, y, p);
            assert_true(p[0] == 7 || p[0] == 0xff); /* no background painted */
            if (y >= 13)
                assert_int_equal(p[0], 7); /* the 16-row cell ended at y = 12 */
            if (p[0] == 0xff) {
                ink++;
                int gx = x + 5, gy = y + 3;
                const uint8_t *g = font_glyph("AMW#@"[gx / 8]);
                assert_true(g[gy] & (0x80 >> (gx % 8)));
            }
        }
    assert_true(ink > 0);
    /* Entirely outside: nothing drawn, nothing read out of bounds. */
    uint8_t before[W * H * 3];
    memcpy(before, buf, sizeof(buf));
    font_draw_text_rgb24(buf, W * 3, W, H, W, 0, "X", 0, 0, 1);
    font_draw_text_rgb24(buf, W * 3, W, H, 0, -16, "X", 0, 0, 1);
    font_draw_text_rgb24(buf, W * 3, W, H, -2000000000, 5, "XYZ", 0, 0, 3);
    assert_memory_equal(before, buf, sizeof(buf));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_glyphs_present_and_distinct),
        cmocka_unit_test(test_draw_scaled_with_colours),
        cmocka_unit_test(test_draw_transparent_and_clipped),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
