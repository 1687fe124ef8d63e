#include "hid/hid_utf8.h"

int hid_utf8_next(const char *s, size_t len, size_t *pos, uint32_t *cp)
{
    const unsigned char *p = (const unsigned char *)s + *pos;
    size_t left = len - *pos;
    if (left == 0)
        return -1;
    unsigned char b = p[0];
    uint32_t c, min;
    size_t n;
    if (b < 0x80) {
        *cp = b;
        *pos += 1;
        return 0;
    } else if ((b & 0xe0) == 0xc0) {
        c = b & 0x1f, n = 2, min = 0x80;
    } else if ((b & 0xf0) == 0xe0) {
        c = b & 0x0f, n = 3, min = 0x800;
    } else if ((b & 0xf8) == 0xf0) {
        c = b & 0x07, n = 4, min = 0x10000;
    } else {
        return -1;
    }
    if (left < n)
        return -1;
    for (size_t i = 1; i < n; i++) {
        if ((p[i] & 0xc0) != 0x80)
            return -1;
        c = c << 6 | (p[i] & 0x3f);
    }
    if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
        return -1;
    *cp = c;
    *pos += n;
    return 0;
}

size_t hid_utf8_encode(uint32_t cp, char out[5])
{
    unsigned char *o = (unsigned char *)out;
    size_t n;
    if (cp < 0x80) {
        o[0] = (unsigned char)cp;
        n = 1;
    } else if (cp < 0x800) {
        o[0] = (unsigned char)(0xc0 | cp >> 6);
        o[1] = (unsigned char)(0x80 | (cp & 0x3f));
        n = 2;
    } else if (cp < 0x10000) {
        if (cp >= 0xd800 && cp <= 0xdfff)
            return out[0] = 0, 0;
        o[0] = (unsigned char)(0xe0 | cp >> 12);
        o[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3f));
        o[2] = (unsigned char)(0x80 | (cp & 0x3f));
        n = 3;
    } else if (cp <= 0x10ffff) {
        o[0] = (unsigned char)(0xf0 | cp >> 18);
        o[1] = (unsigned char)(0x80 | ((cp >> 12) & 0x3f));
        o[2] = (unsigned char)(0x80 | ((cp >> 6) & 0x3f));
        o[3] = (unsigned char)(0x80 | (cp & 0x3f));
        n = 4;
    } else {
        return out[0] = 0, 0;
    }
    out[n] = 0;
    return n;
}
