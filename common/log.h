/* common/log: leveled logging to stderr (journald picks it up).
 * Owns the process-wide log level; only main() sets it. Never pass secrets. */
#ifndef PIGLIX_COMMON_LOG_H
#define PIGLIX_COMMON_LOG_H

#include <stddef.h>

enum log_level { LOG_LEVEL_ERROR, LOG_LEVEL_WARN, LOG_LEVEL_INFO, LOG_LEVEL_DEBUG };

void log_set_level(enum log_level level);
enum log_level log_get_level(void);
/* Parses "error|warn|info|debug"; returns -1 when unknown. */
int log_level_parse(const char *name);

/* Replaces control characters (C0 but tab, DEL, and UTF-8-encoded C1 such
 * as U+009B CSI) in s[0..len) with '?', in place: what log_msg does to every
 * message, so no argument can start a line of its own or drive a terminal. */
void log_sanitize(char *s, size_t len);

void log_msg(enum log_level level, const char *module, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#define LOG_ERROR(mod, ...) log_msg(LOG_LEVEL_ERROR, mod, __VA_ARGS__)
#define LOG_WARN(mod, ...)  log_msg(LOG_LEVEL_WARN, mod, __VA_ARGS__)
#define LOG_INFO(mod, ...)  log_msg(LOG_LEVEL_INFO, mod, __VA_ARGS__)
#define LOG_DEBUG(mod, ...) \
    do { if (log_get_level() >= LOG_LEVEL_DEBUG) log_msg(LOG_LEVEL_DEBUG, mod, __VA_ARGS__); } while (0)

#endif
