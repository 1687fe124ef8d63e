/* sd_notify's datagram protocol, without libsystemd. */
#include "common/sdnotify.h"

#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "common/log.h"

int sdnotify_send(const char *state)
{
    const char *path = getenv("NOTIFY_SOCKET");
    if (!path || !*path)
        return 0;
    struct sockaddr_un addr = {.sun_family = AF_UNIX};
    size_t len = strlen(path);
    /* '@' names a socket in the abstract namespace (a leading NUL byte). */
    if ((path[0] != '/' && path[0] != '@') || len >= sizeof(addr.sun_path))
        return -EINVAL;
    memcpy(addr.sun_path, path, len);
    if (path[0] == '@')
        addr.sun_path[0] = '\0';
    socklen_t addr_len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len);
    int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -errno;
    ssize_t n = sendto(fd, state, strlen(state), MSG_NOSIGNAL, (const struct sockaddr *)&addr, addr_len);
    int err = n < 0 ? errno : 0;
    close(fd);
    return err ? -err : 1;
}

static int64_t monotonic_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

bool sdnotify_watchdog_init(struct sdnotify_watchdog *wd)
{
    *wd = (struct sdnotify_watchdog){.last_ms = monotonic_ms()};
    const char *usec = getenv("WATCHDOG_USEC");
    const char *pid = getenv("WATCHDOG_PID");
    if (!usec || !*usec)
        return false;
    /* systemd sets WATCHDOG_PID to the main process; when it names another
     * process, the variables were inherited from a parent and are not ours. */
    if (pid && *pid && strtol(pid, NULL, 10) != (long)getpid())
        return false;
    char *end;
    errno = 0;
    long long us = strtoll(usec, &end, 10);
    if (errno || *end || us <= 0) {
        LOG_WARN("sdnotify", "ignoring WATCHDOG_USEC=%s", usec);
        return false;
    }
    wd->interval_ms = us / 1000 > 0 ? us / 1000 : 1;
    return true;
}

void sdnotify_watchdog_kick(struct sdnotify_watchdog *wd)
{
    if (wd->interval_ms <= 0)
        return;
    int64_t now = monotonic_ms();
    /* Half the interval, as sd_watchdog_enabled(3) advises: one late loop
     * turn does not get the daemon killed. */
    if (now - wd->last_ms < wd->interval_ms / 2)
        return;
    wd->last_ms = now;
    int r = sdnotify_send("WATCHDOG=1");
    if (r < 0 && !wd->error_logged) {
        LOG_ERROR("sdnotify", "watchdog notification failed: %s", strerror(-r));
        wd->error_logged = true;
    }
}
