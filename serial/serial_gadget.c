/* serial/serial_gadget: [serial] device = gadget: a CDC ACM function
 * ("acm.usb0", the kernel's usb_f_acm) on piglix's USB gadget. The server
 * sees it as /dev/ttyACM0 (cdc_acm); piglix's side is /dev/ttyGS0, which
 * serial.c opens like any tty. */
#include <string.h>

#include "common/config.h"
#include "common/log.h"
#include "gadget/gadget.h"
#include "serial/serial.h"

bool serial_wants_gadget(const struct config_serial *cfg)
{
    return cfg->enabled && strcmp(cfg->device, "gadget") == 0;
}

int serial_gadget_add(const struct config_serial *cfg, struct gadget *g)
{
    if (!serial_wants_gadget(cfg) || gadget_is_attached(g))
        return 0;   /* `piglix gadget up` added it already */
    int r = gadget_add_function(g, USBG_F_ACM, "usb0", NULL, NULL);
    if (r < 0)
        LOG_ERROR("serial", "cannot add the USB serial function (usb_f_acm loaded?)");
    else
        LOG_INFO("serial", "USB serial function acm.usb0 added (the server sees /dev/ttyACM0)");
    return r;
}
