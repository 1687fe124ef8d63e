#include "pipeline/pipeline.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/clock.h"
#include "common/log.h"

/* A handful of entries covers the common cases: clients in step (the last
 * damage), new clients (the whole screen) and a lossless refresh. */
#define PIPELINE_CACHE 6

struct cache_entry {
    uint64_t seq;
    enum encode_mode mode;
    uint8_t *tiles, *lossy; /* the request and its lossy map */
    struct update *u;
    uint64_t last_use;
};

struct pipeline {
    struct damage_tracker *damage;
    struct encoder *enc;
    uint8_t *damage_map;
    int64_t *changed_ms;
    size_t map_len;
    unsigned tile;
    uint64_t seq, use_clock;
    bool has_picture;
    struct cache_entry cache[PIPELINE_CACHE];
    struct pipeline_stats stats;
};

struct pipeline *pipeline_create(const struct encode_settings *es, unsigned tile)
{
    struct pipeline *p = calloc(1, sizeof(*p));
    if (!p)
        return NULL;
    p->tile = tile;
    p->damage = damage_create(tile);
    p->enc = encoder_create(es);
    if (!p->damage || !p->enc) {
        pipeline_destroy(p);
        return NULL;
    }
    return p;
}

static void cache_clear(struct pipeline *p)
{
    for (int i = 0; i < PIPELINE_CACHE; i++) {
        struct cache_entry *c = &p->cache[i];
        update_unref(c->u);
        free(c->tiles);
        free(c->lossy);
        memset(c, 0, sizeof(*c));
    }
}

void pipeline_destroy(struct pipeline *p)
{
    if (!p)
        return;
    cache_clear(p);
    damage_destroy(p->damage);
    encoder_destroy(p->enc);
    free(p->damage_map);
    free(p->changed_ms);
    free(p);
}

int pipeline_feed(struct pipeline *p, const struct capture_frame *f, bool *resized)
{
    struct tile_grid g;
    tile_grid_init(&g, f->width, f->height, p->tile);
    size_t need = tile_grid_count(&g);
    if (p->map_len < need) {
        uint8_t *m = realloc(p->damage_map, need);
        if (m)
            p->damage_map = m;
        int64_t *c = realloc(p->changed_ms, need * sizeof(*c));
        if (c)
            p->changed_ms = c;
        if (!m || !c)
            return -1;
        p->map_len = need;
    }
    double t0 = (clock_mono_ns() / 1e6);
    bool reset = false;
    int n = damage_update(p->damage, f, p->damage_map, p->map_len, &reset);
    p->stats.damage_ms += (clock_mono_ns() / 1e6) - t0;
    p->stats.frames++;
    if (n < 0)
        return -1;
    *resized = reset && p->has_picture;
    p->has_picture = true;
    if (n == 0) {
        p->stats.static_frames++;
        return 0;
    }
    encoder_invalidate(p->enc, damage_grid(p->damage), p->damage_map);
    int64_t t = (int64_t)(clock_mono_ns() / 1e6);
    for (size_t i = 0; i < need; i++)
        if (p->damage_map[i])
            p->changed_ms[i] = t;
    p->seq++;
    cache_clear(p);
    return n;
}

bool pipeline_has_picture(const struct pipeline *p) { return p->has_picture; }
const struct tile_grid *pipeline_grid(const struct pipeline *p) { return damage_grid(p->damage); }
const uint8_t *pipeline_last_damage(const struct pipeline *p) { return p->damage_map; }
uint64_t pipeline_seq(const struct pipeline *p) { return p->seq; }
const int64_t *pipeline_tile_changed_ms(const struct pipeline *p) { return p->changed_ms; }

struct update *pipeline_encode(struct pipeline *p, const uint8_t *tiles, enum encode_mode mode,
                               uint8_t *lossy)
{
    const struct tile_grid *g = damage_grid(p->damage);
    size_t n = tile_grid_count(g);
    p->use_clock++;
    for (int i = 0; i < PIPELINE_CACHE; i++) {
        struct cache_entry *c = &p->cache[i];
        if (c->u && c->seq == p->seq && c->mode == mode && memcmp(c->tiles, tiles, n) == 0) {
            c->last_use = p->use_clock;
            p->stats.cache_hits++;
            if (lossy)
                for (size_t t = 0; t < n; t++)
                    if (tiles[t])
                        lossy[t] = c->lossy[t];
            return update_ref(c->u);
        }
    }
    struct cache_entry *victim = &p->cache[0];
    for (int i = 1; i < PIPELINE_CACHE; i++)
        if (p->cache[i].last_use < victim->last_use)
            victim = &p->cache[i];

    struct update *u = update_new();
    uint8_t *tcopy = malloc(n), *lcopy = calloc(1, n);
    if (!u || !tcopy || !lcopy)
        goto fail;
    memcpy(tcopy, tiles, n);
    double t0 = (clock_mono_ns() / 1e6);
    int r = encoder_encode(p->enc, damage_shadow(p->damage), g, tiles, mode, u, lcopy);
    p->stats.encode_ms += (clock_mono_ns() / 1e6) - t0;
    p->stats.encodes++;
    if (r < 0)
        goto fail;
    update_unref(victim->u);
    free(victim->tiles);
    free(victim->lossy);
    *victim = (struct cache_entry){.seq = p->seq, .mode = mode, .tiles = tcopy, .lossy = lcopy,
                                   .u = update_ref(u), .last_use = p->use_clock};
    if (lossy)
        for (size_t t = 0; t < n; t++)
            if (tiles[t])
                lossy[t] = lcopy[t];
    return u;
fail:
    LOG_ERROR("pipeline", "encoding failed");
    update_unref(u);
    free(tcopy);
    free(lcopy);
    return NULL;
}

const uint8_t *pipeline_rgbx(struct pipeline *p, const uint8_t *tiles, unsigned *stride)
{
    return encoder_rgbx(p->enc, damage_shadow(p->damage), damage_grid(p->damage), tiles, stride);
}

void pipeline_get_stats(const struct pipeline *p, struct pipeline_stats *out) { *out = p->stats; }
void pipeline_get_encode_stats(const struct pipeline *p, struct encode_stats *out)
{
    encoder_get_stats(p->enc, out);
}

const struct capture_frame *pipeline_picture(const struct pipeline *p)
{
    return p->has_picture ? damage_shadow(p->damage) : NULL;
}
