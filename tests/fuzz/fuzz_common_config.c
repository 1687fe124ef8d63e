/* Fuzzes the INI configuration loader: any bytes give 0 or -1 with a
 * message, never a crash, and a failed load names the problem. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "common/config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct piglix_config cfg;
    config_defaults(&cfg);
    FILE *in = fmemopen((void *)data, size, "r");
    if (!in)
        return 0;
    char *msg = NULL;
    size_t msg_len = 0;
    FILE *err = open_memstream(&msg, &msg_len);
    int r = config_load_stream(&cfg, in, "fuzz.ini", err);
    fclose(in);
    fclose(err);
    if (r < 0 && msg_len == 0)
        abort();
    static FILE *devnull;
    if (!devnull)
        devnull = fopen("/dev/null", "w");
    if (r == 0 && devnull)
        config_validate(&cfg, devnull);
    free(msg);
    return 0;
}
