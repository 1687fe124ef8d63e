#include "tests/support/notify_sink.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include "common/clock.h"

int notify_sink_open(const char *tag, char *path, size_t size)
{
    snprintf(path, size, "/tmp/piglix-notify-%s-%d", tag, (int)getpid());
    unlink(path);
    struct sockaddr_un addr = {.sun_family = AF_UNIX};
    snprintf(addr.sun_path, sizeof(addr.sun_path), "%s", path);
    int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    if (bind(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0) {
        close(fd);
        return -1;
    }
    setenv("NOTIFY_SOCKET", path, 1);
    return fd;
}

int notify_sink_kicks(int fd, int ms)
{
    int64_t until = clock_mono_ms() + ms;
    int kicks = 0;
    while (clock_mono_ms() < until) {
        char buf[64];
        struct timeval tv = {0, 20000};
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
        ssize_t n = recv(fd, buf, sizeof(buf) - 1, 0);
        if (n > 0) {
            buf[n] = '\0';
            kicks += strcmp(buf, "WATCHDOG=1") == 0;
        }
    }
    return kicks;
}
