/* Internal to web/redfish/redfish*.c: one request being answered, the reply and
 * error helpers (redfish.c, redfish_error.c), the schema types
 * (redfish_root.c) and each resource group's handlers. */
#ifndef PIGLIX_WEB_REDFISH_INTERNAL_H
#define PIGLIX_WEB_REDFISH_INTERNAL_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "vmedia/vmedia.h"
#include "web/redfish/redfish.h"
#include "web/web_internal.h"

#define RF_ROOT "/redfish/v1"
#define RF_SESSIONS_MAX 16
#define RF_SESSION_ID_HEX 16
#define RF_TIMEOUT_MIN_S 30      /* SessionTimeout's range in the schema */
#define RF_TIMEOUT_MAX_S 86400

/* Methods a route takes (bits). */
enum { RF_GET = 1, RF_POST = 2, RF_PATCH = 4, RF_DELETE = 8 };

/* Redfish's own sessions (X-Auth-Token), apart from the UI's cookie
 * sessions: they have their own timeout (SessionService SessionTimeout). */
struct rf_session {
    bool used;
    char id[RF_SESSION_ID_HEX + 1];
    uint8_t token[32];
    char name[AUTH_NAME_MAX + 1];
    char addr[64];
    int64_t created_ms, last_ms;
    int64_t created_wall;        /* seconds since the epoch, for CreatedTime */
    uint8_t cred_fp[32];         /* the account's credentials at login */
    unsigned ctl_id;             /* its entry in control/ (0: none) */
};

/* What Redfish remembers about a VirtualMedia member between requests. */
struct rf_vmedia {
    char url[1024];              /* the Image of the last InsertMedia */
    char name[VMEDIA_NAME_MAX + 1]; /* the image it became in the store */
    bool verify_cert;            /* VerifyCertificate (PATCH) */
};

/* A name and password that passed the slow hash recently, as a salted
 * SHA-256: HTTP Basic clients send them with every request, and a hash per
 * request would hold them to [web]'s few hashes a second. */
struct rf_basic_ok {
    char name[AUTH_NAME_MAX + 1];
    uint8_t digest[32];
    int64_t until_ms;
    struct timespec accounts_mtime; /* the accounts file it was checked against */
};
#define RF_BASIC_CACHE 8
#define RF_BASIC_CACHE_MS 60000

struct redfish {
    struct rf_session sessions[RF_SESSIONS_MAX];
    int timeout_s;
    char uuid[37];
    struct rf_vmedia vmedia[2];  /* the CD and the USB stick */
    uint8_t salt[16];
    struct rf_basic_ok basic[RF_BASIC_CACHE];
};

struct rf_req {
    struct web_conn *c;
    struct web *w;
    struct redfish *rf;
    int method;                  /* RF_GET, ... (0: another method) */
    unsigned allow;              /* the route's methods, for Allow headers */
    const char *arg;             /* the route's '*' segment, or NULL */
    char uri[600];               /* the request's path without a trailing '/' */
    cJSON *body;                 /* the request body (an object), or NULL */
};

/* Base message registry entries piglix uses (redfish_error.c). */
enum rf_msg {
    RF_MSG_SUCCESS,
    RF_MSG_GENERAL_ERROR,
    RF_MSG_INTERNAL_ERROR,
    RF_MSG_RESOURCE_MISSING_AT_URI,      /* uri */
    RF_MSG_OPERATION_NOT_ALLOWED,
    RF_MSG_NO_VALID_SESSION,
    RF_MSG_RESOURCE_AT_URI_UNAUTHORIZED, /* uri, why */
    RF_MSG_MALFORMED_JSON,
    RF_MSG_UNRECOGNIZED_REQUEST_BODY,
    RF_MSG_HEADER_INVALID,               /* header */
    RF_MSG_PAYLOAD_TOO_LARGE,
    RF_MSG_ACTION_PARAM_MISSING,         /* action, param */
    RF_MSG_ACTION_PARAM_NOT_IN_LIST,     /* value, param, action */
    RF_MSG_ACTION_PARAM_TYPE_ERROR,      /* value, param, action */
    RF_MSG_ACTION_PARAM_FORMAT_ERROR,    /* value, param, action */
    RF_MSG_ACTION_PARAM_UNKNOWN,         /* action, param */
    RF_MSG_ACTION_PARAM_NOT_SUPPORTED,   /* param, action */
    RF_MSG_PROPERTY_UNKNOWN,             /* property */
    RF_MSG_PROPERTY_NOT_WRITABLE,        /* property */
    RF_MSG_PROPERTY_TYPE_ERROR,          /* value, property */
    RF_MSG_PROPERTY_OUT_OF_RANGE,        /* value, property */
    RF_MSG_PROPERTY_MISSING,             /* property */
    RF_MSG_CREATE_MISSING_PROPS,         /* property */
    RF_MSG_PRECONDITION_FAILED,
    RF_MSG_RESOURCE_IN_USE,
    RF_MSG_RESOURCE_IN_STANDBY,
    RF_MSG_POWER_ON_REQUIRED,            /* chassis id */
    RF_MSG_SESSION_LIMIT,
    RF_MSG_UNAVAILABLE,                  /* seconds */
    RF_MSG_SHUTTING_DOWN,
    RF_MSG_OPERATION_FAILED,
    RF_MSG_INSUFFICIENT_PRIVILEGE,
    RF_MSG_COUNT
};

/* Schema types (redfish_root.c keeps their namespaces and versions, and
 * lists them in $metadata). */
enum rf_type {
    RF_T_SERVICE_ROOT, RF_T_SYSTEM_COLL, RF_T_SYSTEM, RF_T_CHASSIS_COLL, RF_T_CHASSIS,
    RF_T_SENSOR_COLL, RF_T_SENSOR, RF_T_THERMAL, RF_T_POWER, RF_T_MANAGER_COLL, RF_T_MANAGER,
    RF_T_VMEDIA_COLL, RF_T_VMEDIA, RF_T_SESSION_SERVICE, RF_T_SESSION_COLL, RF_T_SESSION,
    RF_T_ACCOUNT_SERVICE, RF_T_ACCOUNT_COLL, RF_T_ACCOUNT, RF_T_ROLE_COLL, RF_T_ROLE,
    RF_T_MESSAGE,
    RF_T_LOG_SERVICE_COLL, RF_T_LOG_SERVICE, RF_T_LOG_ENTRY_COLL, RF_T_LOG_ENTRY,
    RF_T_COUNT
};

/* redfish.c: replies. Each takes ownership of j. */
/* A resource (status 200 or 201): OData-Version, Allow, an ETag of the body. */
void rf_reply(struct rf_req *r, int status, cJSON *j);
void rf_no_content(struct rf_req *r);
/* The headers an error reply gets (OData-Version; Allow with a 405). */
void rf_error_headers(struct rf_req *r, int status);
/* The ETag a representation gets (W/"16 hex"); out: 24 bytes. */
void rf_etag(const char *text, char out[24]);
/* True when the request's If-Match (absent, "*" or a list) accepts etag. */
bool rf_if_match(struct rf_req *r, const char *etag);
/* The ETag of the representation j has (j is not freed). */
void rf_etag_of(const cJSON *j, char out[24]);

/* redfish_error.c: an error body ({"error": {code, message,
 * @Message.ExtendedInfo}}); args as the message takes them. */
/* Every refusal for the account's role (Redfish's roles: Administrator,
 * Operator, ReadOnly = auth/'s admin, operator, viewer): 403 with the Base
 * registry's InsufficientPrivilege, logged and counted (redfish.c). */
void rf_refuse_role(struct rf_req *r, int need);
/* The Redfish RoleId of an auth/ role. */
const char *rf_role_id(int role);
void rf_error(struct rf_req *r, int status, enum rf_msg msg, ...);
/* The same with piglix's own reason as the error's "message". */
void rf_error_why(struct rf_req *r, int status, const char *why, enum rf_msg msg, ...);
const char *rf_msg_id(enum rf_msg msg, char *buf, size_t n);

/* redfish_root.c: schema types and resource skeletons. */
const char *rf_type_name(enum rf_type t, char *buf, size_t n);   /* "#Ns.v1_2_0.Type" */
cJSON *rf_resource(enum rf_type t, const char *uri, const char *id, const char *name);
cJSON *rf_collection(enum rf_type t, const char *uri, const char *name);
void rf_add_member(cJSON *coll, const char *uri);
void rf_link(cJSON *obj, const char *key, const char *uri);
void rf_link_array(cJSON *obj, const char *key, const char *uri);
void rf_status(cJSON *obj, const char *state, const char *health);
void rf_versions_get(struct rf_req *r);
void rf_root_get(struct rf_req *r);
void rf_odata_get(struct rf_req *r);
void rf_metadata_get(struct rf_req *r);
/* ISO 8601 UTC of t into buf (21 bytes). */
void rf_time(int64_t t, char *buf, size_t n);

/* redfish_auth.c */
/* Decides who makes the request; 0, or -1 after replying 401/429/503, or
 * with no reply while a password hash runs (the request is dispatched
 * again when it is done). */
int rf_authenticate(struct rf_req *r);
/* Checks a name and password as a login (throttled, hash budget); sets
 * r->c->user and returns 0, or replies and returns -1. how: for the log. */
int rf_check_password(struct rf_req *r, const char *user, char *pass, const char *how);
/* 401 with a Basic challenge; why NULL: NoValidSession. */
void rf_unauthorized(struct rf_req *r, const char *why);

/* redfish_session.c */
/* The live session with this token (hex), its idle timer restarted; NULL. */
struct rf_session *rf_session_by_token(struct rf_req *r, const char *hex);
void rf_session_service(struct rf_req *r);
void rf_sessions(struct rf_req *r);
void rf_session(struct rf_req *r);

/* redfish_account.c */
void rf_account_service(struct rf_req *r);
void rf_accounts(struct rf_req *r);
void rf_account(struct rf_req *r);
void rf_roles(struct rf_req *r);
void rf_role(struct rf_req *r);

/* redfish_system.c */
void rf_systems(struct rf_req *r);
void rf_system(struct rf_req *r);
void rf_system_reset(struct rf_req *r);
/* "On", "Off" or NULL (unknown) from the power LED; "PoweringOn"/"PoweringOff"
 * while an action drives it there. */
const char *rf_power_state(struct web *w);

/* redfish_chassis.c */
void rf_chassis_coll(struct rf_req *r);
void rf_chassis(struct rf_req *r);
void rf_sensors(struct rf_req *r);
void rf_sensor(struct rf_req *r);
void rf_thermal(struct rf_req *r);
void rf_power(struct rf_req *r);

/* redfish_manager.c */
void rf_managers(struct rf_req *r);
void rf_manager(struct rf_req *r);
void rf_vmedia_coll(struct rf_req *r);
/* redfish_log.c: Managers/1/LogServices/Log, the audit log (audit/audit.h). */
void rf_log_services(struct rf_req *r);
void rf_log_service(struct rf_req *r);
void rf_log_entries(struct rf_req *r);
void rf_log_entry(struct rf_req *r);
void rf_log_clear(struct rf_req *r);
void rf_vmedia(struct rf_req *r);
void rf_vmedia_insert(struct rf_req *r);
void rf_vmedia_eject(struct rf_req *r);

#endif
