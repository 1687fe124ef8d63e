#!/usr/bin/env python3
"""IPMI Serial-over-LAN (ipmi/ipmi_sol*.c) with real clients on the host: a
pty pair stands in for the USB-serial adapter ([serial] device = the pty's
slave; the test plays the managed server on the master). ipmitool
(`-I lanplus -C 3` and `-C 17 ... sol activate`, run under a pty: it wants a
terminal) sees the boot log and login prompt the server prints, types a
login that arrives at the server, leaves with `~.`; a second activation is
refused while one is active; `sol deactivate` from another session ends
it; `sol info` prints the parameters, and what `sol set` changed is
still there after a restart; freeipmi's ipmiconsole does the same.
Usage: e2e_sol.py PIGLIX TOOLS_DIR CASE"""
import os
import pty
import re
import select
import shutil
import signal
import subprocess
import sys
import time
import tty

from piglix_e2e import check, free_port, run, Piglix, TestFailure

IPMI_PASSWORD = "Sol-pass-1234"
BOOT = (b"[    0.000000] Linux version 6.1.0-57-amd64 (debian-kernel@lists.debian.org)\r\n"
        b"[    1.234567] Freeing unused kernel image (initmem) memory: 2980K\r\n"
        b"\r\nDebian GNU/Linux 12 simserver ttyS0\r\n\r\nsimserver login: ")


class Server:
    """The managed server's end of the serial line: the pty's master."""

    def __init__(self):
        self.master, self.slave = os.openpty()
        tty.setraw(self.slave)       # a serial line: no echo, no newline translation
        tty.setraw(self.master)
        self.path = os.ttyname(self.slave)
        self.got = b""

    def print(self, data):
        os.write(self.master, data)

    def read_until(self, want, timeout=10):
        end = time.monotonic() + timeout
        while want not in self.got and time.monotonic() < end:
            r, _w, _x = select.select([self.master], [], [], 0.1)
            if r:
                self.got += os.read(self.master, 4096)
        check(want in self.got, "the server did not receive %r; got %r" % (want, self.got))


class Term:
    """A client under a pty, as a person runs it."""

    def __init__(self, args):
        self.args = args
        self.pid, self.fd = pty.fork()
        if self.pid == 0:
            os.environ["TERM"] = "dumb"
            os.execvp(args[0], args)
        self.out = b""
        self.rc = None

    def pump(self, timeout):
        r, _w, _x = select.select([self.fd], [], [], timeout)
        if r:
            try:
                data = os.read(self.fd, 4096)
            except OSError:
                data = b""
            self.out += data
            return bool(data)
        return True

    def read_until(self, want, timeout=15):
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if (want.search(self.out) if hasattr(want, "search") else want in self.out):
                return
            if not self.pump(0.1):
                break
        raise TestFailure("%s: no %r within %ss; output:\n%s" % (
            " ".join(self.args), want, timeout, self.out.decode(errors="replace")))

    def type(self, data):
        for b in data:               # one key at a time, as typed
            os.write(self.fd, bytes([b]))
            time.sleep(0.01)

    def wait(self, timeout=15):
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            pid, status = os.waitpid(self.pid, os.WNOHANG)
            if pid:
                while self.pump(0.05):
                    pass
                self.rc = os.waitstatus_to_exitcode(status)
                os.close(self.fd)
                return self.rc
            self.pump(0.1)
        self.kill()
        raise TestFailure("%s did not exit within %ss:\n%s" % (" ".join(self.args), timeout,
                                                              self.out.decode(errors="replace")))

    def kill(self):
        if self.rc is None:
            try:
                os.kill(self.pid, signal.SIGKILL)
                os.waitpid(self.pid, 0)
            except OSError:
                pass
            self.rc = -9


class Bmc:
    """piglix with [ipmi] on and [serial] on the pty, and an account with
    an IPMI password."""

    def __init__(self, env, server, udp=None, **options):
        self.env = env
        self.server = server
        self.udp = udp or free_port()
        opts = dict(ipmi__enabled="yes", ipmi__listen="127.0.0.1", ipmi__port=self.udp,
                    ipmi__session_timeout_s=20, serial__enabled="yes", serial__device=server.path,
                    serial__baud=115200)
        opts.update(options)
        self.p = Piglix(env, **opts)
        for args, stdin in ((["add", "admin"], "web-password-1\n"), (["ipmi-passwd", "admin"], IPMI_PASSWORD + "\n")):
            r = subprocess.run([env.piglix, "-c", self.p.config, "user"] + args, input=stdin, text=True,
                               capture_output=True, timeout=60)
            check(r.returncode == 0, "user %s: %s" % (" ".join(args), r.stderr))
        self.pwfile = os.path.join(env.tmp, "ipmi.pw")
        with open(os.open(self.pwfile, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w") as f:
            f.write(IPMI_PASSWORD)
        self.p.start()

    def ipmitool_args(self, suite):
        return ["ipmitool", "-I", "lanplus", "-H", "127.0.0.1", "-p", str(self.udp), "-U", "admin",
                "-f", self.pwfile, "-C", str(suite)]

    def ipmitool(self, suite, *cmd):
        r = subprocess.run(self.ipmitool_args(suite) + list(cmd), capture_output=True, text=True, timeout=60)
        return r.returncode, r.stdout + r.stderr

    def sol(self, suite):
        return Term(self.ipmitool_args(suite) + ["sol", "activate"])

    def ipmiconsole(self, suite, *extra):
        return Term(["ipmiconsole", "-h", "127.0.0.1:%d" % self.udp, "-u", "admin", "-p", IPMI_PASSWORD,
                     "-I", str(suite)] + list(extra))


def session(bmc, term, server, suite, login=b"root"):
    """One console session: the boot log and prompt arrive, a login is typed."""
    tag = b"suite %d " % suite
    server.print(tag + BOOT)
    term.read_until(tag + BOOT[:40])
    term.read_until(b"simserver login: ")
    term.type(login + b"\r")
    server.read_until(login + b"\r")
    server.print(b"\r\nPassword: ")
    term.read_until(b"Password: ")


def case_ipmitool(env):
    server = Server()
    bmc = Bmc(env, server)
    rc, text = bmc.ipmitool(17, "sol", "info")
    check(rc == 0, "sol info: %s" % text)
    for want in (r"Enabled\s+: true", r"Force Encryption\s+: true", r"Force Authentication\s+: true",
                 r"Privilege Level\s+: OPERATOR", r"Volatile Bit Rate \(kbps\)\s+: 115\.2",
                 r"Payload Channel\s+: 1", r"Payload Port\s+: %d" % bmc.udp):
        check(re.search(want, text), "sol info lacks %s:\n%s" % (want, text))
    rc, text = bmc.ipmitool(3, "sol", "set", "character-accumulate-level", "2", "1")
    check(rc == 0, "sol set character-accumulate-level: %s" % text)
    rc, text = bmc.ipmitool(3, "sol", "set", "volatile-bit-rate", "9.6", "1")
    check(rc != 0 and "read-only" in text, "the bit rate is [serial]'s: %s" % text)
    rc, text = bmc.ipmitool(17, "sol", "info")
    check(re.search(r"Character Accumulate Level \(ms\)\s+: 10\b", text), "accumulate level not set:\n" + text)
    for suite in (3, 17):
        t = bmc.sol(suite)
        t.read_until(b"SOL Session operational")
        session(bmc, t, server, suite)
        # one console, one SOL
        second = bmc.sol(17 if suite == 3 else 3)
        rc = second.wait()
        check(rc != 0 and b"already active" in second.out,
              "a second activation was not refused (exit %d):\n%s" % (rc, second.out.decode(errors="replace")))
        if suite == 17:
            t.type(b"\r~B")         # BREAK: the console sends it on the tty
            t.read_until(b"[send break]")
        t.type(b"\r~.")
        rc = t.wait()
        check(rc == 0, "ipmitool -C %d sol activate exited %d after ~.:\n%s" % (
            suite, rc, t.out.decode(errors="replace")))
    log = bmc.p.stop()
    check(log.count("SOL activated by admin") == 2, "two activations logged:\n" + log[-3000:])
    check(re.search(r"serial: \S+: BREAK", log), "~B did not reach the console as a BREAK:\n" + log[-3000:])
    # what `sol set` changed survives a restart ([state] dir/ipmi.sol)
    bmc.p.start()
    deadline = time.monotonic() + 15
    while True:
        rc, text = bmc.ipmitool(17, "sol", "info")
        if rc == 0 or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    check(re.search(r"Character Accumulate Level \(ms\)\s+: 10\b", text),
          "the SOL settings did not survive a restart:\n" + text)
    bmc.p.stop()


def case_ipmitool_deactivate(env):
    """`sol deactivate` from another session takes the console away: the
    first client's keys no longer arrive, and the slot is free again."""
    server = Server()
    bmc = Bmc(env, server)
    first = bmc.sol(3)
    first.read_until(b"SOL Session operational")
    rc, text = bmc.ipmitool(17, "sol", "deactivate")
    check(rc == 0, "sol deactivate: %d %s" % (rc, text))
    rc, text = bmc.ipmitool(17, "sol", "deactivate")
    check(rc != 0 and "already de-activated" in text, "a second deactivate: %d %s" % (rc, text))
    t = bmc.sol(17)
    t.read_until(b"SOL Session operational")
    first.type(b"lost\r")
    session(bmc, t, server, 17, login=b"admin")
    check(b"lost" not in server.got, "the deactivated console still types: %r" % server.got)
    t.type(b"\r~.")
    check(t.wait() == 0, "ipmitool after ~.: %s" % t.out.decode(errors="replace"))
    first.type(b"\r~.")
    first.wait()
    log = bmc.p.stop()
    check("SOL of admin from" in log and "deactivated by another session" in log,
          "the take-over was not logged:\n" + log[-3000:])


def case_ipmiconsole(env):
    """freeipmi's ipmiconsole has no port option: it runs with piglix on
    port 623 in a network namespace of its own (root; skipped otherwise)."""
    if not os.environ.get("PIGLIX_SOL_NETNS"):
        if os.geteuid() != 0 or not shutil.which("unshare") or not shutil.which("ip"):
            print("SKIP: needs root, unshare and ip for a private network namespace")
            sys.exit(77)
        r = subprocess.run(["unshare", "--net", "sh", "-c", 'ip link set lo up && exec "$@"', "sh",
                            sys.executable, os.path.abspath(__file__), env.piglix, env.tools, env.case],
                           env=dict(os.environ, PIGLIX_SOL_NETNS="1"), capture_output=True, text=True,
                           timeout=240)
        print(r.stdout + r.stderr)
        check(r.returncode == 0, "ipmiconsole in its namespace failed (exit %d)" % r.returncode)
        return
    server = Server()
    bmc = Bmc(env, server, udp=623)
    for suite in (3, 17):
        t = bmc.ipmiconsole(suite)
        t.read_until(b"[SOL established]")
        session(bmc, t, server, suite)
        second = bmc.ipmiconsole(3, "--dont-steal")
        second.wait()
        check(b"in use" in second.out.lower(),
              "a second ipmiconsole was not refused:\n%s" % second.out.decode(errors="replace"))
        t.type(b"\r&.")
        rc = t.wait()
        check(rc == 0, "ipmiconsole -I %d exited %d:\n%s" % (suite, rc, t.out.decode(errors="replace")))
    bmc.p.stop()


CASES = {name[5:]: fn for name, fn in globals().items() if name.startswith("case_")}

if __name__ == "__main__":
    sys.exit(run(CASES))
