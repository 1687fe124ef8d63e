#!/usr/bin/env python3
"""IPMI 2.0 over LAN (web/ipmi*.c) with real clients: piglix in a pvm VM with
tests/vm/gpio_sim's simulated motherboard and a fixture hwmon tree, Debian's
ipmitool and freeipmi on the host through a forwarded UDP port.

    test_ipmi.py --piglix PATH [--module KO]

Checks, in one boot: the RMCP presence ping (rmcpping in the guest);
`ipmitool -I lanplus` with cipher suites 3 and 17 (mc info, mc guid against
the GUID piglix keeps, chassis status, sdr list, sensor list with the
fixture's exact values and thresholds, chassis power on/off/cycle/reset/soft
with the board following); freeipmi's ipmipower (--stat/--on/--off) and
ipmi-sensors; refusals: a wrong password, a name without an IPMI password,
cipher suite 0, IPMI 1.5; a replayed authenticated packet (re-sent by a
UDP relay on the host) gets no answer and no effect while its session goes
on; Close Session; an idle session timing out; `piglix user ipmi-passwd`
refused while [ipmi] is off; `user del` removing the IPMI password; the
passwords removed when the daemon starts with IPMI off.
Exit 0 on success, 1 on failure."""
import argparse
import os
import re
import select
import socket
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from board_common import ATX_WIRING, PARAMS, Board, board_vm, build_module  # noqa: E402
from capture_common import TestFailure, check, log, run_main  # noqa: E402

CONFIG = "/etc/piglix/ipmi.ini"
PASSWORD = "Ipmi-pass-17"          # the IPMI password (not the web one)
VIEWER_PASSWORD = "Viewer-ipmi-2"
HWMON = "/srv/sysfix/class/hwmon/hwmon0/"
# a fixture hwmon chip: exact readings and limits the clients must show
FIXTURE = {
    "name": "board", "temp1_input": "45500", "temp1_label": "CPU Temp", "temp1_max": "80000",
    "temp1_crit": "95000", "in0_input": "12100", "in0_label": "12V", "in0_min": "10800",
    "in0_max": "13200", "fan1_input": "1230", "fan1_label": "Rear Fan", "fan1_min": "300",
}
DAEMON_CONFIG = "[atx]\n" + ATX_WIRING + """long_press_ms = 1000
on_timeout_s = 5
off_timeout_s = 5
force_off_timeout_s = 5
cycle_off_s = 1
[capture]
source = test
width = 320
height = 240
fps = 1
[vnc]
enabled = no
[web]
enabled = no
[sensors]
enabled = yes
root = /srv/sysfix
poll_ms = 500
[ipmi]
enabled = yes
listen = ::
port = 623
session_timeout_s = 10
max_sessions = 6
[state]
dir = /var/lib/piglix
"""
SDR_WANT = [r"CPU Temp\s+\|\s+45\.50 degrees C\s+\|\s+ok", r"12V\s+\|\s+12\.10 Volts\s+\|\s+ok",
            r"Rear Fan\s+\|\s+1230 RPM\s+\|\s+ok", r"Chassis intrusio\s+\|\s+0x00\s+\|\s+ok"]
SENSOR_WANT = [r"CPU Temp\s+\|\s+45\.500\s+\|\s+degrees C\s+\|\s+ok\s+\|\s+na\s+\|\s+na\s+\|\s+na\s+\|"
               r"\s+80\.000\s+\|\s+95\.000\s+\|\s+na",
               r"12V\s+\|\s+12\.100\s+\|\s+Volts\s+\|\s+ok\s+\|\s+na\s+\|\s+na\s+\|\s+10\.800\s+\|\s+13\.200",
               r"Rear Fan\s+\|\s+1230\.000\s+\|\s+RPM\s+\|\s+ok\s+\|\s+na\s+\|\s+na\s+\|\s+300\.000"]


class Host:
    """The clients on the host, against the forwarded UDP port."""

    def __init__(self, port, tmp):
        self.port = port
        self.tmp = tmp
        self.pwfile = self.secret("admin.pw", PASSWORD)

    def secret(self, name, text):
        path = os.path.join(self.tmp, name)
        with open(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w") as f:
            f.write(text)
        return path

    def ipmitool_args(self, suite, user="admin", pwfile=None, iface="lanplus", port=None):
        return ["ipmitool", "-I", iface, "-H", "127.0.0.1", "-p", str(port or self.port), "-U", user,
                "-f", pwfile or self.pwfile, "-C", str(suite), "-R", "2", "-N", "2"]

    def ipmitool(self, suite, *cmd, ok=True, **kw):
        args = self.ipmitool_args(suite, **kw) + list(cmd)
        started = time.monotonic()
        r = subprocess.run(args, capture_output=True, text=True, timeout=60)
        text = r.stdout + r.stderr
        check((r.returncode == 0) == ok, "%s: exit %d (wanted %s):\n%s" % (
            " ".join(args), r.returncode, "success" if ok else "failure", text))
        log("ipmitool -C %s %s: exit %d, %.1f s" % (suite, " ".join(cmd), r.returncode, time.monotonic() - started))
        return text

    def freeipmi(self, tool, suite, *cmd, password=PASSWORD):
        args = [tool, "-D", "LAN_2_0", "-I", str(suite), "-h", "127.0.0.1:%d" % self.port, "-u", "admin",
                "-p", password] + list(cmd)
        started = time.monotonic()
        r = subprocess.run(args, capture_output=True, text=True, timeout=60)
        log("%s -I %s %s: exit %d, %.1f s" % (tool, suite, " ".join(cmd), r.returncode, time.monotonic() - started))
        return r.returncode, r.stdout + r.stderr


class Relay(threading.Thread):
    """A UDP relay between one client and the forwarded port. It keeps what
    the client sent and can send a packet again from the same socket, so
    piglix sees it from the session's own peer."""

    def __init__(self, target):
        super().__init__(daemon=True)
        self.front = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.front.bind(("127.0.0.1", 0))
        self.port = self.front.getsockname()[1]
        self.back = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.back.connect(("127.0.0.1", target))
        self.client = None
        self.sent = []           # (time, bytes) the client sent
        self.replies = []        # times answers came back
        self.lock = threading.Lock()
        self.done = False

    def run(self):
        while not self.done:
            ready, _w, _x = select.select([self.front, self.back], [], [], 0.2)
            for s in ready:
                if s is self.front:
                    data, self.client = s.recvfrom(4096)
                    with self.lock:
                        self.sent.append((time.monotonic(), data))
                    self.back.send(data)
                else:
                    data = s.recv(4096)
                    with self.lock:
                        self.replies.append(time.monotonic())
                    if self.client:
                        self.front.sendto(data, self.client)

    def session_packets_since(self, t):
        """The client's RMCP+ packets inside a session (session id not 0) after t."""
        with self.lock:
            return [d for when, d in self.sent if when >= t and len(d) > 16 and d[4] == 0x06 and d[6:10] != bytes(4)]

    def replies_since(self, t):
        with self.lock:
            return [w for w in self.replies if w >= t]


class Shell:
    """`ipmitool ... shell`: one session for several commands."""

    def __init__(self, args):
        self.p = subprocess.Popen(args + ["shell"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                  stderr=subprocess.STDOUT)
        os.set_blocking(self.p.stdout.fileno(), False)
        self.read_prompt(30)

    def read_prompt(self, timeout):
        buf, end = b"", time.monotonic() + timeout
        while time.monotonic() < end:
            ready, _w, _x = select.select([self.p.stdout], [], [], 0.2)
            if ready:
                buf += self.p.stdout.read() or b""
                if buf.endswith(b"ipmitool> "):
                    return buf.decode(errors="replace")
            if self.p.poll() is not None:
                break
        raise TestFailure("ipmitool shell: no prompt within %ss:\n%s" % (timeout, buf.decode(errors="replace")))

    def run(self, cmd, timeout=30):
        self.p.stdin.write(cmd.encode() + b"\n")
        self.p.stdin.flush()
        return self.read_prompt(timeout)

    def close(self):
        if self.p.poll() is None:
            self.p.stdin.write(b"exit\n")
            self.p.stdin.flush()
            try:
                return self.p.wait(10)
            except subprocess.TimeoutExpired:
                self.p.kill()
        return self.p.wait()


def atx_done(proc, action):
    """How many `action`s asked for over IPMI finished well so far."""
    return len(re.findall(r"atx: %s by ipmi:\S+: (?:done|pressed)" % re.escape(action), proc.log()))


def power_step(vm, proc, board, run, action, counter, power):
    """run() asks for action; wait for atx to finish it, the board's counter
    to go up by one and its power to end as given."""
    before, count = atx_done(proc, action), board.num(counter)
    run()
    vm.wait_for(lambda: atx_done(proc, action) > before, 20, interval=0.2, what="atx to finish %s" % action)
    s = board.state()
    check(int(s[counter]) == count + 1 and s["power"] == power,
          "after %s: %s went %d -> %s, power %s (wanted %s)\n%s" % (action, counter, count, s[counter],
                                                                   s["power"], power, proc.log()[-3000:]))
    log("ok: %s: board %s, %s %d" % (action, power, counter, count + 1))


def setup_accounts(vm):
    cli = "piglix -c %s " % CONFIG
    vm.check("printf 'web-password-1\\n' | %s user add admin" % cli)
    vm.check("printf 'web-password-2\\n' | %s user add viewer" % cli)
    text, rc = vm.run("printf '%s\\n' | %s -o ipmi.enabled=no user ipmi-passwd admin 2>&1" % (PASSWORD, cli))
    check(rc == 1 and "[ipmi] enabled = no" in text and "recoverably" in text,
          "ipmi-passwd with IPMI off should be refused with the reason:\n%s" % text)
    text, rc = vm.run("printf 'short\\n' | %s user ipmi-passwd admin 2>&1" % cli)
    check(rc == 1 and "8 to 20" in text, "a short IPMI password was not refused:\n%s" % text)
    vm.check("printf '%s\\n' | %s user ipmi-passwd admin" % (PASSWORD, cli))
    vm.check("printf '%s\\n' | %s user ipmi-passwd viewer" % (VIEWER_PASSWORD, cli))
    mode = vm.check("stat -c %a /var/lib/piglix/ipmi.users").strip()
    check(mode == "600", "ipmi.users has mode %s" % mode)
    log("ok: IPMI passwords set (ipmi.users 0600), refused while [ipmi] is off and when short")


def read_only_checks(vm, host, suite, guid):
    text = host.ipmitool(suite, "mc", "info")
    check(re.search(r"IPMI Version\s+:\s+2\.0", text) and re.search(r"Chassis Device", text), "mc info:\n%s" % text)
    text = host.ipmitool(suite, "mc", "guid")
    check(guid in text, "mc guid: wanted %s:\n%s" % (guid, text))
    text = host.ipmitool(suite, "chassis", "status")
    check(re.search(r"System Power\s+:\s+off", text) and re.search(r"Chassis Intrusion\s+:\s+inactive", text),
          "chassis status (board off, case closed):\n%s" % text)
    text = host.ipmitool(suite, "sdr", "list")
    for want in SDR_WANT:
        check(re.search(want, text), "sdr list: no line like %r:\n%s" % (want, text))
    text = host.ipmitool(suite, "sensor", "list")
    for want in SENSOR_WANT:
        check(re.search(want, text), "sensor list: no line like %r:\n%s" % (want, text))
    log("ok: cipher suite %d: mc info, mc guid, chassis status, sdr list, sensor list" % suite)


def refusals(vm, host):
    bad = host.secret("bad.pw", "Wrong-pass-99")
    text = host.ipmitool(17, "chassis", "power", "on", ok=False, pwfile=bad)
    check("Unable to establish IPMI v2 / RMCP+ session" in text, "wrong password:\n%s" % text)
    nopw = host.secret("nopw.pw", PASSWORD)
    text = host.ipmitool(3, "mc", "info", ok=False, user="nobody", pwfile=nopw)
    check("Unable to establish" in text, "unknown name:\n%s" % text)
    text = host.ipmitool(0, "mc", "info", ok=False)
    check("no matching cipher suite" in text, "cipher suite 0:\n%s" % text)
    text = host.ipmitool(3, "mc", "info", ok=False, iface="lan")
    check("Unable to establish" in text, "IPMI 1.5 (-I lan):\n%s" % text)
    rc, text = host.freeipmi("ipmipower", 3, "--stat", password="Wrong-pass-99")
    check("password" in text.lower() and ": off" not in text, "ipmipower, wrong password:\n%s" % text)
    log("ok: refused: wrong password, unknown name, cipher suite 0, IPMI 1.5; freeipmi: %s" % text.strip())


def power_checks(vm, proc, board, host):
    run = host.ipmitool
    power_step(vm, proc, board, lambda: check("Up/On" in run(3, "chassis", "power", "on"), "power on"),
               "on", "power_ons", "on")
    text = run(3, "chassis", "power", "status")
    check("Chassis Power is on" in text, "power status after on:\n%s" % text)
    power_step(vm, proc, board, lambda: check("Down/Off" in run(3, "chassis", "power", "off"), "power off"),
               "force-off", "force_offs", "off")
    power_step(vm, proc, board, lambda: run(17, "chassis", "power", "on"), "on", "power_ons", "on")
    power_step(vm, proc, board, lambda: check("Cycle" in run(17, "chassis", "power", "cycle"), "cycle"),
               "cycle", "power_ons", "on")
    check(board.num("force_offs") >= 2, "the cycle did not turn the board off first")
    power_step(vm, proc, board, lambda: check("Reset" in run(17, "chassis", "power", "reset"), "reset"),
               "reset", "resets", "on")
    power_step(vm, proc, board, lambda: check("Soft" in run(17, "chassis", "power", "soft"), "soft"),
               "off", "acpi_offs", "off")
    text = run(17, "chassis", "power", "reset", ok=False)
    check("not supported in present state" in text, "reset while off should be refused:\n%s" % text)
    board.set("intrusion", 1)
    vm.wait_for(lambda: "chassis opened" in proc.log(), 10, what="the daemon to see the case open")
    text = run(17, "chassis", "status")
    check(re.search(r"Chassis Intrusion\s+:\s+active", text), "chassis status with the case open:\n%s" % text)
    board.set("intrusion", 0)


def freeipmi_checks(vm, proc, board, host):
    rc, text = host.freeipmi("ipmipower", 17, "--stat")
    check(rc == 0 and re.search(r": off\s*$", text, re.M), "ipmipower --stat (off):\n%s" % text)
    power_step(vm, proc, board, lambda: check(host.freeipmi("ipmipower", 17, "--on")[1].strip().endswith("ok"),
                                              "ipmipower --on"), "on", "power_ons", "on")
    rc, text = host.freeipmi("ipmipower", 3, "--stat")
    check(rc == 0 and re.search(r": on\s*$", text, re.M), "ipmipower --stat (on):\n%s" % text)
    power_step(vm, proc, board, lambda: check(host.freeipmi("ipmipower", 3, "--off")[1].strip().endswith("ok"),
                                              "ipmipower --off"), "force-off", "force_offs", "off")
    cache = tempfile.mkdtemp(prefix="sdr-", dir=host.tmp)
    rc, text = host.freeipmi("ipmi-sensors", 17, "--sdr-cache-directory=" + cache, "--quiet-cache")
    for want in (r"CPU Temp\s+\|\s+Temperature\s+\|\s+45\.50\s+\|\s+C\s+\|\s+'OK'",
                 r"12V\s+\|\s+Voltage\s+\|\s+12\.10\s+\|\s+V\s+\|\s+'OK'",
                 r"Rear Fan\s+\|\s+Fan\s+\|\s+1230\.00\s+\|\s+RPM\s+\|\s+'OK'",
                 r"Chassis intrusio\s+\|\s+Physical Security\s+\|"):
        check(rc == 0 and re.search(want, text), "ipmi-sensors: no line like %r:\n%s" % (want, text))
    log("ok: freeipmi: ipmipower --stat/--on/--off, ipmi-sensors")


def replay_check(vm, proc, board, host):
    """One session (ipmitool shell) through the relay: power on, power off,
    then the relay sends the power-on packet again."""
    relay = Relay(host.port)
    relay.start()
    shell = Shell(host.ipmitool_args(17, port=relay.port))
    try:
        t0 = time.monotonic()
        mark = {}

        def on():
            mark["t"] = time.monotonic()
            check("Up/On" in shell.run("chassis power on"), "shell: power on")
        power_step(vm, proc, board, on, "on", "power_ons", "on")
        packets = relay.session_packets_since(mark["t"])
        check(len(packets) == 1, "expected one packet for 'chassis power on', saw %d" % len(packets))
        power_step(vm, proc, board, lambda: check("Down/Off" in shell.run("chassis power off"), "shell: off"),
                   "force-off", "force_offs", "off")
        presses, ons = board.num("power_presses"), atx_done(proc, "on")
        sent = time.monotonic()
        relay.back.send(packets[0])
        time.sleep(3)
        check(not relay.replies_since(sent), "the replayed packet was answered")
        s = board.state()
        check(int(s["power_presses"]) == presses and s["power"] == "off" and atx_done(proc, "on") == ons,
              "the replayed power-on had an effect: %s" % s)
        check(re.search(r"dropped packet \d+ from \S+ \(seen before", proc.log()),
              "piglix did not say it dropped the replay:\n%s" % proc.log()[-2000:])
        text = shell.run("chassis power status")
        check("Chassis Power is off" in text, "the session did not go on after the replay:\n%s" % text)
        log("ok: replayed packet dropped (no answer, board untouched), session goes on (%.1f s)"
            % (time.monotonic() - t0))
    finally:
        rc = shell.close()
        relay.done = True
    check(rc == 0, "ipmitool shell exit %s" % rc)
    vm.wait_for(lambda: re.search(r"session \S+ of admin from \S+ closed", proc.log()), 10,
                what="piglix to log the Close Session")
    log("ok: Close Session")


def run_test(args):
    if not all(os.path.exists(p) for p in ("/usr/bin/ipmitool", "/usr/sbin/ipmipower", "/usr/sbin/rmcpping")):
        subprocess.run([os.path.join(HERE, "deps.sh"), "ipmitool", "freeipmi-tools"], check=True)
    ko = build_module(args.module)
    files = {CONFIG: DAEMON_CONFIG}
    files.update({HWMON + k: v + "\n" for k, v in FIXTURE.items()})
    tmp = tempfile.mkdtemp(prefix="piglix-ipmi-")
    idle = None
    try:
        with board_vm(ko, binaries={"/usr/bin/piglix": args.piglix, "/usr/bin/rmcpping": "/usr/sbin/rmcpping"},
                      files=files, ports=["udp:623"]) as vm:
            vm.check("echo 500 > %s/force_off_ms" % PARAMS)
            board = Board(vm)
            setup_accounts(vm)
            proc = vm.spawn("exec piglix -c %s -d" % CONFIG, log="/tmp/piglix.log")
            vm.wait_for(lambda: "IPMI 2.0 over LAN on UDP" in proc.log(), 30, what="the IPMI thread")
            vm.wait_for(lambda: "atx: power: off" in proc.log(), 30, what="atx to see the board off")
            text, rc = vm.run("rmcpping -c 1 127.0.0.1 2>&1")
            check(rc == 0 and "pong" in text, "rmcpping:\n%s" % text)
            log("ok: RMCP presence ping answered")
            host = Host(vm.host_port("udp:623"), tmp)
            guid_hex = vm.check("cat /var/lib/piglix/ipmi.guid").strip()
            b = bytes.fromhex(guid_hex)[::-1].hex()  # ipmitool prints IPMI's byte order reversed
            guid = "%s-%s-%s-%s-%s" % (b[:8], b[8:12], b[12:16], b[16:20], b[20:])
            refusals(vm, host)
            # an idle session, left open to time out ([ipmi] session_timeout_s = 10)
            idle = Shell(host.ipmitool_args(3))
            check("IPMI Version" in idle.run("mc info"), "the idle shell's first command")
            read_only_checks(vm, host, 3, guid)
            read_only_checks(vm, host, 17, guid)
            power_checks(vm, proc, board, host)
            freeipmi_checks(vm, proc, board, host)
            replay_check(vm, proc, board, host)
            # viewer logs in until the account is deleted (the daemon keeps running)
            vpw = host.secret("viewer.pw", VIEWER_PASSWORD)
            host.ipmitool(3, "mc", "info", user="viewer", pwfile=vpw)
            vm.check("piglix -c %s user del viewer" % CONFIG)
            check("viewer:" not in vm.check("cat /var/lib/piglix/ipmi.users"), "viewer's IPMI password stayed")
            host.ipmitool(3, "mc", "info", ok=False, user="viewer", pwfile=vpw)
            log("ok: deleting the account removed its IPMI password")
            vm.wait_for(lambda: re.search(r"session \S+ of admin from \S+ timed out", proc.log()), 20,
                        what="the idle session to time out")
            vm.wait_for(lambda: re.search(r"login of 'admin' from \S+ failed", proc.log()), 20,
                        what="the wrong password to be logged")
            check(PASSWORD not in proc.log() and "Wrong-pass" not in proc.log(), "a password was logged")
            log("ok: idle session timed out; failed login logged; no secret in the log")
            proc.kill("TERM")
            check(proc.wait(20) == 0, "piglix did not stop cleanly:\n%s" % proc.log()[-2000:])
            check(re.search(r"ipmi: stopped: \d+ packets", proc.log()), "no IPMI stop summary")
            off = vm.spawn("exec piglix -c %s -o ipmi.enabled=no" % CONFIG, log="/tmp/piglix-off.log")
            vm.wait_for(lambda: "removed the stored IPMI passwords" in off.log(), 30,
                        what="the daemon with IPMI off to remove the passwords")
            off.kill("TERM")
            off.wait(20)
            check(vm.run("test -e /var/lib/piglix/ipmi.users")[1] != 0, "ipmi.users survived IPMI off")
            log("ok: IPMI off removes the stored passwords")
    finally:
        if idle:
            idle.p.kill()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--piglix", required=True)
    ap.add_argument("--module", help="a prebuilt piglix_atx_sim.ko (default: gpio_sim/build.sh)")
    return run_main(run_test, ap.parse_args())


if __name__ == "__main__":
    sys.exit(main())
