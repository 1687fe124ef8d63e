/* atx/guard: the button-release guard, a tiny process that outlives piglix.
 *
 * What the kernel does (checked in tests/vm/test_atx.py with the simulated
 * board): when a process holding a GPIO line dies, even by SIGKILL, gpiolib
 * frees the line, but the line keeps its direction and value unless the
 * chip's driver returns freed lines to input. gpiolib's core never resets
 * them; upstream bcm2835 pinctrl does, Raspberry Pi's own kernels keep
 * outputs driven by default. So piglix killed mid-press could leave the power
 * button held, and a held power button turns the server off after 4 s.
 *
 * The guard is forked at start (before any thread) and waits on a socket
 * whose other end only piglix holds. When piglix exits cleanly it says so and
 * the guard leaves the lines alone; when piglix dies in any other way the
 * socket reads EOF, and the guard requests each button line as an output at
 * its released level (retrying while the kernel still frees the dead
 * process's request) and frees it again, which leaves it released. The guard
 * has its own session (a signal to piglix's process group does not reach
 * it), ignores SIGINT/SIGTERM/SIGHUP, and after fork() makes system calls
 * only, so it can also be restarted from a running thread when it was
 * killed on its own. */
#ifndef PIGLIX_ATX_GUARD_H
#define PIGLIX_ATX_GUARD_H

#include <stdbool.h>
#include <sys/types.h>

#define ATX_GUARD_MAX_LINES 4

struct atx_guard_line {
    unsigned int offset;
    bool active_low;
};

struct atx_guard {
    pid_t pid;      /* 0: not running */
    int sock;       /* piglix's end */
};

/* Forks the guard for the lines of the chip at chip_path. Returns 0 or -1 (logged). */
int atx_guard_start(struct atx_guard *guard, const char *chip_path,
                    const struct atx_guard_line *lines, int n_lines);

/* The guard ended although piglix runs (someone killed it): reaps it and
 * starts a new one for the same lines. Returns 0 or -1 (logged). */
int atx_guard_restart(struct atx_guard *guard, const char *chip_path,
                      const struct atx_guard_line *lines, int n_lines);

/* Tells the guard piglix stops cleanly (the buttons are released) and reaps it. */
void atx_guard_stop(struct atx_guard *guard);

#endif
