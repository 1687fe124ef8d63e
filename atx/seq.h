/* atx/seq: the steps of each power action (press, wait for the power LED,
 * pause) as a state machine on caller-supplied milliseconds, and the rules
 * for whether an action may start. Pure logic: the ATX thread does the I/O,
 * tests drive it with a fake clock and a fake power state. */
#ifndef PIGLIX_ATX_SEQ_H
#define PIGLIX_ATX_SEQ_H

#include <stdbool.h>
#include <stdint.h>

#include "atx/atx.h"

enum atx_button { ATX_BUTTON_NONE, ATX_BUTTON_POWER, ATX_BUTTON_RESET };

struct atx_seq_timing {
    int press_ms, long_press_ms;
    int on_timeout_ms, off_timeout_ms, force_off_timeout_ms;
    int cycle_off_ms;
    int reset_settle_ms;   /* busy a little after a reset so a double click is refused */
};

enum atx_step_kind { ATX_STEP_PRESS, ATX_STEP_WAIT, ATX_STEP_PAUSE, ATX_STEP_END };

struct atx_step {
    enum atx_step_kind kind;
    enum atx_button button;    /* PRESS */
    enum atx_power want;       /* WAIT: ON or OFF */
    int ms;                    /* PRESS: how long; WAIT: timeout; PAUSE: length */
};

#define ATX_SEQ_MAX_STEPS 8

struct atx_seq {
    enum atx_action action;
    struct atx_step steps[ATX_SEQ_MAX_STEPS];
    int n_steps, at;           /* steps and the one running */
    int64_t step_started, deadline;
    enum atx_button hold;      /* the button that must be held now */
    bool running;
    enum atx_outcome outcome;  /* once !running */
    char detail[ATX_DETAIL_MAX];
    int64_t started;
};

/* Whether action may start now. busy/waiting: an action runs, and it only
 * waits (no button held). have_led: a power LED is wired, so power is
 * meaningful. have_gpio/have_wol: what is configured. */
enum atx_error atx_seq_check(enum atx_action action, enum atx_power power, bool have_gpio,
                             bool have_led, bool have_wol, bool busy, bool waiting);

/* Plans action from the power state seen now (which must have passed
 * atx_seq_check) and runs its first step. */
void atx_seq_start(struct atx_seq *seq, enum atx_action action, enum atx_power power,
                   bool have_led, const struct atx_seq_timing *t, int64_t now);

/* Advances with the power state seen at now: returns true while still
 * running. seq->hold says which button to hold; seq->deadline when to call
 * again at the latest (also call on every power change). */
bool atx_seq_step(struct atx_seq *seq, enum atx_power power, int64_t now);

/* The button asked for is now actually pressed (requesting and driving a
 * line takes time): the press lasts its full length from now. */
void atx_seq_pressed(struct atx_seq *seq, int64_t now);

/* Ends the sequence early (a GPIO error, a stop, superseded): hold becomes NONE. */
void atx_seq_abort(struct atx_seq *seq, enum atx_outcome outcome, const char *detail, int64_t now);

#endif
