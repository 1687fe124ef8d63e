/* The checks every request passes on its headers alone, before a body is
 * read or any handler runs:
 * - a state change (POST, PUT, PATCH, DELETE) from another site's page is
 *   refused (403), whatever the credential: a browser that once answered a
 *   Basic prompt replays it on any page's request, cookies or not;
 * - a POST must say Content-Type: application/json, even with an empty
 *   body (another site's page cannot send that without a CORS preflight,
 *   which piglix never grants); other bodies are JSON too, except the
 *   streamed image upload;
 * - a request with a body is authenticated first (except logins, whose
 *   bodies are the credentials and have small limits of their own), so
 *   nothing is buffered for a client that is not allowed in. */
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "web/redfish/redfish.h"
#include "web/web_internal.h"

static bool changes_state(int m)
{
    return m == LWSHUMETH_POST || m == LWSHUMETH_PUT || m == LWSHUMETH_PATCH || m == LWSHUMETH_DELETE;
}

static bool is_api(const char *path)
{
    return strcmp(path, "/api") == 0 || strncmp(path, "/api/", 5) == 0;
}

static const char *header_or_null(struct web_conn *c, enum lws_token_indexes h, char *buf, int len)
{
    return web_header(c, h, buf, len) >= 0 ? buf : NULL;
}

/* Refuses with the error body of the door the request came to. */
static int refuse(struct web_conn *c, int status, const char *header, const char *msg)
{
    if (c->w->redfish && redfish_path(c->path))
        redfish_refuse(c, status, header, msg);
    else
        web_reply_error(c, status, "%s", msg);
    return -1;
}

static int origin_check(struct web_conn *c)
{
    char origin[300], referer[600], site[32], host[300];
    const char *o = header_or_null(c, WSI_TOKEN_ORIGIN, origin, sizeof(origin));
    const char *r = header_or_null(c, WSI_TOKEN_HTTP_REFERER, referer, sizeof(referer));
    const char *s = web_header_custom(c, "sec-fetch-site:", site, sizeof(site)) >= 0 ? site : NULL;
    /* a header too long to copy is not a same-origin one */
    bool too_long = (!o && lws_hdr_total_length(c->wsi, WSI_TOKEN_ORIGIN) > 0) ||
                    (!r && lws_hdr_total_length(c->wsi, WSI_TOKEN_HTTP_REFERER) > 0);
    web_header(c, WSI_TOKEN_HOST, host, sizeof(host));
    if (!too_long && web_request_same_origin(o, r, s, host))
        return 0;
    LOG_WARN("web", "?@%s: %s refused: cross-site (Origin %.100s, Referer %.100s, Sec-Fetch-Site %.20s)",
             c->addr, c->path, o ? o : "-", r ? r : "-", s ? s : "-");
    return refuse(c, 403, o ? "Origin" : r ? "Referer" : "Sec-Fetch-Site", "cross-origin request refused");
}

static int ctype_check(struct web_conn *c, long len)
{
    char ct[128];
    bool has = web_header(c, WSI_TOKEN_HTTP_CONTENT_TYPE, ct, sizeof(ct)) >= 0;
    if ((c->method == LWSHUMETH_POST || len > 0) && !(has && web_ctype_is_json(ct)))
        return refuse(c, 415, "Content-Type", "Content-Type must be application/json");
    return 0;
}

/* Requests whose body is the credential (login, first account, Redfish
 * session): they authenticate from the body. */
static bool logs_in(const struct web_conn *c)
{
    return c->method == LWSHUMETH_POST &&
           (strcmp(c->path, "/api/login") == 0 || strcmp(c->path, "/api/setup") == 0 ||
            (c->w->redfish && redfish_is_login(c->path)));
}

long web_guard_content_length(struct web_conn *c)
{
    char cl[24];
    if (web_header(c, WSI_TOKEN_HTTP_CONTENT_LENGTH, cl, sizeof(cl)) <= 0)
        return 0;
    char *end = NULL;
    long n = strtol(cl, &end, 10);
    return end && *end == '\0' && n >= 0 ? n : -1;
}

int web_guard_headers(struct web_conn *c, long len)
{
    if (!changes_state(c->method))
        return 0;
    bool redfish = c->w->redfish && redfish_path(c->path);
    if (!redfish && !is_api(c->path)) {
        web_reply_error(c, 405, "%s is not allowed on %s", "this method", c->path);
        return -1;
    }
    if (origin_check(c) < 0)
        return -1;
    if (!web_vmedia_is_upload(c) && ctype_check(c, len) < 0)
        return -1;
    if (len == 0 || logs_in(c))
        return 0;
    return redfish ? redfish_preauth(c) : web_auth_request(c, true);
}
