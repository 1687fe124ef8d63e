/* The commands around Serial-over-LAN: payload activation and status
 * (IPMI 2.0 spec 24.1-24.9) and the SOL configuration parameters (26.2,
 * 26.3), and the core's side of SOL: which session owns the instance, and
 * its outbound packets. */
#include <errno.h>
#include <string.h>

#include "common/log.h"
#include "control/control.h"
#include "ipmi/ipmi_internal.h"

#define NETFN_APP 0x06
#define NETFN_TRANSPORT 0x0c

#define CC_OK 0x00
#define CC_BAD_LENGTH 0xc7
#define CC_INVALID_FIELD 0xcc
#define CC_PRIVILEGE 0xd4

#define SOL_PARAM_REVISION 0x11
#define SOL_INSTANCE 1             /* one instance: one serial console */

/* The spec asks for User, but SOL types on the managed server's console:
 * it is taken to be as strong as the keyboard, which the Operator role
 * holds. An Administrator may ask for more (parameter 2), never less. */
static uint8_t sol_privilege_needed(const struct ipmi_core *c)
{
    return c->sol.cfg.privilege > IPMI_PRIV_OPERATOR ? c->sol.cfg.privilege : IPMI_PRIV_OPERATOR;
}

/* The one place that decides. */
bool ipmi_sol_allowed(const struct ipmi_core *c, const struct ipmi_session *s)
{
    return s && s->priv >= sol_privilege_needed(c);
}

void ipmi_core_set_sol(struct ipmi_core *c, const struct ipmi_sol_port *port, int udp_port)
{
    c->sol_port = port;
    c->udp_port = (uint16_t)udp_port;
    ipmi_sol_config_defaults(&c->sol.cfg);
    int r = ipmi_sol_state_load(c->state_dir, &c->sol.cfg);
    if (r < 0)
        LOG_WARN("ipmi", "%s/%s: %s (SOL starts with its defaults)", c->state_dir, IPMI_SOL_STATE_FILE,
                 strerror(errno));
    else if (r > 0)
        LOG_INFO("ipmi", "SOL settings from %s/%s: %s, privilege %u, accumulate %u ms / %u characters, "
                 "%u retries %u ms apart", c->state_dir, IPMI_SOL_STATE_FILE,
                 c->sol.cfg.enabled ? "enabled" : "disabled", c->sol.cfg.privilege,
                 c->sol.cfg.accumulate_5ms * 5u, c->sol.cfg.threshold, c->sol.cfg.retry_count,
                 c->sol.cfg.retry_10ms * 10u);
}

static bool this_channel(uint8_t ch)
{
    return (ch & 0x0f) == 0x0e || (ch & 0x0f) == IPMI_CHANNEL;
}

static size_t cc(uint8_t *r, uint8_t code)
{
    r[0] = code;
    return 1;
}

struct ipmi_session *ipmi_sol_owner(struct ipmi_core *c)
{
    if (!c->sol.active)
        return NULL;
    struct ipmi_session *s = ipmi_session_by_id(c, c->sol.bmc_id);
    return s && s->state == IPMI_S_ACTIVE ? s : NULL;
}

void ipmi_sol_end(struct ipmi_core *c, const char *why)
{
    if (!c->sol.active)
        return;
    struct ipmi_session *s = ipmi_sol_owner(c);
    const struct ipmi_sol_stats *st = &c->sol.stats;
    LOG_INFO("ipmi", "SOL of %s from %s %s (%llu bytes out, %llu in, %llu retries, %llu lost)",
             s ? s->user : "?", s ? s->peer_name : "?", why, (unsigned long long)st->out_bytes,
             (unsigned long long)st->in_bytes, (unsigned long long)st->retries,
             (unsigned long long)st->lost_bytes);
    ipmi_sol_deactivate(&c->sol);
}

static size_t activate(struct ipmi_core *c, struct ipmi_session *s, const uint8_t *d, size_t n, uint8_t *r)
{
    if (n < 6)
        return cc(r, CC_BAD_LENGTH);
    if ((d[0] & 0x3f) != IPMI_PAYLOAD_SOL || (d[1] & 0x0f) != SOL_INSTANCE)
        return cc(r, CC_INVALID_FIELD);
    if (!c->sol_port || !c->sol.cfg.enabled)
        return cc(r, 0x81);        /* payload type disabled */
    if (!ipmi_sol_allowed(c, s))
        return cc(r, CC_PRIVILEGE);
    if (ipmi_sol_owner(c))
        return cc(r, 0x80);        /* already active (one console, one SOL) */
    if (!(d[2] & 0x80))
        return cc(r, 0x84);        /* SOL is encrypted like the rest of the session */
    ipmi_sol_activate(&c->sol, c->sol_port, s->rakp.sid_c, s->last_ms);
    LOG_INFO("ipmi", "SOL activated by %s from %s (session %08x)", s->user, s->peer_name, s->rakp.sid_c);
    memset(r, 0, 13);
    /* aux data (0), inbound and outbound payload sizes, UDP port, no VLAN */
    r[5] = r[7] = (uint8_t)IPMI_SOL_PAYLOAD_MAX;
    r[6] = r[8] = (uint8_t)(IPMI_SOL_PAYLOAD_MAX >> 8);
    r[9] = (uint8_t)c->udp_port;
    r[10] = (uint8_t)(c->udp_port >> 8);
    r[11] = r[12] = 0xff;
    return 13;
}

static size_t deactivate(struct ipmi_core *c, struct ipmi_session *s, const uint8_t *d, size_t n, uint8_t *r)
{
    if (n < 6)
        return cc(r, CC_BAD_LENGTH);
    if ((d[0] & 0x3f) != IPMI_PAYLOAD_SOL || (d[1] & 0x0f) != SOL_INSTANCE)
        return cc(r, CC_INVALID_FIELD);
    if (!c->sol_port)
        return cc(r, 0x81);
    struct ipmi_session *owner = ipmi_sol_owner(c);
    if (!owner)
        return cc(r, 0x80);        /* already deactivated */
    /* another session's console: taken away by one that could activate
     * its own (the usual cure for a console left open elsewhere) */
    if (!ipmi_sol_allowed(c, s))
        return cc(r, CC_PRIVILEGE);
    if (owner != s) {
        c->sol_bye = owner->rakp.sid_c;   /* told it is deactivated */
        ipmi_sol_end(c, "deactivated by another session");
    } else {
        ipmi_sol_end(c, "deactivated");
    }
    return cc(r, CC_OK);
}

static size_t activation_status(struct ipmi_core *c, const uint8_t *d, size_t n, uint8_t *r)
{
    if (n < 1)
        return cc(r, CC_BAD_LENGTH);
    if ((d[0] & 0x3f) != IPMI_PAYLOAD_SOL)
        return cc(r, CC_INVALID_FIELD);
    r[0] = CC_OK;
    r[1] = c->sol_port ? SOL_INSTANCE : 0;  /* instance capacity */
    r[2] = ipmi_sol_owner(c) ? 0x01 : 0x00;
    r[3] = 0;
    return 4;
}

static size_t instance_info(struct ipmi_core *c, const uint8_t *d, size_t n, uint8_t *r)
{
    if (n < 2)
        return cc(r, CC_BAD_LENGTH);
    if ((d[0] & 0x3f) != IPMI_PAYLOAD_SOL || (d[1] & 0x0f) != SOL_INSTANCE)
        return cc(r, CC_INVALID_FIELD);
    struct ipmi_session *owner = ipmi_sol_owner(c);
    memset(r, 0, 13);
    ipmi_put32(r + 1, owner ? owner->rakp.sid_c : 0);
    r[5] = 1;                      /* the system's serial port number */
    return 13;
}

static size_t payload_support(struct ipmi_core *c, const uint8_t *d, size_t n, uint8_t *r)
{
    if (n < 1)
        return cc(r, CC_BAD_LENGTH);
    if (!this_channel(d[0]))
        return cc(r, CC_INVALID_FIELD);
    memset(r, 0, 9);
    r[1] = (uint8_t)(0x01 | (c->sol_port ? 0x02 : 0));  /* IPMI messages; SOL when a console is wired */
    r[3] = 0x3f;                   /* Open Session Request/Response, RAKP 1-4 */
    return 9;
}

static size_t payload_version(struct ipmi_core *c, const uint8_t *d, size_t n, uint8_t *r)
{
    if (n < 2)
        return cc(r, CC_BAD_LENGTH);
    if (!this_channel(d[0]))
        return cc(r, CC_INVALID_FIELD);
    uint8_t t = d[1] & 0x3f;
    if (t != IPMI_PAYLOAD_IPMI && !(t == IPMI_PAYLOAD_SOL && c->sol_port) &&
        !(t >= IPMI_PAYLOAD_OPEN_REQ && t <= IPMI_PAYLOAD_RAKP4))
        return cc(r, 0x80);        /* not available on this channel */
    r[0] = CC_OK;
    r[1] = 0x10;                   /* 1.0 */
    return 2;
}

static uint8_t bit_rate_code(unsigned baud)
{
    switch (baud) {
    case 9600: return 0x06;
    case 19200: return 0x07;
    case 38400: return 0x08;
    case 57600: return 0x09;
    case 115200: return 0x0a;
    default: return 0x00;          /* "use the serial port's setting" */
    }
}

static size_t get_config(struct ipmi_core *c, const uint8_t *d, size_t n, uint8_t *r)
{
    if (n < 4)
        return cc(r, CC_BAD_LENGTH);
    if (!this_channel(d[0]))
        return cc(r, CC_INVALID_FIELD);
    const struct ipmi_sol_config *k = &c->sol.cfg;
    r[0] = CC_OK;
    r[1] = SOL_PARAM_REVISION;
    if (d[0] & 0x80)
        return 2;                  /* the revision only */
    uint8_t *p = r + 2;
    switch (d[1]) {
    case 0: p[0] = k->set_in_progress; return 3;
    case 1: p[0] = c->sol_port && k->enabled ? 1 : 0; return 3;
    case 2: p[0] = (uint8_t)(0xc0 | k->privilege); return 3;  /* forced encryption and authentication */
    case 3: p[0] = k->accumulate_5ms; p[1] = k->threshold; return 4;
    case 4: p[0] = k->retry_count; p[1] = k->retry_10ms; return 4;
    case 5:
    case 6: p[0] = bit_rate_code(c->sol_port ? c->sol_port->baud : 0); return 3;
    case 7: p[0] = IPMI_CHANNEL; return 3;
    case 8: p[0] = (uint8_t)c->udp_port; p[1] = (uint8_t)(c->udp_port >> 8); return 4;
    default: return cc(r, 0x80);   /* parameter not supported */
    }
}

static size_t set_config(struct ipmi_core *c, struct ipmi_session *s, const uint8_t *d, size_t n, uint8_t *r)
{
    if (n < 3)
        return cc(r, CC_BAD_LENGTH);
    if (!this_channel(d[0]))
        return cc(r, CC_INVALID_FIELD);
    if (s->priv < IPMI_PRIV_ADMIN)
        return cc(r, CC_PRIVILEGE);
    struct ipmi_sol_config *k = &c->sol.cfg;
    const uint8_t *p = d + 2;
    switch (d[1]) {
    case 0:
        if ((p[0] & 3) == 3)
            return cc(r, CC_INVALID_FIELD);
        /* commit write (2): the values are live already; the set is complete */
        k->set_in_progress = (p[0] & 3) == 1;
        break;
    case 1:
        k->enabled = p[0] & 1;
        if (!k->enabled)
            ipmi_sol_end(c, "ended: SOL disabled");
        break;
    case 3:
        if (n < 4 || p[0] == 0 || p[1] == 0)
            return cc(r, n < 4 ? CC_BAD_LENGTH : CC_INVALID_FIELD);
        k->accumulate_5ms = p[0];
        k->threshold = p[1];
        break;
    case 4:
        if (n < 4)
            return cc(r, CC_BAD_LENGTH);
        k->retry_count = p[0] & 7;
        k->retry_10ms = p[1];
        break;
    case 2:
        /* encryption and authentication stay forced (bits 7, 6); the
         * privilege may rise to Administrator, never drop below Operator */
        if ((p[0] & 0xc0) != 0xc0 || (p[0] & 0x0f) < IPMI_PRIV_OPERATOR || (p[0] & 0x0f) > IPMI_PRIV_ADMIN)
            return cc(r, CC_INVALID_FIELD);
        k->privilege = p[0] & 0x0f;
        break;
    case 5: case 6: case 7: case 8:
        /* the bit rate is [serial]'s, the port is [ipmi]'s */
        return cc(r, 0x82);        /* read-only */
    default:
        return cc(r, 0x80);
    }
    LOG_INFO("ipmi", "%s from %s set SOL parameter %u", s->user, s->peer_name, d[1]);
    if (d[1] != 0 && ipmi_sol_state_save(c->state_dir, k) < 0)
        LOG_WARN("ipmi", "%s/%s: %s: the SOL setting is live but will not survive a restart", c->state_dir,
                 IPMI_SOL_STATE_FILE, strerror(errno));
    return cc(r, CC_OK);
}

size_t ipmi_cmd_sol(struct ipmi_core *c, struct ipmi_session *s, const struct ipmi_msg *rq, uint8_t *r,
                    bool *found)
{
    *found = true;
    /* every one of these needs a session: User level, as the spec has it
     * (activation checks ipmi_sol_allowed) */
    bool in = s && s->priv >= IPMI_PRIV_USER;
    if (rq->netfn == NETFN_APP) {
        switch (rq->cmd) {
        case 0x48: return in ? activate(c, s, rq->data, rq->len, r) : cc(r, CC_PRIVILEGE);
        case 0x49: return in ? deactivate(c, s, rq->data, rq->len, r) : cc(r, CC_PRIVILEGE);
        case 0x4a: return in ? activation_status(c, rq->data, rq->len, r) : cc(r, CC_PRIVILEGE);
        case 0x4b: return in ? instance_info(c, rq->data, rq->len, r) : cc(r, CC_PRIVILEGE);
        case 0x4e: return in ? payload_support(c, rq->data, rq->len, r) : cc(r, CC_PRIVILEGE);
        case 0x4f: return in ? payload_version(c, rq->data, rq->len, r) : cc(r, CC_PRIVILEGE);
        default: break;
        }
    } else if (rq->netfn == NETFN_TRANSPORT) {
        if (rq->cmd == 0x22)
            return in ? get_config(c, rq->data, rq->len, r) : cc(r, CC_PRIVILEGE);
        if (rq->cmd == 0x21)
            return in ? set_config(c, s, rq->data, rq->len, r) : cc(r, CC_PRIVILEGE);
    }
    *found = false;
    return 0;
}

size_t ipmi_core_sol_poll(struct ipmi_core *c, int64_t now_ms, uint8_t *out, size_t cap,
                          struct sockaddr_storage *peer, socklen_t *peer_len)
{
    uint8_t plain[IPMI_SOL_PAYLOAD_MAX];
    size_t n = 0;
    struct ipmi_session *s = NULL;
    if (c->sol_bye) {
        /* the console that was deactivated from another session is told so */
        s = ipmi_session_by_id(c, c->sol_bye);
        c->sol_bye = 0;
        if (s && s->state == IPMI_S_ACTIVE)
            n = ipmi_sol_build(plain, sizeof(plain), 0, 0, 0, IPMI_SOL_ST_DEACTIVATING, NULL, 0);
    }
    if (!n && c->sol_port && (s = ipmi_sol_owner(c)) != NULL)
        n = ipmi_sol_poll(&c->sol, c->sol_port, plain, sizeof(plain), now_ms);
    else if (!n && c->sol.active)
        ipmi_sol_deactivate(&c->sol);  /* its session is gone */
    if (!n)
        return 0;
    size_t r = ipmi_session_seal(s, IPMI_PAYLOAD_SOL, plain, n, out, cap);
    if (r) {
        memcpy(peer, &s->peer, sizeof(*peer));
        *peer_len = s->peer_len;
    }
    return r;
}

int64_t ipmi_core_next_ms(const struct ipmi_core *c)
{
    return c->sol_bye ? 0 : ipmi_sol_next_ms(&c->sol);
}

/* The owner's privilege as its account's role allows it now; false (and
 * the instance ended, the console told) when that is below SOL's. */
static bool owner_still_allowed(struct ipmi_core *c, struct ipmi_session *s)
{
    uint8_t limit = ipmi_role_limit(c, s->user);
    if (s->priv > limit)
        s->priv = limit;
    if (ipmi_sol_allowed(c, s))
        return true;
    ipmi_refuse_priv(c, s, "Serial-over-LAN", sol_privilege_needed(c), s->priv);
    c->sol_bye = s->rakp.sid_c;
    ipmi_sol_end(c, "ended: the account's role no longer allows it");
    return false;
}

void ipmi_core_sol_check_role(struct ipmi_core *c)
{
    struct ipmi_session *s = ipmi_sol_owner(c);
    if (s)
        owner_still_allowed(c, s);
}

/* A console that may not type: its keys and BREAKs are taken and dropped,
 * as a VNC viewer's are (ACKed in full: a NACK would only be resent). */
static ssize_t drop_write(void *ctx, const uint8_t *buf, size_t len)
{
    (void)ctx;
    (void)buf;
    return (ssize_t)len;
}

static int drop_break(void *ctx)
{
    (void)ctx;
    return 0;
}

size_t ipmi_core_sol_receive(struct ipmi_core *c, struct ipmi_session *s, const uint8_t *plain, size_t n,
                             uint8_t *out, size_t cap, int64_t now_ms)
{
    struct ipmi_sol_pkt in;
    if (!c->sol_port || !s || ipmi_sol_owner(c) != s || ipmi_sol_parse(plain, n, &in) < 0)
        return 0;
    if (!owner_still_allowed(c, s))
        return 0;
    const struct ipmi_sol_port *port = c->sol_port;
    struct ipmi_sol_port read_only;
    struct control *ctl = atomic_load(&c->ctl);
    /* a retransmission (in.seq == the last one) was decided the first time */
    bool types = in.seq && in.seq != c->sol.in_seq && (in.len || (in.op & IPMI_SOL_OP_BREAK));
    if (types && ctl && !control_input(ctl, s->ctl_id)) {
        read_only = *port;
        read_only.write = drop_write;
        read_only.send_break = drop_break;
        port = &read_only;
    }
    return ipmi_sol_receive(&c->sol, port, &in, out, cap, now_ms);
}
