#include "common/log.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

static _Atomic int log_level = LOG_LEVEL_INFO;

void log_set_level(enum log_level level) { atomic_store(&log_level, (int)level); }
enum log_level log_get_level(void) { return (enum log_level)atomic_load(&log_level); }

int log_level_parse(const char *name)
{
    static const char *const names[] = {"error", "warn", "info", "debug"};
    for (int i = 0; i < 4; i++)
        if (strcmp(name, names[i]) == 0)
            return i;
    return -1;
}

void log_sanitize(char *s, size_t len)
{
    unsigned char *p = (unsigned char *)s;
    for (size_t i = 0; i < len; i++) {
        /* C1 controls in UTF-8 (U+0080-U+009F: C2 80-9F), e.g. U+009B, a CSI */
        if (p[i] == 0xc2 && i + 1 < len && p[i + 1] >= 0x80 && p[i + 1] <= 0x9f) {
            p[i] = p[i + 1] = '?';
            i++;
        } else if ((p[i] < 0x20 && p[i] != '\t') || p[i] == 0x7f) {
            p[i] = '?';
        }
    }
}

void log_msg(enum log_level level, const char *module, const char *fmt, ...)
{
    if ((int)level > atomic_load(&log_level))
        return;
    static const char *const tags[] = {"E", "W", "I", "D"};
    char line[1024];
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    int n = snprintf(line, sizeof(line), "[%5lld.%03ld] %s %s: ", (long long)ts.tv_sec,
                     ts.tv_nsec / 1000000, tags[level], module);
    va_list ap;
    va_start(ap, fmt);
    if (n > 0 && (size_t)n < sizeof(line))
        vsnprintf(line + n, sizeof(line) - (size_t)n, fmt, ap);
    va_end(ap);
    /* One write per line so lines from several threads never interleave. */
    size_t len = strnlen(line, sizeof(line) - 2);
    /* The message's arguments carry what clients sent (paths, names,
     * headers): a newline would forge a journal line, an escape sequence
     * would drive the terminal of whoever reads the log. */
    size_t head = n > 0 && (size_t)n < len ? (size_t)n : 0;
    log_sanitize(line + head, len - head);
    line[len++] = '\n';
    fwrite(line, 1, len, stderr);
}
