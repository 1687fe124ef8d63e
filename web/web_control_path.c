/* The paths under /api/sessions and /api/control (web_parse.h). */
#include <string.h>

#include "web/web_parse.h"

/* A session id: 1..UINT32_MAX in decimal, no sign, no leading zero; *end
 * is what follows it. */
static int parse_id(const char *s, unsigned *id, const char **end)
{
    if (*s < '1' || *s > '9')
        return -1;
    unsigned long long v = 0;
    int n = 0;
    for (; *s >= '0' && *s <= '9'; s++) {
        if (++n > 10)
            return -1;
        v = v * 10 + (unsigned)(*s - '0');
    }
    if (v > 0xffffffffULL)
        return -1;
    *id = (unsigned)v;
    *end = s;
    return 0;
}

enum web_ctl_route web_parse_control_path(const char *sub, unsigned *id)
{
    static const struct { const char *path; enum web_ctl_route r; } fixed[] = {
        {"/sessions", WEB_CTL_SESSIONS}, {"/control", WEB_CTL_STATE},
        {"/control/request", WEB_CTL_REQUEST}, {"/control/release", WEB_CTL_RELEASE},
        {"/control/take", WEB_CTL_TAKE},
    };
    *id = 0;
    for (size_t i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++)
        if (strcmp(sub, fixed[i].path) == 0)
            return fixed[i].r;
    const char *end;
    if (strncmp(sub, "/sessions/", 10) == 0 && parse_id(sub + 10, id, &end) == 0 && strcmp(end, "/end") == 0)
        return WEB_CTL_SESSION_END;
    if (strncmp(sub, "/control/give/", 14) == 0 && parse_id(sub + 14, id, &end) == 0 && !*end)
        return WEB_CTL_GIVE;
    *id = 0;
    return WEB_CTL_NONE;
}
