/* [hid] in a build without libusbgx (PIGLIX_WITH_USBGX=OFF): no keyboard or
 * mice; viewers still see the screen, and the log says why. */
#include <stddef.h>
#include <stdio.h>

#include "common/log.h"
#include "hid/hid.h"

static void say(void)
{
    LOG_ERROR("hid", "this piglix was built without USB gadget support (libusbgx): no keyboard or mouse");
}

int hid_usb_probe(const struct config_hid *cfg, char *why, size_t n)
{
    snprintf(why, n, "this piglix was built without USB gadget support (libusbgx)");
    return -1;
}

struct hid_usb *hid_usb_create(const struct config_hid *cfg)
{
    say();
    return NULL;
}

int hid_usb_gadget_up(const struct config_hid *cfg, uid_t uid, gid_t gid,
                      int (*add_functions)(void *ctx, struct gadget *g), void *ctx)
{
    say();
    return -1;
}

void hid_usb_gadget_down(void) {}
struct gadget *hid_usb_gadget(struct hid_usb *u) { return NULL; }
int hid_usb_start(struct hid_usb *u) { return -1; }
struct hid_device *hid_usb_device(struct hid_usb *u) { return NULL; }
void hid_usb_destroy(struct hid_usb *u) {}
