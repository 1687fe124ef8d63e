/* hid/hid_outq: reports waiting for an HID endpoint. The gadget's device
 * file takes one report per host poll (a write while one is pending fails
 * with EAGAIN), so a burst (a key press and release) waits here, in order,
 * for a few milliseconds. It is bounded in size and age: reports a host is
 * not taking are dropped, never replayed later. */
#ifndef PIGLIX_HID_OUTQ_H
#define PIGLIX_HID_OUTQ_H

#include <stdbool.h>
#include <stdint.h>

#include "hid/hid_report.h"

/* Big enough that age (report_max_age_ms), not count, is what drops: a
 * viewer's burst (a password typed by a VNC client's "type clipboard")
 * waits for a slow-polling host instead of being lost. */
#define HID_OUTQ_CAP 512

struct hid_outq_entry {
    uint8_t data[HID_REPORT_MAX];
    uint8_t len;
    bool mergeable;        /* pure motion: a newer motion report may replace it */
    int64_t event_ns;      /* when the input that caused it arrived (0: none) */
    int64_t queued_ns;
};

struct hid_outq {
    struct hid_outq_entry e[HID_OUTQ_CAP];
    unsigned head, n;
};

/* Appends, or replaces a mergeable tail with a mergeable report of the same
 * length and first byte (mouse buttons); false when full. */
bool hid_outq_push(struct hid_outq *q, const uint8_t *data, unsigned len, bool mergeable, int64_t event_ns,
                   int64_t now_ns);
struct hid_outq_entry *hid_outq_head(struct hid_outq *q); /* NULL when empty */
void hid_outq_pop(struct hid_outq *q);
/* Empties it; returns how many reports that dropped. */
unsigned hid_outq_clear(struct hid_outq *q);

#endif
