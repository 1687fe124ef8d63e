/* web/web_session: logged-in browser sessions. A session is named by a
 * 256-bit random token (the cookie) and carries its own CSRF token, which
 * state-changing requests must echo in a header. Sessions end after
 * [web] session_idle_s unused, session_max_s after login, on logout, or
 * when their account's credentials change or it is deleted. Only the web thread uses this. */
#ifndef PIGLIX_WEB_SESSION_H
#define PIGLIX_WEB_SESSION_H

#include <stdbool.h>
#include <stdint.h>

#include "web/web_parse.h"
#include "web/web_totp.h"

#define WEB_SESSIONS_MAX 64
#define WEB_SESSION_TOKEN_HEX 64  /* 32 random bytes */

struct web_session {
    bool used;
    unsigned id;                /* never reused: long-lived connections remember it */
    uint8_t token[32];
    char csrf[WEB_SESSION_TOKEN_HEX + 1];
    char name[WEB_NAME_MAX + 1];
    char addr[64];
    int64_t created_ms, last_ms;
    uint8_t cred_fp[32];        /* the account's credentials at login (web_account_fingerprint) */
    /* TOTP being set up: the secret shown, waiting for a first code. */
    uint8_t totp_pending[WEB_TOTP_SECRET_BYTES];
    bool totp_pending_set;
};

struct web_sessions {
    struct web_session s[WEB_SESSIONS_MAX];
    int64_t idle_ms, max_ms;
    unsigned next_id;
};

void web_sessions_init(struct web_sessions *ws, int idle_s, int max_s);
/* Starts a session; when all slots are taken the least recently used one
 * ends. cookie receives the token (hex). NULL if no randomness. */
struct web_session *web_session_create(struct web_sessions *ws, const char *name, const char *addr,
                                       int64_t now_ms, char cookie[WEB_SESSION_TOKEN_HEX + 1]);
/* The live session this cookie names, touched (idle timer restarted) when
 * touch is set; NULL when unknown or expired (then it ends). */
struct web_session *web_session_find(struct web_sessions *ws, const char *cookie, int64_t now_ms,
                                     bool touch);
struct web_session *web_session_by_id(struct web_sessions *ws, unsigned id, int64_t now_ms);
bool web_session_csrf_ok(const struct web_session *s, const char *header_value);
void web_session_end(struct web_session *s);
/* Ends expired sessions; returns how many. */
int web_sessions_expire(struct web_sessions *ws, int64_t now_ms);
/* Ends every session of an account (deleted); returns how many. */
int web_sessions_end_account(struct web_sessions *ws, const char *name);
int web_sessions_count(const struct web_sessions *ws);

#endif
