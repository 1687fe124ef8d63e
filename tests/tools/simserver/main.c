/* simserver: a simulated server for piglix's end-to-end VM tests. It runs
 * inside the test VM on the USB-host side and closes the lights-out loop:
 * it follows the simulated motherboard's power (tests/vm/gpio_sim), reads
 * the keyboard and mice piglix's USB gadget presents, reads the virtual CD
 * piglix plugs in, and draws a firmware-like setup screen into vivid's HDMI
 * output, which vivid loops into the HDMI input piglix captures.
 *
 *   simserver run [--layout us|de] [--size WxH] [--capture DEV] [--output DEV]
 *                 [--power-file PATH|none] [--verbose]
 *   simserver layout | font | iso PATH | selftest     (host-side helpers)
 *
 * Test-only: never part of the daemon. See README.md beside it. */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/clock.h"
#include "sim_tools.h"
#include "sim_ui.h"
#include "sim_video.h"

#define DEFAULT_POWER_FILE "/sys/module/piglix_atx_sim/parameters/power"
#define POWER_POLL_MS 100
#define FOLLOW_MS 300

static volatile sig_atomic_t stop_requested;

static void on_signal(int sig)
{
    (void)sig;
    stop_requested = 1;
}

struct options {
    const char *layout, *capture, *output, *power_file;
    unsigned w, h;
    bool verbose;
};

struct sim {
    struct options opt;
    struct sim_canvas canvas;
    struct sim_ui ui;
    struct sim_video *video;
    struct sim_input *input;
    bool on;
};

/* The board's power from the ATX simulator; no file: always on. */
static bool read_power(const char *path)
{
    if (!path)
        return true;
    FILE *f = fopen(path, "r");
    if (!f)
        return false;
    char buf[16] = "";
    bool on = fgets(buf, sizeof(buf), f) && strncmp(buf, "on", 2) == 0;
    fclose(f);
    return on;
}

static void on_event(void *ctx, const struct sim_event *ev)
{
    struct sim *s = ctx;
    if (s->opt.verbose && ev->type != 0)
        fprintf(stderr, "simserver: event role %d type %u code %u value %d\n", ev->role, ev->type, ev->code,
                ev->value);
    if (s->on) /* a server that is off ignores its keyboard */
        sim_ui_event(&s->ui, ev);
}

static void boot_from_medium(struct sim *s)
{
    struct sim_iso_listing l;
    char dev[64];
    int r = -1;
    if (sim_iso_find_device(dev, sizeof(dev))) {
        r = sim_iso_read(dev, &l);
    } else {
        memset(&l, 0, sizeof(l));
        snprintf(l.error, sizeof(l.error), "no USB CD-ROM or disk on this server");
    }
    fprintf(stderr, "simserver: boot: %s\n", r == 0 ? l.volume : l.error);
    s->ui.boot_requested = false;
    sim_ui_set_media(&s->ui, &l, r == 0);
}

static void set_power(struct sim *s, bool on)
{
    s->on = on;
    fprintf(stderr, "simserver: power %s\n", on ? "on" : "off");
    if (on) {
        sim_ui_reset(&s->ui);
        sim_ui_render(&s->ui);
        sim_canvas_commit(&s->canvas);
    }
    sim_video_power(s->video, on, &s->canvas);
    char desc[48];
    sim_video_describe(s->video, desc, sizeof(desc));
    sim_ui_set_video(&s->ui, desc);
}

static int loop(struct sim *s)
{
    int64_t next_power = 0, next_follow = 0;
    while (!stop_requested) {
        int64_t now = clock_mono_ms();
        if (now >= next_power) {
            bool on = read_power(s->opt.power_file);
            if (on != s->on || next_power == 0)
                set_power(s, on);
            next_power = now + POWER_POLL_MS;
        }
        if (s->on && now >= next_follow) {
            if (sim_video_follow(s->video, &s->canvas)) {
                char desc[48];
                sim_video_describe(s->video, desc, sizeof(desc));
                sim_ui_set_video(&s->ui, desc);
            }
            next_follow = now + FOLLOW_MS;
        }
        bool present[SIM_ROLES];
        for (int r = 0; r < SIM_ROLES; r++)
            present[r] = sim_input_has(s->input, (enum sim_role)r);
        sim_ui_devices(&s->ui, present);
        if (s->on) {
            if (s->ui.boot_requested) {
                sim_ui_render(&s->ui); /* "Reading..." first: a slow medium shows progress */
                sim_canvas_commit(&s->canvas);
                sim_video_present(s->video, &s->canvas);
                boot_from_medium(s);
            }
            sim_ui_render(&s->ui);
            sim_canvas_commit(&s->canvas);
            sim_video_present(s->video, &s->canvas);
        }

        struct pollfd fds[2] = {{.fd = sim_input_fd(s->input), .events = POLLIN}};
        int n = 1, vfd = sim_video_fd(s->video);
        if (vfd >= 0) /* a buffer comes back: a waiting frame can go */
            fds[n++] = (struct pollfd){.fd = vfd, .events = POLLOUT};
        int64_t wait = next_power - clock_mono_ms();
        int r = poll(fds, (nfds_t)n, wait < 0 ? 0 : (int)wait);
        if (r < 0 && errno != EINTR) {
            perror("simserver: poll");
            return 1;
        }
        if (r > 0 && fds[0].revents)
            sim_input_drain(s->input, on_event, s);
    }
    return 0;
}

static int parse_run(int argc, char **argv, struct options *o)
{
    *o = (struct options){.layout = "us", .power_file = DEFAULT_POWER_FILE, .w = SIM_W, .h = SIM_H};
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "--verbose") == 0) {
            o->verbose = true;
            continue;
        }
        if (!v)
            return -1;
        i++;
        if (strcmp(a, "--layout") == 0)
            o->layout = v;
        else if (strcmp(a, "--capture") == 0)
            o->capture = v;
        else if (strcmp(a, "--output") == 0)
            o->output = v;
        else if (strcmp(a, "--power-file") == 0)
            o->power_file = strcmp(v, "none") == 0 ? NULL : v;
        else if (strcmp(a, "--size") == 0 && sscanf(v, "%ux%u", &o->w, &o->h) == 2)
            continue;
        else
            return -1;
    }
    return 0;
}

static int cmd_run(int argc, char **argv)
{
    static struct sim s; /* large (the UI keeps the medium listing) */
    if (parse_run(argc, argv, &s.opt) < 0) {
        fprintf(stderr, "usage: simserver run [--layout us|de] [--size WxH] [--capture DEV] [--output DEV] "
                        "[--power-file PATH|none] [--verbose]\n");
        return 64;
    }
    const struct sim_keymap *km = sim_keymap_find(s.opt.layout);
    if (!km) {
        fprintf(stderr, "simserver: unknown keyboard layout '%s' (us, de)\n", s.opt.layout);
        return 64;
    }
    if (s.opt.power_file && access(s.opt.power_file, R_OK) != 0) {
        fprintf(stderr, "simserver: %s: %s: no ATX simulator, the server is always on\n", s.opt.power_file,
                strerror(errno));
        s.opt.power_file = NULL;
    }
    struct sigaction sa = {.sa_handler = on_signal};
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    s.video = sim_video_open(s.opt.capture, s.opt.output, s.opt.w, s.opt.h);
    if (!s.video)
        return 1;
    unsigned w, h;
    sim_video_size(s.video, &w, &h);
    if (w < SIM_W || h < SIM_H || sim_canvas_init(&s.canvas, w, h) < 0) {
        fprintf(stderr, "simserver: a %ux%u screen is too small (at least %dx%d)\n", w, h, SIM_W, SIM_H);
        sim_video_close(s.video);
        return 1;
    }
    sim_ui_init(&s.ui, &s.canvas, km);
    s.input = sim_input_open();
    int r = s.input ? loop(&s) : 1;
    sim_video_power(s.video, false, &s.canvas);
    sim_input_close(s.input);
    sim_video_close(s.video);
    sim_canvas_free(&s.canvas);
    fprintf(stderr, "simserver: stopped\n");
    return r;
}

int main(int argc, char **argv)
{
    if (argc >= 2 && strcmp(argv[1], "run") == 0)
        return cmd_run(argc - 2, argv + 2);
    if (argc == 2 && strcmp(argv[1], "layout") == 0)
        return sim_tool_layout(stdout);
    if (argc == 2 && strcmp(argv[1], "font") == 0)
        return sim_tool_font(stdout);
    if (argc == 3 && strcmp(argv[1], "iso") == 0)
        return sim_tool_iso(argv[2], stdout);
    if (argc == 2 && strcmp(argv[1], "selftest") == 0)
        return sim_tool_selftest(stdout);
    fprintf(stderr, "usage: simserver run [OPTIONS] | layout | font | iso PATH | selftest\n");
    return 64;
}
