#include "hid/hid_keyboard.h"

#include <string.h>

#include "hid/hid_keys.h"
#include "hid/keymaps/keymaps.h"

void hid_keyboard_init(struct hid_keyboard *kb, const struct hid_layout *layout)
{
    memset(kb, 0, sizeof(*kb));
    kb->layout = layout;
    kb->altgr_layout = hid_layout_has_altgr(layout);
}

/* The state's report; skip (an index, or -1) leaves one held key out, and
 * forcing (an index, or -1) names the key whose modifier override applies
 * (normally the newest). */
static void build(const struct hid_keyboard *kb, int skip, int forcing, struct hid_kbd_report *r)
{
    memset(r, 0, sizeof(*r));
    r->mods = kb->mods;
    if (forcing >= 0)
        r->mods = (uint8_t)((r->mods & ~kb->keys[forcing].clear) | kb->keys[forcing].set);
    int n = 0;
    for (int i = 0; i < kb->nkeys; i++)
        if (i != skip)
            r->keys[n++] = kb->keys[i].usage;
}

void hid_keyboard_report(const struct hid_keyboard *kb, struct hid_kbd_report *r)
{
    build(kb, -1, kb->nkeys - 1, r);
}

bool hid_keyboard_any_held(const struct hid_keyboard *kb)
{
    return kb->mods || kb->nkeys;
}

static void emit(struct hid_keyboard *kb, const struct hid_kbd_report *r, struct hid_kbd_report *out, int *n)
{
    if (memcmp(r, &kb->last, sizeof(*r)) == 0 || *n >= HID_KBD_MAX_REPORTS)
        return;
    out[(*n)++] = *r;
    kb->last = *r;
}

static void emit_state(struct hid_keyboard *kb, struct hid_kbd_report *out, int *n)
{
    struct hid_kbd_report r;
    hid_keyboard_report(kb, &r);
    emit(kb, &r, out, n);
}

/* Modifiers a stroke needs forced on (set) and off (clear). */
static void stroke_override(const struct hid_keyboard *kb, const struct hid_stroke *s, uint8_t *set,
                            uint8_t *clear)
{
    *set = *clear = 0;
    bool shift = (s->level & HID_LEVEL_SHIFT) != 0;
    if (s->caps && kb->caps_lock)
        shift = !shift;
    if (!s->shift_free) {
        if (!shift)
            *clear |= HID_MOD_SHIFT;
        else if (!(kb->mods & HID_MOD_SHIFT))
            *set |= HID_MOD_LSHIFT;
    }
    if (s->level & HID_LEVEL_ALTGR)
        *set |= HID_MOD_RALT;
    else if (kb->altgr_layout)
        *clear |= HID_MOD_RALT;
}

static int find_id(const struct hid_keyboard *kb, uint32_t id)
{
    for (int i = 0; i < kb->nkeys; i++)
        if (kb->keys[i].id == id)
            return i;
    return -1;
}

static int find_usage(const struct hid_keyboard *kb, uint8_t usage)
{
    for (int i = 0; i < kb->nkeys; i++)
        if (kb->keys[i].usage == usage)
            return i;
    return -1;
}

/* Presses a key: first its modifiers alone, then with the key, so a host
 * never sees the key with the old modifiers. */
static void press(struct hid_keyboard *kb, uint32_t id, uint8_t usage, uint8_t set, uint8_t clear,
                  struct hid_kbd_report *out, int *n)
{
    int at = find_usage(kb, usage);
    if (at >= 0) { /* the same key under another keysym: one key, newest id */
        kb->keys[at].id = id;
        return;
    }
    if (kb->nkeys >= HID_KBD_MAX_KEYS) {
        kb->rollover++;
        return;
    }
    kb->keys[kb->nkeys++] = (struct hid_kbd_held){.id = id, .usage = usage, .set = set, .clear = clear};
    struct hid_kbd_report r;
    build(kb, kb->nkeys - 1, kb->nkeys - 1, &r);
    emit(kb, &r, out, n);
    emit_state(kb, out, n);
}

/* Releases the key at index i: first the key under its own modifiers, then
 * the modifiers go back to what is held. */
static void release_at(struct hid_keyboard *kb, int i, struct hid_kbd_report *out, int *n)
{
    struct hid_kbd_report r;
    if (i == kb->nkeys - 1) {
        build(kb, i, i, &r);
        emit(kb, &r, out, n);
    }
    memmove(&kb->keys[i], &kb->keys[i + 1], sizeof(kb->keys[0]) * (size_t)(kb->nkeys - i - 1));
    kb->nkeys--;
    emit_state(kb, out, n);
}

/* Taps a stroke that is not held (the dead key before a letter). */
static void tap(struct hid_keyboard *kb, const struct hid_stroke *s, struct hid_kbd_report *out, int *n)
{
    if (find_usage(kb, s->usage) >= 0 || kb->nkeys >= HID_KBD_MAX_KEYS)
        return;
    uint8_t set, clear;
    stroke_override(kb, s, &set, &clear);
    press(kb, 0, s->usage, set, clear, out, n);
    release_at(kb, kb->nkeys - 1, out, n);
}

/* The strokes for a character or dead keysym; falls back to US key
 * positions for ASCII a layout lacks, so Ctrl+C still works on a target
 * set to e.g. Russian. */
static int char_strokes(const struct hid_keyboard *kb, const struct hid_keysym_info *info,
                        struct hid_stroke s[HID_LAYOUT_MAX_STROKES])
{
    if (info->kind == HID_KEYSYM_DEAD)
        return hid_layout_dead_stroke(kb->layout, info->codepoint, &s[0]) ? 1 : 0;
    int n = hid_layout_strokes(kb->layout, info->codepoint, s);
    if (n == 0 && info->codepoint < 0x80 && kb->layout != &hid_keymap_us)
        n = hid_layout_strokes(&hid_keymap_us, info->codepoint, s);
    return n;
}

/* A modifier pressed or released while keys are held is the viewer's
 * newest word: the held keys' forced modifiers give way to it. */
static void drop_overrides(struct hid_keyboard *kb)
{
    for (int i = 0; i < kb->nkeys; i++)
        kb->keys[i].set = kb->keys[i].clear = 0;
}

static void key_down(struct hid_keyboard *kb, uint32_t id, const struct hid_keysym_info *info,
                     struct hid_kbd_report *out, int *n)
{
    if (find_id(kb, id) >= 0)
        return; /* a viewer's autorepeat: the host repeats by itself */
    if (info->kind == HID_KEYSYM_KEY) {
        uint8_t bit = hid_key_modifier_bit(info->usage);
        if (bit) {
            kb->mods |= bit;
            drop_overrides(kb);
            emit_state(kb, out, n);
        } else {
            press(kb, id, info->usage, 0, 0, out, n);
        }
        return;
    }
    struct hid_stroke s[HID_LAYOUT_MAX_STROKES];
    int ns = info->kind == HID_KEYSYM_UNKNOWN ? 0 : char_strokes(kb, info, s);
    if (ns == 0) {
        kb->unmapped++;
        return;
    }
    if (ns == 2)
        tap(kb, &s[0], out, n);
    uint8_t set, clear;
    stroke_override(kb, &s[ns - 1], &set, &clear);
    press(kb, id, s[ns - 1].usage, set, clear, out, n);
}

static void key_up(struct hid_keyboard *kb, uint32_t id, const struct hid_keysym_info *info,
                   struct hid_kbd_report *out, int *n)
{
    if (info->kind == HID_KEYSYM_KEY && hid_key_modifier_bit(info->usage)) {
        kb->mods &= (uint8_t)~hid_key_modifier_bit(info->usage);
        drop_overrides(kb);
        emit_state(kb, out, n);
        return;
    }
    int i = find_id(kb, id);
    if (i < 0) {
        /* Released under another keysym (Shift let go first: 'A' down,
         * 'a' up): the key that keysym types. */
        struct hid_stroke s[HID_LAYOUT_MAX_STROKES];
        int ns = 0;
        if (info->kind == HID_KEYSYM_KEY) {
            s[0].usage = info->usage;
            ns = 1;
        } else if (info->kind != HID_KEYSYM_UNKNOWN) {
            ns = char_strokes(kb, info, s);
        }
        if (ns > 0)
            i = find_usage(kb, s[ns - 1].usage);
    }
    if (i >= 0)
        release_at(kb, i, out, n);
}

int hid_keyboard_key_sym(struct hid_keyboard *kb, uint32_t keysym, bool down,
                         struct hid_kbd_report out[HID_KBD_MAX_REPORTS])
{
    struct hid_keysym_info info;
    hid_keysym_classify(keysym, &info);
    int n = 0;
    if (down)
        key_down(kb, keysym, &info, out, &n);
    else
        key_up(kb, keysym, &info, out, &n);
    return n;
}

int hid_keyboard_key_xt(struct hid_keyboard *kb, uint32_t xt, uint32_t keysym, bool down,
                        struct hid_kbd_report out[HID_KBD_MAX_REPORTS])
{
    uint8_t usage = hid_xt_to_usage(xt);
    if (!usage) /* a scancode we do not know: the keysym still says something */
        return hid_keyboard_key_sym(kb, keysym, down, out);
    struct hid_keysym_info info = {.kind = HID_KEYSYM_KEY, .usage = usage};
    int n = 0;
    if (down)
        key_down(kb, HID_KBD_ID_XT | xt, &info, out, &n);
    else
        key_up(kb, HID_KBD_ID_XT | xt, &info, out, &n);
    return n;
}

int hid_keyboard_release_all(struct hid_keyboard *kb, struct hid_kbd_report out[HID_KBD_MAX_REPORTS])
{
    kb->mods = 0;
    kb->nkeys = 0;
    int n = 0;
    emit_state(kb, out, &n);
    return n;
}
