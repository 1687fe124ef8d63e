/* server/damage: finds what changed. Owns the shadow copy of the last frame
 * (in the capture's own pixel format) and compares each new frame with it in
 * fixed square tiles. A frame identical to the last costs only the
 * comparison; changed tiles are copied into the shadow. */
#ifndef PIGLIX_SERVER_DAMAGE_H
#define PIGLIX_SERVER_DAMAGE_H

#include <stdbool.h>
#include <stdint.h>

#include "capture/capture.h"

/* The tile grid: tile maps are arrays of cols*rows bytes, row-major, 1 = set. */
struct tile_grid {
    unsigned width, height, tile, cols, rows;
};
void tile_grid_init(struct tile_grid *g, unsigned width, unsigned height, unsigned tile);
static inline unsigned tile_grid_count(const struct tile_grid *g) { return g->cols * g->rows; }
/* Maps of a and b index the same tiles (tile size, columns, rows). */
static inline bool tile_grid_same_layout(const struct tile_grid *a, const struct tile_grid *b)
{
    return a->tile == b->tile && a->cols == b->cols && a->rows == b->rows;
}

struct damage_tracker;
struct damage_tracker *damage_create(unsigned tile);
void damage_destroy(struct damage_tracker *d);

/* Compares frame with the shadow and updates the shadow. tiles must hold
 * tile_grid_count() bytes of the frame's grid (see damage_grid after the
 * call when *reset is set). On the first frame or a change of size or format
 * the shadow is rebuilt, *reset is set and every tile is marked.
 * Returns the number of changed tiles, or -1 on allocation failure. */
int damage_update(struct damage_tracker *d, const struct capture_frame *frame, uint8_t *tiles,
                  size_t tiles_len, bool *reset);

/* The current picture (valid until the next damage_update) and its grid. */
const struct capture_frame *damage_shadow(const struct damage_tracker *d);
const struct tile_grid *damage_grid(const struct damage_tracker *d);

#endif
