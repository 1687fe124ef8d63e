#include "atx/gpio.h"

#include <errno.h>
#include <gpiod.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/config.h"
#include "common/log.h"

#define CONSUMER "piglix-atx"

struct gpio_line {
    const char *what;          /* for messages */
    int offset;                /* -1: not wired */
    bool active_low;
    struct gpiod_line *line;   /* NULL when not wired */
};

struct atx_gpio {
    struct gpiod_chip *chip;
    char path[64];
    struct gpio_line inputs[ATX_INPUT_COUNT];
    struct gpio_line power_button, reset_button;
    struct gpio_line *held;    /* the button being pressed, requested */
};

static int request_flags(const struct gpio_line *l)
{
    return l->active_low ? GPIOD_LINE_REQUEST_FLAG_ACTIVE_LOW : 0;
}

static int find_line(struct atx_gpio *g, struct gpio_line *l)
{
    if (l->offset < 0)
        return 0;
    unsigned int n = gpiod_chip_num_lines(g->chip);
    if ((unsigned int)l->offset >= n) {
        LOG_ERROR("atx", "%s line %d: %s has only %u lines", l->what, l->offset, g->path, n);
        return -1;
    }
    l->line = gpiod_chip_get_line(g->chip, (unsigned int)l->offset);
    if (!l->line) {
        LOG_ERROR("atx", "%s line %d of %s: %s", l->what, l->offset, g->path, strerror(errno));
        return -1;
    }
    return 0;
}

static void log_request_error(const struct atx_gpio *g, const struct gpio_line *l, int err)
{
    const char *user = NULL;
    if (err == EBUSY && gpiod_line_update(l->line) == 0)
        user = gpiod_line_consumer(l->line);
    LOG_ERROR("atx", "%s line %d of %s: cannot request it: %s%s%s%s", l->what, l->offset, g->path,
              strerror(err), user ? " (used by " : "", user ? user : "", user ? ")" : "");
}

/* A button line requested as an output at its released level and freed
 * again: the line keeps that level. */
static int drive_released(struct atx_gpio *g, struct gpio_line *l)
{
    if (gpiod_line_request_output_flags(l->line, CONSUMER, request_flags(l), 0) < 0) {
        log_request_error(g, l, errno);
        return -1;
    }
    gpiod_line_release(l->line);
    return 0;
}

bool atx_gpio_chip_present(const char *chip)
{
    struct gpiod_chip *c = gpiod_chip_open_lookup(chip);
    if (c)
        gpiod_chip_close(c);
    return c != NULL;
}

struct atx_gpio *atx_gpio_open(const struct config_atx *cfg)
{
    struct atx_gpio *g = calloc(1, sizeof(*g));
    if (!g)
        return NULL;
    g->inputs[ATX_INPUT_POWER_LED] = (struct gpio_line){"power LED", cfg->power_led_line, cfg->power_led_active_low, NULL};
    g->inputs[ATX_INPUT_HDD_LED] = (struct gpio_line){"HDD LED", cfg->hdd_led_line, cfg->hdd_led_active_low, NULL};
    g->inputs[ATX_INPUT_INTRUSION] = (struct gpio_line){"intrusion", cfg->intrusion_line, cfg->intrusion_active_low, NULL};
    g->power_button = (struct gpio_line){"power button", cfg->power_button_line, cfg->power_button_active_low, NULL};
    g->reset_button = (struct gpio_line){"reset button", cfg->reset_button_line, cfg->reset_button_active_low, NULL};

    g->chip = gpiod_chip_open_lookup(cfg->chip);
    if (!g->chip) {
        LOG_ERROR("atx", "GPIO chip '%s': %s", cfg->chip, strerror(errno));
        free(g);
        return NULL;
    }
    snprintf(g->path, sizeof(g->path), "/dev/%s", gpiod_chip_name(g->chip));
    for (int i = 0; i < ATX_INPUT_COUNT; i++) {
        struct gpio_line *l = &g->inputs[i];
        if (find_line(g, l) < 0)
            goto fail;
        if (l->line && gpiod_line_request_both_edges_events_flags(l->line, CONSUMER, request_flags(l)) < 0) {
            log_request_error(g, l, errno);
            l->line = NULL;
            goto fail;
        }
    }
    struct gpio_line *buttons[] = {&g->power_button, &g->reset_button};
    for (int i = 0; i < 2; i++) {
        if (find_line(g, buttons[i]) < 0 || (buttons[i]->line && drive_released(g, buttons[i]) < 0))
            goto fail;
    }
    LOG_INFO("atx", "GPIO %s (%s): power LED %d, HDD LED %d, power button %d, reset button %d, intrusion %d",
             g->path, gpiod_chip_label(g->chip), g->inputs[ATX_INPUT_POWER_LED].offset,
             g->inputs[ATX_INPUT_HDD_LED].offset, g->power_button.offset, g->reset_button.offset,
             g->inputs[ATX_INPUT_INTRUSION].offset);
    return g;
fail:
    atx_gpio_close(g);
    return NULL;
}

void atx_gpio_close(struct atx_gpio *g)
{
    if (!g)
        return;
    if (g->held)
        atx_gpio_release(g);
    for (int i = 0; i < ATX_INPUT_COUNT; i++)
        if (g->inputs[i].line && gpiod_line_is_requested(g->inputs[i].line))
            gpiod_line_release(g->inputs[i].line);
    gpiod_chip_close(g->chip);
    free(g);
}

const char *atx_gpio_chip_path(const struct atx_gpio *g)
{
    return g->path;
}

int atx_gpio_button_lines(const struct atx_gpio *g, struct atx_guard_line *out, int max)
{
    int n = 0;
    const struct gpio_line *buttons[] = {&g->power_button, &g->reset_button};
    for (int i = 0; i < 2 && n < max; i++)
        if (buttons[i]->line)
            out[n++] = (struct atx_guard_line){(unsigned int)buttons[i]->offset, buttons[i]->active_low};
    return n;
}

bool atx_gpio_has_input(const struct atx_gpio *g, enum atx_input in)
{
    return g && g->inputs[in].line != NULL;
}

static struct gpio_line *button(struct atx_gpio *g, enum atx_button b)
{
    return b == ATX_BUTTON_POWER ? &g->power_button : b == ATX_BUTTON_RESET ? &g->reset_button : NULL;
}

bool atx_gpio_has_button(const struct atx_gpio *g, enum atx_button b)
{
    struct gpio_line *l = g ? button((struct atx_gpio *)g, b) : NULL;
    return l && l->line;
}

int atx_gpio_input_fd(const struct atx_gpio *g, enum atx_input in)
{
    return g->inputs[in].line ? gpiod_line_event_get_fd(g->inputs[in].line) : -1;
}

int atx_gpio_input_level(struct atx_gpio *g, enum atx_input in)
{
    struct gpio_line *l = &g->inputs[in];
    int v = gpiod_line_get_value(l->line);
    if (v < 0)
        LOG_ERROR("atx", "%s line %d: cannot read: %s", l->what, l->offset, strerror(errno));
    return v;
}

int atx_gpio_read_edges(struct atx_gpio *g, enum atx_input in, struct atx_gpio_edge *out, int max)
{
    struct gpio_line *l = &g->inputs[in];
    struct gpiod_line_event ev[16];
    if (max > 16)
        max = 16;
    int n = gpiod_line_event_read_fd_multiple(gpiod_line_event_get_fd(l->line), ev, (unsigned int)max);
    if (n < 0) {
        LOG_ERROR("atx", "%s line %d: cannot read events: %s", l->what, l->offset, strerror(errno));
        return -1;
    }
    for (int i = 0; i < n; i++) {
        out[i].level = ev[i].event_type == GPIOD_LINE_EVENT_RISING_EDGE;
        out[i].ms = (int64_t)ev[i].ts.tv_sec * 1000 + ev[i].ts.tv_nsec / 1000000;
    }
    return n;
}

int atx_gpio_press(struct atx_gpio *g, enum atx_button b)
{
    struct gpio_line *l = button(g, b);
    if (g->held || !l || !l->line) {
        LOG_ERROR("atx", "press: %s", g->held ? "a button is already held" : "button not wired");
        return -1;
    }
    if (gpiod_line_request_output_flags(l->line, CONSUMER, request_flags(l), 0) < 0) {
        log_request_error(g, l, errno);
        return -1;
    }
    g->held = l;
    if (gpiod_line_set_value(l->line, 1) < 0) {
        LOG_ERROR("atx", "%s line %d: cannot press: %s", l->what, l->offset, strerror(errno));
        atx_gpio_release(g);
        return -1;
    }
    return 0;
}

int atx_gpio_release(struct atx_gpio *g)
{
    struct gpio_line *l = g->held;
    if (!l)
        return 0;
    g->held = NULL;
    int r = 0;
    if (gpiod_line_set_value(l->line, 0) < 0) {
        LOG_ERROR("atx", "%s line %d: cannot release: %s; trying a new request", l->what, l->offset,
                  strerror(errno));
        r = -1;
    }
    gpiod_line_release(l->line);
    /* Freed lines keep their value: if driving it released failed, a fresh
     * request at the released level is the other way to get there. */
    if (r < 0 && drive_released(g, l) == 0)
        r = 0;
    return r;
}
