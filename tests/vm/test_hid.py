#!/usr/bin/env python3
"""piglix's USB keyboard and mice on a real kernel: in a pvm VM, dummy_hcd
makes the same kernel the USB device (piglix's gadget through configfs) and
the USB host (usbhid, hid-generic, evdev), so what a VNC viewer sends comes
out of /dev/input/event* inside the guest, read there by hid_reader.

    test_hid.py --piglix PATH --rfbprobe PATH --reader PATH CASE

CASE input: with the target's layout set to de, a VNC session (rfbprobe on
  the host) types letters, shifted and AltGr symbols, a dead-key letter,
  function keys, modifiers and overlapping held keys, and QEMU scancodes; the
  exact key codes arrive in order, every press with its release. The pointer
  lands on 0 and 32767 at the corners; buttons and wheel ticks. Caps Lock set
  by the host reaches the viewer as LED state (and letters are typed right
  with it on). A viewer that leaves with keys held leaves nothing down; a key
  held without events is released by the watchdog; the UDC unbound in the
  middle of typing blocks nothing and typing works again once it is rebound.
  The host suspends the device (runtime PM, wakeup enabled): a key press
  wakes it (remote wakeup) and arrives.
  Nothing is left in configfs at exit; prints the key latency figures.
CASE lifecycle: piglix killed with SIGKILL leaves its gadget behind; the next
  start removes it and works; the relative mouse moves by the viewer's
  motion; a key held while the cable is pulled (the host's port disabled)
  is not held on the host after it is back (EVIOCGKEY); a missing UDC is a clear error and leaves nothing behind.
  The systemd split: root's `piglix gadget up`, the daemon as an
  unprivileged user attached to it types and wakes the suspended host (the
  UDC's srp handed to it), `piglix gadget down`.
Each case is one VM boot. Exit 0 on success, 1 on failure."""
import argparse
import os
import pathlib
import subprocess
import sys
import time

from capture_common import GuestPiglix, TestFailure, Tools, check, log, parse_json_line, run_main

import pvm

MODULES = ["dummy_hcd", "libcomposite", "usb_f_hid", "usbhid", "hid_generic", "evdev"]
GADGET = "/sys/kernel/config/usb_gadget/piglix"
EVENTS = "/tmp/hid-events.log"
WIDTH, HEIGHT = 640, 480

# linux/input-event-codes.h
EV_KEY, EV_REL, EV_ABS = 1, 2, 3
KEY = dict(ESC=1, K1=2, K7=8, Q=16, W=17, E=18, Y=21, ENTER=28, LEFTCTRL=29, A=30, GRAVE=41,
           LEFTSHIFT=42, Z=44, C=46, B=48, F1=59, K102ND=86, F12=88, RIGHTALT=100, UP=103)
BTN_LEFT, BTN_RIGHT, BTN_MIDDLE = 0x110, 0x111, 0x112
REL_X, REL_Y, REL_HWHEEL, REL_WHEEL = 0, 1, 6, 8
ABS_X, ABS_Y = 0, 1


def config(mouse_mode="absolute", extra=""):
    return ("[capture]\nsource = test\nwidth = %d\nheight = %d\nfps = 5\n\n"
            "[vnc]\nlisten = 0.0.0.0\nport = 5900\n\n"
            "[hid]\nenabled = yes\nlayout = de\nkey_hold_max_ms = 2000\nmouse_mode = %s\n%s\n"
            "[state]\ndir = /var/lib/piglix\n" % (WIDTH, HEIGHT, mouse_mode, extra))


def boot(tools, reader):
    vm = pvm.VM(modules=MODULES, binaries=[tools.piglix, reader],
                files={"/etc/piglix/piglix.ini": config(),
                       "/etc/piglix/relative.ini": config("relative"),
                       "/var/lib/piglix/vnc.passwd": (pathlib.Path(tools.passwd_file), 0o600)},
                ports=[5900])
    vm.start()
    vm.check("chmod 700 /var/lib/piglix")
    log("VM up in %.1f s" % vm.boot_seconds)
    return vm


class Recorder:
    """hid_reader record in the guest: every USB input event, device
    appearances and disappearances; events are read from a mark on."""

    def __init__(self, vm):
        self.vm = vm
        self.proc = vm.spawn("exec hid_reader record %s" % EVENTS, log="/tmp/hid-reader.log")
        self.mark = 0

    def lines(self):
        try:
            return self.vm.read_file(EVENTS).decode().splitlines()
        except pvm.CommandFailed:
            return []

    def set_mark(self):
        self.mark = len(self.lines())

    def since(self):
        return self.lines()[self.mark:]

    def events(self, role, types=(EV_KEY, EV_REL, EV_ABS), lines=None):
        """(type, code, value, time) of role's events since the mark; no
        high-resolution wheel events (REL_*_HI_RES)."""
        out = []
        for line in self.since() if lines is None else lines:
            f = line.split()
            if len(f) == 5 and f[0] == role and int(f[1]) in types:
                t, c, v = int(f[1]), int(f[2]), int(f[3])
                if t == EV_REL and c in (11, 12):
                    continue
                out.append((t, c, v, float(f[4])))
        return out

    def keys(self, lines=None):
        return [(c, v) for t, c, v, _ in self.events("kbd", (EV_KEY,), lines)]

    def wait_count(self, role, n, what, types=(EV_KEY, EV_REL, EV_ABS), timeout=60):
        def enough():
            return len(self.events(role, types)) >= n
        try:
            self.vm.wait_for(enough, timeout, interval=0.3, what=what)
        except pvm.VMError as e:
            raise TestFailure("%s; %s events since the mark: %s" % (e, role, self.events(role, types)))
        time.sleep(0.5)  # anything more (there should be nothing) arrives too

    def wait_for_gone(self, role, timeout=60):
        """Until role's device disappeared after the mark."""
        self.vm.wait_for(lambda: any(l.split()[:2] == ["gone", role] for l in self.since()), timeout,
                         interval=0.3, what="the USB %s to go away" % role)

    def wait_devices(self, roles, timeout=60):
        """Until each role's device is open (again) after its last disappearance."""
        def ready():
            state = {}
            for line in self.lines():
                f = line.split()
                if len(f) == 3 and f[0] in ("open", "gone"):
                    state[f[1]] = f[0]
            return all(state.get(r) == "open" for r in roles)
        self.vm.wait_for(ready, timeout, interval=0.3, what="the USB input devices %s" % (roles,))


def press(*codes):
    """A tap of each key: press then release."""
    out = []
    for c in codes:
        out += [(c, 1), (c, 0)]
    return out


def check_pairing(lines):
    """Every press is released before it is pressed again, per device session;
    at the end nothing is held (a session cut by an unbind may end with keys
    down: the device is gone). In a session after a rebind a key's first event
    may be its release: the reader opens a new device up to 100 ms late."""
    held, seen, late_open = set(), set(), False
    for line in lines:
        f = line.split()
        if f[0] == "gone" and f[1] == "kbd":
            held.clear()
            seen.clear()
            late_open = True
        if len(f) == 5 and f[0] == "kbd" and int(f[1]) == EV_KEY:
            code, value = int(f[2]), int(f[3])
            missed_press = late_open and value == 0 and code not in seen
            seen.add(code)
            if missed_press:
                continue
            check(value == 1 and code not in held or value == 0 and code in held,
                  "key %d %s out of order:\n%s" % (code, "pressed twice" if value else "released unpressed",
                                                  "\n".join(lines[-40:])))
            (held.add if value else held.discard)(code)
    check(not held, "keys left held: %s" % sorted(held))


def start_piglix(vm, tools, config_path="/etc/piglix/piglix.ini", name="piglix", prefix=""):
    piglix = GuestPiglix(vm, tools, config_path=config_path, name=name, prefix=prefix)
    return piglix


def probe_ok(piglix, *args, timeout=120):
    r = piglix.probe(*args, timeout=timeout)
    check(r.returncode == 0, "rfbprobe %s failed (%d): %s %s" % (" ".join(map(str, args)), r.returncode,
                                                                 r.stderr, r.stdout))
    return r


def expect_keys(rec, want, what):
    rec.wait_count("kbd", len(want), what, (EV_KEY,))
    got = rec.keys()
    check(got == want, "%s: key events\n  got  %s\n  want %s" % (what, got, want))
    log("ok: %s (%d key events)" % (what, len(got)))


def typing(piglix, rec):
    K = KEY
    cases = [
        ("letters", "61 62", press(K["A"], K["B"])),
        ("QWERTZ: z and y swap places", "7a 79", press(K["Y"], K["Z"])),
        ("a shifted symbol, Shift held by the viewer", "+ffe1 21 -ffe1",
         [(K["LEFTSHIFT"], 1)] + press(K["K1"]) + [(K["LEFTSHIFT"], 0)]),
        # A US viewer's Shift+2: de types @ with AltGr+Q and without Shift.
        ("@ from a US keyboard: Shift lifted, AltGr+Q, Shift back", "+ffe1 40 -ffe1",
         [(K["LEFTSHIFT"], 1), (K["LEFTSHIFT"], 0), (K["RIGHTALT"], 1), (K["Q"], 1), (K["Q"], 0),
          (K["LEFTSHIFT"], 1), (K["RIGHTALT"], 0), (K["LEFTSHIFT"], 0)]),
        ("an AltGr symbol: {", "7b", [(K["RIGHTALT"], 1)] + press(K["K7"]) + [(K["RIGHTALT"], 0)]),
        ("the 102nd key: < and >", "3c 3e",
         press(K["K102ND"]) + [(K["LEFTSHIFT"], 1)] + press(K["K102ND"]) + [(K["LEFTSHIFT"], 0)]),
        ("a dead-key letter: the ^ dead key, then a", "e2", press(K["GRAVE"], K["A"])),
        ("function keys", "ffbe ffc9", press(K["F1"], K["F12"])),
        ("Ctrl+C", "+ffe3 63 -ffe3", [(K["LEFTCTRL"], 1)] + press(K["C"]) + [(K["LEFTCTRL"], 0)]),
        ("overlapping held keys", "+61 +62 -61 -62", [(K["A"], 1), (K["B"], 1), (K["A"], 0), (K["B"], 0)]),
        ("QEMU scancodes, whatever the layout", "79@15 ff52@c8 ff0d@1c", press(K["Y"], K["UP"], K["ENTER"])),
    ]
    rec.set_mark()
    want = []
    for what, keys, events in cases:
        probe_ok(piglix, "keys", *keys.split())
        want += events
        expect_keys(rec, want, what)


def pointer(piglix, rec):
    cx, cy = WIDTH // 2, HEIGHT // 2
    ax, ay = cx * 32767 // (WIDTH - 1), cy * 32767 // (HEIGHT - 1)
    steps = [  # (x, y, buttons): each its own viewer session (buttons released when it leaves)
        ((cx, cy, 0), [(EV_ABS, ABS_X, ax), (EV_ABS, ABS_Y, ay)]),
        ((WIDTH - 1, HEIGHT - 1, 0), [(EV_ABS, ABS_X, 32767), (EV_ABS, ABS_Y, 32767)]),
        ((0, 0, 0), [(EV_ABS, ABS_X, 0), (EV_ABS, ABS_Y, 0)]),
        ((cx, cy, 1), [(EV_KEY, BTN_LEFT, 1), (EV_ABS, ABS_X, ax), (EV_ABS, ABS_Y, ay), (EV_KEY, BTN_LEFT, 0)]),
        ((cx, cy, 4), [(EV_KEY, BTN_RIGHT, 1), (EV_KEY, BTN_RIGHT, 0)]),
        ((cx, cy, 2), [(EV_KEY, BTN_MIDDLE, 1), (EV_KEY, BTN_MIDDLE, 0)]),
        ((cx, cy, 8), [(EV_REL, REL_WHEEL, 1)]),
        ((cx, cy, 16), [(EV_REL, REL_WHEEL, -1)]),
        ((cx, cy, 32), [(EV_REL, REL_HWHEEL, -1)]),
        ((cx, cy, 64), [(EV_REL, REL_HWHEEL, 1)]),
    ]
    rec.set_mark()
    want = []
    for (x, y, b), events in steps:
        probe_ok(piglix, "pointer", x, y, b)
        want += events
    rec.wait_count("abs", len(want), "absolute mouse events")
    got = [(t, c, v) for t, c, v, _ in rec.events("abs")]
    check(got == want, "absolute mouse events\n  got  %s\n  want %s" % (got, want))
    check(not rec.events("rel"), "the relative mouse moved: %s" % rec.events("rel"))
    log("ok: pointer at the centre (%d,%d) and corners (0,0) (32767,32767); buttons; wheel ticks" % (ax, ay))


def leds(vm, piglix, rec):
    watcher = subprocess.Popen(piglix.probe_cmd("--json", "wait-leds", "4", "60"), stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)
    time.sleep(2)
    vm.check("hid_reader led 1 1")  # LED_CAPSL on, as the host's keyboard handling sets it
    out, err = watcher.communicate(timeout=90)
    check(watcher.returncode == 0, "the viewer did not see Caps Lock on (%d): %s %s" % (watcher.returncode, err, out))
    result = parse_json_line(out)
    check(result["reached"] and result["leds"] == 4, "LED state %s" % out)
    log("ok: Caps Lock set by the host reached the viewer (QEMU LED state 4) after %.1f s" % result["seconds"])
    rec.set_mark()
    probe_ok(piglix, "keys", "61")  # 'a' with the target's Caps Lock on: typed with Shift
    expect_keys(rec, [(KEY["LEFTSHIFT"], 1), (KEY["A"], 1), (KEY["A"], 0), (KEY["LEFTSHIFT"], 0)],
                "'a' with Caps Lock on is typed with Shift")
    watcher = subprocess.Popen(piglix.probe_cmd("--json", "wait-leds", "0", "60"), stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)
    time.sleep(2)
    vm.check("hid_reader led 1 0")
    out, err = watcher.communicate(timeout=90)
    check(watcher.returncode == 0, "the viewer did not see Caps Lock off: %s %s" % (err, out))
    log("ok: Caps Lock off reached the viewer")


def held_keys(piglix, rec):
    rec.set_mark()
    probe_ok(piglix, "keys", "+61", "+ffe1")  # leaves with a and Shift down
    rec.wait_count("kbd", 4, "the keys of a viewer that left", (EV_KEY,))
    got = rec.keys()
    # both come up in one report: the host's order between them is its own
    check(len(got) == 4 and got[:2] == [(KEY["A"], 1), (KEY["LEFTSHIFT"], 1)] and
          sorted(got[2:]) == [(KEY["A"], 0), (KEY["LEFTSHIFT"], 0)], "held keys of a viewer that left: %s" % got)
    log("ok: a viewer leaving with keys held leaves none down")
    rec.set_mark()
    # Holds b and says nothing for 5 s: the watchdog (key_hold_max_ms 2000) lets go.
    probe_ok(piglix, "--timeout", "30", "keys", "+62", "--delay", "5000")
    rec.wait_count("kbd", 2, "the watchdog's release", (EV_KEY,))
    ev = rec.events("kbd", (EV_KEY,))
    check([(c, v) for _t, c, v, _ts in ev] == [(KEY["B"], 1), (KEY["B"], 0)], "watchdog events %s" % ev)
    held = ev[1][3] - ev[0][3]
    check(1.8 <= held <= 4.0, "the watchdog released after %.2f s, not about 2 s" % held)
    check("released" in piglix.log(), "piglix did not log the watchdog release")
    log("ok: a key held 5 s without events was released after %.2f s" % held)


def unbind_mid_typing(vm, piglix, rec):
    letters = ["%x" % c for c in b"qwertzuiopasdfghjklyxcvbnm"]
    typist = subprocess.Popen(piglix.probe_cmd("--timeout", "60", "keys", *letters, "--delay", "100"),
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    time.sleep(1.5)
    vm.check("echo '' > %s/UDC" % GADGET)
    log("UDC unbound while typing")
    time.sleep(1.5)
    started = time.monotonic()
    probe_ok(piglix, "auth-only", timeout=30)  # the server still answers
    log("ok: piglix answers with the UDC unbound (%.2f s)" % (time.monotonic() - started))
    vm.check("echo dummy_udc.0 > %s/UDC" % GADGET)
    out, err = typist.communicate(timeout=120)
    check(typist.returncode == 0, "the viewer typing through the unbind failed (%d): %s %s"
          % (typist.returncode, err, out))
    log("ok: the viewer typing through the unbind finished normally")
    rec.wait_devices(["kbd", "abs", "rel"])
    text = piglix.log()
    check("the target is gone" in text, "piglix did not notice the unbind:\n%s" % text[-2000:])
    vm.wait_for(lambda: piglix.log().count("the target is connected") >= 2, 30, what="piglix to reconnect")
    rec.set_mark()
    probe_ok(piglix, "keys", "71", "77")  # q w
    expect_keys(rec, press(KEY["Q"], KEY["W"]), "typing after the UDC was bound again")


USBDEV = "/sys/bus/usb/devices/1-1"  # the gadget as the host's USB core sees it
UDC = "/sys/class/udc/dummy_udc.0"


def suspend_wakeup(vm, piglix, rec):
    """The host suspends the device (runtime PM with wakeup enabled, as in
    S3): a key press from a viewer wakes it (USB remote wakeup) and
    arrives, the press with its release."""
    bm = vm.check("cat %s/bmAttributes" % USBDEV).strip()
    check(int(bm, 16) & 0x20, "the configuration does not offer remote wakeup (bmAttributes %s)" % bm)
    # usbcore says "usb wakeup-resume" (a debug message) when a device woke its host
    vm.check("mountpoint -q /sys/kernel/debug || mount -t debugfs none /sys/kernel/debug; "
             "echo 'module usbcore +p' > /sys/kernel/debug/dynamic_debug/control")
    vm.check("echo enabled > {0}/power/wakeup; echo 0 > {0}/power/autosuspend_delay_ms; "
             "echo auto > {0}/power/control".format(USBDEV))
    try:
        # one wakeup: after it the host does not always suspend again within 30 s
        for what, args in (("a key press", ("keys", "61")),):
            try:
                vm.wait_for(lambda: vm.check("cat %s/power/runtime_status" % USBDEV).strip() == "suspended", 30,
                            interval=0.3, what="the host to suspend the USB device")
            except pvm.VMError as e:
                raise TestFailure("%s\npiglix:\n%s\nhost:\n%s" % (e, piglix.log()[-3000:], vm.run(
                    "dmesg | tail -30; grep . %s/power/* %s:1.*/power/*" % (USBDEV, USBDEV))[0]))
            time.sleep(1)  # and its root hub (bus suspend) after it
            resumes = vm.check("dmesg | grep -c 'usb 1-1: usb wakeup-resume' || true").strip()
            log("the host suspended the device (UDC state %s)" % vm.check("cat %s/state" % UDC).strip())
            rec.set_mark()
            started = time.monotonic()
            probe_ok(piglix, *args)
            try:
                expect_keys(rec, press(KEY["A"]), "%s waking the suspended host" % what)
            except TestFailure as e:
                raise TestFailure("%s\npiglix:\n%s" % (e, piglix.log()[-1500:]))
            check(vm.check("dmesg | grep -c 'usb 1-1: usb wakeup-resume' || true").strip() != resumes,
                  "the host did not log a remote wakeup")
            log("ok: %s woke the suspended host and arrived (%.1f s)" % (what, time.monotonic() - started))
        check("asking it to wake up" in piglix.log(), "piglix did not log the wakeup request")
    finally:
        vm.check("echo on > %s/power/control; echo 'module usbcore -p' > /sys/kernel/debug/dynamic_debug/control"
                 % USBDEV)


def held_through_disconnect(vm, piglix, rec):
    """A viewer holds a key while the cable is pulled and put back (the
    host's port disabled and enabled: the UDC still says "configured"
    after it): the host's new keyboard has nothing held (EVIOCGKEY), also
    after another viewer types; piglix answered meanwhile."""
    port = "/sys/bus/usb/devices/1-0:1.0/usb1-port1/disable"
    rec.set_mark()
    holder = piglix.probe_async("--timeout", "90", "keys", "+61", "--delay", "30000")
    try:
        rec.wait_count("kbd", 1, "the held key", (EV_KEY,))
        held = vm.check("hid_reader held").strip()
        check(held == str(KEY["A"]), "the host holds %s, not a" % held)
        vm.check("echo 1 > %s" % port)
        rec.wait_for_gone("kbd")
        started = time.monotonic()
        probe_ok(piglix, "auth-only", timeout=30)
        log("ok: piglix answers with the cable out (%.2f s)" % (time.monotonic() - started))
        vm.check("echo 0 > %s" % port)
        rec.wait_devices(["kbd"])
        rec.set_mark()
        probe_ok(piglix, "keys", "62")  # another viewer types b while a is still held by the first
        expect_keys(rec, press(KEY["B"]), "typing after the reconnect")
        held = vm.check("hid_reader held").strip()
        check(held == "none", "keys held on the host after the reconnect: %s" % held)
        if holder.poll() is not None:  # (not check(): its message would wait for the viewer to end)
            raise TestFailure("the viewer holding the key left early: %s" % (holder.communicate(),))
        log("ok: nothing held on the host after the reconnect, though a viewer still holds a")
    finally:
        holder.kill()
        holder.communicate()
    time.sleep(1)
    held = vm.check("hid_reader held").strip()
    check(held == "none", "keys held on the host after the viewer left: %s" % held)
    log("ok: a key held through a disconnect is not held after it")


def latency_figures(text):
    for line in text.splitlines():
        if "key event to report written" in line or "reports written" in line:
            log("piglix: " + line.split(" hid: ", 1)[-1])


def case_input(tools, reader):
    vm = boot(tools, reader)
    try:
        rec = Recorder(vm)
        piglix = start_piglix(vm, tools)
        rec.wait_devices(["kbd", "abs", "rel"])
        if os.environ.get("PIGLIX_HID_ONLY_SUSPEND"):  # the suspend step alone (e.g. against an older piglix)
            return suspend_wakeup(vm, piglix, rec)
        flags = vm.check("cat %s/functions/hid.*/no_out_endpoint" % GADGET).split()
        check(flags == ["1", "1", "1"], "no_out_endpoint is %s (LED reports must come by SET_REPORT)" % flags)
        check(" W " not in piglix.log(), "piglix warned at start:\n%s" % piglix.log()[-2000:])
        names = vm.check("hid_reader list")
        check(names.count("piglix") >= 3, "the host does not list piglix's devices:\n%s" % names)
        log("host sees:\n" + names.rstrip())
        typing(piglix, rec)
        pointer(piglix, rec)
        held_keys(piglix, rec)
        leds(vm, piglix, rec)
        unbind_mid_typing(vm, piglix, rec)
        suspend_wakeup(vm, piglix, rec)
        check_pairing(rec.lines())
        log("ok: every key press has its release, in order")
        text = piglix.stop()
        left = vm.check("ls %s 2>/dev/null; ls /sys/kernel/config/usb_gadget" % GADGET).strip()
        check(left == "", "configfs not empty after exit: %r" % left)
        log("ok: nothing left in configfs after exit")
        latency_figures(text)
    finally:
        vm.stop()


def case_lifecycle(tools, reader):
    vm = boot(tools, reader)
    try:
        rec = Recorder(vm)
        piglix = start_piglix(vm, tools)
        rec.wait_devices(["kbd"])
        piglix.proc.kill("KILL")
        piglix.proc.wait(30)
        check(vm.check("ls /sys/kernel/config/usb_gadget").split() == ["piglix"], "no stale gadget after SIGKILL")
        log("piglix killed: its gadget stays in configfs")
        # no key watchdog: a held key stays held until the viewer lets go
        piglix = start_piglix(vm, tools, "/etc/piglix/relative.ini -o hid.key_hold_max_ms=0",
                              name="piglix-relative")
        check("removing the USB gadget 'piglix' an earlier run left" in piglix.log(),
              "the stale gadget was not reported:\n%s" % piglix.log()[-2000:])
        rec.wait_devices(["kbd", "rel"])
        rec.set_mark()
        probe_ok(piglix, "keys", "61")
        expect_keys(rec, press(KEY["A"]), "typing after the stale gadget was replaced")
        rec.set_mark()
        for x, y, b in ((100, 100, 0), (150, 90, 0), (400, 400, 1)):
            probe_ok(piglix, "pointer", x, y, b)
        want = [(EV_REL, REL_X, 50), (EV_REL, REL_Y, -10), (EV_KEY, BTN_LEFT, 1), (EV_REL, REL_X, 127),
                (EV_REL, REL_Y, 127), (EV_REL, REL_X, 123), (EV_REL, REL_Y, 127), (EV_REL, REL_Y, 56),
                (EV_KEY, BTN_LEFT, 0)]
        rec.wait_count("rel", len(want), "relative mouse events")
        got = [(t, c, v) for t, c, v, _ in rec.events("rel")]
        check(got == want, "relative mouse events\n  got  %s\n  want %s" % (got, want))
        check(not rec.events("abs"), "the absolute mouse moved in relative mode")
        log("ok: the relative mouse moved by the viewer's motion (+50,-10 then +250,+310 in steps of 127)")
        held_through_disconnect(vm, piglix, rec)
        piglix.stop()
        check(vm.check("ls /sys/kernel/config/usb_gadget").strip() == "", "configfs not empty after exit")
        # A missing UDC is not a reason to exit: piglix says why once, runs
        # and keeps looking (every 5 s) without touching configfs.
        out, status = vm.run("piglix -c /etc/piglix/piglix.ini -o hid.udc=nope >/tmp/nope.log 2>&1 & p=$!; "
                             "sleep 12; echo \"gadgets=[$(ls /sys/kernel/config/usb_gadget)]\"; "
                             "kill $p; wait $p; echo \"rc=$?\"; cat /tmp/nope.log", timeout=60)
        check(status == 0 and "rc=0" in out and "gadgets=[]" in out and
              out.count("no USB device controller 'nope'") == 1,
              "a missing UDC: status %d:\n%s" % (status, out[-2000:]))
        check(vm.check("ls /sys/kernel/config/usb_gadget").strip() == "", "configfs not empty after the run")
        log("ok: a missing UDC is reported once, piglix keeps running and leaves configfs empty")

        # The systemd split: root makes the gadget (`piglix gadget up`), the
        # daemon runs unprivileged, attaches without writing configfs, types,
        # wakes the suspended host, and leaves the gadget in place; `piglix
        # gadget down` removes it. As installed, the daemon's user owns the
        # state dir: gadget up hands it the UDC's srp (remote wakeup).
        vm.check("mkdir -p /tmp/st1000; cp /var/lib/piglix/vnc.passwd /tmp/st1000/; "
                 "chown -R 1000:1000 /tmp/st1000; chmod 700 /tmp/st1000; "
                 "echo 'piglix:x:1000:1000::/tmp:/bin/sh' >> /etc/passwd; echo 'piglix:x:1000:' >> /etc/group; "
                 "printf '#!/bin/sh\\nexec su piglix -s /bin/sh -c \"exec $*\"\\n' > /tmp/as-piglix; "
                 "chmod 755 /tmp/as-piglix")
        vm.check("piglix -c /etc/piglix/piglix.ini -o state.dir=/tmp/st1000 gadget up")
        check(vm.check("cat %s/UDC" % GADGET).strip() == "dummy_udc.0", "gadget up did not bind the gadget")
        srp = vm.check("stat -c '%%u %%a' %s/srp" % UDC).strip()
        check(srp == "1000 200", "the UDC's srp after gadget up: owner and mode %s, not 1000 200" % srp)
        rec.wait_devices(["kbd"])
        vm.check("chmod 666 /dev/hidg*")
        check(vm.check("/tmp/as-piglix id -u").strip() == "1000", "cannot run as an unprivileged user")
        user = start_piglix(vm, tools, "/etc/piglix/piglix.ini -o state.dir=/tmp/st1000", name="piglix-user",
                            prefix="/tmp/as-piglix ")
        check("using the USB gadget `piglix gadget up` made" in user.log(),
              "the unprivileged daemon did not attach:\n%s" % user.log()[-2000:])
        rec.set_mark()
        probe_ok(user, "keys", "61")
        expect_keys(rec, press(KEY["A"]), "typing through the attached gadget")
        suspend_wakeup(vm, user, rec)
        check("cannot ask the target to wake up" not in user.log(),
              "the unprivileged daemon:\n%s" % user.log()[-2000:])
        user.stop()
        check(vm.check("cat %s/UDC" % GADGET).strip() == "dummy_udc.0", "the daemon removed root's gadget")
        vm.check("piglix -c /etc/piglix/piglix.ini gadget down")
        check(vm.check("ls /sys/kernel/config/usb_gadget").strip() == "", "gadget down left configfs")
        log("ok: gadget up (root) + unprivileged daemon attached, typed, woke the host + gadget down")
    finally:
        vm.stop()


CASES = {"input": case_input, "lifecycle": case_lifecycle}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--piglix", required=True)
    ap.add_argument("--rfbprobe", required=True)
    ap.add_argument("--reader", required=True)
    ap.add_argument("case", choices=sorted(CASES))
    args = ap.parse_args()
    tools = Tools(args.piglix, args.rfbprobe)
    return run_main(CASES[args.case], tools, args.reader)


if __name__ == "__main__":
    sys.exit(main())
