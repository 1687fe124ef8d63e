/* The USB drive in a build without libusbgx (PIGLIX_WITH_USBGX=OFF): the
 * image store still works; mounting says why it cannot. */
#include <stdio.h>

#include "common/log.h"
#include "vmedia/vmedia.h"

static const char not_built[] = "this piglix was built without USB gadget support (libusbgx)";

struct vmedia_drive *vmedia_drive_create(const struct config_vmedia *cfg, const char *state_dir, struct vmedia_store *store,
                                         struct gadget *gadget)
{
    LOG_ERROR("vmedia", "no USB drive: %s", not_built);
    return NULL;
}

int vmedia_drive_gadget_up(const struct config_vmedia *cfg, const char *state_dir, struct gadget *gadget)
{
    LOG_ERROR("vmedia", "no USB drive: %s", not_built);
    return -1;
}

void vmedia_drive_restore(struct vmedia_drive *d) {}
void vmedia_drive_destroy(struct vmedia_drive *d) {}

int vmedia_drive_mount(struct vmedia_drive *d, const char *image, enum vmedia_mode mode, bool rw, char *err,
                       size_t errlen)
{
    snprintf(err, errlen, "%s", not_built);
    return VMEDIA_E_IO;
}

int vmedia_drive_mount_url(struct vmedia_drive *d, const char *url, const char *name, enum vmedia_mode mode,
                           bool insecure, char *err, size_t errlen)
{
    snprintf(err, errlen, "%s", not_built);
    return VMEDIA_E_IO;
}

int vmedia_drive_eject(struct vmedia_drive *d, bool force, char *err, size_t errlen)
{
    snprintf(err, errlen, "%s", not_built);
    return VMEDIA_E_IO;
}

void vmedia_drive_get_status(struct vmedia_drive *d, struct vmedia_drive_status *out)
{
    *out = (struct vmedia_drive_status){0};
}
