/* simserver input: the USB keyboard and mice as the server's OS sees them,
 * the evdev devices with bus type USB under /dev/input (piglix's gadget,
 * through dummy_hcd and usbhid). Devices come and go with the gadget
 * (piglix restarts, the UDC is unbound): /dev/input is watched with
 * inotify and rescanned; a device that goes away is closed.
 *
 * A reader thread (real-time priority when allowed) drains the devices into
 * a large queue: a keyboard's evdev buffer holds only 64 events, which a
 * fast typist (piglix pasting) fills in a few milliseconds, and under TCG
 * the drawing thread can be off the CPU for longer than that. */
#ifndef SIM_INPUT_H
#define SIM_INPUT_H

#include <stdbool.h>

enum sim_role { SIM_KBD, SIM_ABS, SIM_REL, SIM_ROLES };

struct sim_event {
    enum sim_role role;
    unsigned type, code;
    int value;
};

struct sim_input;

/* Starts the reader; NULL after printing why. */
struct sim_input *sim_input_open(void);
void sim_input_close(struct sim_input *in);
/* Readable (POLLIN) while events wait; sim_input_drain clears it. */
int sim_input_fd(const struct sim_input *in);
/* Calls cb for each waiting EV_KEY, EV_REL, EV_ABS and SYN_REPORT event, in order. */
void sim_input_drain(struct sim_input *in, void (*cb)(void *ctx, const struct sim_event *ev), void *ctx);
/* Whether a device of this role is open. */
bool sim_input_has(struct sim_input *in, enum sim_role role);

#endif
