#!/usr/bin/env python3
"""End-to-end tests of piglix as an appliance out of the box: hardware that
is absent is reported and waited for, never a reason to exit.
Usage: e2e_appliance.py PIGLIX TOOLS_DIR CASE"""
import os
import sys
import time

from piglix_e2e import check, run
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


CASES = {name[5:]: fn for name, fn in globals().items() if name.startswith("case_")}

if __name__ == "__main__":
    sys.exit(run(CASES))
