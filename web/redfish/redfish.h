/* web/redfish: DMTF Redfish under /redfish and /redfish/v1 on the web
 * server's HTTPS port ([redfish] enabled, with [web] enabled). The service
 * root is public, as the standard says; everything else needs an
 * X-Auth-Token from SessionService/Sessions, HTTP Basic with a web account,
 * or a piglix API token (Bearer). No cookies, so no CSRF tokens: state
 * changes must carry a JSON Content-Type and come from no other site
 * (web_guard.c checks both for every door before any body is read).
 * The resource tree is documented in web/REDFISH.md. Web thread only. */
#ifndef PIGLIX_WEB_REDFISH_H
#define PIGLIX_WEB_REDFISH_H

#include <stdbool.h>
#include <stdio.h>

struct web;
struct web_conn;
struct redfish;

/* Redfish's own state (sessions, settings changed through PATCH). NULL
 * after logging when out of memory. */
struct redfish *redfish_create(struct web *w);
void redfish_destroy(struct redfish *rf);   /* NULL is fine */

/* Ends Redfish sessions that timed out or whose account's credentials
 * changed (or that was deleted). */
void redfish_sweep(struct redfish *rf, struct web *w);

/* Ends the Redfish session listed in control/ as ctl_id (an admin ended
 * it in the session list). False when there is none. */
bool redfish_end_session(struct redfish *rf, struct web *w, unsigned ctl_id, const char *why);

/* True for /redfish and /redfish/...: such a request goes to
 * redfish_dispatch when Redfish is on. */
bool redfish_path(const char *path);
/* Answers a request (its body, if any, is complete). */
void redfish_dispatch(struct web_conn *c);
/* True for the login (POST SessionService/Sessions), whose body is the credential. */
bool redfish_is_login(const char *path);
/* Authenticates a request from its headers before its body is read;
 * 0, or -1 after replying (401, 429, 503). */
int redfish_preauth(struct web_conn *c);
/* `piglix api-routes`: each Redfish resource with the least role that may
 * change it (reading needs any account; "public": no account). */
void redfish_routes_print(FILE *out);
/* Replies status with a Redfish error naming the bad header. */
void redfish_refuse(struct web_conn *c, int status, const char *header, const char *why);

#endif
