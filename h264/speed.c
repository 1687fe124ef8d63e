/* h264/speed.c — the software encoder's speed governor (h264_internal.h):
 * analysis that buys quality where the frame rate leaves room for it, and
 * less of it where a frame would not be done in time. */
#include <string.h>

#include "h264/h264_internal.h"

/* Frames of a moving picture at 1080p on this 2-core x86 (bench_h264, x264
 * at H264_SPEED_QUALITY): a panning landscape 20-25 ms (up to 31 when the
 * host is busy), film grain 29-35 ms, i.e. near or over the 33 ms of a
 * 30 fps frame; at H264_SPEED_FAST ~13 and 15-18 ms. Slower analysis above
 * 85 % of the frame time; finer again only below 30 %: the gap is wider
 * than the two levels' ratio (1.7-1.9x), so a picture does not flip
 * between them (at 40 % the pan did, at 13.0 ms). */
#define SPEED_SLOW_SHARE 0.85
#define SPEED_FAST_SHARE 0.30
#define SPEED_MIN_FRAMES 8 /* at a level before it may change again */

void h264_speed_init(struct h264_speed *s, unsigned fps)
{
    *s = (struct h264_speed){.level = H264_SPEED_QUALITY, .frame_ms = 1000.0 / (fps ? fps : 30)};
}

bool h264_speed_note(struct h264_speed *s, double encode_ms)
{
    /* The median of the last H264_SPEED_WINDOW frames: an IDR or a
     * preempted frame alone does not change the level. */
    s->recent[s->pos] = encode_ms;
    s->pos = (s->pos + 1) % H264_SPEED_WINDOW;
    if (s->filled < H264_SPEED_WINDOW)
        s->filled++;
    double sorted[H264_SPEED_WINDOW];
    unsigned n = s->filled;
    memcpy(sorted, s->recent, sizeof(sorted));
    for (unsigned i = 1; i < n; i++)
        for (unsigned j = i; j > 0 && sorted[j - 1] > sorted[j]; j--) {
            double t = sorted[j];
            sorted[j] = sorted[j - 1];
            sorted[j - 1] = t;
        }
    s->median_ms = sorted[n / 2];
    if (++s->frames < SPEED_MIN_FRAMES)
        return false;
    enum h264_speed_level next = s->level;
    if (s->level == H264_SPEED_QUALITY && s->median_ms > SPEED_SLOW_SHARE * s->frame_ms)
        next = H264_SPEED_FAST;
    else if (s->level == H264_SPEED_FAST && s->median_ms < SPEED_FAST_SHARE * s->frame_ms)
        next = H264_SPEED_QUALITY;
    if (next == s->level)
        return false;
    s->level = next;
    s->frames = 0;
    s->filled = s->pos = 0; /* the old level's times say nothing about the new one */
    return true;
}
