/* ipmi/ipmi_sol and ipmi_cmd_sol: the SOL payload codec, the instance's
 * state machine (accumulation, send threshold, one packet in flight,
 * retries, ACK, partial ACK, NACK, retransmitted console packets, BREAK,
 * CTS pause, flushes, lost output) against an in-memory console, and the
 * payload commands in a core (one instance, privileges, take-over, the
 * configuration parameters, deactivation with the session). */
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <stdlib.h>
#include <stdio.h>
#include <cmocka.h>

#include "common/log.h"
#include "control/control.h"
#include "ipmi/ipmi_internal.h"
#include "ipmi/ipmi_sol.h"

/* ---- an in-memory console ---- */
struct fake {
    uint8_t out[4096];              /* what the server printed, not yet read */
    size_t out_len, out_pos;
    uint64_t lost;                  /* reported once by the next read */
    uint8_t typed[4096];
    size_t typed_len;
    size_t write_room;              /* bytes the next write takes */
    bool connected;
    int breaks, seeks_backlog, seeks_end;
};

static size_t f_read(void *ctx, uint8_t *buf, size_t len, uint64_t *lost)
{
    struct fake *f = ctx;
    size_t n = f->out_len - f->out_pos < len ? f->out_len - f->out_pos : len;
    memcpy(buf, f->out + f->out_pos, n);
    f->out_pos += n;
    *lost = f->lost;
    f->lost = 0;
    return n;
}

static ssize_t f_write(void *ctx, const uint8_t *buf, size_t len)
{
    struct fake *f = ctx;
    if (!f->connected)
        return -1;
    size_t n = len < f->write_room ? len : f->write_room;
    memcpy(f->typed + f->typed_len, buf, n);
    f->typed_len += n;
    return (ssize_t)n;
}

static int f_break(void *ctx)
{
    ((struct fake *)ctx)->breaks++;
    return 0;
}

static bool f_connected(void *ctx)
{
    return ((struct fake *)ctx)->connected;
}

static void f_seek(void *ctx, bool backlog)
{
    struct fake *f = ctx;
    if (backlog) {
        f->seeks_backlog++;
    } else {
        f->seeks_end++;
        f->out_pos = f->out_len;
    }
}

static struct fake fk;
static const struct ipmi_sol_port port = {&fk, f_read, f_write, f_break, f_connected, f_seek, 115200};

static void print(const char *s)
{
    memcpy(fk.out + fk.out_len, s, strlen(s));
    fk.out_len += strlen(s);
}

static void start(struct ipmi_sol *s)
{
    memset(&fk, 0, sizeof(fk));
    fk.connected = true;
    fk.write_room = sizeof(fk.typed);
    memset(s, 0, sizeof(*s));
    ipmi_sol_config_defaults(&s->cfg);
    ipmi_sol_activate(s, &port, 0x1234, 0);
}

/* The console's packet through the receive path; returns the answer's length. */
static size_t console(struct ipmi_sol *s, uint8_t seq, uint8_t ack, uint8_t accepted, uint8_t op, const char *data,
                      uint8_t *ans, int64_t now)
{
    uint8_t buf[IPMI_SOL_PAYLOAD_MAX];
    size_t n = ipmi_sol_build(buf, sizeof(buf), seq, ack, accepted, op, (const uint8_t *)data,
                              data ? strlen(data) : 0);
    struct ipmi_sol_pkt in;
    assert_int_equal(ipmi_sol_parse(buf, n, &in), 0);
    return ipmi_sol_receive(s, &port, &in, ans, IPMI_SOL_PAYLOAD_MAX, now);
}

static void test_codec(void **state)
{
    (void)state;
    uint8_t b[IPMI_SOL_PAYLOAD_MAX + 8];
    struct ipmi_sol_pkt p;
    size_t n = ipmi_sol_build(b, sizeof(b), 3, 2, 1, IPMI_SOL_OP_BREAK, (const uint8_t *)"hi", 2);
    assert_int_equal(n, 6);
    assert_int_equal(ipmi_sol_parse(b, n, &p), 0);
    assert_int_equal(p.seq, 3);
    assert_int_equal(p.ack_seq, 2);
    assert_int_equal(p.accepted, 1);
    assert_int_equal(p.op, IPMI_SOL_OP_BREAK);
    assert_int_equal(p.len, 2);
    assert_memory_equal(p.data, "hi", 2);
    assert_int_equal(ipmi_sol_parse(b, 3, &p), -1);                  /* short */
    b[0] = 16;
    assert_int_equal(ipmi_sol_parse(b, n, &p), -1);                  /* 4-bit numbers */
    b[0] = 0;
    assert_int_equal(ipmi_sol_parse(b, n, &p), -1);                  /* characters need a number */
    assert_int_equal(ipmi_sol_parse(b, 4, &p), 0);                   /* an ACK only */
    memset(b, 0, sizeof(b));
    b[0] = 1;
    assert_int_equal(ipmi_sol_parse(b, IPMI_SOL_PAYLOAD_MAX, &p), 0);
    assert_int_equal(ipmi_sol_parse(b, IPMI_SOL_PAYLOAD_MAX + 1, &p), -1);
    assert_int_equal(ipmi_sol_build(b, 5, 1, 0, 0, 0, (const uint8_t *)"ab", 2), 0);
}

static void test_accumulate_and_threshold(void **state)
{
    (void)state;
    struct ipmi_sol s;
    uint8_t out[IPMI_SOL_PAYLOAD_MAX];
    start(&s);
    assert_int_equal(fk.seeks_backlog, 1);
    assert_int_equal(ipmi_sol_poll(&s, &port, out, sizeof(out), 0), 0);
    assert_int_equal(ipmi_sol_next_ms(&s), -1);
    print("login: ");
    /* below the send threshold: held for the accumulate interval (25 ms) */
    assert_int_equal(ipmi_sol_poll(&s, &port, out, sizeof(out), 100), 0);
    assert_int_equal(ipmi_sol_next_ms(&s), 125);
    assert_int_equal(ipmi_sol_poll(&s, &port, out, sizeof(out), 124), 0);
    size_t n = ipmi_sol_poll(&s, &port, out, sizeof(out), 125);
    assert_int_equal(n, 4 + 7);
    assert_int_equal(out[0], 1);
    assert_memory_equal(out + 4, "login: ", 7);
    /* past the threshold: at once, while one packet is in flight nothing more */
    uint8_t ans[IPMI_SOL_PAYLOAD_MAX];
    for (int i = 0; i < 20; i++)
        print("0123456789");
    assert_int_equal(ipmi_sol_poll(&s, &port, out, sizeof(out), 126), 0);
    assert_int_equal(console(&s, 0, 1, 7, 0, NULL, ans, 127), 0);
    n = ipmi_sol_poll(&s, &port, out, sizeof(out), 127);
    assert_int_equal(n, 4 + 200);
    assert_int_equal(out[0], 2);
    assert_int_equal(s.stats.out_bytes, 7);
}

static void test_retries_and_drop(void **state)
{
    (void)state;
    struct ipmi_sol s;
    uint8_t out[IPMI_SOL_PAYLOAD_MAX];
    start(&s);
    s.cfg.retry_count = 2;
    s.cfg.retry_10ms = 10;
    print("abc");
    ipmi_sol_poll(&s, &port, out, sizeof(out), 0);
    assert_int_equal(ipmi_sol_poll(&s, &port, out, sizeof(out), 25), 7);
    assert_int_equal(ipmi_sol_next_ms(&s), 125);
    assert_int_equal(ipmi_sol_poll(&s, &port, out, sizeof(out), 124), 0);
    /* the same packet again, twice */
    assert_int_equal(ipmi_sol_poll(&s, &port, out, sizeof(out), 125), 7);
    assert_int_equal(out[0], 1);
    assert_memory_equal(out + 4, "abc", 3);
    assert_int_equal(ipmi_sol_poll(&s, &port, out, sizeof(out), 225), 7);
    assert_int_equal(out[0], 1);
    assert_int_equal(s.stats.retries, 2);
    /* then it is given up; the next packet says characters were dropped */
    print("d");
    assert_int_equal(ipmi_sol_poll(&s, &port, out, sizeof(out), 325), 0);
    assert_int_equal(s.stats.dropped_packets, 1);
    assert_int_equal(s.stats.lost_bytes, 3);
    size_t n = ipmi_sol_poll(&s, &port, out, sizeof(out), 350);
    assert_int_equal(n, 5);
    assert_int_equal(out[0], 2);
    assert_true(out[3] & IPMI_SOL_ST_OVERRUN);
}

static void test_partial_ack_and_nack(void **state)
{
    (void)state;
    struct ipmi_sol s;
    uint8_t out[IPMI_SOL_PAYLOAD_MAX], ans[IPMI_SOL_PAYLOAD_MAX];
    start(&s);
    print("0123456789");
    ipmi_sol_poll(&s, &port, out, sizeof(out), 0);
    assert_int_equal(ipmi_sol_poll(&s, &port, out, sizeof(out), 25), 14);
    /* an ACK for another packet changes nothing */
    console(&s, 0, 9, 10, 0, NULL, ans, 26);
    assert_true(s.in_flight);
    /* 4 accepted: the other 6 go at once, in a new packet */
    console(&s, 0, 1, 4, 0, NULL, ans, 27);
    assert_int_equal(ipmi_sol_next_ms(&s), 27);
    size_t n = ipmi_sol_poll(&s, &port, out, sizeof(out), 27);
    assert_int_equal(n, 10);
    assert_int_equal(out[0], 2);
    assert_memory_equal(out + 4, "456789", 6);
    assert_int_equal(s.stats.partial_acks, 1);
    /* a NACK: the console cannot take them now; they go after the retry interval */
    console(&s, 0, 2, 0, IPMI_SOL_OP_NACK, NULL, ans, 30);
    assert_int_equal(ipmi_sol_poll(&s, &port, out, sizeof(out), 31), 0);
    n = ipmi_sol_poll(&s, &port, out, sizeof(out), 530);
    assert_int_equal(n, 10);
    assert_int_equal(out[0], 3);
    console(&s, 0, 3, 6, 0, NULL, ans, 531);
    assert_int_equal(s.stats.out_bytes, 10);
    assert_int_equal(ipmi_sol_next_ms(&s), -1);
}

static void test_inbound(void **state)
{
    (void)state;
    struct ipmi_sol s;
    uint8_t ans[IPMI_SOL_PAYLOAD_MAX];
    start(&s);
    /* typed characters reach the console and are ACKed with their count */
    size_t n = console(&s, 1, 0, 0, 0, "root\r", ans, 0);
    assert_int_equal(n, 4);
    assert_int_equal(ans[0], 0);
    assert_int_equal(ans[1], 1);
    assert_int_equal(ans[2], 5);
    assert_int_equal(ans[3], 0);
    assert_int_equal(fk.typed_len, 5);
    /* the same packet again (our ACK was lost): the same ACK, not typed twice */
    n = console(&s, 1, 0, 0, 0, "root\r", ans, 1);
    assert_int_equal(n, 4);
    assert_int_equal(ans[2], 5);
    assert_int_equal(fk.typed_len, 5);
    /* a full transmit queue takes 2: a partial ACK, which the console answers with the rest */
    fk.write_room = 2;
    n = console(&s, 2, 0, 0, 0, "abcd", ans, 2);
    assert_int_equal(ans[1], 2);
    assert_int_equal(ans[2], 2);
    assert_int_equal(ans[3] & IPMI_SOL_ST_NACK, 0);
    fk.write_room = 100;
    console(&s, 3, 0, 0, 0, "cd", ans, 3);
    assert_int_equal(ans[2], 2);
    assert_memory_equal(fk.typed, "root\rabcd", 9);
    /* no console: NACK, transfer unavailable */
    fk.connected = false;
    console(&s, 4, 0, 0, 0, "x", ans, 4);
    assert_int_equal(ans[2], 0);
    assert_int_equal(ans[3], IPMI_SOL_ST_NACK | IPMI_SOL_ST_UNAVAILABLE);
    fk.connected = true;
    /* BREAK, once even when the packet comes twice */
    console(&s, 5, 0, 0, IPMI_SOL_OP_BREAK, NULL, ans, 5);
    console(&s, 5, 0, 0, IPMI_SOL_OP_BREAK, NULL, ans, 6);
    assert_int_equal(fk.breaks, 1);
    /* a console keep-alive (no characters) is ACKed too */
    assert_int_equal(console(&s, 6, 0, 0, 0, NULL, ans, 7), 4);
    assert_int_equal(ans[1], 6);
    assert_int_equal(s.stats.in_bytes, 9);
}

static void test_pause_flush_lost(void **state)
{
    (void)state;
    struct ipmi_sol s;
    uint8_t out[IPMI_SOL_PAYLOAD_MAX], ans[IPMI_SOL_PAYLOAD_MAX];
    start(&s);
    console(&s, 1, 0, 0, IPMI_SOL_OP_CTS_PAUSE, NULL, ans, 0);
    print("held");
    assert_int_equal(ipmi_sol_poll(&s, &port, out, sizeof(out), 100), 0);
    assert_int_equal(fk.out_pos, 0);            /* left in the console's ring */
    console(&s, 2, 0, 0, 0, NULL, ans, 101);
    ipmi_sol_poll(&s, &port, out, sizeof(out), 101);
    assert_int_equal(ipmi_sol_poll(&s, &port, out, sizeof(out), 126), 8);
    console(&s, 0, 1, 4, 0, NULL, ans, 127);
    /* flush outbound: what was not sent yet is dropped */
    print("junk");
    ipmi_sol_poll(&s, &port, out, sizeof(out), 130);
    print("more");
    console(&s, 3, 0, 0, IPMI_SOL_OP_FLUSH_OUTBOUND, NULL, ans, 131);
    assert_int_equal(fk.seeks_end, 1);
    assert_int_equal(ipmi_sol_poll(&s, &port, out, sizeof(out), 200), 0);
    /* output the reader missed: the next packet says so */
    print("x");
    fk.lost = 1000;
    ipmi_sol_poll(&s, &port, out, sizeof(out), 300);
    assert_int_equal(ipmi_sol_poll(&s, &port, out, sizeof(out), 325), 5);
    assert_true(out[3] & IPMI_SOL_ST_OVERRUN);
    assert_int_equal(s.stats.lost_bytes, 1000);
    ipmi_sol_deactivate(&s);
    assert_int_equal(ipmi_sol_poll(&s, &port, out, sizeof(out), 400), 0);
    assert_int_equal(console(&s, 4, 0, 0, 0, "x", ans, 400), 0);
}

/* ---- the commands, in a core with hand-made sessions ---- */
static struct ipmi_session *fake_session(struct ipmi_core *c, int i, uint32_t id, uint8_t priv)
{
    struct ipmi_session *s = &c->sessions[i];
    memset(s, 0, sizeof(*s));
    s->state = IPMI_S_ACTIVE;
    s->rakp.sid_c = id;
    s->priv = priv;
    s->suite = ipmi_suites(&(size_t){0});
    snprintf(s->user, sizeof(s->user), "u%d", i);
    snprintf(s->peer_name, sizeof(s->peer_name), "p%d", i);
    return s;
}

static size_t command(struct ipmi_core *c, struct ipmi_session *s, uint8_t netfn, uint8_t cmd,
                      const uint8_t *data, size_t n, uint8_t *rsp)
{
    struct ipmi_msg rq = {.netfn = netfn, .cmd = cmd, .data = data, .len = n};
    bool close_after;
    return ipmi_cmd_handle(c, s, &rq, rsp, 256, &close_after);
}

static void test_commands(void **state)
{
    (void)state;
    static const uint8_t guid[16];
    /* the sessions' accounts and roles (the privilege limit is the role's) */
    char dir[] = "/tmp/piglix-sol-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char path[300];
    snprintf(path, sizeof(path), "%s/web.users", dir);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fprintf(f, "u0:$y$x::0::operator\nu1:$y$x::0::viewer\nu2:$y$x::0::admin\n");
    fclose(f);
    chmod(path, 0600);
    struct ipmi_core *c = ipmi_core_create(dir, 4, 60, NULL, NULL, guid);
    assert_non_null(c);
    uint8_t r[256];
    struct ipmi_session *op = fake_session(c, 0, 0x100, IPMI_PRIV_OPERATOR);
    struct ipmi_session *user = fake_session(c, 1, 0x200, IPMI_PRIV_USER);
    struct ipmi_session *admin = fake_session(c, 2, 0x300, IPMI_PRIV_ADMIN);
    const uint8_t act[6] = {IPMI_PAYLOAD_SOL, 1, 0xc0, 0, 0, 0};
    const uint8_t sol_type[2] = {IPMI_PAYLOAD_SOL, 1};
    const uint8_t support[1] = {0x0e};

    /* no console wired: SOL is not offered */
    assert_int_equal(command(c, op, 0x06, 0x4e, support, 1, r), 9);
    assert_int_equal(r[1], 0x01);
    assert_int_equal(command(c, op, 0x06, 0x48, act, 6, r), 1);
    assert_int_equal(r[0], 0x81);

    memset(&fk, 0, sizeof(fk));
    fk.connected = true;
    ipmi_core_set_sol(c, &port, 623);
    assert_int_equal(command(c, op, 0x06, 0x4e, support, 1, r), 9);
    assert_int_equal(r[1], 0x03);
    const uint8_t ver[2] = {0x0e, IPMI_PAYLOAD_SOL};
    assert_int_equal(command(c, op, 0x06, 0x4f, ver, 2, r), 2);
    assert_int_equal(r[1], 0x10);

    /* User is not enough; unencrypted is refused; Operator activates */
    assert_int_equal(command(c, user, 0x06, 0x48, act, 6, r), 1);
    assert_int_equal(r[0], 0xd4);
    const uint8_t plain[6] = {IPMI_PAYLOAD_SOL, 1, 0x40, 0, 0, 0};
    assert_int_equal(command(c, op, 0x06, 0x48, plain, 6, r), 1);
    assert_int_equal(r[0], 0x84);
    assert_int_equal(command(c, op, 0x06, 0x48, act, 6, r), 13);
    assert_int_equal(r[0], 0);
    assert_int_equal(r[5] | r[6] << 8, IPMI_SOL_PAYLOAD_MAX);
    assert_int_equal(r[9] | r[10] << 8, 623);
    assert_int_equal(fk.seeks_backlog, 1);
    /* one at a time */
    assert_int_equal(command(c, admin, 0x06, 0x48, act, 6, r), 1);
    assert_int_equal(r[0], 0x80);
    assert_int_equal(command(c, user, 0x06, 0x4a, sol_type, 1, r), 4);
    assert_int_equal(r[1], 1);
    assert_int_equal(r[2], 1);
    assert_int_equal(command(c, user, 0x06, 0x4b, sol_type, 2, r), 13);
    assert_int_equal(ipmi_get32(r + 1), 0x100);

    /* the configuration parameters ipmitool's "sol info" reads */
    uint8_t get[4] = {0x0e, 0, 0, 0};
    static const uint8_t want_len[9] = {3, 3, 3, 4, 4, 3, 3, 3, 4};
    for (uint8_t p = 0; p < 9; p++) {
        get[1] = p;
        assert_int_equal(command(c, user, 0x0c, 0x22, get, 4, r), want_len[p]);
        assert_int_equal(r[0], 0);
        assert_int_equal(r[1], 0x11);
    }
    get[1] = 1;
    command(c, user, 0x0c, 0x22, get, 4, r);
    assert_int_equal(r[2], 1);                  /* enabled */
    get[1] = 2;
    command(c, user, 0x0c, 0x22, get, 4, r);
    assert_int_equal(r[2], 0xc3);               /* forced encryption and authentication, Operator */
    get[1] = 5;
    command(c, user, 0x0c, 0x22, get, 4, r);
    assert_int_equal(r[2], 0x0a);               /* 115200 */
    get[1] = 8;
    command(c, user, 0x0c, 0x22, get, 4, r);
    assert_int_equal(r[2] | r[3] << 8, 623);
    get[1] = 9;
    command(c, user, 0x0c, 0x22, get, 4, r);
    assert_int_equal(r[0], 0x80);
    const uint8_t set_acc[4] = {0x0e, 3, 2, 64};
    assert_int_equal(command(c, op, 0x0c, 0x21, set_acc, 4, r), 1);
    assert_int_equal(r[0], 0xd4);               /* setting takes Administrator */
    assert_int_equal(command(c, admin, 0x0c, 0x21, set_acc, 4, r), 1);
    assert_int_equal(r[0], 0);
    assert_int_equal(c->sol.cfg.accumulate_5ms, 2);
    assert_int_equal(c->sol.cfg.threshold, 64);
    const uint8_t in_progress[3] = {0x0e, 0, 1}, commit[3] = {0x0e, 0, 2}, bad[3] = {0x0e, 0, 3};
    command(c, admin, 0x0c, 0x21, in_progress, 3, r);
    assert_int_equal(c->sol.cfg.set_in_progress, 1);
    command(c, admin, 0x0c, 0x21, commit, 3, r);
    assert_int_equal(r[0], 0);
    assert_int_equal(c->sol.cfg.set_in_progress, 0);
    command(c, admin, 0x0c, 0x21, bad, 3, r);
    assert_int_equal(r[0], 0xcc);
    const uint8_t set_rate[3] = {0x0e, 6, 0x06};
    command(c, admin, 0x0c, 0x21, set_rate, 3, r);
    assert_int_equal(r[0], 0x82);               /* read-only */

    /* an Administrator takes it over; the owner is told */
    assert_int_equal(command(c, admin, 0x06, 0x49, act, 6, r), 1);
    assert_int_equal(r[0], 0);
    assert_false(c->sol.active);
    assert_int_equal(ipmi_core_next_ms(c), 0);
    assert_int_equal(command(c, admin, 0x06, 0x49, act, 6, r), 1);
    assert_int_equal(r[0], 0x80);               /* already deactivated */
    /* the instance ends with its session */
    assert_int_equal(command(c, admin, 0x06, 0x48, act, 6, r), 13);
    assert_true(c->sol.active);
    ipmi_session_end(c, admin, "closed");
    assert_false(c->sol.active);
    assert_int_equal(command(c, op, 0x06, 0x48, act, 6, r), 13);

    /* parameter 2: encryption and authentication stay forced, the
     * privilege only rises (Administrator), never below Operator */
    const uint8_t no_enc[3] = {0x0e, 2, 0x44}, user_priv[3] = {0x0e, 2, 0xc2}, admin_priv[3] = {0x0e, 2, 0xc4};
    admin = fake_session(c, 2, 0x300, IPMI_PRIV_ADMIN);    /* its session ended above */
    command(c, admin, 0x0c, 0x21, no_enc, 3, r);
    assert_int_equal(r[0], 0xcc);
    command(c, admin, 0x0c, 0x21, user_priv, 3, r);
    assert_int_equal(r[0], 0xcc);
    command(c, admin, 0x0c, 0x21, admin_priv, 3, r);
    assert_int_equal(r[0], 0);
    const uint8_t set_retry[4] = {0x0e, 4, 3, 20};
    command(c, admin, 0x0c, 0x21, set_retry, 4, r);
    assert_int_equal(r[0], 0);
    ipmi_core_destroy(c);

    /* what an Administrator set survives a restart ([state] dir/ipmi.sol) */
    c = ipmi_core_create(dir, 4, 60, NULL, NULL, guid);
    assert_non_null(c);
    ipmi_core_set_sol(c, &port, 623);
    assert_int_equal(c->sol.cfg.accumulate_5ms, 2);
    assert_int_equal(c->sol.cfg.threshold, 64);
    assert_int_equal(c->sol.cfg.retry_count, 3);
    assert_int_equal(c->sol.cfg.retry_10ms, 20);
    assert_int_equal(c->sol.cfg.privilege, IPMI_PRIV_ADMIN);
    assert_true(c->sol.cfg.enabled);
    op = fake_session(c, 0, 0x100, IPMI_PRIV_OPERATOR);
    user = fake_session(c, 1, 0x200, IPMI_PRIV_USER);
    admin = fake_session(c, 2, 0x300, IPMI_PRIV_ADMIN);
    get[1] = 2;
    command(c, user, 0x0c, 0x22, get, 4, r);
    assert_int_equal(r[2], 0xc4);
    assert_int_equal(command(c, op, 0x06, 0x48, act, 6, r), 1);
    assert_int_equal(r[0], 0xd4);               /* Operator is no longer enough */
    assert_int_equal(command(c, admin, 0x06, 0x48, act, 6, r), 13);
    ipmi_core_destroy(c);
    unlink(path);
    snprintf(path, sizeof(path), "%s/ipmi.sol", dir);
    unlink(path);
    rmdir(dir);
}

/* The attacker's pass (security_doors): SOL's characters are typing on the
 * server; they obey [control] mode = exclusive like every other input, and
 * a role lowered while SOL is active ends it. */
static void write_users(const char *path, const char *op_role, time_t mtime)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fprintf(f, "u0:$y$x::0::%s\nu1:$y$x::0::operator\n", op_role);
    fclose(f);
    chmod(path, 0600);
    struct timespec ts[2] = {{mtime, 0}, {mtime, 0}};
    assert_int_equal(utimensat(AT_FDCWD, path, ts, 0), 0);   /* a change the reload sees */
}

static size_t sol_in(struct ipmi_core *c, struct ipmi_session *s, uint8_t seq, uint8_t op, const char *text,
                     uint8_t *ans)
{
    uint8_t pkt[IPMI_SOL_PAYLOAD_MAX];
    size_t n = ipmi_sol_build(pkt, sizeof(pkt), seq, 0, 0, op, (const uint8_t *)text, text ? strlen(text) : 0);
    return ipmi_core_sol_receive(c, s, pkt, n, ans, IPMI_SOL_HEADER, 1000);
}

static void test_sol_gate(void **state)
{
    (void)state;
    static const uint8_t guid[16];
    char dir[] = "/tmp/piglix-solgate-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char path[300];
    snprintf(path, sizeof(path), "%s/web.users", dir);
    write_users(path, "operator", 1000000);
    struct ipmi_core *c = ipmi_core_create(dir, 4, 60, NULL, NULL, guid);
    assert_non_null(c);
    memset(&fk, 0, sizeof(fk));
    fk.connected = true;
    fk.write_room = sizeof(fk.typed);
    ipmi_core_set_sol(c, &port, 623);
    struct config_control cc = {.mode = "exclusive", .idle_release_s = 0};
    struct control *ctl = control_create(&cc);
    assert_non_null(ctl);
    ipmi_core_set_control(c, ctl);
    struct ipmi_session *op = fake_session(c, 0, 0x100, IPMI_PRIV_OPERATOR);
    struct ipmi_session *other = fake_session(c, 1, 0x200, IPMI_PRIV_OPERATOR);
    op->rakp.role = other->rakp.role = IPMI_PRIV_OPERATOR;
    ipmi_session_listed(c, op);
    ipmi_session_listed(c, other);
    assert_true(op->ctl_id && other->ctl_id);
    uint8_t r[256], ans[IPMI_SOL_HEADER];
    const uint8_t act[6] = {IPMI_PAYLOAD_SOL, 1, 0xc0, 0, 0, 0};
    /* SOL before any activation: not heard */
    assert_int_equal(sol_in(c, op, 1, 0, "x", ans), 0);
    assert_int_equal(fk.typed_len, 0);
    assert_int_equal(command(c, op, 0x06, 0x48, act, 6, r), 13);

    /* another session's packets are not heard */
    assert_int_equal(sol_in(c, other, 1, 0, "x", ans), 0);
    assert_int_equal(fk.typed_len, 0);
    /* the keyboard is free: SOL types (and holds it) */
    assert_int_equal(sol_in(c, op, 1, 0, "ab", ans), IPMI_SOL_HEADER);
    assert_int_equal(ans[2], 2);
    assert_int_equal(fk.typed_len, 2);
    /* someone else holds it: taken (ACKed in full) and dropped, BREAK too */
    assert_int_equal(control_release(ctl, op->ctl_id), 0);
    assert_int_equal(control_request(ctl, other->ctl_id), 0);
    assert_int_equal(sol_in(c, op, 2, IPMI_SOL_OP_BREAK, "rm -rf /\r", ans), IPMI_SOL_HEADER);
    assert_int_equal(ans[1], 2);
    assert_int_equal(ans[2], 9);
    assert_int_equal(fk.typed_len, 2);
    assert_int_equal(fk.breaks, 0);
    assert_int_equal(sol_in(c, op, 2, 0, "rm -rf /\r", ans), IPMI_SOL_HEADER);  /* resent: still not */
    assert_int_equal(fk.typed_len, 2);
    /* handed back: SOL types again */
    assert_int_equal(control_give(ctl, other->ctl_id, op->ctl_id), 0);
    assert_int_equal(sol_in(c, op, 3, 0, "c", ans), IPMI_SOL_HEADER);
    assert_int_equal(fk.typed_len, 3);
    assert_memory_equal(fk.typed, "abc", 3);

    /* the account becomes a viewer while SOL is active: the next packet
     * ends the instance, types nothing, and the console is told */
    write_users(path, "viewer", 2000000);
    assert_int_equal(sol_in(c, op, 4, 0, "d", ans), 0);
    assert_int_equal(fk.typed_len, 3);
    assert_false(c->sol.active);
    assert_int_equal(c->sol_bye, 0x100);
    assert_int_equal(command(c, op, 0x06, 0x48, act, 6, r), 1);
    assert_int_equal(r[0], 0xd4);
    /* the once-a-second check ends an owner that only reads */
    write_users(path, "operator", 3000000);
    c->sol_bye = 0;
    op->priv = IPMI_PRIV_OPERATOR;
    assert_int_equal(command(c, op, 0x06, 0x48, act, 6, r), 13);
    write_users(path, "viewer", 4000000);
    ipmi_core_sol_check_role(c);
    assert_false(c->sol.active);

    ipmi_core_destroy(c);
    control_destroy(ctl);
    unlink(path);
    rmdir(dir);
}

int main(void)
{
    log_set_level(LOG_LEVEL_ERROR);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_codec),
        cmocka_unit_test(test_accumulate_and_threshold),
        cmocka_unit_test(test_retries_and_drop),
        cmocka_unit_test(test_partial_ack_and_nack),
        cmocka_unit_test(test_inbound),
        cmocka_unit_test(test_pause_flush_lost),
        cmocka_unit_test(test_commands),
        cmocka_unit_test(test_sol_gate),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
