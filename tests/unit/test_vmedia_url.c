/* vmedia/url_policy.c and names.c: which addresses a URL download may reach,
 * how URLs are shown, and image names made from URLs. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <cmocka.h>

#include "vmedia/vmedia.h"

static enum vmedia_addr_class classify(const char *text)
{
    struct sockaddr_storage ss = {0};
    if (strchr(text, ':')) {
        struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;
        a->sin6_family = AF_INET6;
        assert_int_equal(inet_pton(AF_INET6, text, &a->sin6_addr), 1);
    } else {
        struct sockaddr_in *a = (struct sockaddr_in *)&ss;
        a->sin_family = AF_INET;
        assert_int_equal(inet_pton(AF_INET, text, &a->sin_addr), 1);
    }
    return vmedia_addr_classify((struct sockaddr *)&ss);
}

static int check(const struct vmedia_url_policy *p, const char *text)
{
    struct sockaddr_in a = {.sin_family = AF_INET};
    assert_int_equal(inet_pton(AF_INET, text, &a.sin_addr), 1);
    char why[160];
    return vmedia_url_policy_check(p, (struct sockaddr *)&a, why, sizeof(why));
}

static void test_classes(void **state)
{
    assert_int_equal(classify("127.0.0.1"), VMEDIA_ADDR_LOOPBACK);
    assert_int_equal(classify("127.200.1.1"), VMEDIA_ADDR_LOOPBACK);
    assert_int_equal(classify("::1"), VMEDIA_ADDR_LOOPBACK);
    assert_int_equal(classify("::ffff:127.0.0.1"), VMEDIA_ADDR_LOOPBACK);
    assert_int_equal(classify("0.0.0.0"), VMEDIA_ADDR_UNSPECIFIED);
    assert_int_equal(classify("::"), VMEDIA_ADDR_UNSPECIFIED);
    assert_int_equal(classify("169.254.169.254"), VMEDIA_ADDR_LINK_LOCAL);
    assert_int_equal(classify("fe80::1"), VMEDIA_ADDR_LINK_LOCAL);
    assert_int_equal(classify("224.0.0.1"), VMEDIA_ADDR_MULTICAST);
    assert_int_equal(classify("ff02::1"), VMEDIA_ADDR_MULTICAST);
    assert_int_equal(classify("10.1.2.3"), VMEDIA_ADDR_PRIVATE);
    assert_int_equal(classify("172.16.0.1"), VMEDIA_ADDR_PRIVATE);
    assert_int_equal(classify("192.168.1.1"), VMEDIA_ADDR_PRIVATE);
    assert_int_equal(classify("fd00::1"), VMEDIA_ADDR_PRIVATE);
    assert_int_equal(classify("172.32.0.1"), VMEDIA_ADDR_PUBLIC);
    assert_int_equal(classify("2001:db8::1"), VMEDIA_ADDR_PUBLIC);
}

static void test_policy(void **state)
{
    struct vmedia_url_policy p;
    assert_int_equal(vmedia_url_policy_init(&p, true, ""), 0);
    assert_int_equal(check(&p, "127.0.0.1"), -1);
    assert_int_equal(check(&p, "169.254.169.254"), -1);
    assert_int_equal(check(&p, "10.0.0.5"), 0); /* ISO mirrors live there */
    assert_int_equal(vmedia_url_policy_init(&p, false, ""), 0);
    assert_int_equal(check(&p, "10.0.0.5"), -1);
    /* an exception is exactly one address */
    assert_int_equal(vmedia_url_policy_init(&p, false, "127.0.0.2, 10.0.0.5"), 0);
    assert_int_equal(check(&p, "127.0.0.2"), 0);
    assert_int_equal(check(&p, "127.0.0.1"), -1);
    assert_int_equal(check(&p, "10.0.0.5"), 0);
    assert_int_equal(vmedia_url_policy_init(&p, true, "not-an-address"), -1);
}

static void test_redact(void **state)
{
    char out[256];
    vmedia_url_redact("http://alice:s3cret@host/a.iso?token=abc#frag", out, sizeof(out));
    assert_null(strstr(out, "s3cret"));
    assert_null(strstr(out, "abc"));
    assert_null(strstr(out, "frag"));
    assert_non_null(strstr(out, "host/a.iso"));
    vmedia_url_redact("https://host/b.iso", out, sizeof(out));
    assert_string_equal(out, "https://host/b.iso");
    vmedia_url_redact("http://u:p@host/x", out, 8); /* truncated, still terminated */
    assert_true(strlen(out) < 8);
    assert_null(strstr(out, ":p"));
}

static void test_name_from_url(void **state)
{
    char name[64];
    assert_int_equal(vmedia_name_from_url("http://h/dir/debian.iso?x=1", name, sizeof(name)), 0);
    assert_string_equal(name, "debian.iso");
    /* never named after credentials */
    int r = vmedia_name_from_url("http://user:pass@host", name, sizeof(name));
    assert_true(r != 0 || strstr(name, "pass") == NULL);
    assert_int_not_equal(vmedia_name_from_url("http://h/dir/", name, sizeof(name)), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_classes),
        cmocka_unit_test(test_policy),
        cmocka_unit_test(test_redact),
        cmocka_unit_test(test_name_from_url),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
