/* hid/hid_keyboard: the keyboard as viewers press it. Turns key events (X11
 * keysyms through the target's layout, or XT scancodes straight) into the
 * sequence of boot keyboard reports that types them: a character that needs
 * Shift or AltGr, or needs them released, gets them for as long as its key
 * is the newest one held (or until the viewer changes a modifier); a
 * character behind a dead key is typed as the dead
 * key then the key; with the target's Caps Lock on, letters get Shift
 * inverted. Pure state, no I/O; the caller serialises calls. */
#ifndef PIGLIX_HID_KEYBOARD_H
#define PIGLIX_HID_KEYBOARD_H

#include <stdbool.h>
#include <stdint.h>

#include "hid/hid_layout.h"
#include "hid/hid_report.h"

#define HID_KBD_MAX_KEYS 6    /* a boot keyboard report holds six */
#define HID_KBD_MAX_REPORTS 8 /* the most one event can produce */

struct hid_kbd_held {
    uint32_t id;           /* keysym, or HID_KBD_ID_XT | scancode */
    uint8_t usage;
    uint8_t set, clear;    /* modifier bits forced on/off while it is the newest */
};
#define HID_KBD_ID_XT 0x80000000u

struct hid_keyboard {
    const struct hid_layout *layout;
    bool altgr_layout;      /* Right Alt is AltGr */
    uint8_t mods;           /* modifier keys held */
    struct hid_kbd_held keys[HID_KBD_MAX_KEYS];
    int nkeys;
    bool caps_lock;         /* the target's Caps Lock LED */
    struct hid_kbd_report last;
    uint64_t unmapped;      /* keysyms the layout cannot type */
    uint64_t rollover;      /* presses beyond six held keys, ignored */
};

void hid_keyboard_init(struct hid_keyboard *kb, const struct hid_layout *layout);

/* Each returns the number of reports written to out (0 when nothing
 * changes), to be sent in order. */
int hid_keyboard_key_sym(struct hid_keyboard *kb, uint32_t keysym, bool down,
                         struct hid_kbd_report out[HID_KBD_MAX_REPORTS]);
int hid_keyboard_key_xt(struct hid_keyboard *kb, uint32_t xt, uint32_t keysym, bool down,
                        struct hid_kbd_report out[HID_KBD_MAX_REPORTS]);
int hid_keyboard_release_all(struct hid_keyboard *kb, struct hid_kbd_report out[HID_KBD_MAX_REPORTS]);

/* The report for the state now. */
void hid_keyboard_report(const struct hid_keyboard *kb, struct hid_kbd_report *r);
bool hid_keyboard_any_held(const struct hid_keyboard *kb);

#endif
