#include "auth/auth.h"

#include <crypt.h>
#include <ctype.h>
#include <errno.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>

#include "common/statefile.h"

#define USERS_FILE "web.users"
#define LOCK_FILE "web.users.lock"

int auth_random(void *buf, size_t n)
{
    uint8_t *p = buf;
    while (n) {
        ssize_t r = getrandom(p, n, 0);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        p += r;
        n -= (size_t)r;
    }
    return 0;
}

bool auth_equal_ct(const void *a, const void *b, size_t n)
{
    return CRYPTO_memcmp(a, b, n) == 0;
}

/* A yescrypt hash takes tens of milliseconds: never on a thread that must
 * not block (the web event loop says so at its start). Test builds abort
 * when one does, so hashing cannot creep back onto the loop unseen. */
#ifdef PIGLIX_ASSERT_THREADS
static _Thread_local bool hashing_forbidden;

void auth_forbid_hashing_on_this_thread(void)
{
    hashing_forbidden = true;
}

static void assert_may_hash(void)
{
    if (hashing_forbidden) {
        fprintf(stderr, "auth: a password hash on a thread that must not block (the web event loop)\n");
        abort();
    }
}
#else
void auth_forbid_hashing_on_this_thread(void) {}
static void assert_may_hash(void) {}
#endif

int auth_password_hash(const char *password, char *out)
{
    assert_may_hash();
    char salt[CRYPT_GENSALT_OUTPUT_SIZE];
    /* NULL random bytes: libcrypt takes them from the kernel. Count 0: its default cost. */
    if (!crypt_gensalt_rn("$y$", 0, NULL, 0, salt, sizeof(salt)))
        return -1;
    struct crypt_data *cd = calloc(1, sizeof(*cd));
    if (!cd)
        return -1;
    const char *h = crypt_r(password, salt, cd);
    int r = -1;
    if (h && h[0] == '$' && strlen(h) < AUTH_HASH_MAX && !strchr(h, ':')) {
        strcpy(out, h);
        r = 0;
    }
    explicit_bzero(cd, sizeof(*cd));
    free(cd);
    return r;
}

/* Completed yescrypt computations (any thread): /api/metrics shows it, so a
 * test sees that an unknown name costs a hash as a known one does. */
static atomic_ullong hashes_done;

uint64_t auth_password_hashes(void)
{
    return atomic_load(&hashes_done);
}

bool auth_password_verify(const char *password, const char *hash)
{
    assert_may_hash();
    struct crypt_data *cd = calloc(1, sizeof(*cd));
    if (!cd)
        return false;
    const char *h = crypt_r(password, hash, cd);
    size_t n = strlen(hash);
    /* crypt_r returns "*0"/"*1" at once for a setting it cannot use: only
     * a real hash counts as one. */
    if (h && h[0] == '$')
        atomic_fetch_add(&hashes_done, 1);
    bool ok = h && h[0] == '$' && strlen(h) == n && auth_equal_ct(h, hash, n);
    explicit_bzero(cd, sizeof(*cd));
    free(cd);
    return ok;
}

static void path_of(const struct auth_accounts *a, const char *file, char *out, size_t n)
{
    snprintf(out, n, "%s/%s", a->dir, file);
}

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

/* name:hash:totp:totp_last_step:token_sha256[:role]; files written before
 * roles existed have five fields, and their accounts could do everything. */
static int parse_line(char *line, struct auth_account *acc)
{
    char *f[6] = {0};
    int n = 0;
    for (char *p = line; n < 6; n++) {
        f[n] = p;
        char *c = strchr(p, ':');
        if (!c) {
            n++;
            break;
        }
        *c = '\0';
        p = c + 1;
    }
    enum auth_role role = AUTH_ROLE_ADMIN;
    if (n < 5 || !auth_name_valid(f[0]) || strlen(f[1]) >= sizeof(acc->hash) ||
        strlen(f[2]) >= sizeof(acc->totp) || strlen(f[4]) >= sizeof(acc->token_sha256) ||
        (n == 6 && auth_role_parse(f[5], &role) < 0))
        return -1; /* an unknown role costs the account, never grants more */
    memset(acc, 0, sizeof(*acc));
    acc->role = role;
    strcpy(acc->name, f[0]);
    strcpy(acc->hash, f[1]);
    strcpy(acc->totp, f[2]);
    acc->totp_last_step = strtoll(f[3], NULL, 10);
    strcpy(acc->token_sha256, f[4]);
    return 0;
}

/* Reads path into *a (emptied first). 0, or -1 with *a untouched. */
static int read_accounts(struct auth_accounts *a, const char *path, FILE *err)
{
    FILE *f;
    struct stat st;
    int r = statefile_open(path, &f, &st, err);
    if (r < 0)
        return -1;
    a->n = 0;
    a->mtime = (struct timespec){0};
    if (r == 0)
        return 0;
    a->mtime = st.st_mtim;
    if (st.st_mode & 077 && err)
        fprintf(err, "%s: readable by others (mode %03o): should be 0600\n", path,
                (unsigned)(st.st_mode & 0777));
    char line[600];
    int lineno = 0;
    while (statefile_next_line(f, line, sizeof(line), &lineno)) {
        if (a->n >= AUTH_ACCOUNTS_MAX || parse_line(line, &a->acc[a->n]) < 0) {
            /* a damaged line costs that account only */
            if (err)
                fprintf(err, "%s:%d: not an account line; ignored\n", path, lineno);
            continue;
        }
        a->n++;
    }
    explicit_bzero(line, sizeof(line));
    fclose(f);
    return 0;
}

int auth_accounts_load(struct auth_accounts *a, const char *dir, FILE *err)
{
    /* Read into a copy: a file refused as torn leaves the accounts this
     * process had (a reload while running keeps working logins). */
    struct auth_accounts *next = calloc(1, sizeof(*next));
    if (!next)
        return -1;
    snprintf(next->dir, sizeof(next->dir), "%s", dir);
    next->lock_fd = a->lock_fd;
    char path[300];
    path_of(next, USERS_FILE, path, sizeof(path));
    int r = read_accounts(next, path, err);
    if (r == 0)
        memcpy(a, next, sizeof(*a));
    else
        memcpy(a->dir, next->dir, sizeof(a->dir)); /* where the next refresh looks */
    explicit_bzero(next, sizeof(*next));
    free(next);
    return r;
}

int auth_accounts_refresh(struct auth_accounts *a)
{
    char path[300];
    path_of(a, USERS_FILE, path, sizeof(path));
    int changed = statefile_changed(path, &a->mtime);
    if (changed <= 0)
        return changed;
    char dir[sizeof(a->dir)];
    memcpy(dir, a->dir, sizeof(dir));
    if (auth_accounts_load(a, dir, stderr) == 0)
        return 1;
    /* Kept what it had; tried again only once the file changes again. */
    struct stat st;
    if (stat(path, &st) == 0)
        a->mtime = st.st_mtim;
    return -1;
}

static int write_accounts(FILE *f, void *ctx)
{
    const struct auth_accounts *a = ctx;
    fprintf(f, "# piglix web accounts: name:yescrypt hash:TOTP secret:last TOTP step:API token SHA-256:role\n");
    for (int i = 0; i < a->n; i++) {
        const struct auth_account *acc = &a->acc[i];
        fprintf(f, "%s:%s:%s:%lld:%s:%s\n", acc->name, acc->hash, acc->totp,
                (long long)acc->totp_last_step, acc->token_sha256, auth_role_name(acc->role));
    }
    return 0; /* write errors: the stream's, checked by statefile */
}

int auth_accounts_save(struct auth_accounts *a, FILE *err)
{
    char path[300];
    path_of(a, USERS_FILE, path, sizeof(path));
    return statefile_write(path, write_accounts, a, 0600, &a->mtime, err);
}

int auth_accounts_lock(struct auth_accounts *a, FILE *err)
{
    char path[300];
    path_of(a, LOCK_FILE, path, sizeof(path));
    int fd = statefile_lock(path, err);
    if (fd < 0)
        return -1;
    a->lock_fd = fd;
    char dir[sizeof(a->dir)];
    memcpy(dir, a->dir, sizeof(dir));
    if (auth_accounts_load(a, dir, err) < 0) {
        auth_accounts_unlock(a);
        return -1;
    }
    return 0;
}

void auth_accounts_unlock(struct auth_accounts *a)
{
    statefile_unlock(&a->lock_fd);
}

struct auth_account *auth_accounts_find(struct auth_accounts *a, const char *name)
{
    for (int i = 0; i < a->n; i++)
        if (strcmp(a->acc[i].name, name) == 0)
            return &a->acc[i];
    return NULL;
}

/* The account to set: the existing one (replace), or a new slot. NULL
 * after writing the reason to err; *exists tells an existing one when
 * replace is false. */
static struct auth_account *account_slot(struct auth_accounts *a, const char *name, bool replace,
                                        bool *exists, FILE *err)
{
    *exists = false;
    if (!auth_name_valid(name)) {
        if (err)
            fprintf(err, "'%s' is not a valid account name (1-%d of a-z 0-9 . _ -)\n", name, AUTH_NAME_MAX);
        return NULL;
    }
    struct auth_account *acc = auth_accounts_find(a, name);
    if (acc && !replace) {
        *exists = true;
        return NULL;
    }
    if (!acc && replace) {
        if (err)
            fprintf(err, "no account '%s'\n", name);
        return NULL;
    }
    if (!acc) {
        if (a->n >= AUTH_ACCOUNTS_MAX) {
            if (err)
                fprintf(err, "too many accounts (at most %d)\n", AUTH_ACCOUNTS_MAX);
            return NULL;
        }
        acc = &a->acc[a->n];
        memset(acc, 0, sizeof(*acc));
        snprintf(acc->name, sizeof(acc->name), "%s", name);
        acc->role = AUTH_ROLE_ADMIN; /* scripts written before roles existed keep working */
    }
    return acc;
}

int auth_accounts_set_password(struct auth_accounts *a, const char *name, const char *password,
                              bool replace, FILE *err)
{
    bool exists;
    struct auth_account *acc = account_slot(a, name, replace, &exists, err);
    if (!acc)
        return exists ? 1 : -1;
    if (auth_password_hash(password, acc->hash) < 0) {
        if (err)
            fprintf(err, "cannot hash the password (libcrypt without yescrypt?)\n");
        return -1;
    }
    if (acc == &a->acc[a->n])
        a->n++;
    return 0;
}

int auth_accounts_set_hash(struct auth_accounts *a, const char *name, const char *hash, FILE *err)
{
    bool exists;
    if (strncmp(hash, "$", 1) != 0 || strlen(hash) >= AUTH_HASH_MAX || strchr(hash, ':'))
        return -1;
    struct auth_account *acc = account_slot(a, name, false, &exists, err);
    if (!acc)
        return exists ? 1 : -1;
    snprintf(acc->hash, sizeof(acc->hash), "%s", hash);
    if (acc == &a->acc[a->n])
        a->n++;
    return 0;
}

int auth_accounts_delete(struct auth_accounts *a, const char *name)
{
    struct auth_account *acc = auth_accounts_find(a, name);
    if (!acc)
        return -1;
    size_t i = (size_t)(acc - a->acc);
    memmove(acc, acc + 1, sizeof(*acc) * ((size_t)a->n - i - 1));
    a->n--;
    return 0;
}

int auth_accounts_set_role(struct auth_accounts *a, const char *name, enum auth_role role)
{
    struct auth_account *acc = auth_accounts_find(a, name);
    if (!acc || (role != AUTH_ROLE_VIEWER && role != AUTH_ROLE_OPERATOR && role != AUTH_ROLE_ADMIN))
        return -1;
    acc->role = role;
    return 0;
}

int auth_accounts_role(struct auth_accounts *a, const char *name)
{
    const struct auth_account *acc = auth_accounts_find(a, name);
    return acc ? (int)acc->role : -1;
}

/* What an unknown name is checked against: a real hash, made once with the
 * same algorithm and cost as stored ones (auth_password_hash) of a random
 * password nobody knows, so unknown names cost exactly what known ones do. */
static char dummy_hash[AUTH_HASH_MAX];
static pthread_once_t dummy_once = PTHREAD_ONCE_INIT;

static void dummy_make(void)
{
    uint8_t raw[24];
    char pw[2 * sizeof(raw) + 1];
    dummy_hash[0] = '\0';
    if (auth_random(raw, sizeof(raw)) == 0) {
        auth_hex(raw, sizeof(raw), pw);
        if (auth_password_hash(pw, dummy_hash) < 0)
            dummy_hash[0] = '\0';
    }
    explicit_bzero(raw, sizeof(raw));
    explicit_bzero(pw, sizeof(pw));
}

const char *auth_accounts_dummy_hash(void)
{
    pthread_once(&dummy_once, dummy_make);
    return dummy_hash;
}

struct auth_account *auth_accounts_check_password(struct auth_accounts *a, const char *name,
                                                const char *password)
{
    struct auth_account *acc = auth_accounts_find(a, name);
    bool ok = auth_password_verify(password, acc ? acc->hash : auth_accounts_dummy_hash());
    return acc && ok ? acc : NULL;
}

void auth_account_fingerprint(const struct auth_account *acc, uint8_t out[AUTH_CRED_FP_LEN])
{
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    unsigned n = 0;
    /* Each field with its NUL: no two accounts' fields run together. */
    if (!ctx || EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1 ||
        EVP_DigestUpdate(ctx, acc->name, strlen(acc->name) + 1) != 1 ||
        EVP_DigestUpdate(ctx, acc->hash, strlen(acc->hash) + 1) != 1 ||
        EVP_DigestUpdate(ctx, acc->token_sha256, strlen(acc->token_sha256) + 1) != 1 ||
        EVP_DigestUpdate(ctx, acc->totp, strlen(acc->totp) + 1) != 1 ||
        EVP_DigestUpdate(ctx, auth_role_name(acc->role), strlen(auth_role_name(acc->role)) + 1) != 1 ||
        EVP_DigestFinal_ex(ctx, out, &n) != 1)
        memset(out, 0, AUTH_CRED_FP_LEN); /* matches no stored fingerprint (random ones are never all zero) */
    EVP_MD_CTX_free(ctx);
}

static void sha256_hex(const char *s, char *out)
{
    uint8_t md[32];
    unsigned len = 0;
    EVP_Digest(s, strlen(s), md, &len, EVP_sha256(), NULL);
    auth_hex(md, 32, out);
}

struct auth_account *auth_accounts_check_token(struct auth_accounts *a, const char *token)
{
    char h[AUTH_TOKEN_HEX + 1];
    sha256_hex(token, h);
    struct auth_account *hit = NULL;
    for (int i = 0; i < a->n; i++)
        if (strlen(a->acc[i].token_sha256) == AUTH_TOKEN_HEX &&
            auth_equal_ct(a->acc[i].token_sha256, h, AUTH_TOKEN_HEX))
            hit = &a->acc[i];
    return hit;
}

int auth_accounts_new_token(struct auth_account *acc, char *out)
{
    uint8_t raw[32];
    if (auth_random(raw, sizeof(raw)) < 0)
        return -1;
    auth_hex(raw, sizeof(raw), out);
    explicit_bzero(raw, sizeof(raw));
    sha256_hex(out, acc->token_sha256);
    return 0;
}

bool auth_name_valid(const char *name)
{
    size_t n = strlen(name);
    if (n == 0 || n > AUTH_NAME_MAX || !isalnum((unsigned char)name[0]))
        return false;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)name[i];
        if (!(islower(c) || isdigit(c) || c == '.' || c == '_' || c == '-'))
            return false;
    }
    return true;
}

void auth_hex(const uint8_t *in, size_t n, char *out)
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = digits[in[i] >> 4];
        out[2 * i + 1] = digits[in[i] & 15];
    }
    out[2 * n] = '\0';
}
