/* ipmi/: the System Event Log: the audit log (audit/audit.h) as IPMI SEL
 * system event records, read with Get SEL Info / Allocation Info / Entry,
 * Reserve SEL, Get SEL Time, and emptied with Clear SEL. */
#ifndef PIGLIX_IPMI_SEL_H
#define PIGLIX_IPMI_SEL_H

#include <stddef.h>
#include <stdint.h>

#include "audit/audit.h"

#define IPMI_SEL_RECORD 16

/* A snapshot of the log as SEL records, oldest first: a client walks the
 * SEL one Get SEL Entry at a time, and reading the files for each would
 * cost a pass over them per record. Refreshed when older than a second
 * or when asked for a record it lacks. Owned by the IPMI thread. */
struct ipmi_sel {
    uint16_t *ids;          /* SEL record ids */
    uint8_t (*rec)[IPMI_SEL_RECORD];
    size_t n, cap;
    int64_t loaded_ms;      /* 0: never */
    uint16_t reservation;
    uint32_t last_add, last_erase; /* seconds since the epoch (Get SEL Info) */
};

/* The SEL record id of an audit record: 1..0xfffe, wrapping (0 and
 * 0xffff mean first and last in Get SEL Entry). */
uint16_t ipmi_sel_id(uint64_t audit_id);
/* One audit record as a system event record (type 02h) with a sensor type
 * and offset clients name: 2Ah Session Audit for logins, logouts and
 * failures; 06h Platform Security Violation for role refusals; 05h
 * Physical Security for intrusion; 01h-04h thresholds; 1Dh/09h for
 * power; 12h System Event for changes; 10h Event Logging for a clear. */
void ipmi_sel_record(const struct audit_event *ev, uint8_t out[IPMI_SEL_RECORD]);
void ipmi_sel_free(struct ipmi_sel *sel);

/* Storage commands 40h-48h: request d[n], reply r (r[0] the completion
 * code); the reply's length. priv is the session's privilege, user and
 * peer who asked (Clear SEL records them). */
size_t ipmi_sel_command(struct ipmi_sel *sel, uint8_t cmd, const uint8_t *d, size_t n, uint8_t *r,
                        const char *user, const char *peer, int64_t now_ms);

#endif
