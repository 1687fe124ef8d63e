#!/usr/bin/env python3
"""End-to-end tests of the watchdog that means it (common/liveness.h): the
test plays systemd's notification socket (NOTIFY_SOCKET, WATCHDOG_USEC) and
freezes each watched thread for real through the test build's hook
($PIGLIX_TEST_FREEZE names a file holding the thread to block at its next
beat). For every thread: WATCHDOG=1 keeps coming while all is well, stops
within the deadline once that thread is frozen, the log names it (once, with
how long); thawed, the watchdog is fed again. GET /api/health names the first
frozen thread of each group (a fresh report takes a second).
One daemon, each thread frozen in turn.
Usage: e2e_watchdog.py PIGLIX TOOLS_DIR CASE"""
import os
import socket
import threading
import time

from piglix_e2e import check, run, TestFailure
from e2e_web import Web, expect
from e2e_serial import Adapter

DEADLINE_MS = 600
WATCHDOG_MS = 300          # WATCHDOG=1 every 150 ms while all is well
TICK_MS = 100              # the checker's period


class Notify:
    """An AF_UNIX datagram socket standing in for systemd's."""

    def __init__(self, tmp):
        self.path = os.path.join(tmp, "notify.sock")
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(self.path)
        self.sock.settimeout(0.05)
        self.kicks = []
        self.messages = []
        self.lock = threading.Lock()
        self.done = False
        self.thread = threading.Thread(target=self.loop, daemon=True)
        self.thread.start()

    def loop(self):
        while not self.done:
            try:
                data = self.sock.recv(4096).decode()
            except socket.timeout:
                continue
            except OSError:
                return
            now = time.monotonic()
            with self.lock:
                self.messages.append(data)
                if data == "WATCHDOG=1":
                    self.kicks.append(now)

    def kicks_between(self, t0, t1):
        with self.lock:
            return [k for k in self.kicks if t0 <= k < t1]

    def last_kick(self):
        with self.lock:
            return self.kicks[-1] if self.kicks else 0.0

    def close(self):
        self.done = True
        self.sock.close()


def wait_log(p, text, timeout, since=0):
    """Polls the daemon's log until text appears after offset since; returns
    (monotonic time seen, offset after it)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        log = p.read_log()
        i = log.find(text, since)
        if i >= 0:
            return time.monotonic(), i + len(text)
        time.sleep(0.01)
    raise TestFailure("no '%s' in piglix's log within %.1f s:\n%s" % (text, timeout, p.read_log()[-3000:]))


def start(env, **options):
    notify = Notify(env.tmp)
    freeze = os.path.join(env.tmp, "freeze")
    open(freeze, "w").close()
    os.environ.update(NOTIFY_SOCKET=notify.path, WATCHDOG_USEC=str(WATCHDOG_MS * 1000),
                      PIGLIX_TEST_FREEZE=freeze)
    os.environ.pop("WATCHDOG_PID", None)
    opts = dict(watchdog__deadline_ms=DEADLINE_MS, encode__workers=3)  # the caller and 2 threads
    opts.update(options)
    w = Web(env, **opts)
    w.add_user()
    w.start()
    w.login()
    for k in ("NOTIFY_SOCKET", "WATCHDOG_USEC", "PIGLIX_TEST_FREEZE"):
        os.environ.pop(k)
    return w, notify, freeze


def health_threads(w):
    st, js, _, _ = w.request("GET", "/api/health", timeout=10)
    check(st == 200 and js, "GET /api/health: %d" % st)
    checks = js.get("checks") or js.get("report") or []
    for c in checks:
        if c.get("name") == "threads":
            return c
    raise TestFailure("no threads check in /api/health: %s" % js)


def freeze_each(w, notify, freeze, names, health=True):
    p = w.p
    T0 = time.monotonic()
    # all is well: WATCHDOG=1 keeps coming
    t0 = time.monotonic()
    time.sleep(0.8)
    kicks = notify.kicks_between(t0, time.monotonic())
    check(len(kicks) >= 3, "only %d WATCHDOG=1 in 0.8 s with all threads well:\n%s"
          % (len(kicks), p.read_log()[-3000:]))
    if health:
        c = health_threads(w)
        check(c["status"] == "ok", "threads check while all is well: %s" % c)
    offset = len(p.read_log())
    start_offset = offset
    report = []
    for name in names:
        with open(freeze, "w") as f:
            f.write(name + "\n")
        frozen_at, offset = wait_log(p, "test hook: thread %s frozen" % name, 3, offset)
        frozen_offset = offset
        wedged_at, offset = wait_log(p, "thread %s is wedged: no progress for " % name,
                                     (DEADLINE_MS + 1500) / 1000.0, offset)
        # no WATCHDOG=1 once the deadline passed (or the wedge was logged):
        # watch for over two kick periods
        time.sleep(2.5 * WATCHDOG_MS / 2 / 1000.0)
        silent_from = min(wedged_at + 0.05, frozen_at + (DEADLINE_MS + TICK_MS + 60) / 1000.0)
        late = notify.kicks_between(silent_from, time.monotonic())
        if late:
            raise TestFailure("WATCHDOG=1 still sent %.0f ms after %s froze (deadline %d ms)"
                              % ((late[-1] - frozen_at) * 1000, name, DEADLINE_MS))
        stop_ms = (notify.last_kick() - frozen_at) * 1000
        if health and name == names[0]:  # /api/health too (for one: it takes a second)
            # the last report, then a fresh one (the answer is at most a second old)
            until = time.monotonic() + 4
            c = health_threads(w)
            while not (c["status"] == "problem" and name in c["message"]) and time.monotonic() < until:
                time.sleep(0.2)
                c = health_threads(w)
            check(c["status"] == "problem" and name in c["message"],
                  "/api/health with %s frozen: %s" % (name, c))
        log = p.read_log()[frozen_offset:]
        check(log.count("thread %s is wedged" % name) == 1, "the wedge of %s logged more than once" % name)
        # thawed: the watchdog is fed again
        with open(freeze, "w") as f:
            f.write("")
        thawed_at = time.monotonic()
        wait_log(p, "thread %s moves again after " % name, 3, offset)
        deadline = thawed_at + 3
        while not notify.kicks_between(thawed_at, time.monotonic()):
            check(time.monotonic() < deadline, "no WATCHDOG=1 within 3 s of thawing %s" % name)
            time.sleep(0.02)
        report.append("%s: last WATCHDOG=1 %.0f ms after it froze, wedge logged after %.0f ms"
                      % (name, stop_ms, (wedged_at - frozen_at) * 1000))
        offset = len(p.read_log())
    print("\n".join(report))
    print("sequence of %d freezes: %.1f s" % (len(names), time.monotonic() - T0))
    # while the threads were frozen in turn, only the frozen one was called
    # wedged (no false alarm; start-up, before, is not judged: a loaded
    # test machine may stall a thread's first frame under the sanitizers)
    log = p.read_log()[start_offset:]
    for line in log.splitlines():
        if " is wedged: " in line:
            check(any("thread %s is wedged" % n in line for n in names), "a thread wedged unasked: " + line)
    notify.close()
    w.stop()


def case_threads(env):
    """Every thread the test source and loopback can start: capture, the VNC
    loop, the JPEG workers, the H.264 encoder, the audit writer, the web
    event loop, its password hasher, the health worker, the live status, ATX
    (Wake-on-LAN only: no GPIO here), IPMI, the serial console on a pty,
    the sensors poller and the image store's disk thread. (HID's writer
    needs a USB device controller: tests/vm/test_hid.py freezes it.) One
    daemon: a start costs more than a freeze."""
    adapter = Adapter(os.path.join(env.tmp, "ttyUSB-sim")).plug()
    udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    udp.bind(("127.0.0.1", 0))
    port = udp.getsockname()[1]
    udp.close()
    w, notify, freeze = start(env, atx__enabled="yes", atx__chip="", atx__wol_mac="02:00:00:aa:bb:cc",
                              atx__wol_address="127.0.0.1", ipmi__enabled="yes", ipmi__listen="127.0.0.1",
                              ipmi__port=port, serial__enabled="yes", serial__device=adapter.path,
                              vmedia__enabled="yes", vmedia__dir=os.path.join(env.tmp, "images"))
    freeze_each(w, notify, freeze, ["capture", "vnc", "encode-1", "encode-2", "h264", "audit", "live-status",
                                    "web-hash", "web", "health", "atx", "ipmi", "serial", "sensors",
                                    "vmedia-disk"])


if __name__ == "__main__":
    raise SystemExit(run({"threads": case_threads}))
