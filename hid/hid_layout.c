#include "hid/hid_layout.h"

#include <string.h>

#include "hid/hid_keys.h"
#include "hid/keymaps/keymaps.h"

static const struct hid_layout *const all_layouts[] = {
    &hid_keymap_us, &hid_keymap_uk, &hid_keymap_de, &hid_keymap_fr,
    &hid_keymap_es, &hid_keymap_it, &hid_keymap_ru,
};
#define N_LAYOUTS (sizeof(all_layouts) / sizeof(all_layouts[0]))

const struct hid_layout *const *hid_layouts(size_t *count)
{
    *count = N_LAYOUTS;
    return all_layouts;
}

const struct hid_layout *hid_layout_find(const char *name)
{
    for (size_t i = 0; name && i < N_LAYOUTS; i++)
        if (strcmp(all_layouts[i]->name, name) == 0)
            return all_layouts[i];
    return NULL;
}

const char *hid_layout_names(void)
{
    return "us, uk, de, fr, es, it, ru";
}

uint32_t hid_letter_other_case(uint32_t cp)
{
    if (cp >= 'a' && cp <= 'z')
        return cp - 0x20;
    if (cp >= 'A' && cp <= 'Z')
        return cp + 0x20;
    if (cp >= 0xe0 && cp <= 0xfe && cp != 0xf7)
        return cp - 0x20;
    if (cp >= 0xc0 && cp <= 0xde && cp != 0xd7)
        return cp + 0x20;
    if (cp >= 0x430 && cp <= 0x44f)
        return cp - 0x20;
    if (cp >= 0x410 && cp <= 0x42f)
        return cp + 0x20;
    if (cp >= 0x450 && cp <= 0x45f)
        return cp - 0x50;
    if (cp >= 0x400 && cp <= 0x40f)
        return cp + 0x50;
    return 0;
}

/* Caps Lock swaps the plain and Shift levels of a letter key only. */
static bool key_is_letter(const struct hid_layout_key *k)
{
    return k->chars[0] && !(k->chars[0] & HID_DEAD) && hid_letter_other_case(k->chars[0]) == k->chars[1];
}

static const struct hid_layout_key *find_key(const struct hid_layout *l, uint8_t usage)
{
    for (size_t i = 0; i < l->nkeys; i++)
        if (l->keys[i].usage == usage)
            return &l->keys[i];
    return NULL;
}

uint32_t hid_layout_char(const struct hid_layout *l, uint8_t usage, unsigned level, bool caps)
{
    const struct hid_layout_key *k = find_key(l, usage);
    if (!k || level > 3)
        return 0;
    if (caps && level < HID_LEVEL_ALTGR && key_is_letter(k))
        level ^= HID_LEVEL_SHIFT;
    return k->chars[level];
}

bool hid_layout_has_altgr(const struct hid_layout *l)
{
    for (size_t i = 0; i < l->nkeys; i++)
        if (l->keys[i].chars[2] || l->keys[i].chars[3])
            return true;
    return false;
}

static void make_stroke(const struct hid_layout_key *k, unsigned level, struct hid_stroke *s)
{
    uint32_t other = k->chars[level ^ HID_LEVEL_SHIFT];
    s->usage = k->usage;
    s->level = (uint8_t)level;
    s->caps = level < HID_LEVEL_ALTGR && key_is_letter(k);
    /* An empty level in the table means "not listed", not "types the
     * same": only a level that types the same character frees Shift. */
    s->shift_free = other == k->chars[level];
}

/* The key and level that type c (a character, or HID_DEAD | accent) in one
 * stroke, the lowest level first. */
static bool direct_stroke(const struct hid_layout *l, uint32_t c, struct hid_stroke *out)
{
    for (unsigned level = 0; level < 4; level++) {
        for (size_t i = 0; i < l->nkeys; i++) {
            if (l->keys[i].chars[level] == c) {
                make_stroke(&l->keys[i], level, out);
                return true;
            }
        }
    }
    return false;
}

bool hid_layout_dead_stroke(const struct hid_layout *l, uint32_t accent, struct hid_stroke *out)
{
    return direct_stroke(l, HID_DEAD | accent, out);
}

/* What each dead accent makes of the lower-case vowels (and n); upper case
 * is derived (Latin-1 upper case is lower case - 0x20, except ÿ). */
static const struct {
    uint32_t accent;
    const char *bases;
    uint8_t composed[8];
} compose_table[] = {
    {'`', "aeiou", {0xe0, 0xe8, 0xec, 0xf2, 0xf9}},
    {0xb4, "aeiouy", {0xe1, 0xe9, 0xed, 0xf3, 0xfa, 0xfd}},
    {'^', "aeiou", {0xe2, 0xea, 0xee, 0xf4, 0xfb}},
    {'~', "aon", {0xe3, 0xf5, 0xf1}},
    {0xa8, "aeiouy", {0xe4, 0xeb, 0xef, 0xf6, 0xfc, 0xff}},
};

uint32_t hid_compose(uint32_t accent, uint32_t base)
{
    bool upper = base >= 'A' && base <= 'Z';
    uint32_t lower = upper ? base + 0x20 : base;
    if (lower < 'a' || lower > 'z')
        return 0;
    for (size_t i = 0; i < sizeof(compose_table) / sizeof(compose_table[0]); i++) {
        if (compose_table[i].accent != accent)
            continue;
        const char *at = strchr(compose_table[i].bases, (int)lower);
        if (!at)
            return 0;
        uint32_t c = compose_table[i].composed[at - compose_table[i].bases];
        if (upper)
            return c == 0xff ? 0 : c - 0x20;
        return c;
    }
    return 0;
}

int hid_layout_strokes(const struct hid_layout *l, uint32_t cp, struct hid_stroke out[HID_LAYOUT_MAX_STROKES])
{
    if (cp == 0 || (cp & HID_DEAD))
        return 0;
    if (direct_stroke(l, cp, &out[0]))
        return 1;
    /* A dead key's own accent: the dead key, then Space. */
    if (hid_layout_dead_stroke(l, cp, &out[0]))
        return direct_stroke(l, ' ', &out[1]) ? 2 : 0;
    /* An accented letter: a dead key, then the base letter. */
    for (size_t i = 0; i < sizeof(compose_table) / sizeof(compose_table[0]); i++) {
        uint32_t accent = compose_table[i].accent;
        for (const char *b = compose_table[i].bases; *b; b++) {
            for (int upper = 0; upper < 2; upper++) {
                uint32_t base = (uint32_t)(upper ? *b - 0x20 : *b);
                if (hid_compose(accent, base) != cp)
                    continue;
                if (hid_layout_dead_stroke(l, accent, &out[0]) && direct_stroke(l, base, &out[1]))
                    return 2;
            }
        }
    }
    return 0;
}
