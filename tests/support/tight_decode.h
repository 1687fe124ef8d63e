/* tests/support/tight_decode: an independent Tight (RFB encoding 7) decoder
 * for tests, written from the rfbproto description, for clients that asked
 * for 32bpp depth-24 true colour (TPIXEL = 3 bytes R, G, B). It paints into
 * an RGBX framebuffer (bytes R, G, B, 0xff per pixel).
 *
 * It is stricter than real viewers, to catch encoder mistakes: rects wider
 * than 2048, basic-compression rects over 65536 pixels, palettes of fewer
 * than 2 colours, indices outside the palette, zlib data that gives more or
 * fewer bytes than the rect needs, and JPEGs of another size are all errors.
 * Input is treated as hostile: every length is checked before use. */
#ifndef PIGLIX_TESTS_TIGHT_DECODE_H
#define PIGLIX_TESTS_TIGHT_DECODE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <zlib.h>

#include "pipeline/update.h"

#define TIGHT_DECODE_MAX_WIDTH 2048
#define TIGHT_DECODE_MAX_BASIC_PIXELS 65536

enum tight_kind {
    TIGHT_KIND_FILL,
    TIGHT_KIND_JPEG,
    TIGHT_KIND_PALETTE,
    TIGHT_KIND_COPY,     /* basic compression, copy filter */
    TIGHT_KIND_GRADIENT, /* basic compression, gradient filter */
};
const char *tight_kind_name(enum tight_kind k);

/* What the last successfully decoded rect was. */
struct tight_rect_info {
    unsigned x, y, w, h;
    enum tight_kind kind;
    unsigned colors;     /* palette size (TIGHT_KIND_PALETTE) */
    unsigned stream;     /* zlib stream used by basic compression */
    bool compressed;     /* basic data went through zlib (else raw, under 12 bytes) */
    uint8_t resets;      /* the control byte's stream-reset bits */
    size_t payload_len;  /* bytes after the 12-byte rect header */
};

struct tight_decoder {
    z_stream zs[4];
    bool zs_ready[4];
    void *tj;                     /* tjhandle */
    unsigned fb_width, fb_height; /* when set, rects must lie inside */
    uint8_t *buf;                 /* one rect's uncompressed basic data */
    struct tight_rect_info last;
};

/* NULL on allocation failure. Without a framebuffer size the caller must
 * check that rects lie inside its framebuffer (the stride is always checked). */
struct tight_decoder *tight_decoder_new(void);
void tight_decoder_set_size(struct tight_decoder *d, unsigned fb_width, unsigned fb_height);
void tight_decoder_free(struct tight_decoder *d); /* NULL is fine */

/* Decodes one Tight rect payload (the bytes after the rect header) into the
 * framebuffer rgbx (stride bytes per line) at x, y, w, h. Returns 0 with
 * *consumed set to the payload's length; 1 when data ends before the payload
 * does (nothing was changed: call again with more bytes); -1 when the payload
 * is malformed (the decoder's zlib state is then undefined). */
int tight_decode_rect(struct tight_decoder *d, const uint8_t *data, size_t len, size_t *consumed,
                      unsigned x, unsigned y, unsigned w, unsigned h, uint8_t *rgbx,
                      unsigned stride);

/* Called after each decoded rect; a non-zero return stops the walk (and the
 * walk then returns that value). */
typedef int (*tight_rect_fn)(void *ctx, const struct tight_rect_info *info);

/* Decodes nrects rectangles (12-byte header: x, y, w, h, encoding, big-endian;
 * each must be Tight) from data, which must hold exactly those. fn may be
 * NULL. Returns 0, -1 on malformed input, or fn's non-zero value. */
int tight_decode_rects(struct tight_decoder *d, const uint8_t *data, size_t len, uint32_t nrects,
                       uint8_t *rgbx, unsigned stride, tight_rect_fn fn, void *ctx);
/* The same for the rectangles of an update buffer. */
int tight_decode_update(struct tight_decoder *d, const struct update *u, uint8_t *rgbx,
                        unsigned stride, tight_rect_fn fn, void *ctx);

#endif
