/* atx/wol: Wake-on-LAN: the magic packet (6 x 0xFF, then the MAC 16 times)
 * sent as a UDP broadcast, optionally out of one interface. */
#ifndef PIGLIX_ATX_WOL_H
#define PIGLIX_ATX_WOL_H

#include <stddef.h>
#include <stdint.h>

#define ATX_WOL_PACKET_SIZE 102

/* "aa:bb:cc:dd:ee:ff" or "aa-bb-cc-dd-ee-ff", hex digits in either case.
 * Returns 0, or -1 for anything else. */
int atx_wol_parse_mac(const char *text, uint8_t mac[6]);

/* Writes the magic packet for mac into out. */
void atx_wol_packet(const uint8_t mac[6], uint8_t out[ATX_WOL_PACKET_SIZE]);

/* Sends the packet to address:port (an IPv4 broadcast or unicast address)
 * with SO_BROADCAST, through interface when not empty (SO_BINDTODEVICE,
 * needs CAP_NET_RAW). Returns 0, or -errno with a message in err. */
int atx_wol_send(const uint8_t mac[6], const char *interface, const char *address, int port,
                 char *err, size_t err_size);

#endif
