/* SOL's console: struct ipmi_sol_port over serial/serial.h. The console
 * thread only wakes the IPMI thread (an eventfd); reading and writing
 * happen on the IPMI thread, and never block (serial_read copies from the
 * ring buffer, serial_write takes what fits). */
#include "ipmi/ipmi_sol_port.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "common/log.h"
#include "serial/serial.h"

#define SOL_BACKLOG 2048           /* about a screenful shown on activation */

struct ipmi_sol_serial {
    struct ipmi_sol_port port;
    struct serial_console *con;
    struct serial_watch *watch;
    uint64_t pos;                  /* the next output byte SOL reads */
    int wake_fd;
    atomic_bool want;              /* SOL is active: output wakes the IPMI thread */
};

static size_t p_read(void *ctx, uint8_t *buf, size_t len, uint64_t *lost)
{
    struct ipmi_sol_serial *ps = ctx;
    return serial_read(ps->con, &ps->pos, buf, len, lost);
}

static ssize_t p_write(void *ctx, const uint8_t *buf, size_t len)
{
    return serial_write(((struct ipmi_sol_serial *)ctx)->con, buf, len);
}

static int p_break(void *ctx)
{
    return serial_send_break(((struct ipmi_sol_serial *)ctx)->con);
}

static bool p_connected(void *ctx)
{
    struct serial_status st;
    serial_get_status(((struct ipmi_sol_serial *)ctx)->con, &st);
    return st.connected;
}

static void p_seek(void *ctx, bool backlog)
{
    struct ipmi_sol_serial *ps = ctx;
    ps->pos = serial_backlog_pos(ps->con, backlog ? SOL_BACKLOG : 0);
}

/* On the console's thread: only a wake-up. */
static void on_output(void *ctx)
{
    struct ipmi_sol_serial *ps = ctx;
    uint64_t one = 1;
    if (!atomic_load(&ps->want))
        return;                    /* nobody reads: the IPMI thread sleeps on */
    if (write(ps->wake_fd, &one, sizeof(one)) < 0 && errno != EAGAIN)
        LOG_DEBUG("ipmi", "SOL wake: %s", strerror(errno));
}

struct ipmi_sol_serial *ipmi_sol_serial_open(struct serial_console *con)
{
    struct ipmi_sol_serial *ps = calloc(1, sizeof(*ps));
    if (!ps)
        return NULL;
    ps->con = con;
    ps->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    atomic_init(&ps->want, false);
    if (ps->wake_fd < 0) {
        free(ps);
        return NULL;
    }
    struct serial_status st;
    serial_get_status(con, &st);
    ps->port = (struct ipmi_sol_port){ps, p_read, p_write, p_break, p_connected, p_seek, st.baud};
    ps->pos = serial_backlog_pos(con, 0);
    ps->watch = serial_watch(con, on_output, ps);
    if (!ps->watch) {
        close(ps->wake_fd);
        free(ps);
        return NULL;
    }
    return ps;
}

const struct ipmi_sol_port *ipmi_sol_serial_port(struct ipmi_sol_serial *ps)
{
    return &ps->port;
}

void ipmi_sol_serial_want(struct ipmi_sol_serial *ps, bool want)
{
    atomic_store(&ps->want, want);
}

int ipmi_sol_serial_wake_fd(const struct ipmi_sol_serial *ps)
{
    return ps->wake_fd;
}

void ipmi_sol_serial_close(struct ipmi_sol_serial *ps)
{
    if (!ps)
        return;
    serial_unwatch(ps->con, ps->watch);
    close(ps->wake_fd);
    free(ps);
}
