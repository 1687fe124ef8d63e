#include "ipmi/ipmi_crypto.h"

#include "ipmi/ipmi_packet.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <string.h>

static const struct ipmi_suite suites[] = {
    {3, IPMI_AUTH_RAKP_HMAC_SHA1, IPMI_INTEG_HMAC_SHA1_96, IPMI_CONF_AES_CBC_128, 20, 12},
    {17, IPMI_AUTH_RAKP_HMAC_SHA256, IPMI_INTEG_HMAC_SHA256_128, IPMI_CONF_AES_CBC_128, 32, 16},
};

const struct ipmi_suite *ipmi_suite_find(int auth, int integ, int conf)
{
    for (size_t i = 0; i < sizeof(suites) / sizeof(suites[0]); i++)
        if (suites[i].auth == auth && suites[i].integ == integ && suites[i].conf == conf)
            return &suites[i];
    return NULL;
}

const struct ipmi_suite *ipmi_suites(size_t *n)
{
    *n = sizeof(suites) / sizeof(suites[0]);
    return suites;
}

/* The suite's HMAC (SHA-1 or SHA-256: the RAKP and integrity algorithms of
 * suites 3 and 17 use the same hash). */
static int hmac(const struct ipmi_suite *s, const uint8_t *key, size_t klen, const uint8_t *data,
                size_t n, uint8_t *out)
{
    unsigned len = 0;
    const EVP_MD *md = s->hmac_len == 32 ? EVP_sha256() : EVP_sha1();
    if (!HMAC(md, key, (int)klen, data, n, out, &len) || len != s->hmac_len)
        return -1;
    return 0;
}

int ipmi_rakp2_code(const struct ipmi_suite *s, const uint8_t kuid[IPMI_KUID_LEN],
                    const struct ipmi_rakp *r, uint8_t *out)
{
    /* SIDm, SIDc, Rm, Rc, GUIDc, ROLEm, ULENGTHm, UNAMEm */
    uint8_t buf[58 + 16];
    ipmi_put32(buf, r->sid_m);
    ipmi_put32(buf + 4, r->sid_c);
    memcpy(buf + 8, r->rm, 16);
    memcpy(buf + 24, r->rc, 16);
    memcpy(buf + 40, r->guid_c, 16);
    buf[56] = r->role;
    buf[57] = r->ulen;
    memcpy(buf + 58, r->user, r->ulen);
    return hmac(s, kuid, IPMI_KUID_LEN, buf, 58u + r->ulen, out);
}

int ipmi_rakp3_code(const struct ipmi_suite *s, const uint8_t kuid[IPMI_KUID_LEN],
                    const struct ipmi_rakp *r, uint8_t *out)
{
    /* Rc, SIDm, ROLEm, ULENGTHm, UNAMEm */
    uint8_t buf[22 + 16];
    memcpy(buf, r->rc, 16);
    ipmi_put32(buf + 16, r->sid_m);
    buf[20] = r->role;
    buf[21] = r->ulen;
    memcpy(buf + 22, r->user, r->ulen);
    return hmac(s, kuid, IPMI_KUID_LEN, buf, 22u + r->ulen, out);
}

int ipmi_session_keys(const struct ipmi_suite *s, const uint8_t kuid[IPMI_KUID_LEN],
                      const struct ipmi_rakp *r, struct ipmi_keys *out)
{
    /* SIK = HMAC(Kg, Rm | Rc | ROLEm | ULENGTHm | UNAMEm); K1 and K2 are
     * the SIK's HMACs of 20 bytes of 1s and of 2s (for either hash). */
    uint8_t buf[34 + 16], c1[20], c2[20];
    memcpy(buf, r->rm, 16);
    memcpy(buf + 16, r->rc, 16);
    buf[32] = r->role;
    buf[33] = r->ulen;
    memcpy(buf + 34, r->user, r->ulen);
    memset(c1, 1, sizeof(c1));
    memset(c2, 2, sizeof(c2));
    memset(out, 0, sizeof(*out));
    if (hmac(s, kuid, IPMI_KUID_LEN, buf, 34u + r->ulen, out->sik) < 0 ||
        hmac(s, out->sik, s->hmac_len, c1, sizeof(c1), out->k1) < 0 ||
        hmac(s, out->sik, s->hmac_len, c2, sizeof(c2), out->k2) < 0) {
        OPENSSL_cleanse(out, sizeof(*out));
        return -1;
    }
    return 0;
}

int ipmi_rakp4_code(const struct ipmi_suite *s, const struct ipmi_keys *k,
                    const struct ipmi_rakp *r, uint8_t *out)
{
    /* Rm, SIDc, GUIDc; truncated to the integrity algorithm's length */
    uint8_t buf[36], full[IPMI_KEY_MAX];
    memcpy(buf, r->rm, 16);
    ipmi_put32(buf + 16, r->sid_c);
    memcpy(buf + 20, r->guid_c, 16);
    if (hmac(s, k->sik, s->hmac_len, buf, sizeof(buf), full) < 0)
        return -1;
    memcpy(out, full, s->icv_len);
    return 0;
}

int ipmi_packet_code(const struct ipmi_suite *s, const struct ipmi_keys *k, const uint8_t *data,
                     size_t n, uint8_t *out)
{
    uint8_t full[IPMI_KEY_MAX];
    if (hmac(s, k->k1, s->hmac_len, data, n, full) < 0)
        return -1;
    memcpy(out, full, s->icv_len);
    return 0;
}

bool ipmi_packet_code_ok(const struct ipmi_suite *s, const struct ipmi_keys *k,
                         const uint8_t *data, size_t n, const uint8_t *code)
{
    uint8_t mine[IPMI_KEY_MAX];
    return ipmi_packet_code(s, k, data, n, mine) == 0 && CRYPTO_memcmp(mine, code, s->icv_len) == 0;
}

/* One AES-128-CBC pass without OpenSSL's own padding (the spec has its own). */
static int aes(int enc, const uint8_t *key, const uint8_t *iv, const uint8_t *in, size_t n, uint8_t *out)
{
    EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
    int len = 0, fin = 0, ok = ctx && EVP_CipherInit_ex(ctx, EVP_aes_128_cbc(), NULL, key, iv, enc) &&
                              EVP_CIPHER_CTX_set_padding(ctx, 0) &&
                              EVP_CipherUpdate(ctx, out, &len, in, (int)n) &&
                              EVP_CipherFinal_ex(ctx, out + len, &fin) && (size_t)(len + fin) == n;
    EVP_CIPHER_CTX_free(ctx);
    return ok ? 0 : -1;
}

size_t ipmi_encrypt(const struct ipmi_keys *k, const uint8_t *in, size_t n, uint8_t *out, size_t cap)
{
    size_t pad = (IPMI_AES_BLOCK - (n + 1) % IPMI_AES_BLOCK) % IPMI_AES_BLOCK;
    size_t body = n + pad + 1;
    uint8_t plain[IPMI_KEY_MAX * 64];
    if (IPMI_AES_BLOCK + body > cap || body > sizeof(plain))
        return 0;
    memcpy(plain, in, n);
    for (size_t i = 0; i < pad; i++)
        plain[n + i] = (uint8_t)(i + 1);
    plain[n + pad] = (uint8_t)pad;
    size_t r = 0;
    if (RAND_bytes(out, IPMI_AES_BLOCK) == 1 && aes(1, k->k2, out, plain, body, out + IPMI_AES_BLOCK) == 0)
        r = IPMI_AES_BLOCK + body;
    OPENSSL_cleanse(plain, body);
    return r;
}

int ipmi_decrypt(const struct ipmi_keys *k, const uint8_t *in, size_t n, uint8_t *out, size_t cap)
{
    if (n < 2 * IPMI_AES_BLOCK || n % IPMI_AES_BLOCK || n - IPMI_AES_BLOCK > cap)
        return -1;
    size_t body = n - IPMI_AES_BLOCK;
    if (aes(0, k->k2, in, in + IPMI_AES_BLOCK, body, out) < 0)
        return -1;
    size_t pad = out[body - 1];
    if (pad >= IPMI_AES_BLOCK || pad + 1 > body)
        return -1;
    for (size_t i = 0; i < pad; i++)
        if (out[body - 1 - pad + i] != i + 1)
            return -1;
    return (int)(body - 1 - pad);
}

void ipmi_kuid(const char *password, size_t len, uint8_t kuid[IPMI_KUID_LEN])
{
    memset(kuid, 0, IPMI_KUID_LEN);
    memcpy(kuid, password, len < IPMI_KUID_LEN ? len : IPMI_KUID_LEN);
}
