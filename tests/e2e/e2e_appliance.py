#!/usr/bin/env python3
"""End-to-end tests of piglix as an appliance out of the box: hardware that
is absent is reported and waited for, never a reason to exit.
Usage: e2e_appliance.py PIGLIX TOOLS_DIR CASE"""
import os
import re
import signal
import subprocess
import sys
import time

from piglix_e2e import Piglix, check, run
from e2e_web import Web, expect

WARNING = "no USB keyboard and mouse or USB drive yet"


def usb_gadget_possible():
    """True when this machine could make a USB gadget (then the absent case
    cannot be shown here: the VM tests cover a controller)."""
    try:
        return os.path.isdir("/sys/kernel/config/usb_gadget") and bool(os.listdir("/sys/class/udc"))
    except OSError:
        return False


def case_no_udc(env):
    """[hid] and [vmedia] on, with no configfs and no USB device controller:
    piglix runs, VNC and the web API answer, the keyboard is reported
    unavailable (503), the image store works without the drive, and the log
    says why once, not on every retry (every 5 s)."""
    if usb_gadget_possible():
        print("SKIP: this machine has a USB device controller and configfs")
        sys.exit(77)
    images = os.path.join(env.tmp, "images")
    os.makedirs(images, mode=0o700)
    w = Web(env, hid__enabled="yes", vmedia__enabled="yes", vmedia__dir=images).start()
    started = time.time()
    w.add_user()
    time.sleep(1.2)  # the account file is re-read at most once a second
    w.login()
    # VNC: a picture, and keys and a click that go nowhere (only counted).
    w.p.probe("snapshot", os.path.join(env.tmp, "snap.ppm"), password=False, check_rc=0)
    w.p.probe("keys", "61", password=False, check_rc=0)
    w.p.probe("pointer", "100", "200", "1", password=False, check_rc=0)
    st, js, _, _ = expect(w.request("GET", "/api/info"), 200, "info")
    check(js["hid"]["online"] is False, "keyboard reported online: %s" % js["hid"])
    st, js, _, _ = expect(w.request("POST", "/api/hid/combo", {"combo": "ctrl+alt+delete"}), 503,
                          "combo without a USB device controller")
    check("not available" in js["error"] and "USB device controller" in js["error"], "503 message: %s" % js)
    expect(w.request("POST", "/api/hid/paste", {"text": "abc"}), 503, "paste without a USB device controller")
    st, js, _, _ = expect(w.request("GET", "/api/vmedia"), 200, "the image store")
    check(js["drive"] is None, "a USB drive without a gadget: %s" % js)
    st, js, _, _ = expect(w.request("POST", "/api/vmedia/mount", {"image": "x.iso"}), 503,
                          "mount without a USB drive")
    # At least two retries (every 5 s) before looking at the log.
    time.sleep(max(0.0, started + 11.5 - time.time()))
    expect(w.request("GET", "/api/info"), 200, "info after the retries")
    w.p.probe("snapshot", os.path.join(env.tmp, "snap2.ppm"), password=False, check_rc=0)
    log = w.stop()
    lines = [l for l in log.splitlines() if WARNING in l]
    check(len(lines) == 1, "the reason should be logged once, got %d times:\n%s" % (len(lines), log[-3000:]))
    check("no USB gadget configfs" in lines[0] or "no USB device controller" in lines[0],
          "the warning does not say why: %s" % lines[0])
    check("tries again every 5 s" in lines[0], "the warning does not say it retries: %s" % lines[0])
    check("gadget: USB gadget configfs" not in log, "libusbgx's error was logged (the probe should come first):\n" + log)


def doctor(env, p):
    """`piglix doctor` with p's configuration: (exit status, {check: (status, text)})."""
    r = subprocess.run([env.piglix, "-c", p.config, "doctor"], capture_output=True, text=True, timeout=60)
    checks = {}
    for line in r.stdout.splitlines():
        m = re.match(r"^(ok|warning|problem) +([a-z0-9-]+): (.+)$", line)
        check(m, "not a doctor line: %r\n%s" % (line, r.stdout))
        checks[m.group(2)] = (m.group(1), m.group(3))
    return r.returncode, checks, r.stdout + r.stderr


def case_doctor(env):
    """`piglix doctor` on this machine (no UDC, no configfs, the test source):
    [hid] on is a problem that names the USB device controller (exit 1); with
    [hid] off nothing is (exit 0), and the missing VNC password is a warning
    that says how to set it."""
    if usb_gadget_possible():
        print("SKIP: this machine has a USB device controller and configfs")
        sys.exit(77)
    images = os.path.join(env.tmp, "images")
    os.makedirs(images, mode=0o700)
    p = Piglix(env, hid__enabled="yes", vmedia__enabled="yes", vmedia__dir=images, web__enabled="yes")
    rc, checks, out = doctor(env, p)
    check(rc == 1, "exit status %d with a problem, want 1:\n%s" % (rc, out))
    check(checks.get("usb-controller", ("",))[0] == "problem" and
          "no USB device controller" in checks["usb-controller"][1] and "dwc2" in checks["usb-controller"][1],
          "the missing USB device controller:\n" + out)
    check(checks.get("usb-gadget", ("",))[0] == "problem" and "libcomposite" in checks["usb-gadget"][1],
          "the missing configfs:\n" + out)
    check(checks.get("capture") and checks["capture"][0] == "ok" and "test picture" in checks["capture"][1],
          "the test source:\n" + out)
    check(checks.get("state", ("",))[0] == "ok", "[state] dir:\n" + out)
    check(checks.get("vnc-password", ("",))[0] == "ok", "the VNC password is set:\n" + out)
    check(checks.get("web-accounts", ("",))[0] == "warning" and "one-time token" in checks["web-accounts"][1],
          "no web accounts yet:\n" + out)
    check(checks.get("image-store", ("",))[0] in ("ok", "warning") and images in checks["image-store"][1],
          "the image store:\n" + out)
    for name in ("atx", "clock", "memory", "temperature"):
        check(name in checks, "no %s line:\n%s" % (name, out))
    problems = [n for n, (st, _) in checks.items() if st == "problem"]
    check(sorted(problems) == ["usb-controller", "usb-gadget"], "other problems: %s\n%s" % (problems, out))

    # [hid] off, and no VNC password: nothing is a problem.
    q = Piglix(env, password=None, hid__enabled="no", vmedia__enabled="no")
    rc, checks, out = doctor(env, q)
    check(rc == 0, "exit status %d with nothing wrong, want 0:\n%s" % (rc, out))
    check(checks.get("usb", ("",))[0] == "ok" and "usb-controller" not in checks, "[hid] off:\n" + out)
    check(checks.get("vnc-password", ("",))[0] == "warning" and
          "the VNC port stays closed until `piglix vnc-passwd`" in checks["vnc-password"][1],
          "no VNC password:\n" + out)

    # [state] dir writable by its group: a problem, whatever else is fine.
    os.chmod(q.state, 0o770)
    rc, checks, out = doctor(env, q)
    check(rc == 1 and checks.get("state", ("",))[0] == "problem" and "chmod go-w" in checks["state"][1],
          "a group-writable [state] dir (rc %d):\n%s" % (rc, out))


def case_health_api(env):
    """GET /api/health: only after login; the same checks as `piglix doctor`
    with the same configuration (name, status, message each), from the
    running daemon (the HTTPS port is seen listening, its self-signed
    certificate is a warning); an answer never waits for the checks."""
    images = os.path.join(env.tmp, "images")
    os.makedirs(images, mode=0o700)
    w = Web(env, vmedia__enabled="yes", vmedia__dir=images).start()
    w.add_user()
    time.sleep(1.2)  # the account file is re-read at most once a second
    expect(w.request("GET", "/api/health", cookie=False), 401, "health without a session")
    w.login()
    started = time.monotonic()
    st, js, _, _ = expect(w.request("GET", "/api/health"), 200, "health")
    check(time.monotonic() - started < 2, "GET /api/health took %.1f s" % (time.monotonic() - started))
    check(isinstance(js["age_ms"], (int, float)) and js["age_ms"] >= 0, "age_ms: %s" % js)
    # a report older than a second asks for a new run: the account made after
    # the first report shows in a later one (the UI asks again the same way)
    deadline = time.monotonic() + 10
    while True:
        accounts = [c for c in js["checks"] if c["name"] == "web-accounts"][0]
        if accounts["status"] == "ok":
            break
        check(time.monotonic() < deadline, "the account never shows: %s" % accounts)
        time.sleep(0.5)
        st, js, _, _ = expect(w.request("GET", "/api/health"), 200, "health again")
    check(accounts["message"] == "1 web account", "one account: %s" % accounts)
    rc, checks, out = doctor(env, w.p)
    names = [c["name"] for c in js["checks"]]
    # "threads" (the watchdog's view of the daemon's threads) only the daemon can see
    check("threads" in names, "no threads check in the API: %s" % names)
    names.remove("threads")
    check(names == list(checks), "API checks %s, doctor's %s" % (names, list(checks)))
    for c in js["checks"]:
        check(set(c) == {"name", "status", "message", "fix"} and c["status"] in ("ok", "warning", "problem") and
              c["message"] and (c["status"] != "ok" or c["fix"] == ""), "a check: %s" % c)
        # these move between two runs; threads: the daemon's only
        if c["name"] not in ("memory", "image-store", "temperature", "frames", "threads"):
            check(checks[c["name"]][0] == c["status"], "API %s, doctor %s" % (c, checks[c["name"]]))
            check(checks[c["name"]][1] == c["message"] + (": " + c["fix"] if c["fix"] else ""),
                  "API %s, doctor %r" % (c, checks[c["name"]][1]))
    worst = max((c["status"] for c in js["checks"]), key=["ok", "warning", "problem"].index)
    check(js["status"] == worst, "status %s, worst check %s" % (js["status"], worst))
    by_name = {c["name"]: c for c in js["checks"]}
    check(by_name["certificate"]["status"] == "warning" and "self-signed" in by_name["certificate"]["message"] and
          "[web] cert and key" in by_name["certificate"]["fix"], "the self-signed certificate: %s" % by_name["certificate"])
    check("HTTPS tcp" in by_name["ports"]["message"] and
          "not listening" not in by_name["ports"]["message"].split("HTTPS tcp")[1].split(";")[0],
          "the HTTPS port seen listening: %s" % by_name["ports"])
    w.stop()


def case_health_reload(env):
    """After a reload (SIGHUP) GET /api/health checks the configuration the
    file now says (here: a new [vmedia] dir), not the one piglix started
    with."""
    old, new = os.path.join(env.tmp, "images-old"), os.path.join(env.tmp, "images-new")
    os.makedirs(old, mode=0o700)
    os.makedirs(new, mode=0o700)
    w = Web(env, vmedia__enabled="yes", vmedia__dir=old).start()
    w.add_user()
    time.sleep(1.2)  # the account file is re-read at most once a second
    w.login()

    def image_store():
        deadline = time.monotonic() + 10
        while True:
            st, js, _, _ = w.request("GET", "/api/health")
            if st == 200:
                return [c for c in js["checks"] if c["name"] == "image-store"][0]["message"]
            check(st == 503 and time.monotonic() < deadline, "GET /api/health: %d %s" % (st, js))
            time.sleep(0.2)

    check(old in image_store(), "before the reload: %s" % image_store())
    w.p.write_config(vmedia__dir=new)
    w.p.signal(signal.SIGHUP)
    deadline = time.monotonic() + 10
    while "configuration reloaded" not in w.p.read_log():
        check(time.monotonic() < deadline, "no reload:\n" + w.p.read_log())
        time.sleep(0.1)
    deadline = time.monotonic() + 5  # the log line comes a moment before the worker is told
    while True:
        msg = image_store()
        if new in msg and old not in msg:
            break
        check(time.monotonic() < deadline, "after the reload the image store is still: %s" % msg)
        time.sleep(0.2)
    w.stop()


def case_doctor_live(env):
    """`piglix doctor` asks the running daemon (its status file in [state]
    dir, 0644, counters only): with the test source running, frames are
    arriving at about its rate; with no daemon, it says to start piglix."""
    p = Piglix(env, hid__enabled="no", vmedia__enabled="no")
    rc, checks, out = doctor(env, p)
    check(checks.get("frames", ("",))[0] == "warning" and "start piglix" in checks["frames"][1],
          "no daemon yet:\n" + out)
    p.start()
    status = os.path.join(p.state, "daemon.status")
    deadline = time.monotonic() + 10
    while True:  # the first figures after a few seconds of frames
        rc, checks, out = doctor(env, p)
        if checks.get("frames", ("",))[0] == "ok" or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    check(checks.get("frames", ("",))[0] == "ok", "frames with the daemon running:\n" + out)
    m = re.match(r"frames arriving: ([0-9.]+) per second", checks["frames"][1])
    check(m and 10 <= float(m.group(1)) <= 40, "the test source runs at 30 fps: %s" % checks["frames"][1])
    mode = os.stat(status).st_mode & 0o777
    check(mode == 0o644, "the status file's mode is %o" % mode)
    with open(status) as f:
        keys = sorted(line.split("=", 1)[0] for line in f.read().splitlines())
    check(keys == ["fps", "frames", "hid", "hid_asleep", "hid_online", "leds", "signal", "source_fps", "stall_age",
                   "stalls", "written"],
          "what the status file tells: %s" % keys)
    p.stop()
    check(not os.path.exists(status), "the status file stays after the daemon stopped")
    rc, checks, out = doctor(env, p)
    check(checks.get("frames", ("",))[0] == "warning" and "piglix is not running" in checks["frames"][1],
          "after the daemon stopped:\n" + out)


PREVIOUS_INI = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fixtures", "piglix-0.1-installed.ini")


def case_previous_config(env):
    """The configuration the previous release (0.1.0, commit fa32a74) installed
    as /etc/piglix/piglix.ini, edited the way a user edits it, loads in this
    piglix without an error or a warning and keeps every edited value (no
    key was renamed since; a renamed one would need an alias here)."""
    with open(PREVIOUS_INI) as f:
        text = f.read()
    edits = {("vnc", "port"): "5999", ("hid", "layout"): "de", ("web", "enabled"): "yes",
             ("web", "port"): "8443", ("atx", "power_button_line"): "17", ("state", "dir"): env.tmp}
    out, section = [], None
    for line in text.splitlines():
        m = re.match(r"^\[(\w+)\]$", line)
        if m:
            section = m.group(1)
        m = re.match(r"^(\w+) = ", line)
        if m and (section, m.group(1)) in edits:
            line = "%s = %s" % (m.group(1), edits.pop((section, m.group(1))))
        out.append(line)
    check(not edits, "keys not in the previous release's file: %s" % edits)
    path = os.path.join(env.tmp, "piglix.ini")
    with open(path, "w") as f:
        f.write("\n".join(out) + "\n")
    r = subprocess.run([env.piglix, "-c", path, "--check-config"], capture_output=True, text=True, timeout=30)
    check(r.returncode == 0, "the previous release's configuration does not load:\n%s" % r.stderr)
    check(r.stderr.strip() == "", "warnings for the previous release's configuration:\n%s" % r.stderr)
    effective, section = {}, None
    for line in r.stdout.splitlines():
        m = re.match(r"^\[(\w+)\]$", line)
        if m:
            section = m.group(1)
        m = re.match(r"^(\w+) = (.*)$", line)
        if m:
            effective[(section, m.group(1))] = m.group(2)
    for key, value in {("vnc", "port"): "5999", ("hid", "layout"): "de", ("web", "enabled"): "yes",
                       ("web", "port"): "8443", ("atx", "power_button_line"): "17",
                       ("capture", "source"): "v4l2"}.items():
        check(effective.get(key) == value, "%s.%s is %r, the file says %r" % (key + (effective.get(key), value)))


CASES = {name[5:]: fn for name, fn in globals().items() if name.startswith("case_")}

if __name__ == "__main__":
    sys.exit(run(CASES))
