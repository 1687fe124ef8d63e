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

/* The current picture (valid until the next pipeline_feed); NULL before the first. */
const struct capture_frame *pipeline_picture(const struct pipeline *p);

/* ---- The H.264 stream (pipeline/video.c) ----
 * Encode once: one H.264 encoder (h264/) for every viewer that takes RFB
 * encoding 50, fed the pipeline's current picture as planar 4:2:0 in the
 * capture's own limited range (BT.601; the SPS says so). The last
 * PIPELINE_VIDEO_RING frames stay for viewers one or a few frames behind; a
 * viewer further behind (or new) waits for an IDR, which it can ask for.
 * It also keeps the damage history that decides when the picture is
 * "moving" (video mode).
 * Threads: every function here is for the server thread (asserted), like
 * the pipeline. The encoding itself (I420 conversion and H.264) runs on a
 * thread of the stream's own: pipeline_video_encode hands it a copy of the
 * picture in a newest-wins slot (a picture it has not started is replaced,
 * never queued) and returns; when a frame is done the thread calls wake
 * (e.g. vnc_wake), and the server thread takes it into the ring with
 * pipeline_video_collect. The encoder waits until its last frame has been
 * taken, so the stream has no holes.
 * Previews (h264.h): a picture with few changes (typing) first goes out as
 * a preview, its changed macroblocks exact, handed over before the encoder
 * starts on it; its frame follows in the stream as usual. A preview is a
 * frame of the ring like any other, marked, and does not answer the
 * picture: pipeline_video_pending stays true until the frame does. */
#define PIPELINE_VIDEO_RING 16
/* How long viewers hold back tiles for a picture being encoded at most (a
 * slow or wedged encoder must not freeze them). */
#define PIPELINE_VIDEO_HOLD_MS 250

struct pipeline_video;
struct h264_params;

/* base: the encoder settings ([video]); width and height come from the
 * picture. wake(wake_arg) is called from the encoder thread after each
 * frame; wake NULL encodes inline, on the caller's thread inside
 * pipeline_video_encode (the old path, kept for benchmarks and unit tests).
 * NULL on allocation failure or when the thread cannot start. */
struct pipeline_video *pipeline_video_create(const struct h264_params *base, bool always,
                                              void (*wake)(void *), void *wake_arg);
/* Stops the encoder thread (waiting for the frame being encoded, bounded
 * by the encoder's own timeouts) and frees everything. */
void pipeline_video_destroy(struct pipeline_video *v);

/* Notes one fed frame's damage (changed of total tiles) at now_ms. */
void pipeline_video_note_damage(struct pipeline_video *v, int changed, unsigned total, int64_t now_ms);
/* Video mode: H.264 is worth it now (always, or a large area kept changing
 * in the last second). */
bool pipeline_video_active(struct pipeline_video *v, int64_t now_ms);

/* Hands the current picture of p (copied) to the encoder as the stream's
 * next frame (an IDR when one was asked for, or first after a size change:
 * a new stream whose number changes). Returns 0, or -1 when the copy cannot
 * be made; inline, also when no encoder can be opened (logged; tried again
 * at most every few seconds) or encoding failed. */
int pipeline_video_encode(struct pipeline_video *v, struct pipeline *p, int64_t now_ms);
/* Takes a frame the encoder thread finished into the ring; true when one
 * was taken (call it when woken). Always false inline. */
bool pipeline_video_collect(struct pipeline_video *v);
/* Picture picture_seq was handed over and its frame is not collected yet,
 * and the encoder answered something less than PIPELINE_VIDEO_HOLD_MS ago:
 * viewers of the stream hold back their tiles for it, and may take the
 * frames of older pictures meanwhile (the current one follows as H.264). */
bool pipeline_video_pending(const struct pipeline_video *v, uint64_t picture_seq, int64_t now_ms);
/* Asks for an IDR with the next frame (at most one forced IDR per 500 ms). */
void pipeline_video_request_idr(struct pipeline_video *v);
/* Previews on or off ([video] previews; on unless set), from the next
 * picture handed over. */
void pipeline_video_set_previews(struct pipeline_video *v, bool on);

struct pipeline_video_frame {
    const uint8_t *data;       /* Annex-B, whole frame */
    size_t len;
    bool idr;
    bool preview;              /* a preview: its picture's frame is still to come */
    uint64_t picture_seq;      /* pipeline_seq of the picture it shows */
};
/* The stream's number (changes with the resolution) and its newest frame's
 * number (0: none yet); frame numbers start at 1 in each stream. */
uint64_t pipeline_video_stream(const struct pipeline_video *v);
uint64_t pipeline_video_last(const struct pipeline_video *v);
/* Frame n of the current stream if still held; false otherwise. */
bool pipeline_video_frame(const struct pipeline_video *v, uint64_t n, struct pipeline_video_frame *out);
/* The newest IDR held (0: none). */
uint64_t pipeline_video_last_idr(const struct pipeline_video *v);
/* The encoded picture's size (even) and when the last frame was encoded. */
void pipeline_video_size(const struct pipeline_video *v, unsigned *w, unsigned *h);
int64_t pipeline_video_last_encode_ms(const struct pipeline_video *v);

struct pipeline_video_stats {
    uint64_t frames, idrs, bytes, failures;
    uint64_t replaced;         /* pictures replaced by a newer one before the encoder took them */
    uint64_t copied;           /* picture bytes copied for the encoder (the tiles changed since its copy) */
    uint64_t previews, preview_bytes; /* of frames and bytes */
    double encode_ms;          /* cumulative: conversion and encoding */
    char encoder[96];          /* h264_encoder_name, "" before the first */
};
void pipeline_video_get_stats(const struct pipeline_video *v, struct pipeline_video_stats *out);

#endif
