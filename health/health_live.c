/* The checks that need the running daemon ("frames", "keyboard-leds") and
 * the small status file through which the daemon tells `piglix doctor`
 * (another process, maybe another user) its figures: counters only, no
 * names, addresses or secrets, so it can be world-readable. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "health/health_internal.h"

int health_live_format(const struct health_live *l, char *out, size_t size)
{
    int n = snprintf(out, size,
                     "written=%" PRId64 "\nframes=%" PRIu64 "\nfps=%.1f\nsource_fps=%.1f\nsignal=%s\n"
                     "hid=%d\nhid_online=%d\nleds=%d\nstalls=%" PRIu64 "\nstall_age=%" PRId64 "\nhid_asleep=%d\n",
                     l->written_s, l->frames, l->fps, l->source_fps, l->signal_ok ? "ok" : "none",
                     l->hid ? 1 : 0, l->hid_online ? 1 : 0, l->leds, l->stalls, l->stall_age_s,
                     l->hid_asleep ? 1 : 0);
    return n < 0 || (size_t)n >= size ? -1 : n;
}

/* A decimal value of at most 20 digits, optionally signed, with a fraction
 * allowed when frac: anything else (empty, letters, overflow) is refused. */
static bool parse_num(const char *v, size_t len, bool sign, bool frac, double *out)
{
    char buf[32];
    if (len == 0 || len >= sizeof(buf))
        return false;
    memcpy(buf, v, len);
    buf[len] = 0;
    for (size_t i = 0; i < len; i++) {
        char c = buf[i];
        if (!((c >= '0' && c <= '9') || (sign && i == 0 && c == '-') || (frac && c == '.')))
            return false;
    }
    char *end;
    errno = 0;
    double d = strtod(buf, &end);
    if (errno || *end || d != d || d > 1e15 || d < -1e15)
        return false;
    *out = d;
    return true;
}

int health_live_parse(const char *text, size_t len, struct health_live *out)
{
    memset(out, 0, sizeof(*out));
    out->leds = -1;
    out->stall_age_s = -1;
    bool written = false;
    const char *end = text + len;
    for (const char *p = text; p < end;) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *le = nl ? nl : end;
        const char *eq = memchr(p, '=', (size_t)(le - p));
        if (!eq)
            return -1;
        size_t klen = (size_t)(eq - p), vlen = (size_t)(le - eq - 1);
        const char *v = eq + 1;
        double d = 0;
#define KEY(k) (klen == sizeof(k) - 1 && memcmp(p, k, klen) == 0)
        if (KEY("written")) {
            if (!parse_num(v, vlen, false, false, &d))
                return -1;
            out->written_s = (int64_t)d;
            written = true;
        } else if (KEY("frames")) {
            if (!parse_num(v, vlen, false, false, &d))
                return -1;
            out->frames = (uint64_t)d;
        } else if (KEY("fps") || KEY("source_fps")) {
            if (!parse_num(v, vlen, false, true, &d) || d > 1000)
                return -1;
            *(KEY("fps") ? &out->fps : &out->source_fps) = d;
        } else if (KEY("signal")) {
            out->signal_ok = vlen == 2 && memcmp(v, "ok", 2) == 0;
        } else if (KEY("hid") || KEY("hid_online") || KEY("hid_asleep")) {
            if (vlen != 1 || (v[0] != '0' && v[0] != '1'))
                return -1;
            *(KEY("hid") ? &out->hid : KEY("hid_online") ? &out->hid_online : &out->hid_asleep) = v[0] == '1';
        } else if (KEY("leds")) {
            if (!parse_num(v, vlen, true, false, &d) || d < -1 || d > 255)
                return -1;
            out->leds = (int)d;
        } else if (KEY("stalls")) {
            if (!parse_num(v, vlen, false, false, &d))
                return -1;
            out->stalls = (uint64_t)d;
        } else if (KEY("stall_age")) {
            if (!parse_num(v, vlen, true, false, &d) || d < -1)
                return -1;
            out->stall_age_s = (int64_t)d;
        } /* other keys: a later daemon's, ignored */
#undef KEY
        p = nl ? nl + 1 : end;
    }
    return written ? 0 : -1;
}

int health_live_read(const char *state_dir, struct health_live *out)
{
    char path[CONFIG_STR_MAX + 32], buf[1024];
    health_fmt(path, sizeof(path), "%s/" HEALTH_LIVE_FILE, state_dir);
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
    if (fd < 0)
        return -1;
    ssize_t n = read(fd, buf, sizeof(buf));
    close(fd);
    if (n <= 0 || (size_t)n >= sizeof(buf))
        return -1;
    return health_live_parse(buf, (size_t)n, out);
}

void health_check_live(struct health_report *r, const struct health_live *live, int64_t now_s,
                       const struct config_hid *hid)
{
    const char *start = HEALTH_FIX "start piglix (systemctl start piglix) and ask again";
    int64_t age = live ? now_s - live->written_s : 0;
    if (!live) {
        health_add(r, "frames", HEALTH_WARNING, "piglix is not running: cannot see frames arrive%s", start);
    } else if (age > HEALTH_LIVE_STALE_S || age < -HEALTH_LIVE_STALE_S) {
        health_add(r, "frames", HEALTH_WARNING, "piglix's status is %" PRId64 " s old: is piglix running?%s", age,
                   start);
    } else if (live->signal_ok && live->fps > 0) {
        if (live->source_fps > 0)
            health_add(r, "frames", HEALTH_OK, "frames arriving: %.1f per second (the source sends %.1f), %" PRIu64
                       " since start", live->fps, live->source_fps, live->frames);
        else
            health_add(r, "frames", HEALTH_OK, "frames arriving: %.1f per second, %" PRIu64 " since start",
                       live->fps, live->frames);
    } else if (live->signal_ok && live->frames == 0) {
        /* a source that fails says so in its signal: this one has not begun */
        health_add(r, "frames", HEALTH_WARNING, "no frame captured yet (piglix is starting?)" HEALTH_FIX
                   "ask again in a few seconds; if it stays, see the capture and signal lines");
    } else {
        health_add(r, "frames", HEALTH_PROBLEM, "no frames arriving (%s, %" PRIu64 " since start)" HEALTH_FIX
                   "see the capture and signal lines: a source that is off or asleep, no signal, or timings "
                   "the bridge cannot take", live->signal_ok ? "signal ok" : "no signal", live->frames);
    }

    /* Only once there was one: most appliances never see a line for it. */
    if (live && age <= HEALTH_LIVE_STALE_S && age >= -HEALTH_LIVE_STALE_S && live->stalls) {
        if (live->stall_age_s >= 0 && live->stall_age_s < HEALTH_STALL_RECENT_S)
            health_add(r, "capture-stalls", HEALTH_WARNING, "the capture device stopped delivering frames %" PRIu64
                       " times since start (last %" PRId64 " s ago); piglix restarted streaming each time"
                       HEALTH_FIX "a capture chip or driver in trouble: the journal has each restart; if it "
                       "repeats, check the bridge's cable, power and temperature", live->stalls, live->stall_age_s);
        else
            health_add(r, "capture-stalls", HEALTH_OK, "the capture device stopped delivering frames %" PRIu64
                       " times since start, none in the last %d minutes; piglix restarted streaming each time",
                       live->stalls, HEALTH_STALL_RECENT_S / 60);
    }

    if (!hid->enabled)
        return; /* health_check_usb says [hid] is off */
    if (!live || age > HEALTH_LIVE_STALE_S || age < -HEALTH_LIVE_STALE_S)
        health_add(r, "keyboard-leds", HEALTH_WARNING, "piglix is not running: cannot see the host's keyboard "
                   "LEDs%s", start);
    else if (!live->hid)
        health_add(r, "keyboard-leds", HEALTH_WARNING, "the USB keyboard has not started yet" HEALTH_FIX
                   "see the usb-controller and usb-gadget lines");
    else if (!live->hid_online)
        health_add(r, "keyboard-leds", HEALTH_WARNING, "the host has not configured the USB keyboard" HEALTH_FIX
                   "connect the host to the Pi's USB-C port with a cable that has data lines, and power the host on");
    else if (live->hid_asleep)
        health_add(r, "keyboard-leds", HEALTH_WARNING, "the host has suspended the USB bus (asleep, S3?): a key "
                   "press or click asks it to wake up" HEALTH_FIX "press a key in the viewer; if it stays asleep, "
                   "allow wakeup from USB in its BIOS or power it on (Power menu)");
    else if (live->leds < 0)
        health_add(r, "keyboard-leds", HEALTH_WARNING, "the host configured the keyboard but has sent no LED report "
                   "yet" HEALTH_FIX "press Num Lock or Caps Lock from the viewer; some BIOSes send none until then");
    else
        health_add(r, "keyboard-leds", HEALTH_OK, "the host set the keyboard LEDs (Num Lock %s, Caps Lock %s, "
                   "Scroll Lock %s)", live->leds & 2 ? "on" : "off", live->leds & 4 ? "on" : "off",
                   live->leds & 1 ? "on" : "off");
}
