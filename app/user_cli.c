/* `piglix user add NAME [--role R]|role NAME R|passwd|del|list|token|totp-off NAME`: manages the web
 * accounts in [state] dir, with the same file lock the daemon takes, so it
 * works while piglix runs (the daemon notices within a second). */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/prompt.h"
#include "ipmi/ipmi.h"
#include "app/app.h"
#include "audit/audit.h"
#include "auth/auth.h"

#define MIN_PASSWORD 8

static int read_password(char *pw, size_t n, FILE *err)
{
    char again[AUTH_PASSWORD_MAX + 2];
    if (prompt_secret("New password: ", pw, n, err) < 0) {
        fprintf(err, "user: no password given\n");
        return -1;
    }
    if (strlen(pw) < MIN_PASSWORD || strlen(pw) > AUTH_PASSWORD_MAX) {
        fprintf(err, "user: a password has %d to %d characters\n", MIN_PASSWORD, AUTH_PASSWORD_MAX);
        return -1;
    }
    if (isatty(STDIN_FILENO)) {
        int r = prompt_secret("Again: ", again, sizeof(again), err);
        bool same = r == 0 && strcmp(pw, again) == 0;
        explicit_bzero(again, sizeof(again));
        if (!same) {
            fprintf(err, "user: the passwords differ\n");
            return -1;
        }
    }
    return 0;
}

static void usage(FILE *err)
{
    fprintf(err, "usage: piglix user add NAME [--role admin|operator|viewer]\n"
                 "                                  create an account (password from stdin; role admin)\n"
                 "       piglix user role NAME ROLE change its role (admin, operator or viewer)\n"
                 "       piglix user passwd NAME    change its password\n"
                 "       piglix user del NAME       delete it (its sessions end)\n"
                 "       piglix user list           list the accounts\n"
                 "       piglix user token NAME     make a new API token (printed once)\n"
                 "       piglix user totp-off NAME  turn off its one-time codes (lost device)\n"
                 "       piglix user ipmi-passwd NAME  set its IPMI-over-LAN password (needs [ipmi])\n");
}

int app_user_command(const struct piglix_config *cfg, int argc, char **argv, FILE *out, FILE *err)
{
    if (argc < 1) {
        usage(err);
        return 2;
    }
    const char *verb = argv[0];
    bool list = strcmp(verb, "list") == 0;
    /* add NAME --role ROLE (default admin, as before roles), role NAME ROLE */
    enum auth_role role = AUTH_ROLE_ADMIN;
    const char *role_arg = NULL;
    if (strcmp(verb, "add") == 0 && argc == 4 && strcmp(argv[2], "--role") == 0)
        role_arg = argv[3];
    else if (strcmp(verb, "add") == 0 && argc == 3 && strncmp(argv[2], "--role=", 7) == 0)
        role_arg = argv[2] + 7;
    else if (strcmp(verb, "role") == 0 && argc == 3)
        role_arg = argv[2];
    if ((list && argc != 1) || (!list && !role_arg && argc != 2) || (strcmp(verb, "role") == 0 && !role_arg)) {
        usage(err);
        return 2;
    }
    if (role_arg && auth_role_parse(role_arg, &role) < 0) {
        fprintf(err, "user: '%s' is not a role (admin, operator or viewer)\n", role_arg);
        return 2;
    }
    const char *name = list ? "" : argv[1];
    if (!list && !auth_name_valid(name)) {
        fprintf(err, "user: '%s' is not a valid name (1-%d of a-z 0-9 . _ -)\n", name, AUTH_NAME_MAX);
        return 2;
    }
    if (mkdir(cfg->state.dir, 0700) < 0 && access(cfg->state.dir, W_OK) != 0) {
        fprintf(err, "user: [state] dir %s is not writable\n", cfg->state.dir);
        return 1;
    }
    static struct auth_accounts acc;
    memset(&acc, 0, sizeof(acc));
    snprintf(acc.dir, sizeof(acc.dir), "%s", cfg->state.dir);
    if (auth_accounts_lock(&acc, err) < 0)
        return 1;
    int rc = 0;
    char pw[AUTH_PASSWORD_MAX + 2];
    if (list) {
        static struct ipmi_users ipmi;
        ipmi_users_load(&ipmi, cfg->state.dir, NULL);
        for (int i = 0; i < acc.n; i++)
            fprintf(out, "%s  %s%s%s%s\n", acc.acc[i].name, auth_role_name(acc.acc[i].role),
                    acc.acc[i].totp[0] ? "  totp" : "",
                    acc.acc[i].token_sha256[0] ? "  api-token" : "",
                    ipmi_users_find(&ipmi, acc.acc[i].name) ? "  ipmi" : "");
        ipmi_users_clear(&ipmi);
        if (!acc.n)
            fprintf(err, "no accounts (the web UI offers its set-up page)\n");
    } else if (strcmp(verb, "add") == 0 || strcmp(verb, "passwd") == 0) {
        bool add = verb[0] == 'a';
        if (add && auth_accounts_find(&acc, name)) {
            fprintf(err, "user: '%s' exists already (use passwd)\n", name);
            rc = 1;
        } else if (!add && !auth_accounts_find(&acc, name)) {
            fprintf(err, "user: no account '%s'\n", name);
            rc = 1;
        } else if (read_password(pw, sizeof(pw), err) < 0) {
            rc = 1;
        } else if (auth_accounts_set_password(&acc, name, pw, !add, err) != 0 ||
                   (add && auth_accounts_set_role(&acc, name, role) < 0) || auth_accounts_save(&acc, err) < 0) {
            rc = 1;
        } else if (add) {
            fprintf(err, "%s: account created (role %s)\n", name, auth_role_name(role));
        } else {
            fprintf(err, "%s: password changed\n", name);
        }
    } else if (strcmp(verb, "role") == 0) {
        if (auth_accounts_set_role(&acc, name, role) < 0) {
            fprintf(err, "user: no account '%s'\n", name);
            rc = 1;
        } else if (auth_accounts_save(&acc, err) < 0) {
            rc = 1;
        } else {
            fprintf(err, "%s: role %s (its sessions, viewers and streams end)\n", name, auth_role_name(role));
        }
    } else if (strcmp(verb, "del") == 0) {
        if (auth_accounts_delete(&acc, name) < 0) {
            fprintf(err, "user: no account '%s'\n", name);
            rc = 1;
        } else if (auth_accounts_save(&acc, err) < 0 || ipmi_users_forget(cfg->state.dir, name, err) < 0) {
            rc = 1;
        } else {
            fprintf(err, "%s: account deleted\n", name);
        }
    } else if (strcmp(verb, "ipmi-passwd") == 0) {
        rc = ipmi_users_passwd_command(&cfg->ipmi, cfg->state.dir, &acc, name, err);
    } else if (strcmp(verb, "token") == 0 || strcmp(verb, "totp-off") == 0) {
        struct auth_account *a = auth_accounts_find(&acc, name);
        char token[AUTH_TOKEN_HEX + 1];
        if (!a) {
            fprintf(err, "user: no account '%s'\n", name);
            rc = 1;
        } else if (verb[1] == 'o') { /* token */
            if (auth_accounts_new_token(a, token) < 0 || auth_accounts_save(&acc, err) < 0) {
                rc = 1;
            } else {
                fprintf(out, "%s\n", token);
                fprintf(err, "%s: new API token (send it as 'Authorization: Bearer TOKEN'; "
                             "the old one no longer works)\n", name);
            }
            explicit_bzero(token, sizeof(token));
        } else {
            a->totp[0] = '\0';
            a->totp_last_step = 0;
            if (auth_accounts_save(&acc, err) < 0)
                rc = 1;
            else
                fprintf(err, "%s: one-time codes turned off\n", name);
        }
    } else {
        usage(err);
        rc = 2;
    }
    if (!list && rc != 2 && strcmp(verb, "role") == 0)
        audit_record(AUDIT_ROLE_CHANGE, AUDIT_IF_CLI, rc == 0 ? AUDIT_OK : AUDIT_FAILED, name, "local",
                     "piglix user role: %s", auth_role_name(role));
    else if (!list && rc != 2)
        audit_record(AUDIT_ACCOUNT_CHANGE, AUDIT_IF_CLI, rc == 0 ? AUDIT_OK : AUDIT_FAILED, name, "local",
                     "piglix user %s", verb);
    explicit_bzero(pw, sizeof(pw));
    auth_accounts_unlock(&acc);
    explicit_bzero(&acc, sizeof(acc));
    return rc;
}
