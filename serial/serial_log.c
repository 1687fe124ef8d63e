/* serial/serial_log: every byte the server printed, on disk, with the time
 * each line began. Appends across restarts; rotates only between lines so
 * no file starts or ends in the middle of one (a line that never ends is
 * broken SERIAL_LOG_SLACK bytes past the limit to keep the size bounded).
 * One write() per chunk, no stdio buffer: what was read is on disk even if
 * piglix is killed. */
#include "serial/serial_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/log.h"

void serial_log_stamp(const struct timespec *now, char *out)
{
    struct tm tm;
    time_t s = now->tv_sec;
    gmtime_r(&s, &tm);
    if (strftime(out, 20, "%Y-%m-%dT%H:%M:%S", &tm) != 19)
        memcpy(out, "0000-00-00T00:00:00", 20);
    unsigned ms = (unsigned)((now->tv_nsec / 1000000) % 1000);
    out[19] = '.';
    out[20] = (char)('0' + ms / 100);
    out[21] = (char)('0' + ms / 10 % 10);
    out[22] = (char)('0' + ms % 10);
    out[23] = 'Z';
    out[24] = ' ';
    out[25] = '\0';
}

static int log_reopen(struct serial_log *l)
{
    if (mkdir(l->dir, 0750) < 0 && errno != EEXIST)
        return -1;
    l->fd = open(l->path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0640);
    if (l->fd < 0)
        return -1;
    struct stat st;
    l->size = fstat(l->fd, &st) == 0 ? (uint64_t)st.st_size : 0;
    l->at_line_start = true;
    l->need_newline = false;
    if (l->size > 0) {
        /* A file left in the middle of a line (killed mid-write) gets its
         * line ended before the next timestamp. */
        int rfd = open(l->path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
        char last = '\n';
        if (rfd >= 0) {
            if (pread(rfd, &last, 1, (off_t)l->size - 1) != 1)
                last = '\n';
            close(rfd);
        }
        l->need_newline = last != '\n';
    }
    return 0;
}

int serial_log_open(struct serial_log *l, const char *dir, uint64_t max_size, int keep)
{
    memset(l, 0, sizeof(*l));
    l->fd = -1;
    if (snprintf(l->dir, sizeof(l->dir), "%s", dir) >= (int)sizeof(l->dir) ||
        snprintf(l->path, sizeof(l->path), "%s/%s", dir, SERIAL_LOG_NAME) >= (int)sizeof(l->path)) {
        errno = ENAMETOOLONG;
        return -1;
    }
    l->max_size = max_size;
    l->keep = keep;
    l->at_line_start = true;
    return log_reopen(l);
}

void serial_log_close(struct serial_log *l)
{
    if (l->fd >= 0)
        close(l->fd);
    l->fd = -1;
}

/* console.log.(N-1) -> .N ... console.log -> .1 (or truncated when none are kept). */
static int log_rotate(struct serial_log *l)
{
    char from[320], to[320];
    close(l->fd);
    l->fd = -1;
    if (l->keep <= 0) {
        if (truncate(l->path, 0) < 0)
            return -1;
    } else {
        for (int i = l->keep; i >= 1; i--) {
            if (i == 1)
                snprintf(from, sizeof(from), "%s", l->path);
            else
                snprintf(from, sizeof(from), "%s.%d", l->path, i - 1);
            snprintf(to, sizeof(to), "%s.%d", l->path, i);
            if (rename(from, to) < 0 && errno != ENOENT)
                return -1;
        }
    }
    return log_reopen(l);
}

static int log_put(struct serial_log *l, const char *buf, size_t len)
{
    while (len > 0) {
        ssize_t n = write(l->fd, buf, len);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        buf += n;
        len -= (size_t)n;
        l->size += (uint64_t)n;
    }
    return 0;
}

int serial_log_write(struct serial_log *l, const uint8_t *data, size_t len,
                     const struct timespec *now)
{
    if (l->fd < 0 && log_reopen(l) < 0)
        goto fail;
    char stamp[SERIAL_LOG_STAMP_LEN + 1];
    serial_log_stamp(now, stamp);
    /* Built in one buffer per call so a chunk is one write(). */
    char out[8192];
    size_t o = 0;
    if (l->need_newline) {
        out[o++] = '\n';
        l->need_newline = false;
        l->at_line_start = true;
    }
    for (size_t i = 0; i < len; i++) {
        if (o + SERIAL_LOG_STAMP_LEN + 2 > sizeof(out)) {
            if (log_put(l, out, o) < 0)
                goto fail;
            o = 0;
        }
        bool too_long = !l->at_line_start && l->size + o >= l->max_size + SERIAL_LOG_SLACK;
        if (too_long) {
            out[o++] = '\n';
            l->at_line_start = true;
        }
        if (l->at_line_start) {
            if (l->size + o >= l->max_size) {
                if (log_put(l, out, o) < 0 || log_rotate(l) < 0)
                    goto fail;
                o = 0;
            }
            memcpy(out + o, stamp, SERIAL_LOG_STAMP_LEN);
            o += SERIAL_LOG_STAMP_LEN;
            l->at_line_start = false;
        }
        out[o++] = (char)data[i];
        if (data[i] == '\n')
            l->at_line_start = true;
    }
    if (o > 0 && log_put(l, out, o) < 0)
        goto fail;
    l->warned = false;
    return 0;
fail:
    if (!l->warned)
        LOG_WARN("serial", "console log %s: %s (output is still shown, not logged)", l->path,
                 strerror(errno));
    l->warned = true;
    if (l->fd >= 0)
        close(l->fd);
    l->fd = -1;
    return -1;
}
