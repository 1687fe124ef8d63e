/* health: the checks of the appliance itself: [state] dir and the
 * credentials in it, the image store's free space, the clock, memory and
 * temperature. */
#include "health/health.h"
#include "health/health_internal.h"

#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

static int real_adjtimex(struct timex *t)
{
    return adjtimex(t);
}

static int real_ioctl(int fd, unsigned long request, void *arg)
{
    return ioctl(fd, request, arg);
}

void health_env_defaults(struct health_env *env)
{
    memset(env, 0, sizeof(*env));
    health_fmt(env->sys, sizeof(env->sys), "/sys");
    health_fmt(env->dev, sizeof(env->dev), "/dev");
    health_fmt(env->configfs, sizeof(env->configfs), "/sys/kernel/config");
    health_fmt(env->proc, sizeof(env->proc), "/proc");
    env->daemon_uid = geteuid();
    struct passwd pw, *res = NULL;
    char buf[1024];
    if (getpwuid_r(env->daemon_uid, &pw, buf, sizeof(buf), &res) == 0 && res)
        health_fmt(env->daemon_user, sizeof(env->daemon_user), "%s", res->pw_name);
    else
        health_fmt(env->daemon_user, sizeof(env->daemon_user), "%u", (unsigned)env->daemon_uid);
    env->min_free_bytes = 1ull << 30;
    env->min_available_bytes = 64ull << 20;
    env->temp_warn_mc = 75000;
    env->temp_problem_mc = 85000;
    env->min_cma_bytes = 128ull << 20;
    env->adjtimex = real_adjtimex;
    env->ioctl = real_ioctl;
    env->csi2_lanes = 2;
    env->csi2_lane_mbps = 972;
    env->probe_timeout_ms = 300;
}

void health_check_state(struct health_report *r, const struct health_env *env, const struct config_state *state)
{
    struct stat st;
    if (stat(state->dir, &st) < 0 || !S_ISDIR(st.st_mode)) {
        health_add(r, "state", HEALTH_PROBLEM, "[state] dir %s does not exist" HEALTH_FIX "the package makes it; by hand: "
                   "mkdir -m 700 %s && chown %s: %s", state->dir, state->dir, env->daemon_user, state->dir);
        return;
    }
    if (st.st_uid != env->daemon_uid) {
        health_add(r, "state", HEALTH_PROBLEM, "[state] dir %s is owned by uid %u, not by %s (the daemon's user), "
                   "so piglix cannot keep its keys and accounts there" HEALTH_FIX "chown -R %s: %s", state->dir,
                   (unsigned)st.st_uid, env->daemon_user, env->daemon_user, state->dir);
        return;
    }
    if (st.st_mode & (S_IWGRP | S_IWOTH)) {
        health_add(r, "state", HEALTH_PROBLEM, "[state] dir %s is writable by %s (mode %03o): others could replace "
                   "the accounts and keys" HEALTH_FIX "chmod go-w %s", state->dir,
                   (st.st_mode & S_IWOTH) ? "everyone" : "its group", (unsigned)(st.st_mode & 0777), state->dir);
        return;
    }
    health_add(r, "state", HEALTH_OK, "[state] dir %s, owned by %s, mode %03o", state->dir, env->daemon_user,
               (unsigned)(st.st_mode & 0777));
}

void health_check_vnc_password(struct health_report *r, const struct health_env *env,
                               const struct config_state *state, const struct config_vnc *vnc)
{
    if (!vnc->enabled) {
        health_add(r, "vnc-password", HEALTH_OK, "[vnc] enabled = no: no VNC port");
        return;
    }
    if (strcmp(vnc->auth, "none") == 0) {
        health_add(r, "vnc-password", HEALTH_OK, "[vnc] auth = none on %s: no password needed there", vnc->listen);
        return;
    }
    char path[PATH_MAX];
    health_fmt(path, sizeof(path), "%s/vnc.passwd", state->dir);
    struct stat st;
    int rc = stat(path, &st) == 0 ? 0 : errno;
    if (rc != 0 && rc != ENOENT)
        health_add(r, "vnc-password", HEALTH_WARNING, "cannot tell whether the VNC password is set (%s: %s)" HEALTH_FIX "run "
                   "`piglix doctor` as root or as %s", path, strerror(rc), env->daemon_user);
    else if (rc == ENOENT || st.st_size == 0)
        health_add(r, "vnc-password", HEALTH_WARNING, "no VNC password" HEALTH_FIX "the VNC port stays closed until "
                   "`piglix vnc-passwd` (the web UI's viewer does not need it)");
    else
        health_add(r, "vnc-password", HEALTH_OK, "the VNC password is set");
}

void health_check_web_accounts(struct health_report *r, const struct health_env *env,
                               const struct config_state *state, const struct config_web *web)
{
    if (!web->enabled) {
        health_add(r, "web-accounts", HEALTH_OK, "[web] enabled = no: no web UI");
        return;
    }
    char path[PATH_MAX];
    health_fmt(path, sizeof(path), "%s/web.users", state->dir);
    int accounts = 0;
    FILE *f = fopen(path, "r");
    if (f) {
        /* auth/'s format: a comment line, then one "name:..." line per account */
        char line[1024];
        while (fgets(line, sizeof(line), f))
            if (line[0] != '#' && line[0] != '\n' && strchr(line, ':'))
                accounts++;
        fclose(f);
    } else if (errno != ENOENT) {
        health_add(r, "web-accounts", HEALTH_WARNING, "cannot tell whether there are web accounts (%s: %s)" HEALTH_FIX "run "
                   "`piglix doctor` as root or as %s", path, strerror(errno), env->daemon_user);
        return;
    }
    if (accounts == 0)
        health_add(r, "web-accounts", HEALTH_WARNING, "no web accounts yet" HEALTH_FIX "open the web UI, the set-up page asks "
                   "for the one-time token piglix writes in its log (journalctl -u piglix), or "
                   "`piglix user add NAME`");
    else
        health_add(r, "web-accounts", HEALTH_OK, "%d web account%s", accounts, accounts == 1 ? "" : "s");
}

void health_check_image_store(struct health_report *r, const struct health_env *env,
                              const struct config_vmedia *vmedia)
{
    if (!vmedia->enabled)
        return;
    struct statvfs vfs;
    if (statvfs(vmedia->dir, &vfs) < 0) {
        health_add(r, "image-store", HEALTH_PROBLEM, "[vmedia] dir %s: %s" HEALTH_FIX "make it (mkdir -m 700 %s && chown %s: %s) "
                   "or set [vmedia] dir", vmedia->dir, strerror(errno), vmedia->dir, env->daemon_user, vmedia->dir);
        return;
    }
    uint64_t free_bytes = (uint64_t)vfs.f_bavail * vfs.f_frsize;
    uint64_t mib = free_bytes >> 20;
    if (free_bytes < env->min_free_bytes)
        health_add(r, "image-store", HEALTH_WARNING, "%s has %" PRIu64 " MiB free, under %" PRIu64 " MiB: an "
                   "installer image may not fit" HEALTH_FIX "delete old images or give the store a larger disk",
                   vmedia->dir, mib, (uint64_t)(env->min_free_bytes >> 20));
    else
        health_add(r, "image-store", HEALTH_OK, "%s has %" PRIu64 " MiB free", vmedia->dir, mib);
}

void health_check_clock(struct health_report *r, const struct health_env *env)
{
    struct timex t = {.modes = 0};
    int state = env->adjtimex(&t);
    if (state < 0) {
        health_add(r, "clock", HEALTH_WARNING, "the clock's state is unknown (adjtimex: %s)", strerror(errno));
    } else if (state == TIME_ERROR || (t.status & STA_UNSYNC)) {
        health_add(r, "clock", HEALTH_WARNING, "the system clock is not synchronised: TOTP codes and TLS "
                   "certificates need the right time" HEALTH_FIX "enable NTP (timedatectl set-ntp true) and give the "
                   "appliance a network route to a time server");
    } else {
        health_add(r, "clock", HEALTH_OK, "the system clock is synchronised");
    }
}

void health_check_memory(struct health_report *r, const struct health_env *env)
{
    int64_t kb = health_meminfo_kb(env, "MemAvailable");
    if (kb < 0) {
        health_add(r, "memory", HEALTH_WARNING, "no MemAvailable in %s/meminfo", env->proc);
        return;
    }
    uint64_t min_mib = env->min_available_bytes >> 20;
    if ((uint64_t)kb * 1024 < env->min_available_bytes)
        health_add(r, "memory", HEALTH_WARNING, "%" PRId64 " MiB available, under %" PRIu64 " MiB" HEALTH_FIX "stop other "
                   "services on the appliance or lower [web] max_viewers", kb / 1024, min_mib);
    else
        health_add(r, "memory", HEALTH_OK, "%" PRId64 " MiB available", kb / 1024);
}

void health_check_temperature(struct health_report *r, const struct health_env *env)
{
    char dir[PATH_MAX];
    health_fmt(dir, sizeof(dir), "%s/class/thermal", env->sys);
    DIR *d = opendir(dir);
    long hottest = LONG_MIN;
    char zone[64] = "", type[64] = "";
    if (d) {
        struct dirent *e;
        while ((e = readdir(d))) {
            if (strncmp(e->d_name, "thermal_zone", 12) != 0)
                continue;
            char rel[PATH_MAX], value[32];
            health_fmt(rel, sizeof(rel), "class/thermal/%s/temp", e->d_name);
            if (health_read(env->sys, rel, value, sizeof(value)) < 0)
                continue;
            char *end;
            long mc = strtol(value, &end, 10);
            if (end == value || mc <= hottest)
                continue;
            hottest = mc;
            health_fmt(zone, sizeof(zone), "%s", e->d_name);
            health_fmt(rel, sizeof(rel), "class/thermal/%s/type", e->d_name);
            if (health_read(env->sys, rel, type, sizeof(type)) < 0)
                type[0] = '\0';
        }
        closedir(d);
    }
    if (hottest == LONG_MIN) {
        health_add(r, "temperature", HEALTH_OK, "no thermal zone to read (%s)", dir);
        return;
    }
    char what[160];
    health_fmt(what, sizeof(what), "%.1f °C (%s%s%s)", hottest / 1000.0, zone, type[0] ? ", " : "", type);
    if (hottest >= env->temp_problem_mc)
        health_add(r, "temperature", HEALTH_PROBLEM, "%s, at or over %d °C: the CPU throttles and capture drops "
                   "frames" HEALTH_FIX "add a heatsink or fan and give the case air", what, env->temp_problem_mc / 1000);
    else if (hottest >= env->temp_warn_mc)
        health_add(r, "temperature", HEALTH_WARNING, "%s, at or over %d °C: close to throttling" HEALTH_FIX "add a heatsink "
                   "or fan", what, env->temp_warn_mc / 1000);
    else
        health_add(r, "temperature", HEALTH_OK, "%s", what);
}
