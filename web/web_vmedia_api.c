/* The JSON calls of /api/vmedia (everything but the streamed upload, which
 * is in web_vmedia.c). */
#include <string.h>

#include "common/log.h"
#include "vmedia/vmedia.h"
#include "audit/audit.h"
#include "web/web_internal.h"

#define WEB_URL_MAX 2048 /* what the store keeps of a URL (vmedia_internal.h) */

static cJSON *parse_body(struct web_conn *c)
{
    cJSON *j = c->body_len ? cJSON_ParseWithLength((const char *)c->body, c->body_len) : cJSON_CreateObject();
    if (!cJSON_IsObject(j)) {
        cJSON_Delete(j);
        web_reply_error(c, 400, "the body must be a JSON object");
        return NULL;
    }
    return j;
}

/* A string member: NULL when absent; on a wrong type replies 422. */
static bool get_str(struct web_conn *c, cJSON *j, const char *key, bool required, const char **out)
{
    cJSON *v = cJSON_GetObjectItemCaseSensitive(j, key);
    *out = NULL;
    if (!v && !required)
        return true;
    if (!cJSON_IsString(v) || !v->valuestring[0]) {
        web_reply_error(c, 422, "\"%s\" must be a non-empty string", key);
        return false;
    }
    *out = v->valuestring;
    return true;
}

static bool get_bool(struct web_conn *c, cJSON *j, const char *key, bool *out)
{
    cJSON *v = cJSON_GetObjectItemCaseSensitive(j, key);
    if (!v)
        return true;
    if (!cJSON_IsBool(v)) {
        web_reply_error(c, 422, "\"%s\" must be true or false", key);
        return false;
    }
    *out = cJSON_IsTrue(v);
    return true;
}

static bool get_mode(struct web_conn *c, cJSON *j, enum vmedia_mode *out)
{
    const char *m;
    if (!get_str(c, j, "mode", false, &m))
        return false;
    int mode = m ? vmedia_mode_parse(m) : VMEDIA_MODE_CDROM;
    if (mode < 0) {
        web_reply_error(c, 422, "\"mode\" must be \"cdrom\" or \"flash\"");
        return false;
    }
    *out = (enum vmedia_mode)mode;
    return true;
}

static bool need_drive(struct web_conn *c)
{
    if (c->w->vdrive)
        return true;
    web_reply_error(c, 503, "no USB drive: [vmedia] needs [hid] enabled and a USB device controller (the USB gadget; see the log)");
    return false;
}

static void image_call(struct web_conn *c, const char *rest)
{
    struct web *w = c->w;
    char name[VMEDIA_NAME_MAX + 2];
    const char *slash = strchr(rest, '/');
    size_t n = slash ? (size_t)(slash - rest) : strlen(rest);
    if (n == 0 || n >= sizeof(name)) {
        web_reply_error(c, 400, "bad image name");
        return;
    }
    memcpy(name, rest, n);
    name[n] = 0;
    int r;
    if (!slash && c->method == LWSHUMETH_DELETE) {
        r = vmedia_delete(w->vstore, name);
        LOG_INFO("web", "%s@%s: delete %s: %s", c->user, c->addr, name, vmedia_strerror(r));
        audit_record(AUDIT_MEDIA_DELETE, web_audit_iface(c), r == VMEDIA_OK ? AUDIT_OK : AUDIT_FAILED, c->user,
                     c->addr, "image %s: %s", name, vmedia_strerror(r));
    } else if (slash && strcmp(slash, "/rename") == 0 && c->method == LWSHUMETH_POST) {
        cJSON *j = parse_body(c);
        const char *to;
        if (!j)
            return;
        if (!get_str(c, j, "to", true, &to)) {
            cJSON_Delete(j);
            return;
        }
        r = vmedia_rename(w->vstore, name, to);
        LOG_INFO("web", "%s@%s: rename %s to %s: %s", c->user, c->addr, name, to, vmedia_strerror(r));
        cJSON_Delete(j);
    } else {
        web_reply_error(c, 405, "not allowed on %s", c->path);
        return;
    }
    if (r != VMEDIA_OK)
        web_vmedia_reply_err(c, r, name, r == VMEDIA_E_BUSY ? "in use (mounted or being transferred)" : NULL);
    else
        web_vmedia_reply_state(c, 200);
}

/* The URL, its scheme in lower case, into out; false after a 422. */
static bool url_ok(struct web_conn *c, const char *url, char *out, size_t n)
{
    if (web_url_normalize(url, out, n) == 0)
        return true;
    web_reply_error(c, 422, "\"url\" must be an http:// or https:// URL with a host (at most %zu bytes)", n - 1);
    return false;
}

static void download(struct web_conn *c, cJSON *j)
{
    char norm[WEB_URL_MAX];
    const char *url, *name;
    bool insecure = false;
    char derived[VMEDIA_NAME_MAX + 1];
    if (!get_str(c, j, "url", true, &url) || !get_str(c, j, "name", false, &name) ||
        !get_bool(c, j, "insecure", &insecure) || !url_ok(c, url, norm, sizeof(norm)))
        return;
    url = norm;
    if (!name) {
        if (vmedia_name_from_url(url, derived, sizeof(derived)) != VMEDIA_OK) {
            web_reply_error(c, 422, "cannot name the image after the URL: give \"name\"");
            return;
        }
        name = derived;
    }
    int r = vmedia_download_start(c->w->vstore, url, name, insecure);
    char shown[256];
    vmedia_url_redact(url, shown, sizeof(shown));
    LOG_INFO("web", "%s@%s: download %s as %s: %s", c->user, c->addr, shown, name, vmedia_strerror(r));
    if (r != VMEDIA_OK)
        web_vmedia_reply_err(c, r, name, r == VMEDIA_E_NET ? "only http:// and https:// URLs" : NULL);
    else
        web_vmedia_reply_state(c, 202);
}

static void drive_call(struct web_conn *c, const char *what, cJSON *j)
{
    struct web *w = c->w;
    char err[192] = "";
    int r;
    if (strcmp(what, "/mount") == 0) {
        const char *image;
        enum vmedia_mode mode;
        bool rw = false;
        if (!get_str(c, j, "image", true, &image) || !get_mode(c, j, &mode) || !get_bool(c, j, "rw", &rw))
            return;
        r = vmedia_drive_mount(w->vdrive, image, mode, rw, err, sizeof(err));
        LOG_INFO("web", "%s@%s: mount %s as %s%s: %s", c->user, c->addr, image, vmedia_mode_name(mode),
                 rw ? " rw" : "", r ? err : "ok");
        audit_record(AUDIT_MEDIA_MOUNT, web_audit_iface(c), r ? AUDIT_FAILED : AUDIT_OK, c->user, c->addr,
                     "%s as %s%s: %s", image, vmedia_mode_name(mode), rw ? " rw" : "", r ? err : "ok");
    } else if (strcmp(what, "/mount-url") == 0) {
        const char *url, *name;
        enum vmedia_mode mode;
        bool insecure = false;
        char norm[WEB_URL_MAX];
        if (!get_str(c, j, "url", true, &url) || !get_str(c, j, "name", false, &name) || !get_mode(c, j, &mode) ||
            !get_bool(c, j, "insecure", &insecure) || !url_ok(c, url, norm, sizeof(norm)))
            return;
        r = vmedia_drive_mount_url(w->vdrive, norm, name, mode, insecure, err, sizeof(err));
        char shown[256];
        vmedia_url_redact(norm, shown, sizeof(shown));
        LOG_INFO("web", "%s@%s: mount from %s: %s", c->user, c->addr, shown, r ? err : "started");
        audit_record(AUDIT_MEDIA_MOUNT, web_audit_iface(c), r ? AUDIT_FAILED : AUDIT_OK, c->user, c->addr,
                     "from %s: %s", shown, r ? err : "started");
        if (r == VMEDIA_OK) {
            web_vmedia_reply_state(c, 202);
            return;
        }
    } else {
        bool force = false;
        if (!get_bool(c, j, "force", &force))
            return;
        r = vmedia_drive_eject(w->vdrive, force, err, sizeof(err));
        LOG_INFO("web", "%s@%s: eject%s: %s", c->user, c->addr, force ? " (forced)" : "", r ? err : "ok");
        audit_record(AUDIT_MEDIA_EJECT, web_audit_iface(c), r ? AUDIT_FAILED : AUDIT_OK, c->user, c->addr,
                     "%s%s", force ? "forced: " : "", r ? err : "ok");
    }
    if (r != VMEDIA_OK)
        web_reply_error(c, web_vmedia_http_status(r), "%s", err[0] ? err : vmedia_strerror(r));
    else
        web_vmedia_reply_state(c, 200);
}

void web_vmedia_call(struct web_conn *c, const char *sub)
{
    struct web *w = c->w;
    if (!w->vstore) {
        web_reply_error(c, 503, "virtual media is off ([vmedia] enabled = no)");
        return;
    }
    int m = c->method;
    if (sub[0] == 0 || strcmp(sub, "/") == 0) {
        if (m == LWSHUMETH_GET)
            web_vmedia_reply_state(c, 200);
        else
            web_reply_error(c, 405, "not allowed on %s", c->path);
        return;
    }
    if (strncmp(sub, "/images/", 8) == 0) {
        image_call(c, sub + 8);
        return;
    }
    if (strncmp(sub, "/transfers/", 11) == 0 && m == LWSHUMETH_DELETE) {
        int r = vmedia_download_cancel(w->vstore, sub + 11);
        if (r != VMEDIA_OK)
            web_vmedia_reply_err(c, r, sub + 11, r == VMEDIA_E_NOTFOUND ? "no download of that name runs" : NULL);
        else
            web_vmedia_reply_state(c, 200);
        return;
    }
    bool drive = strcmp(sub, "/mount") == 0 || strcmp(sub, "/mount-url") == 0 || strcmp(sub, "/eject") == 0;
    if (!drive && strcmp(sub, "/download") != 0) {
        web_reply_error(c, 404, "no such endpoint: %s", c->path);
        return;
    }
    if (m != LWSHUMETH_POST) {
        web_reply_error(c, 405, "not allowed on %s", c->path);
        return;
    }
    if (drive && !need_drive(c))
        return;
    cJSON *j = parse_body(c);
    if (!j)
        return;
    if (drive)
        drive_call(c, sub, j);
    else
        download(c, j);
    cJSON_Delete(j);
}
