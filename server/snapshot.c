/* Full-frame JPEGs of the current picture for other threads (the web
 * server's snapshot and MJPEG stream), and a shared copy of the statistics.
 *
 * The pipeline belongs to the server thread, so other threads only leave a
 * request here and wake the server's loop through its eventfd (as
 * server_adopt_client does). The server thread encodes when asked and the
 * picture changed since the last JPEG, from the pipeline's RGBX copy (which
 * the Tight encoder converts lazily anyway), then tells the listener. */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <turbojpeg.h>
#include <unistd.h>

#include "common/log.h"
#include "server/vnc_internal.h"

struct jpeg_ref {
    struct server_jpeg pub;     /* first: the public view casts back */
    atomic_int refs;
    unsigned char *buf;         /* from tjAlloc */
};

struct server_snapshot {
    pthread_mutex_t lock;
    struct jpeg_ref *cache;     /* the newest JPEG, or NULL */
    bool wanted;                /* someone waits for a newer one */
    bool current;               /* the cache shows the pipeline's picture */
    uint64_t pipe_seq_done;     /* pipeline_seq the cache shows */
    bool have_pipe_seq;
    uint64_t next_seq;
    server_jpeg_ready_fn listener;
    void *listener_ctx;
    struct server_stats stats;
    tjhandle tj;
    int quality, subsamp;
};

static int tj_subsamp(const char *name)
{
    switch (encode_subsamp_parse(name)) {
    case ENCODE_SUBSAMP_444: return TJSAMP_444;
    case ENCODE_SUBSAMP_420: return TJSAMP_420;
    case ENCODE_SUBSAMP_GRAY: return TJSAMP_GRAY;
    default: return TJSAMP_422;
    }
}

struct server_snapshot *server_snapshot_create(const struct config_encode *cfg)
{
    struct server_snapshot *ss = calloc(1, sizeof(*ss));
    if (!ss)
        return NULL;
    pthread_mutex_init(&ss->lock, NULL);
    ss->quality = cfg->quality;
    ss->subsamp = tj_subsamp(cfg->subsampling);
    return ss;
}

static void jpeg_unref(struct jpeg_ref *j)
{
    if (j && atomic_fetch_sub(&j->refs, 1) == 1) {
        tjFree(j->buf);
        free(j);
    }
}

void server_jpeg_unref(const struct server_jpeg *j)
{
    jpeg_unref((struct jpeg_ref *)j);
}

void server_snapshot_destroy(struct server_snapshot *ss)
{
    if (!ss)
        return;
    jpeg_unref(ss->cache);
    if (ss->tj)
        tjDestroy(ss->tj);
    pthread_mutex_destroy(&ss->lock);
    free(ss);
}

void server_set_jpeg_listener(struct server *s, server_jpeg_ready_fn fn, void *ctx)
{
    pthread_mutex_lock(&s->snapshot->lock);
    s->snapshot->listener = fn;
    s->snapshot->listener_ctx = ctx;
    pthread_mutex_unlock(&s->snapshot->lock);
}

const struct server_jpeg *server_request_jpeg(struct server *s, uint64_t after_seq)
{
    struct server_snapshot *ss = s->snapshot;
    struct jpeg_ref *j = NULL;
    pthread_mutex_lock(&ss->lock);
    if (ss->cache && ss->current && ss->cache->pub.seq > after_seq) {
        j = ss->cache;
        atomic_fetch_add(&j->refs, 1);
    }
    bool wake = !j && !ss->wanted;
    if (!j)
        ss->wanted = true;
    pthread_mutex_unlock(&ss->lock);
    if (wake)
        vnc_wake(s);
    return j ? &j->pub : NULL;
}

void server_get_stats_shared(struct server *s, struct server_stats *out)
{
    pthread_mutex_lock(&s->snapshot->lock);
    *out = s->snapshot->stats;
    pthread_mutex_unlock(&s->snapshot->lock);
}

/* Encodes the current picture; NULL when there is none or on failure. */
static struct jpeg_ref *encode_picture(struct server *s, struct server_snapshot *ss)
{
    const struct tile_grid *g = pipeline_grid(s->pipe);
    unsigned stride = 0;
    const uint8_t *rgbx = pipeline_rgbx(s->pipe, NULL, &stride);
    if (!rgbx || !g->width || !g->height)
        return NULL;
    if (!ss->tj && !(ss->tj = tjInitCompress())) {
        LOG_ERROR("snapshot", "tjInitCompress: %s", tjGetErrorStr2(NULL));
        return NULL;
    }
    struct jpeg_ref *j = calloc(1, sizeof(*j));
    if (!j)
        return NULL;
    unsigned long len = 0;
    if (tjCompress2(ss->tj, rgbx, (int)g->width, (int)stride, (int)g->height, TJPF_RGBX, &j->buf,
                    &len, ss->subsamp, ss->quality, TJFLAG_FASTDCT) != 0) {
        LOG_ERROR("snapshot", "JPEG of %ux%u failed: %s", g->width, g->height,
                  tjGetErrorStr2(ss->tj));
        tjFree(j->buf);
        free(j);
        return NULL;
    }
    atomic_init(&j->refs, 1);
    j->pub.data = j->buf;
    j->pub.len = len;
    j->pub.width = g->width;
    j->pub.height = g->height;
    return j;
}

void server_snapshot_service(struct server *s)
{
    struct server_snapshot *ss = s->snapshot;
    struct server_stats st;
    server_get_stats(s, &st);
    uint64_t pipe_seq = pipeline_seq(s->pipe);
    pthread_mutex_lock(&ss->lock);
    ss->stats = st;
    if (!ss->have_pipe_seq || ss->pipe_seq_done != pipe_seq)
        ss->current = false;
    bool wanted = ss->wanted, current = ss->current;
    pthread_mutex_unlock(&ss->lock);
    /* A current cache and still wanted: the waiter wants the next picture. */
    if (!wanted || current || !pipeline_has_picture(s->pipe))
        return;
    struct jpeg_ref *j = encode_picture(s, ss);
    if (!j)
        return;
    pthread_mutex_lock(&ss->lock);
    j->pub.seq = ++ss->next_seq;
    struct jpeg_ref *old = ss->cache;
    ss->cache = j;
    ss->wanted = false;
    ss->current = true;
    ss->pipe_seq_done = pipe_seq;
    ss->have_pipe_seq = true;
    server_jpeg_ready_fn fn = ss->listener;
    void *ctx = ss->listener_ctx;
    pthread_mutex_unlock(&ss->lock);
    jpeg_unref(old);
    if (fn)
        fn(ctx);
}
