/* The "motion" scenario: full-screen moving content, like a video playing.
 * A slowly drifting colour plasma, a scrolling brightness sawtooth and a
 * still film grain. Every pixel changes every frame, by construction:
 * the sawtooth moves each pixel's brightness by +4 (or -60 when it wraps)
 * while the plasma moves each channel by at most 1 per frame, so even after
 * conversion to limited-range Y every pixel's luma changes. */
#include <stdlib.h>
#include <string.h>

#include "capture/testsrc_scene.h"

#define MOTION_TERMS 4     /* plasma waves along x, y, x+y and x-y */
#define MOTION_TERM_MAX 40 /* each wave adds 0..40 per channel */
#define MOTION_FRAC_BITS 4 /* the waves are summed with 4 fraction bits, rounded once */
#define MOTION_SAW_STEP 4  /* sawtooth advance per frame */
#define MOTION_SAW_MASK 63 /* sawtooth range 0..63 */
#define MOTION_GRAIN_SIZE 64

/* Per wave and channel: whole cycles across the wave's axis, speed in phase
 * units per frame (65536 = a turn), and a phase offset. Speeds stay at or
 * below 64 so a wave moves a channel by less than 0.13 per frame. */
struct motion_wave {
    int cycles, speed;
    uint32_t offset;
};
static const struct motion_wave motion_waves[MOTION_TERMS][3] = {
    {{2, 64, 0}, {3, -48, 9000}, {1, 40, 30000}},
    {{1, -56, 20000}, {2, 44, 4000}, {3, -64, 12000}},
    {{3, 36, 40000}, {1, -60, 25000}, {2, 52, 50000}},
    {{2, -40, 15000}, {3, 58, 60000}, {1, -46, 7000}},
};

struct motion_scene {
    int width, height;
    /* Per frame: each wave's value along its axis, the three channels packed
     * in 16-bit fields so one 64-bit add sums all channels. */
    uint64_t *waves[MOTION_TERMS];
    int wave_len[MOTION_TERMS];
    uint64_t waves_frame;
    bool waves_valid;
    uint8_t grain[MOTION_GRAIN_SIZE * MOTION_GRAIN_SIZE];
};

static void motion_destroy(void *scene)
{
    struct motion_scene *s = scene;
    if (!s)
        return;
    for (int t = 0; t < MOTION_TERMS; t++)
        free(s->waves[t]);
    free(s);
}

static void *motion_create(unsigned width, unsigned height, unsigned fps)
{
    struct motion_scene *s = calloc(1, sizeof(*s));
    if (!s)
        return NULL;
    s->width = (int)width;
    s->height = (int)height;
    int diagonal = s->width + s->height - 1;
    s->wave_len[0] = s->width;
    s->wave_len[1] = s->height;
    s->wave_len[2] = diagonal;
    s->wave_len[3] = diagonal;
    for (int t = 0; t < MOTION_TERMS; t++) {
        s->waves[t] = calloc((size_t)s->wave_len[t], sizeof(uint64_t));
        if (!s->waves[t]) {
            motion_destroy(s);
            return NULL;
        }
    }
    /* A fixed pseudo-random grain (a 32-bit LCG), the same on every machine. */
    uint32_t state = 0x9e3779b9u;
    for (size_t i = 0; i < sizeof(s->grain); i++) {
        state = state * 1664525u + 1013904223u;
        s->grain[i] = (uint8_t)(state >> 28);
    }
    return s;
}

static void motion_build_waves(struct motion_scene *s, uint64_t n)
{
    if (s->waves_valid && s->waves_frame == n)
        return;
    for (int t = 0; t < MOTION_TERMS; t++) {
        int len = s->wave_len[t];
        for (int i = 0; i < len; i++) {
            uint64_t packed = 0;
            for (int ch = 0; ch < 3; ch++) {
                const struct motion_wave *w = &motion_waves[t][ch];
                uint32_t phase = (uint32_t)((int64_t)i * w->cycles * 65536 / len) +
                                 (uint32_t)(n * (uint64_t)(int64_t)w->speed) + w->offset;
                int64_t one = TESTSRC_SINE_ONE;
                int64_t half = (int64_t)MOTION_TERM_MAX << MOTION_FRAC_BITS >> 1;
                /* 0 .. MOTION_TERM_MAX in 1/16 steps, never negative. */
                uint64_t v = (uint64_t)((half * (one + testsrc_sine(phase)) + one / 2) / one);
                packed |= v << (16 * ch);
            }
            s->waves[t][i] = packed;
        }
    }
    s->waves_frame = n;
    s->waves_valid = true;
}

/* The same value in each of the three 16-bit channel fields. */
#define MOTION_ALL_CHANNELS(v) ((uint64_t)(v) * 0x000100010001ull)
/* saw + grain repeats every 256 pixels along a row: 64 grain columns, and
 * the sawtooth rises by one every 4 pixels over its 64 steps. */
#define MOTION_ROW_PERIOD 256

static void motion_draw(void *scene, const struct testsrc_canvas *c, uint64_t n)
{
    struct motion_scene *s = scene;
    motion_build_waves(s, n);
    const struct testsrc_rect *k = &c->clip;
    const uint64_t *along_x = s->waves[0], *along_y = s->waves[1];
    const uint64_t *diag = s->waves[2], *anti = s->waves[3];
    unsigned saw_shift = (unsigned)(n * MOTION_SAW_STEP & MOTION_SAW_MASK);
    uint64_t extra[MOTION_ROW_PERIOD];
    for (int y = k->y; y < k->y + k->h; y++) {
        /* The sawtooth runs along x + 2y, a quarter step per pixel. Each
         * row's saw + grain is tabulated once, in the waves' 1/16 units with
         * the rounding of the final shift folded in. */
        const uint8_t *grain = s->grain + (y % MOTION_GRAIN_SIZE) * MOTION_GRAIN_SIZE;
        for (unsigned x = 0; x < MOTION_ROW_PERIOD; x++) {
            unsigned saw = ((x + 2 * (unsigned)y) / 4 + saw_shift) & MOTION_SAW_MASK;
            unsigned add = saw + grain[x % MOTION_GRAIN_SIZE];
            unsigned rounding = 1u << (MOTION_FRAC_BITS - 1);
            extra[x] = MOTION_ALL_CHANNELS((add << MOTION_FRAC_BITS) + rounding);
        }
        uint8_t *p = c->rgb + (size_t)y * c->stride + (size_t)k->x * 3;
        uint64_t row = along_y[y];
        const uint64_t *diag_row = diag + y, *anti_row = anti + (s->height - 1 - y);
        for (int x = k->x; x < k->x + k->w; x++, p += 3) {
            uint64_t v = along_x[x] + row + diag_row[x] + anti_row[x] +
                         extra[(unsigned)x % MOTION_ROW_PERIOD];
            /* Each field stays below 4096, so shifting drops the fraction
             * and the uint8_t cast keeps exactly the channel. */
            p[0] = (uint8_t)(v >> MOTION_FRAC_BITS);
            p[1] = (uint8_t)(v >> (16 + MOTION_FRAC_BITS));
            p[2] = (uint8_t)(v >> (32 + MOTION_FRAC_BITS));
        }
    }
}

static int motion_changed(void *scene, uint64_t a, uint64_t b, struct testsrc_rect *rects)
{
    return a == b ? 0 : -1;
}

const struct testsrc_scene_ops testsrc_scene_motion = {
    .name = "motion",
    .create = motion_create,
    .destroy = motion_destroy,
    .draw = motion_draw,
    .changed = motion_changed,
};
