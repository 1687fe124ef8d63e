/* atx/gpio: the ATX board's lines through libgpiod 1.6 (Debian 12's, the same
 * a Raspberry Pi gets). LED and intrusion inputs are held for the whole run
 * with both-edge line events; a button is requested only for one press, as an
 * output at its released level, then driven pressed, then driven released
 * again before it is freed (the kernel keeps a freed line's value: see
 * atx/guard.h). Used by the ATX thread only. */
#ifndef PIGLIX_ATX_GPIO_H
#define PIGLIX_ATX_GPIO_H

#include <stdbool.h>
#include <stdint.h>

#include "atx/guard.h"
#include "atx/seq.h"

struct config_atx;

enum atx_input { ATX_INPUT_POWER_LED, ATX_INPUT_HDD_LED, ATX_INPUT_INTRUSION, ATX_INPUT_COUNT };

struct atx_gpio_edge {
    bool level;        /* logical: lit / open */
    int64_t ms;        /* CLOCK_MONOTONIC, from the kernel's event timestamp */
};

struct atx_gpio;

/* Opens [atx] chip and requests the inputs; checks the button lines exist and
 * drives each released once (a previous run may have died mid-press).
 * Returns NULL (logged) on failure. */
struct atx_gpio *atx_gpio_open(const struct config_atx *cfg);

/* Whether [atx] chip can be found now (libgpiod's lookup: path, name,
 * number or label). Without GPIO support always true: atx_gpio_open says why. */
bool atx_gpio_chip_present(const char *chip);

/* Releases a held button, frees every line, closes the chip. NULL is fine. */
void atx_gpio_close(struct atx_gpio *gpio);

/* The chip's device path (for the guard) and the wired button lines. */
const char *atx_gpio_chip_path(const struct atx_gpio *gpio);
int atx_gpio_button_lines(const struct atx_gpio *gpio, struct atx_guard_line *out, int max);

bool atx_gpio_has_input(const struct atx_gpio *gpio, enum atx_input in);
bool atx_gpio_has_button(const struct atx_gpio *gpio, enum atx_button b);

/* The input's event fd for poll(), or -1 when it is not wired. */
int atx_gpio_input_fd(const struct atx_gpio *gpio, enum atx_input in);

/* The input's current logical level: 0, 1, or -1 (logged). */
int atx_gpio_input_level(struct atx_gpio *gpio, enum atx_input in);

/* Reads pending edges of an input (non-blocking after poll() said readable).
 * Returns how many were stored, or -1 (logged). */
int atx_gpio_read_edges(struct atx_gpio *gpio, enum atx_input in, struct atx_gpio_edge *out, int max);

/* Requests the button and drives it pressed. Returns 0 or -1 (logged; the
 * line is released again). One button at a time. */
int atx_gpio_press(struct atx_gpio *gpio, enum atx_button b);

/* Drives the held button released and frees it. Returns 0 or -1 (logged). */
int atx_gpio_release(struct atx_gpio *gpio);

#endif
