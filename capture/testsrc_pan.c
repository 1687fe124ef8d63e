/* The "pan" scenario: a camera panning over a landscape while a ball
 * crosses it, the way most video moves: the whole picture shifts by a
 * fraction of a pixel each frame and one object moves on its own. Where
 * "motion" is the hard case for a video codec (a still film grain under
 * moving content), this is the common one: motion a codec can predict.
 *
 * The landscape is a tiling 1024x1024 texture made once: value noise in six
 * octaves (periods 256 down to 8 pixels, amplitude halving with each), so
 * its detail falls off with frequency as in a photograph, coloured by height
 * like a map (water, sand, grass, rock, snow). Frame n samples it at an
 * offset of n * (PAN_VX, PAN_VY) in 1/256 pixel steps with bilinear
 * interpolation: every pixel changes every frame. Integer arithmetic only,
 * so every machine draws the same frames. */
#include <stdlib.h>
#include <string.h>

#include "capture/testsrc_scene.h"

#define PAN_TEX_BITS 10
#define PAN_TEX (1 << PAN_TEX_BITS) /* the texture's edge; it tiles */
#define PAN_OCTAVES 6
#define PAN_VX 704 /* 2.75 pixels a frame, in 1/256 pixels */
#define PAN_VY 320 /* 1.25 */
#define PAN_BALL_PERIOD_X 173 /* frames for the ball to cross and come back */
#define PAN_BALL_PERIOD_Y 97

struct pan_scene {
    int width, height;
    int ball_r;         /* radius in pixels, scaled with the frame height */
    uint8_t *tex;       /* PAN_TEX x PAN_TEX, RGB */
};

/* A lattice value 0..255 for (x, y) of one octave: an integer hash. */
static unsigned pan_lattice(unsigned x, unsigned y, unsigned octave)
{
    uint32_t h = x * 0x8da6b343u ^ y * 0xd8163841u ^ octave * 0xcb1ab31fu;
    h ^= h >> 15;
    h *= 0x2c1b3c6du;
    h ^= h >> 12;
    h *= 0x297a2d39u;
    h ^= h >> 15;
    return h & 255;
}

/* 0..65536 smoothstep of t in 0..256 (3t^2 - 2t^3). */
static unsigned pan_smooth(unsigned t)
{
    return (3 * t * t * 256 - 2 * t * t * t) >> 8;
}

/* Height 0..65535 at texel (x, y): the octaves summed, weights 32..1 of 63. */
static unsigned pan_height(unsigned x, unsigned y)
{
    uint64_t sum = 0;
    for (unsigned o = 0; o < PAN_OCTAVES; o++) {
        unsigned period = 256u >> o, cells = PAN_TEX / period;
        unsigned cx = x / period, cy = y / period;
        unsigned fx = pan_smooth((x % period) * 256 / period), fy = pan_smooth((y % period) * 256 / period);
        unsigned a = pan_lattice(cx, cy, o), b = pan_lattice((cx + 1) % cells, cy, o);
        unsigned c = pan_lattice(cx, (cy + 1) % cells, o), d = pan_lattice((cx + 1) % cells, (cy + 1) % cells, o);
        uint64_t top = (uint64_t)a * (65536 - fx) + (uint64_t)b * fx;
        uint64_t bottom = (uint64_t)c * (65536 - fx) + (uint64_t)d * fx;
        uint64_t v = (top * (65536 - fy) + bottom * fy) >> 32; /* 0..255 */
        sum += v * (32u >> o);
    }
    return (unsigned)(sum * 256 / 63);
}

/* A map's colours by height, blended between bands. */
static void pan_colour(unsigned height, uint8_t *rgb)
{
    static const struct { unsigned h; uint8_t c[3]; } bands[] = {
        {0, {10, 40, 110}},      {26000, {40, 100, 170}}, {29000, {210, 195, 140}},
        {31000, {90, 150, 60}},  {38000, {40, 100, 40}},  {44000, {110, 100, 90}},
        {50000, {150, 145, 140}}, {54000, {245, 245, 250}}, {65536, {255, 255, 255}},
    };
    size_t i = 0;
    while (i + 2 < sizeof(bands) / sizeof(bands[0]) && height >= bands[i + 1].h)
        i++;
    unsigned span = bands[i + 1].h - bands[i].h, t = height - bands[i].h;
    if (t > span)
        t = span;
    for (int ch = 0; ch < 3; ch++)
        rgb[ch] = (uint8_t)((bands[i].c[ch] * (span - t) + bands[i + 1].c[ch] * t) / span);
}

static void pan_destroy(void *scene)
{
    struct pan_scene *s = scene;
    if (!s)
        return;
    free(s->tex);
    free(s);
}

static void *pan_create(unsigned width, unsigned height, unsigned fps)
{
    struct pan_scene *s = calloc(1, sizeof(*s));
    if (!s)
        return NULL;
    s->width = (int)width;
    s->height = (int)height;
    s->ball_r = (int)height / 18 + 2;
    s->tex = malloc((size_t)PAN_TEX * PAN_TEX * 3);
    if (!s->tex) {
        pan_destroy(s);
        return NULL;
    }
    for (unsigned y = 0; y < PAN_TEX; y++)
        for (unsigned x = 0; x < PAN_TEX; x++)
            pan_colour(pan_height(x, y), s->tex + ((size_t)y * PAN_TEX + x) * 3);
    return s;
}

/* 0..span..0 as n runs over a period: a bounce. */
static int pan_bounce(uint64_t n, unsigned period, int span)
{
    unsigned t = (unsigned)(n % (2 * period));
    if (t > period)
        t = 2 * period - t;
    return (int)((int64_t)span * t / period);
}

static void pan_draw(void *scene, const struct testsrc_canvas *c, uint64_t n)
{
    struct pan_scene *s = scene;
    const struct testsrc_rect *k = &c->clip;
    const unsigned mask = PAN_TEX - 1;
    /* The camera's offset in 1/256 pixels, kept within the tiling period. */
    uint64_t ox = n * PAN_VX % ((uint64_t)PAN_TEX << 8), oy = n * PAN_VY % ((uint64_t)PAN_TEX << 8);
    unsigned fx = (unsigned)(ox & 255), fy = (unsigned)(oy & 255);
    int bx = s->ball_r + pan_bounce(n, PAN_BALL_PERIOD_X, s->width - 2 * s->ball_r);
    int by = s->ball_r + pan_bounce(n, PAN_BALL_PERIOD_Y, s->height - 2 * s->ball_r);
    int r2 = s->ball_r * s->ball_r;
    for (int y = k->y; y < k->y + k->h; y++) {
        unsigned ty = ((unsigned)y + (unsigned)(oy >> 8)) & mask;
        const uint8_t *row0 = s->tex + (size_t)ty * PAN_TEX * 3;
        const uint8_t *row1 = s->tex + (size_t)((ty + 1) & mask) * PAN_TEX * 3;
        uint8_t *p = c->rgb + (size_t)y * c->stride + (size_t)k->x * 3;
        int dy = y - by;
        for (int x = k->x; x < k->x + k->w; x++, p += 3) {
            int dx = x - bx;
            if (dx * dx + dy * dy < r2) {
                /* the ball: red, lit from the upper left */
                int lit = 255 - (int)((int64_t)((dx + s->ball_r / 3) * (dx + s->ball_r / 3) +
                                                (dy + s->ball_r / 3) * (dy + s->ball_r / 3)) * 200 / (4 * r2));
                lit = lit < 40 ? 40 : lit;
                p[0] = (uint8_t)lit;
                p[1] = (uint8_t)(lit / 6);
                p[2] = (uint8_t)(lit / 8);
                continue;
            }
            unsigned tx = ((unsigned)x + (unsigned)(ox >> 8)) & mask, tx1 = (tx + 1) & mask;
            const uint8_t *a = row0 + tx * 3, *b = row0 + tx1 * 3, *cc = row1 + tx * 3, *d = row1 + tx1 * 3;
            for (int ch = 0; ch < 3; ch++) {
                unsigned top = a[ch] * (256 - fx) + b[ch] * fx, bottom = cc[ch] * (256 - fx) + d[ch] * fx;
                p[ch] = (uint8_t)((top * (256 - fy) + bottom * fy + 32768) >> 16);
            }
        }
    }
}

static int pan_changed(void *scene, uint64_t a, uint64_t b, struct testsrc_rect *rects)
{
    return a == b ? 0 : -1;
}

const struct testsrc_scene_ops testsrc_scene_pan = {
    .name = "pan",
    .create = pan_create,
    .destroy = pan_destroy,
    .draw = pan_draw,
    .changed = pan_changed,
};
