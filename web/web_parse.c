#include "web/web_parse.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static int hexval(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c = tolower(c);
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

/* No "..", "." or empty segments. */
static int check_segments(const char *out)
{
    for (const char *seg = out + 1;; ) {
        const char *slash = strchr(seg, '/');
        size_t n = slash ? (size_t)(slash - seg) : strlen(seg);
        if (n == 0 && slash) /* "//" */
            return -1;
        if ((n == 1 && seg[0] == '.') || (n == 2 && seg[0] == '.' && seg[1] == '.'))
            return -1;
        if (!slash)
            break;
        seg = slash + 1;
    }
    return 0;
}

int web_path_normalize(const char *uri, char *out, size_t outlen)
{
    if (!uri || uri[0] != '/' || outlen < 2)
        return -1;
    size_t o = 0;
    for (const char *p = uri; *p && *p != '?' && *p != '#'; p++) {
        int c = (unsigned char)*p;
        if (c == '%') {
            int hi = hexval((unsigned char)p[1]), lo = hi < 0 ? -1 : hexval((unsigned char)p[2]);
            if (hi < 0 || lo < 0)
                return -1;
            c = hi * 16 + lo;
            p += 2;
        }
        if (c < 0x20 || c == 0x7f || c == '\\')
            return -1;
        if (o + 1 >= outlen)
            return -1;
        out[o++] = (char)c;
    }
    out[o] = '\0';
    /* Check segments after decoding, so %2e%2e is caught as "..". */
    return check_segments(out);
}

int web_path_check(const char *path, char *out, size_t outlen)
{
    if (!path || path[0] != '/')
        return -1;
    size_t n = strlen(path);
    if (n >= outlen)
        return -1;
    for (size_t i = 0; i < n; i++) {
        int c = (unsigned char)path[i];
        if (c < 0x20 || c == 0x7f || c == '\\')
            return -1;
    }
    memcpy(out, path, n + 1);
    return check_segments(out);
}

int web_cookie_get(const char *header, const char *name, char *out, size_t outlen)
{
    if (!header || !name || !outlen)
        return -1;
    size_t nlen = strlen(name);
    const char *p = header;
    while (*p) {
        while (*p == ' ' || *p == ';' || *p == '\t')
            p++;
        const char *eq = strchr(p, '=');
        const char *semi = strchr(p, ';');
        if (!eq || (semi && semi < eq)) { /* a part without '=': skip it */
            if (!semi)
                break;
            p = semi + 1;
            continue;
        }
        const char *val = eq + 1;
        size_t vlen = semi ? (size_t)(semi - val) : strlen(val);
        while (vlen && (val[vlen - 1] == ' ' || val[vlen - 1] == '\t'))
            vlen--;
        if ((size_t)(eq - p) == nlen && strncmp(p, name, nlen) == 0) {
            if (vlen >= outlen)
                return -1;
            memcpy(out, val, vlen);
            out[vlen] = '\0';
            return (int)vlen;
        }
        if (!semi)
            break;
        p = semi + 1;
    }
    return -1;
}

static int b64val(int c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '+')
        return 62;
    if (c == '/')
        return 63;
    return -1;
}

/* Standard base64 with padding; returns the decoded length or -1. */
static int b64_decode(const char *in, uint8_t *out, size_t outlen)
{
    size_t len = strlen(in), o = 0;
    if (len % 4)
        return -1;
    for (size_t i = 0; i < len; i += 4) {
        int v[4], pad = 0;
        for (int k = 0; k < 4; k++) {
            if (in[i + k] == '=' && i + 4 == len && k >= 2) {
                v[k] = 0;
                pad++;
            } else if (pad || (v[k] = b64val((unsigned char)in[i + k])) < 0) {
                return -1;
            }
        }
        uint32_t w = (uint32_t)v[0] << 18 | (uint32_t)v[1] << 12 | (uint32_t)v[2] << 6 | (uint32_t)v[3];
        uint8_t b[3] = {(uint8_t)(w >> 16), (uint8_t)(w >> 8), (uint8_t)w};
        for (int k = 0; k < 3 - pad; k++) {
            if (o >= outlen)
                return -1;
            out[o++] = b[k];
        }
    }
    return (int)o;
}

int web_basic_auth_parse(const char *header, char *user, size_t ulen, char *pass, size_t plen)
{
    if (!header || strncasecmp(header, "Basic ", 6) != 0)
        return -1;
    const char *p = header + 6;
    while (*p == ' ')
        p++;
    uint8_t buf[AUTH_NAME_MAX + AUTH_PASSWORD_MAX + 2];
    if (strlen(p) > 4 * ((sizeof(buf) + 2) / 3))
        return -1;
    int n = b64_decode(p, buf, sizeof(buf));
    if (n <= 0)
        return -1;
    uint8_t *colon = memchr(buf, ':', (size_t)n);
    if (!colon || memchr(buf, '\0', (size_t)n))
        return -1;
    size_t un = (size_t)(colon - buf), pn = (size_t)n - un - 1;
    if (un == 0 || un >= ulen || pn >= plen)
        return -1;
    memcpy(user, buf, un);
    user[un] = '\0';
    memcpy(pass, colon + 1, pn);
    pass[pn] = '\0';
    memset(buf, 0, sizeof(buf));
    return 0;
}

int web_bearer_parse(const char *header, char *token, size_t tlen)
{
    if (!header || strncasecmp(header, "Bearer ", 7) != 0)
        return -1;
    const char *p = header + 7;
    while (*p == ' ')
        p++;
    size_t n = strlen(p);
    while (n && p[n - 1] == ' ')
        n--;
    if (n < 16 || n > 128 || n >= tlen)
        return -1;
    for (size_t i = 0; i < n; i++)
        if (!isalnum((unsigned char)p[i]) && p[i] != '_' && p[i] != '-')
            return -1;
    memcpy(token, p, n);
    token[n] = '\0';
    return 0;
}

bool web_origin_matches(const char *origin, const char *host)
{
    if (!origin || !host || !*host || strncasecmp(origin, "https://", 8) != 0)
        return false;
    const char *o = origin + 8;
    size_t n = strlen(o);
    if (n && o[n - 1] == '/')
        n--;
    return n == strlen(host) && strncasecmp(o, host, n) == 0;
}

bool web_request_same_origin(const char *origin, const char *referer, const char *fetch_site, const char *host)
{
    if (origin && !web_origin_matches(origin, host))
        return false;
    if (referer) {
        /* the origin part: scheme://authority, before any path, query or fragment */
        const char *auth = strstr(referer, "://");
        char o[300];
        size_t n = auth ? (size_t)(auth + 3 - referer) + strcspn(auth + 3, "/?#") : 0;
        if (!n || n >= sizeof(o))
            return false;
        memcpy(o, referer, n);
        o[n] = '\0';
        if (!web_origin_matches(o, host))
            return false;
    }
    if (fetch_site && strcasecmp(fetch_site, "same-origin") != 0 && strcasecmp(fetch_site, "none") != 0)
        return false;
    return true;
}

int web_url_normalize(const char *in, char *out, size_t outlen)
{
    size_t n = strlen(in);
    if (n == 0 || n >= outlen)
        return -1;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)in[i] <= ' ' || in[i] == 0x7f)
            return -1;
    size_t scheme = strncasecmp(in, "https://", 8) == 0 ? 5 : strncasecmp(in, "http://", 7) == 0 ? 4 : 0;
    if (!scheme)
        return -1;
    const char *host = in + scheme + 3;
    size_t alen = strcspn(host, "/?#");
    if (alen == 0 || host[0] == ':' || host[0] == '@')
        return -1;
    if (host[0] == '[' && !memchr(host, ']', alen))
        return -1;
    for (size_t i = 0; i < scheme; i++)
        out[i] = (char)tolower((unsigned char)in[i]);
    memcpy(out + scheme, in + scheme, n - scheme + 1);
    return 0;
}

bool web_ctype_is_json(const char *ct)
{
    return strncasecmp(ct, "application/json", 16) == 0 && (ct[16] == '\0' || ct[16] == ';' || ct[16] == ' ');
}

/* ---- JSON ---- */

static cJSON *parse_object(const char *body, size_t len, char *err, int *status)
{
    if (!body || len == 0) {
        snprintf(err, WEB_ERR_MAX, "a JSON object body is required");
        *status = 400;
        return NULL;
    }
    cJSON *j = cJSON_ParseWithLength(body, len);
    if (!j) {
        snprintf(err, WEB_ERR_MAX, "the body is not valid JSON");
        *status = 400;
        return NULL;
    }
    if (!cJSON_IsObject(j)) {
        cJSON_Delete(j);
        snprintf(err, WEB_ERR_MAX, "the body must be a JSON object");
        *status = 400;
        return NULL;
    }
    return j;
}

/* A string member; required or not. Returns 0, 1 (absent, optional) or 422. */
static int get_string(const cJSON *obj, const char *key, bool required, char *out, size_t outlen,
                      char *err)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (!v || cJSON_IsNull(v)) {
        if (!required) {
            out[0] = '\0';
            return 1;
        }
        snprintf(err, WEB_ERR_MAX, "field '%s' is required", key);
        return 422;
    }
    if (!cJSON_IsString(v) || !v->valuestring) {
        snprintf(err, WEB_ERR_MAX, "field '%s' must be a string", key);
        return 422;
    }
    if (strlen(v->valuestring) >= outlen) {
        snprintf(err, WEB_ERR_MAX, "field '%s' is too long (at most %zu characters)", key, outlen - 1);
        return 422;
    }
    strcpy(out, v->valuestring);
    return 0;
}

static int get_int(const cJSON *obj, const char *key, bool required, int lo, int hi, int *out,
                   char *err)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (!v) {
        if (!required)
            return 1;
        snprintf(err, WEB_ERR_MAX, "field '%s' is required", key);
        return 422;
    }
    double d = cJSON_GetNumberValue(v);
    if (!cJSON_IsNumber(v)) {
        snprintf(err, WEB_ERR_MAX, "field '%s' must be an integer", key);
        return 422;
    }
    /* The range first: converting a huge double to an integer is undefined. */
    if (!(d >= lo && d <= hi)) {
        snprintf(err, WEB_ERR_MAX, "field '%s' must be in %d..%d", key, lo, hi);
        return 422;
    }
    if (d != (double)(int)d) {
        snprintf(err, WEB_ERR_MAX, "field '%s' must be an integer", key);
        return 422;
    }
    *out = (int)d;
    return 0;
}

int web_parse_login(const char *body, size_t len, struct web_login_req *out, char *err)
{
    int status = 0;
    memset(out, 0, sizeof(*out));
    cJSON *j = parse_object(body, len, err, &status);
    if (!j)
        return status;
    int r = get_string(j, "name", true, out->name, sizeof(out->name), err);
    if (r <= 1)
        r = get_string(j, "password", true, out->password, sizeof(out->password), err);
    if (r <= 1)
        r = get_string(j, "totp", false, out->totp, sizeof(out->totp), err);
    cJSON_Delete(j);
    return r == 1 ? 0 : r;
}

int web_parse_setup(const char *body, size_t len, struct web_setup_req *out, char *err)
{
    int status = 0;
    memset(out, 0, sizeof(*out));
    cJSON *j = parse_object(body, len, err, &status);
    if (!j)
        return status;
    int r = get_string(j, "token", true, out->token, sizeof(out->token), err);
    if (r == 0)
        r = get_string(j, "name", true, out->name, sizeof(out->name), err);
    if (r == 0)
        r = get_string(j, "password", true, out->password, sizeof(out->password), err);
    cJSON_Delete(j);
    if (r == 0 && !auth_name_valid(out->name)) {
        snprintf(err, WEB_ERR_MAX, "field 'name' must be 1-%d of a-z 0-9 . _ -", AUTH_NAME_MAX);
        r = 422;
    }
    if (r == 0 && strlen(out->password) < 8) {
        snprintf(err, WEB_ERR_MAX, "field 'password' must have at least 8 characters");
        r = 422;
    }
    return r;
}

int web_parse_code(const char *body, size_t len, char *code, size_t codelen, char *err)
{
    int status = 0;
    cJSON *j = parse_object(body, len, err, &status);
    if (!j)
        return status;
    int r = get_string(j, "code", true, code, codelen, err);
    cJSON_Delete(j);
    return r;
}

static bool keyname_valid(const char *k)
{
    size_t n = strlen(k);
    if (n == 0 || n > WEB_KEYNAME_MAX)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!(islower((unsigned char)k[i]) || isdigit((unsigned char)k[i]) || k[i] == '_'))
            return false;
    return true;
}

static int add_key(struct web_keys_req *out, int max, const char *name, size_t n, char *err)
{
    if (out->n >= max) {
        snprintf(err, WEB_ERR_MAX, "at most %d keys", max);
        return 422;
    }
    char k[WEB_KEYNAME_MAX + 2];
    if (n > WEB_KEYNAME_MAX)
        n = WEB_KEYNAME_MAX + 1;
    memcpy(k, name, n);
    k[n] = '\0';
    for (char *c = k; *c; c++)
        *c = (char)tolower((unsigned char)*c);
    if (!keyname_valid(k)) {
        snprintf(err, WEB_ERR_MAX, "'%.24s' is not a key name (a-z, 0-9, _)", k);
        return 422;
    }
    strcpy(out->keys[out->n++], k);
    return 0;
}

int web_parse_keys(const char *body, size_t len, int max, struct web_keys_req *out, char *err)
{
    int status = 0;
    memset(out, 0, sizeof(*out));
    if (max > WEB_KEYS_MAX)
        max = WEB_KEYS_MAX;
    cJSON *j = parse_object(body, len, err, &status);
    if (!j)
        return status;
    int r = 0;
    const cJSON *keys = cJSON_GetObjectItemCaseSensitive(j, "keys");
    const cJSON *combo = cJSON_GetObjectItemCaseSensitive(j, "combo");
    if (keys && combo) {
        snprintf(err, WEB_ERR_MAX, "give either 'keys' or 'combo', not both");
        r = 422;
    } else if (keys) {
        if (!cJSON_IsArray(keys)) {
            snprintf(err, WEB_ERR_MAX, "field 'keys' must be an array of strings");
            r = 422;
        }
        const cJSON *k;
        cJSON_ArrayForEach(k, keys) {
            if (r)
                break;
            if (!cJSON_IsString(k)) {
                snprintf(err, WEB_ERR_MAX, "field 'keys' must be an array of strings");
                r = 422;
                break;
            }
            r = add_key(out, max, k->valuestring, strlen(k->valuestring), err);
        }
    } else if (combo) {
        if (!cJSON_IsString(combo)) {
            snprintf(err, WEB_ERR_MAX, "field 'combo' must be a string like \"ctrl+alt+delete\"");
            r = 422;
        } else {
            for (const char *p = combo->valuestring; !r;) {
                const char *plus = strchr(p, '+');
                size_t n = plus ? (size_t)(plus - p) : strlen(p);
                r = add_key(out, max, p, n, err);
                if (!plus)
                    break;
                p = plus + 1;
            }
        }
    } else {
        snprintf(err, WEB_ERR_MAX, "field 'keys' or 'combo' is required");
        r = 422;
    }
    if (r == 0 && out->n == 0) {
        snprintf(err, WEB_ERR_MAX, "no keys given");
        r = 422;
    }
    cJSON_Delete(j);
    return r;
}

int web_parse_paste(const char *body, size_t len, struct web_paste_req *out, char *err)
{
    int status = 0;
    memset(out, 0, sizeof(*out));
    cJSON *j = parse_object(body, len, err, &status);
    if (!j)
        return status;
    int r = 0;
    const cJSON *t = cJSON_GetObjectItemCaseSensitive(j, "text");
    if (!t) {
        snprintf(err, WEB_ERR_MAX, "field 'text' is required");
        r = 422;
    } else if (!cJSON_IsString(t)) {
        snprintf(err, WEB_ERR_MAX, "field 'text' must be a string");
        r = 422;
    } else if (strlen(t->valuestring) > WEB_PASTE_MAX) {
        snprintf(err, WEB_ERR_MAX, "field 'text' is too long (at most %d bytes)", WEB_PASTE_MAX);
        r = 422;
    }
    if (r == 0) {
        r = get_string(j, "layout", false, out->layout, sizeof(out->layout), err);
        if (r == 1) {
            strcpy(out->layout, "us");
            r = 0;
        }
    }
    if (r == 0) {
        for (const char *c = out->layout; *c && !r; c++)
            if (!(isalnum((unsigned char)*c) || *c == '-' || *c == '_')) {
                snprintf(err, WEB_ERR_MAX, "field 'layout' must be a layout name like \"us\" or \"de\"");
                r = 422;
            }
        if (!out->layout[0]) {
            snprintf(err, WEB_ERR_MAX, "field 'layout' must not be empty");
            r = 422;
        }
    }
    if (r == 0 && !(out->text = strdup(t->valuestring)))
        r = 500;
    cJSON_Delete(j);
    return r;
}

int web_parse_mouse(const char *body, size_t len, struct web_mouse_req *out, char *err)
{
    int status = 0;
    memset(out, 0, sizeof(*out));
    cJSON *j = parse_object(body, len, err, &status);
    if (!j)
        return status;
    int buttons = 0;
    int r = get_int(j, "x", true, 0, 65535, &out->x, err);
    if (r == 0)
        r = get_int(j, "y", true, 0, 65535, &out->y, err);
    if (r == 0)
        r = get_int(j, "buttons", false, 0, 127, &buttons, err);
    cJSON_Delete(j);
    out->buttons = (unsigned)buttons;
    return r == 1 ? 0 : r;
}
