#!/usr/bin/env python3
"""piglix speaks systemd's notification protocol: READY=1 only once the VNC
port accepts connections, WATCHDOG=1 at half the WatchdogSec interval while
the server loop turns, RELOADING=1/READY=1 around SIGHUP, STOPPING=1 on
SIGTERM. The test plays systemd's part: a datagram socket in NOTIFY_SOCKET.

usage: notify_daemon.py --piglix PATH [--emulator "qemu-aarch64 -L SYSROOT"]
                        [--watchdog-ms N]
"""
import argparse
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time


def fail(msg, log=""):
    print("FAIL: " + msg, file=sys.stderr)
    if log:
        print("---- piglix log\n" + log[-4000:], file=sys.stderr)
    sys.exit(1)


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Notifications:
    def __init__(self, path):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(path)
        self.seen = []

    def next(self, timeout):
        self.sock.settimeout(timeout)
        try:
            msg = self.sock.recv(4096).decode()
        except socket.timeout:
            return None
        self.seen.append(msg)
        return msg

    def wait_for(self, wanted, timeout, skip=("WATCHDOG=1",)):
        """The next message that is not a watchdog kick must start with wanted."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            msg = self.next(max(0.05, deadline - time.monotonic()))
            if msg is None:
                break
            if msg in skip:
                continue
            return msg if msg.startswith(wanted) else "unexpected: %r" % msg
        return None


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--piglix", required=True)
    ap.add_argument("--emulator", default="", help="command prefix (an arm64 binary under qemu)")
    ap.add_argument("--watchdog-ms", type=int, default=400)
    args = ap.parse_args()
    interval = args.watchdog_ms / 1000.0
    with tempfile.TemporaryDirectory(prefix="piglix-notify-") as tmp:
        notes = Notifications(os.path.join(tmp, "notify.sock"))
        port = free_port()
        state = os.path.join(tmp, "state")
        os.mkdir(state, 0o700)
        logpath = os.path.join(tmp, "piglix.log")
        env = dict(os.environ, NOTIFY_SOCKET=os.path.join(tmp, "notify.sock"),
                   WATCHDOG_USEC=str(args.watchdog_ms * 1000))
        env.pop("WATCHDOG_PID", None)
        cmd = args.emulator.split() + [args.piglix, "-o", "capture.source=test", "-o", "capture.width=640",
               "-o", "capture.height=480", "-o", "vnc.auth=none", "-o", "vnc.listen=127.0.0.1",
               "-o", "vnc.port=%d" % port, "-o", "state.dir=" + state]
        with open(logpath, "wb") as log:
            proc = subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT,
                                    stdin=subprocess.DEVNULL)

        def piglix_log():
            with open(logpath, errors="replace") as f:
                return f.read()
        try:
            msg = notes.wait_for("READY=1", 30)
            if msg is None or not msg.startswith("READY=1"):
                fail("no READY=1 within 30 s (got %r)" % msg, piglix_log())
            if "STATUS=" not in msg:
                fail("READY=1 came without a STATUS= line: %r" % msg)
            # Ready means serving: the port answers at once with the RFB banner.
            with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
                banner = s.recv(12)
            if banner != b"RFB 003.008\n":
                fail("after READY=1 the port sent %r, not the RFB banner" % banner, piglix_log())
            # Kicks at half the interval: about 5 in 3 intervals, never a gap of one.
            start = time.monotonic()
            kicks = []
            while time.monotonic() - start < 3 * interval:
                m = notes.next(interval)
                if m == "WATCHDOG=1":
                    kicks.append(time.monotonic())
            if len(kicks) < 3:
                fail("%d WATCHDOG=1 in %.1f s with WATCHDOG_USEC=%d"
                     % (len(kicks), 3 * interval, args.watchdog_ms * 1000), piglix_log())
            gaps = [b - a for a, b in zip(kicks, kicks[1:])]
            if max(gaps) > interval:
                fail("watchdog gap of %.3f s exceeds the %d ms interval" % (max(gaps), args.watchdog_ms))
            proc.send_signal(signal.SIGHUP)
            if notes.wait_for("RELOADING=1", 10) != "RELOADING=1":
                fail("no RELOADING=1 after SIGHUP: %r" % notes.seen[-5:], piglix_log())
            if notes.wait_for("READY=1", 10) != "READY=1":
                fail("no READY=1 after the reload: %r" % notes.seen[-5:], piglix_log())
            proc.send_signal(signal.SIGTERM)
            if notes.wait_for("STOPPING=1", 10) != "STOPPING=1":
                fail("no STOPPING=1 after SIGTERM: %r" % notes.seen[-5:], piglix_log())
            rc = proc.wait(20)
            if rc != 0:
                fail("piglix exited with %d after SIGTERM" % rc, piglix_log())
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        print("notify: READY=1 with the port open, %d watchdog kicks (max gap %.0f ms), "
              "reload and stop announced" % (len(kicks), 1000 * max(gaps)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
