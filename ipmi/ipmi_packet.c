#include "ipmi/ipmi_packet.h"

#include <string.h>

static uint16_t get16(const uint8_t *p)
{
    return (uint16_t)(p[0] | p[1] << 8);
}

static int parse_asf(const uint8_t *buf, size_t n, struct ipmi_pkt *out)
{
    /* IANA (big-endian, as ASF has it), type, tag, reserved, data length */
    if (n < 12)
        return -1;
    uint32_t iana = (uint32_t)buf[4] << 24 | (uint32_t)buf[5] << 16 | (uint32_t)buf[6] << 8 | buf[7];
    if (iana != IPMI_ASF_IANA || (size_t)buf[11] > n - 12)
        return -1;
    out->kind = IPMI_PKT_ASF;
    out->asf_type = buf[8];
    out->asf_tag = buf[9];
    return 0;
}

static int parse_v15(const uint8_t *buf, size_t n, struct ipmi_pkt *out)
{
    /* auth type, sequence, session id, [auth code], length, message. Only
     * session-less packets (auth type none) exist here: there are no IPMI
     * 1.5 sessions to carry an auth code for. */
    if (n < 14 || buf[4] != IPMI_AUTHTYPE_NONE || (size_t)buf[13] > n - 14)
        return -1;
    out->kind = IPMI_PKT_V15;
    out->auth_type = buf[4];
    out->seq = ipmi_get32(buf + 5);
    out->session_id = ipmi_get32(buf + 9);
    out->payload = buf + 14;
    out->payload_len = buf[13];
    return 0;
}

static int parse_v20(const uint8_t *buf, size_t n, struct ipmi_pkt *out)
{
    if (n < IPMI_V20_HEADER)
        return -1;
    uint8_t pt = buf[5];
    if ((pt & 0x3f) == IPMI_PAYLOAD_OEM)
        return -1;
    size_t len = get16(buf + 14);
    if (len > n - IPMI_V20_HEADER)
        return -1;
    out->kind = IPMI_PKT_V20;
    out->auth_type = IPMI_AUTHTYPE_RMCPP;
    out->payload_type = pt & 0x3f;
    out->encrypted = pt & IPMI_PAYLOAD_ENCRYPTED;
    out->authenticated = pt & IPMI_PAYLOAD_AUTHENTICATED;
    out->session_id = ipmi_get32(buf + 6);
    out->seq = ipmi_get32(buf + 10);
    out->payload = buf + IPMI_V20_HEADER;
    out->payload_len = len;
    out->trailer_len = n - IPMI_V20_HEADER - len;
    if (!out->authenticated && out->trailer_len != 0)
        return -1;
    if (out->authenticated && out->trailer_len < 2)
        return -1;
    return 0;
}

int ipmi_pkt_parse(const uint8_t *buf, size_t n, struct ipmi_pkt *out)
{
    memset(out, 0, sizeof(*out));
    /* RMCP: version, reserved, sequence, class (bit 7: an ACK, never answered) */
    if (!buf || n < 5 || n > IPMI_PKT_MAX || buf[0] != IPMI_RMCP_VERSION || (buf[3] & 0x80))
        return -1;
    if ((buf[3] & 0x1f) == IPMI_RMCP_CLASS_ASF)
        return parse_asf(buf, n, out);
    if ((buf[3] & 0x1f) != IPMI_RMCP_CLASS_IPMI)
        return -1;
    return buf[4] == IPMI_AUTHTYPE_RMCPP ? parse_v20(buf, n, out) : parse_v15(buf, n, out);
}

int ipmi_pkt_trailer(const uint8_t *buf, size_t n, const struct ipmi_pkt *p, size_t icv_len,
                     size_t *covered, const uint8_t **icv)
{
    if (p->kind != IPMI_PKT_V20 || !p->authenticated || p->trailer_len < icv_len + 2)
        return -1;
    size_t end = n - icv_len;             /* just past the next header byte */
    size_t pad = buf[end - 2];
    if (buf[end - 1] != IPMI_NEXT_HEADER || pad > 3 ||
        IPMI_V20_HEADER + p->payload_len + pad + 2 != end)
        return -1;
    *covered = end - 4;
    *icv = buf + end;
    return 0;
}

size_t ipmi_pkt_v20_wrap(uint8_t *out, size_t cap, uint8_t payload_type, uint32_t session_id,
                         uint32_t seq, size_t payload_len, size_t icv_len)
{
    size_t pad = icv_len ? (4 - (12 + payload_len + 2) % 4) % 4 : 0;
    size_t total = IPMI_V20_HEADER + payload_len + (icv_len ? pad + 2 + icv_len : 0);
    if (total > cap || payload_len > 0xffff)
        return 0;
    out[0] = IPMI_RMCP_VERSION;
    out[1] = 0;
    out[2] = 0xff;                        /* no RMCP ACK wanted */
    out[3] = IPMI_RMCP_CLASS_IPMI;
    out[4] = IPMI_AUTHTYPE_RMCPP;
    out[5] = payload_type;
    ipmi_put32(out + 6, session_id);
    ipmi_put32(out + 10, seq);
    out[14] = (uint8_t)payload_len;
    out[15] = (uint8_t)(payload_len >> 8);
    size_t at = IPMI_V20_HEADER + payload_len;
    if (!icv_len)
        return at;
    memset(out + at, 0xff, pad);
    at += pad;
    out[at++] = (uint8_t)pad;
    out[at++] = IPMI_NEXT_HEADER;
    return at;
}

size_t ipmi_pkt_v15_wrap(uint8_t *out, size_t cap, const uint8_t *msg, size_t msg_len)
{
    if (msg_len > 0xff || 14 + msg_len > cap)
        return 0;
    static const uint8_t head[14] = {IPMI_RMCP_VERSION, 0, 0xff, IPMI_RMCP_CLASS_IPMI, IPMI_AUTHTYPE_NONE};
    memcpy(out, head, sizeof(head));
    out[13] = (uint8_t)msg_len;
    memmove(out + 14, msg, msg_len);
    return 14 + msg_len;
}

size_t ipmi_pkt_pong(uint8_t *out, size_t cap, uint8_t tag)
{
    /* RMCP, ASF header, then 16 bytes: IANA, OEM-defined (0), supported
     * entities (bit 7: IPMI; 1: ASF 1.0), supported interactions, reserved. */
    static const uint8_t pong[28] = {
        IPMI_RMCP_VERSION, 0, 0xff, IPMI_RMCP_CLASS_ASF,
        0x00, 0x00, 0x11, 0xbe, IPMI_ASF_PONG, 0, 0, 16,
        0x00, 0x00, 0x11, 0xbe, 0, 0, 0, 0, 0x81, 0x00,
    };
    if (cap < sizeof(pong))
        return 0;
    memcpy(out, pong, sizeof(pong));
    out[9] = tag;
    return sizeof(pong);
}

uint8_t ipmi_checksum(const uint8_t *p, size_t n)
{
    uint8_t sum = 0;
    for (size_t i = 0; i < n; i++)
        sum = (uint8_t)(sum + p[i]);
    return (uint8_t)-sum;
}

int ipmi_msg_parse(const uint8_t *p, size_t n, struct ipmi_msg *out)
{
    /* rsAddr, netFn/rsLUN, checksum, rqAddr, rqSeq/rqLUN, cmd, data, checksum */
    if (n < 7 || ipmi_checksum(p, 3) != 0 || ipmi_checksum(p + 3, n - 3) != 0)
        return -1;
    out->rs_addr = p[0];
    out->netfn = p[1] >> 2;
    out->rs_lun = p[1] & 3;
    out->rq_addr = p[3];
    out->rq_seq = p[4] >> 2;
    out->rq_lun = p[4] & 3;
    out->cmd = p[5];
    out->data = p + 6;
    out->len = n - 7;
    return 0;
}

size_t ipmi_msg_response(const struct ipmi_msg *rq, const uint8_t *rsp, size_t rsp_len,
                         uint8_t *out, size_t cap)
{
    if (rsp_len < 1 || 7 + rsp_len > cap)
        return 0;
    out[0] = rq->rq_addr;
    out[1] = (uint8_t)((rq->netfn | 1) << 2 | rq->rq_lun);
    out[2] = ipmi_checksum(out, 2);
    out[3] = rq->rs_addr;
    out[4] = (uint8_t)(rq->rq_seq << 2 | rq->rs_lun);
    out[5] = rq->cmd;
    memmove(out + 6, rsp, rsp_len);
    out[6 + rsp_len] = ipmi_checksum(out + 3, 3 + rsp_len);
    return 7 + rsp_len;
}

/* One algorithm record of an Open Session Request: type, reserved (2),
 * length (8), algorithm, reserved (3). */
static int algorithm(const uint8_t *p, uint8_t type)
{
    if (p[0] != type || p[3] != 8)
        return -1;
    return p[4] & 0x3f;
}

int ipmi_parse_open_req(const uint8_t *p, size_t n, struct ipmi_open_req *out)
{
    if (n < 32)
        return -1;
    out->tag = p[0];
    out->max_priv = p[1] & 0x0f;
    out->console_id = ipmi_get32(p + 4);
    out->auth = algorithm(p + 8, 0);
    out->integ = algorithm(p + 16, 1);
    out->conf = algorithm(p + 24, 2);
    return 0;
}

int ipmi_parse_rakp1(const uint8_t *p, size_t n, struct ipmi_rakp1 *out)
{
    /* tag, reserved (3), BMC session id, Rm (16), role, reserved (2), name length, name */
    if (n < 28)
        return -1;
    memset(out, 0, sizeof(*out));
    out->tag = p[0];
    out->bmc_id = ipmi_get32(p + 4);
    memcpy(out->rm, p + 8, 16);
    out->role = p[24];
    out->ulen = p[27];
    if (out->ulen > IPMI_USER_MAX)
        return -2;
    if (out->ulen > n - 28)
        return -1;
    memcpy(out->user, p + 28, out->ulen);
    return 0;
}

int ipmi_parse_rakp3(const uint8_t *p, size_t n, struct ipmi_rakp3 *out)
{
    /* tag, status, reserved (2), BMC session id, auth code */
    if (n < 8)
        return -1;
    out->tag = p[0];
    out->status = p[1];
    out->bmc_id = ipmi_get32(p + 4);
    out->auth = p + 8;
    out->auth_len = n - 8;
    return 0;
}
