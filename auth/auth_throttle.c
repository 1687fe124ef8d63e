/* Login throttling for every door (web, Redfish, IPMI, VNC): per address
 * (IPv6 per /64) in a table that forgets idle addresses, and per account in
 * a table nothing evicts. */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth/auth.h"

/* ---- throttling ---- */

#define THROTTLE_ADDR_SLOTS 64
#define THROTTLE_MAX_S 3600
#define THROTTLE_KEY_MAX 64

struct throttle_entry {
    char key[THROTTLE_KEY_MAX];
    int failures;
    int64_t blocked_until_ms, last_ms;
};

struct auth_throttle {
    int limit, base_s, slots;
    bool addresses; /* keys are peer addresses (normalized); full: evict */
    struct throttle_entry e[];
};

void auth_addr_key(const char *addr, char *out, size_t n)
{
    struct in6_addr a6;
    char text[INET6_ADDRSTRLEN];
    if (!strchr(addr, ':') || inet_pton(AF_INET6, addr, &a6) != 1) {
        snprintf(out, n, "%s", addr);
        return;
    }
    if (IN6_IS_ADDR_V4MAPPED(&a6)) {
        /* an IPv4 peer on a dual-stack socket is that IPv4 address */
        inet_ntop(AF_INET, &a6.s6_addr[12], text, sizeof(text));
        snprintf(out, n, "%s", text);
        return;
    }
    /* One IPv6 host usually holds a whole /64: throttle the prefix, or an
     * attacker walks through 2^64 fresh addresses. */
    memset(&a6.s6_addr[8], 0, 8);
    inet_ntop(AF_INET6, &a6, text, sizeof(text));
    snprintf(out, n, "%s/64", text);
}

static struct auth_throttle *throttle_new(int limit, int base_s, int slots, bool addresses)
{
    struct auth_throttle *t = calloc(1, sizeof(*t) + (size_t)slots * sizeof(struct throttle_entry));
    if (t) {
        t->limit = limit;
        t->base_s = base_s;
        t->slots = slots;
        t->addresses = addresses;
    }
    return t;
}

struct auth_throttle *auth_throttle_create(int limit, int base_s)
{
    return throttle_new(limit, base_s, THROTTLE_ADDR_SLOTS, true);
}

struct auth_throttle *auth_throttle_create_addresses(int limit, int base_s, int slots)
{
    return throttle_new(limit, base_s, slots > 0 ? slots : THROTTLE_ADDR_SLOTS, true);
}

struct auth_throttle *auth_throttle_create_keys(int limit, int base_s, int slots)
{
    return throttle_new(limit, base_s, slots > 0 ? slots : 1, false);
}

void auth_throttle_destroy(struct auth_throttle *t) { free(t); }

/* Which entry to give a new key on a full address table: the least
 * recently seen one that is not blocked (a blocked address stays blocked
 * while others can take its place), else the least recently seen. */
static struct throttle_entry *victim(struct auth_throttle *t, int64_t now_ms)
{
    struct throttle_entry *free_one = NULL, *idle = NULL, *oldest = NULL;
    for (int i = 0; i < t->slots; i++) {
        struct throttle_entry *e = &t->e[i];
        if (!e->key[0]) {
            free_one = free_one ? free_one : e;
            continue;
        }
        if (!oldest || e->last_ms < oldest->last_ms)
            oldest = e;
        if (e->blocked_until_ms <= now_ms && (!idle || e->last_ms < idle->last_ms))
            idle = e;
    }
    if (free_one)
        return free_one;
    if (!t->addresses)
        return NULL; /* a bounded key set: never evicts anyone's lockout */
    return idle ? idle : oldest;
}

static struct throttle_entry *find(struct auth_throttle *t, const char *raw, bool create,
                                   int64_t now_ms)
{
    char key[THROTTLE_KEY_MAX];
    if (t->addresses)
        auth_addr_key(raw, key, sizeof(key));
    else
        snprintf(key, sizeof(key), "%s", raw);
    for (int i = 0; i < t->slots; i++)
        if (t->e[i].key[0] && strcmp(t->e[i].key, key) == 0)
            return &t->e[i];
    if (!create)
        return NULL;
    struct throttle_entry *e = victim(t, now_ms);
    if (!e)
        return NULL;
    memset(e, 0, sizeof(*e));
    snprintf(e->key, sizeof(e->key), "%s", key);
    return e;
}

int auth_throttle_check(struct auth_throttle *t, const char *addr, int64_t now_ms)
{
    struct throttle_entry *e = find(t, addr, false, now_ms);
    if (!e || e->blocked_until_ms <= now_ms)
        return 0;
    return (int)((e->blocked_until_ms - now_ms + 999) / 1000);
}

void auth_throttle_record(struct auth_throttle *t, const char *addr, bool success,
                              int64_t now_ms)
{
    struct throttle_entry *e = find(t, addr, !success, now_ms);
    if (!e)
        return;
    e->last_ms = now_ms;
    if (success) {
        e->failures = 0;
        e->blocked_until_ms = 0;
        return;
    }
    e->failures++;
    if (e->failures >= t->limit) {
        int over = e->failures - t->limit;
        int64_t period = t->base_s;
        for (int i = 0; i < over && period < THROTTLE_MAX_S; i++)
            period *= 2;
        if (period > THROTTLE_MAX_S)
            period = THROTTLE_MAX_S;
        e->blocked_until_ms = now_ms + period * 1000;
    }
}

void auth_throttle_prune(struct auth_throttle *t, bool (*keep)(const char *key, void *ctx),
                             void *ctx)
{
    for (int i = 0; i < t->slots; i++)
        if (t->e[i].key[0] && !keep(t->e[i].key, ctx))
            memset(&t->e[i], 0, sizeof(t->e[i]));
}
