/* server/: the VNC output. Owns the RFB port and its clients (the handshake
 * per client, the VNC password, updates written from the pipeline's shared
 * encoded bytes) and feeds the pipeline (pipeline/) the captured frames.
 * Viewers' keyboard and pointer events go to the hid_input it is given.
 * server_run/server_run_once run on one thread, which owns libvncserver;
 * server_adopt_client, server_set_keyboard_leds and the snapshot calls may
 * come from any thread. */
#ifndef PIGLIX_SERVER_H
#define PIGLIX_SERVER_H

#include <signal.h>
#include <stdint.h>

#include "capture/capture.h"
#include "common/config.h"
#include "hid/hid.h"
#include <stddef.h>
#include <stdbool.h>
#include <stdio.h>

struct server;

struct server_stats {
    unsigned clients;
    uint64_t connections, auth_failures, updates_sent, bytes_sent, lossless_refreshes;
    uint64_t frames, static_frames, encodes, encode_cache_hits;
    uint64_t encode_ns;         /* time spent encoding updates, cumulative */
    /* key, pointer and clipboard messages of view-only viewers (the VNC
     * view-only password, a web viewer's account with the viewer role):
     * dropped, never given to the hid_input */
    uint64_t input_dropped_view_only;
    /* H.264 (RFB encoding 50): frames encoded, rects and their bytes sent,
     * viewers sent back to tiles to wait for an IDR; encoding time;
     * previews made (h264.h) and their bytes. */
    uint64_t h264_frames, h264_rects, h264_bytes, h264_resyncs, h264_encode_ns;
    uint64_t h264_previews, h264_preview_bytes;
};

/* Creates the VNC server and binds its port(s). The password comes from
 * [state] dir unless [vnc] auth = none (loopback only). Returns NULL after
 * logging why (e.g. no password set). */
/* What the VNC server is made from: its own sections and the state
 * directory (vnc.passwd); width x height is the picture until the first
 * frame. The sections must outlive the server. */
struct server_params {
    const struct config_vnc *vnc;
    const struct config_encode *encode;
    const struct config_video *video;   /* NULL: no H.264 */
    unsigned fps;                       /* nominal, for the H.264 rate control */
    unsigned width, height;
    const char *state_dir;
};

struct server *server_create(const struct server_params *p, struct capture_slot *slot,
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

/* ---- who is connected, who types (server/vnc_control.c) ---- */
struct control;
/* Lists the VNC port's viewers in control/ (interface "vnc", ended on the
 * server thread), asks it before every key and pointer event of any viewer
 * (dropped when not allowed) and releases every held key and button before
 * the first event after a change of keyboard holder. Call before
 * server_run; without it every viewer types. */
void server_set_control(struct server *s, struct control *ctl);
/* server_adopt_client for a viewer listed in control/ by its adopter as
 * session control_id (a browser viewer; 0: not listed): its input is checked
 * against that session; the adopter ends it by closing its end of the
 * socket. view_only: a viewer that may only watch (an account with the
 * viewer role): its key, pointer and clipboard messages are dropped and
 * counted (server_stats.input_dropped_view_only). */
int server_adopt_client_session(struct server *s, int fd, const char *who, bool view_only,
                                unsigned control_id);

/* Keyboard LED state to show in viewers (bit 0 Scroll, 1 Num, 2 Caps Lock,
 * as in the QEMU LED state pseudo-encoding). Thread-safe. */
void server_set_keyboard_leds(struct server *s, unsigned leds);

/* ---- Full-frame JPEGs of the current picture (server/snapshot.c) ----
 * For outputs in other threads (the web server's snapshot and MJPEG stream).
 * The picture is encoded in the server thread, only when asked and at most
 * once per new picture, and shared: every holder owns one reference. */
struct server_jpeg {
    const uint8_t *data;
    size_t len;
    unsigned width, height;
    uint64_t seq;               /* the picture's number (pipeline_seq): changes with it */
};

/* Called in the server thread whenever a new JPEG is ready (e.g. to wake
 * another event loop). Must not block or call back into the server. */
typedef void (*server_jpeg_ready_fn)(void *ctx);
/* Sets who is told about new JPEGs (NULL: nobody). Call before other
 * threads use the server. */
void server_set_jpeg_listener(struct server *s, server_jpeg_ready_fn fn, void *ctx);
/* Asks for a JPEG of the picture newer than after_seq (0: any). Returns the
 * cached one at once when it is newer (the caller owns a reference), else
 * NULL and the server encodes one when there is a picture and tells the
 * listener. Thread-safe. */
const struct server_jpeg *server_request_jpeg(struct server *s, uint64_t after_seq);
/* Drops a reference from server_request_jpeg. Thread-safe. */
void server_jpeg_unref(const struct server_jpeg *j);

/* A copy of server_get_stats as of the server thread's latest turn, for
 * other threads. Thread-safe. */
void server_get_stats_shared(struct server *s, struct server_stats *out);

/* The server thread's part (server/vnc.c calls these): create/destroy, and
 * once per turn, encode what was asked and publish the statistics. */
struct server_snapshot;
struct server_snapshot *server_snapshot_create(const struct config_encode *cfg);
void server_snapshot_destroy(struct server_snapshot *ss);
void server_snapshot_service(struct server *s);

/* ---- RFB message framing (rfb_msg.c) ---- */
/* server/rfb_msg: frames client-to-server RFB messages before libvncserver
 * reads them. libvncserver reads a message with blocking reads, so a client
 * that sends half a message would hold the server thread; piglix only hands
 * it a message once all of its bytes have arrived (peeked), and rejects what
 * it does not accept (unknown types, oversized lengths) with a reason. */
enum rfb_msg_stage {
    RFB_STAGE_VERSION,   /* expecting "RFB xxx.yyy\n" */
    RFB_STAGE_SECURITY,  /* expecting the security type byte */
    RFB_STAGE_VNCAUTH,   /* expecting the 16-byte challenge response */
    RFB_STAGE_INIT,      /* expecting ClientInit */
    RFB_STAGE_NORMAL,
};

#define RFB_MSG_MAX_ENCODINGS 512
#define RFB_MSG_VERSION_LEN 12
/* Parses a client's ProtocolVersion ("RFB 003.00x\n", exactly). Returns the
 * minor version piglix speaks with it: 3, 7 or 8 (Apple's 3.889 is 3.8), or
 * -1 for anything else. */
int rfb_msg_parse_version(const uint8_t v[RFB_MSG_VERSION_LEN]);
#define RFB_MSG_MAX_CUT_TEXT (128 * 1024)
/* The largest message rfb_msg_frame() ever accepts. */
#define RFB_MSG_MAX_SIZE (8 + RFB_MSG_MAX_CUT_TEXT)

struct rfb_msg_info {
    size_t size;          /* total bytes of the message when complete */
    uint8_t type;
    int may_reply;        /* libvncserver may write to the socket while handling it */
    const char *error;    /* why the message was rejected */
};

/* Looks at the first len buffered bytes. Returns 1 when a whole message is
 * there (info->size bytes), 0 when more bytes are needed (info->size is how
 * many are needed when known, else 0), -1 when the message is rejected
 * (info->error says why). */
int rfb_msg_frame(enum rfb_msg_stage stage, const uint8_t *buf, size_t len,
                  struct rfb_msg_info *info);

/* ---- the VNC password (vnc_auth.c) ---- */
/* server/vnc_auth: the VNC password (VncAuth). Owns the password file under
 * [state] dir (vnc.passwd, mode 0600, the obfuscated 8-byte format
 * `vncpasswd -f` writes, so viewers' -passwd files interoperate). Never logs
 * a password. Failed logins are throttled by auth/ (auth_throttle). */
#define VNC_AUTH_MAX_LEN 8  /* VncAuth uses a DES key: at most 8 characters */
#define VNC_AUTH_MIN_LEN 6

void vnc_auth_password_path(const char *state_dir, char *out, size_t n);
/* Validates and stores the password (atomically, 0600). Returns 0 or -1 with
 * the reason written to err. */
int vnc_auth_store_password(const char *state_dir, const char *password, FILE *err);
/* The 8 bytes vncpasswd -f stores for password (its first 8 characters). */
void vnc_auth_obfuscate(const char *password, uint8_t out[8]);
/* Loads the password into out (NUL-terminated). Returns 0, 1 when no password
 * is set, -1 on error (logged). */
int vnc_auth_load_password(const char *state_dir, char out[VNC_AUTH_MAX_LEN + 1]);

/* The optional view-only password (vnc-view.passwd beside vnc.passwd, the
 * same format, `piglix vnc-passwd --view-only`): a viewer that answers with
 * it sees the picture, and its keys, pointer and clipboard are dropped
 * (counted). Read when the VNC port opens. Same returns as above. */
void vnc_auth_view_password_path(const char *state_dir, char *out, size_t n);
int vnc_auth_store_view_password(const char *state_dir, const char *password, FILE *err);
int vnc_auth_load_view_password(const char *state_dir, char out[VNC_AUTH_MAX_LEN + 1]);
/* Checks a VncAuth response to a challenge; constant time. */
bool vnc_auth_check_response(const char *password, const uint8_t challenge[16],
                             const uint8_t response[16]);

#endif
