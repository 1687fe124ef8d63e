/* The EDID file: hex text as `v4l2-ctl --get-edid format=hex` prints it (and
 * as deploy/edid/make_edid.py writes it), checked before it goes near the
 * device: a bad EDID makes the source pick modes the bridge cannot take. */
#include "capture/v4l2.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define V4L2_EDID_FILE_MAX (64 * 1024)

static int hex_value(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c = (char)tolower((unsigned char)c);
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

int v4l2_edid_parse(const char *text, uint8_t *out, char *err, size_t err_size)
{
    static const uint8_t header[8] = {0x00, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x00};
    size_t n = 0;
    int line = 1;
    for (const char *p = text; *p;) {
        if (*p == '#') {
            while (*p && *p != '\n')
                p++;
            continue;
        }
        if (isspace((unsigned char)*p)) {
            line += *p == '\n';
            p++;
            continue;
        }
        int hi = hex_value(p[0]), lo = p[1] ? hex_value(p[1]) : -1;
        if (hi < 0 || lo < 0) {
            char bad = hi < 0 ? p[0] : p[1];
            if (bad == '\0' || isspace((unsigned char)bad))
                snprintf(err, err_size, "line %d: a lone hex digit (bytes are pairs of digits)", line);
            else
                snprintf(err, err_size, "line %d: '%c' is not part of a hex byte", line, bad);
            return -1;
        }
        if (n >= (size_t)V4L2_EDID_MAX_BLOCKS * V4L2_EDID_BLOCK) {
            snprintf(err, err_size, "more than %d blocks of %d bytes", V4L2_EDID_MAX_BLOCKS, V4L2_EDID_BLOCK);
            return -1;
        }
        out[n++] = (uint8_t)(hi << 4 | lo);
        p += 2;
    }
    if (n == 0 || n % V4L2_EDID_BLOCK) {
        snprintf(err, err_size, "%zu bytes: not a whole number of %d-byte blocks", n, V4L2_EDID_BLOCK);
        return -1;
    }
    if (memcmp(out, header, sizeof(header)) != 0) {
        snprintf(err, err_size, "no EDID header (00 ff ff ff ff ff ff 00)");
        return -1;
    }
    int blocks = (int)(n / V4L2_EDID_BLOCK);
    for (int b = 0; b < blocks; b++) {
        uint8_t sum = 0;
        for (int i = 0; i < V4L2_EDID_BLOCK; i++)
            sum = (uint8_t)(sum + out[b * V4L2_EDID_BLOCK + i]);
        if (sum != 0) {
            snprintf(err, err_size, "block %d: checksum wrong (bytes sum to 0x%02x, not 0)", b, sum);
            return -1;
        }
    }
    if (out[126] != blocks - 1) {
        snprintf(err, err_size, "block 0 announces %d extension blocks, the file has %d", out[126], blocks - 1);
        return -1;
    }
    return blocks;
}

int v4l2_edid_load(const char *path, uint8_t *out, char *err, size_t err_size)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        snprintf(err, err_size, "%s", strerror(errno));
        return -1;
    }
    char *text = malloc(V4L2_EDID_FILE_MAX + 1);
    if (!text) {
        fclose(f);
        snprintf(err, err_size, "out of memory");
        return -1;
    }
    size_t len = fread(text, 1, V4L2_EDID_FILE_MAX + 1, f);
    bool failed = ferror(f);
    fclose(f);
    int r = -1;
    if (failed)
        snprintf(err, err_size, "read error");
    else if (len > V4L2_EDID_FILE_MAX)
        snprintf(err, err_size, "larger than %d bytes", V4L2_EDID_FILE_MAX);
    else if (memchr(text, '\0', len))
        snprintf(err, err_size, "binary file (want hex text)");
    else {
        text[len] = '\0';
        r = v4l2_edid_parse(text, out, err, err_size);
    }
    free(text);
    return r;
}
