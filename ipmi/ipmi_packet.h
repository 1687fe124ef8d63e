/* ipmi/ipmi_packet: the wire formats of IPMI over LAN (IPMI 2.0 spec, ch. 13):
 * RMCP, the ASF presence ping, IPMI 1.5 and 2.0 (RMCP+) session headers and
 * the integrity trailer, the RMCP+ session-setup payloads, and IPMI LAN
 * messages with their checksums. Pure functions on byte buffers that never
 * trust a length they are given: this is what tests/fuzz/fuzz_ipmi_packet.c feeds. */
#ifndef PIGLIX_WEB_IPMI_PACKET_H
#define PIGLIX_WEB_IPMI_PACKET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define IPMI_PKT_MAX 1024          /* the largest datagram read or written */

#define IPMI_RMCP_VERSION 0x06
#define IPMI_RMCP_CLASS_ASF 0x06
#define IPMI_RMCP_CLASS_IPMI 0x07
#define IPMI_ASF_IANA 4542u        /* the ASF's enterprise number */
#define IPMI_ASF_PING 0x80
#define IPMI_ASF_PONG 0x40

#define IPMI_AUTHTYPE_NONE 0x00
#define IPMI_AUTHTYPE_RMCPP 0x06

/* RMCP+ payload types (bits 5:0 of the payload type byte). */
#define IPMI_PAYLOAD_IPMI 0x00
#define IPMI_PAYLOAD_OEM 0x02
#define IPMI_PAYLOAD_OPEN_REQ 0x10
#define IPMI_PAYLOAD_OPEN_RSP 0x11
#define IPMI_PAYLOAD_RAKP1 0x12
#define IPMI_PAYLOAD_RAKP2 0x13
#define IPMI_PAYLOAD_RAKP3 0x14
#define IPMI_PAYLOAD_RAKP4 0x15
#define IPMI_PAYLOAD_ENCRYPTED 0x80
#define IPMI_PAYLOAD_AUTHENTICATED 0x40

#define IPMI_V20_HEADER 16         /* RMCP (4) + RMCP+ session header (12) */
#define IPMI_NEXT_HEADER 0x07

enum ipmi_pkt_kind { IPMI_PKT_ASF, IPMI_PKT_V15, IPMI_PKT_V20 };

struct ipmi_pkt {
    enum ipmi_pkt_kind kind;
    uint8_t asf_type, asf_tag;     /* ASF */
    uint8_t auth_type;             /* V15 and V20 */
    uint8_t payload_type;          /* V20: bits 5:0 */
    bool encrypted, authenticated; /* V20 */
    uint32_t session_id, seq;      /* little-endian on the wire */
    const uint8_t *payload;        /* V15: the IPMI message */
    size_t payload_len;
    size_t trailer_len;            /* V20 authenticated: bytes after the payload */
};

/* Splits one datagram. 0, or -1 for anything malformed (dropped silently:
 * RMCP has no error reply). OEM payloads and IPMI 1.5 auth codes other than
 * none are refused here. */
int ipmi_pkt_parse(const uint8_t *buf, size_t n, struct ipmi_pkt *out);

/* The integrity trailer of an authenticated V20 packet whose auth code has
 * icv_len bytes: checks pad, pad length and next header. Gives how many
 * bytes from buf + 4 (the auth type byte) the code covers and where the code
 * is. 0 or -1. */
int ipmi_pkt_trailer(const uint8_t *buf, size_t n, const struct ipmi_pkt *p, size_t icv_len,
                     size_t *covered, const uint8_t **icv);

/* Writes an RMCP + RMCP+ header for a payload of payload_len bytes already
 * at out + IPMI_V20_HEADER, then (icv_len > 0: authenticated) the integrity
 * pad, pad length and next header. Returns the length so far (the auth code
 * goes there, over out + 4 .. that length), 0 when cap is too small. */
size_t ipmi_pkt_v20_wrap(uint8_t *out, size_t cap, uint8_t payload_type, uint32_t session_id,
                         uint32_t seq, size_t payload_len, size_t icv_len);
/* An IPMI 1.5 session-less packet around msg. 0 when cap is too small. */
size_t ipmi_pkt_v15_wrap(uint8_t *out, size_t cap, const uint8_t *msg, size_t msg_len);
/* The ASF presence pong for a ping's tag. */
size_t ipmi_pkt_pong(uint8_t *out, size_t cap, uint8_t tag);

/* An IPMI LAN request: addresses, netFn/LUN, sequence, command, data. */
struct ipmi_msg {
    uint8_t rs_addr, netfn, rs_lun, rq_addr, rq_seq, rq_lun, cmd;
    const uint8_t *data;
    size_t len;
};
/* 0, or -1 when short or a checksum is wrong. */
int ipmi_msg_parse(const uint8_t *p, size_t n, struct ipmi_msg *out);
/* The response to rq carrying rsp (completion code first). 0 when cap is too small. */
size_t ipmi_msg_response(const struct ipmi_msg *rq, const uint8_t *rsp, size_t rsp_len,
                         uint8_t *out, size_t cap);
uint8_t ipmi_checksum(const uint8_t *p, size_t n);

/* RMCP+ Open Session Request (13.17). */
struct ipmi_open_req {
    uint8_t tag, max_priv;
    uint32_t console_id;
    int auth, integ, conf;         /* algorithm numbers; -1: not proposed */
};
int ipmi_parse_open_req(const uint8_t *p, size_t n, struct ipmi_open_req *out);

/* RAKP Message 1 (13.20). */
#define IPMI_USER_MAX 16
struct ipmi_rakp1 {
    uint8_t tag;
    uint32_t bmc_id;
    uint8_t rm[16];
    uint8_t role;                  /* the whole byte: it enters the HMACs */
    uint8_t ulen;
    char user[IPMI_USER_MAX + 1];
};
/* 0, -1 when malformed, -2 when the name is longer than IPMI_USER_MAX. */
int ipmi_parse_rakp1(const uint8_t *p, size_t n, struct ipmi_rakp1 *out);

/* RAKP Message 3 (13.22). */
struct ipmi_rakp3 {
    uint8_t tag, status;
    uint32_t bmc_id;
    const uint8_t *auth;
    size_t auth_len;
};
int ipmi_parse_rakp3(const uint8_t *p, size_t n, struct ipmi_rakp3 *out);

static inline uint32_t ipmi_get32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static inline void ipmi_put32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)(v >> 16);
    p[3] = (uint8_t)(v >> 24);
}

#endif
