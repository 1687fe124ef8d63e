/* hid/hid_pointer: the pointer as viewers move it (an absolute position in
 * a width x height picture and the RFB button mask) turned into mouse
 * reports: absolute (corners land exactly on 0 and 32767) or relative (the
 * difference from the last position, in steps of at most 127). RFB buttons
 * 4-7 are wheel clicks: each press is one tick. Pure state, no I/O. */
#ifndef PIGLIX_HID_POINTER_H
#define PIGLIX_HID_POINTER_H

#include <stdbool.h>
#include <stdint.h>

#include "hid/hid_report.h"

#define HID_POINTER_MAX_REPORTS 64

enum hid_mouse_mode { HID_MOUSE_ABSOLUTE, HID_MOUSE_RELATIVE };

struct hid_pointer {
    enum hid_mouse_mode mode;
    uint8_t rfb_mask;      /* the viewer's last mask */
    uint8_t buttons;       /* HID button bits held */
    bool have_pos;
    int last_x, last_y;    /* picture pixels */
    int abs_x, abs_y;      /* 0..HID_ABS_MAX */
};

void hid_pointer_init(struct hid_pointer *p, enum hid_mouse_mode mode);

/* A pointer event; returns the number of reports for the mode's endpoint. */
int hid_pointer_event(struct hid_pointer *p, int x, int y, unsigned width, unsigned height,
                      uint8_t rfb_mask, struct hid_mouse_report out[HID_POINTER_MAX_REPORTS]);

/* Releases the buttons: 0 or 1 report. */
int hid_pointer_release(struct hid_pointer *p, struct hid_mouse_report *out);

/* Switches mode; the caller releases buttons on the old endpoint first.
 * The relative mode starts from the next event's position. */
void hid_pointer_set_mode(struct hid_pointer *p, enum hid_mouse_mode mode);

/* The state now as one report (no motion, no wheel) for resynchronising. */
void hid_pointer_report(const struct hid_pointer *p, struct hid_mouse_report *r);

/* x (0..size-1) scaled to 0..HID_ABS_MAX: x * 32767 / (size - 1). */
int hid_pointer_scale(int x, unsigned size);

#endif
