/* Fuzzes [sensors] names and thresholds (atx/sensors_config.c): the input
 * is "NAMES\nTHRESHOLDS". Whatever parses must keep its promises: every
 * configured id is a valid sensor id, names are non-empty without control
 * characters, set limits are finite and nest (lc <= lw <= uw <= uc); a
 * refusal always says which key. */
#include <ctype.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sensors/sensors_internal.h"
#include "common/config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char names[CONFIG_STR_MAX], thresholds[CONFIG_STR_MAX];
    const uint8_t *nl = memchr(data, '\n', size);
    size_t n1 = nl ? (size_t)(nl - data) : size;
    size_t n2 = nl ? size - n1 - 1 : 0;
    if (n1 >= sizeof(names) || n2 >= sizeof(thresholds) || memchr(data, 0, size))
        return 0;
    memcpy(names, data, n1);
    names[n1] = '\0';
    memcpy(thresholds, nl ? nl + 1 : data, n2);
    thresholds[n2] = '\0';

    static struct sensors_conf c;
    char err[512];
    if (sensors_conf_parse(&c, names, thresholds, err, sizeof(err)) < 0) {
        if (strncmp(err, "[sensors] names: ", 17) != 0 && strncmp(err, "[sensors] thresholds: ", 22) != 0)
            abort();
        return 0;
    }
    for (size_t i = 0; i < c.n_names; i++) {
        if (!sensors_id_valid(c.names[i].id) || !c.names[i].name[0])
            abort();
        for (const char *p = c.names[i].name; *p; p++)
            if (iscntrl((unsigned char)*p))
                abort();
        if (sensors_conf_name(&c, c.names[i].id) != c.names[i].name)
            abort(); /* ids are unique: the first match is this one */
    }
    for (size_t i = 0; i < c.n_limits; i++) {
        const double *l = c.limits[i].limits;
        if (!sensors_id_valid(c.limits[i].id) || sensors_conf_limits(&c, c.limits[i].id) != l)
            abort();
        for (int a = 0; a < SENSOR_LIMITS; a++)
            for (int b = a + 1; b < SENSOR_LIMITS; b++)
                if (!isnan(l[a]) && !isnan(l[b]) && !(l[a] <= l[b]))
                    abort();
        for (int a = 0; a < SENSOR_LIMITS; a++)
            if (isinf(l[a]))
                abort();
    }
    return 0;
}
