/* libFuzzer target for what an IPMI-over-LAN client controls: each input
 * is a series of datagrams (2-byte little-endian length, then the bytes),
 * parsed by ipmi/ipmi_packet.c and handed, in order, to one IPMI core (no
 * sockets; no accounts, so sessions get as far as RAKP 2; no ATX board or
 * sensors). Replies must stay within the buffer and well-formed. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>

#include "common/log.h"
#include "ipmi/ipmi_internal.h"
#include "ipmi/ipmi_packet.h"

static struct ipmi_core *core;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!core) {
        log_set_level(LOG_LEVEL_ERROR);
        static const uint8_t guid[16] = {1, 2, 3, 4};
        core = ipmi_core_create("/nonexistent-piglix-fuzz", 4, 60, NULL, NULL, guid);
        if (!core)
            abort();
    }
    struct sockaddr_in peer = {.sin_family = AF_INET, .sin_port = htons(40000)};
    uint8_t out[IPMI_PKT_MAX];
    int64_t now = 1000;
    while (size >= 2) {
        size_t n = (size_t)(data[0] | data[1] << 8);
        data += 2;
        size -= 2;
        if (n > size)
            n = size;
        /* the parser alone, on every input */
        struct ipmi_pkt p;
        if (ipmi_pkt_parse(data, n, &p) == 0 && p.kind != IPMI_PKT_ASF && p.payload_len) {
            struct ipmi_msg m;
            struct ipmi_open_req o;
            struct ipmi_rakp1 r1;
            struct ipmi_rakp3 r3;
            const uint8_t *icv;
            size_t covered;
            ipmi_msg_parse(p.payload, p.payload_len, &m);
            ipmi_parse_open_req(p.payload, p.payload_len, &o);
            if (ipmi_parse_rakp1(p.payload, p.payload_len, &r1) == 0 && strlen(r1.user) > r1.ulen)
                abort();
            ipmi_parse_rakp3(p.payload, p.payload_len, &r3);
            if (ipmi_pkt_trailer(data, n, &p, 12, &covered, &icv) == 0 && covered + 4 + 12 != n)
                abort();
        }
        size_t r = ipmi_core_handle(core, (struct sockaddr *)&peer, sizeof(peer), "fuzz", data, n, out,
                                    sizeof(out), now);
        if (r > sizeof(out) || (r && ipmi_pkt_parse(out, r, &p) < 0))
            abort(); /* every reply parses as what it is */
        now += 7000; /* sessions time out along the way */
        ipmi_core_expire(core, now);
        data += n;
        size -= n;
    }
    return 0;
}
