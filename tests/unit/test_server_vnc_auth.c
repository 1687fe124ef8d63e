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
#include <rfb/rfb.h>

#include "server/server.h"

static void test_store_and_load(void **state)
{
    (void)state;
    char dir[] = "/tmp/piglix-auth-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char pw[VNC_AUTH_MAX_LEN + 1];
    assert_int_equal(vnc_auth_load_password(dir, pw), 1); /* none yet */
    FILE *err = fopen("/dev/null", "w");
    assert_int_equal(vnc_auth_store_password(dir, "short", err), -1);
    assert_int_equal(vnc_auth_store_password(dir, "muchtoolong", err), -1);
    assert_int_equal(vnc_auth_store_password(dir, "s3cret!", err), 0);
    fclose(err);
    char path[512];
    vnc_auth_password_path(dir, path, sizeof(path));
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    assert_int_equal(st.st_size, 8);
    assert_int_equal(vnc_auth_load_password(dir, pw), 0);
    assert_string_equal(pw, "s3cret!");
    /* the file must not hold the password in clear */
    FILE *f = fopen(path, "rb");
    char raw[9] = {0};
    assert_int_equal(fread(raw, 1, 8, f), 8);
    fclose(f);
    assert_null(memmem(raw, 8, "s3cret", 6));
    /* a world-readable password file is refused */
    chmod(path, 0644);
    assert_int_equal(vnc_auth_load_password(dir, pw), -1);
    unlink(path);
    rmdir(dir);
}

/* The view-only password is a file of its own beside the full one. */
static void test_view_password(void **state)
{
    (void)state;
    char dir[] = "/tmp/piglix-auth-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char pw[VNC_AUTH_MAX_LEN + 1];
    FILE *err = fopen("/dev/null", "w");
    assert_int_equal(vnc_auth_store_password(dir, "full-pw1", err), 0);
    assert_int_equal(vnc_auth_load_view_password(dir, pw), 1); /* none yet */
    assert_int_equal(vnc_auth_store_view_password(dir, "short", err), -1);
    assert_int_equal(vnc_auth_store_view_password(dir, "view-pw1", err), 0);
    fclose(err);
    assert_int_equal(vnc_auth_load_view_password(dir, pw), 0);
    assert_string_equal(pw, "view-pw1");
    assert_int_equal(vnc_auth_load_password(dir, pw), 0);
    assert_string_equal(pw, "full-pw1");
    char path[512], full[512];
    vnc_auth_view_password_path(dir, path, sizeof(path));
    vnc_auth_password_path(dir, full, sizeof(full));
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    chmod(path, 0640);
    assert_int_equal(vnc_auth_load_view_password(dir, pw), -1);
    unlink(path);
    unlink(full);
    rmdir(dir);
}

static void test_check_response(void **state)
{
    (void)state;
    uint8_t challenge[16], response[16];
    for (int i = 0; i < 16; i++)
        challenge[i] = (uint8_t)(i * 37 + 5);
    memcpy(response, challenge, 16);
    rfbEncryptBytes(response, "s3cret!");
    assert_true(vnc_auth_check_response("s3cret!", challenge, response));
    assert_false(vnc_auth_check_response("s3cret?", challenge, response));
    response[15] ^= 1;
    assert_false(vnc_auth_check_response("s3cret!", challenge, response));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_store_and_load),
        cmocka_unit_test(test_check_response),
        cmocka_unit_test(test_view_password),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
