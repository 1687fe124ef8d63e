/* capture/testsrc: the built-in test source. Renders what a KVM user sees
 * (scenarios "bios", "desktop", "motion") in the pixel formats HDMI capture
 * gives, so everything downstream runs the code that will serve V4L2.
 * Frame n is a pure function of (scenario, width, height, fps, n). Frames are
 * rendered incrementally: only regions that differ from the previous frame
 * are redrawn and converted. capture_testsrc_create() (capture.h) wraps this
 * in a paced struct capture_source. */
#ifndef PIGLIX_CAPTURE_TESTSRC_H
#define PIGLIX_CAPTURE_TESTSRC_H

#include <stdbool.h>
#include <stdint.h>

#include "capture/capture.h"
#include "common/pixfmt.h"

struct testsrc;

/* True for "bios", "desktop" and "motion". */
bool testsrc_scenario_valid(const char *scenario);

/* A renderer for width x height frames in fmt (width even for the 4:2:2
 * formats). Returns NULL (and logs) on bad arguments or out of memory. */
struct testsrc *testsrc_create(const char *scenario, unsigned width, unsigned height, unsigned fps,
                               enum pixfmt fmt);
void testsrc_destroy(struct testsrc *ts);

/* Renders frame n (any n, in any order) and fills *out: seq = n, timestamp
 * from CLOCK_MONOTONIC now, data valid until the next render or destroy.
 * The paced source also numbers frames by n, so its seq jumps when it had
 * to skip frames to catch up. */
void testsrc_render(struct testsrc *ts, uint64_t n, struct capture_frame *out);

/* The frame after the last one rendered (frame 0 first), without pacing: for
 * benchmarks. ctx is a struct testsrc, which is also the ctx of the source
 * that capture_testsrc_create() makes. Returns 0. */
int testsrc_next_unpaced(void *ctx, struct capture_frame *out);

/* Renders frame n from scratch into an RGB24 buffer (stride in bytes): the
 * reference the incremental renderer must match. Returns 0, or -1 on an
 * unknown scenario, a zero size or fps, or out of memory. */
int testsrc_render_rgb24(const char *scenario, unsigned width, unsigned height, unsigned fps,
                         uint64_t frame_index, uint8_t *rgb, unsigned stride);

#endif
