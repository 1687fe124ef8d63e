/* web/web_listen: what listen settings mean, and the check of what real
 * sockets bound (the one that refuses libwebsockets' [::] for 127.0.0.1). */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <cmocka.h>

#include "common/netlisten.h"

/* A TCP socket listening on addr:0 (v6only for IPv6); returns fd, *port. */
static int listener(const char *addr, int v6only, int *port)
{
    struct sockaddr_storage ss;
    memset(&ss, 0, sizeof(ss));
    socklen_t len;
    int fam = strchr(addr, ':') ? AF_INET6 : AF_INET;
    if (fam == AF_INET6) {
        struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
        s6->sin6_family = AF_INET6;
        inet_pton(AF_INET6, addr, &s6->sin6_addr);
        len = sizeof(*s6);
    } else {
        struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
        s4->sin_family = AF_INET;
        inet_pton(AF_INET, addr, &s4->sin_addr);
        len = sizeof(*s4);
    }
    int fd = socket(fam, SOCK_STREAM, 0);
    assert_true(fd >= 0);
    if (fam == AF_INET6)
        setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &v6only, sizeof(v6only));
    assert_int_equal(bind(fd, (struct sockaddr *)&ss, len), 0);
    assert_int_equal(listen(fd, 1), 0);
    len = sizeof(ss);
    getsockname(fd, (struct sockaddr *)&ss, &len);
    *port = ntohs(fam == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port : ((struct sockaddr_in *)&ss)->sin_port);
    return fd;
}

static void test_resolve(void **state)
{
    (void)state;
    struct netlisten_addr a[NETLISTEN_MAX];
    char err[160];
    assert_int_equal(netlisten_resolve("127.0.0.1", a, NETLISTEN_MAX, err, sizeof(err)), 1);
    assert_int_equal(a[0].family, AF_INET);
    assert_false(a[0].any);
    assert_string_equal(a[0].text, "127.0.0.1");
    assert_int_equal(netlisten_resolve("::1", a, NETLISTEN_MAX, err, sizeof(err)), 1);
    assert_int_equal(a[0].family, AF_INET6);
    assert_false(a[0].dual);
    assert_int_equal(netlisten_resolve("0.0.0.0", a, NETLISTEN_MAX, err, sizeof(err)), 1);
    assert_true(a[0].any && a[0].family == AF_INET && !a[0].dual);
    assert_int_equal(netlisten_resolve("::", a, NETLISTEN_MAX, err, sizeof(err)), 1);
    assert_true(a[0].any && a[0].family == AF_INET6 && a[0].dual);
    assert_int_equal(netlisten_resolve("*", a, NETLISTEN_MAX, err, sizeof(err)), 1);
    assert_true(a[0].dual);
    assert_int_equal(netlisten_resolve("no such host.invalid", a, NETLISTEN_MAX, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "cannot resolve"));
    char out[96];
    netlisten_format(&a[0], 443, out, sizeof(out));
    assert_string_equal(out, "[::]:443 (IPv6 and IPv4)");
}

static void test_verify(void **state)
{
    (void)state;
    struct netlisten_addr lo4, lo6, any6;
    char err[160], desc[256];
    assert_int_equal(netlisten_resolve("127.0.0.1", &lo4, 1, err, sizeof(err)), 1);
    assert_int_equal(netlisten_resolve("::1", &lo6, 1, err, sizeof(err)), 1);
    assert_int_equal(netlisten_resolve("::", &any6, 1, err, sizeof(err)), 1);

    /* what libwebsockets 4.1 did for 127.0.0.1: [::], both families */
    int port, fd = listener("::", 0, &port);
    int found[4];
    assert_int_equal(netlisten_find(SOCK_STREAM, port, found, 4), 1);
    assert_int_equal(found[0], fd);
    assert_int_equal(netlisten_verify(&fd, 1, port, &lo4, 1, desc, sizeof(desc), err, sizeof(err)), -1);
    assert_non_null(strstr(err, "which was not asked"));
    assert_non_null(strstr(desc, "(IPv6 and IPv4)"));
    assert_int_equal(netlisten_verify(&fd, 1, port, &any6, 1, desc, sizeof(desc), err, sizeof(err)), 0);
    close(fd);

    /* [::] without IPv4 is not "::" */
    fd = listener("::", 1, &port);
    assert_int_equal(netlisten_verify(&fd, 1, port, &any6, 1, desc, sizeof(desc), err, sizeof(err)), -1);
    close(fd);

    /* exactly the two loopbacks; one missing is an error too */
    int fds[2];
    fds[0] = listener("127.0.0.1", 0, &port);
    struct netlisten_addr both[2] = {lo4, lo6};
    assert_int_equal(netlisten_verify(fds, 1, port, both, 2, desc, sizeof(desc), err, sizeof(err)), -1);
    assert_non_null(strstr(err, "is not bound"));
    assert_int_equal(netlisten_verify(fds, 1, port, &lo4, 1, desc, sizeof(desc), err, sizeof(err)), 0);
    char want[32];
    snprintf(want, sizeof(want), "127.0.0.1:%d", port);
    assert_string_equal(desc, want);
    close(fds[0]);
    /* nothing bound at all */
    assert_int_equal(netlisten_verify(fds, 0, port, &lo4, 1, desc, sizeof(desc), err, sizeof(err)), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_resolve),
        cmocka_unit_test(test_verify),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
