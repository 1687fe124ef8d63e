/* The SEL over the audit log (ipmi/ipmi_sel.h). */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/log.h"
#include "ipmi/ipmi_sel.h"

#define CC_OK 0x00
#define CC_INVALID_CMD 0xc1
#define CC_RESERVATION 0xc5
#define CC_BAD_LENGTH 0xc7
#define CC_NOT_PRESENT 0xcb
#define CC_INVALID_FIELD 0xcc
#define CC_UNSPECIFIED 0xff

#define REFRESH_MS 1000
/* A record id not in the snapshot reads the log again, but not sooner than
 * this: each read is the whole audit log, on the IPMI thread, and a
 * session asking for made-up ids in a loop stalled every other session
 * and the SOL console. */
#define FORCE_MIN_MS 250
#define NO_SENSOR 0xff          /* events of the appliance, not of an SDR sensor */

uint16_t ipmi_sel_id(uint64_t audit_id)
{
    return (uint16_t)((audit_id - 1) % 0xfffe + 1);
}

static void put16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}

static void put32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

/* The ATX action a power record is about: the word in parentheses (IPMI,
 * Redfish: "chassis control power up (on): ok") or before the first ':'. */
static void power_action(const char *detail, char *out, size_t size)
{
    const char *p = strchr(detail, '(');
    const char *end;
    if (p) {
        p++;
        end = strchr(p, ')');
    } else {
        p = detail;
        end = strchr(p, ':');
    }
    size_t len = end ? (size_t)(end - p) : strlen(p);
    if (len >= size)
        len = size - 1;
    memcpy(out, p, len);
    out[len] = '\0';
}

void ipmi_sel_record(const struct audit_event *ev, uint8_t out[IPMI_SEL_RECORD])
{
    uint8_t type = 0x12, offset = 0x00, evtype = 0x6f; /* sensor-specific */
    bool deassert = false;
    const char *d = ev->detail;
    switch (ev->kind) {
    case AUDIT_LOGIN: type = 0x2a; offset = 0x00; break;           /* Session Activated */
    case AUDIT_LOGOUT:
    case AUDIT_SESSION_END: type = 0x2a; offset = 0x01; break;     /* Session Deactivated */
    case AUDIT_LOGIN_FAILED: type = 0x2a; offset = 0x02; break;    /* Invalid Username or Password */
    case AUDIT_ROLE_REFUSED: type = 0x06; offset = 0x00; break;    /* Secure Mode Violation attempt */
    case AUDIT_CHASSIS_INTRUSION:                                  /* General Chassis Intrusion */
        type = 0x05;
        deassert = strstr(d, "back to ok") != NULL;
        break;
    case AUDIT_SENSOR_THRESHOLD: {
        type = strstr(d, "(voltage)") ? 0x02 : strstr(d, "(current)") ? 0x03 : strstr(d, "(fan)") ? 0x04 : 0x01;
        evtype = 0x01; /* threshold */
        bool crit = strstr(d, ": critical") != NULL, low = strstr(d, "below") != NULL;
        /* Lower Non-critical/Critical going low 00h/02h; Upper going high 07h/09h. */
        offset = low ? (crit ? 0x02 : 0x00) : (crit ? 0x09 : 0x07);
        deassert = strstr(d, "back to ok") != NULL;
        break;
    }
    case AUDIT_POWER_ACTION: {
        char a[16];
        power_action(d, a, sizeof(a));
        if (!strcmp(a, "off") || !strcmp(a, "force-off")) {
            type = 0x09; offset = 0x00;                              /* Power Off / Power Down */
        } else if (!strcmp(a, "cycle")) {
            type = 0x09; offset = 0x01;                              /* Power Cycle */
        } else if (!strcmp(a, "reset")) {
            type = 0x1d; offset = 0x01;                              /* Initiated by hard reset */
        } else {
            type = 0x1d; offset = 0x00;                              /* Initiated by power up (on, wol) */
        }
        break;
    }
    case AUDIT_SIGNAL_BACK: type = 0x1b; offset = 0x00; break;     /* Cable/Interconnect connected */
    case AUDIT_SIGNAL_LOST: type = 0x1b; offset = 0x00; deassert = true; break;
    case AUDIT_LOG_CLEARED: type = 0x10; offset = 0x02; break;     /* Log Area Reset/Cleared */
    case AUDIT_SERVICE_START: type = 0x12; offset = 0x01; break;   /* OEM System Boot Event */
    case AUDIT_SERVICE_STOP: type = 0x12; offset = 0x01; deassert = true; break;
    default: type = 0x12; offset = 0x00; break;                    /* System Reconfigured */
    }
    memset(out, 0, IPMI_SEL_RECORD);
    put16(out, ipmi_sel_id(ev->id));
    out[2] = 0x02;                                 /* system event record */
    put32(out + 3, (uint32_t)(ev->time_ms / 1000));
    out[7] = 0x20;                                 /* generator: the BMC (IPMB address 20h) */
    out[8] = 0x00;
    out[9] = 0x04;                                 /* event message format: IPMI 1.5/2.0 */
    out[10] = type;
    out[11] = NO_SENSOR;
    out[12] = (uint8_t)((deassert ? 0x80 : 0x00) | evtype);
    out[13] = offset;                              /* data 2 and 3 unspecified */
    out[14] = 0xff;
    out[15] = 0xff;
}

void ipmi_sel_free(struct ipmi_sel *sel)
{
    free(sel->ids);
    free(sel->rec);
    memset(sel, 0, sizeof(*sel));
}

static int add_one(const struct audit_event *ev, void *arg)
{
    struct ipmi_sel *sel = arg;
    if (sel->n == sel->cap) {
        size_t cap = sel->cap ? sel->cap * 2 : 256;
        uint16_t *ids = realloc(sel->ids, cap * sizeof(*ids));
        if (ids)
            sel->ids = ids;
        uint8_t(*rec)[IPMI_SEL_RECORD] = realloc(sel->rec, cap * sizeof(*rec));
        if (rec)
            sel->rec = rec;
        if (!ids || !rec)
            return 1; /* keep what fits */
        sel->cap = cap;
    }
    sel->ids[sel->n] = ipmi_sel_id(ev->id);
    ipmi_sel_record(ev, sel->rec[sel->n]);
    sel->n++;
    uint32_t t = (uint32_t)(ev->time_ms / 1000);
    if (t > sel->last_add)
        sel->last_add = t;
    return 0;
}

static void refresh(struct ipmi_sel *sel, int64_t now_ms, bool force)
{
    if (sel->loaded_ms && now_ms - sel->loaded_ms < (force ? FORCE_MIN_MS : REFRESH_MS))
        return;
    size_t before = sel->n;
    sel->n = 0;
    if (audit_foreach(add_one, sel) < 0) {
        sel->n = before; /* keep the last snapshot: a read error is not an empty log */
        return;
    }
    sel->loaded_ms = now_ms;
}

static long find(const struct ipmi_sel *sel, uint16_t id)
{
    if (sel->n == 0)
        return -1;
    if (id == 0x0000)
        return 0;
    if (id == 0xffff)
        return (long)sel->n - 1;
    for (size_t i = 0; i < sel->n; i++)
        if (sel->ids[i] == id)
            return (long)i;
    return -1;
}

static size_t cc(uint8_t *r, uint8_t code)
{
    r[0] = code;
    return 1;
}

size_t ipmi_sel_command(struct ipmi_sel *sel, uint8_t cmd, const uint8_t *d, size_t n, uint8_t *r,
                        const char *user, const char *peer, int64_t now_ms)
{
    switch (cmd) {
    case 0x40: { /* Get SEL Info */
        refresh(sel, now_ms, false);
        struct audit_stats st;
        uint32_t free_bytes = 0;
        if (audit_stats(&st) == 0 && st.max_bytes > st.bytes)
            free_bytes = (uint32_t)((st.max_bytes - st.bytes) / 120 * IPMI_SEL_RECORD);
        r[0] = CC_OK;
        r[1] = 0x51;                                   /* SEL version */
        put16(r + 2, (uint16_t)(sel->n > 0xfffe ? 0xfffe : sel->n));
        put16(r + 4, (uint16_t)(free_bytes > 0xfffe ? 0xfffe : free_bytes));
        put32(r + 6, sel->last_add);
        put32(r + 10, sel->last_erase);
        r[14] = 0x03;                                  /* Reserve SEL, Get SEL Allocation Info */
        return 15;
    }
    case 0x41: { /* Get SEL Allocation Info: 16-byte units */
        struct audit_stats st;
        if (audit_stats(&st) < 0)
            return cc(r, CC_UNSPECIFIED);
        uint64_t units = st.max_bytes / 120, used = st.count < units ? st.count : units;
        r[0] = CC_OK;
        put16(r + 1, (uint16_t)(units > 0xfffe ? 0xfffe : units));
        put16(r + 3, IPMI_SEL_RECORD);
        put16(r + 5, (uint16_t)(units - used > 0xfffe ? 0xfffe : units - used));
        put16(r + 7, (uint16_t)(units - used > 0xfffe ? 0xfffe : units - used));
        r[9] = 1;                                      /* a record is one unit */
        return 10;
    }
    case 0x42: /* Reserve SEL */
        if (++sel->reservation == 0)
            sel->reservation = 1;
        r[0] = CC_OK;
        put16(r + 1, sel->reservation);
        return 3;
    case 0x43: { /* Get SEL Entry */
        if (n < 6)
            return cc(r, CC_BAD_LENGTH);
        uint16_t resv = (uint16_t)(d[0] | d[1] << 8), id = (uint16_t)(d[2] | d[3] << 8);
        uint8_t off = d[4], want = d[5];
        /* 0 is never handed out: before any Reserve SEL nothing matches */
        if (off && (resv == 0 || resv != sel->reservation))
            return cc(r, CC_RESERVATION);
        if (off >= IPMI_SEL_RECORD)
            return cc(r, CC_INVALID_FIELD);
        if (id == 0x0000 && off == 0)
            refresh(sel, now_ms, false);
        long i = find(sel, id);
        if (i < 0) {
            refresh(sel, now_ms, true);
            i = find(sel, id);
        }
        if (i < 0)
            return cc(r, CC_NOT_PRESENT);
        size_t len = IPMI_SEL_RECORD - off;
        if (want != 0xff && want < len)
            len = want;
        r[0] = CC_OK;
        put16(r + 1, (size_t)i + 1 < sel->n ? sel->ids[i + 1] : 0xffff);
        memcpy(r + 3, sel->rec[i] + off, len);
        return 3 + len;
    }
    case 0x47: { /* Clear SEL */
        if (n < 6)
            return cc(r, CC_BAD_LENGTH);
        uint16_t resv = (uint16_t)(d[0] | d[1] << 8);
        if (resv == 0 || resv != sel->reservation)
            return cc(r, CC_RESERVATION);
        if (d[2] != 'C' || d[3] != 'L' || d[4] != 'R' || (d[5] != 0xaa && d[5] != 0x00))
            return cc(r, CC_INVALID_FIELD);
        if (d[5] == 0xaa) {
            if (audit_clear(AUDIT_IF_IPMI, user, peer) < 0)
                return cc(r, CC_UNSPECIFIED);
            LOG_INFO("ipmi", "%s from %s: SEL (the audit log) cleared", user, peer);
            sel->last_erase = (uint32_t)time(NULL);
            sel->loaded_ms = 0; /* what it showed is gone: read now */
            refresh(sel, now_ms, true);
        }
        r[0] = CC_OK;
        r[1] = 0x01;                                   /* erasure completed */
        return 2;
    }
    case 0x48: /* Get SEL Time */
        r[0] = CC_OK;
        put32(r + 1, (uint32_t)time(NULL));
        return 5;
    default:
        return cc(r, CC_INVALID_CMD);
    }
}
