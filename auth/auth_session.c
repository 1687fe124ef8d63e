#include "auth/auth.h"
#include "audit/audit.h"

#include <string.h>


void auth_sessions_init(struct auth_sessions *ws, int idle_s, int max_s)
{
    memset(ws, 0, sizeof(*ws));
    ws->idle_ms = (int64_t)idle_s * 1000;
    ws->max_ms = (int64_t)max_s * 1000;
    ws->next_id = 1;
}

void auth_session_end(struct auth_session *s)
{
    explicit_bzero(s, sizeof(*s));
}

static bool expired(const struct auth_sessions *ws, const struct auth_session *s, int64_t now_ms)
{
    return now_ms - s->last_ms >= ws->idle_ms || now_ms - s->created_ms >= ws->max_ms;
}

/* A browser session that ends by itself (idle, too old, pushed out by a
 * newer one) is in the audit log: a logout is recorded by the web API. */
static void end_recorded(const struct auth_sessions *ws, struct auth_session *s, int64_t now_ms, const char *why)
{
    if (!why)
        why = now_ms - s->last_ms >= ws->idle_ms ? "idle" : "[web] session_max_s reached";
    audit_record(AUDIT_SESSION_END, AUDIT_IF_WEB, AUDIT_OK, s->name, s->addr, "browser session: %s", why);
    auth_session_end(s);
}

struct auth_session *auth_session_create(struct auth_sessions *ws, const char *name, const char *addr,
                                       int64_t now_ms, char cookie[AUTH_SESSION_TOKEN_HEX + 1])
{
    auth_sessions_expire(ws, now_ms);
    struct auth_session *slot = NULL;
    for (int i = 0; i < AUTH_SESSIONS_MAX && !slot; i++)
        if (!ws->s[i].used)
            slot = &ws->s[i];
    if (!slot) {
        slot = &ws->s[0];
        for (int i = 1; i < AUTH_SESSIONS_MAX; i++)
            if (ws->s[i].last_ms < slot->last_ms)
                slot = &ws->s[i];
        end_recorded(ws, slot, now_ms, "the oldest of too many sessions");
    }
    uint8_t csrf[32];
    if (auth_random(slot->token, sizeof(slot->token)) < 0 || auth_random(csrf, sizeof(csrf)) < 0) {
        auth_session_end(slot);
        return NULL;
    }
    slot->used = true;
    slot->id = ws->next_id++;
    auth_hex(csrf, sizeof(csrf), slot->csrf);
    snprintf(slot->name, sizeof(slot->name), "%s", name);
    snprintf(slot->addr, sizeof(slot->addr), "%s", addr);
    slot->created_ms = slot->last_ms = now_ms;
    auth_hex(slot->token, sizeof(slot->token), cookie);
    return slot;
}

static int unhex(const char *s, uint8_t *out, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        int v = 0;
        for (int k = 0; k < 2; k++) {
            char c = s[2 * i + k];
            int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
            if (d < 0)
                return -1;
            v = v * 16 + d;
        }
        out[i] = (uint8_t)v;
    }
    return s[2 * n] == '\0' ? 0 : -1;
}

struct auth_session *auth_session_find(struct auth_sessions *ws, const char *cookie, int64_t now_ms,
                                     bool touch)
{
    uint8_t tok[32];
    if (!cookie || strlen(cookie) != AUTH_SESSION_TOKEN_HEX || unhex(cookie, tok, sizeof(tok)) < 0)
        return NULL;
    struct auth_session *hit = NULL;
    for (int i = 0; i < AUTH_SESSIONS_MAX; i++)
        if (ws->s[i].used && auth_equal_ct(ws->s[i].token, tok, sizeof(tok)))
            hit = &ws->s[i];
    if (hit && expired(ws, hit, now_ms)) {
        end_recorded(ws, hit, now_ms, NULL);
        hit = NULL;
    }
    if (hit && touch)
        hit->last_ms = now_ms;
    return hit;
}

struct auth_session *auth_session_by_id(struct auth_sessions *ws, unsigned id, int64_t now_ms)
{
    for (int i = 0; i < AUTH_SESSIONS_MAX; i++)
        if (ws->s[i].used && ws->s[i].id == id)
            return expired(ws, &ws->s[i], now_ms) ? NULL : &ws->s[i];
    return NULL;
}

bool auth_session_csrf_ok(const struct auth_session *s, const char *v)
{
    return v && strlen(v) == AUTH_SESSION_TOKEN_HEX &&
           auth_equal_ct(v, s->csrf, AUTH_SESSION_TOKEN_HEX);
}

int auth_sessions_expire(struct auth_sessions *ws, int64_t now_ms)
{
    int n = 0;
    for (int i = 0; i < AUTH_SESSIONS_MAX; i++)
        if (ws->s[i].used && expired(ws, &ws->s[i], now_ms)) {
            end_recorded(ws, &ws->s[i], now_ms, NULL);
            n++;
        }
    return n;
}

int auth_sessions_end_account(struct auth_sessions *ws, const char *name)
{
    int n = 0;
    for (int i = 0; i < AUTH_SESSIONS_MAX; i++)
        if (ws->s[i].used && strcmp(ws->s[i].name, name) == 0) {
            end_recorded(ws, &ws->s[i], 0, "the account changed");
            n++;
        }
    return n;
}

int auth_sessions_count(const struct auth_sessions *ws)
{
    int n = 0;
    for (int i = 0; i < AUTH_SESSIONS_MAX; i++)
        n += ws->s[i].used;
    return n;
}
