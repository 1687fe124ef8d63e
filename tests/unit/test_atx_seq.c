/* Unit tests for atx/seq: which actions may start, and each action's presses
 * and waits against a simulated board on a fake clock. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "atx/seq.h"

static const struct atx_seq_timing T = {
    .press_ms = 100, .long_press_ms = 5500, .on_timeout_ms = 5000, .off_timeout_ms = 3000,
    .force_off_timeout_ms = 5000, .cycle_off_ms = 2000, .reset_settle_ms = 500,
};

/* A board like tests/vm/gpio_sim's: a short press toggles (the OS shuts down
 * after os_off_ms when it honours it), holding 4 s forces off. power is what
 * the LED reports, after led_lag_ms. */
struct board {
    bool on, acpi;
    int os_off_ms, led_lag_ms;
    enum atx_button held;
    int64_t held_since, off_at, led_changed_at;
    bool press_used, led_changed;
    int presses, long_presses, resets;
    int64_t press_ms[8];
};

static void board_set_on(struct board *b, bool on, int64_t now)
{
    if (b->on != on) {
        b->on = on;
        b->led_changed = true;
        b->led_changed_at = now;
    }
}

static void board_hold(struct board *b, enum atx_button want, int64_t now)
{
    if (want == b->held)
        return;
    if (b->held == ATX_BUTTON_POWER) {
        int64_t len = now - b->held_since;
        if (b->presses < 8)
            b->press_ms[b->presses] = len;
        b->presses++;
        if (!b->press_used && len >= 30) {
            if (!b->on)
                board_set_on(b, true, now);
            else if (b->acpi)
                b->off_at = now + b->os_off_ms;
        }
    }
    if (want == ATX_BUTTON_RESET)
        b->resets++;
    b->held = want;
    b->held_since = now;
    b->press_used = false;
}

static void board_tick(struct board *b, int64_t now)
{
    if (b->held == ATX_BUTTON_POWER && !b->press_used && now - b->held_since >= 4000) {
        b->press_used = true;
        b->long_presses++;
        board_set_on(b, false, now);
    }
    if (b->off_at && now >= b->off_at) {
        b->off_at = 0;
        board_set_on(b, false, now);
    }
}

static enum atx_power board_led(const struct board *b, int64_t now)
{
    bool shown = !b->led_changed || now - b->led_changed_at >= b->led_lag_ms ? b->on : !b->on;
    return shown ? ATX_POWER_ON : ATX_POWER_OFF;
}

/* Runs seq against the board in 10 ms steps; returns the time it ended. */
static int64_t run(struct atx_seq *seq, struct board *b, int64_t now, int64_t limit)
{
    while (seq->running && now < limit) {
        board_tick(b, now);
        atx_seq_step(seq, board_led(b, now), now);
        board_hold(b, seq->running ? seq->hold : ATX_BUTTON_NONE, now);
        if (seq->running)
            now += 10;
    }
    board_hold(b, ATX_BUTTON_NONE, now);
    return now;
}

static void test_check_rules(void **state)
{
    (void)state;
    /* configured lines */
    assert_int_equal(atx_seq_check(ATX_ACTION_ON, ATX_POWER_OFF, false, true, true, false, false), ATX_ERR_UNSUPPORTED);
    assert_int_equal(atx_seq_check(ATX_ACTION_WOL, ATX_POWER_OFF, true, true, false, false, false), ATX_ERR_UNSUPPORTED);
    assert_int_equal(atx_seq_check(ATX_ACTION_WOL, ATX_POWER_UNKNOWN, false, false, true, false, false), ATX_OK);
    assert_int_equal(atx_seq_check(ATX_ACTION_COUNT, ATX_POWER_OFF, true, true, true, false, false), ATX_ERR_INVALID);
    /* power states */
    assert_int_equal(atx_seq_check(ATX_ACTION_ON, ATX_POWER_ON, true, true, false, false, false), ATX_ERR_ALREADY);
    assert_int_equal(atx_seq_check(ATX_ACTION_ON, ATX_POWER_STANDBY, true, true, false, false, false), ATX_OK);
    assert_int_equal(atx_seq_check(ATX_ACTION_ON, ATX_POWER_UNKNOWN, true, true, false, false, false), ATX_ERR_STATE);
    assert_int_equal(atx_seq_check(ATX_ACTION_OFF, ATX_POWER_OFF, true, true, false, false, false), ATX_ERR_ALREADY);
    assert_int_equal(atx_seq_check(ATX_ACTION_OFF, ATX_POWER_STANDBY, true, true, false, false, false), ATX_ERR_STATE);
    assert_int_equal(atx_seq_check(ATX_ACTION_OFF, ATX_POWER_ON, true, true, false, false, false), ATX_OK);
    assert_int_equal(atx_seq_check(ATX_ACTION_FORCE_OFF, ATX_POWER_OFF, true, true, false, false, false), ATX_ERR_ALREADY);
    assert_int_equal(atx_seq_check(ATX_ACTION_FORCE_OFF, ATX_POWER_STANDBY, true, true, false, false, false), ATX_OK);
    assert_int_equal(atx_seq_check(ATX_ACTION_RESET, ATX_POWER_OFF, true, true, false, false, false), ATX_ERR_STATE);
    assert_int_equal(atx_seq_check(ATX_ACTION_RESET, ATX_POWER_UNKNOWN, true, true, false, false, false), ATX_OK);
    assert_int_equal(atx_seq_check(ATX_ACTION_CYCLE, ATX_POWER_OFF, true, true, false, false, false), ATX_OK);
    assert_int_equal(atx_seq_check(ATX_ACTION_CYCLE, ATX_POWER_UNKNOWN, true, true, false, false, false), ATX_ERR_STATE);
    /* no LED wired: nothing to check against */
    assert_int_equal(atx_seq_check(ATX_ACTION_OFF, ATX_POWER_UNKNOWN, true, false, false, false, false), ATX_OK);
    /* one at a time; only force-off replaces, and only a waiting action */
    for (int a = 0; a < ATX_ACTION_COUNT; a++) {
        assert_int_equal(atx_seq_check(a, ATX_POWER_ON, true, true, true, true, false), ATX_ERR_BUSY);
        if (a != ATX_ACTION_FORCE_OFF)
            assert_int_equal(atx_seq_check(a, ATX_POWER_ON, true, true, true, true, true), ATX_ERR_BUSY);
    }
    assert_int_equal(atx_seq_check(ATX_ACTION_FORCE_OFF, ATX_POWER_ON, true, true, true, true, true), ATX_OK);
    /* busy wins over "already": a refused request says why first */
    assert_int_equal(atx_seq_check(ATX_ACTION_ON, ATX_POWER_ON, true, true, true, true, false), ATX_ERR_BUSY);
}

static void test_on_presses_short_and_waits_for_led(void **state)
{
    (void)state;
    struct board b = {.on = false, .acpi = true, .os_off_ms = 1000, .led_lag_ms = 800};
    struct atx_seq seq;
    atx_seq_start(&seq, ATX_ACTION_ON, ATX_POWER_OFF, true, &T, 0);
    assert_true(seq.running);
    assert_int_equal(seq.hold, ATX_BUTTON_POWER);
    assert_int_equal(seq.deadline, 100);
    int64_t end = run(&seq, &b, 0, 60000);
    assert_int_equal(seq.outcome, ATX_OUTCOME_DONE);
    assert_int_equal(b.presses, 1);
    assert_int_equal(b.press_ms[0], 100);
    assert_true(b.on);
    assert_int_equal(end, 900); /* released at 100, LED shows it 800 ms later */
    assert_non_null(strstr(seq.detail, "on after 0.9 s"));
}

static void test_graceful_off_done_and_timeout(void **state)
{
    (void)state;
    struct board b = {.on = true, .acpi = true, .os_off_ms = 1000, .led_lag_ms = 800};
    struct atx_seq seq;
    atx_seq_start(&seq, ATX_ACTION_OFF, ATX_POWER_ON, true, &T, 0);
    int64_t end = run(&seq, &b, 0, 60000);
    assert_int_equal(seq.outcome, ATX_OUTCOME_DONE);
    assert_int_equal(end, 1900);
    assert_false(b.on);

    /* a hung OS ignores it: timeout after off_timeout_ms of waiting, still on */
    struct board hung = {.on = true, .acpi = false, .led_lag_ms = 800};
    atx_seq_start(&seq, ATX_ACTION_OFF, ATX_POWER_ON, true, &T, 0);
    end = run(&seq, &hung, 0, 60000);
    assert_int_equal(seq.outcome, ATX_OUTCOME_TIMEOUT);
    assert_int_equal(end, 100 + 3000);
    assert_true(hung.on);
    assert_int_equal(hung.presses, 1);
    assert_non_null(strstr(seq.detail, "still not off after 3.0 s"));
}

static void test_force_off_holds_past_four_seconds(void **state)
{
    (void)state;
    struct board b = {.on = true, .acpi = false, .led_lag_ms = 800};
    struct atx_seq seq;
    atx_seq_start(&seq, ATX_ACTION_FORCE_OFF, ATX_POWER_ON, true, &T, 0);
    int64_t end = run(&seq, &b, 0, 60000);
    assert_int_equal(seq.outcome, ATX_OUTCOME_DONE);
    assert_int_equal(b.long_presses, 1);
    assert_int_equal(b.press_ms[0], 5500);
    /* the LED reported off (4000 + 800) while still held: done at release */
    assert_int_equal(end, 5500);
    assert_false(b.on);
}

static void test_cycle_from_on_and_from_off(void **state)
{
    (void)state;
    struct board b = {.on = true, .acpi = true, .os_off_ms = 1000, .led_lag_ms = 800};
    struct atx_seq seq;
    atx_seq_start(&seq, ATX_ACTION_CYCLE, ATX_POWER_ON, true, &T, 0);
    int64_t end = run(&seq, &b, 0, 60000);
    assert_int_equal(seq.outcome, ATX_OUTCOME_DONE);
    assert_int_equal(b.presses, 2);
    assert_int_equal(b.press_ms[0], 5500);
    assert_int_equal(b.press_ms[1], 100);
    assert_true(b.on);
    /* long press, off seen at release (5500), 2 s off, short press, LED lag */
    assert_int_equal(end, 5500 + 2000 + 100 + 800);

    struct board off = {.on = false, .acpi = true, .os_off_ms = 1000, .led_lag_ms = 800};
    atx_seq_start(&seq, ATX_ACTION_CYCLE, ATX_POWER_OFF, true, &T, 0);
    end = run(&seq, &off, 0, 60000);
    assert_int_equal(seq.outcome, ATX_OUTCOME_DONE);
    assert_int_equal(off.presses, 1);
    assert_int_equal(off.press_ms[0], 100);
    assert_int_equal(end, 900);
}

static void test_reset_and_blind_presses(void **state)
{
    (void)state;
    struct board b = {.on = true, .led_lag_ms = 800};
    struct atx_seq seq;
    atx_seq_start(&seq, ATX_ACTION_RESET, ATX_POWER_ON, true, &T, 0);
    assert_int_equal(seq.hold, ATX_BUTTON_RESET);
    int64_t end = run(&seq, &b, 0, 60000);
    assert_int_equal(seq.outcome, ATX_OUTCOME_PRESSED);
    assert_int_equal(b.resets, 1);
    assert_int_equal(end, 100 + 500);

    /* no power LED: a press, nothing to wait for */
    struct board blind = {.on = false, .acpi = true, .os_off_ms = 1000, .led_lag_ms = 800};
    atx_seq_start(&seq, ATX_ACTION_ON, ATX_POWER_UNKNOWN, false, &T, 0);
    end = run(&seq, &blind, 0, 60000);
    assert_int_equal(seq.outcome, ATX_OUTCOME_PRESSED);
    assert_int_equal(end, 100);
    assert_true(blind.on);
}

static void test_abort_releases(void **state)
{
    (void)state;
    struct atx_seq seq;
    atx_seq_start(&seq, ATX_ACTION_FORCE_OFF, ATX_POWER_ON, true, &T, 0);
    assert_true(atx_seq_step(&seq, ATX_POWER_ON, 2000));
    assert_int_equal(seq.hold, ATX_BUTTON_POWER);
    atx_seq_abort(&seq, ATX_OUTCOME_ABORTED, "stopped", 2000);
    assert_false(seq.running);
    assert_int_equal(seq.hold, ATX_BUTTON_NONE);
    assert_int_equal(seq.outcome, ATX_OUTCOME_ABORTED);
    assert_string_equal(seq.detail, "stopped");
    assert_false(atx_seq_step(&seq, ATX_POWER_ON, 3000));
    /* aborting twice keeps the first reason */
    atx_seq_abort(&seq, ATX_OUTCOME_FAILED, "again", 3000);
    assert_int_equal(seq.outcome, ATX_OUTCOME_ABORTED);
}

static void test_deadlines_only_move_forward(void **state)
{
    (void)state;
    struct atx_seq seq;
    atx_seq_start(&seq, ATX_ACTION_ON, ATX_POWER_OFF, true, &T, 1000);
    assert_int_equal(seq.deadline, 1100);
    /* an early step (a power change before the deadline) changes nothing */
    assert_true(atx_seq_step(&seq, ATX_POWER_OFF, 1050));
    assert_int_equal(seq.hold, ATX_BUTTON_POWER);
    /* a late step (a slow thread) still releases, then waits from then */
    assert_true(atx_seq_step(&seq, ATX_POWER_OFF, 1300));
    assert_int_equal(seq.hold, ATX_BUTTON_NONE);
    assert_int_equal(seq.deadline, 1300 + 5000);
    assert_false(atx_seq_step(&seq, ATX_POWER_ON, 2000));
    assert_int_equal(seq.outcome, ATX_OUTCOME_DONE);

    /* the press counts from when the line was really pressed */
    atx_seq_start(&seq, ATX_ACTION_RESET, ATX_POWER_ON, true, &T, 1000);
    atx_seq_pressed(&seq, 1030);
    assert_int_equal(seq.deadline, 1130);
    assert_true(atx_seq_step(&seq, ATX_POWER_ON, 1100));
    assert_int_equal(seq.hold, ATX_BUTTON_RESET);
    assert_true(atx_seq_step(&seq, ATX_POWER_ON, 1130));
    assert_int_equal(seq.hold, ATX_BUTTON_NONE);
    atx_seq_pressed(&seq, 1200); /* not in a press: nothing moves */
    assert_int_equal(seq.deadline, 1130 + 500);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_check_rules),
        cmocka_unit_test(test_on_presses_short_and_waits_for_led),
        cmocka_unit_test(test_graceful_off_done_and_timeout),
        cmocka_unit_test(test_force_off_holds_past_four_seconds),
        cmocka_unit_test(test_cycle_from_on_and_from_off),
        cmocka_unit_test(test_reset_and_blind_presses),
        cmocka_unit_test(test_abort_releases),
        cmocka_unit_test(test_deadlines_only_move_forward),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
