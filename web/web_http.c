/* Responses: prepared whole (JSON, files, JPEGs) and written one chunk per
 * writeable callback, so a slow reader only ever waits on its own socket. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/log.h"
#include "web/web_internal.h"

#define WEB_FILE_MAX (8 * 1024 * 1024)

/* Every response: no framing by others, no sniffing, no referrers, and a
 * policy that only runs piglix's own scripts. */
static const char *const security_headers[][2] = {
    {"content-security-policy:",
     "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
     "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"},
    {"x-content-type-options:", "nosniff"},
    {"x-frame-options:", "DENY"},
    {"referrer-policy:", "no-referrer"},
    {"cross-origin-opener-policy:", "same-origin"},
};

void web_resp_reset(struct web_resp *r)
{
    free(r->body);
    if (r->jpeg)
        server_jpeg_unref(r->jpeg);
    memset(r, 0, sizeof(*r));
}

void web_resp_header(struct web_resp *r, const char *fmt, ...)
{
    size_t used = strlen(r->headers);
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(r->headers + used, sizeof(r->headers) - used, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n + 2 >= sizeof(r->headers) - used) {
        r->headers[used] = '\0'; /* a programming error: never a truncated header */
        LOG_ERROR("web", "response headers full");
        return;
    }
    strcat(r->headers, "\r\n");
}

static void ready(struct web_conn *c)
{
    c->resp.ready = true;
    lws_callback_on_writable(c->wsi);
}

void web_reply_bytes(struct web_conn *c, int status, const char *ctype, uint8_t *body, size_t len)
{
    free(c->resp.body);
    c->resp.status = status;
    c->resp.ctype = ctype;
    c->resp.body = body;
    c->resp.len = len;
    ready(c);
}

void web_reply_json(struct web_conn *c, int status, cJSON *j)
{
    char *text = j ? cJSON_PrintUnformatted(j) : NULL;
    cJSON_Delete(j);
    if (j && !text) {
        web_reply_bytes(c, 500, "application/json", (uint8_t *)strdup("{\"error\":\"out of memory\"}"), 25);
        return;
    }
    web_resp_header(&c->resp, "Cache-Control: no-store");
    web_reply_bytes(c, status, "application/json", (uint8_t *)text, text ? strlen(text) : 0);
}

void web_reply_error(struct web_conn *c, int status, const char *fmt, ...)
{
    char msg[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    cJSON *j = cJSON_CreateObject();
    cJSON_AddStringToObject(j, "error", msg);
    cJSON_AddNumberToObject(j, "status", status);
    web_reply_json(c, status, j);
}

void web_reply_jpeg(struct web_conn *c, const struct server_jpeg *j)
{
    c->resp.jpeg = j;
    web_resp_header(&c->resp, "Cache-Control: no-store");
    web_reply_bytes(c, 200, "image/jpeg", NULL, j->len);
}

static const char *mime_of(const char *path)
{
    static const char *const types[][2] = {
        {".html", "text/html; charset=utf-8"}, {".js", "text/javascript; charset=utf-8"},
        {".css", "text/css; charset=utf-8"},   {".svg", "image/svg+xml"},
        {".png", "image/png"},                 {".ico", "image/x-icon"},
        {".json", "application/json"},         {".woff2", "font/woff2"},
        {".txt", "text/plain; charset=utf-8"}, {".mp3", "audio/mpeg"},
        {".oga", "audio/ogg"},
    };
    const char *dot = strrchr(path, '.');
    for (size_t i = 0; dot && i < sizeof(types) / sizeof(types[0]); i++)
        if (strcmp(dot, types[i][0]) == 0)
            return types[i][1];
    return NULL;
}

void web_serve_file(struct web_conn *c, const char *root, const char *rel)
{
    const char *ctype = mime_of(rel);
    char path[CONFIG_STR_MAX + 512];
    snprintf(path, sizeof(path), "%s%s", root, rel);
    /* O_NOFOLLOW on the last part and the normalized path keep requests
     * inside root; a file type piglix does not serve is simply not found. */
    int fd = ctype ? open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW) : -1;
    struct stat st;
    if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size > WEB_FILE_MAX) {
        if (fd >= 0)
            close(fd);
        web_reply_error(c, 404, "not found");
        return;
    }
    uint8_t *buf = malloc((size_t)st.st_size + 1);
    size_t got = 0;
    while (buf && got < (size_t)st.st_size) {
        ssize_t n = read(fd, buf + got, (size_t)st.st_size - got);
        if (n <= 0)
            break;
        got += (size_t)n;
    }
    close(fd);
    if (!buf || got != (size_t)st.st_size) {
        free(buf);
        web_reply_error(c, 500, "cannot read %s", rel);
        return;
    }
    /* noVNC and xterm.js do not change while piglix runs; piglix's own UI may. */
    bool vendor = strncmp(rel, "/novnc/", 7) == 0 || strncmp(rel, "/xterm/", 7) == 0;
    web_resp_header(&c->resp, "Cache-Control: %s", vendor ? "max-age=3600" : "no-cache");
    web_reply_bytes(c, 200, ctype, buf, got);
}

int web_header(struct web_conn *c, enum lws_token_indexes h, char *buf, int len)
{
    int n = lws_hdr_total_length(c->wsi, h);
    if (n <= 0 || n >= len) {
        buf[0] = '\0';
        return -1;
    }
    return lws_hdr_copy(c->wsi, buf, len, h) < 0 ? -1 : n;
}

int web_header_custom(struct web_conn *c, const char *name, char *buf, int len)
{
    int nlen = (int)strlen(name);
    int n = lws_hdr_custom_length(c->wsi, name, nlen);
    if (n <= 0 || n >= len) {
        buf[0] = '\0';
        return -1;
    }
    return lws_hdr_custom_copy(c->wsi, buf, len, name, nlen) < 0 ? -1 : n;
}

int web_http_write_headers(struct web_conn *c, lws_filepos_t content_len)
{
    struct web_resp *r = &c->resp;
    uint8_t buf[LWS_PRE + 2048];
    uint8_t *start = buf + LWS_PRE, *p = start, *end = buf + sizeof(buf) - 1;
    if (lws_add_http_common_headers(c->wsi, (unsigned)r->status, r->ctype ? r->ctype : "text/plain",
                                    content_len, &p, end))
        return -1;
    for (size_t i = 0; i < sizeof(security_headers) / sizeof(security_headers[0]); i++)
        if (lws_add_http_header_by_name(c->wsi, (const unsigned char *)security_headers[i][0],
                                        (const unsigned char *)security_headers[i][1],
                                        (int)strlen(security_headers[i][1]), &p, end))
            return -1;
    /* libwebsockets closes after the response when the client asked it to
     * (Connection: close), but does not say so; a client may then reuse
     * the closing socket and lose its next request (seen with sushy). */
    char conn[64];
    if (!strcasestr(r->headers, "connection:") && web_header(c, WSI_TOKEN_CONNECTION, conn, sizeof(conn)) > 0 &&
        strcasestr(conn, "close"))
        web_resp_header(r, "Connection: close");
    /* The extra lines are "Name: value\r\n"; lws wants "name:" and a value. */
    for (char *line = r->headers; *line;) {
        char *eol = strstr(line, "\r\n");
        char *colon = strchr(line, ':');
        if (!eol || !colon || colon > eol)
            break;
        char name[64];
        size_t nl = (size_t)(colon - line) + 1;
        if (nl >= sizeof(name))
            return -1;
        for (size_t i = 0; i < nl; i++)
            name[i] = (char)(line[i] >= 'A' && line[i] <= 'Z' ? line[i] + 32 : line[i]);
        name[nl] = '\0';
        const char *v = colon + 1;
        while (*v == ' ')
            v++;
        if (lws_add_http_header_by_name(c->wsi, (const unsigned char *)name,
                                        (const unsigned char *)v, (int)(eol - v), &p, end))
            return -1;
        line = eol + 2;
    }
    return lws_finalize_write_http_header(c->wsi, start, &p, end) ? -1 : 0;
}

int web_http_writeable(struct web_conn *c)
{
    struct web_resp *r = &c->resp;
    if (!r->ready)
        return 0;
    if (!r->headers_sent) {
        if (web_http_write_headers(c, r->len) < 0)
            return -1;
        r->headers_sent = true;
        if (r->len) {
            lws_callback_on_writable(c->wsi);
            return 0;
        }
    } else {
        const uint8_t *src = r->jpeg ? r->jpeg->data : r->body;
        size_t n = r->len - r->off;
        if (n > WEB_CHUNK)
            n = WEB_CHUNK;
        uint8_t buf[LWS_PRE + WEB_CHUNK];
        memcpy(buf + LWS_PRE, src + r->off, n);
        bool last = r->off + n == r->len;
        if (lws_write(c->wsi, buf + LWS_PRE, n, last ? LWS_WRITE_HTTP_FINAL : LWS_WRITE_HTTP) < (int)n)
            return -1;
        r->off += n;
        if (!last) {
            lws_callback_on_writable(c->wsi);
            return 0;
        }
    }
    web_resp_reset(r);
    if (c->close_after && c->discard_body && !c->body_done) {
        /* The client may still be sending (an upload failed midway):
         * closing with its bytes unread sends a reset, which can destroy
         * the reply before the client reads it. Drop what still comes for
         * a few seconds; the end of the body or the timeout closes. */
        c->reply_done = true;
        lws_set_timeout(c->wsi, PENDING_TIMEOUT_HTTP_CONTENT, WEB_LINGER_S);
        return 0;
    }
    if (c->close_after)
        return -1; /* the body was not read: the connection cannot go on */
    if (c->discard_body && !c->body_done) {
        c->reply_done = true; /* the transaction completes when the body has come */
        return 0;
    }
    c->discard_body = false;
    return lws_http_transaction_completed(c->wsi) ? -1 : 0;
}
