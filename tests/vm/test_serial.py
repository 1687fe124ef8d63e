#!/usr/bin/env python3
"""The serial console ([serial], serial/) on a real kernel with real clients,
in one VM boot. The simulated server (serial_sim, in the guest) prints a boot
log and a login prompt, echoes and answers what it reads, and reads its
line with PARMRK so a BREAK is seen as one. Its serial port both ways:

  adapter: a pty pair stands in for the USB-serial adapter (piglix opens
    the slave through a /dev/ttyUSB-sim link);
  gadget: `[serial] device = gadget`: piglix's CDC ACM function (usb_f_acm,
    /dev/ttyGS0) through dummy_hcd, seen by the same kernel's USB host
    (cdc_acm) as /dev/ttyACM0, where the simulated server sits.

For each: `ipmitool -I lanplus -C 17 sol activate` on the host (through the
forwarded UDP port) sees the boot log and the prompt and types a login that
arrives; the web terminal's WebSocket (/api/serial) does the same; keys
typed one at a time each arrive without a further write behind them; the
adapter unplugged and back (the pty closed and a new one linked; the
gadget's soft_connect off and on). BREAK: on the gadget, from the web
terminal and ipmitool's ~B, the server reads \\377\\0\\0 (cdc_acm's TTY_BREAK
from f_acm's SERIAL_STATE notification); a pty has no BREAK, so there
nothing may arrive. After a restart of piglix the console log holds the
whole boot the server printed again, in order, each line stamped.
    test_serial.py --piglix PATH --sim PATH
Exit 0 on success, 1 on failure."""
import argparse
import os
import re
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "e2e"))
import pvm  # noqa: E402
from capture_common import TestFailure, check, log, run_main  # noqa: E402
import piglix_e2e  # noqa: E402
from e2e_serial import Terminal  # noqa: E402
from e2e_sol import Term  # noqa: E402
from e2e_web import Web  # noqa: E402

WEB_PORT = 8443
PASSWORD = "web-serial-pw-1"
IPMI_PASSWORD = "Sol-vm-pass-17"
STATE = "/var/lib/piglix"
GADGET = "/sys/kernel/config/usb_gadget/piglix"
PROMPT = b"simserver login: "
BOOT_LINES = [b"[    0.000000] Linux version 6.1.0-simserver", b"[    0.000000] Command line:",
              b"[    0.120000] Serial: 8250/16550", b"[    2.500000] systemd[1]: Reached target",
              b"Debian GNU/Linux 12 simserver ttyS0", PROMPT]


def config(device, ipmi_port):
    return ("[capture]\nsource = test\nwidth = 320\nheight = 240\nfps = 1\n\n"
            "[vnc]\nenabled = no\n\n[hid]\nenabled = yes\n\n"
            "[web]\nenabled = yes\nlisten = 0.0.0.0\nport = %d\n\n"
            "[ipmi]\nenabled = yes\nlisten = ::\nport = %d\n\n"
            "[serial]\nenabled = yes\ndevice = %s\nbaud = 115200\n\n"
            "[state]\ndir = %s\n" % (WEB_PORT, ipmi_port, device, STATE))


class Sim:
    """serial_sim in the guest: what it received and its events."""

    def __init__(self, vm, mode, path, name):
        self.vm, self.dir = vm, "/tmp/" + name
        self.proc = vm.spawn("exec serial_sim %s %s %s" % (mode, path, self.dir), log="/tmp/%s.log" % name)

    def _read(self, what):
        try:
            return self.vm.read_file("%s/%s" % (self.dir, what))
        except pvm.CommandFailed:
            return b""

    def rx(self):
        return self._read("rx")

    def events(self):
        return self._read("events").decode().splitlines()

    def ctl(self, cmd):
        self.vm.check("echo '%s' > %s/ctl" % (cmd, self.dir))

    def wait_rx(self, want, timeout=10, what=None):
        self.vm.wait_for(lambda: want in self.rx(), timeout, interval=0.1,
                         what=what or "the server to receive %r (got %r)" % (want, self.rx()[-200:]))

    def wait_breaks(self, n, what):
        self.vm.wait_for(lambda: self.rx().count(b"<BREAK>") >= n, 10, interval=0.1,
                         what="%s to arrive at the server as a BREAK (got %r)" % (what, self.rx()[-200:]))

    def wait_event(self, ev, timeout=15):
        self.vm.wait_for(lambda: ev in self.events(), timeout, interval=0.2,
                         what="the server's event %r (events %s)" % (ev, self.events()))


class Bmc:
    """piglix in the guest, its web API and IPMI from the host."""

    def __init__(self, vm, ini, tmp, name):
        self.vm, self.tmp = vm, tmp
        self.proc = vm.spawn("exec piglix -c %s" % ini, log="/tmp/%s.log" % name)
        self.web = object.__new__(Web)      # the e2e client, against the forwarded port
        self.web.https, self.web.cookie, self.web.csrf = vm.host_port(WEB_PORT), None, None
        vm.wait_for(lambda: self.web.request("GET", "/api/setup")[0] == 200, 60, what="the web API")
        self.web.login("admin", PASSWORD)
        vm.wait_for(lambda: "IPMI 2.0 over LAN on UDP" in self.proc.log(), 30, what="the IPMI thread")
        self.pwfile = os.path.join(tmp, "ipmi.pw")
        with open(os.open(self.pwfile, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w") as f:
            f.write(IPMI_PASSWORD)

    def status(self):
        st, js, _, _ = self.web.request("GET", "/api/serial")
        check(st == 200, "GET /api/serial: %d" % st)
        return js

    def sol(self):
        return Term(["ipmitool", "-I", "lanplus", "-H", "127.0.0.1", "-p", str(self.vm.ipmi_port),
                     "-U", "admin", "-f", self.pwfile, "-C", "17", "sol", "activate"])

    def terminal(self):
        t = Terminal(self.web.https, cookie=self.web.cookie)
        check(t.ok, "the serial WebSocket was refused:\n%s" % self.proc.log()[-2000:])
        return t

    def stop(self):
        self.proc.kill("TERM")
        rc = self.proc.wait(30)
        check(rc == 0, "piglix did not stop cleanly (%d):\n%s" % (rc, self.proc.log()[-2000:]))
        return self.proc.log()


def keys_one_by_one(sim, t, word):
    """Each key alone must reach the server and its echo come back before
    the next is typed: a byte that waits for a later write (in either
    direction) fails here. The server's record is checked once at the end."""
    for i in range(len(word)):
        key, mark = word[i:i + 1], len(t.out)
        t.send(key)
        t.pump(lambda t: key in t.out[mark:], 5, "the echo of key %r (%d of %r) alone" % (key, i + 1, word))
    sim.wait_rx(word)


def sol_session(bmc, sim, login, want_break):
    t0 = time.monotonic()
    t = bmc.sol()
    t.read_until(b"SOL Session operational", 30)
    t.read_until(PROMPT, 15)           # the backlog: the boot log and the prompt
    check(b"Debian GNU/Linux 12 simserver" in t.out, "SOL: no boot log before the prompt:\n%r" % t.out[-800:])
    t.type(login + b"\r")
    sim.wait_rx(login + b"\r")
    t.read_until(b"welcome " + login.decode().encode())
    breaks = sim.rx().count(b"<BREAK>")
    t.type(b"\r~B")
    t.read_until(b"[send break]")
    if want_break:
        sim.wait_breaks(breaks + 1, "ipmitool's ~B")
        t.read_until(b"[sysrq] BREAK seen")
    t.type(b"\r~.")
    check(t.wait() == 0, "ipmitool sol activate after ~.:\n%s" % t.out.decode(errors="replace"))
    log("ok: ipmitool -C 17 sol activate: boot log and prompt seen, %r arrived%s, ~. left (%.1f s)"
        % (login, ", ~B arrived as a BREAK" if want_break else "", time.monotonic() - t0))


def web_session(bmc, sim, login, want_break):
    t = bmc.terminal()
    t.wait_status(True, 10)
    t.wait_for(PROMPT, 10)
    check(b"Debian GNU/Linux 12 simserver" in t.out, "terminal: no boot log in the scrollback: %r" % t.out[-500:])
    keys_one_by_one(sim, t, login + b"\r")
    t.wait_for(b"welcome " + login + b"\r\n" + PROMPT)
    breaks = sim.rx().count(b"<BREAK>")
    t.send_text('{"type":"break"}')
    if want_break:
        sim.wait_breaks(breaks + 1, "the terminal's BREAK")
        t.wait_for(b"[sysrq] BREAK seen")
    else:
        bmc.vm.wait_for(lambda: bmc.status()["breaks"] >= 1, 5, what="the BREAK to be sent")
        time.sleep(0.5)
        check(b"<BREAK>" not in sim.rx(), "a BREAK arrived through a pty, which has none")
    log("ok: web terminal: scrollback, %r typed key by key arrived, BREAK %s" % (
        login, "arrived as a BREAK" if want_break else "sent (a pty carries none)"))
    return t


def adapter(vm, tmp):
    sim = Sim(vm, "pty", "/dev/ttyUSB-sim", "sim-pty")
    vm.wait_for(lambda: "open 1" in sim.events(), 10, what="the simulated adapter")
    bmc = Bmc(vm, "/etc/piglix/pty.ini", tmp, "piglix-pty")
    sol_session(bmc, sim, b"root", want_break=False)
    t = web_session(bmc, sim, b"admin", want_break=False)
    sim.ctl("unplug")
    t.wait_status(False, 10)
    check(t.statuses[-1]["why"], "unplugged without a reason: %s" % t.statuses[-1])
    sim.ctl("plug")
    t.wait_status(True, 10)
    t.wait_for(b"[boot 2]", 10)
    t.wait_for(PROMPT, 10)
    keys_one_by_one(sim, t, b"back\r")
    t.wait_for(b"welcome back")
    log("ok: adapter unplugged (terminal told: %s) and back: boot 2 seen, typing arrives"
        % t.statuses[-2]["why"])
    t.close()
    bmc.stop()
    sim.proc.kill("TERM")


def gadget(vm, tmp):
    sim = Sim(vm, "tty", "/dev/ttyACM0", "sim-acm")
    bmc = Bmc(vm, "/etc/piglix/gadget.ini", tmp, "piglix-acm")
    sim.wait_event("open 1", 30)
    t = web_session(bmc, sim, b"root", want_break=True)
    sol_session(bmc, sim, b"operator", want_break=True)
    t.wait_for(b"welcome operator")     # the terminal saw the SOL session's echo too
    # the cable pulled: the server's USB host loses ttyACM0 and finds it again
    vm.check("echo '' > %s/UDC" % GADGET)
    sim.wait_event("gone", 15)
    vm.check("echo dummy_udc.0 > %s/UDC" % GADGET)
    sim.wait_event("open 2", 30)
    t.wait_for(b"[boot 2]", 15)
    t.wait_for(PROMPT, 10)
    keys_one_by_one(sim, t, b"again\r")
    t.wait_for(b"welcome again")
    log("ok: gadget unbound from its UDC and bound again: boot 2 seen, typing arrives")
    t.close()
    # a restart of piglix takes its gadget away and brings it back: the
    # server boots again (boot 3), and the log holds all of it
    bmc.stop()
    sim.wait_event("gone", 15)
    bmc = Bmc(vm, "/etc/piglix/gadget.ini", tmp, "piglix-acm2")
    sim.wait_event("open 3", 30)
    t = bmc.terminal()
    t.wait_for(b"[boot 3]", 15)
    t.wait_for(PROMPT, 10)
    text = vm.read_file(STATE + "/serial/console.log")
    lines = text.split(b"\n")
    at = 0
    for boot in (1, 2, 3):
        for want in [b"[boot %d]" % boot] + BOOT_LINES:
            while at < len(lines) and want not in lines[at]:
                at += 1
            check(at < len(lines), "console.log lacks %r (boot %d) in order:\n%s" % (
                want, boot, text.decode(errors="replace")))
    for line in lines:
        check(not line or re.match(rb"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z ", line), "unstamped line %r" % line)
    check(b"welcome root" in text and b"welcome operator" in text, "the sessions' echo is not in the log")
    log("ok: after the restart console.log holds boots 1-3 whole and in order (%d lines)" % len(lines))
    t.close()
    bmc.stop()


def run_test(args):
    tmp = tempfile.mkdtemp(prefix="piglix-serial-")
    # SOL names its UDP port (parameter 8) and ipmitool insists it is the one
    # it talks to: the same number on both sides of the forward
    ipmi_port = pvm._free_port(udp=True)
    with pvm.VM(modules=["dummy_hcd", "libcomposite", "usb_f_hid", "usb_f_acm", "cdc_acm"],
                binaries=[args.piglix, args.sim],
                files={"/etc/piglix/pty.ini": config("/dev/ttyUSB-sim", ipmi_port),
                       "/etc/piglix/gadget.ini": config("gadget", ipmi_port)},
                ports={0: WEB_PORT, ipmi_port: "udp:%d" % ipmi_port}) as vm:
        vm.ipmi_port = ipmi_port
        log("VM up in %.1f s" % vm.boot_seconds)
        cli = "piglix -c /etc/piglix/pty.ini "
        vm.check("mkdir -p -m 700 %s" % STATE)
        vm.check("printf '%s\\n' | %s user add admin" % (PASSWORD, cli))
        vm.check("printf '%s\\n' | %s user ipmi-passwd admin" % (IPMI_PASSWORD, cli))
        try:
            adapter(vm, tmp)
            gadget(vm, tmp)
        except piglix_e2e.TestFailure as e:
            raise TestFailure(str(e))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--piglix", required=True)
    ap.add_argument("--sim", required=True)
    return run_main(run_test, ap.parse_args())


if __name__ == "__main__":
    sys.exit(main())
