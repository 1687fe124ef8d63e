/* Transfers into the store: a temporary file in the store's own file system
 * (so the final rename is atomic), hashed as it streams, renamed into place
 * only once complete and fsynced. Uploads are driven by the caller (the HTTP
 * server) chunk by chunk; downloads (download.c) use the same path. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/clock.h"
#include "common/log.h"
#include "common/statefile.h"
#include "vmedia/vmedia_internal.h"

int vmedia_slot_claim(struct vmedia_store *s, const char *name, bool download,
                      struct vmedia_upload **out)
{
    struct vmedia_upload *free_slot = NULL, *old = NULL;
    for (int i = 0; i < VMEDIA_MAX_TRANSFERS; i++) {
        struct vmedia_upload *u = &s->slots[i];
        if (u->used && strcmp(u->p.name, name) == 0) {
            if (u->p.state == VMEDIA_RUNNING)
                return VMEDIA_E_BUSY;
            old = u; /* a finished transfer of that name: reuse its slot */
        } else if ((!u->used || u->p.state != VMEDIA_RUNNING) && !free_slot && !u->has_thread) {
            free_slot = u;
        }
    }
    struct vmedia_upload *u = old ? old : free_slot;
    if (!u) {
        /* a finished download's thread may still need joining */
        for (int i = 0; i < VMEDIA_MAX_TRANSFERS && !u; i++)
            if (s->slots[i].p.state != VMEDIA_RUNNING)
                u = &s->slots[i];
        if (!u)
            return VMEDIA_E_LIMIT;
    }
    if (u->has_thread) {
        pthread_join(u->thread, NULL);
        u->has_thread = false;
    }
    memset(u, 0, sizeof(*u));
    u->store = s;
    u->used = true;
    u->fd = -1;
    u->p.download = download;
    u->p.state = VMEDIA_RUNNING;
    snprintf(u->p.name, sizeof(u->p.name), "%s", name);
    u->started_ms = clock_mono_ms();
    *out = u;
    return VMEDIA_OK;
}

void vmedia_slot_fail(struct vmedia_upload *u, int err, const char *message)
{
    struct vmedia_store *s = u->store;
    pthread_mutex_lock(&s->lock);
    u->p.state = err == VMEDIA_E_CANCELLED ? VMEDIA_CANCELLED : VMEDIA_FAILED;
    u->p.error = err;
    snprintf(u->p.message, sizeof(u->p.message), "%s", message ? message : vmedia_strerror(err));
    pthread_cond_broadcast(&s->changed);
    pthread_mutex_unlock(&s->lock);
}

/* What a failed call on the store means for the transfer; why says which
 * call and errno, for the client (EIO, EROFS and ENOSPC read differently). */
static int io_error(struct vmedia_upload *u, const char *call)
{
    int e = errno;
    if (e == EROFS)
        snprintf(u->why, sizeof(u->why), "the image store is read-only (%s)", call);
    else
        snprintf(u->why, sizeof(u->why), "%s in the image store: %s", call, strerror(e));
    return e == ENOSPC || e == EDQUOT ? VMEDIA_E_NOSPACE : VMEDIA_E_IO;
}

int vmedia_transfer_open(struct vmedia_upload *u, uint64_t expected)
{
    struct vmedia_store *s = u->store;
    vmedia_path_of(s, VMEDIA_TMP_DIR, u->p.name, u->tmp_path, sizeof(u->tmp_path));
    u->fd = open(u->tmp_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
    if (u->fd < 0) {
        LOG_ERROR("vmedia", "%s: cannot create %s: %s", u->p.name, u->tmp_path, strerror(errno));
        return io_error(u, "creating the file");
    }
    u->sha = EVP_MD_CTX_new();
    if (!u->sha || EVP_DigestInit_ex(u->sha, EVP_sha256(), NULL) != 1)
        return VMEDIA_E_NOMEM;
    u->p.total = expected;
    /* Claim the space up front when the size is known: a full disk fails now
     * rather than after gigabytes. */
    if (expected) {
        int r = posix_fallocate(u->fd, 0, (off_t)expected);
        if (r == ENOSPC)
            return VMEDIA_E_NOSPACE;
    }
    return VMEDIA_OK;
}

static int write_all(struct vmedia_upload *u, const uint8_t *p, size_t n)
{
    while (n) {
        ssize_t w = write(u->fd, p, n);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return io_error(u, "writing");
        }
        p += w;
        n -= (size_t)w;
    }
    return VMEDIA_OK;
}

int vmedia_upload_write(struct vmedia_upload *u, const void *data, size_t len)
{
    struct vmedia_store *s = u->store;
    if (u->p.state != VMEDIA_RUNNING)
        return u->p.error ? u->p.error : VMEDIA_E_CANCELLED;
    if (atomic_load(&u->cancel)) {
        vmedia_transfer_end(u, VMEDIA_E_CANCELLED, NULL);
        return VMEDIA_E_CANCELLED;
    }
    uint64_t done = u->p.done + len;
    if ((s->max_size && done > s->max_size) || (u->p.total && done > u->p.total)) {
        int err = s->max_size && done > s->max_size ? VMEDIA_E_TOOBIG : VMEDIA_E_IO;
        vmedia_transfer_end(u, err, err == VMEDIA_E_IO ? "more bytes than announced" : NULL);
        return err;
    }
    int r = write_all(u, data, len);
    if (r == VMEDIA_OK && EVP_DigestUpdate(u->sha, data, len) != 1)
        r = VMEDIA_E_IO;
    if (r != VMEDIA_OK) {
        vmedia_transfer_end(u, r, NULL);
        return r;
    }
    /* Write back in windows as the bytes come, and drop them from the page
     * cache once on disk: a 4 GB upload neither fills memory with dirty
     * pages nor leaves a long fsync for the end. */
    uint64_t window = (uint64_t)VMEDIA_WRITEBACK_WINDOW;
    if (done / window != u->p.done / window) {
        off_t end = (off_t)(done / window * window);
        sync_file_range(u->fd, end - (off_t)window, (off_t)window, SYNC_FILE_RANGE_WRITE);
        if (end >= 2 * (off_t)window) {
            off_t prev = end - 2 * (off_t)window;
            /* The wait reports a write-back error (a failing card): the
             * upload ends now, not gigabytes later at the final fsync. A
             * file that cannot be synced this way (not a regular file) is
             * left to that fsync. */
            if (sync_file_range(u->fd, prev, (off_t)window,
                                SYNC_FILE_RANGE_WAIT_BEFORE | SYNC_FILE_RANGE_WRITE | SYNC_FILE_RANGE_WAIT_AFTER) < 0 &&
                errno != ESPIPE && errno != EINVAL) {
                r = io_error(u, "writing back");
                vmedia_transfer_end(u, r, NULL);
                return r;
            }
            posix_fadvise(u->fd, prev, (off_t)window, POSIX_FADV_DONTNEED);
        }
    }
    int64_t elapsed = clock_mono_ms() - u->started_ms;
    pthread_mutex_lock(&s->lock);
    u->p.done = done;
    u->p.rate = elapsed > 0 ? (double)done * 1000.0 / (double)elapsed : 0;
    pthread_mutex_unlock(&s->lock);
    return VMEDIA_OK;
}

static int install(struct vmedia_upload *u)
{
    struct vmedia_store *s = u->store;
    unsigned char md[32];
    unsigned mdlen = 0;
    if (EVP_DigestFinal_ex(u->sha, md, &mdlen) != 1 || mdlen != 32)
        return VMEDIA_E_IO;
    if (ftruncate(u->fd, (off_t)u->p.done) < 0)
        return io_error(u, "truncating");
    if (fsync(u->fd) < 0)
        return io_error(u, "fsync");
    struct stat st;
    if (fstat(u->fd, &st) < 0)
        return VMEDIA_E_IO;
    char final[PATH_MAX], meta[PATH_MAX];
    vmedia_path_of(s, NULL, u->p.name, final, sizeof(final));
    vmedia_path_of(s, VMEDIA_META_DIR, u->p.name, meta, sizeof(meta));
    if (renameat2(AT_FDCWD, u->tmp_path, AT_FDCWD, final, RENAME_NOREPLACE) < 0)
        return errno == EEXIST ? VMEDIA_E_EXISTS : io_error(u, "renaming");
    u->tmp_path[0] = '\0';
    /* the hash record beside it, replaced whole (a cut leaves none or all
     * of it: a missing one only costs hashing the image again) */
    char rec[128];
    int n = 0;
    for (int i = 0; i < 32; i++)
        n += snprintf(rec + n, sizeof(rec) - (size_t)n, "%02x", md[i]);
    n += snprintf(rec + n, sizeof(rec) - (size_t)n, " %llu %lld\n", (unsigned long long)st.st_size,
                  (long long)st.st_mtime);
    if (statefile_write_bytes(meta, rec, (size_t)n, 0644, NULL) < 0)
        LOG_WARN("vmedia", "%s: the hash record was not written", u->p.name);
    int dfd = open(s->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
        fsync(dfd);
        close(dfd);
    }
    return VMEDIA_OK;
}

int vmedia_transfer_end(struct vmedia_upload *u, int result, const char *message)
{
    struct vmedia_store *s = u->store;
    if (u->p.state != VMEDIA_RUNNING)
        return u->p.error;
    if (result == VMEDIA_OK && u->p.total && u->p.done != u->p.total)
        result = VMEDIA_E_SHORT;
    if (result == VMEDIA_OK)
        result = install(u);
    if (u->fd >= 0)
        close(u->fd);
    u->fd = -1;
    if (u->tmp_path[0])
        unlink(u->tmp_path);
    EVP_MD_CTX_free(u->sha);
    u->sha = NULL;
    if (result == VMEDIA_OK) {
        int64_t ms = clock_mono_ms() - u->started_ms;
        LOG_INFO("vmedia", "%s %s: %llu bytes in %.1f s", u->p.download ? "downloaded" : "uploaded",
                 u->p.name, (unsigned long long)u->p.done, ms / 1000.0);
        pthread_mutex_lock(&s->lock);
        u->p.state = VMEDIA_DONE;
        pthread_cond_broadcast(&s->changed);
        pthread_mutex_unlock(&s->lock);
    } else {
        if (!message && u->why[0])
            message = u->why;
        LOG_WARN("vmedia", "%s of %s failed after %llu bytes: %s; partial file removed",
                 u->p.download ? "download" : "upload", u->p.name, (unsigned long long)u->p.done,
                 message ? message : vmedia_strerror(result));
        vmedia_slot_fail(u, result, message);
    }
    return result;
}

int vmedia_upload_begin(struct vmedia_store *s, const char *name, uint64_t expected,
                        struct vmedia_upload **out)
{
    if (vmedia_name_check(name) != VMEDIA_OK)
        return VMEDIA_E_NAME;
    if (s->max_size && expected > s->max_size)
        return VMEDIA_E_TOOBIG;
    char final[PATH_MAX];
    vmedia_path_of(s, NULL, name, final, sizeof(final));
    pthread_mutex_lock(&s->lock);
    int r = access(final, F_OK) == 0 ? VMEDIA_E_EXISTS : vmedia_slot_claim(s, name, false, out);
    pthread_mutex_unlock(&s->lock);
    if (r != VMEDIA_OK)
        return r;
    r = vmedia_transfer_open(*out, expected);
    if (r != VMEDIA_OK) {
        vmedia_transfer_end(*out, r, NULL);
        *out = NULL;
    }
    return r;
}

int vmedia_upload_finish(struct vmedia_upload *u)
{
    return vmedia_transfer_end(u, VMEDIA_OK, NULL);
}

void vmedia_upload_abort(struct vmedia_upload *u, const char *why)
{
    if (u)
        vmedia_transfer_end(u, VMEDIA_E_CANCELLED, why);
}

size_t vmedia_transfers(struct vmedia_store *s, struct vmedia_progress *out, size_t max)
{
    size_t n = 0;
    pthread_mutex_lock(&s->lock);
    for (int i = 0; i < VMEDIA_MAX_TRANSFERS && n < max; i++)
        if (s->slots[i].used)
            out[n++] = s->slots[i].p;
    pthread_mutex_unlock(&s->lock);
    return n;
}

int vmedia_wait(struct vmedia_store *s, const char *name, struct vmedia_progress *out)
{
    pthread_mutex_lock(&s->lock);
    for (;;) {
        struct vmedia_upload *found = NULL;
        for (int i = 0; i < VMEDIA_MAX_TRANSFERS; i++)
            if (s->slots[i].used && strcmp(s->slots[i].p.name, name) == 0)
                found = &s->slots[i];
        if (!found) {
            pthread_mutex_unlock(&s->lock);
            return VMEDIA_E_NOTFOUND;
        }
        if (found->p.state != VMEDIA_RUNNING) {
            *out = found->p;
            pthread_mutex_unlock(&s->lock);
            return VMEDIA_OK;
        }
        pthread_cond_wait(&s->changed, &s->lock);
    }
}
