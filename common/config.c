#include "common/config.h"

#include <arpa/inet.h>
#include <ctype.h>
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
    {"capture", "scenario", OPT_ENUM, F(capture.scenario), "bios", 0, 0, "bios|desktop|motion|pan"},
    {"capture", "format", OPT_ENUM, F(capture.format), "yuyv", 0, 0, "yuyv|uyvy|rgb24"},
    {"capture", "edid", OPT_STR, F(capture.edid), "/usr/share/piglix/edid/tc358743-1080p30.hex", 0, 0, NULL},
    {"capture", "frame_timeout_ms", OPT_INT, F(capture.frame_timeout_ms), "3000", 500, 60000, NULL},
    {"capture", "type_echo", OPT_BOOL, F(capture.type_echo), "no", 0, 0, NULL},
    {"encode", "quality", OPT_INT, F(encode.quality), "80", 1, 100, NULL},
    {"encode", "subsampling", OPT_ENUM, F(encode.subsampling), "422", 0, 0, "444|422|420|gray"},
    {"encode", "lossless_refresh_ms", OPT_INT, F(encode.lossless_refresh_ms), "500", 0, 60000, NULL},
    {"encode", "tile_size", OPT_INT, F(encode.tile_size), "64", 16, 256, NULL},
    {"encode", "workers", OPT_ENUM, F(encode.workers), "auto", 0, 0, "auto|1|2|3|4|5|6|7|8"},
    {"vnc", "enabled", OPT_BOOL, F(vnc.enabled), "yes", 0, 0, NULL},
    {"vnc", "listen", OPT_STR, F(vnc.listen), "::", 0, 0, NULL},
    {"vnc", "port", OPT_INT, F(vnc.port), "5900", 1, 65535, NULL},
    {"vnc", "auth", OPT_ENUM, F(vnc.auth), "vnc", 0, 0, "vnc|none"},
    {"vnc", "max_clients", OPT_INT, F(vnc.max_clients), "16", 1, 256, NULL},
    {"vnc", "max_pending", OPT_INT, F(vnc.max_pending), "32", 1, 256, NULL},
    {"vnc", "max_pending_per_addr", OPT_INT, F(vnc.max_pending_per_addr), "4", 1, 256, NULL},
    {"vnc", "handshake_timeout_s", OPT_INT, F(vnc.handshake_timeout_s), "10", 2, 120, NULL},
    {"vnc", "auth_fail_limit", OPT_INT, F(vnc.auth_fail_limit), "3", 1, 100, NULL},
    {"vnc", "auth_throttle_s", OPT_INT, F(vnc.auth_throttle_s), "5", 1, 3600, NULL},
    {"vnc", "name", OPT_STR, F(vnc.name), "piglix", 0, 0, NULL},
    {"hid", "enabled", OPT_BOOL, F(hid.enabled), "no", 0, 0, NULL},
    {"hid", "udc", OPT_STR, F(hid.udc), "", 0, 0, NULL},
    {"hid", "vendor_id", OPT_STR, F(hid.vendor_id), "0x1d6b", 0, 0, NULL},
    {"hid", "product_id", OPT_STR, F(hid.product_id), "0x0104", 0, 0, NULL},
    {"hid", "manufacturer", OPT_STR, F(hid.manufacturer), "piglix", 0, 0, NULL},
    {"hid", "product", OPT_STR, F(hid.product), "piglix keyboard and mouse", 0, 0, NULL},
    {"hid", "serial", OPT_STR, F(hid.serial), "", 0, 0, NULL},
    {"hid", "max_power", OPT_INT, F(hid.max_power), "100", 0, 500, NULL},
    {"hid", "mouse", OPT_ENUM, F(hid.mouse), "both", 0, 0, "absolute|relative|both"},
    {"hid", "mouse_mode", OPT_ENUM, F(hid.mouse_mode), "absolute", 0, 0, "absolute|relative"},
    {"hid", "layout", OPT_ENUM, F(hid.layout), "us", 0, 0, "us|uk|de|fr|es|it|ru"},
    {"hid", "paste_rate", OPT_INT, F(hid.paste_rate), "30", 1, 500, NULL},
    {"hid", "key_hold_max_ms", OPT_INT, F(hid.key_hold_max_ms), "15000", 0, 600000, NULL},
    {"web", "enabled", OPT_BOOL, F(web.enabled), "no", 0, 0, NULL},
    {"web", "listen", OPT_STR, F(web.listen), "::", 0, 0, NULL},
    {"web", "port", OPT_INT, F(web.port), "443", 1, 65535, NULL},
    {"web", "http_port", OPT_INT, F(web.http_port), "0", 0, 65535, NULL},
    {"web", "cert", OPT_STR, F(web.cert), "", 0, 0, NULL},
    {"web", "key", OPT_STR, F(web.key), "", 0, 0, NULL},
    {"web", "hostname", OPT_STR, F(web.hostname), "", 0, 0, NULL},
    {"web", "root", OPT_STR, F(web.root), "", 0, 0, NULL},
    {"web", "novnc", OPT_STR, F(web.novnc), "", 0, 0, NULL},
    {"web", "xterm", OPT_STR, F(web.xterm), "", 0, 0, NULL},
    {"web", "session_idle_s", OPT_INT, F(web.session_idle_s), "1800", 60, 86400 * 7, NULL},
    {"web", "session_max_s", OPT_INT, F(web.session_max_s), "43200", 60, 86400 * 30, NULL},
    {"web", "login_fail_limit", OPT_INT, F(web.login_fail_limit), "3", 1, 100, NULL},
    {"web", "login_throttle_s", OPT_INT, F(web.login_throttle_s), "2", 1, 3600, NULL},
    {"web", "max_viewers", OPT_INT, F(web.max_viewers), "8", 1, 64, NULL},
    {"atx", "enabled", OPT_BOOL, F(atx.enabled), "no", 0, 0, NULL},
    {"atx", "chip", OPT_STR, F(atx.chip), "gpiochip0", 0, 0, NULL},
    {"atx", "power_led_line", OPT_INT, F(atx.power_led_line), "24", -1, 1023, NULL},
    {"atx", "power_led_active_low", OPT_BOOL, F(atx.power_led_active_low), "no", 0, 0, NULL},
    {"atx", "hdd_led_line", OPT_INT, F(atx.hdd_led_line), "22", -1, 1023, NULL},
    {"atx", "hdd_led_active_low", OPT_BOOL, F(atx.hdd_led_active_low), "no", 0, 0, NULL},
    {"atx", "power_button_line", OPT_INT, F(atx.power_button_line), "23", -1, 1023, NULL},
    {"atx", "power_button_active_low", OPT_BOOL, F(atx.power_button_active_low), "no", 0, 0, NULL},
    {"atx", "reset_button_line", OPT_INT, F(atx.reset_button_line), "27", -1, 1023, NULL},
    {"atx", "reset_button_active_low", OPT_BOOL, F(atx.reset_button_active_low), "no", 0, 0, NULL},
    {"atx", "intrusion_line", OPT_INT, F(atx.intrusion_line), "-1", -1, 1023, NULL},
    {"atx", "intrusion_active_low", OPT_BOOL, F(atx.intrusion_active_low), "no", 0, 0, NULL},
    {"atx", "press_ms", OPT_INT, F(atx.press_ms), "100", 20, 2000, NULL},
    {"atx", "long_press_ms", OPT_INT, F(atx.long_press_ms), "5500", 1000, 30000, NULL},
    {"atx", "power_led_debounce_ms", OPT_INT, F(atx.power_led_debounce_ms), "50", 0, 1000, NULL},
    {"atx", "hdd_led_debounce_ms", OPT_INT, F(atx.hdd_led_debounce_ms), "20", 0, 1000, NULL},
    {"atx", "standby_blink_ms", OPT_INT, F(atx.standby_blink_ms), "1500", 100, 10000, NULL},
    {"atx", "on_timeout_s", OPT_INT, F(atx.on_timeout_s), "30", 1, 3600, NULL},
    {"atx", "off_timeout_s", OPT_INT, F(atx.off_timeout_s), "120", 1, 3600, NULL},
    {"atx", "force_off_timeout_s", OPT_INT, F(atx.force_off_timeout_s), "10", 1, 600, NULL},
    {"atx", "cycle_off_s", OPT_INT, F(atx.cycle_off_s), "5", 1, 600, NULL},
    {"atx", "wol_mac", OPT_STR, F(atx.wol_mac), "", 0, 0, NULL},
    {"atx", "wol_interface", OPT_STR, F(atx.wol_interface), "", 0, 0, NULL},
    {"atx", "wol_address", OPT_STR, F(atx.wol_address), "255.255.255.255", 0, 0, NULL},
    {"atx", "wol_port", OPT_INT, F(atx.wol_port), "9", 1, 65535, NULL},
    {"vmedia", "enabled", OPT_BOOL, F(vmedia.enabled), "no", 0, 0, NULL},
    {"vmedia", "dir", OPT_STR, F(vmedia.dir), "/var/lib/piglix/images", 0, 0, NULL},
    {"vmedia", "max_size_mb", OPT_INT, F(vmedia.max_size_mb), "0", 0, 16 * 1024 * 1024, NULL},
    {"vmedia", "usb", OPT_ENUM, F(vmedia.usb), "always", 0, 0, "always|mounted"},
    {"vmedia", "upload_idle_s", OPT_INT, F(vmedia.upload_idle_s), "60", 5, 3600, NULL},
    {"vmedia", "url_private", OPT_BOOL, F(vmedia.url_private), "yes", 0, 0, NULL},
    {"vmedia", "url_allow", OPT_STR, F(vmedia.url_allow), "", 0, 0, NULL},
    {"sensors", "enabled", OPT_BOOL, F(sensors.enabled), "yes", 0, 0, NULL},
    {"sensors", "root", OPT_STR, F(sensors.root), "/sys", 0, 0, NULL},
    {"sensors", "poll_ms", OPT_INT, F(sensors.poll_ms), "2000", 100, 600000, NULL},
    {"sensors", "names", OPT_STR, F(sensors.names), "", 0, 0, NULL},
    {"sensors", "thresholds", OPT_STR, F(sensors.thresholds), "", 0, 0, NULL},
    {"redfish", "enabled", OPT_BOOL, F(redfish.enabled), "yes", 0, 0, NULL},
    {"ipmi", "enabled", OPT_BOOL, F(ipmi.enabled), "no", 0, 0, NULL},
    {"ipmi", "listen", OPT_STR, F(ipmi.listen), "0.0.0.0", 0, 0, NULL},
    {"ipmi", "port", OPT_INT, F(ipmi.port), "623", 1, 65535, NULL},
    {"ipmi", "session_timeout_s", OPT_INT, F(ipmi.session_timeout_s), "60", 5, 3600, NULL},
    {"ipmi", "max_sessions", OPT_INT, F(ipmi.max_sessions), "8", 1, 64, NULL},
    {"serial", "enabled", OPT_BOOL, F(serial.enabled), "no", 0, 0, NULL},
    {"serial", "device", OPT_STR, F(serial.device), "/dev/ttyUSB0", 0, 0, NULL},
    {"serial", "baud", OPT_INT, F(serial.baud), "115200", 50, 4000000, NULL},
    {"serial", "data_bits", OPT_INT, F(serial.data_bits), "8", 5, 8, NULL},
    {"serial", "parity", OPT_ENUM, F(serial.parity), "none", 0, 0, "none|even|odd"},
    {"serial", "stop_bits", OPT_INT, F(serial.stop_bits), "1", 1, 2, NULL},
    {"serial", "flow", OPT_ENUM, F(serial.flow), "none", 0, 0, "none|rtscts|xonxoff"},
    {"serial", "log_dir", OPT_STR, F(serial.log_dir), "", 0, 0, NULL},
    {"serial", "log_kb", OPT_INT, F(serial.log_kb), "1024", 4, 1024 * 1024, NULL},
    {"serial", "log_files", OPT_INT, F(serial.log_files), "4", 0, 100, NULL},
    {"serial", "backlog_kb", OPT_INT, F(serial.backlog_kb), "64", 4, 16 * 1024, NULL},
    {"state", "dir", OPT_STR, F(state.dir), "/var/lib/piglix", 0, 0, NULL},
    {"log", "level", OPT_ENUM, F(log.level), "info", 0, 0, "error|warn|info|debug"},
    {"control", "mode", OPT_ENUM, F(control.mode), "shared", 0, 0, "shared|exclusive"},
    {"control", "idle_release_s", OPT_INT, F(control.idle_release_s), "60", 1, 86400, NULL},
    {"video", "h264", OPT_ENUM, F(video.h264), "auto", 0, 0, "auto|always|never"},
    {"video", "backend", OPT_ENUM, F(video.backend), "auto", 0, 0, "auto|m2m|x264|openh264"},
    {"video", "bitrate_kbps", OPT_INT, F(video.bitrate_kbps), "4000", 0, 25000, NULL},
    {"video", "quality_qp", OPT_INT, F(video.quality_qp), "23", 10, 40, NULL},
    {"video", "keyframe_interval", OPT_INT, F(video.keyframe_interval), "0", 0, 3600, NULL},
    {"video", "m2m_device", OPT_STR, F(video.m2m_device), "", 0, 0, NULL},
    {"video", "previews", OPT_BOOL, F(video.previews), "yes", 0, 0, NULL},
    {"audit", "max_kb", OPT_INT, F(audit.max_kb), "512", 16, 65536, NULL},
    {"audit", "files", OPT_INT, F(audit.files), "4", 2, 16, NULL},
    {"audit", "syslog", OPT_STR, F(audit.syslog), "", 0, 0, NULL},
    {"watchdog", "deadline_ms", OPT_INT, F(watchdog.deadline_ms), "10000", 100, 600000, NULL},
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

/* Six pairs of hex digits with one kind of separator, ':' or '-'. */
static bool mac_valid(const char *mac)
{
    if (strlen(mac) != 17 || (mac[2] != ':' && mac[2] != '-'))
        return false;
    for (int i = 0; i < 17; i++)
        if (i % 3 == 2 ? mac[i] != mac[2] : !isxdigit((unsigned char)mac[i]))
            return false;
    return true;
}

/* [atx]: distinct lines, a long press longer than a short one, a MAC and an
 * IPv4 address that parse (checked here so --check-config catches them). */
static int validate_atx(const struct piglix_config *cfg, FILE *err)
{
    const struct { const char *key; int line; } lines[] = {
        {"power_led_line", cfg->atx.power_led_line}, {"hdd_led_line", cfg->atx.hdd_led_line},
        {"power_button_line", cfg->atx.power_button_line},
        {"reset_button_line", cfg->atx.reset_button_line}, {"intrusion_line", cfg->atx.intrusion_line},
    };
    int bad = 0;
    for (size_t i = 0; i < sizeof(lines) / sizeof(lines[0]); i++)
        for (size_t j = i + 1; j < sizeof(lines) / sizeof(lines[0]); j++)
            if (lines[i].line >= 0 && lines[i].line == lines[j].line) {
                fprintf(err, "config: [atx] %s and %s are both line %d\n", lines[i].key, lines[j].key,
                        lines[i].line);
                bad = 1;
            }
    if (cfg->atx.long_press_ms <= cfg->atx.press_ms) {
        fprintf(err, "config: [atx] long_press_ms must be longer than press_ms\n");
        bad = 1;
    }
    if (cfg->atx.power_led_debounce_ms >= cfg->atx.standby_blink_ms) {
        fprintf(err, "config: [atx] power_led_debounce_ms must be shorter than standby_blink_ms\n");
        bad = 1;
    }
    if (cfg->atx.wol_mac[0] && !mac_valid(cfg->atx.wol_mac)) {
        fprintf(err, "config: [atx] wol_mac '%s' is not a MAC address like 00:11:22:33:44:55\n",
                cfg->atx.wol_mac);
        bad = 1;
    }
    struct in_addr addr;
    if (inet_pton(AF_INET, cfg->atx.wol_address, &addr) != 1) {
        fprintf(err, "config: [atx] wol_address '%s' is not an IPv4 address\n", cfg->atx.wol_address);
        bad = 1;
    }
    return bad;
}

/* [vmedia] url_allow: IP addresses separated by commas or spaces, at most 8
 * (vmedia/url_policy.c parses the same list). */
static int validate_url_allow(const char *list, FILE *err)
{
    int n = 0;
    for (const char *s = list; *s;) {
        size_t len = strcspn(s, ", ");
        if (len) {
            char one[INET6_ADDRSTRLEN];
            unsigned char buf[16];
            bool ok = len < sizeof(one) && ++n <= 8;
            if (ok) {
                memcpy(one, s, len);
                one[len] = '\0';
                ok = inet_pton(AF_INET, one, buf) == 1 || inet_pton(AF_INET6, one, buf) == 1;
            }
            if (!ok) {
                fprintf(err, "config: [vmedia] url_allow must list at most 8 IP addresses, not '%.*s'\n",
                        (int)(len > 64 ? 64 : len), s);
                return -1;
            }
        }
        s += len;
        s += *s != '\0';
    }
    return 0;
}

/* A USB vendor or product ID: hex, 0x optional, 16 bits. */
static bool usb_id_valid(const char *s)
{
    char *end;
    errno = 0;
    unsigned long v = strtoul(s, &end, 16);
    return *s && *s != '-' && *s != '+' && !errno && !*end && v <= 0xffff;
}

static int validate_hid(const struct piglix_config *cfg, FILE *err)
{
    int bad = 0;
    if (!usb_id_valid(cfg->hid.vendor_id) || !usb_id_valid(cfg->hid.product_id)) {
        fprintf(err, "config: [hid] vendor_id and product_id are 16-bit hex numbers, e.g. 0x1d6b\n");
        bad = 1;
    }
    if (strcmp(cfg->hid.mouse, "both") != 0 && strcmp(cfg->hid.mouse, cfg->hid.mouse_mode) != 0) {
        fprintf(err, "config: [hid] mouse_mode = %s needs that mouse presented (mouse = %s or both)\n",
                cfg->hid.mouse_mode, cfg->hid.mouse_mode);
        bad = 1;
    }
    return bad ? -1 : 0;
}

int config_validate(const struct piglix_config *cfg, FILE *err)
{
    int bad = 0;
    if (cfg->vnc.enabled && strcmp(cfg->vnc.auth, "none") == 0 && !config_is_loopback(cfg->vnc.listen)) {
        fprintf(err, "config: [vnc] auth = none is only allowed with a loopback listen address "
                     "(127.0.0.1, ::1 or localhost), not '%s'\n", cfg->vnc.listen);
        bad = 1;
    }
    if (cfg->vnc.max_pending_per_addr > cfg->vnc.max_pending) {
        fprintf(err, "config: [vnc] max_pending_per_addr (%d) must not exceed max_pending (%d)\n",
                cfg->vnc.max_pending_per_addr, cfg->vnc.max_pending);
        bad = 1;
    }
    if (cfg->capture.width % 2) {
        fprintf(err, "config: [capture] width must be even (4:2:2 pixel formats)\n");
        bad = 1;
    }
    if (cfg->web.enabled && (cfg->web.cert[0] == '\0') != (cfg->web.key[0] == '\0')) {
        fprintf(err, "config: [web] cert and key must be given together (or neither: self-signed)\n");
        bad = 1;
    }
    if (cfg->web.enabled && cfg->web.http_port == cfg->web.port) {
        fprintf(err, "config: [web] http_port must differ from port\n");
        bad = 1;
    }
    bad |= validate_atx(cfg, err);
    if (validate_url_allow(cfg->vmedia.url_allow, err) < 0)
        bad = 1;
    if (validate_hid(cfg, err) < 0)
        bad = 1;
    /* the ACM function joins [hid]'s USB gadget: without it the console
     * would wait for a gadget that is never made, saying nothing */
    if (cfg->serial.enabled && strcmp(cfg->serial.device, "gadget") == 0 && !cfg->hid.enabled) {
        fprintf(err, "config: [serial] device = gadget needs [hid] enabled = yes (the console is a function "
                     "of piglix's USB gadget)\n");
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
