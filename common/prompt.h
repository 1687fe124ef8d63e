/* common/prompt: reading a secret for the command-line tools. */
#ifndef PIGLIX_COMMON_PROMPT_H
#define PIGLIX_COMMON_PROMPT_H

#include <stddef.h>
#include <stdio.h>

/* Reads one line into buf (without its newline): from a terminal without
 * echo after writing prompt to err, or plainly from a pipe. 0 or -1 (EOF). */
int prompt_secret(const char *prompt, char *buf, size_t n, FILE *err);

#endif
