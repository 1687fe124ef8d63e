/* Unit tests for atx/wol: MAC parsing, the magic packet, and sending it to a
 * UDP socket on the loopback interface. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "atx/wol.h"

static void test_parse_mac(void **state)
{
    (void)state;
    uint8_t mac[6];
    assert_int_equal(atx_wol_parse_mac("00:11:22:aa:BB:ff", mac), 0);
    const uint8_t want[6] = {0x00, 0x11, 0x22, 0xaa, 0xbb, 0xff};
    assert_memory_equal(mac, want, 6);
    assert_int_equal(atx_wol_parse_mac("52-54-00-12-34-56", mac), 0);
    assert_int_equal(mac[5], 0x56);
    const char *bad[] = {"", "00:11:22:33:44", "00:11:22:33:44:55:66", "00:11:22:33:44:5g",
                         "00:11-22:33:44:55", "0011.2233.4455", "00:11:22:33:44:55 ", " 0:11:22:33:44:55",
                         "000:11:22:33:44:5", "00::11:22:33:44:5", "0x:11:22:33:44:55"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_int_equal(atx_wol_parse_mac(bad[i], mac), -1);
}

static void test_packet(void **state)
{
    (void)state;
    const uint8_t mac[6] = {1, 2, 3, 4, 5, 6};
    uint8_t p[ATX_WOL_PACKET_SIZE];
    memset(p, 0, sizeof(p));
    atx_wol_packet(mac, p);
    for (int i = 0; i < 6; i++)
        assert_int_equal(p[i], 0xff);
    for (int i = 0; i < 16; i++)
        assert_memory_equal(p + 6 + 6 * i, mac, 6);
}

/* A UDP socket on 127.0.0.1 with a kernel-chosen port. */
static int listener(int *port)
{
    int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    assert_true(fd >= 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
    socklen_t len = sizeof(a);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &len), 0);
    *port = ntohs(a.sin_port);
    return fd;
}

static void test_send_over_loopback(void **state)
{
    (void)state;
    int port;
    int fd = listener(&port);
    const uint8_t mac[6] = {0x52, 0x54, 0x00, 0x12, 0x34, 0x56};
    char err[128] = "";
    assert_int_equal(atx_wol_send(mac, "", "127.0.0.1", port, err, sizeof(err)), 0);
    /* through an interface (SO_BINDTODEVICE) as well */
    assert_int_equal(atx_wol_send(mac, "lo", "127.0.0.1", port, err, sizeof(err)), 0);
    for (int n = 0; n < 2; n++) {
        struct pollfd p = {.fd = fd, .events = POLLIN};
        assert_int_equal(poll(&p, 1, 2000), 1);
        uint8_t got[200];
        ssize_t len = recv(fd, got, sizeof(got), 0);
        assert_int_equal(len, ATX_WOL_PACKET_SIZE);
        uint8_t want[ATX_WOL_PACKET_SIZE];
        atx_wol_packet(mac, want);
        assert_memory_equal(got, want, ATX_WOL_PACKET_SIZE);
    }
    close(fd);
}

static void test_send_errors(void **state)
{
    (void)state;
    const uint8_t mac[6] = {0};
    char err[128] = "";
    assert_int_equal(atx_wol_send(mac, "", "not-an-address", 9, err, sizeof(err)), -EINVAL);
    assert_non_null(strstr(err, "not an IPv4 address"));
    int r = atx_wol_send(mac, "piglix-no-such0", "127.0.0.1", 9, err, sizeof(err));
    assert_true(r < 0);
    assert_non_null(strstr(err, "SO_BINDTODEVICE"));
    assert_non_null(strstr(err, "piglix-no-such0"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_mac),
        cmocka_unit_test(test_packet),
        cmocka_unit_test(test_send_over_loopback),
        cmocka_unit_test(test_send_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
