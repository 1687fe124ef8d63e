/* simserver video: the server's HDMI output is vivid's video output node,
 * looped back (vivid's loop_video) into the HDMI input of the same vivid
 * instance, which piglix (or ustreamer) captures.
 *
 * vivid loops only while the output and the capture agree on DV timings,
 * size and pixel format, and decides when either starts streaming. So the
 * output follows whatever format the capture side was set to (piglix's
 * RGB24, ustreamer's YUYV, ...), restarting when it changes. vivid keeps
 * showing the last queued output buffer, so a frame is queued only when the
 * screen changed. Power off stops the output and sets the input's signal
 * mode to "no signal" (the cable carries nothing), so the capturer shows
 * its NO SIGNAL frame; power on brings both back. */
#ifndef SIM_VIDEO_H
#define SIM_VIDEO_H

#include <stdbool.h>
#include <stdint.h>

#include "sim_canvas.h"

struct sim_video;

/* Finds the vivid capture and output nodes (or uses the given paths), sets
 * both to want_w x want_h DV timings (the capture only when nobody streams
 * from it), and turns the loop on. NULL after printing why. */
struct sim_video *sim_video_open(const char *cap_path, const char *out_path, unsigned want_w, unsigned want_h);
void sim_video_close(struct sim_video *v);
void sim_video_size(const struct sim_video *v, unsigned *w, unsigned *h);
/* "640x480 RGB3" while streaming, else "off". */
void sim_video_describe(const struct sim_video *v, char *buf, unsigned size);

/* Power: on starts the output (with the canvas) and gives the input a
 * signal; off stops the output and takes the signal away. */
int sim_video_power(struct sim_video *v, bool on, const struct sim_canvas *c);
/* Follows the capture side's format (call every few hundred ms). Returns
 * true when the output was restarted. */
bool sim_video_follow(struct sim_video *v, const struct sim_canvas *c);
/* Queues the canvas if it changed since the last queued frame (or as soon
 * as a buffer is free). */
void sim_video_present(struct sim_video *v, const struct sim_canvas *c);
/* The output node while it streams (poll it for POLLOUT: a buffer came
 * back), else -1. */
int sim_video_fd(const struct sim_video *v);

/* sim_convert.c: rows y0..y1 of the RGB24 canvas into a buffer of fourcc.
 * ycbcr_enc/quantization as V4L2 names them; false for an unknown fourcc. */
bool sim_convert_supported(uint32_t fourcc);
void sim_convert_rows(const struct sim_canvas *c, unsigned y0, unsigned y1, uint32_t fourcc, uint32_t ycbcr_enc,
                      uint32_t quantization, uint8_t *dst, unsigned dst_stride, unsigned dst_w);

#endif
