/* The IPMI thread: UDP sockets, the system GUID, and the core's clock.
 * Replies leave from the address the request was sent to (IP_PKTINFO):
 * clients connect() their UDP sockets and drop answers from any other. */
#include "ipmi/ipmi.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/liveness.h"
#include "common/clock.h"
#include "common/config.h"
#include "common/log.h"
#include "common/statefile.h"
#include "common/thread.h"
#include "ipmi/ipmi_internal.h"
#include "ipmi/ipmi_sol_port.h"
#include "common/netlisten.h"

#define MAX_SOCKETS 2
#define GUID_FILE "ipmi.guid"

/* The reply control message (our address) of a datagram: SOL output
 * leaves the way the console's last packet came in. */
union ipmi_reply_ctl {
    char buf[CMSG_SPACE(sizeof(struct in6_pktinfo))];
    size_t align;                   /* a cmsghdr's (its flexible array may not sit inside struct ipmi) */
};

struct ipmi {
    struct ipmi_core *core;
    int fd[MAX_SOCKETS], n_fd;
    int stop_fd;
    struct ipmi_sol_serial *sol;    /* NULL: no serial console, no SOL */
    int wake_fd;                    /* the console has new output (ipmi_sol_port.c) */
    pthread_t tid;
    int sol_fd;                     /* the socket and control message SOL output leaves by */
    union ipmi_reply_ctl sol_ctl;
    size_t sol_ctl_len;
};

/* Stable across restarts: derived from /etc/machine-id when there is one
 * (a re-made state dir keeps it), else random; kept in the state dir. */
static int load_guid(const char *dir, uint8_t guid[16])
{
    char path[300], hex[40] = "";
    snprintf(path, sizeof(path), "%s/%s", dir, GUID_FILE);
    FILE *f = fopen(path, "re");
    if (f) {
        bool ok = fgets(hex, sizeof(hex), f) != NULL;
        fclose(f);
        unsigned v;
        for (int i = 0; ok && i < 16; i++) {
            ok = sscanf(hex + 2 * i, "%2x", &v) == 1;
            guid[i] = (uint8_t)v;
        }
        if (ok)
            return 0;
        LOG_WARN("ipmi", "%s: not a GUID; making a new one", path);
    }
    char id[64] = "";
    f = fopen("/etc/machine-id", "re");
    if (f) {
        if (!fgets(id, sizeof(id), f))
            id[0] = '\0';
        fclose(f);
    }
    uint8_t md[32];
    unsigned len = 0;
    char seed[96];
    int n = snprintf(seed, sizeof(seed), "piglix IPMI system GUID %s", id);
    if (strlen(id) >= 32 && EVP_Digest(seed, (size_t)n, md, &len, EVP_sha256(), NULL) == 1)
        memcpy(guid, md, 16);
    else if (RAND_bytes(guid, 16) != 1)
        return -1;
    /* RFC 4122 version 4 (random), variant 1, in IPMI's byte order: the
     * whole GUID least significant byte first */
    guid[9] = (uint8_t)((guid[9] & 0x0f) | 0x40);
    guid[7] = (uint8_t)((guid[7] & 0x3f) | 0x80);
    for (int i = 0; i < 16; i++)
        snprintf(hex + 2 * i, 3, "%02x", guid[i]);
    hex[32] = '\n';
    if (statefile_write_bytes(path, hex, 33, 0600, NULL) == 0)
        return 0;
    LOG_WARN("ipmi", "cannot keep the system GUID in %s: %s (it changes at each start)", path, strerror(errno));
    return 0;
}

static int open_socket(struct ipmi *ip, const struct netlisten_addr *a, int port)
{
    if (ip->n_fd >= MAX_SOCKETS)
        return 0;
    struct sockaddr_storage ss;
    memset(&ss, 0, sizeof(ss));
    socklen_t len;
    if (a->family == AF_INET6) {
        struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
        s6->sin6_family = AF_INET6;
        s6->sin6_port = htons((uint16_t)port);
        memcpy(&s6->sin6_addr, a->addr, 16);
        len = sizeof(*s6);
    } else {
        struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
        s4->sin_family = AF_INET;
        s4->sin_port = htons((uint16_t)port);
        memcpy(&s4->sin_addr, a->addr, 4);
        len = sizeof(*s4);
    }
    int fd = socket(a->family, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0)
        return -1;
    int one = 1, v6only = !a->dual;
    if (a->family == AF_INET6) {
        /* only "::" serves IPv4 too, whatever the sysctl default */
        setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &v6only, sizeof(v6only));
        setsockopt(fd, IPPROTO_IPV6, IPV6_RECVPKTINFO, &one, sizeof(one));
    } else {
        setsockopt(fd, IPPROTO_IP, IP_PKTINFO, &one, sizeof(one));
    }
    if (bind(fd, (struct sockaddr *)&ss, len) < 0) {
        int e = errno;
        close(fd);
        errno = e;
        return -1;
    }
    ip->fd[ip->n_fd++] = fd;
    return 0;
}

/* Binds what [ipmi] listen means, then checks with
 * getsockname that this is exactly what the sockets hold, and says it. */
static int open_sockets(struct ipmi *ip, const struct config_ipmi *cfg)
{
    const char *host = cfg->listen;
    struct netlisten_addr want[MAX_SOCKETS];
    char err[160], desc[256];
    int n = netlisten_resolve(host, want, MAX_SOCKETS, err, sizeof(err));
    if (n < 0) {
        LOG_ERROR("ipmi", "[ipmi] listen = %s: %s", host, err);
        return -1;
    }
    for (int i = 0; i < n; i++)
        if (open_socket(ip, &want[i], cfg->port) < 0) {
            LOG_ERROR("ipmi", "cannot listen on UDP [%s]:%d: %s", want[i].text, cfg->port, strerror(errno));
            return -1;
        }
    if (netlisten_verify(ip->fd, ip->n_fd, cfg->port, want, n, desc, sizeof(desc), err, sizeof(err)) < 0) {
        LOG_ERROR("ipmi", "[ipmi] listen = %s: %s (bound: %s); not starting", host, err, desc);
        return -1;
    }
    LOG_INFO("ipmi", "listening on UDP %s", desc);
    return 0;
}

static void peer_name(const struct sockaddr_storage *sa, socklen_t len, char *out, size_t n)
{
    char host[48], serv[8];           /* numeric: bounded (a longer one shows as "?") */
    if (getnameinfo((const struct sockaddr *)sa, len, host, sizeof(host), serv, sizeof(serv),
                    NI_NUMERICHOST | NI_NUMERICSERV) != 0)
        snprintf(out, n, "?");
    else if (sa->ss_family == AF_INET6)
        snprintf(out, n, "[%s]:%s", host, serv);
    else
        snprintf(out, n, "%s:%s", host, serv);
}

/* Makes the reply's only control message (o, at om's control buffer) a
 * packet-info of n bytes at pi. */
static void reply_pktinfo(struct msghdr *om, struct cmsghdr *o, int level, int type, const void *pi,
                          size_t n)
{
    o->cmsg_level = level;
    o->cmsg_type = type;
    o->cmsg_len = CMSG_LEN(n);
    memcpy(CMSG_DATA(o), pi, n);
    om->msg_control = o;
    om->msg_controllen = CMSG_SPACE(n);
}

/* One datagram in, at most one out, from the address it came to. */
static bool serve_one(struct ipmi *ip, int fd)
{
    uint8_t in[IPMI_PKT_MAX + 1], out[IPMI_PKT_MAX];
    struct sockaddr_storage from;
    union {
        char buf[CMSG_SPACE(sizeof(struct in6_pktinfo)) + CMSG_SPACE(sizeof(struct in_pktinfo))];
        struct cmsghdr align;
    } ctl;
    struct iovec iov = {in, sizeof(in)};
    struct msghdr mh = {.msg_name = &from, .msg_namelen = sizeof(from), .msg_iov = &iov, .msg_iovlen = 1,
                        .msg_control = ctl.buf, .msg_controllen = sizeof(ctl.buf)};
    ssize_t n = recvmsg(fd, &mh, 0);
    if (n < 0)
        return false;
    char name[IPMI_PEER_MAX];
    peer_name(&from, mh.msg_namelen, name, sizeof(name));
    size_t len = ipmi_core_handle(ip->core, (struct sockaddr *)&from, mh.msg_namelen, name, in, (size_t)n,
                                  out, sizeof(out), clock_mono_ms());
    struct ipmi_session *sol = ipmi_sol_owner(ip->core);
    bool sol_peer = sol && sol->peer_len == mh.msg_namelen && memcmp(&sol->peer, &from, sol->peer_len) == 0;
    if (!len && !sol_peer)
        return true;
    /* the same packet-info control message back: it names our address */
    union ipmi_reply_ctl reply_ctl;
    memset(&reply_ctl, 0, sizeof(reply_ctl));
    struct iovec oiov = {out, len};
    struct msghdr om = {.msg_name = &from, .msg_namelen = mh.msg_namelen, .msg_iov = &oiov, .msg_iovlen = 1};
    for (struct cmsghdr *cm = CMSG_FIRSTHDR(&mh); cm; cm = CMSG_NXTHDR(&mh, cm)) {
        struct cmsghdr *o = (struct cmsghdr *)reply_ctl.buf;
        if (cm->cmsg_level == IPPROTO_IP && cm->cmsg_type == IP_PKTINFO) {
            struct in_pktinfo pi;
            memcpy(&pi, CMSG_DATA(cm), sizeof(pi));
            pi.ipi_spec_dst = pi.ipi_addr;
            pi.ipi_ifindex = 0;
            reply_pktinfo(&om, o, IPPROTO_IP, IP_PKTINFO, &pi, sizeof(pi));
        } else if (cm->cmsg_level == IPPROTO_IPV6 && cm->cmsg_type == IPV6_PKTINFO) {
            reply_pktinfo(&om, o, IPPROTO_IPV6, IPV6_PKTINFO, CMSG_DATA(cm), sizeof(struct in6_pktinfo));
        }
    }
    if (sol_peer) {
        ip->sol_fd = fd;
        ip->sol_ctl = reply_ctl;
        ip->sol_ctl_len = om.msg_controllen;
    }
    if (len && sendmsg(fd, &om, MSG_DONTWAIT) < 0)
        LOG_DEBUG("ipmi", "reply to %s: %s", name, strerror(errno));
    return true;
}

/* SOL output that is due (new characters, retries), to the console. A
 * full socket buffer drops the datagram: the retry sends it again. */
static void send_sol(struct ipmi *ip)
{
    uint8_t out[IPMI_PKT_MAX];
    struct sockaddr_storage to;
    socklen_t to_len = 0;
    size_t len;
    for (int k = 0; k < 16 && (len = ipmi_core_sol_poll(ip->core, clock_mono_ms(), out, sizeof(out), &to,
                                                         &to_len)) > 0; k++) {
        struct iovec iov = {out, len};
        struct msghdr om = {.msg_name = &to, .msg_namelen = to_len, .msg_iov = &iov, .msg_iovlen = 1};
        if (ip->sol_ctl_len) {
            om.msg_control = ip->sol_ctl.buf;
            om.msg_controllen = ip->sol_ctl_len;
        }
        if (ip->sol_fd < 0 || sendmsg(ip->sol_fd, &om, MSG_DONTWAIT) < 0)
            LOG_DEBUG("ipmi", "SOL output: %s", ip->sol_fd < 0 ? "no socket" : strerror(errno));
    }
    if (ip->sol)
        ipmi_sol_serial_want(ip->sol, ipmi_sol_owner(ip->core) != NULL);
}

/* How long the thread may sleep: a second, or until SOL output is due. */
static int poll_timeout(struct ipmi *ip)
{
    int64_t next = ipmi_core_next_ms(ip->core);
    if (next < 0)
        return 1000;
    int64_t wait = next - clock_mono_ms();
    return wait < 0 ? 0 : wait > 1000 ? 1000 : (int)wait;
}

static void *run(void *arg)
{
    struct ipmi *ip = arg;
    struct pollfd pfd[MAX_SOCKETS + 2];
    struct liveness *live = liveness_register("ipmi");
    for (;;) {
        liveness_beat(live);
        for (int i = 0; i < ip->n_fd; i++)
            pfd[i] = (struct pollfd){.fd = ip->fd[i], .events = POLLIN};
        pfd[ip->n_fd] = (struct pollfd){.fd = ip->stop_fd, .events = POLLIN};
        pfd[ip->n_fd + 1] = (struct pollfd){.fd = ip->wake_fd, .events = POLLIN};
        int r = poll(pfd, (nfds_t)ip->n_fd + (ip->wake_fd >= 0 ? 2 : 1), liveness_poll_ms(poll_timeout(ip)));
        if (r < 0 && errno != EINTR) {
            LOG_ERROR("ipmi", "poll: %s", strerror(errno));
            return NULL; /* still registered: the watchdog starves and systemd restarts piglix */
        }
        if (pfd[ip->n_fd].revents)
            break;
        if (ip->wake_fd >= 0 && pfd[ip->n_fd + 1].revents) {
            uint64_t v;
            if (read(ip->wake_fd, &v, sizeof(v)) < 0 && errno != EAGAIN)
                LOG_DEBUG("ipmi", "wake: %s", strerror(errno));
        }
        for (int i = 0; i < ip->n_fd; i++)
            if (pfd[i].revents & POLLIN)
                for (int k = 0; k < 32 && serve_one(ip, ip->fd[i]); k++)
                    ; /* a burst, then the others get their turn */
        ipmi_core_expire(ip->core, clock_mono_ms());
        ipmi_core_control_service(ip->core);
        send_sol(ip);
    }
    liveness_unregister(live);
    return NULL;
}

void ipmi_set_control(struct ipmi *ip, struct control *ctl)
{
    if (ip)
        ipmi_core_set_control(ip->core, ctl);
}

static void close_all(struct ipmi *ip)
{
    for (int i = 0; i < ip->n_fd; i++)
        close(ip->fd[i]);
    if (ip->stop_fd >= 0)
        close(ip->stop_fd);
    ipmi_sol_serial_close(ip->sol);
    ipmi_core_destroy(ip->core);
    free(ip);
}

struct ipmi *ipmi_start(const struct config_ipmi *cfg, const char *state_dir, struct atx *atx,
                         struct sensors *sensors, struct serial_console *serial)
{
    if (!cfg->enabled) {
        if (ipmi_users_purge(state_dir) > 0)
            LOG_INFO("ipmi", "[ipmi] enabled = no: removed the stored IPMI passwords");
        return NULL;
    }
    if (mkdir(state_dir, 0700) < 0 && errno != EEXIST) {
        LOG_ERROR("ipmi", "[state] dir %s: %s", state_dir, strerror(errno));
        return NULL;
    }
    struct ipmi *ip = calloc(1, sizeof(*ip));
    uint8_t guid[16];
    if (!ip)
        return NULL;
    ip->stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    ip->wake_fd = -1;
    ip->sol_fd = -1;
    if (ip->stop_fd < 0 || load_guid(state_dir, guid) < 0 ||
        !(ip->core = ipmi_core_create(state_dir, cfg->max_sessions, cfg->session_timeout_s,
                                      atx, sensors, guid)) ||
        open_sockets(ip, cfg) < 0) {
        close_all(ip);
        return NULL;
    }
    if (serial) {
        if (!(ip->sol = ipmi_sol_serial_open(serial))) {
            LOG_ERROR("ipmi", "cannot watch the serial console: %s", strerror(errno));
            close_all(ip);
            return NULL;
        }
        ip->wake_fd = ipmi_sol_serial_wake_fd(ip->sol);
        ipmi_core_set_sol(ip->core, ipmi_sol_serial_port(ip->sol), cfg->port);
    }
    int e = thread_start(&ip->tid, run, ip);
    if (e) {
        LOG_ERROR("ipmi", "cannot start the thread: %s", strerror(e));
        close_all(ip);
        return NULL;
    }
    LOG_INFO("ipmi", "IPMI 2.0 over LAN on UDP [%s]:%d (cipher suites 3 and 17; %d account%s with an "
             "IPMI password; Serial-over-LAN %s)", cfg->listen, cfg->port, ip->core->users.n,
             ip->core->users.n == 1 ? "" : "s", ip->sol ? "on the serial console" : "off: no [serial] console");
    if (ip->core->users.n == 0)
        LOG_WARN("ipmi", "no account has an IPMI password yet: piglix user ipmi-passwd NAME");
    return ip;
}

void ipmi_stop(struct ipmi *ip)
{
    if (!ip)
        return;
    uint64_t one = 1;
    if (write(ip->stop_fd, &one, sizeof(one)) != sizeof(one))
        LOG_WARN("ipmi", "cannot wake the thread: %s", strerror(errno));
    pthread_join(ip->tid, NULL);
    struct ipmi_stats st = ip->core->stats;
    int active = ipmi_core_active_sessions(ip->core);
    LOG_INFO("ipmi", "stopped: %llu packets, %llu replies, %llu logins, %llu failed, %llu replayed dropped, "
             "%d session%s ended", (unsigned long long)st.packets, (unsigned long long)st.replies,
             (unsigned long long)st.logins, (unsigned long long)st.login_failures,
             (unsigned long long)st.replayed, active, active == 1 ? "" : "s");
    close_all(ip);
}
