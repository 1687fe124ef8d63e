/* Virtual media in the web API (web/API.md, "Virtual media"): the image
 * store, transfers and the USB drive. Uploads (PUT /api/vmedia/images/NAME)
 * are streamed: each body chunk is handed to vmedia's writer thread for
 * that upload as libwebsockets delivers it, and the socket is not read
 * while the writer's bounded queue is full (lws_rx_flow_control), so
 * memory stays flat whatever the size, a slow or failing SD card stalls
 * only that upload (never the event loop, which serves every other
 * client), and a client that goes away or stalls leaves nothing behind. */
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

static void upload_fail(struct web_conn *c, int err, const char *name, const char *msg)
{
    c->upload_failed = true;
    web_resp_header(&c->resp, "Connection: close");
    if (err == VMEDIA_E_NOSPACE)
        web_reply_error(c, 507, "%s: the image store is full: nothing was kept", name);
    else if (err == VMEDIA_E_IO)
        web_reply_error(c, 500, "%s: %s: nothing was kept", name, msg && msg[0] ? msg : vmedia_strerror(err));
    else
        web_vmedia_reply_err(c, err, name, msg);
}

/* Called on a writer thread: only signals; web_vmedia_service does the rest. */
static void upload_wake(void *arg)
{
    struct web *w = arg;
    atomic_store(&w->uploads_ready, 1);
    lws_cancel_service(w->ctx);
}

static void uploads_add(struct web_conn *c)
{
    struct web *w = c->w;
    c->prev_upload = NULL;
    c->next_upload = w->uploads;
    if (w->uploads)
        w->uploads->prev_upload = c;
    w->uploads = c;
}

/* Lets go of the writer (a running upload is cancelled by it). */
static void upload_drop(struct web_conn *c)
{
    struct web *w = c->w;
    if (c->prev_upload)
        c->prev_upload->next_upload = c->next_upload;
    else if (w->uploads == c)
        w->uploads = c->next_upload;
    if (c->next_upload)
        c->next_upload->prev_upload = c->prev_upload;
    c->next_upload = c->prev_upload = NULL;
    vmedia_writer_release(c->upload);
    c->upload = NULL;
    if (c->upload_paused) {
        c->upload_paused = false;
        lws_rx_flow_control(c->wsi, 1);
    }
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
        upload_fail(c, VMEDIA_E_NAME, "Content-Length", NULL);
        return;
    }
    int r = vmedia_writer_begin(w->vstore, name, len, upload_wake, w, &c->upload);
    if (r != VMEDIA_OK) {
        c->upload = NULL;
        upload_fail(c, r, name, NULL);
        return;
    }
    uploads_add(c);
    snprintf(c->upload_name, sizeof(c->upload_name), "%s", name);
    c->upload_expected = len;
    c->upload_received = 0;
    c->upload_paused = c->upload_body_done = false;
    LOG_INFO("web", "%s@%s: uploading %s (%llu bytes)", c->user, c->addr, name, len);
    lws_set_timeout(c->wsi, PENDING_TIMEOUT_HTTP_CONTENT, w->upload_idle_s);
    if (len == 0)
        web_vmedia_upload_complete(c);
}

void web_vmedia_upload_body(struct web_conn *c, const void *in, size_t len)
{
    if (!c->upload || c->upload_body_done)
        return; /* refused or failed: the rest of the body is dropped */
    lws_set_timeout(c->wsi, PENDING_TIMEOUT_HTTP_CONTENT, c->w->upload_idle_s);
    bool room = true;
    /* a failure comes back through web_vmedia_service (the writer wakes it) */
    if (vmedia_writer_push(c->upload, in, len, &room) == VMEDIA_OK)
        c->upload_received += len;
    if (!room && !c->upload_paused) {
        /* The disk is behind: stop reading this socket (TCP holds the
         * client back) until the writer has drained half its queue. */
        c->upload_paused = true;
        lws_rx_flow_control(c->wsi, 0);
    }
}

void web_vmedia_upload_complete(struct web_conn *c)
{
    if (!c->upload || c->upload_body_done)
        return;
    c->upload_body_done = true;
    /* The fsync and rename are the writer's: the reply waits for them
     * (web_vmedia_service), the event loop does not. */
    lws_set_timeout(c->wsi, NO_PENDING_TIMEOUT, 0);
    vmedia_writer_finish(c->upload);
}

/* The writer failed while the body may still be coming: answer now and
 * drop the rest (or close after the answer when much is left, as for a
 * request refused on its headers). */
static void upload_failed_midway(struct web_conn *c, int err, const char *msg)
{
    if (c->upload_paused) { /* read again: what still comes is dropped */
        c->upload_paused = false;
        lws_rx_flow_control(c->wsi, 1);
    }
    if (c->upload_body_done)
        c->close_after = true; /* as its Connection: close says */
    else {
        c->discard_body = true;
        if (c->upload_expected - c->upload_received > WEB_DRAIN_MAX)
            c->close_after = true;
    }
    LOG_WARN("web", "%s@%s: upload of %s failed: %s", c->user, c->addr, c->upload_name,
             msg && msg[0] ? msg : vmedia_strerror(err));
    audit_record(AUDIT_MEDIA_UPLOAD, web_audit_iface(c), AUDIT_FAILED, c->user, c->addr, "%s: %s", c->upload_name,
                 msg && msg[0] ? msg : vmedia_strerror(err));
    upload_fail(c, err, c->upload_name, msg);
}

static void upload_service(struct web_conn *c)
{
    int err = VMEDIA_OK;
    char msg[192];
    struct vmedia_image im;
    enum vmedia_state st = vmedia_writer_poll(c->upload, &err, msg, sizeof(msg), &im);
    if (st == VMEDIA_RUNNING) {
        if (c->upload_paused && vmedia_writer_has_room(c->upload)) {
            c->upload_paused = false;
            lws_rx_flow_control(c->wsi, 1);
            lws_set_timeout(c->wsi, PENDING_TIMEOUT_HTTP_CONTENT, c->w->upload_idle_s);
        }
        return;
    }
    upload_drop(c);
    if (st != VMEDIA_DONE) {
        upload_failed_midway(c, err, msg);
        return;
    }
    LOG_INFO("web", "%s@%s: uploaded %s (%llu bytes, sha256 %s)", c->user, c->addr, im.name,
             (unsigned long long)im.size, im.sha256);
    audit_record(AUDIT_MEDIA_UPLOAD, web_audit_iface(c), AUDIT_OK, c->user, c->addr, "%s (%llu bytes, sha256 %.16s...)",
                 im.name, (unsigned long long)im.size, im.sha256);
    web_reply_json(c, 201, image_json(&im));
}

void web_vmedia_service(struct web *w)
{
    if (!atomic_exchange(&w->uploads_ready, 0))
        return;
    for (struct web_conn *c = w->uploads, *next; c; c = next) {
        next = c->next_upload;
        upload_service(c);
    }
}

void web_vmedia_upload_closed(struct web_conn *c)
{
    if (!c->upload)
        return;
    if (c->upload_body_done)
        LOG_WARN("web", "%s@%s: the client of the upload of %s left before the reply (kept only if already stored)",
                 c->user, c->addr, c->upload_name);
    else
        LOG_WARN("web", "%s@%s: upload of %s ended by the client after %s: nothing kept", c->user, c->addr,
                 c->upload_name, "the connection closed or stalled");
    c->upload_paused = false; /* the connection is going: nothing to resume */
    upload_drop(c);
}
