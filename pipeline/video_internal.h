/* pipeline/video_internal: what video.c's parts share. video_copy.c brings
 * a job's copy of the picture up to date with the tiles changed since the
 * picture it holds (server thread only: the thread that feeds the
 * pipeline); video_convert.c makes the encoder's I420 picture of it (the
 * encoder's thread). Not for other modules. */
#ifndef PIGLIX_PIPELINE_VIDEO_INTERNAL_H
#define PIGLIX_PIPELINE_VIDEO_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "capture/capture.h"
#include "pipeline/damage.h"

/* Which tiles of a grid changed, or all of them (not known, or everything):
 * an encoder job's since the picture the encoder took before, a remembered
 * picture's since the one before it. */
struct video_damage {
    struct tile_grid grid;
    uint8_t *map;             /* tile_grid_count(&grid) bytes, unless all */
    size_t cap;
    bool all;
};
/* d becomes map's tiles of grid; map NULL (or no memory): all. */
void video_damage_set(struct video_damage *d, const struct tile_grid *grid, const uint8_t *map);
void video_damage_free(struct video_damage *d);

/* Pictures whose changes are remembered: a job buffer comes back to the
 * server thread 1-3 pictures after it was filled (fill, pending, work). */
#define VIDEO_COPY_HISTORY 8

/* The tiles each of the last pictures handed to the encoder changed since
 * the picture before it (pipeline_seq numbers them). */
struct video_copy_history {
    struct video_copy_entry {
        uint64_t seq;         /* 0: unused */
        struct video_damage changed;
    } e[VIDEO_COPY_HISTORY];
    uint8_t *want;            /* the union, while copying */
    size_t want_cap;
};

/* Picture seq changed these tiles since picture seq - 1. */
void video_copy_note(struct video_copy_history *h, uint64_t seq, const struct video_damage *changed);

/* dst holds picture held_seq (0: nothing usable) as described by held;
 * makes it picture seq, src (same grid): only the tiles changed since
 * held_seq when the history covers every picture between and the geometry
 * is the same, else all of src (dst holds stride * height bytes).
 * Returns the bytes copied. */
size_t video_copy_picture(struct video_copy_history *h, uint8_t *dst, uint64_t held_seq,
                          const struct capture_frame *held, const struct capture_frame *src, uint64_t seq,
                          const struct tile_grid *grid);

void video_copy_free(struct video_copy_history *h);

/* The encoder's picture as I420 (video_convert.c; the encoder's thread). */
struct video_convert {
    uint8_t *i420;            /* w * h * 3 / 2: Y, then U and V at half size */
    size_t i420_cap;
    bool current;             /* i420 holds the picture the encoder took last */
    uint8_t *still_mbs;       /* per 16x16 macroblock, for h264_picture */
    size_t still_cap;
    uint8_t *save;            /* a changed tile's samples before conversion */
    size_t save_cap;
};
/* Room for a w x h picture (not current until converted whole); -1
 * without memory. */
int video_convert_size(struct video_convert *v, unsigned w, unsigned h);
/* f (w x h, even, as sized) into v->i420 in its own (limited) range: the
 * whole of it, or (when v holds the encoder's last picture and d says which
 * tiles changed since) those tiles only, the macroblocks of the others
 * marked still. Returns still_mbs or NULL (everything converted, nothing
 * known still). */
const uint8_t *video_convert(struct video_convert *v, const struct capture_frame *f, const struct video_damage *d,
                             unsigned w, unsigned h);
void video_convert_free(struct video_convert *v);

#endif
