/* The RFB handshake up to ClientInit, done by piglix per client.
 *
 * libvncserver keeps its security types in one process-wide list that each
 * client's handshake rewrites (from the screen's authPasswdData at that
 * moment), so what one client is offered and accepted would depend on which
 * client negotiated last: a TCP client parked after its version could pick
 * None once a web-bridge client had negotiated. Here every client is offered
 * and accepts only its own types, decided from its own state (web bridge:
 * None; TCP: VncAuth, or None with [vnc] auth = none); libvncserver's auth
 * code is never entered. From ClientInit on, libvncserver takes over.
 *
 * Unauthenticated TCP handshakes form a bounded pool, separate from the
 * viewers max_clients counts: at most max_pending_per_addr per address
 * (IPv6 per /64) and max_pending in all. A newcomer always gets a place, by
 * closing the oldest handshake of its own address when that one is at its
 * limit, else the oldest of the address holding most, so a flood cannot keep
 * a legitimate viewer out for longer than its own handshake takes. */
#include <errno.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>

#include "audit/audit.h"
#include "common/clock.h"
#include "common/log.h"
#include "server/server.h"
#include "server/vnc_internal.h"

#define SEC_NONE 1
#define SEC_VNCAUTH 2

/* ---- addresses ---- */

void vnc_addr_key_from(struct vnc_addr_key *k, const struct sockaddr_storage *ss)
{
    memset(k, 0, sizeof(*k));
    if (ss->ss_family == AF_INET) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)ss;
        k->b[10] = k->b[11] = 0xff; /* as ::ffff:a.b.c.d, so both forms match */
        memcpy(k->b + 12, &in->sin_addr, 4);
    } else if (ss->ss_family == AF_INET6) {
        const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)ss;
        const uint8_t *a = in6->sin6_addr.s6_addr;
        if (IN6_IS_ADDR_V4MAPPED(&in6->sin6_addr))
            memcpy(k->b, a, 16);
        else
            memcpy(k->b, a, 8); /* one host usually holds a whole /64 */
    }
}

static bool same_addr(const struct vnc_addr_key *a, const struct vnc_addr_key *b)
{
    return memcmp(a->b, b->b, sizeof(a->b)) == 0;
}

/* ---- the pool of unauthenticated handshakes ---- */

static struct vnc_client *oldest_pending(struct server *s, const struct vnc_addr_key *key)
{
    struct vnc_client *old = NULL;
    for (rfbClientPtr cl = s->screen->clientHead; cl; cl = cl->next) {
        struct vnc_client *c = cl->clientData;
        if (!c || !c->pending || cl->sock == RFB_INVALID_SOCKET)
            continue;
        if (key && !same_addr(&c->addr, key))
            continue;
        if (!old || c->connected_ms < old->connected_ms)
            old = c;
    }
    return old;
}

static int pending_from(struct server *s, const struct vnc_addr_key *key, int *total)
{
    int n = 0;
    *total = 0;
    for (rfbClientPtr cl = s->screen->clientHead; cl; cl = cl->next) {
        struct vnc_client *c = cl->clientData;
        if (!c || !c->pending || cl->sock == RFB_INVALID_SOCKET)
            continue;
        (*total)++;
        if (same_addr(&c->addr, key))
            n++;
    }
    return n;
}

/* The oldest handshake of the address holding most of the pool. */
static struct vnc_client *pool_victim(struct server *s)
{
    struct vnc_client *victim = NULL;
    int most = 0;
    for (rfbClientPtr cl = s->screen->clientHead; cl; cl = cl->next) {
        struct vnc_client *c = cl->clientData;
        if (!c || !c->pending || cl->sock == RFB_INVALID_SOCKET)
            continue;
        int total;
        int n = pending_from(s, &c->addr, &total);
        if (!victim || n > most || (n == most && c->connected_ms < victim->connected_ms)) {
            most = n;
            victim = c;
        }
    }
    return victim;
}

static void evict(struct vnc_client *c, const char *why)
{
    LOG_INFO("vnc", "client %s: handshake closed to make room (%s)", c->cl->host, why);
    rfbCloseClient(c->cl);
}

void vnc_handshake_make_room(struct server *s, const struct vnc_addr_key *key)
{
    int total;
    int mine = pending_from(s, key, &total);
    if (mine >= s->vnc->max_pending_per_addr) {
        struct vnc_client *c = oldest_pending(s, key);
        if (c)
            evict(c, "too many handshakes from its address");
    } else if (total >= s->vnc->max_pending) {
        struct vnc_client *c = pool_victim(s);
        if (c)
            evict(c, "too many handshakes in all");
    }
}

/* ---- messages ---- */

static int hs_send(rfbClientPtr cl, const void *p, size_t n)
{
    /* Handshake messages are small and the socket's buffer is empty at this
     * point: a short write means the peer is gone or misbehaving. */
    ssize_t w = send(cl->sock, p, n, MSG_DONTWAIT | MSG_NOSIGNAL);
    return w == (ssize_t)n ? 0 : -1;
}

static void put32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

/* SecurityResult: OK, or failed (with the reason only RFB 3.8 carries), after
 * which the client is closed. Returns 0 when the client goes on. */
static int send_result(struct vnc_client *c, const char *reason)
{
    rfbClientPtr cl = c->cl;
    uint8_t b[8 + 128];
    size_t n = 4;
    put32(b, reason ? 1 : 0);
    if (reason && cl->protocolMinorVersion >= 8) {
        size_t len = strnlen(reason, sizeof(b) - 8);
        put32(b + 4, (uint32_t)len);
        memcpy(b + 8, reason, len);
        n = 8 + len;
    }
    if (hs_send(cl, b, n) < 0 || reason) {
        rfbCloseClient(cl);
        return -1;
    }
    return 0;
}

/* Authenticated: counts against max_clients (TCP viewers only; browser
 * viewers have [web] max_viewers), then libvncserver reads ClientInit. */
static int admit(struct vnc_client *c, bool send_ok)
{
    struct server *s = c->srv;
    rfbClientPtr cl = c->cl;
    if (!c->preauth) {
        unsigned viewers = 0;
        for (rfbClientPtr o = s->screen->clientHead; o; o = o->next) {
            struct vnc_client *oc = o->clientData;
            if (oc && oc != c && oc->admitted && !oc->preauth && o->sock != RFB_INVALID_SOCKET)
                viewers++;
        }
        if (viewers >= (unsigned)s->vnc->max_clients) {
            LOG_WARN("vnc", "client %s refused: [vnc] max_clients = %d reached", cl->host,
                     s->vnc->max_clients);
            return send_result(c, "too many viewers ([vnc] max_clients)");
        }
    }
    if (send_ok && send_result(c, NULL) < 0)
        return -1;
    c->pending = false;
    c->admitted = true;
    s->stats.clients++;
    vnc_control_admit(c);
    cl->state = RFB_INITIALISATION;
    return 0;
}

static int send_challenge(struct vnc_client *c)
{
    rfbClientPtr cl = c->cl;
    /* Not libvncserver's rfbRandomBytes (rand() seeded from the clock). */
    if (getrandom(c->challenge, sizeof(c->challenge), 0) != (ssize_t)sizeof(c->challenge)) {
        LOG_ERROR("vnc", "getrandom: %s", strerror(errno));
        rfbCloseClient(cl);
        return -1;
    }
    if (hs_send(cl, c->challenge, sizeof(c->challenge)) < 0) {
        rfbCloseClient(cl);
        return -1;
    }
    cl->state = RFB_AUTHENTICATION;
    return 0;
}

static int on_version(struct vnc_client *c, const uint8_t *msg)
{
    rfbClientPtr cl = c->cl;
    int minor = rfb_msg_parse_version(msg);
    if (minor < 0) {
        LOG_WARN("vnc", "client %s: unsupported RFB version %.11s; closing", cl->host, (const char *)msg);
        rfbCloseClient(cl);
        return -1;
    }
    cl->protocolMajorVersion = 3;
    cl->protocolMinorVersion = minor;
    c->sec_type = (c->preauth || c->srv->auth_none) ? SEC_NONE : SEC_VNCAUTH;
    if (minor == 3) { /* the server decides: the type as a U32, no list */
        uint8_t b[4];
        put32(b, c->sec_type);
        if (hs_send(cl, b, 4) < 0) {
            rfbCloseClient(cl);
            return -1;
        }
        return c->sec_type == SEC_NONE ? admit(c, false) : send_challenge(c);
    }
    uint8_t list[2] = {1, (uint8_t)c->sec_type};
    if (hs_send(cl, list, 2) < 0) {
        rfbCloseClient(cl);
        return -1;
    }
    cl->state = RFB_SECURITY_TYPE;
    return 0;
}

static int on_security(struct vnc_client *c, uint8_t chosen)
{
    rfbClientPtr cl = c->cl;
    if (chosen != c->sec_type) {
        LOG_WARN("vnc", "client %s: chose security type %u, offered only %d; closing", cl->host,
                 chosen, c->sec_type);
        c->srv->stats.auth_failures++;
        return send_result(c, "security type not offered");
    }
    if (chosen == SEC_NONE) /* RFB 3.7 sends no SecurityResult for None */
        return admit(c, cl->protocolMinorVersion >= 8);
    return send_challenge(c);
}

static int on_response(struct vnc_client *c, const uint8_t *response)
{
    struct server *s = c->srv;
    rfbClientPtr cl = c->cl;
    int64_t now = clock_mono_ms();
    int wait = auth_throttle_check(s->throttle, cl->host, now);
    if (wait > 0) {
        s->stats.auth_failures++;
        LOG_WARN("vnc", "client %s: login refused, too many failures (retry in %d s)", cl->host, wait);
        audit_record(AUDIT_LOGIN_FAILED, AUDIT_IF_VNC, AUDIT_REFUSED, NULL, cl->host,
                     "too many failed logins: retry in %d s", wait);
        memset(c->challenge, 0, sizeof(c->challenge));
        return send_result(c, "too many failed logins: try again later");
    }
    /* Both passwords are always checked, so the time taken says nothing of
     * which one (if any) matched; the answer to a wrong one is the same. */
    bool full = vnc_auth_check_response(s->password, c->challenge, response);
    bool view = s->view_password[0] && vnc_auth_check_response(s->view_password, c->challenge, response);
    bool ok = full || view;
    c->view_only = !full && view;
    memset(c->challenge, 0, sizeof(c->challenge)); /* one response per challenge */
    auth_throttle_record(s->throttle, cl->host, ok, now);
    if (!ok) {
        s->stats.auth_failures++;
        LOG_WARN("vnc", "client %s: wrong password", cl->host);
        audit_record(AUDIT_LOGIN_FAILED, AUDIT_IF_VNC, AUDIT_FAILED, NULL, cl->host, "wrong VNC password");
        return send_result(c, "authentication failed");
    }
    LOG_INFO("vnc", "client %s: authenticated%s", cl->host, c->view_only ? " with the view-only password" : "");
    audit_record(AUDIT_LOGIN, AUDIT_IF_VNC, AUDIT_OK, NULL, cl->host,
                 c->view_only ? "view-only VNC password" : "VNC password");
    return admit(c, true);
}

bool vnc_handshake_stage(rfbClientPtr cl)
{
    return cl->state == RFB_PROTOCOL_VERSION || cl->state == RFB_SECURITY_TYPE ||
           cl->state == RFB_AUTHENTICATION;
}

static size_t expected_len(int state)
{
    switch (state) {
    case RFB_PROTOCOL_VERSION: return RFB_MSG_VERSION_LEN;
    case RFB_SECURITY_TYPE: return 1;
    case RFB_AUTHENTICATION: return 16;
    default: return 0;
    }
}

int vnc_handshake_message(struct vnc_client *c, size_t len)
{
    rfbClientPtr cl = c->cl;
    uint8_t msg[16]; /* the longest: the VncAuth response */
    /* The message was peeked whole (rfb_msg_frame): take it off the socket. */
    if (len != expected_len(cl->state) || recv(cl->sock, msg, len, MSG_DONTWAIT) != (ssize_t)len) {
        rfbCloseClient(cl);
        return -1;
    }
    if (cl->state == RFB_PROTOCOL_VERSION)
        return on_version(c, msg);
    if (cl->state == RFB_SECURITY_TYPE)
        return on_security(c, msg[0]);
    return on_response(c, msg);
}
