/* atx/led: what an LED input says, from its edges: debounced level, and for
 * the power LED steady on / steady off / blinking (standby).
 *
 * Pure logic on caller-supplied CLOCK_MONOTONIC milliseconds, so a fake clock
 * drives it in tests. Edges go in with atx_led_input(); time passing with
 * atx_led_tick() no later than atx_led_deadline().
 *
 * Debounce: a level counts once it held debounce_ms; shorter glitches vanish.
 * Classification (blink_ms > 0): three debounced transitions in a row, each
 * within blink_ms of the one before, is blinking; a level that held blink_ms
 * is steady. Until either is seen the state stays what it was (UNKNOWN at
 * start), so a standby blink never shows as a short "off" and a power-off is
 * reported blink_ms after the LED went dark. With blink_ms = 0 (HDD LED) the
 * state simply follows the debounced level. */
#ifndef PIGLIX_ATX_LED_H
#define PIGLIX_ATX_LED_H

#include <stdbool.h>
#include <stdint.h>

enum atx_led_state { ATX_LED_UNKNOWN, ATX_LED_OFF, ATX_LED_ON, ATX_LED_BLINKING };

struct atx_led_params {
    int debounce_ms;   /* 0: every edge counts at once */
    int blink_ms;      /* longest half-period of a blink; 0: no blink classification */
};

struct atx_led {
    struct atx_led_params p;
    bool raw;                /* the last level seen */
    int64_t raw_since;       /* when raw last changed */
    bool level;              /* debounced level */
    int64_t level_since;     /* when the debounced level last changed (at its raw edge) */
    int64_t edges[3];        /* the last debounced transitions, oldest first */
    int n_edges;
    enum atx_led_state state;
    uint64_t flashes;        /* raw off->on edges, before debouncing */
};

void atx_led_init(struct atx_led *led, const struct atx_led_params *p, bool level, int64_t now);

/* A level seen at time at (an edge's timestamp, or a read). Returns true when
 * the debounced level or the state changed. Repeated levels are ignored. */
bool atx_led_input(struct atx_led *led, bool level, int64_t at);

/* Time passed up to now. Returns true when the debounced level or state changed. */
bool atx_led_tick(struct atx_led *led, int64_t now);

/* The next time atx_led_tick() may change something; INT64_MAX: none pending. */
int64_t atx_led_deadline(const struct atx_led *led);

#endif
