/* capture/nosignal: the frame shown instead of a picture when there is none
 * (no signal, no lock, out of range, no frames, no device). A dark RGB24
 * frame with the reason in large letters and one line of detail. It is a pure
 * function of (reason, detail, size): the same state gives the same bytes, so
 * republishing it costs nothing downstream, and tests can render the exact
 * frame a viewer must see. */
#ifndef PIGLIX_CAPTURE_NOSIGNAL_H
#define PIGLIX_CAPTURE_NOSIGNAL_H

#include <stddef.h>
#include <stdint.h>

#include "capture/capture.h"

/* The size used when no picture size is known yet (or it is unusable). */
#define NOSIGNAL_DEFAULT_WIDTH 1024
#define NOSIGNAL_DEFAULT_HEIGHT 768
/* Sizes outside these are replaced by the default. */
#define NOSIGNAL_MIN_WIDTH 320
#define NOSIGNAL_MIN_HEIGHT 200
#define NOSIGNAL_MAX_EDGE 8192

/* Owns the frame's memory; zero-initialise, free with nosignal_canvas_free. */
struct nosignal_canvas {
    uint8_t *rgb;
    size_t cap;
};

/* The large text for a reason: "NO SIGNAL", "NO SYNC LOCK", "OUT OF RANGE",
 * "NO FRAMES", "NO CAPTURE DEVICE" ("" for CAPTURE_SIGNAL_OK). */
const char *nosignal_title(enum capture_signal reason);

/* Renders the frame for reason into the canvas: width x height (0, odd or
 * out-of-range sizes fall back as above; an odd width is rounded down), with
 * detail (may be NULL or "", shortened to fit) under the title. Fills *out
 * (RGB24, seq 0, timestamp 0: the caller sets them). Returns 0, or -1 when
 * out of memory. */
int nosignal_render(struct nosignal_canvas *c, enum capture_signal reason, const char *detail,
                    unsigned width, unsigned height, struct capture_frame *out);

void nosignal_canvas_free(struct nosignal_canvas *c);

#endif
