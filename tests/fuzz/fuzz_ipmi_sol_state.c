/* libFuzzer target for ipmi/ipmi_sol_state.c's parser: whatever ipmi.sol
 * holds (a hand edit, a torn disk), the parameters stay in their ranges
 * (the retry count 0-7, the privilege Operator or Administrator, the
 * accumulate interval and threshold at least 1), and it never reads past
 * the input. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "ipmi/ipmi_internal.h"
#include "ipmi/ipmi_sol.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct ipmi_sol_config k;
    ipmi_sol_config_defaults(&k);
    int bad = ipmi_sol_state_parse((const char *)data, size, &k);
    if (bad < 0 || k.retry_count > 7 || k.privilege < IPMI_PRIV_OPERATOR || k.privilege > IPMI_PRIV_ADMIN ||
        k.accumulate_5ms == 0 || k.threshold == 0 || k.set_in_progress != 0)
        abort();
    return 0;
}
