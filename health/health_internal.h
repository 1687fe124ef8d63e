/* health's private helpers, shared by its two files (not for other modules). */
#ifndef PIGLIX_HEALTH_INTERNAL_H
#define PIGLIX_HEALTH_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "health/health.h"

/* Between what was found and the fix in health_add's format: "... not found"
 * HEALTH_FIX "set [atx] chip to ..." (the ASCII unit separator). */
#define HEALTH_FIX "\x1f"

__attribute__((format(printf, 4, 5)))
void health_add(struct health_report *r, const char *name, enum health_status status, const char *fmt, ...);
/* snprintf for paths and names: a truncated path names nothing, which the
 * check then reports as missing (so truncation needs no case of its own). */
__attribute__((format(printf, 3, 4)))
void health_fmt(char *out, size_t size, const char *fmt, ...);
void health_dev_path(const struct health_env *env, const char *path, char *out, size_t size);
/* sysfs_read of root/rel. */
int health_read(const char *root, const char *rel, char *buf, size_t size);
/* The last component of a symlink's target (a sysfs device's driver). */
int health_link_name(const char *path, char *out, size_t size);
int64_t health_meminfo_kb(const struct health_env *env, const char *key);

#endif
