/* ipmi/ipmi_internal: the IPMI-over-LAN core shared by ipmi/ipmi_*.c. The
 * core turns one datagram into at most one reply and owns the RMCP+
 * sessions; it does no I/O except reading the account files, so the
 * fuzzer and the unit tests drive it directly. ipmi_server.c owns the
 * thread and the sockets around it. Only that one thread touches a core. */
#ifndef PIGLIX_WEB_IPMI_INTERNAL_H
#define PIGLIX_WEB_IPMI_INTERNAL_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "auth/auth.h"
#include "ipmi/ipmi.h"
#include "ipmi/ipmi_crypto.h"
#include "ipmi/ipmi_packet.h"
#include "ipmi/ipmi_sdr.h"
#include "ipmi/ipmi_sol.h"
#include "ipmi/ipmi_sel.h"

struct atx;
struct sensors;

#define IPMI_PRIV_CALLBACK 1
#define IPMI_PRIV_USER 2
#define IPMI_PRIV_OPERATOR 3
#define IPMI_PRIV_ADMIN 4
#define IPMI_CHANNEL 1              /* the LAN channel's number */
#define IPMI_BMC_ADDR 0x20
#define IPMI_PEER_MAX 64            /* "[address]:port" for logs */
#define IPMI_SESSIONS_MAX 64
#define IPMI_PENDING_MS 5000        /* a session not activated by then is dropped */
#define IPMI_HALF_OPEN_PER_SOURCE 4 /* half-open sessions per address (IPv6: per /64) */
#define IPMI_REPLAY_WINDOW 32       /* sequence numbers remembered below the highest */

enum ipmi_session_state { IPMI_S_FREE, IPMI_S_OPENED, IPMI_S_RAKP2_SENT, IPMI_S_ACTIVE };

struct ipmi_session {
    enum ipmi_session_state state;
    const struct ipmi_suite *suite;
    struct ipmi_rakp rakp;          /* ids, random numbers, role, name */
    uint8_t kuid[IPMI_KUID_LEN];    /* wiped with the session */
    struct ipmi_keys keys;
    bool known_user;                /* false: RAKP 3 always fails */
    uint8_t max_priv;               /* from the Open Session Request */
    uint8_t priv;                   /* the session's current level */
    uint32_t out_seq;               /* last sequence number sent */
    uint32_t in_high;               /* highest accepted inbound number (0: none yet) */
    uint64_t in_seen;               /* bit i: in_high - i was accepted */
    int64_t last_ms;
    struct sockaddr_storage peer;
    socklen_t peer_len;
    char peer_name[IPMI_PEER_MAX];
    char user[IPMI_USER_MAX + 1];   /* printable, for logs and "who" */
    uint8_t rakp4[64];              /* answered again when RAKP 3 is repeated */
    size_t rakp4_len;
    unsigned ctl_id;                /* its entry in control/ while active (0: none) */
};

struct ipmi_stats {
    uint64_t packets, replies, dropped, replayed, bad_icv, logins, login_failures;
    uint64_t priv_refusals;         /* logins and commands refused for the account's role */
};

struct control;
struct control_owner;

struct ipmi_core {
    char state_dir[256];
    int max_sessions;
    int64_t timeout_ms;
    struct atx *atx;                /* NULL: no chassis control */
    struct sensors *sensors;        /* NULL: an empty SDR repository */
    uint8_t guid[16];
    uint8_t fake_key[32];           /* keys unknown names' RAKP 2 codes */
    struct ipmi_session sessions[IPMI_SESSIONS_MAX];
    struct ipmi_users users;
    struct auth_accounts accounts;
    struct ipmi_sdr sdr;
    struct sensor_reading readings[SENSORS_MAX]; /* scratch for the SDR refresh */
    uint16_t reservation;
    struct ipmi_sel sel;            /* the audit log as the SEL */
    struct ipmi_stats stats;
    int64_t log_window_ms;          /* see ipmi_log_ok */
    int log_count;
    unsigned log_suppressed;
    /* control/ (who is connected): set once from the main thread
     * (ipmi_set_control), read by the IPMI thread; NULL: not listed. */
    struct control *_Atomic ctl;
    struct control_owner *ctl_owner;
    /* Serial-over-LAN (ipmi_cmd_sol.c): NULL port: not offered */
    const struct ipmi_sol_port *sol_port;
    uint16_t udp_port;              /* [ipmi] port, told to SOL consoles */
    struct ipmi_sol sol;
    uint32_t sol_bye;               /* a session whose SOL was taken: tell it */
};

/* Everything but the sockets. NULL on failure (logged). */
struct ipmi_core *ipmi_core_create(const char *state_dir, int max_sessions, int timeout_s,
                                   struct atx *atx, struct sensors *sensors, const uint8_t guid[16]);
void ipmi_core_destroy(struct ipmi_core *c);
/* One datagram from peer (peer_name labels logs) at now_ms: returns the
 * reply's length in out (0: no reply). */
size_t ipmi_core_handle(struct ipmi_core *c, const struct sockaddr *peer, socklen_t peer_len,
                        const char *peer_name, const uint8_t *in, size_t n, uint8_t *out,
                        size_t cap, int64_t now_ms);
/* Ends sessions idle past the timeout (and pending ones past IPMI_PENDING_MS). */
void ipmi_core_expire(struct ipmi_core *c, int64_t now_ms);
int ipmi_core_active_sessions(const struct ipmi_core *c);

/* Whether a message about unauthenticated traffic (refusals, failed
 * logins) may be logged now: anyone can send those datagrams, so at most
 * IPMI_LOG_PER_MINUTE a minute; the rest are counted and reported. */
#define IPMI_LOG_PER_MINUTE 20
bool ipmi_log_ok(struct ipmi_core *c, int64_t now_ms);

/* ipmi_session.c: replay window (exposed for the unit test). Returns true
 * and records seq when it is new and not too old. */
bool ipmi_seq_accept(struct ipmi_session *s, uint32_t seq);
void ipmi_session_end(struct ipmi_core *c, struct ipmi_session *s, const char *why);
struct ipmi_session *ipmi_session_by_id(struct ipmi_core *c, uint32_t bmc_id);

/* ipmi_rakp.c: the RMCP+ session setup: Open Session Request, RAKP
 * messages 1 and 3. p is the parsed packet (session id 0); each returns
 * the whole reply datagram's length in out (0: none). */
size_t ipmi_rakp_open(struct ipmi_core *c, const struct ipmi_pkt *p, const struct sockaddr *peer,
                      socklen_t peer_len, const char *peer_name, uint8_t *out, size_t cap, int64_t now_ms);
size_t ipmi_rakp_1(struct ipmi_core *c, const struct ipmi_pkt *p, const struct sockaddr *peer,
                   socklen_t peer_len, uint8_t *out, size_t cap, int64_t now_ms);
size_t ipmi_rakp_3(struct ipmi_core *c, const struct ipmi_pkt *p, const struct sockaddr *peer,
                   socklen_t peer_len, uint8_t *out, size_t cap, int64_t now_ms);
/* The session with this BMC id that came from peer, in any state but free. */
struct ipmi_session *ipmi_session_find(struct ipmi_core *c, uint32_t bmc_id, const struct sockaddr *peer,
                                       socklen_t peer_len);

/* ipmi_cmd.c: roles. The highest privilege level the named web account
 * may use: its role's (admin: Administrator, operator: Operator, viewer:
 * User), 0 when the account is gone. Read per call, so a role change
 * counts at the next packet. */
uint8_t ipmi_role_limit(struct ipmi_core *c, const char *name);
/* Every refusal for the account's role goes through here (logged,
 * counted): a login asking for more than the role allows, a command or
 * Set Session Privilege Level above the session's level. */
void ipmi_refuse_priv(struct ipmi_core *c, const struct ipmi_session *s, const char *what, uint8_t need,
                      uint8_t have);
/* Seals a payload for session s: encrypted, authenticated, the next
 * outbound sequence number. Returns the datagram's length, 0 on an error. */
size_t ipmi_session_seal(struct ipmi_session *s, uint8_t payload_type, const uint8_t *plain, size_t n,
                         uint8_t *out, size_t cap);

/* ipmi_cmd_sol.c: Serial-over-LAN in the core. */
/* Offers SOL on the console port (must outlive the core). */
void ipmi_core_set_sol(struct ipmi_core *c, const struct ipmi_sol_port *port, int udp_port);
/* Whether session s may activate (or take over) SOL. */
bool ipmi_sol_allowed(const struct ipmi_core *c, const struct ipmi_session *s);

/* ipmi_sol_state.c: the SOL parameters kept in [state] dir/ipmi.sol.
 * parse: "key = value" lines applied to cfg (those it does not understand
 * leave cfg alone); returns how many lines were not understood. load: 1
 * read, 0 no file, -1 error. save: atomic replacement, 0 or -1. */
#define IPMI_SOL_STATE_FILE "ipmi.sol"
int ipmi_sol_state_parse(const char *text, size_t len, struct ipmi_sol_config *cfg);
int ipmi_sol_state_load(const char *dir, struct ipmi_sol_config *cfg);
int ipmi_sol_state_save(const char *dir, const struct ipmi_sol_config *cfg);
/* The session that holds the SOL instance, or NULL. */
struct ipmi_session *ipmi_sol_owner(struct ipmi_core *c);
/* Deactivates the instance (logged with why). */
void ipmi_sol_end(struct ipmi_core *c, const char *why);
/* The payload commands and the SOL configuration parameters; *found is
 * false for any other command. */
size_t ipmi_cmd_sol(struct ipmi_core *c, struct ipmi_session *s, const struct ipmi_msg *rq, uint8_t *rsp,
                    bool *found);
/* A datagram the core sends on its own (SOL output, a retry, a farewell):
 * its length and where it goes; 0 when none is due at now_ms. Call until 0. */
size_t ipmi_core_sol_poll(struct ipmi_core *c, int64_t now_ms, uint8_t *out, size_t cap,
                          struct sockaddr_storage *peer, socklen_t *peer_len);
/* When ipmi_core_sol_poll wants to run next (-1: only after new output or a datagram). */
int64_t ipmi_core_next_ms(const struct ipmi_core *c);
/* One decrypted SOL payload of session s: heard only from the instance's
 * owner, and only while the account's role (as it is now) still allows
 * SOL, else the instance ends; its characters and BREAKs reach the console
 * only when the session may type there ([control]: in exclusive mode, the
 * keyboard's holder), else they are dropped and acknowledged as taken.
 * Writes the plain answer (ACK/NACK) to out; its length, 0 when none. */
size_t ipmi_core_sol_receive(struct ipmi_core *c, struct ipmi_session *s, const uint8_t *plain, size_t n,
                             uint8_t *out, size_t cap, int64_t now_ms);
/* Ends the instance if its owner's role has been lowered below SOL's
 * privilege since it activated (called once a second). */
void ipmi_core_sol_check_role(struct ipmi_core *c);

/* ipmi_cmd.c: one IPMI request inside session s (NULL: outside any
 * session, where only the pre-session commands work). Writes the
 * completion code and data to rsp; returns their length. *close_after is
 * set when the session must end once the reply is sent. */
size_t ipmi_cmd_handle(struct ipmi_core *c, struct ipmi_session *s, const struct ipmi_msg *rq,
                       uint8_t *rsp, size_t cap, bool *close_after);

/* ipmi_session.c: the sessions in control/: listed when active, closed
 * when they end, ended on the IPMI thread when an admin asks (each turn). */
void ipmi_core_control_service(struct ipmi_core *c);
void ipmi_core_set_control(struct ipmi_core *c, struct control *ctl);
void ipmi_session_listed(struct ipmi_core *c, struct ipmi_session *s);

#endif
