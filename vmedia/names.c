/* Names the drive and the store agree on: the drive's modes and an image
 * name made from a URL. Built with or without the USB drive. */
#include <stdio.h>
#include <string.h>

#include "vmedia/vmedia.h"

const char *vmedia_mode_name(enum vmedia_mode m)
{
    return m == VMEDIA_MODE_FLASH ? "flash" : "cdrom";
}

int vmedia_mode_parse(const char *s)
{
    if (strcmp(s, "cdrom") == 0 || strcmp(s, "cd") == 0)
        return VMEDIA_MODE_CDROM;
    if (strcmp(s, "flash") == 0 || strcmp(s, "disk") == 0)
        return VMEDIA_MODE_FLASH;
    return -1;
}

int vmedia_name_from_url(const char *url, char *out, size_t n)
{
    const char *p = strstr(url, "://");
    p = p ? p + 3 : url;
    /* never name an image after user:password@ */
    size_t auth = strcspn(p, "/?#");
    for (size_t i = 0; i < auth; i++)
        if (p[i] == '@')
            p += i + 1, auth -= i + 1, i = (size_t)-1;
    size_t end = strcspn(p, "?#");
    const char *last = p;
    for (size_t i = 0; i < end; i++)
        if (p[i] == '/')
            last = p + i + 1;
    size_t len = (size_t)(p + end - last);
    if (len == 0 || len >= n)
        return VMEDIA_E_NAME;
    memcpy(out, last, len);
    out[len] = 0;
    for (char *c = out; *c; c++)
        if (*c == '%' || (unsigned char)*c < 0x20)
            *c = '_';
    if (out[0] == '.')
        out[0] = '_';
    return vmedia_name_check(out);
}
