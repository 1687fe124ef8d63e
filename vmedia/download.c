/* Downloads from a URL into the store, in a thread per download, through
 * the same temporary-file path as uploads. libcurl verifies TLS
 * certificates unless the caller asks otherwise. */
#include <curl/curl.h>
#include <stdio.h>
#include <sys/socket.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"
#include "common/thread.h"
#include "vmedia/vmedia_internal.h"

struct download_ctx {
    struct vmedia_upload *u;
    int write_err;
    char refused[160];      /* why the last connection was refused, if one was */
};

/* Every connection libcurl makes (each DNS answer tried, each redirect)
 * opens its socket here, with the address it is about to connect to: the
 * one place where a check cannot be bypassed by a redirect or by a name
 * that resolves differently the second time. */
static curl_socket_t open_socket(void *userdata, curlsocktype purpose, struct curl_sockaddr *address)
{
    struct download_ctx *d = userdata;
    (void)purpose;
    if (vmedia_url_policy_check(&d->u->policy, &address->addr, d->refused, sizeof(d->refused)) != 0) {
        LOG_WARN("vmedia", "download of %s: %s", d->u->p.name, d->refused);
        return CURL_SOCKET_BAD;
    }
    return socket(address->family, address->socktype | SOCK_CLOEXEC, address->protocol);
}

static size_t on_data(char *ptr, size_t size, size_t nmemb, void *userdata)
{
    struct download_ctx *d = userdata;
    size_t len = size * nmemb;
    int r = vmedia_upload_write(d->u, ptr, len);
    if (r != VMEDIA_OK) {
        d->write_err = r;
        return 0; /* makes libcurl stop with CURLE_WRITE_ERROR */
    }
    return len;
}

static int on_progress(void *userdata, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
                       curl_off_t ulnow)
{
    (void)dlnow, (void)ultotal, (void)ulnow;
    struct download_ctx *d = userdata;
    struct vmedia_upload *u = d->u;
    if (dltotal > 0 && u->p.total == 0) {
        if (u->store->max_size && (uint64_t)dltotal > u->store->max_size) {
            d->write_err = VMEDIA_E_TOOBIG;
            return 1;
        }
        pthread_mutex_lock(&u->store->lock);
        u->p.total = (uint64_t)dltotal;
        pthread_mutex_unlock(&u->store->lock);
    }
    return atomic_load(&u->cancel) ? 1 : 0;
}

static void describe(CURLcode c, long http, const char *full_url, const char *errbuf, char *out, size_t n)
{
    char url[256];
    vmedia_url_redact(full_url, url, sizeof(url));
    switch (c) {
    case CURLE_HTTP_RETURNED_ERROR:
        snprintf(out, n, "the server answered HTTP %ld for %.96s", http, url);
        break;
    case CURLE_COULDNT_RESOLVE_HOST:
        snprintf(out, n, "cannot resolve the host name in %.96s (DNS)", url);
        break;
    case CURLE_COULDNT_CONNECT:
        snprintf(out, n, "cannot connect to the server of %.96s", url);
        break;
    case CURLE_PEER_FAILED_VERIFICATION:
        snprintf(out, n, "TLS certificate verification failed for %.60s: %.60s", url, errbuf);
        break;
    case CURLE_SSL_CONNECT_ERROR:
        snprintf(out, n, "TLS handshake failed with %.60s: %.60s", url, errbuf);
        break;
    case CURLE_OPERATION_TIMEDOUT:
        snprintf(out, n, "the download of %.96s stalled (timed out)", url);
        break;
    case CURLE_UNSUPPORTED_PROTOCOL:
        snprintf(out, n, "only http:// and https:// URLs are supported");
        break;
    default:
        snprintf(out, n, "%.60s: %.110s", curl_easy_strerror(c), errbuf[0] ? errbuf : url);
    }
}

static void curl_global_init_wrapper(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
}

static void *download_main(void *arg)
{
    struct vmedia_upload *u = arg;
    struct download_ctx d = {.u = u};
    char errbuf[CURL_ERROR_SIZE] = "";
    /* the temporary file is made here, not on the caller's (web) thread */
    int r = vmedia_transfer_open(u, 0);
    if (r != VMEDIA_OK) {
        vmedia_transfer_end(u, r, NULL);
        return NULL;
    }
    CURL *c = curl_easy_init();
    if (!c) {
        vmedia_transfer_end(u, VMEDIA_E_NOMEM, NULL);
        return NULL;
    }
    curl_easy_setopt(c, CURLOPT_URL, u->url);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 1L);
    curl_easy_setopt(c, CURLOPT_MAXREDIRS, 5L);
    curl_easy_setopt(c, CURLOPT_OPENSOCKETFUNCTION, open_socket);
    curl_easy_setopt(c, CURLOPT_OPENSOCKETDATA, &d);
    /* no proxy from the environment: the check above must see the server */
    curl_easy_setopt(c, CURLOPT_PROXY, "");
    curl_easy_setopt(c, CURLOPT_FAILONERROR, 1L);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 30L);
    /* a transfer slower than 1 byte/s for 60 s has stalled */
    curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1L);
    curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, 60L);
    curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, u->insecure ? 0L : 1L);
    curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, u->insecure ? 0L : 2L);
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &d);
    curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, on_progress);
    curl_easy_setopt(c, CURLOPT_XFERINFODATA, &d);
    curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(c, CURLOPT_USERAGENT, "piglix");
    CURLcode rc = curl_easy_perform(c);
    long http = 0;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &http);
    curl_easy_cleanup(c);
    if (rc == CURLE_OK) {
        vmedia_transfer_end(u, VMEDIA_OK, NULL);
    } else if (d.write_err) {
        vmedia_transfer_end(u, d.write_err, NULL); /* no-op when the write path ended it */
    } else if (rc == CURLE_ABORTED_BY_CALLBACK && atomic_load(&u->cancel)) {
        vmedia_transfer_end(u, VMEDIA_E_CANCELLED, "cancelled");
    } else if (rc == CURLE_COULDNT_CONNECT && d.refused[0]) {
        vmedia_transfer_end(u, VMEDIA_E_NET, d.refused);
    } else {
        char msg[192];
        describe(rc, http, u->url, errbuf, msg, sizeof(msg));
        vmedia_transfer_end(u, VMEDIA_E_NET, msg);
    }
    return NULL;
}

int vmedia_download_start(struct vmedia_store *s, const char *url, const char *name, bool insecure)
{
    if (vmedia_name_check(name) != VMEDIA_OK)
        return VMEDIA_E_NAME;
    if (strlen(url) >= sizeof(((struct vmedia_upload *)0)->url) ||
        (strncmp(url, "http://", 7) != 0 && strncmp(url, "https://", 8) != 0))
        return VMEDIA_E_NET;
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, curl_global_init_wrapper);
    char final[PATH_MAX];
    vmedia_path_of(s, NULL, name, final, sizeof(final));
    struct vmedia_upload *u = NULL;
    pthread_mutex_lock(&s->lock);
    int r = access(final, F_OK) == 0 ? VMEDIA_E_EXISTS : vmedia_slot_claim(s, name, true, &u);
    if (r == VMEDIA_OK) {
        snprintf(u->url, sizeof(u->url), "%s", url);
        u->insecure = insecure;
        u->policy = s->policy;
    }
    pthread_mutex_unlock(&s->lock);
    if (r != VMEDIA_OK)
        return r;
    if (thread_start(&u->thread, download_main, u) != 0) {
        vmedia_transfer_end(u, VMEDIA_E_NOMEM, "cannot start a download thread");
        return VMEDIA_E_NOMEM;
    }
    u->has_thread = true;
    char shown[256];
    vmedia_url_redact(url, shown, sizeof(shown));
    LOG_INFO("vmedia", "downloading %s as %s%s", shown, name, insecure ? " (TLS not verified)" : "");
    return VMEDIA_OK;
}

int vmedia_download_cancel(struct vmedia_store *s, const char *name)
{
    int r = VMEDIA_E_NOTFOUND;
    pthread_mutex_lock(&s->lock);
    for (int i = 0; i < VMEDIA_MAX_TRANSFERS; i++)
        if (s->slots[i].used && s->slots[i].p.state == VMEDIA_RUNNING &&
            strcmp(s->slots[i].p.name, name) == 0) {
            atomic_store(&s->slots[i].cancel, true);
            r = VMEDIA_OK;
        }
    pthread_mutex_unlock(&s->lock);
    return r;
}
