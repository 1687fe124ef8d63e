/* Roles on the web API (auth/auth.h: viewer < operator < admin). The least
 * role of each route is in web_api.c's route table; this checks it for
 * every authenticated request (web_auth_request calls it, so the request
 * guard, the upload and each handler all pass here) and is the one place
 * a role refusal is answered, logged and counted. */
#include <string.h>

#include "audit/audit.h"
#include "common/log.h"
#include "web/web_internal.h"

static const char *role_name(int role)
{
    return role < 0 ? "none (account gone)" : auth_role_name((enum auth_role)role);
}

void web_refuse_role(struct web_conn *c, int need, bool reply)
{
    c->w->stats.role_refusals++;
    LOG_WARN("web", "%s@%s: %s refused: role %s, needs %s", c->user, c->addr, c->path, role_name(c->role),
             role_name(need));
    audit_record_role_refused(web_audit_iface(c), c->user, c->addr, c->path);
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
