/* simserver keymap: what the server's OS makes of USB key codes, per
 * keyboard layout (us, de), as a real OS does: Shift, AltGr, Caps Lock and
 * dead keys (de: ^ ´ `). Written from the layouts themselves, not from
 * piglix's hid/keymaps, so the two check each other. */
#ifndef SIM_KEYMAP_H
#define SIM_KEYMAP_H

#include <stdbool.h>
#include <stdint.h>

struct sim_keymap;

struct sim_keystate {
    bool lshift, rshift, altgr, lctrl, rctrl, caps;
    uint32_t dead;   /* a pending dead key's accent, 0: none */
};

/* NULL when the layout is unknown. */
const struct sim_keymap *sim_keymap_find(const char *name);
const char *sim_keymap_name(const struct sim_keymap *km);

/* Feeds one EV_KEY event (value 0 up, 1 down, 2 repeat). Returns the number
 * of characters it produced into out (0-2: a dead key that does not combine
 * gives its accent, then the character). */
int sim_keymap_feed(const struct sim_keymap *km, struct sim_keystate *ks, unsigned code, int value,
                    uint32_t out[2]);

#endif
