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

#include "server/vnc_auth.h"

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

static void test_throttle(void **state)
{
    (void)state;
    struct vnc_auth_throttle *t = vnc_auth_throttle_create(3, 5);
    int64_t now = 1000000;
    assert_int_equal(vnc_auth_throttle_check(t, "10.0.0.1", now), 0);
    vnc_auth_throttle_record(t, "10.0.0.1", false, now);
    vnc_auth_throttle_record(t, "10.0.0.1", false, now);
    assert_int_equal(vnc_auth_throttle_check(t, "10.0.0.1", now), 0);
    vnc_auth_throttle_record(t, "10.0.0.1", false, now);
    assert_int_equal(vnc_auth_throttle_check(t, "10.0.0.1", now), 5);
    assert_int_equal(vnc_auth_throttle_check(t, "10.0.0.2", now), 0); /* per address */
    assert_int_equal(vnc_auth_throttle_check(t, "10.0.0.1", now + 5000), 0);
    vnc_auth_throttle_record(t, "10.0.0.1", false, now + 5000);
    assert_int_equal(vnc_auth_throttle_check(t, "10.0.0.1", now + 5000), 10); /* doubles */
    vnc_auth_throttle_record(t, "10.0.0.1", true, now + 20000);
    assert_int_equal(vnc_auth_throttle_check(t, "10.0.0.1", now + 20000), 0);
    /* many addresses do not grow the table without bound */
    char addr[32];
    for (int i = 0; i < 1000; i++) {
        snprintf(addr, sizeof(addr), "192.0.2.%d", i);
        vnc_auth_throttle_record(t, addr, false, now + i);
    }
    vnc_auth_throttle_destroy(t);
}

static void test_addr_key(void **state)
{
    (void)state;
    char k[80];
    vnc_auth_addr_key("10.1.2.3", k, sizeof(k));
    assert_string_equal(k, "10.1.2.3");
    vnc_auth_addr_key("::ffff:10.1.2.3", k, sizeof(k));
    assert_string_equal(k, "10.1.2.3");
    vnc_auth_addr_key("2001:db8:1:2:aaaa:bbbb:cccc:dddd", k, sizeof(k));
    assert_string_equal(k, "2001:db8:1:2::/64");
    vnc_auth_addr_key("::1", k, sizeof(k));
    assert_string_equal(k, "::/64");
    vnc_auth_addr_key("not an address", k, sizeof(k));
    assert_string_equal(k, "not an address");
}

static void test_throttle_ipv6_prefix(void **state)
{
    (void)state;
    struct vnc_auth_throttle *t = vnc_auth_throttle_create(2, 5);
    int64_t now = 1000000;
    /* two hosts in one /64 share a throttle; another /64 does not */
    vnc_auth_throttle_record(t, "2001:db8:1:2::1", false, now);
    vnc_auth_throttle_record(t, "2001:db8:1:2::ffff", false, now);
    assert_int_equal(vnc_auth_throttle_check(t, "2001:db8:1:2:1234::9", now), 5);
    assert_int_equal(vnc_auth_throttle_check(t, "2001:db8:1:3::1", now), 0);
    /* an IPv4-mapped address is the IPv4 address */
    vnc_auth_throttle_record(t, "192.0.2.7", false, now);
    vnc_auth_throttle_record(t, "::ffff:192.0.2.7", false, now);
    assert_int_equal(vnc_auth_throttle_check(t, "192.0.2.7", now), 5);
    vnc_auth_throttle_destroy(t);
}

static void test_throttle_blocked_survives_flood(void **state)
{
    (void)state;
    struct vnc_auth_throttle *t = vnc_auth_throttle_create(2, 60);
    int64_t now = 1000000;
    vnc_auth_throttle_record(t, "10.0.0.1", false, now);
    vnc_auth_throttle_record(t, "10.0.0.1", false, now);
    char addr[32];
    for (int i = 0; i < 500; i++) {
        snprintf(addr, sizeof(addr), "192.0.2.%d", i);
        vnc_auth_throttle_record(t, addr, false, now + 1 + i);
    }
    /* idle addresses went first: the blocked one is still blocked */
    assert_true(vnc_auth_throttle_check(t, "10.0.0.1", now + 1000) > 0);
    vnc_auth_throttle_destroy(t);
}

static bool keep_admin(const char *key, void *ctx)
{
    (void)ctx;
    return strcmp(key, "admin") == 0;
}

static void test_throttle_keys_never_evict(void **state)
{
    (void)state;
    struct vnc_auth_throttle *t = vnc_auth_throttle_create_keys(2, 60, 4);
    int64_t now = 1000000;
    vnc_auth_throttle_record(t, "admin", false, now);
    vnc_auth_throttle_record(t, "admin", false, now);
    char name[32];
    for (int i = 0; i < 100; i++) {
        snprintf(name, sizeof(name), "user%d", i);
        vnc_auth_throttle_record(t, name, false, now + 1 + i);
    }
    assert_int_equal(vnc_auth_throttle_check(t, "admin", now + 200), 60);
    /* keys are not addresses: no /64 folding */
    assert_int_equal(vnc_auth_throttle_check(t, "user0", now + 200), 0);
    assert_int_equal(vnc_auth_throttle_check(t, "user1", now + 200), 0);
    vnc_auth_throttle_prune(t, keep_admin, NULL);
    vnc_auth_throttle_record(t, "bob", false, now + 300);
    vnc_auth_throttle_record(t, "bob", false, now + 300);
    assert_int_equal(vnc_auth_throttle_check(t, "bob", now + 300), 60); /* room again */
    assert_int_equal(vnc_auth_throttle_check(t, "admin", now + 300), 60);
    vnc_auth_throttle_destroy(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_store_and_load),
        cmocka_unit_test(test_check_response),
        cmocka_unit_test(test_throttle),
        cmocka_unit_test(test_addr_key),
        cmocka_unit_test(test_throttle_ipv6_prefix),
        cmocka_unit_test(test_throttle_blocked_survives_flood),
        cmocka_unit_test(test_throttle_keys_never_evict),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
