/* common/statefile: the mechanics of a small secrets file under [state] dir
 * that the daemon and `piglix user` both read-modify-write (web.users,
 * ipmi.users): mode 0600, an flock on a side lock file (the data file itself
 * is replaced, so it cannot carry the lock), reload when its mtime changes,
 * and atomic replacement (a temporary file, fsync, rename) so a reader never
 * sees half a file. The formats stay with their owners. Failures are
 * reported to err (when given) as "path: reason". */
#ifndef PIGLIX_COMMON_STATEFILE_H
#define PIGLIX_COMMON_STATEFILE_H

#include <stddef.h>
#include <stdio.h>
#include <sys/stat.h>
#include <time.h>

/* Takes an exclusive flock on path (created 0600). The fd (> 0), or -1. */
int statefile_lock(const char *path, FILE *err);
/* Releases a lock from statefile_lock; *fd <= 0 (none held) is a no-op.
 * Leaves *fd at 0. */
void statefile_unlock(int *fd);

/* Opens path for reading. 1 opened (*f, *st filled), 0 missing, -1 error. */
int statefile_open(const char *path, FILE **f, struct stat *st, FILE *err);
/* The next line that is neither blank nor a # comment, without its line
 * end, into line[size]; *lineno counts every line read. 0 at the end. */
int statefile_next_line(FILE *f, char *line, size_t size, int *lineno);

/* Whether path's mtime differs from seen (a missing file's is {0}).
 * 1 changed, 0 unchanged, -1 error. */
int statefile_changed(const char *path, const struct timespec *seen);

/* Replaces path atomically with mode 0600 with what write_body(f, ctx)
 * prints; on success *mtime is the new file's. 0 or -1. */
int statefile_write(const char *path, void (*write_body)(FILE *f, void *ctx), void *ctx,
                    struct timespec *mtime, FILE *err);

#endif
