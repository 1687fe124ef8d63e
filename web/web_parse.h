/* web/web_parse: the parts of a request an attacker controls, parsed without
 * libwebsockets so they can be unit-tested and fuzzed: URL paths, cookies,
 * Authorization headers, Origin, and JSON bodies (cJSON) into typed fields.
 * Every function bounds its output and never trusts lengths it is given. */
#ifndef PIGLIX_WEB_PARSE_H
#define PIGLIX_WEB_PARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "auth/auth.h"

#define WEB_BODY_MAX (64 * 1024) /* request bodies */
#define WEB_PASTE_MAX 16384      /* characters of text to paste */
#define WEB_COMBO_MAX 8          /* keys in one combination */
#define WEB_KEYS_MAX 64          /* keys tapped by one request */
#define WEB_KEYNAME_MAX 24

/* Decodes %XX, then checks the path is absolute and safe to map onto a
 * directory: no "..", "." or empty segments, no NUL, backslash or control
 * characters; the query string is cut off. Returns 0 or -1. */
int web_path_normalize(const char *uri, char *out, size_t outlen);
/* The same checks on a path libwebsockets already decoded (the `in` of
 * LWS_CALLBACK_HTTP): decoding again would turn "%2541" into "A". */
int web_path_check(const char *path, char *out, size_t outlen);

/* Finds cookie name in a Cookie header ("a=1; b=2"). Returns the value's
 * length (copied, NUL-terminated) or -1 when absent or too long. */
int web_cookie_get(const char *header, const char *name, char *out, size_t outlen);

/* "Basic base64(user:password)". Returns 0 or -1. */
int web_basic_auth_parse(const char *header, char *user, size_t ulen, char *pass, size_t plen);
/* "Bearer TOKEN" (TOKEN: 16..128 characters of [A-Za-z0-9_-]). Returns 0 or -1. */
int web_bearer_parse(const char *header, char *token, size_t tlen);

/* True when origin ("https://host[:port]") names the host the request was
 * sent to (the Host header, "host[:port]"); scheme must be https. */
bool web_origin_matches(const char *origin, const char *host);
/* Whether a state-changing request comes from this host's own pages or
 * from a script: each of Origin, Referer (its scheme://host:port) and
 * Sec-Fetch-Site that is present (non-NULL) must say so. A foreign or
 * "null" Origin, a foreign Referer, or Sec-Fetch-Site other than
 * same-origin/none is cross-site. */
bool web_request_same_origin(const char *origin, const char *referer, const char *fetch_site, const char *host);
/* An image URL from a client, checked and with its scheme in lower case
 * (schemes are case-insensitive, RFC 3986 3.1; the downloader compares
 * them exactly): http or https, a host, no spaces or control characters.
 * 0, or -1 when it is not such a URL (a 4xx for the client). */
int web_url_normalize(const char *in, char *out, size_t outlen);
/* Whether a Content-Type header value is application/json (parameters allowed). */
bool web_ctype_is_json(const char *ctype);



/* ---- JSON request bodies ----
 * Each parser fills its struct and returns 0, or an HTTP status (400 for
 * bodies that are not a JSON object, 422 for missing fields, wrong types or
 * bad values) with a message for the client in err. */
#define WEB_ERR_MAX 160

struct web_login_req {
    char name[AUTH_NAME_MAX + 1];
    char password[AUTH_PASSWORD_MAX + 1];
    char totp[12];              /* "" when not given */
};
int web_parse_login(const char *body, size_t len, struct web_login_req *out, char *err);

struct web_setup_req {
    char token[80];
    char name[AUTH_NAME_MAX + 1];
    char password[AUTH_PASSWORD_MAX + 1];
};
int web_parse_setup(const char *body, size_t len, struct web_setup_req *out, char *err);

/* {"code": "123456"} (TOTP confirmation). */
int web_parse_code(const char *body, size_t len, char *code, size_t codelen, char *err);

/* {"keys": ["ctrl", "alt", "delete"]} or {"combo": "ctrl+alt+delete"};
 * key names are [a-z0-9_], WEB_KEYNAME_MAX at most. max: how many keys. */
struct web_keys_req {
    char keys[WEB_KEYS_MAX][WEB_KEYNAME_MAX + 1];
    int n;
};
int web_parse_keys(const char *body, size_t len, int max, struct web_keys_req *out, char *err);

/* {"text": "...", "layout": "us"}; layout optional (default "us"). text is
 * allocated (free it) and holds no NUL. */
struct web_paste_req {
    char *text;
    char layout[16];
};
int web_parse_paste(const char *body, size_t len, struct web_paste_req *out, char *err);

/* {"x": 10, "y": 20, "buttons": 1}: absolute position in the current
 * picture's pixels; buttons as the RFB mask (optional, 0..127). */
struct web_mouse_req {
    int x, y;
    unsigned buttons;
};
int web_parse_mouse(const char *body, size_t len, struct web_mouse_req *out, char *err);

/* The paths of who is connected and who types (after "/api"):
 * /sessions, /sessions/ID/end, /control, /control/request|release|take,
 * /control/give/ID. IDs are decimal, 1..UINT32_MAX, no sign, no leading
 * zero. Returns the route and sets *id, or WEB_CTL_NONE. */
enum web_ctl_route {
    WEB_CTL_NONE, WEB_CTL_SESSIONS, WEB_CTL_SESSION_END, WEB_CTL_STATE, WEB_CTL_REQUEST,
    WEB_CTL_RELEASE, WEB_CTL_TAKE, WEB_CTL_GIVE,
};
enum web_ctl_route web_parse_control_path(const char *sub, unsigned *id);

#endif
