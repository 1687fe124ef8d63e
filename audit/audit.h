/* audit: the audit log. Who did what, from where, through which door:
 * logins and failures, logouts and session ends, role refusals, power
 * actions, virtual media, account changes, configuration reloads, signal
 * loss, sensor thresholds, chassis intrusion.
 *
 * The log is process-wide, like common/log's level: every door (web, API,
 * Redfish, IPMI, VNC, the CLI) and every device module records into it, and
 * threading a handle through each of them would change every module's
 * interface for one call. Only audit/ writes its state; only main() opens
 * and closes it (audit_open / audit_close). Before audit_open, or after
 * audit_close, audit_record only writes the journal line.
 *
 * Threads: audit_record and audit_record_role_refused may be called from
 * any thread and never wait for the disk: the record goes into a bounded
 * queue that a writer thread appends to the file (a full queue drops the
 * record and counts it: a flood of failed logins must not stall a door).
 * Each record also goes to the journal at once (a stderr line, module
 * "audit"). audit_query, audit_get, audit_stats and audit_clear may be
 * called from any thread; they read the files (they wait for what is
 * already queued to be written first, at most 0.5 s).
 *
 * The file: [state] dir/audit.log, rotated to audit.log.1 ... when it would
 * pass [audit] max_kb; at most [audit] files files are kept. One record a
 * line: "LEN CRC PAYLOAD\n" (audit/README.md), so a record torn by a power
 * loss is detected and dropped on load, and the next append starts on a
 * clean line. Records are fsynced in batches: each batch written while the
 * previous fsync ran is synced together.
 *
 * Optionally each record also goes to a remote syslog ([audit] syslog =
 * udp://HOST:PORT or tcp://HOST:PORT; RFC 5424, octet counting on TCP),
 * on non-blocking sockets: a collector that is down or slow costs records
 * for it, never a stalled writer. */
#ifndef PIGLIX_AUDIT_AUDIT_H
#define PIGLIX_AUDIT_AUDIT_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "common/config.h"

enum audit_kind {
    AUDIT_LOGIN,
    AUDIT_LOGIN_FAILED,
    AUDIT_LOGOUT,
    AUDIT_SESSION_END,      /* a session ended without a logout: idle, expired, closed by an admin */
    AUDIT_ROLE_REFUSED,     /* an account's role does not allow the action */
    AUDIT_POWER_ACTION,
    AUDIT_MEDIA_UPLOAD,
    AUDIT_MEDIA_MOUNT,
    AUDIT_MEDIA_EJECT,
    AUDIT_MEDIA_DELETE,
    AUDIT_ACCOUNT_CHANGE,
    AUDIT_ROLE_CHANGE,
    AUDIT_CONFIG_RELOAD,
    AUDIT_SIGNAL_LOST,
    AUDIT_SIGNAL_BACK,
    AUDIT_SENSOR_THRESHOLD,
    AUDIT_CHASSIS_INTRUSION,
    AUDIT_LOG_CLEARED,
    AUDIT_SERVICE_START,
    AUDIT_SERVICE_STOP,
    AUDIT_KIND_COUNT
};

enum audit_iface {
    AUDIT_IF_WEB,       /* the browser UI (cookie sessions) */
    AUDIT_IF_API,       /* the REST API with a token or Basic credentials */
    AUDIT_IF_VNC,
    AUDIT_IF_REDFISH,
    AUDIT_IF_IPMI,
    AUDIT_IF_SERIAL,
    AUDIT_IF_CLI,       /* `piglix user ...`, `piglix atx ...` */
    AUDIT_IF_SYSTEM,    /* the appliance itself: signal, sensors, reloads */
    AUDIT_IF_COUNT
};

enum audit_outcome { AUDIT_OK, AUDIT_FAILED, AUDIT_REFUSED, AUDIT_OUTCOME_COUNT };

#define AUDIT_ACCOUNT_MAX 64
#define AUDIT_ADDRESS_MAX 64
#define AUDIT_DETAIL_MAX 192
/* The longest line a record takes in the file, "\n" included. */
#define AUDIT_LINE_MAX 512

struct audit_event {
    uint64_t id;            /* 1, 2, ...: increasing across restarts and rotations */
    int64_t time_ms;        /* UTC, milliseconds since the epoch */
    enum audit_kind kind;
    enum audit_iface iface;
    enum audit_outcome outcome;
    char account[AUDIT_ACCOUNT_MAX];    /* "" when none (system events) */
    char address[AUDIT_ADDRESS_MAX];    /* the peer's address, "" when none */
    char detail[AUDIT_DETAIL_MAX];      /* what: "power on", "image x.iso" */
};

/* Names as they appear in the file, the API and the journal ("login_failed",
 * "redfish", "refused"); parse returns -1 for an unknown name. */
const char *audit_kind_name(enum audit_kind kind);
int audit_kind_parse(const char *name);
const char *audit_iface_name(enum audit_iface iface);
int audit_iface_parse(const char *name);
const char *audit_outcome_name(enum audit_outcome outcome);
int audit_outcome_parse(const char *name);

/* Checks [audit] (the syslog URL's form) for --check-config. 0 or -1. */
int audit_check_config(const struct config_audit *cfg, FILE *err);

/* Opens the process-wide log on [state] dir: creates the directory's
 * audit.log (0600), drops a torn last record, starts the writer thread and
 * the syslog forwarder. direct (the CLI's one-shot commands): no thread,
 * each record is appended and synced before audit_record returns. 0 or -1
 * (a message on err). */
int audit_open(const struct config_audit *cfg, const char *state_dir, bool direct, FILE *err);
/* Writes what is queued, stops the writer, closes the files. */
void audit_close(void);

/* Records one event (time now). account, address may be NULL; detail is a
 * printf format (may be NULL). Control characters and invalid UTF-8 become
 * '?', long fields are cut. Never pass a secret. */
void audit_record(enum audit_kind kind, enum audit_iface iface, enum audit_outcome outcome,
                  const char *account, const char *address, const char *detail_fmt, ...)
    __attribute__((format(printf, 6, 7)));
void audit_vrecord(enum audit_kind kind, enum audit_iface iface, enum audit_outcome outcome,
                   const char *account, const char *address, const char *detail_fmt, va_list ap);
/* A role refused an action (what: "power on", "PUT /api/config"). */
void audit_record_role_refused(enum audit_iface iface, const char *account, const char *address,
                               const char *what);

struct audit_query {
    int64_t since_ms;       /* time >= since_ms (0: no bound) */
    int64_t until_ms;       /* time < until_ms (0: no bound) */
    uint32_t kinds;         /* bit (1 << kind) set for each wanted kind; 0: all */
    uint64_t before_id;     /* the cursor: only ids below it (0: from the newest) */
    uint64_t skip;          /* leave out this many of the newest matches first (Redfish's $skip) */
};
/* Up to max records matching q, newest first, into out; *n how many. The
 * files are read from the newest record back and only until the page is
 * full (plus one record, for *next): a page near the top costs its own
 * records, not the whole log.
 * *next is the cursor for the following page (the last id returned), 0
 * when there is none. 0 or -1 (no log open, or a read error). */
int audit_query(const struct audit_query *q, struct audit_event *out, size_t max, size_t *n, uint64_t *next);
/* The record with this id: 1 found, 0 not, -1 error. */
int audit_get(uint64_t id, struct audit_event *out);

/* Calls fn for every record, oldest first (fn returns 0 to go on, 1 to
 * stop): for readers that index the whole log (the IPMI SEL). 0 or -1. */
int audit_foreach(int (*fn)(const struct audit_event *ev, void *ctx), void *ctx);

struct audit_stats {
    size_t count;           /* records in the files */
    uint64_t first_id, last_id;         /* 0 when empty */
    uint64_t bytes, max_bytes;          /* in the files; their bound */
    int64_t last_add_ms, last_clear_ms; /* UTC ms, 0 when never (since start) */
    uint64_t dropped;       /* records the full queue dropped since start */
    uint64_t syslog_dropped;            /* records the syslog forwarder could not send */
};
int audit_stats(struct audit_stats *st);
/* Removes every record (all files), then records AUDIT_LOG_CLEARED for
 * who cleared it. 0 or -1. */
int audit_clear(enum audit_iface iface, const char *account, const char *address);

/* For readers' filters (GET /api/log): a time as milliseconds since the
 * epoch ("1765043200000") or ISO 8601 UTC ("2026-12-06T18:00:00Z",
 * optionally with .mmm); a comma-separated list of kind names as a mask
 * for struct audit_query's kinds. 0 or -1. */
int audit_parse_time(const char *s, int64_t *ms);
int audit_parse_kinds(const char *list, uint32_t *mask);
/* "2026-12-06T18:00:00.123Z" into buf[size] (at least 25 bytes). */
void audit_format_time(int64_t ms, char *buf, size_t size);

/* The file's line format (audit/record.c), for tests and the fuzzer.
 * Formats ev as one line into buf[size] with its "\n"; the length or -1. */
int audit_format_line(const struct audit_event *ev, char *buf, size_t size);
/* Parses one line of len bytes (its "\n" included): 0 and *ev, or -1 when
 * the line is malformed, torn or its CRC does not match. */
int audit_parse_line(const char *line, size_t len, struct audit_event *ev);

#endif
