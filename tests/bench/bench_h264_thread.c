/* bench_h264_thread: what the H.264 encoder costs the VNC server thread,
 * with the encoder inline (the old path: conversion and encoding inside
 * the server thread's frame handling) against on its own thread (a copy
 * of the picture handed over, the frame collected on a wake), side by side
 * in one run (figures, not a test).
 *
 * A model of the server loop, with piglix's own pipeline and H.264 stream:
 * one thread polls a 30 fps frame timer, a key-event pipe and the stream's
 * wake eventfd; per frame it feeds the pipeline (damage) and hands the
 * picture to the stream; per key event it stamps the time it got to it
 * (where the real server calls the HID backend). A second thread sends a
 * key event every 7 ms carrying its send time. Printed per mode: the loop
 * thread's busy time per frame in the H.264 path (mean, p95) and the key
 * latency (mean, p95, max) while the test source's motion plays at 1080p.
 * The real server is measured by e2e.h264_input_not_delayed.
 *   usage: bench_h264_thread [seconds] [width height]   (5 1920 1080) */
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "capture/testsrc.h"
#include "common/clock.h"
#include "common/pixfmt.h"
#include "h264/h264.h"
#include "pipeline/pipeline.h"

#define NFRAMES 30 /* distinct pictures, played in a loop */
#define KEY_EVERY_US 7000

struct keys {
    int fd[2];
    volatile int stop;
};

static void *key_sender(void *arg)
{
    struct keys *k = arg;
    while (!k->stop) {
        int64_t t = clock_mono_ns();
        if (write(k->fd[1], &t, sizeof(t)) != sizeof(t))
            break;
        usleep(KEY_EVERY_US);
    }
    return NULL;
}

static void wake_eventfd(void *arg)
{
    uint64_t one = 1;
    if (write(*(int *)arg, &one, sizeof(one)) < 0)
        perror("eventfd");
}

static int cmp_d(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

struct stats {
    double mean, p95, max;
};

static struct stats summarize(double *v, size_t n)
{
    struct stats s = {0};
    if (!n)
        return s;
    qsort(v, n, sizeof(*v), cmp_d);
    for (size_t i = 0; i < n; i++)
        s.mean += v[i];
    s.mean /= (double)n;
    s.p95 = v[n * 95 / 100];
    s.max = v[n - 1];
    return s;
}

static void run(bool threaded, const struct capture_frame *frames, int seconds)
{
    struct encode_settings es = {.quality = 80, .subsamp = ENCODE_SUBSAMP_422};
    struct pipeline *pl = pipeline_create(&es, 64);
    int wfd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    struct h264_params hp = {.fps = 30, .bitrate_kbps = 4000, .backend = H264_BACKEND_AUTO};
    struct pipeline_video *v = pipeline_video_create(&hp, true, threaded ? wake_eventfd : NULL, &wfd);
    int tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
    struct itimerspec its = {.it_interval = {0, 33333333}, .it_value = {0, 33333333}};
    if (tfd >= 0 && timerfd_settime(tfd, 0, &its, NULL) < 0)
        abort();
    struct keys k = {0};
    if (!pl || !v || wfd < 0 || tfd < 0 || pipe(k.fd) < 0)
        abort();
    pthread_t tid;
    pthread_create(&tid, NULL, key_sender, &k);
    size_t cap = (size_t)seconds * 40 + 64, kcap = (size_t)seconds * 1000000 / KEY_EVERY_US + 256;
    double *busy = calloc(cap, sizeof(double)), *lat = calloc(kcap, sizeof(double));
    size_t nb = 0, nk = 0;
    unsigned n = 0;
    int64_t end = clock_mono_ns() + (int64_t)seconds * 1000000000;
    while (clock_mono_ns() < end) {
        struct pollfd p[3] = {{.fd = tfd, .events = POLLIN}, {.fd = k.fd[0], .events = POLLIN},
                              {.fd = wfd, .events = POLLIN}};
        if (poll(p, 3, 100) <= 0)
            continue;
        if (p[1].revents & POLLIN) {
            int64_t sent[64];
            ssize_t r = read(k.fd[0], sent, sizeof(sent));
            int64_t now = clock_mono_ns();
            for (ssize_t i = 0; i < r / (ssize_t)sizeof(int64_t) && nk < kcap; i++)
                lat[nk++] = (double)(now - sent[i]) / 1e6;
        }
        if (p[2].revents & POLLIN) {
            uint64_t x;
            if (read(wfd, &x, sizeof(x)) < 0)
                perror("eventfd");
            pipeline_video_collect(v);
        }
        if (p[0].revents & POLLIN) {
            uint64_t x;
            if (read(tfd, &x, sizeof(x)) < 0)
                perror("timerfd");
            struct capture_frame f = frames[n % NFRAMES];
            f.seq = ++n;
            bool resized;
            pipeline_feed(pl, &f, &resized);
            int64_t t0 = clock_mono_ns();
            pipeline_video_encode(v, pl, t0 / 1000000);
            if (nb < cap)
                busy[nb++] = (double)(clock_mono_ns() - t0) / 1e6;
        }
    }
    k.stop = 1;
    pthread_join(tid, NULL);
    struct pipeline_video_stats vs;
    pipeline_video_get_stats(v, &vs);
    struct stats b = summarize(busy, nb), l = summarize(lat, nk);
    printf("%-9s %7zu %8.2f %8.2f %7zu %8.2f %8.2f %8.2f %7llu %8llu  %s\n", threaded ? "thread" : "inline", nb,
           b.mean, b.p95, nk, l.mean, l.p95, l.max, (unsigned long long)vs.frames,
           (unsigned long long)vs.replaced, vs.encoder);
    fflush(stdout);
    pipeline_video_destroy(v);
    pipeline_destroy(pl);
    close(k.fd[0]);
    close(k.fd[1]);
    close(tfd);
    close(wfd);
    free(busy);
    free(lat);
}

int main(int argc, char **argv)
{
    int seconds = argc > 1 ? atoi(argv[1]) : 5;
    unsigned w = argc > 3 ? (unsigned)atoi(argv[2]) : 1920, h = argc > 3 ? (unsigned)atoi(argv[3]) : 1080;
    struct testsrc *ts = testsrc_create("motion", w, h, 30, PIXFMT_YUYV);
    if (!ts || seconds < 1) {
        fprintf(stderr, "usage: bench_h264_thread [seconds] [width height]\n");
        return 64;
    }
    size_t sz = (size_t)w * h * 2;
    uint8_t *store = malloc(sz * NFRAMES);
    struct capture_frame frames[NFRAMES];
    for (int i = 0; i < NFRAMES; i++) {
        struct capture_frame cf;
        testsrc_next_unpaced(ts, &cf);
        memcpy(store + sz * (size_t)i, cf.data, sz);
        frames[i] = cf;
        frames[i].data = store + sz * (size_t)i;
        frames[i].stride = w * 2;
    }
    testsrc_destroy(ts);
    printf("bench_h264_thread: %ux%u motion at 30 fps for %d s per mode, a key event every %d ms\n", w, h,
           seconds, KEY_EVERY_US / 1000);
    printf("%-9s %7s %8s %8s %7s %8s %8s %8s %7s %8s  %s\n", "encoder", "frames", "busy ms", "p95", "keys",
           "key ms", "p95", "max", "encoded", "replaced", "backend");
    run(false, frames, seconds);
    run(true, frames, seconds);
    free(store);
    return 0;
}
