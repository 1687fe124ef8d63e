/* ISO 9660 (ECMA-119) root directory with Rock Ridge (SUSP "NM") names. */
#include "sim_iso.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define SECTOR 2048
#define MAX_DIR_BYTES (256 * 1024)

static uint32_t le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static int read_at(int fd, uint64_t offset, void *buf, size_t n)
{
    size_t done = 0;
    while (done < n) {
        ssize_t r = pread(fd, (uint8_t *)buf + done, n - done, (off_t)(offset + done));
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            return -errno;
        if (r == 0)
            return -EIO; /* past the end of the medium */
        done += (size_t)r;
    }
    return 0;
}

static bool first_medium(const char *prefix, char *path, unsigned size)
{
    DIR *d = opendir("/sys/block");
    if (!d)
        return false;
    char best[64] = "";
    struct dirent *e;
    while ((e = readdir(d)))
        if (strncmp(e->d_name, prefix, strlen(prefix)) == 0 && strlen(e->d_name) < sizeof(best) &&
            (!best[0] || strcmp(e->d_name, best) < 0))
            snprintf(best, sizeof(best), "%s", e->d_name);
    closedir(d);
    if (!best[0])
        return false;
    snprintf(path, size, "/dev/%s", best);
    struct stat st;
    return stat(path, &st) == 0 && S_ISBLK(st.st_mode);
}

bool sim_iso_find_device(char *path, unsigned size)
{
    return first_medium("sr", path, size) || first_medium("sd", path, size);
}

/* The Rock Ridge name in a record's system use area, if any. */
static bool rock_ridge_name(const uint8_t *su, size_t n, char *out, size_t out_size)
{
    size_t len = 0;
    bool found = false;
    for (size_t p = 0; p + 4 <= n;) {
        size_t elen = su[p + 2];
        if (elen < 4 || p + elen > n)
            break;
        if (su[p] == 'N' && su[p + 1] == 'M' && elen >= 5 && !(su[p + 4] & 0x06)) {
            for (size_t i = 5; i < elen && len + 1 < out_size; i++)
                out[len++] = (char)su[p + i];
            found = true;
        }
        p += elen;
    }
    out[len] = 0;
    return found && len > 0;
}

static void iso_name(const uint8_t *name, size_t n, char *out, size_t out_size)
{
    size_t len = 0;
    for (size_t i = 0; i < n && name[i] != ';' && len + 1 < out_size; i++)
        out[len++] = (char)name[i];
    if (len > 0 && out[len - 1] == '.')
        len--;
    out[len] = 0;
}

static void preview(int fd, uint32_t extent, uint64_t size, char *out, size_t out_size)
{
    out[0] = 0;
    if (size == 0 || size > 64 * 1024)
        return;
    uint8_t buf[SECTOR];
    size_t n = size < sizeof(buf) ? (size_t)size : sizeof(buf);
    if (read_at(fd, (uint64_t)extent * SECTOR, buf, n) < 0)
        return;
    size_t len = 0;
    for (size_t i = 0; i < n && buf[i] != '\n' && buf[i] != '\r'; i++) {
        if (buf[i] < 0x20 || buf[i] > 0x7e) {
            len = 0; /* binary */
            break;
        }
        if (len + 1 < out_size)
            out[len++] = (char)buf[i];
    }
    out[len] = 0;
}

static int fail(struct sim_iso_listing *out, const char *what)
{
    snprintf(out->error, sizeof(out->error), "%s: %s", out->device, what);
    return -1;
}

static void parse_directory(int fd, const uint8_t *dir, size_t size, struct sim_iso_listing *out)
{
    for (size_t p = 0; p < size;) {
        size_t len = dir[p];
        if (len == 0) { /* records never cross a sector: the rest of this one is padding */
            p = (p / SECTOR + 1) * SECTOR;
            continue;
        }
        if (len < 34 || p + len > size)
            break;
        const uint8_t *r = dir + p;
        size_t name_len = r[32];
        p += len;
        if (33 + name_len > len || (name_len == 1 && (r[33] == 0 || r[33] == 1)))
            continue; /* "." and ".." */
        out->total++;
        if (out->count >= SIM_ISO_MAX_FILES)
            continue;
        struct sim_iso_file *f = &out->files[out->count++];
        size_t su = 33 + name_len + (name_len % 2 == 0 ? 1 : 0);
        if (su > len || !rock_ridge_name(r + su, len - su, f->name, sizeof(f->name)))
            iso_name(r + 33, name_len, f->name, sizeof(f->name));
        f->size = le32(r + 10);
        f->dir = (r[25] & 0x02) != 0;
        if (!f->dir)
            preview(fd, le32(r + 2), f->size, f->preview, sizeof(f->preview));
    }
}

int sim_iso_read(const char *path, struct sim_iso_listing *out)
{
    memset(out, 0, sizeof(*out));
    snprintf(out->device, sizeof(out->device), "%s", path);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return fail(out, strerror(errno));
    uint8_t pvd[SECTOR];
    int r = -1;
    for (unsigned lba = 16; lba < 32; lba++) {
        int e = read_at(fd, (uint64_t)lba * SECTOR, pvd, sizeof(pvd));
        if (e < 0) {
            fail(out, strerror(-e));
            break;
        }
        if (memcmp(pvd + 1, "CD001", 5) != 0) {
            fail(out, "no ISO 9660 file system");
            break;
        }
        if (pvd[0] == 255) {
            fail(out, "no primary volume descriptor");
            break;
        }
        if (pvd[0] == 1) {
            r = 0;
            break;
        }
    }
    if (r < 0) {
        close(fd);
        return -1;
    }
    memcpy(out->volume, pvd + 40, 32);
    for (int i = 31; i >= 0 && out->volume[i] == ' '; i--)
        out->volume[i] = 0;
    const uint8_t *root = pvd + 156;
    uint32_t extent = le32(root + 2), size = le32(root + 10);
    if (size == 0 || size > MAX_DIR_BYTES) {
        close(fd);
        return fail(out, "bad root directory");
    }
    uint8_t *dir = malloc(size);
    int e = dir ? read_at(fd, (uint64_t)extent * SECTOR, dir, size) : -ENOMEM;
    if (e == 0)
        parse_directory(fd, dir, size, out);
    free(dir);
    close(fd);
    return e == 0 ? 0 : fail(out, strerror(-e));
}
