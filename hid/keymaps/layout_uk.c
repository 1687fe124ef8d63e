/* English (UK), QWERTY with the ISO keys: " on 2, @ on the quote key,
 * # ~ beside Enter, \ | left of Z; AltGr+4 is the euro sign. */
#include "hid/keymaps/keymaps.h"

static const struct hid_layout_key keys[] = {
    KEYMAP_COMMON,
    KEYMAP_LETTER(0x04, 'a', 'A'), KEYMAP_LETTER(0x05, 'b', 'B'), KEYMAP_LETTER(0x06, 'c', 'C'),
    KEYMAP_LETTER(0x07, 'd', 'D'), KEYMAP_LETTER(0x08, 'e', 'E'), KEYMAP_LETTER(0x09, 'f', 'F'),
    KEYMAP_LETTER(0x0a, 'g', 'G'), KEYMAP_LETTER(0x0b, 'h', 'H'), KEYMAP_LETTER(0x0c, 'i', 'I'),
    KEYMAP_LETTER(0x0d, 'j', 'J'), KEYMAP_LETTER(0x0e, 'k', 'K'), KEYMAP_LETTER(0x0f, 'l', 'L'),
    KEYMAP_LETTER(0x10, 'm', 'M'), KEYMAP_LETTER(0x11, 'n', 'N'), KEYMAP_LETTER(0x12, 'o', 'O'),
    KEYMAP_LETTER(0x13, 'p', 'P'), KEYMAP_LETTER(0x14, 'q', 'Q'), KEYMAP_LETTER(0x15, 'r', 'R'),
    KEYMAP_LETTER(0x16, 's', 'S'), KEYMAP_LETTER(0x17, 't', 'T'), KEYMAP_LETTER(0x18, 'u', 'U'),
    KEYMAP_LETTER(0x19, 'v', 'V'), KEYMAP_LETTER(0x1a, 'w', 'W'), KEYMAP_LETTER(0x1b, 'x', 'X'),
    KEYMAP_LETTER(0x1c, 'y', 'Y'), KEYMAP_LETTER(0x1d, 'z', 'Z'),
    {0x1e, {'1', '!'}}, {0x1f, {'2', '"'}}, {0x20, {'3', 0xa3}}, {0x21, {'4', '$', 0x20ac}},
    {0x22, {'5', '%'}}, {0x23, {'6', '^'}}, {0x24, {'7', '&'}}, {0x25, {'8', '*'}},
    {0x26, {'9', '('}}, {0x27, {'0', ')'}},
    {0x2d, {'-', '_'}}, {0x2e, {'=', '+'}}, {0x2f, {'[', '{'}}, {0x30, {']', '}'}},
    {0x32, {'#', '~'}}, {0x33, {';', ':'}}, {0x34, {'\'', '@'}}, {0x35, {'`', 0xac}},
    {0x36, {',', '<'}}, {0x37, {'.', '>'}}, {0x38, {'/', '?'}}, {0x64, {'\\', '|'}},
};

KEYMAP_LAYOUT(hid_keymap_uk, "uk", "English (UK)", keys);
