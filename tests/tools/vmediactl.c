/* vmediactl: drives the image store directly, for tests.
 *   vmediactl DIR download URL NAME [--insecure] [--cancel-after BYTES] [--allow ADDRS]
 *   vmediactl DIR upload FILE NAME [--announce BYTES]
 *   vmediactl DIR list
 * Prints one JSON object; exit 0 when the operation succeeded, 1 when it
 * failed (the JSON says why), 64 on bad usage. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "vmedia/vmedia.h"

static void print_progress(const struct vmedia_progress *p)
{
    static const char *const states[] = {"running", "done", "failed", "cancelled"};
    printf("{\"name\": \"%s\", \"state\": \"%s\", \"done\": %llu, \"total\": %llu, \"error\": %d, "
           "\"message\": \"%s\"", p->name, states[p->state], (unsigned long long)p->done,
           (unsigned long long)p->total, p->error, p->message);
}

static int finish(struct vmedia_store *s, const char *name, int r)
{
    struct vmedia_image img = {0};
    if (r == VMEDIA_OK)
        r = vmedia_stat(s, name, &img);
    printf(", \"result\": %d, \"sha256\": \"%s\", \"size\": %llu}\n", r, img.sha256,
           (unsigned long long)img.size);
    vmedia_store_close(s);
    return r == VMEDIA_OK ? 0 : 1;
}

int main(int argc, char **argv)
{
    if (argc < 3)
        goto usage;
    struct vmedia_store *s;
    if (vmedia_store_open(argv[1], 0, &s) != VMEDIA_OK) {
        fprintf(stderr, "vmediactl: cannot open %s\n", argv[1]);
        return 1;
    }
    if (strcmp(argv[2], "download") == 0 && argc >= 5) {
        bool insecure = false;
        long long cancel_after = -1;
        for (int i = 5; i < argc; i++) {
            if (strcmp(argv[i], "--insecure") == 0)
                insecure = true;
            else if (strcmp(argv[i], "--cancel-after") == 0 && i + 1 < argc)
                cancel_after = atoll(argv[++i]);
            else if (strcmp(argv[i], "--allow") == 0 && i + 1 < argc) {
                /* like [vmedia] url_allow: the tests' servers are on loopback */
                struct vmedia_url_policy pol;
                if (vmedia_url_policy_init(&pol, true, argv[++i]) < 0)
                    goto usage;
                vmedia_store_set_url_policy(s, &pol);
            }
        }
        int r = vmedia_download_start(s, argv[3], argv[4], insecure);
        if (r != VMEDIA_OK) {
            printf("{\"name\": \"%s\", \"state\": \"refused\", \"error\": %d, \"message\": \"%s\"", argv[4], r,
                   vmedia_strerror(r));
            return finish(s, argv[4], r);
        }
        struct vmedia_progress p;
        if (cancel_after >= 0) {
            for (;;) {
                struct vmedia_progress all[VMEDIA_MAX_TRANSFERS];
                size_t n = vmedia_transfers(s, all, VMEDIA_MAX_TRANSFERS);
                if (n == 0 || all[0].state != VMEDIA_RUNNING || all[0].done >= (uint64_t)cancel_after)
                    break;
                usleep(1000);
            }
            vmedia_download_cancel(s, argv[4]);
        }
        vmedia_wait(s, argv[4], &p);
        print_progress(&p);
        return finish(s, argv[4], p.state == VMEDIA_DONE ? VMEDIA_OK : p.error);
    }
    if (strcmp(argv[2], "upload") == 0 && argc >= 5) {
        unsigned long long announce = 0;
        if (argc == 7 && strcmp(argv[5], "--announce") == 0)
            announce = strtoull(argv[6], NULL, 10);
        FILE *f = fopen(argv[3], "rb");
        if (!f)
            return 1;
        struct vmedia_upload *u;
        int r = vmedia_upload_begin(s, argv[4], announce, &u);
        static char buf[1 << 16];
        size_t n;
        while (r == VMEDIA_OK && (n = fread(buf, 1, sizeof(buf), f)) > 0)
            r = vmedia_upload_write(u, buf, n);
        fclose(f);
        if (r == VMEDIA_OK)
            r = vmedia_upload_finish(u);
        else if (u)
            vmedia_upload_abort(u, "upload failed");
        printf("{\"name\": \"%s\", \"message\": \"%s\"", argv[4], vmedia_strerror(r));
        return finish(s, argv[4], r);
    }
    if (strcmp(argv[2], "list") == 0) {
        struct vmedia_image *v;
        size_t n;
        if (vmedia_list(s, &v, &n) != VMEDIA_OK)
            return 1;
        printf("[");
        for (size_t i = 0; i < n; i++)
            printf("%s{\"name\": \"%s\", \"size\": %llu, \"sha256\": \"%s\"}", i ? ", " : "", v[i].name,
                   (unsigned long long)v[i].size, v[i].sha256);
        printf("]\n");
        free(v);
        vmedia_store_close(s);
        return 0;
    }
usage:
    fprintf(stderr, "usage: vmediactl DIR download URL NAME [--insecure] [--cancel-after BYTES] [--allow ADDRS]\n"
                    "       vmediactl DIR upload FILE NAME [--announce BYTES]\n"
                    "       vmediactl DIR list\n");
    return 64;
}
