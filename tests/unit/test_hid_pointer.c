/* The pointer (hid_pointer) and the report formats (hid_report): corners
 * land exactly on 0 and 32767, buttons map RFB to HID order, wheel buttons
 * are one tick per press, relative motion adds up to the viewer's motion;
 * each report descriptor describes exactly the bytes piglix sends. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "hid/hid_pointer.h"
#include "hid/hid_report.h"

static void test_scale_corners(void **state)
{
    (void)state;
    static const unsigned sizes[] = {2, 3, 480, 640, 720, 768, 1024, 1080, 1920, 2160, 3840, 4096, 32768, 65535};
    for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
        unsigned s = sizes[i];
        assert_int_equal(hid_pointer_scale(0, s), 0);
        assert_int_equal(hid_pointer_scale((int)s - 1, s), HID_ABS_MAX);
        int prev = -1;
        for (unsigned x = 0; x < s; x += s / 97 + 1) { /* monotonic, in range, the formula */
            int v = hid_pointer_scale((int)x, s);
            assert_true(v >= prev && v >= 0 && v <= HID_ABS_MAX);
            assert_int_equal(v, (int)((long long)x * 32767 / (s - 1)));
            prev = v;
        }
    }
    assert_int_equal(hid_pointer_scale(0, 1), 0);
    assert_int_equal(hid_pointer_scale(5, 0), 0);
    assert_int_equal(hid_pointer_scale(-3, 640), 0);
    assert_int_equal(hid_pointer_scale(5000, 640), HID_ABS_MAX);
}

static void test_absolute_events(void **state)
{
    (void)state;
    struct hid_pointer p;
    hid_pointer_init(&p, HID_MOUSE_ABSOLUTE);
    struct hid_mouse_report r[HID_POINTER_MAX_REPORTS];
    int n = hid_pointer_event(&p, 1919, 1079, 1920, 1080, 0, r);
    assert_int_equal(n, 1);
    assert_int_equal(r[0].x, 32767);
    assert_int_equal(r[0].y, 32767);
    assert_int_equal(hid_pointer_event(&p, 1919, 1079, 1920, 1080, 0, r), 0); /* nothing new */
    /* RFB left, middle, right, button 8 -> HID 0, 2, 1, 3 */
    n = hid_pointer_event(&p, 1919, 1079, 1920, 1080, 0x01 | 0x02 | 0x04 | 0x80, r);
    assert_int_equal(n, 1);
    assert_int_equal(r[0].buttons, 0x0f);
    n = hid_pointer_event(&p, 1919, 1079, 1920, 1080, 0x04, r);
    assert_int_equal(r[0].buttons, 0x02);
    /* wheel: one tick per press of RFB button 4 (up) / 5 (down) / 6 (left) / 7 (right) */
    n = hid_pointer_event(&p, 0, 0, 1920, 1080, 0x08, r);
    assert_int_equal(n, 2);
    assert_int_equal(r[0].x, 0);
    assert_int_equal(r[0].buttons, 0);
    assert_int_equal(r[1].wheel, 1);
    assert_int_equal(hid_pointer_event(&p, 0, 0, 1920, 1080, 0x08, r), 0); /* still held: no tick */
    assert_int_equal(hid_pointer_event(&p, 0, 0, 1920, 1080, 0x00, r), 0);
    n = hid_pointer_event(&p, 0, 0, 1920, 1080, 0x10, r);
    assert_int_equal(n, 1);
    assert_int_equal(r[0].wheel, -1);
    n = hid_pointer_event(&p, 0, 0, 1920, 1080, 0x20 | 0x40, r);
    assert_int_equal(n, 0); /* left and right at once cancel */
    hid_pointer_event(&p, 0, 0, 1920, 1080, 0, r);
    n = hid_pointer_event(&p, 0, 0, 1920, 1080, 0x40, r);
    assert_int_equal(r[0].pan, 1);
    /* positions outside the picture are clamped; no picture, no report */
    n = hid_pointer_event(&p, -50, 99999, 1920, 1080, 0x40, r);
    assert_int_equal(r[0].x, 0);
    assert_int_equal(r[0].y, 32767);
    assert_int_equal(hid_pointer_event(&p, 5, 5, 0, 0, 0, r), 0);
}

static void test_relative_events(void **state)
{
    (void)state;
    struct hid_pointer p;
    hid_pointer_init(&p, HID_MOUSE_RELATIVE);
    struct hid_mouse_report r[HID_POINTER_MAX_REPORTS];
    assert_int_equal(hid_pointer_event(&p, 100, 100, 1920, 1080, 0, r), 0); /* the first sets the origin */
    int n = hid_pointer_event(&p, 150, 90, 1920, 1080, 0, r);
    assert_int_equal(n, 1);
    assert_int_equal(r[0].x, 50);
    assert_int_equal(r[0].y, -10);
    n = hid_pointer_event(&p, 1000, 90, 1920, 1080, 1, r); /* 850 px right, button down */
    int sum = 0;
    for (int i = 0; i < n; i++) {
        assert_true(r[i].x >= -127 && r[i].x <= 127);
        assert_int_equal(r[i].buttons, 1);
        sum += r[i].x;
    }
    assert_int_equal(sum, 850);
    assert_int_equal(n, 7);
    n = hid_pointer_event(&p, 1000, 90, 1920, 1080, 0, r); /* button up, no motion */
    assert_int_equal(n, 1);
    assert_int_equal(r[0].x, 0);
    assert_int_equal(r[0].buttons, 0);
    struct hid_mouse_report one;
    assert_int_equal(hid_pointer_release(&p, &one), 0);
    hid_pointer_event(&p, 1000, 90, 1920, 1080, 4, r);
    assert_int_equal(hid_pointer_release(&p, &one), 1);
    assert_int_equal(one.buttons, 0);
    hid_pointer_set_mode(&p, HID_MOUSE_ABSOLUTE);
    n = hid_pointer_event(&p, 0, 0, 1920, 1080, 0, r);
    assert_int_equal(n, 1);
    assert_int_equal(r[0].x, 0);
}

static void test_encoding(void **state)
{
    (void)state;
    uint8_t b[HID_REPORT_MAX];
    struct hid_mouse_report m = {.buttons = 0x05, .x = 32767, .y = 258, .wheel = -1, .pan = 1};
    assert_int_equal(hid_mouse_encode(HID_EP_MOUSE_ABS, &m, b), 7);
    static const uint8_t abs_want[7] = {0x05, 0xff, 0x7f, 0x02, 0x01, 0xff, 0x01};
    assert_memory_equal(b, abs_want, 7);
    m = (struct hid_mouse_report){.buttons = 0x02, .x = -5, .y = 300, .wheel = 1};
    assert_int_equal(hid_mouse_encode(HID_EP_MOUSE_REL, &m, b), 5);
    static const uint8_t rel_want[5] = {0x02, 0xfb, 0x7f, 0x01, 0x00};
    assert_memory_equal(b, rel_want, 5);
    struct hid_kbd_report k = {.mods = 0x42, .keys = {4, 5}};
    hid_kbd_encode(&k, b);
    static const uint8_t kbd_want[8] = {0x42, 0, 4, 5, 0, 0, 0, 0};
    assert_memory_equal(b, kbd_want, 8);
    /* LED report (Num 1, Caps 2, Scroll 4) to viewers' (Scroll 1, Num 2, Caps 4) */
    assert_int_equal(hid_leds_from_report(0x01), 2);
    assert_int_equal(hid_leds_from_report(0x02), 4);
    assert_int_equal(hid_leds_from_report(0x04), 1);
    assert_int_equal(hid_leds_from_report(0x1f), 7);
}

/* Sums the bits of a descriptor's Input and Output items (no report IDs). */
static void descriptor_bits(const uint8_t *d, size_t len, unsigned *in_bits, unsigned *out_bits, int *depth)
{
    unsigned size = 0, count = 0;
    *in_bits = *out_bits = 0;
    *depth = 0;
    int min_depth = 0;
    for (size_t i = 0; i < len;) {
        uint8_t prefix = d[i];
        size_t n = prefix & 3;
        if (n == 3)
            n = 4;
        assert_true(i + 1 + n <= len);
        uint32_t v = 0;
        for (size_t k = 0; k < n; k++)
            v |= (uint32_t)d[i + 1 + k] << (8 * k);
        switch (prefix & 0xfc) {
        case 0x74: size = v; break;                       /* Report Size */
        case 0x94: count = v; break;                      /* Report Count */
        case 0x80: *in_bits += size * count; break;       /* Input */
        case 0x90: *out_bits += size * count; break;      /* Output */
        case 0xa0: (*depth)++; break;                     /* Collection */
        case 0xc0: (*depth)--; if (*depth < min_depth) min_depth = *depth; break;
        case 0x84: fail_msg("report IDs are not expected"); break;
        }
        i += 1 + n;
    }
    assert_int_equal(min_depth, 0);
}

static void test_descriptors_match_reports(void **state)
{
    (void)state;
    static const struct { enum hid_endpoint ep; unsigned in_bytes, out_bits; } want[] = {
        {HID_EP_KEYBOARD, HID_KBD_REPORT_LEN, 8},
        {HID_EP_MOUSE_ABS, HID_ABS_REPORT_LEN, 0},
        {HID_EP_MOUSE_REL, HID_REL_REPORT_LEN, 0},
    };
    for (size_t i = 0; i < 3; i++) {
        const struct hid_function_desc *f = hid_report_function(want[i].ep);
        assert_non_null(f);
        unsigned in_bits, out_bits;
        int depth;
        descriptor_bits(f->report_desc, f->report_desc_len, &in_bits, &out_bits, &depth);
        assert_int_equal(depth, 0);
        assert_int_equal(in_bits, 8 * want[i].in_bytes);
        assert_int_equal(f->report_length, want[i].in_bytes);
        assert_int_equal(out_bits, want[i].out_bits);
    }
    /* boot keyboard and boot mouse */
    assert_int_equal(hid_report_function(HID_EP_KEYBOARD)->subclass, 1);
    assert_int_equal(hid_report_function(HID_EP_KEYBOARD)->protocol, 1);
    assert_int_equal(hid_report_function(HID_EP_MOUSE_REL)->protocol, 2);
    assert_null(hid_report_function(HID_EP_COUNT));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_scale_corners),
        cmocka_unit_test(test_absolute_events),
        cmocka_unit_test(test_relative_events),
        cmocka_unit_test(test_encoding),
        cmocka_unit_test(test_descriptors_match_reports),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
