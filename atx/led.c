#include "atx/led.h"

#include <string.h>

void atx_led_init(struct atx_led *led, const struct atx_led_params *p, bool level, int64_t now)
{
    memset(led, 0, sizeof(*led));
    led->p = *p;
    led->raw = led->level = level;
    led->raw_since = led->level_since = now;
    /* A level seen once says nothing about blinking: wait for it to hold. */
    led->state = p->blink_ms > 0 ? ATX_LED_UNKNOWN : (level ? ATX_LED_ON : ATX_LED_OFF);
}

static void push_edge(struct atx_led *led, int64_t t)
{
    if (led->n_edges == 3) {
        led->edges[0] = led->edges[1];
        led->edges[1] = led->edges[2];
        led->n_edges = 2;
    }
    led->edges[led->n_edges++] = t;
}

/* Accepts a raw level that held debounce_ms; the transition is dated at its
 * raw edge so blink periods are measured edge to edge. */
static bool settle(struct atx_led *led, int64_t now)
{
    if (led->raw == led->level || now - led->raw_since < led->p.debounce_ms)
        return false;
    led->level = led->raw;
    led->level_since = led->raw_since;
    push_edge(led, led->raw_since);
    return true;
}

static bool blinking(const struct atx_led *led)
{
    return led->n_edges == 3 && led->edges[1] - led->edges[0] <= led->p.blink_ms &&
           led->edges[2] - led->edges[1] <= led->p.blink_ms;
}

static bool classify(struct atx_led *led, int64_t now)
{
    enum atx_led_state before = led->state;
    enum atx_led_state steady = led->level ? ATX_LED_ON : ATX_LED_OFF;
    if (led->p.blink_ms <= 0 || now - led->level_since >= led->p.blink_ms)
        led->state = steady;
    else if (blinking(led))
        led->state = ATX_LED_BLINKING;
    return led->state != before;
}

bool atx_led_input(struct atx_led *led, bool level, int64_t at)
{
    if (at < led->raw_since)
        at = led->raw_since; /* never let time run backwards */
    bool changed = settle(led, at); /* a change that matured before this edge */
    if (level != led->raw) {
        if (level)
            led->flashes++;
        led->raw = level;
        led->raw_since = at;
        changed |= settle(led, at);
    }
    changed |= classify(led, at);
    return changed;
}

bool atx_led_tick(struct atx_led *led, int64_t now)
{
    bool changed = settle(led, now);
    changed |= classify(led, now);
    return changed;
}

int64_t atx_led_deadline(const struct atx_led *led)
{
    int64_t next = INT64_MAX;
    if (led->raw != led->level)
        next = led->raw_since + led->p.debounce_ms;
    enum atx_led_state steady = led->level ? ATX_LED_ON : ATX_LED_OFF;
    if (led->p.blink_ms > 0 && led->state != steady) {
        int64_t settled = led->level_since + led->p.blink_ms;
        if (settled < next)
            next = settled;
    }
    return next;
}
