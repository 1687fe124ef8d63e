/* hid/: the devices that viewers' keyboards and pointers command. Owns the
 * input interface every output (VNC now, the web UI later) delivers events
 * to, and its backends: for now one that logs and counts events; the USB HID
 * gadget implements the same interface. Calls come from the server thread
 * only and must never block. */
#ifndef PIGLIX_HID_H
#define PIGLIX_HID_H

#include <stdbool.h>
#include <stdint.h>

struct hid_input_ops {
    /* A key by X11 keysym (RFB KeyEvent); the backend maps it through the
     * target's keyboard layout. */
    void (*key_sym)(void *ctx, uint32_t keysym, bool down);
    /* A key by XT scancode as in the QEMU Extended Key Event (0xE0-prefixed
     * keys have 0x80 added to the low byte, i.e. 0xE0 0x48 -> 0xC8);
     * keysym is informational. Layout-independent. */
    void (*key_code)(void *ctx, uint32_t xt_scancode, uint32_t keysym, bool down);
    /* Absolute pointer in a width x height screen; buttons is the RFB mask
     * (bit 0 left, 1 middle, 2 right, 3/4 wheel up/down, 5/6 wheel left/right). */
    void (*pointer)(void *ctx, int x, int y, unsigned width, unsigned height, uint8_t buttons);
    /* Release every key and button one viewer holds (viewer gone). */
    void (*release_all)(void *ctx);
};

struct hid_input {
    const struct hid_input_ops *ops;
    void *ctx;
};

struct hid_log_counters {
    uint64_t key_sym, key_code, pointer, release_all;
};

/* The backend that logs (at debug level) and counts events. */
void hid_log_input_init(struct hid_input *in, struct hid_log_counters *counters);

#endif
