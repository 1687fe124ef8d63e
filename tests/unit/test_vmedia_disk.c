/* vmedia's disk thread (vmedia/disk.c): the mount record's newest-wins slot
 * (a superseded record is never taken, the newest always is, a removal is a
 * record like any other), the thread writing only the newest of records
 * handed over while it was busy, the file ending as the last request said
 * after many requests racing the thread, a close writing what still waits,
 * and deletes: out of the listing at once (hash record too), unlinked by
 * the thread, a crash's leftovers in the trash removed after open. */
#include <dirent.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "vmedia/vmedia_internal.h"

static char dir[64];
static char record[128];

static int set_up(void **state)
{
    (void)state;
    strcpy(dir, "/tmp/piglix-disk-XXXXXX");
    if (!mkdtemp(dir))
        return -1;
    snprintf(record, sizeof(record), "%s/vmedia.mount", dir);
    return 0;
}

static int tear_down(void **state)
{
    (void)state;
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    return system(cmd) == 0 ? 0 : -1;
}

/* The record file's content, "" when absent. */
static const char *read_record(void)
{
    static char buf[512];
    buf[0] = 0;
    FILE *f = fopen(record, "r");
    if (!f)
        return buf;
    size_t n = fread(buf, 1, sizeof(buf) - 1, f);
    buf[n] = 0;
    fclose(f);
    return buf;
}

static int count_files(const char *sub)
{
    char path[256];
    snprintf(path, sizeof(path), "%s/%s", dir, sub);
    DIR *d = opendir(path);
    if (!d)
        return -1;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)))
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
            n++;
    closedir(d);
    return n;
}

static void make_file(const char *sub, const char *name, size_t size)
{
    char path[256];
    snprintf(path, sizeof(path), "%s/%s%s%s", dir, sub, sub[0] ? "/" : "", name);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    for (size_t i = 0; i < size; i++)
        fputc((int)(i & 0xff), f);
    fclose(f);
}

static void test_slot_newest_wins(void **state)
{
    (void)state;
    static struct vmedia_record r, out;
    memset(&r, 0, sizeof(r));
    assert_false(vmedia_record_take(&r, &out));
    assert_int_equal(vmedia_record_put(&r, "/x/m", "a\n", 2), VMEDIA_OK);
    assert_int_equal(vmedia_record_put(&r, "/x/m", "bb\n", 3), VMEDIA_OK);
    assert_int_equal(vmedia_record_put(&r, "/x/m", NULL, 0), VMEDIA_OK);   /* eject */
    assert_int_equal(vmedia_record_put(&r, "/x/m", "cdrom 0 c.iso\n", 14), VMEDIA_OK);
    assert_int_equal(r.superseded, 3);
    assert_true(vmedia_record_take(&r, &out));
    assert_false(out.remove);
    assert_int_equal(out.len, 14);
    assert_memory_equal(out.bytes, "cdrom 0 c.iso\n", 14);
    assert_string_equal(out.path, "/x/m");
    assert_false(vmedia_record_take(&r, &out));  /* taken once */
    /* after a take, the next put is a new record, not a superseded one */
    assert_int_equal(vmedia_record_put(&r, "/x/m", NULL, 0), VMEDIA_OK);
    assert_int_equal(r.superseded, 3);
    assert_true(vmedia_record_take(&r, &out));
    assert_true(out.remove);
    /* too long: refused, what waits is kept */
    static char big[VMEDIA_RECORD_MAX + 1];
    assert_int_equal(vmedia_record_put(&r, "/x/m", "k\n", 2), VMEDIA_OK);
    assert_int_equal(vmedia_record_put(&r, "/x/m", big, sizeof(big)), VMEDIA_E_NAME);
    assert_true(vmedia_record_take(&r, &out));
    assert_memory_equal(out.bytes, "k\n", 2);
}

/* Records handed over while the thread could not take them: only the
 * newest is written. */
static void test_thread_writes_only_the_newest(void **state)
{
    (void)state;
    struct vmedia_store *s = NULL;
    assert_int_equal(vmedia_store_open(dir, 0, &s), VMEDIA_OK);
    struct vmedia_disk *k = &s->disk;
    vmedia_store_sync(s);
    pthread_mutex_lock(&k->mu);
    uint64_t written = k->written;
    assert_int_equal(vmedia_record_put(&k->rec, record, "cdrom 0 a.iso\n", 14), VMEDIA_OK);
    assert_int_equal(vmedia_record_put(&k->rec, record, "flash 1 b.img\n", 14), VMEDIA_OK);
    assert_int_equal(vmedia_record_put(&k->rec, record, "cdrom 0 c.iso\n", 14), VMEDIA_OK);
    pthread_cond_signal(&k->wake);
    pthread_mutex_unlock(&k->mu);
    vmedia_store_sync(s);
    pthread_mutex_lock(&k->mu);
    assert_int_equal(k->written, written + 1);
    pthread_mutex_unlock(&k->mu);
    assert_string_equal(read_record(), "cdrom 0 c.iso\n");
    vmedia_disk_put_record(k, record, NULL, 0);
    vmedia_store_sync(s);
    assert_int_equal(access(record, F_OK), -1);
    vmedia_store_close(s);
}

/* Many requests racing the thread: the file ends as the last one said,
 * whole, with no temporary file left. */
static void test_last_request_wins(void **state)
{
    (void)state;
    struct vmedia_store *s = NULL;
    assert_int_equal(vmedia_store_open(dir, 0, &s), VMEDIA_OK);
    char line[64];
    for (int round = 0; round < 2; round++) {
        for (int i = 0; i < 300; i++) {
            if (i % 7 == 3) {
                vmedia_disk_put_record(&s->disk, record, NULL, 0);
            } else {
                int n = snprintf(line, sizeof(line), "cdrom 0 image-%d.iso\n", i);
                vmedia_disk_put_record(&s->disk, record, line, (size_t)n);
            }
        }
        if (round == 1)  /* the last request an eject */
            vmedia_disk_put_record(&s->disk, record, NULL, 0);
        vmedia_store_sync(s);
        if (round == 0)
            assert_string_equal(read_record(), "cdrom 0 image-299.iso\n");
        else
            assert_int_equal(access(record, F_OK), -1);
    }
    pthread_mutex_lock(&s->disk.mu);
    assert_true(s->disk.written + s->disk.rec.superseded == 601);
    pthread_mutex_unlock(&s->disk.mu);
    /* only the store's own directories are left beside the images */
    assert_int_equal(count_files(""), 3);
    vmedia_store_close(s);
}

/* A close (SIGTERM's path) writes the record that still waits. */
static void test_close_writes_what_waits(void **state)
{
    (void)state;
    struct vmedia_store *s = NULL;
    assert_int_equal(vmedia_store_open(dir, 0, &s), VMEDIA_OK);
    vmedia_disk_put_record(&s->disk, record, "flash 1 last.img\n", 17);
    vmedia_store_close(s);
    assert_string_equal(read_record(), "flash 1 last.img\n");
}

static void test_delete(void **state)
{
    (void)state;
    /* a previous run died with a deleted image in the trash */
    char trash[128];
    snprintf(trash, sizeof(trash), "%s/.piglix-trash", dir);
    assert_int_equal(mkdir(trash, 0700), 0);
    make_file(".piglix-trash", "123-old.iso", 4096);
    struct vmedia_store *s = NULL;
    assert_int_equal(vmedia_store_open(dir, 0, &s), VMEDIA_OK);
    vmedia_store_sync(s);
    assert_int_equal(count_files(".piglix-trash"), 0);
    make_file("", "a.iso", 1 << 20);
    make_file(".piglix-meta", "a.iso", 64);
    make_file("", "b.iso", 1000);
    struct vmedia_image *list = NULL;
    size_t n = 0;
    assert_int_equal(vmedia_delete(s, "a.iso"), VMEDIA_OK);
    /* gone from the store at once, its hash record too */
    assert_int_equal(vmedia_list(s, &list, &n), VMEDIA_OK);
    assert_int_equal(n, 1);
    assert_string_equal(list[0].name, "b.iso");
    free(list);
    struct vmedia_image img;
    assert_int_equal(vmedia_stat(s, "a.iso", &img), VMEDIA_E_NOTFOUND);
    assert_int_equal(count_files(".piglix-meta"), 0);
    assert_int_equal(vmedia_delete(s, "a.iso"), VMEDIA_E_NOTFOUND);
    /* the name is free again at once; the same name deleted twice does
     * not meet its predecessor in the trash */
    make_file("", "a.iso", 10);
    assert_int_equal(vmedia_delete(s, "a.iso"), VMEDIA_OK);
    /* in use: refused, nothing moves */
    char path[256];
    assert_int_equal(vmedia_acquire(s, "b.iso", path, sizeof(path)), VMEDIA_OK);
    assert_int_equal(vmedia_delete(s, "b.iso"), VMEDIA_E_BUSY);
    vmedia_release(s, "b.iso");
    vmedia_store_sync(s);
    assert_int_equal(count_files(".piglix-trash"), 0);
    assert_int_equal(vmedia_stat(s, "b.iso", &img), VMEDIA_OK);
    assert_int_equal(vmedia_delete(s, "b.iso"), VMEDIA_OK);
    vmedia_store_close(s);  /* unlinks what the trash still holds */
    assert_int_equal(count_files(".piglix-trash"), 0);
    assert_int_equal(count_files(""), 3);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_slot_newest_wins),
        cmocka_unit_test_setup_teardown(test_thread_writes_only_the_newest, set_up, tear_down),
        cmocka_unit_test_setup_teardown(test_last_request_wins, set_up, tear_down),
        cmocka_unit_test_setup_teardown(test_close_writes_what_waits, set_up, tear_down),
        cmocka_unit_test_setup_teardown(test_delete, set_up, tear_down),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
