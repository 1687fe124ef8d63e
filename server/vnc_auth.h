/* server/vnc_auth: the VNC password (VncAuth) and login throttling.
 * Owns the password file under [state] dir (vnc.passwd, mode 0600, the
 * obfuscated 8-byte format `vncpasswd -f` writes, so viewers' -passwd files
 * interoperate) and the per-address record of failed logins. Never logs a
 * password. */
#ifndef PIGLIX_SERVER_VNC_AUTH_H
#define PIGLIX_SERVER_VNC_AUTH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define VNC_AUTH_MAX_LEN 8  /* VncAuth uses a DES key: at most 8 characters */
#define VNC_AUTH_MIN_LEN 6

void vnc_auth_password_path(const char *state_dir, char *out, size_t n);
/* Validates and stores the password (atomically, 0600). Returns 0 or -1 with
 * the reason written to err. */
int vnc_auth_store_password(const char *state_dir, const char *password, FILE *err);
/* The 8 bytes vncpasswd -f stores for password (its first 8 characters). */
void vnc_auth_obfuscate(const char *password, uint8_t out[8]);
/* Loads the password into out (NUL-terminated). Returns 0, 1 when no password
 * is set, -1 on error (logged). */
int vnc_auth_load_password(const char *state_dir, char out[VNC_AUTH_MAX_LEN + 1]);

/* Checks a VncAuth response to a challenge; constant time. */
bool vnc_auth_check_response(const char *password, const uint8_t challenge[16],
                             const uint8_t response[16]);

/* Throttling: after `limit` consecutive failures from one address, every
 * attempt from it is refused for a period that starts at base_s seconds and
 * doubles with each further failure (capped at 1 hour). Addresses are
 * normalized (vnc_auth_addr_key); a full address table forgets the least
 * recently seen address that is not blocked. */
struct vnc_auth_throttle;
struct vnc_auth_throttle *vnc_auth_throttle_create(int limit, int base_s);
/* The same with room for `slots` addresses. */
struct vnc_auth_throttle *vnc_auth_throttle_create_addresses(int limit, int base_s, int slots);
/* A table for a bounded set of keys (e.g. existing account names, which the
 * caller alone decides to record): it never evicts, so no other traffic can
 * erase a lockout; a new key on a full table is not recorded. */
struct vnc_auth_throttle *vnc_auth_throttle_create_keys(int limit, int base_s, int slots);
void vnc_auth_throttle_destroy(struct vnc_auth_throttle *t);
/* Returns the seconds left while the address (or key) is throttled, else 0. */
int vnc_auth_throttle_check(struct vnc_auth_throttle *t, const char *addr, int64_t now_ms);
void vnc_auth_throttle_record(struct vnc_auth_throttle *t, const char *addr, bool success,
                              int64_t now_ms);
/* Forgets every key for which keep() is false (e.g. deleted accounts). */
void vnc_auth_throttle_prune(struct vnc_auth_throttle *t, bool (*keep)(const char *key, void *ctx),
                             void *ctx);
/* The throttle key of a peer address: IPv4 as is, an IPv4-mapped IPv6
 * address as its IPv4 address, any other IPv6 address as its /64
 * ("2001:db8::/64"); anything else unchanged. */
void vnc_auth_addr_key(const char *addr, char *out, size_t n);

#endif
