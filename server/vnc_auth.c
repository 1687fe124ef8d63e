#include "server/vnc_auth.h"

#include <errno.h>
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <rfb/rfb.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/log.h"
#include "common/statefile.h"

void vnc_auth_password_path(const char *state_dir, char *out, size_t n)
{
    snprintf(out, n, "%s/vnc.passwd", state_dir);
}

int vnc_auth_store_password(const char *state_dir, const char *password, FILE *err)
{
    size_t len = strlen(password);
    if (len < VNC_AUTH_MIN_LEN || len > VNC_AUTH_MAX_LEN) {
        fprintf(err, "vnc-passwd: the password must have %d to %d characters "
                     "(VNC authentication uses only 8)\n", VNC_AUTH_MIN_LEN, VNC_AUTH_MAX_LEN);
        return -1;
    }
    if (mkdir(state_dir, 0700) < 0 && errno != EEXIST) {
        fprintf(err, "vnc-passwd: cannot create %s: %s\n", state_dir, strerror(errno));
        return -1;
    }
    char path[512];
    vnc_auth_password_path(state_dir, path, sizeof(path));
    uint8_t stored[8];
    vnc_auth_obfuscate(password, stored);
    int r = statefile_write_bytes(path, stored, sizeof(stored), 0600, err);
    explicit_bzero(stored, sizeof(stored));
    if (r < 0) {
        fprintf(err, "vnc-passwd: cannot install %s\n", path);
        return -1;
    }
    return 0;
}

void vnc_auth_obfuscate(const char *password, uint8_t out[8])
{
    /* The format vncpasswd -f and rfbEncryptAndStorePasswd write: the
     * password, zero-padded to 8 bytes, DES-encrypted with VNC's fixed key.
     * rfbEncryptBytes encrypts 16 bytes with a key given as a string; the
     * fixed key has no zero byte, so it passes whole. Written by piglix
     * itself so that the file goes through statefile's safe replacement
     * (libvncserver fopen()s a name of our choosing). */
    static const char fixed_key[9] = {23, 82, 107, 6, 35, 78, 88, 7, 0};
    unsigned char block[16] = {0};
    char key[9];
    memcpy(key, fixed_key, sizeof(key));
    strncpy((char *)block, password, VNC_AUTH_MAX_LEN);
    rfbEncryptBytes(block, key);
    memcpy(out, block, 8);
    explicit_bzero(block, sizeof(block));
}

int vnc_auth_load_password(const char *state_dir, char out[VNC_AUTH_MAX_LEN + 1])
{
    char path[512];
    vnc_auth_password_path(state_dir, path, sizeof(path));
    struct stat st;
    if (stat(path, &st) < 0) {
        if (errno == ENOENT)
            return 1;
        LOG_ERROR("vnc", "cannot read %s: %s", path, strerror(errno));
        return -1;
    }
    if (st.st_mode & 077) {
        LOG_ERROR("vnc", "%s is readable by others (mode %03o): refusing it; chmod 600 it",
                  path, (unsigned)(st.st_mode & 0777));
        return -1;
    }
    char *pw = rfbDecryptPasswdFromFile(path);
    if (!pw) {
        LOG_ERROR("vnc", "cannot decode the password in %s", path);
        return -1;
    }
    size_t len = strnlen(pw, VNC_AUTH_MAX_LEN);
    memcpy(out, pw, len);
    out[len] = '\0';
    memset(pw, 0, len);
    free(pw);
    if (len == 0) {
        LOG_ERROR("vnc", "%s holds an empty password", path);
        return -1;
    }
    return 0;
}

bool vnc_auth_check_response(const char *password, const uint8_t challenge[16],
                             const uint8_t response[16])
{
    unsigned char expected[16];
    char pw[VNC_AUTH_MAX_LEN + 1] = {0};
    memcpy(expected, challenge, 16);
    strncpy(pw, password, VNC_AUTH_MAX_LEN);
    rfbEncryptBytes(expected, pw);
    memset(pw, 0, sizeof(pw));
    unsigned diff = 0;
    for (int i = 0; i < 16; i++)
        diff |= expected[i] ^ response[i];
    return diff == 0;
}

/* ---- throttling ---- */

#define THROTTLE_ADDR_SLOTS 64
#define THROTTLE_MAX_S 3600
#define THROTTLE_KEY_MAX 64

struct throttle_entry {
    char key[THROTTLE_KEY_MAX];
    int failures;
    int64_t blocked_until_ms, last_ms;
};

struct vnc_auth_throttle {
    int limit, base_s, slots;
    bool addresses; /* keys are peer addresses (normalized); full: evict */
    struct throttle_entry e[];
};

void vnc_auth_addr_key(const char *addr, char *out, size_t n)
{
    struct in6_addr a6;
    char text[INET6_ADDRSTRLEN];
    if (!strchr(addr, ':') || inet_pton(AF_INET6, addr, &a6) != 1) {
        snprintf(out, n, "%s", addr);
        return;
    }
    if (IN6_IS_ADDR_V4MAPPED(&a6)) {
        /* an IPv4 peer on a dual-stack socket is that IPv4 address */
        inet_ntop(AF_INET, &a6.s6_addr[12], text, sizeof(text));
        snprintf(out, n, "%s", text);
        return;
    }
    /* One IPv6 host usually holds a whole /64: throttle the prefix, or an
     * attacker walks through 2^64 fresh addresses. */
    memset(&a6.s6_addr[8], 0, 8);
    inet_ntop(AF_INET6, &a6, text, sizeof(text));
    snprintf(out, n, "%s/64", text);
}

static struct vnc_auth_throttle *throttle_new(int limit, int base_s, int slots, bool addresses)
{
    struct vnc_auth_throttle *t = calloc(1, sizeof(*t) + (size_t)slots * sizeof(struct throttle_entry));
    if (t) {
        t->limit = limit;
        t->base_s = base_s;
        t->slots = slots;
        t->addresses = addresses;
    }
    return t;
}

struct vnc_auth_throttle *vnc_auth_throttle_create(int limit, int base_s)
{
    return throttle_new(limit, base_s, THROTTLE_ADDR_SLOTS, true);
}

struct vnc_auth_throttle *vnc_auth_throttle_create_addresses(int limit, int base_s, int slots)
{
    return throttle_new(limit, base_s, slots > 0 ? slots : THROTTLE_ADDR_SLOTS, true);
}

struct vnc_auth_throttle *vnc_auth_throttle_create_keys(int limit, int base_s, int slots)
{
    return throttle_new(limit, base_s, slots > 0 ? slots : 1, false);
}

void vnc_auth_throttle_destroy(struct vnc_auth_throttle *t) { free(t); }

/* Which entry to give a new key on a full address table: the least
 * recently seen one that is not blocked (a blocked address stays blocked
 * while others can take its place), else the least recently seen. */
static struct throttle_entry *victim(struct vnc_auth_throttle *t, int64_t now_ms)
{
    struct throttle_entry *free_one = NULL, *idle = NULL, *oldest = NULL;
    for (int i = 0; i < t->slots; i++) {
        struct throttle_entry *e = &t->e[i];
        if (!e->key[0]) {
            free_one = free_one ? free_one : e;
            continue;
        }
        if (!oldest || e->last_ms < oldest->last_ms)
            oldest = e;
        if (e->blocked_until_ms <= now_ms && (!idle || e->last_ms < idle->last_ms))
            idle = e;
    }
    if (free_one)
        return free_one;
    if (!t->addresses)
        return NULL; /* a bounded key set: never evicts anyone's lockout */
    return idle ? idle : oldest;
}

static struct throttle_entry *find(struct vnc_auth_throttle *t, const char *raw, bool create,
                                   int64_t now_ms)
{
    char key[THROTTLE_KEY_MAX];
    if (t->addresses)
        vnc_auth_addr_key(raw, key, sizeof(key));
    else
        snprintf(key, sizeof(key), "%s", raw);
    for (int i = 0; i < t->slots; i++)
        if (t->e[i].key[0] && strcmp(t->e[i].key, key) == 0)
            return &t->e[i];
    if (!create)
        return NULL;
    struct throttle_entry *e = victim(t, now_ms);
    if (!e)
        return NULL;
    memset(e, 0, sizeof(*e));
    snprintf(e->key, sizeof(e->key), "%s", key);
    return e;
}

int vnc_auth_throttle_check(struct vnc_auth_throttle *t, const char *addr, int64_t now_ms)
{
    struct throttle_entry *e = find(t, addr, false, now_ms);
    if (!e || e->blocked_until_ms <= now_ms)
        return 0;
    return (int)((e->blocked_until_ms - now_ms + 999) / 1000);
}

void vnc_auth_throttle_record(struct vnc_auth_throttle *t, const char *addr, bool success,
                              int64_t now_ms)
{
    struct throttle_entry *e = find(t, addr, !success, now_ms);
    if (!e)
        return;
    e->last_ms = now_ms;
    if (success) {
        e->failures = 0;
        e->blocked_until_ms = 0;
        return;
    }
    e->failures++;
    if (e->failures >= t->limit) {
        int over = e->failures - t->limit;
        int64_t period = t->base_s;
        for (int i = 0; i < over && period < THROTTLE_MAX_S; i++)
            period *= 2;
        if (period > THROTTLE_MAX_S)
            period = THROTTLE_MAX_S;
        e->blocked_until_ms = now_ms + period * 1000;
    }
}

void vnc_auth_throttle_prune(struct vnc_auth_throttle *t, bool (*keep)(const char *key, void *ctx),
                             void *ctx)
{
    for (int i = 0; i < t->slots; i++)
        if (t->e[i].key[0] && !keep(t->e[i].key, ctx))
            memset(&t->e[i], 0, sizeof(t->e[i]));
}
