/* Listening addresses: resolving a listen setting, and checking what the
 * sockets really bound. */
#include "common/netlisten.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static void from_sockaddr(const struct sockaddr *sa, struct netlisten_addr *a, int *port)
{
    memset(a, 0, sizeof(*a));
    a->family = sa->sa_family;
    if (sa->sa_family == AF_INET) {
        const struct sockaddr_in *s4 = (const struct sockaddr_in *)sa;
        memcpy(a->addr, &s4->sin_addr, 4);
        a->any = s4->sin_addr.s_addr == htonl(INADDR_ANY);
        if (port)
            *port = ntohs(s4->sin_port);
    } else {
        const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)sa;
        memcpy(a->addr, &s6->sin6_addr, 16);
        a->any = IN6_IS_ADDR_UNSPECIFIED(&s6->sin6_addr);
        if (port)
            *port = ntohs(s6->sin6_port);
    }
    inet_ntop(a->family, a->addr, a->text, sizeof(a->text));
}

static bool same_addr(const struct netlisten_addr *a, const struct netlisten_addr *b)
{
    return a->family == b->family && memcmp(a->addr, b->addr, a->family == AF_INET ? 4 : 16) == 0;
}

static bool ipv6_available(void)
{
    int fd = socket(AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return false;
    close(fd);
    return true;
}

int netlisten_resolve(const char *listen, struct netlisten_addr *out, int max, char *err, size_t errlen)
{
    bool wild6 = strcmp(listen, "::") == 0 || strcmp(listen, "*") == 0;
    if (wild6 && !ipv6_available())
        listen = "0.0.0.0", wild6 = false; /* a kernel without IPv6: "::" is every IPv4 address */
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM, .ai_flags = AI_PASSIVE};
    struct addrinfo *res = NULL;
    int r = getaddrinfo(wild6 ? "::" : listen, NULL, &hints, &res);
    if (r != 0) {
        snprintf(err, errlen, "cannot resolve '%s': %s", listen, gai_strerror(r));
        return -1;
    }
    int n = 0;
    for (struct addrinfo *ai = res; ai && n < max; ai = ai->ai_next) {
        if (ai->ai_family != AF_INET && ai->ai_family != AF_INET6)
            continue;
        struct netlisten_addr a;
        from_sockaddr(ai->ai_addr, &a, NULL);
        /* "::" means both families (piglix.ini); one dual-stack socket */
        a.dual = a.family == AF_INET6 && a.any;
        bool dup = false;
        for (int i = 0; i < n; i++)
            dup |= same_addr(&out[i], &a);
        if (!dup)
            out[n++] = a;
    }
    freeaddrinfo(res);
    if (n == 0)
        snprintf(err, errlen, "'%s' has no IPv4 or IPv6 address", listen);
    return n ? n : -1;
}

int netlisten_bound(int fd, struct netlisten_addr *got, int *port)
{
    struct sockaddr_storage ss;
    socklen_t len = sizeof(ss);
    if (getsockname(fd, (struct sockaddr *)&ss, &len) < 0 ||
        (ss.ss_family != AF_INET && ss.ss_family != AF_INET6))
        return -1;
    from_sockaddr((struct sockaddr *)&ss, got, port);
    if (got->family == AF_INET6 && got->any) {
        int v6only = 1;
        socklen_t ol = sizeof(v6only);
        if (getsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &v6only, &ol) < 0)
            return -1;
        got->dual = !v6only;
    }
    return 0;
}

int netlisten_find(int socktype, int port, int *fds, int max)
{
    DIR *d = opendir("/proc/self/fd");
    if (!d)
        return 0;
    int n = 0, self = dirfd(d);
    for (struct dirent *e; (e = readdir(d)) && n < max;) {
        int fd = atoi(e->d_name);
        struct stat st;
        if (e->d_name[0] == '.' || fd == self || fstat(fd, &st) < 0 || !S_ISSOCK(st.st_mode))
            continue;
        int type = 0, acc = 0, p = 0;
        socklen_t l1 = sizeof(type), l2 = sizeof(acc);
        struct netlisten_addr a;
        if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &l1) < 0 || type != socktype ||
            netlisten_bound(fd, &a, &p) < 0 || p != port)
            continue;
        if (socktype == SOCK_STREAM &&
            (getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &acc, &l2) < 0 || !acc))
            continue;
        fds[n++] = fd;
    }
    closedir(d);
    return n;
}

void netlisten_format(const struct netlisten_addr *a, int port, char *out, size_t n)
{
    snprintf(out, n, a->family == AF_INET6 ? "[%s]:%d%s" : "%s:%d%s", a->text, port,
             a->dual ? " (IPv6 and IPv4)" : "");
}

static void append(char *buf, size_t n, const char *s)
{
    size_t used = strlen(buf);
    snprintf(buf + used, n - used, "%s%s", used ? ", " : "", s);
}

int netlisten_verify(const int *fds, int n, int port, const struct netlisten_addr *want, int nwant,
                      char *desc, size_t desclen, char *err, size_t errlen)
{
    bool found[NETLISTEN_MAX] = {false};
    char one[96];
    desc[0] = err[0] = '\0';
    int bad = 0;
    for (int i = 0; i < n; i++) {
        struct netlisten_addr got;
        int p = 0;
        if (netlisten_bound(fds[i], &got, &p) < 0) {
            snprintf(err, errlen, "cannot read the address of socket %d", fds[i]);
            return -1;
        }
        netlisten_format(&got, p, one, sizeof(one));
        append(desc, desclen, one);
        int match = -1;
        for (int j = 0; j < nwant && j < NETLISTEN_MAX; j++)
            if (same_addr(&got, &want[j]) && got.dual == want[j].dual)
                match = j;
        if (match < 0 || found[match]) {
            if (!bad++)
                snprintf(err, errlen, "bound %s, which was not asked", one);
            continue;
        }
        found[match] = true;
    }
    for (int j = 0; j < nwant && j < NETLISTEN_MAX && !bad; j++)
        if (!found[j]) {
            netlisten_format(&want[j], port, one, sizeof(one));
            snprintf(err, errlen, "%s is not bound", one);
            bad++;
        }
    return bad ? -1 : 0;
}
