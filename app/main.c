/* piglix: the daemon and its small command-line tools. */
#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "app/app.h"
#include "atx/atx.h"
#include "audit/audit.h"
#include "sensors/sensors.h"
#include "serial/serial.h"
#include "capture/capture.h"
#include "common/clock.h"
#include "common/config.h"
#include "common/liveness.h"
#include "common/log.h"
#include "common/prompt.h"
#include "common/sdnotify.h"
#include "common/statefile.h"
#include "health/health.h"
#include "hid/hid.h"
#include "server/server.h"
#include "vmedia/vmedia.h"
#include "ipmi/ipmi.h"
#include "web/web.h"

#define DEFAULT_CONFIG "/etc/piglix/piglix.ini"

/* 1: stop (SIGINT, SIGTERM); 2: reload the configuration (SIGHUP). */
static volatile sig_atomic_t stop_requested;

static void on_signal(int sig)
{
    if (sig == SIGHUP) {
        if (!stop_requested)
            stop_requested = 2;
    } else {
        stop_requested = 1;
    }
}

#define MAX_OVERRIDES 128

struct cmdline {
    const char *config_path;
    const char *overrides[MAX_OVERRIDES];
    int n_over;
};

/* Builds the configuration from defaults, the file and the overrides. */
static int load_config(const struct cmdline *cl, struct piglix_config *cfg, FILE *err)
{
    config_defaults(cfg);
    int bad = 0;
    if (cl->config_path && config_load_file(cfg, cl->config_path, err) < 0)
        bad = 1;
    for (int i = 0; i < cl->n_over; i++)
        if (config_set_override(cfg, cl->overrides[i], err) < 0)
            bad = 1;
    if (!bad && config_validate(cfg, err) < 0)
        bad = 1;
    if (!bad && sensors_check_config(&cfg->sensors, err) < 0)
        bad = 1;
    if (!bad && audit_check_config(&cfg->audit, err) < 0)
        bad = 1;
    return bad ? -1 : 0;
}

static struct capture_thread *start_capture(const struct piglix_config *cfg, struct capture_slot *slot)
{
    struct capture_source src = {0}; /* optional members (get_stats) stay NULL */
    if (strcmp(cfg->capture.source, "test") == 0) {
        if (capture_testsrc_create(&cfg->capture, app_type_echo(), &src) < 0)
            return NULL;
    } else if (strcmp(cfg->capture.source, "v4l2") == 0) {
        if (capture_v4l2_create(&cfg->capture, &src) < 0)
            return NULL;
    } else {
        LOG_ERROR("main", "[capture] source = %s is not available in this build", cfg->capture.source);
        return NULL;
    }
    struct capture_thread *ct = capture_thread_start(&src, slot);
    if (ct)
        LOG_INFO("main", "capture: source %s %dx%d@%d (%s, %s)", cfg->capture.source,
                 cfg->capture.width, cfg->capture.height, cfg->capture.fps,
                 strcmp(cfg->capture.source, "test") == 0 ? cfg->capture.scenario : cfg->capture.device,
                 cfg->capture.format);
    return ct;
}

/* SIGHUP: re-reads the configuration. Capture settings apply at once (the
 * source restarts, viewers follow a new size); others need a restart.
 * Returns the file's new configuration (for the health checks), NULL when
 * it is invalid. */
static const struct piglix_config *reload(const struct cmdline *cl, struct piglix_config *cfg, struct capture_slot *slot,
                   struct capture_thread **ct)
{
    static struct piglix_config next;
    if (load_config(cl, &next, stderr) < 0) {
        LOG_ERROR("main", "reload: configuration invalid, keeping the running one");
        audit_record(AUDIT_CONFIG_RELOAD, AUDIT_IF_SYSTEM, AUDIT_FAILED, NULL, NULL,
                     "configuration invalid, the running one kept");
        return NULL;
    }
    if (memcmp(&next.capture, &cfg->capture, sizeof(cfg->capture)) != 0) {
        capture_thread_stop(*ct);
        cfg->capture = next.capture;
        *ct = start_capture(cfg, slot);
        if (!*ct)
            LOG_ERROR("main", "reload: capture did not restart");
    }
    if (memcmp(&next.vnc, &cfg->vnc, sizeof(cfg->vnc)) != 0 ||
        memcmp(&next.encode, &cfg->encode, sizeof(cfg->encode)) != 0 ||
        memcmp(&next.state, &cfg->state, sizeof(cfg->state)) != 0 ||
        memcmp(&next.hid, &cfg->hid, sizeof(cfg->hid)) != 0 ||
        memcmp(&next.video, &cfg->video, sizeof(cfg->video)) != 0)
        LOG_WARN("main", "reload: [vnc], [encode], [hid], [video] and [state] changes apply after a restart");
    LOG_INFO("main", "configuration reloaded");
    audit_record(AUDIT_CONFIG_RELOAD, AUDIT_IF_SYSTEM, AUDIT_OK, NULL, NULL, "SIGHUP%s",
                 memcmp(&next.audit, &cfg->audit, sizeof(cfg->audit)) ? "; [audit] changes apply after a restart" : "");
    return &next;
}

static void usage(FILE *out)
{
    fprintf(out,
            "usage: piglix [options]                run the appliance\n"
            "       piglix [options] --check-config validate and print the effective config\n"
            "       piglix [options] vnc-passwd [--view-only]\n"
            "                                       set the VNC password (stdin when not a terminal);\n"
            "                                       --view-only: a second one whose viewers only watch\n"
            "       piglix [options] atx status|on|off|force-off|reset|cycle|wol\n"
            "                                       server power from the command line ([atx])\n"
            "       piglix [options] user add|passwd|del|token|totp-off|ipmi-passwd NAME, user list,\n"
            "                                       user add NAME --role admin|operator|viewer, user role NAME ROLE\n"
            "                                       manage web accounts (password from stdin)\n"
            "       piglix [options] gadget up|down make or remove the USB gadget (root; [hid])\n"
            "       piglix [options] doctor         check the appliance: one line per check, with the fix\n"
            "       piglix [options] api-routes     list the web API's routes and the least role of each\n"
            "options:\n"
            "  -c, --config FILE        INI file (default " DEFAULT_CONFIG " if it exists)\n"
            "  -o SECTION.KEY=VALUE     override one option (also --SECTION.KEY=VALUE)\n"
            "  -d, --debug              debug logging\n"
            "  -h, --help               this text\n");
}

static int cmd_vnc_passwd(const struct piglix_config *cfg, bool view_only)
{
    char pw[128], again[128];
    if (prompt_secret("New VNC password: ", pw, sizeof(pw), stderr) < 0) {
        fprintf(stderr, "vnc-passwd: no password given\n");
        return 1;
    }
    if (isatty(STDIN_FILENO)) {
        if (prompt_secret("Again: ", again, sizeof(again), stderr) < 0 || strcmp(pw, again) != 0) {
            fprintf(stderr, "vnc-passwd: the passwords differ\n");
            return 1;
        }
    }
    int r = view_only ? vnc_auth_store_view_password(cfg->state.dir, pw, stderr)
                      : vnc_auth_store_password(cfg->state.dir, pw, stderr);
    memset(pw, 0, sizeof(pw));
    memset(again, 0, sizeof(again));
    if (r < 0)
        return 1;
    if (view_only)
        fprintf(stderr, "view-only VNC password stored in %s/vnc-view.passwd (read when piglix starts)\n",
                cfg->state.dir);
    else
        fprintf(stderr, "VNC password stored in %s/vnc.passwd\n", cfg->state.dir);
    return 0;
}

/* `piglix gadget up`: vmedia's mass-storage function and the serial
 * console's ACM function join hid's gadget. */
static int add_vmedia_function(void *ctx, struct gadget *g)
{
    const struct piglix_config *cfg = ctx;
    if (cfg->vmedia.enabled && vmedia_drive_gadget_up(&cfg->vmedia, cfg->state.dir, g) < 0)
        return -1;
    return serial_gadget_add(&cfg->serial, g) < 0 ? -1 : 0;
}

/* `piglix gadget up|down`: the USB gadget made (and bound) or removed by
 * root, so the daemon itself never needs to write configfs (it attaches). */
static int cmd_gadget(const struct piglix_config *cfg, int n_args, char **args)
{
    if (n_args == 1 && strcmp(args[0], "up") == 0) {
        if (!cfg->hid.enabled) {
            fprintf(stderr, "piglix gadget up: [hid] enabled = no: nothing to do\n");
            return 0;
        }
        /* the daemon's user owns [state] dir (deploy/debian/postinst) */
        struct stat st;
        uid_t uid = (uid_t)-1;
        gid_t gid = (gid_t)-1;
        if (stat(cfg->state.dir, &st) == 0) {
            uid = st.st_uid;
            gid = st.st_gid;
        } else {
            fprintf(stderr, "piglix gadget up: [state] dir %s: %s: the daemon's user is unknown, USB remote wakeup "
                    "stays root's\n", cfg->state.dir, strerror(errno));
        }
        return hid_usb_gadget_up(&cfg->hid, uid, gid, add_vmedia_function, (void *)cfg) == 0 ? 0 : 1;
    }
    if (n_args == 1 && strcmp(args[0], "down") == 0) {
        hid_usb_gadget_down();
        return 0;
    }
    fprintf(stderr, "usage: piglix gadget up|down\n");
    return 2;
}

static int cmd_user(const struct piglix_config *cfg, int n_args, char **args)
{
    return app_user_command(cfg, n_args, args, stdout, stderr);
}

/* `piglix api-routes`: the web API's route table with each route's least
 * role (the role-matrix test walks it; web/API.md documents it). */
static int cmd_api_routes(const struct piglix_config *cfg, int n_args, char **args)
{
    (void)cfg;
    (void)n_args;
    (void)args;
    web_routes_print(stdout);
    return 0;
}

static int cmd_atx(const struct piglix_config *cfg, int n_args, char **args)
{
    return atx_command(&cfg->atx, n_args, args, stdout, stderr);
}

static int cmd_vnc_passwd_args(const struct piglix_config *cfg, int n_args, char **args)
{
    bool view_only = n_args == 1 && strcmp(args[0], "--view-only") == 0;
    if (n_args && !view_only) {
        fprintf(stderr, "usage: piglix vnc-passwd [--view-only]\n");
        return 2;
    }
    return cmd_vnc_passwd(cfg, view_only);
}

/* `piglix doctor`: every check of health/, each with its own section;
 * exit status 1 when one is a problem (warnings alone are 0). */
static int cmd_doctor(const struct piglix_config *cfg, int n_args, char **args)
{
    struct health_env env;
    app_health_env(&env);
    static struct health_report report; /* 12 KiB: not on the stack */
    app_health_run(cfg, &env, &report);
    health_print(&report, stdout);
    return health_worst(&report) == HEALTH_PROBLEM ? 1 : 0;
}

/* The subcommands: what `piglix COMMAND ARGS` runs instead of the daemon. */
static const struct subcommand {
    const char *name;
    int max_args;
    bool as_state_owner;        /* writes [state] dir: run as its owner when root */
    int (*run)(const struct piglix_config *cfg, int n_args, char **args);
} subcommands[] = {
    {"vnc-passwd", 1, true, cmd_vnc_passwd_args},
    {"user", 4, true, cmd_user},
    {"atx", 4, false, cmd_atx},
    {"gadget", 1, false, cmd_gadget},
    {"doctor", 0, false, cmd_doctor},
    {"api-routes", 0, false, cmd_api_routes},
};

static const struct subcommand *find_subcommand(const char *name)
{
    for (size_t i = 0; i < sizeof(subcommands) / sizeof(subcommands[0]); i++)
        if (strcmp(subcommands[i].name, name) == 0)
            return &subcommands[i];
    return NULL;
}

/* Who is connected and who types (control/): made in main() before any
 * interface, destroyed after all of them. */
static struct app_control *control;

static void show_keyboard_leds(void *srv, unsigned leds)
{
    server_set_keyboard_leds(srv, leds);
}

/* The keyboard and mice (and USB drive) once the USB device controller is
 * there: at start or on a later turn of the loop. */
static void poll_usb(struct app_usb *usb, struct server *srv, struct web *web)
{
    if (!usb || app_usb_poll(usb, clock_mono_ms()) != 1)
        return;
    hid_device_set_led_callback(app_usb_device(usb), show_keyboard_leds, srv);
    app_control_set_device(control, app_usb_device(usb));
    web_set_vmedia_drive(web, app_usb_drive(usb));
}

/* The server loop, beating as "vnc" every turn (common/liveness.h: the
 * watchdog thread feeds systemd only while this and every other thread
 * beat): a turn waits at most half the deadline, so a wedged loop (not a
 * slow client) starves WatchdogSec=. */
static int serve(struct server *srv, struct liveness *live, struct app_usb *usb, struct web *web)
{
    while (!stop_requested) {
        liveness_beat(live);
        if (server_run_once(srv, liveness_poll_ms(1000)) < 0)
            return -1;
        poll_usb(usb, srv, web);
    }
    return 0;
}

/* Viewers' keys and pointer go to the USB keyboard and mice ([hid]
 * enabled: once the USB device controller is there, app/usb_wait.c) or are
 * only logged. */
static int start_input(const struct piglix_config *cfg, struct app_usb **usb, struct hid_input *input,
                       struct hid_log_counters *counters, struct vmedia_store *store)
{
    *usb = NULL;
    if (!cfg->hid.enabled) {
        if (store)
            LOG_WARN("main", "[vmedia] without [hid]: the image store works, the USB drive needs the gadget");
        hid_log_input_init(input, counters);
        return 0;
    }
    if (!(*usb = app_usb_create(cfg, store, counters)))
        return -1;
    app_usb_input(*usb, input);
    return 0;
}

/* The server goes first (closing viewers releases their keys), then the
 * gadget; the LED callback into the server stops before either. */
static void stop_server_and_input(struct server *srv, struct app_usb *usb)
{
    if (app_usb_device(usb))
        hid_device_set_led_callback(app_usb_device(usb), NULL, NULL);
    server_destroy(srv);
    app_usb_destroy(usb);
}

static int open_store(const struct piglix_config *cfg, struct vmedia_store **store)
{
    *store = NULL;
    if (!cfg->vmedia.enabled)
        return 0;
    struct vmedia_url_policy policy;
    if (vmedia_url_policy_init(&policy, cfg->vmedia.url_private, cfg->vmedia.url_allow) < 0) {
        LOG_ERROR("main", "[vmedia] url_allow: not a list of IP addresses");
        return -1;
    }
    int r = vmedia_store_open(cfg->vmedia.dir, (uint64_t)cfg->vmedia.max_size_mb << 20, store);
    if (r != VMEDIA_OK) {
        LOG_ERROR("main", "[vmedia] dir %s: %s", cfg->vmedia.dir, vmedia_strerror(r));
        return -1;
    }
    vmedia_store_set_url_policy(*store, &policy);
    return 0;
}

static int run_daemon(const struct cmdline *cl, struct piglix_config *cfg, struct atx *atx,
                      struct sensors *sensors, struct serial_console *serial)
{
    struct capture_slot *slot = capture_slot_create();
    struct hid_log_counters counters = {0};
    struct hid_input input;
    struct app_usb *usb = NULL;
    struct vmedia_store *store = NULL;
    if (!slot || open_store(cfg, &store) < 0 || start_input(cfg, &usb, &input, &counters, store) < 0 ||
        app_type_echo_wrap(cfg, &input) < 0) {
        vmedia_store_close(store);
        capture_slot_destroy(slot);
        return 1;
    }
    app_usb_set_serial(usb, serial);    /* [serial] device = gadget: its tty follows the gadget */
    struct server_params sp = {.vnc = &cfg->vnc, .encode = &cfg->encode, .width = (unsigned)cfg->capture.width,
                               .height = (unsigned)cfg->capture.height, .state_dir = cfg->state.dir};
    sp.video = &cfg->video; /* H.264 (vid-h264) */
    sp.fps = (unsigned)cfg->capture.fps;
    struct server *srv = server_create(&sp, slot, &input);
    if (srv)
        server_set_control(srv, app_control_get(control));
    struct capture_thread *ct = srv ? start_capture(cfg, slot) : NULL;
    if (!ct) {
        stop_server_and_input(srv, usb);
        vmedia_store_close(store);
        capture_slot_destroy(slot);
        return 1;
    }
    /* The web API's HID calls go to the USB device; without one (yet) they
     * say 503 (browsers' keys and pointer still go through the VNC server). */
    struct web *web = NULL;
    struct web_hid web_hid = {0};
    if (usb)
        app_usb_web_hid(usb, &web_hid);
    struct web_params wp = {.web = &cfg->web, .redfish = &cfg->redfish, .state_dir = cfg->state.dir,
                            .capture_source = cfg->capture.source, .sensors_poll_ms = cfg->sensors.poll_ms,
                            .upload_idle_s = cfg->vmedia.upload_idle_s};
    struct app_health *health = NULL;
    /* frames and keyboard LEDs for piglix doctor and /api/health */
    struct app_live *live = app_live_start(cfg->state.dir, slot, &web_hid);
    if (cfg->web.enabled && (web = web_create(&wp, srv, slot, &web_hid, atx))) {
        web_set_vmedia(web, store, NULL);
        web_set_sensors(web, sensors);
        web_set_control(web, app_control_get(control));
        /* GET /api/health: the doctor's checks, run off the web thread */
        struct web_health wh;
        app_health_web(health = app_health_start(cfg, live), &wh);
        web_set_health(web, &wh);
        /* [ipmi] on: its Serial-over-LAN payload serves the same console. */
        web_set_serial(web, serial, cfg->ipmi.enabled);
    }
    if (cfg->web.enabled && (!web || web_start(web) < 0)) {
        web_destroy(web);
        app_health_stop(health);
        app_live_stop(live);
        capture_thread_stop(ct);
        stop_server_and_input(srv, usb);
        vmedia_store_close(store);
        capture_slot_destroy(slot);
        return 1;
    }
    /* The keyboard, mice and drive now, or later when the USB device
     * controller appears: absent hardware is not a reason to exit. */
    poll_usb(usb, srv, web);
    LOG_INFO("main", "piglix running; VNC on port %d", cfg->vnc.port);
    /* Type=notify: systemd starts dependent units once the ports are bound. */
    struct liveness *vnc_live = liveness_register("vnc");
    sdnotify_send("READY=1\nSTATUS=serving");
    int r;
    for (;;) {
        r = serve(srv, vnc_live, usb, web);
        if (r != 0 || stop_requested != 2)
            break;
        stop_requested = 0;
        sdnotify_send("RELOADING=1");
        const struct piglix_config *next = reload(cl, cfg, slot, &ct);
        if (next)
            app_health_reconfigure(health, next); /* /api/health checks what the file now says */
        sdnotify_send("READY=1");
    }
    liveness_unregister(vnc_live); /* stopping: no longer a loop that turns */
    sdnotify_send("STOPPING=1");
    LOG_INFO("main", "stopping");
    web_destroy(web);
    app_health_stop(health);
    app_live_stop(live);
    capture_thread_stop(ct);
    struct server_stats st;
    server_get_stats(srv, &st);
    LOG_INFO("main", "served %llu connections, %llu updates, %llu bytes; %llu frames (%llu static), "
             "%llu encodes, %llu shared, %llu lossless refreshes; input events: %llu keys, %llu scancodes, %llu pointer",
             (unsigned long long)st.connections, (unsigned long long)st.updates_sent,
             (unsigned long long)st.bytes_sent, (unsigned long long)st.frames,
             (unsigned long long)st.static_frames, (unsigned long long)st.encodes,
             (unsigned long long)st.encode_cache_hits, (unsigned long long)st.lossless_refreshes,
             (unsigned long long)counters.key_sym,
             (unsigned long long)counters.key_code, (unsigned long long)counters.pointer);
    stop_server_and_input(srv, usb);
    vmedia_store_close(store);
    capture_slot_destroy(slot);
    return r == 0 ? 0 : 1;
}

int main(int argc, char **argv)
{
    static struct piglix_config cfg;
    static struct cmdline cl;
    bool check = false, debug = false;

    static const struct option longopts[] = {
        {"config", required_argument, NULL, 'c'},
        {"check-config", no_argument, NULL, 'C'},
        {"debug", no_argument, NULL, 'd'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    /* Accept --section.key=value by taking it out before getopt sees it
     * (out of argv, not replaced: getopt stops at the first non-option). */
    int kept = 1;
    for (int i = 1; i < argc; i++) {
        if (strncmp(argv[i], "--", 2) == 0 && strchr(argv[i], '.') && strchr(argv[i], '=') &&
            strchr(argv[i], '.') < strchr(argv[i], '=')) {
            if (cl.n_over >= MAX_OVERRIDES) {
                fprintf(stderr, "piglix: too many overrides\n");
                return 2;
            }
            cl.overrides[cl.n_over++] = argv[i] + 2;
        } else {
            argv[kept++] = argv[i];
        }
    }
    argc = kept;
    argv[argc] = NULL;
    int opt;
    /* "+": options end at the subcommand, whose own flags (user add NAME
     * --role R, vnc-passwd --view-only) are its arguments. */
    while ((opt = getopt_long(argc, argv, "+c:o:dh", longopts, NULL)) != -1) {
        switch (opt) {
        case 'c': cl.config_path = optarg; break;
        case 'C': check = true; break;
        case 'd': debug = true; break;
        case 'o':
            if (cl.n_over >= MAX_OVERRIDES) {
                fprintf(stderr, "piglix: too many overrides\n");
                return 2;
            }
            cl.overrides[cl.n_over++] = optarg;
            break;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
    }
    const struct subcommand *command = NULL;
    char *args[4];
    int n_args = 0;
    for (int i = optind; i < argc; i++) {
        if (strcmp(argv[i], "-") == 0)
            continue;
        if (!command) {
            if (!(command = find_subcommand(argv[i]))) {
                fprintf(stderr, "piglix: unknown command '%s'\n", argv[i]);
                usage(stderr);
                return 2;
            }
            continue;
        }
        if (n_args >= command->max_args) {
            fprintf(stderr, "piglix: unexpected argument '%s'\n", argv[i]);
            return 2;
        }
        args[n_args++] = argv[i];
    }

    if (!cl.config_path && access(DEFAULT_CONFIG, F_OK) == 0)
        cl.config_path = DEFAULT_CONFIG;
    if (load_config(&cl, &cfg, stderr) < 0) {
        fprintf(stderr, "piglix: configuration invalid%s%s\n", cl.config_path ? " in " : "",
                cl.config_path ? cl.config_path : "");
        return 2;
    }
    if (check) {
        printf("# effective configuration%s%s\n", cl.config_path ? " from " : " (defaults)",
               cl.config_path ? cl.config_path : "");
        config_print(&cfg, stdout);
        return 0;
    }
    log_set_level(debug ? LOG_LEVEL_DEBUG : (enum log_level)log_level_parse(cfg.log.level));
    if (command) {
        /* Run as root on the daemon's state: write as the daemon's user. */
        if (command->as_state_owner && statefile_as_dir_owner(cfg.state.dir, stderr) < 0)
            return 1;
        /* What a command changes is in the audit log, written before it
         * returns (no writer thread in a one-shot process). */
        bool audited = command->as_state_owner && access(cfg.state.dir, W_OK) == 0 &&
                       audit_open(&cfg.audit, cfg.state.dir, true, stderr) == 0;
        int crc = command->run(&cfg, n_args, args);
        if (audited)
            audit_close();
        return crc;
    }

    struct sigaction sa = {.sa_handler = on_signal};
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    /* Before any thread registers: the deadline each is held to, and the
     * thread that feeds systemd's watchdog while all of them beat. */
    liveness_set_deadline_ms(cfg.watchdog.deadline_ms);
    liveness_watchdog_start();
    /* Before any other thread: atx forks its button-release guard. */
    /* The state dir holds the audit log (and later the web server's files):
     * made here, owner-only, when missing. An audit log that cannot be
     * written is no reason to leave the server unmanaged: every record
     * still goes to the journal, and the log says so. */
    if (mkdir(cfg.state.dir, 0700) < 0 && errno != EEXIST)
        LOG_WARN("main", "[state] dir %s: %s", cfg.state.dir, strerror(errno));
    /* What a crash or a power cut left mid-write: the files themselves
     * hold the old or the new content (statefile.h). */
    int stray = statefile_clean_temps(cfg.state.dir, stderr);
    if (stray > 0)
        LOG_INFO("main", "removed %d temporary file(s) a crash left in %s", stray, cfg.state.dir);
    if (audit_open(&cfg.audit, cfg.state.dir, false, stderr) < 0)
        LOG_WARN("main", "the audit log under %s cannot be written: its records go to the journal only",
                 cfg.state.dir);
    audit_record(AUDIT_SERVICE_START, AUDIT_IF_SYSTEM, AUDIT_OK, NULL, NULL, "piglix started");
    struct atx *atx = NULL;
    if (cfg.atx.enabled && !(atx = atx_start(&cfg.atx))) {
        audit_close();
        return 1;
    }
    /* Sensors read the intrusion input: after atx, stopped after the web server. */
    struct sensors *sensors = NULL;
    if (cfg.sensors.enabled && !(sensors = sensors_start(&cfg.sensors, atx))) {
        atx_stop(atx);
        audit_close();
        return 1;
    }
    /* The serial console: a missing device is retried, never fatal. */
    struct serial_console *serial = NULL;
    if (cfg.serial.enabled) {
        char err[256];
        if (!(serial = serial_start(&cfg.serial, cfg.state.dir, err, sizeof(err)))) {
            LOG_ERROR("main", "%s", err);
            sensors_stop(sensors);
            atx_stop(atx);
            return 1;
        }
    }
    /* IPMI over LAN uses all three (Serial-over-LAN on the console):
     * started after them, stopped before. With [ipmi] off this only
     * removes any stored IPMI passwords. */
    struct ipmi *ipmi = ipmi_start(&cfg.ipmi, cfg.state.dir, atx, sensors, serial);
    if (cfg.ipmi.enabled && !ipmi) {
        serial_stop(serial);
        sensors_stop(sensors);
        atx_stop(atx);
        audit_close();
        return 1;
    }
    if (!(control = app_control_create(&cfg.control))) {
        ipmi_stop(ipmi);
        serial_stop(serial);
        sensors_stop(sensors);
        atx_stop(atx);
        return 1;
    }
    ipmi_set_control(ipmi, app_control_get(control));
    int rc = run_daemon(&cl, &cfg, atx, sensors, serial);
    ipmi_stop(ipmi);
    serial_stop(serial);
    app_control_destroy(control);
    sensors_stop(sensors);
    atx_stop(atx);
    audit_record(AUDIT_SERVICE_STOP, AUDIT_IF_SYSTEM, AUDIT_OK, NULL, NULL, "piglix stopped");
    audit_close();
    liveness_watchdog_stop();
    return rc;
}
