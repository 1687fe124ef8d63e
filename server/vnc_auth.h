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
 * doubles with each further failure (capped at 1 hour). */
struct vnc_auth_throttle;
struct vnc_auth_throttle *vnc_auth_throttle_create(int limit, int base_s);
void vnc_auth_throttle_destroy(struct vnc_auth_throttle *t);
/* Returns the seconds left while the address is throttled, else 0. */
int vnc_auth_throttle_check(struct vnc_auth_throttle *t, const char *addr, int64_t now_ms);
void vnc_auth_throttle_record(struct vnc_auth_throttle *t, const char *addr, bool success,
                              int64_t now_ms);

#endif
