/* Fuzzes what viewers and API callers feed the HID code: key events by
 * keysym and XT scancode, pointer events, and text to paste and combos
 * (UTF-8 decoding, layout lookup, planning). Checks as it goes: keyboard
 * reports never hold a key twice or more than six; release_all leaves
 * nothing held; pointer reports stay in range; a paste that is accepted
 * types exactly its text on a host in that layout, and one that is refused
 * really has invalid UTF-8 or a character the layout lacks. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hid/hid_keyboard.h"
#include "hid/hid_keys.h"
#include "hid/hid_plan.h"
#include "hid/hid_pointer.h"
#include "hid/hid_utf8.h"

static void check_kbd(const struct hid_kbd_report *r)
{
    for (int i = 0; i < 6; i++)
        for (int j = i + 1; j < 6; j++)
            if (r->keys[i] && r->keys[i] == r->keys[j])
                abort();
}

/* Types a plan's steps on a host in layout l (Caps Lock off). */
static size_t host_type(const struct hid_layout *l, const struct hid_plan *p, uint32_t *out, size_t max)
{
    uint8_t prev[4] = {0};
    uint32_t dead = 0;
    size_t n = 0;
    for (size_t s = 0; s < p->n; s++) {
        const struct hid_step *st = &p->steps[s];
        for (int i = 0; i < 4; i++) {
            uint8_t k = st->keys[i];
            if (!k || memchr(prev, k, 4))
                continue;
            if (st->mods & ~(HID_MOD_SHIFT | HID_MOD_RALT))
                abort(); /* text never holds Ctrl, Alt or GUI */
            unsigned level = ((st->mods & HID_MOD_SHIFT) ? 1 : 0) | ((st->mods & HID_MOD_RALT) ? 2 : 0);
            uint32_t c = hid_layout_char(l, k, level, false);
            if (c & HID_DEAD) {
                if (dead)
                    abort();
                dead = HID_DEAD_ACCENT(c);
                continue;
            }
            if (dead) {
                c = c == ' ' ? dead : hid_compose(dead, c);
                dead = 0;
            }
            if (n < max)
                out[n++] = c;
        }
        memcpy(prev, st->keys, 4);
    }
    if (dead)
        abort();
    return n;
}

static void fuzz_paste(const struct hid_layout *l, const char *text, size_t len)
{
    struct hid_plan plan = {0};
    char err[512];
    int r = hid_plan_text(&plan, l, text, len, err, sizeof(err));
    uint32_t want[4096];
    size_t nwant = 0, pos = 0;
    bool valid = true, typeable = true;
    while (pos < len) {
        uint32_t cp;
        if (hid_utf8_next(text, len, &pos, &cp) < 0) {
            valid = false;
            break;
        }
        if (cp == '\r') {
            cp = '\n';
            if (pos < len && text[pos] == '\n')
                pos++;
        }
        struct hid_stroke s[HID_LAYOUT_MAX_STROKES];
        if (hid_layout_strokes(l, cp, s) == 0)
            typeable = false;
        if (nwant < 4096)
            want[nwant++] = cp;
    }
    if (r == 0) {
        if (!valid || !typeable)
            abort();
        uint32_t got[4096];
        size_t ngot = host_type(l, &plan, got, 4096);
        if (ngot != nwant || memcmp(got, want, nwant * sizeof(want[0])) != 0)
            abort();
        if (plan.n && (plan.steps[plan.n - 1].mods || plan.steps[plan.n - 1].keys[0]))
            abort(); /* a paste ends with nothing held */
    } else if (valid && typeable) {
        abort();
    }
    hid_plan_free(&plan);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2)
        return 0;
    size_t nlayouts;
    const struct hid_layout *const *layouts = hid_layouts(&nlayouts);
    const struct hid_layout *l = layouts[data[0] % nlayouts];
    struct hid_keyboard kb;
    hid_keyboard_init(&kb, l);
    struct hid_pointer p;
    hid_pointer_init(&p, data[1] & 1 ? HID_MOUSE_RELATIVE : HID_MOUSE_ABSOLUTE);
    size_t i = 2;
    struct hid_kbd_report kr[HID_KBD_MAX_REPORTS];
    struct hid_mouse_report mr[HID_POINTER_MAX_REPORTS];
    while (i < size) {
        uint8_t op = data[i++];
        if (op == 0xff)
            break; /* the rest is text */
        int n = 0;
        switch (op % 8) {
        case 0:
        case 1: { /* keysym down/up: 2 bytes (common ranges) or 4 */
            uint32_t ks = 0;
            if (op & 0x80) {
                for (int k = 0; k < 4 && i < size; k++)
                    ks = ks << 8 | data[i++];
            } else {
                for (int k = 0; k < 2 && i < size; k++)
                    ks = ks << 8 | data[i++];
                if (op & 0x40)
                    ks |= 0xff00;
            }
            n = hid_keyboard_key_sym(&kb, ks, op % 8 == 0, kr);
            break;
        }
        case 2:
        case 3: /* XT scancode down/up */
            if (i < size)
                n = hid_keyboard_key_xt(&kb, data[i++] | (op & 0x80 ? 0x80u : 0), 'x', op % 8 == 2, kr);
            break;
        case 4:
            n = hid_keyboard_release_all(&kb, kr);
            for (int k = 0; k < n; k++)
                check_kbd(&kr[k]);
            hid_keyboard_report(&kb, &kr[0]);
            if (kr[0].mods || kr[0].keys[0] || hid_keyboard_any_held(&kb))
                abort();
            n = 0;
            break;
        case 5: { /* pointer: x, y (2 bytes each), size, mask */
            if (i + 6 > size)
                break;
            int x = (int16_t)(data[i] << 8 | data[i + 1]), y = (int16_t)(data[i + 2] << 8 | data[i + 3]);
            unsigned w = 1u + data[i + 4] * 16u, h = 1u + data[i + 4] * 9u;
            int m = hid_pointer_event(&p, x, y, w, h, data[i + 5], mr);
            i += 6;
            if (m < 0 || m > HID_POINTER_MAX_REPORTS)
                abort();
            for (int k = 0; k < m; k++) {
                int lo = p.mode == HID_MOUSE_ABSOLUTE ? 0 : -127, hi = p.mode == HID_MOUSE_ABSOLUTE ? 32767 : 127;
                if (mr[k].x < lo || mr[k].x > hi || mr[k].y < lo || mr[k].y > hi)
                    abort();
            }
            break;
        }
        case 6:
            kb.caps_lock = op & 0x10;
            break;
        case 7:
            hid_pointer_set_mode(&p, op & 0x10 ? HID_MOUSE_RELATIVE : HID_MOUSE_ABSOLUTE);
            break;
        }
        if (n < 0 || n > HID_KBD_MAX_REPORTS || kb.nkeys > HID_KBD_MAX_KEYS)
            abort();
        for (int k = 0; k < n; k++)
            check_kbd(&kr[k]);
    }
    const char *text = (const char *)data + i;
    size_t len = size - i;
    fuzz_paste(l, text, len);
    char combo[300];
    size_t clen = len < sizeof(combo) - 1 ? len : sizeof(combo) - 1;
    memcpy(combo, text, clen);
    combo[clen] = 0;
    struct hid_plan plan = {0};
    if (hid_plan_combo_string(&plan, combo, NULL, 0) == 0) {
        const struct hid_step *last = &plan.steps[plan.n - 1];
        if (last->mods || last->keys[0])
            abort(); /* a combo ends with everything released */
    }
    hid_plan_free(&plan);
    return 0;
}
