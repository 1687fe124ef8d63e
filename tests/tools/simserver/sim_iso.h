/* simserver medium: "boot from USB CD" reads the ISO 9660 root directory of
 * the block device the USB host sees (the CD-ROM /dev/srN, or /dev/sdX for
 * a flash-mode or hybrid image), with Rock Ridge names when present, and a
 * short preview of each small file's first line. It opens the device, reads
 * and closes at once: an open CD-ROM is locked, and the appliance must stay
 * able to eject it. Also reads image files (the host-side self-test). */
#ifndef SIM_ISO_H
#define SIM_ISO_H

#include <stdbool.h>
#include <stdint.h>

#define SIM_ISO_MAX_FILES 12
#define SIM_ISO_NAME_MAX 64

struct sim_iso_file {
    char name[SIM_ISO_NAME_MAX];
    uint64_t size;
    bool dir;
    char preview[32];   /* printable start of the first line ("" for binary or big files) */
};

struct sim_iso_listing {
    char device[64];
    char volume[33];
    int count;          /* entries listed (at most SIM_ISO_MAX_FILES) */
    int total;          /* entries in the root directory */
    struct sim_iso_file files[SIM_ISO_MAX_FILES];
    char error[96];     /* why nothing was listed */
};

/* The first USB medium device (sr* before sd*), into path; false when none. */
bool sim_iso_find_device(char *path, unsigned size);
/* 0 with the listing, or -1 with out->error set. */
int sim_iso_read(const char *path, struct sim_iso_listing *out);

#endif
