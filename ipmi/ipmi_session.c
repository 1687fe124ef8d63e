/* The core: dispatch of each datagram, active sessions' packets (integrity,
 * replay window, decryption, the reply), timeouts. */
#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <stdlib.h>
#include <string.h>

#include "audit/audit.h"
#include "common/log.h"
#include "control/control.h"
#include "ipmi/ipmi_internal.h"

#define SEQ_AHEAD_MAX 1024u          /* a larger jump forward is not a lost packet */

struct ipmi_core *ipmi_core_create(const char *state_dir, int max_sessions, int timeout_s,
                                   struct atx *atx, struct sensors *sensors, const uint8_t guid[16])
{
    struct ipmi_core *c = calloc(1, sizeof(*c));
    if (!c) {
        LOG_ERROR("ipmi", "out of memory");
        return NULL;
    }
    snprintf(c->state_dir, sizeof(c->state_dir), "%s", state_dir);
    c->max_sessions = max_sessions < 1 ? 1 : max_sessions > IPMI_SESSIONS_MAX ? IPMI_SESSIONS_MAX : max_sessions;
    c->timeout_ms = (int64_t)timeout_s * 1000;
    c->atx = atx;
    c->sensors = sensors;
    memcpy(c->guid, guid, 16);
    if (RAND_bytes(c->fake_key, sizeof(c->fake_key)) != 1) {
        LOG_ERROR("ipmi", "no random numbers");
        free(c);
        return NULL;
    }
    /* Missing files are no accounts; a damaged line costs that account only. */
    ipmi_users_load(&c->users, state_dir, NULL);
    auth_accounts_load(&c->accounts, state_dir, NULL);
    return c;
}

void ipmi_core_destroy(struct ipmi_core *c)
{
    if (!c)
        return;
    ipmi_users_clear(&c->users);
    ipmi_sel_free(&c->sel);
    OPENSSL_cleanse(c, sizeof(*c));
    free(c);
}

bool ipmi_log_ok(struct ipmi_core *c, int64_t now_ms)
{
    if (now_ms - c->log_window_ms >= 60000) {
        if (c->log_suppressed)
            LOG_WARN("ipmi", "%u more refusals and failed logins in the last minute not logged",
                     c->log_suppressed);
        c->log_window_ms = now_ms;
        c->log_count = 0;
        c->log_suppressed = 0;
    }
    if (c->log_count < IPMI_LOG_PER_MINUTE) {
        c->log_count++;
        return true;
    }
    c->log_suppressed++;
    return false;
}

bool ipmi_seq_accept(struct ipmi_session *s, uint32_t seq)
{
    if (seq == 0)
        return false;
    if (s->in_high == 0) {
        s->in_high = seq;
        s->in_seen = 1;
        return true;
    }
    uint32_t ahead = seq - s->in_high;
    if (ahead != 0 && ahead <= SEQ_AHEAD_MAX) {
        s->in_seen = ahead >= 64 ? 1 : s->in_seen << ahead | 1;
        s->in_high = seq;
        return true;
    }
    uint32_t back = s->in_high - seq;
    if (back >= IPMI_REPLAY_WINDOW || (s->in_seen >> back & 1))
        return false;
    s->in_seen |= 1ull << back;
    return true;
}

static bool same_peer(const struct ipmi_session *s, const struct sockaddr *peer, socklen_t len)
{
    return s->peer_len == len && memcmp(&s->peer, peer, len) == 0;
}

struct ipmi_session *ipmi_session_by_id(struct ipmi_core *c, uint32_t bmc_id)
{
    for (int i = 0; i < IPMI_SESSIONS_MAX; i++)
        if (c->sessions[i].state != IPMI_S_FREE && c->sessions[i].rakp.sid_c == bmc_id)
            return &c->sessions[i];
    return NULL;
}

struct ipmi_session *ipmi_session_find(struct ipmi_core *c, uint32_t bmc_id, const struct sockaddr *peer,
                                       socklen_t peer_len)
{
    struct ipmi_session *s = bmc_id ? ipmi_session_by_id(c, bmc_id) : NULL;
    return s && same_peer(s, peer, peer_len) ? s : NULL;
}

/* IPMI's privilege levels as roles: what the session may reach. */
static enum auth_role role_of(uint8_t priv)
{
    return priv >= IPMI_PRIV_ADMIN ? AUTH_ROLE_ADMIN : priv >= IPMI_PRIV_OPERATOR ? AUTH_ROLE_OPERATOR
                                                                                 : AUTH_ROLE_VIEWER;
}

void ipmi_session_listed(struct ipmi_core *c, struct ipmi_session *s)
{
    struct control *ctl = atomic_load(&c->ctl);
    if (ctl)
        s->ctl_id = control_session_open(ctl, c->ctl_owner, CONTROL_IF_IPMI, s->user, s->peer_name,
                                         role_of(s->rakp.role & 0x0f), (uintptr_t)(s - c->sessions), 0);
}

/* control_owner_service, on the IPMI thread: an admin ended session id. */
static void end_listed(void *ctx, unsigned id, uintptr_t key)
{
    struct ipmi_core *c = ctx;
    struct ipmi_session *s = key < IPMI_SESSIONS_MAX ? &c->sessions[key] : NULL;
    if (s && s->state == IPMI_S_ACTIVE && s->ctl_id == id)
        ipmi_session_end(c, s, "ended by an admin");
    else
        control_session_close(atomic_load(&c->ctl), id);
}

void ipmi_core_set_control(struct ipmi_core *c, struct control *ctl)
{
    if (!ctl)
        return;
    c->ctl_owner = control_owner_add(ctl, "ipmi", NULL, end_listed, c);
    atomic_store(&c->ctl, ctl); /* after the owner: the IPMI thread reads both */
}

void ipmi_core_control_service(struct ipmi_core *c)
{
    struct control *ctl = atomic_load(&c->ctl);
    if (ctl)
        control_owner_service(ctl, c->ctl_owner);
}

void ipmi_session_end(struct ipmi_core *c, struct ipmi_session *s, const char *why)
{
    if (s->ctl_id)
        control_session_close(atomic_load(&c->ctl), s->ctl_id);
    if (c->sol.active && c->sol.bmc_id == s->rakp.sid_c && s->state == IPMI_S_ACTIVE)
        ipmi_sol_end(c, "ended with its session");
    if (s->state == IPMI_S_ACTIVE) {
        LOG_INFO("ipmi", "session %08x of %s from %s %s", s->rakp.sid_c, s->user, s->peer_name, why);
        audit_record(strcmp(why, "closed") == 0 ? AUDIT_LOGOUT : AUDIT_SESSION_END, AUDIT_IF_IPMI, AUDIT_OK,
                     s->user, s->peer_name, "session %08x %s", s->rakp.sid_c, why);
    }
    else
        LOG_DEBUG("ipmi", "session %08x from %s %s before activation", s->rakp.sid_c, s->peer_name, why);
    OPENSSL_cleanse(s, sizeof(*s));
    s->state = IPMI_S_FREE;
}

void ipmi_core_expire(struct ipmi_core *c, int64_t now_ms)
{
    ipmi_core_sol_check_role(c);
    for (int i = 0; i < IPMI_SESSIONS_MAX; i++) {
        struct ipmi_session *s = &c->sessions[i];
        if (s->state == IPMI_S_ACTIVE && now_ms - s->last_ms > c->timeout_ms)
            ipmi_session_end(c, s, "timed out");
        else if (s->state != IPMI_S_FREE && s->state != IPMI_S_ACTIVE && now_ms - s->last_ms > IPMI_PENDING_MS) {
            /* Clients that find RAKP 2's code wrong (ipmitool, freeipmi)
             * just go away: this is where a wrong password shows. */
            if (s->state == IPMI_S_RAKP2_SENT) {
                c->stats.login_failures++;
                if (ipmi_log_ok(c, now_ms)) {
                    LOG_WARN("ipmi", "login of '%s' from %s failed: the client did not finish the key "
                             "exchange (wrong password?)", s->user, s->peer_name);
                    audit_record(AUDIT_LOGIN_FAILED, AUDIT_IF_IPMI, AUDIT_FAILED, s->user, s->peer_name,
                                 "the client did not finish the key exchange (wrong password?)");
                }
            }
            ipmi_session_end(c, s, "timed out");
        }
    }
}

int ipmi_core_active_sessions(const struct ipmi_core *c)
{
    int n = 0;
    for (int i = 0; i < IPMI_SESSIONS_MAX; i++)
        n += c->sessions[i].state == IPMI_S_ACTIVE;
    return n;
}

/* A request outside any session (IPMI 1.5 or 2.0 framing, session id 0):
 * the reply uses the same framing. */
static size_t sessionless(struct ipmi_core *c, const struct ipmi_pkt *p, uint8_t *out, size_t cap)
{
    struct ipmi_msg rq;
    uint8_t rsp[128], msg[160];
    bool close_after = false;
    if (ipmi_msg_parse(p->payload, p->payload_len, &rq) < 0)
        return 0;
    size_t n = ipmi_cmd_handle(c, NULL, &rq, rsp, sizeof(rsp), &close_after);
    size_t m = ipmi_msg_response(&rq, rsp, n, msg, sizeof(msg));
    if (!m)
        return 0;
    if (p->kind == IPMI_PKT_V15)
        return ipmi_pkt_v15_wrap(out, cap, msg, m);
    if (m > cap - IPMI_V20_HEADER)
        return 0;
    memcpy(out + IPMI_V20_HEADER, msg, m);
    return ipmi_pkt_v20_wrap(out, cap, IPMI_PAYLOAD_IPMI, 0, 0, m, 0);
}

size_t ipmi_session_seal(struct ipmi_session *s, uint8_t payload_type, const uint8_t *plain, size_t n,
                         uint8_t *out, size_t cap)
{
    size_t enc = n && cap > IPMI_V20_HEADER ?
        ipmi_encrypt(&s->keys, plain, n, out + IPMI_V20_HEADER, cap - IPMI_V20_HEADER) : 0;
    size_t at = enc ? ipmi_pkt_v20_wrap(out, cap, payload_type | IPMI_PAYLOAD_ENCRYPTED |
                                        IPMI_PAYLOAD_AUTHENTICATED, s->rakp.sid_m, ++s->out_seq, enc,
                                        s->suite->icv_len) : 0;
    if (at && ipmi_packet_code(s->suite, &s->keys, out + 4, at - 4, out + at) == 0)
        return at + s->suite->icv_len;
    return 0;
}

/* A SOL packet of session s, decrypted: only the session holding the
 * instance is heard. */
static size_t sol_packet(struct ipmi_core *c, struct ipmi_session *s, const uint8_t *plain, size_t n,
                         uint8_t *out, size_t cap, int64_t now_ms)
{
    uint8_t ack[IPMI_SOL_HEADER];
    size_t r = ipmi_core_sol_receive(c, s, plain, n, ack, sizeof(ack), now_ms);
    return r ? ipmi_session_seal(s, IPMI_PAYLOAD_SOL, ack, r, out, cap) : 0;
}

/* An IPMI message or SOL packet inside an active session: authenticated,
 * encrypted, in sequence; anything else is dropped without a word. */
static size_t in_session(struct ipmi_core *c, const struct ipmi_pkt *p, const uint8_t *buf, size_t n,
                         const struct sockaddr *peer, socklen_t peer_len, uint8_t *out, size_t cap,
                         int64_t now_ms)
{
    struct ipmi_session *s = ipmi_session_find(c, p->session_id, peer, peer_len);
    size_t covered;
    const uint8_t *icv;
    if (!s || s->state != IPMI_S_ACTIVE || !p->encrypted ||
        (p->payload_type != IPMI_PAYLOAD_IPMI && p->payload_type != IPMI_PAYLOAD_SOL) ||
        ipmi_pkt_trailer(buf, n, p, s->suite->icv_len, &covered, &icv) < 0)
        return 0;
    if (!ipmi_packet_code_ok(s->suite, &s->keys, buf + 4, covered, icv)) {
        c->stats.bad_icv++;
        LOG_DEBUG("ipmi", "session %08x: bad integrity code from %s", s->rakp.sid_c, s->peer_name);
        return 0;
    }
    if (!ipmi_seq_accept(s, p->seq)) {
        c->stats.replayed++;
        LOG_DEBUG("ipmi", "session %08x: dropped packet %u from %s (seen before or too old; highest %u)",
                  s->rakp.sid_c, p->seq, s->peer_name, s->in_high);
        return 0;
    }
    uint8_t plain[IPMI_PKT_MAX], rsp[256], msg[300];
    struct ipmi_msg rq;
    int len = ipmi_decrypt(&s->keys, p->payload, p->payload_len, plain, sizeof(plain));
    if (len < 0)
        return 0;
    if (p->payload_type == IPMI_PAYLOAD_SOL) {
        s->last_ms = now_ms;
        return sol_packet(c, s, plain, (size_t)len, out, cap, now_ms);
    }
    if (ipmi_msg_parse(plain, (size_t)len, &rq) < 0)
        return 0;
    s->last_ms = now_ms;
    if (s->ctl_id)
        control_session_touch(atomic_load(&c->ctl), s->ctl_id);
    bool close_after = false;
    size_t r = ipmi_cmd_handle(c, s, &rq, rsp, sizeof(rsp), &close_after);
    size_t m = ipmi_msg_response(&rq, rsp, r, msg, sizeof(msg));
    size_t at = m ? ipmi_session_seal(s, IPMI_PAYLOAD_IPMI, msg, m, out, cap) : 0;
    if (close_after)
        ipmi_session_end(c, s, "closed");
    return at;
}

size_t ipmi_core_handle(struct ipmi_core *c, const struct sockaddr *peer, socklen_t peer_len,
                        const char *peer_name, const uint8_t *in, size_t n, uint8_t *out,
                        size_t cap, int64_t now_ms)
{
    struct ipmi_pkt p;
    size_t r = 0;
    c->stats.packets++;
    if (cap < IPMI_PKT_MAX || ipmi_pkt_parse(in, n, &p) < 0) {
        c->stats.dropped++;
        return 0;
    }
    if (p.kind == IPMI_PKT_ASF) {
        if (p.asf_type == IPMI_ASF_PING)
            r = ipmi_pkt_pong(out, cap, p.asf_tag);
    } else if (p.kind == IPMI_PKT_V15) {
        if (p.session_id == 0)
            r = sessionless(c, &p, out, cap);
    } else if (p.session_id != 0) {
        r = in_session(c, &p, in, n, peer, peer_len, out, cap, now_ms);
    } else if (p.authenticated || p.encrypted) {
        r = 0;                      /* no keys outside a session */
    } else if (p.payload_type == IPMI_PAYLOAD_IPMI) {
        r = sessionless(c, &p, out, cap);
    } else if (p.payload_type == IPMI_PAYLOAD_OPEN_REQ) {
        r = ipmi_rakp_open(c, &p, peer, peer_len, peer_name, out, cap, now_ms);
    } else if (p.payload_type == IPMI_PAYLOAD_RAKP1) {
        r = ipmi_rakp_1(c, &p, peer, peer_len, out, cap, now_ms);
    } else if (p.payload_type == IPMI_PAYLOAD_RAKP3) {
        r = ipmi_rakp_3(c, &p, peer, peer_len, out, cap, now_ms);
    }
    if (r)
        c->stats.replies++;
    else
        c->stats.dropped++;
    return r;
}
