/* ipmi/ipmi_*: the RMCP+ cryptography against values ipmitool 1.8.19 printed
 * (-vvvv) while logging in to piglix with password "ipmipass12" as
 * "admin" (cipher suites 3 and 17: its RAKP 2 input, its own RAKP 2/3
 * codes, SIK, K1, K2, our RAKP 4 code it accepted, and a whole packet it
 * sent), the replay window, linear sensor conversion and SDR records, the
 * IPMI password file, and the pre-session answers of the core. */
#include <math.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "common/log.h"
#include "ipmi/ipmi_crypto.h"
#include "ipmi/ipmi_internal.h"
#include "ipmi/ipmi_packet.h"
#include "ipmi/ipmi_sdr.h"
#include "ipmi/ipmi.h"

static size_t unhex(const char *s, uint8_t *out)
{
    size_t n = 0;
    for (; s[0] && s[1]; s += 2) {
        unsigned v;
        sscanf(s, "%2x", &v);
        out[n++] = (uint8_t)v;
    }
    return n;
}

struct vector {
    unsigned suite;
    const char *rakp2_input;        /* SIDm SIDc Rm Rc GUIDc ROLEm ULENGTHm UNAMEm */
    const char *rakp2, *rakp3, *sik, *k1, *k2, *rakp4;
    const char *packet, *packet_code; /* from the auth type on, and its code */
};

static const struct vector vectors[] = {
    {3,
     "a4a3a2a03231b2ec1a77b566be0143b4173ef916585f85467744122647a531fba3f449b17373098b"
     "744e555a674145a580156513d1aabec1140561646d696e",
     "71dae4d15538f5df22bc3a79dab1ba54e7ab5876", "033f1567f31f24eb4c03746de775e62915f93e29",
     "302edd7506bdbff9d8aed7273cfae221115eff78", "6ea19686582642f8294fcab32d19db41379377ce",
     "e91ddb34799917c362d6844025dcb658e895f331", "0a48229e037cc53029050df9",
     "06c03231b2ec0300000020003ca7f642f25ce2a6658d6ecf9faa3fa9db62970cca891c161f997bb79207433affff0207",
     "e8580a6316d3695c2a1a58ed"},
    {17,
     "a4a3a2a0d554ce822b31778a72092c10c54beb981faf65b8ccf83eafbded89fc0ee31f12b3880407"
     "744e555a674145a580156513d1aabec1140561646d696e",
     "0164da0efb71b5c270edb6e104f331bea3a09db17776fcffb3210c628f3df743",
     "547da676fce12d8d9d22766e127bd28e3392ff9ae76cbee834882217c3484e3a",
     "9890de82695ac6e69134711fd5f980bd339d1d32680ad60690e63d52a5202685",
     "f30f465b93e5fdc7124306a6da719dc3fbd0844c9a604b4dd1ed417e0c1e0af3",
     "367cc54b42b17af8b285912052a40360721c05938476e76baf13c555f8d3f85a",
     "df2e4584f745908e821ac8d8ee18be92",
     "06c0d554ce820300000020002a13595fc15a4fa75e91ff54ac3e55d07f432462e76a0fc80125b92eb03a0dfcffff0207",
     "6073680b3b775f46149dca8f384092b2"},
};

static void check_bytes(const uint8_t *got, const char *want_hex)
{
    uint8_t want[64];
    size_t n = unhex(want_hex, want);
    assert_memory_equal(got, want, n);
}

static void test_crypto_vectors(void **state)
{
    (void)state;
    for (size_t v = 0; v < sizeof(vectors) / sizeof(vectors[0]); v++) {
        const struct vector *t = &vectors[v];
        const struct ipmi_suite *s = t->suite == 3
                                         ? ipmi_suite_find(IPMI_AUTH_RAKP_HMAC_SHA1, IPMI_INTEG_HMAC_SHA1_96, 1)
                                         : ipmi_suite_find(IPMI_AUTH_RAKP_HMAC_SHA256, IPMI_INTEG_HMAC_SHA256_128, 1);
        assert_non_null(s);
        assert_int_equal(s->id, t->suite);
        uint8_t in[80], kuid[IPMI_KUID_LEN], out[IPMI_KEY_MAX];
        size_t n = unhex(t->rakp2_input, in);
        struct ipmi_rakp r = {.sid_m = ipmi_get32(in), .sid_c = ipmi_get32(in + 4), .role = in[56], .ulen = in[57]};
        memcpy(r.rm, in + 8, 16);
        memcpy(r.rc, in + 24, 16);
        memcpy(r.guid_c, in + 40, 16);
        memcpy(r.user, in + 58, n - 58);
        assert_int_equal(r.sid_m, 0xa0a2a3a4);
        ipmi_kuid("ipmipass12", 10, kuid);
        assert_int_equal(ipmi_rakp2_code(s, kuid, &r, out), 0);
        check_bytes(out, t->rakp2);
        assert_int_equal(ipmi_rakp3_code(s, kuid, &r, out), 0);
        check_bytes(out, t->rakp3);
        struct ipmi_keys k;
        assert_int_equal(ipmi_session_keys(s, kuid, &r, &k), 0);
        check_bytes(k.sik, t->sik);
        check_bytes(k.k1, t->k1);
        check_bytes(k.k2, t->k2);
        assert_int_equal(ipmi_rakp4_code(s, &k, &r, out), 0);
        check_bytes(out, t->rakp4);
        assert_int_equal(strlen(t->rakp4) / 2, s->icv_len);

        /* ipmitool's first packet in the session: Set Session Privilege
         * Level (Administrator), encrypted and authenticated */
        uint8_t pkt[128] = {0x06, 0x00, 0xff, 0x07};
        size_t len = 4 + unhex(t->packet, pkt + 4);
        len += unhex(t->packet_code, pkt + len);
        struct ipmi_pkt p;
        size_t covered;
        const uint8_t *icv;
        assert_int_equal(ipmi_pkt_parse(pkt, len, &p), 0);
        assert_true(p.encrypted && p.authenticated);
        assert_int_equal(p.session_id, r.sid_c);
        assert_int_equal(ipmi_pkt_trailer(pkt, len, &p, s->icv_len, &covered, &icv), 0);
        assert_true(ipmi_packet_code_ok(s, &k, pkt + 4, covered, icv));
        uint8_t plain[128];
        int m = ipmi_decrypt(&k, p.payload, p.payload_len, plain, sizeof(plain));
        struct ipmi_msg msg;
        assert_true(m > 0);
        assert_int_equal(ipmi_msg_parse(plain, (size_t)m, &msg), 0);
        assert_int_equal(msg.netfn, 0x06);
        assert_int_equal(msg.cmd, 0x3b);
        assert_int_equal(msg.len, 1);
        assert_int_equal(msg.data[0], 0x04);
        pkt[20] ^= 1; /* one bit of the ciphertext */
        assert_false(ipmi_packet_code_ok(s, &k, pkt + 4, covered, icv));
    }
    assert_null(ipmi_suite_find(0, 0, 0));  /* cipher suite 0 */
    assert_null(ipmi_suite_find(1, 0, 0));  /* suite 1: no integrity */
    assert_null(ipmi_suite_find(1, 1, 0));  /* suite 2: no encryption */
}

static void test_encrypt_roundtrip(void **state)
{
    (void)state;
    struct ipmi_keys k;
    memset(&k, 0x5a, sizeof(k));
    uint8_t in[64], enc[128], dec[128];
    for (size_t n = 0; n < 48; n++) {
        for (size_t i = 0; i < n; i++)
            in[i] = (uint8_t)(i * 7 + n);
        size_t e = ipmi_encrypt(&k, in, n, enc, sizeof(enc));
        assert_int_equal(e % 16, 0);
        assert_true(e >= 16 + n + 1 && e <= 16 + n + 16);
        assert_int_equal(ipmi_decrypt(&k, enc, e, dec, sizeof(dec)), (int)n);
        assert_memory_equal(dec, in, n);
    }
    /* a wrong key gives garbage padding: refused (1 - 1/16^k false passes aside,
     * this fixed case is checked to fail) */
    size_t e = ipmi_encrypt(&k, in, 10, enc, sizeof(enc));
    k.k2[0] ^= 0xff;
    assert_int_equal(ipmi_decrypt(&k, enc, e, dec, sizeof(dec)) == 10, 0);
    assert_int_equal(ipmi_decrypt(&k, enc, 20, dec, sizeof(dec)), -1); /* not whole blocks */
    assert_int_equal(ipmi_encrypt(&k, in, 10, enc, 20), 0);            /* no room */
}

static void test_replay_window(void **state)
{
    (void)state;
    struct ipmi_session s;
    memset(&s, 0, sizeof(s));
    assert_false(ipmi_seq_accept(&s, 0));
    assert_true(ipmi_seq_accept(&s, 3));
    assert_false(ipmi_seq_accept(&s, 3));   /* the same packet again */
    assert_true(ipmi_seq_accept(&s, 5));
    assert_true(ipmi_seq_accept(&s, 4));    /* late, but inside the window */
    assert_false(ipmi_seq_accept(&s, 4));
    assert_true(ipmi_seq_accept(&s, 40));
    assert_false(ipmi_seq_accept(&s, 8));   /* 32 behind */
    assert_true(ipmi_seq_accept(&s, 9));
    assert_false(ipmi_seq_accept(&s, 9));
    assert_false(ipmi_seq_accept(&s, 40 + 5000)); /* too far ahead */
    assert_true(ipmi_seq_accept(&s, 41));
}

static void test_linear(void **state)
{
    (void)state;
    struct ipmi_linear l;
    /* 0..24 V: steps of 0.1 V; 12.0 and 3.3 exact */
    assert_int_equal(ipmi_linear_choose(0, 24, &l), 0);
    assert_int_equal(l.m, 1);
    assert_int_equal(l.rexp, -1);
    assert_int_equal(l.b, 0);
    assert_int_equal(ipmi_linear_raw(&l, 12.0), 120);
    assert_true(fabs(ipmi_linear_value(&l, 120) - 12.0) < 1e-9);
    /* fans to 2550 RPM: steps of 10 */
    assert_int_equal(ipmi_linear_choose(0, 2550, &l), 0);
    assert_true(fabs(ipmi_linear_value(&l, ipmi_linear_raw(&l, 1230)) - 1230) < 1e-9);
    /* temperatures -30..127.5: a negative offset, steps of 1 */
    assert_int_equal(ipmi_linear_choose(-30, 127.5, &l), 0);
    assert_true(ipmi_linear_value(&l, 0) <= -30);
    assert_true(ipmi_linear_value(&l, 255) >= 127.5);
    assert_true(fabs(ipmi_linear_value(&l, ipmi_linear_raw(&l, -12)) - -12) < 1e-9);
    assert_true(l.m >= -512 && l.m <= 511 && l.b >= -512 && l.b <= 511);
    /* a range far from zero still fits the 10-bit offset */
    assert_int_equal(ipmi_linear_choose(-5000, 20000, &l), 0);
    assert_true(ipmi_linear_value(&l, 0) <= -5000 && ipmi_linear_value(&l, 255) >= 20000);
    assert_true(l.b >= -512 && l.b <= 511 && l.bexp >= -8 && l.bexp <= 7);
    /* readings outside the range clamp */
    assert_int_equal(ipmi_linear_choose(0, 24, &l), 0);
    assert_int_equal(ipmi_linear_raw(&l, 99), 255);
    assert_int_equal(ipmi_linear_raw(&l, -5), 0);
    assert_int_equal(ipmi_linear_raw(&l, NAN), 0);
}

static struct sensor_reading reading(const char *id, const char *name, enum sensor_kind k, double v,
                                     double lc, double lw, double uw, double uc)
{
    struct sensor_reading r;
    memset(&r, 0, sizeof(r));
    snprintf(r.id, sizeof(r.id), "%s", id);
    snprintf(r.name, sizeof(r.name), "%s", name);
    r.kind = k;
    r.value = v;
    r.lower_critical = lc;
    r.lower_warning = lw;
    r.upper_warning = uw;
    r.upper_critical = uc;
    return r;
}

/* The value a client computes from a record's factors and a raw byte. */
static double decode(const uint8_t *rec, uint8_t raw)
{
    int m = rec[24] | (rec[25] >> 6) << 8, b = rec[26] | (rec[27] >> 6) << 8;
    int rexp = rec[29] >> 4, bexp = rec[29] & 0xf;
    m = m >= 512 ? m - 1024 : m;
    b = b >= 512 ? b - 1024 : b;
    rexp = rexp >= 8 ? rexp - 16 : rexp;
    bexp = bexp >= 8 ? bexp - 16 : bexp;
    return (m * raw + b * pow(10, bexp)) * pow(10, rexp);
}

static void test_sdr(void **state)
{
    (void)state;
    static struct ipmi_sdr sdr;
    memset(&sdr, 0, sizeof(sdr));
    struct sensor_reading r[3] = {
        reading("hwmon.board.temp1", "CPU Temp", SENSOR_TEMPERATURE, 45.5, NAN, NAN, 80, 95),
        reading("hwmon.board.in0", "12V", SENSOR_VOLTAGE, 12.1, NAN, 10.8, 13.2, NAN),
        reading("atx.intrusion", "Chassis intrusion", SENSOR_INTRUSION, 1, NAN, NAN, NAN, NAN),
    };
    assert_int_equal(ipmi_sdr_update(&sdr, r, 2, 1000), 2);
    assert_int_equal(sdr.added, 1000);
    assert_int_equal(ipmi_sdr_update(&sdr, r, 3, 2000), 1); /* only the new one */
    assert_int_equal(ipmi_sdr_update(&sdr, r, 3, 3000), 0);
    assert_int_equal(sdr.added, 2000);
    const struct ipmi_sdr_sensor *t = ipmi_sdr_record(&sdr, 0);
    assert_non_null(t);
    assert_int_equal(t->number, 1);
    const uint8_t *rec = t->record;
    assert_int_equal(rec[2], 0x51);
    assert_int_equal(rec[3], 0x01);
    assert_int_equal(rec[4], t->record_len - 5);
    assert_int_equal(rec[7], 1);            /* sensor number */
    assert_int_equal(rec[12], 0x01);        /* temperature */
    assert_int_equal(rec[13], 0x01);        /* threshold */
    assert_int_equal(rec[21], 1);           /* degrees C */
    assert_int_equal(rec[47], 0xc0 | 8);
    assert_memory_equal(rec + 48, "CPU Temp", 8);
    assert_int_equal(rec[18], 0x18);        /* UNC and UC readable */
    assert_true(fabs(decode(rec, rec[38]) - 80) < 0.5);  /* UNC */
    assert_true(fabs(decode(rec, rec[37]) - 95) < 0.5);  /* UC */
    uint8_t out[8];
    assert_int_equal(ipmi_sdr_reading(t, &r[0], out), 3);
    assert_true(fabs(decode(rec, out[0]) - 45.5) < 1e-9);
    assert_int_equal(out[1], 0x40);
    assert_int_equal(out[2], 0);
    r[0].value = 85;                        /* past the upper warning */
    ipmi_sdr_reading(t, &r[0], out);
    assert_int_equal(out[2], 0x08);
    r[0].health = SENSOR_UNAVAILABLE;
    ipmi_sdr_reading(t, &r[0], out);
    assert_int_equal(out[1], 0x60);
    assert_int_equal(ipmi_sdr_thresholds(t, out), 7);
    assert_int_equal(out[0], 0x18);

    const struct ipmi_sdr_sensor *v = ipmi_sdr_sensor(&sdr, 2);
    assert_non_null(v);
    assert_true(fabs(decode(v->record, v->thr_raw[0]) - 10.8) < 1e-9); /* LNC */
    assert_int_equal(ipmi_sdr_reading(v, &r[1], out), 3);
    assert_true(fabs(decode(v->record, out[0]) - 12.1) < 1e-9);

    const struct ipmi_sdr_sensor *x = ipmi_sdr_sensor(&sdr, 3);
    assert_non_null(x);
    assert_int_equal(x->record[12], 0x05);  /* physical security */
    assert_int_equal(x->record[13], 0x6f);
    assert_int_equal(x->record[20], 0xc0);  /* no analog reading */
    assert_int_equal(x->record[47], 0xc0 | 16); /* name cut to 16 */
    ipmi_sdr_reading(x, &r[2], out);
    assert_int_equal(out[2], 0x01);
    assert_int_equal(ipmi_sdr_next(&sdr, t), 2);
    assert_int_equal(ipmi_sdr_next(&sdr, x), 0xffff);
    assert_null(ipmi_sdr_record(&sdr, 4));
    assert_null(ipmi_sdr_sensor(&sdr, 0));
}

static void test_users_file(void **state)
{
    (void)state;
    char dir[] = "/tmp/piglix-ipmi-users-XXXXXX";
    assert_non_null(mkdtemp(dir));
    static struct ipmi_users u;
    memset(&u, 0, sizeof(u));
    assert_int_equal(ipmi_users_lock(&u, dir, stderr), 0);
    assert_int_equal(u.n, 0);
    assert_int_equal(ipmi_users_set(&u, "admin", "short", NULL), -1);
    assert_int_equal(ipmi_users_set(&u, "admin", "twenty-one-characters", NULL), -1);
    assert_int_equal(ipmi_users_set(&u, "admin", "exactly-twenty-chars", NULL), 0);
    assert_int_equal(ipmi_users_set(&u, "ops", "pass:with:colons", NULL), 0);
    assert_int_equal(ipmi_users_save(&u, stderr), 0);
    ipmi_users_unlock(&u);
    char path[300];
    snprintf(path, sizeof(path), "%s/ipmi.users", dir);
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    static struct ipmi_users back;
    memset(&back, 0, sizeof(back));
    assert_int_equal(ipmi_users_load(&back, dir, stderr), 0);
    assert_int_equal(back.n, 2);
    const struct ipmi_user *a = ipmi_users_find(&back, "ops");
    assert_non_null(a);
    assert_int_equal(a->len, 16);
    assert_memory_equal(a->password, "pass:with:colons", 16);
    assert_int_equal(ipmi_users_refresh(&back), 0);
    assert_int_equal(ipmi_users_forget(dir, "ops", stderr), 0);
    assert_int_equal(ipmi_users_refresh(&back), 1);
    assert_null(ipmi_users_find(&back, "ops"));
    assert_non_null(ipmi_users_find(&back, "admin"));
    assert_int_equal(ipmi_users_purge(dir), 1);
    assert_int_equal(ipmi_users_purge(dir), 0);
    assert_int_equal(ipmi_users_forget(dir, "admin", stderr), 0); /* no file: nothing to do */
    ipmi_users_clear(&back);
    snprintf(path, sizeof(path), "%s/ipmi.users.lock", dir);
    unlink(path);
    assert_int_equal(rmdir(dir), 0);
}

/* A request as a remote console frames it outside a session (IPMI 1.5). */
static size_t v15_request(uint8_t *p, uint8_t netfn, uint8_t cmd, const uint8_t *data, size_t n)
{
    static const uint8_t head[14] = {0x06, 0x00, 0xff, 0x07, 0x00};
    memcpy(p, head, sizeof(head));
    uint8_t *m = p + 14;
    m[0] = 0x20;
    m[1] = (uint8_t)(netfn << 2);
    m[2] = (uint8_t)(0x100 - ((m[0] + m[1]) & 0xff));
    m[3] = 0x81;
    m[4] = 0x04;
    m[5] = cmd;
    memcpy(m + 6, data, n);
    unsigned sum = 0;
    for (size_t i = 3; i < 6 + n; i++)
        sum += m[i];
    m[6 + n] = (uint8_t)(0x100 - (sum & 0xff));
    p[13] = (uint8_t)(7 + n);
    return 14 + 7 + n;
}

static size_t open_request(uint8_t *p, uint8_t auth, uint8_t integ, uint8_t conf)
{
    uint8_t req[48] = {0x06, 0x00, 0xff, 0x07, 0x06, 0x10};
    req[14] = 32;
    uint8_t *o = req + 16;
    o[0] = 0x42;                            /* tag */
    o[1] = 0x04;                            /* administrator */
    o[4] = 0x11;                            /* console session id 0x44332211 */
    o[5] = 0x22;
    o[6] = 0x33;
    o[7] = 0x44;
    const uint8_t alg[3] = {auth, integ, conf};
    for (int i = 0; i < 3; i++) {
        o[8 + 8 * i] = (uint8_t)i;
        o[11 + 8 * i] = 8;
        o[12 + 8 * i] = alg[i];
    }
    memcpy(p, req, sizeof(req));
    return sizeof(req);
}

static void test_core_presession(void **state)
{
    (void)state;
    static const uint8_t guid[16] = {9, 8, 7};
    struct ipmi_core *c = ipmi_core_create("/nonexistent-piglix-test", 2, 60, NULL, NULL, guid);
    assert_non_null(c);
    struct sockaddr_in peer = {.sin_family = AF_INET, .sin_port = htons(1234)};
    uint8_t in[128], out[IPMI_PKT_MAX];
    /* RMCP presence ping -> pong with the same tag, IPMI supported */
    const uint8_t ping[12] = {0x06, 0x00, 0xff, 0x06, 0x00, 0x00, 0x11, 0xbe, 0x80, 0x5c, 0x00, 0x00};
    size_t n = ipmi_core_handle(c, (struct sockaddr *)&peer, sizeof(peer), "t", ping, sizeof(ping), out,
                                sizeof(out), 0);
    assert_int_equal(n, 28);
    assert_int_equal(out[8], 0x40);
    assert_int_equal(out[9], 0x5c);
    assert_int_equal(out[20] & 0x80, 0x80);
    /* Get Channel Authentication Capabilities, IPMI 2.0 data wanted */
    const uint8_t caps[2] = {0x8e, 0x04};
    n = ipmi_core_handle(c, (struct sockaddr *)&peer, sizeof(peer), "t", in,
                         v15_request(in, 0x06, 0x38, caps, 2), out, sizeof(out), 0);
    assert_int_equal(n, 14 + 7 + 9);
    const uint8_t *rsp = out + 14 + 6;
    assert_int_equal(rsp[0], 0x00);         /* completion code */
    assert_int_equal(rsp[2], 0x80);         /* no IPMI 1.5 auth types; 2.0 data */
    assert_int_equal(rsp[4], 0x02);         /* IPMI 2.0 connections */
    /* IPMI 1.5 session login: refused */
    const uint8_t challenge[17] = {0x02, 'a', 'd', 'm', 'i', 'n'};
    n = ipmi_core_handle(c, (struct sockaddr *)&peer, sizeof(peer), "t", in,
                         v15_request(in, 0x06, 0x39, challenge, 17), out, sizeof(out), 0);
    assert_int_equal(out[14 + 6], 0xc1);
    /* Chassis Control outside a session: not allowed */
    const uint8_t on[1] = {0x01};
    n = ipmi_core_handle(c, (struct sockaddr *)&peer, sizeof(peer), "t", in,
                         v15_request(in, 0x00, 0x02, on, 1), out, sizeof(out), 0);
    assert_int_equal(out[14 + 6], 0xd4);
    /* cipher suite 0: "no cipher suite match" */
    n = ipmi_core_handle(c, (struct sockaddr *)&peer, sizeof(peer), "t", in, open_request(in, 0, 0, 0), out,
                         sizeof(out), 0);
    assert_int_equal(n, 16 + 8);
    assert_int_equal(out[5], 0x11);
    assert_int_equal(out[16], 0x42);
    assert_int_equal(out[17], 0x11);
    /* suite 17 accepted; half-open setups are limited per source address
     * (not by max_sessions, which counts established ones): one more than
     * the limit evicts that source's oldest */
    uint32_t first = 0;
    for (int i = 0; i < IPMI_HALF_OPEN_PER_SOURCE + 1; i++) {
        n = ipmi_core_handle(c, (struct sockaddr *)&peer, sizeof(peer), "t", in, open_request(in, 3, 4, 1), out,
                             sizeof(out), i);
        assert_int_equal(n, 16 + 36);
        assert_int_equal(out[17], 0x00);
        assert_int_equal(ipmi_get32(out + 16 + 4), 0x44332211);
        if (i == 0)
            first = ipmi_get32(out + 16 + 8);
    }
    assert_null(ipmi_session_by_id(c, first));
    /* RAKP 1 for a name without an account: a normal-looking RAKP 2 ... */
    uint32_t bmc = ipmi_get32(out + 16 + 8);
    uint8_t r1[16 + 28 + 4] = {0x06, 0x00, 0xff, 0x07, 0x06, 0x12};
    r1[14] = 28 + 4;
    r1[16] = 0x43;
    ipmi_put32(r1 + 16 + 4, bmc);
    r1[16 + 24] = 0x14;
    r1[16 + 27] = 4;
    memcpy(r1 + 16 + 28, "nope", 4);
    n = ipmi_core_handle(c, (struct sockaddr *)&peer, sizeof(peer), "t", r1, sizeof(r1), out, sizeof(out), 5);
    assert_int_equal(n, 16 + 40 + 32);
    assert_int_equal(out[5], 0x13);
    assert_int_equal(out[17], 0x00);
    assert_memory_equal(out + 16 + 24, guid, 16);
    /* ... and RAKP 3 fails: invalid integrity check value */
    uint8_t r3[16 + 8 + 32] = {0x06, 0x00, 0xff, 0x07, 0x06, 0x14};
    r3[14] = 8 + 32;
    ipmi_put32(r3 + 16 + 4, bmc);
    n = ipmi_core_handle(c, (struct sockaddr *)&peer, sizeof(peer), "t", r3, sizeof(r3), out, sizeof(out), 6);
    assert_int_equal(out[5], 0x15);
    assert_int_equal(out[17], 0x0f);
    assert_null(ipmi_session_by_id(c, bmc));
    assert_int_equal(c->stats.login_failures, 1);
    /* a packet for a session that does not exist: no answer */
    uint8_t bogus[16 + 32 + 16] = {0x06, 0x00, 0xff, 0x07, 0x06, 0xc0, 1, 2, 3, 4, 1};
    bogus[14] = 32;
    assert_int_equal(ipmi_core_handle(c, (struct sockaddr *)&peer, sizeof(peer), "t", bogus, sizeof(bogus), out,
                                      sizeof(out), 7), 0);
    ipmi_core_destroy(c);
}

/* Roles: each web account's role limits its IPMI privilege (admin:
 * Administrator, operator: Operator, viewer: User), checked per command
 * against the role now, and Set Session Privilege Level stops there. */
static uint8_t run_cmd(struct ipmi_core *c, struct ipmi_session *s, uint8_t netfn, uint8_t cmd,
                       const uint8_t *data, size_t n, uint8_t *rsp)
{
    struct ipmi_msg rq = {.rs_addr = 0x20, .netfn = netfn, .rq_addr = 0x81, .cmd = cmd, .data = data, .len = n};
    bool close_after;
    assert_true(ipmi_cmd_handle(c, s, &rq, rsp, 256, &close_after) >= 1);
    return rsp[0];
}

static void test_core_roles(void **state)
{
    (void)state;
    char dir[] = "/tmp/piglix-ipmi-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char path[300];
    snprintf(path, sizeof(path), "%s/web.users", dir);
    FILE *f = fopen(path, "w");
    fprintf(f, "ann:$y$x::0::admin\nolga:$y$x::0::operator\nvic:$y$x::0::viewer\nold:$y$x::0:\n");
    fclose(f);
    chmod(path, 0600);
    static const uint8_t guid[16] = {1};
    struct ipmi_core *c = ipmi_core_create(dir, 2, 60, NULL, NULL, guid);
    assert_non_null(c);
    assert_int_equal(ipmi_role_limit(c, "ann"), IPMI_PRIV_ADMIN);
    assert_int_equal(ipmi_role_limit(c, "old"), IPMI_PRIV_ADMIN); /* before roles: admin */
    assert_int_equal(ipmi_role_limit(c, "olga"), IPMI_PRIV_OPERATOR);
    assert_int_equal(ipmi_role_limit(c, "vic"), IPMI_PRIV_USER);
    assert_int_equal(ipmi_role_limit(c, "nobody"), 0);

    static struct ipmi_session s;
    memset(&s, 0, sizeof(s));
    s.state = IPMI_S_ACTIVE;
    s.rakp.role = IPMI_PRIV_ADMIN; /* as if the login had asked for it */
    uint8_t rsp[256];
    const uint8_t on[1] = {0x01}, op[1] = {IPMI_PRIV_OPERATOR};
    /* a viewer at User: Chassis Control needs Operator */
    snprintf(s.user, sizeof(s.user), "vic");
    s.priv = IPMI_PRIV_USER;
    assert_int_equal(run_cmd(c, &s, 0x00, 0x02, on, 1, rsp), 0xd4);
    assert_int_equal(run_cmd(c, &s, 0x06, 0x01, NULL, 0, rsp), 0x00); /* Get Device ID: User */
    /* nor can it raise its level past its role, whatever the login asked */
    assert_int_equal(run_cmd(c, &s, 0x06, 0x3b, op, 1, rsp), 0x81);
    assert_int_equal(s.priv, IPMI_PRIV_USER);
    /* a session at Operator whose account is a viewer now: held to User */
    s.priv = IPMI_PRIV_OPERATOR;
    assert_int_equal(run_cmd(c, &s, 0x00, 0x02, on, 1, rsp), 0xd4);
    assert_int_equal(s.priv, IPMI_PRIV_USER);
    /* an operator may: past the privilege check (no ATX board: not in this state) */
    snprintf(s.user, sizeof(s.user), "olga");
    assert_int_equal(run_cmd(c, &s, 0x06, 0x3b, op, 1, rsp), 0x00);
    assert_int_equal(rsp[1], IPMI_PRIV_OPERATOR);
    assert_int_equal(run_cmd(c, &s, 0x00, 0x02, on, 1, rsp), 0xd5);
    const uint8_t adm[1] = {IPMI_PRIV_ADMIN};
    assert_int_equal(run_cmd(c, &s, 0x06, 0x3b, adm, 1, rsp), 0x81);
    assert_int_equal(c->stats.priv_refusals, 4);
    ipmi_core_destroy(c);
    unlink(path);
    snprintf(path, sizeof(path), "%s/ipmi.guid", dir);
    unlink(path);
    rmdir(dir);
}

int main(void)
{
    log_set_level(LOG_LEVEL_ERROR);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_crypto_vectors),
        cmocka_unit_test(test_encrypt_roundtrip),
        cmocka_unit_test(test_replay_window),
        cmocka_unit_test(test_linear),
        cmocka_unit_test(test_sdr),
        cmocka_unit_test(test_users_file),
        cmocka_unit_test(test_core_presession),
        cmocka_unit_test(test_core_roles),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
