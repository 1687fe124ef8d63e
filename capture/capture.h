/* capture/: makes frames. Owns the frame sources (the built-in test source
 * and V4L2 HDMI capture), the capture thread, and the one-frame slot through which
 * frames reach the server: the newest frame wins, the capture thread never
 * waits for a consumer. */
#ifndef PIGLIX_CAPTURE_H
#define PIGLIX_CAPTURE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/config.h"
#include "common/pixfmt.h"

enum capture_signal {
    CAPTURE_SIGNAL_OK = 0,
    CAPTURE_SIGNAL_NONE,         /* no signal (ENOLINK) */
    CAPTURE_SIGNAL_NO_LOCK,      /* signal, but no lock (ENOLCK) */
    CAPTURE_SIGNAL_OUT_OF_RANGE, /* timings not supported (ERANGE) */
    CAPTURE_SIGNAL_TIMEOUT,      /* device streams no frames */
    CAPTURE_SIGNAL_NO_DEVICE,    /* device missing or cannot be opened */
};
const char *capture_signal_name(enum capture_signal s);

/* A frame in one of the pixel formats HDMI capture gives. data is not owned
 * by the frame: whoever fills it says how long it stays valid. */
struct capture_frame {
    enum pixfmt fmt;
    unsigned width, height;
    unsigned stride;            /* bytes per line */
    const uint8_t *data;
    uint64_t seq;               /* increases by one per published frame */
    int64_t timestamp_us;       /* CLOCK_MONOTONIC when captured */
};

/* What a source counts about itself, for the API's capture statistics (the
 * V4L2 source: frames the device delivered and why some were not published).
 * All zero for sources that keep none. */
struct capture_source_stats {
    uint64_t device_frames;  /* frames the device delivered */
    uint64_t skipped;        /* left in the device queue because a newer one was ready */
    uint64_t fps_dropped;    /* dropped to stay under [capture] fps */
    uint64_t broken;         /* error-flagged, short or undecodable frames */
    uint64_t restarts;       /* times streaming started (first start, mode change, signal back) */
    uint64_t stalls;         /* streaming restarted: no good frame for [capture] frame_timeout_ms, no source change */
    uint64_t reopens;        /* the device closed and opened again because streaming would not start */
    int64_t last_stall_ms;   /* CLOCK_MONOTONIC ms of the last stall; 0: none */
    char device_format[8];   /* the device's pixel format ("UYVY", "MJPG"); "" when not streaming */
    double source_fps;       /* the input's rate (DV timings or the device's), 0 if unknown */
};

/* A frame source. next() renders or captures the next frame and fills *out;
 * the data stays valid until the next call. It paces itself (the test source
 * sleeps to its fps) and returns 0 with a frame, or 1 when there is no frame
 * this time (timeout, no signal: *signal says why), or -1 on a fatal error. */
struct capture_source {
    const char *name;
    void *ctx;
    int (*next)(void *ctx, struct capture_frame *out, enum capture_signal *signal);
    void (*destroy)(void *ctx);
    /* Optional (NULL when the source keeps no statistics): copies them;
     * called by the capture thread between next() calls. */
    void (*get_stats)(void *ctx, struct capture_source_stats *out);
};

/* What viewers typed, for the test source to show: with no server behind
 * it, [capture] type_echo draws a text field's state (length and last
 * character) as the simulated server's state strip does (12 bytes as 8x8
 * black or white cells, 48 a row, two rows at the bottom left: magic a5 5a,
 * length in bytes 8-9, last character in 10-11), so keystroke to pixel is
 * measured without USB or HDMI (tests/bench/bench_latency_native.py).
 * Characters append, Backspace takes one back, Escape clears. Any thread
 * may call capture_echo_key; the test source reads it at each frame. */
struct capture_echo;
struct capture_echo_state {
    unsigned len;        /* characters in the field */
    uint32_t last;       /* the last one's keysym, 0 after Backspace or Escape */
    uint64_t generation; /* 0 until the first key: nothing is drawn before */
};
struct capture_echo *capture_echo_create(void); /* NULL: out of memory */
void capture_echo_destroy(struct capture_echo *e);
void capture_echo_key(struct capture_echo *e, uint32_t keysym, bool down);
void capture_echo_get(struct capture_echo *e, struct capture_echo_state *out);

/* The test source: config [capture] width, height, fps, scenario, format;
 * echo NULL, or what it shows of typed keys (above). */
int capture_testsrc_create(const struct config_capture *cfg, struct capture_echo *echo,
                           struct capture_source *out);

/* The V4L2 source (HDMI capture): config [capture] device, edid, width,
 * height (devices without DV timings), fps (an upper limit), format (the
 * preferred pixel format), frame_timeout_ms (no good frame that long
 * without a source change: streaming restarts, the device is reopened when
 * it will not start again). It never fails for a missing device or signal:
 * next() then yields a frame saying what is wrong (capture/nosignal.h) every
 * second and keeps retrying. Returns -1 only on bad settings or no memory. */
int capture_v4l2_create(const struct config_capture *cfg, struct capture_source *out);

/* ---- The slot between the capture thread and the server ---- */
struct capture_slot;

struct capture_stats {
    uint64_t captured, published, dropped; /* dropped: replaced before taken */
    enum capture_signal signal;
    unsigned width, height;
    enum pixfmt fmt;
    double fps;                            /* captured frames per second, recent */
    struct capture_source_stats source;    /* the source's own counters */
};

struct capture_slot *capture_slot_create(void);
void capture_slot_destroy(struct capture_slot *slot);
/* Copies the frame into the slot, replacing an untaken one. Never blocks on
 * the consumer (the lock is held only to swap buffers). */
int capture_slot_publish(struct capture_slot *slot, const struct capture_frame *frame);
/* The same for a frame that stands in for a picture when signal is not OK
 * (e.g. the NO SIGNAL frame): published alike, but the stats keep signal and
 * do not count it as captured. capture_slot_publish(s, f) is (s, f, OK). */
int capture_slot_publish_signal(struct capture_slot *slot, const struct capture_frame *frame,
                                enum capture_signal signal);
/* The source's own counters (capture_source.get_stats), for the API. */
void capture_slot_set_source_stats(struct capture_slot *slot, const struct capture_source_stats *st);
/* Reports the source's state (e.g. no signal) without a frame. */
void capture_slot_set_signal(struct capture_slot *slot, enum capture_signal signal);
/* Takes the newest frame if one arrived since the last take. The frame stays
 * valid until the next take. Returns true when *out is a new frame. */
bool capture_slot_take(struct capture_slot *slot, struct capture_frame *out);
/* A file descriptor that becomes readable when a frame is published (an
 * eventfd); the consumer polls it and take() clears it. */
int capture_slot_fd(const struct capture_slot *slot);
void capture_slot_stats(struct capture_slot *slot, struct capture_stats *out);

/* ---- The capture thread ---- */
struct capture_thread;
/* Starts a thread that pulls frames from the source into the slot. Takes
 * ownership of the source. */
struct capture_thread *capture_thread_start(struct capture_source *src, struct capture_slot *slot);
void capture_thread_stop(struct capture_thread *t);

#endif
