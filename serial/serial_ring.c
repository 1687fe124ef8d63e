/* serial/serial_ring: recent console output, numbered from 0 so that each
 * reader keeps its own position and nobody waits for a slow one. */
#include "serial/serial_internal.h"

#include <stdlib.h>
#include <string.h>

int serial_ring_init(struct serial_ring *r, size_t cap)
{
    r->buf = malloc(cap ? cap : 1);
    r->cap = cap ? cap : 1;
    r->head = 0;
    return r->buf ? 0 : -1;
}

void serial_ring_free(struct serial_ring *r)
{
    free(r->buf);
    r->buf = NULL;
}

uint64_t serial_ring_oldest(const struct serial_ring *r)
{
    return r->head > r->cap ? r->head - r->cap : 0;
}

void serial_ring_append(struct serial_ring *r, const uint8_t *data, size_t len)
{
    if (len > r->cap) {         /* only the tail survives */
        r->head += len - r->cap;
        data += len - r->cap;
        len = r->cap;
    }
    size_t at = (size_t)(r->head % r->cap);
    size_t first = r->cap - at < len ? r->cap - at : len;
    memcpy(r->buf + at, data, first);
    memcpy(r->buf, data + first, len - first);
    r->head += len;
}

size_t serial_ring_read(const struct serial_ring *r, uint64_t *pos, uint8_t *out, size_t len,
                        uint64_t *lost)
{
    uint64_t oldest = serial_ring_oldest(r);
    if (lost)
        *lost = 0;
    if (*pos < oldest) {
        if (lost)
            *lost = oldest - *pos;
        *pos = oldest;
    }
    if (*pos > r->head)
        *pos = r->head;
    uint64_t avail = r->head - *pos;
    size_t n = avail < len ? (size_t)avail : len;
    size_t at = (size_t)(*pos % r->cap);
    size_t first = r->cap - at < n ? r->cap - at : n;
    memcpy(out, r->buf + at, first);
    memcpy(out + first, r->buf, n - first);
    *pos += n;
    return n;
}
