/* Internal to vmedia/: the store and its transfer slots. */
#ifndef PIGLIX_VMEDIA_INTERNAL_H
#define PIGLIX_VMEDIA_INTERNAL_H

#include <limits.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <stdatomic.h>

#include "common/clock.h"
#include "vmedia/vmedia.h"

#define VMEDIA_TMP_DIR ".piglix-partial"
#define VMEDIA_META_DIR ".piglix-meta"
#define VMEDIA_TRASH_DIR ".piglix-trash"   /* deleted images until the disk thread unlinks them */
#define VMEDIA_MAX_IN_USE 4
#define VMEDIA_WRITEBACK_WINDOW (8u << 20)

struct vmedia_upload {          /* one transfer slot (uploads and downloads) */
    struct vmedia_store *store;
    bool used;
    struct vmedia_progress p;
    int64_t started_ms;
    char tmp_path[PATH_MAX];
    int fd;
    EVP_MD_CTX *sha;
    char why[96];               /* the failed call and its errno, for the transfer's message */
    atomic_bool cancel;
    /* downloads */
    pthread_t thread;
    bool has_thread;
    char url[2048];
    bool insecure;
    struct vmedia_url_policy policy;    /* the store's, when the download began */
};

/* The newest-wins slot of the mount record (disk.c): put replaces what
 * waits (counted in superseded), take hands the newest over once. Plain
 * data; the caller holds the lock that guards it. bytes NULL: remove the
 * file. */
#define VMEDIA_RECORD_MAX 256
struct vmedia_record {
    bool pending;
    bool remove;
    char path[PATH_MAX];
    char bytes[VMEDIA_RECORD_MAX];
    size_t len;
    uint64_t superseded;        /* records replaced before they were taken */
};
/* VMEDIA_OK, or VMEDIA_E_NAME when path or bytes do not fit (nothing changes). */
int vmedia_record_put(struct vmedia_record *r, const char *path, const void *bytes, size_t len);
/* Copies the waiting record to *out and empties the slot; false when none waits. */
bool vmedia_record_take(struct vmedia_record *r, struct vmedia_record *out);

/* The store's disk thread (disk.c). */
struct vmedia_disk {
    pthread_mutex_t mu;
    pthread_cond_t wake;        /* work for the thread, or stop */
    pthread_cond_t idle;        /* a turn ended (vmedia_disk_sync) */
    pthread_t thread;
    /* under mu */
    struct vmedia_record rec;
    bool trash_dirty;           /* the trash holds files to unlink */
    bool busy;                  /* the thread is writing what it took */
    bool stop;
    uint64_t written;           /* records written (tests) */
    atomic_uint_fast64_t trash_seq;
    char trash_dir[PATH_MAX];
};
int vmedia_disk_start(struct vmedia_disk *k, const char *trash_dir);
/* Writes what waits, then ends the thread. */
void vmedia_disk_stop(struct vmedia_disk *k);
/* Hands the mount record at path over (bytes NULL: remove the file). */
void vmedia_disk_put_record(struct vmedia_disk *k, const char *path, const void *bytes, size_t len);
/* Renames the image at path (and its hash record meta) into the trash
 * under a unique name and has the thread unlink it. VMEDIA_OK,
 * VMEDIA_E_NOTFOUND or VMEDIA_E_IO. */
int vmedia_disk_trash(struct vmedia_disk *k, const char *path, const char *meta, const char *name);
/* Blocks until everything handed over so far is on disk. */
void vmedia_disk_sync(struct vmedia_disk *k);

struct vmedia_store {
    char dir[PATH_MAX - 64];
    uint64_t max_size;
    struct vmedia_url_policy policy;    /* under lock */
    pthread_mutex_t lock;
    pthread_cond_t changed;
    struct vmedia_upload slots[VMEDIA_MAX_TRANSFERS];
    char in_use[VMEDIA_MAX_IN_USE][VMEDIA_NAME_MAX + 1];
    struct vmedia_disk disk;
};

void vmedia_path_of(const struct vmedia_store *s, const char *sub, const char *name, char *out, size_t n);
/* Claims a slot for name (store lock held by caller). */
int vmedia_slot_claim(struct vmedia_store *s, const char *name, bool download,
                      struct vmedia_upload **out);
/* Opens the temporary file and hash of a claimed slot. */
int vmedia_transfer_open(struct vmedia_upload *u, uint64_t expected);
/* Ends a transfer: on success installs the file; always removes the
 * temporary, records the outcome and frees the slot's resources. */
int vmedia_transfer_end(struct vmedia_upload *u, int result, const char *message);
void vmedia_slot_fail(struct vmedia_upload *u, int err, const char *message);

#endif
