/* common/sysfs: the one-value files of sysfs and configfs, read and written
 * whole with one system call each (the kernel's show/store handlers take a
 * value per call; stdio could split or merge them). */
#ifndef PIGLIX_COMMON_SYSFS_H
#define PIGLIX_COMMON_SYSFS_H

#include <stddef.h>

/* Reads the value into buf without trailing newlines or spaces. 0 or -errno. */
int sysfs_read(const char *path, char *buf, size_t size);
/* Writes text in one write(); "" writes a lone newline (an empty value
 * still has to reach the store handler). 0 or -errno. */
int sysfs_write(const char *path, const char *text);

#endif
