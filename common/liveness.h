/* common/liveness: which threads are alive, and systemd's watchdog fed only
 * while all of them are. Every thread that matters (capture, the VNC loop,
 * web, HID's writer, ATX, IPMI, ...) registers with a name and beats when it
 * makes progress; a thread that sleeps in poll() or on a condition wakes at
 * least every liveness_wake_ms() and beats even when idle. A small thread of
 * its own (liveness_watchdog_start) looks at every registered thread a few
 * times a second, sends WATCHDOG=1 (common/sdnotify.h) only while each has
 * beaten within the deadline, and names a wedged thread in the log once per
 * wedge (with how long). That thread does nothing else, so it cannot wedge
 * behind a slow client or a gone USB host.
 *
 * Threads: register, beat and unregister from the thread itself (beat and
 * unregister take the handle register gave; NULL is accepted and ignored,
 * so a full registry never stops a module). The rest from any thread. */
#ifndef PIGLIX_COMMON_LIVENESS_H
#define PIGLIX_COMMON_LIVENESS_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#define LIVENESS_MAX 48
#define LIVENESS_NAME_MAX 24
#define LIVENESS_DEFAULT_DEADLINE_MS 10000

/* The deadline every thread is held to (config [watchdog] deadline_ms);
 * before any thread registers. Out-of-range values are clamped to
 * 100..600000 ms. */
void liveness_set_deadline_ms(int deadline_ms);
int liveness_deadline_ms(void);
/* The longest an idle thread may sleep between beats: half the deadline,
 * so one late wake-up is not a wedge. */
int liveness_wake_ms(void);
/* CLOCK_MONOTONIC time wake_ms from now (for pthread_cond_timedwait on a
 * monotonic condition), or the earlier of that and *limit when limit is
 * given. */
struct timespec liveness_wake_at(const struct timespec *limit);

struct liveness;
/* For threads that sleep on a condition: pthread_cond_wait for at most
 * liveness_wake_ms() (on CLOCK_MONOTONIC whatever the condition's clock),
 * then beats (with mu released for the moment). Use it where
 * pthread_cond_wait was, in the loop that rechecks the predicate: a timeout
 * looks like a spurious wake-up, and no signal sent after the check is lost. */
void liveness_cond_wait(struct liveness *l, pthread_cond_t *cond, pthread_mutex_t *mu);
/* The poll() timeout for a thread that wants to wait timeout_ms (-1:
 * forever): no longer than liveness_wake_ms(). */
int liveness_poll_ms(int timeout_ms);

/* Registers the calling thread under name (copied, cut at
 * LIVENESS_NAME_MAX - 1); counts as a beat. NULL when the registry is full
 * (logged once). */
struct liveness *liveness_register(const char *name);
/* The thread is leaving: no longer watched. */
void liveness_unregister(struct liveness *l);
/* Progress. Cheap (one atomic store; test builds also check the freeze
 * hook below). */
void liveness_beat(struct liveness *l);

/* One registered thread as the checker sees it. */
struct liveness_status {
    char name[LIVENESS_NAME_MAX];
    int64_t silent_ms;      /* since its last beat */
    bool wedged;            /* silent_ms > deadline */
};
/* Copies up to max registered threads into out (registration order);
 * returns how many there are. */
int liveness_snapshot(struct liveness_status *out, int max);
/* Whether every registered thread beat within the deadline at now_ms. */
bool liveness_all_alive(int64_t now_ms);

/* The checker: once every tick it logs threads that wedged or moved again
 * and, while all are alive, sends WATCHDOG=1 at half of $WATCHDOG_USEC.
 * Without systemd's watchdog it still logs. Returns 0 or an errno value. */
int liveness_watchdog_start(void);
void liveness_watchdog_stop(void);
/* One turn of the checker at now_ms (the thread's body; unit tests drive
 * it). Returns true when all are alive. */
bool liveness_check(int64_t now_ms);

/* Test builds only (PIGLIX_TEST_HOOKS): with $PIGLIX_TEST_FREEZE naming a
 * file, the checker reads it every tick; the first registered thread whose
 * name it holds blocks at its next beat until the file names another (or
 * nothing). Release builds compile none of it. */

#endif
