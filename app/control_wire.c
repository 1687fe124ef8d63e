/* control/ wired to the keyboard: when the keyboard changes hands, a paste
 * or key combo the last holder started through the API stops (its keys
 * released) instead of typing on under the new holder. The VNC server
 * releases viewers' keys itself (server_set_control). */
#include <stdatomic.h>
#include <stdlib.h>

#include "app/app.h"
#include "control/control.h"
#include "hid/hid.h"

struct app_control {
    struct control *ctl;
    /* Set by the main thread once the USB keyboard is there; read by the
     * watcher on whichever thread changed the holder. */
    struct hid_device *_Atomic device;
};

static void on_handover(void *ctx)
{
    struct app_control *a = ctx;
    struct hid_device *d = atomic_load(&a->device);
    if (d)
        hid_paste_cancel(d); /* thread-safe, never blocks; nothing when no paste runs */
}

struct app_control *app_control_create(const struct config_control *cfg)
{
    struct app_control *a = calloc(1, sizeof(*a));
    if (!a || !(a->ctl = control_create(cfg)) || control_watch(a->ctl, on_handover, a) < 0) {
        if (a)
            control_destroy(a->ctl);
        free(a);
        return NULL;
    }
    return a;
}

struct control *app_control_get(struct app_control *a) { return a ? a->ctl : NULL; }

void app_control_set_device(struct app_control *a, struct hid_device *d)
{
    if (a)
        atomic_store(&a->device, d);
}

void app_control_destroy(struct app_control *a)
{
    if (!a)
        return;
    control_destroy(a->ctl);
    free(a);
}
