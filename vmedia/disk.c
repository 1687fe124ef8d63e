/* The store's disk thread ("vmedia-disk"): the small writes that used to
 * run on the caller's thread (the web thread, which must never wait on a
 * slow or failing SD card): the drive's mount record ([state]
 * dir/vmedia.mount) and the unlink of deleted images. Callers hand over and
 * return at once:
 * - the mount record is one newest-wins slot: a record superseded before
 *   the thread took it is never written, and since one thread writes them
 *   in turn, the file ends as the last request said. Each is written whole
 *   through common/statefile (old or new record, never a torn one).
 * - a deleted image was renamed into the trash directory by vmedia_delete
 *   (one metadata write on the caller's thread, so no listing shows it);
 *   the thread unlinks what the trash holds (freeing a large file's blocks
 *   is the slow part).
 * vmedia_store_close drains both before the thread ends, so a clean stop
 * (SIGTERM) writes the last record. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/liveness.h"
#include "common/log.h"
#include "common/statefile.h"
#include "common/thread.h"
#include "vmedia/vmedia_internal.h"

int vmedia_record_put(struct vmedia_record *r, const char *path, const void *bytes, size_t len)
{
    if (strlen(path) >= sizeof(r->path) || (bytes && len > sizeof(r->bytes)))
        return VMEDIA_E_NAME;
    if (r->pending)
        r->superseded++;
    snprintf(r->path, sizeof(r->path), "%s", path);
    r->remove = bytes == NULL;
    r->len = bytes ? len : 0;
    if (bytes && len)
        memcpy(r->bytes, bytes, len);
    r->pending = true;
    return VMEDIA_OK;
}

bool vmedia_record_take(struct vmedia_record *r, struct vmedia_record *out)
{
    if (!r->pending)
        return false;
    *out = *r;
    r->pending = false;
    return true;
}

static void write_record(const struct vmedia_record *r)
{
    if (r->remove) {
        if (statefile_remove(r->path) < 0)
            LOG_WARN("vmedia", "cannot remove %s (or sync its directory): %s", r->path, strerror(errno));
        return;
    }
    if (statefile_write_bytes(r->path, r->bytes, r->len, 0600, NULL) != 0)
        LOG_WARN("vmedia", "cannot remember the mount in %s: %s (it will not survive a restart)", r->path,
                 strerror(errno));
}

static void empty_trash(const char *trash, struct liveness *live)
{
    DIR *d = opendir(trash);
    if (!d) {
        LOG_WARN("vmedia", "%s: %s: deleted images keep their space", trash, strerror(errno));
        return;
    }
    struct dirent *e;
    while ((e = readdir(d))) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        if (unlinkat(dirfd(d), e->d_name, 0) < 0 && errno != ENOENT)
            LOG_WARN("vmedia", "cannot remove the deleted image %s/%s: %s", trash, e->d_name, strerror(errno));
        liveness_beat(live);
    }
    closedir(d);
}

static void *disk_main(void *arg)
{
    struct vmedia_disk *k = arg;
    struct liveness *live = liveness_register("vmedia-disk");
    pthread_mutex_lock(&k->mu);
    for (;;) {
        while (!k->rec.pending && !k->trash_dirty && !k->stop)
            liveness_cond_wait(live, &k->wake, &k->mu);
        if (!k->rec.pending && !k->trash_dirty)
            break;  /* stopping, nothing left to write */
        struct vmedia_record rec;
        bool have = vmedia_record_take(&k->rec, &rec);
        bool trash = k->trash_dirty;
        k->trash_dirty = false;
        k->busy = true;
        pthread_mutex_unlock(&k->mu);
        liveness_beat(live);
        /* the disk without the lock: callers only ever wait for a copy */
        if (have)
            write_record(&rec);
        if (trash)
            empty_trash(k->trash_dir, live);
        liveness_beat(live);
        pthread_mutex_lock(&k->mu);
        k->busy = false;
        if (have)
            k->written++;
        pthread_cond_broadcast(&k->idle);
    }
    pthread_mutex_unlock(&k->mu);
    liveness_unregister(live);
    return NULL;
}

int vmedia_disk_start(struct vmedia_disk *k, const char *trash_dir)
{
    memset(k, 0, sizeof(*k));
    snprintf(k->trash_dir, sizeof(k->trash_dir), "%s", trash_dir);
    /* trash names never meet a previous run's leftovers (and RENAME_NOREPLACE checks) */
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    atomic_store(&k->trash_seq, (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec);
    k->trash_dirty = true;  /* what a crash left in the trash */
    pthread_mutex_init(&k->mu, NULL);
    pthread_cond_init(&k->wake, NULL);
    pthread_cond_init(&k->idle, NULL);
    int r = thread_start(&k->thread, disk_main, k);
    if (r != 0) {
        LOG_ERROR("vmedia", "cannot start the disk thread: %s", strerror(r));
        pthread_cond_destroy(&k->idle);
        pthread_cond_destroy(&k->wake);
        pthread_mutex_destroy(&k->mu);
        return VMEDIA_E_NOMEM;
    }
    return VMEDIA_OK;
}

void vmedia_disk_stop(struct vmedia_disk *k)
{
    pthread_mutex_lock(&k->mu);
    k->stop = true;
    pthread_cond_signal(&k->wake);
    pthread_mutex_unlock(&k->mu);
    pthread_join(k->thread, NULL);
    pthread_cond_destroy(&k->idle);
    pthread_cond_destroy(&k->wake);
    pthread_mutex_destroy(&k->mu);
}

void vmedia_disk_put_record(struct vmedia_disk *k, const char *path, const void *bytes, size_t len)
{
    pthread_mutex_lock(&k->mu);
    if (vmedia_record_put(&k->rec, path, bytes, len) != VMEDIA_OK)
        LOG_WARN("vmedia", "the mount record for %s is too long: not remembered", path);
    pthread_cond_signal(&k->wake);
    pthread_mutex_unlock(&k->mu);
}

int vmedia_disk_trash(struct vmedia_disk *k, const char *path, const char *meta, const char *name)
{
    char dst[PATH_MAX + 32];
    int r = VMEDIA_E_IO;
    for (int i = 0; i < 8; i++) {
        unsigned long long n = (unsigned long long)atomic_fetch_add(&k->trash_seq, 1);
        snprintf(dst, sizeof(dst), "%s/%llu-%s", k->trash_dir, n, name);
        if (renameat2(AT_FDCWD, path, AT_FDCWD, dst, RENAME_NOREPLACE) == 0) {
            r = VMEDIA_OK;
            break;
        }
        if (errno == EXDEV) {
            /* the trash on another file system (a mount inside the store):
             * unlink here, as before the disk thread */
            if (unlink(path) < 0)
                return errno == ENOENT ? VMEDIA_E_NOTFOUND : VMEDIA_E_IO;
            unlink(meta);
            return VMEDIA_OK;
        }
        if (errno != EEXIST) {
            if (errno != ENOENT)
                LOG_WARN("vmedia", "cannot move %s to %s: %s", path, dst, strerror(errno));
            return errno == ENOENT ? VMEDIA_E_NOTFOUND : VMEDIA_E_IO;
        }
    }
    if (r != VMEDIA_OK)
        return r;
    /* its hash record goes too, now: a new image of that name must not meet it */
    snprintf(dst + strlen(dst), sizeof(dst) - strlen(dst), ".sha256");
    if (rename(meta, dst) < 0 && errno != ENOENT)
        unlink(meta);
    pthread_mutex_lock(&k->mu);
    k->trash_dirty = true;
    pthread_cond_signal(&k->wake);
    pthread_mutex_unlock(&k->mu);
    return VMEDIA_OK;
}

void vmedia_disk_sync(struct vmedia_disk *k)
{
    pthread_mutex_lock(&k->mu);
    while (k->rec.pending || k->trash_dirty || k->busy)
        pthread_cond_wait(&k->idle, &k->mu);
    pthread_mutex_unlock(&k->mu);
}
