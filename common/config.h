/* common/config: piglix's configuration, one INI file plus command-line overrides.
 * Owns struct piglix_config and the table of every option (name, type, range,
 * default, help). Modules read it; only main() writes it. */
#ifndef PIGLIX_COMMON_CONFIG_H
#define PIGLIX_COMMON_CONFIG_H

#include <stdbool.h>
#include <stdio.h>

#define CONFIG_STR_MAX 256

struct piglix_config {
    struct {
        char source[16];   /* test | v4l2 */
        char device[CONFIG_STR_MAX];
        int width, height, fps;
        char scenario[16]; /* bios | desktop | motion */
        char format[16];   /* yuyv | uyvy | rgb24 (test source; v4l2: preferred) */
        char edid[CONFIG_STR_MAX]; /* EDID hex file loaded into the device; "" = leave alone */
    } capture;
    struct {
        int quality;            /* JPEG quality 1..100 */
        char subsampling[8];    /* 444 | 422 | 420 | gray */
        int lossless_refresh_ms;/* 0 disables the automatic lossless refresh */
        int tile_size;          /* damage tile edge in pixels */
    } encode;
    struct {
        bool enabled;
        char listen[CONFIG_STR_MAX];
        int port;
        char auth[8];           /* vnc | none (none only on loopback) */
        int max_clients;
        int auth_fail_limit;    /* failures per address before throttling */
        int auth_throttle_s;    /* first throttle period, doubles each time */
        char name[64];
    } vnc;
    struct {
        char dir[CONFIG_STR_MAX];
    } state;
    struct {
        char level[8];
    } log;
};

/* Fills every option with its default. */
void config_defaults(struct piglix_config *cfg);

/* Loads an INI file over the current values. Unknown sections/keys and bad
 * values are errors: a message naming file:line and the key goes to err.
 * Returns 0 or -1. */
int config_load_file(struct piglix_config *cfg, const char *path, FILE *err);

/* The same from an open stream; name labels errors. */
int config_load_stream(struct piglix_config *cfg, FILE *file, const char *name, FILE *err);

/* Applies "section.key=value" (a command-line override). Returns 0 or -1. */
int config_set_override(struct piglix_config *cfg, const char *assignment, FILE *err);

/* Sets one option by section and key; origin names the source for errors. */
int config_set(struct piglix_config *cfg, const char *section, const char *key,
               const char *value, const char *origin, FILE *err);

/* Checks relations between options (e.g. auth=none needs a loopback listen). */
int config_validate(const struct piglix_config *cfg, FILE *err);

/* Prints the effective configuration as a loadable INI file. */
void config_print(const struct piglix_config *cfg, FILE *out);

/* True when the address only accepts local connections. */
bool config_is_loopback(const char *listen);

#endif
