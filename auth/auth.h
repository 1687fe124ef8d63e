/* auth/: who may come in, for every door (the web UI and API, Redfish,
 * IPMI, the VNC port). Owns the accounts file, password hashing (yescrypt),
 * API tokens, TOTP, browser sessions and the login throttle. The accounts
 * and sessions are used by one thread at a time (the web thread; the CLI
 * in its own process, under the file lock); auth_password_hash and
 * auth_password_verify are thread-safe (web/'s hash worker calls them).
 * Errors: -1 with a message on the FILE *err given, or NULL. Never logs a
 * secret. */
#ifndef PIGLIX_AUTH_H
#define PIGLIX_AUTH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

#define AUTH_NAME_MAX 32          /* account names: [a-z0-9._-], 1..32 */
#define AUTH_PASSWORD_MAX 256
/* What an account may do: viewer sees the screen and the state; operator also types, clicks,
 * pastes, powers, mounts media and writes to the serial console; admin also manages accounts
 * and configuration. Ordered: a higher role may do all a lower one may. */
enum auth_role { AUTH_ROLE_VIEWER = 0, AUTH_ROLE_OPERATOR = 1, AUTH_ROLE_ADMIN = 2 };
const char *auth_role_name(enum auth_role r);          /* "viewer", "operator", "admin" */
int auth_role_parse(const char *s, enum auth_role *out); /* 0, or -1 for anything else */

/* An account name: 1..AUTH_NAME_MAX of [a-z0-9._-], starting with a letter or digit. */
bool auth_name_valid(const char *name);
/* out (2n+1 bytes) = lower-case hex of in. */
void auth_hex(const uint8_t *in, size_t n, char *out);

/* ---- TOTP ---- */
/* TOTP: time-based one-time passwords (RFC 6238: HMAC-SHA1, 30 s
 * steps, 6 digits), the kind authenticator apps read from an otpauth:// URI,
 * and the base32 (RFC 4648) their secrets are written in. */
#define AUTH_TOTP_SECRET_BYTES 20
#define AUTH_TOTP_B32_MAX 40      /* base32 of 20 bytes is 32 characters */

/* The code for one 30-second step (RFC 4226 HOTP of counter = step). */
uint32_t auth_totp_code(const uint8_t *key, size_t keylen, uint64_t step);

/* Checks a 6-digit code against the steps around unix_time (one step of
 * clock skew either way). Returns the matching step, or -1. A caller that
 * remembers the last step used refuses replays with last_step. */
int64_t auth_totp_verify(const uint8_t *key, size_t keylen, const char *code, int64_t unix_time,
                        int64_t last_step);

/* Base32 without padding, upper case. out needs 8*ceil(n/5)+1 bytes. */
void auth_base32_encode(const uint8_t *in, size_t n, char *out);
/* Accepts upper/lower case, ignores spaces and '='. Returns bytes or -1. */
int auth_base32_decode(const char *in, uint8_t *out, size_t outlen);

/* ---- accounts ---- */
/* Marks the calling thread as one that must never hash a password (the web
 * event loop): in test builds auth_password_hash/verify then abort there. */
void auth_forbid_hashing_on_this_thread(void);

/* Accounts: the web UI's, API's, Redfish's and IPMI's accounts, kept in one file under
 * [state] dir (web.users, mode 0600): a name, a slow salted password hash
 * (yescrypt through libcrypt's crypt_r), an optional TOTP secret and the
 * SHA-256 of an optional API token. There is no default account: the file
 * starts empty, and `piglix user add` or the set-up page makes the first.
 * Writers (the daemon and `piglix user`) take an flock on web.users.lock
 * around read-modify-write and replace the file atomically (common/statefile). */
#define AUTH_ACCOUNTS_MAX 64
#define AUTH_HASH_MAX 160
#define AUTH_TOKEN_HEX 64          /* API tokens: 32 random bytes, hex */

struct auth_account {
    char name[AUTH_NAME_MAX + 1];
    char hash[AUTH_HASH_MAX];
    char totp[AUTH_TOTP_B32_MAX + 1]; /* base32 secret, "" = no TOTP */
    int64_t totp_last_step;          /* refuses a code used twice */
    char token_sha256[AUTH_TOKEN_HEX + 1]; /* "" = no API token */
};

struct auth_accounts {
    char dir[256];
    struct auth_account acc[AUTH_ACCOUNTS_MAX];
    int n;
    struct timespec mtime;      /* of the file when loaded */
    int lock_fd;                /* held between auth_accounts_lock and _unlock */
};

/* Loads dir/web.users (a missing file is no accounts). Returns 0 or -1. */
int auth_accounts_load(struct auth_accounts *a, const char *dir, FILE *err);
/* Reloads when the file changed on disk (e.g. `piglix user add` while the
 * daemon runs). Returns 1 when reloaded, 0 unchanged, -1 on error. */
int auth_accounts_refresh(struct auth_accounts *a);
/* Writes the accounts atomically with mode 0600. Returns 0 or -1. */
int auth_accounts_save(struct auth_accounts *a, FILE *err);
/* Exclusive lock for a read-modify-write, which reloads. Returns 0 or -1. */
int auth_accounts_lock(struct auth_accounts *a, FILE *err);
void auth_accounts_unlock(struct auth_accounts *a);

struct auth_account *auth_accounts_find(struct auth_accounts *a, const char *name);
/* Adds or replaces (replace=true) an account's password. Returns 0, -1, or
 * 1 when the account exists and replace is false. Does not save. */
int auth_accounts_set_password(struct auth_accounts *a, const char *name, const char *password,
                              bool replace, FILE *err);
/* Adds an account with a hash made already (auth_password_hash). Returns 0,
 * -1, or 1 when the account exists. Does not save. */
int auth_accounts_set_hash(struct auth_accounts *a, const char *name, const char *hash, FILE *err);
int auth_accounts_delete(struct auth_accounts *a, const char *name);

/* Checks a password; always costs one hash, even for unknown names, so
 * timing does not tell which names exist. Returns the account or NULL. */
struct auth_account *auth_accounts_check_password(struct auth_accounts *a, const char *name,
                                                const char *password);
/* The account whose API token this is, or NULL. */
struct auth_account *auth_accounts_check_token(struct auth_accounts *a, const char *token);
/* Makes a new API token for the account (printed once; only its hash is
 * kept) into out (AUTH_TOKEN_HEX + 1). Does not save. Returns 0 or -1. */
int auth_accounts_new_token(struct auth_account *acc, char *out);

/* What an account's credentials are now: SHA-256 over its name, password
 * hash, API token hash and TOTP secret (not the last TOTP step, which
 * changes with every login). Sessions, tokens and streams remember it and
 * end when it changes (a password, token or TOTP change, or deletion). */
#define AUTH_CRED_FP_LEN 32
void auth_account_fingerprint(const struct auth_account *acc, uint8_t out[AUTH_CRED_FP_LEN]);

/* A yescrypt hash of password (out: AUTH_HASH_MAX). Returns 0 or -1. */
int auth_password_hash(const char *password, char *out);
/* Thread-safe: password hashing may run off the web thread. */
bool auth_password_verify(const char *password, const char *hash);
/* How many yescrypt hashes auth_password_verify completed (process-wide). */
uint64_t auth_password_hashes(void);
/* The real yescrypt hash unknown names are checked against (made on first
 * use, from random bytes, with auth_password_hash's setting). */
const char *auth_accounts_dummy_hash(void);

/* Fills buf with n cryptographically random bytes. Returns 0 or -1. */
int auth_random(void *buf, size_t n);
/* Compares in time that depends only on n. */
bool auth_equal_ct(const void *a, const void *b, size_t n);

/* ---- browser sessions ---- */
/* Sessions: logged-in browser sessions. A session is named by a
 * 256-bit random token (the cookie) and carries its own CSRF token, which
 * state-changing requests must echo in a header. Sessions end after
 * [web] session_idle_s unused, session_max_s after login, on logout, or
 * when their account's credentials change or it is deleted. Only the web thread uses this. */
#define AUTH_SESSIONS_MAX 64
#define AUTH_SESSION_TOKEN_HEX 64  /* 32 random bytes */

struct auth_session {
    bool used;
    unsigned id;                /* never reused: long-lived connections remember it */
    uint8_t token[32];
    char csrf[AUTH_SESSION_TOKEN_HEX + 1];
    char name[AUTH_NAME_MAX + 1];
    char addr[64];
    int64_t created_ms, last_ms;
    uint8_t cred_fp[32];        /* the account's credentials at login (auth_account_fingerprint) */
    /* TOTP being set up: the secret shown, waiting for a first code. */
    uint8_t totp_pending[AUTH_TOTP_SECRET_BYTES];
    bool totp_pending_set;
};

struct auth_sessions {
    struct auth_session s[AUTH_SESSIONS_MAX];
    int64_t idle_ms, max_ms;
    unsigned next_id;
};

void auth_sessions_init(struct auth_sessions *ws, int idle_s, int max_s);
/* Starts a session; when all slots are taken the least recently used one
 * ends. cookie receives the token (hex). NULL if no randomness. */
struct auth_session *auth_session_create(struct auth_sessions *ws, const char *name, const char *addr,
                                       int64_t now_ms, char cookie[AUTH_SESSION_TOKEN_HEX + 1]);
/* The live session this cookie names, touched (idle timer restarted) when
 * touch is set; NULL when unknown or expired (then it ends). */
struct auth_session *auth_session_find(struct auth_sessions *ws, const char *cookie, int64_t now_ms,
                                     bool touch);
struct auth_session *auth_session_by_id(struct auth_sessions *ws, unsigned id, int64_t now_ms);
bool auth_session_csrf_ok(const struct auth_session *s, const char *header_value);
void auth_session_end(struct auth_session *s);
/* Ends expired sessions; returns how many. */
int auth_sessions_expire(struct auth_sessions *ws, int64_t now_ms);
/* Ends every session of an account (deleted); returns how many. */
int auth_sessions_end_account(struct auth_sessions *ws, const char *name);
int auth_sessions_count(const struct auth_sessions *ws);

/* ---- login throttling ---- */
/* Throttling: after `limit` consecutive failures from one address, every
 * attempt from it is refused for a period that starts at base_s seconds and
 * doubles with each further failure (capped at 1 hour). Addresses are
 * normalized (auth_addr_key); a full address table forgets the least
 * recently seen address that is not blocked. */
struct auth_throttle;
struct auth_throttle *auth_throttle_create(int limit, int base_s);
/* The same with room for `slots` addresses. */
struct auth_throttle *auth_throttle_create_addresses(int limit, int base_s, int slots);
/* A table for a bounded set of keys (e.g. existing account names, which the
 * caller alone decides to record): it never evicts, so no other traffic can
 * erase a lockout; a new key on a full table is not recorded. */
struct auth_throttle *auth_throttle_create_keys(int limit, int base_s, int slots);
void auth_throttle_destroy(struct auth_throttle *t);
/* Returns the seconds left while the address (or key) is throttled, else 0. */
int auth_throttle_check(struct auth_throttle *t, const char *addr, int64_t now_ms);
void auth_throttle_record(struct auth_throttle *t, const char *addr, bool success,
                              int64_t now_ms);
/* Forgets every key for which keep() is false (e.g. deleted accounts). */
void auth_throttle_prune(struct auth_throttle *t, bool (*keep)(const char *key, void *ctx),
                             void *ctx);
/* The throttle key of a peer address: IPv4 as is, an IPv4-mapped IPv6
 * address as its IPv4 address, any other IPv6 address as its /64
 * ("2001:db8::/64"); anything else unchanged. */
void auth_addr_key(const char *addr, char *out, size_t n);

#endif
