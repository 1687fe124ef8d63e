#include "atx/atx.h"

#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/clock.h"
#include "common/config.h"

/* Set by SIGINT/SIGTERM/SIGHUP while a command runs: stop and release. */
static volatile sig_atomic_t cli_interrupted;

static void on_cli_signal(int sig)
{
    (void)sig;
    cli_interrupted = 1;
}

static void print_status(struct atx *atx, FILE *out)
{
    struct atx_status st;
    char line[1024];
    atx_get_status(atx, &st);
    atx_status_format(&st, line, sizeof(line));
    fprintf(out, "%s\n", line);
}

/* Waits for the first classification of the power LED (it must hold still
 * for standby_blink_ms before piglix calls it on or off). */
static void wait_power_known(struct atx *atx, const struct config_atx *cfg)
{
    int64_t until = clock_mono_ms() + cfg->standby_blink_ms + 2000;
    struct atx_status st;
    atx_get_status(atx, &st);
    while (st.power_led_wired && st.power == ATX_POWER_UNKNOWN && !cli_interrupted && clock_mono_ms() < until) {
        atx_wait_change(atx, st.generation, 200);
        atx_get_status(atx, &st);
    }
}

static int wait_outcome(struct atx *atx, uint64_t id, FILE *out)
{
    struct atx_status st;
    atx_get_status(atx, &st);
    while (st.last.id < id && !cli_interrupted) {
        atx_wait_change(atx, st.generation, 200);
        atx_get_status(atx, &st);
    }
    if (st.last.id < id) {
        fprintf(out, "action=%s outcome=interrupted\n", atx_action_name(st.current.action));
        return 1;
    }
    fprintf(out, "action=%s outcome=%s detail=\"%s\"\n", atx_action_name(st.last.action),
            atx_outcome_name(st.last.outcome), st.last.detail);
    enum atx_outcome o = st.last.outcome;
    return o == ATX_OUTCOME_DONE || o == ATX_OUTCOME_PRESSED || o == ATX_OUTCOME_SENT ? 0 : 1;
}

int atx_command(const struct config_atx *cfg, int n_args, char **args, FILE *out, FILE *err)
{
    int action = n_args == 1 ? atx_action_parse(args[0]) : -1;
    if (n_args != 1 || (action < 0 && strcmp(args[0], "status") != 0)) {
        fprintf(err, "usage: piglix atx status|on|off|force-off|reset|cycle|wol\n");
        return 2;
    }
    struct sigaction sa = {.sa_handler = on_cli_signal};
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);

    struct atx *atx = atx_start(cfg);
    if (!atx) {
        fprintf(err, "piglix atx: the ATX lines cannot be used (is the piglix daemon holding them?)\n");
        return 4;
    }
    wait_power_known(atx, cfg);
    int rc = 0;
    if (action >= 0 && !cli_interrupted) {
        char who[ATX_WHO_MAX];
        const struct passwd *pw = getpwuid(getuid());
        snprintf(who, sizeof(who), "cli:%s", pw ? pw->pw_name : "?");
        uint64_t id = 0;
        enum atx_error e = atx_request(atx, (enum atx_action)action, who, &id);
        if (e == ATX_OK) {
            rc = wait_outcome(atx, id, out);
        } else {
            fprintf(out, "action=%s outcome=%s\n", atx_action_name((enum atx_action)action), atx_error_name(e));
            rc = e == ATX_ERR_ALREADY ? 0 : 3;
        }
    }
    print_status(atx, out);
    atx_stop(atx);
    return cli_interrupted ? 1 : rc;
}
