/* common/sdnotify: tells systemd how the daemon is doing (sd_notify(3)'s
 * protocol: one datagram of "KEY=VALUE" lines to the AF_UNIX socket named by
 * $NOTIFY_SOCKET). Spoken directly rather than through libsystemd, so the
 * binary runs the same with and without systemd and links nothing more.
 * Without $NOTIFY_SOCKET every call is a no-op. */
#ifndef PIGLIX_COMMON_SDNOTIFY_H
#define PIGLIX_COMMON_SDNOTIFY_H

#include <stdbool.h>
#include <stdint.h>

/* Sends state (e.g. "READY=1\nSTATUS=serving"). Returns 1 when sent, 0 when
 * not started by systemd (no $NOTIFY_SOCKET), or -errno; never logs (the
 * watchdog below calls it every few seconds). */
int sdnotify_send(const char *state);

/* The service watchdog (WatchdogSec=): systemd restarts the daemon when no
 * WATCHDOG=1 arrives within the interval. */
struct sdnotify_watchdog {
    int64_t interval_ms;    /* $WATCHDOG_USEC; 0 = no watchdog */
    int64_t last_ms;        /* when WATCHDOG=1 was last sent (monotonic) */
    bool error_logged;      /* a failed send is logged once, not every kick */
};

/* Reads $WATCHDOG_USEC; a $WATCHDOG_PID naming another process means the
 * watchdog is not ours. Returns true when the watchdog is on. */
bool sdnotify_watchdog_init(struct sdnotify_watchdog *wd);
/* Sends WATCHDOG=1 once half the interval has passed since the last one.
 * Call it from the loop whose progress proves the daemon is alive. */
void sdnotify_watchdog_kick(struct sdnotify_watchdog *wd);

#endif
