/* common/statefile: the mechanics of a small secrets file under [state] dir
 * that the daemon and `piglix user` both read-modify-write (web.users,
 * ipmi.users): mode 0600, an flock on a side lock file (the data file itself
 * is replaced, so it cannot carry the lock), reload when its mtime changes,
 * and atomic replacement (a temporary file, fsync, rename) so a reader never
 * sees half a file, and a power cut at any moment leaves the old or the new
 * content (fsync of the file, rename, fsync of the directory). The formats
 * stay with their owners. Failures are reported to err (when given) as
 * "path: reason". */
#ifndef PIGLIX_COMMON_STATEFILE_H
#define PIGLIX_COMMON_STATEFILE_H

#include <stddef.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <time.h>

/* Takes an exclusive flock on path (created 0600). The fd (> 0), or -1. */
int statefile_lock(const char *path, FILE *err);
/* Releases a lock from statefile_lock; *fd <= 0 (none held) is a no-op.
 * Leaves *fd at 0. */
void statefile_unlock(int *fd);

/* Opens path for reading. 1 opened (*f, *st filled), 0 missing, -1 error:
 * an empty file, or one whose last byte is not a line end, is refused as
 * torn (errno EBADMSG) — every writer of these files ends them with a line
 * end after a header — so that its reader keeps what it had. */
int statefile_open(const char *path, FILE **f, struct stat *st, FILE *err);
/* The next line that is neither blank nor a # comment, without its line
 * end, into line[size]; *lineno counts every line read. 0 at the end. */
int statefile_next_line(FILE *f, char *line, size_t size, int *lineno);

/* Whether path's mtime differs from seen (a missing file's is {0}).
 * 1 changed, 0 unchanged, -1 error. */
int statefile_changed(const char *path, const struct timespec *seen);

/* Replaces path atomically (as statefile_replace) with what write_body(f,
 * ctx) prints, -1 from it or a stream error failing the write; on success
 * *mtime (may be NULL) is the new file's. 0 or -1. */
int statefile_write(const char *path, int (*write_body)(FILE *f, void *ctx), void *ctx, mode_t mode,
                    struct timespec *mtime, FILE *err);
/* The same with what write_body(fd, ctx) writes (0 on success) and the
 * given mode. The temporary file has a random name made with O_EXCL beside
 * path, and a symlink at path is replaced, never followed: safe in a
 * directory another user can write. mtime may be NULL. */
int statefile_replace(const char *path, int (*write_body)(int fd, void *ctx), void *ctx, mode_t mode,
                      struct timespec *mtime, FILE *err);
int statefile_write_bytes(const char *path, const void *data, size_t len, mode_t mode, FILE *err);
/* Removes path durably: unlink, then fsync of its directory (a removal is
 * on disk only once the directory is). 0, 1 when there was nothing to
 * remove, or -1 (errno). */
int statefile_remove(const char *path);

/* statefile_replace's temporary files are named PATH.tmp-XXXXXX. */
#define STATEFILE_TMP_TAG ".tmp-"
/* Removes the temporary files a crash left in dir (PATH.tmp-XXXXXX that no
 * live writer holds: a writer keeps its temporary file flock'ed until the
 * rename). For the daemon's start. The number removed, or -1. */
int statefile_clean_temps(const char *dir, FILE *err);

/* For the CLI run as root on the daemon's state: when the process is root
 * and dir belongs to another user, becomes that user (groups, gid, uid, for
 * good) so that what it writes is the daemon's and no symlink that user
 * planted gets root's power. Refuses (-1) a dir writable by group or others
 * (without the sticky bit). A missing dir, or not root: nothing to do (0). */
int statefile_as_dir_owner(const char *dir, FILE *err);

#endif
