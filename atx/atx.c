/* The ATX thread and the public API: requests are checked and handed over
 * under the lock; the thread owns the lines, the LEDs' state machines and the
 * running sequence, and publishes the status. */
#include "atx/atx.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "atx/gpio.h"
#include "atx/guard.h"
#include "atx/led.h"
#include "atx/seq.h"
#include "atx/wol.h"
#include "common/liveness.h"
#include "common/clock.h"
#include "common/config.h"
#include "common/log.h"
#include "common/thread.h"

#define RESET_SETTLE_MS 500
#define CHIP_RETRY_MS 5000 /* like the USB device controller's (app/usb_wait.c) */

struct atx {
    pthread_mutex_t lock;
    pthread_cond_t changed;
    pthread_t thread;
    int wake_fd;              /* requests and stop -> thread */
    int notify_fd;            /* status changed -> a consumer's poll loop */

    /* under lock */
    struct atx_status st;
    bool stopping;
    bool pending;             /* st.current was asked for and not started yet */
    bool waiting;             /* the running action holds no button */
    uint64_t next_id;

    /* the thread's own */
    struct atx_gpio *gpio;
    struct atx_guard guard;
    struct atx_guard_line guard_lines[ATX_GUARD_MAX_LINES];
    int n_guard_lines;
    struct atx_led leds[ATX_INPUT_COUNT];
    struct atx_seq seq;
    uint64_t seq_id;          /* the action record seq runs */
    struct atx_seq_timing timing;
    enum atx_button held;
    uint8_t mac[6];
    char wol_interface[32], wol_address[64];
    int wol_port;
    struct config_atx cfg;    /* for a chip that comes after the start */
    int64_t chip_retry_ms;    /* when to look for the chip again; 0: not waiting */
};

/* Under lock: a change everyone waiting should see. */
static void publish(struct atx *a)
{
    a->st.generation++;
    pthread_cond_broadcast(&a->changed);
    uint64_t one = 1;
    ssize_t r = write(a->notify_fd, &one, sizeof(one));
    (void)r; /* a full counter already says "changed" */
}

/* ---- the thread ------------------------------------------------------------- */

static const char *button_name(enum atx_button b)
{
    return b == ATX_BUTTON_POWER ? "power" : b == ATX_BUTTON_RESET ? "reset" : "no";
}

/* Makes the held button what the sequence wants; a failed press ends it.
 * A press is not started while a request is pending: that request may be a
 * force-off that atx_request() let replace this action because it was only
 * waiting, and the next turn of the loop starts it. */
static void apply_hold(struct atx *a, int64_t now)
{
    enum atx_button want = a->seq.running ? a->seq.hold : ATX_BUTTON_NONE;
    if (want == a->held)
        return;
    if (a->held != ATX_BUTTON_NONE) {
        LOG_DEBUG("atx", "%s button released", button_name(a->held));
        atx_gpio_release(a->gpio);
        a->held = ATX_BUTTON_NONE;
    }
    pthread_mutex_lock(&a->lock);
    bool hold_off = a->pending;
    if (a->st.busy && a->st.current.id == a->seq_id)
        a->waiting = want == ATX_BUTTON_NONE || hold_off;
    pthread_mutex_unlock(&a->lock);
    if (want == ATX_BUTTON_NONE || hold_off)
        return;
    if (atx_gpio_press(a->gpio, want) < 0) {
        char detail[64];
        snprintf(detail, sizeof(detail), "cannot press the %s button", button_name(want));
        atx_seq_abort(&a->seq, ATX_OUTCOME_FAILED, detail, now);
        return;
    }
    LOG_DEBUG("atx", "%s button pressed", button_name(want));
    a->held = want;
    atx_seq_pressed(&a->seq, clock_mono_ms());
}

/* Under lock: the current action ended. */
static void record_finish(struct atx *a, enum atx_outcome outcome, const char *detail, int64_t now)
{
    struct atx_action_record *c = &a->st.current;
    c->outcome = outcome;
    c->finished_ms = now;
    snprintf(c->detail, sizeof(c->detail), "%s", detail);
    a->st.last = *c;
    a->st.busy = false;
    a->waiting = false;
    memset(c, 0, sizeof(*c));
    bool good = outcome == ATX_OUTCOME_DONE || outcome == ATX_OUTCOME_PRESSED || outcome == ATX_OUTCOME_SENT;
    log_msg(good ? LOG_LEVEL_INFO : LOG_LEVEL_WARN, "atx", "%s by %s: %s (%s)",
            atx_action_name(a->st.last.action), a->st.last.who, atx_outcome_name(outcome), detail);
    publish(a);
}

static void send_wol(struct atx *a, int64_t now)
{
    char err[ATX_DETAIL_MAX];
    int r = atx_wol_send(a->mac, a->wol_interface, a->wol_address, a->wol_port, err, sizeof(err));
    char detail[ATX_DETAIL_MAX];
    if (r == 0)
        snprintf(detail, sizeof(detail), "magic packet for %02x:%02x:%02x:%02x:%02x:%02x to %s:%d%s%s",
                 a->mac[0], a->mac[1], a->mac[2], a->mac[3], a->mac[4], a->mac[5], a->wol_address,
                 a->wol_port, a->wol_interface[0] ? " via " : "", a->wol_interface);
    else
        snprintf(detail, sizeof(detail), "%s", err);
    pthread_mutex_lock(&a->lock);
    if (a->st.busy && a->st.current.id == a->seq_id)
        record_finish(a, r == 0 ? ATX_OUTCOME_SENT : ATX_OUTCOME_FAILED, detail, clock_mono_ms());
    pthread_mutex_unlock(&a->lock);
}

/* Starts what atx_request() handed over. A sequence still running was
 * superseded: atx_request() already recorded that, so it just ends here. */
static void start_pending(struct atx *a, int64_t now)
{
    pthread_mutex_lock(&a->lock);
    bool pending = a->pending;
    a->pending = false;
    uint64_t id = a->st.current.id;
    enum atx_action action = a->st.current.action;
    enum atx_power power = a->st.power;
    bool have_led = a->st.power_led_wired;
    pthread_mutex_unlock(&a->lock);
    if (!pending)
        return;
    if (a->seq.running) {
        atx_seq_abort(&a->seq, ATX_OUTCOME_SUPERSEDED, "superseded", now);
        apply_hold(a, now);
    }
    a->seq_id = id;
    if (action == ATX_ACTION_WOL)
        send_wol(a, now);
    else
        atx_seq_start(&a->seq, action, power, have_led, &a->timing, now);
}

/* Records the end of the thread's sequence, unless atx_request() already
 * recorded it as superseded (then current is another action). */
static void finish_sequence(struct atx *a, int64_t now)
{
    pthread_mutex_lock(&a->lock);
    if (a->st.busy && a->st.current.id == a->seq_id)
        record_finish(a, a->seq.outcome, a->seq.detail, now);
    pthread_mutex_unlock(&a->lock);
}

/* Steps the running sequence and records its end. */
static void run_sequence(struct atx *a, int64_t now)
{
    if (!a->seq.running)
        return;
    pthread_mutex_lock(&a->lock);
    enum atx_power power = a->st.power;
    pthread_mutex_unlock(&a->lock);
    atx_seq_step(&a->seq, power, now);
    apply_hold(a, now);
    if (!a->seq.running)
        finish_sequence(a, now);
}

static enum atx_power power_of(const struct atx_led *led)
{
    switch (led->state) {
    case ATX_LED_ON: return ATX_POWER_ON;
    case ATX_LED_OFF: return ATX_POWER_OFF;
    case ATX_LED_BLINKING: return ATX_POWER_STANDBY;
    default: return ATX_POWER_UNKNOWN;
    }
}

/* Copies what the LEDs say into the status. */
static void publish_inputs(struct atx *a)
{
    pthread_mutex_lock(&a->lock);
    struct atx_status *st = &a->st;
    enum atx_power power = st->power_led_wired ? power_of(&a->leds[ATX_INPUT_POWER_LED]) : ATX_POWER_UNKNOWN;
    bool power_led = st->power_led_wired && a->leds[ATX_INPUT_POWER_LED].level;
    bool hdd_led = st->hdd_led_wired && a->leds[ATX_INPUT_HDD_LED].level;
    uint64_t activity = st->hdd_led_wired ? a->leds[ATX_INPUT_HDD_LED].flashes : 0;
    bool intrusion = st->intrusion_wired && a->leds[ATX_INPUT_INTRUSION].level;
    if (power != st->power)
        LOG_INFO("atx", "power: %s", atx_power_name(power));
    if (intrusion != st->intrusion)
        LOG_WARN("atx", "chassis %s", intrusion ? "opened" : "closed");
    if (power != st->power || power_led != st->power_led || hdd_led != st->hdd_led ||
        activity != st->hdd_activity || intrusion != st->intrusion) {
        st->power = power;
        st->power_led = power_led;
        st->hdd_led = hdd_led;
        st->hdd_activity = activity;
        st->intrusion = intrusion;
        publish(a);
    }
    pthread_mutex_unlock(&a->lock);
}

/* Feeds pending edges and the passing of time to the input state machines. */
static void update_inputs(struct atx *a, struct pollfd *fds, const int *fd_input, int n_fds, int64_t now)
{
    for (int i = 0; i < n_fds; i++) {
        if (fd_input[i] < 0 || !(fds[i].revents & (POLLIN | POLLERR | POLLHUP)))
            continue;
        struct atx_gpio_edge edges[16];
        int n = atx_gpio_read_edges(a->gpio, fd_input[i], edges, 16);
        if (n < 0) {
            fds[i].fd = -1; /* logged; an input that cannot be read is not polled again */
            continue;
        }
        for (int e = 0; e < n; e++)
            atx_led_input(&a->leds[fd_input[i]], edges[e].level, edges[e].ms);
    }
    for (int i = 0; i < ATX_INPUT_COUNT; i++)
        if (atx_gpio_has_input(a->gpio, i))
            atx_led_tick(&a->leds[i], now);
    publish_inputs(a);
}

static int poll_timeout(const struct atx *a, int64_t now)
{
    int64_t next = a->seq.running ? a->seq.deadline : INT64_MAX;
    if (a->chip_retry_ms && a->chip_retry_ms < next)
        next = a->chip_retry_ms;
    for (int i = 0; i < ATX_INPUT_COUNT; i++) {
        if (!atx_gpio_has_input(a->gpio, i))
            continue;
        int64_t d = atx_led_deadline(&a->leds[i]);
        if (d < next)
            next = d;
    }
    if (next == INT64_MAX)
        return -1;
    return next <= now ? 0 : next - now > 60000 ? 60000 : (int)(next - now);
}

/* The guard's socket reads EOF or hangs up only when the guard is gone. */
static void check_guard(struct atx *a, struct pollfd *guard_fd)
{
    if (!(guard_fd->revents & (POLLIN | POLLHUP | POLLERR)))
        return;
    if (atx_guard_restart(&a->guard, atx_gpio_chip_path(a->gpio), a->guard_lines, a->n_guard_lines) < 0) {
        LOG_ERROR("atx", "running without the button-release guard");
        guard_fd->fd = -1;
        return;
    }
    guard_fd->fd = a->guard.sock;
}

/* The thread's poll set: wake, guard, then each wired input. */
static int build_fds(const struct atx *a, struct pollfd *fds, int *fd_input)
{
    int n_fds = 0;
    fds[n_fds] = (struct pollfd){.fd = a->wake_fd, .events = POLLIN};
    fd_input[n_fds++] = -1;
    fds[n_fds] = (struct pollfd){.fd = a->guard.pid > 0 ? a->guard.sock : -1, .events = POLLIN};
    fd_input[n_fds++] = -1;
    for (int i = 0; i < ATX_INPUT_COUNT; i++) {
        if (!atx_gpio_has_input(a->gpio, i))
            continue;
        fds[n_fds] = (struct pollfd){.fd = atx_gpio_input_fd(a->gpio, i), .events = POLLIN};
        fd_input[n_fds++] = i;
    }
    return n_fds;
}

static int start_gpio(struct atx *a);

/* A chip missing at the start, looked for every CHIP_RETRY_MS; true on the
 * turn its lines were opened. A chip that is there but whose lines cannot be
 * used is a wiring error, as at the start: logged, no more retries. */
static bool chip_arrived(struct atx *a, int64_t now)
{
    if (!a->chip_retry_ms || now < a->chip_retry_ms)
        return false;
    if (!atx_gpio_chip_present(a->cfg.chip)) {
        a->chip_retry_ms = now + CHIP_RETRY_MS;
        return false;
    }
    a->chip_retry_ms = 0;
    if (start_gpio(a) < 0) {
        LOG_ERROR("atx", "GPIO chip '%s' appeared but its lines cannot be used: power buttons stay off "
                  "until piglix restarts", a->cfg.chip);
        return false;
    }
    LOG_INFO("atx", "GPIO chip '%s' is there now: power buttons and LEDs work", a->cfg.chip);
    return true;
}

static void *atx_thread(void *arg)
{
    struct atx *a = arg;
    struct pollfd fds[2 + ATX_INPUT_COUNT];
    int fd_input[2 + ATX_INPUT_COUNT];
    int n_fds = build_fds(a, fds, fd_input);
    struct liveness *live = liveness_register("atx");
    bool live_failed = false; /* a thread that died stays registered: the watchdog starves */
    for (;;) {
        liveness_beat(live);
        int timeout = liveness_poll_ms(poll_timeout(a, clock_mono_ms()));
        if (poll(fds, (nfds_t)n_fds, timeout) < 0 && errno != EINTR) {
            LOG_ERROR("atx", "poll: %s; ATX actions stop", strerror(errno));
            pthread_mutex_lock(&a->lock);
            a->stopping = true; /* requests say so instead of waiting forever */
            pthread_mutex_unlock(&a->lock);
            live_failed = true;
            break;
        }
        int64_t now = clock_mono_ms();
        if (fds[0].revents & POLLIN) {
            uint64_t v;
            ssize_t r = read(a->wake_fd, &v, sizeof(v));
            (void)r;
        }
        pthread_mutex_lock(&a->lock);
        bool stop = a->stopping;
        pthread_mutex_unlock(&a->lock);
        if (stop)
            break;
        if (chip_arrived(a, now))
            n_fds = build_fds(a, fds, fd_input);
        else if (a->gpio) {
            check_guard(a, &fds[1]);
            update_inputs(a, fds, fd_input, n_fds, now);
        }
        start_pending(a, now);
        run_sequence(a, now);
    }
    /* Never leave a button pressed. */
    if (a->seq.running) {
        int64_t now = clock_mono_ms();
        atx_seq_abort(&a->seq, ATX_OUTCOME_ABORTED, "piglix stopped; buttons released", now);
        apply_hold(a, now);
        finish_sequence(a, now);
    }
    apply_hold(a, clock_mono_ms());
    if (!live_failed)
        liveness_unregister(live);
    return NULL;
}

/* ---- the API ------------------------------------------------------------------ */

static void copy_who(char *dst, const char *who)
{
    size_t i = 0;
    for (; i < ATX_WHO_MAX - 1 && who[i]; i++) {
        unsigned char c = (unsigned char)who[i];
        dst[i] = c < 0x20 || c > 0x7e || c == '"' || c == '\\' ? '?' : (char)c;
    }
    dst[i] = '\0';
}

enum atx_error atx_request(struct atx *a, enum atx_action action, const char *who, uint64_t *id)
{
    if (!who || !who[0] || (unsigned)action >= ATX_ACTION_COUNT)
        return ATX_ERR_INVALID;
    char who_clean[ATX_WHO_MAX];
    copy_who(who_clean, who);
    pthread_mutex_lock(&a->lock);
    struct atx_status *st = &a->st;
    enum atx_error err = a->stopping ? ATX_ERR_STOPPED
                                     : atx_seq_check(action, st->power, st->gpio, st->power_led_wired,
                                                     st->wol, st->busy, st->busy && a->waiting);
    if (err != ATX_OK) {
        if (err == ATX_ERR_BUSY)
            LOG_INFO("atx", "%s by %s refused: busy with %s by %s", atx_action_name(action), who_clean,
                     atx_action_name(st->current.action), st->current.who);
        else
            LOG_INFO("atx", "%s by %s: %s (power %s)", atx_action_name(action), who_clean,
                     atx_error_name(err), atx_power_name(st->power));
        pthread_mutex_unlock(&a->lock);
        return err;
    }
    int64_t now = clock_mono_ms();
    if (st->busy) {
        /* a force-off replacing an action that only waits */
        char detail[ATX_DETAIL_MAX];
        snprintf(detail, sizeof(detail), "replaced by force-off from %s", who_clean);
        record_finish(a, ATX_OUTCOME_SUPERSEDED, detail, now);
    }
    struct atx_action_record *c = &st->current;
    memset(c, 0, sizeof(*c));
    c->id = ++a->next_id;
    c->action = action;
    snprintf(c->who, sizeof(c->who), "%s", who_clean);
    c->outcome = ATX_OUTCOME_RUNNING;
    c->started_ms = now;
    st->busy = true;
    a->pending = true;
    a->waiting = false;
    LOG_INFO("atx", "%s requested by %s (power %s)", atx_action_name(action), c->who, atx_power_name(st->power));
    if (id)
        *id = c->id;
    publish(a);
    pthread_mutex_unlock(&a->lock);
    uint64_t one = 1;
    ssize_t r = write(a->wake_fd, &one, sizeof(one));
    (void)r;
    return ATX_OK;
}

void atx_get_status(struct atx *a, struct atx_status *out)
{
    pthread_mutex_lock(&a->lock);
    *out = a->st;
    pthread_mutex_unlock(&a->lock);
}

uint64_t atx_wait_change(struct atx *a, uint64_t since, int timeout_ms)
{
    struct timespec until;
    clock_gettime(CLOCK_MONOTONIC, &until);
    if (timeout_ms >= 0) {
        until.tv_sec += timeout_ms / 1000;
        until.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
        if (until.tv_nsec >= 1000000000L) {
            until.tv_sec++;
            until.tv_nsec -= 1000000000L;
        }
    }
    pthread_mutex_lock(&a->lock);
    while (a->st.generation == since) {
        int r = timeout_ms < 0 ? pthread_cond_wait(&a->changed, &a->lock)
                               : pthread_cond_timedwait(&a->changed, &a->lock, &until);
        if (r == ETIMEDOUT)
            break;
    }
    uint64_t gen = a->st.generation;
    pthread_mutex_unlock(&a->lock);
    return gen;
}

int atx_notify_fd(struct atx *a)
{
    return a->notify_fd;
}

static int open_inputs(struct atx *a, const struct config_atx *cfg)
{
    int64_t now = clock_mono_ms();
    const struct atx_led_params params[ATX_INPUT_COUNT] = {
        [ATX_INPUT_POWER_LED] = {cfg->power_led_debounce_ms, cfg->standby_blink_ms},
        [ATX_INPUT_HDD_LED] = {cfg->hdd_led_debounce_ms, 0},
        [ATX_INPUT_INTRUSION] = {cfg->power_led_debounce_ms, 0},
    };
    for (int i = 0; i < ATX_INPUT_COUNT; i++) {
        if (!atx_gpio_has_input(a->gpio, i))
            continue;
        int level = atx_gpio_input_level(a->gpio, i);
        if (level < 0)
            return -1;
        atx_led_init(&a->leds[i], &params[i], level, now);
    }
    pthread_mutex_lock(&a->lock); /* also run by the thread when a chip comes late */
    a->st.power_led_wired = atx_gpio_has_input(a->gpio, ATX_INPUT_POWER_LED);
    a->st.hdd_led_wired = atx_gpio_has_input(a->gpio, ATX_INPUT_HDD_LED);
    a->st.intrusion_wired = atx_gpio_has_input(a->gpio, ATX_INPUT_INTRUSION);
    a->st.power_button_wired = atx_gpio_has_button(a->gpio, ATX_BUTTON_POWER);
    a->st.reset_button_wired = atx_gpio_has_button(a->gpio, ATX_BUTTON_RESET);
    a->st.gpio = atx_gpio_has_button(a->gpio, ATX_BUTTON_POWER) || atx_gpio_has_button(a->gpio, ATX_BUTTON_RESET);
    publish(a);
    pthread_mutex_unlock(&a->lock);
    publish_inputs(a); /* the levels read now, before the first edge */
    return 0;
}

/* Opens the chip's lines and starts the button-release guard (at start
 * before any thread; when the chip comes late, from the ATX thread, which
 * guard.h allows). */
static int start_gpio(struct atx *a)
{
    a->gpio = atx_gpio_open(&a->cfg);
    if (!a->gpio || open_inputs(a, &a->cfg) < 0)
        goto fail;
    a->n_guard_lines = atx_gpio_button_lines(a->gpio, a->guard_lines, ATX_GUARD_MAX_LINES);
    if (atx_guard_start(&a->guard, atx_gpio_chip_path(a->gpio), a->guard_lines, a->n_guard_lines) < 0)
        goto fail;
    return 0;
fail:
    atx_gpio_close(a->gpio);
    a->gpio = NULL;
    return -1;
}

static int start_thread(struct atx *a)
{
    int r = thread_start(&a->thread, atx_thread, a);
    if (r != 0)
        LOG_ERROR("atx", "cannot start the thread: %s", strerror(r));
    return r == 0 ? 0 : -1;
}

struct atx *atx_start(const struct config_atx *cfg)
{
    struct atx *a = calloc(1, sizeof(*a));
    if (!a)
        return NULL;
    pthread_mutex_init(&a->lock, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&a->changed, &ca);
    pthread_condattr_destroy(&ca);
    a->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    a->notify_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    a->timing = (struct atx_seq_timing){
        .press_ms = cfg->press_ms,
        .long_press_ms = cfg->long_press_ms,
        .on_timeout_ms = cfg->on_timeout_s * 1000,
        .off_timeout_ms = cfg->off_timeout_s * 1000,
        .force_off_timeout_ms = cfg->force_off_timeout_s * 1000,
        .cycle_off_ms = cfg->cycle_off_s * 1000,
        .reset_settle_ms = RESET_SETTLE_MS,
    };
    snprintf(a->wol_interface, sizeof(a->wol_interface), "%s", cfg->wol_interface);
    snprintf(a->wol_address, sizeof(a->wol_address), "%s", cfg->wol_address);
    a->wol_port = cfg->wol_port;
    if (a->wake_fd < 0 || a->notify_fd < 0) {
        LOG_ERROR("atx", "eventfd: %s", strerror(errno));
        goto fail;
    }
    if (cfg->wol_mac[0]) {
        if (atx_wol_parse_mac(cfg->wol_mac, a->mac) < 0) {
            LOG_ERROR("atx", "wol_mac '%s' is not a MAC address", cfg->wol_mac);
            goto fail;
        }
        a->st.wol = true;
    }
    a->cfg = *cfg;
    if (cfg->chip[0] && !atx_gpio_chip_present(cfg->chip)) {
        /* hardware that is absent is waited for, not a reason to exit */
        LOG_WARN("atx", "GPIO chip '%s' is not there: piglix runs without the power buttons and LEDs and "
                 "looks for it every %d s (gpiodetect lists the chips; `piglix doctor` says more)", cfg->chip,
                 CHIP_RETRY_MS / 1000);
        a->chip_retry_ms = clock_mono_ms() + CHIP_RETRY_MS;
    } else if (cfg->chip[0] && start_gpio(a) < 0) {
        goto fail; /* the chip is there: a wrong line is a wiring error */
    }
    if (!a->st.gpio && !a->st.wol && !a->chip_retry_ms)
        LOG_WARN("atx", "enabled, but neither GPIO buttons nor a Wake-on-LAN MAC are configured");
    if (start_thread(a) < 0)
        goto fail;
    LOG_INFO("atx", "running: GPIO %s, Wake-on-LAN %s", a->st.gpio ? cfg->chip : a->chip_retry_ms ? "waiting" : "off",
             a->st.wol ? cfg->wol_mac : "off");
    return a;
fail:
    atx_guard_stop(&a->guard);
    atx_gpio_close(a->gpio);
    if (a->wake_fd >= 0)
        close(a->wake_fd);
    if (a->notify_fd >= 0)
        close(a->notify_fd);
    pthread_cond_destroy(&a->changed);
    pthread_mutex_destroy(&a->lock);
    free(a);
    return NULL;
}

void atx_stop(struct atx *a)
{
    if (!a)
        return;
    pthread_mutex_lock(&a->lock);
    a->stopping = true;
    pthread_mutex_unlock(&a->lock);
    uint64_t one = 1;
    ssize_t r = write(a->wake_fd, &one, sizeof(one));
    (void)r;
    pthread_join(a->thread, NULL);
    atx_gpio_close(a->gpio); /* releases a held button (the thread already did) */
    atx_guard_stop(&a->guard);
    close(a->wake_fd);
    close(a->notify_fd);
    pthread_cond_destroy(&a->changed);
    pthread_mutex_destroy(&a->lock);
    free(a);
}
