/* Internal to vmedia/: the USB drive's state, shared by drive.c (mount,
 * eject, status), drive_lun.c (the configfs LUN attributes) and
 * drive_url.c (mount after a URL download). */
#ifndef PIGLIX_VMEDIA_DRIVE_INTERNAL_H
#define PIGLIX_VMEDIA_DRIVE_INTERNAL_H

#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <usbg/usbg.h>
#include <usbg/function/ms.h>

#include "vmedia/vmedia.h"

#define VMEDIA_MS_FUNCTION "mass_storage.usb0"
#define VMEDIA_MS_INSTANCE "usb0"
#define VMEDIA_MOUNT_FILE "vmedia.mount"   /* under [state] dir */
#define VMEDIA_LUNS 2
#define VMEDIA_LUN_CD 0                    /* cdrom=1, ro=1 */
#define VMEDIA_LUN_DISK 1                  /* a removable disk, ro as asked */

struct vmedia_drive {
    pthread_mutex_t lock;
    struct vmedia_store *store;
    struct gadget *gadget;
    usbg_function *function;    /* NULL when attached to `piglix gadget up`'s gadget */
    bool on_demand;             /* [vmedia] usb = mounted */
    /* Two LUNs, so the host sees a CD-ROM drive and a removable disk at
     * once and a change of mode needs no re-enumeration (the host reads a
     * LUN's device type only when it scans it). */
    char lun_dir[VMEDIA_LUNS][PATH_MAX];
    int lun;                    /* the LUN holding the medium */
    char state_file[PATH_MAX];
    char image_path[PATH_MAX];
    struct vmedia_drive_status st;
    /* the URL mount */
    pthread_t url_thread;
    bool url_thread_running;
    atomic_bool stopping;
    enum vmedia_mode url_mode;
    bool url_insecure;
};

/* drive_lun.c: the LUN's configfs attributes. Each returns 0 or -errno. */
int vmedia_lun_write(const struct vmedia_drive *d, int lun, const char *attr, const char *value);
int vmedia_lun_read(const struct vmedia_drive *d, int lun, const char *attr, char *buf, size_t n);
/* Loads the image into a LUN (read-only or not). */
int vmedia_lun_load(const struct vmedia_drive *d, int lun, const char *path, bool ro);
/* "" to the file attribute; with force, forced_eject (ignores the host's
 * lock). -EBUSY: the host locked the medium. */
int vmedia_lun_unload(const struct vmedia_drive *d, int lun, bool force);
/* The LUNs as the function is made: lun.0 a CD-ROM, lun.1 a removable disk. */
void vmedia_lun_attrs(struct usbg_f_ms_attrs *attrs, struct usbg_f_ms_lun_attrs luns[VMEDIA_LUNS],
                      struct usbg_f_ms_lun_attrs *ptrs[VMEDIA_LUNS + 1]);
/* True when the host configured the gadget. */
bool vmedia_lun_host_online(const struct vmedia_drive *d);

/* drive.c: mount with the lock held (the URL thread uses it). */
int vmedia_drive_mount_locked(struct vmedia_drive *d, const char *image, enum vmedia_mode mode, bool rw,
                              char *err, size_t errlen);
/* drive_url.c */
void vmedia_drive_url_stop(struct vmedia_drive *d);

#endif
