#include "hid/hid_pointer.h"

#include <string.h>

void hid_pointer_init(struct hid_pointer *p, enum hid_mouse_mode mode)
{
    memset(p, 0, sizeof(*p));
    p->mode = mode;
}

int hid_pointer_scale(int x, unsigned size)
{
    if (size < 2 || x <= 0)
        return 0;
    if ((unsigned)x >= size - 1)
        return HID_ABS_MAX;
    return (int)((int64_t)x * HID_ABS_MAX / (int64_t)(size - 1));
}

/* RFB: bit 0 left, 1 middle, 2 right, 7 button 8 (back). HID: bit 0 left,
 * 1 right, 2 middle, 3 back. */
static uint8_t hid_buttons(uint8_t rfb)
{
    return (uint8_t)((rfb & 1) | ((rfb >> 2) & 1) << 1 | ((rfb >> 1) & 1) << 2 | ((rfb >> 7) & 1) << 3);
}

static int clamp_step(int v)
{
    return v < -127 ? -127 : v > 127 ? 127 : v;
}

int hid_pointer_event(struct hid_pointer *p, int x, int y, unsigned width, unsigned height,
                      uint8_t rfb_mask, struct hid_mouse_report out[HID_POINTER_MAX_REPORTS])
{
    if (width == 0 || height == 0)
        return 0;
    if (x < 0) x = 0;
    if (y < 0) y = 0;
    if ((unsigned)x >= width) x = (int)width - 1;
    if ((unsigned)y >= height) y = (int)height - 1;
    uint8_t pressed = (uint8_t)(rfb_mask & ~p->rfb_mask);
    int wheel = ((pressed >> 3) & 1) - ((pressed >> 4) & 1);
    int pan = ((pressed >> 6) & 1) - ((pressed >> 5) & 1);
    p->rfb_mask = rfb_mask;
    uint8_t buttons = hid_buttons(rfb_mask);
    bool buttons_changed = buttons != p->buttons;
    p->buttons = buttons;
    int n = 0;

    if (p->mode == HID_MOUSE_ABSOLUTE) {
        int ax = hid_pointer_scale(x, width), ay = hid_pointer_scale(y, height);
        bool moved = !p->have_pos || ax != p->abs_x || ay != p->abs_y;
        p->abs_x = ax, p->abs_y = ay;
        p->have_pos = true;
        p->last_x = x, p->last_y = y;
        if (moved || buttons_changed)
            out[n++] = (struct hid_mouse_report){.buttons = buttons, .x = ax, .y = ay};
        if (wheel || pan)
            out[n++] = (struct hid_mouse_report){.buttons = buttons, .x = ax, .y = ay,
                                                 .wheel = (int8_t)wheel, .pan = (int8_t)pan};
        return n;
    }

    int dx = p->have_pos ? x - p->last_x : 0, dy = p->have_pos ? y - p->last_y : 0;
    p->have_pos = true;
    p->last_x = x, p->last_y = y;
    /* The buttons change with the first step; a jump too far for the
     * report budget loses its tail (a relative pointer drifts anyway). */
    while ((dx || dy || buttons_changed) && n < HID_POINTER_MAX_REPORTS - 1) {
        int sx = clamp_step(dx), sy = clamp_step(dy);
        out[n++] = (struct hid_mouse_report){.buttons = buttons, .x = sx, .y = sy};
        dx -= sx, dy -= sy;
        buttons_changed = false;
    }
    if (wheel || pan)
        out[n++] = (struct hid_mouse_report){.buttons = buttons, .wheel = (int8_t)wheel, .pan = (int8_t)pan};
    return n;
}

int hid_pointer_release(struct hid_pointer *p, struct hid_mouse_report *out)
{
    p->rfb_mask = 0;
    if (!p->buttons)
        return 0;
    p->buttons = 0;
    hid_pointer_report(p, out);
    return 1;
}

void hid_pointer_set_mode(struct hid_pointer *p, enum hid_mouse_mode mode)
{
    p->mode = mode;
    p->buttons = 0;
    p->rfb_mask = 0;
    p->have_pos = false;
}

void hid_pointer_report(const struct hid_pointer *p, struct hid_mouse_report *r)
{
    memset(r, 0, sizeof(*r));
    r->buttons = p->buttons;
    if (p->mode == HID_MOUSE_ABSOLUTE) {
        r->x = p->abs_x;
        r->y = p->abs_y;
    }
}
