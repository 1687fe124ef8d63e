/* web/redfish: DMTF Redfish under /redfish and /redfish/v1 on the web
 * server's HTTPS port ([redfish] enabled, with [web] enabled). The service
 * root is public, as the standard says; everything else needs an
 * X-Auth-Token from SessionService/Sessions, HTTP Basic with a web account,
 * or a piglix API token (Bearer). No cookies, so no CSRF tokens: state
 * changes must carry a JSON Content-Type (or no body) and no foreign Origin.
 * The resource tree is documented in web/REDFISH.md. Web thread only. */
#ifndef PIGLIX_WEB_REDFISH_H
#define PIGLIX_WEB_REDFISH_H

#include <stdbool.h>

struct web;
struct web_conn;
struct redfish;

/* Redfish's own state (sessions, settings changed through PATCH). NULL
 * after logging when out of memory. */
struct redfish *redfish_create(struct web *w);
void redfish_destroy(struct redfish *rf);   /* NULL is fine */

/* True for /redfish and /redfish/...: such a request goes to
 * redfish_dispatch when Redfish is on. */
bool redfish_path(const char *path);
/* Answers a request (its body, if any, is complete). */
void redfish_dispatch(struct web_conn *c);

#endif
