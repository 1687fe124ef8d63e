#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "server/server.h"

static int frame(enum rfb_msg_stage st, const void *b, size_t n, struct rfb_msg_info *i)
{
    return rfb_msg_frame(st, b, n, i);
}

static void test_handshake(void **state)
{
    (void)state;
    struct rfb_msg_info i;
    assert_int_equal(frame(RFB_STAGE_VERSION, "RFB 003.0", 9, &i), 0);
    assert_int_equal(frame(RFB_STAGE_VERSION, "RFB 003.008\n", 12, &i), 1);
    assert_int_equal(i.size, 12);
    assert_int_equal(frame(RFB_STAGE_VERSION, "GET / HTTP/1.1", 14, &i), -1);
    assert_int_equal(frame(RFB_STAGE_SECURITY, "\x02", 1, &i), 1);
    uint8_t resp[16] = {0};
    assert_int_equal(frame(RFB_STAGE_VNCAUTH, resp, 15, &i), 0);
    assert_int_equal(frame(RFB_STAGE_VNCAUTH, resp, 16, &i), 1);
}

static int version(const char *v) { return rfb_msg_parse_version((const uint8_t *)v); }

static void test_version(void **state)
{
    (void)state;
    assert_int_equal(version("RFB 003.003\n"), 3);
    assert_int_equal(version("RFB 003.007\n"), 7);
    assert_int_equal(version("RFB 003.008\n"), 8);
    assert_int_equal(version("RFB 003.889\n"), 8);
    assert_int_equal(version("RFB 003.005\n"), -1);
    assert_int_equal(version("RFB 004.000\n"), -1);
    assert_int_equal(version("RFB 003.0a8\n"), -1);
    assert_int_equal(version("RFB 003.008 "), -1);
    assert_int_equal(version("RFB 003.-08\n"), -1);
    assert_int_equal(version("rfb 003.008\n"), -1);
}

static void test_fixed_sizes(void **state)
{
    (void)state;
    struct rfb_msg_info i;
    uint8_t b[32] = {0};
    static const struct { uint8_t type; size_t size; } cases[] = {{0, 20}, {3, 10}, {4, 8}, {5, 6}};
    for (size_t k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
        b[0] = cases[k].type;
        assert_int_equal(frame(RFB_STAGE_NORMAL, b, cases[k].size - 1, &i), 0);
        assert_int_equal(frame(RFB_STAGE_NORMAL, b, cases[k].size, &i), 1);
        assert_int_equal(i.size, cases[k].size);
        assert_int_equal(frame(RFB_STAGE_NORMAL, b, sizeof(b), &i), 1);
        assert_int_equal(i.size, cases[k].size);
    }
}

static void test_set_encodings(void **state)
{
    (void)state;
    struct rfb_msg_info i;
    uint8_t b[4 + 8] = {2, 0, 0, 2, 0, 0, 0, 7, 0xff, 0xff, 0xfe, 0xfe};
    assert_int_equal(frame(RFB_STAGE_NORMAL, b, 11, &i), 0);
    assert_int_equal(i.size, 12);
    assert_int_equal(frame(RFB_STAGE_NORMAL, b, 12, &i), 1);
    assert_true(i.may_reply);
    uint8_t huge[4] = {2, 0, 0xff, 0xff};
    assert_int_equal(frame(RFB_STAGE_NORMAL, huge, 4, &i), -1);
    assert_non_null(i.error);
}

static void test_cut_text(void **state)
{
    (void)state;
    struct rfb_msg_info i;
    uint8_t b[8 + 5] = {6, 0, 0, 0, 0, 0, 0, 5, 'h', 'e', 'l', 'l', 'o'};
    assert_int_equal(frame(RFB_STAGE_NORMAL, b, 12, &i), 0);
    assert_int_equal(frame(RFB_STAGE_NORMAL, b, 13, &i), 1);
    uint8_t ext[8] = {6, 0, 0, 0, 0xff, 0xff, 0xff, 0xfc}; /* extended: length -4 */
    assert_int_equal(frame(RFB_STAGE_NORMAL, ext, 8, &i), 0);
    assert_int_equal(i.size, 12);
    uint8_t big[8] = {6, 0, 0, 0, 0x10, 0, 0, 0};
    assert_int_equal(frame(RFB_STAGE_NORMAL, big, 8, &i), -1);
    uint8_t bigneg[8] = {6, 0, 0, 0, 0x80, 0, 0, 0};
    assert_int_equal(frame(RFB_STAGE_NORMAL, bigneg, 8, &i), -1);
}

static void test_qemu_and_desktop_size(void **state)
{
    (void)state;
    struct rfb_msg_info i;
    uint8_t q[12] = {255, 0, 0, 1, 0, 0, 0, 0x61, 0, 0, 0, 0x1e};
    assert_int_equal(frame(RFB_STAGE_NORMAL, q, 11, &i), 0);
    assert_int_equal(frame(RFB_STAGE_NORMAL, q, 12, &i), 1);
    q[1] = 1; /* QEMU audio: not supported */
    assert_int_equal(frame(RFB_STAGE_NORMAL, q, 12, &i), -1);
    uint8_t sds[8 + 16] = {251, 0, 0x07, 0x80, 0x04, 0x38, 1, 0};
    assert_int_equal(frame(RFB_STAGE_NORMAL, sds, 23, &i), 0);
    assert_int_equal(frame(RFB_STAGE_NORMAL, sds, 24, &i), 1);
    sds[6] = 0;
    assert_int_equal(frame(RFB_STAGE_NORMAL, sds, 24, &i), -1);
}

static void test_unknown_types(void **state)
{
    (void)state;
    struct rfb_msg_info i;
    for (int t = 0; t < 256; t++) {
        uint8_t b[1] = {(uint8_t)t};
        int r = frame(RFB_STAGE_NORMAL, b, 1, &i);
        bool known = t == 0 || t == 2 || t == 3 || t == 4 || t == 5 || t == 6 || t == 251 || t == 255;
        if (known)
            assert_int_equal(r, 0);
        else {
            assert_int_equal(r, -1);
            assert_non_null(i.error);
        }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_handshake),
        cmocka_unit_test(test_version),
        cmocka_unit_test(test_fixed_sizes),
        cmocka_unit_test(test_set_encodings),
        cmocka_unit_test(test_cut_text),
        cmocka_unit_test(test_qemu_and_desktop_size),
        cmocka_unit_test(test_unknown_types),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
