/* health: the ATX board's GPIO lines and the power LED, the gadget's
 * mass-storage function, the web certificate, and the listening ports with
 * what each shows before login (docs/THREAT_MODEL.md). */
#include "health/health.h"
#include "health/health_internal.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netdb.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <linux/gpio.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#define GADGET_DIR "usb_gadget/piglix" /* gadget/'s GADGET_NAME */
#define ATX_CONSUMER "piglix-atx"       /* atx/gpio.c's consumer name */

/* The /dev/gpiochipN whose label is label, asked of each chip as libgpiod
 * does (sysfs names the legacy chips by their base number instead). */
static bool chip_by_label(const struct health_env *env, const char *label, char *out, size_t size)
{
    DIR *d = opendir(env->dev);
    if (!d)
        return false;
    bool found = false;
    struct dirent *e;
    while (!found && (e = readdir(d))) {
        if (strncmp(e->d_name, "gpiochip", 8) != 0)
            continue;
        health_fmt(out, size, "%s/%s", env->dev, e->d_name);
        int fd = open(out, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
            continue;
        struct gpiochip_info info;
        memset(&info, 0, sizeof(info));
        found = env->ioctl(fd, GPIO_GET_CHIPINFO_IOCTL, &info) == 0 &&
                strncmp(info.label, label, sizeof(info.label)) == 0;
        close(fd);
    }
    closedir(d);
    return found;
}

/* [atx] chip as a device path: a path, a name, a number or a label. */
static bool chip_path(const struct health_env *env, const char *chip, char *out, size_t size)
{
    bool digits = chip[0] != '\0';
    for (const char *p = chip; *p; p++)
        digits = digits && isdigit((unsigned char)*p);
    if (chip[0] == '/')
        health_dev_path(env, chip, out, size);
    else if (digits)
        health_fmt(out, size, "%s/gpiochip%s", env->dev, chip);
    else
        health_fmt(out, size, "%s/%s", env->dev, chip);
    if (access(out, F_OK) == 0)
        return true;
    return chip[0] != '/' && !digits && chip_by_label(env, chip, out, size);
}

struct wired {
    const char *what;
    int line;
    bool active_low;
};

/* The power LED as the board shows it now: read through a short-lived
 * input request when nobody holds the line, else who holds it. */
static void power_led(const struct health_env *env, int fd, const struct wired *w, char *out, size_t size)
{
    struct gpioline_info info;
    memset(&info, 0, sizeof(info));
    info.line_offset = (uint32_t)w->line;
    if (env->ioctl(fd, GPIO_GET_LINEINFO_IOCTL, &info) < 0) {
        health_fmt(out, size, "; power LED: %s", strerror(errno));
        return;
    }
    if (info.flags & GPIOLINE_FLAG_KERNEL) {
        info.consumer[sizeof(info.consumer) - 1] = '\0';
        if (strcmp(info.consumer, ATX_CONSUMER) == 0)
            health_fmt(out, size, "; power LED held by the running piglix (its Power panel shows it)");
        else
            health_fmt(out, size, "; power LED line %d is held by \"%s\", not piglix: check [atx] power_led_line",
                       w->line, info.consumer);
        return;
    }
    struct gpiohandle_request req;
    memset(&req, 0, sizeof(req));
    req.lineoffsets[0] = (uint32_t)w->line;
    req.lines = 1;
    req.flags = GPIOHANDLE_REQUEST_INPUT | (w->active_low ? GPIOHANDLE_REQUEST_ACTIVE_LOW : 0);
    health_fmt(req.consumer_label, sizeof(req.consumer_label), "piglix-doctor");
    if (env->ioctl(fd, GPIO_GET_LINEHANDLE_IOCTL, &req) < 0) {
        health_fmt(out, size, "; power LED: %s", strerror(errno));
        return;
    }
    struct gpiohandle_data data;
    memset(&data, 0, sizeof(data));
    int rc = env->ioctl(req.fd, GPIOHANDLE_GET_LINE_VALUES_IOCTL, &data);
    int err = errno;
    close(req.fd);
    if (rc < 0)
        health_fmt(out, size, "; power LED: %s", strerror(err));
    else
        health_fmt(out, size, "; the power LED reads %s (the server is %s)", data.values[0] ? "lit" : "dark",
                   data.values[0] ? "on" : "off or in standby");
}

void health_check_atx_lines(struct health_report *r, const struct health_env *env, const struct config_atx *atx)
{
    if (!atx->enabled || !atx->chip[0])
        return;
    char path[PATH_MAX];
    if (!chip_path(env, atx->chip, path, sizeof(path)))
        return; /* the atx line says the chip is missing */
    int fd = open(path, O_RDWR | O_CLOEXEC);
    if (fd < 0) {
        health_add(r, "atx-lines", errno == EACCES ? HEALTH_WARNING : HEALTH_PROBLEM, "cannot open %s: %s%s", path,
                   strerror(errno), errno == EACCES ? HEALTH_FIX "run `piglix doctor` as root or as the daemon's user" : "");
        return;
    }
    struct gpiochip_info chip;
    memset(&chip, 0, sizeof(chip));
    if (env->ioctl(fd, GPIO_GET_CHIPINFO_IOCTL, &chip) < 0) {
        health_add(r, "atx-lines", HEALTH_PROBLEM, "%s is not a GPIO chip (%s)" HEALTH_FIX "set [atx] chip to one `gpiodetect` "
                   "lists", path, strerror(errno));
        close(fd);
        return;
    }
    chip.label[sizeof(chip.label) - 1] = '\0';
    const struct wired lines[] = {
        {"power_led_line", atx->power_led_line, atx->power_led_active_low},
        {"hdd_led_line", atx->hdd_led_line, atx->hdd_led_active_low},
        {"power_button_line", atx->power_button_line, atx->power_button_active_low},
        {"reset_button_line", atx->reset_button_line, atx->reset_button_active_low},
        {"intrusion_line", atx->intrusion_line, atx->intrusion_active_low},
    };
    char missing[256] = "";
    int wired = 0;
    for (size_t i = 0; i < sizeof(lines) / sizeof(lines[0]); i++) {
        if (lines[i].line < 0)
            continue;
        wired++;
        if ((uint32_t)lines[i].line >= chip.lines) {
            size_t n = strlen(missing);
            health_fmt(missing + n, sizeof(missing) - n, "%s%s = %d", n ? ", " : "", lines[i].what, lines[i].line);
        }
    }
    if (missing[0]) {
        health_add(r, "atx-lines", HEALTH_PROBLEM, "%s (%s) has lines 0-%u only: no %s" HEALTH_FIX "set the [atx] *_line keys "
                   "to the offsets your board is wired to (gpioinfo %s)", atx->chip, chip.label,
                   chip.lines ? chip.lines - 1 : 0, missing, chip.name);
    } else if (wired == 0) {
        health_add(r, "atx-lines", HEALTH_WARNING, "no line is wired in [atx]" HEALTH_FIX "set power_button_line, "
                   "reset_button_line and power_led_line to your board's offsets");
    } else {
        char led[192] = "";
        if (atx->power_led_line >= 0)
            power_led(env, fd, &lines[0], led, sizeof(led));
        health_add(r, "atx-lines", HEALTH_OK, "%d configured line%s within %s's %u%s", wired, wired == 1 ? "" : "s",
                   chip.label[0] ? chip.label : atx->chip, chip.lines, led);
    }
    close(fd);
}

/* The first entry of dir whose name (or, with links, whose link's target)
 * starts with prefix, or "". The configuration's links are named by the
 * function's instance ("usb0"), their targets by type.instance. */
static void find_entry(const char *dir, const char *prefix, bool links, char *out, size_t size)
{
    out[0] = '\0';
    DIR *d = opendir(dir);
    if (!d)
        return;
    struct dirent *e;
    while ((e = readdir(d))) {
        char name[256], path[PATH_MAX];
        health_fmt(name, sizeof(name), "%s", e->d_name);
        health_fmt(path, sizeof(path), "%s/%s", dir, e->d_name);
        if (links && health_link_name(path, name, sizeof(name)) < 0)
            continue;
        if (strncmp(name, prefix, strlen(prefix)) == 0) {
            health_fmt(out, size, "%s", name);
            break;
        }
    }
    closedir(d);
}

void health_check_mass_storage(struct health_report *r, const struct health_env *env, const struct config_hid *hid,
                               const struct config_vmedia *vmedia)
{
    if (!vmedia->enabled || !hid->enabled)
        return;
    char dir[PATH_MAX], fn[128], linked[128];
    health_fmt(dir, sizeof(dir), "%s/" GADGET_DIR, env->configfs);
    struct stat st;
    if (stat(dir, &st) < 0)
        return; /* the usb-gadget line says the gadget is missing */
    health_fmt(dir, sizeof(dir), "%s/" GADGET_DIR "/functions", env->configfs);
    find_entry(dir, "mass_storage.", false, fn, sizeof(fn));
    health_fmt(dir, sizeof(dir), "%s/" GADGET_DIR "/configs/c.1", env->configfs);
    find_entry(dir, "mass_storage.", true, linked, sizeof(linked));
    if (!fn[0] || !linked[0]) {
        if (strcmp(vmedia->usb, "mounted") == 0)
            health_add(r, "mass-storage", HEALTH_OK, "no USB drive on the bus now: it comes when an image is "
                       "mounted ([vmedia] usb = mounted)");
        else
            health_add(r, "mass-storage", HEALTH_WARNING, "no mass-storage function in the gadget" HEALTH_FIX "the running "
                       "piglix adds it (start the piglix service; the kernel needs usb_f_mass_storage)");
        return;
    }
    char rel[PATH_MAX], file[PATH_MAX] = "", cdrom[8] = "";
    health_fmt(rel, sizeof(rel), GADGET_DIR "/functions/%s/lun.0/file", fn);
    health_read(env->configfs, rel, file, sizeof(file));
    health_fmt(rel, sizeof(rel), GADGET_DIR "/functions/%s/lun.0/cdrom", fn);
    health_read(env->configfs, rel, cdrom, sizeof(cdrom));
    const char *slash = strrchr(file, '/');
    health_add(r, "mass-storage", HEALTH_OK, "USB %s %s in the gadget, %s%s", strcmp(cdrom, "1") == 0 ? "CD-ROM" :
               "drive", fn, file[0] ? "holding " : "no medium", file[0] ? (slash ? slash + 1 : file) : "");
}

void health_check_certificate(struct health_report *r, const struct config_web *web,
                              const struct config_state *state)
{
    if (!web->enabled)
        return;
    char path[PATH_MAX];
    if (web->cert[0])
        health_fmt(path, sizeof(path), "%s", web->cert);
    else
        health_fmt(path, sizeof(path), "%s/web-cert.pem", state->dir); /* web_tls's self-signed one */
    FILE *f = fopen(path, "r");
    if (!f) {
        int err = errno;
        if (err == ENOENT && !web->cert[0])
            health_add(r, "certificate", HEALTH_OK, "no certificate yet: piglix makes a self-signed one at its "
                       "first start (%s)", path);
        else
            health_add(r, "certificate", err == EACCES ? HEALTH_WARNING : HEALTH_PROBLEM, "cannot read %s: %s",
                       path, strerror(err));
        return;
    }
    X509 *x = PEM_read_X509(f, NULL, NULL, NULL);
    fclose(f);
    if (!x) {
        health_add(r, "certificate", HEALTH_PROBLEM, "%s holds no PEM certificate" HEALTH_FIX "fix [web] cert (or delete it to "
                   "get a self-signed one)", path);
        return;
    }
    int days = 0, secs = 0;
    ASN1_TIME_diff(&days, &secs, NULL, X509_get0_notAfter(x));
    bool self_signed = X509_NAME_cmp(X509_get_subject_name(x), X509_get_issuer_name(x)) == 0;
    if (X509_cmp_current_time(X509_get0_notBefore(x)) > 0)
        health_add(r, "certificate", HEALTH_PROBLEM, "%s is not valid yet" HEALTH_FIX "the clock is behind (see clock) or the "
                   "certificate was made on a machine whose clock is ahead", path);
    else if (days < 0 || secs < 0 || (days == 0 && secs == 0))
        health_add(r, "certificate", HEALTH_PROBLEM, "%s expired %d days ago: browsers refuse it" HEALTH_FIX "%s", path, -days,
                   self_signed && !web->cert[0] ? "delete it and restart piglix for a new one"
                                                : "renew it and restart piglix");
    else if (days < 30)
        health_add(r, "certificate", HEALTH_WARNING, "%s expires in %d days" HEALTH_FIX "%s", path, days,
                   self_signed && !web->cert[0] ? "delete it and restart piglix for a new one"
                                                : "renew it and restart piglix");
    else if (self_signed)
        health_add(r, "certificate", HEALTH_WARNING, "%s is self-signed (valid %d more days): browsers warn until "
                   "you accept it" HEALTH_FIX "for none, set [web] cert and key to one from your CA", path, days);
    else
        health_add(r, "certificate", HEALTH_OK, "%s is valid %d more days", path, days);
    X509_free(x);
}

/* "addr:port", bracketed for IPv6. */
static void where(const char *listen, int port, char *out, size_t size)
{
    health_fmt(out, size, strchr(listen, ':') ? "[%s]:%d" : "%s:%d", listen, port);
}

/* Whether something accepts TCP connections on the port: the listen
 * address, or loopback for the wildcard ones. */
static bool tcp_listening(const struct health_env *env, const char *listen, int port)
{
    const char *host = listen;
    if (!listen[0] || strcmp(listen, "::") == 0 || strcmp(listen, "0.0.0.0") == 0 || strcmp(listen, "*") == 0)
        host = strcmp(listen, "::") == 0 ? "::1" : "127.0.0.1";
    char service[16];
    health_fmt(service, sizeof(service), "%d", port);
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICSERV}, *res = NULL;
    if (getaddrinfo(host, service, &hints, &res) != 0)
        return false;
    bool up = false;
    for (struct addrinfo *a = res; a && !up; a = a->ai_next) {
        int fd = socket(a->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (fd < 0)
            continue;
        if (connect(fd, a->ai_addr, a->ai_addrlen) == 0) {
            up = true;
        } else if (errno == EINPROGRESS) {
            struct pollfd p = {.fd = fd, .events = POLLOUT};
            int err = 0;
            socklen_t len = sizeof(err);
            up = poll(&p, 1, env->probe_timeout_ms) == 1 && getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) == 0 &&
                 err == 0;
        }
        close(fd);
    }
    freeaddrinfo(res);
    return up;
}

void health_check_ports(struct health_report *r, const struct health_env *env, const struct config_vnc *vnc,
                        const struct config_web *web, const struct config_ipmi *ipmi,
                        const struct config_state *state)
{
    char text[HEALTH_TEXT_MAX] = "";
    size_t n = 0;
    int closed = 0;
    if (vnc->enabled) {
        bool up = tcp_listening(env, vnc->listen, vnc->port);
        /* without a password the port stays closed by design (vnc-password says so) */
        char pw[PATH_MAX];
        health_fmt(pw, sizeof(pw), "%s/vnc.passwd", state->dir);
        closed += !up && (strcmp(vnc->auth, "none") == 0 || access(pw, F_OK) == 0);
        char at[CONFIG_STR_MAX + 16];
        where(vnc->listen, vnc->port, at, sizeof(at));
        n += (size_t)snprintf(text + n, sizeof(text) - n, "VNC tcp %s%s (before login: the RFB version and "
                              "VncAuth); ", at, up ? "" : " not listening");
    }
    if (web->enabled && n < sizeof(text)) {
        bool up = tcp_listening(env, web->listen, web->port);
        closed += !up;
        char at[CONFIG_STR_MAX + 16];
        where(web->listen, web->port, at, sizeof(at));
        n += (size_t)snprintf(text + n, sizeof(text) - n, "HTTPS tcp %s%s (before login: the login and set-up "
                              "pages, /redfish/v1's root); ", at, up ? "" : " not listening");
        if (web->http_port && n < sizeof(text))
            n += (size_t)snprintf(text + n, sizeof(text) - n, "HTTP tcp %d (a redirect only); ", web->http_port);
    }
    if (ipmi->enabled && n < sizeof(text)) {
        char at[CONFIG_STR_MAX + 16];
        where(ipmi->listen, ipmi->port, at, sizeof(at));
        n += (size_t)snprintf(text + n, sizeof(text) - n, "IPMI udp %s (before login: RMCP+ session set-up); ", at);
    }
    if (n == 0) {
        health_add(r, "ports", HEALTH_WARNING, "no port is open" HEALTH_FIX "enable [web] or [vnc] to reach the appliance");
        return;
    }
    if (n >= 2 && n < sizeof(text))
        text[n - 2] = '\0';
    if (closed)
        health_add(r, "ports", HEALTH_WARNING, "%s: a port piglix should open is not listening" HEALTH_FIX "is the piglix "
                   "service running (systemctl status piglix)?", text);
    else
        health_add(r, "ports", HEALTH_OK, "%s", text);
}
