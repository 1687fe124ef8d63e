/* ipmi/ipmi_crypto: the RMCP+ cryptography (IPMI 2.0 spec 13.28-13.32) for
 * the two cipher suites piglix offers, through OpenSSL's libcrypto:
 *   3: RAKP-HMAC-SHA1,   HMAC-SHA1-96,    AES-CBC-128
 *  17: RAKP-HMAC-SHA256, HMAC-SHA256-128, AES-CBC-128
 * The key-exchange codes of RAKP messages 2-4, the session integrity key
 * (SIK) and the keys derived from it (K1 for integrity, K2 for AES), the
 * packet auth code, and payload encryption with the spec's padding.
 * Naming follows the spec: "m" is the remote console, "c" the BMC. */
#ifndef PIGLIX_WEB_IPMI_CRYPTO_H
#define PIGLIX_WEB_IPMI_CRYPTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define IPMI_KEY_MAX 32            /* the longest HMAC output (SHA-256) */
#define IPMI_KUID_LEN 20           /* a user's key: the password, zero-padded */
#define IPMI_AES_BLOCK 16

/* Algorithm numbers (13.28). */
#define IPMI_AUTH_RAKP_HMAC_SHA1 0x01
#define IPMI_AUTH_RAKP_HMAC_SHA256 0x03
#define IPMI_INTEG_HMAC_SHA1_96 0x01
#define IPMI_INTEG_HMAC_SHA256_128 0x04
#define IPMI_CONF_AES_CBC_128 0x01

/* A cipher suite's algorithms and their sizes. */
struct ipmi_suite {
    uint8_t id, auth, integ, conf;
    size_t hmac_len;               /* RAKP codes, SIK, K1, K2: 20 or 32 */
    size_t icv_len;                /* RAKP 4 and packet auth codes: 12 or 16 */
};

/* The suite for these algorithms, or NULL (cipher suite 0 and every other
 * combination are refused). */
const struct ipmi_suite *ipmi_suite_find(int auth, int integ, int conf);
/* The suites offered, in order; *n gets their number. */
const struct ipmi_suite *ipmi_suites(size_t *n);

/* What both sides know after RAKP 1 and 2. */
struct ipmi_rakp {
    uint32_t sid_m, sid_c;         /* console's and BMC's session ids */
    uint8_t rm[16], rc[16];        /* console's and BMC's random numbers */
    uint8_t guid_c[16];
    uint8_t role;                  /* RAKP 1's whole role byte */
    uint8_t ulen;
    uint8_t user[16];
};

/* RAKP 2's key exchange auth code (hmac_len bytes), keyed with Kuid. */
int ipmi_rakp2_code(const struct ipmi_suite *s, const uint8_t kuid[IPMI_KUID_LEN],
                    const struct ipmi_rakp *r, uint8_t *out);
/* RAKP 3's code, which proves the console knows Kuid. */
int ipmi_rakp3_code(const struct ipmi_suite *s, const uint8_t kuid[IPMI_KUID_LEN],
                    const struct ipmi_rakp *r, uint8_t *out);

/* The session's keys. */
struct ipmi_keys {
    uint8_t sik[IPMI_KEY_MAX], k1[IPMI_KEY_MAX], k2[IPMI_KEY_MAX];
};
/* SIK from Kuid (no separate BMC key Kg: Kuid stands in, as the spec
 * allows), then K1 and K2. */
int ipmi_session_keys(const struct ipmi_suite *s, const uint8_t kuid[IPMI_KUID_LEN],
                      const struct ipmi_rakp *r, struct ipmi_keys *out);
/* RAKP 4's integrity check value (icv_len bytes), keyed with SIK. */
int ipmi_rakp4_code(const struct ipmi_suite *s, const struct ipmi_keys *k,
                    const struct ipmi_rakp *r, uint8_t *out);

/* A packet's auth code (icv_len bytes) over data, keyed with K1. */
int ipmi_packet_code(const struct ipmi_suite *s, const struct ipmi_keys *k, const uint8_t *data,
                     size_t n, uint8_t *out);
/* Checks one in constant time. */
bool ipmi_packet_code_ok(const struct ipmi_suite *s, const struct ipmi_keys *k,
                         const uint8_t *data, size_t n, const uint8_t *code);

/* AES-CBC-128 with K2: out gets a random IV, then in padded with 1, 2, 3,
 * ... and the pad length to a whole block, encrypted. Returns the length,
 * 0 when cap is too small or on an error. in and out must not overlap. */
size_t ipmi_encrypt(const struct ipmi_keys *k, const uint8_t *in, size_t n, uint8_t *out, size_t cap);
/* The reverse; checks the padding. Returns the plaintext length or -1. */
int ipmi_decrypt(const struct ipmi_keys *k, const uint8_t *in, size_t n, uint8_t *out, size_t cap);

/* Kuid for a password of len bytes (at most IPMI_KUID_LEN). */
void ipmi_kuid(const char *password, size_t len, uint8_t kuid[IPMI_KUID_LEN]);

#endif
