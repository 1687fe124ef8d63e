/* Password hashing off the event loop. A yescrypt hash costs tens of
 * milliseconds: done in the web thread, a login flood would stall every
 * viewer and stream. One worker thread takes checks from a short queue (the
 * per-second budget, WEB_HASHES_PER_S, still bounds them), and wakes the
 * event loop (lws_cancel_service) when one is done; the web thread then
 * dispatches the waiting request again, which finds its result.
 *
 * Ownership: a job belongs to the worker from submission until it is on the
 * done list; job->c is read and written by the web thread only (a closing
 * connection clears it), and only the web thread frees jobs. */
#include <stdlib.h>
#include <string.h>

#include "common/liveness.h"
#include "common/log.h"
#include "common/thread.h"
#include "web/web_internal.h"

#define HASH_QUEUE_MAX 16

struct web_hash_job {
    struct web_conn *c;                /* NULL once the connection went (web thread) */
    bool make;                         /* make a new hash (set-up), not check one */
    char name[AUTH_NAME_MAX + 1];
    char password[AUTH_PASSWORD_MAX + 1];
    char hash[AUTH_HASH_MAX];           /* checked against, or made */
    bool ok;                           /* the worker's answer */
    struct web_hash_job *next;
};

struct web_hasher {
    struct web *w;
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    struct web_hash_job *todo, *todo_tail, *done;
    int queued;
    bool stop;
    atomic_int ready;                  /* done list not empty: for the wake-up */
};

static void job_free(struct web_hash_job *j)
{
    explicit_bzero(j, sizeof(*j));
    free(j);
}

static void run_job(struct web_hash_job *j)
{
    if (j->make)
        j->ok = auth_password_hash(j->password, j->hash) == 0;
    else
        j->ok = auth_password_verify(j->password, j->hash);
    explicit_bzero(j->password, sizeof(j->password));
}

static void *worker(void *arg)
{
    struct web_hasher *h = arg;
    struct liveness *live = liveness_register("web-hash");
    pthread_mutex_lock(&h->mu);
    for (;;) {
        while (!h->todo && !h->stop)
            liveness_cond_wait(live, &h->cv, &h->mu);
        if (h->stop)
            break;
        struct web_hash_job *j = h->todo;
        h->todo = j->next;
        if (!h->todo)
            h->todo_tail = NULL;
        pthread_mutex_unlock(&h->mu);
        liveness_beat(live);
        run_job(j);
        pthread_mutex_lock(&h->mu);
        h->queued--;
        j->next = h->done;
        h->done = j;
        atomic_store(&h->ready, 1);
        pthread_mutex_unlock(&h->mu);
        lws_cancel_service(h->w->ctx);
        pthread_mutex_lock(&h->mu);
    }
    pthread_mutex_unlock(&h->mu);
    return NULL;
}

struct web_hasher *web_hasher_create(struct web *w)
{
    struct web_hasher *h = calloc(1, sizeof(*h));
    if (!h)
        return NULL;
    h->w = w;
    pthread_mutex_init(&h->mu, NULL);
    pthread_cond_init(&h->cv, NULL);
    int r = thread_start(&h->thread, worker, h);
    if (r != 0) {
        LOG_ERROR("web", "cannot start the password-hashing thread: %s", strerror(r));
        pthread_mutex_destroy(&h->mu);
        pthread_cond_destroy(&h->cv);
        free(h);
        return NULL;
    }
    return h;
}

static void free_list(struct web_hash_job *j)
{
    while (j) {
        struct web_hash_job *next = j->next;
        job_free(j);
        j = next;
    }
}

void web_hasher_destroy(struct web_hasher *h)
{
    if (!h)
        return;
    pthread_mutex_lock(&h->mu);
    h->stop = true;
    pthread_cond_signal(&h->cv);
    pthread_mutex_unlock(&h->mu);
    pthread_join(h->thread, NULL);
    free_list(h->todo);
    free_list(h->done);
    pthread_mutex_destroy(&h->mu);
    pthread_cond_destroy(&h->cv);
    free(h);
}

/* Queues a job for c; false when the queue is full. */
static bool submit(struct web_hasher *h, struct web_conn *c, struct web_hash_job *j)
{
    pthread_mutex_lock(&h->mu);
    bool room = h->queued < HASH_QUEUE_MAX;
    if (room) {
        h->queued++;
        j->c = c;
        if (h->todo_tail)
            h->todo_tail->next = j;
        else
            h->todo = j;
        h->todo_tail = j;
        pthread_cond_signal(&h->cv);
    }
    pthread_mutex_unlock(&h->mu);
    if (room)
        c->hash_job = j;
    return room;
}

void web_hasher_complete(struct web *w)
{
    struct web_hasher *h = w->hasher;
    if (!h || !atomic_exchange(&h->ready, 0))
        return;
    pthread_mutex_lock(&h->mu);
    struct web_hash_job *list = h->done;
    h->done = NULL;
    pthread_mutex_unlock(&h->mu);
    while (list) {
        struct web_hash_job *j = list;
        list = j->next;
        struct web_conn *c = j->c;
        if (c) {
            c->hash_job = NULL;
            c->hash_done = true;
            c->hash_ok = j->ok;
            snprintf(c->hash_name, sizeof(c->hash_name), "%s", j->name);
            snprintf(c->hash_of, sizeof(c->hash_of), "%s", j->hash);
        }
        job_free(j);
        if (!c)
            continue;
        /* the request again: now it finds its result */
        if (c->pending_headers) {
            c->pending_headers = false;
            lws_rx_flow_control(c->wsi, 1); /* its body may come now */
            web_request_continue(c);
        } else if (web_vmedia_is_upload(c)) {
            web_vmedia_upload_begin(c);
            lws_rx_flow_control(c->wsi, 1); /* its body may come now */
        } else {
            web_api_dispatch(c);
        }
    }
}

void web_hasher_forget(struct web_conn *c)
{
    /* After web_hasher_destroy (shutdown) the jobs are gone already. */
    if (c->hash_job && c->w->hasher)
        c->hash_job->c = NULL; /* the job finishes and is freed unseen */
    c->hash_job = NULL;
    web_hash_result_clear(c);
}

void web_hash_result_clear(struct web_conn *c)
{
    c->hash_done = false;
    c->hash_ok = false;
    explicit_bzero(c->hash_name, sizeof(c->hash_name));
    explicit_bzero(c->hash_of, sizeof(c->hash_of));
}

static enum web_pw start(struct web_conn *c, const char *name, const char *password, const char *hash,
                         bool make)
{
    struct web *w = c->w;
    if (c->hash_job)
        return WEB_PW_PENDING; /* cannot happen: lws gives one request at a time */
    if (!web_auth_hash_budget(w))
        return WEB_PW_BUSY;
    struct web_hash_job *j = calloc(1, sizeof(*j));
    if (!j)
        return WEB_PW_BUSY;
    j->make = make;
    snprintf(j->name, sizeof(j->name), "%s", name);
    snprintf(j->password, sizeof(j->password), "%s", password);
    snprintf(j->hash, sizeof(j->hash), "%s", hash);
    if (!submit(w->hasher, c, j)) {
        job_free(j);
        return WEB_PW_BUSY;
    }
    return WEB_PW_PENDING;
}

enum web_pw web_auth_password(struct web_conn *c, const char *name, const char *password,
                              struct auth_account **acc)
{
    struct web *w = c->w;
    *acc = NULL;
    if (c->hash_done) {
        struct auth_account *a = auth_accounts_find(&w->accounts, name);
        /* The account must still have the hash that was checked: a password
         * changed meanwhile makes the old one worthless. */
        bool ok = c->hash_ok && strcmp(c->hash_name, name) == 0 && a &&
                  strlen(a->hash) == strlen(c->hash_of) && auth_equal_ct(a->hash, c->hash_of, strlen(a->hash));
        web_hash_result_clear(c);
        *acc = ok ? a : NULL;
        return WEB_PW_DONE;
    }
    const struct auth_account *a = auth_accounts_find(&w->accounts, name);
    /* An unknown name is checked against a real hash of the same cost. */
    return start(c, name, password, a ? a->hash : auth_accounts_dummy_hash(), false);
}

enum web_pw web_auth_make_hash(struct web_conn *c, const char *password, char out[AUTH_HASH_MAX])
{
    if (c->hash_done) {
        bool ok = c->hash_ok && c->hash_of[0] == '$';
        snprintf(out, AUTH_HASH_MAX, "%s", ok ? c->hash_of : "");
        web_hash_result_clear(c);
        return ok ? WEB_PW_DONE : WEB_PW_BUSY;
    }
    return start(c, "", password, "", true);
}
