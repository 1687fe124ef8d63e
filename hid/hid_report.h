/* hid/hid_report: the three HID functions piglix presents (a boot keyboard,
 * an absolute mouse, a relative boot mouse): their report descriptors and
 * the bytes of their reports. */
#ifndef PIGLIX_HID_REPORT_H
#define PIGLIX_HID_REPORT_H

#include <stddef.h>
#include <stdint.h>

enum hid_endpoint { HID_EP_KEYBOARD, HID_EP_MOUSE_ABS, HID_EP_MOUSE_REL, HID_EP_COUNT };

#define HID_REPORT_MAX 8
#define HID_KBD_REPORT_LEN 8
#define HID_ABS_REPORT_LEN 7 /* buttons, X (16), Y (16), wheel, pan */
#define HID_REL_REPORT_LEN 5 /* buttons, dX, dY, wheel, pan */
#define HID_ABS_MAX 32767

struct hid_function_desc {
    const char *instance;    /* configfs function name after "hid." */
    unsigned subclass, protocol, report_length;
    const uint8_t *report_desc;
    size_t report_desc_len;
};

const struct hid_function_desc *hid_report_function(enum hid_endpoint ep);
const char *hid_endpoint_name(enum hid_endpoint ep); /* "keyboard", ... */

/* A boot keyboard report: modifier bits and up to six keys (0 = none). */
struct hid_kbd_report {
    uint8_t mods;
    uint8_t keys[6];
};

void hid_kbd_encode(const struct hid_kbd_report *r, uint8_t out[HID_KBD_REPORT_LEN]);

/* A mouse report. Absolute: x, y in 0..HID_ABS_MAX; relative: -127..127.
 * buttons: bit 0 left, 1 right, 2 middle, 3 back, 4 forward (HID order). */
struct hid_mouse_report {
    uint8_t buttons;
    int x, y;
    int8_t wheel, pan; /* wheel > 0: up; pan > 0: right */
};

/* Encodes for HID_EP_MOUSE_ABS or HID_EP_MOUSE_REL; returns the length. */
size_t hid_mouse_encode(enum hid_endpoint ep, const struct hid_mouse_report *r, uint8_t out[HID_REPORT_MAX]);

/* The keyboard LED output report (bit 0 Num, 1 Caps, 2 Scroll) as viewers
 * take it (bit 0 Scroll, 1 Num, 2 Caps: the QEMU LED state). */
unsigned hid_leds_from_report(uint8_t report);
#define HID_LED_CAPS 4u /* in the viewers' form */

#endif
