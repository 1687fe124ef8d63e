/* h264/h264_x264.c — libx264 (GPL-2+), tuned for latency: ultrafast,
 * zerolatency (no B-frames, no lookahead, no frame threads: one frame in,
 * its NAL units out), one thread, SPS/PPS repeated on every IDR so a viewer
 * can join at any keyframe. Rate control (h264.h): constant quality (CRF)
 * under a VBV ceiling of the configured bitrate; pictures with few changes
 * (typing) at a fixed QP (X264_FEW_QP_BELOW). Beyond ultrafast, the tools
 * that pay for themselves on screens and video at ~20 % more CPU: CABAC,
 * the 8x8 transform, the deblocking filter and weighted prediction (High
 * profile), and quarter-pixel motion (bench_h264 and h264/README.md "Rate
 * control" have the figures). */
#include "h264/h264_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <x264.h>

#include "common/clock.h"
#include "common/log.h"

#define X264_VBV_FRAMES 4
/* Pictures with few changes (typing): coded at the quality QP less
 * X264_FEW_QP_BELOW (CRF's own QP for a settled desktop), their still
 * macroblocks skipped (X264_STILL_QP_OFFSET puts them at 51, no finer than
 * any QP they were coded at, which x264's fast skip of mb_info's constant
 * blocks requires), but for one band of 1/X264_REFINE_BANDS of the rows a
 * picture, at the frame's QP, where x264 codes again a block left coarser
 * (an IDR under the ceiling, motion). */
#define X264_FEW_QP_BELOW 4
#define X264_STILL_QP_OFFSET 51.0f
#define X264_REFINE_BANDS 16

struct x264_priv {
    x264_t *x;
    x264_param_t par; /* as opened, then as last reconfigured */
    x264_picture_t pic;
    int64_t pts;
    struct h264_speed speed;
    enum h264_speed_level applied; /* the level x->par holds */
    int quality_qp;
    unsigned mbw, mbh;    /* the picture in macroblocks */
    float *still_offsets; /* per macroblock, for pictures with few changes */
    unsigned band;        /* the band of rows those refine next */
    unsigned since_idr;   /* frames since the last IDR */
};

/* The analysis of each speed level (h264_internal.h), the rest fixed at
 * open. QUALITY: quarter-pixel refinement on SATD (subme 4) and 3
 * reference frames: with AQ, bench_h264's pan reaches Tight's SSIM at 0.083x
 * its bytes (QP 18), where subme 1 and one reference without AQ needed
 * 0.25x. FAST: one reference, subme 1 (half of QUALITY's time on moving
 * pictures). Both fit reconfig: x264 keeps the
 * buffers of the 3 references it was opened with. */
static void x264_set_speed(x264_param_t *par, enum h264_speed_level level)
{
    par->analyse.i_subpel_refine = level == H264_SPEED_QUALITY ? 4 : 1;
    par->i_frame_reference = level == H264_SPEED_QUALITY ? 3 : 1;
}

static int x264_open(struct h264_encoder *e, const struct h264_params *p, char *err, size_t errlen)
{
    x264_param_t par;
    if (x264_param_default_preset(&par, "ultrafast", "zerolatency") < 0) {
        snprintf(err, errlen, "x264: preset refused");
        return -1;
    }
    par.i_width = (int)p->width;
    par.i_height = (int)p->height;
    par.i_csp = X264_CSP_I420;
    par.i_fps_num = p->fps;
    par.i_fps_den = 1;
    par.i_timebase_num = 1;
    par.i_timebase_den = p->fps;
    /* One thread, one slice per frame. Two slices on two threads had the
     * frame out sooner (keystroke to pixel at 1080p: p95 41 against 53 ms)
     * for the same CPU, but noVNC 1.7 takes every slice NAL unit for a
     * frame of its own (core/decoders/h264.js, H264Parser.parse): its
     * picture froze (browser.h264). Frame threads would hold frames back. */
    par.i_threads = 1;
    par.b_sliced_threads = 0;
    par.i_bframe = 0;
    par.rc.i_lookahead = 0;
    par.i_sync_lookahead = 0;
    par.b_repeat_headers = 1;
    par.b_annexb = 1;
    par.b_vfr_input = 0;
    par.i_log_level = X264_LOG_NONE;
    par.i_keyint_max = p->keyframe_interval ? (int)p->keyframe_interval : X264_KEYINT_MAX_INFINITE;
    par.i_keyint_min = 1;
    par.i_scenecut_threshold = 0; /* IDRs only when asked or at the interval */
    unsigned kbps = p->bitrate_kbps ? p->bitrate_kbps : h264_software_default_kbps(p->width, p->height);
    e->ceiling_kbps = kbps;
    /* CRF, not ABR: an average bitrate is spent whatever the picture, so a
     * still desktop got the whole budget; CRF spends what the quality needs
     * and the VBV keeps the rate under the ceiling when the picture moves. */
    par.rc.i_rc_method = X264_RC_CRF;
    par.rc.f_rf_constant = (float)(p->quality_qp ? p->quality_qp : H264_QUALITY_QP_DEFAULT);
    par.rc.i_vbv_max_bitrate = (int)kbps;
    /* A buffer of X264_VBV_FRAMES frames at the ceiling: an IDR or a burst
     * of motion may take a few frames' share, never more (that would be
     * latency on a link of exactly the ceiling). */
    par.rc.i_vbv_buffer_size = (int)(kbps * X264_VBV_FRAMES / p->fps + 1);
    /* Adaptive quantisation, biased to dark areas, at 0.8: more bits for
     * flat areas where blocking shows, fewer on busy texture; SSIM on the
     * pan +0.001-0.002 at the same bytes, the desktop 4 % fewer. (Mode 1
     * at strength 1 spent 5x the bits on film grain at a fixed QP; under
     * the ceiling the grain costs the same, README.) */
    par.rc.i_aq_mode = X264_AQ_AUTOVARIANCE_BIASED;
    par.rc.f_aq_strength = 0.8f;
    par.b_cabac = 1;
    par.analyse.b_transform_8x8 = 1;
    par.b_deblocking_filter = 1;
    par.analyse.i_weighted_pred = X264_WEIGHTP_SIMPLE; /* fades, brightness ramps */
    /* Quarter-pixel motion (ultrafast searches whole pixels only): a camera
     * pan moves by fractions of a pixel; bench_h264's pan costs 35 % fewer
     * bytes at the same quality for ~1 ms a 1080p frame (README); more at
     * the QUALITY speed level. */
    x264_set_speed(&par, H264_SPEED_QUALITY);
    /* Macroblocks the caller knows unchanged (h264_picture.still_mbs) are
     * skipped without analysis (bench_h264 "x264 damage", README). */
    par.analyse.b_mb_info = 1;
    par.vui.b_fullrange = p->full_range;
    par.vui.i_colorprim = 6;  /* SMPTE 170M (BT.601 525) */
    par.vui.i_transfer = 6;
    par.vui.i_colmatrix = 6;  /* BT.601 */
    if (x264_param_apply_profile(&par, "high") < 0) {
        snprintf(err, errlen, "x264: high profile refused");
        return -1;
    }
    struct x264_priv *x = calloc(1, sizeof(*x));
    if (!x) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    x->x = x264_encoder_open(&par);
    if (!x->x) {
        snprintf(err, errlen, "x264: cannot open an encoder for %ux%u", p->width, p->height);
        free(x);
        return -1;
    }
    x->par = par;
    x->quality_qp = (int)(p->quality_qp ? p->quality_qp : H264_QUALITY_QP_DEFAULT);
    x->mbw = (p->width + 15) / 16;
    x->mbh = (p->height + 15) / 16;
    x->still_offsets = calloc((size_t)x->mbw * x->mbh, sizeof(float));
    if (!x->still_offsets) {
        x264_encoder_close(x->x);
        free(x);
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    h264_speed_init(&x->speed, p->fps);
    x->applied = H264_SPEED_QUALITY;
    x264_picture_init(&x->pic);
    x->pic.img.i_csp = X264_CSP_I420;
    x->pic.img.i_plane = 3;
    e->priv = x;
    snprintf(e->name, sizeof(e->name), "x264");
    return 0;
}

/* Fewer than 1/4 of the n macroblocks changed (h264_picture.still_mbs). */
static bool few_changed(const uint8_t *still_mbs, size_t n)
{
    size_t changed = 0;
    for (size_t i = 0; i < n; i++)
        changed += !still_mbs[i];
    return changed * 4 < n;
}

static int x264_encode_frame(struct h264_encoder *e, const struct h264_picture *in, bool force_idr,
                             struct h264_output *out)
{
    struct x264_priv *x = e->priv;
    for (int i = 0; i < 3; i++) {
        x->pic.img.plane[i] = (uint8_t *)in->plane[i]; /* x264 reads it only */
        x->pic.img.i_stride[i] = (int)in->stride[i];
    }
    /* still_mbs' 1 is x264's "constant" flag; x264 only reads it. */
    _Static_assert(X264_MBINFO_CONSTANT == 1, "still_mbs passed as mb_info");
    x->pic.prop.mb_info = (uint8_t *)in->still_mbs;
    x->pic.prop.mb_info_free = NULL;
    x->pic.i_pts = x->pts++;
    x->pic.i_type = force_idr ? X264_TYPE_IDR : X264_TYPE_AUTO;
    x264_nal_t *nal;
    int nnal;
    x264_picture_t pic_out;
    /* A picture with few changed macroblocks (typing, a cursor) gets the
     * FAST level whatever the governor says: its few blocks gain nothing
     * from finer analysis, and subme 4 alone costs ~1.1 ms more a 1080p
     * frame even when nearly all of it is skipped (how soon the echo of a
     * key shows). The governor counts the other pictures only. */
    bool small = in->still_mbs && few_changed(in->still_mbs, (size_t)x->mbw * x->mbh);
    /* Such a picture also gets a fixed QP, its still macroblocks skipped
     * whatever QP they were coded at, but for a band. Left to CRF, one this
     * simple got an ever finer QP (the IDR a viewer joins with at 31, then
     * 28, 26 ... 14), and x264 skips a constant macroblock only where the
     * frame's QP is no finer than the one it was coded at: each such
     * picture re-coded the whole screen finer, 3-14 KB and 5-8 ms a 1080p
     * frame for the ~10 keys after every IDR, where a typed key costs
     * ~100-500 bytes (h264/README.md "Typing after an IDR"). The bands
     * refine the screen in 16 such pictures, a 16th of that work each. */
    if (small) {
        unsigned mbw = x->mbw, mbh = x->mbh;
        unsigned b0 = x->band * mbh / X264_REFINE_BANDS, b1 = (x->band + 1) * mbh / X264_REFINE_BANDS;
        x->band = (x->band + 1) % X264_REFINE_BANDS;
        for (unsigned r = 0; r < mbh; r++) {
            float still = r >= b0 && r < b1 ? 0.0f : X264_STILL_QP_OFFSET;
            for (unsigned c = 0; c < mbw; c++)
                x->still_offsets[r * mbw + c] = in->still_mbs[r * mbw + c] ? still : 0.0f;
        }
    }
    int few_qp = x->quality_qp > X264_FEW_QP_BELOW ? x->quality_qp - X264_FEW_QP_BELOW : 1;
    /* (Not for an IDR, asked or at the interval: CRF and the ceiling size it.) */
    unsigned keyint = e->params.keyframe_interval;
    bool fixed = small && !force_idr && (keyint == 0 || x->since_idr + 1 < keyint);
    x->pic.i_qpplus1 = fixed ? few_qp + 1 : X264_QP_AUTO;
    x->pic.prop.quant_offsets = fixed ? x->still_offsets : NULL;
    x->pic.prop.quant_offsets_free = NULL;
    enum h264_speed_level want = small ? H264_SPEED_FAST : x->speed.level;
    if (want != x->applied) {
        x264_set_speed(&x->par, want);
        if (x264_encoder_reconfig(x->x, &x->par) < 0)
            LOG_WARN("h264", "x264: cannot change the analysis level");
        x->applied = want;
    }
    int64_t t0 = clock_mono_ns();
    int size = x264_encoder_encode(x->x, &nal, &nnal, &x->pic, &pic_out);
    if (size < 0) {
        LOG_ERROR("h264", "x264: encoding failed");
        return -1;
    }
    double took_ms = (double)(clock_mono_ns() - t0) / 1e6;
    LOG_DEBUG("h264", "x264: %s frame, QP %d, %d bytes, %.2f ms%s", pic_out.b_keyframe ? "IDR" : "P",
              pic_out.i_qpplus1 - 1, size, took_ms, small ? " (few changes)" : "");
    if (!small && h264_speed_note(&x->speed, took_ms))
        LOG_INFO("h264", "x264: %s analysis for moving pictures (a frame took %.1f ms (median))",
                 x->speed.level == H264_SPEED_QUALITY ? "finer" : "faster", x->speed.median_ms);
    /* Annex-B payloads of one frame are contiguous (x264.h: "nal payloads
     * are guaranteed to be sequential in memory"). */
    out->data = size > 0 ? nal[0].p_payload : NULL;
    out->size = (size_t)size;
    out->idr = size > 0 && pic_out.b_keyframe;
    x->since_idr = out->idr ? 0 : x->since_idr + 1;
    return 0;
}

static void x264_close_enc(struct h264_encoder *e)
{
    struct x264_priv *x = e->priv;
    if (!x)
        return;
    x264_encoder_close(x->x);
    free(x->still_offsets);
    free(x);
    e->priv = NULL;
}

static const struct h264_backend_ops x264_ops = {
    .name = "x264", .open = x264_open, .encode = x264_encode_frame, .close = x264_close_enc,
};
const struct h264_backend_ops *const h264_backend_x264 = &x264_ops;
