/* pipeline/video_convert.c — the encoder's picture as I420: what changed
 * of the capture's picture converted into the picture the encoder took
 * before, and which macroblocks stayed the same (video_internal.h). The
 * encoder's thread only. */
#include <stdlib.h>
#include <string.h>

#include "common/pixfmt.h"
#include "pipeline/video_internal.h"

int video_convert_size(struct video_convert *v, unsigned w, unsigned h)
{
    size_t need = (size_t)w * h * 3 / 2;
    if (need > v->i420_cap) {
        uint8_t *b = realloc(v->i420, need);
        if (!b)
            return -1;
        v->i420 = b;
        v->i420_cap = need;
    }
    v->current = false;
    return 0;
}

void video_convert_free(struct video_convert *v)
{
    free(v->i420);
    free(v->still_mbs);
    free(v->save);
    *v = (struct video_convert){0};
}

/* Rows y0..y1 and columns x0..x1 (even, within the picture) of the picture
 * as I420 (planes of width w) in its own (limited) range: 4:2:2 sources keep
 * their samples (chroma: the two rows averaged), RGB goes through BT.601. */
static void to_i420_rect(const struct capture_frame *f, uint8_t *y, uint8_t *u, uint8_t *vv, unsigned w,
                         unsigned x0, unsigned y0, unsigned x1, unsigned y1)
{
    unsigned cw = w / 2;
    if (f->fmt == PIXFMT_YUYV || f->fmt == PIXFMT_UYVY) {
        unsigned oy = f->fmt == PIXFMT_YUYV ? 0 : 1, oc = f->fmt == PIXFMT_YUYV ? 1 : 0;
        for (unsigned r = y0; r < y1; r += 2) {
            const uint8_t *s0 = f->data + (size_t)r * f->stride, *s1 = s0 + f->stride;
            uint8_t *py0 = y + (size_t)r * w, *py1 = py0 + w;
            uint8_t *pu = u + (size_t)(r / 2) * cw, *pv = vv + (size_t)(r / 2) * cw;
            for (unsigned i = x0 / 2; i < x1 / 2; i++) {
                const uint8_t *a = s0 + 4 * i, *b = s1 + 4 * i;
                py0[2 * i] = a[oy];
                py0[2 * i + 1] = a[oy + 2];
                py1[2 * i] = b[oy];
                py1[2 * i + 1] = b[oy + 2];
                pu[i] = (uint8_t)((a[oc] + b[oc] + 1) / 2);
                pv[i] = (uint8_t)((a[oc + 2] + b[oc + 2] + 1) / 2);
            }
        }
        return;
    }
    for (unsigned r = y0; r < y1; r += 2)
        for (unsigned c = x0; c < x1; c += 2) {
            unsigned su = 0, sv = 0;
            for (unsigned k = 0; k < 4; k++) {
                unsigned rr = r + k / 2, cc = c + k % 2;
                const uint8_t *px = f->data + (size_t)rr * f->stride + cc * 3;
                uint8_t py, pu, pv;
                pixfmt_rgb_to_yuv(px[0], px[1], px[2], &py, &pu, &pv);
                y[(size_t)rr * w + cc] = py;
                su += pu;
                sv += pv;
            }
            u[(size_t)(r / 2) * cw + c / 2] = (uint8_t)((su + 2) / 4);
            vv[(size_t)(r / 2) * cw + c / 2] = (uint8_t)((sv + 2) / 4);
        }
}

/* The I420 samples of rectangle x0..x1, y0..y1 (even) of the picture in
 * planes y/u/vv of width w, packed into save (Y rows, then U, then V), or
 * compared with what save holds, one 16x16 macroblock (mx, my: in the
 * picture) at a time. */
static void save_rect(uint8_t *save, const uint8_t *y, const uint8_t *u, const uint8_t *vv, unsigned w,
                      unsigned x0, unsigned y0, unsigned x1, unsigned y1)
{
    unsigned rw = x1 - x0, cw = w / 2;
    for (unsigned r = y0; r < y1; r++, save += rw)
        memcpy(save, y + (size_t)r * w + x0, rw);
    for (const uint8_t *plane = u; plane; plane = plane == u ? vv : NULL)
        for (unsigned r = y0 / 2; r < y1 / 2; r++, save += rw / 2)
            memcpy(save, plane + (size_t)r * cw + x0 / 2, rw / 2);
}

static bool mb_same(const uint8_t *save, const uint8_t *y, const uint8_t *u, const uint8_t *vv, unsigned w,
                    unsigned x0, unsigned y0, unsigned x1, unsigned y1, unsigned mx, unsigned my)
{
    unsigned rw = x1 - x0, rh = y1 - y0, cw = w / 2;
    unsigned mx0 = mx * 16 > x0 ? mx * 16 : x0, mx1 = mx * 16 + 16 < x1 ? mx * 16 + 16 : x1;
    unsigned my0 = my * 16 > y0 ? my * 16 : y0, my1 = my * 16 + 16 < y1 ? my * 16 + 16 : y1;
    for (unsigned r = my0; r < my1; r++)
        if (memcmp(save + (size_t)(r - y0) * rw + (mx0 - x0), y + (size_t)r * w + mx0, mx1 - mx0))
            return false;
    const uint8_t *cs = save + (size_t)rw * rh;
    for (const uint8_t *plane = u; plane; plane = plane == u ? vv : NULL, cs += (size_t)(rw / 2) * (rh / 2))
        for (unsigned r = my0 / 2; r < my1 / 2; r++)
            if (memcmp(cs + (size_t)(r - y0 / 2) * (rw / 2) + (mx0 - x0) / 2, plane + (size_t)r * cw + mx0 / 2,
                       (mx1 - mx0) / 2))
                return false;
    return true;
}

/* (When few tiles changed (typing), the macroblocks of a changed tile whose
 * samples came out the same are marked still too: a glyph is one or two
 * macroblocks of its tile's sixteen, what a preview carries and x264
 * analyses.) */
const uint8_t *video_convert(struct video_convert *v, const struct capture_frame *f, const struct video_damage *d,
                             unsigned w, unsigned h)
{
    uint8_t *y = v->i420, *u = y + (size_t)w * h, *vv = u + (size_t)w * h / 4;
    const struct tile_grid *g = &d->grid;
    if (!v->current || d->all || g->tile == 0 || g->tile % 16 || g->cols * g->tile < w || g->rows * g->tile < h) {
        to_i420_rect(f, y, u, vv, w, 0, 0, w, h);
        return NULL;
    }
    unsigned mbw = (w + 15) / 16, mbh = (h + 15) / 16, per = g->tile / 16;
    size_t need = (size_t)mbw * mbh, save_need = (size_t)g->tile * g->tile * 3 / 2;
    if (need > v->still_cap) {
        uint8_t *b = realloc(v->still_mbs, need);
        if (!b) {
            to_i420_rect(f, y, u, vv, w, 0, 0, w, h);
            return NULL;
        }
        v->still_mbs = b;
        v->still_cap = need;
    }
    size_t tiles = tile_grid_count(g), changed_tiles = 0;
    for (size_t i = 0; i < tiles; i++)
        changed_tiles += d->map[i] != 0;
    bool fine = changed_tiles * 4 < tiles;
    if (fine && save_need > v->save_cap) {
        uint8_t *b = realloc(v->save, save_need);
        if (b) {
            v->save = b;
            v->save_cap = save_need;
        }
        fine = b != NULL;
    }
    for (unsigned ty = 0; ty < g->rows; ty++)
        for (unsigned tx = 0; tx < g->cols; tx++) {
            bool changed = d->map[ty * g->cols + tx];
            unsigned x0 = tx * g->tile, y0 = ty * g->tile;
            unsigned x1 = x0 + g->tile < w ? x0 + g->tile : w, y1 = y0 + g->tile < h ? y0 + g->tile : h;
            bool in = changed && x0 < w && y0 < h;
            if (in && fine)
                save_rect(v->save, y, u, vv, w, x0, y0, x1, y1);
            if (in)
                to_i420_rect(f, y, u, vv, w, x0, y0, x1, y1);
            for (unsigned my = ty * per; my < (ty + 1) * per && my < mbh; my++)
                for (unsigned mx = tx * per; mx < (tx + 1) * per && mx < mbw; mx++)
                    v->still_mbs[my * mbw + mx] =
                        !changed || (in && fine && mb_same(v->save, y, u, vv, w, x0, y0, x1, y1, mx, my));
        }
    return v->still_mbs;
}
