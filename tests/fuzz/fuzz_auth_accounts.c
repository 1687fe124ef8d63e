/* libFuzzer target for the accounts file (web.users), which `piglix user`,
 * the web UI and older versions write and the daemon, Redfish and IPMI read:
 * whatever a line holds, an account that loads has a valid name and one of
 * the three roles, and what is saved loads back the same (names, roles). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "auth/auth.h"

static char dir[64];
static struct auth_accounts a, b;

static void cleanup(void)
{
    char path[128];
    snprintf(path, sizeof(path), "%s/web.users", dir);
    unlink(path);
    rmdir(dir);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!dir[0]) {
        snprintf(dir, sizeof(dir), "/tmp/piglix-fuzz-accounts-XXXXXX");
        if (!mkdtemp(dir))
            abort();
        atexit(cleanup);
    }
    if (size > 64 * 1024)
        return 0;
    char path[128];
    snprintf(path, sizeof(path), "%s/web.users", dir);
    FILE *f = fopen(path, "w");
    if (!f)
        abort();
    fwrite(data, 1, size, f);
    fclose(f);
    chmod(path, 0600);
    a.lock_fd = b.lock_fd = -1;
    if (auth_accounts_load(&a, dir, NULL) < 0)
        return 0;
    for (int i = 0; i < a.n; i++)
        if (!auth_name_valid(a.acc[i].name) || (int)a.acc[i].role < AUTH_ROLE_VIEWER ||
            a.acc[i].role > AUTH_ROLE_ADMIN)
            abort();
    if (a.n == 0)
        return 0;
    if (auth_accounts_save(&a, NULL) < 0 || auth_accounts_load(&b, dir, NULL) < 0 || b.n != a.n)
        abort();
    for (int i = 0; i < a.n; i++)
        if (strcmp(a.acc[i].name, b.acc[i].name) != 0 || a.acc[i].role != b.acc[i].role)
            abort();
    return 0;
}
