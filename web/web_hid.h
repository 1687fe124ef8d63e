/* web/web_hid: what the web API's HID endpoints (keys, combos, paste, mouse)
 * call. It is separate from hid/'s struct hid_input (which only the server
 * thread may call): a backend that offers it must accept calls from the web
 * thread and never block it (queue the work). main.c wires a backend in
 * when one exists; without one the endpoints answer 503 "HID not
 * configured". Key names are lower-case ("ctrl", "alt", "delete", "f1",
 * "a", "enter", ...); an unknown name is -EINVAL. Calls return 0 or a
 * negative errno: -EINVAL (bad key/layout: 422), -EBUSY (busy: 409),
 * -ENODEV (device offline: 503). */
#ifndef PIGLIX_WEB_HID_H
#define PIGLIX_WEB_HID_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct hid_device;

struct web_hid_ops {
    /* True when the target sees the keyboard and mouse (USB configured). */
    bool (*online)(void *ctx);
    /* The target's keyboard LEDs (bit 0 Scroll, 1 Num, 2 Caps Lock), or -1. */
    int (*leds)(void *ctx);
    /* Presses the keys in order and releases them in reverse (a combo).
     * err (errlen bytes) may receive a message for the client. */
    int (*combo)(void *ctx, const char *const *keys, int n, char *err, size_t errlen);
    /* Types text as it would be typed on the target with that layout. */
    int (*paste)(void *ctx, const char *text, const char *layout, char *err, size_t errlen);
    /* Moves the pointer to x,y of a width x height picture with these buttons (RFB mask). */
    int (*mouse)(void *ctx, int x, int y, unsigned width, unsigned height, unsigned buttons);
};

struct web_hid {
    const struct web_hid_ops *ops;
    void *ctx;
};

/* The adapter for hid/'s USB keyboard and mice (hid_device), whose calls
 * are thread-safe and never block. */
void web_hid_from_device(struct web_hid *out, struct hid_device *d);

#endif
