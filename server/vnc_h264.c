/* server/vnc_h264.c — RFB encoding 50 ("Open H.264") for viewers that
 * announce it. The pipeline's one H.264 stream (pipeline_video_*) serves
 * every such viewer; this file decides per viewer what it gets:
 * - while the picture moves (video mode) and the viewer holds every frame of
 *   the stream up to the one before: the new frames (at most
 *   VNC_H264_MAX_SPAN, so a viewer a few frames behind catches up without a
 *   backlog); a viewer without a context, or further behind (slow), starts
 *   again at the newest IDR when that is close enough, with ResetContext;
 * - otherwise tiles, as every viewer gets them, and an IDR is asked for
 *   (at most one per 500 ms), at which it joins the stream again.
 * One full-screen rectangle, so one decoder context per viewer; a new
 * stream (resolution change) is sent with ResetAllContexts. What went out
 * as H.264 is lossy: the lossless refresh replaces it with exact tiles once
 * the picture has settled. */
#include <string.h>

#include "common/log.h"
#include "h264/h264.h"
#include "server/vnc_internal.h"

#define ENC_H264 50
#define H264_FLAG_RESET_CONTEXT 1u
#define H264_FLAG_RESET_ALL 2u
#define VNC_H264_MAX_SPAN 8

static void wake_server(void *arg) { vnc_wake(arg); }

int vnc_h264_create(struct server *s, const struct config_video *cfg, unsigned fps)
{
    s->video_cfg = cfg;
    if (!cfg || strcmp(cfg->h264, "never") == 0)
        return 0;
    struct h264_params p = {.fps = fps ? fps : 30,
                            .bitrate_kbps = (unsigned)cfg->bitrate_kbps,
                            .quality_qp = (unsigned)cfg->quality_qp,
                            .keyframe_interval = (unsigned)cfg->keyframe_interval,
                            .m2m_device = cfg->m2m_device};
    if (h264_backend_parse(cfg->backend, &p.backend) < 0)
        return -1;
    s->video = pipeline_video_create(&p, strcmp(cfg->h264, "always") == 0, wake_server, s);
    if (!s->video)
        return -1;
    pipeline_video_set_previews(s->video, cfg->previews);
    LOG_INFO("vnc", "H.264 (RFB encoding 50): %s, backend %s%s", cfg->h264, cfg->backend,
             cfg->previews ? ", previews of typing" : "");
    return 0;
}

void vnc_h264_destroy(struct server *s)
{
    pipeline_video_destroy(s->video);
    s->video = NULL;
}

static bool wants_h264(const struct vnc_client *c)
{
    return c->h264 && c->encodings_seen && c->cl->state == RFB_NORMAL &&
           c->cl->sock != RFB_INVALID_SOCKET;
}

void vnc_h264_on_frame(struct server *s, int changed, bool resized)
{
    if (!s->video)
        return;
    int64_t now = clock_mono_ms();
    const struct tile_grid *g = pipeline_grid(s->pipe);
    pipeline_video_note_damage(s->video, changed, tile_grid_count(g), now);
    bool any = false;
    for (rfbClientPtr cl = s->screen->clientHead; cl; cl = cl->next) {
        struct vnc_client *c = cl->clientData;
        if (!c)
            continue;
        if (resized && c->h264_have)
            c->h264_reset_all = true; /* its contexts are of the old size */
        any |= wants_h264(c);
    }
    /* Encoded only while someone can use it: no H.264 viewer, no CPU. */
    if (!any || !pipeline_video_active(s->video, now))
        return;
    /* Handed to the encoder thread (failures: logged; viewers get tiles). */
    pipeline_video_encode(s->video, s->pipe, now);
}

void vnc_h264_collect(struct server *s)
{
    if (s->video)
        pipeline_video_collect(s->video);
}

bool vnc_h264_holds_tiles(const struct vnc_client *c, int64_t now)
{
    struct server *s = c->srv;
    /* The frame for this picture will cover the whole screen: tiles sent
     * now would be drawn over, or (arriving after it) undo it. */
    return s->video && wants_h264(c) && pipeline_video_pending(s->video, pipeline_seq(s->pipe), now);
}

/* Frames from..last are all still held. */
static bool span_held(struct pipeline_video *v, uint64_t from, uint64_t last)
{
    struct pipeline_video_frame f;
    for (uint64_t n = from; n <= last; n++)
        if (!pipeline_video_frame(v, n, &f))
            return false;
    return true;
}

bool vnc_h264_holds_refresh(const struct vnc_client *c, int64_t now)
{
    struct server *s = c->srv;
    if (!s->video || !c->h264 || !c->h264_have)
        return false;
    /* While frames keep coming, a refreshed tile would be drawn over by the
     * next full-screen frame: refresh once they stop. */
    return now - pipeline_video_last_encode_ms(s->video) < s->encode->lossless_refresh_ms;
}

int vnc_h264_append(struct vnc_client *c, int64_t now, uint16_t *nrects, bool *sent, bool *current)
{
    struct server *s = c->srv;
    struct pipeline_video *v = s->video;
    *sent = *current = false;
    if (!v || !wants_h264(c) || !pipeline_video_active(v, now))
        return 0;
    uint64_t last = pipeline_video_last(v), stream = pipeline_video_stream(v);
    struct pipeline_video_frame fr;
    /* The stream must show the current picture, else tiles are newer;
     * unless the current picture is being encoded: then it follows as
     * H.264, and an encoder slower than the frame rate still serves. */
    uint64_t seq = pipeline_seq(s->pipe);
    const struct tile_grid *g = pipeline_grid(s->pipe);
    unsigned sw, sh;
    pipeline_video_size(v, &sw, &sh);
    bool follows = pipeline_video_pending(v, seq, now) && sw == (g->width & ~1u) && sh == (g->height & ~1u);
    if (!pipeline_video_frame(v, last, &fr) || (fr.picture_seq != seq && !follows)) {
        if (last == 0 || c->h264_stream != stream)
            c->h264_have = 0;
        return 0;
    }
    uint64_t from;
    uint32_t flags = 0;
    bool in_sync = c->h264_stream == stream && c->h264_have > 0;
    if (in_sync && c->h264_have == last)
        return 0; /* nothing new in the stream: what is dirty goes as tiles */
    if (in_sync && c->h264_have < last && last - c->h264_have <= VNC_H264_MAX_SPAN &&
        span_held(v, c->h264_have + 1, last)) {
        from = c->h264_have + 1;
    } else {
        uint64_t idr = pipeline_video_last_idr(v);
        if (idr == 0 || last - idr >= VNC_H264_MAX_SPAN || !span_held(v, idr, last) ||
            (in_sync && c->h264_have >= idr)) {
            /* Too far behind or new: tiles now, the stream again from the
             * next IDR. */
            pipeline_video_request_idr(v);
            c->h264_have = 0;
            s->stats.h264_resyncs++;
            return 0;
        }
        from = idr;
        flags = H264_FLAG_RESET_CONTEXT;
    }
    if (c->h264_reset_all) {
        flags |= H264_FLAG_RESET_ALL;
        c->h264_reset_all = false;
    }
    size_t len = 0;
    for (uint64_t n = from; n <= last; n++) {
        pipeline_video_frame(v, n, &fr);
        len += fr.len;
    }
    unsigned w, h;
    pipeline_video_size(v, &w, &h);
    uint8_t head[12 + 8] = {0, 0, 0, 0, w >> 8, w & 255, h >> 8, h & 255, 0, 0, 0, ENC_H264,
                            (uint8_t)(len >> 24), (uint8_t)(len >> 16), (uint8_t)(len >> 8), (uint8_t)len,
                            0, 0, 0, (uint8_t)flags};
    if (len > UINT32_MAX || vnc_client_out_append(c, head, sizeof(head)) < 0)
        return -1;
    for (uint64_t n = from; n <= last; n++) {
        pipeline_video_frame(v, n, &fr);
        if (vnc_client_out_append(c, fr.data, fr.len) < 0)
            return -1;
    }
    (*nrects)++;
    /* Else the current picture's frame is still in the encoder (a preview
     * went ahead of it): what changed since stays owed (vnc_internal.h). */
    *current = fr.picture_seq == seq && !fr.preview;
    c->h264_stream = stream;
    c->h264_have = last;
    s->stats.h264_rects++;
    s->stats.h264_bytes += len + sizeof(head);
    *sent = true;
    return 0;
}
