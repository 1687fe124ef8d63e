/* Managers/1: the piglix appliance itself, and its VirtualMedia: the one
 * USB drive (vmedia/vmedia.h) seen as two members, "CD" (a CD-ROM)
 * and "USBStick" (a read-only flash drive), of which one at a time holds a
 * medium. InsertMedia downloads the image URL into the store and mounts
 * it (the drive does both, without blocking); EjectMedia ejects. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "audit/audit.h"
#include "common/log.h"
#include "vmedia/vmedia.h"
#include "web/redfish/redfish_internal.h"

#ifndef PIGLIX_VERSION
#define PIGLIX_VERSION "0"
#endif

#define MANAGER RF_ROOT "/Managers/1"
#define VMEDIA MANAGER "/VirtualMedia"
#define INSERT "VirtualMedia.InsertMedia"
#define EJECT "VirtualMedia.EjectMedia"

static const struct {
    const char *id, *name;
    enum vmedia_mode mode;
} members[2] = {
    {"CD", "Virtual CD", VMEDIA_MODE_CDROM},
    {"USBStick", "Virtual USB stick", VMEDIA_MODE_FLASH},
};

void rf_managers(struct rf_req *r)
{
    cJSON *j = rf_collection(RF_T_MANAGER_COLL, RF_ROOT "/Managers", "Manager Collection");
    rf_add_member(j, MANAGER);
    rf_reply(r, 200, j);
}

void rf_manager(struct rf_req *r)
{
    cJSON *j = rf_resource(RF_T_MANAGER, MANAGER, "1", "piglix");
    cJSON_AddStringToObject(j, "Description", "piglix KVM-over-IP appliance");
    cJSON_AddStringToObject(j, "ManagerType", "BMC");
    cJSON_AddStringToObject(j, "Model", "piglix");
    cJSON_AddStringToObject(j, "FirmwareVersion", PIGLIX_VERSION);
    cJSON_AddStringToObject(j, "UUID", r->rf->uuid);
    cJSON_AddStringToObject(j, "PowerState", "On");
    rf_status(j, "Enabled", "OK");
    char t[40];
    rf_time((int64_t)time(NULL), t, sizeof(t));
    cJSON_AddStringToObject(j, "DateTime", t);
    cJSON_AddStringToObject(j, "DateTimeLocalOffset", "+00:00");
    cJSON *gc = cJSON_AddObjectToObject(j, "GraphicalConsole");
    cJSON_AddBoolToObject(gc, "ServiceEnabled", true);
    cJSON_AddNumberToObject(gc, "MaxConcurrentSessions", r->w->cfg->max_viewers);
    cJSON *ct = cJSON_AddArrayToObject(gc, "ConnectTypesSupported");
    cJSON_AddItemToArray(ct, cJSON_CreateString("KVMIP"));
    /* SerialConsole (Manager v1_10_0): the schema's connect types are SSH,
     * Telnet, IPMI and Oem; the web terminal is none of the standard ones,
     * so "Oem", and "IPMI" where IPMI Serial-over-LAN serves it too. */
    cJSON *sc = cJSON_AddObjectToObject(j, "SerialConsole");
    cJSON_AddBoolToObject(sc, "ServiceEnabled", r->w->serial != NULL);
    cJSON_AddNumberToObject(sc, "MaxConcurrentSessions",
                            r->w->serial ? WEB_SERIAL_TERMS_MAX + (r->w->serial_sol ? 1 : 0) : 0);
    cJSON *sct = cJSON_AddArrayToObject(sc, "ConnectTypesSupported");
    if (r->w->serial && r->w->serial_sol)
        cJSON_AddItemToArray(sct, cJSON_CreateString("IPMI"));
    if (r->w->serial)
        cJSON_AddItemToArray(sct, cJSON_CreateString("Oem"));
    rf_link(j, "VirtualMedia", VMEDIA);
    rf_link(j, "LogServices", MANAGER "/LogServices");
    cJSON *links = cJSON_AddObjectToObject(j, "Links");
    rf_link_array(links, "ManagerForServers", RF_ROOT "/Systems/1");
    rf_link_array(links, "ManagerForChassis", RF_ROOT "/Chassis/1");
    rf_reply(r, 200, j);
}

void rf_vmedia_coll(struct rf_req *r)
{
    cJSON *j = rf_collection(RF_T_VMEDIA_COLL, VMEDIA, "Virtual Media Collection");
    char uri[128];
    for (size_t i = 0; r->w->vdrive && i < 2; i++) {
        snprintf(uri, sizeof(uri), VMEDIA "/%s", members[i].id);
        rf_add_member(j, uri);
    }
    rf_reply(r, 200, j);
}

/* Which member (0, 1) holds the drive's medium or its pending download; -1: none. */
static int holder(const struct redfish *rf, const struct vmedia_drive_status *st)
{
    if (st->pending) {
        for (int i = 0; i < 2; i++)
            if (rf->vmedia[i].url[0] && strcmp(rf->vmedia[i].name, st->pending_name) == 0)
                return i;
        return st->mode == VMEDIA_MODE_FLASH;
    }
    if (st->mounted)
        return st->mode == VMEDIA_MODE_FLASH;
    return -1;
}

static int member_index(struct rf_req *r)
{
    for (int i = 0; r->w->vdrive && i < 2; i++)
        if (strcmp(r->arg, members[i].id) == 0)
            return i;
    rf_error(r, 404, RF_MSG_RESOURCE_MISSING_AT_URI, r->uri);
    return -1;
}

static cJSON *member_json(struct rf_req *r, int i)
{
    struct vmedia_drive_status st;
    vmedia_drive_get_status(r->w->vdrive, &st);
    const struct rf_vmedia *m = &r->rf->vmedia[i];
    bool mine = holder(r->rf, &st) == i;
    const char *image = mine ? (st.pending ? st.pending_name : st.image) : NULL;
    /* The URL is shown while the medium is the one Redfish inserted. */
    bool by_url = image && m->url[0] && strcmp(m->name, image) == 0;
    char uri[128];
    snprintf(uri, sizeof(uri), VMEDIA "/%s", members[i].id);
    cJSON *j = rf_resource(RF_T_VMEDIA, uri, members[i].id, members[i].name);
    cJSON *types = cJSON_AddArrayToObject(j, "MediaTypes");
    cJSON_AddItemToArray(types, cJSON_CreateString(i == 0 ? "CD" : "USBStick"));
    if (i == 0)
        cJSON_AddItemToArray(types, cJSON_CreateString("DVD"));
    if (by_url)
        cJSON_AddStringToObject(j, "Image", m->url);
    else
        cJSON_AddNullToObject(j, "Image");
    if (image)
        cJSON_AddStringToObject(j, "ImageName", image);
    else
        cJSON_AddNullToObject(j, "ImageName");
    cJSON_AddBoolToObject(j, "Inserted", mine && st.mounted && !st.pending);
    cJSON_AddBoolToObject(j, "WriteProtected", !(mine && st.mounted && st.rw));
    /* Mounted from the web UI's image store: the UI is the "applet". */
    cJSON_AddStringToObject(j, "ConnectedVia", !image ? "NotConnected" : by_url ? "URI" : "Applet");
    cJSON_AddStringToObject(j, "TransferMethod", "Upload"); /* the whole image is fetched first */
    if (by_url)
        cJSON_AddStringToObject(j, "TransferProtocolType", strncasecmp(m->url, "https:", 6) == 0 ? "HTTPS" : "HTTP");
    else
        cJSON_AddNullToObject(j, "TransferProtocolType");
    cJSON_AddBoolToObject(j, "VerifyCertificate", m->verify_cert);
    /* A failed mount or download through this member shows until the next one. */
    bool failed = st.last_error[0] && (mine || m->url[0]);
    rf_status(j, mine && st.pending ? "Starting" : "Enabled", failed ? "Warning" : "OK");
    cJSON *actions = cJSON_AddObjectToObject(j, "Actions");
    cJSON *ins = cJSON_AddObjectToObject(actions, "#" INSERT);
    snprintf(uri, sizeof(uri), VMEDIA "/%s/Actions/" INSERT, members[i].id);
    cJSON_AddStringToObject(ins, "target", uri);
    cJSON *tp = cJSON_AddArrayToObject(ins, "TransferProtocolType@Redfish.AllowableValues");
    cJSON_AddItemToArray(tp, cJSON_CreateString("HTTP"));
    cJSON_AddItemToArray(tp, cJSON_CreateString("HTTPS"));
    cJSON *tm = cJSON_AddArrayToObject(ins, "TransferMethod@Redfish.AllowableValues");
    cJSON_AddItemToArray(tm, cJSON_CreateString("Upload"));
    cJSON *ej = cJSON_AddObjectToObject(actions, "#" EJECT);
    snprintf(uri, sizeof(uri), VMEDIA "/%s/Actions/" EJECT, members[i].id);
    cJSON_AddStringToObject(ej, "target", uri);
    return j;
}

static void vmedia_patch(struct rf_req *r, int i)
{
    cJSON *cur = member_json(r, i);
    char etag[24];
    rf_etag_of(cur, etag);
    int verify = -1;
    if (!rf_if_match(r, etag)) {
        rf_error(r, 412, RF_MSG_PRECONDITION_FAILED);
        goto out;
    }
    for (cJSON *p = r->body->child; p; p = p->next) {
        if (p->string[0] == '@')
            continue;
        if (strcmp(p->string, "VerifyCertificate") != 0) {
            rf_error(r, 400, cJSON_HasObjectItem(cur, p->string) ? RF_MSG_PROPERTY_NOT_WRITABLE
                                                                  : RF_MSG_PROPERTY_UNKNOWN, p->string);
            goto out;
        }
        if (!cJSON_IsBool(p)) {
            char *v = cJSON_PrintUnformatted(p);
            rf_error(r, 400, RF_MSG_PROPERTY_TYPE_ERROR, v ? v : "?", p->string);
            free(v);
            goto out;
        }
        verify = cJSON_IsTrue(p);
    }
    if (verify >= 0) {
        LOG_INFO("redfish", "%s@%s: VirtualMedia %s: VerifyCertificate %s", r->c->user, r->c->addr,
                 members[i].id, verify ? "true" : "false");
        r->rf->vmedia[i].verify_cert = verify;
    }
    rf_reply(r, 200, member_json(r, i));
out:
    cJSON_Delete(cur);
}

void rf_vmedia(struct rf_req *r)
{
    int i = member_index(r);
    if (i < 0)
        return;
    if (r->method == RF_PATCH)
        vmedia_patch(r, i);
    else
        rf_reply(r, 200, member_json(r, i));
}

/* Checks InsertMedia's parameters; 0, or -1 after replying 400. */
static int insert_params(struct rf_req *r, char *url_buf, size_t url_len)
{
    const char *act = INSERT;
    cJSON *image = r->body ? cJSON_GetObjectItemCaseSensitive(r->body, "Image") : NULL;
    if (!image) {
        rf_error(r, 400, RF_MSG_ACTION_PARAM_MISSING, act, "Image");
        return -1;
    }
    if (!cJSON_IsString(image) || web_url_normalize(image->valuestring, url_buf, url_len) < 0) {
        rf_error_why(r, 400, "Image must be an http:// or https:// URL", RF_MSG_ACTION_PARAM_FORMAT_ERROR,
                     cJSON_IsString(image) ? image->valuestring : "(not a string)", "Image", act);
        return -1;
    }
    bool https = strncmp(url_buf, "https://", 8) == 0;
    const char *host = strstr(url_buf, "://") + 3;
    if (memchr(host, '@', strcspn(host, "/?#"))) { /* it would show in logs and in Image */
        rf_error_why(r, 400, "credentials in the URL are not supported", RF_MSG_ACTION_PARAM_FORMAT_ERROR,
                     "(a URL with credentials)", "Image", act);
        return -1;
    }
    for (cJSON *p = r->body->child; p; p = p->next) {
        const char *k = p->string, *bad = NULL;
        if (k[0] == '@' || strcmp(k, "Image") == 0)
            continue;
        if (strcmp(k, "Inserted") == 0 || strcmp(k, "WriteProtected") == 0) {
            if (!cJSON_IsBool(p)) {
                rf_error(r, 400, RF_MSG_ACTION_PARAM_TYPE_ERROR, "(not a boolean)", k, act);
                return -1;
            }
            bad = cJSON_IsFalse(p) ? "false" : NULL; /* only inserted, read-only media */
        } else if (strcmp(k, "TransferProtocolType") == 0 || strcmp(k, "TransferMethod") == 0) {
            const char *want = k[8] == 'P' ? (https ? "HTTPS" : "HTTP") : "Upload";
            if (!cJSON_IsString(p) || strcmp(p->valuestring, want) != 0)
                bad = cJSON_IsString(p) ? p->valuestring : "(not a string)";
        } else if (strcmp(k, "UserName") == 0 || strcmp(k, "Password") == 0) {
            if (!cJSON_IsString(p) || p->valuestring[0]) {
                rf_error_why(r, 400, "image URLs with credentials are not supported",
                             RF_MSG_ACTION_PARAM_NOT_SUPPORTED, k, act);
                return -1;
            }
        } else {
            rf_error(r, 400, RF_MSG_ACTION_PARAM_UNKNOWN, act, k);
            return -1;
        }
        if (bad) {
            rf_error(r, 400, RF_MSG_ACTION_PARAM_NOT_IN_LIST, bad, k, act);
            return -1;
        }
    }
    return 0;
}

static int vmedia_http_status(int err)
{
    switch (err) {
    case VMEDIA_E_BUSY:
    case VMEDIA_E_EXISTS: return 409;
    case VMEDIA_E_LIMIT: return 503;
    case VMEDIA_E_NAME:
    case VMEDIA_E_NET: /* refused before any transfer: the URL itself */
    case VMEDIA_E_TOOBIG: return 400;
    case VMEDIA_E_NOSPACE: return 507;
    default: return 500;
    }
}

void rf_vmedia_insert(struct rf_req *r)
{
    int i = member_index(r);
    char url[sizeof(r->rf->vmedia[0].url)];
    if (i < 0 || insert_params(r, url, sizeof(url)) < 0)
        return;
    struct redfish *rf = r->rf;
    struct vmedia_drive_status st;
    vmedia_drive_get_status(r->w->vdrive, &st);
    int h = holder(rf, &st);
    if (h >= 0 && h != i) {
        char why[256];
        snprintf(why, sizeof(why), "the drive holds %s as %s: eject it there first",
                 st.pending ? st.pending_name : st.image, members[h].id);
        rf_error_why(r, 409, why, RF_MSG_RESOURCE_IN_USE);
        return;
    }
    char err[192] = "";
    int e = vmedia_drive_mount_url(r->w->vdrive, url, NULL, members[i].mode, !rf->vmedia[i].verify_cert, err,
                                   sizeof(err));
    char shown[256];
    vmedia_url_redact(url, shown, sizeof(shown));
    LOG_INFO("redfish", "%s@%s: InsertMedia %s into %s: %s", r->c->user, r->c->addr, shown, members[i].id,
             e == VMEDIA_OK ? "started" : err[0] ? err : vmedia_strerror(e));
    audit_record(AUDIT_MEDIA_MOUNT, AUDIT_IF_REDFISH, e == VMEDIA_OK ? AUDIT_OK : AUDIT_FAILED, r->c->user, r->c->addr,
                 "InsertMedia %s into %s: %s", shown, members[i].id,
                 e == VMEDIA_OK ? "started" : err[0] ? err : vmedia_strerror(e));
    if (e != VMEDIA_OK) {
        int status = vmedia_http_status(e);
        const char *why = err[0] ? err : vmedia_strerror(e);
        if (status == 409)
            rf_error_why(r, status, why, RF_MSG_RESOURCE_IN_USE);
        else if (status == 503)
            rf_error_why(r, status, why, RF_MSG_UNAVAILABLE, "5");
        else if (status == 400)
            rf_error_why(r, status, why, RF_MSG_ACTION_PARAM_FORMAT_ERROR, url, "Image", INSERT);
        else
            rf_error_why(r, status, why, RF_MSG_OPERATION_FAILED);
        return;
    }
    /* The drive names the image (from the URL): remember it to know later
     * that the medium is still the one this URL brought. */
    vmedia_drive_get_status(r->w->vdrive, &st);
    snprintf(rf->vmedia[i].url, sizeof(rf->vmedia[i].url), "%s", url);
    snprintf(rf->vmedia[i].name, sizeof(rf->vmedia[i].name), "%s", st.pending ? st.pending_name : st.image);
    rf->vmedia[1 - i].url[0] = '\0';
    rf_no_content(r);
}

void rf_vmedia_eject(struct rf_req *r)
{
    int i = member_index(r);
    if (i < 0)
        return;
    struct vmedia_drive_status st;
    vmedia_drive_get_status(r->w->vdrive, &st);
    if (holder(r->rf, &st) != i) { /* nothing in this one: nothing to do */
        rf_no_content(r);
        return;
    }
    /* The operator asked: a medium the server holds locked is ejected too. */
    char err[192] = "";
    int e = vmedia_drive_eject(r->w->vdrive, true, err, sizeof(err));
    LOG_INFO("redfish", "%s@%s: EjectMedia %s: %s", r->c->user, r->c->addr, members[i].id,
             e == VMEDIA_OK ? "ejected" : err[0] ? err : vmedia_strerror(e));
    audit_record(AUDIT_MEDIA_EJECT, AUDIT_IF_REDFISH, e == VMEDIA_OK ? AUDIT_OK : AUDIT_FAILED, r->c->user, r->c->addr,
                 "EjectMedia %s: %s", members[i].id, e == VMEDIA_OK ? "ejected" : err[0] ? err : vmedia_strerror(e));
    if (e != VMEDIA_OK) {
        rf_error_why(r, vmedia_http_status(e), err[0] ? err : vmedia_strerror(e), RF_MSG_OPERATION_FAILED);
        return;
    }
    r->rf->vmedia[i].url[0] = '\0';
    rf_no_content(r);
}
