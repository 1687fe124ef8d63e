#include "server/server.h"

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

void vnc_auth_view_password_path(const char *state_dir, char *out, size_t n)
{
    snprintf(out, n, "%s/vnc-view.passwd", state_dir);
}

static int store_at(const char *state_dir, bool view, const char *password, FILE *err);

int vnc_auth_store_password(const char *state_dir, const char *password, FILE *err)
{
    return store_at(state_dir, false, password, err);
}

int vnc_auth_store_view_password(const char *state_dir, const char *password, FILE *err)
{
    return store_at(state_dir, true, password, err);
}

static int store_at(const char *state_dir, bool view, const char *password, FILE *err)
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
    if (view)
        vnc_auth_view_password_path(state_dir, path, sizeof(path));
    else
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

static int load_from(char *path, char out[VNC_AUTH_MAX_LEN + 1]);

int vnc_auth_load_password(const char *state_dir, char out[VNC_AUTH_MAX_LEN + 1])
{
    char path[512];
    vnc_auth_password_path(state_dir, path, sizeof(path));
    return load_from(path, out);
}

int vnc_auth_load_view_password(const char *state_dir, char out[VNC_AUTH_MAX_LEN + 1])
{
    char path[512];
    vnc_auth_view_password_path(state_dir, path, sizeof(path));
    return load_from(path, out);
}

static int load_from(char *path, char out[VNC_AUTH_MAX_LEN + 1])
{
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
