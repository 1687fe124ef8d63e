/* Fuzzes the text atx parses: [atx] wol_mac (atx_wol_parse_mac) and action
 * names (atx_action_parse). A MAC that parses must print back as the same
 * text (case and separator aside); an action that parses must be one whose
 * name (or alias) is exactly the input. */
#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "atx/atx.h"
#include "atx/wol.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char text[64];
    if (size >= sizeof(text))
        return 0;
    memcpy(text, data, size);
    text[size] = '\0';

    uint8_t mac[6];
    if (atx_wol_parse_mac(text, mac) == 0) {
        char back[18];
        snprintf(back, sizeof(back), "%02x:%02x:%02x:%02x:%02x:%02x", mac[0], mac[1], mac[2], mac[3],
                 mac[4], mac[5]);
        if (strlen(text) != 17)
            abort();
        for (int i = 0; i < 17; i++) {
            char c = (char)tolower((unsigned char)text[i]);
            if (c == '-')
                c = ':';
            if (c != back[i])
                abort();
        }
    }
    int action = atx_action_parse(text);
    if (action >= 0) {
        if (action >= ATX_ACTION_COUNT)
            abort();
        if (strcmp(text, atx_action_name((enum atx_action)action)) != 0 && strcmp(text, "force_off") != 0 &&
            strcmp(text, "power-cycle") != 0 && strcmp(text, "power_cycle") != 0)
            abort();
    }
    return 0;
}
