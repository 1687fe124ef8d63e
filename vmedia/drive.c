/* The USB drive: mount, eject, status, and the mount remembered across
 * restarts ([state] dir/vmedia.mount: "mode rw name"). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/config.h"
#include "common/log.h"
#include "gadget/gadget.h"
#include "vmedia/drive_internal.h"
#include "vmedia/vmedia_internal.h"

/* f_mass_storage refuses a CD image under 300 blocks with this errno
 * (ETOOSMALL, kernel-internal, 525) when the file is written. */
#define KERNEL_ETOOSMALL 525

static void changed(struct vmedia_drive *d)
{
    d->st.generation++;
}

/* Handed to the store's disk thread (disk.c), which writes it whole or not
 * at all (common/statefile: a temporary file, fsync, rename, fsync of the
 * directory): a power cut or a failing card leaves the old record or the
 * new one, never a torn line that mounts the wrong image; and the caller
 * (the web thread) never waits for the card. */
static void save_state(const struct vmedia_drive *d)
{
    char line[VMEDIA_NAME_MAX + 32];
    int n = snprintf(line, sizeof(line), "%s %d %s\n", vmedia_mode_name(d->st.mode), d->st.rw ? 1 : 0, d->st.image);
    if (n < 0 || (size_t)n >= sizeof(line)) {
        LOG_WARN("vmedia", "cannot remember the mount of %s (it will not survive a restart)", d->st.image);
        return;
    }
    vmedia_disk_put_record(&d->store->disk, d->state_file, line, (size_t)n);
}

/* The removal too: unlink, then fsync of the directory, on the disk thread. */
static void forget_state(const struct vmedia_drive *d)
{
    vmedia_disk_put_record(&d->store->disk, d->state_file, NULL, 0);
}

static int add_function(struct vmedia_drive *d)
{
    if (gadget_is_attached(d->gadget)) {
        /* `piglix gadget up` made the function; it must be there and ours to write. */
        for (int lun = 0; lun < VMEDIA_LUNS; lun++) {
            char path[PATH_MAX + 16];
            snprintf(path, sizeof(path), "%s/file", d->lun_dir[lun]);
            if (access(path, W_OK) != 0) {
                LOG_ERROR("vmedia", "%s: %s (run `piglix gadget up` with [vmedia] enabled, as root)", path,
                          strerror(errno));
                return -1;
            }
        }
        /* with usb = mounted, gadget up left it out and handed over the configuration */
        d->st.present = gadget_is_linked(d->gadget, VMEDIA_MS_FUNCTION);
        if (d->on_demand && d->st.present)
            LOG_WARN("vmedia", "[vmedia] usb = mounted, but `piglix gadget up` ran with usb = always: the drive "
                     "stays on the bus until the gadget is made again");
        d->on_demand = d->on_demand && !d->st.present;
        return 0;
    }
    struct usbg_f_ms_attrs attrs;
    struct usbg_f_ms_lun_attrs luns[VMEDIA_LUNS], *ptrs[VMEDIA_LUNS + 1];
    vmedia_lun_attrs(&attrs, luns, ptrs);
    if (gadget_add_function_ex(d->gadget, USBG_F_MASS_STORAGE, VMEDIA_MS_INSTANCE, &attrs, !d->on_demand,
                                   &d->function) < 0)
        return -1;
    d->st.present = !d->on_demand;
    return 0;
}

struct vmedia_drive *vmedia_drive_create(const struct config_vmedia *cfg, const char *state_dir, struct vmedia_store *store,
                                         struct gadget *gadget)
{
    struct vmedia_drive *d = calloc(1, sizeof(*d));
    if (!d) {
        LOG_ERROR("vmedia", "out of memory");
        return NULL;
    }
    pthread_mutex_init(&d->lock, NULL);
    d->store = store;
    d->gadget = gadget;
    d->on_demand = strcmp(cfg->usb, "mounted") == 0;
    snprintf(d->state_file, sizeof(d->state_file), "%s/" VMEDIA_MOUNT_FILE, state_dir);
    char fn[PATH_MAX - 8];
    int r = gadget_function_dir(gadget, VMEDIA_MS_FUNCTION, fn, sizeof(fn));
    for (int lun = 0; lun < VMEDIA_LUNS; lun++)
        snprintf(d->lun_dir[lun], sizeof(d->lun_dir[lun]), "%s/lun.%d", fn, lun);
    if (r < 0 || add_function(d) < 0) {
        pthread_mutex_destroy(&d->lock);
        free(d);
        return NULL;
    }
    return d;
}

/* Drops what the drive holds after the medium left the LUN. */
static void unmounted(struct vmedia_drive *d, const char *why)
{
    LOG_INFO("vmedia", "%s ejected%s", d->st.image, why);
    vmedia_release(d->store, d->st.image);
    d->st.mounted = false;
    d->st.as_disk = false;
    d->st.image[0] = 0;
    d->st.size = 0;
    forget_state(d);
    changed(d);
}

/* The server may eject the medium itself (START STOP UNIT): the kernel
 * then closes the file, and the LUN's file attribute reads empty. */
static void sync_with_lun(struct vmedia_drive *d)
{
    char file[PATH_MAX];
    if (d->st.mounted && vmedia_lun_read(d, d->lun, "file", file, sizeof(file)) == 0 && !file[0])
        unmounted(d, " by the server");
}

static int eject_locked(struct vmedia_drive *d, bool force, char *err, size_t errlen)
{
    sync_with_lun(d);
    if (!d->st.mounted)
        return VMEDIA_OK;
    int r = vmedia_lun_unload(d, d->lun, force);
    if (r == -EBUSY) {
        snprintf(err, errlen, "the server has locked the medium (it is in use there): eject with force");
        return VMEDIA_E_BUSY;
    }
    if (r < 0) {
        snprintf(err, errlen, "cannot eject: %s", strerror(-r));
        LOG_ERROR("vmedia", "ejecting %s: %s", d->st.image, strerror(-r));
        return VMEDIA_E_IO;
    }
    unmounted(d, force ? " (forced)" : "");
    if (d->on_demand && d->st.present && gadget_set_linked(d->gadget, d->function, VMEDIA_MS_FUNCTION, false) == 0) {
        d->st.present = false;
        changed(d);
    }
    return VMEDIA_OK;
}

static int lun_error(int r, const char *image, char *err, size_t errlen)
{
    if (r == -KERNEL_ETOOSMALL) {
        snprintf(err, errlen, "%s is too small for a CD-ROM (at least 300 blocks of 2048 bytes): mount it as flash",
                 image);
        return VMEDIA_E_UNFIT;
    }
    snprintf(err, errlen, "the USB drive refused %s: %s", image, strerror(-r));
    LOG_ERROR("vmedia", "loading %s into the USB drive: %s", image, strerror(-r));
    return r == -EBUSY ? VMEDIA_E_BUSY : VMEDIA_E_IO;
}

int vmedia_drive_mount_locked(struct vmedia_drive *d, const char *image, enum vmedia_mode mode, bool rw,
                              char *err, size_t errlen)
{
    struct vmedia_image img;
    int r = vmedia_stat(d->store, image, &img);
    if (r != VMEDIA_OK) {
        snprintf(err, errlen, "%s: %s", image, vmedia_strerror(r));
        return r;
    }
    if (mode == VMEDIA_MODE_CDROM && rw) {
        snprintf(err, errlen, "a CD-ROM is read-only: mount as flash for read-write");
        return VMEDIA_E_UNFIT;
    }
    r = eject_locked(d, false, err, errlen);
    if (r != VMEDIA_OK)
        return r;
    char path[PATH_MAX];
    r = vmedia_acquire(d->store, image, path, sizeof(path));
    if (r != VMEDIA_OK) {
        snprintf(err, errlen, "%s: %s", image, vmedia_strerror(r));
        return r;
    }
    if (!d->st.present) {
        if (gadget_set_linked(d->gadget, d->function, VMEDIA_MS_FUNCTION, true) < 0) {
            vmedia_release(d->store, image);
            snprintf(err, errlen, "cannot put the USB drive on the bus");
            return VMEDIA_E_IO;
        }
        d->st.present = true;
    }
    bool as_disk = mode == VMEDIA_MODE_CDROM && img.size > VMEDIA_CD_MAX_BYTES;
    int lun = mode == VMEDIA_MODE_CDROM && !as_disk ? VMEDIA_LUN_CD : VMEDIA_LUN_DISK;
    r = vmedia_lun_load(d, lun, path, mode == VMEDIA_MODE_CDROM || !rw);
    if (r < 0) {
        vmedia_release(d->store, image);
        return lun_error(r, image, err, errlen);
    }
    snprintf(d->st.image, sizeof(d->st.image), "%s", image);
    snprintf(d->image_path, sizeof(d->image_path), "%s", path);
    d->st.mounted = true;
    d->lun = lun;
    d->st.mode = mode;
    d->st.rw = mode == VMEDIA_MODE_FLASH && rw;
    d->st.as_disk = as_disk;
    d->st.size = img.size;
    d->st.last_error[0] = 0;
    changed(d);
    save_state(d);
    LOG_INFO("vmedia", "%s mounted as %s%s (%llu bytes)", image,
             as_disk ? "a read-only disk (too big for the kernel's CD-ROM)" : vmedia_mode_name(mode),
             d->st.rw ? ", read-write" : "", (unsigned long long)img.size);
    return VMEDIA_OK;
}

int vmedia_drive_mount(struct vmedia_drive *d, const char *image, enum vmedia_mode mode, bool rw, char *err,
                       size_t errlen)
{
    pthread_mutex_lock(&d->lock);
    int r = vmedia_drive_mount_locked(d, image, mode, rw, err, errlen);
    if (r != VMEDIA_OK) {
        snprintf(d->st.last_error, sizeof(d->st.last_error), "%s", err);
        changed(d);
    }
    pthread_mutex_unlock(&d->lock);
    return r;
}

int vmedia_drive_eject(struct vmedia_drive *d, bool force, char *err, size_t errlen)
{
    pthread_mutex_lock(&d->lock);
    int r = eject_locked(d, force, err, errlen);
    pthread_mutex_unlock(&d->lock);
    return r;
}

void vmedia_drive_get_status(struct vmedia_drive *d, struct vmedia_drive_status *out)
{
    pthread_mutex_lock(&d->lock);
    sync_with_lun(d);
    d->st.host_online = vmedia_lun_host_online(d);
    *out = d->st;
    pthread_mutex_unlock(&d->lock);
}

void vmedia_drive_restore(struct vmedia_drive *d)
{
    FILE *f = fopen(d->state_file, "re");
    if (!f)
        return;
    char mode[16], name[VMEDIA_NAME_MAX + 2];
    int rw;
    int n = fscanf(f, "%15s %d %129[^\n]", mode, &rw, name);
    fclose(f);
    char err[192];
    if (n != 3 || vmedia_mode_parse(mode) < 0) {
        LOG_WARN("vmedia", "%s is not a mount record: ignored", d->state_file);
        forget_state(d);
        return;
    }
    if (vmedia_drive_mount(d, name, (enum vmedia_mode)vmedia_mode_parse(mode), rw == 1, err, sizeof(err)) != VMEDIA_OK)
        LOG_WARN("vmedia", "cannot mount %s again after the restart: %s", name, err);
}

void vmedia_drive_destroy(struct vmedia_drive *d)
{
    if (!d)
        return;
    vmedia_drive_url_stop(d);
    pthread_mutex_lock(&d->lock);
    if (d->st.mounted) {
        /* The state file stays: the next start mounts it again. */
        vmedia_lun_unload(d, d->lun, true);
        vmedia_release(d->store, d->st.image);
    }
    pthread_mutex_unlock(&d->lock);
    pthread_mutex_destroy(&d->lock);
    free(d);
}
