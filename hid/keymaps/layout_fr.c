/* French, AZERTY: digits with Shift, dead ^ and ¨ right of P. On Linux
 * AltGr+é types ~ and AltGr+è types ` directly (Windows makes both dead
 * keys: there they appear after the next character). */
#include "hid/keymaps/keymaps.h"

static const struct hid_layout_key keys[] = {
    KEYMAP_COMMON,
    KEYMAP_LETTER(0x14, 'a', 'A'), KEYMAP_LETTER(0x05, 'b', 'B'), KEYMAP_LETTER(0x06, 'c', 'C'),
    KEYMAP_LETTER(0x07, 'd', 'D'), {0x08, {'e', 'E', 0x20ac}}, KEYMAP_LETTER(0x09, 'f', 'F'),
    KEYMAP_LETTER(0x0a, 'g', 'G'), KEYMAP_LETTER(0x0b, 'h', 'H'), KEYMAP_LETTER(0x0c, 'i', 'I'),
    KEYMAP_LETTER(0x0d, 'j', 'J'), KEYMAP_LETTER(0x0e, 'k', 'K'), KEYMAP_LETTER(0x0f, 'l', 'L'),
    KEYMAP_LETTER(0x33, 'm', 'M'), KEYMAP_LETTER(0x11, 'n', 'N'), KEYMAP_LETTER(0x12, 'o', 'O'),
    KEYMAP_LETTER(0x13, 'p', 'P'), KEYMAP_LETTER(0x04, 'q', 'Q'), KEYMAP_LETTER(0x15, 'r', 'R'),
    KEYMAP_LETTER(0x16, 's', 'S'), KEYMAP_LETTER(0x17, 't', 'T'), KEYMAP_LETTER(0x18, 'u', 'U'),
    KEYMAP_LETTER(0x19, 'v', 'V'), KEYMAP_LETTER(0x1d, 'w', 'W'), KEYMAP_LETTER(0x1b, 'x', 'X'),
    KEYMAP_LETTER(0x1c, 'y', 'Y'), KEYMAP_LETTER(0x1a, 'z', 'Z'),
    {0x35, {0xb2}},
    {0x1e, {'&', '1'}}, {0x1f, {0xe9, '2', '~'}}, {0x20, {'"', '3', '#'}},
    {0x21, {'\'', '4', '{'}}, {0x22, {'(', '5', '['}}, {0x23, {'-', '6', '|'}},
    {0x24, {0xe8, '7', '`'}}, {0x25, {'_', '8', '\\'}}, {0x26, {0xe7, '9', '^'}},
    {0x27, {0xe0, '0', '@'}}, {0x2d, {')', 0xb0, ']'}}, {0x2e, {'=', '+', '}'}},
    {0x2f, {HID_DEAD | '^', HID_DEAD | 0xa8}}, {0x30, {'$', 0xa3, 0xa4}},
    {0x34, {0xf9, '%'}}, {0x32, {'*', 0xb5}}, {0x64, {'<', '>'}},
    {0x10, {',', '?'}}, {0x36, {';', '.'}}, {0x37, {':', '/'}}, {0x38, {'!', 0xa7}},
};

KEYMAP_LAYOUT(hid_keymap_fr, "fr", "French (AZERTY)", keys);
