/* audit/: what its files share (the line format is in audit.h for the
 * tests and the fuzzer). */
#ifndef PIGLIX_AUDIT_INTERNAL_H
#define PIGLIX_AUDIT_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include "audit/audit.h"

/* record.c: copies src into dst[size], control characters and invalid
 * UTF-8 replaced by '?', cut on a character boundary. */
void audit_sanitize(char *dst, size_t size, const char *src);

/* file.c: the files under [state] dir. One writer at a time (the daemon's
 * writer thread or a CLI command) holds audit.lock exclusively while it
 * appends or rotates; readers hold it shared. */
struct audit_files {
    char path[4096];        /* DIR/audit.log; rotated ones add .1, .2 ... */
    char lock_path[4096];
    uint64_t max_bytes;     /* one file's bound */
    int files;
    int fd;                 /* audit.log, O_APPEND */
    dev_t dev;
    ino_t ino;
    uint64_t size;          /* what this process knows of audit.log's size */
    uint64_t last_id;
};

int audit_files_open(struct audit_files *af, const char *dir, uint64_t max_bytes, int files, FILE *err);
void audit_files_close(struct audit_files *af);
/* Gives evs[0..n) their ids, appends them (rotating as needed) under the
 * lock. Written to the file, not yet synced. 0 or -1 (errno). */
int audit_files_append(struct audit_files *af, struct audit_event *evs, size_t n);
int audit_files_sync(struct audit_files *af);
/* Removes every record. 0 or -1. */
int audit_files_clear(struct audit_files *af);

/* Calls fn for every whole record, oldest first, under a shared lock.
 * fn returns 0 to go on, 1 to stop. 0 or -1. */
int audit_files_scan(const char *path, const char *lock_path, int files,
                     int (*fn)(const struct audit_event *ev, void *ctx), void *ctx);
/* The same, newest first: the files from the current one back and each
 * file's lines from its end, so a reader of the newest page stops after
 * it instead of parsing the whole log. */
int audit_files_scan_newest(const char *path, const char *lock_path, int files,
                            int (*fn)(const struct audit_event *ev, void *ctx), void *ctx);
/* The offset just after the last whole record of buf[len) (what a torn
 * tail is cut back to) and, in *last_id, its id (0 when none). */
size_t audit_valid_end(const char *buf, size_t len, uint64_t *last_id);

/* syslog.c: forwarding to a remote syslog. */
enum audit_syslog_proto { AUDIT_SYSLOG_UDP, AUDIT_SYSLOG_TCP };
/* "udp://HOST:PORT" or "tcp://HOST:PORT" (HOST may be [IPv6]); 0 or -1. */
int audit_syslog_parse_url(const char *url, enum audit_syslog_proto *proto, char *host, size_t host_size,
                           char *port, size_t port_size);
/* One RFC 5424 message (no framing) into buf[size]; its length or -1. */
int audit_syslog_format(const struct audit_event *ev, const char *hostname, int pid, char *buf, size_t size);

struct audit_syslog;
struct audit_syslog *audit_syslog_open(const char *url, FILE *err);
void audit_syslog_close(struct audit_syslog *s);
/* Never blocks: a record that cannot be sent or buffered is counted. */
void audit_syslog_send(struct audit_syslog *s, const struct audit_event *ev);
/* Sends what is buffered (TCP), reconnects when due. Whether data waits. */
bool audit_syslog_poll(struct audit_syslog *s);
uint64_t audit_syslog_dropped(const struct audit_syslog *s);

#endif
