/* atx_driver: runs a script of ATX API calls in one process, the way the web
 * API will (several requests into one running atx), for tests/vm/test_atx.py.
 *
 *   atx_driver CONFIG STEP...
 *   steps: request ACTION WHO      -> "request ACTION WHO: ERROR id=N"
 *          status                  -> the status line
 *          sleep MS
 *          wait-power STATE MS     -> "power STATE after N ms" (exit 1 on timeout)
 *          wait-last ID MS         -> "last id=.. action=.. outcome=.. detail=".."" (exit 1 on timeout)
 *          write PATH TEXT         -> writes TEXT to PATH (a module parameter)
 * Each step is one argument with spaces ("request off alice"). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "atx/atx.h"
#include "common/clock.h"
#include "common/config.h"
#include "common/log.h"

static void sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static void print_status(struct atx *atx)
{
    struct atx_status st;
    char line[1024];
    atx_get_status(atx, &st);
    atx_status_format(&st, line, sizeof(line));
    printf("status %s\n", line);
}

static int wait_power(struct atx *atx, const char *want, int ms)
{
    int64_t start = clock_mono_ms();
    struct atx_status st;
    atx_get_status(atx, &st);
    while (strcmp(atx_power_name(st.power), want) != 0) {
        if (clock_mono_ms() - start >= ms) {
            printf("power timeout waiting for %s (now %s)\n", want, atx_power_name(st.power));
            return -1;
        }
        atx_wait_change(atx, st.generation, 100);
        atx_get_status(atx, &st);
    }
    printf("power %s after %lld ms\n", want, (long long)(clock_mono_ms() - start));
    return 0;
}

static int wait_last(struct atx *atx, uint64_t id, int ms)
{
    int64_t start = clock_mono_ms();
    struct atx_status st;
    atx_get_status(atx, &st);
    while (st.last.id < id) {
        if (clock_mono_ms() - start >= ms) {
            printf("last timeout waiting for id %llu\n", (unsigned long long)id);
            return -1;
        }
        atx_wait_change(atx, st.generation, 100);
        atx_get_status(atx, &st);
    }
    printf("last id=%llu action=%s by=%s outcome=%s detail=\"%s\" ms=%lld\n", (unsigned long long)st.last.id,
           atx_action_name(st.last.action), st.last.who, atx_outcome_name(st.last.outcome), st.last.detail,
           (long long)(st.last.finished_ms - st.last.started_ms));
    return 0;
}

static int step(struct atx *atx, const char *text)
{
    char verb[32] = "", a[256] = "", b[256] = "";
    int n = sscanf(text, "%31s %255s %255[^\n]", verb, a, b);
    if (strcmp(verb, "request") == 0 && n == 3) {
        uint64_t id = 0;
        int action = atx_action_parse(a);
        enum atx_error e = action < 0 ? ATX_ERR_INVALID : atx_request(atx, (enum atx_action)action, b, &id);
        printf("request %s %s: %s id=%llu\n", a, b, atx_error_name(e), (unsigned long long)id);
        return 0;
    }
    if (strcmp(verb, "status") == 0) {
        print_status(atx);
        return 0;
    }
    if (strcmp(verb, "sleep") == 0 && n >= 2) {
        sleep_ms(atoi(a));
        return 0;
    }
    if (strcmp(verb, "wait-power") == 0 && n == 3)
        return wait_power(atx, a, atoi(b));
    if (strcmp(verb, "wait-last") == 0 && n == 3)
        return wait_last(atx, strtoull(a, NULL, 10), atoi(b));
    if (strcmp(verb, "write") == 0 && n == 3) {
        FILE *f = fopen(a, "w");
        int bad = !f || fputs(b, f) < 0;
        if (f && fclose(f) != 0)
            bad = 1;
        printf("write %s %s: %s\n", a, b, bad ? "failed" : "ok");
        return bad ? -1 : 0;
    }
    fprintf(stderr, "atx_driver: bad step '%s'\n", text);
    return -1;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: atx_driver CONFIG STEP...\n");
        return 2;
    }
    setvbuf(stdout, NULL, _IOLBF, 0);
    static struct piglix_config cfg;
    config_defaults(&cfg);
    if (config_load_file(&cfg, argv[1], stderr) < 0 || config_validate(&cfg, stderr) < 0)
        return 2;
    struct atx *atx = atx_start(&cfg.atx);
    if (!atx)
        return 4;
    int rc = 0;
    for (int i = 2; i < argc && rc == 0; i++)
        if (step(atx, argv[i]) < 0)
            rc = 1;
    atx_stop(atx);
    return rc;
}
