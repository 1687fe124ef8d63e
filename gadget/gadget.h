/* hid/hid_gadget: piglix's composite USB gadget in configfs (through
 * libusbgx): one configuration holding the HID functions (keyboard,
 * absolute mouse, relative mouse, as chosen) and whatever other modules add
 * before it is bound (the mass storage of [vmedia]). A gadget of the same
 * name left by a crashed run is removed first; destroying it leaves nothing
 * in configfs. Also the device side's view of the link: which /dev/hidgN
 * each function is, and whether the host has configured the gadget. */
#ifndef PIGLIX_HID_GADGET_H
#define PIGLIX_HID_GADGET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <usbg/usbg.h>

#include "hid/hid_device.h"
#include "hid/hid_report.h"

#define HID_GADGET_NAME "piglix"

struct hid_gadget_params {
    const char *configfs;        /* NULL: /sys/kernel/config */
    uint16_t vendor_id, product_id;
    const char *manufacturer, *product, *serial; /* serial "": none */
    int max_power_ma;
    bool present[HID_EP_COUNT];
};

struct hid_gadget;

/* Builds the gadget (not bound yet). NULL after logging why. */
struct hid_gadget *hid_gadget_create(const struct hid_gadget_params *p);

/* Adds a function of another kind to the gadget's configuration; only
 * before hid_gadget_bind. attrs as for usbg_create_function. Returns 0 or
 * a negative errno (logged); *out (if not NULL) is the function. */
int hid_gadget_add_function(struct hid_gadget *g, usbg_function_type type, const char *instance, void *attrs,
                            usbg_function **out);

/* The same, with link = false leaving it out of the configuration (the
 * host does not see it) until hid_gadget_set_linked. */
int hid_gadget_add_function_ex(struct hid_gadget *g, usbg_function_type type, const char *instance, void *attrs,
                               bool link, usbg_function **out);
/* Puts a function made by hid_gadget_add_function_ex into the configuration
 * or takes it out. A bound gadget is unbound around the change, so the host
 * re-enumerates every function (the keyboard too). function is its configfs
 * name ("mass_storage.usb0"); f is NULL for a gadget made by `piglix gadget
 * up`, where the daemon needs the configuration and UDC handed over
 * (hid_gadget_hand_over). 0 or a negative errno. */
int hid_gadget_set_linked(struct hid_gadget *g, usbg_function *f, const char *function, bool link);
bool hid_gadget_is_linked(const struct hid_gadget *g, const char *function);
/* `piglix gadget up`: lets uid/gid relink functions (the configuration
 * directory and the UDC file become theirs). 0 or a negative errno. */
int hid_gadget_hand_over(const struct hid_gadget *g, uid_t uid, gid_t gid);
/* The configfs directory of a function, e.g. "mass_storage.usb0". */
int hid_gadget_function_dir(const struct hid_gadget *g, const char *function, char *out, size_t n);
/* True when the gadget was made by `piglix gadget up` (see below). */
bool hid_gadget_is_attached(const struct hid_gadget *g);

/* Binds it to udc (NULL or "": the first the kernel has), so the host sees
 * it. Returns 0 or -1 (logged). */
int hid_gadget_bind(struct hid_gadget *g, const char *udc);
/* The UDC it is bound to ("" before). */
const char *hid_gadget_udc(const struct hid_gadget *g);

/* Endpoint access for hid_device: opens /dev/hidgN; reads the UDC state. */
void hid_gadget_io(struct hid_gadget *g, struct hid_device_io *io);

/* Splitting root from the daemon: `piglix gadget up` (root) makes and binds
 * the gadget and leaves it (hid_gadget_release); the unprivileged daemon
 * finds it (hid_gadget_is_external: it exists and configfs is not writable
 * for us) and attaches, only opening /dev/hidgN; `piglix gadget down`
 * removes it (hid_gadget_remove). */
bool hid_gadget_is_external(const char *configfs);
struct hid_gadget *hid_gadget_attach(const struct hid_gadget_params *p);
void hid_gadget_release(struct hid_gadget *g);
void hid_gadget_remove(const char *configfs);

/* Unbinds and removes the gadget from configfs (an attached one is left
 * alone). NULL is fine. */
void hid_gadget_destroy(struct hid_gadget *g);

#endif
