/* The VNC server's part of control/: its TCP viewers in the session list
 * (ended here, on the server thread), every viewer's input asked about
 * before it reaches HID, and held keys released when the keyboard changes
 * hands, before anyone's next event. */
#include "common/log.h"
#include "control/control.h"
#include "server/vnc_internal.h"

/* The role of a viewer on the VNC port: the VNC password is no account;
 * the full one lets its holder type, the view-only one only watch. */
static enum auth_role vnc_viewer_role(const struct vnc_client *c)
{
    return c->view_only ? AUTH_ROLE_VIEWER : AUTH_ROLE_OPERATOR;
}

/* control_owner_service: an admin ended the viewer keyed by its vnc_client. */
static void end_viewer(void *ctx, unsigned id, uintptr_t key)
{
    struct server *s = ctx;
    for (rfbClientPtr cl = s->screen->clientHead; cl; cl = cl->next) {
        struct vnc_client *c = cl->clientData;
        if (c && (uintptr_t)c == key && c->control_id == id && cl->sock != RFB_INVALID_SOCKET) {
            LOG_INFO("vnc", "client %s: session ended by an admin", cl->host);
            rfbCloseClient(cl); /* client_gone closes the session */
            return;
        }
    }
    control_session_close(s->ctl, id); /* gone already */
}

static void wake(void *ctx) { vnc_wake(ctx); }

void server_set_control(struct server *s, struct control *ctl)
{
    s->ctl = ctl;
    s->ctl_owner = ctl ? control_owner_add(ctl, "vnc", wake, end_viewer, s) : NULL;
    s->ctl_generation = control_generation(ctl);
    /* A new holder wakes the loop, which releases what the last one held. */
    if (ctl && control_watch(ctl, wake, s) < 0)
        LOG_WARN("vnc", "control: too many watchers; held keys are released at the next event");
}

void vnc_control_detach(struct server *s)
{
    if (s->ctl)
        control_unwatch(s->ctl, wake, s);
}

void vnc_control_admit(struct vnc_client *c)
{
    struct server *s = c->srv;
    if (!s->ctl || c->preauth)
        return;
    c->control_id = control_session_open(s->ctl, s->ctl_owner, CONTROL_IF_VNC, "vnc", c->cl->host,
                                         vnc_viewer_role(c), (uintptr_t)c, 0);
    c->control_own = true;
}

void vnc_control_gone(struct vnc_client *c)
{
    if (c->control_own)
        control_session_close(c->srv->ctl, c->control_id);
    c->control_id = 0;
    c->control_own = false;
}

/* After a change of holder nobody's keys stay down: the last holder's are
 * released before anything else reaches HID. */
static void release_on_change(struct server *s)
{
    uint64_t g = control_generation(s->ctl);
    if (g == s->ctl_generation)
        return;
    s->ctl_generation = g;
    s->input.ops->release_all(s->input.ctx);
    for (rfbClientPtr cl = s->screen->clientHead; cl; cl = cl->next)
        if (cl->clientData)
            ((struct vnc_client *)cl->clientData)->buttons = 0;
}

bool vnc_control_input(struct vnc_client *c)
{
    struct server *s = c->srv;
    if (!s->ctl)
        return true;
    release_on_change(s);
    bool ok = control_input(s->ctl, c->control_id);
    /* This event may itself have changed the holder (the first input while
     * free), or another thread did meanwhile: release before it goes. */
    release_on_change(s);
    return ok;
}

void vnc_control_turn(struct server *s)
{
    if (!s->ctl)
        return;
    release_on_change(s);
    control_owner_service(s->ctl, s->ctl_owner);
}
