#include "common/statefile.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
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
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
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
    *f = fopen(path, "re");
    if (!*f) {
        if (errno == ENOENT)
            return 0;
        report(err, path);
        return -1;
    }
    /* without fstat: no mtime (the next refresh reloads) and no mode to judge */
    if (fstat(fileno(*f), st) != 0)
        memset(st, 0, sizeof(*st));
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

int statefile_write(const char *path, void (*write_body)(FILE *f, void *ctx), void *ctx,
                    struct timespec *mtime, FILE *err)
{
    char tmp[PATH_MAX];
    int n = snprintf(tmp, sizeof(tmp), "%s.tmp%ld", path, (long)getpid());
    if (n < 0 || (size_t)n >= sizeof(tmp)) {
        errno = ENAMETOOLONG;
        report(err, path);
        return -1;
    }
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;
    if (!f) {
        report(err, tmp);
        if (fd >= 0) {
            close(fd);
            unlink(tmp);
        }
        return -1;
    }
    write_body(f, ctx);
    int bad = fflush(f) != 0 || fsync(fileno(f)) != 0;
    bad |= fclose(f) != 0;
    if (bad || rename(tmp, path) != 0) {
        report(err, path);
        unlink(tmp);
        return -1;
    }
    struct stat st;
    if (stat(path, &st) == 0)
        *mtime = st.st_mtim;
    return 0;
}
