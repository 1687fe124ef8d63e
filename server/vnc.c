/* The VNC server: sockets, the event loop and libvncserver glue.
 *
 * Threading model: libvncserver's own threaded mode (a reader and a writer
 * thread per client, all sharing the framebuffer and region state) has known
 * races, so piglix never starts it. One thread, this one, owns libvncserver
 * entirely: it accepts connections itself and hands each to rfbNewClient(),
 * does the RFB handshake up to ClientInit itself, per client
 * (vnc_handshake.c: libvncserver's security types are process-wide), and
 * lets libvncserver parse ClientInit and the client messages that follow,
 * but only once a whole message has arrived (peeked, see rfb_msg.c), since
 * its reads block,
 * and writes every FramebufferUpdate itself from pre-encoded shared bytes
 * with non-blocking sends (vnc_client.c), never through libvncserver's
 * per-client encoders. The capture thread only ever touches the slot. */
#include <arpa/inet.h>
#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/clock.h"
#include "audit/audit.h"
#include "common/log.h"
#include "common/netlisten.h"
#include "server/server.h"
#include "server/vnc_internal.h"

#define VNC_MSGS_PER_ROUND 64
/* A viewer has this long to finish a message it has started (and [vnc]
 * handshake_timeout_s to finish the handshake); otherwise it holds a slot
 * for nothing. */
#define VNC_PARTIAL_TIMEOUT_MS 15000

static void rfb_log_debug(const char *fmt, ...)
{
    if (log_get_level() < LOG_LEVEL_DEBUG)
        return;
    char buf[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    buf[strcspn(buf, "\n")] = '\0';
    LOG_DEBUG("libvncserver", "%s", buf);
}

/* ---- listening ---- */

/* Binds one address. An IPv6 socket serves IPv4 too (as mapped addresses)
 * only for the wildcard "::" written as such: "::1", a host name's IPv6
 * address or "*"'s "::" beside its "0.0.0.0" stay IPv6 only. */
static int listen_on(struct server *s, const struct sockaddr *sa, socklen_t len, bool dual_stack)
{
    if (s->n_listen >= VNC_MAX_LISTEN) {
        errno = EMFILE;
        return -1;
    }
    int fd = socket(sa->sa_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0)
        return -1;
    int one = 1, v6only = dual_stack ? 0 : 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (sa->sa_family == AF_INET6 &&
        setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &v6only, sizeof(v6only)) < 0) {
        int e = errno;
        close(fd);
        errno = e;
        return -1;
    }
    if (bind(fd, sa, len) < 0 || listen(fd, 64) < 0) {
        int e = errno;
        close(fd);
        errno = e;
        return -1;
    }
    s->listen_fds[s->n_listen++] = fd;
    return 0;
}

/* Says what each socket is really bound to, as the kernel reports it
 * (address, port, and whether an IPv6 socket takes IPv4 too). */
static int log_listeners(struct server *s)
{
    for (int i = 0; i < s->n_listen; i++) {
        struct netlisten_addr got;
        int port;
        char addr[INET6_ADDRSTRLEN + 32];
        if (netlisten_bound(s->listen_fds[i], &got, &port) < 0) {
            LOG_ERROR("vnc", "getsockname: %s", strerror(errno));
            return -1;
        }
        netlisten_format(&got, port, addr, sizeof(addr));
        LOG_INFO("vnc", "listening on %s", addr);
    }
    return 0;
}

static void close_listeners(struct server *s)
{
    for (int i = 0; i < s->n_listen; i++)
        close(s->listen_fds[i]);
    s->n_listen = 0;
}

static int open_listeners(struct server *s)
{
    const char *host = s->vnc->listen;
    bool dual_stack = strcmp(host, "::") == 0;
    char port[16];
    snprintf(port, sizeof(port), "%d", s->vnc->port);
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM,
                             .ai_protocol = IPPROTO_TCP,
                             .ai_flags = AI_PASSIVE | AI_NUMERICSERV};
    struct addrinfo *res = NULL;
    int r = getaddrinfo(strcmp(host, "*") == 0 ? NULL : host, port, &hints, &res);
    if (r != 0) {
        LOG_ERROR("vnc", "[vnc] listen = %s: %s", host, gai_strerror(r));
        return -1;
    }
    int err = 0;
    for (struct addrinfo *ai = res; ai && !err; ai = ai->ai_next)
        if (listen_on(s, ai->ai_addr, ai->ai_addrlen, dual_stack) < 0)
            err = errno;
    freeaddrinfo(res);
    if (err == EAFNOSUPPORT && dual_stack && s->n_listen == 0) {
        /* A kernel without IPv6: "::" means every IPv4 address then. */
        struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons((uint16_t)s->vnc->port)};
        err = listen_on(s, (struct sockaddr *)&sin, sizeof(sin), false) < 0 ? errno : 0;
    }
    if (err || s->n_listen == 0) {
        /* Exactly what is configured, or nothing: never a part of it. */
        LOG_ERROR("vnc", "cannot listen on [%s]:%d: %s", host, s->vnc->port,
                  err == EMFILE ? "it resolves to too many addresses" : strerror(err));
        close_listeners(s);
        return -1;
    }
    return log_listeners(s);
}

/* ---- libvncserver hooks ---- */

/* piglix answers VncAuth itself (vnc_handshake.c); should libvncserver's own
 * authentication ever run, it lets nobody in. */
static rfbBool refuse_password(rfbClientPtr cl, const char *response, int len)
{
    (void)response;
    (void)len;
    LOG_ERROR("vnc", "client %s: libvncserver's authentication reached; refused", cl->host);
    return FALSE;
}

static void client_gone(rfbClientPtr cl)
{
    struct vnc_client *c = cl->clientData;
    struct server *s = cl->screen->screenData;
    if (c) {
        vnc_input_release(s, c);
        vnc_control_gone(c);
        if (c->admitted)
            s->stats.clients--;
        /* Browser viewers' sessions are the web's; VNC-port logins end here. */
        if (c->admitted && !c->preauth)
            audit_record(AUDIT_SESSION_END, AUDIT_IF_VNC, AUDIT_OK, NULL, cl->host, "viewer disconnected");
        memset(c->challenge, 0, sizeof(c->challenge));
        vnc_client_free(c);
        cl->clientData = NULL;
    }
    LOG_INFO("vnc", "client %s disconnected", cl->host ? cl->host : "?");
}

static enum rfbNewClientAction new_client(rfbClientPtr cl)
{
    struct server *s = cl->screen->screenData;
    /* No limit here: handshakes are bounded by the pool (accept_clients),
     * viewers by max_clients once authenticated (vnc_handshake.c). */
    struct vnc_client *c = vnc_client_new(s, cl);
    if (!c) {
        vnc_input_free_extensions(cl);
        return RFB_CLIENT_REFUSE;
    }
    cl->clientData = c;
    cl->clientGoneHook = client_gone;
    s->stats.connections++;
    return RFB_CLIENT_ACCEPT;
}

static int refuse_resize(int w, int h, int n, rfbExtDesktopScreen *scr, rfbClientPtr cl)
{
    (void)w; (void)h; (void)n; (void)scr; (void)cl;
    return rfbExtDesktopSize_ResizeProhibited; /* the server's HDMI output decides */
}

/* ---- the event loop ---- */

static void set_up_client_socket(int fd)
{
    int one = 1, rcv = 512 * 1024;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    /* Room for the largest message piglix accepts, so it can be peeked whole. */
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcv, sizeof(rcv));
}

/* libvncserver's rfbNewClient waits up to 100 ms for the client's first
 * bytes (its WebSocket and TLS detection); an RFB client speaks second, so
 * every connection would hold this thread, and with it every viewer, for
 * 100 ms: ten bare connections a second would freeze them all. It is handed
 * one end of a socketpair where "RFB " already waits, so it decides at once
 * (its version string goes into the pair and is dropped); the real socket
 * then takes that descriptor's number, and gets the version from here. */
static rfbClientPtr new_client_now(struct server *s, int fd, const char *host)
{
    static const char version[] = "RFB 003.008\n";
    int pair[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair) < 0) {
        LOG_WARN("vnc", "client %s: socketpair: %s", host, strerror(errno));
        close(fd);
        return NULL;
    }
    rfbClientPtr cl = NULL;
    if (send(pair[1], "RFB ", 4, MSG_NOSIGNAL) == 4)
        cl = rfbNewClient(s->screen, pair[0]); /* closes pair[0] when it fails */
    else
        close(pair[0]);
    close(pair[1]);
    if (!cl) {
        close(fd);
        return NULL;
    }
    int flags = fcntl(fd, F_GETFL);
    if (flags < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0 || dup3(fd, cl->sock, O_CLOEXEC) < 0 ||
        send(cl->sock, version, sizeof(version) - 1, MSG_NOSIGNAL | MSG_DONTWAIT) != sizeof(version) - 1) {
        LOG_WARN("vnc", "client %s: cannot set up its socket: %s", host, strerror(errno));
        close(fd);
        rfbCloseClient(cl);
        return cl; /* reaped with the others */
    }
    close(fd);
    free(cl->host);
    cl->host = strdup(host);
    return cl;
}

static void peer_name(const struct sockaddr_storage *peer, socklen_t len, char *out, size_t n)
{
    if (getnameinfo((const struct sockaddr *)peer, len, out, (socklen_t)n, NULL, 0, NI_NUMERICHOST) != 0)
        snprintf(out, n, "?");
}

static void accept_clients(struct server *s, int lfd)
{
    for (;;) {
        struct sockaddr_storage peer;
        socklen_t plen = sizeof(peer);
        int fd = accept4(lfd, (struct sockaddr *)&peer, &plen, SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
                LOG_WARN("vnc", "accept: %s", strerror(errno));
            return;
        }
        struct vnc_addr_key key;
        vnc_addr_key_from(&key, &peer);
        vnc_handshake_make_room(s, &key);
        set_up_client_socket(fd);
        char host[NI_MAXHOST];
        peer_name(&peer, plen, host, sizeof(host));
        /* A browser's WebSocket on this port fails the version check (the
         * web port serves noVNC). */
        rfbClientPtr cl = new_client_now(s, fd, host);
        if (!cl || !cl->clientData)
            continue; /* closed, and said why */
        struct vnc_client *c = cl->clientData;
        c->pending = true;
        c->addr = key;
        LOG_INFO("vnc", "client %s connected", cl->host);
    }
}

static enum rfb_msg_stage stage_of(rfbClientPtr cl)
{
    switch (cl->state) {
    case RFB_PROTOCOL_VERSION: return RFB_STAGE_VERSION;
    case RFB_SECURITY_TYPE: return RFB_STAGE_SECURITY;
    case RFB_AUTHENTICATION: return RFB_STAGE_VNCAUTH;
    case RFB_INITIALISATION: return RFB_STAGE_INIT;
    default: return RFB_STAGE_NORMAL;
    }
}

/* libvncserver's part starts at ClientInit: its handshake code shares one
 * list of security types between all clients and must never run. */
static void process_message(rfbClientPtr cl)
{
    assert(!vnc_handshake_stage(cl));
    if (vnc_handshake_stage(cl)) {
        rfbCloseClient(cl);
        return;
    }
    rfbProcessClientMessage(cl);
}

/* Hands libvncserver (or the handshake) every complete message waiting on
 * the socket. */
static void read_client(rfbClientPtr cl)
{
    struct vnc_client *c = cl->clientData;
    for (int i = 0; i < VNC_MSGS_PER_ROUND && cl->sock != RFB_INVALID_SOCKET; i++) {
        if (cl->state == RFB_INITIALISATION_SHARED) {
            process_message(cl);
            continue;
        }
        size_t want = c->peek_cap ? c->peek_cap : 4096;
        if (!c->peek) {
            c->peek = malloc(want);
            if (!c->peek) {
                rfbCloseClient(cl);
                return;
            }
            c->peek_cap = want;
        }
        ssize_t n = recv(cl->sock, c->peek, c->peek_cap, MSG_PEEK | MSG_DONTWAIT);
        if (n == 0) {
            rfbCloseClient(cl);
            return;
        }
        if (n < 0) {
            if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
                rfbCloseClient(cl);
            return;
        }
        struct rfb_msg_info info;
        enum rfb_msg_stage stage = stage_of(cl);
        int r = rfb_msg_frame(stage, c->peek, (size_t)n, &info);
        if (r < 0) {
            LOG_WARN("vnc", "client %s: %s (type %u); closing", cl->host, info.error, info.type);
            rfbCloseClient(cl);
            return;
        }
        if (r == 0) {
            if (!c->partial_since_ms)
                c->partial_since_ms = clock_mono_ms();
            if (info.size > c->peek_cap) {
                uint8_t *p = realloc(c->peek, info.size);
                if (!p) {
                    rfbCloseClient(cl);
                    return;
                }
                c->peek = p;
                c->peek_cap = info.size;
                continue; /* peek again with room for the whole message */
            }
            return; /* wait for the rest */
        }
        /* libvncserver may answer some messages itself; never let its bytes
         * land in the middle of an update still being sent. */
        if (info.may_reply && vnc_client_output_pending(c))
            return;
        if (stage == RFB_STAGE_NORMAL && info.type == 2)
            vnc_client_note_encodings(c, c->peek, info.size);
        c->partial_since_ms = 0;
        if (vnc_handshake_stage(cl)) {
            if (vnc_handshake_message(c, info.size) < 0)
                return;
            continue;
        }
        process_message(cl);
    }
}

void vnc_wake(struct server *s)
{
    uint64_t one = 1;
    if (write(s->wake_fd, &one, sizeof(one)) < 0 && errno != EAGAIN)
        LOG_WARN("vnc", "eventfd write: %s", strerror(errno));
}

int server_adopt_client(struct server *s, int fd, const char *who)
{
    return server_adopt_client_session(s, fd, who, false, 0);
}

int server_adopt_client_session(struct server *s, int fd, const char *who, bool view_only,
                                unsigned control_id)
{
    pthread_mutex_lock(&s->adopt_lock);
    int ok = s->n_adopt < (int)(sizeof(s->adopt_queue) / sizeof(s->adopt_queue[0]));
    if (ok) {
        s->adopt_queue[s->n_adopt].fd = fd;
        s->adopt_queue[s->n_adopt].view_only = view_only;
        snprintf(s->adopt_queue[s->n_adopt].who, sizeof(s->adopt_queue[0].who), "%s", who);
        s->adopt_queue[s->n_adopt].control_id = control_id;
        s->n_adopt++;
    }
    pthread_mutex_unlock(&s->adopt_lock);
    if (!ok) {
        LOG_WARN("vnc", "%s: too many connections waiting to be adopted", who);
        close(fd);
        return -1;
    }
    vnc_wake(s);
    return 0;
}

void server_set_keyboard_leds(struct server *s, unsigned leds)
{
    atomic_store(&s->leds, leds & 7);
    vnc_wake(s);
}

static void take_adopted(struct server *s)
{
    uint64_t v;
    if (read(s->wake_fd, &v, sizeof(v)) < 0 && errno != EAGAIN)
        LOG_WARN("vnc", "eventfd read: %s", strerror(errno));
    struct vnc_adopted q[16];
    pthread_mutex_lock(&s->adopt_lock);
    int n = s->n_adopt;
    memcpy(q, s->adopt_queue, sizeof(q[0]) * (size_t)n);
    s->n_adopt = 0;
    pthread_mutex_unlock(&s->adopt_lock);
    for (int i = 0; i < n; i++) {
        set_up_client_socket(q[i].fd);
        rfbClientPtr cl = new_client_now(s, q[i].fd, q[i].who);
        if (!cl || !cl->clientData)
            continue;
        struct vnc_client *c = cl->clientData;
        c->preauth = true; /* offered None only; [web] max_viewers bounds these */
        c->view_only = q[i].view_only;
        c->control_id = q[i].control_id; /* listed by the adopter, which also ends it */
        LOG_INFO("vnc", "client %s (%s) connected, authenticated by the web session%s", cl->host, q[i].who,
                 c->view_only ? " (view only)" : "");
    }
}

static void on_frame(struct server *s)
{
    struct capture_frame f;
    if (!capture_slot_take(s->slot, &f))
        return;
    bool resized = false;
    int n = pipeline_feed(s->pipe, &f, &resized);
    if (n <= 0)
        return;
    if (resized || s->screen->width != (int)f.width || s->screen->height != (int)f.height) {
        LOG_INFO("vnc", "resolution now %ux%u (%s)", f.width, f.height, pixfmt_name(f.fmt));
        char *fb = calloc((size_t)f.width * f.height, 4);
        if (!fb) {
            LOG_ERROR("vnc", "out of memory for a %ux%u framebuffer", f.width, f.height);
            return;
        }
        rfbNewFramebuffer(s->screen, fb, (int)f.width, (int)f.height, 8, 3, 4);
        free(s->fb);
        s->fb = fb;
        for (rfbClientPtr cl = s->screen->clientHead; cl; cl = cl->next) {
            struct vnc_client *c = cl->clientData;
            if (!c || cl->sock == RFB_INVALID_SOCKET)
                continue;
            if (cl->state == RFB_NORMAL && !cl->useNewFBSize && c->encodings_seen) {
                LOG_INFO("vnc", "client %s cannot follow a resolution change; closing", cl->host);
                rfbCloseClient(cl);
                continue;
            }
            /* A client between ServerInit and its SetEncodings may yet say it
             * takes DesktopSize: vnc_client_service decides once it has. */
            c->resized_early = cl->state == RFB_NORMAL && !c->encodings_seen;
            cl->newFBSizePending = cl->useNewFBSize || c->resized_early;
            if (vnc_client_reset_tiles(c) < 0)
                rfbCloseClient(cl);
        }
        vnc_h264_on_frame(s, n, true);
        return;
    }
    const uint8_t *damage = pipeline_last_damage(s->pipe);
    for (rfbClientPtr cl = s->screen->clientHead; cl; cl = cl->next)
        if (cl->clientData)
            vnc_client_add_damage(cl->clientData, damage);
    vnc_h264_on_frame(s, n, false);
}

static void reap_clients(struct server *s)
{
    int64_t now = clock_mono_ms();
    rfbClientPtr cl = s->screen->clientHead;
    while (cl) {
        rfbClientPtr next = cl->next;
        struct vnc_client *c = cl->clientData;
        if (c && cl->sock != RFB_INVALID_SOCKET) {
            int limit_s = s->vnc->handshake_timeout_s;
            if (cl->state != RFB_NORMAL && now - c->connected_ms > (int64_t)limit_s * 1000) {
                LOG_INFO("vnc", "client %s: handshake not finished in %d s; closing", cl->host, limit_s);
                rfbCloseClient(cl);
            } else if (c->partial_since_ms && now - c->partial_since_ms > VNC_PARTIAL_TIMEOUT_MS) {
                LOG_INFO("vnc", "client %s: message left unfinished for %d s; closing", cl->host,
                         VNC_PARTIAL_TIMEOUT_MS / 1000);
                rfbCloseClient(cl);
            }
        }
        if (cl->sock == RFB_INVALID_SOCKET)
            rfbClientConnectionGone(cl);
        cl = next;
    }
}

/* Room in the poll set for the listeners, the two event fds and every
 * client. */
void vnc_load_view_password(struct server *s)
{
    s->view_password[0] = '\0';
    int r = vnc_auth_load_view_password(s->state_dir, s->view_password);
    if (r == 0)
        LOG_INFO("vnc", "view-only VNC password set (%s/vnc-view.passwd): its viewers only watch", s->state_dir);
    else
        s->view_password[0] = '\0'; /* none, or a bad file (said why): only the full password */
}

/* The VNC port opens once a password has been stored (`piglix vnc-passwd`
 * writes it atomically, so a file that exists is whole). */
static void open_when_password_set(struct server *s, int64_t now)
{
    s->password_check_ms = now + 1000;
    struct stat st;
    char path[CONFIG_STR_MAX + 16];
    vnc_auth_password_path(s->state_dir, path, sizeof(path));
    if (stat(path, &st) < 0)
        return;
    if (vnc_auth_load_password(s->state_dir, s->password) != 0) {
        s->password_check_ms = now + 60000; /* a bad file: said why, not every second */
        return;
    }
    if (open_listeners(s) < 0) {
        s->password_check_ms = now + 5000; /* said why; tried again */
        return;
    }
    s->awaiting_password = false;
    vnc_load_view_password(s);
    LOG_INFO("vnc", "authentication: VNC password (from %s/vnc.passwd): the VNC port is open", s->state_dir);
}

static int poll_reserve(struct server *s)
{
    size_t need = (size_t)s->n_listen + 2;
    for (rfbClientPtr cl = s->screen->clientHead; cl; cl = cl->next)
        need++;
    if (need <= s->pfd_cap)
        return 0;
    size_t cap = need + 64;
    struct pollfd *p = realloc(s->pfd, cap * sizeof(*p));
    if (!p)
        return -1;
    s->pfd = p;
    rfbClientPtr *o = realloc(s->pfd_owner, cap * sizeof(*o));
    if (!o)
        return -1;
    s->pfd_owner = o;
    s->pfd_cap = cap;
    return 0;
}

int server_run_once(struct server *s, int max_wait_ms)
{
    THREAD_ASSERT_OWNER(&s->loop_owner, "the VNC server (libvncserver's screen and clients)");
    if (poll_reserve(s) < 0) {
        LOG_ERROR("vnc", "out of memory for the poll set");
        return -1;
    }
    struct pollfd *pfd = s->pfd;
    rfbClientPtr *owner = s->pfd_owner;
    {
        int n = 0;
        for (int i = 0; i < s->n_listen; i++)
            pfd[n++] = (struct pollfd){.fd = s->listen_fds[i], .events = POLLIN};
        pfd[n++] = (struct pollfd){.fd = capture_slot_fd(s->slot), .events = POLLIN};
        pfd[n++] = (struct pollfd){.fd = s->wake_fd, .events = POLLIN};
        int first_client = n;
        bool any_partial = false;
        for (rfbClientPtr cl = s->screen->clientHead; cl; cl = cl->next) {
            if (cl->sock == RFB_INVALID_SOCKET || !cl->clientData)
                continue;
            struct vnc_client *c = cl->clientData;
            /* Unread bytes of a half-arrived message keep a socket readable:
             * such a client is re-checked on a short timer instead. */
            short ev = c->partial_since_ms ? 0 : POLLIN;
            if (c->partial_since_ms)
                any_partial = true;
            if (vnc_client_output_pending(c))
                ev |= POLLOUT;
            owner[n] = cl;
            pfd[n++] = (struct pollfd){.fd = cl->sock, .events = ev};
        }
        int timeout = 1000;
        /* Lossless refreshes fall due without any event: look again soon
         * while some client still holds JPEG tiles. */
        if (s->encode->lossless_refresh_ms > 0)
            for (rfbClientPtr cl = s->screen->clientHead; cl; cl = cl->next)
                if (cl->clientData && vnc_client_has_lossy(cl->clientData)) {
                    timeout = 100;
                    break;
                }
        if (any_partial && timeout > 20)
            timeout = 20;
        if (max_wait_ms >= 0 && timeout > max_wait_ms)
            timeout = max_wait_ms;
        int r = poll(pfd, (nfds_t)n, timeout);
        if (r < 0) {
            if (errno == EINTR)
                return 0;
            LOG_ERROR("vnc", "poll: %s", strerror(errno));
            return -1;
        }
        for (int i = 0; i < s->n_listen; i++)
            if (pfd[i].revents & POLLIN)
                accept_clients(s, pfd[i].fd);
        if (pfd[s->n_listen].revents & POLLIN)
            on_frame(s);
        if (pfd[s->n_listen + 1].revents & POLLIN)
            take_adopted(s);
        vnc_h264_collect(s); /* cheap when the encoder thread has nothing */
        for (int i = first_client; i < n; i++) {
            rfbClientPtr cl = owner[i];
            if (cl->sock == RFB_INVALID_SOCKET)
                continue;
            struct vnc_client *c = cl->clientData;
            if ((pfd[i].revents & (POLLIN | POLLHUP | POLLERR)) || (c && c->partial_since_ms))
                read_client(cl);
        }
        int64_t now = clock_mono_ms();
        for (rfbClientPtr cl = s->screen->clientHead; cl; cl = cl->next) {
            if (cl->clientData && cl->sock != RFB_INVALID_SOCKET &&
                vnc_client_service(cl->clientData, now) < 0)
                rfbCloseClient(cl);
        }
        vnc_control_turn(s);
        reap_clients(s);
        server_snapshot_service(s);
        if (s->awaiting_password && now >= s->password_check_ms)
            open_when_password_set(s, now);
    }
    return 0;
}

int server_run(struct server *s, const volatile sig_atomic_t *stop)
{
    while (!*stop)
        if (server_run_once(s, -1) < 0)
            return -1;
    return 0;
}

/* ---- lifecycle ---- */

struct server *server_create(const struct server_params *p, struct capture_slot *slot,
                             const struct hid_input *input)
{
    struct server *s = calloc(1, sizeof(*s));
    if (!s)
        return NULL;
    s->vnc = p->vnc;
    s->encode = p->encode;
    snprintf(s->state_dir, sizeof(s->state_dir), "%s", p->state_dir);
    s->slot = slot;
    s->input = *input;
    s->auth_none = strcmp(p->vnc->auth, "none") == 0;
    s->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    pthread_mutex_init(&s->adopt_lock, NULL);
    if (s->wake_fd < 0) {
        LOG_ERROR("vnc", "eventfd: %s", strerror(errno));
        free(s);
        return NULL;
    }
    if (!p->vnc->enabled) {
        /* No port: viewers arrive only through the web UI, already
         * authenticated there, so no VNC password is needed. */
        LOG_INFO("vnc", "VNC port disabled ([vnc] enabled = no): viewers only through the web UI");
    } else if (s->auth_none) {
        LOG_WARN("vnc", "authentication: NONE ([vnc] auth = none, loopback %s only)", p->vnc->listen);
    } else {
        int r = vnc_auth_load_password(p->state_dir, s->password);
        if (r < 0) { /* unreadable, or readable by others: said why */
            close(s->wake_fd);
            free(s);
            return NULL;
        }
        if (r > 0) {
            /* Each door opens on its own credentials: browsers log in to the
             * web UI, VNC viewers need this password. */
            s->awaiting_password = true;
            LOG_WARN("vnc", "no VNC password is set: the VNC port stays closed until `piglix vnc-passwd` "
                            "(state dir %s); viewers through the web UI are not affected", p->state_dir);
        } else {
            LOG_INFO("vnc", "authentication: VNC password (from %s/vnc.passwd)", p->state_dir);
            vnc_load_view_password(s);
        }
    }
    s->throttle = auth_throttle_create(p->vnc->auth_fail_limit, p->vnc->auth_throttle_s);
    struct encode_settings es = {.quality = p->encode->quality,
                                 .subsamp = encode_subsamp_parse(p->encode->subsampling),
                                 .workers = (unsigned)encode_workers_parse(p->encode->workers)};
    s->pipe = pipeline_create(&es, (unsigned)p->encode->tile_size);
    s->snapshot = server_snapshot_create(p->encode);
    if (!s->throttle || !s->pipe || !s->snapshot)
        goto fail;
    if (vnc_h264_create(s, p->video, p->fps) < 0)
        goto fail;

    rfbLog = rfb_log_debug;
    rfbErr = rfb_log_debug;
    int w = (int)p->width, h = (int)p->height;
    s->screen = rfbGetScreen(NULL, NULL, w, h, 8, 3, 4);
    if (!s->screen)
        goto fail;
    s->fb = calloc((size_t)w * h, 4);
    if (!s->fb)
        goto fail;
    rfbScreenInfoPtr scr = s->screen;
    scr->frameBuffer = s->fb;
    scr->desktopName = p->vnc->name;
    /* Memory order R,G,B,X: what encoders and translate functions get. */
    scr->serverFormat.redShift = 0;
    scr->serverFormat.greenShift = 8;
    scr->serverFormat.blueShift = 16;
    scr->screenData = s;
    scr->port = 0;      /* piglix listens itself (IPv4 and IPv6, one loop) */
    scr->ipv6port = 0;
    scr->autoPort = FALSE;
    scr->httpDir = NULL;
    scr->cursor = NULL;
    scr->alwaysShared = FALSE;
    scr->neverShared = FALSE;
    scr->dontDisconnect = FALSE;
    scr->newClientHook = new_client;
    scr->setDesktopSizeHook = refuse_resize;
    /* Never set, never swapped: the security types are piglix's, per client
     * (vnc_handshake.c). */
    scr->authPasswdData = NULL;
    scr->passwordCheck = refuse_password;
    vnc_input_install(s);
    rfbInitServer(scr);
    if (p->vnc->enabled && !s->awaiting_password && open_listeners(s) < 0)
        goto fail;
    return s;
fail:
    server_destroy(s);
    return NULL;
}

void server_destroy(struct server *s)
{
    if (!s)
        return;
    if (s->screen) {
        rfbClientPtr cl = s->screen->clientHead;
        while (cl) {
            rfbClientPtr next = cl->next;
            rfbCloseClient(cl);
            rfbClientConnectionGone(cl);
            cl = next;
        }
        s->screen->frameBuffer = NULL;
        rfbScreenCleanup(s->screen);
    }
    vnc_control_detach(s);
    close_listeners(s);
    for (int i = 0; i < s->n_adopt; i++)
        close(s->adopt_queue[i].fd);
    vnc_h264_destroy(s); /* its encoder thread wakes through wake_fd: stopped first */
    close(s->wake_fd);
    pthread_mutex_destroy(&s->adopt_lock);
    free(s->fb);
    free(s->pfd);
    free(s->pfd_owner);
    pipeline_destroy(s->pipe);
    server_snapshot_destroy(s->snapshot);
    auth_throttle_destroy(s->throttle);
    memset(s->password, 0, sizeof(s->password));
    memset(s->view_password, 0, sizeof(s->view_password));
    free(s);
}

void server_get_stats(const struct server *s, struct server_stats *out)
{
    *out = s->stats;
    struct pipeline_stats ps;
    pipeline_get_stats(s->pipe, &ps);
    out->frames = ps.frames;
    out->static_frames = ps.static_frames;
    out->encodes = ps.encodes;
    out->encode_cache_hits = ps.cache_hits;
    out->encode_ns = (uint64_t)(ps.encode_ms * 1e6);
    if (s->video) {
        struct pipeline_video_stats vs;
        pipeline_video_get_stats(s->video, &vs);
        out->h264_encode_ns = (uint64_t)(vs.encode_ms * 1e6);
        out->h264_frames = vs.frames;
        out->h264_previews = vs.previews;
        out->h264_preview_bytes = vs.preview_bytes;
    }
}
