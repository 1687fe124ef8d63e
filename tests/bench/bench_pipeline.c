/* bench_pipeline: the frame path's cost, per test-source scenario, printed as
 * figures (not a test). For each scenario at WxH it feeds N frames through
 * damage -> encode-once -> per-client update building, and reports:
 *   damage ms/frame, encode ms/frame, bytes/s to one client, the CPU of 4
 *   clients against 1, peak RSS, the cost of a static (unchanged) frame, and
 *   for comparison every frame as one full-frame JPEG (an MJPEG streamer).
 * usage: bench_pipeline [WxH] [frames] [fps] [quality]   (1920x1080 90 30 80) */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <turbojpeg.h>

#include "capture/testsrc.h"
#include "pipeline/pipeline.h"

#define MAX_CLIENTS 4

static double cpu_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

struct client {
    uint8_t *dirty, *lossy, *out;
    size_t out_cap;
    uint64_t bytes;
};

/* What the server does per client and update: take the shared encoding of
 * its dirty tiles (cached after the first client) and copy it out. */
static void serve(struct pipeline *p, struct client *c, size_t ntiles, FILE *sink)
{
    bool any = false;
    for (size_t i = 0; i < ntiles && !any; i++)
        any = c->dirty[i];
    if (!any)
        return;
    struct update *u = pipeline_encode(p, c->dirty, ENCODE_LOSSY, c->lossy);
    if (!u)
        abort();
    if (c->out_cap < u->len + 4) {
        c->out_cap = u->len + 4;
        c->out = realloc(c->out, c->out_cap);
    }
    memcpy(c->out + 4, u->data, u->len);
    fwrite(c->out, 1, u->len + 4, sink);
    c->bytes += u->len + 4;
    update_unref(u);
    memset(c->dirty, 0, ntiles);
}

struct result {
    double damage_ms, encode_ms, cpu_1, cpu_4, static_ms, bytes_per_s, mjpeg_ms, mjpeg_bytes_per_s;
};

static double run_clients(const char *scenario, unsigned w, unsigned h, unsigned fps, int frames,
                          int nclients, int quality, struct result *res, FILE *sink)
{
    struct testsrc *ts = testsrc_create(scenario, w, h, fps, PIXFMT_YUYV);
    struct encode_settings es = {.quality = quality, .subsamp = ENCODE_SUBSAMP_422};
    struct pipeline *p = pipeline_create(&es, 64);
    if (!ts || !p)
        abort();
    struct client cl[MAX_CLIENTS] = {0};
    size_t ntiles = 0;
    double render = 0, total = 0;
    uint64_t bytes_after_first = 0;
    for (int f = 0; f < frames; f++) {
        struct capture_frame fr;
        double t0 = cpu_ms();
        testsrc_next_unpaced(ts, &fr);
        double t1 = cpu_ms();
        render += t1 - t0;
        bool resized;
        int n = pipeline_feed(p, &fr, &resized);
        if (f == 0) {
            ntiles = tile_grid_count(pipeline_grid(p));
            for (int i = 0; i < nclients; i++) {
                cl[i].dirty = malloc(ntiles);
                cl[i].lossy = calloc(1, ntiles);
                memset(cl[i].dirty, 1, ntiles);
            }
        } else if (n > 0) {
            for (int i = 0; i < nclients; i++)
                for (size_t t = 0; t < ntiles; t++)
                    cl[i].dirty[t] |= pipeline_last_damage(p)[t];
        }
        for (int i = 0; i < nclients; i++)
            serve(p, &cl[i], ntiles, sink);
        if (f == 0)
            bytes_after_first = cl[0].bytes;
        total += cpu_ms() - t1;
    }
    if (res) {
        struct pipeline_stats st;
        pipeline_get_stats(p, &st);
        res->damage_ms = st.damage_ms / frames;
        res->encode_ms = st.encode_ms / frames;
        res->bytes_per_s = (double)(cl[0].bytes - bytes_after_first) / (frames - 1) * fps;
        /* a static frame: the same picture again */
        struct capture_frame fr;
        testsrc_render(ts, (uint64_t)frames - 1, &fr);
        bool resized;
        pipeline_feed(p, &fr, &resized);
        double t0 = cpu_ms();
        const int reps = 50;
        for (int i = 0; i < reps; i++)
            pipeline_feed(p, &fr, &resized);
        res->static_ms = (cpu_ms() - t0) / reps;
    }
    for (int i = 0; i < nclients; i++) {
        free(cl[i].dirty);
        free(cl[i].lossy);
        free(cl[i].out);
    }
    pipeline_destroy(p);
    testsrc_destroy(ts);
    (void)render;
    return total / frames;
}

/* The MJPEG way: every frame is one full-frame JPEG, whatever changed. */
static void run_mjpeg(const char *scenario, unsigned w, unsigned h, unsigned fps, int frames,
                      int quality, struct result *res)
{
    struct testsrc *ts = testsrc_create(scenario, w, h, fps, PIXFMT_YUYV);
    tjhandle tj = tjInitCompress();
    uint8_t *y = malloc((size_t)w * h), *u = malloc((size_t)w * h / 2), *v = malloc((size_t)w * h / 2);
    unsigned char *jpeg = tjAlloc((int)tjBufSize((int)w, (int)h, TJSAMP_422));
    double ms = 0;
    uint64_t bytes = 0;
    for (int f = 0; f < frames; f++) {
        struct capture_frame fr;
        testsrc_next_unpaced(ts, &fr);
        double t0 = cpu_ms();
        for (unsigned r = 0; r < h; r++) {
            const uint8_t *s = fr.data + (size_t)r * fr.stride;
            uint8_t *py = y + (size_t)r * w, *pu = u + (size_t)r * w / 2, *pv = v + (size_t)r * w / 2;
            for (unsigned x = 0; x < w / 2; x++) {
                py[2 * x] = s[4 * x];
                pu[x] = s[4 * x + 1];
                py[2 * x + 1] = s[4 * x + 2];
                pv[x] = s[4 * x + 3];
            }
        }
        const unsigned char *planes[3] = {y, u, v};
        int strides[3] = {(int)w, (int)w / 2, (int)w / 2};
        unsigned long size = tjBufSize((int)w, (int)h, TJSAMP_422);
        if (tjCompressFromYUVPlanes(tj, planes, (int)w, strides, (int)h, TJSAMP_422, &jpeg, &size,
                                    quality, TJFLAG_NOREALLOC) != 0)
            abort();
        ms += cpu_ms() - t0;
        bytes += size;
    }
    res->mjpeg_ms = ms / frames;
    res->mjpeg_bytes_per_s = (double)bytes / frames * fps;
    tjFree(jpeg);
    tjDestroy(tj);
    free(y);
    free(u);
    free(v);
    testsrc_destroy(ts);
}

int main(int argc, char **argv)
{
    unsigned w = 1920, h = 1080, fps = 30;
    int frames = 90, quality = 80;
    if (argc > 1 && sscanf(argv[1], "%ux%u", &w, &h) != 2)
        return 64;
    if (argc > 2)
        frames = atoi(argv[2]);
    if (argc > 3)
        fps = (unsigned)atoi(argv[3]);
    if (argc > 4)
        quality = atoi(argv[4]);
    if (frames < 2 || fps < 1)
        return 64;
    FILE *sink = fopen("/dev/null", "w");
    static const char *const scenarios[] = {"bios", "desktop", "motion"};
    printf("piglix pipeline benchmark: %ux%u YUYV, %d frames at %u fps, JPEG quality %d, 4:2:2\n",
           w, h, frames, fps, quality);
    printf("%-8s %10s %10s %10s %12s %10s %11s %12s %14s %9s\n", "scenario", "static ms", "damage ms",
           "encode ms", "bytes/s", "1-client", "4-clients", "4/1 ratio", "MJPEG bytes/s", "MJPEG ms");
    for (int i = 0; i < 3; i++) {
        struct result r = {0};
        r.cpu_1 = run_clients(scenarios[i], w, h, fps, frames, 1, quality, &r, sink);
        r.cpu_4 = run_clients(scenarios[i], w, h, fps, frames, 4, quality, NULL, sink);
        run_mjpeg(scenarios[i], w, h, fps, frames, quality, &r);
        printf("%-8s %10.4f %10.3f %10.3f %12.0f %9.3fms %9.3fms %12.2f %14.0f %9.3f\n", scenarios[i],
               r.static_ms, r.damage_ms, r.encode_ms, r.bytes_per_s, r.cpu_1, r.cpu_4,
               r.cpu_4 / (r.cpu_1 > 0 ? r.cpu_1 : 1), r.mjpeg_bytes_per_s, r.mjpeg_ms);
        printf("         bytes vs MJPEG: 1/%.0f   CPU vs MJPEG: %.2fx\n",
               r.bytes_per_s > 0 ? r.mjpeg_bytes_per_s / r.bytes_per_s : 0.0,
               r.mjpeg_ms > 0 ? r.cpu_1 / r.mjpeg_ms : 0.0);
        fflush(stdout);
    }
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    printf("peak RSS: %.1f MiB\n", ru.ru_maxrss / 1024.0);
    fclose(sink);
    return 0;
}
