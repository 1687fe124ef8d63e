/* "threads": whether every thread the running daemon watches
 * (common/liveness.h) has made progress within its deadline. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "health/health_internal.h"

void health_check_threads(struct health_report *r, const struct liveness_status *st, int n, int deadline_ms)
{
    char wedged[HEALTH_TEXT_MAX] = "";
    size_t len = 0;
    int bad = 0;
    for (int i = 0; i < n; i++) {
        if (!st[i].wedged)
            continue;
        bad++;
        int w = snprintf(wedged + len, sizeof(wedged) - len, "%s%s (silent %.1f s)", bad > 1 ? ", " : "",
                         st[i].name, (double)st[i].silent_ms / 1000.0);
        if (w < 0 || (size_t)w >= sizeof(wedged) - len)
            break; /* the list is cut; the count below stays right */
        len += (size_t)w;
    }
    if (!bad)
        health_add(r, "threads", HEALTH_OK, "all %d threads made progress within %d ms", n, deadline_ms);
    else
        health_add(r, "threads", HEALTH_PROBLEM, "%d of %d threads wedged: %s" HEALTH_FIX
                   "systemd's watchdog is no longer fed and restarts piglix (WatchdogSec=); the journal "
                   "names the thread: report it with the journal's lines before it", bad, n, wedged);
}
