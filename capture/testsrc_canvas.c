#include "capture/testsrc_canvas.h"

#include <stddef.h>

#include "common/font.h"

bool testsrc_rect_empty(struct testsrc_rect r) { return r.w <= 0 || r.h <= 0; }

struct testsrc_rect testsrc_rect_intersect(struct testsrc_rect a, struct testsrc_rect b)
{
    int x0 = a.x > b.x ? a.x : b.x, y0 = a.y > b.y ? a.y : b.y;
    int x1 = a.x + a.w < b.x + b.w ? a.x + a.w : b.x + b.w;
    int y1 = a.y + a.h < b.y + b.h ? a.y + a.h : b.y + b.h;
    if (x1 <= x0 || y1 <= y0)
        return testsrc_rect_make(0, 0, 0, 0);
    return testsrc_rect_make(x0, y0, x1 - x0, y1 - y0);
}

struct testsrc_rect testsrc_rect_bounds(struct testsrc_rect a, struct testsrc_rect b)
{
    if (testsrc_rect_empty(a))
        return b;
    if (testsrc_rect_empty(b))
        return a;
    int x0 = a.x < b.x ? a.x : b.x, y0 = a.y < b.y ? a.y : b.y;
    int x1 = a.x + a.w > b.x + b.w ? a.x + a.w : b.x + b.w;
    int y1 = a.y + a.h > b.y + b.h ? a.y + a.h : b.y + b.h;
    return testsrc_rect_make(x0, y0, x1 - x0, y1 - y0);
}

bool testsrc_rect_equal(struct testsrc_rect a, struct testsrc_rect b)
{
    return a.x == b.x && a.y == b.y && a.w == b.w && a.h == b.h;
}

struct testsrc_canvas testsrc_canvas_clipped(const struct testsrc_canvas *c, struct testsrc_rect r)
{
    struct testsrc_canvas sub = *c;
    sub.clip = testsrc_rect_intersect(c->clip, r);
    return sub;
}

void testsrc_canvas_fill(const struct testsrc_canvas *c, struct testsrc_rect r, uint32_t rgb)
{
    r = testsrc_rect_intersect(r, c->clip);
    if (testsrc_rect_empty(r))
        return;
    uint8_t cr = (uint8_t)(rgb >> 16), cg = (uint8_t)(rgb >> 8), cb = (uint8_t)rgb;
    uint8_t *first = c->rgb + (size_t)r.y * c->stride + (size_t)r.x * 3;
    for (int x = 0; x < r.w; x++) {
        first[3 * x] = cr;
        first[3 * x + 1] = cg;
        first[3 * x + 2] = cb;
    }
    /* Further rows are copies of the first: far cheaper than per-pixel stores. */
    for (int y = 1; y < r.h; y++) {
        uint8_t *row = first + (size_t)y * c->stride;
        for (size_t i = 0; i < (size_t)r.w * 3; i++)
            row[i] = first[i];
    }
}

void testsrc_canvas_outline(const struct testsrc_canvas *c, struct testsrc_rect r, int thickness,
                            uint32_t rgb)
{
    int t = thickness;
    testsrc_canvas_fill(c, testsrc_rect_make(r.x, r.y, r.w, t), rgb);
    testsrc_canvas_fill(c, testsrc_rect_make(r.x, r.y + r.h - t, r.w, t), rgb);
    testsrc_canvas_fill(c, testsrc_rect_make(r.x, r.y + t, t, r.h - 2 * t), rgb);
    testsrc_canvas_fill(c, testsrc_rect_make(r.x + r.w - t, r.y + t, t, r.h - 2 * t), rgb);
}

void testsrc_canvas_text(const struct testsrc_canvas *c, int x, int y, const char *text,
                         uint32_t fg, uint32_t bg, unsigned scale)
{
    const struct testsrc_rect *k = &c->clip;
    if (testsrc_rect_empty(*k))
        return;
    /* The font clips to its buffer, so hand it the clip as the buffer. */
    uint8_t *origin = c->rgb + (size_t)k->y * c->stride + (size_t)k->x * 3;
    font_draw_text_rgb24(origin, c->stride, (unsigned)k->w, (unsigned)k->h, x - k->x, y - k->y,
                         text, fg, bg, scale);
}

void testsrc_canvas_sprite(const struct testsrc_canvas *c, int x, int y, const char *const *rows,
                           int n_rows, const uint32_t *palette, int scale)
{
    for (int r = 0; r < n_rows; r++) {
        for (int col = 0; rows[r][col]; col++) {
            char ch = rows[r][col];
            if (ch == ' ')
                continue;
            testsrc_canvas_fill(c, testsrc_rect_make(x + col * scale, y + r * scale, scale, scale),
                                palette[ch - 'a']);
        }
    }
}

int testsrc_sine(uint32_t phase)
{
    const int64_t half = 32768;
    int64_t p = phase & 0xffff;
    int sign = p >= half ? -1 : 1;
    p %= half;
    int64_t t = p * (half - p);
    int64_t den = 5 * half * half - 4 * t;
    int64_t num = (int64_t)TESTSRC_SINE_ONE * 16 * t;
    return sign * (int)((num + den / 2) / den);
}
