/* web/web_totp: time-based one-time passwords (RFC 6238: HMAC-SHA1, 30 s
 * steps, 6 digits), the kind authenticator apps read from an otpauth:// URI,
 * and the base32 (RFC 4648) their secrets are written in. */
#ifndef PIGLIX_WEB_TOTP_H
#define PIGLIX_WEB_TOTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define WEB_TOTP_SECRET_BYTES 20
#define WEB_TOTP_B32_MAX 40      /* base32 of 20 bytes is 32 characters */

/* The code for one 30-second step (RFC 4226 HOTP of counter = step). */
uint32_t web_totp_code(const uint8_t *key, size_t keylen, uint64_t step);

/* Checks a 6-digit code against the steps around unix_time (one step of
 * clock skew either way). Returns the matching step, or -1. A caller that
 * remembers the last step used refuses replays with last_step. */
int64_t web_totp_verify(const uint8_t *key, size_t keylen, const char *code, int64_t unix_time,
                        int64_t last_step);

/* Base32 without padding, upper case. out needs 8*ceil(n/5)+1 bytes. */
void web_base32_encode(const uint8_t *in, size_t n, char *out);
/* Accepts upper/lower case, ignores spaces and '='. Returns bytes or -1. */
int web_base32_decode(const char *in, uint8_t *out, size_t outlen);

#endif
