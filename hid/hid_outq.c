#include "hid/hid_outq.h"

#include <string.h>

bool hid_outq_push(struct hid_outq *q, const uint8_t *data, unsigned len, bool mergeable, int64_t event_ns,
                   int64_t now_ns)
{
    if (len > HID_REPORT_MAX)
        return false;
    struct hid_outq_entry *e;
    if (mergeable && q->n > 0) {
        e = &q->e[(q->head + q->n - 1) % HID_OUTQ_CAP];
        if (e->mergeable && e->len == len && e->data[0] == data[0]) { /* same buttons */
            memcpy(e->data, data, len);
            e->len = (uint8_t)len;
            e->event_ns = event_ns;
            return true;
        }
    }
    if (q->n == HID_OUTQ_CAP)
        return false;
    e = &q->e[(q->head + q->n) % HID_OUTQ_CAP];
    memcpy(e->data, data, len);
    e->len = (uint8_t)len;
    e->mergeable = mergeable;
    e->event_ns = event_ns;
    e->queued_ns = now_ns;
    q->n++;
    return true;
}

struct hid_outq_entry *hid_outq_head(struct hid_outq *q)
{
    return q->n ? &q->e[q->head] : NULL;
}

void hid_outq_pop(struct hid_outq *q)
{
    if (!q->n)
        return;
    q->head = (q->head + 1) % HID_OUTQ_CAP;
    q->n--;
}

unsigned hid_outq_clear(struct hid_outq *q)
{
    unsigned n = q->n;
    q->head = q->n = 0;
    return n;
}
