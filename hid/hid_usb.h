/* hid/hid_usb: [hid] as configured: the USB gadget (hid_gadget) and the
 * keyboard and mice running on it (hid_device), made, started and stopped
 * together. Other functions join the gadget between create and start. */
#ifndef PIGLIX_HID_USB_H
#define PIGLIX_HID_USB_H

#include "common/config.h"
#include "hid/hid_device.h"
#include "hid/hid_gadget.h"

struct hid_usb;

/* Builds the gadget from [hid] (not bound yet). NULL after logging why. */
struct hid_usb *hid_usb_create(const struct piglix_config *cfg);
/* `piglix gadget up` / `down` (root): make and bind the gadget and leave it
 * for the unprivileged daemon, which then attaches to it; remove it.
 * add_functions (may be NULL) adds other modules' functions before the bind. */
int hid_usb_gadget_up(const struct piglix_config *cfg,
                      int (*add_functions)(const struct piglix_config *cfg, struct hid_gadget *g));
void hid_usb_gadget_down(void);
/* The gadget, for adding functions before hid_usb_start. */
struct hid_gadget *hid_usb_gadget(struct hid_usb *u);
/* Binds the gadget and starts the keyboard and mice. 0 or -1 (logged). */
int hid_usb_start(struct hid_usb *u);
/* NULL before hid_usb_start. */
struct hid_device *hid_usb_device(struct hid_usb *u);
/* Logs the counters, stops the device, removes the gadget. NULL is fine. */
void hid_usb_destroy(struct hid_usb *u);

#endif
