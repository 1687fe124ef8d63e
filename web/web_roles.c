/* Roles on the web API (auth/auth.h: viewer < operator < admin). The least
 * role of each route is in web_api.c's route table; this checks it for
 * every authenticated request (web_auth_request calls it, so the request
 * guard, the upload and each handler all pass here) and is the one place
 * a role refusal is answered, logged and counted. */
#include <string.h>

#include "audit/audit.h"
#include "common/clock.h"
#include "common/log.h"
#include "web/web_internal.h"

static const char *role_name(int role)
{
    return role < 0 ? "none (account gone)" : auth_role_name((enum auth_role)role);
}

/* Any account, a viewer too, can be refused as fast as it can send: each
 * refusal recorded would rotate the audit log's older records out, which
 * only an admin may clear (ClearLog). So at most WEB_REFUSALS_PER_MIN a
 * minute go to the audit log; the next recorded one says how many did
 * not (the journal and the counter have them all). */
#define WEB_REFUSALS_PER_MIN 30

void web_refusal_audit(struct web *w, enum audit_iface iface, const char *account, const char *addr,
                       const char *what)
{
    int64_t now = clock_mono_ms();
    if (now - w->refusal_window_ms >= 60000) {
        w->refusal_window_ms = now;
        w->refusals_in_window = 0;
    }
    if (w->refusals_in_window >= WEB_REFUSALS_PER_MIN) {
        w->refusals_unrecorded++;
        return;
    }
    w->refusals_in_window++;
    if (w->refusals_unrecorded) {
        audit_record(AUDIT_ROLE_REFUSED, iface, AUDIT_REFUSED, account, addr, "%s (and %u more refusals before "
                     "it not recorded: over %d a minute)", what, w->refusals_unrecorded, WEB_REFUSALS_PER_MIN);
        w->refusals_unrecorded = 0;
    } else {
        audit_record_role_refused(iface, account, addr, what);
    }
}

void web_refuse_role(struct web_conn *c, int need, bool reply)
{
    c->w->stats.role_refusals++;
    LOG_WARN("web", "%s@%s: %s refused: role %s, needs %s", c->user, c->addr, c->path, role_name(c->role),
             role_name(need));
    web_refusal_audit(c->w, web_audit_iface(c), c->user, c->addr, c->path);
    if (reply)
        web_reply_error(c, 403, "your role (%s) may not do this: it needs %s", role_name(c->role),
                        role_name(need));
}

int web_role_check(struct web_conn *c)
{
    /* Looked up per request, not remembered by the session: a role change
     * takes effect at once (and ends the account's sessions, see
     * auth_account_fingerprint). */
    c->role = auth_accounts_role(&c->w->accounts, c->user);
    const struct web_route *r = web_route_find(c->method, c->path, NULL, NULL);
    /* No route: the request ends in 404/405; it still needs an account. */
    int need = r && r->role > AUTH_ROLE_VIEWER ? r->role : AUTH_ROLE_VIEWER;
    if (c->role >= need)
        return 0;
    web_refuse_role(c, need, true);
    return -1;
}
