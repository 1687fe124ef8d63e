#include "hid/hid_report.h"

/* Boot keyboard with the LED output report. The key array's range covers
 * every keyboard usage up to Right GUI (F13-F24, media keys, international
 * keys), not only the 101 of the boot minimum; a BIOS reads the fixed boot
 * format and ignores the descriptor. */
static const uint8_t keyboard_desc[] = {
    0x05, 0x01, 0x09, 0x06, 0xa1, 0x01, /* Generic Desktop, Keyboard, Application */
    0x05, 0x07, 0x19, 0xe0, 0x29, 0xe7, /* modifiers: usages E0..E7 */
    0x15, 0x00, 0x25, 0x01, 0x75, 0x01, 0x95, 0x08, 0x81, 0x02,
    0x95, 0x01, 0x75, 0x08, 0x81, 0x01, /* reserved byte */
    0x05, 0x08, 0x19, 0x01, 0x29, 0x05, /* LEDs: Num, Caps, Scroll, Compose, Kana */
    0x95, 0x05, 0x75, 0x01, 0x91, 0x02,
    0x95, 0x01, 0x75, 0x03, 0x91, 0x01, /* LED padding */
    0x05, 0x07, 0x19, 0x00, 0x29, 0xe7, /* keys: usages 0..E7 */
    0x15, 0x00, 0x26, 0xe7, 0x00,       /* logical 0..231 (two bytes: it is signed) */
    0x95, 0x06, 0x75, 0x08, 0x81, 0x00,
    0xc0,
};

#define MOUSE_BUTTONS                                                     \
    0x05, 0x09, 0x19, 0x01, 0x29, 0x05, /* buttons 1..5 */                \
        0x15, 0x00, 0x25, 0x01, 0x95, 0x05, 0x75, 0x01, 0x81, 0x02,       \
        0x95, 0x01, 0x75, 0x03, 0x81, 0x01 /* padding */

#define MOUSE_PAN                                                         \
    0x05, 0x0c, 0x0a, 0x38, 0x02, /* Consumer, AC Pan: horizontal wheel */ \
        0x15, 0x81, 0x25, 0x7f, 0x75, 0x08, 0x95, 0x01, 0x81, 0x06

static const uint8_t mouse_abs_desc[] = {
    0x05, 0x01, 0x09, 0x02, 0xa1, 0x01, /* Generic Desktop, Mouse, Application */
    0x09, 0x01, 0xa1, 0x00,             /* Pointer, Physical */
    MOUSE_BUTTONS,
    0x05, 0x01, 0x09, 0x30, 0x09, 0x31, /* X, Y absolute 0..32767 */
    0x16, 0x00, 0x00, 0x26, 0xff, 0x7f, 0x75, 0x10, 0x95, 0x02, 0x81, 0x02,
    0x09, 0x38,                         /* wheel, relative */
    0x15, 0x81, 0x25, 0x7f, 0x75, 0x08, 0x95, 0x01, 0x81, 0x06,
    MOUSE_PAN,
    0xc0, 0xc0,
};

/* Its first three bytes are the boot mouse report. */
static const uint8_t mouse_rel_desc[] = {
    0x05, 0x01, 0x09, 0x02, 0xa1, 0x01,
    0x09, 0x01, 0xa1, 0x00,
    MOUSE_BUTTONS,
    0x05, 0x01, 0x09, 0x30, 0x09, 0x31, 0x09, 0x38, /* X, Y, wheel, relative */
    0x15, 0x81, 0x25, 0x7f, 0x75, 0x08, 0x95, 0x03, 0x81, 0x06,
    MOUSE_PAN,
    0xc0, 0xc0,
};

static const struct hid_function_desc functions[HID_EP_COUNT] = {
    [HID_EP_KEYBOARD] = {"keyboard", 1, 1, HID_KBD_REPORT_LEN, keyboard_desc, sizeof(keyboard_desc)},
    [HID_EP_MOUSE_ABS] = {"mouse", 0, 0, HID_ABS_REPORT_LEN, mouse_abs_desc, sizeof(mouse_abs_desc)},
    [HID_EP_MOUSE_REL] = {"mouse_rel", 1, 2, HID_REL_REPORT_LEN, mouse_rel_desc, sizeof(mouse_rel_desc)},
};

const struct hid_function_desc *hid_report_function(enum hid_endpoint ep)
{
    return ep < HID_EP_COUNT ? &functions[ep] : NULL;
}

const char *hid_endpoint_name(enum hid_endpoint ep)
{
    static const char *const names[HID_EP_COUNT] = {"keyboard", "absolute mouse", "relative mouse"};
    return ep < HID_EP_COUNT ? names[ep] : "?";
}

void hid_kbd_encode(const struct hid_kbd_report *r, uint8_t out[HID_KBD_REPORT_LEN])
{
    out[0] = r->mods;
    out[1] = 0;
    for (int i = 0; i < 6; i++)
        out[2 + i] = r->keys[i];
}

static uint8_t clamp8(int v)
{
    return (uint8_t)(int8_t)(v < -127 ? -127 : v > 127 ? 127 : v);
}

size_t hid_mouse_encode(enum hid_endpoint ep, const struct hid_mouse_report *r, uint8_t out[HID_REPORT_MAX])
{
    out[0] = r->buttons & 0x1f;
    if (ep == HID_EP_MOUSE_ABS) {
        int x = r->x < 0 ? 0 : r->x > HID_ABS_MAX ? HID_ABS_MAX : r->x;
        int y = r->y < 0 ? 0 : r->y > HID_ABS_MAX ? HID_ABS_MAX : r->y;
        out[1] = (uint8_t)(x & 0xff);
        out[2] = (uint8_t)(x >> 8);
        out[3] = (uint8_t)(y & 0xff);
        out[4] = (uint8_t)(y >> 8);
        out[5] = clamp8(r->wheel);
        out[6] = clamp8(r->pan);
        return HID_ABS_REPORT_LEN;
    }
    out[1] = clamp8(r->x);
    out[2] = clamp8(r->y);
    out[3] = clamp8(r->wheel);
    out[4] = clamp8(r->pan);
    return HID_REL_REPORT_LEN;
}

unsigned hid_leds_from_report(uint8_t report)
{
    unsigned num = report & 1, caps = (report >> 1) & 1, scroll = (report >> 2) & 1;
    return scroll | num << 1 | caps << 2;
}
