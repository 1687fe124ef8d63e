/* Internal to serial/: the ring of recent output (serial_ring.c), the
 * console log with per-line timestamps and rotation (serial_log.c) and the
 * tty's settings (serial_tty.c). serial.c wires them into the console
 * thread. None of these lock: serial.c holds its mutex around the ring;
 * the log and the tty belong to the console thread. */
#ifndef PIGLIX_SERIAL_INTERNAL_H
#define PIGLIX_SERIAL_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

/* Output numbered from 0; the last cap bytes are kept. */
struct serial_ring {
    uint8_t *buf;
    size_t cap;
    uint64_t head;      /* bytes ever appended = the next byte's offset */
};

int serial_ring_init(struct serial_ring *r, size_t cap);
void serial_ring_free(struct serial_ring *r);
void serial_ring_append(struct serial_ring *r, const uint8_t *data, size_t len);
/* The oldest offset still kept. */
uint64_t serial_ring_oldest(const struct serial_ring *r);
/* As serial_read (serial.h): a *pos before the oldest byte moves to it and
 * *lost says by how much; a *pos past the head moves back to the head. */
size_t serial_ring_read(const struct serial_ring *r, uint64_t *pos, uint8_t *out, size_t len,
                        uint64_t *lost);

/* The console log: dir/console.log, rotated to console.log.1 .. .N. Each
 * line starts with the UTC time its first byte arrived. */
struct serial_log {
    int fd;             /* -1: not open (the directory is missing: retried on the next write) */
    char dir[256];
    char path[300];
    uint64_t size;      /* bytes in the current file */
    uint64_t max_size;
    int keep;           /* rotated files kept */
    bool at_line_start;
    bool need_newline;  /* the file ends in the middle of a line (a crash): end it first */
    bool warned;
};

#define SERIAL_LOG_NAME "console.log"
/* A line longer than this past max_size is broken so the file stays bounded. */
#define SERIAL_LOG_SLACK 4096

int serial_log_open(struct serial_log *l, const char *dir, uint64_t max_size, int keep);
void serial_log_close(struct serial_log *l);
/* Appends data, prefixing each line with now's time; rotates at a line
 * start once the file reached max_size. 0, or -1 (errno) when the file
 * could not be written. */
int serial_log_write(struct serial_log *l, const uint8_t *data, size_t len,
                     const struct timespec *now);
/* "2026-12-06T18:30:00.123Z " into out (at least SERIAL_LOG_STAMP_LEN + 1). */
#define SERIAL_LOG_STAMP_LEN 25
void serial_log_stamp(const struct timespec *now, char *out);

/* termios for raw 8N1-style framing; 0 or -1 with errno (EINVAL: a baud
 * rate termios cannot set). */
struct config_serial;
int serial_tty_configure(int fd, const struct config_serial *cfg);
bool serial_tty_baud_ok(unsigned baud);

#endif
