/* Internal to web/: the web server's state, shared by web_server.c (the
 * libwebsockets context, thread and callback), web_http.c (responses and
 * static files), web_auth.c (accounts, sessions, login), web_api.c (routes),
 * web_info.c (info and metrics), web_stream.c (JPEG snapshot and MJPEG) and
 * web_bridge.c (noVNC's WebSocket into the VNC server). Everything here is
 * touched by the web thread only, except the atomics. */
#ifndef PIGLIX_WEB_INTERNAL_H
#define PIGLIX_WEB_INTERNAL_H

#include <libwebsockets.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "audit/audit.h"
#include "auth/auth.h"
#include "common/clock.h"
#include "common/netlisten.h"
#include "server/server.h"
#include "web/web.h"
#include "web/web_parse.h"

#define WEB_CHUNK (32 * 1024)         /* bytes written per writeable callback */
#define WEB_SNAPSHOT_WAIT_MS 5000     /* a snapshot waits this long for a first picture */
#define WEB_SESSION_COOKIE "piglix_session"
/* Password hashes (tens of ms each) run in a worker thread (web_hash.c), at
 * most this many a second, so a login flood costs bounded CPU. */
#define WEB_HASHES_PER_S 10
/* Addresses remembered by the login throttle (an attacker with more
 * addresses than this may evict idle ones, never an account's lockout). */
#define WEB_THROTTLE_ADDRS 256
/* A body refused on its headers is read and dropped up to this size, so
 * the client reads its answer (closing on unread data resets the
 * connection); a bigger one closes the connection after the answer. */
#define WEB_DRAIN_MAX (16 * 1024)
/* How long a connection that will close still reads (and drops) a body
 * after its early reply, so that the reply is read before the close. */
#define WEB_LINGER_S 5
/* API clients (a token or HTTP Basic) listed in control/ at once; one
 * unused this long leaves the list. */
#define WEB_API_CLIENTS 32
#define WEB_API_IDLE_MS 60000

enum web_conn_kind {
    WEB_CONN_HTTP,      /* an ordinary request/response */
    WEB_CONN_SNAPSHOT,  /* waiting for a JPEG, then an ordinary response */
    WEB_CONN_STREAM,    /* multipart MJPEG until the client or session goes */
    WEB_CONN_WS,        /* noVNC's WebSocket, bridged into the VNC server */
};

/* The response being written. body is owned unless jpeg holds it. */
struct web_resp {
    int status;
    const char *ctype;
    uint8_t *body;
    size_t len, off;
    const struct server_jpeg *jpeg; /* body comes from this shared JPEG */
    char headers[768];              /* extra "Name: value\r\n" lines */
    bool ready, headers_sent;
};

struct web_bridge;
struct web_hash_job;
struct web_hasher;

/* One connection's state (libwebsockets' per-session data, zeroed by it). */
struct web_conn {
    struct web *w;
    struct lws *wsi;
    enum web_conn_kind kind;
    char addr[64];
    int method;                 /* LWSHUMETH_* */
    char path[512];
    uint8_t *body;
    size_t body_len, body_expected;
    bool body_too_big;
    /* who: set by web_auth_request */
    char user[AUTH_NAME_MAX + 1];
    int role;                   /* the account's enum auth_role when authenticated, else -1 */
    bool authed;                /* this request passed web_auth_request (or Redfish's) */
    /* a reply sent before the body was read (refused on the headers): the
     * body is dropped as it comes, then the connection goes on; a body too
     * big to wait for closes the connection after the reply */
    bool discard_body, body_done, reply_done, close_after;
    bool pending_headers;       /* authenticating on the headers waits for a hash */
    long content_len;           /* the request's Content-Length (0: none) */
    unsigned session_id;        /* 0: authenticated by a header, or not at all */
    uint8_t cred_fp[AUTH_CRED_FP_LEN]; /* the account's credentials when authenticated */
    struct web_resp resp;
    /* snapshot waits and streams */
    int64_t wait_since_ms;
    uint64_t last_seq;
    const struct server_jpeg *frame; /* the stream frame being written */
    size_t frame_off, part_len;
    char part_head[128];
    bool closing;               /* the session ended: close at the next chance */
    struct web_bridge *bridge;
    /* a streamed upload (PUT /api/vmedia/images/NAME): the bytes go to
     * vmedia's writer thread (web_vmedia.c), never to the disk from here */
    struct vmedia_writer *upload;
    bool upload_failed;         /* refused or failed: the rest of the body is dropped */
    bool upload_paused;         /* the writer's queue is full: the socket is not read */
    bool upload_body_done;      /* every byte came: waiting for the fsync and rename */
    char upload_name[132];
    uint64_t upload_expected, upload_received;
    struct web_conn *next_upload, *prev_upload; /* in w->uploads while upload is set */
    /* a password hash off the event loop (web_hash.c): the job waiting, or
     * its result for the request being dispatched again */
    struct web_hash_job *hash_job;
    bool hash_done, hash_ok;
    char hash_name[AUTH_NAME_MAX + 1];
    char hash_of[AUTH_HASH_MAX];
    struct web_conn *next_long, *prev_long; /* in w->longs while long-lived */
    bool in_longs;
    /* control/ (web_control.c): the session this request belongs to (its
     * web session or API client), and a browser viewer's own session */
    unsigned ctl_id, viewer_ctl_id;
    /* the serial console's WebSocket (/api/serial, web_serial.c) */
    bool serial_ws;
    struct web_serial_term *serial_term;
};

struct web_stats {
    uint64_t requests, logins_ok, logins_failed, logins_throttled, snapshots, stream_frames;
    uint64_t ws_opened, ws_bytes_to_browser, ws_bytes_from_browser;
    uint64_t role_refusals;     /* requests refused for the account's role (web_refuse_role) */
    uint64_t role_refusals_redfish; /* the same through Redfish (rf_refuse_role) */
    uint64_t serial_bytes_to_browser;
};

struct atx;

struct liveness;

struct web {
    const struct config_web *cfg;
    char state_dir[CONFIG_STR_MAX];
    char capture_source[16];            /* facts other sections configure, shown in the API */
    int sensors_poll_ms;
    int upload_idle_s;                  /* [vmedia]: an upload idle this long is dropped */
    struct server *srv;
    struct atx *atx;                    /* NULL: no ATX board configured */
    struct sensors *sensors;            /* NULL: none */
    struct vmedia_store *vstore;        /* NULL: [vmedia] off */
    /* NULL: no USB drive (yet). Atomic: the drive may come while the web
     * thread runs (web_set_vmedia_drive, once the USB device controller
     * appears); it only goes from NULL to a drive that outlives the server. */
    struct vmedia_drive *_Atomic vdrive;
    struct redfish *redfish;            /* NULL: [redfish] off (web/redfish.h) */
    struct capture_slot *slot;
    struct web_hid hid;
    bool have_hid;
    struct lws_context *ctx;
    struct lws_vhost *vhost;            /* the first HTTPS vhost (one per listen address) */
    struct netlisten_addr listen[NETLISTEN_MAX]; /* [web] listen, resolved; lws keeps pointers */
    int n_listen;
    pthread_t thread;
    bool started;
    atomic_int stop;
    atomic_int jpeg_ready;
    char cert[CONFIG_STR_MAX + 32], key[CONFIG_STR_MAX + 32];
    char root[CONFIG_STR_MAX], novnc[CONFIG_STR_MAX], xterm[CONFIG_STR_MAX];
    struct auth_accounts accounts;
    struct auth_sessions sessions;
    struct auth_throttle *throttle;      /* failed logins per address (/64 for IPv6) */
    struct auth_throttle *acct_throttle; /* per existing account, never evicted */
    char setup_token[33];               /* while no account exists */
    struct web_conn *longs;             /* snapshot waits, streams, WebSockets */
    int viewers;                        /* open noVNC WebSockets */
    lws_sorted_usec_list_t tick;
    /* common/liveness: the web thread's beat; live_tick wakes an idle loop */
    lws_sorted_usec_list_t live_tick;
    struct liveness *live;
    struct web_hasher *hasher;          /* password hashes, off the event loop */
    int64_t hash_window_ms;             /* WEB_HASHES_PER_S budget */
    int hashes_in_window;
    int64_t refusal_window_ms;          /* web_refusal_audit: role refusals recorded this minute */
    int refusals_in_window;
    unsigned refusals_unrecorded;
    struct web_stats stats;
    /* control/ (web_control.c): who is connected; NULL: not listed */
    struct control *ctl;
    struct control_owner *ctl_owner;
    struct web_ctl_web { unsigned auth_id, ctl_id; int64_t last_ms; } ctl_web[AUTH_SESSIONS_MAX];
    struct web_api_client {
        unsigned ctl_id;        /* 0: free */
        char name[AUTH_NAME_MAX + 1];
        char addr[64];
        int64_t last_ms;
    } api_clients[WEB_API_CLIENTS];
    struct web_health health;           /* ops NULL: /api/health says 503 */
    /* the serial console (NULL: [serial] off) and its terminals */
    struct serial_console *serial;
    struct serial_watch *serial_watch;
    atomic_int serial_ready;            /* the console thread has news (web_serial_wake) */
    int serial_terms;
    bool serial_sol;                    /* IPMI Serial-over-LAN serves it too (Redfish says so) */
    /* uploads whose writer threads may have news (web_vmedia_service) */
    struct web_conn *uploads;
    atomic_int uploads_ready;
};


/* web_http.c */
void web_resp_reset(struct web_resp *r);
/* Adds one header line to the response ("Name: value"). */
void web_resp_header(struct web_resp *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* A JSON body (takes ownership of j, which may be NULL for an empty 204). */
void web_reply_json(struct web_conn *c, int status, cJSON *j);
/* {"error": msg} with this status. */
void web_reply_error(struct web_conn *c, int status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void web_reply_bytes(struct web_conn *c, int status, const char *ctype, uint8_t *body, size_t len);
void web_reply_jpeg(struct web_conn *c, const struct server_jpeg *j);
/* Serves a file under root for the URL path rel (already normalized). */
void web_serve_file(struct web_conn *c, const char *root, const char *rel);
/* Writes the status line and headers of c->resp with this Content-Length
 * (LWS_ILLEGAL_HTTP_CONTENT_LEN: none, for streams). 0 or -1. */
int web_http_write_headers(struct web_conn *c, lws_filepos_t content_len);
/* Writes the prepared response, one chunk per call. Returns -1 to close. */
int web_http_writeable(struct web_conn *c);
/* Copies a request header into buf; returns its length or -1 when absent. */
int web_header(struct web_conn *c, enum lws_token_indexes h, char *buf, int len);
int web_header_custom(struct web_conn *c, const char *name, char *buf, int len);

/* web_auth.c */
/* Decides who makes the request (session cookie, Basic or Bearer); returns
 * 0 when authenticated, else replies (401, 403, 429) and returns -1. csrf:
 * the request changes state, so a cookie session must show its CSRF token. */
int web_auth_request(struct web_conn *c, bool csrf);
/* Authenticates a WebSocket upgrade (cookie + Origin, or a header). 0 or -1. */
int web_auth_websocket(struct web_conn *c);
void web_auth_login(struct web_conn *c);
void web_auth_logout(struct web_conn *c);
void web_auth_session(struct web_conn *c);
void web_auth_setup_get(struct web_conn *c);
void web_auth_setup_post(struct web_conn *c);
void web_auth_totp(struct web_conn *c, const char *action);
/* Failed logins through any door (UI, API, Redfish) count against the same
 * per-address and per-account throttle: seconds to wait before the next
 * try (0: go ahead), and the outcome of one. */
int web_auth_throttle_wait(struct web_conn *c, const char *name);
void web_auth_throttle_record(struct web_conn *c, const char *name, bool ok);
/* Forgets the lockouts of accounts that no longer exist. */
void web_auth_throttle_prune(struct web *w);
/* True when one more password hash fits this second's budget (WEB_HASHES_PER_S). */
bool web_auth_hash_budget(struct web *w);
/* Enters or leaves set-up mode as accounts come and go; logs the token. */
void web_auth_check_setup(struct web *w);
/* Closes long-lived connections whose session ended or whose account's
 * credentials changed. */
void web_auth_revalidate(struct web *w);
/* True when the account exists and its credentials are still those of fp. */
bool web_auth_cred_current(struct web *w, const char *name, const uint8_t fp[AUTH_CRED_FP_LEN]);
/* The fingerprint of the account's credentials now (zeros when none). */
void web_auth_cred_of(struct web *w, const char *name, uint8_t fp[AUTH_CRED_FP_LEN]);
/* Ends every session, stream, viewer and Redfish session whose account's
 * credentials changed (or that was deleted): each tick, and at once after
 * the daemon changes an account itself. */
void web_auth_enforce_credentials(struct web *w);

/* web_hash.c: password hashes off the event loop. A caller that gets
 * WEB_PW_PENDING returns without replying: when the hash is done the request
 * is dispatched again (web_api_dispatch) and the same call returns
 * WEB_PW_DONE with the result. WEB_PW_BUSY: the budget or queue is full. */
enum web_pw { WEB_PW_DONE, WEB_PW_PENDING, WEB_PW_BUSY };
struct web_hasher *web_hasher_create(struct web *w);
void web_hasher_destroy(struct web_hasher *h);
/* Web thread, on a wake-up: finishes the requests whose hash is done. */
void web_hasher_complete(struct web *w);
/* The connection closes: its job, if any, finishes unseen. */
void web_hasher_forget(struct web_conn *c);
/* A new request on the connection: no result from an earlier one counts. */
void web_hash_result_clear(struct web_conn *c);
/* Checks name's password (an unknown name against the dummy hash): *acc is
 * the account when right, else NULL. */
enum web_pw web_auth_password(struct web_conn *c, const char *name, const char *password,
                              struct auth_account **acc);
/* Makes a new hash of password into out (the set-up page). */
enum web_pw web_auth_make_hash(struct web_conn *c, const char *password, char out[AUTH_HASH_MAX]);

/* web_guard.c: the checks on a request's headers (cross-site, JSON,
 * authentication before any body); 0, or -1 after replying. len: its
 * Content-Length (web_guard_content_length: 0 when absent, -1 when bad). */
int web_guard_headers(struct web_conn *c, long len);
long web_guard_content_length(struct web_conn *c);

/* web_server.c: the request after its headers were read: the guard
 * (web_guard.c), then the body is buffered, streamed or not needed. Called
 * again by web_hasher_complete when the guard waited for a hash. */
void web_request_continue(struct web_conn *c);

/* web_api.c */
void web_api_dispatch(struct web_conn *c);
/* One API route: method, path pattern ("*": one segment), the least role
 * that may call it (-1: public, the logins) and its handler. */
struct web_route {
    const char *method;
    const char *pattern;
    int role;
    void (*fn)(struct web_conn *c, const char *arg);
};
/* The route for this method and path, or NULL (*path_known: some route
 * has this path, so the method is wrong); *arg: where its "*" begins. */
const struct web_route *web_route_find(int method, const char *path, bool *path_known, const char **arg);

/* web_roles.c: roles on the web API. web_role_check sets c->role from the
 * account and refuses (403) a request whose route needs more; every role
 * refusal of the API and the viewer goes through web_refuse_role (logged,
 * counted; reply: answer 403, else the caller refuses its own way, e.g.
 * a WebSocket upgrade). 0, or -1 when refused. */
int web_role_check(struct web_conn *c);
void web_refuse_role(struct web_conn *c, int need, bool reply);
/* The audit record of a role refusal (the API's, the viewer's, Redfish's),
 * at most 30 a minute so a flood cannot rotate older records out. */
void web_refusal_audit(struct web *w, enum audit_iface iface, const char *account, const char *addr,
                       const char *what);

/* web_info.c */
void web_info_reply(struct web_conn *c);
void web_metrics_reply(struct web_conn *c);

/* web_sensors.c: GET /api/sensors; the sensors', ATX's and USB drive's
 * metrics as Prometheus text (malloc'ed, NULL when out of memory). */
void web_sensors_get(struct web_conn *c);
/* web_health.c */
void web_health_get(struct web_conn *c);
char *web_metrics_hw(struct web *w);

/* web_atx.c */
cJSON *web_atx_json(struct web *w);
void web_atx_get(struct web_conn *c);
void web_atx_post(struct web_conn *c, const char *action);
/* The HTTP status for an enum atx_error. */
int web_atx_http_status(int err);

/* web_stream.c */
void web_stream_snapshot(struct web_conn *c);
void web_stream_mjpeg(struct web_conn *c);
/* A JPEG became ready: serve the waiters. */
void web_stream_jpeg_ready(struct web *w);
int web_stream_writeable(struct web_conn *c);
void web_stream_tick(struct web *w, int64_t now_ms);
void web_stream_closed(struct web_conn *c);

/* web_bridge.c */
int web_bridge_open(struct web_conn *c);
/* All [web] max_viewers are open: a viewer that may type (operator, admin)
 * closes the oldest view-only one's WebSocket (true) rather than be
 * refused, so the lowest role cannot lock the keyboard's users out. */
bool web_bridge_make_room(struct web_conn *c);
int web_bridge_ws_rx(struct web_conn *c, const void *in, size_t len);
int web_bridge_ws_writeable(struct web_conn *c);
void web_bridge_closed(struct web_conn *c);
int web_bridge_pipe_callback(struct lws *wsi, enum lws_callback_reasons reason, void *in,
                             size_t len);

/* web_vmedia.c, web_vmedia_api.c */
struct vmedia_writer;
bool web_vmedia_is_upload(const struct web_conn *c);
void web_vmedia_upload_begin(struct web_conn *c);
void web_vmedia_upload_body(struct web_conn *c, const void *in, size_t len);
void web_vmedia_upload_complete(struct web_conn *c);
void web_vmedia_upload_closed(struct web_conn *c);
/* On the web thread after a writer's wake-up: resumes reading paused
 * uploads, answers finished and failed ones. */
void web_vmedia_service(struct web *w);
void web_vmedia_call(struct web_conn *c, const char *sub);
void web_vmedia_reply_state(struct web_conn *c, int status);
void web_vmedia_reply_err(struct web_conn *c, int err, const char *what, const char *msg);
int web_vmedia_http_status(int err);
cJSON *web_vmedia_drive_json(struct web *w);

/* web_control.c: this server's sessions in control/ (web sessions, API
 * clients, browser viewers, Redfish sessions), ended on the web thread;
 * GET /api/sessions, POST /api/sessions/ID/end, GET/POST /api/control. */
struct control;
/* The role of an account (viewer for one deleted since): the one place
 * control/'s entries read it. */
enum auth_role web_account_role(struct web *w, const char *name);
/* Each tick and after logins and logouts: web sessions and idle API clients. */
void web_control_sync(struct web *w);
/* After a request was authenticated: c->ctl_id, and its session touched. */
void web_control_identify(struct web_conn *c);
/* The web thread, when woken or each tick: ends what an admin asked to end. */
void web_control_service(struct web *w);
/* A browser viewer opens (listed under its web session) or closes. */
unsigned web_control_viewer_open(struct web_conn *c);
void web_control_viewer_closed(struct web_conn *c);
/* A serial terminal opens (listed like a viewer; closed the same way). */
unsigned web_control_terminal_open(struct web_conn *c);
/* A Redfish session joins the list (0: not listed); redfish_end_session ends it. */
unsigned web_control_redfish_open(struct web *w, const char *name, const char *addr);
/* An API HID call of c may reach the HID: true, or false after a 409. */
bool web_control_input(struct web_conn *c);
/* /api/sessions..., /api/control...: sub is what follows "/api". */
void web_control_call(struct web_conn *c, const char *sub);
/* web_serial.c: the serial console's WebSocket and API */
#define WEB_SERIAL_TERMS_MAX 8
struct web_serial_term;
bool web_serial_may_write(const struct web_conn *c);
/* A text message from a terminal: {"type":"break"} or nothing we know. */
enum web_serial_ctrl { WEB_SERIAL_CTRL_BAD, WEB_SERIAL_CTRL_BREAK };
enum web_serial_ctrl web_serial_parse_control(const char *text, size_t len);
void web_serial_get(struct web_conn *c);
void web_serial_break_post(struct web_conn *c);
bool web_serial_ws_allowed(struct web_conn *c);
int web_serial_open(struct web_conn *c);
int web_serial_ws_rx(struct web_conn *c, const void *in, size_t len);
int web_serial_ws_writeable(struct web_conn *c);
void web_serial_timer(struct web_conn *c);
void web_serial_closed(struct web_conn *c);
void web_serial_wake(struct web *w);
void web_serial_detach(struct web *w);

/* web_server.c: the list of long-lived connections */
void web_longs_add(struct web_conn *c);
void web_longs_remove(struct web_conn *c);

/* web_log.c: GET /api/log, and which door a request is for the audit
 * log (a cookie session: web; a token or Basic: api; /redfish: redfish). */
void web_log_get(struct web_conn *c);
/* A failed login's account is the name someone typed: a password typed
 * into the name field, or the accounts an attacker probes. Below admin a
 * caller sees such a name only when it is the caller's own; the record's
 * other fields stay (web/API.md "Audit log"). */
bool web_log_account_visible(const struct web_conn *c, const struct audit_event *ev);
#define WEB_LOG_ACCOUNT_HIDDEN "(hidden)"
cJSON *web_log_entry_json(const struct audit_event *ev, bool account_visible);
enum audit_iface web_audit_iface(const struct web_conn *c);

#endif
