#!/usr/bin/env python3
"""`piglix doctor` against real drivers, in one VM boot: vivid (an HDMI input
with DV timings and an EDID), dummy_hcd (a USB device controller whose
gadget the same kernel enumerates as a USB host) and the simulated ATX board
(tests/vm/gpio_sim). Each check says ok while the device is there and
"problem" once it is taken away; with the daemon running, frames arrive and
the host's Caps Lock (hid_reader on the host side) shows in keyboard-leds. On the way, piglix is started with no USB
device controller and no ATX board, and both are loaded later: the gadget
must bind and the buttons and LEDs start within the 5 s retry period
(app/usb_wait.c, atx/atx.c).

    test_doctor.py --piglix PATH --hid-reader PATH [--module piglix_atx_sim.ko]

Prints each doctor run (the text deploy/INSTALL.md quotes). Exit 0 on
success, 1 on failure."""
import argparse
import sys
import time

import board_common
from capture_common import TestFailure, check, log, run_main

VIVID = "vivid n_devs=1 node_types=0x1 num_inputs=1 input_types=0x3"
USB_AT_BOOT = ["libcomposite", "usb_f_hid", "usb_f_mass_storage", "usbhid", "hid_generic", "evdev"]
USB_LATER = ["dummy_hcd"]
GADGET = "/sys/kernel/config/usb_gadget/piglix"
CONFIG = """[capture]
source = v4l2
device = /dev/video0

[vnc]
listen = 0.0.0.0

[hid]
enabled = yes

[vmedia]
enabled = yes
dir = /var/lib/piglix/images

[atx]
%s
[state]
dir = /var/lib/piglix
""" % board_common.ATX_WIRING
RETRY_S = 5


def doctor(vm, what):
    """{name: (status, text)} of one `piglix doctor` run, and its exit status."""
    text, status = vm.run("piglix -c /etc/piglix/piglix.ini doctor", timeout=60)
    log("doctor, %s (exit %d):\n%s" % (what, status, text.rstrip()))
    checks = {}
    for line in text.splitlines():
        head, _, rest = line.partition(": ")
        parts = head.split()
        if len(parts) == 2 and parts[0] in ("ok", "warning", "problem"):
            checks[parts[1]] = (parts[0], rest)
    return checks, status


def expect(checks, name, status, words=""):
    got = checks.get(name)
    check(got is not None, "doctor has no %s line" % name)
    check(got[0] == status and words in got[1], "%s: want %s with %r, got %s: %s" % (name, status, words, *got))


def case_doctor(ko):
    with board_common.board_vm(ko, [VIVID] + USB_AT_BOOT, available_modules=USB_LATER,
                               binaries=[ARGS.piglix, "/usr/bin/v4l2-ctl", ARGS.hid_reader],
                               files={"/etc/piglix/piglix.ini": CONFIG}) as vm:
        vm.check("mkdir -p /var/lib/piglix/images && chmod 700 /var/lib/piglix/images")
        # piglix with no USB device controller and no ATX board: it runs and waits for them
        vm.check("rmmod piglix_atx_sim")
        proc = vm.spawn("exec piglix -c /etc/piglix/piglix.ini", log="/tmp/piglix.log")
        vm.wait_for(lambda: "no USB keyboard and mouse" in proc.log() and "is not there" in proc.log(), 30,
                    what="the no-UDC and no-chip messages")
        checks, status = doctor(vm, "no USB device controller, no ATX board yet")
        expect(checks, "capture", "ok", "driver vivid")
        expect(checks, "edid", "ok", "prefers")
        expect(checks, "signal", "ok", "1280x720p60, pixel clock 74.25 MHz")
        expect(checks, "atx", "problem", "not found")
        expect(checks, "usb-controller", "problem", "no USB device controller")
        check(status == 1, "doctor exits %d with a problem" % status)

        # both come: the gadget binds and the board's lines open within the retry period
        vm.check("modprobe dummy_hcd && modprobe piglix_atx_sim")
        t0 = time.monotonic()
        vm.wait_for(lambda: vm.run("cat %s/UDC" % GADGET)[0].strip() == "dummy_udc.0", RETRY_S + 5,
                    interval=0.2, what="the gadget bound to dummy_udc.0")
        took = time.monotonic() - t0
        log("dummy_hcd loaded -> gadget bound in %.1f s" % took)
        check(took <= RETRY_S + 2, "bound after %.1f s, retry period %d s" % (took, RETRY_S))
        vm.wait_for(lambda: "GPIO chip 'piglix-atx-sim' is there now" in proc.log(), RETRY_S + 5 - took, interval=0.2,
                    what="the ATX board's lines opened")
        took = time.monotonic() - t0
        log("board loaded -> ATX lines open in %.1f s" % took)
        check(took <= RETRY_S + 2, "ATX lines open after %.1f s, retry period %d s" % (took, RETRY_S))
        check(proc.alive(), "piglix exited:\n%s" % proc.log()[-3000:])
        vm.wait_for(lambda: vm.run("cat /sys/class/udc/dummy_udc.0/state")[0].strip() == "configured", 20,
                    what="the host configured the gadget")
        checks, status = doctor(vm, "all there")
        for name in ("capture", "edid", "signal", "usb-controller", "usb-gadget", "usb-host", "mass-storage",
                     "atx", "atx-lines", "state"):
            expect(checks, name, "ok")
        expect(checks, "usb-gadget", "ok", "bound to dummy_udc.0")
        expect(checks, "usb-host", "ok", "configured")
        expect(checks, "mass-storage", "ok", "mass_storage.usb0")
        expect(checks, "atx", "ok", "piglix-atx-sim")
        expect(checks, "atx-lines", "ok", "5 configured lines")
        expect(checks, "atx-lines", "ok", "power LED held by the running piglix")
        check(status == 0, "doctor exits %d with nothing wrong" % status)
        # from the running daemon: vivid's frames arrive; the host's Caps Lock
        # (as its keyboard handling sets it) reaches the doctor
        expect(checks, "frames", "ok", "frames arriving")
        vm.check("hid_reader led 1 1")
        t0 = time.monotonic()
        vm.wait_for(lambda: "Caps Lock on" in doctor(vm, "Caps Lock set by the host")[0]
                    .get("keyboard-leds", ("", ""))[1], 15, interval=1, what="keyboard-leds: Caps Lock on")
        log("Caps Lock set -> the doctor says so in %.1f s" % (time.monotonic() - t0))

        # no signal on the input; the gadget unbound
        vm.check("v4l2-ctl -d /dev/video0 -c dv_timings_signal_mode=1")
        vm.check("echo '' > %s/UDC" % GADGET)
        checks, status = doctor(vm, "no signal, gadget unbound")
        expect(checks, "signal", "problem", "no signal")
        expect(checks, "usb-gadget", "problem", "not bound")
        check(status == 1, "doctor exits %d with problems" % status)
        vm.wait_for(lambda: doctor(vm, "no signal: the daemon's figures")[0].get("frames", ("",))[0] == "problem",
                    10, interval=1, what="frames: a problem without a signal")

        # piglix stopped, then the capture device and the board taken away
        proc.kill("TERM")
        check(proc.wait(30) == 0, "piglix exited badly:\n%s" % proc.log()[-3000:])
        vm.check("rmmod vivid")
        vm.check("rmmod piglix_atx_sim")
        checks, status = doctor(vm, "vivid and the board removed")
        expect(checks, "frames", "warning", "piglix is not running")
        expect(checks, "keyboard-leds", "warning", "piglix is not running")
        expect(checks, "capture", "problem", "/dev/video0 does not exist")
        expect(checks, "atx", "problem", "not found")
        check("signal" not in checks and "atx-lines" not in checks, "checks of a missing device ran")
        check(status == 1, "doctor exits %d with problems" % status)


def main():
    global ARGS
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--piglix", required=True)
    ap.add_argument("--module", help="a prebuilt piglix_atx_sim.ko")
    ap.add_argument("--hid-reader", required=True, help="tests/vm/hid_reader (sets the host's keyboard LEDs)")
    ARGS = ap.parse_args()
    try:
        ko = board_common.build_module(ARGS.module)
    except TestFailure as e:
        print("FAIL: %s" % e, file=sys.stderr)
        return 1
    return run_main(case_doctor, ko)


ARGS = None

if __name__ == "__main__":
    sys.exit(main())
