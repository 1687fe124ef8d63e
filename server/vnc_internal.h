/* Internal to server/: the VNC server's state shared by vnc.c (sockets, the
 * event loop, libvncserver glue), vnc_client.c (per-client updates and
 * output) and vnc_input.c (input events). */
#ifndef PIGLIX_SERVER_VNC_INTERNAL_H
#define PIGLIX_SERVER_VNC_INTERNAL_H

#include <poll.h>
#include <pthread.h>
#include <rfb/rfb.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include "auth/auth.h"
#include "common/clock.h"
#include "common/thread.h"
#include "pipeline/pipeline.h"
#include "server/server.h"

#define VNC_MAX_LISTEN 4

/* A peer's address as the handshake pool counts it: IPv4 as ::ffff:a.b.c.d,
 * IPv6 by its /64. */
struct vnc_addr_key { uint8_t b[16]; };

struct server {
    const struct config_vnc *vnc;
    const struct config_encode *encode;
    char state_dir[CONFIG_STR_MAX];
    rfbScreenInfoPtr screen;
    char *fb;                   /* libvncserver wants one; piglix never draws into it */
    int listen_fds[VNC_MAX_LISTEN];
    int n_listen;
    struct capture_slot *slot;
    struct pipeline *pipe;
    struct hid_input input;
    char password[VNC_AUTH_MAX_LEN + 1];
    char view_password[VNC_AUTH_MAX_LEN + 1]; /* "": no view-only password */
    bool auth_none;
    /* [vnc] on but no password yet: the port opens once `piglix vnc-passwd`
     * has stored one (looked for every second); web viewers work meanwhile. */
    bool awaiting_password;
    int64_t password_check_ms;
    struct auth_throttle *throttle;
    /* Requests from other threads: adopted sockets and LED changes, woken
     * through an eventfd the loop polls. */
    int wake_fd;
    pthread_mutex_t adopt_lock;
    struct vnc_adopted { int fd; char who[64]; bool view_only; unsigned control_id; } adopt_queue[16];
    int n_adopt;
    atomic_uint leds;           /* bit 8 set: changed since last sent */
    struct server_stats stats;
    struct server_snapshot *snapshot; /* JPEGs and statistics for other threads */
    struct pollfd *pfd;         /* the event loop's poll set, grown with the clients */
    rfbClientPtr *pfd_owner;
    size_t pfd_cap;
    struct thread_owner loop_owner;   /* the one thread that runs the loop and owns libvncserver */
    struct control *ctl;              /* NULL: no session list, every viewer types */
    struct control_owner *ctl_owner;
    uint64_t ctl_generation;          /* the keyboard holder last seen (vnc_control.c) */
    /* RFB encoding 50 (vnc_h264.c): NULL with [video] h264 = never. */
    const struct config_video *video_cfg;
    struct pipeline_video *video;
};

struct vnc_client {
    struct server *srv;
    rfbClientPtr cl;
    uint8_t *dirty;             /* tiles changed since this client's last update */
    uint8_t *lossy;             /* tiles it last got as JPEG: due a lossless refresh */
    uint8_t *refresh;           /* scratch: tiles due their lossless refresh now */
    uint8_t *scratch;
    size_t ntiles;
    uint8_t *out;               /* the one update in flight (never more) */
    size_t out_len, out_off, out_cap;
    uint8_t *peek;
    size_t peek_cap;
    bool tight, jpeg, lastrect; /* from its SetEncodings */
    bool encodings_seen;        /* it has sent SetEncodings */
    bool resized_early;         /* the picture changed size before its SetEncodings came */
    bool qemu_keys, qemu_ack_pending;
    bool preauth;               /* authenticated elsewhere: no VNC password */
    bool view_only;             /* input dropped (vnc_input.c): view-only password or role */
    bool input_refusal_logged;  /* its first dropped event is in the audit log */
    bool pending;               /* a TCP handshake not yet authenticated (the pool) */
    bool admitted;              /* authenticated: counted in stats.clients */
    int sec_type;               /* the one security type offered to this client */
    uint8_t challenge[16];      /* VncAuth, while its response is awaited */
    struct vnc_addr_key addr;
    bool led_qemu;              /* takes the QEMU LED state pseudo-encoding */
    int leds_sent;              /* -1: never */
    int64_t connected_ms;       /* to drop clients stuck in the handshake */
    int64_t partial_since_ms;   /* a message started but not finished, or 0 */
    uint8_t buttons;
    unsigned control_id;        /* its session in control/ (0: none) */
    bool control_own;           /* listed by the server (TCP), not by an adopter */
    /* H.264 (vnc_h264.c): it announced encoding 50; the stream and frame
     * it holds (0: no context in step); its contexts are of an old size. */
    bool h264;
    uint64_t h264_stream, h264_have;
    bool h264_reset_all;
};

/* Wakes the server thread's poll() from any thread. */
void vnc_wake(struct server *s);

/* vnc_client.c */
struct vnc_client *vnc_client_new(struct server *srv, rfbClientPtr cl);
void vnc_client_free(struct vnc_client *c);
/* Resizes the tile maps to the current grid and marks everything dirty. */
int vnc_client_reset_tiles(struct vnc_client *c);
/* ORs the last frame's damage into the client's dirty map. */
void vnc_client_add_damage(struct vnc_client *c, const uint8_t *damage);
/* Notes what a SetEncodings message (whole, as received) asks for. */
void vnc_client_note_encodings(struct vnc_client *c, const uint8_t *msg, size_t len);
/* Sends what is queued; builds the next update when the queue is empty and
 * the client asked for one. Returns -1 when the client must be closed. */
int vnc_client_service(struct vnc_client *c, int64_t now);
/* True while some tile this client holds is still the JPEG version. */
bool vnc_client_has_lossy(const struct vnc_client *c);
bool vnc_client_output_pending(const struct vnc_client *c);

/* Appends bytes to the update being built; 0 or -1 (out of memory). */
int vnc_client_out_append(struct vnc_client *c, const void *p, size_t n);

/* vnc_h264.c: RFB encoding 50 from the pipeline's H.264 stream. */
/* Sets up the stream from [video] (nothing with h264 = never). 0 or -1. */
int vnc_h264_create(struct server *s, const struct config_video *cfg, unsigned fps);
void vnc_h264_destroy(struct server *s);
/* After each fed frame that changed something: notes its damage and
 * encodes the next frame while in video mode and an H.264 viewer is there. */
void vnc_h264_on_frame(struct server *s, int changed, bool resized);
/* Takes a frame the encoder thread finished (after a wake). */
void vnc_h264_collect(struct server *s);
/* The viewer waits for the H.264 frame of the current picture (being
 * encoded) instead of taking its tiles now. */
bool vnc_h264_holds_tiles(const struct vnc_client *c, int64_t now);
/* Appends the client's H.264 rectangle when it should get one now (*sent:
 * it covers the whole picture, no tiles needed; *current: its last frame is
 * of the current picture, else that one is still being encoded and the
 * client's damage stays owed). -1: out of memory. */
int vnc_h264_append(struct vnc_client *c, int64_t now, uint16_t *nrects, bool *sent, bool *current);
/* True while the lossless refresh should wait (frames still coming). */
bool vnc_h264_holds_refresh(const struct vnc_client *c, int64_t now);

/* vnc_handshake.c: the RFB handshake up to ClientInit, per client. */
void vnc_addr_key_from(struct vnc_addr_key *k, const struct sockaddr_storage *ss);
/* Before a new TCP handshake from key joins the pool: closes the one that
 * must make room for it, if any. */
void vnc_handshake_make_room(struct server *s, const struct vnc_addr_key *key);
/* True while the client is in a stage vnc_handshake_message handles. */
bool vnc_handshake_stage(rfbClientPtr cl);
/* Handles the whole message of len bytes waiting (peeked) on the socket.
 * Returns 0, or -1 when the client was closed. */
int vnc_handshake_message(struct vnc_client *c, size_t len);

/* vnc_control.c: the server's part of control/ (who is connected, who types) */
/* An authenticated TCP viewer joins the list. */
void vnc_control_admit(struct vnc_client *c);
/* The client is gone: it leaves the list (when the server listed it). */
void vnc_control_gone(struct vnc_client *c);
/* Before an input event of c reaches HID: releases held keys after a
 * change of holder, then says whether c's event may go. */
bool vnc_control_input(struct vnc_client *c);
/* Once per turn: held keys released after a change of holder; ends asked for. */
void vnc_control_turn(struct server *s);
/* server_destroy, after the clients: control/ no longer wakes this server. */
void vnc_control_detach(struct server *s);

/* vnc_input.c */
void vnc_input_install(struct server *srv);
void vnc_input_release(struct server *srv, struct vnc_client *c);
void vnc_input_free_extensions(rfbClientPtr cl);
/* vnc.c: loads the view-only password, if any, beside the full one. */
void vnc_load_view_password(struct server *s);

#endif
