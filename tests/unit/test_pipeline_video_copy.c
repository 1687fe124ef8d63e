/* Unit tests for pipeline/video_copy.c: a job buffer brought from an older
 * picture to the current one by copying the tiles changed since equals the
 * current picture byte for byte, and copies no more than those tiles; a
 * picture the history does not cover, or a new geometry, copies all. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "pipeline/video_internal.h"

#define W 200 /* 4 columns of 64-pixel tiles, the last one partial */
#define H 130 /* 3 rows, the last one partial */
#define TILE 64
#define BPP 2 /* YUYV */
#define STRIDE (W * BPP + 16) /* padding after each line is never copied */

struct pictures {
    uint8_t src[STRIDE * H];
    struct capture_frame f;
    struct tile_grid g;
    uint8_t map[16];
    uint64_t seq;
};

static void pictures_init(struct pictures *p)
{
    memset(p, 0, sizeof(*p));
    for (size_t i = 0; i < sizeof(p->src); i++)
        p->src[i] = (uint8_t)(i * 7);
    p->f = (struct capture_frame){.fmt = PIXFMT_YUYV, .width = W, .height = H, .stride = STRIDE, .data = p->src};
    tile_grid_init(&p->g, W, H, TILE);
}

/* Changes the tiles listed (index -1 ends), notes them as picture seq+1. */
static void change(struct pictures *p, struct video_copy_history *h, const int *tiles)
{
    memset(p->map, 0, sizeof(p->map));
    for (; *tiles >= 0; tiles++) {
        unsigned tx = (unsigned)*tiles % p->g.cols, ty = (unsigned)*tiles / p->g.cols;
        p->map[*tiles] = 1;
        for (unsigned y = ty * TILE; y < (ty + 1) * TILE && y < H; y++)
            for (unsigned x = tx * TILE; x < (tx + 1) * TILE && x < W; x++)
                for (unsigned b = 0; b < BPP; b++)
                    p->src[(size_t)y * STRIDE + x * BPP + b] += 1 + (uint8_t)(p->seq & 0x7f);
    }
    p->seq++;
    struct video_damage d = {0};
    video_damage_set(&d, &p->g, p->map);
    video_copy_note(h, p->seq, &d);
    video_damage_free(&d);
}

/* The visible bytes of two pictures are the same. */
static void assert_same_picture(const uint8_t *a, const uint8_t *b)
{
    for (unsigned y = 0; y < H; y++)
        assert_memory_equal(a + (size_t)y * STRIDE, b + (size_t)y * STRIDE, (size_t)W * BPP);
}

static size_t tile_bytes(unsigned tx, unsigned ty)
{
    unsigned w = (tx + 1) * TILE < W ? TILE : W - tx * TILE, h = (ty + 1) * TILE < H ? TILE : H - ty * TILE;
    return (size_t)w * h * BPP;
}

static void test_changed_tiles_since_an_older_picture(void **state)
{
    (void)state;
    static struct pictures p;
    static uint8_t buf[STRIDE * H];
    struct video_copy_history h = {0};
    pictures_init(&p);
    p.seq = 41;
    /* Nothing held yet: the whole picture. */
    assert_int_equal(video_copy_picture(&h, buf, 0, NULL, &p.f, p.seq, &p.g), sizeof(buf));
    uint64_t held_seq = p.seq;
    struct capture_frame held = p.f;
    /* Three pictures later (a buffer back from the encoder): the union of
     * their changes, the partial tiles at the edges included. */
    change(&p, &h, (const int[]){0, -1});
    change(&p, &h, (const int[]){3, 11, -1});
    change(&p, &h, (const int[]){0, 5, -1});
    size_t want = tile_bytes(0, 0) + tile_bytes(3, 0) + tile_bytes(3, 2) + tile_bytes(1, 1);
    assert_int_equal(video_copy_picture(&h, buf, held_seq, &held, &p.f, p.seq, &p.g), want);
    assert_same_picture(buf, p.src);
    /* A run of changed tiles along a row, and nothing changed at all. */
    held_seq = p.seq;
    change(&p, &h, (const int[]){4, 5, 6, 7, -1});
    assert_int_equal(video_copy_picture(&h, buf, held_seq, &held, &p.f, p.seq, &p.g),
                     tile_bytes(0, 1) * 3 + tile_bytes(3, 1));
    assert_same_picture(buf, p.src);
    assert_int_equal(video_copy_picture(&h, buf, p.seq, &held, &p.f, p.seq, &p.g), 0);
    video_copy_free(&h);
}

static void test_unknown_changes_copy_everything(void **state)
{
    (void)state;
    static struct pictures p;
    static uint8_t buf[STRIDE * H];
    struct video_copy_history h = {0};
    pictures_init(&p);
    p.seq = 1;
    video_copy_picture(&h, buf, 0, NULL, &p.f, p.seq, &p.g);
    struct capture_frame held = p.f;
    /* A picture not handed over in between (a gap in seq): all of it. */
    p.seq++;
    change(&p, &h, (const int[]){2, -1});
    assert_int_equal(video_copy_picture(&h, buf, 1, &held, &p.f, p.seq, &p.g), sizeof(buf));
    assert_same_picture(buf, p.src);
    /* One that changed "everything". */
    uint64_t held_seq = p.seq;
    p.seq++;
    struct video_damage all = {.grid = p.g, .all = true};
    video_copy_note(&h, p.seq, &all);
    assert_int_equal(video_copy_picture(&h, buf, held_seq, &held, &p.f, p.seq, &p.g), sizeof(buf));
    /* Older than the history remembers. */
    held_seq = p.seq;
    for (int i = 0; i < VIDEO_COPY_HISTORY + 1; i++)
        change(&p, &h, (const int[]){1, -1});
    assert_int_equal(video_copy_picture(&h, buf, held_seq, &held, &p.f, p.seq, &p.g), sizeof(buf));
    /* Exactly as old as the history remembers: the changed tiles only. */
    held_seq = p.seq - VIDEO_COPY_HISTORY;
    assert_int_equal(video_copy_picture(&h, buf, held_seq, &held, &p.f, p.seq, &p.g), tile_bytes(1, 0));
    /* Another geometry (a new stride): all of it. */
    held_seq = p.seq;
    change(&p, &h, (const int[]){1, -1});
    struct capture_frame other = held;
    other.stride = W * BPP;
    assert_int_equal(video_copy_picture(&h, buf, held_seq, &other, &p.f, p.seq, &p.g), sizeof(buf));
    assert_same_picture(buf, p.src);
    video_copy_free(&h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_changed_tiles_since_an_older_picture),
        cmocka_unit_test(test_unknown_changes_copy_everything),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
