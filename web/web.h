/* web/: the web appliance. HTTPS (libwebsockets with OpenSSL) serving the
 * browser UI, the JSON REST API (web/API.md), snapshots and an MJPEG stream
 * of the picture, and noVNC's WebSocket, bridged into the VNC server as an
 * already-authenticated client. Accounts and sessions replace the VNC
 * password for browsers. Runs in its own thread with one event loop. */
#ifndef PIGLIX_WEB_H
#define PIGLIX_WEB_H

#include <stdio.h>

#include "common/config.h"
#include "server/server.h"
#include "web/web_hid.h"

struct web;

/* Prepares the certificate, accounts and listening sockets. slot gives
 * the capture statistics (signal, resolution, fps). atx (NULL: none)
 * serves /api/atx; it must outlive the web server. hid may be
 * NULL (no HID backend: its endpoints answer 503). Returns NULL after
 * logging why. */
struct atx;
struct web *web_create(const struct piglix_config *cfg, struct server *srv,
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
/* Runs the event loop in a new thread (signals blocked there). 0 or -1. */
int web_start(struct web *w);
/* Stops the thread (if started), closes every connection and frees. */
void web_destroy(struct web *w);

/* `piglix user add|passwd|del|list|token NAME`: argv[0] is the verb.
 * Passwords come from stdin (without echo on a terminal). Returns the exit
 * status. */
int web_user_command(const struct piglix_config *cfg, int argc, char **argv, FILE *out, FILE *err);

#endif
