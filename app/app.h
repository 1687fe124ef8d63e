/* app: piglix's entry point. main() reads the configuration, makes each
 * module with its own section, wires them together (the adapters between
 * modules live here, so no module includes another's internals) and runs
 * the subcommands. Everything here runs on the main thread. */
#ifndef PIGLIX_APP_H
#define PIGLIX_APP_H

#include <stdio.h>

#include "common/config.h"

struct web_hid;
struct hid_device;

/* `piglix user add|passwd|del|list|token|totp-off|ipmi-passwd NAME`: argv[0]
 * is the verb. Passwords come from stdin (without echo on a terminal).
 * Returns the exit status. */
int app_user_command(const struct piglix_config *cfg, int argc, char **argv, FILE *out, FILE *err);

/* The web API's keyboard and mouse calls, served by hid/'s USB device. */
void app_web_hid_from_device(struct web_hid *out, struct hid_device *d);

#endif
