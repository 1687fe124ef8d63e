/* hid/hid_keys: USB HID keyboard usages (HID Usage Tables, page 7) by name,
 * the modifier bits of a boot keyboard report, and the two layout-independent
 * ways keys arrive from viewers: XT scancodes (QEMU extended key events) and
 * X11 keysyms of keys that are not characters (F1, Home, Shift, ...). */
#ifndef PIGLIX_HID_KEYS_H
#define PIGLIX_HID_KEYS_H

#include <stdbool.h>
#include <stdint.h>

/* Modifier bits, byte 0 of a boot keyboard report (usages 0xE0..0xE7). */
enum {
    HID_MOD_LCTRL = 0x01,
    HID_MOD_LSHIFT = 0x02,
    HID_MOD_LALT = 0x04,
    HID_MOD_LGUI = 0x08,
    HID_MOD_RCTRL = 0x10,
    HID_MOD_RSHIFT = 0x20,
    HID_MOD_RALT = 0x40, /* AltGr on layouts that have it */
    HID_MOD_RGUI = 0x80,
};
#define HID_MOD_SHIFT (HID_MOD_LSHIFT | HID_MOD_RSHIFT)

/* The usages piglix names in code; layouts and tables use numbers. */
enum {
    HID_KEY_NONE = 0x00,
    HID_KEY_A = 0x04,
    HID_KEY_Z = 0x1d,
    HID_KEY_1 = 0x1e,
    HID_KEY_0 = 0x27,
    HID_KEY_ENTER = 0x28,
    HID_KEY_ESCAPE = 0x29,
    HID_KEY_BACKSPACE = 0x2a,
    HID_KEY_TAB = 0x2b,
    HID_KEY_SPACE = 0x2c,
    HID_KEY_CAPS_LOCK = 0x39,
    HID_KEY_F1 = 0x3a,
    HID_KEY_F12 = 0x45,
    HID_KEY_PRINT_SCREEN = 0x46, /* also SysRq */
    HID_KEY_SCROLL_LOCK = 0x47,
    HID_KEY_PAUSE = 0x48,
    HID_KEY_INSERT = 0x49,
    HID_KEY_HOME = 0x4a,
    HID_KEY_PAGE_UP = 0x4b,
    HID_KEY_DELETE = 0x4c,
    HID_KEY_END = 0x4d,
    HID_KEY_PAGE_DOWN = 0x4e,
    HID_KEY_RIGHT = 0x4f,
    HID_KEY_LEFT = 0x50,
    HID_KEY_DOWN = 0x51,
    HID_KEY_UP = 0x52,
    HID_KEY_NUM_LOCK = 0x53,
    HID_KEY_ISO_BACKSLASH = 0x64, /* the 102nd key, between left Shift and Z */
    HID_KEY_MENU = 0x65,
    HID_KEY_F13 = 0x68,
    HID_KEY_LEFT_CTRL = 0xe0,
    HID_KEY_RIGHT_GUI = 0xe7,
};

/* A usage that is a modifier (0xE0..0xE7) gives its report bit, else 0. */
static inline uint8_t hid_key_modifier_bit(uint8_t usage)
{
    return usage >= 0xe0 && usage <= 0xe7 ? (uint8_t)(1u << (usage - 0xe0)) : 0;
}

/* XT (set 1) scancode as QEMU sends it (0xE0-prefixed keys have 0x80 added
 * to the low byte) to usage; 0 when there is no such key. */
uint8_t hid_xt_to_usage(uint32_t xt);

/* What an X11 keysym stands for. */
enum hid_keysym_kind {
    HID_KEYSYM_UNKNOWN,
    HID_KEYSYM_KEY,  /* a key whatever the layout (F1, Home, Shift_L, KP_1): usage */
    HID_KEYSYM_CHAR, /* a character, typed through the layout: codepoint */
    HID_KEYSYM_DEAD, /* a dead key: codepoint is its accent's spacing form (^ ` ~ U+00B4 U+00A8) */
};

struct hid_keysym_info {
    enum hid_keysym_kind kind;
    uint8_t usage;
    uint32_t codepoint;
};

void hid_keysym_classify(uint32_t keysym, struct hid_keysym_info *out);

/* A key by lower-case name as in combos ("ctrl", "alt", "delete", "f1", "a",
 * "enter"): its usage (a modifier's usage is 0xE0..0xE7), 0 when unknown.
 * Letters and digits name US key positions. */
uint8_t hid_key_by_name(const char *name);

#endif
