/* Serial-over-LAN: the payload codec and the instance's state machine
 * (IPMI 2.0 spec 15.9-15.13). One packet of output is in flight at a time;
 * until the console ACKs it, further output waits in the console's ring
 * buffer (serial/serial.h), so a slow or vanished remote console costs
 * nothing but its own backlog. */
#include "ipmi/ipmi_sol.h"

#include <string.h>

#define RETRY_MIN_MS 5             /* "back to back" retries still leave the thread breathing */

int ipmi_sol_parse(const uint8_t *p, size_t n, struct ipmi_sol_pkt *out)
{
    if (!p || n < IPMI_SOL_HEADER || n - IPMI_SOL_HEADER > IPMI_SOL_DATA_MAX)
        return -1;
    out->seq = p[0];
    out->ack_seq = p[1];
    out->accepted = p[2];
    out->op = p[3];
    out->data = p + IPMI_SOL_HEADER;
    out->len = n - IPMI_SOL_HEADER;
    /* sequence numbers are 4 bits; characters need a number to be ACKed by */
    if (out->seq > 15 || out->ack_seq > 15 || (out->seq == 0 && out->len))
        return -1;
    return 0;
}

size_t ipmi_sol_build(uint8_t *out, size_t cap, uint8_t seq, uint8_t ack_seq, uint8_t accepted, uint8_t op,
                      const uint8_t *data, size_t len)
{
    if (len > IPMI_SOL_DATA_MAX || cap < IPMI_SOL_HEADER + len)
        return 0;
    out[0] = seq;
    out[1] = ack_seq;
    out[2] = accepted;
    out[3] = op;
    if (len)
        memcpy(out + IPMI_SOL_HEADER, data, len);
    return IPMI_SOL_HEADER + len;
}

void ipmi_sol_config_defaults(struct ipmi_sol_config *cfg)
{
    /* 25 ms of accumulation keeps typing interactive while a burst of
     * output still fills packets; 7 retries 500 ms apart ride out a lost
     * datagram or two (what ipmitool's and freeipmi's own timers expect). */
    *cfg = (struct ipmi_sol_config){
        .enabled = true, .privilege = 3 /* Operator */, .accumulate_5ms = 5, .threshold = 128, .retry_count = 7, .retry_10ms = 50,
    };
}

static int64_t retry_ms(const struct ipmi_sol *s)
{
    int64_t ms = (int64_t)s->cfg.retry_10ms * 10;
    return ms < RETRY_MIN_MS ? RETRY_MIN_MS : ms;
}

void ipmi_sol_activate(struct ipmi_sol *s, const struct ipmi_sol_port *port, uint32_t bmc_id, int64_t now_ms)
{
    struct ipmi_sol_config cfg = s->cfg;
    struct ipmi_sol_stats st = s->stats;
    memset(s, 0, sizeof(*s));
    s->cfg = cfg;
    s->stats = st;
    s->active = true;
    s->bmc_id = bmc_id;
    s->due_ms = now_ms;
    /* a console that connects sees the last screenful, as the web terminal does */
    port->seek(port->ctx, true);
}

void ipmi_sol_deactivate(struct ipmi_sol *s)
{
    s->active = false;
    s->in_flight = false;
    s->len = 0;
    s->bmc_id = 0;
}

static uint8_t next_seq(uint8_t seq)
{
    return (uint8_t)(seq % 15 + 1);
}

/* The console's ACK or NACK of the packet in flight. */
static void take_ack(struct ipmi_sol *s, const struct ipmi_sol_pkt *in, int64_t now_ms)
{
    size_t acc = in->accepted < s->len ? in->accepted : s->len;
    s->stats.out_bytes += acc;
    memmove(s->buf, s->buf + acc, s->len - acc);
    s->len -= acc;
    s->in_flight = false;
    s->pending_status = 0;
    s->due_ms = 0;                 /* new output starts a new accumulation */
    if (in->op & IPMI_SOL_OP_NACK) {
        /* the console cannot take more now: the rest goes after a pause */
        s->due_ms = now_ms + retry_ms(s);
    } else if (s->len) {
        /* a partial ACK: the rest goes at once in a new packet (15.10) */
        s->stats.partial_acks++;
        s->due_ms = now_ms;
    }
}

size_t ipmi_sol_receive(struct ipmi_sol *s, const struct ipmi_sol_port *port, const struct ipmi_sol_pkt *in,
                        uint8_t *out, size_t cap, int64_t now_ms)
{
    if (!s->active)
        return 0;
    if (in->ack_seq && s->in_flight && in->ack_seq == s->out_seq)
        take_ack(s, in, now_ms);
    s->paused = in->op & IPMI_SOL_OP_CTS_PAUSE;
    if (!in->seq)
        return 0;                  /* an ACK only: nothing to answer */
    if (in->seq == s->in_seq)      /* a retransmission: our ACK was lost; the characters were taken */
        return ipmi_sol_build(out, cap, 0, s->in_seq, s->in_accepted, s->in_status, NULL, 0);
    uint8_t status = 0, accepted = 0;
    if (in->op & IPMI_SOL_OP_BREAK) {
        s->stats.breaks++;
        if (port->send_break(port->ctx) < 0)
            status = IPMI_SOL_ST_NACK | IPMI_SOL_ST_UNAVAILABLE;
    }
    if (in->op & IPMI_SOL_OP_FLUSH_OUTBOUND) {
        port->seek(port->ctx, false);
        if (!s->in_flight)
            s->len = 0;
    }
    /* Flush inbound: piglix keeps no queue of its own (the console's
     * transmit queue belongs to serial/); DCD/DSR and ring have no line
     * to drive on a USB-serial adapter. */
    if (in->len) {
        ssize_t w = port->write(port->ctx, in->data, in->len);
        if (w < 0) {
            status = IPMI_SOL_ST_NACK | IPMI_SOL_ST_UNAVAILABLE;
        } else {
            /* fewer than sent: a partial ACK, and the console resends the rest */
            accepted = (uint8_t)((size_t)w < in->len ? (size_t)w : in->len);
            s->stats.in_bytes += accepted;
        }
    }
    s->in_seq = in->seq;
    s->in_accepted = accepted;
    s->in_status = status;
    return ipmi_sol_build(out, cap, 0, in->seq, accepted, status, NULL, 0);
}

size_t ipmi_sol_poll(struct ipmi_sol *s, const struct ipmi_sol_port *port, uint8_t *out, size_t cap,
                     int64_t now_ms)
{
    if (!s->active)
        return 0;
    if (s->in_flight) {
        if (now_ms < s->due_ms)
            return 0;
        if (s->tries <= s->cfg.retry_count) {
            s->tries++;
            s->stats.retries++;
            s->due_ms = now_ms + retry_ms(s);
            return ipmi_sol_build(out, cap, s->out_seq, 0, 0, s->pending_status, s->buf, s->len);
        }
        /* retries used up: the characters are lost, the next ones go on */
        s->stats.dropped_packets++;
        s->stats.lost_bytes += s->len;
        s->in_flight = false;
        s->len = 0;
        s->pending_status = IPMI_SOL_ST_OVERRUN;
    }
    if (s->paused)
        return 0;
    if (s->len < IPMI_SOL_DATA_MAX) {
        uint64_t lost = 0;
        size_t n = port->read(port->ctx, s->buf + s->len, IPMI_SOL_DATA_MAX - s->len, &lost);
        if (lost) {
            s->stats.lost_bytes += lost;
            s->pending_status |= IPMI_SOL_ST_OVERRUN;
        }
        if (n && s->len == 0 && now_ms >= s->due_ms)
            s->due_ms = now_ms + (int64_t)s->cfg.accumulate_5ms * 5;
        s->len += n;
    }
    if (s->len == 0 || (s->len < s->cfg.threshold && now_ms < s->due_ms))
        return 0;
    size_t r = ipmi_sol_build(out, cap, next_seq(s->out_seq), 0, 0, s->pending_status, s->buf, s->len);
    if (!r)
        return 0;
    s->out_seq = next_seq(s->out_seq);
    s->in_flight = true;
    s->tries = 1;
    s->due_ms = now_ms + retry_ms(s);
    return r;
}

int64_t ipmi_sol_next_ms(const struct ipmi_sol *s)
{
    if (!s->active)
        return -1;
    if (s->in_flight || (s->len && !s->paused))
        return s->due_ms;
    return -1;
}
