/* serial/serial: the console thread. It owns the tty and the log; readers
 * and writers on other threads meet it under one mutex (the ring, the
 * transmit queue, the status) and wake it through an eventfd. Nothing here
 * blocks on the tty: it is non-blocking and the transmit queue is bounded,
 * so a server that stopped reading (or flow control held) only makes
 * serial_write accept less. */
#include "serial/serial.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "common/liveness.h"
#include "common/config.h"
#include "common/log.h"
#include "common/thread.h"
#include "serial/serial_internal.h"

#define SERIAL_TXQ 4096
#define SERIAL_RETRY_MS 1000
#define SERIAL_BREAK_MS 300     /* > 250 ms: what tcsendbreak(fd, 0) sends */
#define SERIAL_GADGET_TTY "/dev/ttyGS0"
#define SERIAL_HOLD_WAIT_S 5

struct serial_watch {
    void (*fn)(void *ctx);
    void *ctx;
    struct serial_watch *next;
};

struct serial_console {
    struct config_serial cfg;
    char device[128];
    pthread_t tid;
    int wake_fd;
    atomic_bool stop;

    pthread_mutex_t mu;                 /* everything below up to the thread's own state */
    struct serial_ring ring;
    uint8_t txq[SERIAL_TXQ];
    size_t tx_head, tx_len;
    bool break_req;
    bool held;                          /* serial_hold: keep the tty closed */
    bool closed_for_hold;               /* the thread's answer to held */
    pthread_cond_t hold_cv;
    struct serial_status st;

    pthread_mutex_t watch_mu;           /* the watch list; held while callbacks run */
    struct serial_watch *watches;

    /* The console thread's own. */
    struct thread_owner owner;
    int fd;
    bool ever_connected;
    bool in_break;
    struct timespec break_end;
    struct serial_log log;
};

static void wake(struct serial_console *c)
{
    uint64_t one = 1;
    if (write(c->wake_fd, &one, sizeof(one)) < 0) {
        /* The counter is full: the thread is awake anyway. */
    }
}

static void notify(struct serial_console *c)
{
    pthread_mutex_lock(&c->watch_mu);
    for (struct serial_watch *w = c->watches; w; w = w->next)
        w->fn(w->ctx);
    pthread_mutex_unlock(&c->watch_mu);
}

static long ms_until(const struct timespec *t)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    long ms = (long)(t->tv_sec - now.tv_sec) * 1000 + (t->tv_nsec - now.tv_nsec) / 1000000;
    return ms < 0 ? 0 : ms;
}

static void set_down(struct serial_console *c, const char *why, int err)
{
    pthread_mutex_lock(&c->mu);
    bool was = c->st.connected;
    c->st.connected = false;
    c->tx_len = 0;          /* keys typed for a console that went away are not sent to the next */
    c->break_req = false;
    if (err)
        snprintf(c->st.why, sizeof(c->st.why), "%s: %s", why, strerror(err));
    else
        snprintf(c->st.why, sizeof(c->st.why), "%s", why);
    pthread_mutex_unlock(&c->mu);
    if (was) {
        LOG_WARN("serial", "%s: %s", c->device, c->st.why);
        notify(c);
    }
}

static void tty_close(struct serial_console *c, const char *why, int err)
{
    THREAD_ASSERT_OWNER(&c->owner, "serial console");
    if (c->fd >= 0)
        close(c->fd);
    c->fd = -1;
    c->in_break = false;
    set_down(c, why, err);
}

static void tty_open(struct serial_console *c)
{
    THREAD_ASSERT_OWNER(&c->owner, "serial console");
    int fd = open(c->device, O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) {
        set_down(c, errno == ENOENT ? "no such device (unplugged?)" : "cannot open", errno);
        return;
    }
    const char *fail = NULL;
    bool tty = isatty(fd);
    if (!tty)
        fail = "not a tty";
    else if (ioctl(fd, TIOCEXCL) < 0)
        fail = "cannot take it exclusively (TIOCEXCL)";
    else if (serial_tty_configure(fd, &c->cfg) < 0)
        fail = "cannot set its line settings";
    if (fail) {
        int err = errno;
        close(fd);
        set_down(c, fail, tty ? err : 0);
        return;
    }
    c->fd = fd;
    pthread_mutex_lock(&c->mu);
    c->st.connected = true;
    c->st.why[0] = '\0';
    if (c->ever_connected)
        c->st.reconnects++;
    pthread_mutex_unlock(&c->mu);
    LOG_INFO("serial", "%s open, %u %s, flow %s%s", c->device, c->st.baud, c->st.framing,
             c->st.flow, c->ever_connected ? " (reconnected)" : "");
    c->ever_connected = true;
    notify(c);
}

/* Reads what is there (a bounded number of chunks, so writes and the wake
 * descriptor get their turn). false when the device went away. */
static bool tty_read(struct serial_console *c)
{
    uint8_t buf[4096];
    for (int i = 0; i < 16; i++) {
        ssize_t n = read(c->fd, buf, sizeof(buf));
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            break;
        if (n <= 0) {
            tty_close(c, "device gone", n < 0 ? errno : 0);
            return false;
        }
        pthread_mutex_lock(&c->mu);
        serial_ring_append(&c->ring, buf, (size_t)n);
        c->st.rx_bytes += (uint64_t)n;
        pthread_mutex_unlock(&c->mu);
        struct timespec now;
        clock_gettime(CLOCK_REALTIME, &now);
        serial_log_write(&c->log, buf, (size_t)n, &now);
        notify(c);
        if ((size_t)n < sizeof(buf))
            break;
    }
    return true;
}

static bool tty_write(struct serial_console *c)
{
    uint8_t buf[SERIAL_TXQ];
    pthread_mutex_lock(&c->mu);
    size_t n = c->tx_len;
    for (size_t i = 0; i < n; i++)
        buf[i] = c->txq[(c->tx_head + i) % SERIAL_TXQ];
    pthread_mutex_unlock(&c->mu);
    if (n == 0)
        return true;
    ssize_t w = write(c->fd, buf, n);
    if (w < 0) {
        if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
            return true;
        tty_close(c, "device gone", errno);
        return false;
    }
    pthread_mutex_lock(&c->mu);
    c->tx_head = (c->tx_head + (size_t)w) % SERIAL_TXQ;
    c->tx_len -= (size_t)w;
    c->st.tx_bytes += (uint64_t)w;
    pthread_mutex_unlock(&c->mu);
    return true;
}

/* BREAK without blocking the thread: TIOCSBRK now, TIOCCBRK when the time
 * is up (tcsendbreak would sleep in the kernel for the whole break). */
static void break_step(struct serial_console *c)
{
    pthread_mutex_lock(&c->mu);
    bool req = c->break_req;
    c->break_req = false;
    pthread_mutex_unlock(&c->mu);
    if (req && !c->in_break) {
        if (ioctl(c->fd, TIOCSBRK) < 0) {
            LOG_WARN("serial", "%s: BREAK: %s", c->device, strerror(errno));
            return;
        }
        c->in_break = true;
        clock_gettime(CLOCK_MONOTONIC, &c->break_end);
        c->break_end.tv_nsec += SERIAL_BREAK_MS * 1000000L;
        c->break_end.tv_sec += c->break_end.tv_nsec / 1000000000L;
        c->break_end.tv_nsec %= 1000000000L;
        pthread_mutex_lock(&c->mu);
        c->st.breaks++;
        pthread_mutex_unlock(&c->mu);
        LOG_INFO("serial", "%s: BREAK sent", c->device);
    }
    if (c->in_break && ms_until(&c->break_end) == 0) {
        ioctl(c->fd, TIOCCBRK);
        c->in_break = false;
    }
}

/* serial_hold's side: output still queued in the driver is dropped first,
 * so the close does not wait for a host that stopped reading (u_serial
 * waits up to 15 s for its buffer to drain). */
static void hold_close(struct serial_console *c)
{
    THREAD_ASSERT_OWNER(&c->owner, "serial console");
    if (c->fd >= 0) {
        tcflush(c->fd, TCIOFLUSH);
        tty_close(c, "closed while the USB gadget is down", 0);
    }
    pthread_mutex_lock(&c->mu);
    if (c->st.why[0] == '\0' || !strcmp(c->st.why, "not opened yet"))
        snprintf(c->st.why, sizeof(c->st.why), "waiting for the USB gadget");
    if (!c->closed_for_hold) {
        c->closed_for_hold = true;
        pthread_cond_broadcast(&c->hold_cv);
    }
    pthread_mutex_unlock(&c->mu);
}

static void *serial_thread(void *arg)
{
    struct serial_console *c = arg;
    THREAD_ASSERT_OWNER(&c->owner, "serial console");
    struct liveness *live = liveness_register("serial");
    while (!atomic_load(&c->stop)) {
        liveness_beat(live);
        pthread_mutex_lock(&c->mu);
        bool held = c->held;
        pthread_mutex_unlock(&c->mu);
        if (held)
            hold_close(c);
        else if (c->fd < 0)
            tty_open(c);
        struct pollfd p[2] = {{.fd = c->wake_fd, .events = POLLIN}, {.fd = c->fd, .events = 0}};
        int timeout = -1;
        if (c->fd < 0) {
            timeout = held ? -1 : SERIAL_RETRY_MS;
        } else {
            break_step(c);
            if (c->fd < 0)
                continue;
            pthread_mutex_lock(&c->mu);
            bool pending = c->tx_len > 0;
            pthread_mutex_unlock(&c->mu);
            p[1].events = POLLIN | (pending && !c->in_break ? POLLOUT : 0);
            if (c->in_break)
                timeout = (int)ms_until(&c->break_end) + 1;
        }
        int n = poll(p, c->fd >= 0 ? 2 : 1, liveness_poll_ms(timeout));
        if (n < 0 && errno != EINTR) {
            LOG_ERROR("serial", "poll: %s", strerror(errno));
            live = NULL; /* stays registered: the watchdog starves and systemd restarts piglix */
            break;
        }
        if (p[0].revents & POLLIN) {
            uint64_t v;
            if (read(c->wake_fd, &v, sizeof(v)) < 0) {
                /* EAGAIN: someone else drained it. */
            }
        }
        if (c->fd < 0 || n <= 0)
            continue;
        if ((p[1].revents & (POLLIN | POLLHUP | POLLERR)) && !tty_read(c))
            continue;
        if (p[1].revents & POLLNVAL) {
            tty_close(c, "device gone", EBADF);
            continue;
        }
        if (p[1].revents & POLLOUT)
            tty_write(c);
    }
    liveness_unregister(live);
    if (c->fd >= 0)
        close(c->fd);
    c->fd = -1;
    return NULL;
}

struct serial_console *serial_start(const struct config_serial *cfg, const char *state_dir,
                                    char *err, size_t errlen)
{
    if (!serial_tty_baud_ok((unsigned)cfg->baud)) {
        snprintf(err, errlen, "[serial] baud %d: not a rate the tty driver can set", cfg->baud);
        return NULL;
    }
    const char *dev = !strcmp(cfg->device, "gadget") ? SERIAL_GADGET_TTY : cfg->device;
    if (strlen(dev) >= sizeof(((struct serial_status *)0)->device)) {
        snprintf(err, errlen, "[serial] device: a path of at most 127 characters");
        return NULL;
    }
    if (dev[0] != '/') {
        snprintf(err, errlen, "[serial] device '%s': a tty path (/dev/ttyUSB0) or \"gadget\"",
                 cfg->device);
        return NULL;
    }
    struct serial_console *c = calloc(1, sizeof(*c));
    if (!c) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    c->cfg = *cfg;
    c->fd = -1;
    snprintf(c->device, sizeof(c->device), "%.127s", dev);
    snprintf(c->st.device, sizeof(c->st.device), "%.127s", dev);
    c->st.baud = (unsigned)cfg->baud;
    snprintf(c->st.framing, sizeof(c->st.framing), "%d%c%d", cfg->data_bits,
             !strcmp(cfg->parity, "even") ? 'E' : !strcmp(cfg->parity, "odd") ? 'O' : 'N',
             cfg->stop_bits);
    snprintf(c->st.flow, sizeof(c->st.flow), "%s", cfg->flow);
    snprintf(c->st.why, sizeof(c->st.why), "not opened yet");
    c->held = serial_wants_gadget(cfg);
    pthread_mutex_init(&c->mu, NULL);
    pthread_cond_init(&c->hold_cv, NULL);
    pthread_mutex_init(&c->watch_mu, NULL);
    c->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (c->wake_fd < 0 || serial_ring_init(&c->ring, (size_t)cfg->backlog_kb * 1024) < 0) {
        snprintf(err, errlen, "serial: %s", strerror(errno));
        goto fail;
    }
    char dir[300];
    if (cfg->log_dir[0])
        snprintf(dir, sizeof(dir), "%s", cfg->log_dir);
    else
        snprintf(dir, sizeof(dir), "%s/serial", state_dir);
    if (serial_log_open(&c->log, dir, (uint64_t)cfg->log_kb * 1024, cfg->log_files) < 0)
        LOG_WARN("serial", "console log in %s: %s (retried on output)", dir, strerror(errno));
    int e = thread_start(&c->tid, serial_thread, c);
    if (e) {
        snprintf(err, errlen, "serial: thread: %s", strerror(e));
        serial_log_close(&c->log);
        goto fail;
    }
    return c;
fail:
    if (c->wake_fd >= 0)
        close(c->wake_fd);
    serial_ring_free(&c->ring);
    pthread_cond_destroy(&c->hold_cv);
    pthread_mutex_destroy(&c->mu);
    pthread_mutex_destroy(&c->watch_mu);
    free(c);
    return NULL;
}

void serial_stop(struct serial_console *c)
{
    if (!c)
        return;
    atomic_store(&c->stop, true);
    wake(c);
    pthread_join(c->tid, NULL);
    serial_log_close(&c->log);
    close(c->wake_fd);
    serial_ring_free(&c->ring);
    for (struct serial_watch *w = c->watches, *next; w; w = next) {
        next = w->next;
        free(w);
    }
    pthread_cond_destroy(&c->hold_cv);
    pthread_mutex_destroy(&c->mu);
    pthread_mutex_destroy(&c->watch_mu);
    free(c);
}

void serial_hold(struct serial_console *c)
{
    if (!c)
        return;
    pthread_mutex_lock(&c->mu);
    c->held = true;
    pthread_mutex_unlock(&c->mu);
    wake(c);
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += SERIAL_HOLD_WAIT_S;
    pthread_mutex_lock(&c->mu);
    int r = 0;
    while (!c->closed_for_hold && r == 0)
        r = pthread_cond_timedwait(&c->hold_cv, &c->mu, &until);
    bool closed = c->closed_for_hold;
    pthread_mutex_unlock(&c->mu);
    if (!closed)
        LOG_ERROR("serial", "%s still open after %d s: removing the USB serial function may hang",
                  c->device, SERIAL_HOLD_WAIT_S);
}

void serial_release(struct serial_console *c)
{
    if (!c)
        return;
    pthread_mutex_lock(&c->mu);
    c->held = false;
    c->closed_for_hold = false;
    pthread_mutex_unlock(&c->mu);
    wake(c);
}

size_t serial_read(struct serial_console *c, uint64_t *pos, uint8_t *buf, size_t len,
                   uint64_t *lost)
{
    pthread_mutex_lock(&c->mu);
    size_t n = serial_ring_read(&c->ring, pos, buf, len, lost);
    pthread_mutex_unlock(&c->mu);
    return n;
}

uint64_t serial_backlog_pos(struct serial_console *c, size_t n)
{
    pthread_mutex_lock(&c->mu);
    uint64_t oldest = serial_ring_oldest(&c->ring);
    uint64_t pos = c->ring.head - oldest < n ? oldest : c->ring.head - n;
    pthread_mutex_unlock(&c->mu);
    return pos;
}

struct serial_watch *serial_watch(struct serial_console *c, void (*fn)(void *ctx), void *ctx)
{
    struct serial_watch *w = calloc(1, sizeof(*w));
    if (!w)
        return NULL;
    w->fn = fn;
    w->ctx = ctx;
    pthread_mutex_lock(&c->watch_mu);
    w->next = c->watches;
    c->watches = w;
    pthread_mutex_unlock(&c->watch_mu);
    return w;
}

void serial_unwatch(struct serial_console *c, struct serial_watch *w)
{
    if (!w)
        return;
    pthread_mutex_lock(&c->watch_mu);
    for (struct serial_watch **p = &c->watches; *p; p = &(*p)->next)
        if (*p == w) {
            *p = w->next;
            break;
        }
    pthread_mutex_unlock(&c->watch_mu);
    free(w);
}

ssize_t serial_write(struct serial_console *c, const uint8_t *data, size_t len)
{
    pthread_mutex_lock(&c->mu);
    if (!c->st.connected) {
        pthread_mutex_unlock(&c->mu);
        return -1;
    }
    size_t room = SERIAL_TXQ - c->tx_len;
    size_t n = len < room ? len : room;
    for (size_t i = 0; i < n; i++)
        c->txq[(c->tx_head + c->tx_len + i) % SERIAL_TXQ] = data[i];
    c->tx_len += n;
    pthread_mutex_unlock(&c->mu);
    if (n)
        wake(c);
    return (ssize_t)n;
}

int serial_send_break(struct serial_console *c)
{
    pthread_mutex_lock(&c->mu);
    bool up = c->st.connected;
    if (up)
        c->break_req = true;
    pthread_mutex_unlock(&c->mu);
    if (!up)
        return -1;
    wake(c);
    return 0;
}

void serial_get_status(struct serial_console *c, struct serial_status *out)
{
    pthread_mutex_lock(&c->mu);
    *out = c->st;
    pthread_mutex_unlock(&c->mu);
}
