/* audit/audit.c: the process-wide log: the queue any thread records into,
 * the writer thread that appends and syncs, and the readers. */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "audit/audit_internal.h"
#include "common/liveness.h"
#include "common/clock.h"
#include "common/log.h"
#include "common/thread.h"

#define QUEUE_SIZE 256
#define BATCH_MAX 32
#define SETTLE_MS 500

static struct {
    pthread_mutex_t mu;
    pthread_cond_t wake;        /* the writer: records queued, or stop */
    pthread_cond_t written;     /* readers waiting for the queue to drain */
    bool open, direct, stop, thread_running;
    pthread_t thread;
    struct audit_files files;   /* the writer thread's (or, direct, under mu) */
    struct audit_syslog *syslog;
    struct audit_event queue[QUEUE_SIZE];
    size_t head, count;
    uint64_t queued, done;      /* records taken in / handled by the writer */
    uint64_t dropped;
    int64_t last_add_ms, last_clear_ms;
    bool write_failed;          /* logged once until a write succeeds */
} g = {.mu = PTHREAD_MUTEX_INITIALIZER, .wake = PTHREAD_COND_INITIALIZER, .written = PTHREAD_COND_INITIALIZER};

/* The files and the syslog forwarder: the writer thread's, also taken by
 * audit_clear and by direct-mode records (after mu, never before). */
static pthread_mutex_t files_mu = PTHREAD_MUTEX_INITIALIZER;

static int64_t now_utc_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Appends and syncs a batch; called by the writer thread (or, direct, with
 * mu held). */
static void write_batch(struct audit_event *evs, size_t n)
{
    pthread_mutex_lock(&files_mu);
    int r = audit_files_append(&g.files, evs, n);
    if (r == 0)
        r = audit_files_sync(&g.files);
    if (r < 0 && !g.write_failed)
        LOG_ERROR("audit", "%s: %s: records are not being kept", g.files.path, strerror(errno));
    else if (r == 0 && g.write_failed)
        LOG_INFO("audit", "%s: writing again", g.files.path);
    g.write_failed = r < 0;
    for (size_t i = 0; i < n; i++)
        audit_syslog_send(g.syslog, &evs[i]);
    pthread_mutex_unlock(&files_mu);
}

static void *writer_main(void *arg)
{
    (void)arg;
    struct audit_event batch[BATCH_MAX];
    struct liveness *live = liveness_register("audit");
    pthread_mutex_lock(&g.mu);
    for (;;) {
        while (!g.count && !g.stop) {
            pthread_mutex_lock(&files_mu);
            bool waiting = audit_syslog_poll(g.syslog);
            pthread_mutex_unlock(&files_mu);
            if (waiting) {
                /* TCP data waits for the collector: look again soon. */
                struct timespec ts;
                clock_gettime(CLOCK_REALTIME, &ts);
                ts.tv_nsec += 200 * 1000000L;
                if (ts.tv_nsec >= 1000000000L) {
                    ts.tv_sec++;
                    ts.tv_nsec -= 1000000000L;
                }
                pthread_cond_timedwait(&g.wake, &g.mu, &ts);
                pthread_mutex_unlock(&g.mu);
                liveness_beat(live);
                pthread_mutex_lock(&g.mu);
            } else {
                liveness_cond_wait(live, &g.wake, &g.mu);
            }
        }
        if (!g.count && g.stop)
            break;
        size_t n = 0;
        while (g.count && n < BATCH_MAX) {
            batch[n++] = g.queue[g.head];
            g.head = (g.head + 1) % QUEUE_SIZE;
            g.count--;
        }
        pthread_mutex_unlock(&g.mu);
        liveness_beat(live);
        /* The disk and the network without the lock: recording threads
         * only ever wait for a queue slot copy. */
        write_batch(batch, n);
        pthread_mutex_lock(&g.mu);
        g.done += n;
        pthread_cond_broadcast(&g.written);
    }
    pthread_mutex_unlock(&g.mu);
    liveness_unregister(live);
    return NULL;
}

int audit_check_config(const struct config_audit *cfg, FILE *err)
{
    enum audit_syslog_proto proto;
    char host[256], port[8];
    if (cfg->syslog[0] &&
        audit_syslog_parse_url(cfg->syslog, &proto, host, sizeof(host), port, sizeof(port)) < 0) {
        fprintf(err, "[audit] syslog = %s: not udp://HOST:PORT or tcp://HOST:PORT\n", cfg->syslog);
        return -1;
    }
    return 0;
}

int audit_open(const struct config_audit *cfg, const char *state_dir, bool direct, FILE *err)
{
    pthread_mutex_lock(&g.mu);
    if (g.open) {
        pthread_mutex_unlock(&g.mu);
        return 0;
    }
    pthread_mutex_unlock(&g.mu);
    struct audit_syslog *sl = NULL;
    if (cfg->syslog[0] && !(sl = audit_syslog_open(cfg->syslog, err)))
        return -1;
    static struct audit_files files; /* 8 KiB of paths: not on the stack */
    if (audit_files_open(&files, state_dir, (uint64_t)cfg->max_kb * 1024, cfg->files, err) < 0) {
        audit_syslog_close(sl);
        return -1;
    }
    pthread_mutex_lock(&g.mu);
    g.files = files;
    g.syslog = sl;
    g.direct = direct;
    g.stop = false;
    g.head = g.count = 0;
    g.open = true;
    if (!direct) {
        int r = thread_start(&g.thread, writer_main, NULL);
        if (r != 0) {
            g.open = false;
            pthread_mutex_unlock(&g.mu);
            fprintf(err, "audit: writer thread: %s\n", strerror(r));
            audit_files_close(&g.files);
            audit_syslog_close(sl);
            g.syslog = NULL;
            return -1;
        }
        g.thread_running = true;
    }
    pthread_mutex_unlock(&g.mu);
    return 0;
}

void audit_close(void)
{
    pthread_mutex_lock(&g.mu);
    if (!g.open) {
        pthread_mutex_unlock(&g.mu);
        return;
    }
    g.stop = true;
    pthread_cond_signal(&g.wake);
    bool running = g.thread_running;
    pthread_mutex_unlock(&g.mu);
    if (running)
        pthread_join(g.thread, NULL);
    pthread_mutex_lock(&g.mu);
    g.thread_running = false;
    g.open = false;
    audit_files_close(&g.files);
    audit_syslog_close(g.syslog);
    g.syslog = NULL;
    pthread_mutex_unlock(&g.mu);
}

void audit_vrecord(enum audit_kind kind, enum audit_iface iface, enum audit_outcome outcome,
                   const char *account, const char *address, const char *detail_fmt, va_list ap)
{
    struct audit_event ev = {.time_ms = now_utc_ms(), .kind = kind, .iface = iface, .outcome = outcome};
    char detail[AUDIT_DETAIL_MAX * 2] = "";
    if (detail_fmt)
        vsnprintf(detail, sizeof(detail), detail_fmt, ap);
    audit_sanitize(ev.account, sizeof(ev.account), account);
    audit_sanitize(ev.address, sizeof(ev.address), address);
    audit_sanitize(ev.detail, sizeof(ev.detail), detail);
    LOG_INFO("audit", "%s %s %s account=%s address=%s%s%s", audit_kind_name(kind), audit_iface_name(iface),
             audit_outcome_name(outcome), ev.account[0] ? ev.account : "-", ev.address[0] ? ev.address : "-",
             ev.detail[0] ? ": " : "", ev.detail);
    pthread_mutex_lock(&g.mu);
    if (!g.open) {
        pthread_mutex_unlock(&g.mu);
        return;
    }
    g.last_add_ms = ev.time_ms;
    if (g.direct) {
        write_batch(&ev, 1);
    } else if (g.count == QUEUE_SIZE) {
        if (g.dropped++ == 0)
            LOG_WARN("audit", "queue full: records are dropped (counted in the log's stats)");
    } else {
        g.queue[(g.head + g.count) % QUEUE_SIZE] = ev;
        g.count++;
        g.queued++;
        pthread_cond_signal(&g.wake);
    }
    pthread_mutex_unlock(&g.mu);
}

void audit_record(enum audit_kind kind, enum audit_iface iface, enum audit_outcome outcome,
                  const char *account, const char *address, const char *detail_fmt, ...)
{
    va_list ap;
    va_start(ap, detail_fmt);
    audit_vrecord(kind, iface, outcome, account, address, detail_fmt, ap);
    va_end(ap);
}

void audit_record_role_refused(enum audit_iface iface, const char *account, const char *address,
                               const char *what)
{
    audit_record(AUDIT_ROLE_REFUSED, iface, AUDIT_REFUSED, account, address, "%s", what ? what : "");
}

/* Waits (at most SETTLE_MS) until what was queued before the call is
 * written, then hands out the paths. false when no log is open. Readers
 * run on the web and IPMI threads: a disk that stalls a sync costs them
 * this much, never more (they then read what is there). */
static bool settle(char *path, char *lock_path, int *files)
{
    pthread_mutex_lock(&g.mu);
    if (!g.open) {
        pthread_mutex_unlock(&g.mu);
        return false;
    }
    uint64_t target = g.queued;
    int64_t deadline = clock_mono_ms() + SETTLE_MS;
    while (g.done < target && clock_mono_ms() < deadline) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_nsec += 100 * 1000000L;
        if (ts.tv_nsec >= 1000000000L) {
            ts.tv_sec++;
            ts.tv_nsec -= 1000000000L;
        }
        pthread_cond_timedwait(&g.written, &g.mu, &ts);
    }
    memcpy(path, g.files.path, sizeof(g.files.path));
    memcpy(lock_path, g.files.lock_path, sizeof(g.files.lock_path));
    *files = g.files.files;
    pthread_mutex_unlock(&g.mu);
    return true;
}

struct query_ctx {
    const struct audit_query *q;
    struct audit_event *out;
    size_t max, n;
    uint64_t skipped;
    bool more;
};

/* Records come newest first (audit_files_scan_newest): the first q->skip
 * matches are left out, the next max kept, one more says there is a next
 * page, and the scan stops there. */
static int query_fn(const struct audit_event *ev, void *arg)
{
    struct query_ctx *c = arg;
    const struct audit_query *q = c->q;
    if (q->before_id && ev->id >= q->before_id)
        return 0; /* newer than the cursor: older ones follow */
    if ((q->since_ms && ev->time_ms < q->since_ms) || (q->until_ms && ev->time_ms >= q->until_ms) ||
        (q->kinds && !(q->kinds & (1u << ev->kind))))
        return 0; /* times need not be ordered (the clock may be set back): go on */
    if (c->skipped < q->skip) {
        c->skipped++;
        return 0;
    }
    if (c->n == c->max) {
        c->more = true;
        return 1;
    }
    c->out[c->n++] = *ev;
    return 0;
}

static struct {
    char path[4096], lock_path[4096];
} read_paths; /* guarded by reader_mu: 8 KiB, not on a door's stack */
static pthread_mutex_t reader_mu = PTHREAD_MUTEX_INITIALIZER;

int audit_query(const struct audit_query *q, struct audit_event *out, size_t max, size_t *n, uint64_t *next)
{
    *n = 0;
    *next = 0;
    if (max == 0)
        return 0;
    struct query_ctx c = {.q = q, .out = out, .max = max};
    int files;
    pthread_mutex_lock(&reader_mu);
    int rc = settle(read_paths.path, read_paths.lock_path, &files)
                 ? audit_files_scan_newest(read_paths.path, read_paths.lock_path, files, query_fn, &c)
                 : -1;
    pthread_mutex_unlock(&reader_mu);
    if (rc == 0) {
        *n = c.n;
        if (c.more && c.n)
            *next = out[c.n - 1].id;
    }
    return rc;
}

struct get_ctx {
    uint64_t id;
    struct audit_event *out;
    bool found;
};

static int get_fn(const struct audit_event *ev, void *arg)
{
    struct get_ctx *c = arg;
    if (ev->id != c->id)
        return 0;
    *c->out = *ev;
    c->found = true;
    return 1;
}

int audit_get(uint64_t id, struct audit_event *out)
{
    struct get_ctx c = {.id = id, .out = out};
    int files;
    pthread_mutex_lock(&reader_mu);
    int rc = settle(read_paths.path, read_paths.lock_path, &files)
                 ? audit_files_scan(read_paths.path, read_paths.lock_path, files, get_fn, &c)
                 : -1;
    pthread_mutex_unlock(&reader_mu);
    return rc < 0 ? -1 : c.found ? 1 : 0;
}

int audit_foreach(int (*fn)(const struct audit_event *ev, void *ctx), void *ctx)
{
    int files;
    pthread_mutex_lock(&reader_mu);
    int rc = settle(read_paths.path, read_paths.lock_path, &files)
                 ? audit_files_scan(read_paths.path, read_paths.lock_path, files, fn, ctx)
                 : -1;
    pthread_mutex_unlock(&reader_mu);
    return rc;
}

static int stats_fn(const struct audit_event *ev, void *arg)
{
    struct audit_stats *st = arg;
    if (!st->first_id)
        st->first_id = ev->id;
    st->last_id = ev->id;
    st->count++;
    st->bytes += AUDIT_LINE_MAX; /* replaced by the exact size below */
    return 0;
}

int audit_stats(struct audit_stats *st)
{
    memset(st, 0, sizeof(*st));
    int files;
    pthread_mutex_lock(&reader_mu);
    int rc = settle(read_paths.path, read_paths.lock_path, &files)
                 ? audit_files_scan(read_paths.path, read_paths.lock_path, files, stats_fn, st)
                 : -1;
    if (rc == 0) {
        st->bytes = 0;
        for (int k = 0; k < files; k++) {
            char p[4200];
            struct stat sb;
            int n = k ? snprintf(p, sizeof(p), "%s.%d", read_paths.path, k)
                      : snprintf(p, sizeof(p), "%s", read_paths.path);
            if (n > 0 && (size_t)n < sizeof(p) && stat(p, &sb) == 0)
                st->bytes += (uint64_t)sb.st_size;
        }
    }
    pthread_mutex_unlock(&reader_mu);
    pthread_mutex_lock(&g.mu);
    st->max_bytes = g.files.max_bytes * (uint64_t)g.files.files;
    st->last_add_ms = g.last_add_ms;
    st->last_clear_ms = g.last_clear_ms;
    st->dropped = g.dropped;
    pthread_mutex_unlock(&g.mu);
    return rc;
}

int audit_clear(enum audit_iface iface, const char *account, const char *address)
{
    char p[4096], lp[4096];
    int files;
    if (!settle(p, lp, &files))
        return -1;
    pthread_mutex_lock(&files_mu);
    int rc = audit_files_clear(&g.files);
    pthread_mutex_unlock(&files_mu);
    pthread_mutex_lock(&g.mu);
    if (rc == 0)
        g.last_clear_ms = now_utc_ms();
    pthread_mutex_unlock(&g.mu);
    if (rc == 0)
        audit_record(AUDIT_LOG_CLEARED, iface, AUDIT_OK, account, address, "log cleared");
    return rc;
}
