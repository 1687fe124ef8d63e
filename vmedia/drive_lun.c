/* The mass-storage LUN in configfs (functions/mass_storage.usb0/lun.0).
 * Written directly rather than through libusbgx so the unprivileged daemon
 * can drive a gadget root made, once root handed it these files. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/config.h"
#include "common/log.h"
#include "common/sysfs.h"
#include "gadget/gadget.h"
#include "vmedia/drive_internal.h"

int vmedia_lun_write(const struct vmedia_drive *d, int lun, const char *attr, const char *value)
{
    char path[PATH_MAX + 32];
    snprintf(path, sizeof(path), "%s/%s", d->lun_dir[lun], attr);
    return sysfs_write(path, value);
}

int vmedia_lun_read(const struct vmedia_drive *d, int lun, const char *attr, char *buf, size_t n)
{
    char path[PATH_MAX + 32];
    snprintf(path, sizeof(path), "%s/%s", d->lun_dir[lun], attr);
    return sysfs_read(path, buf, n);
}

int vmedia_lun_load(const struct vmedia_drive *d, int lun, const char *path, bool ro)
{
    /* ro is refused (EBUSY) while a file is open; the LUN is empty here. */
    int r = lun == VMEDIA_LUN_CD ? 0 : vmedia_lun_write(d, lun, "ro", ro ? "1" : "0");
    if (!r)
        r = vmedia_lun_write(d, lun, "file", path);
    return r;
}

int vmedia_lun_unload(const struct vmedia_drive *d, int lun, bool force)
{
    int r = vmedia_lun_write(d, lun, "file", "");
    if (r == -EBUSY && force)
        r = vmedia_lun_write(d, lun, "forced_eject", "1");
    return r;
}

void vmedia_lun_attrs(struct usbg_f_ms_attrs *attrs, struct usbg_f_ms_lun_attrs luns[VMEDIA_LUNS],
                      struct usbg_f_ms_lun_attrs *ptrs[VMEDIA_LUNS + 1])
{
    for (int i = 0; i < VMEDIA_LUNS; i++) {
        luns[i] = (struct usbg_f_ms_lun_attrs){
            .id = i, .cdrom = i == VMEDIA_LUN_CD, .ro = true, .removable = true, .file = ""};
        ptrs[i] = &luns[i];
    }
    ptrs[VMEDIA_LUNS] = NULL; /* libusbgx also walks the array to its NULL */
    *attrs = (struct usbg_f_ms_attrs){.stall = true, .nluns = VMEDIA_LUNS, .luns = ptrs};
}

bool vmedia_lun_host_online(const struct vmedia_drive *d)
{
    const char *udc = gadget_udc(d->gadget);
    if (!udc || !udc[0])
        return false;
    char path[PATH_MAX], state[32] = "";
    snprintf(path, sizeof(path), "/sys/class/udc/%s/state", udc);
    FILE *f = fopen(path, "re");
    if (!f)
        return false;
    if (!fgets(state, sizeof(state), f))
        state[0] = 0;
    fclose(f);
    return strncmp(state, "configured", 10) == 0;
}

int vmedia_drive_gadget_up(const struct config_vmedia *cfg, const char *state_dir, struct gadget *gadget)
{
    struct usbg_f_ms_attrs attrs;
    struct usbg_f_ms_lun_attrs luns[VMEDIA_LUNS], *ptrs[VMEDIA_LUNS + 1];
    vmedia_lun_attrs(&attrs, luns, ptrs);
    bool on_demand = strcmp(cfg->usb, "mounted") == 0;
    if (gadget_add_function_ex(gadget, USBG_F_MASS_STORAGE, VMEDIA_MS_INSTANCE, &attrs, !on_demand, NULL) < 0)
        return -1;
    struct stat st;
    if (stat(state_dir, &st) < 0) {
        LOG_ERROR("vmedia", "[state] dir %s: %s (its owner is the daemon's user, who gets the USB drive)",
                  state_dir, strerror(errno));
        return -1;
    }
    static const char *const owned[] = {"file", "ro", "forced_eject"};
    for (int lun = 0; lun < VMEDIA_LUNS; lun++) {
        char dir[PATH_MAX - 32], path[PATH_MAX];
        snprintf(path, sizeof(path), VMEDIA_MS_FUNCTION "/lun.%d", lun);
        if (gadget_function_dir(gadget, path, dir, sizeof(dir)) < 0)
            return -1;
        for (size_t i = 0; i < sizeof(owned) / sizeof(owned[0]); i++) {
            snprintf(path, sizeof(path), "%s/%s", dir, owned[i]);
            if (chown(path, st.st_uid, st.st_gid) < 0) {
                LOG_ERROR("vmedia", "%s: cannot hand it to uid %u: %s", path, (unsigned)st.st_uid, strerror(errno));
                return -1;
            }
        }
    }
    /* usb = mounted: the daemon adds the drive to the configuration per mount */
    if (on_demand && gadget_hand_over(gadget, st.st_uid, st.st_gid) < 0)
        return -1;
    LOG_INFO("vmedia", "USB CD-ROM and flash drive added to the gadget%s; uid %u may mount media",
             on_demand ? " (on the bus only while mounted)" : "", (unsigned)st.st_uid);
    return 0;
}
