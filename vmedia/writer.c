/* Uploads whose disk work runs on a writer thread of their own: the caller
 * (the web thread, which must never wait on a slow or failing SD card)
 * only copies bytes into a bounded queue; the writer creates the temporary
 * file, writes, fsyncs, renames and fsyncs the directory (transfer.c), and
 * wakes the caller when the queue has room again or the upload has ended.
 * The queue is bounded by the caller stopping its reads (the web thread's
 * receive flow control) once vmedia_writer_push says it is full. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/log.h"
#include "common/thread.h"
#include "vmedia/vmedia_internal.h"

/* Blocks of this size: the writer writes a whole one at a time (few large
 * writes on an SD card rather than one per TLS record). */
#define WRITER_BLOCK (256u << 10)
/* The writer checks for cancellation (store closing) this often while idle. */
#define WRITER_POLL_MS 200

struct wblock {
    struct wblock *next;
    size_t len;
    uint8_t data[WRITER_BLOCK];
};

struct vmedia_writer {
    struct vmedia_upload *u;            /* the store's slot (its thread is ours) */
    uint64_t expected;
    void (*wake)(void *arg);
    void *arg;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    /* under mu */
    struct wblock *head, *tail;         /* queued bytes, oldest first */
    size_t queued;
    bool finishing;                     /* every byte came: install when the queue is empty */
    bool released;                      /* the caller let go: cancel, and the thread frees */
    bool waiting_room;                  /* the caller stopped reading until there is room */
    bool thread_done;
    enum vmedia_state state;
    int err;
    char message[192];
    struct vmedia_image img;
};

static void free_blocks(struct wblock *b)
{
    while (b) {
        struct wblock *next = b->next;
        free(b);
        b = next;
    }
}

static void writer_free(struct vmedia_writer *w)
{
    free_blocks(w->head);
    pthread_mutex_destroy(&w->mu);
    pthread_cond_destroy(&w->cv);
    free(w);
}

/* A block the writer may take: any but the one the caller still fills,
 * unless every byte has come. mu held. */
static struct wblock *take_block(struct vmedia_writer *w)
{
    struct wblock *b = w->head;
    if (!b || (b == w->tail && b->len < WRITER_BLOCK && !w->finishing))
        return NULL;
    w->head = b->next;
    if (!w->head)
        w->tail = NULL;
    return b;
}

static void wait_work(struct vmedia_writer *w)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_nsec += WRITER_POLL_MS * 1000000L;
    if (ts.tv_nsec >= 1000000000L) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000L;
    }
    pthread_cond_timedwait(&w->cv, &w->mu, &ts);
}

/* The writer's loop: returns the upload's result; the slot has ended (its
 * temporary file installed or removed) when it returns. */
static int run(struct vmedia_writer *w)
{
    struct vmedia_upload *u = w->u;
    int r = vmedia_transfer_open(u, w->expected);
    if (r != VMEDIA_OK) {
        vmedia_transfer_end(u, r, NULL);
        return r;
    }
    pthread_mutex_lock(&w->mu);
    for (;;) {
        if (w->released || atomic_load(&u->cancel)) {
            pthread_mutex_unlock(&w->mu);
            vmedia_transfer_end(u, VMEDIA_E_CANCELLED, w->released ? "the client went away" : "cancelled");
            return VMEDIA_E_CANCELLED;
        }
        struct wblock *b = take_block(w);
        if (b) {
            pthread_mutex_unlock(&w->mu);
            r = vmedia_upload_write(u, b->data, b->len); /* on an error the file is gone already */
            pthread_mutex_lock(&w->mu);
            w->queued -= b->len;
            free(b);
            if (r != VMEDIA_OK) {
                pthread_mutex_unlock(&w->mu);
                return r;
            }
            /* Wake the caller at half the bound, not at every block: one
             * wake-up per ~2 MiB written. */
            if (w->waiting_room && w->queued <= VMEDIA_WRITER_QUEUE_MAX / 2) {
                w->waiting_room = false;
                if (!w->released)
                    w->wake(w->arg);
            }
            continue;
        }
        if (w->finishing && !w->head) {
            pthread_mutex_unlock(&w->mu);
            return vmedia_upload_finish(u);
        }
        wait_work(w);
    }
}

static void *writer_main(void *arg)
{
    struct vmedia_writer *w = arg;
    struct vmedia_upload *u = w->u;
    struct vmedia_store *s = u->store;
    int r = run(w);
    struct vmedia_image img;
    memset(&img, 0, sizeof(img));
    if (r == VMEDIA_OK && vmedia_stat(s, u->p.name, &img) != VMEDIA_OK)
        r = VMEDIA_E_IO; /* installed, then gone: tell the client, do not pretend */
    char message[sizeof(w->message)];
    pthread_mutex_lock(&s->lock);
    snprintf(message, sizeof(message), "%s", u->p.message);
    pthread_mutex_unlock(&s->lock);
    pthread_mutex_lock(&w->mu);
    w->state = r == VMEDIA_OK ? VMEDIA_DONE : r == VMEDIA_E_CANCELLED ? VMEDIA_CANCELLED : VMEDIA_FAILED;
    w->err = r;
    snprintf(w->message, sizeof(w->message), "%s", r == VMEDIA_OK ? "" : message);
    w->img = img;
    w->thread_done = true;
    bool orphan = w->released;
    /* Under mu: vmedia_writer_release (which takes mu) cannot return, and
     * the caller go away, while its wake-up runs. */
    if (!orphan)
        w->wake(w->arg);
    pthread_mutex_unlock(&w->mu);
    if (orphan)
        writer_free(w);
    return NULL;
}

int vmedia_writer_begin(struct vmedia_store *s, const char *name, uint64_t expected, void (*wake)(void *arg),
                        void *arg, struct vmedia_writer **out)
{
    *out = NULL;
    if (vmedia_name_check(name) != VMEDIA_OK)
        return VMEDIA_E_NAME;
    if (s->max_size && expected > s->max_size)
        return VMEDIA_E_TOOBIG;
    struct vmedia_writer *w = calloc(1, sizeof(*w));
    if (!w)
        return VMEDIA_E_NOMEM;
    w->expected = expected;
    w->wake = wake;
    w->arg = arg;
    w->state = VMEDIA_RUNNING;
    pthread_mutex_init(&w->mu, NULL);
    pthread_cond_init(&w->cv, NULL);
    char final[PATH_MAX];
    vmedia_path_of(s, NULL, name, final, sizeof(final));
    pthread_mutex_lock(&s->lock);
    /* a lookup in a directory piglix just read (cached), never a write */
    int r = access(final, F_OK) == 0 ? VMEDIA_E_EXISTS : vmedia_slot_claim(s, name, false, &w->u);
    if (r == VMEDIA_OK) {
        /* Under the store lock, so that vmedia_store_close sees the thread
         * it must join. The slot is RUNNING: nobody reuses it meanwhile. */
        if (thread_start(&w->u->thread, writer_main, w) != 0) {
            w->u->used = false;
            r = VMEDIA_E_NOMEM;
        } else {
            w->u->has_thread = true;
        }
    }
    pthread_mutex_unlock(&s->lock);
    if (r != VMEDIA_OK) {
        writer_free(w);
        return r;
    }
    *out = w;
    return VMEDIA_OK;
}

int vmedia_writer_push(struct vmedia_writer *w, const void *data, size_t len, bool *room)
{
    const uint8_t *p = data;
    int r = VMEDIA_OK;
    pthread_mutex_lock(&w->mu);
    if (w->state != VMEDIA_RUNNING || w->thread_done) {
        r = w->err ? w->err : VMEDIA_E_IO;
        len = 0;
    }
    if (w->finishing) {
        r = VMEDIA_E_IO; /* bytes after the end: a caller's mistake */
        len = 0;
    }
    bool took = false;
    while (len) {
        struct wblock *b = w->tail;
        if (!b || b->len == WRITER_BLOCK) {
            b = malloc(sizeof(*b));
            if (!b) {
                r = VMEDIA_E_NOMEM;
                break;
            }
            b->next = NULL;
            b->len = 0;
            if (w->tail)
                w->tail->next = b;
            else
                w->head = b;
            w->tail = b;
        }
        size_t n = WRITER_BLOCK - b->len < len ? WRITER_BLOCK - b->len : len;
        memcpy(b->data + b->len, p, n);
        b->len += n;
        w->queued += n;
        p += n;
        len -= n;
        if (b->len == WRITER_BLOCK)
            took = true;
    }
    if (took)
        pthread_cond_signal(&w->cv);
    *room = w->queued < VMEDIA_WRITER_QUEUE_MAX;
    if (!*room)
        w->waiting_room = true;
    pthread_mutex_unlock(&w->mu);
    return r;
}

bool vmedia_writer_has_room(struct vmedia_writer *w)
{
    pthread_mutex_lock(&w->mu);
    bool room = w->queued < VMEDIA_WRITER_QUEUE_MAX || w->state != VMEDIA_RUNNING;
    if (!room)
        w->waiting_room = true;
    pthread_mutex_unlock(&w->mu);
    return room;
}

void vmedia_writer_finish(struct vmedia_writer *w)
{
    pthread_mutex_lock(&w->mu);
    w->finishing = true;
    pthread_cond_signal(&w->cv);
    pthread_mutex_unlock(&w->mu);
}

enum vmedia_state vmedia_writer_poll(struct vmedia_writer *w, int *err, char *message, size_t n,
                                     struct vmedia_image *img)
{
    pthread_mutex_lock(&w->mu);
    enum vmedia_state st = w->thread_done ? w->state : VMEDIA_RUNNING;
    *err = w->thread_done ? w->err : VMEDIA_OK;
    if (message && n)
        snprintf(message, n, "%s", w->thread_done ? w->message : "");
    if (img && st == VMEDIA_DONE)
        *img = w->img;
    pthread_mutex_unlock(&w->mu);
    return st;
}

void vmedia_writer_release(struct vmedia_writer *w)
{
    if (!w)
        return;
    pthread_mutex_lock(&w->mu);
    w->released = true;
    bool done = w->thread_done;
    pthread_cond_signal(&w->cv);
    pthread_mutex_unlock(&w->mu);
    if (done)
        writer_free(w); /* else the writer thread frees it as it ends */
}
