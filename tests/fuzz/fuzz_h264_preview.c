/* Fuzzes h264/preview.c's stream follower (h264_follow_note: SPS, PPS and
 * slice headers of an encoder's Annex-B output) and the preview written
 * from what it kept: any bytes are followed without reading out of bounds,
 * and a preview, when one is made, is a PPS and a non-reference slice
 * whose size fits the macroblocks it carries; fed back to a follower of
 * its own, it leaves that follower waiting for the encoder's next picture. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "h264/h264.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct h264_follow f;
    h264_follow_init(&f);
    h264_follow_note(&f, data, size);
    /* A picture of the size the stream said, if small (the fuzzer's time
     * goes to the parser, not to pictures). */
    if (f.sps_ok && f.mbw <= 16 && f.mbh <= 16) {
        unsigned w = f.mbw * 16, h = f.mbh * 16, n = f.mbw * f.mbh;
        uint8_t *planes = malloc((size_t)w * h * 3 / 2), *still = malloc(n);
        if (!planes || !still)
            abort();
        memset(planes, 0, (size_t)w * h * 3 / 2); /* zeros: escaping at its worst */
        for (unsigned i = 0; i < n; i++)
            still[i] = (uint8_t)(i % 3 != 0);
        struct h264_picture pic = {.plane = {planes, planes + w * h, planes + w * h + w * h / 4},
                                   .stride = {w, w / 2, w / 2}, .dmabuf_fd = -1, .still_mbs = still};
        struct h264_output out;
        size_t changed = (n + 2) / 3;
        if (h264_follow_preview(&f, &pic, w, h, n, &out)) {
            if (out.size < 8 + changed * 384 || memcmp(out.data, "\0\0\0\1\x68", 5) != 0)
                abort();
            if (h264_follow_preview(&f, &pic, w, h, n, &out))
                abort(); /* never two in a row */
        }
        free(planes);
        free(still);
    }
    h264_follow_free(&f);
    return 0;
}
