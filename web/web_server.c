/* The web server's libwebsockets context and its one event loop (thread):
 * HTTPS on [web] port (HTTP/1.1 over TLS 1.2+), an optional plain HTTP port
 * that only redirects, a 1 s timer, and wake-ups from the server thread
 * when a JPEG is ready (lws_cancel_service). */
#include <ctype.h>
#include <errno.h>
#include <openssl/ssl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "common/liveness.h"
#include "common/clock.h"
#include "common/log.h"
#include "common/thread.h"
#include "web/web_internal.h"
#include "web/redfish/redfish.h"
#include "common/netlisten.h"
#include "web/web_tls.h"

#ifndef PIGLIX_WEB_ROOT_INSTALLED
#define PIGLIX_WEB_ROOT_INSTALLED "/usr/share/piglix/web"
#endif
#ifndef PIGLIX_WEB_ROOT_SOURCE
#define PIGLIX_WEB_ROOT_SOURCE ""
#endif

/* TLS 1.2 suites with forward secrecy and AEAD only (1.3 has its own). */
#define WEB_TLS12_CIPHERS                                                                 \
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"                          \
    "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"                          \
    "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305"

void web_longs_add(struct web_conn *c)
{
    if (c->in_longs)
        return;
    c->next_long = c->w->longs;
    c->prev_long = NULL;
    if (c->w->longs)
        c->w->longs->prev_long = c;
    c->w->longs = c;
    c->in_longs = true;
}

void web_longs_remove(struct web_conn *c)
{
    if (!c->in_longs)
        return;
    if (c->prev_long)
        c->prev_long->next_long = c->next_long;
    else
        c->w->longs = c->next_long;
    if (c->next_long)
        c->next_long->prev_long = c->prev_long;
    c->in_longs = false;
}

static void lws_log_emit(int level, const char *line)
{
    char buf[512];
    snprintf(buf, sizeof(buf), "%s", line);
    buf[strcspn(buf, "\n")] = '\0';
    if (level & LLL_ERR)
        LOG_WARN("lws", "%s", buf);
    else
        LOG_DEBUG("lws", "%s", buf);
}

/* Starts a new request on a (possibly kept-alive) connection. */
static void begin_request(struct web_conn *c, struct lws *wsi, struct web *w)
{
    web_resp_reset(&c->resp);
    free(c->body);
    c->body = NULL;
    c->body_len = c->body_expected = 0;
    c->body_too_big = false;
    c->upload_failed = false;
    c->upload_paused = c->upload_body_done = false;
    c->upload_received = 0;
    c->authed = c->discard_body = c->body_done = c->reply_done = c->close_after = false;
    c->pending_headers = false;
    c->content_len = 0;
    c->user[0] = '\0';
    c->role = -1;
    c->session_id = 0;
    web_hash_result_clear(c);
    c->kind = WEB_CONN_HTTP;
    c->w = w;
    c->wsi = wsi;
    if (!c->addr[0])
        lws_get_peer_simple(wsi, c->addr, sizeof(c->addr));
    /* "::ffff:1.2.3.4" is an IPv4 peer on a dual-stack socket. */
    if (strncmp(c->addr, "::ffff:", 7) == 0 && strchr(c->addr, '.'))
        memmove(c->addr, c->addr + 7, strlen(c->addr + 7) + 1);
    w->stats.requests++;
}

/* A reply went out (or is going) before the body was read: drop the body
 * as it comes, or close after the reply when it is too big to wait for. */
static void refused_early(struct web_conn *c, long len)
{
    if (len <= 0)
        return;
    c->discard_body = true;
    if (len > WEB_DRAIN_MAX) {
        c->close_after = true;
        web_resp_header(&c->resp, "Connection: close");
    }
}

static int on_http(struct web_conn *c, struct lws *wsi, struct web *w, const char *in)
{
    begin_request(c, wsi, w);
    char *uri = NULL;
    int ulen = 0;
    c->method = lws_http_get_uri_and_method(wsi, &uri, &ulen);
    long n = web_guard_content_length(c);
    if (n < 0) {
        c->close_after = true;
        web_resp_header(&c->resp, "Connection: close");
        web_reply_error(c, 400, "bad Content-Length");
        return 0;
    }
    if (web_path_check(in ? in : "", c->path, sizeof(c->path)) < 0) {
        refused_early(c, n);
        web_reply_error(c, 400, "bad path");
        return 0;
    }
    c->content_len = n;
    web_request_continue(c);
    return 0;
}

static void finish_body(struct web_conn *c);

void web_request_continue(struct web_conn *c)
{
    long n = c->content_len;
    /* cross-site, JSON and who: decided on the headers, nothing buffered yet */
    if (web_guard_headers(c, n) < 0) {
        if (c->hash_job) {
            /* Basic credentials being hashed (web_hash.c); web_hasher_complete
             * brings the request back here. An upload's body waits unread
             * (curl sends it after 100 Continue); a JSON body, which comes
             * with the headers, is held: at most WEB_BODY_MAX each, for at
             * most the hash queue's few connections at a time. */
            c->pending_headers = true;
            if (web_vmedia_is_upload(c)) {
                lws_rx_flow_control(c->wsi, 0);
            } else if (n > 0 && n <= WEB_BODY_MAX && !c->body) {
                c->body_expected = (size_t)n;
                c->body = malloc((size_t)n + 1);
                if (!c->body)
                    c->body_too_big = true; /* answered when the hash is done */
            }
            return;
        }
        refused_early(c, n);
        return;
    }
    if (web_vmedia_is_upload(c)) {
        web_vmedia_upload_begin(c); /* the body streams to disk */
        return;
    }
    if (c->body || c->body_too_big) {
        /* held while the credentials were hashed: complete now, or when
         * LWS_CALLBACK_HTTP_BODY_COMPLETION comes */
        if (c->body_done)
            finish_body(c);
        return;
    }
    if (n > WEB_BODY_MAX) {
        refused_early(c, n);
        web_reply_error(c, 413, "request body too large (at most %d bytes)", WEB_BODY_MAX);
        return;
    }
    bool writes = c->method == LWSHUMETH_POST || c->method == LWSHUMETH_PUT || c->method == LWSHUMETH_DELETE ||
                  c->method == LWSHUMETH_PATCH;
    if (n > 0 && !writes) {
        refused_early(c, n); /* a GET's body means nothing: dropped */
    } else if (n > 0) {
        c->body_expected = (size_t)n;
        c->body = malloc((size_t)n + 1);
        if (!c->body) {
            refused_early(c, n);
            web_reply_error(c, 503, "out of memory");
            return;
        }
        return; /* wait for LWS_CALLBACK_HTTP_BODY_COMPLETION */
    }
    web_api_dispatch(c);
}

/* The whole body has come: answer the request. */
static void finish_body(struct web_conn *c)
{
    if (!c->body || c->body_too_big || c->body_len != c->body_expected) {
        web_reply_error(c, 400, "request body does not match its Content-Length");
        return;
    }
    c->body[c->body_len] = '\0';
    web_api_dispatch(c);
}

static int on_body(struct web_conn *c, const void *in, size_t len)
{
    if (!c->body || c->body_too_big)
        return 0;
    if (c->body_len + len > c->body_expected) {
        c->body_too_big = true;
        return 0;
    }
    memcpy(c->body + c->body_len, in, len);
    c->body_len += len;
    return 0;
}

/* The dropped body of a request answered early has all come. */
static int on_discarded_body_end(struct web_conn *c)
{
    c->body_done = true;
    if (!c->reply_done)
        return 0; /* the reply completes the transaction when written */
    if (c->close_after)
        return -1; /* its reply said Connection: close */
    c->discard_body = false;
    return lws_http_transaction_completed(c->wsi) ? -1 : 0;
}

static void ssl_tighten(void *ssl_ctx)
{
    SSL_CTX *ctx = ssl_ctx;
    SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
    SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE);
}

static int callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
                    size_t len)
{
    struct web_conn *c = user;
    struct web *w = lws_context_user(lws_get_context(wsi));
    switch (reason) {
    case LWS_CALLBACK_OPENSSL_LOAD_EXTRA_SERVER_VERIFY_CERTS:
        ssl_tighten(user);
        return 0;
    case LWS_CALLBACK_EVENT_WAIT_CANCELLED:
        if (atomic_exchange(&w->jpeg_ready, 0))
            web_stream_jpeg_ready(w);
        if (!atomic_load(&w->stop)) {
            web_hasher_complete(w);
            web_control_service(w);
        }
        web_serial_wake(w);
        web_vmedia_service(w);
        return 0;
    case LWS_CALLBACK_HTTP:
        return on_http(c, wsi, w, in);
    case LWS_CALLBACK_HTTP_BODY:
        if (c->discard_body)
            return 0;
        if (c->upload || c->upload_failed) {
            web_vmedia_upload_body(c, in, len);
            return 0;
        }
        return on_body(c, in, len);
    case LWS_CALLBACK_HTTP_BODY_COMPLETION:
        if (c->discard_body)
            return on_discarded_body_end(c);
        if (c->upload || c->upload_failed) {
            web_vmedia_upload_complete(c);
            return 0;
        }
        if (!c->body && !c->body_too_big)
            return 0;
        c->body_done = true;
        if (!c->pending_headers) /* else web_request_continue finishes it */
            finish_body(c);
        return 0;
    case LWS_CALLBACK_HTTP_WRITEABLE:
        if (c->closing)
            return -1;
        if (c->kind == WEB_CONN_STREAM)
            return web_stream_writeable(c);
        return web_http_writeable(c);
    case LWS_CALLBACK_CLOSED_HTTP:
    case LWS_CALLBACK_HTTP_DROP_PROTOCOL:
        if (c && c->w) {
            web_hasher_forget(c);
            web_vmedia_upload_closed(c);
            web_stream_closed(c);
            web_longs_remove(c);
            web_resp_reset(&c->resp);
            free(c->body);
            c->body = NULL;
        }
        return 0;
    case LWS_CALLBACK_FILTER_PROTOCOL_CONNECTION:
        begin_request(c, wsi, w);
        c->kind = WEB_CONN_WS;
        return web_auth_websocket(c) < 0 ? 1 : 0;
    case LWS_CALLBACK_ESTABLISHED:
        if (c->serial_ws)
            return web_serial_open(c) < 0 ? -1 : 0;
        return web_bridge_open(c) < 0 ? -1 : 0;
    case LWS_CALLBACK_RECEIVE:
        return c->serial_ws ? web_serial_ws_rx(c, in, len) : web_bridge_ws_rx(c, in, len);
    case LWS_CALLBACK_SERVER_WRITEABLE:
        return c->serial_ws ? web_serial_ws_writeable(c) : web_bridge_ws_writeable(c);
    case LWS_CALLBACK_TIMER:
        web_serial_timer(c);
        return 0;
    case LWS_CALLBACK_CLOSED:
        web_serial_closed(c);
        web_bridge_closed(c);
        web_longs_remove(c);
        return 0;
    default:
        break;
    }
    return lws_callback_http_dummy(wsi, reason, user, in, len);
}

static int pipe_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
                         size_t len)
{
    return web_bridge_pipe_callback(wsi, reason, in, len);
}

/* The plain HTTP port: every request goes to the same path over HTTPS. */
static int redirect_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user,
                             void *in, size_t len)
{
    if (reason != LWS_CALLBACK_HTTP)
        return lws_callback_http_dummy(wsi, reason, user, in, len);
    struct web *w = lws_context_user(lws_get_context(wsi));
    char host[256] = "", path[512];
    if (lws_hdr_total_length(wsi, WSI_TOKEN_HOST) < (int)sizeof(host))
        lws_hdr_copy(wsi, host, sizeof(host), WSI_TOKEN_HOST);
    /* Host without its port; brackets kept for IPv6 literals. */
    char *colon = strrchr(host, ':');
    if (colon && (!strchr(host, ']') || colon > strchr(host, ']')))
        *colon = '\0';
    for (char *p = host; *p; p++)
        if (!(isalnum((unsigned char)*p) || strchr(".-[]:", *p)))
            host[0] = '\0';
    if (!host[0] || web_path_check(in ? in : "/", path, sizeof(path)) < 0)
        return lws_return_http_status(wsi, 400, NULL) ? -1 : lws_http_transaction_completed(wsi);
    char loc[900];
    int n = w->cfg->port == 443 ? snprintf(loc, sizeof(loc), "https://%s%s", host, path)
                                    : snprintf(loc, sizeof(loc), "https://%s:%d%s", host,
                                               w->cfg->port, path);
    uint8_t buf[LWS_PRE + 1200], *p = buf + LWS_PRE, *end = buf + sizeof(buf) - 1;
    if (lws_http_redirect(wsi, 301, (const unsigned char *)loc, n, &p, end) < 0)
        return -1;
    return lws_http_transaction_completed(wsi) ? -1 : 0;
}

static const struct lws_protocols https_protocols[] = {
    /* First: takes plain HTTP and WebSockets that ask for no subprotocol.
     * noVNC asks for "binary" (or nothing); both land here. */
    {"binary", callback, sizeof(struct web_conn), 65536, 0, NULL, 0},
    {"piglix-rfb-pipe", pipe_callback, 0, 65536, 0, NULL, 0},
    {NULL, NULL, 0, 0, 0, NULL, 0},
};

static const struct lws_protocols http_protocols[] = {
    {"http-redirect", redirect_callback, 0, 0, 0, NULL, 0},
    {NULL, NULL, 0, 0, 0, NULL, 0},
};

static void tick(lws_sorted_usec_list_t *sul)
{
    struct web *w = lws_container_of(sul, struct web, tick);
    int64_t now = clock_mono_ms();
    if (auth_accounts_refresh(&w->accounts) > 0) {
        web_auth_throttle_prune(w);
        web_auth_check_setup(w);
    }
    auth_sessions_expire(&w->sessions, now);
    /* Every tick, not only when the file's mtime moved: `piglix user`
     * (another process) may write between a reload and the daemon's own
     * save, and a changed password, token or TOTP secret, or a deleted
     * account, ends its access within a second either way. */
    web_auth_enforce_credentials(w);
    web_control_sync(w);
    web_control_service(w);
    web_stream_tick(w, now);
    lws_sul_schedule(w->ctx, 0, &w->tick, tick, LWS_US_PER_SEC);
}

static const char *ui_root(const struct config_web *cfg)
{
    if (cfg->root[0])
        return cfg->root;
    struct stat st;
    if (stat(PIGLIX_WEB_ROOT_INSTALLED "/index.html", &st) == 0 || !PIGLIX_WEB_ROOT_SOURCE[0])
        return PIGLIX_WEB_ROOT_INSTALLED;
    return PIGLIX_WEB_ROOT_SOURCE;
}

/* noVNC and xterm.js: the configured folder, else the package's copy, else
 * the one the build installed from npm (web/vendor), so a build tree runs
 * with no setting. probe names a file the folder must have. */
static const char *vendor_dir(const char *configured, const char *installed, const char *built,
                              const char *probe)
{
    if (configured[0])
        return configured;
    char path[CONFIG_STR_MAX + 64];
    struct stat st;
    snprintf(path, sizeof(path), "%s/%s", installed, probe);
    if (stat(path, &st) == 0 || !built[0])
        return installed;
    return built;
}

/* 0.1.0 shipped `novnc = /usr/share/novnc` (Debian's novnc package) in the
 * conffile, which an upgrade keeps when the user edited anything else. Since
 * then the package brings its own noVNC: that old default without noVNC
 * in it means the packaged copy, or the viewer would never load. */
#define WEB_NOVNC_OLD_DEFAULT "/usr/share/novnc"

static const char *novnc_configured(const char *configured)
{
    struct stat st;
    if (strcmp(configured, WEB_NOVNC_OLD_DEFAULT) != 0 || stat(WEB_NOVNC_OLD_DEFAULT "/core/rfb.js", &st) == 0)
        return configured;
    LOG_WARN("web", "[web] novnc = %s (the default of piglix 0.1.0) has no noVNC: serving the packaged copy; "
             "remove the line (the new default, novnc =, means the packaged copy)", configured);
    return "";
}

static void on_jpeg_ready(void *ctx)
{
    struct web *w = ctx;
    atomic_store(&w->jpeg_ready, 1);
    lws_cancel_service(w->ctx);
}

/* Where one vhost listens. libwebsockets 4.1 binds [::] (everything) for
 * an IPv4 literal on an IPv6-enabled vhost, and 0.0.0.0 for an IPv6 one on
 * an IPv4 vhost: each vhost gets exactly one address and the family
 * options that keep it to that address. */
static void vhost_addr(struct lws_context_creation_info *info, const struct netlisten_addr *a, int i)
{
    static const char *const names[NETLISTEN_MAX] = {"piglix", "piglix-2", "piglix-3", "piglix-4"};
    info->vhost_name = names[i];
    info->iface = a->any ? NULL : a->text; /* kept by lws: a lives in struct web */
    if (a->family == AF_INET)
        info->options |= LWS_SERVER_OPTION_DISABLE_IPV6;
    else
        info->options |= LWS_SERVER_OPTION_IPV6_V6ONLY_MODIFY | (a->dual ? 0 : LWS_SERVER_OPTION_IPV6_V6ONLY_VALUE);
}

/* Checks what the sockets on port really bound (getsockname), says it,
 * and refuses anything but what [web] listen asked. */
static int listen_verify(struct web *w, int port, const char *what)
{
    int fds[NETLISTEN_MAX * 2];
    int n = netlisten_find(SOCK_STREAM, port, fds, NETLISTEN_MAX * 2);
    char desc[256], err[160];
    if (netlisten_verify(fds, n, port, w->listen, w->n_listen, desc, sizeof(desc), err, sizeof(err)) < 0) {
        LOG_ERROR("web", "[web] listen = %s: %s on port %d: %s (bound: %s); not starting", w->cfg->listen,
                  what, port, err, desc[0] ? desc : "nothing");
        return -1;
    }
    LOG_INFO("web", "%s listening on %s", what, desc);
    return 0;
}

static int listen_https(struct web *w)
{
    const struct config_web *cfg = w->cfg;
    for (int i = 0; i < w->n_listen; i++) {
        struct lws_context_creation_info info;
        memset(&info, 0, sizeof(info));
        info.port = cfg->port;
        info.protocols = https_protocols;
        info.options = LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT | LWS_SERVER_OPTION_FAIL_UPON_UNABLE_TO_BIND;
        vhost_addr(&info, &w->listen[i], i);
        info.ssl_cert_filepath = w->cert;
        info.ssl_private_key_filepath = w->key;
        info.ssl_cipher_list = WEB_TLS12_CIPHERS;
        info.ssl_options_set = SSL_OP_NO_SSLv3 | SSL_OP_NO_TLSv1 | SSL_OP_NO_TLSv1_1 | SSL_OP_NO_COMPRESSION;
        info.alpn = "http/1.1";
        info.server_string = "piglix";
        info.keepalive_timeout = 30;
        info.timeout_secs = 20;
        struct lws_vhost *vh = lws_create_vhost(w->ctx, &info);
        if (!vh) {
            LOG_ERROR("web", "cannot serve HTTPS on [%s]:%d (in use, or no permission?)", w->listen[i].text,
                      cfg->port);
            return -1;
        }
        if (!w->vhost)
            w->vhost = vh; /* the bridge's pipes are adopted into the first */
    }
    return listen_verify(w, cfg->port, "HTTPS");
}

static int listen_redirects(struct web *w)
{
    for (int i = 0; i < w->n_listen; i++) {
        struct lws_context_creation_info info;
        memset(&info, 0, sizeof(info));
        info.port = w->cfg->http_port;
        info.protocols = http_protocols;
        info.options = LWS_SERVER_OPTION_FAIL_UPON_UNABLE_TO_BIND;
        vhost_addr(&info, &w->listen[i], i);
        info.vhost_name = i ? "piglix-redirect-2" : "piglix-redirect";
        info.server_string = "piglix";
        info.timeout_secs = 10;
        if (!lws_create_vhost(w->ctx, &info)) {
            LOG_ERROR("web", "cannot serve HTTP redirects on [%s]:%d", w->listen[i].text, w->cfg->http_port);
            return -1;
        }
    }
    return listen_verify(w, w->cfg->http_port, "HTTP redirects");
}

struct web *web_create(const struct web_params *p, struct server *srv,
                       struct capture_slot *slot, const struct web_hid *hid, struct atx *atx)
{
    struct web *w = calloc(1, sizeof(*w));
    if (!w)
        return NULL;
    const struct config_web *cfg = p->web;
    w->cfg = cfg;
    snprintf(w->state_dir, sizeof(w->state_dir), "%s", p->state_dir);
    snprintf(w->capture_source, sizeof(w->capture_source), "%s", p->capture_source);
    w->sensors_poll_ms = p->sensors_poll_ms;
    w->upload_idle_s = p->upload_idle_s;
    w->srv = srv;
    w->atx = atx;
    w->slot = slot;
    if (hid && hid->ops) {
        w->hid = *hid;
        w->have_hid = true;
    }
    snprintf(w->root, sizeof(w->root), "%s", ui_root(cfg));
    snprintf(w->novnc, sizeof(w->novnc), "%s",
             vendor_dir(novnc_configured(cfg->novnc), PIGLIX_NOVNC_INSTALLED, PIGLIX_NOVNC_BUILD, "core/rfb.js"));
    snprintf(w->xterm, sizeof(w->xterm), "%s",
             vendor_dir(cfg->xterm, PIGLIX_XTERM_INSTALLED, PIGLIX_XTERM_BUILD, "xterm/lib/xterm.js"));
    auth_sessions_init(&w->sessions, cfg->session_idle_s, cfg->session_max_s);
    w->throttle = auth_throttle_create_addresses(cfg->login_fail_limit, cfg->login_throttle_s,
                                                     WEB_THROTTLE_ADDRS);
    w->acct_throttle = auth_throttle_create_keys(cfg->login_fail_limit, cfg->login_throttle_s,
                                                     AUTH_ACCOUNTS_MAX);
    if (!w->throttle || !w->acct_throttle)
        goto fail;
    if (mkdir(p->state_dir, 0700) < 0 && errno != EEXIST) {
        LOG_ERROR("web", "[state] dir %s: %s", p->state_dir, strerror(errno));
        goto fail;
    }
    if (auth_accounts_load(&w->accounts, p->state_dir, stderr) < 0)
        goto fail;
    if (!auth_accounts_dummy_hash()[0]) {
        LOG_ERROR("web", "cannot make a yescrypt hash (libcrypt without yescrypt?)");
        goto fail;
    }
    if (web_tls_prepare(cfg, w->state_dir, w->cert, sizeof(w->cert), w->key, sizeof(w->key)) < 0)
        goto fail;
    struct stat st;
    char probe[CONFIG_STR_MAX + 32];
    snprintf(probe, sizeof(probe), "%s/index.html", w->root);
    if (stat(probe, &st) != 0)
        LOG_WARN("web", "no UI at %s ([web] root): the API works, the page will be missing", w->root);
    snprintf(probe, sizeof(probe), "%s/core/rfb.js", w->novnc);
    if (stat(probe, &st) != 0)
        LOG_WARN("web", "no noVNC at %s ([web] novnc; the package ships it, a source build installs it "
                 "with npm: web/vendor): the viewer will not load", w->novnc);

    char err[160];
    w->n_listen = netlisten_resolve(cfg->listen, w->listen, NETLISTEN_MAX, err, sizeof(err));
    if (w->n_listen < 0) {
        LOG_ERROR("web", "[web] listen = %s: %s", cfg->listen, err);
        goto fail;
    }
    lws_set_log_level(LLL_ERR | LLL_WARN, lws_log_emit);
    struct lws_context_creation_info info;
    memset(&info, 0, sizeof(info));
    info.options = LWS_SERVER_OPTION_EXPLICIT_VHOSTS | LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT;
    info.port = CONTEXT_PORT_NO_LISTEN;
    info.user = w;
    info.gid = -1;
    info.uid = -1;
    w->ctx = lws_create_context(&info);
    if (!w->ctx) {
        LOG_ERROR("web", "cannot create the libwebsockets context");
        goto fail;
    }
    if (listen_https(w) < 0 || (cfg->http_port && listen_redirects(w) < 0))
        goto fail;
    if (p->redfish->enabled && !(w->redfish = redfish_create(w)))
        goto fail;
    if (!(w->hasher = web_hasher_create(w)))
        goto fail;
    server_set_jpeg_listener(srv, on_jpeg_ready, w);
    web_auth_check_setup(w);
    LOG_INFO("web", "HTTPS on [%s]:%d%s (certificate %s), UI from %s, noVNC from %s",
             cfg->listen, cfg->port, cfg->http_port ? ", HTTP redirects too" : "",
             w->cert, w->root, w->novnc);
    return w;
fail:
    web_destroy(w);
    return NULL;
}

/* Wakes an idle event loop in time for its beat. */
static void live_tick(lws_sorted_usec_list_t *sul)
{
    struct web *w = lws_container_of(sul, struct web, live_tick);
    liveness_beat(w->live);
    lws_sul_schedule(w->ctx, 0, &w->live_tick, live_tick, (lws_usec_t)liveness_wake_ms() * 1000);
}

static void *web_thread(void *arg)
{
    auth_forbid_hashing_on_this_thread(); /* hashes go to web_hash.c's worker */
    struct web *w = arg;
    w->live = liveness_register("web");
    lws_sul_schedule(w->ctx, 0, &w->tick, tick, LWS_US_PER_SEC);
    lws_sul_schedule(w->ctx, 0, &w->live_tick, live_tick, (lws_usec_t)liveness_wake_ms() * 1000);
    bool failed = false;
    while (!atomic_load(&w->stop)) {
        liveness_beat(w->live);
        if (lws_service(w->ctx, 0) < 0) {
            failed = true;
            break;
        }
    }
    if (!failed) /* a loop that died stays registered: the watchdog starves */
        liveness_unregister(w->live);
    return NULL;
}

void web_set_sensors(struct web *w, struct sensors *sensors)
{
    w->sensors = sensors;
}

void web_set_vmedia(struct web *w, struct vmedia_store *store, struct vmedia_drive *drive)
{
    w->vstore = store;
    w->vdrive = drive;
}

void web_set_vmedia_drive(struct web *w, struct vmedia_drive *drive)
{
    if (w)
        w->vdrive = drive;
}

int web_start(struct web *w)
{
    int r = thread_start(&w->thread, web_thread, w);
    if (r != 0) {
        LOG_ERROR("web", "cannot start the web thread: %s", strerror(r));
        return -1;
    }
    w->started = true;
    return 0;
}

void web_destroy(struct web *w)
{
    if (!w)
        return;
    if (w->started) {
        atomic_store(&w->stop, 1);
        lws_cancel_service(w->ctx);
        pthread_join(w->thread, NULL);
    }
    if (w->srv)
        server_set_jpeg_listener(w->srv, NULL, NULL);
    web_serial_detach(w);
    /* The worker stops first (it wakes the context); connections closing
     * in lws_context_destroy only clear their jobs' back-pointers. */
    atomic_store(&w->stop, 1);
    web_hasher_destroy(w->hasher);
    w->hasher = NULL;
    if (w->ctx) {
        lws_sul_cancel(&w->tick);
        lws_sul_cancel(&w->live_tick);
        lws_context_destroy(w->ctx);
    }
    redfish_destroy(w->redfish);
    auth_throttle_destroy(w->throttle);
    auth_throttle_destroy(w->acct_throttle);
    explicit_bzero(&w->sessions, sizeof(w->sessions));
    explicit_bzero(w->setup_token, sizeof(w->setup_token));
    free(w);
}
