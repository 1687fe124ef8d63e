/* capture/testsrc_canvas: the drawing surface of the test source's scenes.
 * An RGB24 buffer with a clip rectangle: every primitive draws only inside the
 * clip, which is how a scene re-renders just the regions that changed. Also
 * an integer sine so scene motion is identical on every machine. Internal to
 * capture/testsrc*. */
#ifndef PIGLIX_CAPTURE_TESTSRC_CANVAS_H
#define PIGLIX_CAPTURE_TESTSRC_CANVAS_H

#include <stdbool.h>
#include <stdint.h>

struct testsrc_rect {
    int x, y, w, h;
};

struct testsrc_canvas {
    uint8_t *rgb;
    unsigned stride;
    int width, height;
    struct testsrc_rect clip; /* inside 0,0,width,height */
};

static inline struct testsrc_rect testsrc_rect_make(int x, int y, int w, int h)
{
    struct testsrc_rect r = {x, y, w, h};
    return r;
}

bool testsrc_rect_empty(struct testsrc_rect r);
struct testsrc_rect testsrc_rect_intersect(struct testsrc_rect a, struct testsrc_rect b);
/* The smallest rectangle holding both (an empty one is ignored). */
struct testsrc_rect testsrc_rect_bounds(struct testsrc_rect a, struct testsrc_rect b);
bool testsrc_rect_equal(struct testsrc_rect a, struct testsrc_rect b);

/* A canvas over the same pixels whose clip is narrowed to r. */
struct testsrc_canvas testsrc_canvas_clipped(const struct testsrc_canvas *c, struct testsrc_rect r);

/* Colours are 0xRRGGBB. */
void testsrc_canvas_fill(const struct testsrc_canvas *c, struct testsrc_rect r, uint32_t rgb);
/* A rectangle outline of the given thickness, drawn inside r. */
void testsrc_canvas_outline(const struct testsrc_canvas *c, struct testsrc_rect r, int thickness,
                            uint32_t rgb);
/* Text in the piglix font (common/font.h); bg may be FONT_BG_NONE. */
void testsrc_canvas_text(const struct testsrc_canvas *c, int x, int y, const char *text,
                         uint32_t fg, uint32_t bg, unsigned scale);
/* A small picture given as rows of characters: each character indexes
 * palette by (ch - 'a'); ' ' leaves the pixel alone. Each picture pixel
 * becomes scale x scale pixels. */
void testsrc_canvas_sprite(const struct testsrc_canvas *c, int x, int y, const char *const *rows,
                           int n_rows, const uint32_t *palette, int scale);

/* Sine of phase (65536 = one turn), scaled to -TESTSRC_SINE_ONE..+ONE, in
 * integer arithmetic (Bhaskara's approximation, error < 0.2%). */
#define TESTSRC_SINE_ONE 32768
int testsrc_sine(uint32_t phase);

#endif
