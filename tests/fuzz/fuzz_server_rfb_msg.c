/* Fuzzes the client-message framer with every stage, and the version parser:
 * they must never read past what they are given, and a complete answer must
 * fit in what it was given. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "server/server.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    enum rfb_msg_stage stage = (enum rfb_msg_stage)(data[0] % 5);
    /* A private copy, so ASan catches any read past its end. */
    uint8_t *buf = malloc(size - 1 ? size - 1 : 1);
    memcpy(buf, data + 1, size - 1);
    struct rfb_msg_info info;
    int r = rfb_msg_frame(stage, buf, size - 1, &info);
    if (r == 1 && info.size > size - 1)
        abort();
    if (r == 1 && info.size > RFB_MSG_MAX_SIZE)
        abort();
    if (r < 0 && !info.error)
        abort();
    if (size - 1 >= RFB_MSG_VERSION_LEN) {
        int minor = rfb_msg_parse_version(buf);
        if (minor != -1 && minor != 3 && minor != 7 && minor != 8)
            abort();
    }
    free(buf);
    return 0;
}
