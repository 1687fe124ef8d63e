/* server/: finds damage, encodes once and fans out. This is the public face
 * of the VNC output: it owns the RFB port, its clients, and the pipeline that
 * turns captured frames into shared encoded updates. Viewers' keyboard and
 * pointer events go to the hid_input it is given. */
#ifndef PIGLIX_SERVER_H
#define PIGLIX_SERVER_H

#include <signal.h>
#include <stdint.h>

#include "capture/capture.h"
#include "common/config.h"
#include "hid/hid.h"

struct server;

struct server_stats {
    unsigned clients;
    uint64_t connections, auth_failures, updates_sent, bytes_sent, lossless_refreshes;
    uint64_t frames, static_frames, encodes, encode_cache_hits;
};

/* Creates the VNC server and binds its port(s). The password comes from
 * [state] dir unless [vnc] auth = none (loopback only). Returns NULL after
 * logging why (e.g. no password set). */
struct server *server_create(const struct piglix_config *cfg, struct capture_slot *slot,
                             const struct hid_input *input);
/* Runs the event loop until *stop becomes non-zero. Returns 0 or -1. */
int server_run(struct server *s, const volatile sig_atomic_t *stop);
/* One turn of the event loop, waiting at most max_wait_ms (-1: as long as
 * nothing is due). For tests, fuzzers and benchmarks. */
int server_run_once(struct server *s, int max_wait_ms);
/* Closes every client and frees everything. */
void server_destroy(struct server *s);
void server_get_stats(const struct server *s, struct server_stats *out);

/* Hands the server an already-connected socket whose peer was authenticated
 * elsewhere (e.g. a web session bridging noVNC's WebSocket): it speaks RFB
 * on it but offers no VNC password. who names the peer in logs. Thread-safe;
 * the server takes ownership of fd. Returns 0 or -1 (fd closed). */
int server_adopt_client(struct server *s, int fd, const char *who);

/* Keyboard LED state to show in viewers (bit 0 Scroll, 1 Num, 2 Caps Lock,
 * as in the QEMU LED state pseudo-encoding). Thread-safe. */
void server_set_keyboard_leds(struct server *s, unsigned leds);

#endif
