/* gadget: piglix's composite USB device in configfs (through libusbgx):
 * one configuration holding the functions other modules add before it is
 * bound (hid/: keyboard and mice; vmedia/: mass storage). A gadget of the
 * same name left by a crashed run is removed first; destroying it leaves
 * nothing in configfs. Also the device side's view of the link: a
 * function's device number and whether the host has configured the gadget.
 * Threads: made, changed and destroyed by one thread at a time (main at
 * start and stop; vmedia's drive under its own lock when it relinks);
 * gadget_host_ready may be called from any thread. Errors are logged where
 * they happen; functions return 0 or a negative errno. */
#ifndef PIGLIX_GADGET_H
#define PIGLIX_GADGET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <usbg/usbg.h>


#define GADGET_NAME "piglix"
/* The configuration's bmAttributes: bit 7 (always one), bit 5 remote wakeup. */
#define GADGET_BM_ATTRIBUTES 0xa0

struct gadget_params {
    const char *configfs;        /* NULL: /sys/kernel/config */
    uint16_t vendor_id, product_id;
    const char *manufacturer, *product, *serial; /* serial "": none */
    int max_power_ma;
};

struct gadget;

/* Builds the gadget (not bound yet). NULL after logging why. */
struct gadget *gadget_create(const struct gadget_params *p);

/* Adds a function of another kind to the gadget's configuration; only
 * before gadget_bind. attrs as for usbg_create_function. Returns 0 or
 * a negative errno (logged); *out (if not NULL) is the function. */
int gadget_add_function(struct gadget *g, usbg_function_type type, const char *instance, void *attrs,
                            usbg_function **out);

/* The same, with link = false leaving it out of the configuration (the
 * host does not see it) until gadget_set_linked. */
int gadget_add_function_ex(struct gadget *g, usbg_function_type type, const char *instance, void *attrs,
                               bool link, usbg_function **out);
/* Puts a function made by gadget_add_function_ex into the configuration
 * or takes it out. A bound gadget is unbound around the change, so the host
 * re-enumerates every function (the keyboard too). function is its configfs
 * name ("mass_storage.usb0"); f is NULL for a gadget made by `piglix gadget
 * up`, where the daemon needs the configuration and UDC handed over
 * (gadget_hand_over). 0 or a negative errno. */
int gadget_set_linked(struct gadget *g, usbg_function *f, const char *function, bool link);
bool gadget_is_linked(const struct gadget *g, const char *function);
/* `piglix gadget up`: lets uid/gid relink functions (the configuration
 * directory and the UDC file become theirs). 0 or a negative errno. */
int gadget_hand_over(const struct gadget *g, uid_t uid, gid_t gid);
/* The configfs directory of a function, e.g. "mass_storage.usb0". */
int gadget_function_dir(const struct gadget *g, const char *function, char *out, size_t n);
/* True when the gadget was made by `piglix gadget up` (see below). */
bool gadget_is_attached(const struct gadget *g);

/* Binds it to udc (NULL or "": the first the kernel has), so the host sees
 * it. Returns 0 or -1 (logged). */
int gadget_bind(struct gadget *g, const char *udc);
/* The UDC it is bound to ("" before). */
const char *gadget_udc(const struct gadget *g);

/* The device number of a function's character device (e.g. "hid.usb0":
 * /dev/hidgN), read from its configfs "dev" attribute. 0 or -errno. */
int gadget_function_dev(const struct gadget *g, const char *function, dev_t *out);
/* True when the gadget is still bound to its UDC (writing "" to the UDC
 * file unbinds it behind our back) and the host has configured it (also
 * when it has suspended it since: "suspended"); state receives the UDC's
 * state in words. Any thread. Linux 6.1's UDC drivers (dummy_hcd, dwc2)
 * never report "suspended": a suspended host shows as a host that does not
 * take reports. */
bool gadget_host_ready(const struct gadget *g, char *state, size_t n);
/* Asks a suspended host to resume (USB remote wakeup: the UDC's srp
 * attribute, usb_gadget_wakeup). The kernel ignores it when the host did
 * not allow wakeup, is not suspended, or the UDC driver cannot signal it
 * (mainline dwc2 in 6.1 has no wakeup operation). Never blocks. 0 or a
 * negative errno (-EACCES: srp was not handed to the daemon's user,
 * gadget_hand_wakeup; -EROFS: /sys is read-only for it, as piglix.service
 * makes it unless the UDC's directory is a ReadWritePaths=). Any thread. */
int gadget_host_wakeup(const struct gadget *g);
/* `piglix gadget up` (root), after gadget_bind: lets uid/gid ask the host to
 * wake up (gadget_host_wakeup) by handing them the bound UDC's srp
 * attribute; only its owner changes (the mode stays 0200, owner write).
 * udc_dir NULL: /sys/class/udc (tests pass a fixture). 0 when handed, and
 * also when the UDC has no srp (a kernel without it: logged, the daemon's
 * wakeup requests then fail as before); -ENOTCONN when the gadget is not
 * bound; another negative errno when the chown failed (logged). */
int gadget_hand_wakeup(const struct gadget *g, const char *udc_dir, uid_t uid, gid_t gid);
/* An fd on the UDC's state attribute that poll() reports POLLPRI on each
 * time the kernel sets the state (reset, address, configuration), even
 * when the words stay the same: a host that rebooted or a cable pulled and
 * put back ends "configured" again within milliseconds, and dummy_hcd and
 * dwc2 never say "not attached" for a pulled cable. After each POLLPRI,
 * gadget_state_fd_rearm. The caller closes it. A negative errno. */
int gadget_host_state_fd(const struct gadget *g);
void gadget_state_fd_rearm(int fd);

/* Splitting root from the daemon: `piglix gadget up` (root) makes and binds
 * the gadget and leaves it (gadget_release); the unprivileged daemon
 * finds it (gadget_is_external: it exists and configfs is not writable
 * for us) and attaches, only opening /dev/hidgN; `piglix gadget down`
 * removes it (gadget_remove). */
bool gadget_is_external(const char *configfs);
struct gadget *gadget_attach(const struct gadget_params *p);
void gadget_release(struct gadget *g);
void gadget_remove(const char *configfs);

/* Whether a gadget can be made (or attached) now, without logging: 0, or
 * -1 with the reason and its fix in why. Unless `piglix gadget up` made
 * the gadget already, looks for a USB device controller (udc, or any when
 * NULL or "") in /sys/class/udc, configfs' usb_gadget (configfs mounted,
 * libcomposite loaded) and write access to it (root). udc_dir NULL:
 * /sys/class/udc (tests pass a fixture). For a daemon that waits for the
 * hardware instead of failing on it. */
int gadget_probe(const char *configfs, const char *udc_dir, const char *udc, char *why, size_t n);

/* Unbinds and removes the gadget from configfs (an attached one is left
 * alone). NULL is fine. */
void gadget_destroy(struct gadget *g);

#endif
