/* common/netlisten: what a `listen =` setting means, and a check of what
 * the sockets really bound. A setting is "::" or "*" (every IPv6 and IPv4
 * address), "0.0.0.0" (every IPv4 one), an address, or a host name (each
 * address it resolves to). The check reads the sockets themselves with
 * getsockname (and IPV6_V6ONLY), so a library that binds more than it was
 * asked (libwebsockets 4.1 binds [::] for an IPv4 literal on an IPv6
 * vhost) is caught: the caller refuses to start. */
#ifndef PIGLIX_COMMON_NETLISTEN_H
#define PIGLIX_COMMON_NETLISTEN_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

#define NETLISTEN_MAX 4

/* One address to listen on. */
struct netlisten_addr {
    int family;                 /* AF_INET or AF_INET6 */
    unsigned char addr[16];     /* 4 or 16 bytes, network order */
    bool any;                   /* the wildcard of its family */
    bool dual;                  /* the IPv6 wildcard, serving IPv4 too */
    char text[64];              /* numeric, without brackets ("::1", "127.0.0.1") */
};

/* Resolves a listen setting; returns how many addresses (1..max), or -1
 * with a reason in err. */
int netlisten_resolve(const char *listen, struct netlisten_addr *out, int max, char *err, size_t errlen);

/* What socket fd is bound to, as a netlisten_addr (and its port); 0 or -1. */
int netlisten_bound(int fd, struct netlisten_addr *got, int *port);

/* The listening (SOCK_STREAM) or bound (SOCK_DGRAM) sockets of this process
 * on port: up to max fds; returns how many. */
int netlisten_find(int socktype, int port, int *fds, int max);

/* Checks that the sockets fds[n] bind exactly want[nwant]: every wanted
 * address by one socket, nothing else, IPv4 through an IPv6 socket only
 * when wanted. desc gets what is bound ("127.0.0.1:443, [::1]:443");
 * 0, or -1 with the difference in err. */
int netlisten_verify(const int *fds, int n, int port, const struct netlisten_addr *want, int nwant,
                      char *desc, size_t desclen, char *err, size_t errlen);

/* "127.0.0.1:443", "[::1]:443", "[::]:443 (IPv6 and IPv4)". */
void netlisten_format(const struct netlisten_addr *a, int port, char *out, size_t n);

#endif
