/* Internal to gadget/: the gadget's state, shared by gadget.c (made and
 * owned by piglix: libusbgx) and gadget_shared.c (the gadget root makes
 * with `piglix gadget up` and the unprivileged daemon uses: plain configfs
 * operations, also for removing what a crashed run left). */
#ifndef PIGLIX_GADGET_INTERNAL_H
#define PIGLIX_GADGET_INTERNAL_H

#include <limits.h>
#include <sys/types.h>

#include "gadget/gadget.h"

#define DEFAULT_CONFIGFS "/sys/kernel/config"
#define SYS_CLASS_UDC "/sys/class/udc"

struct gadget {
    usbg_state *state;
    usbg_gadget *gadget;
    usbg_config *config;
    char configfs[PATH_MAX];
    char udc[64];
    bool bound;
    bool attached;              /* made by `piglix gadget up`: not ours to change */
};

/* Removes a gadget of our name that an earlier run left (killed, crashed),
 * or the one `piglix gadget up` made. */
void gadget_remove_stale(const char *configfs);
/* gadget_set_linked for a gadget `piglix gadget up` made. */
int gadget_set_linked_attached(struct gadget *g, const char *function, const char *instance, bool link);

#endif
