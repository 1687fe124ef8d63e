/* Internal to hid/: the gadget's state, shared by hid_gadget.c (made and
 * owned by piglix: libusbgx) and hid_gadget_shared.c (the gadget root makes
 * with `piglix gadget up` and the unprivileged daemon uses: plain configfs
 * operations, also for removing what a crashed run left). */
#ifndef PIGLIX_HID_GADGET_INTERNAL_H
#define PIGLIX_HID_GADGET_INTERNAL_H

#include <limits.h>
#include <sys/types.h>

#include "hid/hid_gadget.h"

#define DEFAULT_CONFIGFS "/sys/kernel/config"
#define SYS_CLASS_UDC "/sys/class/udc"

#define DEFAULT_CONFIGFS "/sys/kernel/config"
#define SYS_CLASS_UDC "/sys/class/udc"

struct hid_gadget {
    usbg_state *state;
    usbg_gadget *gadget;
    usbg_config *config;
    char configfs[PATH_MAX];
    char udc[64];
    dev_t dev[HID_EP_COUNT];
    bool present[HID_EP_COUNT];
    bool bound;
    bool attached;              /* made by `piglix gadget up`: not ours to change */
};

/* Removes a gadget of our name that an earlier run left (killed, crashed),
 * or the one `piglix gadget up` made. */
void hid_gadget_remove_stale(const char *configfs);
/* hid_gadget_set_linked for a gadget `piglix gadget up` made. */
int hid_gadget_set_linked_attached(struct hid_gadget *g, const char *function, const char *instance, bool link);

#endif
