#include "common/statefile.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <grp.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

static void report(FILE *err, const char *path)
{
    if (err)
        fprintf(err, "%s: %s\n", path, strerror(errno));
}

int statefile_lock(const char *path, FILE *err)
{
    /* O_NOFOLLOW: a symlink planted at the lock's name must not make a
     * root-run CLI create or open a file elsewhere */
    int fd = open(path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0 || flock(fd, LOCK_EX) < 0) {
        report(err, path);
        if (fd >= 0)
            close(fd);
        return -1;
    }
    return fd;
}

void statefile_unlock(int *fd)
{
    if (*fd > 0) {
        flock(*fd, LOCK_UN);
        close(*fd);
    }
    *fd = 0;
}

int statefile_open(const char *path, FILE **f, struct stat *st, FILE *err)
{
    int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    *f = fd >= 0 ? fdopen(fd, "r") : NULL;
    if (!*f) {
        if (fd >= 0)
            close(fd);
        if (errno == ENOENT)
            return 0;
        report(err, path);
        return -1;
    }
    /* without fstat: no mtime (the next refresh reloads) and no mode to judge */
    if (fstat(fileno(*f), st) != 0)
        memset(st, 0, sizeof(*st));
    /* Every writer ends its file with a line end after a header line: an
     * empty file or one without its last line end was cut short (written
     * by something other than statefile_replace, or a disk that lied about
     * fsync). Loading it would silently lose accounts: refuse it, and the
     * caller keeps what it had. */
    char last = 0;
    if (st->st_size == 0 || pread(fileno(*f), &last, 1, st->st_size - 1) != 1 || last != '\n') {
        if (err)
            fprintf(err, "%s: %s: refused (cut short by a crash or a failing disk?)\n", path,
                    st->st_size == 0 ? "empty" : "no line end at its end");
        fclose(*f);
        *f = NULL;
        errno = EBADMSG;
        return -1;
    }
    return 1;
}

int statefile_next_line(FILE *f, char *line, size_t size, int *lineno)
{
    while (fgets(line, (int)size, f)) {
        (*lineno)++;
        line[strcspn(line, "\r\n")] = '\0';
        if (line[0] && line[0] != '#')
            return 1;
    }
    return 0;
}

int statefile_changed(const char *path, const struct timespec *seen)
{
    struct stat st;
    struct timespec m = {0};
    if (stat(path, &st) == 0)
        m = st.st_mtim;
    else if (errno != ENOENT)
        return -1;
    return m.tv_sec != seen->tv_sec || m.tv_nsec != seen->tv_nsec;
}

/* fsync of the directory that holds path. */
static int sync_parent_dir(const char *path)
{
    char dir[PATH_MAX];
    snprintf(dir, sizeof(dir), "%s", path);
    char *slash = strrchr(dir, '/');
    if (!slash)
        snprintf(dir, sizeof(dir), ".");
    else if (slash == dir)
        dir[1] = '\0';
    else
        *slash = '\0';
    int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0)
        return -1;
    int r = fsync(dfd);
    close(dfd);
    return r;
}

int statefile_remove(const char *path)
{
    if (unlink(path) < 0)
        return errno == ENOENT ? 1 : -1;
    return sync_parent_dir(path);
}

int statefile_replace(const char *path, int (*write_body)(int fd, void *ctx), void *ctx, mode_t mode,
                      struct timespec *mtime, FILE *err)
{
    char tmp[PATH_MAX];
    int n = snprintf(tmp, sizeof(tmp), "%s" STATEFILE_TMP_TAG "XXXXXX", path);
    if (n < 0 || (size_t)n >= sizeof(tmp)) {
        errno = ENAMETOOLONG;
        report(err, path);
        return -1;
    }
    /* A random name created with O_EXCL (mkostemp): nothing planted in the
     * directory beforehand can redirect the write. */
    int fd = mkostemp(tmp, O_CLOEXEC);
    if (fd < 0) {
        report(err, tmp);
        return -1;
    }
    /* Held until the rename is done: statefile_clean_temps removes only
     * temporary files nobody holds, i.e. those a crash left behind. */
    int bad = flock(fd, LOCK_EX | LOCK_NB) != 0;
    bad = bad || fchmod(fd, mode) != 0 || write_body(fd, ctx) != 0 || fsync(fd) != 0;
    /* rename replaces a symlink at path itself, never its target */
    if (bad || rename(tmp, path) != 0) {
        report(err, path);
        unlink(tmp);
        close(fd);
        return -1;
    }
    if (close(fd) != 0) {
        report(err, path);
        return -1;
    }
    /* The rename is only durable once the directory is on disk: a power cut
     * before that could bring back the old file (or none) after reboot. */
    if (sync_parent_dir(path) != 0) {
        report(err, path);
        return -1;
    }
    struct stat st;
    if (mtime && lstat(path, &st) == 0)
        *mtime = st.st_mtim;
    return 0;
}

/* Whether name is NAME.tmp-XXXXXX as statefile_replace makes them. */
static bool is_temp_name(const char *name)
{
    const char *tag = strstr(name, STATEFILE_TMP_TAG);
    if (!tag || tag == name)
        return false;
    const char *rnd = tag + strlen(STATEFILE_TMP_TAG);
    if (strlen(rnd) != 6)
        return false;
    for (const char *c = rnd; *c; c++)
        if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9')))
            return false;
    return true;
}

int statefile_clean_temps(const char *dir, FILE *err)
{
    int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    DIR *d = dfd >= 0 ? fdopendir(dfd) : NULL;
    if (!d) {
        if (dfd >= 0)
            close(dfd);
        if (errno == ENOENT)
            return 0;
        report(err, dir);
        return -1;
    }
    int removed = 0;
    for (struct dirent *e; (e = readdir(d));) {
        if (!is_temp_name(e->d_name))
            continue;
        int fd = openat(dfd, e->d_name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
        if (fd < 0)
            continue; /* gone meanwhile (renamed by its writer), or a symlink: not ours */
        struct stat held, now;
        /* A writer that is alive holds its temporary file's lock until the
         * rename: only a dead writer's leftovers are removed, and only the
         * file that was locked (still of that name) is unlinked. */
        if (fstat(fd, &held) == 0 && S_ISREG(held.st_mode) && flock(fd, LOCK_EX | LOCK_NB) == 0 &&
            fstatat(dfd, e->d_name, &now, AT_SYMLINK_NOFOLLOW) == 0 && now.st_ino == held.st_ino &&
            now.st_dev == held.st_dev && unlinkat(dfd, e->d_name, 0) == 0)
            removed++;
        close(fd);
    }
    if (removed)
        fsync(dirfd(d)); /* the removals, like the renames, by name on disk */
    closedir(d);
    return removed;
}

struct stdio_body {
    int (*write_body)(FILE *f, void *ctx);
    void *ctx;
};

static int stdio_body(int fd, void *ctx)
{
    const struct stdio_body *b = ctx;
    int dup_fd = dup(fd);
    FILE *f = dup_fd >= 0 ? fdopen(dup_fd, "w") : NULL;
    if (!f) {
        if (dup_fd >= 0)
            close(dup_fd);
        return -1;
    }
    int bad = b->write_body(f, b->ctx) != 0;
    bad |= ferror(f) != 0;
    bad |= fclose(f) != 0;
    return bad ? -1 : 0;
}

int statefile_write(const char *path, int (*write_body)(FILE *f, void *ctx), void *ctx, mode_t mode,
                    struct timespec *mtime, FILE *err)
{
    struct stdio_body b = {write_body, ctx};
    return statefile_replace(path, stdio_body, &b, mode, mtime, err);
}

struct bytes_body {
    const void *data;
    size_t len;
};

static int write_bytes_body(int fd, void *ctx)
{
    const struct bytes_body *b = ctx;
    const char *p = b->data;
    for (size_t left = b->len; left;) {
        ssize_t w = write(fd, p, left);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        p += w;
        left -= (size_t)w;
    }
    return 0;
}

int statefile_write_bytes(const char *path, const void *data, size_t len, mode_t mode, FILE *err)
{
    struct bytes_body b = {data, len};
    return statefile_replace(path, write_bytes_body, &b, mode, NULL, err);
}

int statefile_as_dir_owner(const char *dir, FILE *err)
{
    if (geteuid() != 0)
        return 0;
    struct stat st;
    if (stat(dir, &st) != 0) {
        if (errno == ENOENT)
            return 0; /* made by root now: root's, as asked */
        report(err, dir);
        return -1;
    }
    if (!S_ISDIR(st.st_mode)) {
        if (err)
            fprintf(err, "%s: not a directory\n", dir);
        return -1;
    }
    /* Writable by someone other than its owner: they could plant names
     * between our checks; the daemon's directory is 0700. */
    if ((st.st_mode & 022) && !(st.st_mode & S_ISVTX)) {
        if (err)
            fprintf(err, "%s: writable by group or others (mode %03o): refusing to write in it as root\n",
                    dir, (unsigned)(st.st_mode & 0777));
        return -1;
    }
    if (st.st_uid == 0)
        return 0;
    /* The daemon's directory: work as its owner, for good, so that every
     * file written belongs to the daemon's user and root's power is never
     * used on names that user controls. */
    if (setgroups(0, NULL) != 0 || setgid(st.st_gid) != 0 || setuid(st.st_uid) != 0 || getuid() != st.st_uid ||
        geteuid() != st.st_uid) {
        report(err, dir);
        return -1;
    }
    return 0;
}
