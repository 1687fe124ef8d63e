/* libFuzzer target for the paths under /api/sessions and /api/control
 * (web_parse_control_path): whatever the input, a route with an id has a
 * non-zero id and the path ends where its route says. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "web/web_parse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 256)
        return 0;
    char s[257];
    memcpy(s, data, size);
    s[size] = '\0';
    unsigned id = 12345;
    enum web_ctl_route r = web_parse_control_path(s, &id);
    char again[64];
    switch (r) {
    case WEB_CTL_SESSION_END:
        snprintf(again, sizeof(again), "/sessions/%u/end", id);
        if (!id || strcmp(again, s) != 0)
            abort(); /* only the canonical spelling of an id is accepted */
        break;
    case WEB_CTL_GIVE:
        snprintf(again, sizeof(again), "/control/give/%u", id);
        if (!id || strcmp(again, s) != 0)
            abort();
        break;
    default:
        if (id != 0)
            abort();
    }
    return 0;
}
