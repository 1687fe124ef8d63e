/* The image store: names, listing with sizes and hashes, delete, rename,
 * free space, and which images are in use. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>

#include "common/clock.h"
#include "common/log.h"
#include "vmedia/vmedia_internal.h"

const char *vmedia_strerror(int err)
{
    switch (err) {
    case VMEDIA_OK: return "ok";
    case VMEDIA_E_NAME: return "invalid image name (1-128 characters, no '/', not starting with '.', no control characters)";
    case VMEDIA_E_EXISTS: return "an image of that name already exists";
    case VMEDIA_E_NOTFOUND: return "no such image";
    case VMEDIA_E_BUSY: return "the image is being transferred or is in use";
    case VMEDIA_E_NOSPACE: return "the image store is full";
    case VMEDIA_E_TOOBIG: return "the image is larger than the configured limit";
    case VMEDIA_E_IO: return "input/output error in the image store";
    case VMEDIA_E_NET: return "download failed";
    case VMEDIA_E_CANCELLED: return "cancelled";
    case VMEDIA_E_NOMEM: return "out of memory";
    case VMEDIA_E_LIMIT: return "too many transfers at once";
    case VMEDIA_E_SHORT: return "the transfer ended before all announced bytes arrived";
    case VMEDIA_E_UNFIT: return "the image does not fit the drive as asked";
    }
    return "unknown error";
}

void vmedia_path_of(const struct vmedia_store *s, const char *sub, const char *name, char *out, size_t n)
{
    /* dir is at most PATH_MAX - 64 and names at most 128 bytes: callers pass
     * PATH_MAX buffers; a path that would not fit comes out empty. */
    int len = sub ? snprintf(out, n, "%s/%s/%s", s->dir, sub, name) : snprintf(out, n, "%s/%s", s->dir, name);
    if (len < 0 || (size_t)len >= n)
        out[0] = '\0';
}

int vmedia_name_check(const char *name)
{
    size_t len = strlen(name);
    if (len == 0 || len > VMEDIA_NAME_MAX || name[0] == '.' || strchr(name, '/'))
        return VMEDIA_E_NAME;
    for (const unsigned char *p = (const unsigned char *)name; *p; p++)
        if (*p < 0x20 || *p == 0x7f || *p == '\\')
            return VMEDIA_E_NAME;
    return VMEDIA_OK;
}

static void remove_dir_files(const char *path)
{
    DIR *d = opendir(path);
    if (!d)
        return;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.')
            continue;
        if (unlinkat(dirfd(d), e->d_name, 0) == 0)
            LOG_INFO("vmedia", "removed %s/%s left by an interrupted transfer", path, e->d_name);
    }
    closedir(d);
}

void vmedia_store_set_url_policy(struct vmedia_store *s, const struct vmedia_url_policy *p)
{
    pthread_mutex_lock(&s->lock);
    s->policy = *p;
    pthread_mutex_unlock(&s->lock);
}

int vmedia_store_open(const char *dir, uint64_t max_size, struct vmedia_store **out)
{
    struct vmedia_store *s = calloc(1, sizeof(*s));
    if (!s)
        return VMEDIA_E_NOMEM;
    if (strlen(dir) >= sizeof(s->dir)) {
        free(s);
        return VMEDIA_E_NAME;
    }
    strcpy(s->dir, dir);
    s->max_size = max_size;
    s->policy.allow_private = true;
    char tmp[PATH_MAX], meta[PATH_MAX], trash[PATH_MAX];
    snprintf(tmp, sizeof(tmp), "%s/%s", dir, VMEDIA_TMP_DIR);
    snprintf(meta, sizeof(meta), "%s/%s", dir, VMEDIA_META_DIR);
    snprintf(trash, sizeof(trash), "%s/%s", dir, VMEDIA_TRASH_DIR);
    if ((mkdir(dir, 0750) < 0 && errno != EEXIST) || (mkdir(tmp, 0700) < 0 && errno != EEXIST) ||
        (mkdir(meta, 0700) < 0 && errno != EEXIST) || (mkdir(trash, 0700) < 0 && errno != EEXIST)) {
        LOG_ERROR("vmedia", "cannot create the image store %s: %s", dir, strerror(errno));
        free(s);
        return VMEDIA_E_IO;
    }
    /* Partial files of transfers a previous run did not finish. */
    remove_dir_files(tmp);
    /* the trash's leftovers are the disk thread's first job */
    if (vmedia_disk_start(&s->disk, trash) != VMEDIA_OK) {
        free(s);
        return VMEDIA_E_NOMEM;
    }
    pthread_mutex_init(&s->lock, NULL);
    pthread_cond_init(&s->changed, NULL);
    *out = s;
    return VMEDIA_OK;
}

void vmedia_store_close(struct vmedia_store *s)
{
    if (!s)
        return;
    pthread_mutex_lock(&s->lock);
    for (int i = 0; i < VMEDIA_MAX_TRANSFERS; i++)
        if (s->slots[i].used)
            atomic_store(&s->slots[i].cancel, true);
    pthread_mutex_unlock(&s->lock);
    for (int i = 0; i < VMEDIA_MAX_TRANSFERS; i++)
        if (s->slots[i].has_thread) {
            pthread_join(s->slots[i].thread, NULL);
            s->slots[i].has_thread = false;
        }
    vmedia_disk_stop(&s->disk);  /* writes the last mount record, empties the trash */
    pthread_mutex_destroy(&s->lock);
    pthread_cond_destroy(&s->changed);
    free(s);
}

/* The sidecar holds "sha256 size mtime": a hash for a file that has changed
 * since is not reported. */
static void read_hash(const struct vmedia_store *s, const char *name, const struct stat *st, char out[65])
{
    out[0] = '\0';
    char path[PATH_MAX];
    vmedia_path_of(s, VMEDIA_META_DIR, name, path, sizeof(path));
    FILE *f = fopen(path, "r");
    if (!f)
        return;
    char hex[65];
    unsigned long long size;
    long long mtime;
    if (fscanf(f, "%64s %llu %lld", hex, &size, &mtime) == 3 && size == (unsigned long long)st->st_size &&
        mtime == (long long)st->st_mtime && strlen(hex) == 64)
        memcpy(out, hex, 65);
    fclose(f);
}

static bool in_use_locked(const struct vmedia_store *s, const char *name)
{
    for (int i = 0; i < VMEDIA_MAX_IN_USE; i++)
        if (s->in_use[i][0] && strcmp(s->in_use[i], name) == 0)
            return true;
    return false;
}

static bool transferring_locked(const struct vmedia_store *s, const char *name)
{
    for (int i = 0; i < VMEDIA_MAX_TRANSFERS; i++)
        if (s->slots[i].used && s->slots[i].p.state == VMEDIA_RUNNING &&
            strcmp(s->slots[i].p.name, name) == 0)
            return true;
    return false;
}

static int fill_image(struct vmedia_store *s, const char *name, struct vmedia_image *img)
{
    char path[PATH_MAX];
    vmedia_path_of(s, NULL, name, path, sizeof(path));
    struct stat st;
    if (stat(path, &st) < 0 || !S_ISREG(st.st_mode))
        return VMEDIA_E_NOTFOUND;
    memset(img, 0, sizeof(*img));
    snprintf(img->name, sizeof(img->name), "%s", name);
    img->size = (uint64_t)st.st_size;
    img->mtime = (int64_t)st.st_mtime;
    read_hash(s, name, &st, img->sha256);
    img->in_use = in_use_locked(s, name);
    return VMEDIA_OK;
}

static int cmp_image(const void *a, const void *b)
{
    return strcmp(((const struct vmedia_image *)a)->name, ((const struct vmedia_image *)b)->name);
}

int vmedia_list(struct vmedia_store *s, struct vmedia_image **out, size_t *n)
{
    *out = NULL;
    *n = 0;
    DIR *d = opendir(s->dir);
    if (!d)
        return VMEDIA_E_IO;
    size_t cap = 0;
    struct vmedia_image *v = NULL;
    struct dirent *e;
    int r = VMEDIA_OK;
    pthread_mutex_lock(&s->lock);
    while ((e = readdir(d))) {
        if (vmedia_name_check(e->d_name) != VMEDIA_OK)
            continue;
        if (*n == cap) {
            cap = cap ? cap * 2 : 16;
            struct vmedia_image *nv = realloc(v, cap * sizeof(*v));
            if (!nv) {
                r = VMEDIA_E_NOMEM;
                break;
            }
            v = nv;
        }
        if (fill_image(s, e->d_name, &v[*n]) == VMEDIA_OK)
            (*n)++;
    }
    pthread_mutex_unlock(&s->lock);
    closedir(d);
    if (r != VMEDIA_OK) {
        free(v);
        *n = 0;
        return r;
    }
    if (*n)
        qsort(v, *n, sizeof(*v), cmp_image);
    *out = v;
    return VMEDIA_OK;
}

int vmedia_stat(struct vmedia_store *s, const char *name, struct vmedia_image *out)
{
    if (vmedia_name_check(name) != VMEDIA_OK)
        return VMEDIA_E_NAME;
    pthread_mutex_lock(&s->lock);
    int r = fill_image(s, name, out);
    pthread_mutex_unlock(&s->lock);
    return r;
}

int vmedia_delete(struct vmedia_store *s, const char *name)
{
    if (vmedia_name_check(name) != VMEDIA_OK)
        return VMEDIA_E_NAME;
    char path[PATH_MAX], meta[PATH_MAX];
    vmedia_path_of(s, NULL, name, path, sizeof(path));
    vmedia_path_of(s, VMEDIA_META_DIR, name, meta, sizeof(meta));
    pthread_mutex_lock(&s->lock);
    int r = VMEDIA_OK;
    if (in_use_locked(s, name) || transferring_locked(s, name))
        r = VMEDIA_E_BUSY;
    else  /* out of the listing now; its blocks are freed on the disk thread */
        r = vmedia_disk_trash(&s->disk, path, meta, name);
    pthread_mutex_unlock(&s->lock);
    return r;
}

void vmedia_store_sync(struct vmedia_store *s)
{
    vmedia_disk_sync(&s->disk);
}

int vmedia_rename(struct vmedia_store *s, const char *from, const char *to)
{
    if (vmedia_name_check(from) != VMEDIA_OK || vmedia_name_check(to) != VMEDIA_OK)
        return VMEDIA_E_NAME;
    char a[PATH_MAX], b[PATH_MAX], ma[PATH_MAX], mb[PATH_MAX];
    vmedia_path_of(s, NULL, from, a, sizeof(a));
    vmedia_path_of(s, NULL, to, b, sizeof(b));
    vmedia_path_of(s, VMEDIA_META_DIR, from, ma, sizeof(ma));
    vmedia_path_of(s, VMEDIA_META_DIR, to, mb, sizeof(mb));
    pthread_mutex_lock(&s->lock);
    int r = VMEDIA_OK;
    if (in_use_locked(s, from) || transferring_locked(s, from) || transferring_locked(s, to))
        r = VMEDIA_E_BUSY;
    /* renameat2 with RENAME_NOREPLACE: never overwrite an image silently */
    else if (renameat2(AT_FDCWD, a, AT_FDCWD, b, RENAME_NOREPLACE) < 0)
        r = errno == EEXIST ? VMEDIA_E_EXISTS : errno == ENOENT ? VMEDIA_E_NOTFOUND : VMEDIA_E_IO;
    else
        rename(ma, mb);
    pthread_mutex_unlock(&s->lock);
    return r;
}

int vmedia_free_space(struct vmedia_store *s, uint64_t *free_bytes, uint64_t *total_bytes)
{
    struct statvfs v;
    if (statvfs(s->dir, &v) < 0)
        return VMEDIA_E_IO;
    *free_bytes = (uint64_t)v.f_bavail * v.f_frsize;
    *total_bytes = (uint64_t)v.f_blocks * v.f_frsize;
    return VMEDIA_OK;
}

int vmedia_acquire(struct vmedia_store *s, const char *name, char *path, size_t n)
{
    if (vmedia_name_check(name) != VMEDIA_OK)
        return VMEDIA_E_NAME;
    struct vmedia_image img;
    pthread_mutex_lock(&s->lock);
    int r = fill_image(s, name, &img);
    if (r == VMEDIA_OK && transferring_locked(s, name))
        r = VMEDIA_E_BUSY;
    if (r == VMEDIA_OK) {
        int free_slot = -1;
        for (int i = 0; i < VMEDIA_MAX_IN_USE; i++)
            if (!s->in_use[i][0] && free_slot < 0)
                free_slot = i;
        if (free_slot < 0)
            r = VMEDIA_E_LIMIT;
        else
            snprintf(s->in_use[free_slot], sizeof(s->in_use[0]), "%s", name);
    }
    pthread_mutex_unlock(&s->lock);
    if (r == VMEDIA_OK)
        vmedia_path_of(s, NULL, name, path, n);
    return r;
}

void vmedia_release(struct vmedia_store *s, const char *name)
{
    pthread_mutex_lock(&s->lock);
    for (int i = 0; i < VMEDIA_MAX_IN_USE; i++)
        if (strcmp(s->in_use[i], name) == 0) {
            s->in_use[i][0] = '\0';
            break;
        }
    pthread_mutex_unlock(&s->lock);
}
