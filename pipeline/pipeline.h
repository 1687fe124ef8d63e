/* server/pipeline: the frame path between capture and the outputs:
 * frame -> damage -> encode once -> shared bytes. Owns the damage tracker,
 * the encoder and a small cache of encoded updates for the current picture,
 * so every client asking for the same tiles of the same picture gets the same
 * bytes (N clients in step cost one encode). Knows nothing about sockets. */
#ifndef PIGLIX_SERVER_PIPELINE_H
#define PIGLIX_SERVER_PIPELINE_H

#include <stdbool.h>
#include <stdint.h>

#include "capture/capture.h"
#include "pipeline/damage.h"
#include "pipeline/encode.h"
#include "pipeline/update.h"

struct pipeline;

struct pipeline_stats {
    uint64_t frames, static_frames, encodes, cache_hits;
    double damage_ms, encode_ms; /* cumulative CPU-side wall time */
};

struct pipeline *pipeline_create(const struct encode_settings *es, unsigned tile);
void pipeline_destroy(struct pipeline *p);

/* Takes a new frame. Returns the number of changed tiles (0: nothing to do)
 * or -1; *resized is set when size or format changed (all tiles changed). */
int pipeline_feed(struct pipeline *p, const struct capture_frame *f, bool *resized);

/* True once a first frame has been fed. */
bool pipeline_has_picture(const struct pipeline *p);
const struct tile_grid *pipeline_grid(const struct pipeline *p);
/* Tiles changed by the last pipeline_feed (tile_grid_count bytes). */
const uint8_t *pipeline_last_damage(const struct pipeline *p);
/* Per tile, when it last changed (CLOCK_MONOTONIC ms): a tile sent as JPEG
 * gets its lossless refresh once it has been still for a while. */
const int64_t *pipeline_tile_changed_ms(const struct pipeline *p);
/* Increases by one with every fed frame that changed something. */
uint64_t pipeline_seq(const struct pipeline *p);

/* The encoded rectangles for the given tiles of the current picture, shared:
 * the caller owns one reference. lossy (tile_grid_count bytes, may be NULL)
 * receives 1 for tiles sent as JPEG for the set tiles. NULL on failure. */
struct update *pipeline_encode(struct pipeline *p, const uint8_t *tiles, enum encode_mode mode,
                               uint8_t *lossy);

/* The current picture as RGBX for raw clients (tiles: at least these). */
const uint8_t *pipeline_rgbx(struct pipeline *p, const uint8_t *tiles, unsigned *stride);

void pipeline_get_stats(const struct pipeline *p, struct pipeline_stats *out);
void pipeline_get_encode_stats(const struct pipeline *p, struct encode_stats *out);

#endif
