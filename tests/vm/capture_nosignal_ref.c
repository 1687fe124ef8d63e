/* capture_nosignal_ref: writes the exact frame piglix shows when there is no
 * picture, for the VM tests to compare what a viewer receives against.
 *   capture_nosignal_ref REASON WxH DETAIL OUT.ppm
 * REASON: none | nolock | range | timeout | nodevice. Exit 0, 1 on errors,
 * 64 on bad usage. */
#include <stdio.h>
#include <string.h>

#include "capture/nosignal.h"

static int parse_reason(const char *s, enum capture_signal *out)
{
    static const struct {
        const char *name;
        enum capture_signal signal;
    } names[] = {
        {"none", CAPTURE_SIGNAL_NONE},       {"nolock", CAPTURE_SIGNAL_NO_LOCK},
        {"range", CAPTURE_SIGNAL_OUT_OF_RANGE}, {"timeout", CAPTURE_SIGNAL_TIMEOUT},
        {"nodevice", CAPTURE_SIGNAL_NO_DEVICE},
    };
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        if (strcmp(s, names[i].name) == 0) {
            *out = names[i].signal;
            return 0;
        }
    return -1;
}

int main(int argc, char **argv)
{
    enum capture_signal reason;
    unsigned w, h;
    if (argc != 5 || parse_reason(argv[1], &reason) < 0 || sscanf(argv[2], "%ux%u", &w, &h) != 2) {
        fprintf(stderr, "usage: capture_nosignal_ref none|nolock|range|timeout|nodevice WxH DETAIL OUT.ppm\n");
        return 64;
    }
    struct nosignal_canvas canvas = {0};
    struct capture_frame f;
    if (nosignal_render(&canvas, reason, argv[3], w, h, &f) < 0)
        return 1;
    FILE *out = fopen(argv[4], "wb");
    if (!out) {
        perror(argv[4]);
        nosignal_canvas_free(&canvas);
        return 1;
    }
    fprintf(out, "P6\n%u %u\n255\n", f.width, f.height);
    for (unsigned y = 0; y < f.height; y++)
        fwrite(f.data + (size_t)y * f.stride, 1, (size_t)f.width * 3, out);
    int bad = fclose(out) != 0;
    nosignal_canvas_free(&canvas);
    return bad;
}
