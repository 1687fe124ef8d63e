/* libFuzzer target for virtual media's upload and name handling: the input
 * is a script of store operations on untrusted names (the URL path of an
 * upload, a rename target, a download URL) and upload bodies cut into
 * chunks of any size, against a real store in a temporary directory.
 * Invariants: a name that passes the check cannot leave the store (no '/',
 * no leading '.'); every listed image has a valid name; after the script
 * nothing is left in the store's temporary directory; an upload that
 * finished holds exactly the bytes written, with their SHA-256. */
#include <dirent.h>
#include <openssl/evp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/log.h"
#include "vmedia/vmedia.h"

static char dir[64];
static struct vmedia_store *store;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    log_set_level(LOG_LEVEL_ERROR);
    snprintf(dir, sizeof(dir), "/tmp/piglix-fuzz-vmedia-XXXXXX");
    if (!mkdtemp(dir) || vmedia_store_open(dir, 1 << 20, &store) != VMEDIA_OK)
        abort();
    return 0;
}

/* Takes a NUL-terminated string of at most max bytes from the input. */
static const char *take(const uint8_t **p, size_t *n, char *buf, size_t max)
{
    size_t len = 0;
    while (len < *n && len < max - 1 && (*p)[len])
        len++;
    memcpy(buf, *p, len);
    buf[len] = 0;
    size_t used = len < *n ? len + 1 : len;
    *p += used;
    *n -= used;
    return buf;
}

static void check_name(const char *name)
{
    if (vmedia_name_check(name) != VMEDIA_OK)
        return;
    if (strchr(name, '/') || name[0] == '.' || !name[0] || strlen(name) > VMEDIA_NAME_MAX)
        abort();
}

static void upload(const uint8_t **p, size_t *n, const char *name)
{
    struct vmedia_upload *u;
    uint64_t announce = *n ? (**p % 2 ? 0 : *n / 2) : 0;
    if (vmedia_upload_begin(store, name, announce, &u) != VMEDIA_OK)
        return;
    EVP_MD_CTX *sha = EVP_MD_CTX_new();
    if (!sha || EVP_DigestInit_ex(sha, EVP_sha256(), NULL) != 1)
        abort();
    uint64_t total = 0;
    while (*n >= 2) {
        uint8_t op = (*p)[0], len = (*p)[1];
        *p += 2;
        *n -= 2;
        if (op % 8 == 0) { /* the client goes away */
            vmedia_upload_abort(u, "fuzz");
            EVP_MD_CTX_free(sha);
            return;
        }
        if (op % 8 == 1)
            break;
        size_t chunk = len < *n ? len : *n;
        if (vmedia_upload_write(u, *p, chunk) != VMEDIA_OK) {
            vmedia_upload_abort(u, "fuzz");
            EVP_MD_CTX_free(sha);
            return;
        }
        EVP_DigestUpdate(sha, *p, chunk);
        total += chunk;
        *p += chunk;
        *n -= chunk;
    }
    unsigned char md[32];
    char hex[65];
    EVP_DigestFinal_ex(sha, md, NULL);
    EVP_MD_CTX_free(sha);
    if (vmedia_upload_finish(u) != VMEDIA_OK)
        return;
    for (int i = 0; i < 32; i++)
        sprintf(hex + 2 * i, "%02x", md[i]);
    struct vmedia_image im;
    if (vmedia_stat(store, name, &im) != VMEDIA_OK || im.size != total || strcmp(im.sha256, hex) != 0)
        abort();
}

static void clear_store(void)
{
    struct vmedia_image *list;
    size_t count;
    if (vmedia_list(store, &list, &count) != VMEDIA_OK)
        abort();
    for (size_t i = 0; i < count; i++) {
        if (vmedia_name_check(list[i].name) != VMEDIA_OK)
            abort();
        vmedia_delete(store, list[i].name);
    }
    free(list);
    char tmp[128];
    snprintf(tmp, sizeof(tmp), "%s/.piglix-partial", dir);
    DIR *d = opendir(tmp);
    if (d) {
        struct dirent *e;
        while ((e = readdir(d)))
            if (e->d_name[0] != '.')
                abort(); /* a transfer left its temporary file */
        closedir(d);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const uint8_t *p = data;
    size_t n = size;
    char name[300], other[300];
    while (n > 0) {
        uint8_t op = *p++;
        n--;
        take(&p, &n, name, sizeof(name));
        check_name(name);
        switch (op % 5) {
        case 0:
            upload(&p, &n, name);
            break;
        case 1:
            take(&p, &n, other, sizeof(other));
            check_name(other);
            vmedia_rename(store, name, other);
            break;
        case 2:
            vmedia_delete(store, name);
            break;
        case 3: /* a download URL's name */
            if (vmedia_name_from_url(name, other, sizeof(other)) == VMEDIA_OK)
                check_name(other);
            break;
        default: {
            char p2[VMEDIA_NAME_MAX + 1 + 600];
            if (vmedia_acquire(store, name, p2, sizeof(p2)) == VMEDIA_OK) {
                if (strncmp(p2, dir, strlen(dir)) != 0 || strstr(p2 + strlen(dir), "/.."))
                    abort();
                vmedia_release(store, name);
            }
        }
        }
    }
    clear_store();
    return 0;
}
