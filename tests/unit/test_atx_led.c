/* Unit tests for atx/led: debouncing and on / off / blinking classification
 * on a fake clock. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "atx/led.h"

static const struct atx_led_params POWER = {.debounce_ms = 50, .blink_ms = 1500};
static const struct atx_led_params HDD = {.debounce_ms = 20, .blink_ms = 0};

/* Ticks whenever the LED asks to, up to and including until. */
static void run_until(struct atx_led *led, int64_t until)
{
    for (;;) {
        int64_t d = atx_led_deadline(led);
        if (d > until)
            break;
        atx_led_tick(led, d);
    }
    atx_led_tick(led, until);
}

/* A square wave of half-period half_ms from start for n edges, first edge to level first. */
static int64_t blink(struct atx_led *led, int64_t start, int half_ms, int n, bool first)
{
    bool level = first;
    int64_t t = start;
    for (int i = 0; i < n; i++, t += half_ms, level = !level) {
        run_until(led, t);
        atx_led_input(led, level, t);
    }
    return t - half_ms;
}

static void test_unknown_until_steady(void **state)
{
    (void)state;
    struct atx_led led;
    atx_led_init(&led, &POWER, true, 1000);
    assert_int_equal(led.state, ATX_LED_UNKNOWN);
    assert_int_equal(atx_led_deadline(&led), 2500);
    run_until(&led, 2499);
    assert_int_equal(led.state, ATX_LED_UNKNOWN);
    run_until(&led, 2500);
    assert_int_equal(led.state, ATX_LED_ON);
    assert_int_equal(atx_led_deadline(&led), INT64_MAX);

    atx_led_init(&led, &POWER, false, 0);
    run_until(&led, 1500);
    assert_int_equal(led.state, ATX_LED_OFF);
}

static void test_glitch_is_filtered(void **state)
{
    (void)state;
    struct atx_led led;
    atx_led_init(&led, &POWER, true, 0);
    run_until(&led, 2000);
    assert_int_equal(led.state, ATX_LED_ON);
    /* 30 ms dark is shorter than the 50 ms debounce: never seen */
    assert_false(atx_led_input(&led, false, 3000));
    assert_false(atx_led_input(&led, true, 3030));
    run_until(&led, 10000);
    assert_true(led.level);
    assert_int_equal(led.state, ATX_LED_ON);
    assert_int_equal(led.n_edges, 0);
    assert_int_equal(led.flashes, 1);
}

static void test_power_off_reported_after_blink_window(void **state)
{
    (void)state;
    struct atx_led led;
    atx_led_init(&led, &POWER, true, 0);
    run_until(&led, 2000);
    atx_led_input(&led, false, 5000);
    run_until(&led, 5049);
    assert_true(led.level);           /* not debounced yet */
    run_until(&led, 5050);
    assert_false(led.level);
    assert_int_equal(led.level_since, 5000); /* dated at the edge */
    assert_int_equal(led.state, ATX_LED_ON); /* could be the start of a blink */
    run_until(&led, 6499);
    assert_int_equal(led.state, ATX_LED_ON);
    run_until(&led, 6500);
    assert_int_equal(led.state, ATX_LED_OFF);
}

static void test_standby_blink_never_shows_off(void **state)
{
    (void)state;
    struct atx_led led;
    atx_led_init(&led, &POWER, true, 0);
    run_until(&led, 2000);
    /* 1 Hz blink starting with the LED going dark */
    int64_t t = 3000;
    for (int i = 0; i < 20; i++, t += 500) {
        run_until(&led, t);
        atx_led_input(&led, i % 2 == 1, t);
        assert_int_not_equal(led.state, ATX_LED_OFF);
        if (i >= 2) {
            run_until(&led, t + 60); /* after the debounce */
            assert_int_equal(led.state, ATX_LED_BLINKING);
        }
    }
    /* wakes up: lit and steady */
    atx_led_input(&led, true, t);
    run_until(&led, t + 1499);
    assert_true(led.state == ATX_LED_BLINKING || led.state == ATX_LED_ON);
    run_until(&led, t + 1500);
    assert_int_equal(led.state, ATX_LED_ON);
}

static void test_blink_from_unknown_and_slow_toggles(void **state)
{
    (void)state;
    struct atx_led led;
    atx_led_init(&led, &POWER, false, 0);
    int64_t last = blink(&led, 100, 300, 4, true);
    run_until(&led, last + 50);
    assert_int_equal(led.state, ATX_LED_BLINKING);
    /* blinking stops dark: off */
    run_until(&led, last + 1550);
    assert_int_equal(led.state, ATX_LED_OFF);

    /* toggles 2 s apart are power changes, not a blink */
    atx_led_init(&led, &POWER, false, 0);
    run_until(&led, 1500);
    last = blink(&led, 2000, 2000, 4, true);
    run_until(&led, last + 100);
    assert_int_not_equal(led.state, ATX_LED_BLINKING);
    run_until(&led, last + 1500);
    assert_int_equal(led.state, ATX_LED_OFF);
}

static void test_edge_inside_debounce_of_previous_is_a_glitch(void **state)
{
    (void)state;
    struct atx_led led;
    atx_led_init(&led, &POWER, false, 0);
    run_until(&led, 1500);
    /* on at 2000, a 10 ms dropout at 2100, stays on */
    atx_led_input(&led, true, 2000);
    atx_led_input(&led, false, 2100); /* the on held 100 ms: accepted at this edge */
    assert_true(led.level);
    atx_led_input(&led, true, 2110);
    run_until(&led, 4000);
    assert_true(led.level);
    assert_int_equal(led.state, ATX_LED_ON);
    assert_int_equal(led.n_edges, 1);
    /* repeated levels and time running backwards change nothing */
    assert_false(atx_led_input(&led, true, 4000));
    assert_false(atx_led_input(&led, true, 100));
    assert_int_equal(led.state, ATX_LED_ON);
}

static void test_hdd_follows_level(void **state)
{
    (void)state;
    struct atx_led led;
    atx_led_init(&led, &HDD, false, 0);
    assert_int_equal(led.state, ATX_LED_OFF);
    atx_led_input(&led, true, 100);
    assert_int_equal(atx_led_deadline(&led), 120);
    run_until(&led, 120);
    assert_int_equal(led.state, ATX_LED_ON);
    atx_led_input(&led, false, 300);
    run_until(&led, 320);
    assert_int_equal(led.state, ATX_LED_OFF);
    /* fast activity: every flash counted even when debouncing hides it */
    for (int i = 0; i < 10; i++) {
        atx_led_input(&led, true, 1000 + 10 * i);
        atx_led_input(&led, false, 1005 + 10 * i);
    }
    run_until(&led, 2000);
    assert_int_equal(led.flashes, 11);
    assert_int_equal(led.state, ATX_LED_OFF);
}

static void test_zero_debounce(void **state)
{
    (void)state;
    const struct atx_led_params p = {.debounce_ms = 0, .blink_ms = 500};
    struct atx_led led;
    atx_led_init(&led, &p, false, 0);
    assert_true(atx_led_input(&led, true, 10));
    assert_true(led.level);
    run_until(&led, 510);
    assert_int_equal(led.state, ATX_LED_ON);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_unknown_until_steady),
        cmocka_unit_test(test_glitch_is_filtered),
        cmocka_unit_test(test_power_off_reported_after_blink_window),
        cmocka_unit_test(test_standby_blink_never_shows_off),
        cmocka_unit_test(test_blink_from_unknown_and_slow_toggles),
        cmocka_unit_test(test_edge_inside_debounce_of_previous_is_a_glitch),
        cmocka_unit_test(test_hdd_follows_level),
        cmocka_unit_test(test_zero_debounce),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
