#include "atx/guard.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/gpio.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/log.h"

#define GUARD_CLEAN_EXIT 'Q'
#define GUARD_RETRY_MS 10
#define GUARD_RETRIES 500   /* 5 s for the dead process's requests to be freed */

static void say(const char *msg)
{
    ssize_t r = write(STDERR_FILENO, msg, strlen(msg));
    (void)r;
}

/* Closes every descriptor but stderr and the two the guard needs. */
static void close_others(int a, int b)
{
    int keep[3] = {STDERR_FILENO, a, b};
    for (int i = 1; i < 3; i++)
        for (int j = i; j > 0 && keep[j] < keep[j - 1]; j--) {
            int t = keep[j];
            keep[j] = keep[j - 1];
            keep[j - 1] = t;
        }
    unsigned int next = 0;
    for (int i = 0; i < 3; i++) {
        if (keep[i] < 0 || (unsigned int)keep[i] < next)
            continue;
        if ((unsigned int)keep[i] > next)
            close_range(next, (unsigned int)keep[i] - 1, 0);
        next = (unsigned int)keep[i] + 1;
    }
    close_range(next, ~0U, 0);
}

/* Only system calls from here on: the parent may have had other threads. */
static void guard_main(int chip_fd, int sock, struct gpiohandle_request *reqs, int n)
{
    setsid();
    struct sigaction ign = {.sa_handler = SIG_IGN};
    sigaction(SIGINT, &ign, NULL);
    sigaction(SIGTERM, &ign, NULL);
    sigaction(SIGHUP, &ign, NULL);
    sigaction(SIGPIPE, &ign, NULL);
    prctl(PR_SET_NAME, "piglix-atxguard", 0, 0, 0);
    close_others(chip_fd, sock);

    char c = 0;
    ssize_t r;
    do
        r = read(sock, &c, 1);
    while (r < 0 && errno == EINTR);
    if (r == 1 && c == GUARD_CLEAN_EXIT)
        _exit(0);

    /* piglix is gone without saying so: it may have died mid-press. */
    int failed = 0;
    for (int i = 0; i < n; i++) {
        int tries = 0;
        for (;;) {
            struct gpiohandle_request q = reqs[i];
            if (ioctl(chip_fd, GPIO_GET_LINEHANDLE_IOCTL, &q) == 0) {
                close(q.fd); /* freed at its released level, which it keeps */
                break;
            }
            if (errno != EBUSY || ++tries >= GUARD_RETRIES) {
                failed++;
                break;
            }
            struct timespec ts = {0, GUARD_RETRY_MS * 1000000L};
            nanosleep(&ts, NULL);
        }
    }
    say(failed ? "piglix-atx-guard: piglix died; could NOT release every ATX button line\n"
               : "piglix-atx-guard: piglix died; ATX buttons released\n");
    _exit(failed ? 1 : 0);
}

int atx_guard_start(struct atx_guard *guard, const char *chip_path,
                    const struct atx_guard_line *lines, int n_lines)
{
    guard->pid = 0;
    guard->sock = -1;
    if (n_lines <= 0 || n_lines > ATX_GUARD_MAX_LINES)
        return n_lines == 0 ? 0 : -1;
    /* Everything the child needs is prepared here: it must not allocate. */
    struct gpiohandle_request reqs[ATX_GUARD_MAX_LINES];
    memset(reqs, 0, sizeof(reqs));
    for (int i = 0; i < n_lines; i++) {
        reqs[i].lineoffsets[0] = lines[i].offset;
        reqs[i].flags = GPIOHANDLE_REQUEST_OUTPUT | (lines[i].active_low ? GPIOHANDLE_REQUEST_ACTIVE_LOW : 0);
        reqs[i].default_values[0] = 0; /* logical: released */
        snprintf(reqs[i].consumer_label, sizeof(reqs[i].consumer_label), "piglix-atx-guard");
        reqs[i].lines = 1;
    }
    int chip_fd = open(chip_path, O_RDWR | O_CLOEXEC);
    if (chip_fd < 0) {
        LOG_ERROR("atx", "guard: cannot open %s: %s", chip_path, strerror(errno));
        return -1;
    }
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) {
        LOG_ERROR("atx", "guard: socketpair: %s", strerror(errno));
        close(chip_fd);
        return -1;
    }
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0) {
        LOG_ERROR("atx", "guard: fork: %s", strerror(errno));
        close(sv[0]);
        close(sv[1]);
        close(chip_fd);
        return -1;
    }
    if (pid == 0) {
        close(sv[0]);
        guard_main(chip_fd, sv[1], reqs, n_lines);
    }
    close(sv[1]);
    close(chip_fd);
    guard->pid = pid;
    guard->sock = sv[0];
    LOG_DEBUG("atx", "guard process %d watches %d button line(s) of %s", (int)pid, n_lines, chip_path);
    return 0;
}

int atx_guard_restart(struct atx_guard *guard, const char *chip_path,
                      const struct atx_guard_line *lines, int n_lines)
{
    int status = 0;
    if (guard->pid > 0)
        while (waitpid(guard->pid, &status, 0) < 0 && errno == EINTR)
            ;
    if (guard->sock >= 0)
        close(guard->sock);
    LOG_WARN("atx", "the button-release guard (pid %d) ended (%s %d); starting a new one", (int)guard->pid,
             WIFSIGNALED(status) ? "signal" : "status", WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status));
    return atx_guard_start(guard, chip_path, lines, n_lines);
}

void atx_guard_stop(struct atx_guard *guard)
{
    if (guard->pid <= 0)
        return;
    char c = GUARD_CLEAN_EXIT;
    if (send(guard->sock, &c, 1, MSG_NOSIGNAL) != 1)
        LOG_WARN("atx", "guard: cannot tell it piglix stops cleanly: %s", strerror(errno));
    close(guard->sock);
    guard->sock = -1;
    int status;
    while (waitpid(guard->pid, &status, 0) < 0 && errno == EINTR)
        ;
    guard->pid = 0;
}
