/* One VNC client: what it has not seen yet (dirty tiles), what it saw only
 * lossily, and the single update in flight. An update is built only when the
 * previous one has left and the client has asked for the next, so a slow
 * client gets the union of everything that changed since, never a backlog;
 * writes are non-blocking, so it never holds up the server thread. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "common/clock.h"
#include "common/log.h"
#include "server/vnc_internal.h"

#include <rfb/rfbregion.h>

#define ENC_RAW 0
#define ENC_TIGHT 7
#define ENC_DESKTOP_SIZE (-223)
#define ENC_EXT_DESKTOP_SIZE (-308)
#define ENC_QEMU_EXT_KEY (-258)
#define ENC_QEMU_LED_STATE (-261)
#define ENC_H264 50

struct vnc_client *vnc_client_new(struct server *srv, rfbClientPtr cl)
{
    struct vnc_client *c = calloc(1, sizeof(*c));
    if (!c)
        return NULL;
    c->srv = srv;
    c->cl = cl;
    c->connected_ms = clock_mono_ms();
    c->leds_sent = -1;
    if (vnc_client_reset_tiles(c) < 0) {
        free(c);
        return NULL;
    }
    return c;
}

void vnc_client_free(struct vnc_client *c)
{
    if (!c)
        return;
    free(c->dirty);
    free(c->lossy);
    free(c->scratch);
    free(c->refresh);
    free(c->out);
    free(c->peek);
    free(c);
}

int vnc_client_reset_tiles(struct vnc_client *c)
{
    size_t n = 1;
    if (pipeline_has_picture(c->srv->pipe))
        n = tile_grid_count(pipeline_grid(c->srv->pipe));
    if (n != c->ntiles) {
        uint8_t *d = realloc(c->dirty, n), *l = realloc(c->lossy, n), *s = realloc(c->scratch, n);
        if (d) c->dirty = d;
        if (l) c->lossy = l;
        if (s) c->scratch = s;
        uint8_t *r = realloc(c->refresh, n);
        if (r) c->refresh = r;
        if (!d || !l || !s || !r)
            return -1;
        c->ntiles = n;
    }
    memset(c->dirty, 1, n);
    memset(c->lossy, 0, n);
    return 0;
}

/* A client that connected before the first picture (or across a change the
 * caller did not see) has maps of another grid: start it over. */
static int ensure_tiles(struct vnc_client *c)
{
    if (pipeline_has_picture(c->srv->pipe) &&
        c->ntiles != tile_grid_count(pipeline_grid(c->srv->pipe)))
        return vnc_client_reset_tiles(c);
    return 0;
}

void vnc_client_add_damage(struct vnc_client *c, const uint8_t *damage)
{
    if (ensure_tiles(c) < 0)
        return; /* reset failed: maps unchanged; the next turn retries */
    for (size_t i = 0; i < c->ntiles; i++)
        c->dirty[i] |= damage[i];
}

static uint32_t be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

void vnc_client_note_encodings(struct vnc_client *c, const uint8_t *msg, size_t len)
{
    c->tight = c->jpeg = c->lastrect = c->led_qemu = c->h264 = false;
    c->encodings_seen = true;
    size_t n = (size_t)(msg[2] << 8 | msg[3]);
    for (size_t i = 0; i < n && 4 + 4 * i + 4 <= len; i++) {
        int32_t e = (int32_t)be32(msg + 4 + 4 * i);
        if (e == ENC_TIGHT)
            c->tight = true;
        else if ((e >= -32 && e <= -23) || (e >= -512 && e <= -413))
            c->jpeg = true; /* a JPEG quality level: the client takes Tight JPEG */
        else if (e == -224)
            c->lastrect = true;
        else if (e == ENC_QEMU_LED_STATE)
            c->led_qemu = true;
        else if (e == ENC_H264)
            c->h264 = c->srv->video != NULL;
    }
}

bool vnc_client_output_pending(const struct vnc_client *c) { return c->out_off < c->out_len; }

static int out_reserve(struct vnc_client *c, size_t n)
{
    if (c->out_len + n <= c->out_cap)
        return 0;
    size_t cap = c->out_cap ? c->out_cap : 65536;
    while (cap < c->out_len + n)
        cap *= 2;
    uint8_t *o = realloc(c->out, cap);
    if (!o)
        return -1;
    c->out = o;
    c->out_cap = cap;
    return 0;
}

static int out_append(struct vnc_client *c, const void *p, size_t n)
{
    if (out_reserve(c, n) < 0)
        return -1;
    memcpy(c->out + c->out_len, p, n);
    c->out_len += n;
    return 0;
}

int vnc_client_out_append(struct vnc_client *c, const void *p, size_t n) { return out_append(c, p, n); }

static int out_rect_header(struct vnc_client *c, unsigned x, unsigned y, unsigned w, unsigned h,
                           int32_t enc)
{
    uint8_t b[12] = {x >> 8, x & 255, y >> 8, y & 255, w >> 8, w & 255, h >> 8, h & 255,
                     (uint32_t)enc >> 24, ((uint32_t)enc >> 16) & 255, ((uint32_t)enc >> 8) & 255,
                     (uint32_t)enc & 255};
    return out_append(c, b, sizeof(b));
}

/* Tight's TPIXEL format applies to 32 bpp, depth 24, 8 bits per channel. */
static bool client_takes_tight(const struct vnc_client *c)
{
    const rfbPixelFormat *f = &c->cl->format;
    return c->tight && f->trueColour && f->bitsPerPixel == 32 && f->depth == 24 &&
           f->redMax == 255 && f->greenMax == 255 && f->blueMax == 255;
}

static int append_size_rect(struct vnc_client *c, unsigned w, unsigned h, uint16_t *nrects)
{
    rfbClientPtr cl = c->cl;
    if (cl->useExtDesktopSize) {
        if (out_rect_header(c, (unsigned)cl->requestedDesktopSizeChange,
                            (unsigned)cl->lastDesktopSizeChangeError, w, h,
                            ENC_EXT_DESKTOP_SIZE) < 0)
            return -1;
        uint8_t body[4 + 16] = {1, 0, 0, 0,  0, 0, 0, 0,  0, 0, 0, 0,
                                w >> 8, w & 255, h >> 8, h & 255,  0, 0, 0, 0};
        if (out_append(c, body, sizeof(body)) < 0)
            return -1;
    } else if (out_rect_header(c, 0, 0, w, h, ENC_DESKTOP_SIZE) < 0) {
        return -1;
    }
    cl->requestedDesktopSizeChange = 0;
    cl->lastDesktopSizeChangeError = 0;
    (*nrects)++;
    return 0;
}

/* Raw for clients without Tight or with other pixel formats: translated per
 * client by libvncserver's translate function, one rect per run of tiles. */
static int append_raw(struct vnc_client *c, const uint8_t *tiles, uint16_t *nrects)
{
    struct server *srv = c->srv;
    const struct tile_grid *g = pipeline_grid(srv->pipe);
    unsigned stride;
    const uint8_t *rgbx = pipeline_rgbx(srv->pipe, tiles, &stride);
    if (!rgbx)
        return -1;
    unsigned bpp = c->cl->format.bitsPerPixel / 8;
    for (unsigned r = 0; r < g->rows; r++) {
        for (unsigned col = 0; col < g->cols;) {
            if (!tiles[r * g->cols + col]) {
                col++;
                continue;
            }
            unsigned start = col;
            while (col < g->cols && tiles[r * g->cols + col])
                col++;
            unsigned x = start * g->tile, y = r * g->tile;
            unsigned w = (col * g->tile > g->width ? g->width : col * g->tile) - x;
            unsigned h = (y + g->tile > g->height ? g->height : y + g->tile) - y;
            if (out_rect_header(c, x, y, w, h, ENC_RAW) < 0)
                return -1;
            size_t need = (size_t)w * h * bpp;
            if (out_reserve(c, need) < 0)
                return -1;
            c->cl->translateFn(c->cl->translateLookupTable, &srv->screen->serverFormat,
                               &c->cl->format, (char *)(rgbx + (size_t)y * stride + x * 4),
                               (char *)(c->out + c->out_len), (int)stride, (int)w, (int)h);
            c->out_len += need;
            (*nrects)++;
        }
    }
    return 0;
}

static bool any_set(const uint8_t *m, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (m[i])
            return true;
    return false;
}

static void mark_region_dirty(struct vnc_client *c)
{
    rfbClientPtr cl = c->cl;
    if (sraRgnEmpty(cl->modifiedRegion))
        return;
    if (pipeline_has_picture(c->srv->pipe)) {
        const struct tile_grid *g = pipeline_grid(c->srv->pipe);
        sraRegion *bbox = sraRgnBBox(cl->modifiedRegion);
        sraRect r;
        if (sraRgnPopRect(bbox, &r, 0) && r.x2 > r.x1 && r.y2 > r.y1) {
            for (unsigned ty = (unsigned)r.y1 / g->tile; ty < g->rows && ty * g->tile < (unsigned)r.y2; ty++)
                for (unsigned tx = (unsigned)r.x1 / g->tile; tx < g->cols && tx * g->tile < (unsigned)r.x2; tx++)
                    c->dirty[ty * g->cols + tx] = 1;
        }
        sraRgnDestroy(bbox);
    }
    sraRgnMakeEmpty(cl->modifiedRegion);
}

/* Tiles this client got as JPEG that have been still for the refresh delay
 * (and are not about to be sent anyway) go out again losslessly. */
static bool collect_refresh(struct vnc_client *c, int64_t now)
{
    int delay = c->srv->encode->lossless_refresh_ms;
    if (delay <= 0)
        return false;
    const int64_t *changed = pipeline_tile_changed_ms(c->srv->pipe);
    bool any = false;
    for (size_t i = 0; i < c->ntiles; i++) {
        c->refresh[i] = c->lossy[i] && !c->dirty[i] && now - changed[i] >= delay;
        any |= c->refresh[i];
    }
    return any;
}

static int append_tight(struct vnc_client *c, const uint8_t *tiles, enum encode_mode mode,
                        uint16_t *nrects)
{
    memset(c->scratch, 0, c->ntiles);
    struct update *u = pipeline_encode(c->srv->pipe, tiles, mode, c->scratch);
    if (!u)
        return -1;
    if (u->nrects + *nrects > 65535 || out_append(c, u->data, u->len) < 0) {
        update_unref(u);
        return -1;
    }
    *nrects = (uint16_t)(*nrects + u->nrects);
    update_unref(u);
    for (size_t i = 0; i < c->ntiles; i++)
        if (tiles[i])
            c->lossy[i] = c->scratch[i];
    return 0;
}

static int build_update(struct vnc_client *c, int64_t now)
{
    struct server *srv = c->srv;
    rfbClientPtr cl = c->cl;
    if (ensure_tiles(c) < 0)
        return -1;
    mark_region_dirty(c);
    if (sraRgnEmpty(cl->requestedRegion) || !pipeline_has_picture(srv->pipe))
        return 0;
    const struct tile_grid *g = pipeline_grid(srv->pipe);
    bool size_msg = cl->useNewFBSize && cl->newFBSizePending;
    bool dirty = any_set(c->dirty, c->ntiles);
    bool tight = client_takes_tight(c);
    bool refresh = tight && (c->jpeg || c->h264) && !vnc_h264_holds_refresh(c, now) &&
                   collect_refresh(c, now);
    int leds = (int)(atomic_load(&srv->leds) & 7);
    bool led_msg = c->led_qemu && leds != c->leds_sent;
    if (!size_msg && !c->qemu_ack_pending && !dirty && !refresh && !led_msg)
        return 0;

    c->out_len = c->out_off = 0;
    uint8_t head[4] = {0, 0, 0, 0};
    if (out_append(c, head, 4) < 0)
        return -1;
    uint16_t nrects = 0;
    if (size_msg) {
        cl->newFBSizePending = FALSE;
        if (append_size_rect(c, g->width, g->height, &nrects) < 0)
            return -1;
    }
    if (c->qemu_ack_pending) {
        c->qemu_ack_pending = false;
        if (out_rect_header(c, 0, 0, 0, 0, ENC_QEMU_EXT_KEY) < 0)
            return -1;
        nrects++;
    }
    if (led_msg) {
        uint8_t state = (uint8_t)leds;
        if (out_rect_header(c, 0, 0, 0, 0, ENC_QEMU_LED_STATE) < 0 || out_append(c, &state, 1) < 0)
            return -1;
        c->leds_sent = leds;
        nrects++;
    }
    bool h264_sent = false, h264_current = false;
    if (dirty && vnc_h264_append(c, now, &nrects, &h264_sent, &h264_current) < 0)
        return -1;
    if (h264_sent) {
        /* The frames show the whole picture, lossy. When they end before
         * the current picture (its frame still being encoded), its damage
         * stays dirty, held for that frame: cleared, nothing would send it
         * until the next change. */
        if (h264_current)
            memset(c->dirty, 0, c->ntiles);
        /* Only Tight takes the lossless refresh that makes it exact again. */
        memset(c->lossy, tight ? 1 : 0, c->ntiles);
        memset(c->refresh, 0, c->ntiles);
        refresh = false;
    } else if (dirty && !vnc_h264_holds_tiles(c, now)) {
        /* (Held: the tiles wait, still marked, for the H.264 frame of this
         * picture being encoded; the collect wakes this loop.) */
        int r = tight ? append_tight(c, c->dirty, c->jpeg ? ENCODE_LOSSY : ENCODE_LOSSLESS, &nrects)
                      : append_raw(c, c->dirty, &nrects);
        if (r < 0)
            return -1;
        memset(c->dirty, 0, c->ntiles);
    }
    if (refresh) {
        if (append_tight(c, c->refresh, ENCODE_LOSSLESS, &nrects) < 0)
            return -1;
        srv->stats.lossless_refreshes++;
    }
    if (nrects == 0) {
        c->out_len = 0; /* all held back: nothing to say yet, the request stands */
        return 0;
    }
    c->out[2] = nrects >> 8;
    c->out[3] = nrects & 255;
    sraRgnMakeEmpty(cl->requestedRegion);
    srv->stats.updates_sent++;
    return 0;
}

static int flush(struct vnc_client *c)
{
    while (c->out_off < c->out_len) {
        ssize_t n = send(c->cl->sock, c->out + c->out_off, c->out_len - c->out_off,
                         MSG_DONTWAIT | MSG_NOSIGNAL);
        if (n < 0) {
            if (errno == EAGAIN || errno == EWOULDBLOCK)
                return 0;
            if (errno == EINTR)
                continue;
            LOG_INFO("vnc", "client %s: send failed: %s", c->cl->host, strerror(errno));
            return -1;
        }
        c->out_off += (size_t)n;
        c->srv->stats.bytes_sent += (uint64_t)n;
    }
    c->out_off = c->out_len = 0;
    return 0;
}

bool vnc_client_has_lossy(const struct vnc_client *c)
{
    return any_set(c->lossy, c->ntiles);
}

int vnc_client_service(struct vnc_client *c, int64_t now)
{
    if (c->cl->sock == RFB_INVALID_SOCKET || c->cl->state != RFB_NORMAL)
        return 0;
    if (c->resized_early && c->encodings_seen) {
        if (!c->cl->useNewFBSize) {
            LOG_INFO("vnc", "client %s cannot follow a resolution change; closing", c->cl->host);
            return -1;
        }
        c->resized_early = false;
    }
    if (flush(c) < 0)
        return -1;
    if (vnc_client_output_pending(c))
        return 0;
    if (build_update(c, now) < 0) {
        LOG_ERROR("vnc", "client %s: cannot build an update (out of memory)", c->cl->host);
        return -1;
    }
    return flush(c);
}
