/* AccountService, read-only: the web accounts (auth/auth.h) as
 * ManagerAccounts, and the three roles: auth/'s admin, operator and viewer
 * are Redfish's predefined Administrator, Operator and ReadOnly. Accounts
 * are managed with `piglix user ...`, so creating, changing or deleting them
 * here is refused (403 InsufficientPrivilege below Administrator, else 405).
 * Passwords and tokens are never shown. */
#include <string.h>

#include "web/redfish/redfish_internal.h"

#define ACCOUNTS RF_ROOT "/AccountService/Accounts"
#define ROLES RF_ROOT "/AccountService/Roles"

static const struct rf_role_def {
    enum auth_role role;
    const char *id, *name;
    const char *privs[5];        /* Redfish's predefined privileges of the role */
} role_defs[] = {
    {AUTH_ROLE_ADMIN, "Administrator", "Administrator Role",
     {"Login", "ConfigureManager", "ConfigureUsers", "ConfigureSelf", "ConfigureComponents"}},
    {AUTH_ROLE_OPERATOR, "Operator", "Operator Role", {"Login", "ConfigureSelf", "ConfigureComponents"}},
    {AUTH_ROLE_VIEWER, "ReadOnly", "ReadOnly Role", {"Login", "ConfigureSelf"}},
};

const char *rf_role_id(int role)
{
    for (size_t i = 0; i < sizeof(role_defs) / sizeof(role_defs[0]); i++)
        if ((int)role_defs[i].role == role)
            return role_defs[i].id;
    return "NoAccess";
}

void rf_account_service(struct rf_req *r)
{
    const struct config_web *cfg = r->w->cfg;
    cJSON *j = rf_resource(RF_T_ACCOUNT_SERVICE, RF_ROOT "/AccountService", "AccountService", "Account Service");
    cJSON_AddStringToObject(j, "Description", "Web accounts, managed with `piglix user`; read-only here");
    cJSON_AddBoolToObject(j, "ServiceEnabled", true);
    cJSON_AddNumberToObject(j, "MinPasswordLength", 8);
    cJSON_AddNumberToObject(j, "MaxPasswordLength", AUTH_PASSWORD_MAX);
    /* Failed logins are not a lock-out but a doubling delay (web/API.md). */
    cJSON_AddNumberToObject(j, "AccountLockoutThreshold", cfg->login_fail_limit);
    cJSON_AddNumberToObject(j, "AccountLockoutDuration", cfg->login_throttle_s);
    cJSON_AddStringToObject(j, "LocalAccountAuth", "Enabled");
    rf_status(j, "Enabled", "OK");
    rf_link(j, "Accounts", ACCOUNTS);
    rf_link(j, "Roles", ROLES);
    rf_reply(r, 200, j);
}

void rf_accounts(struct rf_req *r)
{
    cJSON *j = rf_collection(RF_T_ACCOUNT_COLL, ACCOUNTS, "Accounts Collection");
    char uri[128];
    for (int i = 0; i < r->w->accounts.n; i++) {
        snprintf(uri, sizeof(uri), ACCOUNTS "/%s", r->w->accounts.acc[i].name);
        rf_add_member(j, uri);
    }
    rf_reply(r, 200, j);
}

void rf_account(struct rf_req *r)
{
    const struct auth_account *acc = auth_name_valid(r->arg) ? auth_accounts_find(&r->w->accounts, r->arg) : NULL;
    if (!acc) {
        rf_error(r, 404, RF_MSG_RESOURCE_MISSING_AT_URI, r->uri);
        return;
    }
    char uri[128];
    snprintf(uri, sizeof(uri), ACCOUNTS "/%s", acc->name);
    cJSON *j = rf_resource(RF_T_ACCOUNT, uri, acc->name, "User Account");
    cJSON_AddStringToObject(j, "UserName", acc->name);
    cJSON_AddNullToObject(j, "Password");
    cJSON_AddStringToObject(j, "RoleId", rf_role_id((int)acc->role));
    cJSON_AddBoolToObject(j, "Enabled", true);
    cJSON_AddBoolToObject(j, "Locked", false);
    cJSON *types = cJSON_AddArrayToObject(j, "AccountTypes");
    static const char *const kinds[] = {"Redfish", "WebUI", "KVMIP", "VirtualMedia"};
    for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
        cJSON_AddItemToArray(types, cJSON_CreateString(kinds[i]));
    cJSON *links = cJSON_AddObjectToObject(j, "Links");
    snprintf(uri, sizeof(uri), ROLES "/%s", rf_role_id((int)acc->role));
    rf_link(links, "Role", uri);
    rf_reply(r, 200, j);
}

void rf_roles(struct rf_req *r)
{
    cJSON *j = rf_collection(RF_T_ROLE_COLL, ROLES, "Roles Collection");
    char uri[128];
    for (size_t i = 0; i < sizeof(role_defs) / sizeof(role_defs[0]); i++) {
        snprintf(uri, sizeof(uri), ROLES "/%s", role_defs[i].id);
        rf_add_member(j, uri);
    }
    rf_reply(r, 200, j);
}

void rf_role(struct rf_req *r)
{
    const struct rf_role_def *d = NULL;
    for (size_t i = 0; i < sizeof(role_defs) / sizeof(role_defs[0]); i++)
        if (strcmp(r->arg, role_defs[i].id) == 0)
            d = &role_defs[i];
    if (!d) {
        rf_error(r, 404, RF_MSG_RESOURCE_MISSING_AT_URI, r->uri);
        return;
    }
    char uri[128];
    snprintf(uri, sizeof(uri), ROLES "/%s", d->id);
    cJSON *j = rf_resource(RF_T_ROLE, uri, d->id, d->name);
    cJSON_AddStringToObject(j, "RoleId", d->id);
    cJSON_AddBoolToObject(j, "IsPredefined", true);
    cJSON *p = cJSON_AddArrayToObject(j, "AssignedPrivileges");
    for (size_t i = 0; i < sizeof(d->privs) / sizeof(d->privs[0]) && d->privs[i]; i++)
        cJSON_AddItemToArray(p, cJSON_CreateString(d->privs[i]));
    rf_reply(r, 200, j);
}
