#include "ipmi/ipmi.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/config.h"
#include "common/prompt.h"
#include "common/statefile.h"

#define USERS_FILE "ipmi.users"
#define LOCK_FILE "ipmi.users.lock"

static void path_of(const char *dir, const char *file, char *out, size_t n)
{
    snprintf(out, n, "%s/%s", dir, file);
}

static int unhex(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

/* name:password in lower-case hex */
static int parse_line(const char *line, struct ipmi_user *out)
{
    const char *colon = strchr(line, ':');
    if (!colon || (size_t)(colon - line) > AUTH_NAME_MAX)
        return -1;
    memset(out, 0, sizeof(*out));
    memcpy(out->name, line, (size_t)(colon - line));
    const char *hex = colon + 1;
    size_t n = strlen(hex);
    if (!auth_name_valid(out->name) || n % 2 || n / 2 < 1 || n / 2 > IPMI_PASSWORD_MAX)
        return -1;
    for (size_t i = 0; i < n / 2; i++) {
        int hi = unhex(hex[2 * i]), lo = unhex(hex[2 * i + 1]);
        if (hi < 0 || lo < 0 || (hi == 0 && lo == 0))
            return -1;
        out->password[i] = (char)(hi << 4 | lo);
    }
    out->len = n / 2;
    return 0;
}

int ipmi_users_load(struct ipmi_users *u, const char *dir, FILE *err)
{
    snprintf(u->dir, sizeof(u->dir), "%s", dir);
    char path[300];
    path_of(dir, USERS_FILE, path, sizeof(path));
    FILE *f;
    struct stat st;
    /* A file refused as torn leaves the passwords this process had. */
    int r = statefile_open(path, &f, &st, err);
    if (r < 0)
        return -1;
    ipmi_users_clear(u);
    if (r == 0)
        return 0;
    u->mtime = st.st_mtim;
    char line[200];
    int lineno = 0;
    while (statefile_next_line(f, line, sizeof(line), &lineno)) {
        if (u->n >= AUTH_ACCOUNTS_MAX || parse_line(line, &u->u[u->n]) < 0) {
            if (err)
                fprintf(err, "%s:%d: not an IPMI password line; ignored\n", path, lineno);
            continue;
        }
        u->n++;
    }
    explicit_bzero(line, sizeof(line));
    fclose(f);
    return 0;
}

int ipmi_users_refresh(struct ipmi_users *u)
{
    char path[300];
    path_of(u->dir, USERS_FILE, path, sizeof(path));
    int changed = statefile_changed(path, &u->mtime);
    if (changed <= 0)
        return changed;
    char dir[sizeof(u->dir)];
    memcpy(dir, u->dir, sizeof(dir));
    if (ipmi_users_load(u, dir, stderr) == 0)
        return 1;
    /* Kept what it had; tried again only once the file changes again. */
    struct stat st;
    if (stat(path, &st) == 0)
        u->mtime = st.st_mtim;
    return -1;
}

int ipmi_users_lock(struct ipmi_users *u, const char *dir, FILE *err)
{
    char path[300];
    path_of(dir, LOCK_FILE, path, sizeof(path));
    int fd = statefile_lock(path, err);
    if (fd < 0)
        return -1;
    u->lock_fd = fd;
    if (ipmi_users_load(u, dir, err) < 0) {
        ipmi_users_unlock(u);
        return -1;
    }
    return 0;
}

void ipmi_users_unlock(struct ipmi_users *u)
{
    statefile_unlock(&u->lock_fd);
}

void ipmi_users_clear(struct ipmi_users *u)
{
    explicit_bzero(u->u, sizeof(u->u));
    u->n = 0;
    u->mtime = (struct timespec){0};
}

/* name:password in hex; the hex copies of the passwords are wiped */
static int write_users(FILE *f, void *ctx)
{
    const struct ipmi_users *u = ctx;
    fprintf(f, "# piglix IPMI passwords, recoverable because RMCP+ needs them: name:password in hex\n");
    for (int i = 0; i < u->n; i++) {
        char hex[2 * IPMI_PASSWORD_MAX + 1];
        auth_hex((const uint8_t *)u->u[i].password, u->u[i].len, hex);
        fprintf(f, "%s:%s\n", u->u[i].name, hex);
        explicit_bzero(hex, sizeof(hex));
    }
    return 0; /* write errors: the stream's, checked by statefile */
}

int ipmi_users_save(struct ipmi_users *u, FILE *err)
{
    char path[300];
    path_of(u->dir, USERS_FILE, path, sizeof(path));
    if (u->n == 0) {
        if (unlink(path) < 0 && errno != ENOENT) {
            if (err)
                fprintf(err, "%s: %s\n", path, strerror(errno));
            return -1;
        }
        u->mtime = (struct timespec){0};
        return 0;
    }
    return statefile_write(path, write_users, u, 0600, &u->mtime, err);
}

const struct ipmi_user *ipmi_users_find(const struct ipmi_users *u, const char *name)
{
    for (int i = 0; i < u->n; i++)
        if (strcmp(u->u[i].name, name) == 0)
            return &u->u[i];
    return NULL;
}

int ipmi_users_set(struct ipmi_users *u, const char *name, const char *password, FILE *err)
{
    size_t len = strlen(password);
    if (len < IPMI_PASSWORD_MIN || len > IPMI_PASSWORD_MAX || strchr(password, '\n')) {
        if (err)
            fprintf(err, "an IPMI password has %d to %d characters (IPMI 2.0 allows at most %d)\n",
                    IPMI_PASSWORD_MIN, IPMI_PASSWORD_MAX, IPMI_PASSWORD_MAX);
        return -1;
    }
    struct ipmi_user *e = (struct ipmi_user *)ipmi_users_find(u, name);
    if (!e) {
        if (u->n >= AUTH_ACCOUNTS_MAX || !auth_name_valid(name))
            return -1;
        e = &u->u[u->n++];
        memset(e, 0, sizeof(*e));
        snprintf(e->name, sizeof(e->name), "%s", name);
    }
    memset(e->password, 0, sizeof(e->password));
    memcpy(e->password, password, len);
    e->len = len;
    return 0;
}

int ipmi_users_delete(struct ipmi_users *u, const char *name)
{
    struct ipmi_user *e = (struct ipmi_user *)ipmi_users_find(u, name);
    if (!e)
        return -1;
    size_t i = (size_t)(e - u->u);
    memmove(e, e + 1, sizeof(*e) * ((size_t)u->n - i - 1));
    u->n--;
    explicit_bzero(&u->u[u->n], sizeof(u->u[u->n]));
    return 0;
}

int ipmi_users_forget(const char *dir, const char *name, FILE *err)
{
    char path[300];
    path_of(dir, USERS_FILE, path, sizeof(path));
    if (access(path, F_OK) != 0)
        return 0;
    struct ipmi_users *u = calloc(1, sizeof(*u));
    if (!u || ipmi_users_lock(u, dir, err) < 0) {
        free(u);
        return -1;
    }
    int r = ipmi_users_delete(u, name) == 0 ? ipmi_users_save(u, err) : 0;
    ipmi_users_unlock(u);
    ipmi_users_clear(u);
    free(u);
    return r;
}

int ipmi_users_purge(const char *dir)
{
    char path[300];
    path_of(dir, USERS_FILE, path, sizeof(path));
    if (unlink(path) == 0)
        return 1;
    return errno == ENOENT ? 0 : -1;
}

int ipmi_users_passwd_command(const struct config_ipmi *cfg, const char *state_dir, struct auth_accounts *acc,
                              const char *name, FILE *err)
{
    if (!cfg->enabled) {
        fprintf(err, "user: [ipmi] enabled = no: IPMI passwords are kept (recoverably, as RMCP+ "
                     "needs them) only while IPMI over LAN is enabled; set [ipmi] enabled = yes first\n");
        return 1;
    }
    if (!auth_accounts_find(acc, name)) {
        fprintf(err, "user: no account '%s' (IPMI users are the web accounts)\n", name);
        return 1;
    }
    char pw[IPMI_PASSWORD_MAX + 8], again[IPMI_PASSWORD_MAX + 8];
    int rc = 1;
    struct ipmi_users *u = calloc(1, sizeof(*u));
    if (prompt_secret("New IPMI password: ", pw, sizeof(pw), err) < 0) {
        fprintf(err, "user: no password given\n");
    } else if (isatty(STDIN_FILENO) &&
               (prompt_secret("Again: ", again, sizeof(again), err) < 0 || strcmp(pw, again) != 0)) {
        fprintf(err, "user: the passwords differ\n");
    } else if (u && ipmi_users_lock(u, state_dir, err) == 0) {
        if (ipmi_users_set(u, name, pw, err) == 0 && ipmi_users_save(u, err) == 0) {
            fprintf(err, "%s: IPMI password set (kept recoverably in %s/%s, mode 0600)\n", name,
                    state_dir, USERS_FILE);
            rc = 0;
        }
        ipmi_users_unlock(u);
    }
    explicit_bzero(pw, sizeof(pw));
    explicit_bzero(again, sizeof(again));
    if (u)
        ipmi_users_clear(u);
    free(u);
    return rc;
}
