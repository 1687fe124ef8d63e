/* Virtual media in the web API (web/API.md, "Virtual media"): the image
 * store, transfers and the USB drive. Uploads (PUT /api/vmedia/images/NAME)
 * are streamed: each body chunk goes straight to the store's temporary
 * file as libwebsockets delivers it, so memory stays flat whatever the
 * size, and a client that goes away or stalls leaves nothing behind. */
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "vmedia/vmedia.h"
#include "audit/audit.h"
#include "web/web_internal.h"

#define IMAGES "/images/"

int web_vmedia_http_status(int err)
{
    switch ((enum vmedia_err)err) {
    case VMEDIA_OK: return 200;
    case VMEDIA_E_NAME: return 400;
    case VMEDIA_E_EXISTS:
    case VMEDIA_E_BUSY: return 409;
    case VMEDIA_E_NOTFOUND: return 404;
    case VMEDIA_E_NOSPACE: return 507;
    case VMEDIA_E_TOOBIG: return 413;
    case VMEDIA_E_NET: return 502;
    case VMEDIA_E_LIMIT:
    case VMEDIA_E_NOMEM: return 503;
    case VMEDIA_E_CANCELLED:
    case VMEDIA_E_SHORT: return 400;
    case VMEDIA_E_UNFIT: return 422;
    case VMEDIA_E_IO: return 500;
    }
    return 500;
}

static cJSON *image_json(const struct vmedia_image *im)
{
    cJSON *j = cJSON_CreateObject();
    cJSON_AddStringToObject(j, "name", im->name);
    cJSON_AddNumberToObject(j, "size", (double)im->size);
    cJSON_AddNumberToObject(j, "mtime", (double)im->mtime);
    if (im->sha256[0])
        cJSON_AddStringToObject(j, "sha256", im->sha256);
    else
        cJSON_AddNullToObject(j, "sha256");
    cJSON_AddBoolToObject(j, "in_use", im->in_use);
    return j;
}

static const char *state_name(enum vmedia_state s)
{
    static const char *const names[] = {"running", "done", "failed", "cancelled"};
    return (unsigned)s < 4 ? names[s] : "?";
}

cJSON *web_vmedia_drive_json(struct web *w)
{
    if (!w->vdrive)
        return cJSON_CreateNull();
    struct vmedia_drive_status st;
    vmedia_drive_get_status(w->vdrive, &st);
    cJSON *d = cJSON_CreateObject();
    cJSON_AddBoolToObject(d, "present", st.present);
    cJSON_AddBoolToObject(d, "mounted", st.mounted);
    cJSON_AddStringToObject(d, "image", st.image);
    cJSON_AddStringToObject(d, "mode", vmedia_mode_name(st.mode));
    cJSON_AddBoolToObject(d, "as_disk", st.as_disk);
    cJSON_AddBoolToObject(d, "rw", st.rw);
    cJSON_AddNumberToObject(d, "size", (double)st.size);
    cJSON_AddBoolToObject(d, "host_online", st.host_online);
    cJSON_AddBoolToObject(d, "pending", st.pending);
    cJSON_AddStringToObject(d, "pending_name", st.pending_name);
    cJSON_AddStringToObject(d, "last_error", st.last_error);
    return d;
}

void web_vmedia_reply_state(struct web_conn *c, int status)
{
    struct web *w = c->w;
    cJSON *j = cJSON_CreateObject();
    cJSON_AddBoolToObject(j, "enabled", true);
    cJSON *imgs = cJSON_AddArrayToObject(j, "images");
    struct vmedia_image *list = NULL;
    size_t n = 0;
    if (vmedia_list(w->vstore, &list, &n) == VMEDIA_OK)
        for (size_t i = 0; i < n; i++)
            cJSON_AddItemToArray(imgs, image_json(&list[i]));
    free(list);
    uint64_t fr = 0, total = 0;
    vmedia_free_space(w->vstore, &fr, &total);
    cJSON_AddNumberToObject(j, "free_bytes", (double)fr);
    cJSON_AddNumberToObject(j, "total_bytes", (double)total);
    cJSON *tr = cJSON_AddArrayToObject(j, "transfers");
    struct vmedia_progress p[VMEDIA_MAX_TRANSFERS];
    size_t nt = vmedia_transfers(w->vstore, p, VMEDIA_MAX_TRANSFERS);
    for (size_t i = 0; i < nt; i++) {
        cJSON *t = cJSON_CreateObject();
        cJSON_AddStringToObject(t, "name", p[i].name);
        cJSON_AddBoolToObject(t, "download", p[i].download);
        cJSON_AddStringToObject(t, "state", state_name(p[i].state));
        cJSON_AddNumberToObject(t, "done", (double)p[i].done);
        cJSON_AddNumberToObject(t, "total", (double)p[i].total);
        cJSON_AddNumberToObject(t, "rate", p[i].rate);
        if (p[i].state == VMEDIA_FAILED) {
            cJSON_AddStringToObject(t, "error", vmedia_strerror(p[i].error));
            cJSON_AddStringToObject(t, "message", p[i].message);
        }
        cJSON_AddItemToArray(tr, t);
    }
    cJSON_AddItemToObject(j, "drive", web_vmedia_drive_json(w));
    web_reply_json(c, status, j);
}

void web_vmedia_reply_err(struct web_conn *c, int err, const char *what, const char *msg)
{
    web_reply_error(c, web_vmedia_http_status(err), "%s: %s", what, msg && msg[0] ? msg : vmedia_strerror(err));
}

/* ---- streamed uploads ---- */

bool web_vmedia_is_upload(const struct web_conn *c)
{
    return c->method == LWSHUMETH_PUT && strncmp(c->path, "/api/vmedia" IMAGES, 11 + strlen(IMAGES)) == 0;
}

static void upload_fail(struct web_conn *c, int err, const char *name)
{
    c->upload_failed = true;
    web_resp_header(&c->resp, "Connection: close");
    if (err == VMEDIA_E_NOSPACE)
        web_reply_error(c, 507, "%s: the image store is full: nothing was kept", name);
    else
        web_vmedia_reply_err(c, err, name, NULL);
}

void web_vmedia_upload_begin(struct web_conn *c)
{
    struct web *w = c->w;
    const char *name = c->path + 11 + strlen(IMAGES);
    if (web_auth_request(c, true) < 0) {
        if (c->hash_job) {
            /* HTTP Basic: the password hash runs off the event loop. The
             * body waits in the socket; web_hasher_complete begins again. */
            lws_rx_flow_control(c->wsi, 0);
            return;
        }
        c->upload_failed = true;
        return;
    }
    if (!w->vstore) {
        c->upload_failed = true;
        web_reply_error(c, 503, "virtual media is off ([vmedia] enabled = no)");
        return;
    }
    char cl[24];
    char *end = NULL;
    if (web_header(c, WSI_TOKEN_HTTP_CONTENT_LENGTH, cl, sizeof(cl)) <= 0) {
        c->upload_failed = true;
        web_resp_header(&c->resp, "Connection: close");
        web_reply_error(c, 411, "an upload needs a Content-Length");
        return;
    }
    unsigned long long len = strtoull(cl, &end, 10);
    if (!end || *end || cl[0] == '-') {
        upload_fail(c, VMEDIA_E_NAME, "Content-Length");
        return;
    }
    int r = vmedia_upload_begin(w->vstore, name, len, &c->upload);
    if (r != VMEDIA_OK) {
        c->upload = NULL;
        upload_fail(c, r, name);
        return;
    }
    snprintf(c->upload_name, sizeof(c->upload_name), "%s", name);
    c->upload_expected = len;
    LOG_INFO("web", "%s@%s: uploading %s (%llu bytes)", c->user, c->addr, name, len);
    lws_set_timeout(c->wsi, PENDING_TIMEOUT_HTTP_CONTENT, w->upload_idle_s);
    if (len == 0)
        web_vmedia_upload_complete(c);
}

void web_vmedia_upload_body(struct web_conn *c, const void *in, size_t len)
{
    if (!c->upload)
        return; /* refused or failed: the rest of the body is dropped */
    lws_set_timeout(c->wsi, PENDING_TIMEOUT_HTTP_CONTENT, c->w->upload_idle_s);
    int r = vmedia_upload_write(c->upload, in, len);
    if (r != VMEDIA_OK) {
        vmedia_upload_abort(c->upload, "write failed");
        c->upload = NULL;
        LOG_WARN("web", "%s@%s: upload of %s failed: %s", c->user, c->addr, c->upload_name, vmedia_strerror(r));
        upload_fail(c, r, c->upload_name);
    }
}

void web_vmedia_upload_complete(struct web_conn *c)
{
    if (!c->upload)
        return;
    lws_set_timeout(c->wsi, NO_PENDING_TIMEOUT, 0);
    struct vmedia_upload *u = c->upload;
    c->upload = NULL;
    int r = vmedia_upload_finish(u);
    if (r != VMEDIA_OK) {
        LOG_WARN("web", "%s@%s: upload of %s failed: %s", c->user, c->addr, c->upload_name, vmedia_strerror(r));
        audit_record(AUDIT_MEDIA_UPLOAD, web_audit_iface(c), AUDIT_FAILED, c->user, c->addr, "%s: %s",
                     c->upload_name, vmedia_strerror(r));
        upload_fail(c, r, c->upload_name);
        return;
    }
    struct vmedia_image im;
    if (vmedia_stat(c->w->vstore, c->upload_name, &im) != VMEDIA_OK) {
        web_reply_error(c, 500, "%s vanished after the upload", c->upload_name);
        return;
    }
    LOG_INFO("web", "%s@%s: uploaded %s (%llu bytes, sha256 %s)", c->user, c->addr, im.name,
             (unsigned long long)im.size, im.sha256);
    audit_record(AUDIT_MEDIA_UPLOAD, web_audit_iface(c), AUDIT_OK, c->user, c->addr, "%s (%llu bytes, sha256 %.16s...)",
                 im.name, (unsigned long long)im.size, im.sha256);
    web_reply_json(c, 201, image_json(&im));
}

void web_vmedia_upload_closed(struct web_conn *c)
{
    if (!c->upload)
        return;
    LOG_WARN("web", "%s@%s: upload of %s ended by the client after %s: nothing kept", c->user, c->addr,
             c->upload_name, "the connection closed or stalled");
    vmedia_upload_abort(c->upload, "the client went away");
    c->upload = NULL;
}
