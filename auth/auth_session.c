#include "web/web_session.h"

#include <string.h>

#include "web/web_accounts.h"

void web_sessions_init(struct web_sessions *ws, int idle_s, int max_s)
{
    memset(ws, 0, sizeof(*ws));
    ws->idle_ms = (int64_t)idle_s * 1000;
    ws->max_ms = (int64_t)max_s * 1000;
    ws->next_id = 1;
}

void web_session_end(struct web_session *s)
{
    explicit_bzero(s, sizeof(*s));
}

static bool expired(const struct web_sessions *ws, const struct web_session *s, int64_t now_ms)
{
    return now_ms - s->last_ms >= ws->idle_ms || now_ms - s->created_ms >= ws->max_ms;
}

struct web_session *web_session_create(struct web_sessions *ws, const char *name, const char *addr,
                                       int64_t now_ms, char cookie[WEB_SESSION_TOKEN_HEX + 1])
{
    web_sessions_expire(ws, now_ms);
    struct web_session *slot = NULL;
    for (int i = 0; i < WEB_SESSIONS_MAX && !slot; i++)
        if (!ws->s[i].used)
            slot = &ws->s[i];
    if (!slot) {
        slot = &ws->s[0];
        for (int i = 1; i < WEB_SESSIONS_MAX; i++)
            if (ws->s[i].last_ms < slot->last_ms)
                slot = &ws->s[i];
        web_session_end(slot);
    }
    uint8_t csrf[32];
    if (web_random(slot->token, sizeof(slot->token)) < 0 || web_random(csrf, sizeof(csrf)) < 0) {
        web_session_end(slot);
        return NULL;
    }
    slot->used = true;
    slot->id = ws->next_id++;
    web_hex(csrf, sizeof(csrf), slot->csrf);
    snprintf(slot->name, sizeof(slot->name), "%s", name);
    snprintf(slot->addr, sizeof(slot->addr), "%s", addr);
    slot->created_ms = slot->last_ms = now_ms;
    web_hex(slot->token, sizeof(slot->token), cookie);
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

struct web_session *web_session_find(struct web_sessions *ws, const char *cookie, int64_t now_ms,
                                     bool touch)
{
    uint8_t tok[32];
    if (!cookie || strlen(cookie) != WEB_SESSION_TOKEN_HEX || unhex(cookie, tok, sizeof(tok)) < 0)
        return NULL;
    struct web_session *hit = NULL;
    for (int i = 0; i < WEB_SESSIONS_MAX; i++)
        if (ws->s[i].used && web_equal_ct(ws->s[i].token, tok, sizeof(tok)))
            hit = &ws->s[i];
    if (hit && expired(ws, hit, now_ms)) {
        web_session_end(hit);
        hit = NULL;
    }
    if (hit && touch)
        hit->last_ms = now_ms;
    return hit;
}

struct web_session *web_session_by_id(struct web_sessions *ws, unsigned id, int64_t now_ms)
{
    for (int i = 0; i < WEB_SESSIONS_MAX; i++)
        if (ws->s[i].used && ws->s[i].id == id)
            return expired(ws, &ws->s[i], now_ms) ? NULL : &ws->s[i];
    return NULL;
}

bool web_session_csrf_ok(const struct web_session *s, const char *v)
{
    return v && strlen(v) == WEB_SESSION_TOKEN_HEX &&
           web_equal_ct(v, s->csrf, WEB_SESSION_TOKEN_HEX);
}

int web_sessions_expire(struct web_sessions *ws, int64_t now_ms)
{
    int n = 0;
    for (int i = 0; i < WEB_SESSIONS_MAX; i++)
        if (ws->s[i].used && expired(ws, &ws->s[i], now_ms)) {
            web_session_end(&ws->s[i]);
            n++;
        }
    return n;
}

int web_sessions_end_account(struct web_sessions *ws, const char *name)
{
    int n = 0;
    for (int i = 0; i < WEB_SESSIONS_MAX; i++)
        if (ws->s[i].used && strcmp(ws->s[i].name, name) == 0) {
            web_session_end(&ws->s[i]);
            n++;
        }
    return n;
}

int web_sessions_count(const struct web_sessions *ws)
{
    int n = 0;
    for (int i = 0; i < WEB_SESSIONS_MAX; i++)
        n += ws->s[i].used;
    return n;
}
