/* common/font: piglix's own 8x16 bitmap font for printable ASCII (0x20-0x7E),
 * in the look of a PC text-mode screen. Used by the test source and for the
 * "NO SIGNAL" frames. Glyphs are built once on first use (thread-safe). */
#ifndef PIGLIX_COMMON_FONT_H
#define PIGLIX_COMMON_FONT_H

#include <stdint.h>

#define FONT_WIDTH 8
#define FONT_HEIGHT 16
/* As bg: leave the pixels behind the glyphs as they are. */
#define FONT_BG_NONE UINT32_MAX

/* The 16 rows of c's glyph, one byte per row, most significant bit = leftmost
 * pixel. Characters outside 0x20-0x7E get the glyph of '?'. */
const uint8_t *font_glyph(char c);

/* Draws text into an RGB24 buffer of w x h pixels at (x, y) (may be negative
 * or partly outside: everything is clipped to the buffer). fg and bg are
 * 0xRRGGBB; bg may be FONT_BG_NONE. Each font pixel becomes scale x scale
 * pixels (scale 0 is treated as 1). '\n' is not special. Returns the width of
 * the text in pixels. */
unsigned font_draw_text_rgb24(uint8_t *buf, unsigned stride, unsigned w, unsigned h, int x, int y,
                              const char *text, uint32_t fg, uint32_t bg, unsigned scale);

#endif
