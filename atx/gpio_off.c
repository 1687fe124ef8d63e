/* The ATX board in a build without libgpiod (PIGLIX_WITH_GPIOD=OFF): [atx]
 * with a chip configured cannot start, and says why; Wake-on-LAN works. */
#include "atx/gpio.h"

#include "common/log.h"

struct atx_gpio *atx_gpio_open(const struct config_atx *cfg)
{
    LOG_ERROR("atx", "this piglix was built without GPIO support (libgpiod): the power board cannot be used");
    return NULL;
}

/* "present", so that atx_gpio_open says why it cannot be used instead of a wait */
bool atx_gpio_chip_present(const char *chip) { return true; }
void atx_gpio_close(struct atx_gpio *gpio) {}
const char *atx_gpio_chip_path(const struct atx_gpio *gpio) { return ""; }
int atx_gpio_button_lines(const struct atx_gpio *gpio, struct atx_guard_line *out, int max) { return 0; }
bool atx_gpio_has_input(const struct atx_gpio *gpio, enum atx_input in) { return false; }
bool atx_gpio_has_button(const struct atx_gpio *gpio, enum atx_button b) { return false; }
int atx_gpio_input_fd(const struct atx_gpio *gpio, enum atx_input in) { return -1; }
int atx_gpio_input_level(struct atx_gpio *gpio, enum atx_input in) { return -1; }
int atx_gpio_read_edges(struct atx_gpio *gpio, enum atx_input in, struct atx_gpio_edge *out, int max) { return -1; }
int atx_gpio_press(struct atx_gpio *gpio, enum atx_button b) { return -1; }
int atx_gpio_release(struct atx_gpio *gpio) { return -1; }
