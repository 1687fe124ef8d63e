/* Where a URL download may connect, and how a URL is shown. A download is
 * made on a user's behalf from inside the appliance's network position: a
 * URL (or a redirect, or a DNS answer that changes between lookups) naming
 * the appliance itself, a link-local metadata service or a multicast group
 * would turn it into a probe of what only the appliance can reach. The
 * check runs on the address libcurl is about to connect to (download.c's
 * socket callback), after DNS and on every redirect. */
#include <arpa/inet.h>
#include <ifaddrs.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include "vmedia/vmedia_internal.h"

/* Every address as 16 bytes: IPv4 as ::ffff:a.b.c.d */
static bool addr16(const struct sockaddr *sa, uint8_t out[16])
{
    if (sa->sa_family == AF_INET) {
        static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
        memcpy(out, mapped, 12);
        memcpy(out + 12, &((const struct sockaddr_in *)sa)->sin_addr, 4);
        return true;
    }
    if (sa->sa_family == AF_INET6) {
        memcpy(out, &((const struct sockaddr_in6 *)sa)->sin6_addr, 16);
        return true;
    }
    return false;
}

static enum vmedia_addr_class classify_v4(const uint8_t a[4])
{
    if (a[0] == 0)
        return VMEDIA_ADDR_UNSPECIFIED; /* 0/8: "this host" (Linux connects 0.0.0.0 to itself) */
    if (a[0] == 127)
        return VMEDIA_ADDR_LOOPBACK;
    if (a[0] == 169 && a[1] == 254)
        return VMEDIA_ADDR_LINK_LOCAL;
    if (a[0] >= 224)
        return VMEDIA_ADDR_MULTICAST; /* 224/4 multicast, 240/4 reserved and broadcast */
    if (a[0] == 10 || (a[0] == 172 && (a[1] & 0xf0) == 16) || (a[0] == 192 && a[1] == 168) ||
        (a[0] == 100 && (a[1] & 0xc0) == 64))
        return VMEDIA_ADDR_PRIVATE;
    return VMEDIA_ADDR_PUBLIC;
}

static enum vmedia_addr_class classify16(const uint8_t a[16])
{
    static const uint8_t zero[12] = {0};
    static const uint8_t nat64[12] = {0, 0x64, 0xff, 0x9b, 0, 0, 0, 0, 0, 0, 0, 0};
    /* IPv4-mapped, IPv4-compatible and NAT64 forms reach the IPv4 address
     * inside: judge that one */
    if ((memcmp(a, zero, 10) == 0 && a[10] == 0xff && a[11] == 0xff) || memcmp(a, nat64, 12) == 0)
        return classify_v4(a + 12);
    if (memcmp(a, zero, 12) == 0) {
        if (a[12] == 0 && a[13] == 0 && a[14] == 0 && a[15] <= 1)
            return a[15] ? VMEDIA_ADDR_LOOPBACK : VMEDIA_ADDR_UNSPECIFIED;
        return classify_v4(a + 12);
    }
    if (a[0] == 0xfe && (a[1] & 0xc0) == 0x80)
        return VMEDIA_ADDR_LINK_LOCAL;
    if (a[0] == 0xff)
        return VMEDIA_ADDR_MULTICAST;
    if ((a[0] & 0xfe) == 0xfc || (a[0] == 0xfe && (a[1] & 0xc0) == 0xc0))
        return VMEDIA_ADDR_PRIVATE; /* unique local, and the old site-local */
    return VMEDIA_ADDR_PUBLIC;
}

enum vmedia_addr_class vmedia_addr_classify(const struct sockaddr *sa)
{
    uint8_t a[16];
    return addr16(sa, a) ? classify16(a) : VMEDIA_ADDR_UNSPECIFIED;
}

const char *vmedia_addr_class_name(enum vmedia_addr_class c)
{
    switch (c) {
    case VMEDIA_ADDR_PUBLIC: return "a public address";
    case VMEDIA_ADDR_PRIVATE: return "a private address";
    case VMEDIA_ADDR_LOOPBACK: return "a loopback address";
    case VMEDIA_ADDR_UNSPECIFIED: return "an unspecified address";
    case VMEDIA_ADDR_LINK_LOCAL: return "a link-local address";
    case VMEDIA_ADDR_MULTICAST: return "a multicast or broadcast address";
    case VMEDIA_ADDR_OWN: return "one of the appliance's own addresses";
    }
    return "an address";
}

int vmedia_url_policy_init(struct vmedia_url_policy *p, bool allow_private, const char *allow)
{
    memset(p, 0, sizeof(*p));
    p->allow_private = allow_private;
    for (const char *s = allow ? allow : ""; *s;) {
        size_t len = strcspn(s, ", ");
        if (len) {
            char one[INET6_ADDRSTRLEN];
            struct in_addr v4;
            if (len >= sizeof(one) || p->n_allow >= VMEDIA_URL_ALLOW_MAX)
                return -1;
            memcpy(one, s, len);
            one[len] = '\0';
            uint8_t *a = p->allow[p->n_allow];
            if (inet_pton(AF_INET, one, &v4) == 1) {
                struct sockaddr_in sin = {.sin_family = AF_INET, .sin_addr = v4};
                addr16((const struct sockaddr *)&sin, a);
            } else if (inet_pton(AF_INET6, one, a) != 1) {
                return -1;
            }
            p->n_allow++;
        }
        s += len;
        s += *s != '\0';
    }
    return 0;
}

static bool is_own(const uint8_t a[16])
{
    struct ifaddrs *list = NULL;
    if (getifaddrs(&list) != 0)
        return false;
    bool own = false;
    uint8_t b[16];
    for (struct ifaddrs *i = list; i && !own; i = i->ifa_next)
        own = i->ifa_addr && addr16(i->ifa_addr, b) && memcmp(a, b, 16) == 0;
    freeifaddrs(list);
    return own;
}

int vmedia_url_policy_check(const struct vmedia_url_policy *p, const struct sockaddr *sa, char *why, size_t n)
{
    uint8_t a[16];
    if (!addr16(sa, a)) {
        snprintf(why, n, "refused: not an IP address");
        return -1;
    }
    for (int i = 0; i < p->n_allow; i++)
        if (memcmp(a, p->allow[i], 16) == 0)
            return 0; /* listed in [vmedia] url_allow */
    enum vmedia_addr_class c = classify16(a);
    if (c == VMEDIA_ADDR_PUBLIC || c == VMEDIA_ADDR_PRIVATE)
        c = is_own(a) ? VMEDIA_ADDR_OWN : c;
    if (c == VMEDIA_ADDR_PUBLIC || (c == VMEDIA_ADDR_PRIVATE && p->allow_private))
        return 0;
    char text[INET6_ADDRSTRLEN] = "?";
    if (sa->sa_family == AF_INET)
        inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr, text, sizeof(text));
    else
        inet_ntop(AF_INET6, a, text, sizeof(text));
    snprintf(why, n, "refused to connect to %s: %s%s", text, vmedia_addr_class_name(c),
             c == VMEDIA_ADDR_PRIVATE ? " ([vmedia] url_private = no)" : "");
    return -1;
}

void vmedia_url_redact(const char *url, char *out, size_t n)
{
    if (!n)
        return;
    const char *scheme = strstr(url, "://");
    const char *auth = scheme ? scheme + 3 : url;
    size_t auth_len = strcspn(auth, "/?#");
    const char *at = NULL;
    for (size_t i = 0; i < auth_len; i++)
        if (auth[i] == '@')
            at = auth + i; /* the last '@' ends the user information */
    const char *rest = at ? at + 1 : auth;
    size_t path_len = strcspn(rest, "?#");
    /* user:password@ and the query (signed URLs carry tokens there) are
     * secrets; the fragment is never sent */
    snprintf(out, n, "%.*s%s%.*s%s", (int)(auth - url), url, at ? "***@" : "", (int)path_len, rest,
             rest[path_len] == '?' ? "?***" : "");
}
