/* web/web_accounts: the web UI's and API's accounts, kept in one file under
 * [state] dir (web.users, mode 0600): a name, a slow salted password hash
 * (yescrypt through libcrypt's crypt_r), an optional TOTP secret and the
 * SHA-256 of an optional API token. There is no default account: the file
 * starts empty, and `piglix user add` or the set-up page makes the first.
 * Writers (the daemon and `piglix user`) take an flock on web.users.lock
 * around read-modify-write and replace the file atomically (common/statefile). */
#ifndef PIGLIX_WEB_ACCOUNTS_H
#define PIGLIX_WEB_ACCOUNTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

#include "web/web_parse.h"
#include "web/web_totp.h"

#define WEB_ACCOUNTS_MAX 64
#define WEB_HASH_MAX 160
#define WEB_TOKEN_HEX 64          /* API tokens: 32 random bytes, hex */

struct web_account {
    char name[WEB_NAME_MAX + 1];
    char hash[WEB_HASH_MAX];
    char totp[WEB_TOTP_B32_MAX + 1]; /* base32 secret, "" = no TOTP */
    int64_t totp_last_step;          /* refuses a code used twice */
    char token_sha256[WEB_TOKEN_HEX + 1]; /* "" = no API token */
};

struct web_accounts {
    char dir[256];
    struct web_account acc[WEB_ACCOUNTS_MAX];
    int n;
    struct timespec mtime;      /* of the file when loaded */
    int lock_fd;                /* held between web_accounts_lock and _unlock */
};

/* Loads dir/web.users (a missing file is no accounts). Returns 0 or -1. */
int web_accounts_load(struct web_accounts *a, const char *dir, FILE *err);
/* Reloads when the file changed on disk (e.g. `piglix user add` while the
 * daemon runs). Returns 1 when reloaded, 0 unchanged, -1 on error. */
int web_accounts_refresh(struct web_accounts *a);
/* Writes the accounts atomically with mode 0600. Returns 0 or -1. */
int web_accounts_save(struct web_accounts *a, FILE *err);
/* Exclusive lock for a read-modify-write, which reloads. Returns 0 or -1. */
int web_accounts_lock(struct web_accounts *a, FILE *err);
void web_accounts_unlock(struct web_accounts *a);

struct web_account *web_accounts_find(struct web_accounts *a, const char *name);
/* Adds or replaces (replace=true) an account's password. Returns 0, -1, or
 * 1 when the account exists and replace is false. Does not save. */
int web_accounts_set_password(struct web_accounts *a, const char *name, const char *password,
                              bool replace, FILE *err);
/* Adds an account with a hash made already (web_password_hash). Returns 0,
 * -1, or 1 when the account exists. Does not save. */
int web_accounts_set_hash(struct web_accounts *a, const char *name, const char *hash, FILE *err);
int web_accounts_delete(struct web_accounts *a, const char *name);

/* Checks a password; always costs one hash, even for unknown names, so
 * timing does not tell which names exist. Returns the account or NULL. */
struct web_account *web_accounts_check_password(struct web_accounts *a, const char *name,
                                                const char *password);
/* The account whose API token this is, or NULL. */
struct web_account *web_accounts_check_token(struct web_accounts *a, const char *token);
/* Makes a new API token for the account (printed once; only its hash is
 * kept) into out (WEB_TOKEN_HEX + 1). Does not save. Returns 0 or -1. */
int web_accounts_new_token(struct web_account *acc, char *out);

/* What an account's credentials are now: SHA-256 over its name, password
 * hash, API token hash and TOTP secret (not the last TOTP step, which
 * changes with every login). Sessions, tokens and streams remember it and
 * end when it changes (a password, token or TOTP change, or deletion). */
#define WEB_CRED_FP_LEN 32
void web_account_fingerprint(const struct web_account *acc, uint8_t out[WEB_CRED_FP_LEN]);

/* A yescrypt hash of password (out: WEB_HASH_MAX). Returns 0 or -1. */
int web_password_hash(const char *password, char *out);
/* Thread-safe: password hashing may run off the web thread. */
bool web_password_verify(const char *password, const char *hash);
/* How many yescrypt hashes web_password_verify completed (process-wide). */
uint64_t web_password_hashes(void);
/* The real yescrypt hash unknown names are checked against (made on first
 * use, from random bytes, with web_password_hash's setting). */
const char *web_accounts_dummy_hash(void);

/* Fills buf with n cryptographically random bytes. Returns 0 or -1. */
int web_random(void *buf, size_t n);
/* Compares in time that depends only on n. */
bool web_equal_ct(const void *a, const void *b, size_t n);

#endif
