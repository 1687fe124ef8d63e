#include "auth/auth.h"

#include <ctype.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <string.h>

uint32_t auth_totp_code(const uint8_t *key, size_t keylen, uint64_t step)
{
    uint8_t msg[8], mac[EVP_MAX_MD_SIZE];
    unsigned maclen = 0;
    for (int i = 7; i >= 0; i--) {
        msg[i] = (uint8_t)step;
        step >>= 8;
    }
    if (!HMAC(EVP_sha1(), key, (int)keylen, msg, sizeof(msg), mac, &maclen) || maclen < 20)
        return UINT32_MAX;
    unsigned off = mac[maclen - 1] & 15;
    uint32_t bin = (uint32_t)(mac[off] & 0x7f) << 24 | (uint32_t)mac[off + 1] << 16 |
                   (uint32_t)mac[off + 2] << 8 | mac[off + 3];
    return bin % 1000000;
}

int64_t auth_totp_verify(const uint8_t *key, size_t keylen, const char *code, int64_t unix_time,
                        int64_t last_step)
{
    if (strlen(code) != 6)
        return -1;
    uint32_t want = 0;
    for (int i = 0; i < 6; i++) {
        if (!isdigit((unsigned char)code[i]))
            return -1;
        want = want * 10 + (uint32_t)(code[i] - '0');
    }
    int64_t now = unix_time / 30;
    int64_t found = -1;
    /* Look at all three steps whatever matches, so timing says nothing. */
    for (int64_t s = now - 1; s <= now + 1; s++) {
        uint32_t c = auth_totp_code(key, keylen, (uint64_t)s);
        if (c == want && s > last_step && found < 0)
            found = s;
    }
    return found;
}

static const char b32[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

void auth_base32_encode(const uint8_t *in, size_t n, char *out)
{
    size_t o = 0;
    uint32_t buf = 0;
    int bits = 0;
    for (size_t i = 0; i < n; i++) {
        buf = buf << 8 | in[i];
        bits += 8;
        while (bits >= 5) {
            out[o++] = b32[(buf >> (bits - 5)) & 31];
            bits -= 5;
        }
    }
    if (bits > 0)
        out[o++] = b32[(buf << (5 - bits)) & 31];
    out[o] = '\0';
}

int auth_base32_decode(const char *in, uint8_t *out, size_t outlen)
{
    size_t o = 0;
    uint32_t buf = 0;
    int bits = 0;
    for (const char *p = in; *p; p++) {
        if (*p == ' ' || *p == '=')
            continue;
        const char *hit = strchr(b32, toupper((unsigned char)*p));
        if (!hit || !*p)
            return -1;
        buf = buf << 5 | (uint32_t)(hit - b32);
        bits += 5;
        if (bits >= 8) {
            if (o >= outlen)
                return -1;
            out[o++] = (uint8_t)(buf >> (bits - 8));
            bits -= 8;
        }
    }
    return (int)o;
}
