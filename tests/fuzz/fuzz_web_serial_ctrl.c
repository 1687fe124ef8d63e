/* libFuzzer target for the web terminal's control messages (the text
 * frames a browser sends on /api/serial): anything but {"type":"break"}
 * must be refused, without crashing or leaking. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "web/web_internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 256)
        return 0;
    enum web_serial_ctrl r = web_serial_parse_control((const char *)data, size);
    if (r == WEB_SERIAL_CTRL_BREAK && !memmem(data, size, "break", 5))
        abort();
    return 0;
}
