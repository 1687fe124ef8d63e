/* Unit tests for server/update: the shared buffer of encoded rectangles. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "pipeline/update.h"

static void test_new_is_empty_with_one_ref(void **state)
{
    (void)state;
    struct update *u = update_new();
    assert_non_null(u);
    assert_int_equal(atomic_load(&u->refs), 1);
    assert_int_equal(u->len, 0);
    assert_int_equal(u->nrects, 0);
    update_unref(u);
    update_unref(NULL);
}

static void test_refcount(void **state)
{
    (void)state;
    struct update *u = update_new();
    assert_ptr_equal(update_ref(u), u);
    assert_int_equal(atomic_load(&u->refs), 2);
    update_unref(u);
    assert_int_equal(atomic_load(&u->refs), 1);
    assert_int_equal(update_append(u, "abc", 3), 0); /* still alive: ASan would catch a free */
    update_unref(u);
}

static void test_append_grows_and_keeps_bytes(void **state)
{
    (void)state;
    struct update *u = update_new();
    uint8_t chunk[1000];
    for (int i = 0; i < 100; i++) {
        memset(chunk, i, sizeof(chunk));
        assert_int_equal(update_append(u, chunk, sizeof(chunk)), 0);
    }
    assert_int_equal(u->len, 100000);
    assert_true(u->cap >= u->len);
    for (int i = 0; i < 100; i++)
        for (int j = 0; j < 1000; j += 97)
            assert_int_equal(u->data[i * 1000 + j], i);
    assert_int_equal(update_append(u, NULL, 0), 0);
    assert_int_equal(u->len, 100000);
    update_unref(u);
}

static void test_rect_header_big_endian(void **state)
{
    (void)state;
    struct update *u = update_new();
    assert_int_equal(update_append_rect_header(u, 0x0102, 0x0304, 0x0506, 0x0708, 7), 0);
    assert_int_equal(update_append_rect_header(u, 0, 65535, 1, 2, -223), 0);
    assert_int_equal(u->nrects, 2);
    assert_int_equal(u->len, 24);
    const uint8_t want[24] = {1, 2, 3, 4, 5, 6, 7, 8, 0, 0, 0, 7,
                              0, 0, 0xff, 0xff, 0, 1, 0, 2, 0xff, 0xff, 0xff, 0x21};
    assert_memory_equal(u->data, want, sizeof(want));
    /* Coordinates that do not fit 16 bits are refused, nothing appended. */
    assert_int_equal(update_append_rect_header(u, 65536, 0, 1, 1, 7), -1);
    assert_int_equal(u->nrects, 2);
    assert_int_equal(u->len, 24);
    update_unref(u);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_new_is_empty_with_one_ref),
        cmocka_unit_test(test_refcount),
        cmocka_unit_test(test_append_grows_and_keeps_bytes),
        cmocka_unit_test(test_rect_header_big_endian),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
