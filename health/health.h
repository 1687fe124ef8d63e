/* health: the checks behind `piglix doctor` (and, later, GET /api/health and
 * the first-run checklist): each looks at one thing the appliance needs and
 * gives one line, "ok", "warning" or "problem", with the fix in words.
 * Every check reads the system through the roots in struct health_env, so
 * the unit tests run them on a fixture tree instead of this machine. */
#ifndef PIGLIX_HEALTH_HEALTH_H
#define PIGLIX_HEALTH_HEALTH_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/timex.h>
#include <sys/types.h>

#include "common/config.h"
#include "common/liveness.h"

enum health_status { HEALTH_OK, HEALTH_WARNING, HEALTH_PROBLEM };

#define HEALTH_MAX_CHECKS 32
#define HEALTH_NAME_MAX 24
#define HEALTH_TEXT_MAX 384

struct health_check {
    char name[HEALTH_NAME_MAX];   /* what was checked: "capture", "usb-controller"... */
    enum health_status status;
    char text[HEALTH_TEXT_MAX];   /* what was found */
    char fix[HEALTH_TEXT_MAX];    /* what to do about it; "" when there is nothing to do */
};

struct health_report {
    int n;
    struct health_check checks[HEALTH_MAX_CHECKS];
};

/* Where the checks look and what they accept. */
struct health_env {
    char sys[CONFIG_STR_MAX];       /* "/sys" */
    char dev[CONFIG_STR_MAX];       /* "/dev": configured /dev/... paths are read under it */
    char configfs[CONFIG_STR_MAX];  /* "/sys/kernel/config" */
    char proc[CONFIG_STR_MAX];      /* "/proc" */
    uid_t daemon_uid;               /* who must own [state] dir */
    char daemon_user[64];           /* ... by name, for the fix text */
    uint64_t min_free_bytes;        /* image store: warning under this (1 GiB) */
    uint64_t min_available_bytes;   /* MemAvailable: warning under this (64 MiB) */
    int temp_warn_mc, temp_problem_mc; /* the appliance's own temperature, m°C (75 / 85 °C) */
    uint64_t min_cma_bytes;         /* a Pi with v4l2 capture: warning under this (128 MiB) */
    int (*adjtimex)(struct timex *); /* the clock's state (tests give their own) */
    /* ioctl on the capture device and the GPIO chip (tests answer for the
     * plain files of their fixture) */
    int (*ioctl)(int fd, unsigned long request, void *arg);
    int csi2_lanes, csi2_lane_mbps; /* the bridge's link: 2 x 972 Mbit/s on a Pi 4 */
    int probe_timeout_ms;           /* a TCP connect to a configured port (ports) */
    /* The running daemon's figures (GET /api/health: the daemon itself);
     * NULL: read them from [state] dir's status file (piglix doctor). */
    const struct health_live *live;
};

/* The real system's roots and the default limits; the daemon's user is the
 * caller's until it sets another. */
void health_env_defaults(struct health_env *env);

/* The checks: each appends one line (or a few) to the report. */
void health_check_capture(struct health_report *r, const struct health_env *env,
                          const struct config_capture *capture);
void health_check_cma(struct health_report *r, const struct health_env *env,
                      const struct config_capture *capture);
void health_check_usb(struct health_report *r, const struct health_env *env, const struct config_hid *hid);
void health_check_atx(struct health_report *r, const struct health_env *env, const struct config_atx *atx);
void health_check_state(struct health_report *r, const struct health_env *env, const struct config_state *state);
void health_check_vnc_password(struct health_report *r, const struct health_env *env,
                               const struct config_state *state, const struct config_vnc *vnc);
void health_check_web_accounts(struct health_report *r, const struct health_env *env,
                               const struct config_state *state, const struct config_web *web);
void health_check_image_store(struct health_report *r, const struct health_env *env,
                              const struct config_vmedia *vmedia);
void health_check_clock(struct health_report *r, const struct health_env *env);
void health_check_memory(struct health_report *r, const struct health_env *env);
void health_check_temperature(struct health_report *r, const struct health_env *env);

/* What the capture device, the gadget, the GPIO lines, the certificate
 * and the ports look like (health_video.c, health_more.c). */
void health_check_video(struct health_report *r, const struct health_env *env,
                        const struct config_capture *capture); /* "edid", "signal" */
void health_check_atx_lines(struct health_report *r, const struct health_env *env, const struct config_atx *atx);
void health_check_mass_storage(struct health_report *r, const struct health_env *env, const struct config_hid *hid,
                               const struct config_vmedia *vmedia);
void health_check_certificate(struct health_report *r, const struct config_web *web,
                              const struct config_state *state);
void health_check_ports(struct health_report *r, const struct health_env *env, const struct config_vnc *vnc,
                        const struct config_web *web, const struct config_ipmi *ipmi,
                        const struct config_state *state);

/* The base EDID block: vendor, name and preferred mode (the first
 * detailed timing). 0, or -1 when it is not an EDID (header, checksum). */
struct health_edid {
    char vendor[4];
    char name[14];
    int width, height;       /* 0 when there is no detailed timing */
    bool interlaced;
    uint32_t pixclk_khz;
    uint32_t refresh_mhz;    /* mHz: 60000 = 60 Hz */
    int extensions;
};
int health_edid_parse(const uint8_t *edid, size_t len, struct health_edid *out);
/* Whether a pixel clock (blanking counted: the bridge's line FIFO cannot
 * spread a frame over its blanking) fits lanes x lane_mbps. */
bool health_csi2_fits(uint64_t pixclk_hz, int bits_per_pixel, int lanes, int lane_mbps);

/* What the running daemon sees (health_live.c): the daemon rewrites
 * [state] dir/HEALTH_LIVE_FILE (mode 0644, counters only: nothing secret)
 * every few seconds; `piglix doctor` reads it. One older than
 * HEALTH_LIVE_STALE_S is a daemon that is gone. */
#define HEALTH_LIVE_FILE "daemon.status"
#define HEALTH_LIVE_STALE_S 10
struct health_live {
    int64_t written_s;       /* CLOCK_REALTIME seconds */
    uint64_t frames;         /* captured since start */
    double fps, source_fps;  /* captured per second, recently; the source's own rate (0: unknown) */
    bool signal_ok;
    bool hid, hid_online;    /* the USB keyboard started; the host configured it */
    int leds;                /* the host's LED report (bit 0 Scroll, 1 Num, 2 Caps), -1 none */
    uint64_t stalls;         /* capture streaming restarted after no frames (capture_source_stats) */
    int64_t stall_age_s;     /* since the last one; -1 none */
    bool hid_asleep;         /* the host suspended the bus: input asks it to wake up */
};
/* The file's text; its length, or -1 when it does not fit. */
int health_live_format(const struct health_live *live, char *out, size_t size);
/* 0, or -1 for a text that is not such a file (a key without '=', a bad
 * number, no "written"). Unknown keys are ignored. */
int health_live_parse(const char *text, size_t len, struct health_live *out);
/* Reads [state] dir's file: 0, or -1 when there is none (or it is bad). */
int health_live_read(const char *state_dir, struct health_live *out);
/* "frames", "capture-stalls" (only after one: streaming restarted because
 * the device stopped delivering, a warning for HEALTH_STALL_RECENT_S) and,
 * with [hid] on, "keyboard-leds"; live NULL: no daemon. */
#define HEALTH_STALL_RECENT_S 600
void health_check_live(struct health_report *r, const struct health_live *live, int64_t now_s,
                       const struct config_hid *hid);

/* "threads" (health_threads.c): the running daemon's watched threads
 * (liveness_snapshot); a problem naming each one silent past deadline_ms. */
void health_check_threads(struct health_report *r, const struct liveness_status *st, int n, int deadline_ms);

/* "ok", "warning", "problem". */
const char *health_status_name(enum health_status status);
/* The worst status in the report (HEALTH_OK when it is empty). */
enum health_status health_worst(const struct health_report *r);
/* The first check of that name, or NULL. */
const struct health_check *health_find(const struct health_report *r, const char *name);
/* One line per check: "STATUS   NAME: TEXT" and ": FIX" when there is one. */
void health_print(const struct health_report *r, FILE *out);

#endif
