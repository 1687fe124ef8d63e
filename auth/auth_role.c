/* Role names (auth.h: enum auth_role). */
#include <string.h>

#include "auth/auth.h"

const char *auth_role_name(enum auth_role r)
{
    switch (r) {
    case AUTH_ROLE_VIEWER: return "viewer";
    case AUTH_ROLE_OPERATOR: return "operator";
    case AUTH_ROLE_ADMIN: return "admin";
    }
    return "viewer";
}

int auth_role_parse(const char *s, enum auth_role *out)
{
    static const enum auth_role all[] = {AUTH_ROLE_VIEWER, AUTH_ROLE_OPERATOR, AUTH_ROLE_ADMIN};
    for (size_t i = 0; s && i < sizeof(all) / sizeof(all[0]); i++)
        if (strcmp(s, auth_role_name(all[i])) == 0) {
            *out = all[i];
            return 0;
        }
    return -1;
}
