/* bench_encode_workers: wall time to encode a frame's changed tiles with 1
 * worker against 2 and against one per CPU ([encode] workers), side by side
 * in one run: each frame of the test source is fed to every configuration
 * in turn, so machine noise hits them alike. Also checks that every
 * configuration sent the same bytes. Figures, not a test.
 * usage: bench_encode_workers [WxH] [frames]   (1920x1080 40) */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "capture/testsrc.h"
#include "pipeline/damage.h"
#include "pipeline/encode.h"
#include "pipeline/update.h"

#define NCONF 3

static double wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static void run(const char *scenario, unsigned w, unsigned h, int frames, const unsigned *workers)
{
    struct testsrc *ts = testsrc_create(scenario, w, h, 30, PIXFMT_YUYV);
    struct encoder *enc[NCONF];
    struct damage_tracker *dmg[NCONF];
    struct tile_grid g;
    tile_grid_init(&g, w, h, 64);
    size_t n = tile_grid_count(&g);
    uint8_t *map = malloc(n);
    double *ms[NCONF], total[NCONF] = {0};
    uint64_t bytes[NCONF] = {0};
    int encoded = 0, mismatches = 0;
    uint64_t changed_tiles = 0;
    if (!ts || !map)
        abort();
    for (int k = 0; k < NCONF; k++) {
        struct encode_settings es = {.quality = 80, .subsamp = ENCODE_SUBSAMP_422,
                                     .workers = workers[k]};
        enc[k] = encoder_create(&es);
        dmg[k] = damage_create(64);
        ms[k] = calloc((size_t)frames, sizeof(double));
        if (!enc[k] || !dmg[k] || !ms[k])
            abort();
    }
    for (int f = 0; f < frames; f++) {
        struct capture_frame fr;
        testsrc_render(ts, (uint64_t)f + 1, &fr);
        struct update *first = NULL;
        int changed = 0;
        for (int k = 0; k < NCONF; k++) {
            bool reset;
            changed = damage_update(dmg[k], &fr, map, n, &reset);
            if (changed <= 0)
                continue;
            struct update *u = update_new();
            double t0 = wall_ms();
            encoder_invalidate(enc[k], &g, map);
            if (encoder_encode(enc[k], damage_shadow(dmg[k]), &g, map, ENCODE_LOSSY, u, NULL) != 0)
                abort();
            ms[k][encoded] = wall_ms() - t0;
            total[k] += ms[k][encoded];
            bytes[k] += u->len;
            if (!first)
                first = u;
            else {
                mismatches += u->len != first->len || memcmp(u->data, first->data, u->len) != 0;
                update_unref(u);
            }
        }
        update_unref(first);
        encoded += changed > 0;
        changed_tiles += changed > 0 ? (uint64_t)changed : 0;
    }
    struct encode_stats st;
    encoder_get_stats(enc[0], &st);
    printf("%-8s %ux%u, %d changed frames of %d, per frame: %.0f changed tiles of %zu "
           "(%.0f JPEG, %.0f palette, %.0f fill), %.1f rects\n",
           scenario, w, h, encoded, frames, encoded ? (double)changed_tiles / encoded : 0, n,
           encoded ? (double)st.jpeg_tiles / encoded : 0,
           encoded ? (double)st.palette_tiles / encoded : 0,
           encoded ? (double)st.fill_tiles / encoded : 0, encoded ? (double)st.rects / encoded : 0);
    for (int k = 0; k < NCONF; k++) {
        qsort(ms[k], (size_t)encoded, sizeof(double), cmp_double);
        double mean = encoded ? total[k] / encoded : 0, med = encoded ? ms[k][encoded / 2] : 0;
        printf("  workers %u: %7.2f ms/frame mean, %7.2f median, %6.1f KB/frame, speed-up %.2fx "
               "(mean) %.2fx (median)\n",
               workers[k], mean, med, encoded ? bytes[k] / 1024.0 / encoded : 0,
               mean > 0 ? (total[0] / encoded) / mean : 0,
               med > 0 ? ms[0][encoded / 2] / med : 0);
    }
    printf("  identical bytes in every configuration: %s\n", mismatches ? "NO" : "yes");
    for (int k = 0; k < NCONF; k++) {
        encoder_destroy(enc[k]);
        damage_destroy(dmg[k]);
        free(ms[k]);
    }
    free(map);
    testsrc_destroy(ts);
}

int main(int argc, char **argv)
{
    unsigned w = 1920, h = 1080;
    int frames = 40;
    if (argc > 1 && sscanf(argv[1], "%ux%u", &w, &h) != 2)
        return 2;
    if (argc > 2)
        frames = atoi(argv[2]);
    if (frames < 2)
        return 2;
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    unsigned all = cpus < 1 ? 1 : cpus > ENCODE_MAX_WORKERS ? ENCODE_MAX_WORKERS : (unsigned)cpus;
    const unsigned workers[NCONF] = {1, 2, all};
    double load[1] = {0};
    if (getloadavg(load, 1) != 1)
        load[0] = -1;
    /* Other processes take CPUs from the workers: read ratios with the load. */
    printf("bench_encode_workers: JPEG quality 80, 4:2:2, tile 64, %ld CPUs online, "
           "load average %.2f\n", cpus, load[0]);
    run("motion", w, h, frames, workers);
    run("desktop", w, h, frames, workers);
    return 0;
}
