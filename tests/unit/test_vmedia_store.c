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
#include <openssl/evp.h>

#include "vmedia/vmedia.h"

static char dir[64];

static int set_up(void **state)
{
    (void)state;
    strcpy(dir, "/tmp/piglix-vmedia-XXXXXX");
    return mkdtemp(dir) ? 0 : -1;
}

static int tear_down(void **state)
{
    (void)state;
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    return system(cmd) == 0 ? 0 : -1;
}

static void sha_hex(const uint8_t *data, size_t len, char out[65])
{
    unsigned char md[32];
    unsigned n;
    EVP_Digest(data, len, md, &n, EVP_sha256(), NULL);
    for (int i = 0; i < 32; i++)
        sprintf(out + 2 * i, "%02x", md[i]);
}

static size_t count_files(const char *sub)
{
    char cmd[256];
    snprintf(cmd, sizeof(cmd), "ls -A '%s/%s' | wc -l", dir, sub);
    FILE *p = popen(cmd, "r");
    size_t n = 0;
    if (fscanf(p, "%zu", &n) != 1)
        n = 999;
    pclose(p);
    return n;
}

static void test_names(void **state)
{
    (void)state;
    assert_int_equal(vmedia_name_check("debian-12.iso"), VMEDIA_OK);
    assert_int_equal(vmedia_name_check("Windows Server 2022 (x64).iso"), VMEDIA_OK);
    assert_int_equal(vmedia_name_check("ubuntu-ü.iso"), VMEDIA_OK);
    const char *bad[] = {"", ".", "..", ".hidden", "a/b", "../x", "tab\tname", "back\\slash", "del\x7f"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_int_equal(vmedia_name_check(bad[i]), VMEDIA_E_NAME);
    char longname[VMEDIA_NAME_MAX + 2];
    memset(longname, 'a', sizeof(longname) - 1);
    longname[sizeof(longname) - 1] = '\0';
    assert_int_equal(vmedia_name_check(longname), VMEDIA_E_NAME);
    longname[VMEDIA_NAME_MAX] = '\0';
    assert_int_equal(vmedia_name_check(longname), VMEDIA_OK);
}

static void test_upload_streams_and_hashes(void **state)
{
    (void)state;
    struct vmedia_store *s;
    assert_int_equal(vmedia_store_open(dir, 0, &s), VMEDIA_OK);
    size_t total = 3 * 1024 * 1024 + 17;
    uint8_t *data = malloc(total);
    for (size_t i = 0; i < total; i++)
        data[i] = (uint8_t)(i * 2654435761u >> 13);
    struct vmedia_upload *u;
    assert_int_equal(vmedia_upload_begin(s, "disk.img", total, &u), VMEDIA_OK);
    struct vmedia_upload *u2;
    assert_int_equal(vmedia_upload_begin(s, "disk.img", 10, &u2), VMEDIA_E_BUSY);
    for (size_t off = 0; off < total; off += 65536) {
        size_t n = total - off < 65536 ? total - off : 65536;
        assert_int_equal(vmedia_upload_write(u, data + off, n), VMEDIA_OK);
    }
    struct vmedia_progress p[VMEDIA_MAX_TRANSFERS];
    assert_int_equal(vmedia_transfers(s, p, VMEDIA_MAX_TRANSFERS), 1);
    assert_int_equal(p[0].done, total);
    assert_int_equal(p[0].total, total);
    /* not visible until complete */
    struct vmedia_image img;
    assert_int_equal(vmedia_stat(s, "disk.img", &img), VMEDIA_E_NOTFOUND);
    assert_int_equal(vmedia_upload_finish(u), VMEDIA_OK);
    assert_int_equal(vmedia_stat(s, "disk.img", &img), VMEDIA_OK);
    assert_int_equal(img.size, total);
    char want[65];
    sha_hex(data, total, want);
    assert_string_equal(img.sha256, want);
    assert_int_equal(count_files(".piglix-partial"), 0);
    /* the same name again is refused */
    assert_int_equal(vmedia_upload_begin(s, "disk.img", 10, &u2), VMEDIA_E_EXISTS);
    /* a file changed behind piglix's back loses its hash */
    char path[256];
    snprintf(path, sizeof(path), "%s/disk.img", dir);
    FILE *f = fopen(path, "a");
    fputc('x', f);
    fclose(f);
    assert_int_equal(vmedia_stat(s, "disk.img", &img), VMEDIA_OK);
    assert_string_equal(img.sha256, "");
    free(data);
    vmedia_store_close(s);
}

static void test_abort_and_short_leave_nothing(void **state)
{
    (void)state;
    struct vmedia_store *s;
    assert_int_equal(vmedia_store_open(dir, 0, &s), VMEDIA_OK);
    struct vmedia_upload *u;
    assert_int_equal(vmedia_upload_begin(s, "a.iso", 1000, &u), VMEDIA_OK);
    assert_int_equal(vmedia_upload_write(u, "hello", 5), VMEDIA_OK);
    vmedia_upload_abort(u, "client went away");
    assert_int_equal(count_files(".piglix-partial"), 0);
    struct vmedia_image img;
    assert_int_equal(vmedia_stat(s, "a.iso", &img), VMEDIA_E_NOTFOUND);
    /* announced 1000, sent 5: refused at the end */
    assert_int_equal(vmedia_upload_begin(s, "a.iso", 1000, &u), VMEDIA_OK);
    assert_int_equal(vmedia_upload_write(u, "hello", 5), VMEDIA_OK);
    assert_int_equal(vmedia_upload_finish(u), VMEDIA_E_SHORT);
    assert_int_equal(vmedia_stat(s, "a.iso", &img), VMEDIA_E_NOTFOUND);
    assert_int_equal(count_files(".piglix-partial"), 0);
    struct vmedia_progress p[VMEDIA_MAX_TRANSFERS];
    assert_int_equal(vmedia_transfers(s, p, VMEDIA_MAX_TRANSFERS), 1);
    assert_int_equal(p[0].state, VMEDIA_FAILED);
    assert_int_equal(p[0].error, VMEDIA_E_SHORT);
    vmedia_store_close(s);
}

static void test_size_limit(void **state)
{
    (void)state;
    struct vmedia_store *s;
    assert_int_equal(vmedia_store_open(dir, 100, &s), VMEDIA_OK);
    struct vmedia_upload *u;
    assert_int_equal(vmedia_upload_begin(s, "big.iso", 101, &u), VMEDIA_E_TOOBIG);
    assert_int_equal(vmedia_upload_begin(s, "big.iso", 0, &u), VMEDIA_OK);
    uint8_t buf[64] = {0};
    assert_int_equal(vmedia_upload_write(u, buf, 64), VMEDIA_OK);
    assert_int_equal(vmedia_upload_write(u, buf, 64), VMEDIA_E_TOOBIG);
    vmedia_upload_abort(u, "test");
    assert_int_equal(count_files(".piglix-partial"), 0);
    vmedia_store_close(s);
}

static void test_delete_rename_in_use(void **state)
{
    (void)state;
    struct vmedia_store *s;
    assert_int_equal(vmedia_store_open(dir, 0, &s), VMEDIA_OK);
    struct vmedia_upload *u;
    for (int i = 0; i < 2; i++) {
        const char *name = i ? "b.iso" : "a.iso";
        assert_int_equal(vmedia_upload_begin(s, name, 3, &u), VMEDIA_OK);
        assert_int_equal(vmedia_upload_write(u, "abc", 3), VMEDIA_OK);
        assert_int_equal(vmedia_upload_finish(u), VMEDIA_OK);
    }
    struct vmedia_image *list;
    size_t n;
    assert_int_equal(vmedia_list(s, &list, &n), VMEDIA_OK);
    assert_int_equal(n, 2);
    assert_string_equal(list[0].name, "a.iso");
    assert_string_equal(list[1].name, "b.iso");
    free(list);
    assert_int_equal(vmedia_rename(s, "a.iso", "b.iso"), VMEDIA_E_EXISTS);
    assert_int_equal(vmedia_rename(s, "a.iso", "../x"), VMEDIA_E_NAME);
    assert_int_equal(vmedia_rename(s, "a.iso", "c.iso"), VMEDIA_OK);
    struct vmedia_image img;
    assert_int_equal(vmedia_stat(s, "c.iso", &img), VMEDIA_OK);
    assert_int_equal(strlen(img.sha256), 64); /* the hash follows the rename */
    char path[512];
    assert_int_equal(vmedia_acquire(s, "c.iso", path, sizeof(path)), VMEDIA_OK);
    assert_non_null(strstr(path, "/c.iso"));
    assert_int_equal(vmedia_delete(s, "c.iso"), VMEDIA_E_BUSY);
    assert_int_equal(vmedia_rename(s, "c.iso", "d.iso"), VMEDIA_E_BUSY);
    vmedia_release(s, "c.iso");
    assert_int_equal(vmedia_delete(s, "c.iso"), VMEDIA_OK);
    assert_int_equal(vmedia_delete(s, "c.iso"), VMEDIA_E_NOTFOUND);
    assert_int_equal(vmedia_delete(s, "../etc/passwd"), VMEDIA_E_NAME);
    uint64_t fr, tot;
    assert_int_equal(vmedia_free_space(s, &fr, &tot), VMEDIA_OK);
    assert_true(tot > 0 && fr <= tot);
    vmedia_store_close(s);
}

static void test_leftovers_removed_at_open(void **state)
{
    (void)state;
    char path[256];
    snprintf(path, sizeof(path), "%s/.piglix-partial", dir);
    mkdir(path, 0700);
    snprintf(path, sizeof(path), "%s/.piglix-partial/crashed.iso", dir);
    FILE *f = fopen(path, "w");
    fputs("partial", f);
    fclose(f);
    struct vmedia_store *s;
    assert_int_equal(vmedia_store_open(dir, 0, &s), VMEDIA_OK);
    assert_int_equal(count_files(".piglix-partial"), 0);
    vmedia_store_close(s);
}

static void test_download_refuses_bad_urls(void **state)
{
    (void)state;
    struct vmedia_store *s;
    assert_int_equal(vmedia_store_open(dir, 0, &s), VMEDIA_OK);
    assert_int_equal(vmedia_download_start(s, "file:///etc/passwd", "x.iso", false), VMEDIA_E_NET);
    assert_int_equal(vmedia_download_start(s, "ftp://example.org/x", "x.iso", false), VMEDIA_E_NET);
    assert_int_equal(vmedia_download_start(s, "http://example.org/x", "../x", false), VMEDIA_E_NAME);
    vmedia_store_close(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_names),
        cmocka_unit_test_setup_teardown(test_upload_streams_and_hashes, set_up, tear_down),
        cmocka_unit_test_setup_teardown(test_abort_and_short_leave_nothing, set_up, tear_down),
        cmocka_unit_test_setup_teardown(test_size_limit, set_up, tear_down),
        cmocka_unit_test_setup_teardown(test_delete_rename_in_use, set_up, tear_down),
        cmocka_unit_test_setup_teardown(test_leftovers_removed_at_open, set_up, tear_down),
        cmocka_unit_test_setup_teardown(test_download_refuses_bad_urls, set_up, tear_down),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
