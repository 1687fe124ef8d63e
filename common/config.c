#include "common/config.h"

#include <errno.h>
#include <ini.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

enum opt_type { OPT_STR, OPT_INT, OPT_BOOL, OPT_ENUM };

struct option_def {
    const char *section, *key;
    enum opt_type type;
    size_t offset, size;
    const char *def;
    long min, max;            /* OPT_INT */
    const char *choices;      /* OPT_ENUM: '|' separated */
};

#define F(field) offsetof(struct piglix_config, field), sizeof(((struct piglix_config *)0)->field)

static const struct option_def options[] = {
    {"capture", "source", OPT_ENUM, F(capture.source), "test", 0, 0, "test|v4l2"},
    {"capture", "device", OPT_STR, F(capture.device), "/dev/video0", 0, 0, NULL},
    {"capture", "width", OPT_INT, F(capture.width), "1920", 64, 4096, NULL},
    {"capture", "height", OPT_INT, F(capture.height), "1080", 64, 2160, NULL},
    {"capture", "fps", OPT_INT, F(capture.fps), "30", 1, 120, NULL},
    {"capture", "scenario", OPT_ENUM, F(capture.scenario), "bios", 0, 0, "bios|desktop|motion"},
    {"capture", "format", OPT_ENUM, F(capture.format), "yuyv", 0, 0, "yuyv|uyvy|rgb24"},
    {"capture", "edid", OPT_STR, F(capture.edid), "/usr/share/piglix/edid/tc358743-1080p30.hex", 0, 0, NULL},
    {"encode", "quality", OPT_INT, F(encode.quality), "80", 1, 100, NULL},
    {"encode", "subsampling", OPT_ENUM, F(encode.subsampling), "422", 0, 0, "444|422|420|gray"},
    {"encode", "lossless_refresh_ms", OPT_INT, F(encode.lossless_refresh_ms), "500", 0, 60000, NULL},
    {"encode", "tile_size", OPT_INT, F(encode.tile_size), "64", 16, 256, NULL},
    {"vnc", "enabled", OPT_BOOL, F(vnc.enabled), "yes", 0, 0, NULL},
    {"vnc", "listen", OPT_STR, F(vnc.listen), "::", 0, 0, NULL},
    {"vnc", "port", OPT_INT, F(vnc.port), "5900", 1, 65535, NULL},
    {"vnc", "auth", OPT_ENUM, F(vnc.auth), "vnc", 0, 0, "vnc|none"},
    {"vnc", "max_clients", OPT_INT, F(vnc.max_clients), "16", 1, 256, NULL},
    {"vnc", "auth_fail_limit", OPT_INT, F(vnc.auth_fail_limit), "3", 1, 100, NULL},
    {"vnc", "auth_throttle_s", OPT_INT, F(vnc.auth_throttle_s), "5", 1, 3600, NULL},
    {"vnc", "name", OPT_STR, F(vnc.name), "piglix", 0, 0, NULL},
    {"state", "dir", OPT_STR, F(state.dir), "/var/lib/piglix", 0, 0, NULL},
    {"log", "level", OPT_ENUM, F(log.level), "info", 0, 0, "error|warn|info|debug"},
};
#define N_OPTIONS (sizeof(options) / sizeof(options[0]))

static bool enum_has(const char *choices, const char *value)
{
    size_t vlen = strlen(value);
    for (const char *p = choices; *p;) {
        const char *bar = strchr(p, '|');
        size_t len = bar ? (size_t)(bar - p) : strlen(p);
        if (len == vlen && strncmp(p, value, len) == 0)
            return true;
        p += len + (bar ? 1 : 0);
    }
    return false;
}

static int parse_bool(const char *v, bool *out)
{
    if (!strcasecmp(v, "yes") || !strcasecmp(v, "true") || !strcasecmp(v, "on") || !strcmp(v, "1"))
        *out = true;
    else if (!strcasecmp(v, "no") || !strcasecmp(v, "false") || !strcasecmp(v, "off") || !strcmp(v, "0"))
        *out = false;
    else
        return -1;
    return 0;
}

static int apply(struct piglix_config *cfg, const struct option_def *o, const char *value,
                 const char *origin, FILE *err)
{
    char *field = (char *)cfg + o->offset;
    switch (o->type) {
    case OPT_STR:
        if (strlen(value) >= o->size) {
            fprintf(err, "%s: [%s] %s: value too long (max %zu characters)\n", origin,
                    o->section, o->key, o->size - 1);
            return -1;
        }
        strcpy(field, value);
        return 0;
    case OPT_ENUM:
        if (!enum_has(o->choices, value)) {
            fprintf(err, "%s: [%s] %s: '%s' is not one of %s\n", origin, o->section, o->key,
                    value, o->choices);
            return -1;
        }
        strcpy(field, value);
        return 0;
    case OPT_BOOL:
        if (parse_bool(value, (bool *)field) < 0) {
            fprintf(err, "%s: [%s] %s: '%s' is not yes or no\n", origin, o->section, o->key, value);
            return -1;
        }
        return 0;
    case OPT_INT: {
        char *end;
        errno = 0;
        long v = strtol(value, &end, 10);
        if (errno || end == value || *end || v < o->min || v > o->max) {
            fprintf(err, "%s: [%s] %s: '%s' is not an integer in %ld..%ld\n", origin, o->section,
                    o->key, value, o->min, o->max);
            return -1;
        }
        *(int *)field = (int)v;
        return 0;
    }
    }
    return -1;
}

int config_set(struct piglix_config *cfg, const char *section, const char *key, const char *value,
               const char *origin, FILE *err)
{
    bool section_known = false;
    for (size_t i = 0; i < N_OPTIONS; i++) {
        if (strcmp(options[i].section, section) != 0)
            continue;
        section_known = true;
        if (strcmp(options[i].key, key) == 0)
            return apply(cfg, &options[i], value, origin, err);
    }
    if (!section_known)
        fprintf(err, "%s: unknown section [%s] (key %s)\n", origin, section, key);
    else
        fprintf(err, "%s: unknown key '%s' in [%s]\n", origin, key, section);
    return -1;
}

void config_defaults(struct piglix_config *cfg)
{
    memset(cfg, 0, sizeof(*cfg));
    for (size_t i = 0; i < N_OPTIONS; i++)
        if (apply(cfg, &options[i], options[i].def, "default", stderr) != 0)
            abort(); /* a bad default is a programming error */
}

/* Debian builds inih without line numbers in the handler, so a reader that
 * counts lines gives errors their file:line. */
struct load_ctx {
    struct piglix_config *cfg;
    const char *path;
    FILE *file, *err;
    int line, errors;
};

static char *counting_reader(char *buf, int size, void *stream)
{
    struct load_ctx *ctx = stream;
    char *r = fgets(buf, size, ctx->file);
    if (r)
        ctx->line++;
    return r;
}

static int load_handler(void *user, const char *section, const char *name, const char *value)
{
    struct load_ctx *ctx = user;
    char origin[CONFIG_STR_MAX + 32];
    snprintf(origin, sizeof(origin), "%s:%d", ctx->path, ctx->line);
    if (!name) { /* a section header alone (inih calls with NULL name when asked) */
        return 1;
    }
    if (config_set(ctx->cfg, section, name, value, origin, ctx->err) != 0)
        ctx->errors++;
    return 1; /* keep going so every error is reported at once */
}

int config_load_stream(struct piglix_config *cfg, FILE *file, const char *name, FILE *err)
{
    struct load_ctx ctx = {.cfg = cfg, .path = name, .file = file, .err = err};
    int r = ini_parse_stream(counting_reader, &ctx, load_handler, &ctx);
    if (r > 0) {
        fprintf(err, "%s:%d: syntax error (expected [section] or key = value)\n", name, r);
        return -1;
    }
    if (r < 0) {
        fprintf(err, "%s: cannot parse\n", name);
        return -1;
    }
    return ctx.errors ? -1 : 0;
}

int config_load_file(struct piglix_config *cfg, const char *path, FILE *err)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        fprintf(err, "%s: cannot open: %s\n", path, strerror(errno));
        return -1;
    }
    int r = config_load_stream(cfg, f, path, err);
    fclose(f);
    return r;
}

int config_set_override(struct piglix_config *cfg, const char *assignment, FILE *err)
{
    char buf[CONFIG_STR_MAX * 2];
    if (strlen(assignment) >= sizeof(buf)) {
        fprintf(err, "command line: override too long\n");
        return -1;
    }
    strcpy(buf, assignment);
    char *eq = strchr(buf, '=');
    char *dot = strchr(buf, '.');
    if (!eq || !dot || dot > eq) {
        fprintf(err, "command line: '%s' is not section.key=value\n", assignment);
        return -1;
    }
    *eq = '\0';
    *dot = '\0';
    return config_set(cfg, buf, dot + 1, eq + 1, "command line", err);
}

bool config_is_loopback(const char *listen)
{
    return strcmp(listen, "localhost") == 0 || strcmp(listen, "::1") == 0 ||
           strncmp(listen, "127.", 4) == 0;
}

int config_validate(const struct piglix_config *cfg, FILE *err)
{
    int bad = 0;
    if (strcmp(cfg->vnc.auth, "none") == 0 && !config_is_loopback(cfg->vnc.listen)) {
        fprintf(err, "config: [vnc] auth = none is only allowed with a loopback listen address "
                     "(127.0.0.1, ::1 or localhost), not '%s'\n", cfg->vnc.listen);
        bad = 1;
    }
    if (cfg->capture.width % 2) {
        fprintf(err, "config: [capture] width must be even (4:2:2 pixel formats)\n");
        bad = 1;
    }
    if (cfg->state.dir[0] == '\0') {
        fprintf(err, "config: [state] dir must not be empty\n");
        bad = 1;
    }
    return bad ? -1 : 0;
}

void config_print(const struct piglix_config *cfg, FILE *out)
{
    const char *section = "";
    for (size_t i = 0; i < N_OPTIONS; i++) {
        const struct option_def *o = &options[i];
        if (strcmp(section, o->section) != 0) {
            fprintf(out, "%s[%s]\n", i ? "\n" : "", o->section);
            section = o->section;
        }
        const char *field = (const char *)cfg + o->offset;
        switch (o->type) {
        case OPT_STR:
        case OPT_ENUM: fprintf(out, "%s = %s\n", o->key, field); break;
        case OPT_BOOL: fprintf(out, "%s = %s\n", o->key, *(const bool *)field ? "yes" : "no"); break;
        case OPT_INT: fprintf(out, "%s = %d\n", o->key, *(const int *)field); break;
        }
    }
}
