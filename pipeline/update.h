/* server/update: a reference-counted buffer of encoded RFB rectangles (their
 * headers and payloads, without the FramebufferUpdate message header). One
 * is made per encoded region and the same bytes go to every client that
 * needs them. Used only from the server thread, but the count is atomic so a
 * later sender thread can hold references too. */
#ifndef PIGLIX_SERVER_UPDATE_H
#define PIGLIX_SERVER_UPDATE_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

struct update {
    atomic_int refs;
    uint8_t *data;
    size_t len, cap;
    uint32_t nrects;
};

struct update *update_new(void);          /* refs = 1; NULL on allocation failure */
struct update *update_ref(struct update *u);
void update_unref(struct update *u);       /* NULL is fine */
/* Appends bytes; returns 0 or -1 (allocation failure, buffer unchanged). */
int update_append(struct update *u, const void *bytes, size_t n);
/* Appends a rectangle header (x, y, w, h, encoding; big-endian) and counts it. */
int update_append_rect_header(struct update *u, unsigned x, unsigned y, unsigned w, unsigned h,
                              int32_t encoding);

#endif
