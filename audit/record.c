/* audit/record.c: one record as one line of the file, and back.
 *
 *   LEN CRC PAYLOAD\n
 *
 * LEN is the payload's length in bytes and CRC its CRC-32 (zlib's), both 8
 * lowercase hex digits; PAYLOAD is ID TIME KIND IFACE OUTCOME ACCOUNT
 * ADDRESS DETAIL separated by tabs. A power loss can leave a line cut short
 * or (on some file systems) padded with zeros: either fails LEN or CRC, so
 * the loader drops it instead of showing half a record. Fields never hold
 * a tab, newline or other control character (audit_sanitize replaced them
 * at record time), so no escaping is needed, and the parser refuses them. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <zlib.h>

#include "audit/audit.h"
#include "audit/audit_internal.h"

static const char *const kind_names[AUDIT_KIND_COUNT] = {
    [AUDIT_LOGIN] = "login",
    [AUDIT_LOGIN_FAILED] = "login_failed",
    [AUDIT_LOGOUT] = "logout",
    [AUDIT_SESSION_END] = "session_end",
    [AUDIT_ROLE_REFUSED] = "role_refused",
    [AUDIT_POWER_ACTION] = "power_action",
    [AUDIT_MEDIA_UPLOAD] = "media_upload",
    [AUDIT_MEDIA_MOUNT] = "media_mount",
    [AUDIT_MEDIA_EJECT] = "media_eject",
    [AUDIT_MEDIA_DELETE] = "media_delete",
    [AUDIT_ACCOUNT_CHANGE] = "account_change",
    [AUDIT_ROLE_CHANGE] = "role_change",
    [AUDIT_CONFIG_RELOAD] = "config_reload",
    [AUDIT_SIGNAL_LOST] = "signal_lost",
    [AUDIT_SIGNAL_BACK] = "signal_back",
    [AUDIT_SENSOR_THRESHOLD] = "sensor_threshold",
    [AUDIT_CHASSIS_INTRUSION] = "chassis_intrusion",
    [AUDIT_LOG_CLEARED] = "log_cleared",
    [AUDIT_SERVICE_START] = "service_start",
    [AUDIT_SERVICE_STOP] = "service_stop",
};
static const char *const iface_names[AUDIT_IF_COUNT] = {
    [AUDIT_IF_WEB] = "web", [AUDIT_IF_API] = "api", [AUDIT_IF_VNC] = "vnc",
    [AUDIT_IF_REDFISH] = "redfish", [AUDIT_IF_IPMI] = "ipmi", [AUDIT_IF_SERIAL] = "serial",
    [AUDIT_IF_CLI] = "cli", [AUDIT_IF_SYSTEM] = "system",
};
static const char *const outcome_names[AUDIT_OUTCOME_COUNT] = {
    [AUDIT_OK] = "success", [AUDIT_FAILED] = "failure", [AUDIT_REFUSED] = "refused",
};

static int lookup(const char *const *names, int n, const char *name)
{
    for (int i = 0; i < n; i++)
        if (strcmp(names[i], name) == 0)
            return i;
    return -1;
}

const char *audit_kind_name(enum audit_kind k) { return (unsigned)k < AUDIT_KIND_COUNT ? kind_names[k] : "?"; }
int audit_kind_parse(const char *name) { return lookup(kind_names, AUDIT_KIND_COUNT, name); }
const char *audit_iface_name(enum audit_iface i) { return (unsigned)i < AUDIT_IF_COUNT ? iface_names[i] : "?"; }
int audit_iface_parse(const char *name) { return lookup(iface_names, AUDIT_IF_COUNT, name); }
const char *audit_outcome_name(enum audit_outcome o)
{
    return (unsigned)o < AUDIT_OUTCOME_COUNT ? outcome_names[o] : "?";
}
int audit_outcome_parse(const char *name) { return lookup(outcome_names, AUDIT_OUTCOME_COUNT, name); }

/* The length of a valid UTF-8 sequence at s (at most n bytes), 0 if none. */
static size_t utf8_seq(const unsigned char *s, size_t n)
{
    size_t len;
    unsigned min;
    unsigned cp;
    if (s[0] < 0x80)
        return 1;
    if ((s[0] & 0xe0) == 0xc0) { len = 2; cp = s[0] & 0x1f; min = 0x80; }
    else if ((s[0] & 0xf0) == 0xe0) { len = 3; cp = s[0] & 0x0f; min = 0x800; }
    else if ((s[0] & 0xf8) == 0xf0) { len = 4; cp = s[0] & 0x07; min = 0x10000; }
    else return 0;
    if (len > n)
        return 0;
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0;
        cp = (cp << 6) | (s[i] & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
        return 0;
    return len;
}

/* Valid UTF-8 that still controls how a record is shown: C1 controls
 * (U+0080-U+009F; U+009B is a CSI to terminals that read 8-bit controls,
 * as a `tail` of the file or of the syslog copy may be), the line and
 * paragraph separators (U+2028, U+2029: a new line in some viewers) and
 * the bidirectional overrides and isolates (U+202A-U+202E, U+2066-U+2069:
 * "nimda" shown as "admin"). Names and details come from clients. */
static bool shown_as_control(const unsigned char *s, size_t len)
{
    if (len == 2)
        return s[0] == 0xc2 && s[1] <= 0x9f;
    if (len == 3 && s[0] == 0xe2 && s[1] == 0x80)
        return s[2] >= 0xa8 && s[2] <= 0xae;
    if (len == 3 && s[0] == 0xe2 && s[1] == 0x81)
        return s[2] >= 0xa6 && s[2] <= 0xa9;
    return false;
}

void audit_sanitize(char *dst, size_t size, const char *src)
{
    size_t o = 0;
    if (!size)
        return;
    if (!src)
        src = "";
    size_t n = strlen(src);
    for (size_t i = 0; i < n && o + 1 < size;) {
        const unsigned char *s = (const unsigned char *)src + i;
        size_t len = utf8_seq(s, n - i);
        if (len == 0 || (len == 1 && (s[0] < 0x20 || s[0] == 0x7f)) || shown_as_control(s, len)) {
            dst[o++] = '?';
            i += len ? len : 1;
        } else if (o + len < size) {
            memcpy(dst + o, s, len);
            o += len;
            i += len;
        } else {
            break; /* never cut a character in half */
        }
    }
    dst[o] = '\0';
}

static bool field_ok(const char *s)
{
    size_t n = strlen(s);
    for (size_t i = 0; i < n;) {
        const unsigned char *p = (const unsigned char *)s + i;
        size_t len = utf8_seq(p, n - i);
        if (len == 0 || (len == 1 && (p[0] < 0x20 || p[0] == 0x7f)))
            return false;
        i += len;
    }
    return true;
}

int audit_format_line(const struct audit_event *ev, char *buf, size_t size)
{
    if ((unsigned)ev->kind >= AUDIT_KIND_COUNT || (unsigned)ev->iface >= AUDIT_IF_COUNT ||
        (unsigned)ev->outcome >= AUDIT_OUTCOME_COUNT || ev->id == 0 || size < 18)
        return -1;
    if (!field_ok(ev->account) || !field_ok(ev->address) || !field_ok(ev->detail))
        return -1;
    int plen = snprintf(buf + 18, size - 18, "%llu\t%lld\t%s\t%s\t%s\t%s\t%s\t%s",
                        (unsigned long long)ev->id, (long long)ev->time_ms, kind_names[ev->kind],
                        iface_names[ev->iface], outcome_names[ev->outcome], ev->account, ev->address,
                        ev->detail);
    if (plen < 0 || (size_t)plen + 19 >= size || plen + 19 > AUDIT_LINE_MAX)
        return -1;
    uint32_t crc = (uint32_t)crc32(0, (const Bytef *)buf + 18, (uInt)plen);
    char head[19];
    snprintf(head, sizeof(head), "%08x %08x ", (unsigned)plen, (unsigned)crc);
    memcpy(buf, head, 18);
    buf[18 + plen] = '\n';
    buf[19 + plen] = '\0';
    return 19 + plen;
}

static int hex8(const char *s, uint32_t *out)
{
    uint32_t v = 0;
    for (int i = 0; i < 8; i++) {
        char c = s[i];
        int d;
        if (c >= '0' && c <= '9') d = c - '0';
        else if (c >= 'a' && c <= 'f') d = c - 'a' + 10;
        else return -1;
        v = (v << 4) | (uint32_t)d;
    }
    *out = v;
    return 0;
}

/* A decimal number of at most 19 digits (an optional '-' when neg_ok)
 * filling the whole field. */
static int parse_num(const char *s, bool neg_ok, long long *out)
{
    const char *p = s;
    if (neg_ok && *p == '-')
        p++;
    size_t digits = strlen(p);
    if (digits == 0 || digits > 18 || (digits > 1 && p[0] == '0') || (p != s && p[0] == '0'))
        return -1;
    for (size_t i = 0; i < digits; i++)
        if (p[i] < '0' || p[i] > '9')
            return -1;
    *out = strtoll(s, NULL, 10);
    return 0;
}

static int copy_field(char *dst, size_t size, const char *src)
{
    size_t n = strlen(src);
    if (n >= size || !field_ok(src))
        return -1;
    memcpy(dst, src, n + 1);
    return 0;
}

int audit_parse_line(const char *line, size_t len, struct audit_event *ev)
{
    uint32_t plen, crc;
    if (len < 19 || len > AUDIT_LINE_MAX || line[len - 1] != '\n' || line[8] != ' ' || line[17] != ' ')
        return -1;
    if (hex8(line, &plen) < 0 || hex8(line + 9, &crc) < 0 || plen != len - 19)
        return -1;
    if ((uint32_t)crc32(0, (const Bytef *)line + 18, (uInt)plen) != crc)
        return -1;
    char payload[AUDIT_LINE_MAX];
    memcpy(payload, line + 18, plen);
    payload[plen] = '\0';
    if (memchr(payload, '\0', plen) || memchr(payload, '\n', plen))
        return -1;
    char *fields[8];
    char *p = payload;
    for (int i = 0; i < 8; i++) {
        fields[i] = p;
        char *tab = strchr(p, '\t');
        if (i < 7) {
            if (!tab)
                return -1;
            *tab = '\0';
            p = tab + 1;
        } else if (tab) {
            return -1;
        }
    }
    long long id, t;
    int kind, iface, outcome;
    if (parse_num(fields[0], false, &id) < 0 || id == 0 || parse_num(fields[1], true, &t) < 0 ||
        (kind = audit_kind_parse(fields[2])) < 0 || (iface = audit_iface_parse(fields[3])) < 0 ||
        (outcome = audit_outcome_parse(fields[4])) < 0)
        return -1;
    struct audit_event e = {.id = (uint64_t)id, .time_ms = t, .kind = (enum audit_kind)kind,
                            .iface = (enum audit_iface)iface, .outcome = (enum audit_outcome)outcome};
    if (copy_field(e.account, sizeof(e.account), fields[5]) < 0 ||
        copy_field(e.address, sizeof(e.address), fields[6]) < 0 ||
        copy_field(e.detail, sizeof(e.detail), fields[7]) < 0)
        return -1;
    *ev = e;
    return 0;
}

static int digits(const char *s, int n, int *out)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return 0;
}

/* Days from 1970-01-01 to y-m-d (proleptic Gregorian; H. Hinnant's algorithm). */
static int64_t days_from_civil(int y, int m, int d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

int audit_parse_time(const char *s, int64_t *ms)
{
    size_t n = strlen(s);
    long long v;
    if (n && parse_num(s, false, &v) == 0) {
        *ms = v;
        return 0;
    }
    /* YYYY-MM-DDTHH:MM:SS[.mmm]Z */
    int y, mo, d, h, mi, se, frac = 0;
    if ((n != 20 && n != 24) || s[4] != '-' || s[7] != '-' || s[10] != 'T' || s[13] != ':' || s[16] != ':' ||
        s[n - 1] != 'Z' || digits(s, 4, &y) < 0 || digits(s + 5, 2, &mo) < 0 || digits(s + 8, 2, &d) < 0 ||
        digits(s + 11, 2, &h) < 0 || digits(s + 14, 2, &mi) < 0 || digits(s + 17, 2, &se) < 0)
        return -1;
    if (n == 24 && (s[19] != '.' || digits(s + 20, 3, &frac) < 0))
        return -1;
    static const int mdays[12] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (y < 1970 || mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1] || h > 23 || mi > 59 || se > 60)
        return -1;
    *ms = ((days_from_civil(y, mo, d) * 86400) + h * 3600 + mi * 60 + se) * 1000 + frac;
    return 0;
}

int audit_parse_kinds(const char *list, uint32_t *mask)
{
    uint32_t m = 0;
    const char *p = list;
    if (!*p)
        return -1;
    for (;;) {
        const char *comma = strchr(p, ',');
        size_t len = comma ? (size_t)(comma - p) : strlen(p);
        char name[32];
        if (len == 0 || len >= sizeof(name))
            return -1;
        memcpy(name, p, len);
        name[len] = '\0';
        int k = audit_kind_parse(name);
        if (k < 0)
            return -1;
        m |= 1u << k;
        if (!comma)
            break;
        p = comma + 1;
    }
    *mask = m;
    return 0;
}

void audit_format_time(int64_t ms, char *buf, size_t size)
{
    time_t sec = (time_t)(ms / 1000);
    struct tm tm;
    if (ms < 0 || !gmtime_r(&sec, &tm)) {
        snprintf(buf, size, "1970-01-01T00:00:00.000Z");
        return;
    }
    snprintf(buf, size, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
             tm.tm_hour, tm.tm_min, tm.tm_sec, (int)(ms % 1000));
}
