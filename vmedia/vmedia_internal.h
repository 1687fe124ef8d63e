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

struct vmedia_store {
    char dir[PATH_MAX - 64];
    uint64_t max_size;
    struct vmedia_url_policy policy;    /* under lock */
    pthread_mutex_t lock;
    pthread_cond_t changed;
    struct vmedia_upload slots[VMEDIA_MAX_TRANSFERS];
    char in_use[VMEDIA_MAX_IN_USE][VMEDIA_NAME_MAX + 1];
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
