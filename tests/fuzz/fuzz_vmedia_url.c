/* The URL parsers of virtual media on any input: redaction for logs (never
 * leaves a password, always terminated), image names from URLs (always a
 * valid store name or an error), the address policy's exception list. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "vmedia/vmedia.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *url = malloc(size + 1);
    if (!url)
        return 0;
    memcpy(url, data, size);
    url[size] = '\0';
    char out[300];
    size_t n = 1 + (size % sizeof(out));
    vmedia_url_redact(url, out, n);
    if (strlen(out) >= n)
        abort();
    char name[VMEDIA_NAME_MAX + 1];
    if (vmedia_name_from_url(url, name, sizeof(name)) == 0 && vmedia_name_check(name) != 0)
        abort();
    struct vmedia_url_policy p;
    vmedia_url_policy_init(&p, size & 1, url);
    free(url);
    return 0;
}
