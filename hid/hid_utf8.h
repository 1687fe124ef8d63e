/* hid/hid_utf8: a strict UTF-8 decoder for text to be typed (no overlong
 * forms, no surrogates, nothing above U+10FFFF, nothing cut short). */
#ifndef PIGLIX_HID_UTF8_H
#define PIGLIX_HID_UTF8_H

#include <stddef.h>
#include <stdint.h>

/* Decodes the character at s[*pos] (len bytes in all) into *cp and moves
 * *pos past it. Returns 0, or -1 for invalid UTF-8 (*pos unchanged). */
int hid_utf8_next(const char *s, size_t len, size_t *pos, uint32_t *cp);

/* Writes cp as UTF-8 into out (at least 5 bytes, NUL-terminated); returns
 * its length, 0 for a code point that has none. */
size_t hid_utf8_encode(uint32_t cp, char out[5]);

#endif
