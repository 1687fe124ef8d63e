/* atx/cli: `piglix atx status|on|off|force-off|reset|cycle|wol`, the ATX
 * actions from the command line for scripts and tests. It opens the lines
 * itself, so it is for a machine where the daemon does not hold them ([atx]
 * enabled = no, or the daemon stopped); the daemon's actions go through its
 * web API. */
#ifndef PIGLIX_ATX_CLI_H
#define PIGLIX_ATX_CLI_H

#include <stdio.h>

struct piglix_config;

/* args: the subcommand and what follows. Prints one result line and then the
 * status line (key=value) to out. Exit status: 0 done (or nothing to do),
 * 1 timed out or failed, 2 usage, 3 refused, 4 the lines cannot be used. */
int atx_command(const struct piglix_config *cfg, int n_args, char **args, FILE *out, FILE *err);

#endif
