/* The us and de (German T1, as X11's "de" layout) keyboards, by evdev code. */
#include "sim_keymap.h"

#include <linux/input-event-codes.h>
#include <stddef.h>
#include <string.h>

#define DEAD 0x80000000u

struct sim_key {
    uint16_t code;
    bool alpha;          /* Caps Lock acts like Shift on it */
    uint32_t level[3];   /* plain, Shift, AltGr; 0: nothing */
};

struct sim_keymap {
    const char *name;
    const struct sim_key *keys;
    size_t n;
};

#define L(code, lower) {code, true, {lower, (lower) - 0x20, 0}}

/* Keys both layouts share. */
#define COMMON_KEYS                                                                                     \
    {KEY_SPACE, false, {' ', ' ', ' '}}, L(KEY_A, 'a'), L(KEY_B, 'b'), L(KEY_C, 'c'), L(KEY_D, 'd'),   \
        L(KEY_F, 'f'), L(KEY_G, 'g'), L(KEY_H, 'h'), L(KEY_I, 'i'), L(KEY_J, 'j'), L(KEY_K, 'k'),      \
        L(KEY_L, 'l'), L(KEY_N, 'n'), L(KEY_O, 'o'), L(KEY_P, 'p'), L(KEY_R, 'r'), L(KEY_S, 's'),      \
        L(KEY_T, 't'), L(KEY_U, 'u'), L(KEY_V, 'v'), L(KEY_W, 'w'), L(KEY_X, 'x'),                     \
        {KEY_KP0, false, {'0'}}, {KEY_KP1, false, {'1'}}, {KEY_KP2, false, {'2'}},                      \
        {KEY_KP3, false, {'3'}}, {KEY_KP4, false, {'4'}}, {KEY_KP5, false, {'5'}},                      \
        {KEY_KP6, false, {'6'}}, {KEY_KP7, false, {'7'}}, {KEY_KP8, false, {'8'}},                      \
        {KEY_KP9, false, {'9'}}, {KEY_KPPLUS, false, {'+'}}, {KEY_KPMINUS, false, {'-'}},               \
        {KEY_KPASTERISK, false, {'*'}}, {KEY_KPSLASH, false, {'/'}}

static const struct sim_key us_keys[] = {
    COMMON_KEYS,
    L(KEY_E, 'e'), L(KEY_M, 'm'), L(KEY_Q, 'q'), L(KEY_Y, 'y'), L(KEY_Z, 'z'),
    {KEY_1, false, {'1', '!'}}, {KEY_2, false, {'2', '@'}}, {KEY_3, false, {'3', '#'}},
    {KEY_4, false, {'4', '$'}}, {KEY_5, false, {'5', '%'}}, {KEY_6, false, {'6', '^'}},
    {KEY_7, false, {'7', '&'}}, {KEY_8, false, {'8', '*'}}, {KEY_9, false, {'9', '('}},
    {KEY_0, false, {'0', ')'}}, {KEY_MINUS, false, {'-', '_'}}, {KEY_EQUAL, false, {'=', '+'}},
    {KEY_LEFTBRACE, false, {'[', '{'}}, {KEY_RIGHTBRACE, false, {']', '}'}},
    {KEY_SEMICOLON, false, {';', ':'}}, {KEY_APOSTROPHE, false, {'\'', '"'}},
    {KEY_GRAVE, false, {'`', '~'}}, {KEY_BACKSLASH, false, {'\\', '|'}},
    {KEY_COMMA, false, {',', '<'}}, {KEY_DOT, false, {'.', '>'}}, {KEY_SLASH, false, {'/', '?'}},
    {KEY_102ND, false, {'<', '>'}}, {KEY_KPDOT, false, {'.'}},
};

static const struct sim_key de_keys[] = {
    COMMON_KEYS,
    {KEY_E, true, {'e', 'E', 0x20ac}}, {KEY_M, true, {'m', 'M', 0xb5}}, {KEY_Q, true, {'q', 'Q', '@'}},
    L(KEY_Y, 'z'), L(KEY_Z, 'y'), /* QWERTZ */
    {KEY_GRAVE, false, {DEAD | '^', 0xb0}},
    {KEY_1, false, {'1', '!', 0xb9}}, {KEY_2, false, {'2', '"', 0xb2}}, {KEY_3, false, {'3', 0xa7, 0xb3}},
    {KEY_4, false, {'4', '$', 0xbc}}, {KEY_5, false, {'5', '%', 0xbd}}, {KEY_6, false, {'6', '&', 0xac}},
    {KEY_7, false, {'7', '/', '{'}}, {KEY_8, false, {'8', '(', '['}}, {KEY_9, false, {'9', ')', ']'}},
    {KEY_0, false, {'0', '=', '}'}}, {KEY_MINUS, false, {0xdf, '?', '\\'}},
    {KEY_EQUAL, false, {DEAD | 0xb4, DEAD | '`'}},
    {KEY_LEFTBRACE, true, {0xfc, 0xdc}}, {KEY_RIGHTBRACE, false, {'+', '*', '~'}},
    {KEY_SEMICOLON, true, {0xf6, 0xd6}}, {KEY_APOSTROPHE, true, {0xe4, 0xc4}},
    {KEY_BACKSLASH, false, {'#', '\''}}, {KEY_102ND, false, {'<', '>', '|'}},
    {KEY_COMMA, false, {',', ';'}}, {KEY_DOT, false, {'.', ':'}}, {KEY_SLASH, false, {'-', '_'}},
    {KEY_KPDOT, false, {','}},
};

static const struct sim_keymap keymaps[] = {
    {"us", us_keys, sizeof(us_keys) / sizeof(us_keys[0])},
    {"de", de_keys, sizeof(de_keys) / sizeof(de_keys[0])},
};

const struct sim_keymap *sim_keymap_find(const char *name)
{
    for (size_t i = 0; i < sizeof(keymaps) / sizeof(keymaps[0]); i++)
        if (strcmp(keymaps[i].name, name) == 0)
            return &keymaps[i];
    return NULL;
}

const char *sim_keymap_name(const struct sim_keymap *km)
{
    return km->name;
}

/* Accent + base letter, Latin-1 (upper case is 0x20 below lower case). */
static uint32_t compose(uint32_t accent, uint32_t base)
{
    static const struct {
        uint32_t accent;
        const char *bases;
        uint8_t out[6];
    } table[] = {
        {'^', "aeiou", {0xe2, 0xea, 0xee, 0xf4, 0xfb}},
        {0xb4, "aeiouy", {0xe1, 0xe9, 0xed, 0xf3, 0xfa, 0xfd}},
        {'`', "aeiou", {0xe0, 0xe8, 0xec, 0xf2, 0xf9}},
    };
    bool upper = base >= 'A' && base <= 'Z';
    uint32_t lower = upper ? base + 0x20 : base;
    for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++) {
        if (table[i].accent != accent || lower < 'a' || lower > 'z')
            continue;
        const char *at = strchr(table[i].bases, (int)lower);
        if (!at)
            return 0;
        uint32_t c = table[i].out[at - table[i].bases];
        return upper ? c - 0x20 : c;
    }
    return 0;
}

static bool modifier(struct sim_keystate *ks, unsigned code, bool down)
{
    switch (code) {
    case KEY_LEFTSHIFT: ks->lshift = down; return true;
    case KEY_RIGHTSHIFT: ks->rshift = down; return true;
    case KEY_RIGHTALT: ks->altgr = down; return true;
    case KEY_LEFTCTRL: ks->lctrl = down; return true;
    case KEY_RIGHTCTRL: ks->rctrl = down; return true;
    case KEY_LEFTALT: case KEY_LEFTMETA: case KEY_RIGHTMETA: return true;
    }
    return false;
}

int sim_keymap_feed(const struct sim_keymap *km, struct sim_keystate *ks, unsigned code, int value,
                    uint32_t out[2])
{
    if (modifier(ks, code, value != 0) || value == 0)
        return 0;
    if (code == KEY_CAPSLOCK) {
        if (value == 1)
            ks->caps = !ks->caps;
        return 0;
    }
    if (ks->lctrl || ks->rctrl)
        return 0; /* a control combination types nothing */
    const struct sim_key *k = NULL;
    for (size_t i = 0; i < km->n && !k; i++)
        if (km->keys[i].code == code)
            k = &km->keys[i];
    if (!k)
        return 0;
    bool shift = ks->lshift || ks->rshift;
    if (k->alpha && ks->caps)
        shift = !shift;
    uint32_t c = k->level[ks->altgr ? 2 : shift ? 1 : 0];
    if (ks->altgr && !c)
        c = k->level[shift ? 1 : 0];
    if (!c)
        return 0;
    int n = 0;
    if (c & DEAD) {
        uint32_t accent = c & ~DEAD;
        if (!ks->dead) {
            ks->dead = accent;
            return 0;
        }
        out[n++] = ks->dead; /* two dead keys: the first one's accent, the second waits */
        ks->dead = accent;
        return n;
    }
    if (ks->dead) {
        uint32_t accent = ks->dead;
        ks->dead = 0;
        if (c == ' ')
            c = accent;
        else if (compose(accent, c))
            c = compose(accent, c);
        else
            out[n++] = accent;
    }
    out[n++] = c;
    return n;
}
