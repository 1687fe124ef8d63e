#!/usr/bin/env python3
"""End-to-end tests of piglix's serial console ([serial]): a kernel pty pair
stands in for the USB-serial adapter (piglix opens the slave by a path, the
test plays the server on the master). The web terminal's WebSocket
(/api/serial) shows the scrollback and live output, types keys that arrive
at the master, sends BREAK; the adapter unplugged (master closed, path
gone) and back; the console log keeps the whole boot across a restart.
Usage: e2e_serial.py PIGLIX TOOLS_DIR CASE"""
import json
import os
import re
import select
import ssl
import struct
import time

from piglix_e2e import check, run, TestFailure
from e2e_web import Web, WebSocket, expect

BOOT = [b"[    0.000000] Linux version 6.1.0-simserver\r\n",
        b"[    0.120000] Command line: console=ttyS0,115200n8\r\n",
        b"[    2.500000] systemd[1]: Reached target Multi-User System.\r\n",
        b"\r\nDebian GNU/Linux 12 simserver ttyS0\r\n\r\n"]
PROMPT = b"simserver login: "


class Adapter:
    """A pty pair at a fixed path (a symlink, as udev's /dev/serial/by-id)."""

    def __init__(self, path):
        self.path = path
        self.master = None

    def plug(self):
        m, s = os.openpty()
        name = os.ttyname(s)
        os.close(s)
        if os.path.lexists(self.path):
            os.unlink(self.path)
        os.symlink(name, self.path)
        self.master = m
        return self

    def unplug(self):
        os.close(self.master)
        self.master = None
        os.unlink(self.path)

    def write(self, data):
        os.write(self.master, data)

    def read_until(self, want, timeout=5):
        got = b""
        deadline = time.time() + timeout
        while want not in got:
            left = deadline - time.time()
            check(left > 0, "the server side did not get %r (got %r)" % (want, got))
            r, _, _ = select.select([self.master], [], [], left)
            if r:
                got += os.read(self.master, 4096)
        return got


class Terminal(WebSocket):
    """The web terminal's protocol: binary = console bytes both ways, text =
    JSON control and status."""

    def __init__(self, port, **kw):
        kw.setdefault("path", "/api/serial")
        super().__init__(port, **kw)
        self.out = b""
        self.statuses = []
        self.lost = 0

    def send_text(self, text):
        data = text.encode()
        mask = os.urandom(4)
        check(len(data) < 126, "control message too long for this client")
        self.s.sendall(bytes([0x81, 0x80 | len(data)]) + mask +
                       bytes(b ^ mask[i % 4] for i, b in enumerate(data)))

    def pump(self, until, timeout=5, what="output"):
        """Reads messages until until(self) holds."""
        deadline = time.time() + timeout
        self.s.settimeout(0.2)
        while not until(self):
            check(time.time() < deadline, "terminal: no %s in %d s; got %r, statuses %s" % (
                what, timeout, self.out[-300:], self.statuses[-3:]))
            try:
                op, payload = self.frame()
            except (TimeoutError, ssl.SSLWantReadError, OSError) as e:
                if isinstance(e, (TimeoutError, ssl.SSLWantReadError)) or "timed out" in str(e):
                    continue
                raise
            if op == 2:
                self.out += payload
            elif op == 1:
                js = json.loads(payload)
                if js.get("type") == "status":
                    self.statuses.append(js)
                elif js.get("type") == "lost":
                    self.lost += js["bytes"]
        return self

    def wait_for(self, data, timeout=5):
        return self.pump(lambda t: data in t.out, timeout, repr(data))

    def wait_status(self, connected, timeout=5):
        return self.pump(lambda t: t.statuses and t.statuses[-1]["connected"] == connected, timeout,
                         "status connected=%s" % connected)


def start(env, **opts):
    tty = os.path.join(env.tmp, "ttyUSB-sim")
    a = Adapter(tty).plug()
    o = dict(serial__enabled="yes", serial__device=tty, serial__baud=115200)
    o.update(opts)
    w = Web(env, **o).start()
    w.add_user()
    time.sleep(1.2)
    w.login()
    return w, a


def console_log(w):
    with open(os.path.join(w.p.state, "serial", "console.log"), "rb") as f:
        return f.read()


def case_terminal(env):
    """A boot log and a login prompt arrive in the web terminal (the
    scrollback first, then live); typed keys, Ctrl combinations included,
    arrive at the server; BREAK is sent; GET /api/serial says so. Only a
    cookie session with its own Origin may open it."""
    w, a = start(env)
    for b in BOOT:
        a.write(b)
    time.sleep(0.3)   # before the terminal: this is scrollback
    for what, kw in (("no cookie", dict()), ("foreign origin", dict(cookie=w.cookie, origin="https://evil.example")),
                     ("no origin", dict(cookie=w.cookie, origin=None))):
        t = Terminal(w.https, **kw)
        check(not t.ok, "serial WebSocket with %s was accepted" % what)
        t.close()
    t = Terminal(w.https, cookie=w.cookie)
    check(t.ok, "serial WebSocket refused:\n" + w.p.read_log()[-2000:])
    t.wait_status(True)
    st = t.statuses[-1]
    check(st["baud"] == 115200 and st["framing"] == "8N1" and st["may_write"] and st["device"].endswith("ttyUSB-sim"),
          "status: %s" % st)
    t.wait_for(b"".join(BOOT))
    a.write(PROMPT)
    t.wait_for(PROMPT)
    t.send(b"root\r")
    a.read_until(b"root\r")
    t.send(b"\x03\x04\x1b[A")   # Ctrl-C, Ctrl-D, cursor up
    a.read_until(b"\x03\x04\x1b[A")
    a.write(b"root\r\nPassword: ")
    t.wait_for(b"Password: ")
    t.send_text('{"type":"break"}')
    deadline = time.time() + 5
    while True:
        st, js, _, _ = w.request("GET", "/api/serial")
        if js and js["breaks"] == 1:
            break
        check(time.time() < deadline, "BREAK not counted: %s" % js)
        time.sleep(0.1)
    check(js["connected"] and js["rx_bytes"] >= len(b"".join(BOOT)) and js["tx_bytes"] == 10 and
          js["terminals"] == 1, "GET /api/serial: %s" % js)
    expect(w.request("POST", "/api/serial/break"), 204, "POST /api/serial/break")
    expect(w.request("POST", "/api/serial/break", csrf=False), 403, "BREAK without the CSRF token")
    # a second terminal sees the same screen
    t2 = Terminal(w.https, cookie=w.cookie)
    t2.wait_for(PROMPT + b"root\r\nPassword: ")
    t2.close()
    expect(w.request("POST", "/api/logout"), 200, "logout")
    try:
        t.pump(lambda _: False, timeout=3)
        raise TestFailure("the terminal stayed open after logout")
    except (EOFError, OSError, ssl.SSLError):
        pass
    except TestFailure as e:
        if "stayed open" in str(e) or "no output" in str(e):
            raise TestFailure("the terminal stayed open after logout")
        raise
    log = w.stop()
    check("serial terminal connected" in log and "serial BREAK" in log, "not logged:\n" + log[-2000:])


def case_unplug(env):
    """The adapter pulled (the master closed, its path gone): the open
    terminal is told and stays; plugged back, the console reopens within
    seconds and typing works again through the same terminal."""
    w, a = start(env)
    t = Terminal(w.https, cookie=w.cookie)
    check(t.ok, "serial WebSocket refused")
    t.wait_status(True)
    a.write(b"before\r\n")
    t.wait_for(b"before\r\n")
    a.unplug()
    t.wait_status(False)
    check(t.statuses[-1]["why"], "no reason given: %s" % t.statuses[-1])
    st, js, _, _ = w.request("GET", "/api/serial")
    check(not js["connected"] and js["why"], "status while unplugged: %s" % js)
    t.send(b"lost keys")    # nobody to type to: dropped, as on a console
    time.sleep(1.5)
    a.plug()
    t.wait_status(True, timeout=5)
    check(t.statuses[-1]["reconnects"] == 1, "reconnects: %s" % t.statuses[-1])
    a.write(b"after\r\nlogin: ")
    t.wait_for(b"after\r\nlogin: ")
    t.send(b"x")
    got = a.read_until(b"x")
    check(b"lost" not in got, "keys typed while unplugged reached the new device: %r" % got)
    t.close()
    log = w.stop()
    check("reconnected" in log, "reconnect not logged")


def case_log_restart(env):
    """The console log holds the whole boot, each line stamped with its UTC
    time, across a restart of piglix (it appends)."""
    w, a = start(env)
    for b in BOOT[:2]:
        a.write(b)
    a.write(b"half a li")
    deadline = time.time() + 5
    while b"half a li" not in console_log(w):
        check(time.time() < deadline, "log not written: %r" % console_log(w))
        time.sleep(0.1)
    w.p.stop()
    w.p.start()
    deadline = time.time() + 10
    js = None
    while True:
        try:
            if not js:
                w.login()
            st, js, _, _ = w.request("GET", "/api/serial")
            if st == 200 and js["connected"]:
                break
        except (OSError, TestFailure):
            js = None
        check(time.time() < deadline, "not reconnected after restart: %s" % js)
        time.sleep(0.2)
    a.write(b"ne\r\n")
    for b in BOOT[2:]:
        a.write(b)
    a.write(PROMPT)
    want = [b"[    0.000000] Linux version", b"[    0.120000] Command line", b"half a li",
            b"ne\r", b"systemd[1]: Reached target", b"Debian GNU/Linux 12", PROMPT]
    deadline = time.time() + 5
    while PROMPT not in console_log(w):
        check(time.time() < deadline, "prompt not logged: %r" % console_log(w))
        time.sleep(0.1)
    text = console_log(w)
    lines = text.split(b"\n")
    at = 0
    for wnt in want:
        while at < len(lines) and wnt not in lines[at]:
            at += 1
        check(at < len(lines), "the log lacks %r in order:\n%s" % (wnt, text.decode(errors="replace")))
    for line in lines:
        if line:
            check(re.match(rb"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z ", line), "unstamped line %r" % line)
    w.stop()


CASES = {"terminal": case_terminal, "unplug": case_unplug, "log_restart": case_log_restart}

if __name__ == "__main__":
    raise SystemExit(run(CASES))
