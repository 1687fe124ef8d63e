/* h264/h264.h — H.264 encoders behind one interface.
 *
 * Owns: one encoder session per (resolution, settings): the V4L2
 * memory-to-memory hardware encoder (the Pi 4's bcm2835-codec, found by
 * capability, not by path), libx264 or openh264 in software. Latency first:
 * no B-frames, no lookahead; one frame in, that frame's NAL units out
 * (Annex-B, start codes) before the call returns. Every IDR carries SPS and
 * PPS; the SPS's VUI says BT.601 and the range the caller asked for.
 *
 * Threads: an encoder belongs to the thread that opened it (asserted in test
 * builds); different encoders may run on different threads.
 *
 * Errors: open returns NULL with a sentence in err (no such device, format
 * refused, library missing in this build). encode returns 0 with output,
 * -1 when the encoder is unusable from now on (device gone, library error:
 * close it and open another), with the reason logged once. */
#ifndef PIGLIX_H264_H
#define PIGLIX_H264_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum h264_backend {
    H264_BACKEND_AUTO,      /* M2M if one is found, else the best software encoder built in */
    H264_BACKEND_M2M,
    H264_BACKEND_X264,
    H264_BACKEND_OPENH264,
};

/* The default quality: bench_h264's curve (h264/README.md). */
#define H264_QUALITY_QP_DEFAULT 23

struct h264_params {
    unsigned width, height;      /* even; the encoder crops nothing */
    unsigned fps;                /* nominal rate, for rate control */
    /* Rate control (README "Rate control"): hold a constant quality and
     * spend only what the picture needs (a still desktop costs next to
     * nothing), never more than bitrate_kbps. */
    unsigned bitrate_kbps;       /* the ceiling; 0 = the backend's default for the size */
    unsigned quality_qp;         /* the quality to hold, as an H.264 QP (lower is better):
                                    x264's CRF (and, less 4, the fixed QP of its pictures
                                    with few changes, which its ceiling counts afterwards),
                                    the M2M encoder's and openh264's min QP;
                                    0 = H264_QUALITY_QP_DEFAULT */
    unsigned keyframe_interval;  /* frames between IDRs; 0 = only when asked */
    bool full_range;             /* the VUI's video_full_range_flag */
    enum h264_backend backend;
    const char *m2m_device;      /* NULL or "": search /dev/video* by capability */
};

/* One picture in: planar I420 (Y, then U and V at half size), the format
 * every backend takes. dmabuf_fd >= 0 offers the capture buffer itself to a
 * backend that can import it (else -1; data is then read). */
struct h264_picture {
    const uint8_t *plane[3];
    unsigned stride[3];
    int dmabuf_fd;
    int64_t pts_us;
    /* NULL, or one byte per 16x16 macroblock (ceil(height/16) rows of
     * ceil(width/16)): 1 where the picture equals the one this encoder took
     * before, else 0. A backend may skip analysing those (x264's mb_info);
     * others ignore it. */
    const uint8_t *still_mbs;
};

/* The frame's NAL units, valid until the next encode or close. */
struct h264_output {
    const uint8_t *data;
    size_t size;
    bool idr;
};

struct h264_encoder;

struct h264_encoder *h264_encoder_open(const struct h264_params *p, char *err, size_t errlen);
int h264_encoder_encode(struct h264_encoder *e, const struct h264_picture *in, bool force_idr,
                        struct h264_output *out);
/* "m2m:/dev/video11 (bcm2835-codec)", "x264", "openh264". */
const char *h264_encoder_name(const struct h264_encoder *e);
void h264_encoder_close(struct h264_encoder *e);

/* Previews. A typed key changes a macroblock or two, yet a software encoder
 * walks the whole picture (x264: ~4 ms a 1080p frame, 17-25 ms at 640x480
 * in the VM's emulated CPU). A preview shows those few macroblocks at once
 * and exactly: a non-reference picture, the changed macroblocks as raw
 * samples (I_PCM, 384 bytes each), the rest skipped (the last picture
 * stands). The decoder forgets it, so the encoder's frame of the same
 * picture must follow it (the caller encodes that picture next; the
 * stream stays the encoder's). It needs a stream this can follow (8-bit
 * 4:2:0, frames, POC type 2, or 0 stepping by 2 or more: x264 and openh264
 * qualify; the M2M encoder's is checked on its stream) and at most
 * H264_PREVIEW_MAX_MBS changed macroblocks (h264_picture.still_mbs), and
 * previews spend only what the encoder's frames leave of the bitrate
 * ceiling (a second's worth saved up at most). Returns true with
 * out (valid until the next call on e) or false: not now (no stream yet,
 * the last picture was a preview, too many changes, over budget). */
#define H264_PREVIEW_MAX_MBS 32
bool h264_encoder_preview(struct h264_encoder *e, const struct h264_picture *in, struct h264_output *out);

/* The part that follows a stream and writes previews (h264/preview.c), for
 * encoders and for its tests and fuzzer: note every frame the encoder made,
 * in order; preview a picture of width x height. Fields are its own. */
struct h264_follow {
    bool sps_ok, slice_ok, after_preview, have_poc;
    unsigned sps_id, mbw, mbh, frame_num_bits, poc_type, poc_bits;
    unsigned frame_num, poc_lsb, poc_step; /* of the last reference picture */
    uint8_t pps_sps[256];                  /* the SPS each PPS id names; 0xff: unused */
    uint8_t *buf;                          /* the last preview */
    size_t cap;
};
void h264_follow_init(struct h264_follow *f);
void h264_follow_note(struct h264_follow *f, const uint8_t *data, size_t size);
bool h264_follow_preview(struct h264_follow *f, const struct h264_picture *in, unsigned width,
                         unsigned height, unsigned max_mbs, struct h264_output *out);
void h264_follow_free(struct h264_follow *f);

/* Parses "auto", "m2m", "x264", "openh264"; -1 on anything else. */
int h264_backend_parse(const char *s, enum h264_backend *out);

#endif
