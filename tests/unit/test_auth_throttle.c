/* auth/auth_throttle: lockouts per address (IPv6 per /64) and per account. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "auth/auth.h"

static void test_throttle(void **state)
{
    (void)state;
    struct auth_throttle *t = auth_throttle_create(3, 5);
    int64_t now = 1000000;
    assert_int_equal(auth_throttle_check(t, "10.0.0.1", now), 0);
    auth_throttle_record(t, "10.0.0.1", false, now);
    auth_throttle_record(t, "10.0.0.1", false, now);
    assert_int_equal(auth_throttle_check(t, "10.0.0.1", now), 0);
    auth_throttle_record(t, "10.0.0.1", false, now);
    assert_int_equal(auth_throttle_check(t, "10.0.0.1", now), 5);
    assert_int_equal(auth_throttle_check(t, "10.0.0.2", now), 0); /* per address */
    assert_int_equal(auth_throttle_check(t, "10.0.0.1", now + 5000), 0);
    auth_throttle_record(t, "10.0.0.1", false, now + 5000);
    assert_int_equal(auth_throttle_check(t, "10.0.0.1", now + 5000), 10); /* doubles */
    auth_throttle_record(t, "10.0.0.1", true, now + 20000);
    assert_int_equal(auth_throttle_check(t, "10.0.0.1", now + 20000), 0);
    /* many addresses do not grow the table without bound */
    char addr[32];
    for (int i = 0; i < 1000; i++) {
        snprintf(addr, sizeof(addr), "192.0.2.%d", i);
        auth_throttle_record(t, addr, false, now + i);
    }
    auth_throttle_destroy(t);
}

static void test_addr_key(void **state)
{
    (void)state;
    char k[80];
    auth_addr_key("10.1.2.3", k, sizeof(k));
    assert_string_equal(k, "10.1.2.3");
    auth_addr_key("::ffff:10.1.2.3", k, sizeof(k));
    assert_string_equal(k, "10.1.2.3");
    auth_addr_key("2001:db8:1:2:aaaa:bbbb:cccc:dddd", k, sizeof(k));
    assert_string_equal(k, "2001:db8:1:2::/64");
    auth_addr_key("::1", k, sizeof(k));
    assert_string_equal(k, "::/64");
    auth_addr_key("not an address", k, sizeof(k));
    assert_string_equal(k, "not an address");
}

static void test_throttle_ipv6_prefix(void **state)
{
    (void)state;
    struct auth_throttle *t = auth_throttle_create(2, 5);
    int64_t now = 1000000;
    /* two hosts in one /64 share a throttle; another /64 does not */
    auth_throttle_record(t, "2001:db8:1:2::1", false, now);
    auth_throttle_record(t, "2001:db8:1:2::ffff", false, now);
    assert_int_equal(auth_throttle_check(t, "2001:db8:1:2:1234::9", now), 5);
    assert_int_equal(auth_throttle_check(t, "2001:db8:1:3::1", now), 0);
    /* an IPv4-mapped address is the IPv4 address */
    auth_throttle_record(t, "192.0.2.7", false, now);
    auth_throttle_record(t, "::ffff:192.0.2.7", false, now);
    assert_int_equal(auth_throttle_check(t, "192.0.2.7", now), 5);
    auth_throttle_destroy(t);
}

static void test_throttle_blocked_survives_flood(void **state)
{
    (void)state;
    struct auth_throttle *t = auth_throttle_create(2, 60);
    int64_t now = 1000000;
    auth_throttle_record(t, "10.0.0.1", false, now);
    auth_throttle_record(t, "10.0.0.1", false, now);
    char addr[32];
    for (int i = 0; i < 500; i++) {
        snprintf(addr, sizeof(addr), "192.0.2.%d", i);
        auth_throttle_record(t, addr, false, now + 1 + i);
    }
    /* idle addresses went first: the blocked one is still blocked */
    assert_true(auth_throttle_check(t, "10.0.0.1", now + 1000) > 0);
    auth_throttle_destroy(t);
}

static bool keep_admin(const char *key, void *ctx)
{
    (void)ctx;
    return strcmp(key, "admin") == 0;
}

static void test_throttle_keys_never_evict(void **state)
{
    (void)state;
    struct auth_throttle *t = auth_throttle_create_keys(2, 60, 4);
    int64_t now = 1000000;
    auth_throttle_record(t, "admin", false, now);
    auth_throttle_record(t, "admin", false, now);
    char name[32];
    for (int i = 0; i < 100; i++) {
        snprintf(name, sizeof(name), "user%d", i);
        auth_throttle_record(t, name, false, now + 1 + i);
    }
    assert_int_equal(auth_throttle_check(t, "admin", now + 200), 60);
    /* keys are not addresses: no /64 folding */
    assert_int_equal(auth_throttle_check(t, "user0", now + 200), 0);
    assert_int_equal(auth_throttle_check(t, "user1", now + 200), 0);
    auth_throttle_prune(t, keep_admin, NULL);
    auth_throttle_record(t, "bob", false, now + 300);
    auth_throttle_record(t, "bob", false, now + 300);
    assert_int_equal(auth_throttle_check(t, "bob", now + 300), 60); /* room again */
    assert_int_equal(auth_throttle_check(t, "admin", now + 300), 60);
    auth_throttle_destroy(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_throttle),
        cmocka_unit_test(test_addr_key),
        cmocka_unit_test(test_throttle_ipv6_prefix),
        cmocka_unit_test(test_throttle_blocked_survives_flood),
        cmocka_unit_test(test_throttle_keys_never_evict),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
