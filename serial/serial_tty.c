/* serial/serial_tty: the console's line settings. Raw mode (no echo, no
 * line editing, no CR/LF translation, no signals): the bytes the server
 * sends are the bytes readers see, and keys go out as typed. */
#include "serial/serial_internal.h"

#include <errno.h>
#include <string.h>
#include <termios.h>

#include "common/config.h"

static const struct {
    unsigned baud;
    speed_t speed;
} bauds[] = {
    {50, B50}, {75, B75}, {110, B110}, {134, B134}, {150, B150}, {200, B200}, {300, B300},
    {600, B600}, {1200, B1200}, {1800, B1800}, {2400, B2400}, {4800, B4800}, {9600, B9600},
    {19200, B19200}, {38400, B38400}, {57600, B57600}, {115200, B115200}, {230400, B230400},
    {460800, B460800}, {500000, B500000}, {576000, B576000}, {921600, B921600},
    {1000000, B1000000}, {1152000, B1152000}, {1500000, B1500000}, {2000000, B2000000},
    {2500000, B2500000}, {3000000, B3000000}, {3500000, B3500000}, {4000000, B4000000},
};

static int baud_speed(unsigned baud, speed_t *out)
{
    for (size_t i = 0; i < sizeof(bauds) / sizeof(bauds[0]); i++)
        if (bauds[i].baud == baud) {
            *out = bauds[i].speed;
            return 0;
        }
    return -1;
}

bool serial_tty_baud_ok(unsigned baud)
{
    speed_t s;
    return baud_speed(baud, &s) == 0;
}

int serial_tty_configure(int fd, const struct config_serial *cfg)
{
    struct termios t;
    speed_t speed;
    if (baud_speed((unsigned)cfg->baud, &speed) < 0) {
        errno = EINVAL;
        return -1;
    }
    if (tcgetattr(fd, &t) < 0)
        return -1;
    cfmakeraw(&t);
    t.c_cflag &= ~(tcflag_t)(CSIZE | PARENB | PARODD | CSTOPB | CRTSCTS);
    /* CLOCAL: a missing DCD (three-wire cables) must not block or hang up. */
    t.c_cflag |= CREAD | CLOCAL;
    switch (cfg->data_bits) {
    case 5: t.c_cflag |= CS5; break;
    case 6: t.c_cflag |= CS6; break;
    case 7: t.c_cflag |= CS7; break;
    default: t.c_cflag |= CS8; break;
    }
    if (!strcmp(cfg->parity, "even"))
        t.c_cflag |= PARENB;
    else if (!strcmp(cfg->parity, "odd"))
        t.c_cflag |= PARENB | PARODD;
    if (cfg->stop_bits == 2)
        t.c_cflag |= CSTOPB;
    t.c_iflag &= ~(tcflag_t)(IXON | IXOFF | IXANY);
    if (!strcmp(cfg->flow, "rtscts"))
        t.c_cflag |= CRTSCTS;
    else if (!strcmp(cfg->flow, "xonxoff"))
        t.c_iflag |= IXON | IXOFF;
    t.c_cc[VMIN] = 1;
    t.c_cc[VTIME] = 0;
    if (cfsetispeed(&t, speed) < 0 || cfsetospeed(&t, speed) < 0)
        return -1;
    return tcsetattr(fd, TCSANOW, &t);
}
