/* server/encode: turns tiles of the current picture into Tight rectangles,
 * choosing each tile's encoding by its content, as TurboVNC does: one colour
 * -> fill; few colours (text, menus) -> lossless indexed palette; otherwise
 * JPEG (or lossless zlib when the client or the refresh needs lossless).
 * Every zlib payload comes from a freshly reset stream and says so in its
 * compression-control byte, so the bytes are valid for any client and are
 * encoded once. JPEG rects are merged across adjacent photo-like tiles.
 * Owns the TurboJPEG handle, the zlib stream, an RGBX copy of the picture
 * converted lazily per tile, and planar YUV buffers for JPEG from YUV.
 * An encoder belongs to the thread that calls encoder_encode (asserted in
 * test builds); its worker threads run only inside that call. */
#ifndef PIGLIX_SERVER_ENCODE_H
#define PIGLIX_SERVER_ENCODE_H

#include <stdint.h>

#include "capture/capture.h"
#include "pipeline/damage.h"
#include "pipeline/update.h"

enum encode_subsamp { ENCODE_SUBSAMP_444, ENCODE_SUBSAMP_422, ENCODE_SUBSAMP_420, ENCODE_SUBSAMP_GRAY };
int encode_subsamp_parse(const char *name); /* "422" -> ENCODE_SUBSAMP_422, -1 if unknown */

struct encode_settings {
    int quality;                 /* 1..100 */
    enum encode_subsamp subsamp;
    /* Threads that encode a frame's rects together (the caller is one of
     * them): 0 = one per CPU, at most ENCODE_MAX_WORKERS. The bytes are the
     * same for any count. */
    unsigned workers;
};
#define ENCODE_MAX_WORKERS 8
/* "auto" -> 0, "1".."8" -> that count; -1 if neither. */
int encode_workers_parse(const char *name);

enum encode_mode {
    ENCODE_LOSSY,    /* photo-like tiles as JPEG */
    ENCODE_LOSSLESS, /* everything lossless: fill, palette, zlib */
};

struct encode_stats {            /* cumulative, for benchmarks and the API */
    uint64_t fill_tiles, palette_tiles, jpeg_tiles, zlib_tiles, rects, bytes;
};

struct encoder;
struct encoder *encoder_create(const struct encode_settings *s);
void encoder_destroy(struct encoder *e);

/* Tells the encoder which tiles of the picture changed (its RGBX copy and
 * classification of those tiles are stale). Call after every damage_update
 * with the same grid; a new grid size resets everything. */
void encoder_invalidate(struct encoder *e, const struct tile_grid *g, const uint8_t *tiles);

/* Appends Tight rectangles (encoding 7) covering exactly the tiles set in
 * tiles, taken from pic, to out. When lossy_out is not NULL it receives, per
 * tile, 1 if the tile went out as JPEG (so it needs a lossless refresh
 * later), else 0 (only for tiles set in tiles; others are left alone).
 * Returns 0 or -1. */
int encoder_encode(struct encoder *e, const struct capture_frame *pic, const struct tile_grid *g,
                   const uint8_t *tiles, enum encode_mode mode, struct update *out,
                   uint8_t *lossy_out);

/* The picture as RGBX (4 bytes/pixel, R,G,B,X), with at least the given tiles
 * converted (NULL tiles: all). For clients that take raw pixels. */
const uint8_t *encoder_rgbx(struct encoder *e, const struct capture_frame *pic,
                            const struct tile_grid *g, const uint8_t *tiles, unsigned *stride);

void encoder_get_stats(const struct encoder *e, struct encode_stats *out);

#endif
