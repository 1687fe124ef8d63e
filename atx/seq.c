#include "atx/seq.h"

#include <stdio.h>
#include <string.h>

enum atx_error atx_seq_check(enum atx_action action, enum atx_power power, bool have_gpio,
                             bool have_led, bool have_wol, bool busy, bool waiting)
{
    if ((unsigned)action >= ATX_ACTION_COUNT)
        return ATX_ERR_INVALID;
    if (action == ATX_ACTION_WOL ? !have_wol : !have_gpio)
        return ATX_ERR_UNSUPPORTED;
    /* Only force-off may replace a running action, and only one that waits. */
    if (busy && !(action == ATX_ACTION_FORCE_OFF && waiting))
        return ATX_ERR_BUSY;
    if (action == ATX_ACTION_WOL || !have_led)
        return ATX_OK; /* nothing to check against: press blind */
    switch (action) {
    case ATX_ACTION_ON:
        if (power == ATX_POWER_ON)
            return ATX_ERR_ALREADY;
        break;
    case ATX_ACTION_OFF:
        if (power == ATX_POWER_OFF)
            return ATX_ERR_ALREADY;
        if (power == ATX_POWER_STANDBY)
            return ATX_ERR_STATE; /* a short press would wake it, not turn it off */
        break;
    case ATX_ACTION_FORCE_OFF:
        if (power == ATX_POWER_OFF)
            return ATX_ERR_ALREADY;
        break;
    case ATX_ACTION_RESET:
        if (power == ATX_POWER_OFF)
            return ATX_ERR_STATE;
        break;
    default:
        break;
    }
    /* With an LED wired, pressing without knowing the state could do the opposite. */
    if (power == ATX_POWER_UNKNOWN && action != ATX_ACTION_RESET)
        return ATX_ERR_STATE;
    return ATX_OK;
}

static void add(struct atx_seq *seq, enum atx_step_kind kind, enum atx_button button,
                enum atx_power want, int ms)
{
    if (seq->n_steps < ATX_SEQ_MAX_STEPS)
        seq->steps[seq->n_steps++] = (struct atx_step){kind, button, want, ms};
}

static void press(struct atx_seq *seq, enum atx_button b, int ms) { add(seq, ATX_STEP_PRESS, b, ATX_POWER_UNKNOWN, ms); }
static void wait_for(struct atx_seq *seq, bool have_led, enum atx_power want, int ms)
{
    if (have_led)
        add(seq, ATX_STEP_WAIT, ATX_BUTTON_NONE, want, ms);
}
static void pause_for(struct atx_seq *seq, int ms) { add(seq, ATX_STEP_PAUSE, ATX_BUTTON_NONE, ATX_POWER_UNKNOWN, ms); }

static void enter(struct atx_seq *seq, int64_t now);

void atx_seq_start(struct atx_seq *seq, enum atx_action action, enum atx_power power,
                   bool have_led, const struct atx_seq_timing *t, int64_t now)
{
    memset(seq, 0, sizeof(*seq));
    seq->action = action;
    seq->running = true;
    seq->started = now;
    seq->outcome = ATX_OUTCOME_RUNNING;
    bool was_off = have_led && power == ATX_POWER_OFF;
    switch (action) {
    case ATX_ACTION_ON:
        press(seq, ATX_BUTTON_POWER, t->press_ms);
        wait_for(seq, have_led, ATX_POWER_ON, t->on_timeout_ms);
        break;
    case ATX_ACTION_OFF:
        press(seq, ATX_BUTTON_POWER, t->press_ms);
        wait_for(seq, have_led, ATX_POWER_OFF, t->off_timeout_ms);
        break;
    case ATX_ACTION_FORCE_OFF:
        press(seq, ATX_BUTTON_POWER, t->long_press_ms);
        wait_for(seq, have_led, ATX_POWER_OFF, t->force_off_timeout_ms);
        break;
    case ATX_ACTION_RESET:
        press(seq, ATX_BUTTON_RESET, t->press_ms);
        pause_for(seq, t->reset_settle_ms);
        break;
    case ATX_ACTION_CYCLE:
        if (!was_off) {
            press(seq, ATX_BUTTON_POWER, t->long_press_ms);
            wait_for(seq, have_led, ATX_POWER_OFF, t->force_off_timeout_ms);
            pause_for(seq, t->cycle_off_ms);
        }
        press(seq, ATX_BUTTON_POWER, t->press_ms);
        wait_for(seq, have_led, ATX_POWER_ON, t->on_timeout_ms);
        break;
    default:
        break; /* WoL has no steps: the thread sends it */
    }
    add(seq, ATX_STEP_END, ATX_BUTTON_NONE, ATX_POWER_UNKNOWN, 0);
    enter(seq, now);
}

static void finish(struct atx_seq *seq, enum atx_outcome outcome, int64_t now)
{
    seq->running = false;
    seq->hold = ATX_BUTTON_NONE;
    seq->outcome = outcome;
    seq->deadline = INT64_MAX;
    if (seq->detail[0])
        return;
    double secs = (double)(now - seq->started) / 1000.0;
    if (outcome == ATX_OUTCOME_DONE)
        snprintf(seq->detail, sizeof(seq->detail), "the power LED shows %s after %.1f s",
                 atx_power_name(seq->steps[seq->at > 0 ? seq->at - 1 : 0].want), secs);
    else
        snprintf(seq->detail, sizeof(seq->detail), "pressed; took %.1f s", secs);
}

static void enter(struct atx_seq *seq, int64_t now)
{
    const struct atx_step *s = &seq->steps[seq->at];
    seq->step_started = now;
    seq->hold = s->kind == ATX_STEP_PRESS ? s->button : ATX_BUTTON_NONE;
    seq->deadline = s->kind == ATX_STEP_END ? now : now + s->ms;
    if (s->kind == ATX_STEP_END) {
        bool confirmed = false;
        for (int i = 0; i < seq->n_steps; i++)
            confirmed |= seq->steps[i].kind == ATX_STEP_WAIT;
        finish(seq, confirmed ? ATX_OUTCOME_DONE : ATX_OUTCOME_PRESSED, now);
    }
}

bool atx_seq_step(struct atx_seq *seq, enum atx_power power, int64_t now)
{
    while (seq->running) {
        const struct atx_step *s = &seq->steps[seq->at];
        if (s->kind == ATX_STEP_WAIT && power == s->want) {
            /* reached: go on at once */
        } else if (now < seq->deadline) {
            return true;
        } else if (s->kind == ATX_STEP_WAIT) {
            snprintf(seq->detail, sizeof(seq->detail), "the power LED is still not %s after %.1f s",
                     atx_power_name(s->want), (double)(now - seq->step_started) / 1000.0);
            finish(seq, ATX_OUTCOME_TIMEOUT, now);
            return false;
        }
        seq->at++;
        enter(seq, now);
    }
    return false;
}

void atx_seq_pressed(struct atx_seq *seq, int64_t now)
{
    const struct atx_step *s = &seq->steps[seq->at];
    if (!seq->running || s->kind != ATX_STEP_PRESS || now <= seq->step_started)
        return;
    seq->step_started = now;
    seq->deadline = now + s->ms;
}

void atx_seq_abort(struct atx_seq *seq, enum atx_outcome outcome, const char *detail, int64_t now)
{
    if (!seq->running)
        return;
    snprintf(seq->detail, sizeof(seq->detail), "%s", detail);
    finish(seq, outcome, now);
}
