#!/usr/bin/env python3
"""Soak: piglix on its test source for a long run (30 minutes by default)
while every door is used in a loop, one cycle after another:

  a VNC viewer connects, takes a picture and goes (rfbprobe); a browser-style
  WebSocket viewer logs in, does the RFB handshake, reads an update and
  goes; a web login and logout; API calls (info, session, vmedia, log,
  health, metrics, a JPEG snapshot); an image upload (curl PUT) and its
  deletion; a mount request (503 on a host without the USB gadget: the
  refusal path); a power action (Wake-on-LAN, the ATX backend a host has);
  an IPMI session (ipmitool -I lanplus, chassis status, and the session
  closed); a Redfish session (created, used, deleted).

Every --interval seconds (60) it prints the piglix process's RSS, open fds
and threads (from /proc), and at the end a verdict: flat or growing, with
the numbers (after the first sample, which is the warm-up).

    tests/bench/soak.py build-release/app/piglix [MINUTES] --tools build-test/tests

The short form is the CI leak check (e2e.soak_leak_check): after --warmup
cycles, --cycles more must leave the fd count and the thread count equal
and RSS within --rss-bound-kb; exit status 1 otherwise. ASan's leak checker
sees the rest when the daemon stops.
"""
import argparse
import hashlib
import http.client
import json
import os
import re
import subprocess
import sys
import tempfile
import time
import types

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "e2e"))
from piglix_e2e import TestFailure, check, free_port, RUNNING  # noqa: E402
from e2e_web import PASSWORD, Web, WebSocket, rfb_handshake, tls_context  # noqa: E402


def proc_figures(pid):
    """(RSS kB, open fds, threads) of pid."""
    rss = threads = 0
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                rss = int(line.split()[1])
            elif line.startswith("Threads:"):
                threads = int(line.split()[1])
    return rss, len(os.listdir("/proc/%d/fd" % pid)), threads


def settled(pid, timeout=5.0):
    """The figures once fds and threads stop moving (connections just closed
    by a client are closed by the daemon a moment later)."""
    last = proc_figures(pid)
    deadline = time.time() + timeout
    while time.time() < deadline:
        time.sleep(0.25)
        now = proc_figures(pid)
        if now[1:] == last[1:]:
            return now
        last = now
    return last


class Soak:
    def __init__(self, piglix, tools, tmp):
        env = types.SimpleNamespace(piglix=piglix, tools=tools, tmp=tmp, case="soak")
        self.tmp = tmp
        self.tools = tools
        self.store = os.path.join(tmp, "store")
        self.ipmi_port = free_port()
        self.w = Web(env, vmedia__enabled="yes", vmedia__dir=self.store, atx__enabled="yes", atx__chip="",
                     atx__wol_mac="02:00:00:aa:bb:cc", atx__wol_address="127.0.0.1", atx__wol_port=9,
                     ipmi__enabled="yes", ipmi__listen="127.0.0.1", ipmi__port=self.ipmi_port,
                     capture__width=640, capture__height=480, capture__fps=10, capture__scenario="desktop",
                     web__login_fail_limit=100, log__level="warn")
        self.w.add_user()
        r = self.w.user("ipmi-passwd", "admin", stdin=PASSWORD + "\n")
        check(r.returncode == 0, "ipmi-passwd: %s" % r.stderr)
        # API calls with a token (a SHA-256 each), not Basic (a yescrypt hash each): the
        # logins below are the hashing part of a cycle
        r = self.w.user("token", "admin")
        check(r.returncode == 0, "token: %s" % r.stderr)
        self.token = r.stdout.strip()
        self.w.start()
        self.pid = self.w.p.proc.pid
        self.auth = "Bearer " + self.token
        self.image = os.path.join(tmp, "soak.iso")
        with open(self.image, "wb") as f:
            f.write(os.urandom(700 * 1024))
        self.cycle_no = 0
        self.errors = {}

    def req(self, method, path, body=None, headers=None):
        c = http.client.HTTPSConnection("127.0.0.1", self.w.https, context=tls_context(), timeout=20)
        h = {"Host": "127.0.0.1:%d" % self.w.https, "Authorization": self.auth}
        if method == "POST":
            h["Content-Type"] = "application/json"
        h.update(headers or {})
        c.request(method, path, body=json.dumps(body) if body is not None else ("" if method == "POST" else None),
                  headers=h)
        r = c.getresponse()
        data = r.read()
        c.close()
        return r.status, data, r

    def expect(self, what, ok):
        if not ok:
            self.errors[what] = self.errors.get(what, 0) + 1

    def cycle(self):
        self.cycle_no += 1
        n = self.cycle_no
        # a VNC viewer
        r = subprocess.run([os.path.join(self.tools, "rfbprobe"), "--port", str(self.w.p.port), "snapshot",
                            os.path.join(self.tmp, "snap.ppm")], capture_output=True, timeout=60)
        self.expect("vnc viewer", r.returncode == 0)
        # web login, a browser viewer on its session, logout
        self.w.cookie = None
        self.w.login()
        ws = WebSocket(self.w.https, cookie=self.w.cookie)
        try:
            self.expect("browser viewer upgrade", ws.ok)
            if ws.ok:
                rfb_handshake(ws)
                # SetEncodings (raw) and one full FramebufferUpdateRequest
                ws.send(b"\x02\x00\x00\x01\x00\x00\x00\x00")
                ws.send(b"\x03\x00\x00\x00\x00\x00\x02\x80\x01\xe0")
                self.expect("browser viewer update", ws.read(1) == b"\x00")
        finally:
            ws.close()
        st, _, _, _ = self.w.request("POST", "/api/logout")
        self.expect("logout", st == 200)
        # API calls
        for path in ("/api/info", "/api/session", "/api/vmedia", "/api/log?limit=20", "/api/health",
                     "/api/metrics", "/api/snapshot.jpg", "/api/atx", "/api/sessions"):
            st, _, _ = self.req("GET", path)
            self.expect("GET " + path, st == 200)
        # an upload, a mount attempt, the deletion
        name = "soak%d.iso" % n
        r = subprocess.run(["curl", "-sS", "-k", "-H", "Authorization: " + self.auth, "-T", self.image, "-o", "/dev/null",
                            "-w", "%{http_code}", "https://127.0.0.1:%d/api/vmedia/images/%s" % (self.w.https, name)],
                           capture_output=True, text=True, timeout=120)
        self.expect("upload", r.stdout == "201")
        st, _, _ = self.req("POST", "/api/vmedia/mount", {"image": name, "mode": "cdrom"})
        self.expect("mount (200, or 503 without the USB gadget)", st in (200, 503))
        if st == 200:
            self.req("POST", "/api/vmedia/eject", {"force": True})
        st, _, _ = self.req("DELETE", "/api/vmedia/images/" + name)
        self.expect("delete", st == 200)
        # a power action (202; 409 while the previous one runs)
        st, _, _ = self.req("POST", "/api/atx/wol")
        self.expect("power action", st in (202, 409))
        # an IPMI session: RAKP, a command, Close Session
        r = subprocess.run(["ipmitool", "-I", "lanplus", "-H", "127.0.0.1", "-p", str(self.ipmi_port), "-U", "admin",
                            "-P", PASSWORD, "-C", "17", "-N", "2", "-R", "2", "mc", "info"],
                           capture_output=True, text=True, timeout=60)
        self.expect("ipmi session", r.returncode == 0)
        # a Redfish session: created, used, deleted
        c = http.client.HTTPSConnection("127.0.0.1", self.w.https, context=tls_context(), timeout=20)
        c.request("POST", "/redfish/v1/SessionService/Sessions",
                  body=json.dumps({"UserName": "admin", "Password": PASSWORD}),
                  headers={"Content-Type": "application/json", "Host": "127.0.0.1:%d" % self.w.https})
        r = c.getresponse()
        r.read()
        token, where = r.getheader("X-Auth-Token"), r.getheader("Location")
        c.close()
        self.expect("redfish session", r.status == 201 and token and where)
        if token and where:
            path = re.sub(r"^https?://[^/]+", "", where)
            st, _, _ = self.req("GET", "/redfish/v1/Systems/1", headers={"X-Auth-Token": token, "Authorization": ""})
            self.expect("redfish GET", st == 200)
            st, _, _ = self.req("DELETE", path, headers={"X-Auth-Token": token, "Authorization": ""})
            self.expect("redfish session delete", st in (200, 204))

    def stop(self):
        return self.w.stop()


def verdict(samples, rss_bound_kb):
    """(flat?, text) from the samples after the warm-up one."""
    first, last = samples[0], samples[-1]
    d_rss, d_fd, d_thr = last[1] - first[1], last[2] - first[2], last[3] - first[3]
    minutes = max((last[0] - first[0]) / 60.0, 1e-9)
    flat = d_fd == 0 and d_thr == 0 and d_rss <= rss_bound_kb
    text = ("%s: RSS %d -> %d kB (%+d kB, %+.1f kB/min; bound %d kB), fds %d -> %d, threads %d -> %d over %.1f min"
            % ("FLAT" if flat else "GROWING", first[1], last[1], d_rss, d_rss / minutes, rss_bound_kb,
               first[2], last[2], first[3], last[3], minutes))
    return flat, text


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("piglix")
    ap.add_argument("minutes", nargs="?", type=float, default=30.0)
    ap.add_argument("--tools", required=True, help="the build's tests directory (rfbprobe)")
    ap.add_argument("--interval", type=float, default=60.0, help="seconds between samples")
    ap.add_argument("--warmup", type=int, default=0, help="cycle mode: cycles before the first sample")
    ap.add_argument("--cycles", type=int, default=0, help="cycle mode: cycles between the two samples")
    ap.add_argument("--rss-bound-kb", type=int, default=None,
                    help="RSS growth allowed after the warm-up (default: 8192, or 2048 in time mode per 30 min)")
    args = ap.parse_args()
    if args.cycles:
        # An ASan build keeps freed memory in quarantine (256 MiB by default), which
        # would read as growth; a small one makes its RSS level off like a release build's.
        os.environ["ASAN_OPTIONS"] = os.environ.get("ASAN_OPTIONS", "") + ":quarantine_size_mb=16"
    tmp = tempfile.mkdtemp(prefix="piglix-soak-")
    s = Soak(args.piglix, args.tools, tmp)
    ok = True
    try:
        samples = []
        if args.cycles:
            for _ in range(args.warmup):
                s.cycle()
            samples.append((time.time(),) + settled(s.pid))
            for _ in range(args.cycles):
                s.cycle()
            samples.append((time.time(),) + settled(s.pid))
            bound = args.rss_bound_kb if args.rss_bound_kb is not None else 8192
            print("warm-up %d cycles, then %d cycles" % (args.warmup, args.cycles))
        else:
            t0 = time.time()
            end = t0 + args.minutes * 60
            next_sample = t0 + args.interval
            print("%8s %8s %10s %5s %8s" % ("minute", "cycles", "RSS kB", "fds", "threads"), flush=True)
            while time.time() < end:
                s.cycle()
                if time.time() >= next_sample:
                    fig = settled(s.pid)
                    samples.append((time.time(),) + fig)
                    print("%8.1f %8d %10d %5d %8d" % (((time.time() - t0) / 60, s.cycle_no) + fig), flush=True)
                    next_sample += args.interval
            if len(samples) < 2:
                samples.append((time.time(),) + settled(s.pid))
            bound = args.rss_bound_kb if args.rss_bound_kb is not None else 2048
        flat, text = verdict(samples, bound)
        print("%d cycles; %s" % (s.cycle_no, text))
        if s.errors:
            print("failed steps (count): %s" % s.errors)
        ok = flat and not s.errors
    except (TestFailure, OSError, subprocess.TimeoutExpired) as e:
        print("FAIL: %s" % e)
        ok = False
    finally:
        try:
            s.stop()  # a clean exit, no sanitizer (leak) report
        except TestFailure as e:
            print("FAIL at stop: %s" % str(e)[-3000:])
            ok = False
        for p in RUNNING:
            if p.proc and p.proc.poll() is None:
                p.proc.kill()
    print("PASS" if ok else "FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
