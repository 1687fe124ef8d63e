/* RMCP+ session setup (IPMI 2.0 spec 13.17-13.23): Open Session, then the
 * RAKP exchange that proves both sides know the user's key. Cipher suite 0
 * (no authentication) and every suite but 3 and 17 are refused.
 *
 * A name without an account or without an IPMI password gets a RAKP 2
 * like any other, keyed with a per-process secret, so the answers do not
 * tell which names exist; its RAKP 3 then always fails. */
#include <netinet/in.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <string.h>

#include "audit/audit.h"
#include "common/log.h"
#include "ipmi/ipmi_internal.h"

/* RMCP+ status codes (13.24) */
#define ST_OK 0x00
#define ST_NO_RESOURCES 0x01
#define ST_INVALID_SESSION 0x02
#define ST_INVALID_ROLE 0x09
#define ST_UNAUTHORIZED_ROLE 0x0a
#define ST_INVALID_NAME_LENGTH 0x0c
#define ST_INVALID_ICV 0x0f
#define ST_NO_CIPHER_SUITE 0x11

static size_t reply(uint8_t *out, size_t cap, uint8_t type, const uint8_t *payload, size_t n)
{
    if (n > cap - IPMI_V20_HEADER)
        return 0;
    memcpy(out + IPMI_V20_HEADER, payload, n);
    return ipmi_pkt_v20_wrap(out, cap, type, 0, 0, n, 0);
}

/* The short answer every setup message gets on an error: tag, status,
 * reserved (2), the console's session id. */
static size_t refuse(uint8_t *out, size_t cap, uint8_t type, uint8_t tag, uint8_t status, uint32_t sid_m)
{
    uint8_t p[8] = {tag, status};
    ipmi_put32(p + 4, sid_m);
    return reply(out, cap, type, p, sizeof(p));
}

/* Whether two peers are the same source for the half-open limit: the same
 * IPv4 address, or the same IPv6 /64 (one host owns a whole /64), any port. */
static bool same_source(const struct sockaddr_storage *a, const struct sockaddr *b)
{
    if (a->ss_family != b->sa_family)
        return false;
    if (b->sa_family == AF_INET)
        return memcmp(&((const struct sockaddr_in *)a)->sin_addr, &((const struct sockaddr_in *)b)->sin_addr,
                      4) == 0;
    if (b->sa_family == AF_INET6)
        return memcmp(&((const struct sockaddr_in6 *)a)->sin6_addr, &((const struct sockaddr_in6 *)b)->sin6_addr,
                      8) == 0;
    return false;
}

static int half_open_from(const struct ipmi_core *c, const struct sockaddr_storage *peer)
{
    int n = 0;
    for (int i = 0; i < IPMI_SESSIONS_MAX; i++) {
        const struct ipmi_session *s = &c->sessions[i];
        n += s->state != IPMI_S_FREE && s->state != IPMI_S_ACTIVE && same_source(peer, (const void *)&s->peer);
    }
    return n;
}

/* The half-open session to drop for a new one from peer: that source's own
 * oldest when it is at its limit; else, when every slot is taken, one from
 * the source holding the most (the oldest among them, one that has not
 * reached RAKP 2 first: a forged source address never gets that far).
 * Established sessions are never dropped for a half-open one, and a
 * login from an address that is not flooding keeps its slot. NULL: none. */
static struct ipmi_session *half_open_victim(struct ipmi_core *c, const struct sockaddr *peer, bool full)
{
    struct ipmi_session *victim = NULL;
    int victim_count = 0;
    for (int i = 0; i < IPMI_SESSIONS_MAX; i++) {
        struct ipmi_session *s = &c->sessions[i];
        if (s->state == IPMI_S_FREE || s->state == IPMI_S_ACTIVE)
            continue;
        bool mine = same_source(&s->peer, peer);
        int count = half_open_from(c, &s->peer);
        if (!full && !mine)
            continue;
        bool better = !victim || count > victim_count ||
                      (count == victim_count && (s->state == IPMI_S_OPENED) > (victim->state == IPMI_S_OPENED)) ||
                      (count == victim_count && (s->state == IPMI_S_OPENED) == (victim->state == IPMI_S_OPENED) &&
                       s->last_ms < victim->last_ms);
        if (better) {
            victim = s;
            victim_count = count;
        }
    }
    return victim;
}

static struct ipmi_session *session_new(struct ipmi_core *c, const struct sockaddr *peer)
{
    int active = 0, half_open = 0;
    struct ipmi_session *free_slot = NULL;
    for (int i = 0; i < IPMI_SESSIONS_MAX; i++) {
        struct ipmi_session *s = &c->sessions[i];
        if (s->state == IPMI_S_FREE && !free_slot)
            free_slot = s;
        active += s->state == IPMI_S_ACTIVE;
        half_open += s->state != IPMI_S_FREE && s->state != IPMI_S_ACTIVE;
    }
    /* max_sessions counts established sessions only; half-open ones have
     * the rest of the table, at most IPMI_HALF_OPEN_PER_SOURCE per source. */
    if (active >= c->max_sessions)
        return NULL;
    int from_peer = 0;
    for (int i = 0; i < IPMI_SESSIONS_MAX; i++) {
        const struct ipmi_session *s = &c->sessions[i];
        from_peer += s->state != IPMI_S_FREE && s->state != IPMI_S_ACTIVE && same_source(&s->peer, peer);
    }
    bool full = !free_slot || half_open >= IPMI_SESSIONS_MAX - c->max_sessions;
    if (from_peer >= IPMI_HALF_OPEN_PER_SOURCE || full) {
        struct ipmi_session *victim = half_open_victim(c, peer, full && from_peer < IPMI_HALF_OPEN_PER_SOURCE);
        if (!victim)
            return NULL;
        ipmi_session_end(c, victim, "made room");
        free_slot = victim;
    }
    uint32_t id = 0;
    while (id == 0 || ipmi_session_by_id(c, id))
        if (RAND_bytes((uint8_t *)&id, sizeof(id)) != 1)
            return NULL;
    memset(free_slot, 0, sizeof(*free_slot));
    free_slot->rakp.sid_c = id;
    return free_slot;
}

size_t ipmi_rakp_open(struct ipmi_core *c, const struct ipmi_pkt *p, const struct sockaddr *peer,
                      socklen_t peer_len, const char *peer_name, uint8_t *out, size_t cap, int64_t now_ms)
{
    struct ipmi_open_req rq;
    if (ipmi_parse_open_req(p->payload, p->payload_len, &rq) < 0)
        return 0;
    const struct ipmi_suite *suite = ipmi_suite_find(rq.auth, rq.integ, rq.conf);
    uint8_t priv = rq.max_priv ? rq.max_priv : IPMI_PRIV_ADMIN;
    if (!suite) {
        if (ipmi_log_ok(c, now_ms))
            LOG_INFO("ipmi", "%s: refused a session with algorithms %d/%d/%d (only cipher suites 3 and 17)",
                     peer_name, rq.auth, rq.integ, rq.conf);
        return refuse(out, cap, IPMI_PAYLOAD_OPEN_RSP, rq.tag, ST_NO_CIPHER_SUITE, rq.console_id);
    }
    if (priv > IPMI_PRIV_ADMIN)
        return refuse(out, cap, IPMI_PAYLOAD_OPEN_RSP, rq.tag, ST_INVALID_ROLE, rq.console_id);
    struct ipmi_session *s = session_new(c, peer);
    if (!s) {
        if (ipmi_log_ok(c, now_ms))
            LOG_WARN("ipmi", "%s: no room for another session ([ipmi] max_sessions = %d)", peer_name,
                     c->max_sessions);
        return refuse(out, cap, IPMI_PAYLOAD_OPEN_RSP, rq.tag, ST_NO_RESOURCES, rq.console_id);
    }
    s->state = IPMI_S_OPENED;
    s->suite = suite;
    s->rakp.sid_m = rq.console_id;
    memcpy(s->rakp.guid_c, c->guid, 16);
    s->max_priv = priv;
    s->last_ms = now_ms;
    s->peer_len = peer_len < sizeof(s->peer) ? peer_len : sizeof(s->peer);
    memcpy(&s->peer, peer, s->peer_len);
    snprintf(s->peer_name, sizeof(s->peer_name), "%s", peer_name);
    /* tag, status, max privilege, reserved, console id, BMC id, then the
     * three algorithm records as proposed */
    uint8_t r[36] = {rq.tag, ST_OK, priv};
    ipmi_put32(r + 4, s->rakp.sid_m);
    ipmi_put32(r + 8, s->rakp.sid_c);
    const uint8_t alg[3] = {suite->auth, suite->integ, suite->conf};
    for (int i = 0; i < 3; i++) {
        r[12 + 8 * i] = (uint8_t)i;
        r[15 + 8 * i] = 8;
        r[16 + 8 * i] = alg[i];
    }
    LOG_DEBUG("ipmi", "session %08x opening for %s (cipher suite %u)", s->rakp.sid_c, peer_name, suite->id);
    return reply(out, cap, IPMI_PAYLOAD_OPEN_RSP, r, sizeof(r));
}

/* Kuid of the user named in RAKP 1, or a stand-in for an unknown one. */
static bool user_key(struct ipmi_core *c, const struct ipmi_rakp1 *m, uint8_t kuid[IPMI_KUID_LEN])
{
    ipmi_users_refresh(&c->users);
    auth_accounts_refresh(&c->accounts);
    const struct ipmi_user *u = NULL;
    if (m->ulen && strlen(m->user) == m->ulen && auth_name_valid(m->user) &&
        auth_accounts_find(&c->accounts, m->user))
        u = ipmi_users_find(&c->users, m->user);
    if (u) {
        ipmi_kuid(u->password, u->len, kuid);
        return true;
    }
    uint8_t h[32];
    unsigned len = 0;
    HMAC(EVP_sha256(), c->fake_key, sizeof(c->fake_key), (const uint8_t *)m->user, m->ulen, h, &len);
    memcpy(kuid, h, IPMI_KUID_LEN);
    return false;
}

size_t ipmi_rakp_1(struct ipmi_core *c, const struct ipmi_pkt *p, const struct sockaddr *peer,
                   socklen_t peer_len, uint8_t *out, size_t cap, int64_t now_ms)
{
    struct ipmi_rakp1 m;
    int pr = ipmi_parse_rakp1(p->payload, p->payload_len, &m);
    if (pr == -1)
        return 0;
    struct ipmi_session *s = ipmi_session_find(c, m.bmc_id, peer, peer_len);
    if (!s || (s->state != IPMI_S_OPENED && s->state != IPMI_S_RAKP2_SENT))
        return refuse(out, cap, IPMI_PAYLOAD_RAKP2, m.tag, ST_INVALID_SESSION, 0);
    uint8_t status = ST_OK, priv = m.role & 0x0f;
    if (pr == -2)
        status = ST_INVALID_NAME_LENGTH;
    else if (priv == 0 || priv > IPMI_PRIV_ADMIN)
        status = ST_INVALID_ROLE;
    else if (priv > s->max_priv)
        status = ST_UNAUTHORIZED_ROLE;
    if (status != ST_OK) {
        uint32_t sid_m = s->rakp.sid_m;
        ipmi_session_end(c, s, "refused in RAKP 1");
        return refuse(out, cap, IPMI_PAYLOAD_RAKP2, m.tag, status, sid_m);
    }
    struct ipmi_rakp *k = &s->rakp;
    memcpy(k->rm, m.rm, 16);
    k->role = m.role;
    k->ulen = m.ulen;
    memcpy(k->user, m.user, m.ulen);
    for (size_t i = 0; i < m.ulen; i++) /* names come off the network */
        s->user[i] = m.user[i] > 0x20 && m.user[i] < 0x7f && m.user[i] != '\'' ? m.user[i] : '?';
    s->user[m.ulen] = '\0';
    s->known_user = user_key(c, &m, s->kuid);
    /* tag, status, reserved (2), console id, Rc, GUIDc, key exchange code */
    uint8_t r[40 + IPMI_KEY_MAX] = {m.tag, ST_OK};
    ipmi_put32(r + 4, k->sid_m);
    if (RAND_bytes(k->rc, 16) != 1 || ipmi_rakp2_code(s->suite, s->kuid, k, r + 40) < 0) {
        ipmi_session_end(c, s, "failed (crypto)");
        return 0;
    }
    memcpy(r + 8, k->rc, 16);
    memcpy(r + 24, k->guid_c, 16);
    s->state = IPMI_S_RAKP2_SENT;
    s->last_ms = now_ms;
    return reply(out, cap, IPMI_PAYLOAD_RAKP2, r, 40 + s->suite->hmac_len);
}

static void login_failed(struct ipmi_core *c, struct ipmi_session *s, const char *why, int64_t now_ms)
{
    c->stats.login_failures++;
    /* Rate-limited like the journal: spoofed UDP must not flush the log. */
    if (ipmi_log_ok(c, now_ms)) {
        LOG_WARN("ipmi", "login of '%s' from %s failed: %s", s->user, s->peer_name, why);
        audit_record(AUDIT_LOGIN_FAILED, AUDIT_IF_IPMI, AUDIT_FAILED, s->user, s->peer_name, "%s", why);
    }
    ipmi_session_end(c, s, "refused");
}

size_t ipmi_rakp_3(struct ipmi_core *c, const struct ipmi_pkt *p, const struct sockaddr *peer,
                   socklen_t peer_len, uint8_t *out, size_t cap, int64_t now_ms)
{
    struct ipmi_rakp3 m;
    if (ipmi_parse_rakp3(p->payload, p->payload_len, &m) < 0)
        return 0;
    struct ipmi_session *s = ipmi_session_find(c, m.bmc_id, peer, peer_len);
    if (!s || (s->state != IPMI_S_RAKP2_SENT && s->state != IPMI_S_ACTIVE))
        return refuse(out, cap, IPMI_PAYLOAD_RAKP4, m.tag, ST_INVALID_SESSION, 0);
    uint8_t want[IPMI_KEY_MAX];
    bool ok = m.status == ST_OK && m.auth_len == s->suite->hmac_len &&
              ipmi_rakp3_code(s->suite, s->kuid, &s->rakp, want) == 0 &&
              CRYPTO_memcmp(want, m.auth, m.auth_len) == 0 && s->known_user;
    if (s->state == IPMI_S_ACTIVE) {
        /* a repeated RAKP 3 (our RAKP 4 was lost): the same answer */
        if (!ok || s->rakp4_len > cap)
            return 0;
        memcpy(out, s->rakp4, s->rakp4_len);
        return s->rakp4_len;
    }
    uint32_t sid_m = s->rakp.sid_m;
    if (m.status != ST_OK) {
        /* The console found our RAKP 2 code wrong: it holds another password. */
        login_failed(c, s, "the client rejected the key exchange (wrong password?)", now_ms);
        return 0;
    }
    if (!ok) {
        login_failed(c, s, s->known_user ? "wrong password" : "unknown name or no IPMI password", now_ms);
        return refuse(out, cap, IPMI_PAYLOAD_RAKP4, m.tag, ST_INVALID_ICV, sid_m);
    }
    uint8_t asked = s->rakp.role & 0x0f, limit = ipmi_role_limit(c, s->user);
    if (asked > limit) {
        /* Only now, with the password proven: an earlier refusal would
         * tell anyone which names exist and what they may do. */
        ipmi_refuse_priv(c, s, "login", asked, limit);
        ipmi_session_end(c, s, "refused (privilege above the account's role)");
        return refuse(out, cap, IPMI_PAYLOAD_RAKP4, m.tag, ST_UNAUTHORIZED_ROLE, sid_m);
    }
    if (ipmi_core_active_sessions(c) >= c->max_sessions) {
        /* others completed first: half-open sessions do not count until here */
        ipmi_session_end(c, s, "refused (max_sessions reached)");
        return refuse(out, cap, IPMI_PAYLOAD_RAKP4, m.tag, ST_NO_RESOURCES, sid_m);
    }
    uint8_t r[8 + IPMI_KEY_MAX] = {m.tag, ST_OK};
    ipmi_put32(r + 4, sid_m);
    if (ipmi_session_keys(s->suite, s->kuid, &s->rakp, &s->keys) < 0 ||
        ipmi_rakp4_code(s->suite, &s->keys, &s->rakp, r + 8) < 0) {
        ipmi_session_end(c, s, "failed (crypto)");
        return 0;
    }
    size_t n = reply(out, cap, IPMI_PAYLOAD_RAKP4, r, 8 + s->suite->icv_len);
    if (n && n <= sizeof(s->rakp4)) {
        memcpy(s->rakp4, out, n);
        s->rakp4_len = n;
    }
    uint8_t role = s->rakp.role & 0x0f;
    s->state = IPMI_S_ACTIVE;
    s->priv = role < IPMI_PRIV_USER ? role : IPMI_PRIV_USER;
    s->last_ms = now_ms;
    c->stats.logins++;
    ipmi_session_listed(c, s);
    LOG_INFO("ipmi", "session %08x opened for %s from %s (cipher suite %u, up to privilege %u)",
             s->rakp.sid_c, s->user, s->peer_name, s->suite->id, role);
    audit_record(AUDIT_LOGIN, AUDIT_IF_IPMI, AUDIT_OK, s->user, s->peer_name, "session %08x, cipher suite %u",
                 s->rakp.sid_c, s->suite->id);
    return n;
}
