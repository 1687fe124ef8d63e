#!/usr/bin/env python3
"""The serial console's figures: piglix with [serial] on a pty pair (the
test writes the server's output on the master), one web terminal
(/api/serial WebSocket, the e2e client) reading it. Prints bytes/s through
the web terminal paced at 115200 baud (11520 bytes/s) and at the pty's full
speed, the latency from a byte on the tty to the terminal, and piglix's
memory while the console log rotates.

    bench_serial.py PIGLIX [SECONDS]"""
import os
import statistics
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "e2e"))
from piglix_e2e import Env  # noqa: E402
from e2e_serial import Adapter, Terminal  # noqa: E402
from e2e_web import Web  # noqa: E402


def rss_kb(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def pump(t, until, seconds):
    """Reads the terminal until until(t) or seconds pass."""
    deadline = time.time() + seconds
    t.s.settimeout(0.2)
    while not until(t) and time.time() < deadline:
        try:
            op, payload = t.frame()
        except OSError:
            continue
        if op == 2:
            t.out = (t.out + payload)[-256:]   # the tail only: a growing buffer would be the bottleneck
            t.n += len(payload)
        elif op == 1 and b'"lost"' in payload:
            t.lost += int(payload.split(b'"bytes":')[1].rstrip(b"}"))


def throughput(a, t, rate, seconds):
    """Writes lines on the master at rate bytes/s (0: as fast as the pty
    takes them) for seconds; returns (written, received, lost, elapsed)."""
    line = b"0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789abcdefghijklmnopq\r\n"
    written = [0]
    stop = time.time() + seconds

    def writer():
        t0 = time.time()
        while time.time() < stop:
            if rate and written[0] > rate * (time.time() - t0):
                time.sleep(0.002)
                continue
            os.write(a.master, line)
            written[0] += len(line)
    t.n = t.lost = 0
    t.out = b""
    th = threading.Thread(target=writer)
    t0 = time.time()
    th.start()
    pump(t, lambda x: False, seconds)
    th.join()
    pump(t, lambda x: x.n + x.lost >= written[0], 5)
    return written[0], t.n, t.lost, time.time() - t0


def main():
    piglix = sys.argv[1]
    seconds = float(sys.argv[2]) if len(sys.argv) > 2 else 5
    env = Env([None, piglix, tempfile.gettempdir(), "bench_serial"])
    tty = os.path.join(env.tmp, "ttyUSB-bench")
    a = Adapter(tty).plug()
    w = Web(env, serial__enabled="yes", serial__device=tty, serial__log_kb=1024, serial__log_files=2,
            log__level="warn").start()
    w.add_user()
    time.sleep(1.2)
    w.login()
    t = Terminal(w.https, cookie=w.cookie)
    t.n = t.lost = 0
    pump(t, lambda x: x.statuses and x.statuses[-1]["connected"], 5)
    pid = w.p.proc.pid
    rss0 = rss_kb(pid)
    print("serial console through the web terminal (one terminal, piglix %s)" % os.path.basename(piglix))
    for name, rate in (("115200 baud (11520 B/s)", 11520), ("pty full speed", 0)):
        wr, rx, lost, el = throughput(a, t, rate, seconds)
        print("  %-26s written %9.0f B/s  received %9.0f B/s  skipped (reader behind) %d of %d bytes" % (
            name, wr / seconds, rx / el, lost, wr))
    pump(t, lambda x: False, 1)    # drain what is still coming
    lat = []
    for i in range(50):
        mark = b"<%04d>" % i
        t0 = time.perf_counter()
        os.write(a.master, mark)
        pump(t, lambda x: mark in x.out, 5)
        lat.append((time.perf_counter() - t0) * 1000)
        time.sleep(0.02)
    lat.sort()
    print("  latency tty -> terminal    median %.2f ms  p95 %.2f ms  max %.2f ms (50 bytes)" % (
        statistics.median(lat), lat[int(len(lat) * 0.95) - 1], lat[-1]))
    # memory while the log rotates: about 3x ([serial] log_kb = 1024, log_files = 2) through it
    wr, rx, lost, el = throughput(a, t, 0, seconds)
    logdir = os.path.join(w.p.state, "serial")
    sizes = sorted((f, os.path.getsize(os.path.join(logdir, f))) for f in os.listdir(logdir))
    print("  memory (VmRSS)             %d kB before, %d kB after %d MB more output; log files: %s" % (
        rss0, rss_kb(pid), wr >> 20, ", ".join("%s %d kB" % (f, s >> 10) for f, s in sizes)))
    t.close()
    w.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
