/* Redfish requests: the route table, authentication before anything but
 * the public resources, the checks every request gets (OData-Version,
 * methods, bodies, Origin), and replies with OData-Version, Allow and
 * ETag headers. */
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "audit/audit.h"
#include "common/log.h"
#include "web/redfish/redfish_internal.h"

struct rf_route {
    const char *pattern;        /* after /redfish/v1; "*" is one segment */
    unsigned methods;
    unsigned public_methods;    /* need no authentication */
    void (*fn)(struct rf_req *r);
    /* The least role for anything but GET (GET: any account): checked
     * before the method, so a ReadOnly account's change is refused 403
     * even where nobody may make it (405 for the others). */
    int write_role;
};

#define RO AUTH_ROLE_VIEWER
#define OP AUTH_ROLE_OPERATOR
#define AD AUTH_ROLE_ADMIN

static const struct rf_route routes[] = {
    {"", RF_GET, RF_GET, rf_root_get, AD},
    {"/odata", RF_GET, RF_GET, rf_odata_get, AD},
    {"/$metadata", RF_GET, RF_GET, rf_metadata_get, AD},
    {"/Systems", RF_GET, 0, rf_systems, AD},
    {"/Systems/1", RF_GET, 0, rf_system, AD},
    {"/Systems/1/Actions/ComputerSystem.Reset", RF_POST, 0, rf_system_reset, OP},
    {"/Chassis", RF_GET, 0, rf_chassis_coll, AD},
    {"/Chassis/1", RF_GET, 0, rf_chassis, AD},
    {"/Chassis/1/Sensors", RF_GET, 0, rf_sensors, AD},
    {"/Chassis/1/Sensors/*", RF_GET, 0, rf_sensor, AD},
    {"/Chassis/1/Thermal", RF_GET, 0, rf_thermal, AD},
    {"/Chassis/1/Power", RF_GET, 0, rf_power, AD},
    {"/Managers", RF_GET, 0, rf_managers, AD},
    {"/Managers/1", RF_GET, 0, rf_manager, AD},
    {"/Managers/1/VirtualMedia", RF_GET, 0, rf_vmedia_coll, AD},
    {"/Managers/1/LogServices", RF_GET, 0, rf_log_services, AD},
    {"/Managers/1/LogServices/Log", RF_GET, 0, rf_log_service, AD},
    {"/Managers/1/LogServices/Log/Entries", RF_GET, 0, rf_log_entries, AD},
    {"/Managers/1/LogServices/Log/Entries/*", RF_GET, 0, rf_log_entry, AD},
    {"/Managers/1/LogServices/Log/Actions/LogService.ClearLog", RF_POST, 0, rf_log_clear, AD},
    {"/Managers/1/VirtualMedia/*", RF_GET | RF_PATCH, 0, rf_vmedia, OP},
    {"/Managers/1/VirtualMedia/*/Actions/VirtualMedia.InsertMedia", RF_POST, 0, rf_vmedia_insert, OP},
    {"/Managers/1/VirtualMedia/*/Actions/VirtualMedia.EjectMedia", RF_POST, 0, rf_vmedia_eject, OP},
    {"/SessionService", RF_GET | RF_PATCH, 0, rf_session_service, AD},
    /* POST is the login itself: credentials in the body. DELETE ends a
     * session: one's own with any role, another's as Administrator
     * (rf_session). */
    {"/SessionService/Sessions", RF_GET | RF_POST, RF_POST, rf_sessions, RO},
    {"/SessionService/Sessions/*", RF_GET | RF_DELETE, 0, rf_session, RO},
    {"/AccountService", RF_GET, 0, rf_account_service, AD},
    {"/AccountService/Accounts", RF_GET, 0, rf_accounts, AD},
    {"/AccountService/Accounts/*", RF_GET, 0, rf_account, AD},
    {"/AccountService/Roles", RF_GET, 0, rf_roles, AD},
    {"/AccountService/Roles/*", RF_GET, 0, rf_role, AD},
};

void rf_refuse_role(struct rf_req *r, int need)
{
    r->w->stats.role_refusals_redfish++;
    LOG_WARN("redfish", "%s@%s: %s %s refused: role %s, needs %s", r->c->user, r->c->addr,
             r->method == RF_POST ? "POST" : r->method == RF_PATCH ? "PATCH" : r->method == RF_DELETE ? "DELETE" : "GET",
             r->uri, rf_role_id(r->c->role), rf_role_id(need));
    web_refusal_audit(r->w, AUDIT_IF_REDFISH, r->c->user, r->c->addr, r->uri);
    rf_error(r, 403, RF_MSG_INSUFFICIENT_PRIVILEGE);
}

void redfish_routes_print(FILE *out)
{
    for (size_t i = 0; i < sizeof(routes) / sizeof(routes[0]); i++)
        fprintf(out, "redfish %s%s %s\n", RF_ROOT, routes[i].pattern,
                routes[i].public_methods == routes[i].methods ? "public" : rf_role_id(routes[i].write_role));
}

/* A stable UUID for the service root: from the machine id, so it survives
 * restarts and reinstalls of piglix, but differs between appliances. */
static void make_uuid(char out[37])
{
    char seed[128] = "";
    FILE *f = fopen("/etc/machine-id", "r");
    if (!f || !fgets(seed, sizeof(seed), f))
        gethostname(seed, sizeof(seed) - 1);
    if (f)
        fclose(f);
    seed[strcspn(seed, "\n")] = '\0';
    uint8_t md[EVP_MAX_MD_SIZE];
    unsigned mdlen = 0;
    char in[160];
    int n = snprintf(in, sizeof(in), "piglix-redfish:%s", seed);
    if (EVP_Digest(in, (size_t)n, md, &mdlen, EVP_sha256(), NULL) != 1)
        memset(md, 0, 16);
    md[6] = (uint8_t)((md[6] & 0x0f) | 0x50); /* name-based */
    md[8] = (uint8_t)((md[8] & 0x3f) | 0x80); /* RFC 4122 variant */
    char hex[33];
    auth_hex(md, 16, hex);
    snprintf(out, 37, "%.8s-%.4s-%.4s-%.4s-%.12s", hex, hex + 8, hex + 12, hex + 16, hex + 20);
}

struct redfish *redfish_create(struct web *w)
{
    struct redfish *rf = calloc(1, sizeof(*rf));
    if (!rf) {
        LOG_ERROR("redfish", "out of memory");
        return NULL;
    }
    int t = w->cfg->session_idle_s;
    rf->timeout_s = t < RF_TIMEOUT_MIN_S ? RF_TIMEOUT_MIN_S : t > RF_TIMEOUT_MAX_S ? RF_TIMEOUT_MAX_S : t;
    make_uuid(rf->uuid);
    if (auth_random(rf->salt, sizeof(rf->salt)) < 0) {
        LOG_ERROR("redfish", "no randomness");
        free(rf);
        return NULL;
    }
    for (size_t i = 0; i < sizeof(rf->vmedia) / sizeof(rf->vmedia[0]); i++)
        rf->vmedia[i].verify_cert = true;
    LOG_INFO("redfish", "Redfish on /redfish/v1 (service UUID %s)", rf->uuid);
    return rf;
}

void redfish_destroy(struct redfish *rf)
{
    if (!rf)
        return;
    explicit_bzero(rf, sizeof(*rf));
    free(rf);
}

bool redfish_path(const char *path)
{
    return strncmp(path, "/redfish", 8) == 0 && (path[8] == '\0' || path[8] == '/');
}

static int method_bit(int m)
{
    switch (m) {
    case LWSHUMETH_GET: return RF_GET;
    case LWSHUMETH_POST: return RF_POST;
    case LWSHUMETH_PATCH: return RF_PATCH;
    case LWSHUMETH_DELETE: return RF_DELETE;
    default: return 0;
    }
}

static void allow_header(struct rf_req *r)
{
    static const char *const names[] = {"GET", "POST", "PATCH", "DELETE"};
    char buf[48] = "";
    for (unsigned i = 0; i < 4; i++)
        if (r->allow & (1u << i))
            snprintf(buf + strlen(buf), sizeof(buf) - strlen(buf), "%s%s", buf[0] ? ", " : "", names[i]);
    if (buf[0])
        web_resp_header(&r->c->resp, "Allow: %s", buf);
}

void rf_etag(const char *text, char out[24])
{
    /* FNV-1a: the tag only has to change when the representation does. */
    uint64_t h = 1469598103934665603ull;
    for (const unsigned char *p = (const unsigned char *)text; *p; p++)
        h = (h ^ *p) * 1099511628211ull;
    snprintf(out, 24, "W/\"%016llx\"", (unsigned long long)h);
}

void rf_etag_of(const cJSON *j, char out[24])
{
    char *text = cJSON_PrintUnformatted(j);
    rf_etag(text ? text : "", out);
    free(text);
}

static void common_headers(struct rf_req *r)
{
    web_resp_header(&r->c->resp, "OData-Version: 4.0");
    web_resp_header(&r->c->resp, "Cache-Control: no-store");
}

void rf_reply(struct rf_req *r, int status, cJSON *j)
{
    char *text = j ? cJSON_PrintUnformatted(j) : NULL;
    cJSON_Delete(j);
    if (!text) {
        rf_error(r, 500, RF_MSG_INTERNAL_ERROR);
        return;
    }
    common_headers(r);
    char etag[24];
    rf_etag(text, etag);
    web_resp_header(&r->c->resp, "ETag: %s", etag);
    allow_header(r);
    web_reply_bytes(r->c, status, "application/json; charset=utf-8", (uint8_t *)text, strlen(text));
}

void rf_no_content(struct rf_req *r)
{
    common_headers(r);
    web_reply_bytes(r->c, 204, "application/json", NULL, 0);
}

void rf_error_headers(struct rf_req *r, int status)
{
    common_headers(r);
    if (status == 405)
        allow_header(r);
}

static bool tag_equal(const char *a, size_t alen, const char *b)
{
    /* Weak comparison (RFC 9110 8.8.3.2): clients echo W/ tags as they got them. */
    if (alen >= 2 && strncmp(a, "W/", 2) == 0)
        a += 2, alen -= 2;
    if (strncmp(b, "W/", 2) == 0)
        b += 2;
    return alen == strlen(b) && memcmp(a, b, alen) == 0;
}

bool rf_if_match(struct rf_req *r, const char *etag)
{
    char h[512];
    if (web_header(r->c, WSI_TOKEN_HTTP_IF_MATCH, h, sizeof(h)) < 0)
        return true;
    for (char *p = h; *p;) {
        while (*p == ' ' || *p == ',' || *p == '\t')
            p++;
        size_t n = strcspn(p, ",");
        while (n && (p[n - 1] == ' ' || p[n - 1] == '\t'))
            n--;
        if ((n == 1 && *p == '*') || (n && tag_equal(p, n, etag)))
            return true;
        p += strcspn(p, ",");
    }
    return false;
}

/* Segment by segment; "*" takes any one segment, kept in *arg. */
static bool route_match(const char *pattern, const char *path, const char **arg, size_t *arglen)
{
    while (*pattern || *path) {
        if (*pattern != '/' || *path != '/')
            return false;
        pattern++, path++;
        size_t pn = strcspn(pattern, "/"), n = strcspn(path, "/");
        if (pn == 1 && *pattern == '*') {
            if (n == 0)
                return false;
            *arg = path;
            *arglen = n;
        } else if (pn != n || memcmp(pattern, path, n) != 0) {
            return false;
        }
        pattern += pn, path += n;
    }
    return true;
}

/* State changes come from scripts, never from another site's page: a
 * foreign Origin or a form's Content-Type is refused (no CORS is granted,
 * so a JSON body cannot be sent cross-site). */
static int check_body(struct rf_req *r)
{
    struct web_conn *c = r->c;
    char origin[300], host[300], ct[128];
    if (web_header(c, WSI_TOKEN_ORIGIN, origin, sizeof(origin)) > 0) {
        web_header(c, WSI_TOKEN_HOST, host, sizeof(host));
        if (!web_origin_matches(origin, host)) {
            LOG_WARN("redfish", "%s@%s: %s refused: Origin %s is not this host", c->user, c->addr, r->uri, origin);
            rf_error(r, 403, RF_MSG_HEADER_INVALID, "Origin");
            return -1;
        }
    }
    bool has_ct = web_header(c, WSI_TOKEN_HTTP_CONTENT_TYPE, ct, sizeof(ct)) >= 0;
    bool json = has_ct && strncasecmp(ct, "application/json", 16) == 0 &&
                (ct[16] == '\0' || ct[16] == ';' || ct[16] == ' ');
    if ((c->body_len || has_ct) && !json) {
        rf_error(r, 415, RF_MSG_HEADER_INVALID, "Content-Type");
        return -1;
    }
    if (!c->body_len) {
        if (r->method == RF_PATCH) {
            rf_error(r, 400, RF_MSG_UNRECOGNIZED_REQUEST_BODY);
            return -1;
        }
        return 0;
    }
    r->body = cJSON_ParseWithLength((const char *)c->body, c->body_len);
    if (!r->body) {
        rf_error(r, 400, RF_MSG_MALFORMED_JSON);
        return -1;
    }
    if (!cJSON_IsObject(r->body)) {
        rf_error(r, 400, RF_MSG_UNRECOGNIZED_REQUEST_BODY);
        return -1;
    }
    return 0;
}

static void dispatch(struct rf_req *r)
{
    struct web_conn *c = r->c;
    char ver[16];
    if (web_header_custom(c, "odata-version:", ver, sizeof(ver)) >= 0 && strcmp(ver, "4.0") != 0) {
        rf_error(r, 412, RF_MSG_HEADER_INVALID, "OData-Version");
        return;
    }
    if (strcmp(r->uri, "/redfish") == 0) {
        r->allow = RF_GET;
        if (r->method == RF_GET)
            rf_versions_get(r);
        else
            rf_error(r, 405, RF_MSG_OPERATION_NOT_ALLOWED);
        return;
    }
    const struct rf_route *route = NULL;
    const char *arg = NULL;
    size_t arglen = 0;
    const char *rel = strncmp(r->uri, RF_ROOT, strlen(RF_ROOT)) == 0 ? r->uri + strlen(RF_ROOT) : NULL;
    for (size_t i = 0; rel && i < sizeof(routes) / sizeof(routes[0]); i++)
        if (route_match(routes[i].pattern, rel, &arg, &arglen)) {
            route = &routes[i];
            break;
        }
    if (c->method == LWSHUMETH_HEAD) {
        /* HEAD is optional in Redfish: refused, and without a body. */
        r->allow = route ? route->methods : RF_GET;
        common_headers(r);
        allow_header(r);
        web_reply_bytes(c, 405, "application/json", NULL, 0);
        return;
    }
    bool public = route && (route->public_methods & r->method);
    if (!public && !c->authed && rf_authenticate(r) < 0)
        return;
    if (!route) {
        rf_error(r, 404, RF_MSG_RESOURCE_MISSING_AT_URI, r->uri);
        return;
    }
    r->allow = route->methods;
    if (!public) {
        /* per request, so a role change counts at once */
        c->role = auth_accounts_role(&r->w->accounts, c->user);
        int need = r->method == RF_GET ? AUTH_ROLE_VIEWER : route->write_role;
        if (c->role < need) {
            rf_refuse_role(r, need);
            return;
        }
    }
    if (!(route->methods & r->method)) {
        rf_error(r, 405, RF_MSG_OPERATION_NOT_ALLOWED);
        return;
    }
    char argbuf[128];
    if (arg) {
        if (arglen >= sizeof(argbuf)) {
            rf_error(r, 404, RF_MSG_RESOURCE_MISSING_AT_URI, r->uri);
            return;
        }
        memcpy(argbuf, arg, arglen);
        argbuf[arglen] = '\0';
        r->arg = argbuf;
    }
    if (r->method != RF_GET && check_body(r) < 0)
        return;
    route->fn(r);
}

static void req_init(struct rf_req *r, struct web_conn *c)
{
    *r = (struct rf_req){.c = c, .w = c->w, .rf = c->w->redfish, .method = method_bit(c->method)};
    snprintf(r->uri, sizeof(r->uri), "%s", c->path);
    for (size_t n = strlen(r->uri); n > 1 && r->uri[n - 1] == '/'; n--)
        r->uri[n - 1] = '\0';
}

bool redfish_is_login(const char *path)
{
    static const char login[] = RF_ROOT "/SessionService/Sessions";
    size_t n = strlen(login);
    return strncmp(path, login, n) == 0 && (path[n] == '\0' || strcmp(path + n, "/") == 0);
}

int redfish_preauth(struct web_conn *c)
{
    struct rf_req r;
    req_init(&r, c);
    if (rf_authenticate(&r) < 0)
        return -1;
    c->authed = true;
    return 0;
}

void redfish_refuse(struct web_conn *c, int status, const char *header, const char *why)
{
    struct rf_req r;
    req_init(&r, c);
    rf_error_why(&r, status, why, RF_MSG_HEADER_INVALID, header);
}

void redfish_dispatch(struct web_conn *c)
{
    struct rf_req r;
    req_init(&r, c);
    if (!r.rf) {
        web_reply_error(c, 404, "Redfish is off ([redfish] enabled)");
    } else {
        dispatch(&r);
    }
    cJSON_Delete(r.body);
}
