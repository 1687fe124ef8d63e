/* app: piglix's entry point. main() reads the configuration, makes each
 * module with its own section, wires them together (the adapters between
 * modules live here, so no module includes another's internals) and runs
 * the subcommands. Everything here runs on the main thread. */
#ifndef PIGLIX_APP_H
#define PIGLIX_APP_H

#include <stdio.h>

#include "common/config.h"

#include <stdint.h>

struct web_hid;
struct hid_device;
struct hid_input;
struct hid_log_counters;
struct vmedia_store;
struct vmedia_drive;

/* `piglix user add|passwd|del|list|token|totp-off|ipmi-passwd NAME`: argv[0]
 * is the verb. Passwords come from stdin (without echo on a terminal).
 * Returns the exit status. */
int app_user_command(const struct piglix_config *cfg, int argc, char **argv, FILE *out, FILE *err);

/* The web API's keyboard and mouse calls, served by hid/'s USB device in
 * *slot once there (main fills it); until then they say -ENODEV. */
void app_web_hid_from_slot(struct web_hid *out, struct hid_device *_Atomic *slot);

/* [capture] type_echo (type_echo.c): with the test source and no [hid],
 * wraps *input so the viewers' keys also reach the test source's echo
 * (capture.h); app_type_echo() is that echo for capture_testsrc_create
 * (NULL when off). 0, or -1 when out of memory. Main thread. */
struct capture_echo;
int app_type_echo_wrap(const struct piglix_config *cfg, struct hid_input *input);
struct capture_echo *app_type_echo(void);

/* app_usb (usb_wait.c): [hid] and the [vmedia] USB drive on a USB device
 * controller that may come later. Made without touching the hardware;
 * app_usb_poll (each turn of the main loop) tries when due: at once, then
 * every 5 s while configfs or the controller is missing (the reason logged
 * once), and returns 1 on the turn the keyboard and mice (and drive, with a
 * store) started. Until then the server's input is only counted (counters)
 * and the web API's HID calls say 503. All calls from the main thread. */
struct app_usb;
struct app_usb *app_usb_create(const struct piglix_config *cfg, struct vmedia_store *store,
                               struct hid_log_counters *counters);
/* The struct hid_input to give the VNC server (it forwards). */
void app_usb_input(struct app_usb *a, struct hid_input *out);
/* The web_hid to give the web server. */
void app_usb_web_hid(struct app_usb *a, struct web_hid *out);
int app_usb_poll(struct app_usb *a, int64_t now_ms);
/* NULL until started (and for a NULL a). */
struct hid_device *app_usb_device(struct app_usb *a);
struct vmedia_drive *app_usb_drive(struct app_usb *a);
/* Stops the drive and the keyboard and mice, removes the gadget. NULL is fine. */
void app_usb_destroy(struct app_usb *a);
/* [serial] device = gadget: the console whose tty (the ACM function) is
 * released once the gadget started and held (closed) before it is removed
 * (serial_hold in serial/serial.h says why). NULL: none. */
struct serial_console;
void app_usb_set_serial(struct app_usb *a, struct serial_console *serial);

/* app_control (control_wire.c): control/ made from [control], with a
 * paste stopped when the keyboard changes hands. NULL when out of memory. */
struct app_control;
struct control;
struct config_control;
struct app_control *app_control_create(const struct config_control *cfg);
struct control *app_control_get(struct app_control *a);
/* The USB keyboard once it is there (main thread). */
void app_control_set_device(struct app_control *a, struct hid_device *d);
/* After every user of the control (server, web) is gone. NULL is fine. */
void app_control_destroy(struct app_control *a);
/* doctor.c: the checks of `piglix doctor` on this machine, in its order;
 * app_health_env sets the real roots and the daemon's user ("piglix" when
 * it exists). */
struct health_env;
struct health_report;
void app_health_env(struct health_env *env);
void app_health_run(const struct piglix_config *cfg, const struct health_env *env, struct health_report *report);
/* health_worker.c: those checks on a thread of their own for the web API
 * (cfg is copied). NULL (logged) when the thread cannot start. */
struct app_health;
struct web_health;
struct app_live;
struct app_health *app_health_start(const struct piglix_config *cfg, struct app_live *live);
void app_health_web(struct app_health *h, struct web_health *out);
/* after a reload (main thread): the next run checks this config; NULL h is fine */
void app_health_reconfigure(struct app_health *h, const struct piglix_config *cfg);
void app_health_stop(struct app_health *h); /* after the web server; NULL is fine */
/* live_status.c: the daemon's frame and keyboard figures for the checks
 * that need it, kept for the health worker (app_live_get: any thread) and
 * written to [state] dir for `piglix doctor`; hid NULL or without ops: no
 * USB keyboard. Stop it before the capture slot and the USB device go.
 * NULL (logged) when its thread cannot start; NULL is fine to stop. */
struct capture_slot;
struct health_live;
struct app_live *app_live_start(const char *state_dir, struct capture_slot *slot, const struct web_hid *hid);
void app_live_get(struct app_live *a, struct health_live *out);
void app_live_stop(struct app_live *a);

#endif
