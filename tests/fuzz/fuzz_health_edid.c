/* Fuzzes health_edid_parse (what `piglix doctor` makes of the EDID a capture
 * device returns): any bytes either fail or give a vendor of three letters
 * or '?', a name of printable characters, and a mode within the 12-bit
 * fields of a detailed timing. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "health/health.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct health_edid e;
    if (health_edid_parse(data, size, &e) != 0)
        return 0;
    if (size < 128 || strlen(e.vendor) != 3 || strlen(e.name) > 13)
        abort();
    for (const char *p = e.name; *p; p++)
        if (*p < 0x20 || *p >= 0x7f)
            abort();
    if (e.width < 0 || e.width > 4095 || e.height < 0 || e.height > 4095 || e.pixclk_khz > 655350)
        abort();
    return 0;
}
