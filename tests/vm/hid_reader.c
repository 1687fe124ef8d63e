/* hid_reader: runs inside the test VM (busybox has no evdev tool) and reads
 * what the kernel, as the USB host, made of piglix's gadget: the USB input
 * devices (bustype 3) under /dev/input and their events.
 *
 *   hid_reader list                 one line per USB input device: ROLE eventN NAME
 *   hid_reader record FILE          appends "ROLE TYPE CODE VALUE TIME" per EV_KEY (no
 *                                   autorepeat), EV_REL, EV_ABS and EV_LED event, and
 *                                   "open ROLE eventN" / "gone ROLE eventN" as devices
 *                                   come and go (it rescans every 100 ms); until killed
 *   hid_reader held                 the keys held down on the USB keyboard now (EVIOCGKEY):
 *                                   their codes, or "none"
 *   hid_reader led CODE VALUE       sets a LED on the USB keyboard (EV_LED + SYN), as
 *                                   the host's own keyboard handling does
 *
 * ROLE: kbd (has LEDs), abs (absolute axes), rel (relative axes only). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/input.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAX_DEVICES 16
#define BITS_LONG (8 * sizeof(long))
#define TEST_BIT(bits, n) (((bits)[(n) / BITS_LONG] >> ((n) % BITS_LONG)) & 1)

struct device {
    int fd;
    char node[256 + 8];
    const char *role;
};

/* The role of a USB input device, or NULL for anything else. */
static const char *device_role(int fd)
{
    struct input_id id;
    if (ioctl(fd, EVIOCGID, &id) < 0 || id.bustype != BUS_USB)
        return NULL;
    unsigned long ev[(EV_MAX + BITS_LONG) / BITS_LONG] = {0};
    if (ioctl(fd, EVIOCGBIT(0, sizeof(ev)), ev) < 0)
        return NULL;
    if (TEST_BIT(ev, EV_LED))
        return "kbd";
    if (TEST_BIT(ev, EV_ABS))
        return "abs";
    if (TEST_BIT(ev, EV_REL))
        return "rel";
    return NULL;
}

static int open_node(const char *node, int flags, const char **role)
{
    char path[300];
    snprintf(path, sizeof(path), "/dev/input/%.255s", node);
    int fd = open(path, flags | O_CLOEXEC);
    if (fd < 0)
        return -1;
    *role = device_role(fd);
    if (!*role) {
        close(fd);
        return -1;
    }
    return fd;
}

static int is_event_node(const struct dirent *e)
{
    return strncmp(e->d_name, "event", 5) == 0;
}

static int cmd_list(void)
{
    struct dirent **names;
    int n = scandir("/dev/input", &names, is_event_node, alphasort);
    for (int i = 0; i < n; i++) {
        const char *role;
        int fd = open_node(names[i]->d_name, O_RDONLY, &role);
        if (fd >= 0) {
            char name[256] = "";
            ioctl(fd, EVIOCGNAME(sizeof(name) - 1), name);
            printf("%s %s %s\n", role, names[i]->d_name, name);
            close(fd);
        }
        free(names[i]);
    }
    free(names);
    return 0;
}

static void rescan(struct device *devs, int *ndev, FILE *out)
{
    struct dirent **names;
    int n = scandir("/dev/input", &names, is_event_node, alphasort);
    for (int i = 0; i < n; i++) {
        int known = 0;
        for (int j = 0; j < *ndev; j++)
            known = known || strcmp(devs[j].node, names[i]->d_name) == 0;
        const char *role;
        int fd = !known && *ndev < MAX_DEVICES ? open_node(names[i]->d_name, O_RDONLY | O_NONBLOCK, &role) : -1;
        if (fd >= 0) {
            struct device *d = &devs[(*ndev)++];
            d->fd = fd;
            d->role = role;
            snprintf(d->node, sizeof(d->node), "%s", names[i]->d_name);
            fprintf(out, "open %s %s\n", role, d->node);
            fflush(out);
        }
        free(names[i]);
    }
    if (n > 0)
        free(names);
}

static int cmd_record(const char *file)
{
    FILE *out = fopen(file, "a");
    if (!out) {
        perror(file);
        return 1;
    }
    struct device devs[MAX_DEVICES];
    int ndev = 0;
    for (;;) {
        rescan(devs, &ndev, out);
        struct pollfd pfd[MAX_DEVICES];
        for (int i = 0; i < ndev; i++)
            pfd[i] = (struct pollfd){.fd = devs[i].fd, .events = POLLIN};
        if (poll(pfd, (nfds_t)ndev, 100) < 0 && errno != EINTR)
            return 1;
        for (int i = 0; i < ndev; i++) {
            if (!pfd[i].revents)
                continue;
            struct input_event ev[64];
            ssize_t r = read(devs[i].fd, ev, sizeof(ev));
            if (r < 0 && errno == EAGAIN)
                continue;
            if (r <= 0) { /* ENODEV: the device went away (the gadget was unbound) */
                fprintf(out, "gone %s %s\n", devs[i].role, devs[i].node);
                close(devs[i].fd);
                devs[i--] = devs[--ndev];
                pfd[i + 1] = pfd[ndev];
                continue;
            }
            for (size_t k = 0; k < (size_t)r / sizeof(ev[0]); k++) {
                const struct input_event *e = &ev[k];
                if ((e->type == EV_KEY && e->value != 2) || e->type == EV_REL || e->type == EV_ABS ||
                    e->type == EV_LED)
                    fprintf(out, "%s %u %u %d %ld.%06ld\n", devs[i].role, e->type, e->code, e->value,
                            (long)e->input_event_sec, (long)e->input_event_usec);
            }
        }
        fflush(out);
    }
}

/* The first USB keyboard under /dev/input opened with flags, or -1. */
static int open_keyboard(int flags)
{
    struct dirent **names;
    int n = scandir("/dev/input", &names, is_event_node, alphasort);
    int fd = -1;
    for (int i = 0; i < n; i++) {
        const char *role;
        if (fd < 0) {
            fd = open_node(names[i]->d_name, flags, &role);
            if (fd >= 0 && strcmp(role, "kbd") != 0) {
                close(fd);
                fd = -1;
            }
        }
        free(names[i]);
    }
    if (n > 0)
        free(names);
    if (fd < 0)
        fprintf(stderr, "hid_reader: no USB keyboard under /dev/input\n");
    return fd;
}

/* The keys the host's input layer holds down on the USB keyboard now
 * (EVIOCGKEY): their codes on one line, "none" when there are none. */
static int cmd_held(void)
{
    int fd = open_keyboard(O_RDONLY);
    if (fd < 0)
        return 1;
    unsigned long keys[(KEY_MAX + BITS_LONG) / BITS_LONG] = {0};
    if (ioctl(fd, EVIOCGKEY(sizeof(keys)), keys) < 0) {
        perror("hid_reader: EVIOCGKEY");
        close(fd);
        return 1;
    }
    close(fd);
    int any = 0;
    for (int k = 0; k <= KEY_MAX; k++)
        if (TEST_BIT(keys, k)) {
            printf("%s%d", any ? " " : "", k);
            any = 1;
        }
    printf("%s\n", any ? "" : "none");
    return 0;
}

static int cmd_led(int code, int value)
{
    int fd = open_keyboard(O_WRONLY);
    if (fd < 0)
        return 1;
    struct input_event ev[2] = {
        {.type = EV_LED, .code = (unsigned short)code, .value = value},
        {.type = EV_SYN, .code = SYN_REPORT, .value = 0},
    };
    int ok = write(fd, ev, sizeof(ev)) == (ssize_t)sizeof(ev);
    if (!ok)
        perror("hid_reader: write");
    close(fd);
    return ok ? 0 : 1;
}

int main(int argc, char **argv)
{
    if (argc == 2 && strcmp(argv[1], "list") == 0)
        return cmd_list();
    if (argc == 3 && strcmp(argv[1], "record") == 0)
        return cmd_record(argv[2]);
    if (argc == 2 && strcmp(argv[1], "held") == 0)
        return cmd_held();
    if (argc == 4 && strcmp(argv[1], "led") == 0)
        return cmd_led(atoi(argv[2]), atoi(argv[3]));
    fprintf(stderr, "usage: hid_reader list | record FILE | held | led CODE VALUE\n");
    return 64;
}
