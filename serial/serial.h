/* serial/serial.h — the managed server's serial console.
 *
 * Owns: the console's device (a tty: USB-serial adapter, the Pi's UART, or
 * the gadget's CDC ACM function /dev/ttyGS0), opened and configured from
 * [serial]; reopening it when it comes back; a ring buffer of recent output
 * that every reader pulls from at its own pace; the console log under
 * [state] dir (timestamped per line, size-bounded, rotated).
 *
 * Threads: the console runs its own thread. serial_read, serial_write,
 * serial_send_break, serial_get_status and serial_watch may be called from
 * any thread. A watch callback runs on the console's thread: it must not
 * block or call back into serial_* (it only wakes its owner's loop).
 *
 * Errors: serial_start returns NULL only on bad settings or no memory (a
 * missing device is retried and reported in the status, never fatal).
 * serial_write returns the bytes accepted (fewer when the transmit queue is
 * full: the caller keeps the rest), or -1 when no device is open. */
#ifndef PIGLIX_SERIAL_H
#define PIGLIX_SERIAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct config_serial;
struct serial_console;

struct serial_console *serial_start(const struct config_serial *cfg, const char *state_dir,
                                    char *err, size_t errlen);
void serial_stop(struct serial_console *c);

/* Output so far is numbered from 0 (bytes since start). Copies up to len
 * bytes from offset *pos and advances it. A reader that fell behind the
 * ring (or starts with *pos = SERIAL_FROM_BACKLOG(n)) continues at the
 * oldest byte kept; *lost (may be NULL) gets the bytes it missed. */
size_t serial_read(struct serial_console *c, uint64_t *pos, uint8_t *buf, size_t len,
                   uint64_t *lost);
/* The offset a new reader starts at to see the last n bytes of output. */
uint64_t serial_backlog_pos(struct serial_console *c, size_t n);

/* Called (on the console thread) after new output or a connect/disconnect.
 * Returns a handle for serial_unwatch; after unwatch returns, fn is never
 * called again. */
struct serial_watch;
struct serial_watch *serial_watch(struct serial_console *c, void (*fn)(void *ctx), void *ctx);
void serial_unwatch(struct serial_console *c, struct serial_watch *w);

ssize_t serial_write(struct serial_console *c, const uint8_t *data, size_t len);
int serial_send_break(struct serial_console *c);

struct serial_status {
    bool connected;             /* the device is open */
    char device[128];
    unsigned baud;
    char framing[8];            /* "8N1" */
    char flow[8];               /* "none", "rtscts", "xonxoff" */
    uint64_t rx_bytes, tx_bytes, reconnects, breaks;
    char why[128];              /* when not connected: what is wrong, in words */
};
void serial_get_status(struct serial_console *c, struct serial_status *out);

/* [serial] device = gadget: the CDC ACM function ("acm.usb0") joins
 * piglix's USB gadget before it is bound (main's thread, with the other
 * functions); serial_start then opens /dev/ttyGS0. 0 (also when [serial]
 * does not ask for it) or a negative errno (logged). */
struct gadget;
bool serial_wants_gadget(const struct config_serial *cfg);
int serial_gadget_add(const struct config_serial *cfg, struct gadget *g);

/* The gadget's tty must be closed while its ACM function is removed: the
 * kernel's u_serial waits, without a timeout and unkillably, for the last
 * close of /dev/ttyGS0 before it frees the port, so a console that holds
 * it open (or reopens it after the unbind's hangup) would hang whoever
 * tears the gadget down. serial_hold closes the tty (unsent output is
 * discarded) and keeps it closed until serial_release; it returns once the
 * tty is closed (or after 5 s, logged). With device = gadget the console
 * starts held: whoever makes the gadget releases it once the function is
 * there. Any thread but the console's; NULL is a no-op. */
void serial_hold(struct serial_console *c);
void serial_release(struct serial_console *c);

#endif
