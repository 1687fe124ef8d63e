/* hid/keymaps: one table per shipped layout (see hid/hid_layout.h). Each
 * row is a key: its usage and what it types plain, with Shift, with AltGr,
 * with Shift+AltGr. Only what is certain for the layout's Linux (xkb)
 * default variant is listed; a character missing here is refused by paste
 * rather than guessed. */
#ifndef PIGLIX_HID_KEYMAPS_H
#define PIGLIX_HID_KEYMAPS_H

#include "hid/hid_layout.h"

/* Keys every layout shares. Shift does not change Space and Enter (it
 * does change Tab: Shift+Tab goes back). */
#define KEYMAP_COMMON \
    {0x28, {'\n', '\n', 0, 0}}, {0x2b, {'\t', 0, 0, 0}}, {0x2c, {' ', ' ', 0, 0}}

/* A letter key: lower case plain, upper case with Shift. */
#define KEYMAP_LETTER(usage, lower, upper) {usage, {lower, upper, 0, 0}}

#define KEYMAP_LAYOUT(var, name, description, table) \
    const struct hid_layout var = {name, description, table, sizeof(table) / sizeof(table[0])}

extern const struct hid_layout hid_keymap_us, hid_keymap_uk, hid_keymap_de, hid_keymap_fr,
    hid_keymap_es, hid_keymap_it, hid_keymap_ru;

#endif
