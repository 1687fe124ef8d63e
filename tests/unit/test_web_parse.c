/* web/web_parse: paths, cookies, Authorization headers, Origin and JSON
 * bodies, including the hostile cases. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "web/web_parse.h"

static void test_paths(void **state)
{
    (void)state;
    char out[64];
    assert_int_equal(web_path_normalize("/", out, sizeof(out)), 0);
    assert_string_equal(out, "/");
    assert_int_equal(web_path_normalize("/api/info?x=1", out, sizeof(out)), 0);
    assert_string_equal(out, "/api/info");
    assert_int_equal(web_path_normalize("/novnc/core/rfb.js", out, sizeof(out)), 0);
    assert_int_equal(web_path_normalize("/a%20b", out, sizeof(out)), 0);
    assert_string_equal(out, "/a b");
    /* ways out of the root, plain and encoded */
    assert_int_equal(web_path_normalize("/../etc/passwd", out, sizeof(out)), -1);
    assert_int_equal(web_path_normalize("/a/..", out, sizeof(out)), -1);
    assert_int_equal(web_path_normalize("/%2e%2e/etc", out, sizeof(out)), -1);
    assert_int_equal(web_path_normalize("/%2E./x", out, sizeof(out)), -1);
    assert_int_equal(web_path_normalize("/./x", out, sizeof(out)), -1);
    assert_int_equal(web_path_normalize("//etc/passwd", out, sizeof(out)), -1);
    assert_int_equal(web_path_normalize("/a%2f..%2fb", out, sizeof(out)), -1);
    assert_int_equal(web_path_normalize("/a\\..\\b", out, sizeof(out)), -1);
    assert_int_equal(web_path_normalize("/a%00b", out, sizeof(out)), -1);
    assert_int_equal(web_path_normalize("/a%0ab", out, sizeof(out)), -1);
    assert_int_equal(web_path_normalize("/a%zz", out, sizeof(out)), -1);
    assert_int_equal(web_path_normalize("/a%2", out, sizeof(out)), -1);
    assert_int_equal(web_path_normalize("relative", out, sizeof(out)), -1);
    assert_int_equal(web_path_normalize("", out, sizeof(out)), -1);
    char tiny[4];
    assert_int_equal(web_path_normalize("/abcdef", tiny, sizeof(tiny)), -1);
    /* ".." inside a name is a name */
    assert_int_equal(web_path_normalize("/a..b/c.js", out, sizeof(out)), 0);
    /* already decoded by libwebsockets: no second decoding */
    assert_int_equal(web_path_check("/api/vmedia/images/a%41?b", out, sizeof(out)), 0);
    assert_string_equal(out, "/api/vmedia/images/a%41?b");
    assert_int_equal(web_path_check("/a/../b", out, sizeof(out)), -1);
    assert_int_equal(web_path_check("/a\nb", out, sizeof(out)), -1);
    assert_int_equal(web_path_check("//x", out, sizeof(out)), -1);
    assert_int_equal(web_path_check("/abcdef", tiny, sizeof(tiny)), -1);
}

static void test_cookies(void **state)
{
    (void)state;
    char v[16];
    assert_int_equal(web_cookie_get("a=1; piglix_session=abc; b=2", "piglix_session", v, sizeof(v)), 3);
    assert_string_equal(v, "abc");
    assert_int_equal(web_cookie_get("piglix_session=x", "piglix_session", v, sizeof(v)), 1);
    assert_int_equal(web_cookie_get("xpiglix_session=x", "piglix_session", v, sizeof(v)), -1);
    assert_int_equal(web_cookie_get("piglix_sessionx=x", "piglix_session", v, sizeof(v)), -1);
    assert_int_equal(web_cookie_get("junk; piglix_session=ok", "piglix_session", v, sizeof(v)), 2);
    assert_int_equal(web_cookie_get("s=0123456789abcdef0", "s", v, sizeof(v)), -1); /* too long */
    assert_int_equal(web_cookie_get("", "s", v, sizeof(v)), -1);
    assert_int_equal(web_cookie_get(";;;=;", "s", v, sizeof(v)), -1);
    assert_int_equal(web_cookie_get("s=", "s", v, sizeof(v)), 0);
}

static void test_authorization(void **state)
{
    (void)state;
    char u[40], p[300], t[200];
    /* admin:pa:ss (the password may hold colons) */
    assert_int_equal(web_basic_auth_parse("Basic YWRtaW46cGE6c3M=", u, sizeof(u), p, sizeof(p)), 0);
    assert_string_equal(u, "admin");
    assert_string_equal(p, "pa:ss");
    assert_int_equal(web_basic_auth_parse("basic YWRtaW46eA==", u, sizeof(u), p, sizeof(p)), 0);
    assert_string_equal(p, "x");
    assert_int_equal(web_basic_auth_parse("Basic YWRtaW4=", u, sizeof(u), p, sizeof(p)), -1); /* no colon */
    assert_int_equal(web_basic_auth_parse("Basic OnBhc3M=", u, sizeof(u), p, sizeof(p)), -1);  /* empty user */
    assert_int_equal(web_basic_auth_parse("Basic !!!!", u, sizeof(u), p, sizeof(p)), -1);
    assert_int_equal(web_basic_auth_parse("Basic YWRtaW46eA=", u, sizeof(u), p, sizeof(p)), -1);
    assert_int_equal(web_basic_auth_parse("Bearer abc", u, sizeof(u), p, sizeof(p)), -1);
    assert_int_equal(web_basic_auth_parse("Basic YQBiOmM=", u, sizeof(u), p, sizeof(p)), -1);  /* NUL */
    char big[2000] = "Basic ";
    memset(big + 6, 'A', sizeof(big) - 7);
    big[sizeof(big) - 1] = '\0';
    assert_int_equal(web_basic_auth_parse(big, u, sizeof(u), p, sizeof(p)), -1);

    assert_int_equal(web_bearer_parse("Bearer 0123456789abcdef0123", t, sizeof(t)), 0);
    assert_string_equal(t, "0123456789abcdef0123");
    assert_int_equal(web_bearer_parse("Bearer short", t, sizeof(t)), -1);
    assert_int_equal(web_bearer_parse("Bearer 0123456789abcdef\"0123", t, sizeof(t)), -1);
    assert_int_equal(web_bearer_parse("Basic 0123456789abcdef0123", t, sizeof(t)), -1);
}

static void test_origin_and_names(void **state)
{
    (void)state;
    assert_true(web_origin_matches("https://piglix.local", "piglix.local"));
    assert_true(web_origin_matches("https://127.0.0.1:8443", "127.0.0.1:8443"));
    assert_true(web_origin_matches("https://[::1]:8443/", "[::1]:8443"));
    assert_false(web_origin_matches("http://piglix.local", "piglix.local"));
    assert_false(web_origin_matches("https://evil.example", "piglix.local"));
    assert_false(web_origin_matches("https://piglix.local.evil", "piglix.local"));
    assert_false(web_origin_matches("https://127.0.0.1:8444", "127.0.0.1:8443"));
    assert_false(web_origin_matches("null", "piglix.local"));
    assert_false(web_origin_matches("https://", ""));
    assert_true(auth_name_valid("admin"));
    assert_true(auth_name_valid("ops.team-1_x"));
    assert_false(auth_name_valid(""));
    assert_false(auth_name_valid("Admin"));
    assert_false(auth_name_valid(".hidden"));
    assert_false(auth_name_valid("a:b"));
    assert_false(auth_name_valid("a b"));
    assert_false(auth_name_valid("abcdefghijabcdefghijabcdefghijabc")); /* 33 */
}

static void test_cross_site_and_urls(void **state)
{
    (void)state;
    const char *h = "kvm:8443";
    /* scripts send none of the three */
    assert_true(web_request_same_origin(NULL, NULL, NULL, h));
    assert_true(web_request_same_origin("https://kvm:8443", "https://kvm:8443/x?y", "same-origin", h));
    assert_true(web_request_same_origin(NULL, NULL, "none", h));
    assert_false(web_request_same_origin("https://evil.example", NULL, NULL, h));
    assert_false(web_request_same_origin("null", NULL, NULL, h));
    assert_false(web_request_same_origin(NULL, "https://evil.example/kvm:8443", NULL, h));
    assert_false(web_request_same_origin(NULL, "https://kvm:8443.evil/", NULL, h));
    assert_false(web_request_same_origin(NULL, "http://kvm:8443/", NULL, h));
    assert_false(web_request_same_origin(NULL, "kvm:8443", NULL, h));
    assert_false(web_request_same_origin(NULL, NULL, "cross-site", h));
    assert_false(web_request_same_origin(NULL, NULL, "same-site", h));
    assert_false(web_request_same_origin("https://kvm:8443", NULL, "cross-site", h));
    assert_true(web_ctype_is_json("application/json"));
    assert_true(web_ctype_is_json("Application/JSON; charset=utf-8"));
    assert_false(web_ctype_is_json("application/jsonp"));
    assert_false(web_ctype_is_json("text/plain"));
    assert_false(web_ctype_is_json(""));

    char out[64];
    assert_int_equal(web_url_normalize("HTTP://Host/a.iso", out, sizeof(out)), 0);
    assert_string_equal(out, "http://Host/a.iso");
    assert_int_equal(web_url_normalize("hTTpS://[::1]:8/b", out, sizeof(out)), 0);
    assert_string_equal(out, "https://[::1]:8/b");
    const char *bad[] = {"", "ftp://h/a", "http://", "http:///a", "http://:80/a", "http://[::1/a", "http://a b/c",
                         "file:///etc/passwd", "a.iso", "http://h/\x01", "https:/h/a"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_int_equal(web_url_normalize(bad[i], out, sizeof(out)), -1);
    char longurl[80];
    memset(longurl, 'a', sizeof(longurl) - 1);
    memcpy(longurl, "http://", 7);
    longurl[sizeof(longurl) - 1] = '\0';
    assert_int_equal(web_url_normalize(longurl, out, sizeof(out)), -1); /* does not fit */
}

#define J(s) s, strlen(s)

static void test_login_and_setup_bodies(void **state)
{
    (void)state;
    char err[WEB_ERR_MAX];
    struct web_login_req l;
    assert_int_equal(web_parse_login(J("{\"name\":\"a\",\"password\":\"b\"}"), &l, err), 0);
    assert_string_equal(l.name, "a");
    assert_string_equal(l.totp, "");
    assert_int_equal(web_parse_login(J("{\"name\":\"a\",\"password\":\"b\",\"totp\":\"123456\"}"), &l, err), 0);
    assert_string_equal(l.totp, "123456");
    assert_int_equal(web_parse_login(J("{\"name\":\"a\""), &l, err), 400);
    assert_non_null(strstr(err, "JSON"));
    assert_int_equal(web_parse_login(J("[1,2]"), &l, err), 400);
    assert_int_equal(web_parse_login(J("{\"name\":\"a\"}"), &l, err), 422);
    assert_non_null(strstr(err, "password"));
    assert_int_equal(web_parse_login(J("{\"name\":1,\"password\":\"b\"}"), &l, err), 422);
    assert_non_null(strstr(err, "must be a string"));
    assert_int_equal(web_parse_login("", 0, &l, err), 400);
    char longname[200];
    snprintf(longname, sizeof(longname), "{\"name\":\"%0100d\",\"password\":\"b\"}", 1);
    assert_int_equal(web_parse_login(J(longname), &l, err), 422);
    assert_non_null(strstr(err, "too long"));

    struct web_setup_req s;
    assert_int_equal(web_parse_setup(J("{\"token\":\"t\",\"name\":\"admin\",\"password\":\"12345678\"}"), &s, err), 0);
    assert_int_equal(web_parse_setup(J("{\"token\":\"t\",\"name\":\"Admin\",\"password\":\"12345678\"}"), &s, err), 422);
    assert_int_equal(web_parse_setup(J("{\"token\":\"t\",\"name\":\"admin\",\"password\":\"1234567\"}"), &s, err), 422);
    assert_non_null(strstr(err, "8"));
    char code[16];
    assert_int_equal(web_parse_code(J("{\"code\":\"123456\"}"), code, sizeof(code), err), 0);
    assert_int_equal(web_parse_code(J("{\"code\":123456}"), code, sizeof(code), err), 422);
}

static void test_hid_bodies(void **state)
{
    (void)state;
    char err[WEB_ERR_MAX];
    struct web_keys_req *k = malloc(sizeof(*k));
    assert_int_equal(web_parse_keys(J("{\"combo\":\"Ctrl+Alt+Delete\"}"), WEB_COMBO_MAX, k, err), 0);
    assert_int_equal(k->n, 3);
    assert_string_equal(k->keys[0], "ctrl");
    assert_string_equal(k->keys[2], "delete");
    assert_int_equal(web_parse_keys(J("{\"keys\":[\"f1\",\"enter\"]}"), WEB_COMBO_MAX, k, err), 0);
    assert_int_equal(k->n, 2);
    assert_int_equal(web_parse_keys(J("{\"keys\":[\"f1\",2]}"), WEB_COMBO_MAX, k, err), 422);
    assert_int_equal(web_parse_keys(J("{\"keys\":\"f1\"}"), WEB_COMBO_MAX, k, err), 422);
    assert_int_equal(web_parse_keys(J("{\"keys\":[]}"), WEB_COMBO_MAX, k, err), 422);
    assert_int_equal(web_parse_keys(J("{\"combo\":\"ctrl++x\"}"), WEB_COMBO_MAX, k, err), 422);
    assert_int_equal(web_parse_keys(J("{\"combo\":\"a+b+c+d+e+f+g+h+i\"}"), WEB_COMBO_MAX, k, err), 422);
    assert_non_null(strstr(err, "at most"));
    assert_int_equal(web_parse_keys(J("{\"combo\":\"ctrl+<script>\"}"), WEB_COMBO_MAX, k, err), 422);
    assert_int_equal(web_parse_keys(J("{\"combo\":\"x\",\"keys\":[\"y\"]}"), WEB_COMBO_MAX, k, err), 422);
    assert_int_equal(web_parse_keys(J("{}"), WEB_COMBO_MAX, k, err), 422);
    free(k);

    struct web_paste_req p;
    assert_int_equal(web_parse_paste(J("{\"text\":\"h\\u00e9llo\\n\"}"), &p, err), 0);
    assert_string_equal(p.text, "h\xc3\xa9llo\n");
    assert_string_equal(p.layout, "us");
    free(p.text);
    assert_int_equal(web_parse_paste(J("{\"text\":\"x\",\"layout\":\"de\"}"), &p, err), 0);
    assert_string_equal(p.layout, "de");
    free(p.text);
    assert_int_equal(web_parse_paste(J("{\"text\":\"x\",\"layout\":\"../x\"}"), &p, err), 422);
    assert_int_equal(web_parse_paste(J("{\"text\":5}"), &p, err), 422);
    assert_null(p.text);
    size_t big = WEB_PASTE_MAX + 100;
    char *body = malloc(big + 32);
    strcpy(body, "{\"text\":\"");
    memset(body + 9, 'a', WEB_PASTE_MAX + 1);
    strcpy(body + 9 + WEB_PASTE_MAX + 1, "\"}");
    assert_int_equal(web_parse_paste(J(body), &p, err), 422);
    free(body);

    struct web_mouse_req m;
    assert_int_equal(web_parse_mouse(J("{\"x\":10,\"y\":20}"), &m, err), 0);
    assert_int_equal(m.x, 10);
    assert_int_equal(m.buttons, 0);
    assert_int_equal(web_parse_mouse(J("{\"x\":10,\"y\":20,\"buttons\":1}"), &m, err), 0);
    assert_int_equal(m.buttons, 1);
    assert_int_equal(web_parse_mouse(J("{\"x\":1.5,\"y\":20}"), &m, err), 422);
    assert_int_equal(web_parse_mouse(J("{\"x\":-1,\"y\":20}"), &m, err), 422);
    assert_int_equal(web_parse_mouse(J("{\"x\":1,\"y\":\"2\"}"), &m, err), 422);
    assert_int_equal(web_parse_mouse(J("{\"x\":1,\"y\":2,\"buttons\":128}"), &m, err), 422);
    assert_int_equal(web_parse_mouse(J("{\"x\":1e300,\"y\":2}"), &m, err), 422);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_paths),
        cmocka_unit_test(test_cookies),
        cmocka_unit_test(test_authorization),
        cmocka_unit_test(test_origin_and_names),
        cmocka_unit_test(test_cross_site_and_urls),
        cmocka_unit_test(test_login_and_setup_bodies),
        cmocka_unit_test(test_hid_bodies),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
