/* serial/serial_gadget without libusbgx: no USB gadget, so [serial]
 * device = gadget cannot work; serial_gadget_add says so. */
#include <errno.h>
#include <string.h>

#include "common/config.h"
#include "common/log.h"
#include "serial/serial.h"

bool serial_wants_gadget(const struct config_serial *cfg)
{
    return cfg->enabled && strcmp(cfg->device, "gadget") == 0;
}

int serial_gadget_add(const struct config_serial *cfg, struct gadget *g)
{
    (void)g;
    if (!serial_wants_gadget(cfg))
        return 0;
    LOG_ERROR("serial", "[serial] device = gadget: piglix was built without libusbgx");
    return -ENOTSUP;
}
