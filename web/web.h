/* web/: the web appliance. HTTPS (libwebsockets with OpenSSL) serving the
 * browser UI, the JSON REST API (web/API.md), snapshots and an MJPEG stream
 * of the picture, and noVNC's WebSocket, bridged into the VNC server as an
 * already-authenticated client. Accounts and sessions replace the VNC
 * password for browsers. Runs in its own thread with one event loop. */
#ifndef PIGLIX_WEB_H
#define PIGLIX_WEB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "common/config.h"
#include "server/server.h"

struct web;
struct web_hid;

/* Prepares the certificate, accounts and listening sockets. slot gives
 * the capture statistics (signal, resolution, fps). atx (NULL: none)
 * serves /api/atx; it must outlive the web server. hid may be
 * NULL (no HID backend: its endpoints answer 503). Returns NULL after
 * logging why. */
struct atx;
/* What the web appliance is made from: its own section, Redfish's (served
 * on the same port), the state directory, and what other sections set that
 * it shows or enforces. Copied: nothing here must outlive web_create but
 * the sections. */
struct web_params {
    const struct config_web *web;
    const struct config_redfish *redfish;
    const char *state_dir;
    const char *capture_source;  /* [capture] source, shown in /api/info */
    int sensors_poll_ms;         /* [sensors] poll_ms, shown in /api/sensors */
    int upload_idle_s;           /* [vmedia] upload_idle_s */
};

struct web *web_create(const struct web_params *p, struct server *srv,
                       struct capture_slot *slot, const struct web_hid *hid, struct atx *atx);
/* Optional parts, set before web_start (each NULL: its endpoints answer
 * 503 or leave it out): the sensors (GET /api/sensors, metrics, Redfish
 * Chassis), the image store and USB drive (/api/vmedia, Redfish
 * VirtualMedia). They must outlive the web server. */
struct sensors;
struct vmedia_store;
struct vmedia_drive;
void web_set_sensors(struct web *w, struct sensors *sensors);
void web_set_vmedia(struct web *w, struct vmedia_store *store, struct vmedia_drive *drive);
/* The USB drive that came later (the USB device controller appeared after
 * start): from any thread, also while the server runs; once, from NULL. */
void web_set_vmedia_drive(struct web *w, struct vmedia_drive *drive);
/* Who is connected and who types (control/): web sessions, API clients,
 * browser viewers and Redfish sessions are listed and ended there; the API
 * serves /api/sessions and /api/control. Before web_start; it must outlive
 * the web server. Without it those endpoints answer 503. */
struct control;
void web_set_control(struct web *w, struct control *ctl);
/* The serial console (serial/serial.h) for /api/serial and its WebSocket;
 * before web_start; it must outlive the web server. sol: IPMI
 * Serial-over-LAN serves it too (Redfish's SerialConsole says "IPMI"). */
struct serial_console;
void web_set_serial(struct web *w, struct serial_console *console, bool sol);
/* Runs the event loop in a new thread (signals blocked there). 0 or -1. */
int web_start(struct web *w);
/* `piglix api-routes`: every API route with the least role that may call
 * it ("GET /api/info viewer"), from the table the server dispatches by,
 * then Redfish's ("redfish /redfish/v1/... operator": the least role that
 * may change the resource). */
void web_routes_print(FILE *out);
/* Stops the thread (if started), closes every connection and frees. */
void web_destroy(struct web *w);

/* ---- the HID calls of the API ---- */
/* web/web_hid: what the web API's HID endpoints (keys, combos, paste, mouse)
 * call. It is separate from hid/'s struct hid_input (which only the server
 * thread may call): a backend that offers it must accept calls from the web
 * thread and never block it (queue the work). main.c wires a backend in
 * when one exists; without one the endpoints answer 503 "HID not
 * configured". Key names are lower-case ("ctrl", "alt", "delete", "f1",
 * "a", "enter", ...); an unknown name is -EINVAL. Calls return 0 or a
 * negative errno: -EINVAL (bad key/layout: 422), -EBUSY (busy: 409),
 * -ENODEV (device offline: 503). */

struct web_hid_ops {
    /* True when the target sees the keyboard and mouse (USB configured). */
    bool (*online)(void *ctx);
    /* The target's keyboard LEDs (bit 0 Scroll, 1 Num, 2 Caps Lock), or -1. */
    int (*leds)(void *ctx);
    /* Presses the keys in order and releases them in reverse (a combo).
     * err (errlen bytes) may receive a message for the client. */
    int (*combo)(void *ctx, const char *const *keys, int n, char *err, size_t errlen);
    /* Types text as it would be typed on the target with that layout. */
    int (*paste)(void *ctx, const char *text, const char *layout, char *err, size_t errlen);
    /* Moves the pointer to x,y of a width x height picture with these buttons (RFB mask). */
    int (*mouse)(void *ctx, int x, int y, unsigned width, unsigned height, unsigned buttons);
    /* True when the target suspended the USB bus (input asks it to wake up). NULL: never. */
    bool (*asleep)(void *ctx);
};

struct web_hid {
    const struct web_hid_ops *ops;
    void *ctx;
};

/* The appliance's health for GET /api/health: the checks of `piglix doctor`
 * (health/health.h), run off the web thread by whoever wires this (app/). */
struct health_report;
struct web_health_ops {
    /* Copies the latest report and its age; false while there is none yet.
     * Never blocks on the checks: a stale report asks for a new run. */
    bool (*read)(void *ctx, struct health_report *out, int64_t *age_ms);
};
struct web_health {
    const struct web_health_ops *ops;
    void *ctx;
};
/* Before web_start. Without it, /api/health answers 503. */
void web_set_health(struct web *w, const struct web_health *health);

#endif
