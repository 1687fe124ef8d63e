/* tests/vm/serial_sim: the managed server's end of its serial console, run
 * inside the VM by test_serial.py.
 *
 *   serial_sim pty LINK DIR   the USB-serial adapter: a pty pair whose slave
 *                             is reachable at LINK (as udev's /dev/serial/by-id
 *                             link); the server holds the master
 *   serial_sim tty DEV DIR    a tty device: the gadget's CDC ACM function as
 *                             the server's USB host sees it (/dev/ttyACM0),
 *                             waited for and reopened when it comes back
 *
 * On every open it prints a boot log and a login prompt, as a server's
 * firmware and getty do; then it echoes what it reads and answers a line
 * ended by CR with "welcome LINE" and the prompt again. The line is read
 * with PARMRK, so a BREAK arrives as \377\0\0 and is told apart from data.
 *
 * DIR/rx      what arrived, decoded: data as is, a BREAK as "<BREAK>"
 * DIR/events  one line per event: "open N", "gone", "unplugged", "break"
 * DIR/ctl     a FIFO of commands: "unplug", "plug" (pty), "say TEXT",
 *             "flood N" (N bytes of 64-character lines as fast as the
 *             line takes them: tests/bench/bench_serial_vm.py) */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

static const char BOOT[] =
    "[    0.000000] Linux version 6.1.0-simserver (sim@vm) #1 SMP\r\n"
    "[    0.000000] Command line: console=ttyS0,115200n8\r\n"
    "[    0.120000] Serial: 8250/16550 driver, 4 ports, IRQ sharing enabled\r\n"
    "[    2.500000] systemd[1]: Reached target Multi-User System.\r\n"
    "\r\nDebian GNU/Linux 12 simserver ttyS0\r\n\r\n";
static const char PROMPT[] = "simserver login: ";

static int rx_fd, ev_fd, dev_fd = -1, opens;
static char line[256];
static size_t line_len;
static int mark;    /* PARMRK state: 0 none, 1 after \377, 2 after \377\0 */

static void event(const char *fmt, ...)
{
    char buf[256];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, sizeof(buf) - 1, fmt, ap);
    va_end(ap);
    buf[n++] = '\n';
    if (write(ev_fd, buf, (size_t)n) < 0)
        perror("events");
}

static void put(const void *data, size_t len)
{
    const char *p = data;
    while (len && dev_fd >= 0) {
        ssize_t w = write(dev_fd, p, len);
        if (w < 0 && errno == EAGAIN) {
            struct pollfd pf = {.fd = dev_fd, .events = POLLOUT};
            if (poll(&pf, 1, 1000) <= 0)
                return;     /* nobody reads: a real UART would drop it too */
            continue;
        }
        if (w <= 0)
            return;
        p += w;
        len -= (size_t)w;
    }
}

static void puts_dev(const char *s) { put(s, strlen(s)); }

static int raw_parmrk(int fd)
{
    struct termios t;
    if (tcgetattr(fd, &t) < 0)
        return -1;
    cfmakeraw(&t);
    t.c_iflag |= PARMRK;    /* a BREAK reads as \377\0\0 (IGNBRK and BRKINT off) */
    t.c_cflag |= CLOCAL | CREAD;
    t.c_cc[VMIN] = 1;
    t.c_cc[VTIME] = 0;
    cfsetispeed(&t, B115200);
    cfsetospeed(&t, B115200);
    return tcsetattr(fd, TCSANOW, &t);
}

static void opened(void)
{
    event("open %d", ++opens);
    line_len = 0;
    mark = 0;
    char head[64];
    snprintf(head, sizeof(head), "\r\n[boot %d]\r\n", opens);
    puts_dev(head);
    puts_dev(BOOT);
    puts_dev(PROMPT);
}

static void data_byte(unsigned char c)
{
    if (write(rx_fd, &c, 1) < 0)
        perror("rx");
    if (c == '\r') {
        char reply[320];
        line[line_len] = '\0';
        snprintf(reply, sizeof(reply), "\r\nwelcome %s\r\n%s", line, PROMPT);
        puts_dev(reply);
        line_len = 0;
        return;
    }
    put(&c, 1);     /* the getty's echo */
    if (line_len < sizeof(line) - 1 && c >= ' ' && c < 0x7f)
        line[line_len++] = (char)c;
}

/* Undoes PARMRK: \377\0\0 is a BREAK, \377\0 c a byte with a parity or
 * framing error. n_tty doubles a \377 data byte only outside raw mode, so
 * a \377 not followed by \0 is taken as data. */
static void received(const unsigned char *b, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        unsigned char c = b[i];
        if (mark == 1 && c != 0) {
            mark = 0;
            data_byte(0xff);
            if (c == 0xff)
                continue;
        }
        if (mark == 0) {
            if (c == 0xff)
                mark = 1;
            else
                data_byte(c);
        } else if (mark == 1) {
            mark = 2;       /* c is \0 */
        } else {
            mark = 0;
            if (c == 0) {
                if (write(rx_fd, "<BREAK>", 7) < 0)
                    perror("rx");
                event("break");
                puts_dev("\r\n[sysrq] BREAK seen\r\n");
            } else {
                data_byte(c);
            }
        }
    }
}

static int pty_plug(const char *link)
{
    int m = posix_openpt(O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
    if (m < 0 || grantpt(m) < 0 || unlockpt(m) < 0 || raw_parmrk(m) < 0) {
        perror("pty");
        exit(1);
    }
    char tmp[300];
    snprintf(tmp, sizeof(tmp), "%s.new", link);
    unlink(tmp);
    if (symlink(ptsname(m), tmp) < 0 || rename(tmp, link) < 0) {
        perror("symlink");
        exit(1);
    }
    return m;
}

static void dev_close(const char *what)
{
    close(dev_fd);
    dev_fd = -1;
    event("%s", what);
}

static void command(char *cmd, int is_pty, const char *path)
{
    cmd[strcspn(cmd, "\n")] = '\0';
    if (!strcmp(cmd, "unplug") && is_pty && dev_fd >= 0) {
        unlink(path);
        dev_close("unplugged");
    } else if (!strcmp(cmd, "plug") && is_pty && dev_fd < 0) {
        dev_fd = pty_plug(path);
        opened();
    } else if (!strncmp(cmd, "flood ", 6)) {
        static const char row[] = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ\r\n";
        char block[4096];
        for (size_t i = 0; i < sizeof(block); i++)
            block[i] = row[i % (sizeof(row) - 1)];
        for (long left = atol(cmd + 6); left > 0 && dev_fd >= 0; left -= (long)sizeof(block))
            put(block, left < (long)sizeof(block) ? (size_t)left : sizeof(block));
        event("flooded");
    } else if (!strncmp(cmd, "say ", 4)) {
        puts_dev(cmd + 4);
        puts_dev("\r\n");
    } else if (cmd[0]) {
        event("unknown command %s", cmd);
    }
}

int main(int argc, char **argv)
{
    if (argc != 4 || (strcmp(argv[1], "pty") && strcmp(argv[1], "tty"))) {
        fprintf(stderr, "usage: serial_sim pty|tty PATH DIR\n");
        return 2;
    }
    int is_pty = !strcmp(argv[1], "pty");
    const char *path = argv[2];
    char p[512];
    mkdir(argv[3], 0755);
    snprintf(p, sizeof(p), "%s/rx", argv[3]);
    rx_fd = open(p, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    snprintf(p, sizeof(p), "%s/events", argv[3]);
    ev_fd = open(p, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    snprintf(p, sizeof(p), "%s/ctl", argv[3]);
    if (mkfifo(p, 0600) < 0 && errno != EEXIST)
        perror("mkfifo");
    int ctl = open(p, O_RDWR | O_NONBLOCK | O_CLOEXEC);   /* RDWR: never at EOF */
    if (rx_fd < 0 || ev_fd < 0 || ctl < 0) {
        perror(argv[3]);
        return 1;
    }
    if (is_pty) {
        dev_fd = pty_plug(path);
        opened();
    }
    char cmdbuf[1024];
    size_t cmdlen = 0;
    for (;;) {
        if (!is_pty && dev_fd < 0) {
            dev_fd = open(path, O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
            if (dev_fd >= 0 && raw_parmrk(dev_fd) < 0) {
                close(dev_fd);
                dev_fd = -1;
            }
            if (dev_fd >= 0)
                opened();
        }
        struct pollfd pf[2] = {{.fd = ctl, .events = POLLIN}, {.fd = dev_fd, .events = POLLIN}};
        if (poll(pf, dev_fd >= 0 ? 2 : 1, dev_fd >= 0 ? -1 : 100) < 0 && errno != EINTR)
            return 1;
        if (pf[0].revents & POLLIN) {
            ssize_t n = read(ctl, cmdbuf + cmdlen, sizeof(cmdbuf) - 1 - cmdlen);
            if (n > 0)
                cmdlen += (size_t)n;
            char *nl;
            while ((nl = memchr(cmdbuf, '\n', cmdlen))) {
                *nl = '\0';
                command(cmdbuf, is_pty, path);
                cmdlen -= (size_t)(nl + 1 - cmdbuf);
                memmove(cmdbuf, nl + 1, cmdlen);
            }
            if (cmdlen == sizeof(cmdbuf) - 1)
                cmdlen = 0;
        }
        if (dev_fd >= 0 && (pf[1].revents & (POLLIN | POLLHUP | POLLERR))) {
            unsigned char buf[4096];
            ssize_t n = read(dev_fd, buf, sizeof(buf));
            if (n > 0)
                received(buf, (size_t)n);
            else if (is_pty && (n == 0 || errno == EIO))
                usleep(50000);       /* piglix has the slave closed (a restart): wait for it */
            else if (n == 0 || (errno != EAGAIN && errno != EINTR))
                dev_close("gone");   /* the USB host lost the device: wait for it */
        }
    }
}
