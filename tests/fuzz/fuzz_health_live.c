/* Fuzzes health_live_parse (what `piglix doctor` makes of the daemon's
 * status file in [state] dir): any bytes either fail or give figures in
 * range, and those figures written out parse again to the same. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "health/health.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct health_live l, again;
    if (health_live_parse((const char *)data, size, &l) != 0)
        return 0;
    if (l.leds < -1 || l.leds > 255 || l.fps < 0 || l.fps > 1000 || l.source_fps < 0 || l.source_fps > 1000)
        abort();
    char text[512];
    int n = health_live_format(&l, text, sizeof(text));
    if (n < 0 || health_live_parse(text, (size_t)n, &again) != 0 || again.written_s != l.written_s ||
        again.frames != l.frames || again.leds != l.leds || again.hid != l.hid)
        abort();
    return 0;
}
