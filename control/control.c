/* The session list and the keyboard (control.h). One mutex guards all:
 * every call is short (a scan of at most CONTROL_SESSIONS_MAX entries), and
 * callbacks (owners' wake, watchers) run after it is released. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/clock.h"
#include "common/log.h"
#include "control/control.h"

#define OWNERS_MAX 16
#define WATCHERS_MAX 8

struct control_owner {
    char name[16];
    void (*wake)(void *ctx);
    void (*end)(void *ctx, unsigned id, uintptr_t key);
    void *ctx;
};

struct entry {
    bool used, end_asked;
    struct control_owner *owner;
    uintptr_t key;
    struct control_session_info info;
    int64_t last_mono_ms, input_mono_ms;  /* input_mono_ms: 0 = never */
};

struct control {
    pthread_mutex_t lock;
    bool exclusive;
    int idle_release_ms;
    struct entry e[CONTROL_SESSIONS_MAX];
    unsigned next_id;
    unsigned holder, requested_by;
    int64_t holder_input_ms;      /* the holder's last input (or when it got the keyboard) */
    uint64_t generation, dropped, handovers;
    struct control_owner owners[OWNERS_MAX];
    int n_owners;
    struct { void (*fn)(void *ctx); void *ctx; } watchers[WATCHERS_MAX];
    int n_watchers;
};

static const char *const iface_names[CONTROL_IF_COUNT] = {
    "browser", "vnc", "api", "web", "redfish", "ipmi", "serial",
};

const char *control_iface_name(enum control_iface i)
{
    return (unsigned)i < CONTROL_IF_COUNT ? iface_names[i] : "?";
}

bool control_iface_inputs(enum control_iface i)
{
    return i == CONTROL_IF_BROWSER || i == CONTROL_IF_VNC || i == CONTROL_IF_API || i == CONTROL_IF_SERIAL;
}

static int64_t wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

struct control *control_create(const struct config_control *cfg)
{
    struct control *c = calloc(1, sizeof(*c));
    if (!c)
        return NULL;
    pthread_mutex_init(&c->lock, NULL);
    c->exclusive = strcmp(cfg->mode, "exclusive") == 0;
    c->idle_release_ms = cfg->idle_release_s * 1000;
    c->next_id = 1;
    return c;
}

void control_destroy(struct control *c)
{
    if (!c)
        return;
    pthread_mutex_destroy(&c->lock);
    free(c);
}

bool control_exclusive(const struct control *c) { return c->exclusive; }

static unsigned group_of(const struct entry *e) { return e->info.parent ? e->info.parent : e->info.id; }

static struct entry *find(struct control *c, unsigned id)
{
    if (!id)
        return NULL;
    for (int i = 0; i < CONTROL_SESSIONS_MAX; i++)
        if (c->e[i].used && c->e[i].info.id == id)
            return &c->e[i];
    return NULL;
}

/* Callbacks to run once the lock is released. */
struct after {
    bool changed;                          /* the holder changed: tell the watchers */
    void (*wake)(void *ctx);
    void *wake_ctx;
};

static void run_after(struct control *c, const struct after *a)
{
    if (a->wake)
        a->wake(a->wake_ctx);
    if (!a->changed)
        return;
    pthread_mutex_lock(&c->lock);
    int n = c->n_watchers;
    struct { void (*fn)(void *ctx); void *ctx; } w[WATCHERS_MAX];
    memcpy(w, c->watchers, sizeof(w[0]) * (size_t)n);
    pthread_mutex_unlock(&c->lock);
    for (int i = 0; i < n; i++)
        w[i].fn(w[i].ctx);
}

/* Under the lock: the keyboard goes to id (0: nobody). */
static void set_holder(struct control *c, unsigned id, struct after *a, const char *why)
{
    if (c->holder == id)
        return;
    struct entry *from = find(c, c->holder), *to = find(c, id);
    LOG_INFO("control", "keyboard: %s%s%s -> %s%s%s (%s)", from ? from->info.account : "nobody",
             from ? "@" : "", from ? from->info.addr : "", to ? to->info.account : "nobody",
             to ? "@" : "", to ? to->info.addr : "", why);
    c->holder = id;
    c->holder_input_ms = clock_mono_ms();
    if (c->requested_by == id)
        c->requested_by = 0;
    c->generation++;
    c->handovers++;
    a->changed = true;
}

/* Under the lock: an idle holder lets go. */
static void expire_holder(struct control *c, int64_t now, struct after *a)
{
    if (c->holder && c->idle_release_ms > 0 && now - c->holder_input_ms >= c->idle_release_ms)
        set_holder(c, 0, a, "idle");
}

struct control_owner *control_owner_add(struct control *c, const char *name, void (*wake)(void *ctx),
                                        void (*end)(void *ctx, unsigned id, uintptr_t key), void *ctx)
{
    pthread_mutex_lock(&c->lock);
    struct control_owner *o = NULL;
    if (c->n_owners < OWNERS_MAX) {
        o = &c->owners[c->n_owners++];
        snprintf(o->name, sizeof(o->name), "%s", name);
        o->wake = wake;
        o->end = end;
        o->ctx = ctx;
    }
    pthread_mutex_unlock(&c->lock);
    return o;
}

void control_owner_service(struct control *c, struct control_owner *o)
{
    if (!c || !o)
        return;
    for (;;) {
        unsigned id = 0;
        uintptr_t key = 0;
        pthread_mutex_lock(&c->lock);
        for (int i = 0; i < CONTROL_SESSIONS_MAX && !id; i++) {
            struct entry *e = &c->e[i];
            if (e->used && e->owner == o && e->end_asked) {
                e->end_asked = false; /* once: end closes it, or it stays listed */
                id = e->info.id;
                key = e->key;
            }
        }
        pthread_mutex_unlock(&c->lock);
        if (!id)
            return;
        o->end(o->ctx, id, key);
    }
}

unsigned control_session_open(struct control *c, struct control_owner *o, enum control_iface iface,
                              const char *account, const char *addr, enum auth_role role, uintptr_t key,
                              unsigned parent)
{
    if (!c || !o)
        return 0;
    pthread_mutex_lock(&c->lock);
    struct entry *e = NULL;
    for (int i = 0; i < CONTROL_SESSIONS_MAX && !e; i++)
        if (!c->e[i].used)
            e = &c->e[i];
    unsigned id = 0;
    if (e) {
        memset(e, 0, sizeof(*e));
        e->used = true;
        e->owner = o;
        e->key = key;
        id = e->info.id = c->next_id++;
        if (!c->next_id)
            c->next_id = 1;
        e->info.iface = iface;
        snprintf(e->info.account, sizeof(e->info.account), "%s", account ? account : "");
        snprintf(e->info.addr, sizeof(e->info.addr), "%s", addr ? addr : "");
        e->info.role = role;
        e->info.parent = find(c, parent) ? parent : 0;
        e->info.start_unix_ms = e->info.last_unix_ms = wall_ms();
        e->last_mono_ms = clock_mono_ms();
    }
    pthread_mutex_unlock(&c->lock);
    if (!e)
        LOG_WARN("control", "%s@%s (%s): the session list is full; not listed", account, addr,
                 control_iface_name(iface));
    return id;
}

void control_session_close(struct control *c, unsigned id)
{
    if (!c || !id)
        return;
    struct after a = {0};
    pthread_mutex_lock(&c->lock);
    struct entry *e = find(c, id);
    if (e) {
        e->used = false;
        if (c->holder && c->holder == group_of(e)) {
            /* The group keeps the keyboard while one of it that can type is left. */
            bool left = false;
            for (int i = 0; i < CONTROL_SESSIONS_MAX && !left && c->holder != id; i++)
                left = c->e[i].used && group_of(&c->e[i]) == c->holder && control_iface_inputs(c->e[i].info.iface);
            if (!left)
                set_holder(c, 0, &a, "the holder left");
        }
        if (c->requested_by == id)
            c->requested_by = 0;
    }
    pthread_mutex_unlock(&c->lock);
    run_after(c, &a);
}

void control_session_touch(struct control *c, unsigned id)
{
    if (!c || !id)
        return;
    pthread_mutex_lock(&c->lock);
    struct entry *e = find(c, id);
    if (e) {
        e->last_mono_ms = clock_mono_ms();
        e->info.last_unix_ms = wall_ms();
    }
    pthread_mutex_unlock(&c->lock);
}

int control_session_end(struct control *c, unsigned id)
{
    struct after a = {0};
    pthread_mutex_lock(&c->lock);
    struct entry *e = find(c, id);
    if (e) {
        e->end_asked = true;
        a.wake = e->owner->wake;
        a.wake_ctx = e->owner->ctx;
    }
    pthread_mutex_unlock(&c->lock);
    run_after(c, &a);
    return e ? 0 : -1;
}

unsigned control_session_find(struct control *c, struct control_owner *o, uintptr_t key)
{
    unsigned id = 0;
    pthread_mutex_lock(&c->lock);
    for (int i = 0; i < CONTROL_SESSIONS_MAX && !id; i++)
        if (c->e[i].used && c->e[i].owner == o && c->e[i].key == key)
            id = c->e[i].info.id;
    pthread_mutex_unlock(&c->lock);
    return id;
}

/* Under the lock: the public view of an entry. */
static void fill_info(const struct control *c, const struct entry *e, int64_t now,
                      struct control_session_info *out)
{
    *out = e->info;
    out->typing = e->input_mono_ms && now - e->input_mono_ms < CONTROL_TYPING_MS;
    out->holder = c->holder && c->holder == group_of(e);
    out->requested = c->requested_by && c->requested_by == group_of(e);
}

int control_list(struct control *c, struct control_session_info *out, int max)
{
    struct after a = {0};
    int64_t now = clock_mono_ms();
    int n = 0;
    pthread_mutex_lock(&c->lock);
    expire_holder(c, now, &a);
    for (int i = 0; i < CONTROL_SESSIONS_MAX && n < max; i++)
        if (c->e[i].used)
            fill_info(c, &c->e[i], now, &out[n++]);
    pthread_mutex_unlock(&c->lock);
    run_after(c, &a);
    /* In the order they started: ids only grow. */
    for (int i = 1; i < n; i++)
        for (int j = i; j > 0 && out[j - 1].id > out[j].id; j--) {
            struct control_session_info t = out[j];
            out[j] = out[j - 1];
            out[j - 1] = t;
        }
    return n;
}

int control_get(struct control *c, unsigned id, struct control_session_info *out)
{
    pthread_mutex_lock(&c->lock);
    struct entry *e = find(c, id);
    if (e)
        fill_info(c, e, clock_mono_ms(), out);
    pthread_mutex_unlock(&c->lock);
    return e ? 0 : -1;
}

bool control_input(struct control *c, unsigned id)
{
    if (!c)
        return true;
    struct after a = {0};
    int64_t now = clock_mono_ms();
    pthread_mutex_lock(&c->lock);
    struct entry *e = find(c, id);
    bool ok = e ? e->info.role >= AUTH_ROLE_OPERATOR : !id && !c->exclusive;
    if (ok && e && c->exclusive) {
        expire_holder(c, now, &a);
        if (!c->holder)
            set_holder(c, group_of(e), &a, "first input while free");
        ok = c->holder == group_of(e);
    }
    if (ok && e) {
        e->input_mono_ms = e->last_mono_ms = now;
        e->info.last_unix_ms = wall_ms();
        if (c->holder == group_of(e))
            c->holder_input_ms = now;
    } else if (!ok) {
        c->dropped++;
        if (e)
            e->info.dropped++;
    }
    pthread_mutex_unlock(&c->lock);
    run_after(c, &a);
    return ok;
}

uint64_t control_generation(struct control *c)
{
    if (!c)
        return 0;
    struct after a = {0};
    pthread_mutex_lock(&c->lock);
    expire_holder(c, clock_mono_ms(), &a);
    uint64_t g = c->generation;
    pthread_mutex_unlock(&c->lock);
    run_after(c, &a);
    return g;
}

/* Under the lock: whether e may hold the keyboard. */
static bool may_type(const struct entry *e)
{
    return e && e->info.role >= AUTH_ROLE_OPERATOR;
}

int control_request(struct control *c, unsigned id)
{
    struct after a = {0};
    pthread_mutex_lock(&c->lock);
    struct entry *e = find(c, id);
    int r;
    if (!e) {
        r = -1;
    } else if (!c->exclusive || !may_type(e)) {
        r = -2;
    } else {
        expire_holder(c, clock_mono_ms(), &a);
        if (!c->holder || c->holder == group_of(e)) {
            set_holder(c, group_of(e), &a, "requested while free");
            r = 0;
        } else {
            if (c->requested_by != id) {
                struct entry *h = find(c, c->holder);
                LOG_INFO("control", "keyboard: %s@%s asks %s for it", e->info.account, e->info.addr,
                         h ? h->info.account : "?");
            }
            c->requested_by = group_of(e);
            r = 1;
        }
    }
    pthread_mutex_unlock(&c->lock);
    run_after(c, &a);
    return r;
}

int control_release(struct control *c, unsigned id)
{
    struct after a = {0};
    pthread_mutex_lock(&c->lock);
    struct entry *e = find(c, id);
    int r = !e ? -1 : c->holder != group_of(e) ? -2 : 0;
    if (r == 0)
        set_holder(c, 0, &a, "released");
    pthread_mutex_unlock(&c->lock);
    run_after(c, &a);
    return r;
}

int control_give(struct control *c, unsigned from, unsigned to)
{
    struct after a = {0};
    pthread_mutex_lock(&c->lock);
    struct entry *f = find(c, from), *t = find(c, to);
    int r = !f || !t ? -1 : (c->holder != group_of(f) || !may_type(t)) ? -2 : 0;
    if (r == 0)
        set_holder(c, group_of(t), &a, "handed over");
    pthread_mutex_unlock(&c->lock);
    run_after(c, &a);
    return r;
}

int control_take(struct control *c, unsigned id)
{
    struct after a = {0};
    pthread_mutex_lock(&c->lock);
    struct entry *e = find(c, id);
    int r = !e ? -1 : (!c->exclusive || !may_type(e)) ? -2 : 0;
    if (r == 0)
        set_holder(c, group_of(e), &a, "taken by an admin");
    pthread_mutex_unlock(&c->lock);
    run_after(c, &a);
    return r;
}

void control_get_state(struct control *c, struct control_state *out)
{
    struct after a = {0};
    int64_t now = clock_mono_ms();
    pthread_mutex_lock(&c->lock);
    expire_holder(c, now, &a);
    memset(out, 0, sizeof(*out));
    out->exclusive = c->exclusive;
    out->idle_release_s = c->idle_release_ms / 1000;
    struct entry *h = find(c, c->holder), *q = find(c, c->requested_by);
    if (h) {
        out->holder = h->info.id;
        snprintf(out->holder_account, sizeof(out->holder_account), "%s", h->info.account);
        out->holder_iface = h->info.iface;
        out->holder_idle_ms = now - c->holder_input_ms;
    }
    if (q) {
        out->requested_by = q->info.id;
        snprintf(out->requested_account, sizeof(out->requested_account), "%s", q->info.account);
    }
    out->generation = c->generation;
    out->dropped = c->dropped;
    out->handovers = c->handovers;
    pthread_mutex_unlock(&c->lock);
    run_after(c, &a);
}

void control_unwatch(struct control *c, void (*fn)(void *ctx), void *ctx)
{
    pthread_mutex_lock(&c->lock);
    for (int i = 0; i < c->n_watchers; i++)
        if (c->watchers[i].fn == fn && c->watchers[i].ctx == ctx) {
            c->watchers[i] = c->watchers[--c->n_watchers];
            break;
        }
    pthread_mutex_unlock(&c->lock);
}

int control_watch(struct control *c, void (*fn)(void *ctx), void *ctx)
{
    pthread_mutex_lock(&c->lock);
    int r = -1;
    if (c->n_watchers < WATCHERS_MAX) {
        c->watchers[c->n_watchers].fn = fn;
        c->watchers[c->n_watchers].ctx = ctx;
        c->n_watchers++;
        r = 0;
    }
    pthread_mutex_unlock(&c->lock);
    return r;
}
