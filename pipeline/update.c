/* server/update: see update.h. */
#include "pipeline/update.h"

#include <stdlib.h>
#include <string.h>

struct update *update_new(void)
{
    struct update *u = calloc(1, sizeof(*u));
    if (!u)
        return NULL;
    atomic_init(&u->refs, 1);
    return u;
}

struct update *update_ref(struct update *u)
{
    if (u)
        atomic_fetch_add_explicit(&u->refs, 1, memory_order_relaxed);
    return u;
}

void update_unref(struct update *u)
{
    if (!u)
        return;
    /* acq_rel so the last owner sees every write made through other references. */
    if (atomic_fetch_sub_explicit(&u->refs, 1, memory_order_acq_rel) != 1)
        return;
    free(u->data);
    free(u);
}

int update_append(struct update *u, const void *bytes, size_t n)
{
    if (n == 0)
        return 0;
    if (n > u->cap - u->len) {
        if (n > SIZE_MAX / 2 - u->len)
            return -1;
        size_t cap = u->cap ? u->cap : 4096;
        while (cap - u->len < n)
            cap *= 2;
        uint8_t *data = realloc(u->data, cap);
        if (!data)
            return -1;
        u->data = data;
        u->cap = cap;
    }
    memcpy(u->data + u->len, bytes, n);
    u->len += n;
    return 0;
}

static void update_put_be16(uint8_t *p, unsigned v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

int update_append_rect_header(struct update *u, unsigned x, unsigned y, unsigned w, unsigned h,
                              int32_t encoding)
{
    if (x > 0xffff || y > 0xffff || w > 0xffff || h > 0xffff)
        return -1;
    uint8_t hdr[12];
    update_put_be16(hdr + 0, x);
    update_put_be16(hdr + 2, y);
    update_put_be16(hdr + 4, w);
    update_put_be16(hdr + 6, h);
    uint32_t enc = (uint32_t)encoding;
    hdr[8] = (uint8_t)(enc >> 24);
    hdr[9] = (uint8_t)(enc >> 16);
    hdr[10] = (uint8_t)(enc >> 8);
    hdr[11] = (uint8_t)enc;
    if (update_append(u, hdr, sizeof(hdr)) != 0)
        return -1;
    u->nrects++;
    return 0;
}
