/* The list of checks `piglix doctor` runs, each given its own section (and
 * the same list for anything else that reports the appliance's health). */
#include "app/app.h"

#include <pwd.h>
#include <stdio.h>
#include <time.h>

#include "health/health.h"

void app_health_env(struct health_env *env)
{
    health_env_defaults(env);
    /* The package's daemon runs as "piglix" (deploy/systemd/piglix.service);
     * without that user (a build tree) the daemon is whoever runs this. */
    struct passwd pw, *res = NULL;
    char buf[1024];
    if (getpwnam_r("piglix", &pw, buf, sizeof(buf), &res) == 0 && res) {
        env->daemon_uid = res->pw_uid;
        snprintf(env->daemon_user, sizeof(env->daemon_user), "%s", res->pw_name);
    }
}

void app_health_run(const struct piglix_config *cfg, const struct health_env *env, struct health_report *report)
{
    report->n = 0;
    health_check_capture(report, env, &cfg->capture);
    health_check_video(report, env, &cfg->capture);
    /* frames and keyboard LEDs: from the daemon itself, or its status file */
    struct health_live file;
    const struct health_live *live = env->live;
    if (!live && health_live_read(cfg->state.dir, &file) == 0)
        live = &file;
    health_check_live(report, live, (int64_t)time(NULL), &cfg->hid);
    if (env->live) { /* the daemon itself: its threads (the doctor has none to see) */
        struct liveness_status st[LIVENESS_MAX];
        int n = liveness_snapshot(st, LIVENESS_MAX);
        health_check_threads(report, st, n < LIVENESS_MAX ? n : LIVENESS_MAX, liveness_deadline_ms());
    }
    health_check_cma(report, env, &cfg->capture);
    health_check_usb(report, env, &cfg->hid);
    health_check_mass_storage(report, env, &cfg->hid, &cfg->vmedia);
    health_check_image_store(report, env, &cfg->vmedia);
    health_check_atx(report, env, &cfg->atx);
    health_check_atx_lines(report, env, &cfg->atx);
    health_check_state(report, env, &cfg->state);
    health_check_vnc_password(report, env, &cfg->state, &cfg->vnc);
    health_check_web_accounts(report, env, &cfg->state, &cfg->web);
    health_check_certificate(report, &cfg->web, &cfg->state);
    health_check_ports(report, env, &cfg->vnc, &cfg->web, &cfg->ipmi, &cfg->state);
    health_check_clock(report, env);
    health_check_memory(report, env);
    health_check_temperature(report, env);
}
