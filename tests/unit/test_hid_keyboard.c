/* Viewers' key events to boot keyboard reports (hid_keyboard): the reports
 * are fed to a simulated host that types with the layout's table, as the
 * target would. Every character of every layout sent as its keysym types
 * that character; modifiers are added and removed only around their key;
 * releases always come; XT scancodes bypass the layout. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "hid/hid_keyboard.h"
#include "hid/hid_keys.h"

/* A host reading boot keyboard reports in layout l. */
struct host {
    const struct hid_layout *l;
    bool caps;
    struct hid_kbd_report prev;
    uint32_t dead;
    uint32_t typed[64];
    size_t ntyped;
    int shortcut_presses; /* key presses with Ctrl/Alt/GUI held */
    int presses;
};

static bool has_key(const struct hid_kbd_report *r, uint8_t k)
{
    for (int i = 0; i < 6; i++)
        if (r->keys[i] == k)
            return true;
    return false;
}

static void host_report(struct host *h, const struct hid_kbd_report *r)
{
    for (int i = 0; i < 6; i++) {
        uint8_t k = r->keys[i];
        if (!k || has_key(&h->prev, k))
            continue;
        h->presses++;
        if (r->mods & ~(HID_MOD_SHIFT | HID_MOD_RALT)) {
            h->shortcut_presses++;
            continue;
        }
        unsigned level = ((r->mods & HID_MOD_SHIFT) ? HID_LEVEL_SHIFT : 0) |
                         ((r->mods & HID_MOD_RALT) ? HID_LEVEL_ALTGR : 0);
        uint32_t c = hid_layout_char(h->l, k, level, h->caps);
        if (c & HID_DEAD) {
            h->dead = HID_DEAD_ACCENT(c);
            continue;
        }
        if (h->dead) {
            c = c == ' ' ? h->dead : hid_compose(h->dead, c);
            h->dead = 0;
        }
        if (h->ntyped < 64)
            h->typed[h->ntyped++] = c ? c : 0xfffd;
    }
    h->prev = *r;
}

static void feed(struct host *h, const struct hid_kbd_report *r, int n)
{
    for (int i = 0; i < n; i++)
        host_report(h, &r[i]);
}

static bool report_empty(const struct hid_kbd_report *r)
{
    static const struct hid_kbd_report zero;
    return memcmp(r, &zero, sizeof(zero)) == 0;
}

/* The keysym a viewer sends for a character. */
static uint32_t keysym_of(uint32_t cp)
{
    if ((cp >= 0x20 && cp < 0x7f) || (cp >= 0xa0 && cp <= 0xff))
        return cp;
    return 0x01000000 | cp;
}

static void test_every_character_by_keysym(void **state)
{
    (void)state;
    size_t nlayouts;
    const struct hid_layout *const *layouts = hid_layouts(&nlayouts);
    for (size_t li = 0; li < nlayouts; li++) {
        const struct hid_layout *l = layouts[li];
        for (int caps = 0; caps < 2; caps++) {
            for (size_t ki = 0; ki < l->nkeys; ki++) {
                for (int level = 0; level < 4; level++) {
                    uint32_t c = l->keys[ki].chars[level];
                    if (!c || (c & HID_DEAD) || c < 0x20)
                        continue;
                    struct hid_keyboard kb;
                    hid_keyboard_init(&kb, l);
                    kb.caps_lock = caps;
                    struct host h = {.l = l, .caps = caps};
                    struct hid_kbd_report r[HID_KBD_MAX_REPORTS];
                    feed(&h, r, hid_keyboard_key_sym(&kb, keysym_of(c), true, r));
                    int n = hid_keyboard_key_sym(&kb, keysym_of(c), false, r);
                    feed(&h, r, n);
                    if (h.ntyped != 1 || h.typed[0] != c)
                        fail_msg("layout %s caps %d: keysym for U+%04X typed %zu chars, first U+%04X", l->name,
                                 caps, (unsigned)c, h.ntyped, h.ntyped ? (unsigned)h.typed[0] : 0);
                    assert_true(n > 0 && report_empty(&r[n - 1]));
                    assert_false(hid_keyboard_any_held(&kb));
                }
            }
        }
    }
}

/* Sends keysyms: "+" prefix down only, "-" up only, else down and up. */
static void type_syms(struct hid_keyboard *kb, struct host *h, const char *spec)
{
    char buf[256];
    snprintf(buf, sizeof(buf), "%s", spec);
    char *save;
    for (char *tok = strtok_r(buf, " ", &save); tok; tok = strtok_r(NULL, " ", &save)) {
        bool down = *tok != '-', up = *tok != '+';
        uint32_t ks = (uint32_t)strtoul(tok + (*tok == '+' || *tok == '-'), NULL, 16);
        struct hid_kbd_report r[HID_KBD_MAX_REPORTS];
        if (down)
            feed(h, r, hid_keyboard_key_sym(kb, ks, true, r));
        if (up)
            feed(h, r, hid_keyboard_key_sym(kb, ks, false, r));
    }
}

static void assert_typed(const struct host *h, const char *want)
{
    char got[128] = "";
    for (size_t i = 0; i < h->ntyped && i < sizeof(got) - 1; i++)
        got[i] = h->typed[i] < 0x80 ? (char)h->typed[i] : '?';
    assert_string_equal(got, want);
}

static void test_viewer_modifiers(void **state)
{
    (void)state;
    const struct hid_layout *de = hid_layout_find("de");
    struct hid_keyboard kb;
    hid_keyboard_init(&kb, de);
    struct host h = {.l = de};
    /* A US viewer: Shift+2 sends '@' with Shift held; de types @ as AltGr+Q,
     * so Shift goes for the key and comes back after. */
    type_syms(&kb, &h, "+ffe1 40 41 -ffe1 61 7b");
    assert_typed(&h, "@Aa{");
    assert_false(hid_keyboard_any_held(&kb));
    assert_true(report_empty(&h.prev));

    /* the modifiers change in a report of their own before the key */
    hid_keyboard_init(&kb, de);
    struct hid_kbd_report r[HID_KBD_MAX_REPORTS];
    int n = hid_keyboard_key_sym(&kb, 0xffe1, true, r);
    assert_int_equal(n, 1);
    assert_int_equal(r[0].mods, HID_MOD_LSHIFT);
    n = hid_keyboard_key_sym(&kb, '@', true, r);
    assert_int_equal(n, 2);
    assert_int_equal(r[0].mods, HID_MOD_RALT);
    assert_int_equal(r[0].keys[0], 0);
    assert_int_equal(r[1].mods, HID_MOD_RALT);
    assert_int_equal(r[1].keys[0], 0x14);
    n = hid_keyboard_key_sym(&kb, '@', false, r);
    assert_int_equal(n, 2);
    assert_int_equal(r[0].mods, HID_MOD_RALT); /* key up under its own modifiers */
    assert_int_equal(r[0].keys[0], 0);
    assert_int_equal(r[1].mods, HID_MOD_LSHIFT); /* then the viewer's back */

    /* a modifier pressed while such a key is held: the viewer's word wins */
    hid_keyboard_init(&kb, de);
    hid_keyboard_key_sym(&kb, 'a', true, r);
    n = hid_keyboard_key_sym(&kb, 0xffe1, true, r);
    assert_int_equal(n, 1);
    assert_int_equal(r[0].mods, HID_MOD_LSHIFT);
    assert_int_equal(r[0].keys[0], HID_KEY_A);

    /* Ctrl+C stays a shortcut; on a Russian target too (US position) */
    const struct hid_layout *ru = hid_layout_find("ru");
    hid_keyboard_init(&kb, ru);
    h = (struct host){.l = ru};
    type_syms(&kb, &h, "+ffe3 63 -ffe3");
    assert_int_equal(h.shortcut_presses, 1);
    assert_int_equal(h.prev.mods, 0);
}

static void test_dead_keys_and_autorepeat(void **state)
{
    (void)state;
    const struct hid_layout *de = hid_layout_find("de");
    struct hid_keyboard kb;
    hid_keyboard_init(&kb, de);
    struct host h = {.l = de};
    /* â is ^ then a on de; a dead keysym presses the dead key */
    type_syms(&kb, &h, "e2 fe52 65 5e");
    assert_int_equal(h.ntyped, 3);
    assert_int_equal(h.typed[0], 0xe2);
    assert_int_equal(h.typed[1], 0xea);
    assert_int_equal(h.typed[2], '^');
    /* a viewer's autorepeat (down, down, down, up) is one press */
    h = (struct host){.l = de};
    type_syms(&kb, &h, "+61 +61 +61 -61");
    assert_int_equal(h.presses, 1);
    assert_false(hid_keyboard_any_held(&kb));
}

static void test_release_under_another_keysym(void **state)
{
    (void)state;
    const struct hid_layout *us = hid_layout_find("us");
    struct hid_keyboard kb;
    hid_keyboard_init(&kb, us);
    struct host h = {.l = us};
    /* Shift, 'A' down, Shift up, 'a' up: the A key must come up */
    type_syms(&kb, &h, "+ffe1 +41 -ffe1 -61");
    assert_false(hid_keyboard_any_held(&kb));
    assert_true(report_empty(&h.prev));
    /* an unknown keysym does nothing */
    struct hid_kbd_report r[HID_KBD_MAX_REPORTS];
    assert_int_equal(hid_keyboard_key_sym(&kb, 0x12345, true, r), 0);
    assert_int_equal(hid_keyboard_key_sym(&kb, 0xe4, true, r), 0); /* ä on us */
    assert_int_equal(kb.unmapped, 2);
    assert_int_equal(hid_keyboard_key_sym(&kb, 0x12345, false, r), 0);
}

static void test_caps_lock_inverts_shift(void **state)
{
    (void)state;
    const struct hid_layout *us = hid_layout_find("us");
    struct hid_keyboard kb;
    hid_keyboard_init(&kb, us);
    kb.caps_lock = true;
    struct hid_kbd_report r[HID_KBD_MAX_REPORTS];
    int n = hid_keyboard_key_sym(&kb, 'a', true, r);
    assert_int_equal(r[n - 1].mods, HID_MOD_LSHIFT); /* 'a' with Caps Lock on: Shift */
    hid_keyboard_key_sym(&kb, 'a', false, r);
    n = hid_keyboard_key_sym(&kb, 'A', true, r);
    assert_int_equal(r[n - 1].mods, 0);
    assert_int_equal(r[n - 1].keys[0], HID_KEY_A);
    hid_keyboard_key_sym(&kb, 'A', false, r);
    n = hid_keyboard_key_sym(&kb, '1', true, r); /* digits: Caps Lock does not apply */
    assert_int_equal(r[n - 1].mods, 0);
}

static void test_scancodes(void **state)
{
    (void)state;
    const struct hid_layout *de = hid_layout_find("de");
    struct hid_keyboard kb;
    hid_keyboard_init(&kb, de);
    struct hid_kbd_report r[HID_KBD_MAX_REPORTS];
    /* XT 0x15 is the key right of T: usage 0x1c whatever the layout
     * (a 'z' on de), with no modifier games */
    int n = hid_keyboard_key_xt(&kb, 0x15, 'y', true, r);
    assert_int_equal(n, 1);
    assert_int_equal(r[0].keys[0], 0x1c);
    n = hid_keyboard_key_xt(&kb, 0x2a, 0xffe1, true, r); /* left Shift */
    assert_int_equal(r[0].mods, HID_MOD_LSHIFT);
    assert_int_equal(r[0].keys[0], 0x1c);
    n = hid_keyboard_key_xt(&kb, 0xc8, 0xff52, true, r); /* E0 48: Up */
    assert_int_equal(r[0].keys[1], HID_KEY_UP);
    hid_keyboard_key_xt(&kb, 0x15, 'Y', false, r);
    hid_keyboard_key_xt(&kb, 0xc8, 0xff52, false, r);
    n = hid_keyboard_key_xt(&kb, 0x2a, 0xffe1, false, r);
    assert_true(report_empty(&r[n - 1]));
    /* an unknown scancode falls back to the keysym */
    n = hid_keyboard_key_xt(&kb, 0x7f, 'x', true, r);
    assert_int_equal(r[n - 1].keys[0], 0x1b);
    n = hid_keyboard_release_all(&kb, r);
    assert_int_equal(n, 1);
    assert_true(report_empty(&r[0]));
    assert_int_equal(hid_keyboard_release_all(&kb, r), 0); /* nothing more to say */
}

static void test_six_keys_at_most(void **state)
{
    (void)state;
    const struct hid_layout *us = hid_layout_find("us");
    struct hid_keyboard kb;
    hid_keyboard_init(&kb, us);
    struct hid_kbd_report r[HID_KBD_MAX_REPORTS];
    const char *keys = "qwertyui";
    for (int i = 0; keys[i]; i++)
        hid_keyboard_key_sym(&kb, (uint32_t)keys[i], true, r);
    assert_int_equal(kb.nkeys, 6);
    assert_int_equal(kb.rollover, 2);
    struct hid_kbd_report now;
    hid_keyboard_report(&kb, &now);
    for (int i = 0; i < 6; i++)
        for (int j = i + 1; j < 6; j++)
            assert_true(now.keys[i] != now.keys[j]);
    /* releasing one that never went in changes nothing */
    assert_int_equal(hid_keyboard_key_sym(&kb, 'i', false, r), 0);
    for (int i = 0; keys[i]; i++)
        hid_keyboard_key_sym(&kb, (uint32_t)keys[i], false, r);
    assert_false(hid_keyboard_any_held(&kb));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_character_by_keysym),
        cmocka_unit_test(test_viewer_modifiers),
        cmocka_unit_test(test_dead_keys_and_autorepeat),
        cmocka_unit_test(test_release_under_another_keysym),
        cmocka_unit_test(test_caps_lock_inverts_shift),
        cmocka_unit_test(test_scancodes),
        cmocka_unit_test(test_six_keys_at_most),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
