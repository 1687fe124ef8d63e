/* The SOL configuration parameters an Administrator changed (`ipmitool sol
 * set`: enabled, privilege level, character accumulate interval and send
 * threshold, retry count and interval), kept in [state] dir/ipmi.sol so a
 * restart does not quietly undo them. One "key = value" per line; written
 * whole and atomically (statefile_replace); read once when SOL is wired.
 * A line that does not parse keeps that parameter's default (the file is
 * piglix's own, but a hand edit must not turn SOL into something else). */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"
#include "common/statefile.h"
#include "ipmi/ipmi_internal.h"

#define SOL_STATE_MAX 4096         /* far above the few lines it holds */

static bool number(const char *s, long lo, long hi, long *out)
{
    if (!isdigit((unsigned char)*s))
        return false;
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || *end || v < lo || v > hi)
        return false;
    *out = v;
    return true;
}

static int apply(struct ipmi_sol_config *cfg, const char *key, const char *val)
{
    long v;
    if (!strcmp(key, "enabled")) {
        if (strcmp(val, "yes") && strcmp(val, "no"))
            return -1;
        cfg->enabled = !strcmp(val, "yes");
    } else if (!strcmp(key, "privilege")) {
        if (!number(val, IPMI_PRIV_OPERATOR, IPMI_PRIV_ADMIN, &v))
            return -1;
        cfg->privilege = (uint8_t)v;
    } else if (!strcmp(key, "accumulate_5ms")) {
        if (!number(val, 1, 255, &v))
            return -1;
        cfg->accumulate_5ms = (uint8_t)v;
    } else if (!strcmp(key, "threshold")) {
        if (!number(val, 1, 255, &v))
            return -1;
        cfg->threshold = (uint8_t)v;
    } else if (!strcmp(key, "retry_count")) {
        if (!number(val, 0, 7, &v))
            return -1;
        cfg->retry_count = (uint8_t)v;
    } else if (!strcmp(key, "retry_10ms")) {
        if (!number(val, 0, 255, &v))
            return -1;
        cfg->retry_10ms = (uint8_t)v;
    } else {
        return -1;
    }
    return 0;
}

static char *trim(char *s, char *end)
{
    while (s < end && (*s == ' ' || *s == '\t'))
        s++;
    while (end > s && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\r'))
        end--;
    *end = '\0';
    return s;
}

int ipmi_sol_state_parse(const char *text, size_t len, struct ipmi_sol_config *cfg)
{
    int bad = 0;
    char line[128];
    size_t at = 0;
    while (at < len) {
        const char *nl = memchr(text + at, '\n', len - at);
        size_t n = nl ? (size_t)(nl - (text + at)) : len - at;
        bool fits = n < sizeof(line) && !memchr(text + at, '\0', n);
        if (fits) {
            memcpy(line, text + at, n);
            line[n] = '\0';
        }
        at += n + (nl ? 1 : 0);
        if (!fits) {
            bad++;          /* too long, or a NUL inside: not ours */
            continue;
        }
        char *l = trim(line, line + n);
        if (!*l || *l == '#')
            continue;
        char *eq = strchr(l, '=');
        if (!eq) {
            bad++;
            continue;
        }
        char *key = trim(l, eq);
        char *val = trim(eq + 1, eq + 1 + strlen(eq + 1));
        if (apply(cfg, key, val) < 0)
            bad++;
    }
    return bad;
}

int ipmi_sol_state_load(const char *dir, struct ipmi_sol_config *cfg)
{
    char path[300];
    snprintf(path, sizeof(path), "%s/%s", dir, IPMI_SOL_STATE_FILE);
    FILE *f = fopen(path, "re");
    if (!f)
        return errno == ENOENT ? 0 : -1;
    char buf[SOL_STATE_MAX];
    size_t n = fread(buf, 1, sizeof(buf), f);
    bool err = ferror(f) != 0;
    fclose(f);
    if (err)
        return -1;
    int bad = ipmi_sol_state_parse(buf, n, cfg);
    if (bad)
        LOG_WARN("ipmi", "%s: %d line%s not understood (those parameters keep their defaults)", path, bad,
                 bad == 1 ? "" : "s");
    return 1;
}

static int write_state(int fd, void *ctx)
{
    const struct ipmi_sol_config *k = ctx;
    char buf[320];
    int n = snprintf(buf, sizeof(buf),
                     "# SOL settings changed over IPMI (ipmitool sol set); piglix rewrites this file\n"
                     "enabled = %s\nprivilege = %u\naccumulate_5ms = %u\nthreshold = %u\n"
                     "retry_count = %u\nretry_10ms = %u\n",
                     k->enabled ? "yes" : "no", k->privilege, k->accumulate_5ms, k->threshold, k->retry_count,
                     k->retry_10ms);
    if (n < 0 || (size_t)n >= sizeof(buf))
        return -1;
    for (size_t off = 0; off < (size_t)n;) {
        ssize_t w = write(fd, buf + off, (size_t)n - off);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        off += (size_t)w;
    }
    return 0;
}

int ipmi_sol_state_save(const char *dir, const struct ipmi_sol_config *cfg)
{
    char path[300];
    snprintf(path, sizeof(path), "%s/%s", dir, IPMI_SOL_STATE_FILE);
    return statefile_replace(path, write_state, (void *)cfg, 0600, NULL, NULL);
}
