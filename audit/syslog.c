/* audit/syslog.c: each record to a remote syslog collector, RFC 5424.
 *
 * UDP: one datagram per record (RFC 5426). TCP: octet counting ("LEN SP
 * MSG", RFC 6587), which survives newlines and needs no escaping. Both on
 * non-blocking sockets driven by the writer thread: a TCP collector that
 * is down or slow fills a bounded buffer and further records are counted
 * as dropped; a lost connection is retried every RETRY_MS. The host name
 * is resolved once, at start (audit_open on the main thread), so no DNS
 * lookup ever stalls the writer. */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "audit/audit_internal.h"
#include "common/clock.h"
#include "common/log.h"

#define OUTBUF_SIZE (64 * 1024)
#define RETRY_MS 5000
/* RFC 5424's structured data: an enterprise number is needed; 32473 is
 * the one RFC 5612 sets aside for documentation and examples. */
#define SD_ID "piglix@32473"

struct audit_syslog {
    enum audit_syslog_proto proto;
    struct sockaddr_storage addr;
    socklen_t addr_len;
    char url[256];
    char hostname[256];
    int pid;
    int fd;
    bool connecting;
    int64_t retry_at_ms;
    char out[OUTBUF_SIZE];
    size_t out_len;
    size_t out_records;     /* whole records in out */
    uint64_t dropped;
};

int audit_syslog_parse_url(const char *url, enum audit_syslog_proto *proto, char *host, size_t host_size,
                           char *port, size_t port_size)
{
    const char *p;
    if (strncmp(url, "udp://", 6) == 0)
        *proto = AUDIT_SYSLOG_UDP;
    else if (strncmp(url, "tcp://", 6) == 0)
        *proto = AUDIT_SYSLOG_TCP;
    else
        return -1;
    p = url + 6;
    const char *host_end, *colon;
    if (*p == '[') {
        host_end = strchr(p, ']');
        if (!host_end || host_end[1] != ':')
            return -1;
        p++;
        colon = host_end + 1;
    } else {
        colon = strrchr(p, ':');
        if (!colon || memchr(p, ':', (size_t)(colon - p)))
            return -1;
        host_end = colon;
    }
    size_t hlen = (size_t)(host_end - p);
    if (hlen == 0 || hlen >= host_size)
        return -1;
    for (size_t i = 0; i < hlen; i++) {
        char c = p[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
              c == '-' || c == ':' || c == '_'))
            return -1;
    }
    const char *ps = colon + 1;
    size_t plen = strlen(ps);
    if (plen == 0 || plen > 5 || plen >= port_size)
        return -1;
    long v = 0;
    for (size_t i = 0; i < plen; i++) {
        if (ps[i] < '0' || ps[i] > '9')
            return -1;
        v = v * 10 + (ps[i] - '0');
    }
    if (v < 1 || v > 65535)
        return -1;
    memcpy(host, p, hlen);
    host[hlen] = '\0';
    memcpy(port, ps, plen + 1);
    return 0;
}

/* An SD-PARAM value: '"', '\' and ']' escaped (RFC 5424 6.3.3). */
static size_t sd_value(char *out, size_t size, const char *v)
{
    size_t o = 0;
    for (; *v && o + 3 < size; v++) {
        if (*v == '"' || *v == '\\' || *v == ']')
            out[o++] = '\\';
        out[o++] = *v;
    }
    out[o] = '\0';
    return o;
}

/* Severity: failures and refusals are warnings, intrusion an alert. */
static int severity(const struct audit_event *ev)
{
    if (ev->kind == AUDIT_CHASSIS_INTRUSION)
        return 1;
    if (ev->kind == AUDIT_SENSOR_THRESHOLD || ev->kind == AUDIT_SIGNAL_LOST || ev->outcome != AUDIT_OK)
        return 4;
    return 5;
}

int audit_syslog_format(const struct audit_event *ev, const char *hostname, int pid, char *buf, size_t size)
{
    time_t sec = (time_t)(ev->time_ms / 1000);
    struct tm tm;
    if (!gmtime_r(&sec, &tm))
        return -1;
    char account[AUDIT_ACCOUNT_MAX * 2], address[AUDIT_ADDRESS_MAX * 2];
    sd_value(account, sizeof(account), ev->account);
    sd_value(address, sizeof(address), ev->address);
    /* facility 10 (authpriv): security and authorization messages */
    int n = snprintf(buf, size,
                     "<%d>1 %04d-%02d-%02dT%02d:%02d:%02d.%03dZ %s piglix %d %s [" SD_ID
                     " id=\"%llu\" account=\"%s\" address=\"%s\" interface=\"%s\" outcome=\"%s\"] %s",
                     10 * 8 + severity(ev), tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
                     tm.tm_sec, (int)(ev->time_ms % 1000), hostname[0] ? hostname : "-", pid,
                     audit_kind_name(ev->kind), (unsigned long long)ev->id, account, address,
                     audit_iface_name(ev->iface), audit_outcome_name(ev->outcome),
                     ev->detail[0] ? ev->detail : "-");
    return n < 0 || (size_t)n >= size ? -1 : n;
}

struct audit_syslog *audit_syslog_open(const char *url, FILE *err)
{
    enum audit_syslog_proto proto;
    char host[256], port[8];
    if (audit_syslog_parse_url(url, &proto, host, sizeof(host), port, sizeof(port)) < 0) {
        fprintf(err, "audit: [audit] syslog = %s: not udp://HOST:PORT or tcp://HOST:PORT\n", url);
        return NULL;
    }
    struct addrinfo hints = {.ai_family = AF_UNSPEC,
                             .ai_socktype = proto == AUDIT_SYSLOG_UDP ? SOCK_DGRAM : SOCK_STREAM};
    struct addrinfo *res = NULL;
    int r = getaddrinfo(host, port, &hints, &res);
    if (r != 0 || !res) {
        fprintf(err, "audit: [audit] syslog = %s: %s\n", url, gai_strerror(r));
        return NULL;
    }
    struct audit_syslog *s = calloc(1, sizeof(*s));
    if (!s) {
        freeaddrinfo(res);
        return NULL;
    }
    s->proto = proto;
    memcpy(&s->addr, res->ai_addr, res->ai_addrlen);
    s->addr_len = res->ai_addrlen;
    freeaddrinfo(res);
    snprintf(s->url, sizeof(s->url), "%s", url);
    if (gethostname(s->hostname, sizeof(s->hostname)) < 0)
        s->hostname[0] = '\0';
    s->hostname[sizeof(s->hostname) - 1] = '\0';
    s->pid = (int)getpid();
    s->fd = -1;
    return s;
}

static void drop_connection(struct audit_syslog *s, const char *why)
{
    if (s->fd >= 0)
        close(s->fd);
    s->fd = -1;
    s->connecting = false;
    s->retry_at_ms = clock_mono_ms() + RETRY_MS;
    if (s->out_records)
        LOG_WARN("audit", "syslog %s: %s; %zu records not forwarded", s->url, why, s->out_records);
    s->dropped += s->out_records;
    s->out_len = 0;
    s->out_records = 0;
}

static void try_connect(struct audit_syslog *s)
{
    if (s->fd >= 0 || clock_mono_ms() < s->retry_at_ms)
        return;
    int fd = socket(s->addr.ss_family, (s->proto == AUDIT_SYSLOG_UDP ? SOCK_DGRAM : SOCK_STREAM) |
                                           SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        s->retry_at_ms = clock_mono_ms() + RETRY_MS;
        return;
    }
    if (connect(fd, (struct sockaddr *)&s->addr, s->addr_len) < 0 && errno != EINPROGRESS) {
        close(fd);
        s->retry_at_ms = clock_mono_ms() + RETRY_MS;
        return;
    }
    s->fd = fd;
    s->connecting = s->proto == AUDIT_SYSLOG_TCP;
}

bool audit_syslog_poll(struct audit_syslog *s)
{
    if (!s || s->proto != AUDIT_SYSLOG_TCP)
        return false;
    try_connect(s);
    if (s->fd < 0)
        return s->out_len > 0;
    if (s->connecting) {
        struct pollfd pfd = {.fd = s->fd, .events = POLLOUT};
        if (poll(&pfd, 1, 0) <= 0)
            return true;
        int soerr = 0;
        socklen_t l = sizeof(soerr);
        if (getsockopt(s->fd, SOL_SOCKET, SO_ERROR, &soerr, &l) < 0 || soerr) {
            drop_connection(s, soerr ? strerror(soerr) : "connect failed");
            return false;
        }
        s->connecting = false;
    }
    while (s->out_len) {
        ssize_t w = send(s->fd, s->out, s->out_len, MSG_DONTWAIT | MSG_NOSIGNAL);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return true;
        if (w <= 0) {
            drop_connection(s, strerror(errno));
            return false;
        }
        memmove(s->out, s->out + w, s->out_len - (size_t)w);
        s->out_len -= (size_t)w;
        if (s->out_len == 0)
            s->out_records = 0;
    }
    return false;
}

void audit_syslog_send(struct audit_syslog *s, const struct audit_event *ev)
{
    if (!s)
        return;
    char msg[2048];
    int n = audit_syslog_format(ev, s->hostname, s->pid, msg, sizeof(msg));
    if (n < 0) {
        s->dropped++;
        return;
    }
    if (s->proto == AUDIT_SYSLOG_UDP) {
        try_connect(s);
        if (s->fd < 0 || send(s->fd, msg, (size_t)n, MSG_DONTWAIT | MSG_NOSIGNAL) != n)
            s->dropped++;
        return;
    }
    char head[16];
    int h = snprintf(head, sizeof(head), "%d ", n);
    if (s->out_len + (size_t)h + (size_t)n > sizeof(s->out)) {
        s->dropped++;
    } else {
        memcpy(s->out + s->out_len, head, (size_t)h);
        memcpy(s->out + s->out_len + h, msg, (size_t)n);
        s->out_len += (size_t)h + (size_t)n;
        s->out_records++;
    }
    audit_syslog_poll(s);
}

uint64_t audit_syslog_dropped(const struct audit_syslog *s)
{
    return s ? s->dropped : 0;
}

void audit_syslog_close(struct audit_syslog *s)
{
    if (!s)
        return;
    /* One last chance for what is buffered, without waiting for it. */
    audit_syslog_poll(s);
    if (s->fd >= 0)
        close(s->fd);
    free(s);
}
