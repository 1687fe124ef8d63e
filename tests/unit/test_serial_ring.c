/* Unit tests for serial/serial_ring: offsets, wrap-around, readers that fell
 * behind (lost bytes) and readers that ask for more than there is. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "serial/serial_internal.h"

static void test_read_in_order(void **state)
{
    (void)state;
    struct serial_ring r;
    assert_int_equal(serial_ring_init(&r, 8), 0);
    uint64_t pos = 0, lost = 99;
    uint8_t out[16];
    assert_int_equal(serial_ring_read(&r, &pos, out, sizeof(out), &lost), 0);
    assert_int_equal(lost, 0);
    serial_ring_append(&r, (const uint8_t *)"abc", 3);
    assert_int_equal(serial_ring_read(&r, &pos, out, 2, &lost), 2);
    assert_memory_equal(out, "ab", 2);
    assert_int_equal(pos, 2);
    assert_int_equal(serial_ring_read(&r, &pos, out, sizeof(out), NULL), 1);
    assert_memory_equal(out, "c", 1);
    assert_int_equal(pos, 3);
    serial_ring_free(&r);
}

static void test_wrap_and_lost(void **state)
{
    (void)state;
    struct serial_ring r;
    assert_int_equal(serial_ring_init(&r, 8), 0);
    serial_ring_append(&r, (const uint8_t *)"0123456", 7);
    serial_ring_append(&r, (const uint8_t *)"789AB", 5);      /* wraps: keeps 456789AB */
    assert_int_equal(r.head, 12);
    assert_int_equal(serial_ring_oldest(&r), 4);
    uint64_t pos = 1, lost = 0;
    uint8_t out[16];
    assert_int_equal(serial_ring_read(&r, &pos, out, sizeof(out), &lost), 8);
    assert_int_equal(lost, 3);
    assert_memory_equal(out, "456789AB", 8);
    assert_int_equal(pos, 12);
    /* A reader in the middle of the wrapped part. */
    pos = 6;
    assert_int_equal(serial_ring_read(&r, &pos, out, 4, &lost), 4);
    assert_int_equal(lost, 0);
    assert_memory_equal(out, "6789", 4);
    /* A position past the head (a bad caller) moves back to the head. */
    pos = 1000;
    assert_int_equal(serial_ring_read(&r, &pos, out, sizeof(out), &lost), 0);
    assert_int_equal(pos, 12);
    serial_ring_free(&r);
}

static void test_append_larger_than_ring(void **state)
{
    (void)state;
    struct serial_ring r;
    assert_int_equal(serial_ring_init(&r, 4), 0);
    serial_ring_append(&r, (const uint8_t *)"x", 1);
    serial_ring_append(&r, (const uint8_t *)"abcdefghij", 10);
    assert_int_equal(r.head, 11);
    uint64_t pos = 0, lost = 0;
    uint8_t out[16];
    assert_int_equal(serial_ring_read(&r, &pos, out, sizeof(out), &lost), 4);
    assert_int_equal(lost, 7);
    assert_memory_equal(out, "ghij", 4);
    serial_ring_free(&r);
}

/* Every byte of a long stream, read back in odd-sized pieces, matches. */
static void test_stream(void **state)
{
    (void)state;
    struct serial_ring r;
    assert_int_equal(serial_ring_init(&r, 97), 0);
    uint64_t pos = 0, written = 0;
    uint8_t in[61], out[53];
    for (int round = 0; round < 500; round++) {
        size_t n = (size_t)(round % 61) + 1;
        for (size_t i = 0; i < n; i++)
            in[i] = (uint8_t)((written + i) * 7);
        serial_ring_append(&r, in, n);
        written += n;
        uint64_t lost;
        size_t got;
        while ((got = serial_ring_read(&r, &pos, out, sizeof(out), &lost)) > 0) {
            assert_int_equal(lost, 0);
            for (size_t i = 0; i < got; i++)
                assert_int_equal(out[i], (uint8_t)((pos - got + i) * 7));
        }
        assert_int_equal(pos, written);
    }
    serial_ring_free(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_read_in_order),
        cmocka_unit_test(test_wrap_and_lost),
        cmocka_unit_test(test_append_larger_than_ring),
        cmocka_unit_test(test_stream),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
