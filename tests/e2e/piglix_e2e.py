"""Shared helpers for piglix end-to-end tests: start the daemon on its test
source with a private state dir and password, wait until it speaks RFB, run
the test clients, stop it and check it exited cleanly (no sanitizer report).
Stdlib only."""
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

PASSWORD = "e2e-Pw1!"


class TestFailure(Exception):
    pass


def check(cond, msg):
    if not cond:
        raise TestFailure(msg)


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class Env:
    """Paths of the binaries under test, from the command line."""

    def __init__(self, argv):
        self.piglix = argv[1]
        self.tools = argv[2]
        self.case = argv[3]
        self.rfbprobe = os.path.join(self.tools, "rfbprobe")
        self.imgtool = os.path.join(self.tools, "imgtool")
        self.tmp = tempfile.mkdtemp(prefix="piglix-e2e-%s-" % self.case)


RUNNING = []


class Piglix:
    def __init__(self, env, password=PASSWORD, **options):
        self.env = env
        RUNNING.append(self)
        self.port = free_port()
        self.state = os.path.join(env.tmp, "state-%d" % self.port)
        os.makedirs(self.state, mode=0o700)
        self.options = {
            "capture.source": "test", "capture.width": "1280", "capture.height": "720",
            "capture.fps": "30", "capture.scenario": "bios", "capture.format": "yuyv",
            "vnc.listen": "127.0.0.1", "vnc.port": str(self.port), "state.dir": self.state,
        }
        self.options.update({k.replace("__", "."): str(v) for k, v in options.items()})
        self.config = os.path.join(env.tmp, "piglix-%d.ini" % self.port)
        self.write_config()
        self.logpath = os.path.join(env.tmp, "piglix-%d.log" % self.port)
        self.proc = None
        self.password_file = os.path.join(self.state, "vnc.passwd")
        if password is not None:
            r = subprocess.run([env.piglix, "-c", self.config, "vnc-passwd"],
                               input=password + "\n", text=True, capture_output=True, timeout=30)
            check(r.returncode == 0, "vnc-passwd failed: %s" % r.stderr)

    def write_config(self, **changes):
        self.options.update({k.replace("__", "."): str(v) for k, v in changes.items()})
        sections = {}
        for key, value in self.options.items():
            sec, name = key.split(".", 1)
            sections.setdefault(sec, []).append("%s = %s" % (name, value))
        with open(self.config, "w") as f:
            for sec, lines in sections.items():
                f.write("[%s]\n%s\n\n" % (sec, "\n".join(lines)))

    def start(self, expect_ready=True, extra_args=()):
        self.log = open(self.logpath, "w")
        self.proc = subprocess.Popen([self.env.piglix, "-c", self.config] + list(extra_args),
                                     stdout=self.log, stderr=subprocess.STDOUT)
        if expect_ready:
            self.wait_ready()
        return self

    def wait_ready(self, timeout=30):
        deadline = time.time() + timeout
        while time.time() < deadline:
            check(self.proc.poll() is None, "piglix exited early:\n" + self.read_log())
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=2) as s:
                    s.settimeout(2)
                    if s.recv(12).startswith(b"RFB 003.008"):
                        return
            except OSError:
                pass
            time.sleep(0.2)
        raise TestFailure("piglix not ready in %d s:\n%s" % (timeout, self.read_log()))

    def read_log(self):
        try:
            with open(self.logpath) as f:
                return f.read()
        except OSError:
            return ""

    def signal(self, sig):
        self.proc.send_signal(sig)

    def stop(self, timeout=30):
        """SIGTERM; returns the log. Fails on a bad exit or a sanitizer report."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            rc = self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            raise TestFailure("piglix did not exit within %d s of SIGTERM" % timeout)
        self.log.close()
        log = self.read_log()
        for bad in ("AddressSanitizer", "LeakSanitizer", "runtime error:", "UndefinedBehaviorSanitizer"):
            check(bad not in log, "sanitizer report in piglix's log:\n" + log[-6000:])
        check(rc == 0, "piglix exited with %d:\n%s" % (rc, log[-4000:]))
        return log

    def probe(self, *args, password=True, timeout=120, host="127.0.0.1", check_rc=None):
        cmd = [self.env.rfbprobe, "--host", host, "--port", str(self.port)]
        if password:
            cmd += ["--password-file", self.password_file]
        cmd += list(args)
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
        if check_rc is not None:
            check(r.returncode == check_rc, "%s -> %d (want %d)\nstdout: %s\nstderr: %s\nlog:\n%s" % (
                " ".join(cmd), r.returncode, check_rc, r.stdout, r.stderr, self.read_log()[-3000:]))
        return r

    def probe_async(self, *args, password=True):
        cmd = [self.env.rfbprobe, "--port", str(self.port)]
        if password:
            cmd += ["--password-file", self.password_file]
        cmd += list(args)
        return subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def read_ppm(path):
    with open(path, "rb") as f:
        data = f.read()
    parts = data.split(maxsplit=4)
    check(parts[0] == b"P6" and parts[3] == b"255", "%s: not a P6 PPM" % path)
    w, h = int(parts[1]), int(parts[2])
    pixels = parts[4]
    check(len(pixels) >= w * h * 3, "%s: truncated" % path)
    return w, h, pixels[: w * h * 3]


def ref_image(env, scenario, w, h, fps, frame, fmt="yuyv"):
    out = os.path.join(env.tmp, "ref-%s-%dx%d-%d-%s.ppm" % (scenario, w, h, frame, fmt))
    subprocess.run([env.imgtool, "ref", scenario, "%dx%d" % (w, h), str(fps), str(frame), fmt, out],
                   check=True, timeout=60)
    return read_ppm(out)


def compare(a, b, mask=None):
    """PSNR (dB) and max channel error between two images of equal size;
    mask, when given, is a bytes of w*h flags: only pixels with 0 count."""
    check(a[0] == b[0] and a[1] == b[1], "sizes differ: %dx%d vs %dx%d" % (a[0], a[1], b[0], b[1]))
    pa, pb = a[2], b[2]
    sq, maxerr, n = 0, 0, 0
    row = a[0] * 3
    for y in range(a[1]):
        ra, rb = pa[y * row:(y + 1) * row], pb[y * row:(y + 1) * row]
        if ra == rb and (mask is None or not any(mask[y * a[0]:(y + 1) * a[0]])):
            n += row
            continue
        for i in range(row):
            if mask is not None and mask[y * a[0] + i // 3]:
                continue
            d = ra[i] - rb[i]
            if d:
                sq += d * d
                if abs(d) > maxerr:
                    maxerr = abs(d)
            n += 1
    mse = sq / max(n, 1)
    psnr = 99.0 if mse == 0 else 10 * __import__("math").log10(255 * 255 / mse)
    return psnr, maxerr


def dynamic_mask(*refs):
    """Where reference frames differ (clock, cursor, ...): per band of
    consecutive differing rows, the bounding box of the differing pixels, so
    digits none of the given frames happened to show are covered too."""
    w, h = refs[0][0], refs[0][1]
    base = refs[0][2]
    row_span = {}
    for other in refs[1:]:
        o = other[2]
        for y in range(h):
            r0 = base[y * w * 3:(y + 1) * w * 3]
            r1 = o[y * w * 3:(y + 1) * w * 3]
            if r0 == r1:
                continue
            xs = [x for x in range(w) if r0[x * 3:x * 3 + 3] != r1[x * 3:x * 3 + 3]]
            lo, hi = row_span.get(y, (w, -1))
            row_span[y] = (min(lo, xs[0]), max(hi, xs[-1]))
    mask = bytearray(w * h)
    rows = sorted(row_span)
    band = []
    for y in rows + [None]:
        if band and (y is None or y != band[-1] + 1):
            x0 = min(row_span[r][0] for r in band)
            x1 = max(row_span[r][1] for r in band)
            for r in band:
                mask[r * w + x0:r * w + x1 + 1] = b"\x01" * (x1 - x0 + 1)
            band = []
        if y is not None:
            band.append(y)
    return bytes(mask)


def run(cases):
    """The entry point of every e2e script: `SCRIPT --list` prints the case
    names (CMake registers one ctest test each, so a name is written once),
    `SCRIPT PIGLIX TOOLS_DIR CASE` runs one case."""
    if len(sys.argv) == 2 and sys.argv[1] == "--list":
        print("\n".join(sorted(cases)))
        return 0
    env = Env(sys.argv)
    fn = cases.get(env.case)
    if not fn:
        print("unknown case %s; have %s" % (env.case, ", ".join(sorted(cases))))
        return 64
    t0 = time.time()
    try:
        fn(env)
    except TestFailure as e:
        print("FAIL %s: %s (its files: %s)" % (env.case, e, env.tmp))
        return 1
    finally:
        # never leave a daemon behind, whatever happened
        for p in RUNNING:
            if p.proc and p.proc.poll() is None:
                p.proc.kill()
                p.proc.wait()
    print("PASS %s (%.1f s)" % (env.case, time.time() - t0))
    # A failed case keeps its directory (logs, state) to look at; a passed
    # one takes it along (an upload case leaves ~70 MB).
    shutil.rmtree(env.tmp, ignore_errors=True)
    return 0


def probe_json(result):
    try:
        return json.loads(result.stdout)
    except ValueError:
        raise TestFailure("rfbprobe printed no JSON:\n%s\n%s" % (result.stdout, result.stderr))
