/* hid/hid_plan: text to paste and key combos turned, up front, into the
 * list of keyboard states to hold one after another (steps). Planning
 * checks everything first: text a layout cannot type, or bad UTF-8, is
 * refused whole with a message naming the characters, so nothing is ever
 * half-typed. */
#ifndef PIGLIX_HID_PLAN_H
#define PIGLIX_HID_PLAN_H

#include <stddef.h>
#include <stdint.h>

#include "hid/hid_layout.h"

#define HID_PLAN_MAX_TEXT 65536  /* bytes of text in one paste */
#define HID_PLAN_MAX_COMBO_KEYS 8

/* One keyboard state. With HID_STEP_CAPS, Shift is inverted while the
 * target's Caps Lock is on (a letter). */
struct hid_step {
    uint8_t mods;
    uint8_t flags;
    uint8_t keys[4];
};
#define HID_STEP_CAPS 0x01

struct hid_plan {
    struct hid_step *steps;
    size_t n, cap;
    size_t chars; /* characters typed, for logs */
};

/* Appends the steps that type UTF-8 text (\r\n and \r are Enter). Returns 0,
 * or -EINVAL with a message in err (unless errlen is 0) and the plan as it
 * was; -ENOMEM. */
int hid_plan_text(struct hid_plan *p, const struct hid_layout *l, const char *text, size_t len,
                  char *err, size_t errlen);

/* Appends a combo: keys by name (hid_key_by_name) pressed in order, held,
 * released in reverse. Returns 0 or -EINVAL (err names the key) / -ENOMEM. */
int hid_plan_combo(struct hid_plan *p, const char *const *keys, int n, char *err, size_t errlen);

/* The same from "ctrl+alt+delete" (names joined by '+', any case). */
int hid_plan_combo_string(struct hid_plan *p, const char *combo, char *err, size_t errlen);

void hid_plan_free(struct hid_plan *p);

/* Formats a message for the caller's err buffer (NULL or 0 length: none);
 * the hid calls that take err/errlen share it. */
void hid_set_err(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

#endif
