/* imgtool: images for end-to-end tests.
 *   imgtool ref SCENARIO WxH FPS FRAME FORMAT OUT.ppm
 *       what piglix serves losslessly for test-source frame FRAME: the
 *       scenario rendered, converted to FORMAT (yuyv|uyvy|rgb24) as the
 *       source emits it, and back to RGB as the server does.
 *   imgtool jpeg2ppm IN.jpg OUT.ppm
 * Exit 0 on success, 1 on error, 64 on bad usage. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <turbojpeg.h>

#include "capture/testsrc.h"
#include "common/pixfmt.h"

static int write_ppm(const char *path, const uint8_t *rgb, unsigned w, unsigned h, unsigned bpp,
                     unsigned stride)
{
    FILE *f = fopen(path, "wb");
    if (!f) {
        perror(path);
        return 1;
    }
    fprintf(f, "P6\n%u %u\n255\n", w, h);
    for (unsigned y = 0; y < h; y++)
        for (unsigned x = 0; x < w; x++)
            fwrite(rgb + (size_t)y * stride + (size_t)x * bpp, 1, 3, f);
    return fclose(f) == 0 ? 0 : 1;
}

static int cmd_ref(char **argv)
{
    unsigned w, h;
    if (sscanf(argv[1], "%ux%u", &w, &h) != 2 || w == 0 || h == 0 || w % 2) {
        fprintf(stderr, "imgtool: bad size %s\n", argv[1]);
        return 64;
    }
    unsigned fps = (unsigned)atoi(argv[2]);
    uint64_t frame = strtoull(argv[3], NULL, 10);
    int fmt = pixfmt_parse(argv[4]);
    if (fmt < 0 || fps == 0) {
        fprintf(stderr, "imgtool: bad fps or format\n");
        return 64;
    }
    size_t n = (size_t)w * h;
    uint8_t *rgb = malloc(n * 3), *native = malloc(n * 3), *rgbx = malloc(n * 4);
    int r = 1;
    if (!rgb || !native || !rgbx)
        goto out;
    if (testsrc_render_rgb24(argv[0], w, h, fps, frame, rgb, w * 3) != 0) {
        fprintf(stderr, "imgtool: cannot render scenario %s\n", argv[0]);
        goto out;
    }
    unsigned nstride = w * pixfmt_bytes_per_pixel((enum pixfmt)fmt);
    pixfmt_from_rgb((enum pixfmt)fmt, rgb, 3, w * 3, native, nstride, w, h);
    pixfmt_to_rgbx((enum pixfmt)fmt, native, nstride, rgbx, w * 4, w, h);
    r = write_ppm(argv[5], rgbx, w, h, 4, w * 4);
out:
    free(rgb);
    free(native);
    free(rgbx);
    return r;
}

static int cmd_jpeg2ppm(char **argv)
{
    FILE *f = fopen(argv[0], "rb");
    if (!f) {
        perror(argv[0]);
        return 1;
    }
    fseek(f, 0, SEEK_END);
    long len = ftell(f);
    fseek(f, 0, SEEK_SET);
    unsigned char *jpg = len > 0 ? malloc((size_t)len) : NULL;
    if (!jpg || fread(jpg, 1, (size_t)len, f) != (size_t)len) {
        fclose(f);
        free(jpg);
        fprintf(stderr, "imgtool: cannot read %s\n", argv[0]);
        return 1;
    }
    fclose(f);
    tjhandle tj = tjInitDecompress();
    int w, h, sub, cs;
    int r = 1;
    unsigned char *rgb = NULL;
    if (tjDecompressHeader3(tj, jpg, (unsigned long)len, &w, &h, &sub, &cs) == 0 &&
        (rgb = malloc((size_t)w * h * 3)) &&
        tjDecompress2(tj, jpg, (unsigned long)len, rgb, w, 0, h, TJPF_RGB, TJFLAG_ACCURATEDCT) == 0)
        r = write_ppm(argv[1], rgb, (unsigned)w, (unsigned)h, 3, (unsigned)w * 3);
    else
        fprintf(stderr, "imgtool: %s: %s\n", argv[0], tjGetErrorStr2(tj));
    tjDestroy(tj);
    free(rgb);
    free(jpg);
    return r;
}

int main(int argc, char **argv)
{
    if (argc == 8 && strcmp(argv[1], "ref") == 0)
        return cmd_ref(argv + 2);
    if (argc == 4 && strcmp(argv[1], "jpeg2ppm") == 0)
        return cmd_jpeg2ppm(argv + 2);
    fprintf(stderr, "usage: imgtool ref SCENARIO WxH FPS FRAME FORMAT OUT.ppm\n"
                    "       imgtool jpeg2ppm IN.jpg OUT.ppm\n");
    return 64;
}
