/* GET /api/health: the checks of `piglix doctor` as JSON, from the copy
 * the wiring keeps (app/health_worker.c runs them on its own thread: they
 * read sysfs and probe ports, which the event loop must not wait for). */
#include <stdlib.h>

#include "health/health.h"
#include "web/web_internal.h"

void web_set_health(struct web *w, const struct web_health *health)
{
    w->health = *health;
}

void web_health_get(struct web_conn *c)
{
    struct web *w = c->w;
    if (!w->health.ops) {
        web_reply_error(c, 503, "health checks are not available");
        return;
    }
    struct health_report *r = malloc(sizeof(*r)); /* 13 KiB: not on the event loop's stack */
    int64_t age_ms = 0;
    if (!r || !w->health.ops->read(w->health.ctx, r, &age_ms)) {
        free(r);
        web_reply_error(c, 503, "the health checks are still running; try again in a second");
        return;
    }
    cJSON *j = cJSON_CreateObject();
    cJSON_AddStringToObject(j, "status", health_status_name(health_worst(r)));
    cJSON_AddNumberToObject(j, "age_ms", (double)age_ms);
    cJSON *arr = cJSON_AddArrayToObject(j, "checks");
    for (int i = 0; i < r->n; i++) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "name", r->checks[i].name);
        cJSON_AddStringToObject(o, "status", health_status_name(r->checks[i].status));
        cJSON_AddStringToObject(o, "message", r->checks[i].text);
        cJSON_AddStringToObject(o, "fix", r->checks[i].fix);
        cJSON_AddItemToArray(arr, o);
    }
    free(r);
    web_reply_json(c, 200, j);
}
