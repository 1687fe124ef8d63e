#include "atx/wol.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static int hex_digit(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

int atx_wol_parse_mac(const char *text, uint8_t mac[6])
{
    /* Exactly 17 characters: six pairs of hex digits, one kind of separator. */
    if (strlen(text) != 17)
        return -1;
    char sep = text[2];
    if (sep != ':' && sep != '-')
        return -1;
    for (int i = 0; i < 6; i++) {
        const char *p = text + 3 * i;
        int hi = hex_digit(p[0]), lo = hex_digit(p[1]);
        if (hi < 0 || lo < 0 || (i < 5 && p[2] != sep))
            return -1;
        mac[i] = (uint8_t)(hi << 4 | lo);
    }
    return 0;
}

void atx_wol_packet(const uint8_t mac[6], uint8_t out[ATX_WOL_PACKET_SIZE])
{
    memset(out, 0xff, 6);
    for (int i = 0; i < 16; i++)
        memcpy(out + 6 + 6 * i, mac, 6);
}

int atx_wol_send(const uint8_t mac[6], const char *interface, const char *address, int port,
                 char *err, size_t err_size)
{
    struct sockaddr_in to = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    if (inet_pton(AF_INET, address, &to.sin_addr) != 1) {
        snprintf(err, err_size, "'%s' is not an IPv4 address", address);
        return -EINVAL;
    }
    int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        int e = errno;
        snprintf(err, err_size, "socket: %s", strerror(e));
        return -e;
    }
    int one = 1, r = 0;
    const char *what = "";
    if (setsockopt(fd, SOL_SOCKET, SO_BROADCAST, &one, sizeof(one)) < 0) {
        what = "SO_BROADCAST";
        r = -errno;
    } else if (interface[0] &&
               setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, interface, (socklen_t)strlen(interface)) < 0) {
        what = "SO_BINDTODEVICE";
        r = -errno;
    } else {
        uint8_t packet[ATX_WOL_PACKET_SIZE];
        atx_wol_packet(mac, packet);
        ssize_t n = sendto(fd, packet, sizeof(packet), 0, (struct sockaddr *)&to, sizeof(to));
        if (n != (ssize_t)sizeof(packet)) {
            what = "sendto";
            r = n < 0 ? -errno : -EIO;
        }
    }
    if (r < 0)
        snprintf(err, err_size, "%s%s%s: %s", what, interface[0] ? " on " : "", interface, strerror(-r));
    close(fd);
    return r;
}
