/* The IPMI commands piglix answers, each with the privilege it needs.
 * Outside a session only the commands that open one work. */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "atx/atx.h"
#include "sensors/sensors.h"
#include "audit/audit.h"
#include "common/log.h"
#include "ipmi/ipmi_internal.h"

#define NETFN_CHASSIS 0x00
#define NETFN_SENSOR 0x04
#define NETFN_APP 0x06
#define NETFN_STORAGE 0x0a

/* completion codes */
#define CC_OK 0x00
#define CC_BUSY 0xc0
#define CC_INVALID_CMD 0xc1
#define CC_RESERVATION 0xc5
#define CC_BAD_LENGTH 0xc7
#define CC_CANNOT_RETURN 0xca
#define CC_NOT_PRESENT 0xcb
#define CC_INVALID_FIELD 0xcc
#define CC_PRIVILEGE 0xd4
#define CC_STATE 0xd5

#define SDR_READ_MAX 100           /* bytes of a record in one Get SDR */

struct req {
    struct ipmi_core *c;
    struct ipmi_session *s;         /* NULL outside a session */
    const uint8_t *d;               /* request data */
    size_t n;
    uint8_t *r;                     /* r[0]: completion code, then data */
    bool close_after;
};

typedef size_t (*handler_fn)(struct req *q);

static size_t cc(struct req *q, uint8_t code)
{
    q->r[0] = code;
    return 1;
}

static size_t device_id(struct req *q)
{
    unsigned major = 0, minor = 0, patch = 0;
    sscanf(PIGLIX_VERSION, "%u.%u.%u", &major, &minor, &patch);
    const uint8_t r[16] = {
        CC_OK, 0x01, 0x01,              /* device id; revision 1, no device SDRs */
        (uint8_t)(major & 0x7f),        /* firmware major (bit 7 clear: normal operation) */
        (uint8_t)((minor / 10 % 10) << 4 | minor % 10), /* minor, BCD */
        0x02,                           /* IPMI 2.0 */
        0x83,                           /* chassis, SDR repository, sensor device */
        0, 0, 0, 0, 0,                  /* manufacturer, product: none registered */
        (uint8_t)patch, 0, 0, 0,        /* auxiliary firmware revision */
    };
    memcpy(q->r, r, sizeof(r));
    return sizeof(r);
}

static size_t self_test(struct req *q)
{
    q->r[0] = CC_OK;
    q->r[1] = 0x55;                    /* no error */
    q->r[2] = 0x00;
    return 3;
}

static size_t system_guid(struct req *q)
{
    q->r[0] = CC_OK;
    memcpy(q->r + 1, q->c->guid, 16);
    return 17;
}

static bool this_channel(uint8_t ch)
{
    return (ch & 0x0f) == 0x0e || (ch & 0x0f) == IPMI_CHANNEL;
}

static size_t auth_caps(struct req *q)
{
    if (q->n < 2)
        return cc(q, CC_BAD_LENGTH);
    uint8_t priv = q->d[1] & 0x0f;
    if (!this_channel(q->d[0]) || priv == 0 || priv > 5)
        return cc(q, CC_INVALID_FIELD);
    bool v2 = q->d[0] & 0x80;
    /* No IPMI 1.5 authentication type is offered: only RMCP+ logins. */
    const uint8_t r[9] = {
        CC_OK, IPMI_CHANNEL,
        v2 ? 0x80 : 0x00,               /* IPMI 2.0 extended data follows */
        0x04,                           /* named users only; Kg unset (Kuid stands in) */
        v2 ? 0x02 : 0x00,               /* IPMI 2.0 connections */
        0, 0, 0, 0,                     /* OEM */
    };
    memcpy(q->r, r, sizeof(r));
    return sizeof(r);
}

static size_t cipher_suites(struct req *q)
{
    if (q->n < 3)
        return cc(q, CC_BAD_LENGTH);
    if (!this_channel(q->d[0]))
        return cc(q, CC_INVALID_FIELD);
    /* records: C0h, suite id, then the algorithms tagged 00b/01b/10b */
    uint8_t all[64];
    size_t n = 0, count;
    const struct ipmi_suite *s = ipmi_suites(&count);
    bool by_suite = q->d[2] & 0x80;
    for (size_t i = 0; i < count && (q->d[1] & 0x3f) == IPMI_PAYLOAD_IPMI; i++) {
        if (by_suite) {
            all[n++] = 0xc0;
            all[n++] = s[i].id;
        }
        all[n++] = s[i].auth;
        all[n++] = (uint8_t)(0x40 | s[i].integ);
        all[n++] = (uint8_t)(0x80 | s[i].conf);
    }
    size_t from = (size_t)(q->d[2] & 0x3f) * 16;
    size_t len = from < n ? (n - from > 16 ? 16 : n - from) : 0;
    q->r[0] = CC_OK;
    q->r[1] = IPMI_CHANNEL;
    if (len)
        memcpy(q->r + 2, all + from, len);
    return 2 + len;
}

uint8_t ipmi_role_limit(struct ipmi_core *c, const char *name)
{
    auth_accounts_refresh(&c->accounts);
    switch (auth_accounts_role(&c->accounts, name)) {
    case AUTH_ROLE_ADMIN: return IPMI_PRIV_ADMIN;
    case AUTH_ROLE_OPERATOR: return IPMI_PRIV_OPERATOR;
    case AUTH_ROLE_VIEWER: return IPMI_PRIV_USER;
    default: return 0;
    }
}

void ipmi_refuse_priv(struct ipmi_core *c, const struct ipmi_session *s, const char *what, uint8_t need,
                      uint8_t have)
{
    c->stats.priv_refusals++;
    LOG_WARN("ipmi", "%s from %s: %s refused: needs privilege level %u, the session may use %u", s->user,
             s->peer_name, what, need, have);
    audit_record_role_refused(AUDIT_IF_IPMI, s->user, s->peer_name, what);
}

static size_t set_privilege(struct req *q)
{
    if (q->n < 1)
        return cc(q, CC_BAD_LENGTH);
    uint8_t want = q->d[0] & 0x0f, limit = q->s->rakp.role & 0x0f;
    uint8_t role_limit = ipmi_role_limit(q->c, q->s->user);
    if (role_limit < limit)
        limit = role_limit;
    if (want > IPMI_PRIV_ADMIN)
        return cc(q, 0x80);            /* not available for this user */
    if (want > limit) {
        ipmi_refuse_priv(q->c, q->s, "Set Session Privilege Level", want, limit);
        return cc(q, 0x81);            /* beyond the session's or the account's limit */
    }
    if (want)
        q->s->priv = want;
    q->r[0] = CC_OK;
    q->r[1] = q->s->priv;
    return 2;
}

static size_t close_session(struct req *q)
{
    if (q->n < 4)
        return cc(q, CC_BAD_LENGTH);
    uint32_t id = ipmi_get32(q->d);
    if (id == 0)
        return cc(q, 0x88);            /* by handle: piglix has none */
    struct ipmi_session *other = ipmi_session_by_id(q->c, id);
    if (!other || other->state != IPMI_S_ACTIVE)
        return cc(q, 0x87);
    if (other == q->s)
        q->close_after = true;
    else if (q->s->priv < IPMI_PRIV_ADMIN)
        return cc(q, CC_PRIVILEGE);
    else
        ipmi_session_end(q->c, other, "closed by another session");
    return cc(q, CC_OK);
}

static size_t chassis_caps(struct req *q)
{
    struct atx_status st = {0};
    if (q->c->atx)
        atx_get_status(q->c->atx, &st);
    const uint8_t r[6] = {CC_OK, st.intrusion_wired ? 0x01 : 0x00, IPMI_BMC_ADDR, IPMI_BMC_ADDR,
                          IPMI_BMC_ADDR, IPMI_BMC_ADDR};
    memcpy(q->r, r, sizeof(r));
    return sizeof(r);
}

static size_t chassis_status(struct req *q)
{
    if (!q->c->atx)
        return cc(q, CC_STATE);
    struct atx_status st;
    atx_get_status(q->c->atx, &st);
    if (st.power == ATX_POWER_UNKNOWN)
        return cc(q, CC_STATE);        /* no power LED to tell */
    bool fault = st.last.outcome == ATX_OUTCOME_TIMEOUT || st.last.outcome == ATX_OUTCOME_FAILED;
    q->r[0] = CC_OK;
    /* power on (standby counts: the board has power), control fault,
     * restore policy unknown */
    q->r[1] = (uint8_t)((st.power != ATX_POWER_OFF ? 0x01 : 0) | (fault ? 0x10 : 0) | 0x60);
    q->r[2] = 0;                       /* last power event */
    q->r[3] = st.intrusion_wired && st.intrusion ? 0x01 : 0x00;
    return 4;
}

static size_t chassis_control(struct req *q)
{
    if (q->n < 1)
        return cc(q, CC_BAD_LENGTH);
    static const int map[6] = {ATX_ACTION_FORCE_OFF, ATX_ACTION_ON, ATX_ACTION_CYCLE, ATX_ACTION_RESET,
                               -1 /* diagnostic interrupt */, ATX_ACTION_OFF};
    static const char *const names[6] = {"power down", "power up", "power cycle", "hard reset",
                                         "diagnostic interrupt", "soft shutdown"};
    uint8_t what = q->d[0] & 0x0f;
    if (what > 5 || map[what] < 0)
        return cc(q, CC_INVALID_FIELD);
    if (!q->c->atx)
        return cc(q, CC_STATE);
    char who[IPMI_USER_MAX + IPMI_PEER_MAX + 8]; /* atx_request shortens it */
    snprintf(who, sizeof(who), "ipmi:%s@%s", q->s->user, q->s->peer_name);
    enum atx_error e = atx_request(q->c->atx, (enum atx_action)map[what], who, NULL);
    LOG_INFO("ipmi", "%s: chassis control %s: %s", who, names[what], atx_error_name(e));
    audit_record(AUDIT_POWER_ACTION, AUDIT_IF_IPMI, e == ATX_OK ? AUDIT_OK : AUDIT_FAILED, q->s->user,
                 q->s->peer_name, "chassis control %s (%s): %s", names[what],
                 atx_action_name((enum atx_action)map[what]), atx_error_name(e));
    switch (e) {
    case ATX_OK:
    case ATX_ERR_ALREADY: return cc(q, CC_OK);
    case ATX_ERR_BUSY:
    case ATX_ERR_STOPPED: return cc(q, CC_BUSY);
    case ATX_ERR_INVALID: return cc(q, CC_INVALID_FIELD);
    default: return cc(q, CC_STATE);  /* wrong power state, or not wired */
    }
}

/* Records for sensors that appeared since the last look. */
static void sdr_refresh(struct ipmi_core *c)
{
    if (!c->sensors)
        return;
    size_t n = sensors_read(c->sensors, c->readings, SENSORS_MAX);
    if (ipmi_sdr_update(&c->sdr, c->readings, n < SENSORS_MAX ? n : SENSORS_MAX, (uint32_t)time(NULL)) > 0)
        c->reservation++;              /* the repository changed: partial reads restart */
}

static size_t sdr_info(struct req *q)
{
    sdr_refresh(q->c);
    const struct ipmi_sdr *sdr = &q->c->sdr;
    uint8_t *r = q->r;
    memset(r, 0, 15);
    r[1] = 0x51;                       /* SDR version */
    r[2] = (uint8_t)sdr->n;
    ipmi_put32(r + 6, sdr->added);     /* most recent addition; free space 0: read-only */
    r[14] = 0x02;                      /* Reserve SDR Repository supported */
    return 15;
}

static size_t sdr_reserve(struct req *q)
{
    sdr_refresh(q->c);
    if (++q->c->reservation == 0)
        q->c->reservation = 1;
    q->r[0] = CC_OK;
    q->r[1] = (uint8_t)q->c->reservation;
    q->r[2] = (uint8_t)(q->c->reservation >> 8);
    return 3;
}

static size_t sdr_get(struct req *q)
{
    if (q->n < 6)
        return cc(q, CC_BAD_LENGTH);
    uint16_t reservation = (uint16_t)(q->d[0] | q->d[1] << 8), id = (uint16_t)(q->d[2] | q->d[3] << 8);
    uint8_t off = q->d[4], want = q->d[5];
    if (off && reservation != q->c->reservation)
        return cc(q, CC_RESERVATION);
    const struct ipmi_sdr_sensor *s = ipmi_sdr_record(&q->c->sdr, id);
    if (!s)
        return cc(q, CC_NOT_PRESENT);
    if (off > s->record_len)
        return cc(q, CC_INVALID_FIELD);
    size_t left = s->record_len - off, len = want == 0xff ? left : want < left ? want : left;
    if (len > SDR_READ_MAX)
        return cc(q, CC_CANNOT_RETURN);
    uint16_t next = ipmi_sdr_next(&q->c->sdr, s);
    q->r[0] = CC_OK;
    q->r[1] = (uint8_t)next;
    q->r[2] = (uint8_t)(next >> 8);
    memcpy(q->r + 3, s->record + off, len);
    return 3 + len;
}

static const struct ipmi_sdr_sensor *sensor_of(struct req *q)
{
    if (q->n < 1)
        return NULL;
    if (q->d[0] > q->c->sdr.n)         /* a client with records cached from before */
        sdr_refresh(q->c);
    return ipmi_sdr_sensor(&q->c->sdr, q->d[0]);
}

static size_t sensor_reading(struct req *q)
{
    const struct ipmi_sdr_sensor *s = sensor_of(q);
    if (!s)
        return cc(q, q->n < 1 ? CC_BAD_LENGTH : CC_NOT_PRESENT);
    struct sensor_reading r;
    bool have = q->c->sensors && sensors_get(q->c->sensors, s->id, &r) == 0;
    q->r[0] = CC_OK;
    return 1 + ipmi_sdr_reading(s, have ? &r : NULL, q->r + 1);
}

static size_t sensor_thresholds(struct req *q)
{
    const struct ipmi_sdr_sensor *s = sensor_of(q);
    if (!s)
        return cc(q, q->n < 1 ? CC_BAD_LENGTH : CC_NOT_PRESENT);
    q->r[0] = CC_OK;
    return 1 + ipmi_sdr_thresholds(s, q->r + 1);
}

static size_t sensor_hysteresis(struct req *q)
{
    if (!sensor_of(q))
        return cc(q, q->n < 1 ? CC_BAD_LENGTH : CC_NOT_PRESENT);
    q->r[0] = CC_OK;
    q->r[1] = q->r[2] = 0;             /* none */
    return 3;
}

static size_t sensor_event_enable(struct req *q)
{
    if (!sensor_of(q))
        return cc(q, q->n < 1 ? CC_BAD_LENGTH : CC_NOT_PRESENT);
    memset(q->r, 0, 6);
    q->r[1] = 0x40;                    /* scanning on, no event messages */
    return 6;
}

/* The SEL: ipmi_sel.c; the session's user and address for Clear SEL. */
static size_t sel_command(struct req *q, uint8_t cmd)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ipmi_sel_command(&q->c->sel, cmd, q->d, q->n, q->r, q->s ? q->s->user : "", q->s ? q->s->peer_name : "",
                            (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000);
}
static size_t sel_info(struct req *q) { return sel_command(q, 0x40); }
static size_t sel_alloc_info(struct req *q) { return sel_command(q, 0x41); }
static size_t sel_reserve(struct req *q) { return sel_command(q, 0x42); }
static size_t sel_get(struct req *q) { return sel_command(q, 0x43); }
static size_t sel_clear(struct req *q) { return sel_command(q, 0x47); }
static size_t sel_time(struct req *q) { return sel_command(q, 0x48); }

static const struct {
    uint8_t netfn, cmd, priv;          /* priv 0: also outside a session */
    handler_fn fn;
} commands[] = {
    {NETFN_APP, 0x01, IPMI_PRIV_USER, device_id},
    {NETFN_APP, 0x04, IPMI_PRIV_USER, self_test},
    {NETFN_APP, 0x37, 0, system_guid},
    {NETFN_APP, 0x38, 0, auth_caps},
    {NETFN_APP, 0x54, 0, cipher_suites},
    {NETFN_APP, 0x3b, IPMI_PRIV_CALLBACK, set_privilege},
    {NETFN_APP, 0x3c, IPMI_PRIV_CALLBACK, close_session},
    {NETFN_CHASSIS, 0x00, IPMI_PRIV_USER, chassis_caps},
    {NETFN_CHASSIS, 0x01, IPMI_PRIV_USER, chassis_status},
    {NETFN_CHASSIS, 0x02, IPMI_PRIV_OPERATOR, chassis_control},
    {NETFN_STORAGE, 0x20, IPMI_PRIV_USER, sdr_info},
    {NETFN_STORAGE, 0x22, IPMI_PRIV_USER, sdr_reserve},
    {NETFN_STORAGE, 0x23, IPMI_PRIV_USER, sdr_get},
    {NETFN_SENSOR, 0x25, IPMI_PRIV_USER, sensor_hysteresis},
    {NETFN_SENSOR, 0x27, IPMI_PRIV_USER, sensor_thresholds},
    {NETFN_SENSOR, 0x29, IPMI_PRIV_USER, sensor_event_enable},
    {NETFN_SENSOR, 0x2d, IPMI_PRIV_USER, sensor_reading},
    {NETFN_STORAGE, 0x40, IPMI_PRIV_USER, sel_info},
    {NETFN_STORAGE, 0x41, IPMI_PRIV_USER, sel_alloc_info},
    {NETFN_STORAGE, 0x42, IPMI_PRIV_USER, sel_reserve},
    {NETFN_STORAGE, 0x43, IPMI_PRIV_USER, sel_get},
    {NETFN_STORAGE, 0x47, IPMI_PRIV_ADMIN, sel_clear},
    {NETFN_STORAGE, 0x48, IPMI_PRIV_USER, sel_time},
};

size_t ipmi_cmd_handle(struct ipmi_core *c, struct ipmi_session *s, const struct ipmi_msg *rq,
                       uint8_t *rsp, size_t cap, bool *close_after)
{
    struct req q = {.c = c, .s = s, .d = rq->data, .n = rq->len, .r = rsp};
    *close_after = false;
    if (cap < 128)
        return 0;
    if (s) {
        /* the role may have been lowered since the login */
        uint8_t limit = ipmi_role_limit(c, s->user);
        if (s->priv > limit)
            s->priv = limit;
    }
    for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
        if (commands[i].netfn != rq->netfn || commands[i].cmd != rq->cmd)
            continue;
        if (commands[i].priv && (!s || s->priv < commands[i].priv)) {
            if (s) {
                char what[48];
                snprintf(what, sizeof(what), "command netfn %02x cmd %02x", rq->netfn, rq->cmd);
                ipmi_refuse_priv(c, s, what, commands[i].priv, s->priv);
            }
            return cc(&q, CC_PRIVILEGE);
        }
        size_t n = commands[i].fn(&q);
        *close_after = q.close_after;
        return n;
    }
    bool found;
    size_t n = ipmi_cmd_sol(c, s, rq, rsp, &found);
    if (found)
        return n;
    /* Get Session Challenge and Activate Session (IPMI 1.5 logins) land
     * here too: refused like any unknown command. */
    LOG_DEBUG("ipmi", "unsupported command netfn %02x cmd %02x", rq->netfn, rq->cmd);
    return cc(&q, CC_INVALID_CMD);
}
