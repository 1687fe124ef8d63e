/* audit/file.c: audit.log and its rotated files under [state] dir.
 *
 * Appends go through O_APPEND under an exclusive flock on audit.lock, so
 * the daemon's writer and a `piglix user ...` command in another process
 * never interleave or hand out the same id: a writer that finds audit.log
 * changed behind its back (another size or inode) re-reads the last id
 * first. Rotation renames audit.log.(N-2) -> .(N-1) ... audit.log ->
 * audit.log.1 and starts an empty audit.log, so the files hold at most
 * files * max_bytes (plus one record). */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "audit/audit_internal.h"
#include "common/log.h"

static void sync_dir(const char *path);

/* A file bigger than this is not read whole (max_kb's limit, with room for
 * a CLI's records past it). */
#define FILE_READ_MAX ((uint64_t)80 << 20)

static void rotated_path(char *out, size_t size, const char *path, int k)
{
    /* audit_files_open keeps path short enough for the suffix */
    int n = k == 0 ? snprintf(out, size, "%s", path) : snprintf(out, size, "%s.%d", path, k);
    if (n < 0 || (size_t)n >= size)
        out[0] = '\0';
}

static int lock_file(const char *lock_path, int op)
{
    int fd = open(lock_path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0)
        return -1;
    while (flock(fd, op) < 0) {
        if (errno != EINTR) {
            close(fd);
            return -1;
        }
    }
    return fd;
}

static void unlock_file(int fd)
{
    if (fd >= 0)
        close(fd); /* closing drops the flock */
}

/* Reads a whole file into a malloc'd buffer. 1 read, 0 missing, -1 error. */
static int read_whole(const char *path, char **buf, size_t *len)
{
    *buf = NULL;
    *len = 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0)
        return errno == ENOENT ? 0 : -1;
    struct stat st;
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || (uint64_t)st.st_size > FILE_READ_MAX) {
        close(fd);
        errno = EFBIG;
        return -1;
    }
    char *b = malloc((size_t)st.st_size + 1);
    if (!b) {
        close(fd);
        return -1;
    }
    size_t got = 0;
    while (got < (size_t)st.st_size) {
        ssize_t r = read(fd, b + got, (size_t)st.st_size - got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        got += (size_t)r;
    }
    close(fd);
    *buf = b;
    *len = got;
    return 1;
}

size_t audit_valid_end(const char *buf, size_t len, uint64_t *last_id)
{
    size_t end = 0, pos = 0;
    *last_id = 0;
    while (pos < len) {
        const char *nl = memchr(buf + pos, '\n', len - pos);
        if (!nl)
            break;
        size_t llen = (size_t)(nl - (buf + pos)) + 1;
        struct audit_event ev;
        if (audit_parse_line(buf + pos, llen, &ev) == 0) {
            end = pos + llen;
            *last_id = ev.id;
        }
        pos += llen;
    }
    return end;
}

/* The last id in the files, newest file first. */
static uint64_t scan_last_id(const struct audit_files *af)
{
    for (int k = 0; k < af->files; k++) {
        char p[PATH_MAX];
        rotated_path(p, sizeof(p), af->path, k);
        char *buf;
        size_t len;
        if (read_whole(p, &buf, &len) <= 0)
            continue;
        uint64_t id;
        audit_valid_end(buf, len, &id);
        free(buf);
        if (id)
            return id;
    }
    return 0;
}

/* (Re)opens audit.log after cutting a torn tail off it; the lock is held. */
static int open_current(struct audit_files *af)
{
    if (af->fd >= 0)
        close(af->fd);
    af->fd = -1;
    char *buf;
    size_t len;
    int r = read_whole(af->path, &buf, &len);
    if (r < 0)
        return -1;
    int fd = open(af->path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0) {
        free(buf);
        return -1;
    }
    uint64_t id = 0;
    size_t end = r > 0 ? audit_valid_end(buf, len, &id) : 0;
    free(buf);
    if (r > 0 && end < len) {
        /* A record torn by a crash or a power loss: the next append must
         * start on a clean line, not glue itself to the stump. */
        LOG_WARN("audit", "%s: dropping %zu bytes of a torn record at its end", af->path, len - end);
        if (ftruncate(fd, (off_t)end) < 0 || fsync(fd) < 0) {
            close(fd);
            return -1;
        }
    }
    struct stat st;
    if (fstat(fd, &st) < 0) {
        close(fd);
        return -1;
    }
    af->fd = fd;
    af->dev = st.st_dev;
    af->ino = st.st_ino;
    af->size = (uint64_t)st.st_size;
    af->last_id = id ? id : scan_last_id(af);
    return 0;
}

int audit_files_open(struct audit_files *af, const char *dir, uint64_t max_bytes, int files, FILE *err)
{
    memset(af, 0, sizeof(*af));
    af->fd = -1;
    af->max_bytes = max_bytes;
    af->files = files < 1 ? 1 : files;
    if ((size_t)snprintf(af->path, sizeof(af->path), "%s/audit.log", dir) >= sizeof(af->path) - 8 ||
        (size_t)snprintf(af->lock_path, sizeof(af->lock_path), "%s/audit.lock", dir) >= sizeof(af->lock_path)) {
        fprintf(err, "audit: [state] dir too long\n");
        return -1;
    }
    int lk = lock_file(af->lock_path, LOCK_EX);
    if (lk < 0 || open_current(af) < 0) {
        fprintf(err, "audit: %s: %s\n", lk < 0 ? af->lock_path : af->path, strerror(errno));
        unlock_file(lk);
        return -1;
    }
    unlock_file(lk);
    sync_dir(af->path); /* a new audit.log survives a power loss by name too */
    return 0;
}

void audit_files_close(struct audit_files *af)
{
    if (af->fd >= 0) {
        fsync(af->fd);
        close(af->fd);
    }
    af->fd = -1;
}

static void sync_dir(const char *path)
{
    char dir[PATH_MAX];
    snprintf(dir, sizeof(dir), "%s", path);
    char *slash = strrchr(dir, '/');
    if (!slash)
        return;
    *slash = '\0';
    int fd = open(dir[0] ? dir : "/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0) {
        fsync(fd);
        close(fd);
    }
}

static int rotate(struct audit_files *af)
{
    if (fsync(af->fd) < 0)
        return -1;
    for (int k = af->files - 1; k >= 1; k--) {
        char from[PATH_MAX], to[PATH_MAX];
        rotated_path(from, sizeof(from), af->path, k - 1);
        rotated_path(to, sizeof(to), af->path, k);
        if (rename(from, to) < 0 && errno != ENOENT)
            return -1;
    }
    if (af->files == 1 && unlink(af->path) < 0 && errno != ENOENT)
        return -1;
    uint64_t last = af->last_id;
    sync_dir(af->path);
    if (open_current(af) < 0)
        return -1;
    af->last_id = last;
    return 0;
}

static int write_all(int fd, const char *buf, size_t len)
{
    while (len) {
        ssize_t w = write(fd, buf, len);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        buf += w;
        len -= (size_t)w;
    }
    return 0;
}

/* Whether audit.log is still the file this process appends to, at the
 * size it left it (another process may have appended or rotated). */
static bool current_unchanged(const struct audit_files *af)
{
    struct stat st;
    return af->fd >= 0 && stat(af->path, &st) == 0 && st.st_dev == af->dev && st.st_ino == af->ino &&
           (uint64_t)st.st_size == af->size;
}

int audit_files_append(struct audit_files *af, struct audit_event *evs, size_t n)
{
    int lk = lock_file(af->lock_path, LOCK_EX);
    if (lk < 0)
        return -1;
    int rc = 0;
    if (!current_unchanged(af) && open_current(af) < 0) {
        unlock_file(lk);
        return -1;
    }
    char buf[16 * AUDIT_LINE_MAX];
    size_t used = 0;
    for (size_t i = 0; i < n && rc == 0; i++) {
        evs[i].id = af->last_id + 1;
        char line[AUDIT_LINE_MAX + 1];
        int len = audit_format_line(&evs[i], line, sizeof(line));
        if (len < 0)
            continue; /* cannot happen with sanitized fields; never write a bad line */
        if (af->size + used + (size_t)len > af->max_bytes && af->size + used > 0) {
            if (write_all(af->fd, buf, used) < 0) {
                rc = -1;
                break;
            }
            af->size += used;
            used = 0;
            if (rotate(af) < 0) {
                rc = -1;
                break;
            }
        }
        if (used + (size_t)len > sizeof(buf)) {
            if (write_all(af->fd, buf, used) < 0) {
                rc = -1;
                break;
            }
            af->size += used;
            used = 0;
        }
        memcpy(buf + used, line, (size_t)len);
        used += (size_t)len;
        af->last_id = evs[i].id;
    }
    if (rc == 0 && used) {
        if (write_all(af->fd, buf, used) < 0)
            rc = -1;
        else
            af->size += used;
    }
    if (rc < 0) {
        int e = errno;
        /* A short write may have left part of a line: cut back to what is whole. */
        open_current(af);
        errno = e;
    }
    unlock_file(lk);
    return rc;
}

int audit_files_sync(struct audit_files *af)
{
    return af->fd >= 0 ? fdatasync(af->fd) : 0;
}

int audit_files_clear(struct audit_files *af)
{
    int lk = lock_file(af->lock_path, LOCK_EX);
    if (lk < 0)
        return -1;
    int rc = 0;
    for (int k = 1; k < af->files; k++) {
        char p[PATH_MAX];
        rotated_path(p, sizeof(p), af->path, k);
        if (unlink(p) < 0 && errno != ENOENT)
            rc = -1;
    }
    uint64_t last = af->last_id;
    if (rc == 0 && (af->fd < 0 || ftruncate(af->fd, 0) < 0 || fsync(af->fd) < 0))
        rc = -1;
    sync_dir(af->path);
    if (rc == 0) {
        af->size = 0;
        /* Ids go on: a client holding an old id never sees it reused. */
        if (open_current(af) == 0 && af->last_id < last)
            af->last_id = last;
    }
    unlock_file(lk);
    return rc;
}

typedef int (*audit_scan_fn)(const struct audit_event *ev, void *ctx);

/* Calls fn for each whole line of buf[len) that parses, first to last or
 * last to first; a torn last line (no line end) is not a record. Returns
 * 1 when fn said stop. */
static int scan_lines(const char *buf, size_t len, bool backwards, audit_scan_fn fn, void *ctx)
{
    size_t end = len;
    while (end > 0 && buf[end - 1] != '\n')
        end--;
    for (size_t pos = 0; pos < end;) {
        size_t start = pos, stop_at = end;
        if (backwards) { /* the line ending at buf[end - 1] */
            start = end - 1;
            while (start > 0 && buf[start - 1] != '\n')
                start--;
        } else {
            stop_at = (size_t)((const char *)memchr(buf + pos, '\n', end - pos) - buf) + 1;
        }
        struct audit_event ev;
        if (audit_parse_line(buf + start, stop_at - start, &ev) == 0 && fn(&ev, ctx))
            return 1;
        if (backwards)
            end = start;
        else
            pos = stop_at;
    }
    return 0;
}

/* The files oldest first (audit.log.N-1 ... audit.log) or newest first,
 * under a shared lock. */
static int scan_files(const char *path, const char *lock_path, int files, bool newest_first, audit_scan_fn fn,
                      void *ctx)
{
    int lk = lock_file(lock_path, LOCK_SH);
    if (lk < 0)
        return -1;
    int rc = 0, stop = 0;
    for (int i = 0; i < files && !stop && rc == 0; i++) {
        char p[PATH_MAX];
        rotated_path(p, sizeof(p), path, newest_first ? i : files - 1 - i);
        char *buf;
        size_t len;
        int r = read_whole(p, &buf, &len);
        if (r < 0)
            rc = -1;
        else if (r > 0)
            stop = scan_lines(buf, len, newest_first, fn, ctx);
        free(buf);
    }
    unlock_file(lk);
    return rc;
}

int audit_files_scan_newest(const char *path, const char *lock_path, int files, audit_scan_fn fn, void *ctx)
{
    return scan_files(path, lock_path, files, true, fn, ctx);
}

int audit_files_scan(const char *path, const char *lock_path, int files, audit_scan_fn fn, void *ctx)
{
    return scan_files(path, lock_path, files, false, fn, ctx);
}
