/* The shipped keyboard layouts: every character each layout can type
 * round-trips (character -> keystrokes -> character through the layout's
 * table, as a host in that layout would read them), with Caps Lock off and
 * on; what a layout cannot type is refused; UTF-8 decoding is strict. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "hid/hid_keys.h"
#include "hid/hid_layout.h"
#include "hid/hid_utf8.h"

#define MAX_CHARS 512

/* Every character the layout's table says it types: each key's levels,
 * each dead key's accent (dead key, then Space), and each letter a dead key
 * composes with a base letter the layout has. Found from the table alone,
 * independently of hid_layout_strokes. */
static size_t typeable(const struct hid_layout *l, uint32_t *out)
{
    size_t n = 0;
    uint32_t accents[8];
    size_t naccents = 0;
    for (size_t i = 0; i < l->nkeys; i++) {
        for (int level = 0; level < 4; level++) {
            uint32_t c = l->keys[i].chars[level];
            if (!c)
                continue;
            if (c & HID_DEAD) {
                c = HID_DEAD_ACCENT(c);
                if (naccents < 8)
                    accents[naccents++] = c;
            }
            out[n++] = c;
        }
    }
    size_t direct = n;
    for (size_t a = 0; a < naccents; a++) {
        for (uint32_t base = 'A'; base <= 'z'; base++) {
            uint32_t composed = hid_compose(accents[a], base);
            bool base_typed = false;
            for (size_t i = 0; i < direct; i++)
                base_typed = base_typed || out[i] == base;
            if (composed && base_typed)
                out[n++] = composed;
        }
    }
    /* unique */
    size_t u = 0;
    for (size_t i = 0; i < n; i++) {
        bool seen = false;
        for (size_t j = 0; j < u; j++)
            seen = seen || out[j] == out[i];
        if (!seen)
            out[u++] = out[i];
    }
    return u;
}

/* What a host in layout l types for these strokes, with its Caps Lock as
 * given; the strokes' levels are adjusted as piglix does (Shift inverted
 * for letters while Caps Lock is on). 0 when the result is not exactly one
 * character. */
static uint32_t host_types(const struct hid_layout *l, const struct hid_stroke *s, int n, bool caps)
{
    uint32_t dead = 0, result = 0;
    int produced = 0;
    for (int i = 0; i < n; i++) {
        unsigned level = s[i].level;
        if (caps && s[i].caps)
            level ^= HID_LEVEL_SHIFT;
        uint32_t c = hid_layout_char(l, s[i].usage, level, caps);
        if (!c)
            return 0;
        if (c & HID_DEAD) {
            if (dead)
                return 0;
            dead = HID_DEAD_ACCENT(c);
            continue;
        }
        if (dead) {
            c = c == ' ' ? dead : hid_compose(dead, c);
            dead = 0;
            if (!c)
                return 0;
        }
        result = c;
        produced++;
    }
    return produced == 1 && !dead ? result : 0;
}

static void test_every_character_round_trips(void **state)
{
    (void)state;
    size_t nlayouts;
    const struct hid_layout *const *layouts = hid_layouts(&nlayouts);
    assert_true(nlayouts >= 7);
    for (size_t li = 0; li < nlayouts; li++) {
        const struct hid_layout *l = layouts[li];
        uint32_t chars[MAX_CHARS];
        size_t n = typeable(l, chars);
        assert_true(n > 60); /* letters, digits, punctuation at least */
        size_t two_strokes = 0;
        for (size_t i = 0; i < n; i++) {
            struct hid_stroke s[HID_LAYOUT_MAX_STROKES];
            int ns = hid_layout_strokes(l, chars[i], s);
            if (ns == 0)
                fail_msg("layout %s: U+%04X is in its table but has no strokes", l->name, (unsigned)chars[i]);
            two_strokes += ns == 2;
            for (int caps = 0; caps < 2; caps++) {
                uint32_t got = host_types(l, s, ns, caps);
                if (got != chars[i])
                    fail_msg("layout %s, Caps Lock %s: U+%04X typed as U+%04X", l->name, caps ? "on" : "off",
                             (unsigned)chars[i], (unsigned)got);
            }
        }
        printf("layout %s (%s): %zu characters round-trip, %zu of them through a dead key\n", l->name,
               l->description, n, two_strokes);
    }
}

static void test_layout_specifics(void **state)
{
    (void)state;
    struct hid_stroke s[2];
    const struct hid_layout *de = hid_layout_find("de"), *us = hid_layout_find("us");
    const struct hid_layout *fr = hid_layout_find("fr"), *ru = hid_layout_find("ru");
    assert_non_null(de);
    assert_null(hid_layout_find("xx"));
    assert_null(hid_layout_find(NULL));
    /* QWERTZ: z is where US has y */
    assert_int_equal(hid_layout_strokes(de, 'z', s), 1);
    assert_int_equal(s[0].usage, 0x1c);
    /* @ is AltGr+Q */
    assert_int_equal(hid_layout_strokes(de, '@', s), 1);
    assert_int_equal(s[0].usage, 0x14);
    assert_int_equal(s[0].level, HID_LEVEL_ALTGR);
    assert_false(s[0].shift_free);
    /* ^ is the dead key then Space; ê the dead key then e */
    assert_int_equal(hid_layout_strokes(de, '^', s), 2);
    assert_int_equal(s[0].usage, 0x35);
    assert_int_equal(s[1].usage, 0x2c);
    assert_int_equal(hid_layout_strokes(de, 0xea, s), 2);
    assert_int_equal(s[1].usage, 0x08);
    /* AZERTY: a is where US has q; digits need Shift */
    assert_int_equal(hid_layout_strokes(fr, 'a', s), 1);
    assert_int_equal(s[0].usage, 0x14);
    assert_int_equal(hid_layout_strokes(fr, '1', s), 1);
    assert_int_equal(s[0].level, HID_LEVEL_SHIFT);
    assert_false(s[0].caps);
    /* letters are Caps Lock letters, digits not; Space is Shift-free */
    assert_int_equal(hid_layout_strokes(us, 'Q', s), 1);
    assert_true(s[0].caps);
    assert_int_equal(hid_layout_strokes(us, '5', s), 1);
    assert_false(s[0].caps);
    assert_int_equal(hid_layout_strokes(us, ' ', s), 1);
    assert_true(s[0].shift_free);
    /* what a layout lacks */
    assert_int_equal(hid_layout_strokes(us, 0xe4, s), 0);  /* ä */
    assert_int_equal(hid_layout_strokes(ru, 'a', s), 0);
    assert_int_equal(hid_layout_strokes(ru, 0x416, s), 1); /* Ж */
    assert_int_equal(hid_layout_strokes(us, 0x1f600, s), 0);
    assert_int_equal(hid_layout_strokes(us, 0, s), 0);
    assert_false(hid_layout_has_altgr(us));
    assert_true(hid_layout_has_altgr(de));
}

static void test_compose_and_case(void **state)
{
    (void)state;
    assert_int_equal(hid_compose('^', 'e'), 0xea);
    assert_int_equal(hid_compose('^', 'E'), 0xca);
    assert_int_equal(hid_compose(0xa8, 'y'), 0xff);
    assert_int_equal(hid_compose(0xa8, 'Y'), 0); /* Ÿ is not Latin-1 */
    assert_int_equal(hid_compose('~', 'n'), 0xf1);
    assert_int_equal(hid_compose('^', 'x'), 0);
    assert_int_equal(hid_compose('^', '1'), 0);
    assert_int_equal(hid_letter_other_case('a'), 'A');
    assert_int_equal(hid_letter_other_case(0xe9), 0xc9);
    assert_int_equal(hid_letter_other_case(0xf7), 0); /* ÷ */
    assert_int_equal(hid_letter_other_case(0x451), 0x401); /* ё */
    assert_int_equal(hid_letter_other_case('1'), 0);
}

static void test_utf8(void **state)
{
    (void)state;
    const char *s = "a\xc3\xa4\xe2\x82\xac\xf0\x9f\x98\x80";
    size_t pos = 0, len = strlen(s);
    uint32_t cp, want[] = {'a', 0xe4, 0x20ac, 0x1f600};
    for (int i = 0; i < 4; i++) {
        assert_int_equal(hid_utf8_next(s, len, &pos, &cp), 0);
        assert_int_equal(cp, want[i]);
        char enc[5];
        size_t n = hid_utf8_encode(cp, enc);
        assert_true(n > 0);
        assert_int_equal(strlen(enc), n);
    }
    assert_int_equal(pos, len);
    assert_int_equal(hid_utf8_next(s, len, &pos, &cp), -1); /* at the end */
    static const char *const bad[] = {
        "\xc0\xaf",         /* overlong / */
        "\xe0\x80\xaf",     /* overlong */
        "\xed\xa0\x80",     /* surrogate */
        "\xf4\x90\x80\x80", /* above U+10FFFF */
        "\xc3",             /* cut short */
        "\x80",             /* continuation first */
        "\xff",
        "\xe2\x82",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        pos = 0;
        assert_int_equal(hid_utf8_next(bad[i], strlen(bad[i]), &pos, &cp), -1);
        assert_int_equal(pos, 0);
    }
    char enc[5];
    assert_int_equal(hid_utf8_encode(0xd800, enc), 0);
    assert_int_equal(hid_utf8_encode(0x110000, enc), 0);
}

static void test_key_names_and_scancodes(void **state)
{
    (void)state;
    assert_int_equal(hid_key_by_name("ctrl"), 0xe0);
    assert_int_equal(hid_key_by_name("altgr"), 0xe6);
    assert_int_equal(hid_key_by_name("delete"), HID_KEY_DELETE);
    assert_int_equal(hid_key_by_name("f1"), HID_KEY_F1);
    assert_int_equal(hid_key_by_name("f12"), HID_KEY_F12);
    assert_int_equal(hid_key_by_name("f24"), 0x73);
    assert_int_equal(hid_key_by_name("f25"), 0);
    assert_int_equal(hid_key_by_name("f1x"), 0);
    assert_int_equal(hid_key_by_name("a"), HID_KEY_A);
    assert_int_equal(hid_key_by_name("0"), HID_KEY_0);
    assert_int_equal(hid_key_by_name("sysrq"), HID_KEY_PRINT_SCREEN);
    assert_int_equal(hid_key_by_name("nonsense"), 0);
    assert_int_equal(hid_key_by_name(""), 0);
    /* XT: plain and 0xE0-prefixed (+0x80) */
    assert_int_equal(hid_xt_to_usage(0x1e), HID_KEY_A);
    assert_int_equal(hid_xt_to_usage(0x1c), HID_KEY_ENTER);
    assert_int_equal(hid_xt_to_usage(0x9c), 0x58); /* keypad Enter */
    assert_int_equal(hid_xt_to_usage(0xc8), HID_KEY_UP);
    assert_int_equal(hid_xt_to_usage(0xb8), 0xe6); /* AltGr */
    assert_int_equal(hid_xt_to_usage(0xdb), 0xe3); /* left GUI */
    assert_int_equal(hid_xt_to_usage(0x56), HID_KEY_ISO_BACKSLASH);
    assert_int_equal(hid_xt_to_usage(0x00), 0);
    assert_int_equal(hid_xt_to_usage(0x1e0), 0);
    /* every usage the XT table makes is a real key: no duplicates between
     * plain keys except the documented aliases (SysRq/Print Screen) */
    int seen[256] = {0};
    for (uint32_t xt = 0; xt < 256; xt++)
        seen[hid_xt_to_usage(xt)]++;
    for (int u = 1; u < 256; u++)
        if (u != HID_KEY_PRINT_SCREEN)
            assert_true(seen[u] <= 1);
}

static void test_keysyms(void **state)
{
    (void)state;
    struct hid_keysym_info k;
    hid_keysym_classify(0x61, &k);
    assert_int_equal(k.kind, HID_KEYSYM_CHAR);
    assert_int_equal(k.codepoint, 'a');
    hid_keysym_classify(0xe4, &k); /* adiaeresis */
    assert_int_equal(k.codepoint, 0xe4);
    hid_keysym_classify(0x6c1, &k); /* Cyrillic_a */
    assert_int_equal(k.codepoint, 0x430);
    hid_keysym_classify(0x6e1, &k); /* Cyrillic_A */
    assert_int_equal(k.codepoint, 0x410);
    hid_keysym_classify(0x6a3, &k);
    assert_int_equal(k.codepoint, 0x451);
    hid_keysym_classify(0x20ac, &k);
    assert_int_equal(k.codepoint, 0x20ac);
    hid_keysym_classify(0x1000416, &k);
    assert_int_equal(k.codepoint, 0x416);
    hid_keysym_classify(0xfe52, &k);
    assert_int_equal(k.kind, HID_KEYSYM_DEAD);
    assert_int_equal(k.codepoint, '^');
    hid_keysym_classify(0xffbe, &k);
    assert_int_equal(k.kind, HID_KEYSYM_KEY);
    assert_int_equal(k.usage, HID_KEY_F1);
    hid_keysym_classify(0xffd5, &k); /* F24 */
    assert_int_equal(k.usage, 0x73);
    hid_keysym_classify(0xfe03, &k); /* ISO_Level3_Shift */
    assert_int_equal(k.usage, 0xe6);
    hid_keysym_classify(0xff9c, &k); /* KP_End: the End key, whatever Num Lock */
    assert_int_equal(k.usage, HID_KEY_END);
    hid_keysym_classify(0xffb1, &k); /* KP_1 */
    assert_int_equal(k.usage, 0x59);
    hid_keysym_classify(0x1000000 + 0xd800, &k);
    assert_int_equal(k.kind, HID_KEYSYM_UNKNOWN);
    hid_keysym_classify(0x12345, &k);
    assert_int_equal(k.kind, HID_KEYSYM_UNKNOWN);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_character_round_trips),
        cmocka_unit_test(test_layout_specifics),
        cmocka_unit_test(test_compose_and_case),
        cmocka_unit_test(test_utf8),
        cmocka_unit_test(test_key_names_and_scancodes),
        cmocka_unit_test(test_keysyms),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
