/* libFuzzer target for what an IPMI session's client controls once it is
 * logged in, which the packet fuzzer (no keys) never reaches: the request
 * data of every command (the SOL payload commands and configuration
 * parameters, Get/Reserve/Clear SEL, privileges, chassis) and the SOL
 * payloads of the instance's owner, through ipmi_cmd_handle and
 * ipmi_core_sol_receive. Each input is a series of records: 1 byte of
 * session and privilege, 1 byte of length, then netfn, cmd and data (netfn
 * 0xff: a SOL payload instead). Answers stay within their buffers; a
 * session below Operator does not keep the SOL instance past the role
 * check; Clear SEL never succeeds below Administrator. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "common/log.h"
#include "ipmi/ipmi_internal.h"
#include "ipmi/ipmi_sol.h"

static struct ipmi_core *core;
static size_t typed;

static size_t f_read(void *ctx, uint8_t *buf, size_t len, uint64_t *lost)
{
    (void)ctx;
    size_t n = len < 7 ? len : 7;
    memset(buf, 'o', n);
    *lost = 0;
    return n;
}

static ssize_t f_write(void *ctx, const uint8_t *buf, size_t len)
{
    (void)ctx;
    (void)buf;
    typed += len;
    return (ssize_t)len;
}

static int f_break(void *ctx)
{
    (void)ctx;
    return 0;
}

static bool f_connected(void *ctx)
{
    (void)ctx;
    return true;
}

static void f_seek(void *ctx, bool backlog)
{
    (void)ctx;
    (void)backlog;
}

static const struct ipmi_sol_port port = {NULL, f_read, f_write, f_break, f_connected, f_seek, 115200};

static void setup(void)
{
    log_set_level(LOG_LEVEL_ERROR);
    /* two accounts, so the role limit (read per command) leaves privileges be */
    char dir[] = "/tmp/piglix-fuzz-ipmi-cmd-XXXXXX";
    if (!mkdtemp(dir))
        abort();
    char path[300];
    snprintf(path, sizeof(path), "%s/web.users", dir);
    FILE *f = fopen(path, "w");
    if (!f)
        abort();
    fprintf(f, "u0:$y$x::0::admin\nu1:$y$x::0::admin\n");
    fclose(f);
    chmod(path, 0600);
    static const uint8_t guid[16] = {1, 2, 3, 4};
    core = ipmi_core_create(dir, 4, 60, NULL, NULL, guid);
    if (!core)
        abort();
    ipmi_core_set_sol(core, &port, 623);
}

static struct ipmi_session *session(int i, uint8_t priv)
{
    struct ipmi_session *s = &core->sessions[i];
    memset(s, 0, sizeof(*s));
    s->state = IPMI_S_ACTIVE;
    s->rakp.sid_c = 0x100u + (unsigned)i;
    s->rakp.role = IPMI_PRIV_ADMIN;
    s->priv = priv;
    s->suite = ipmi_suites(&(size_t){0});
    snprintf(s->user, sizeof(s->user), "u%d", i);
    return s;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!core)
        setup();
    ipmi_sol_deactivate(&core->sol);
    ipmi_sol_config_defaults(&core->sol.cfg);
    core->sol_bye = 0;
    uint8_t priv[2] = {IPMI_PRIV_ADMIN, IPMI_PRIV_USER};
    struct ipmi_session *s[2] = {session(0, priv[0]), session(1, priv[1])};
    int64_t now = 1000;
    while (size >= 4) {
        int who = data[0] & 1;
        if (s[who]->state != IPMI_S_ACTIVE) /* closed by the other one */
            s[who] = session(who, priv[who]);
        if (data[0] & 2) { /* a new privilege for that session (1-4) */
            priv[who] = (uint8_t)(1 + ((data[0] >> 2) & 3));
            s[who]->priv = priv[who];
        }
        size_t len = data[1];
        if (len > size - 2)
            len = size - 2;
        const uint8_t *rec = data + 2;
        data += 2 + len;
        size -= 2 + len;
        if (len < 2)
            continue;
        now += rec[0] & 0x3f;
        if (rec[0] == 0xff) {
            uint8_t ack[IPMI_SOL_HEADER + 1];
            memset(ack, 0xee, sizeof(ack));
            size_t n = ipmi_core_sol_receive(core, s[who], rec + 1, len - 1, ack, IPMI_SOL_HEADER, now);
            if (n > IPMI_SOL_HEADER || ack[IPMI_SOL_HEADER] != 0xee)
                abort();
            continue;
        }
        struct ipmi_msg rq = {.netfn = rec[0] & 0x3f, .cmd = rec[1], .data = rec + 2, .len = len - 2};
        uint8_t rsp[257];
        rsp[256] = 0xee;
        bool close_after = false;
        size_t n = ipmi_cmd_handle(core, s[who], &rq, rsp, 256, &close_after);
        if (n == 0 || n > 256 || rsp[256] != 0xee)
            abort();
        ipmi_core_sol_check_role(core); /* the IPMI thread's once-a-second check */
        struct ipmi_session *owner = ipmi_sol_owner(core);
        if (owner && owner->priv < IPMI_PRIV_OPERATOR)
            abort();
        if (rq.netfn == 0x0a && rq.cmd == 0x47 && rsp[0] == 0 && s[who]->priv < IPMI_PRIV_ADMIN)
            abort();
        if (close_after) /* the session closed itself: a fresh one */
            s[who] = session(who, priv[who]);
        uint8_t out[IPMI_PKT_MAX];
        struct sockaddr_storage peer;
        socklen_t plen;
        for (int k = 0; k < 4 && ipmi_core_sol_poll(core, now, out, sizeof(out), &peer, &plen); k++)
            ;
    }
    return 0;
}
