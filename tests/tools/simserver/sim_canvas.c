#include "sim_canvas.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/font.h"

int sim_canvas_init(struct sim_canvas *c, unsigned w, unsigned h)
{
    memset(c, 0, sizeof(*c));
    c->w = w;
    c->h = h;
    c->stride = w * 3;
    c->rgb = calloc((size_t)c->stride, h);
    c->row_gen = calloc(h, sizeof(c->row_gen[0]));
    if (!c->rgb || !c->row_gen) {
        sim_canvas_free(c);
        return -ENOMEM;
    }
    sim_canvas_mark(c, 0, (int)h);
    return 0;
}

void sim_canvas_free(struct sim_canvas *c)
{
    free(c->rgb);
    free(c->row_gen);
    c->rgb = NULL;
    c->row_gen = NULL;
}

void sim_canvas_mark(struct sim_canvas *c, int y, int h)
{
    int y1 = y + h;
    if (y < 0)
        y = 0;
    if (y1 > (int)c->h)
        y1 = (int)c->h;
    for (; y < y1; y++)
        c->row_gen[y] = c->gen + 1;
    c->pending = true;
}

void sim_canvas_fill(struct sim_canvas *c, int x, int y, int w, int h, uint32_t rgb)
{
    int x1 = x + w, y1 = y + h;
    if (x < 0)
        x = 0;
    if (y < 0)
        y = 0;
    if (x1 > (int)c->w)
        x1 = (int)c->w;
    if (y1 > (int)c->h)
        y1 = (int)c->h;
    if (x >= x1 || y >= y1)
        return;
    uint8_t px[3] = {(uint8_t)(rgb >> 16), (uint8_t)(rgb >> 8), (uint8_t)rgb};
    for (int yy = y; yy < y1; yy++) {
        uint8_t *p = c->rgb + (size_t)yy * c->stride + (size_t)x * 3;
        for (int xx = x; xx < x1; xx++, p += 3)
            memcpy(p, px, 3);
    }
    sim_canvas_mark(c, y, y1 - y);
}

void sim_canvas_text(struct sim_canvas *c, int col, int row, const char *text, uint32_t fg, uint32_t bg)
{
    int y = row * FONT_HEIGHT;
    font_draw_text_rgb24(c->rgb, c->stride, c->w, c->h, col * FONT_WIDTH, y, text, fg, bg, 1);
    sim_canvas_mark(c, y, FONT_HEIGHT);
}

void sim_canvas_commit(struct sim_canvas *c)
{
    if (!c->pending)
        return;
    c->gen++;
    c->pending = false;
}

uint32_t sim_crc32(uint32_t crc, const uint8_t *data, unsigned long n)
{
    crc = ~crc;
    for (unsigned long i = 0; i < n; i++) {
        crc ^= data[i];
        for (int k = 0; k < 8; k++)
            crc = (crc >> 1) ^ (0xedb88320u & (0u - (crc & 1)));
    }
    return ~crc;
}
