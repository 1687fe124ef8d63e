/* ipmi/ipmi_sol: Serial-over-LAN (IPMI 2.0 spec, ch. 15 and 26): the SOL
 * payload's wire format and the state of the one SOL instance a BMC core
 * has. Pure protocol on byte buffers and a clock: the console is reached
 * through struct ipmi_sol_port (serial/serial.h in the daemon, a buffer in
 * the unit tests), so retries, accumulation, ACKs and partial ACKs are
 * tested without sockets. Only the IPMI thread touches an instance.
 *
 * Direction names follow the spec: "outbound" is the server's serial
 * output going to the remote console, "inbound" the console's keys going
 * to the serial port. */
#ifndef PIGLIX_IPMI_SOL_H
#define PIGLIX_IPMI_SOL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define IPMI_PAYLOAD_SOL 0x01

#define IPMI_SOL_HEADER 4
#define IPMI_SOL_DATA_MAX 255      /* the accepted character count is one byte */
#define IPMI_SOL_PAYLOAD_MAX (IPMI_SOL_HEADER + IPMI_SOL_DATA_MAX)

/* Operation/status byte, BMC to console (table 15-2). */
#define IPMI_SOL_ST_NACK 0x40
#define IPMI_SOL_ST_UNAVAILABLE 0x20 /* character transfer unavailable */
#define IPMI_SOL_ST_DEACTIVATING 0x10
#define IPMI_SOL_ST_OVERRUN 0x08     /* characters were dropped before this packet */
#define IPMI_SOL_ST_BREAK 0x04       /* a break was detected */
/* Console to BMC (table 15-3). */
#define IPMI_SOL_OP_NACK 0x40
#define IPMI_SOL_OP_RING 0x20
#define IPMI_SOL_OP_BREAK 0x10
#define IPMI_SOL_OP_CTS_PAUSE 0x08   /* deassert CTS: hold the output */
#define IPMI_SOL_OP_DROP_DCD_DSR 0x04
#define IPMI_SOL_OP_FLUSH_INBOUND 0x02
#define IPMI_SOL_OP_FLUSH_OUTBOUND 0x01

struct ipmi_sol_pkt {
    uint8_t seq;                   /* 1-15; 0: carries no data (an ACK only) */
    uint8_t ack_seq;               /* the packet ACKed or NACKed; 0: none */
    uint8_t accepted;              /* characters accepted from that packet */
    uint8_t op;                    /* operation/status bits */
    const uint8_t *data;
    size_t len;
};

/* Splits one decrypted SOL payload. 0, or -1 when it is shorter than the
 * header, has more than IPMI_SOL_DATA_MAX characters, a sequence number
 * above 15, or characters in a packet whose sequence number is 0. */
int ipmi_sol_parse(const uint8_t *p, size_t n, struct ipmi_sol_pkt *out);
/* Writes the header and data; returns the length (0: cap too small or
 * len > IPMI_SOL_DATA_MAX). */
size_t ipmi_sol_build(uint8_t *out, size_t cap, uint8_t seq, uint8_t ack_seq, uint8_t accepted, uint8_t op,
                      const uint8_t *data, size_t len);

/* The console, as SOL sees it. Every call returns at once. */
struct ipmi_sol_port {
    void *ctx;
    /* New output since the last read, up to len bytes; *lost gets bytes
     * that were dropped before them (the reader fell behind). */
    size_t (*read)(void *ctx, uint8_t *buf, size_t len, uint64_t *lost);
    /* Bytes accepted (fewer when the transmit queue is full), -1 when the
     * console is not connected. */
    ssize_t (*write)(void *ctx, const uint8_t *buf, size_t len);
    int (*send_break)(void *ctx);
    bool (*connected)(void *ctx);
    /* Start reading from the recent backlog (activation) or the newest
     * byte (a flush of the outbound queue). */
    void (*seek)(void *ctx, bool backlog);
    unsigned baud;                 /* the console's bit rate, for the configuration parameters */
};

/* The SOL configuration parameters (26.7) that change at run time; all
 * but set_in_progress are kept across restarts in [state] dir/ipmi.sol
 * (ipmi_sol_state.c). */
struct ipmi_sol_config {
    bool enabled;
    uint8_t set_in_progress;
    uint8_t privilege;             /* to activate: Operator (3, default) or Administrator (4) */
    uint8_t accumulate_5ms;        /* character accumulate interval, 5 ms units, 1-255 */
    uint8_t threshold;             /* send threshold, 1-255 characters */
    uint8_t retry_count;           /* 0-7 */
    uint8_t retry_10ms;            /* retry interval, 10 ms units; 0: back to back */
};
void ipmi_sol_config_defaults(struct ipmi_sol_config *cfg);

struct ipmi_sol_stats {
    uint64_t out_bytes, in_bytes, retries, dropped_packets, lost_bytes, breaks, partial_acks;
};

struct ipmi_sol {
    bool active;
    uint32_t bmc_id;               /* the session it was activated in */
    struct ipmi_sol_config cfg;
    bool paused;                   /* the console deasserted CTS */
    /* outbound: the packet in flight, else what is being accumulated */
    uint8_t buf[IPMI_SOL_DATA_MAX];
    size_t len;
    bool in_flight;
    uint8_t out_seq;               /* of the packet in flight / the last sent */
    uint8_t tries;                 /* sends of the packet in flight */
    int64_t due_ms;                /* in flight: its retry; else: send the accumulated bytes */
    uint8_t pending_status;        /* overrun/break bits for the next packet */
    /* inbound: the last packet taken, to answer its retransmission alike */
    uint8_t in_seq, in_accepted, in_status;
    struct ipmi_sol_stats stats;
};

/* Starts an instance (the caller checked that none is active). */
void ipmi_sol_activate(struct ipmi_sol *s, const struct ipmi_sol_port *port, uint32_t bmc_id, int64_t now_ms);
void ipmi_sol_deactivate(struct ipmi_sol *s);

/* One SOL packet from the active instance's console. Writes the answer
 * (an ACK/NACK payload, or a retransmitted ACK) to out; returns its length,
 * 0 when none is due. */
size_t ipmi_sol_receive(struct ipmi_sol *s, const struct ipmi_sol_port *port, const struct ipmi_sol_pkt *in,
                        uint8_t *out, size_t cap, int64_t now_ms);

/* The next outbound payload that is due at now_ms (new characters once
 * accumulated, or a retry); 0 when none. Pulls from the port only while no
 * packet is in flight: a slow console leaves the output in the console's
 * ring buffer. */
size_t ipmi_sol_poll(struct ipmi_sol *s, const struct ipmi_sol_port *port, uint8_t *out, size_t cap,
                     int64_t now_ms);
/* When ipmi_sol_poll wants to run again; -1: only on new output. */
int64_t ipmi_sol_next_ms(const struct ipmi_sol *s);

#endif
