/* libFuzzer target for the parts of a web request an attacker controls:
 * the first byte picks the parser (URL path, Cookie, Authorization, Origin
 * against Host, the cross-site headers, an image URL, or one of the JSON
 * bodies, the API's route table with the role it needs), the rest is its
 * input. */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "web/web_internal.h"
#include "web/web_parse.h"
#include "auth/auth.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1 || size > WEB_BODY_MAX + 1)
        return 0;
    char *s = malloc(size);
    memcpy(s, data + 1, size - 1);
    s[size - 1] = '\0';
    size_t len = size - 1;
    char out[512], out2[512], err[WEB_ERR_MAX];
    switch (data[0] % 15) {
    case 0:
        if (web_path_normalize(s, out, sizeof(out)) == 0 && (strstr(out, "/../") || strstr(out, "//")))
            abort(); /* a path that could leave the root must never pass */
        if (web_path_check(s, out, sizeof(out)) == 0 && (strstr(out, "/../") || strstr(out, "//")))
            abort();
        break;
    case 1:
        web_cookie_get(s, "piglix_session", out, sizeof(out));
        break;
    case 2:
        if (web_basic_auth_parse(s, out, 40, out2, sizeof(out2)) == 0 && (!out[0] || strchr(out, ':')))
            abort();
        break;
    case 3:
        web_bearer_parse(s, out, sizeof(out));
        break;
    case 4: { /* Origin NUL Host */
        const char *host = memchr(s, '\0', len) ? s + strlen(s) + 1 : "";
        web_origin_matches(s, host);
        break;
    }
    case 5: {
        struct web_login_req r;
        web_parse_login(s, len, &r, err);
        break;
    }
    case 6: {
        struct web_setup_req r;
        if (web_parse_setup(s, len, &r, err) == 0 && !auth_name_valid(r.name))
            abort();
        break;
    }
    case 7: {
        struct web_keys_req *k = malloc(sizeof(*k));
        web_parse_keys(s, len, WEB_COMBO_MAX, k, err);
        free(k);
        break;
    }
    case 8: {
        struct web_paste_req p;
        if (web_parse_paste(s, len, &p, err) == 0 && strlen(p.text) > WEB_PASTE_MAX)
            abort();
        free(p.text);
        break;
    }
    case 9: {
        struct web_mouse_req m;
        web_parse_mouse(s, len, &m, err);
        break;
    }
    case 10:
        web_parse_code(s, len, out, 16, err);
        break;
    case 12: { /* Origin NUL Referer NUL Sec-Fetch-Site NUL Host */
        const char *f[4] = {s, "", "", ""};
        for (int i = 1; i < 4 && memchr(f[i - 1], '\0', len - (size_t)(f[i - 1] - s) + 1); i++) {
            f[i] = f[i - 1] + strlen(f[i - 1]) + 1;
            if (f[i] > s + len) {
                f[i] = "";
                break;
            }
        }
        web_request_same_origin(f[0][0] ? f[0] : NULL, f[1][0] ? f[1] : NULL, f[2][0] ? f[2] : NULL, f[3]);
        web_ctype_is_json(s);
        break;
    }
    case 13:
        /* a URL that passes keeps its length and names http or https */
        if (web_url_normalize(s, out, sizeof(out)) == 0 &&
            (strlen(out) != strlen(s) || (strncmp(out, "http://", 7) != 0 && strncmp(out, "https://", 8) != 0)))
            abort();
        break;
    case 14: { /* the route for a path, with each method */
        static const int methods[] = {LWSHUMETH_GET, LWSHUMETH_POST, LWSHUMETH_PUT, LWSHUMETH_DELETE,
                                      LWSHUMETH_PATCH, LWSHUMETH_HEAD, -1};
        for (size_t i = 0; i < sizeof(methods) / sizeof(methods[0]); i++) {
            bool known = false;
            const char *arg = NULL;
            const struct web_route *r = web_route_find(methods[i], s, &known, &arg);
            /* a route found: the path is known, its "*" lies inside the path
             * (no "*": ""), and it names a role (or public); every /api route
             * but the logins needs one */
            bool star = r && strchr(r->pattern, '*');
            if (r && (!known || !arg || (star && (arg < s || arg > s + strlen(s))) || (!star && arg[0]) ||
                      r->role < -1 ||
                      r->role > AUTH_ROLE_ADMIN || strncmp(s, "/api/", 5) != 0 ||
                      (r->role == -1 && strcmp(s, "/api/login") != 0 && strcmp(s, "/api/setup") != 0)))
                abort();
        }
        break;
    }
    case 11: {
        uint8_t b[64];
        auth_base32_decode(s, b, sizeof(b));
        auth_totp_verify(b, 20, s, 1700000000, -1);
        break;
    }
    }
    free(s);
    return 0;
}
