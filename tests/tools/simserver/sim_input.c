#include "sim_input.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/input.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <unistd.h>

#include "common/thread.h"

#define MAX_DEVICES 16
#define QUEUE_EVENTS 16384
#define BITS_LONG (8 * sizeof(long))
#define TEST_BIT(bits, n) (((bits)[(n) / BITS_LONG] >> ((n) % BITS_LONG)) & 1)

struct device {
    int fd;
    enum sim_role role;
    char node[32];
};

struct sim_input {
    pthread_t thread;
    int stop_fd, ready_fd, inotify_fd;
    /* the reader's own */
    struct device devs[MAX_DEVICES];
    int ndev;
    /* shared, under lock */
    pthread_mutex_t lock;
    struct sim_event queue[QUEUE_EVENTS];
    unsigned head, count;
    unsigned long dropped;
    bool present[SIM_ROLES];
};

static const char *const role_names[SIM_ROLES] = {"keyboard", "absolute mouse", "relative mouse"};

/* The role of a USB input device; -1 for anything else (the VM's own AT
 * keyboard, vivid's remote control). */
static int device_role(int fd)
{
    struct input_id id;
    if (ioctl(fd, EVIOCGID, &id) < 0 || id.bustype != BUS_USB)
        return -1;
    unsigned long ev[(EV_MAX + BITS_LONG) / BITS_LONG] = {0};
    if (ioctl(fd, EVIOCGBIT(0, sizeof(ev)), ev) < 0)
        return -1;
    if (TEST_BIT(ev, EV_LED))
        return SIM_KBD;
    if (TEST_BIT(ev, EV_ABS))
        return SIM_ABS;
    if (TEST_BIT(ev, EV_REL))
        return SIM_REL;
    return -1;
}

static void publish_presence(struct sim_input *in)
{
    bool present[SIM_ROLES] = {false};
    for (int i = 0; i < in->ndev; i++)
        present[in->devs[i].role] = true;
    pthread_mutex_lock(&in->lock);
    memcpy(in->present, present, sizeof(present));
    pthread_mutex_unlock(&in->lock);
}

static bool known(const struct sim_input *in, const char *node)
{
    for (int i = 0; i < in->ndev; i++)
        if (strcmp(in->devs[i].node, node) == 0)
            return true;
    return false;
}

static void rescan(struct sim_input *in)
{
    DIR *d = opendir("/dev/input");
    if (!d)
        return;
    struct dirent *e;
    while ((e = readdir(d)) && in->ndev < MAX_DEVICES) {
        if (strncmp(e->d_name, "event", 5) != 0 || strlen(e->d_name) >= sizeof(in->devs[0].node) ||
            known(in, e->d_name))
            continue;
        char path[64];
        snprintf(path, sizeof(path), "/dev/input/%s", e->d_name);
        int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
        if (fd < 0)
            continue;
        int role = device_role(fd);
        if (role < 0) {
            close(fd);
            continue;
        }
        struct device *dev = &in->devs[in->ndev++];
        dev->fd = fd;
        dev->role = (enum sim_role)role;
        snprintf(dev->node, sizeof(dev->node), "%s", e->d_name);
        fprintf(stderr, "simserver: %s on %s\n", role_names[role], path);
    }
    closedir(d);
    publish_presence(in);
}

static void drop_device(struct sim_input *in, int i)
{
    fprintf(stderr, "simserver: %s on /dev/input/%s is gone\n", role_names[in->devs[i].role], in->devs[i].node);
    close(in->devs[i].fd);
    in->devs[i] = in->devs[--in->ndev];
    publish_presence(in);
}

static void push(struct sim_input *in, const struct input_event *ev, size_t n, enum sim_role role)
{
    pthread_mutex_lock(&in->lock);
    for (size_t i = 0; i < n; i++) {
        if (ev[i].type == EV_SYN && ev[i].code == SYN_DROPPED)
            fprintf(stderr, "simserver: the kernel dropped %s events (read too late)\n", role_names[role]);
        bool report = ev[i].type == EV_SYN && ev[i].code == SYN_REPORT;
        if (ev[i].type != EV_KEY && ev[i].type != EV_REL && ev[i].type != EV_ABS && !report)
            continue;
        if (in->count == QUEUE_EVENTS) {
            in->dropped++;
            continue;
        }
        in->queue[(in->head + in->count++) % QUEUE_EVENTS] =
            (struct sim_event){role, ev[i].type, ev[i].code, ev[i].value};
    }
    pthread_mutex_unlock(&in->lock);
    uint64_t one = 1;
    if (write(in->ready_fd, &one, sizeof(one)) < 0 && errno != EAGAIN)
        perror("simserver: input eventfd");
}

static void read_device(struct sim_input *in, int i)
{
    struct input_event ev[64];
    ssize_t r = read(in->devs[i].fd, ev, sizeof(ev));
    if (r < 0 && (errno == EAGAIN || errno == EINTR))
        return;
    if (r <= 0) /* ENODEV: the gadget went away */
        drop_device(in, i);
    else
        push(in, ev, (size_t)r / sizeof(ev[0]), in->devs[i].role);
}

static void *reader(void *arg)
{
    struct sim_input *in = arg;
    /* a real OS reads its keyboard at once: ahead of the drawing, and of piglix */
    struct sched_param sp = {.sched_priority = 20};
    int e = pthread_setschedparam(pthread_self(), SCHED_FIFO, &sp);
    if (e)
        fprintf(stderr, "simserver: input reader at normal priority (%s)\n", strerror(e));
    rescan(in);
    for (;;) {
        struct pollfd fds[MAX_DEVICES + 2];
        int n = 0;
        fds[n++] = (struct pollfd){.fd = in->stop_fd, .events = POLLIN};
        if (in->inotify_fd >= 0)
            fds[n++] = (struct pollfd){.fd = in->inotify_fd, .events = POLLIN};
        int first_dev = n, ndev = in->ndev;
        for (int i = 0; i < ndev; i++)
            fds[n++] = (struct pollfd){.fd = in->devs[i].fd, .events = POLLIN};
        int r = poll(fds, (nfds_t)n, 1000);
        if (r < 0 && errno != EINTR)
            break;
        if (r == 0) { /* the watch may have missed a node: look again now and then */
            rescan(in);
            continue;
        }
        if (fds[0].revents)
            break;
        for (int i = ndev - 1; i >= 0; i--) /* backwards: a device dropped moves the last one */
            if (fds[first_dev + i].revents)
                read_device(in, i);
        if (first_dev > 1 && fds[1].revents) {
            char buf[4096];
            while (read(in->inotify_fd, buf, sizeof(buf)) > 0) {
            }
            rescan(in);
        }
    }
    return NULL;
}

struct sim_input *sim_input_open(void)
{
    struct sim_input *in = calloc(1, sizeof(*in));
    if (!in)
        return NULL;
    pthread_mutex_init(&in->lock, NULL);
    in->stop_fd = eventfd(0, EFD_CLOEXEC);
    in->ready_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    in->inotify_fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
    if (in->inotify_fd >= 0 && inotify_add_watch(in->inotify_fd, "/dev/input", IN_CREATE | IN_ATTRIB) < 0) {
        fprintf(stderr, "simserver: cannot watch /dev/input (%s): looking every second\n", strerror(errno));
        close(in->inotify_fd);
        in->inotify_fd = -1;
    }
    int e = in->stop_fd < 0 || in->ready_fd < 0 ? errno : thread_start(&in->thread, reader, in);
    if (e) {
        fprintf(stderr, "simserver: input reader: %s\n", strerror(e));
        if (in->stop_fd >= 0)
            close(in->stop_fd);
        if (in->ready_fd >= 0)
            close(in->ready_fd);
        if (in->inotify_fd >= 0)
            close(in->inotify_fd);
        free(in);
        return NULL;
    }
    return in;
}

void sim_input_close(struct sim_input *in)
{
    if (!in)
        return;
    uint64_t one = 1;
    if (write(in->stop_fd, &one, sizeof(one)) == sizeof(one))
        pthread_join(in->thread, NULL);
    for (int i = 0; i < in->ndev; i++)
        close(in->devs[i].fd);
    close(in->stop_fd);
    close(in->ready_fd);
    if (in->inotify_fd >= 0)
        close(in->inotify_fd);
    pthread_mutex_destroy(&in->lock);
    free(in);
}

int sim_input_fd(const struct sim_input *in)
{
    return in->ready_fd;
}

void sim_input_drain(struct sim_input *in, void (*cb)(void *ctx, const struct sim_event *ev), void *ctx)
{
    uint64_t v;
    if (read(in->ready_fd, &v, sizeof(v)) < 0 && errno != EAGAIN)
        perror("simserver: input eventfd");
    for (;;) {
        struct sim_event batch[256];
        unsigned n = 0;
        unsigned long dropped;
        pthread_mutex_lock(&in->lock);
        while (in->count && n < 256) {
            batch[n++] = in->queue[in->head];
            in->head = (in->head + 1) % QUEUE_EVENTS;
            in->count--;
        }
        dropped = in->dropped;
        in->dropped = 0;
        pthread_mutex_unlock(&in->lock);
        if (dropped)
            fprintf(stderr, "simserver: %lu input events dropped (queue full)\n", dropped);
        for (unsigned i = 0; i < n; i++)
            cb(ctx, &batch[i]);
        if (n < 256)
            return;
    }
}

bool sim_input_has(struct sim_input *in, enum sim_role role)
{
    pthread_mutex_lock(&in->lock);
    bool p = in->present[role];
    pthread_mutex_unlock(&in->lock);
    return p;
}
