/* vmedia/vmedia_drive: the USB drive that presents a store image to the
 * server: the gadget's mass-storage function with two LUNs, a CD-ROM drive
 * (read-only) and a removable disk (a flash drive, read-only unless asked),
 * like a BMC's virtual CD and virtual USB key; one holds the medium. The
 * host reads a LUN's device type only when it scans it, so two fixed LUNs
 * let the mode change without re-enumeration. Mount, eject (forced when the
 * server holds the medium locked), swap media without re-enumerating the
 * keyboard. What is mounted
 * is remembered under [state] dir and mounted again at the next start. A
 * mounted image is marked in use in the store (no delete or rename).
 *
 * Kernel fact that shapes this: f_mass_storage (Linux 6.1) caps a CD-ROM
 * LUN at 256*60*75 - 1 blocks of 2048 bytes (about 2.2 GB) and silently
 * serves only the start of a bigger image. A bigger image asked for as a
 * CD-ROM is therefore presented as a read-only removable disk, which every
 * hybrid (isohybrid) installer ISO boots from; the status says so.
 *
 * All functions are thread-safe and never block on the USB host. */
#ifndef PIGLIX_VMEDIA_DRIVE_H
#define PIGLIX_VMEDIA_DRIVE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vmedia/vmedia.h"

struct piglix_config;
struct hid_gadget;
struct vmedia_drive;

#define VMEDIA_CD_MAX_BYTES ((uint64_t)(256 * 60 * 75 - 1) * 2048)

enum vmedia_mode { VMEDIA_MODE_CDROM, VMEDIA_MODE_FLASH };

struct vmedia_drive_status {
    bool present;             /* the mass-storage function is on the bus */
    bool mounted;
    char image[VMEDIA_NAME_MAX + 1];
    enum vmedia_mode mode;    /* as asked */
    bool as_disk;             /* a CD-ROM too big for the kernel's CD LUN, presented as a disk */
    bool rw;
    uint64_t size;
    bool host_online;         /* the host has configured the gadget */
    /* A mount that waits for a URL download (vmedia_drive_mount_url). */
    bool pending;
    char pending_name[VMEDIA_NAME_MAX + 1];
    char last_error[192];     /* why the last mount failed ("" = none) */
    uint64_t generation;      /* changes whenever anything above changes */
};

/* Adds the mass-storage function to the gadget (before it is bound; with
 * [vmedia] usb = mounted it is left out until a mount). NULL after logging. */
struct vmedia_drive *vmedia_drive_create(const struct piglix_config *cfg, struct vmedia_store *store,
                                         struct hid_gadget *gadget);
/* `piglix gadget up` (root): adds the mass-storage function to the gadget
 * it makes and hands the LUN's attribute files to the owner of [state] dir
 * (the daemon's user), so the unprivileged daemon can mount and eject.
 * 0 or -1 (logged). */
int vmedia_drive_gadget_up(const struct piglix_config *cfg, struct hid_gadget *gadget);
/* After the gadget is bound: mounts what was mounted before the restart. */
void vmedia_drive_restore(struct vmedia_drive *d);
/* Ejects (the state file keeps the mount for the next start) and frees. */
void vmedia_drive_destroy(struct vmedia_drive *d);

/* Mounts image (ejecting what was mounted first). rw only for FLASH.
 * Returns VMEDIA_OK or an enum vmedia_err; err gets a message. */
int vmedia_drive_mount(struct vmedia_drive *d, const char *image, enum vmedia_mode mode, bool rw,
                       char *err, size_t errlen);
/* Downloads url into the store as name (derived from the URL when NULL or
 * empty), then mounts it; returns at once (VMEDIA_OK: started). */
int vmedia_drive_mount_url(struct vmedia_drive *d, const char *url, const char *name,
                           enum vmedia_mode mode, bool insecure, char *err, size_t errlen);
/* Ejects. A medium the host has locked (PREVENT MEDIUM REMOVAL) is only
 * ejected with force. Returns VMEDIA_OK, VMEDIA_E_BUSY (locked, no
 * force) or another error; err says why. */
int vmedia_drive_eject(struct vmedia_drive *d, bool force, char *err, size_t errlen);
void vmedia_drive_get_status(struct vmedia_drive *d, struct vmedia_drive_status *out);

const char *vmedia_mode_name(enum vmedia_mode m);   /* "cdrom", "flash" */
int vmedia_mode_parse(const char *s);                /* -1 when unknown */

#endif
