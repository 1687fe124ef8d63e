/* atx: the server's power: the ATX front panel on GPIO (power and HDD LEDs,
 * power and reset buttons, chassis intrusion) and Wake-on-LAN.
 *
 * atx_start() opens the lines and runs one thread that owns them: LED edges
 * arrive as GPIO line events, buttons are pressed on timers, and the caller
 * (the server thread, a web handler, the command line) never blocks:
 * atx_request() only checks and hands over, the outcome shows in the status.
 * One action runs at a time; a request while one runs is refused
 * (ATX_ERR_BUSY), never queued. The one exception: force-off may replace an
 * action that is only waiting for the power LED (no button held), so a hung
 * server can be turned off while a graceful off waits.
 *
 * A button is never left pressed: it is requested only for the length of a
 * press, released on every exit path of the thread, and a small guard process
 * releases it if piglix dies mid-press (even by SIGKILL): see atx/guard.h.
 *
 * All functions are thread-safe. */
#ifndef PIGLIX_ATX_ATX_H
#define PIGLIX_ATX_ATX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

struct config_atx;
struct atx;

enum atx_power {
    ATX_POWER_UNKNOWN,   /* no power LED wired, or not watched long enough yet */
    ATX_POWER_OFF,
    ATX_POWER_ON,
    ATX_POWER_STANDBY,   /* the power LED blinks (sleep, S3) */
};

enum atx_action {
    ATX_ACTION_ON,        /* short press, only when off or in standby; waits for the LED */
    ATX_ACTION_OFF,       /* graceful: short press when on, waits for the LED to go off */
    ATX_ACTION_FORCE_OFF, /* long press (held past the board's 4 s), waits for the LED */
    ATX_ACTION_RESET,     /* short press of the reset button */
    ATX_ACTION_CYCLE,     /* force off, stay off [atx] cycle_off_s, on (just on when off) */
    ATX_ACTION_WOL,       /* send the Wake-on-LAN magic packet */
    ATX_ACTION_COUNT
};

/* What atx_request() says at once. The web API maps them to HTTP codes. */
enum atx_error {
    ATX_OK = 0,             /* accepted: running; the outcome follows in the status (202) */
    ATX_ERR_ALREADY,        /* nothing to do: on when on, off when off (200) */
    ATX_ERR_BUSY,           /* another action is running (409) */
    ATX_ERR_STATE,          /* not in this power state: off in standby, reset when off,
                             * power state not known yet (409) */
    ATX_ERR_UNSUPPORTED,    /* not configured: no GPIO lines, no WoL MAC (501) */
    ATX_ERR_INVALID,        /* unknown action or empty "who" (400) */
    ATX_ERR_STOPPED,        /* shutting down (503) */
};

/* How a finished (or the running) action ended. */
enum atx_outcome {
    ATX_OUTCOME_NONE,       /* no action yet */
    ATX_OUTCOME_RUNNING,
    ATX_OUTCOME_DONE,       /* the power LED shows the wanted state */
    ATX_OUTCOME_PRESSED,    /* pressed; nothing to confirm it with (reset, no LED wired) */
    ATX_OUTCOME_SENT,       /* Wake-on-LAN packet sent */
    ATX_OUTCOME_TIMEOUT,    /* pressed, but the LED did not change in time */
    ATX_OUTCOME_FAILED,     /* a GPIO or network error; see detail */
    ATX_OUTCOME_SUPERSEDED, /* replaced by a force-off while waiting */
    ATX_OUTCOME_ABORTED,    /* piglix stopped during the action (buttons released) */
};

#define ATX_WHO_MAX 64
#define ATX_DETAIL_MAX 192

struct atx_action_record {
    uint64_t id;                   /* 1, 2, ...; 0: no action */
    enum atx_action action;
    char who[ATX_WHO_MAX];         /* who asked, as given to atx_request() */
    enum atx_outcome outcome;
    char detail[ATX_DETAIL_MAX];   /* human-readable: why, how long */
    int64_t started_ms, finished_ms; /* CLOCK_MONOTONIC milliseconds; finished 0 while running */
};

struct atx_status {
    bool gpio;                 /* GPIO lines configured and open */
    bool wol;                  /* a Wake-on-LAN MAC is configured */
    bool power_led_wired, hdd_led_wired, intrusion_wired;
    bool power_button_wired, reset_button_wired;
    enum atx_power power;
    bool power_led, hdd_led;   /* debounced LED levels (lit = true) */
    uint64_t hdd_activity;     /* HDD LED flashes seen (before debouncing) */
    bool intrusion;            /* chassis open (intrusion_wired only) */
    bool busy;                 /* an action is running: see current */
    struct atx_action_record current;
    struct atx_action_record last;   /* the last finished action (id 0: none) */
    uint64_t generation;       /* changes whenever anything above changes */
};

/* Opens the configured lines, starts the guard and the thread. A chip that
 * is not there is logged and looked for every 5 s (the buttons and LEDs
 * start when it comes; until then actions other than Wake-on-LAN say there
 * is no GPIO). Returns NULL (logged) when the chip is there but a line
 * cannot be used. */
struct atx *atx_start(const struct config_atx *cfg);

/* Releases any held button, stops the thread and the guard, frees. NULL is fine. */
void atx_stop(struct atx *atx);

/* Asks for an action on behalf of who (e.g. "web:admin@10.0.0.5", "cli:root";
 * required, logged, shortened to ATX_WHO_MAX-1, non-printable bytes replaced).
 * Never blocks. On ATX_OK the new action's id goes to *id when id is not NULL. */
enum atx_error atx_request(struct atx *atx, enum atx_action action, const char *who, uint64_t *id);

void atx_get_status(struct atx *atx, struct atx_status *out);

/* Blocks until the status generation differs from since, or timeout_ms passes
 * (-1: forever). Returns the current generation. Not for the server thread:
 * that one polls atx_notify_fd(). */
uint64_t atx_wait_change(struct atx *atx, uint64_t since, int timeout_ms);

/* An eventfd that becomes readable when the status changed; read 8 bytes to
 * clear it. For one consumer's poll loop. Owned by atx. */
int atx_notify_fd(struct atx *atx);

/* Names as the API and the logs use them: "on", "off", "force-off", "reset",
 * "cycle", "wol"; "unknown", "off", "on", "standby"; "ok", "already",
 * "busy", ...; "none", "running", "done", .... */
const char *atx_action_name(enum atx_action action);
const char *atx_power_name(enum atx_power power);
const char *atx_error_name(enum atx_error err);
const char *atx_outcome_name(enum atx_outcome outcome);
/* Parses an action name (also "force_off", "power-cycle"); -1 when unknown. */
int atx_action_parse(const char *name);

/* The status as one line of key=value pairs (for logs and the command line). */
int atx_status_format(const struct atx_status *st, char *buf, size_t size);

/* ---- the command line (atx/cli.c) ---- */
/* atx/cli: `piglix atx status|on|off|force-off|reset|cycle|wol`, the ATX
 * actions from the command line for scripts and tests. It opens the lines
 * itself, so it is for a machine where the daemon does not hold them ([atx]
 * enabled = no, or the daemon stopped); the daemon's actions go through its
 * web API. */
struct config_atx;

/* args: the subcommand and what follows. Prints one result line and then the
 * status line (key=value) to out. Exit status: 0 done (or nothing to do),
 * 1 timed out or failed, 2 usage, 3 refused, 4 the lines cannot be used. */
int atx_command(const struct config_atx *cfg, int n_args, char **args, FILE *out, FILE *err);

#endif
