/* hid/hid_layout: the keyboard layouts of the managed server, as tables of
 * which character each key types at each shift level, and the lookup the
 * other way: which keystrokes type a character (a key with Shift/AltGr, or a
 * dead key followed by a key). The tables (hid/keymaps/) follow the Linux
 * (xkb) default variant of each layout; Windows agrees on every character
 * shipped except where noted in the table. */
#ifndef PIGLIX_HID_LAYOUT_H
#define PIGLIX_HID_LAYOUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* In a key's chars[]: a dead key, whose accent's spacing form (^ ` ~ U+00B4
 * U+00A8) is in the low bits. */
#define HID_DEAD 0x40000000u
#define HID_DEAD_ACCENT(c) ((c) & ~HID_DEAD)

/* Shift levels: the index into chars[]. */
enum { HID_LEVEL_SHIFT = 1, HID_LEVEL_ALTGR = 2 };

struct hid_layout_key {
    uint8_t usage;
    uint32_t chars[4]; /* plain, Shift, AltGr, Shift+AltGr; 0 = types nothing */
};

struct hid_layout {
    const char *name;        /* "us", "de", ... as in [hid] layout */
    const char *description;
    const struct hid_layout_key *keys;
    size_t nkeys;
};

/* One keystroke: press usage with these levels' modifiers, release. */
struct hid_stroke {
    uint8_t usage;
    uint8_t level;     /* HID_LEVEL_* bits */
    bool caps;         /* a letter: Caps Lock inverts Shift */
    bool shift_free;   /* Shift does not change what this key types (Space) */
};

#define HID_LAYOUT_MAX_STROKES 2

/* The shipped layouts, and one by name (NULL when unknown). */
const struct hid_layout *const *hid_layouts(size_t *count);
const struct hid_layout *hid_layout_find(const char *name);
/* "us, uk, de, ..." for messages. */
const char *hid_layout_names(void);

/* The strokes that type codepoint cp: returns their number (1 or 2), or 0
 * when the layout cannot type it. A dead key's accent is typed as the dead
 * key then Space; an accented letter the layout lacks as its dead key then
 * the letter. */
int hid_layout_strokes(const struct hid_layout *l, uint32_t cp,
                       struct hid_stroke out[HID_LAYOUT_MAX_STROKES]);
/* The stroke of a dead key for accent (its spacing form); false if none. */
bool hid_layout_dead_stroke(const struct hid_layout *l, uint32_t accent, struct hid_stroke *out);

/* True when any key has AltGr levels (then Right Alt is AltGr). */
bool hid_layout_has_altgr(const struct hid_layout *l);

/* What a usage types at a level (HID_DEAD-flagged for dead keys), 0 for
 * nothing. With caps, Caps Lock is on. */
uint32_t hid_layout_char(const struct hid_layout *l, uint8_t usage, unsigned level, bool caps);

/* The character a dead key with this accent makes of base; 0 when none. */
uint32_t hid_compose(uint32_t accent, uint32_t base);

/* The other case of a letter with one (Latin-1, Cyrillic), else 0. */
uint32_t hid_letter_other_case(uint32_t cp);

#endif
