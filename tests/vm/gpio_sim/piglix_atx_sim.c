// SPDX-License-Identifier: GPL-2.0
/*
 * piglix_atx_sim: a motherboard's front panel on a gpio_chip, for piglix's
 * ATX tests on a real kernel (Debian's kernel has no gpio-sim/gpio-mockup).
 *
 * Lines (offsets):  0 POWER_LED  in  lit while on, blinks in standby
 *                   1 HDD_LED    in  blinks after a reset
 *                   2 POWER_SW   out the power button
 *                   3 RESET_SW   out the reset button
 *                   4 INTRUSION  in  chassis open (parameter "intrusion")
 * Electrically active-high (lit/pressed = 1), or active-low with active_low=1.
 *
 * The board: a power-button press of at least min_press_ms turns an off
 * board on (at release), wakes it from standby, or asks a running OS to shut
 * down (off after shutdown_ms, unless acpi=0: a hung OS). Holding it for
 * force_off_ms turns the board off while still held. The reset button blinks
 * the HDD LED. A button line only counts as pressed while it is an output at
 * the pressed level; as an input it floats to released.
 *
 * When a requester frees a line (close, exit, SIGKILL) this chip keeps the
 * line's direction and value, as gpiolib does for any chip without a .free
 * hook; free_to_input=1 instead returns a freed line to input (what upstream
 * bcm2835 pinctrl does).
 *
 * LED edges reach line-event requesters through the gpiolib irqchip with
 * nested threaded interrupts raised from process context.
 * Everything else is read and set through module parameters:
 * /sys/module/piglix_atx_sim/parameters/{power,intrusion,board,...}.
 */
#include <linux/gpio/driver.h>
#include <linux/interrupt.h>
#include <linux/irq.h>
#include <linux/irqdomain.h>
#include <linux/ktime.h>
#include <linux/module.h>
#include <linux/moduleparam.h>
#include <linux/mutex.h>
#include <linux/platform_device.h>
#include <linux/workqueue.h>

enum { L_POWER_LED, L_HDD_LED, L_POWER_SW, L_RESET_SW, L_INTRUSION, N_LINES = 8 };
enum board_power { BOARD_OFF, BOARD_ON, BOARD_STANDBY };

static const char *const line_names[N_LINES] = {
	"POWER_LED", "HDD_LED", "POWER_SW", "RESET_SW", "INTRUSION", "SPARE5", "SPARE6", "SPARE7",
};
static const char *const power_names[] = { "off", "on", "standby" };

static bool active_low;
module_param(active_low, bool, 0444);
MODULE_PARM_DESC(active_low, "lines are active-low (lit/pressed = 0)");
static bool free_to_input;
module_param(free_to_input, bool, 0444);
MODULE_PARM_DESC(free_to_input, "a freed line returns to input (released) instead of keeping its value");
static unsigned int force_off_ms = 4000;
module_param(force_off_ms, uint, 0644);
static unsigned int min_press_ms = 30;
module_param(min_press_ms, uint, 0644);
static unsigned int shutdown_ms = 1000;
module_param(shutdown_ms, uint, 0644);
MODULE_PARM_DESC(shutdown_ms, "the OS powers off this long after a short press");
static bool acpi = true;
module_param(acpi, bool, 0644);
MODULE_PARM_DESC(acpi, "the OS honours a short press (0: a hung OS ignores it)");
static unsigned int standby_blink_ms = 250;
module_param(standby_blink_ms, uint, 0644);
static unsigned int reset_blinks = 3;
module_param(reset_blinks, uint, 0644);
static unsigned int reset_blink_ms = 150;
module_param(reset_blink_ms, uint, 0644);

static DEFINE_MUTEX(sim_lock);

/* All under sim_lock, except the bitmaps' atomic reads in sim_get(). */
static struct {
	bool ready;
	struct platform_device *pdev;
	struct gpio_chip gc;
	enum board_power power;
	bool intrusion;
	bool blink_lit, hdd_lit;
	unsigned int hdd_toggles_left;
	unsigned long dir_out, out_val, level;
	unsigned long irq_enabled, irq_rising, irq_falling;
	bool power_held, reset_held, power_press_used;
	ktime_t power_since, reset_since;
	unsigned int power_presses, reset_presses, power_ons, wakes, acpi_offs, force_offs, resets;
	unsigned int ignored_presses;
	unsigned int last_power_press_ms, last_reset_press_ms, force_off_after_ms;
} sim;

static void force_work_fn(struct work_struct *w);
static void acpi_work_fn(struct work_struct *w);
static void standby_work_fn(struct work_struct *w);
static void hdd_work_fn(struct work_struct *w);
static DECLARE_DELAYED_WORK(force_work, force_work_fn);
static DECLARE_DELAYED_WORK(acpi_work, acpi_work_fn);
static DECLARE_DELAYED_WORK(standby_work, standby_work_fn);
static DECLARE_DELAYED_WORK(hdd_work, hdd_work_fn);

static bool button_pressed(unsigned int line)
{
	return test_bit(line, &sim.dir_out) && (test_bit(line, &sim.out_val) != active_low);
}

static unsigned int ms_since(ktime_t t)
{
	return (unsigned int)ktime_ms_delta(ktime_get(), t);
}

/* The physical level of every line from the board's state; returns the lines
 * that changed. Under sim_lock. */
static unsigned long update_levels(void)
{
	bool lit[N_LINES] = { 0 };
	unsigned long next = 0, changed;
	unsigned int i;

	lit[L_POWER_LED] = sim.power == BOARD_ON || (sim.power == BOARD_STANDBY && sim.blink_lit);
	lit[L_HDD_LED] = sim.power != BOARD_OFF && sim.hdd_lit;
	lit[L_POWER_SW] = button_pressed(L_POWER_SW);
	lit[L_RESET_SW] = button_pressed(L_RESET_SW);
	lit[L_INTRUSION] = sim.intrusion;
	for (i = 0; i < N_LINES; i++)
		if (lit[i] != active_low)
			__set_bit(i, &next);
	changed = next ^ sim.level;
	for (i = 0; i < N_LINES; i++)
		assign_bit(i, &sim.level, test_bit(i, &next));
	return changed;
}

/* Raises the line events for changed lines. Process context, sim_lock NOT
 * held: the event thread reads the value back through sim_get(). */
static void fire(unsigned long changed)
{
	unsigned int i, irq;

	if (!sim.ready)
		return;
	for_each_set_bit(i, &changed, N_LINES) {
		bool high = test_bit(i, &sim.level);

		if (!test_bit(i, &sim.irq_enabled))
			continue;
		if (!(high ? test_bit(i, &sim.irq_rising) : test_bit(i, &sim.irq_falling)))
			continue;
		irq = irq_find_mapping(sim.gc.irq.domain, i);
		if (irq)
			handle_nested_irq(irq);
	}
}

static void set_power(enum board_power p)
{
	sim.power = p;
	if (p == BOARD_STANDBY) {
		sim.blink_lit = true;
		mod_delayed_work(system_wq, &standby_work, msecs_to_jiffies(standby_blink_ms));
	}
}

static void short_press(void)
{
	switch (sim.power) {
	case BOARD_OFF:
		sim.power_ons++;
		set_power(BOARD_ON);
		break;
	case BOARD_STANDBY:
		sim.wakes++;
		set_power(BOARD_ON);
		break;
	case BOARD_ON:
		if (acpi)
			mod_delayed_work(system_wq, &acpi_work, msecs_to_jiffies(shutdown_ms));
		else
			sim.ignored_presses++;
		break;
	}
}

/* Button edges after a line's direction or value changed. Under sim_lock. */
static void update_buttons(void)
{
	bool power = button_pressed(L_POWER_SW), reset = button_pressed(L_RESET_SW);

	if (power && !sim.power_held) {
		sim.power_held = true;
		sim.power_press_used = false;
		sim.power_since = ktime_get();
		sim.power_presses++;
		mod_delayed_work(system_wq, &force_work, msecs_to_jiffies(force_off_ms));
	} else if (!power && sim.power_held) {
		sim.power_held = false;
		sim.last_power_press_ms = ms_since(sim.power_since);
		cancel_delayed_work(&force_work);
		if (!sim.power_press_used && sim.last_power_press_ms >= min_press_ms)
			short_press();
	}
	if (reset && !sim.reset_held) {
		sim.reset_held = true;
		sim.reset_since = ktime_get();
		sim.reset_presses++;
		if (sim.power != BOARD_OFF) {
			sim.resets++;
			sim.hdd_lit = true;
			sim.hdd_toggles_left = 2 * reset_blinks - 1;
			mod_delayed_work(system_wq, &hdd_work, msecs_to_jiffies(reset_blink_ms));
		}
	} else if (!reset && sim.reset_held) {
		sim.reset_held = false;
		sim.last_reset_press_ms = ms_since(sim.reset_since);
	}
}

static void force_work_fn(struct work_struct *w)
{
	unsigned long changed = 0;

	mutex_lock(&sim_lock);
	/* cancel_delayed_work() at release can lose the race: check again */
	if (sim.power_held && !sim.power_press_used && ms_since(sim.power_since) + 5 >= force_off_ms) {
		sim.power_press_used = true;
		if (sim.power != BOARD_OFF) {
			sim.force_offs++;
			sim.force_off_after_ms = ms_since(sim.power_since);
			set_power(BOARD_OFF);
			changed = update_levels();
		}
	}
	mutex_unlock(&sim_lock);
	fire(changed);
}

static void acpi_work_fn(struct work_struct *w)
{
	unsigned long changed = 0;

	mutex_lock(&sim_lock);
	if (sim.power == BOARD_ON) {
		sim.acpi_offs++;
		set_power(BOARD_OFF);
		changed = update_levels();
	}
	mutex_unlock(&sim_lock);
	fire(changed);
}

static void standby_work_fn(struct work_struct *w)
{
	unsigned long changed;

	mutex_lock(&sim_lock);
	if (sim.power == BOARD_STANDBY) {
		sim.blink_lit = !sim.blink_lit;
		mod_delayed_work(system_wq, &standby_work, msecs_to_jiffies(standby_blink_ms));
	}
	changed = update_levels();
	mutex_unlock(&sim_lock);
	fire(changed);
}

static void hdd_work_fn(struct work_struct *w)
{
	unsigned long changed;

	mutex_lock(&sim_lock);
	if (sim.hdd_toggles_left > 0) {
		sim.hdd_toggles_left--;
		sim.hdd_lit = !sim.hdd_lit;
		if (sim.hdd_toggles_left > 0)
			mod_delayed_work(system_wq, &hdd_work, msecs_to_jiffies(reset_blink_ms));
	} else {
		sim.hdd_lit = false;
	}
	changed = update_levels();
	mutex_unlock(&sim_lock);
	fire(changed);
}

/* ---- gpio_chip ---------------------------------------------------------- */

static int sim_get(struct gpio_chip *gc, unsigned int offset)
{
	return test_bit(offset, &sim.level);
}

static void drive(unsigned int offset, int out, int value)
{
	unsigned long changed;

	mutex_lock(&sim_lock);
	if (out >= 0)
		assign_bit(offset, &sim.dir_out, out);
	if (value >= 0)
		assign_bit(offset, &sim.out_val, value);
	update_buttons();
	changed = update_levels();
	mutex_unlock(&sim_lock);
	fire(changed);
}

static void sim_set(struct gpio_chip *gc, unsigned int offset, int value)
{
	drive(offset, -1, !!value);
}

static int sim_direction_input(struct gpio_chip *gc, unsigned int offset)
{
	drive(offset, 0, -1);
	return 0;
}

static int sim_direction_output(struct gpio_chip *gc, unsigned int offset, int value)
{
	drive(offset, 1, !!value);
	return 0;
}

static int sim_get_direction(struct gpio_chip *gc, unsigned int offset)
{
	return test_bit(offset, &sim.dir_out) ? GPIO_LINE_DIRECTION_OUT : GPIO_LINE_DIRECTION_IN;
}

static void sim_free(struct gpio_chip *gc, unsigned int offset)
{
	drive(offset, 0, -1);
}

/* ---- interrupts --------------------------------------------------------- */

static void sim_irq_mask(struct irq_data *d)
{
	struct gpio_chip *gc = irq_data_get_irq_chip_data(d);
	irq_hw_number_t hw = irqd_to_hwirq(d);

	clear_bit(hw, &sim.irq_enabled);
	gpiochip_disable_irq(gc, hw);
}

static void sim_irq_unmask(struct irq_data *d)
{
	struct gpio_chip *gc = irq_data_get_irq_chip_data(d);
	irq_hw_number_t hw = irqd_to_hwirq(d);

	gpiochip_enable_irq(gc, hw);
	set_bit(hw, &sim.irq_enabled);
}

static int sim_irq_set_type(struct irq_data *d, unsigned int type)
{
	irq_hw_number_t hw = irqd_to_hwirq(d);

	if (type & IRQ_TYPE_LEVEL_MASK)
		return -EINVAL;
	assign_bit(hw, &sim.irq_rising, type & IRQ_TYPE_EDGE_RISING);
	assign_bit(hw, &sim.irq_falling, type & IRQ_TYPE_EDGE_FALLING);
	return 0;
}

static const struct irq_chip sim_irq_chip = {
	.name = "piglix-atx-sim",
	.irq_mask = sim_irq_mask,
	.irq_unmask = sim_irq_unmask,
	.irq_set_type = sim_irq_set_type,
	.flags = IRQCHIP_IMMUTABLE | IRQCHIP_SKIP_SET_WAKE,
	GPIOCHIP_IRQ_RESOURCE_HELPERS,
};

/* ---- parameters: the test's view of and hand on the board ----------------- */

static int power_set(const char *val, const struct kernel_param *kp)
{
	unsigned long changed = 0;
	int p = sysfs_match_string(power_names, val);

	if (p < 0)
		return -EINVAL;
	mutex_lock(&sim_lock);
	set_power(p);
	if (sim.ready)
		changed = update_levels();
	mutex_unlock(&sim_lock);
	fire(changed);
	return 0;
}

static int power_get(char *buf, const struct kernel_param *kp)
{
	return sysfs_emit(buf, "%s\n", power_names[READ_ONCE(sim.power)]);
}

static int intrusion_set(const char *val, const struct kernel_param *kp)
{
	unsigned long changed = 0;
	bool open;

	if (kstrtobool(val, &open))
		return -EINVAL;
	mutex_lock(&sim_lock);
	sim.intrusion = open;
	if (sim.ready)
		changed = update_levels();
	mutex_unlock(&sim_lock);
	fire(changed);
	return 0;
}

static int intrusion_get(char *buf, const struct kernel_param *kp)
{
	return sysfs_emit(buf, "%d\n", READ_ONCE(sim.intrusion));
}

static const char *line_state(unsigned int line)
{
	if (!test_bit(line, &sim.dir_out))
		return "in";
	return test_bit(line, &sim.out_val) ? "out-1" : "out-0";
}

/* One line of key=value pairs that the tests parse. */
static int board_get(char *buf, const struct kernel_param *kp)
{
	int n;

	mutex_lock(&sim_lock);
	n = sysfs_emit(buf,
		"power=%s power_led=%d hdd_led=%d power_sw=%s reset_sw=%s power_sw_line=%s "
		"reset_sw_line=%s power_sw_requested=%d reset_sw_requested=%d power_presses=%u "
		"reset_presses=%u power_ons=%u wakes=%u acpi_offs=%u force_offs=%u resets=%u "
		"ignored_presses=%u last_power_press_ms=%u last_reset_press_ms=%u "
		"force_off_after_ms=%u held_ms=%u\n",
		power_names[sim.power], test_bit(L_POWER_LED, &sim.level) != active_low,
		test_bit(L_HDD_LED, &sim.level) != active_low,
		button_pressed(L_POWER_SW) ? "pressed" : "released",
		button_pressed(L_RESET_SW) ? "pressed" : "released",
		line_state(L_POWER_SW), line_state(L_RESET_SW),
		sim.ready && gpiochip_is_requested(&sim.gc, L_POWER_SW) != NULL,
		sim.ready && gpiochip_is_requested(&sim.gc, L_RESET_SW) != NULL,
		sim.power_presses, sim.reset_presses, sim.power_ons, sim.wakes, sim.acpi_offs,
		sim.force_offs, sim.resets, sim.ignored_presses, sim.last_power_press_ms,
		sim.last_reset_press_ms, sim.force_off_after_ms,
		sim.power_held ? ms_since(sim.power_since) : 0);
	mutex_unlock(&sim_lock);
	return n;
}

static const struct kernel_param_ops power_ops = { .set = power_set, .get = power_get };
static const struct kernel_param_ops intrusion_ops = { .set = intrusion_set, .get = intrusion_get };
static const struct kernel_param_ops board_ops = { .get = board_get };
module_param_cb(power, &power_ops, NULL, 0644);
MODULE_PARM_DESC(power, "the board's power: off, on or standby");
module_param_cb(intrusion, &intrusion_ops, NULL, 0644);
MODULE_PARM_DESC(intrusion, "the chassis is open (1) or closed (0)");
module_param_cb(board, &board_ops, NULL, 0444);
MODULE_PARM_DESC(board, "the board's state and counters (read only)");

/* ---- module --------------------------------------------------------------- */

static int __init sim_init(void)
{
	struct gpio_irq_chip *girq;
	int ret;

	sim.pdev = platform_device_register_simple("piglix-atx-sim", PLATFORM_DEVID_NONE, NULL, 0);
	if (IS_ERR(sim.pdev))
		return PTR_ERR(sim.pdev);

	sim.gc.label = "piglix-atx-sim";
	sim.gc.parent = &sim.pdev->dev;
	sim.gc.owner = THIS_MODULE;
	sim.gc.base = -1;
	sim.gc.ngpio = N_LINES;
	sim.gc.names = line_names;
	sim.gc.can_sleep = true;
	sim.gc.get = sim_get;
	sim.gc.set = sim_set;
	sim.gc.direction_input = sim_direction_input;
	sim.gc.direction_output = sim_direction_output;
	sim.gc.get_direction = sim_get_direction;
	if (free_to_input)
		sim.gc.free = sim_free;

	girq = &sim.gc.irq;
	gpio_irq_chip_set_chip(girq, &sim_irq_chip);
	girq->handler = handle_simple_irq;
	girq->default_type = IRQ_TYPE_NONE;
	girq->threaded = true;

	mutex_lock(&sim_lock);
	update_levels();
	mutex_unlock(&sim_lock);
	ret = gpiochip_add_data(&sim.gc, NULL);
	if (ret) {
		platform_device_unregister(sim.pdev);
		return ret;
	}
	mutex_lock(&sim_lock);
	sim.ready = true;
	if (sim.power == BOARD_STANDBY)
		set_power(BOARD_STANDBY);
	mutex_unlock(&sim_lock);
	pr_info("piglix_atx_sim: %d lines, power %s, %s\n", N_LINES, power_names[sim.power],
		active_low ? "active-low" : "active-high");
	return 0;
}

static void __exit sim_exit(void)
{
	mutex_lock(&sim_lock);
	sim.ready = false;
	sim.power = BOARD_OFF; /* stops the standby blink rescheduling itself */
	sim.hdd_toggles_left = 0;
	mutex_unlock(&sim_lock);
	cancel_delayed_work_sync(&force_work);
	cancel_delayed_work_sync(&acpi_work);
	cancel_delayed_work_sync(&standby_work);
	cancel_delayed_work_sync(&hdd_work);
	gpiochip_remove(&sim.gc);
	platform_device_unregister(sim.pdev);
}

module_init(sim_init);
module_exit(sim_exit);
MODULE_DESCRIPTION("piglix test: a simulated motherboard front panel on GPIO lines");
MODULE_LICENSE("GPL");
