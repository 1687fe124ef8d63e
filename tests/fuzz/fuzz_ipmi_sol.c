/* libFuzzer target for the SOL payload a remote console controls: each
 * input is a series of decrypted SOL payloads (1-byte length, then the
 * bytes) fed to ipmi/ipmi_sol.c's parser and to one active instance, with
 * the clock and the console's output and transmit room driven by the
 * input too. Answers and outbound packets must parse and stay in bounds;
 * the instance never claims more characters than it was given. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ipmi/ipmi_sol.h"

static uint8_t pending;             /* output the fake console has */
static size_t room;
static uint64_t typed;

static size_t f_read(void *ctx, uint8_t *buf, size_t len, uint64_t *lost)
{
    (void)ctx;
    size_t n = pending < len ? pending : len;
    memset(buf, 'o', n);
    pending = (uint8_t)(pending - n);
    *lost = n == len ? 3 : 0;
    return n;
}

static ssize_t f_write(void *ctx, const uint8_t *buf, size_t len)
{
    (void)ctx;
    (void)buf;
    if (room == 7)
        return -1;                  /* "disconnected" */
    size_t n = len < room ? len : room;
    typed += n;
    return (ssize_t)n;
}

static int f_break(void *ctx)
{
    (void)ctx;
    return 0;
}

static bool f_connected(void *ctx)
{
    (void)ctx;
    return room != 7;
}

static void f_seek(void *ctx, bool backlog)
{
    (void)ctx;
    if (!backlog)
        pending = 0;
}

static const struct ipmi_sol_port port = {NULL, f_read, f_write, f_break, f_connected, f_seek, 9600};

static void check(const uint8_t *p, size_t n)
{
    struct ipmi_sol_pkt pkt;
    if (n && (n > IPMI_SOL_PAYLOAD_MAX || ipmi_sol_parse(p, n, &pkt) < 0))
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct ipmi_sol s;
    memset(&s, 0, sizeof(s));
    ipmi_sol_config_defaults(&s.cfg);
    pending = 0;
    room = 64;
    typed = 0;
    int64_t now = 0;
    ipmi_sol_activate(&s, &port, 1, now);
    uint64_t given = 0;
    uint8_t out[IPMI_SOL_PAYLOAD_MAX];
    while (size >= 2) {
        uint8_t ctl = data[0];
        size_t n = data[1];
        data += 2;
        size -= 2;
        if (n > size)
            n = size;
        now += ctl & 0x3f;
        if (ctl & 0x40)
            pending = (uint8_t)(pending + (ctl & 0x3f) * 4);
        if (ctl & 0x80)
            room = ctl & 0x0f;
        struct ipmi_sol_pkt in;
        if (ipmi_sol_parse(data, n, &in) == 0) {
            if (in.len > IPMI_SOL_DATA_MAX || in.data + in.len != data + n)
                abort();
            size_t r = ipmi_sol_receive(&s, &port, &in, out, sizeof(out), now);
            check(out, r);
            if (r && in.seq)
                given += in.len;
        }
        size_t r = ipmi_sol_poll(&s, &port, out, sizeof(out), now);
        check(out, r);
        if (s.len > IPMI_SOL_DATA_MAX)
            abort();
        data += n;
        size -= n;
    }
    /* retransmitted packets are counted twice in given, never typed twice */
    if (typed > given)
        abort();
    ipmi_sol_deactivate(&s);
    return 0;
}
