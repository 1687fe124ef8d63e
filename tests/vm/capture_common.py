"""Helpers shared by the capture VM tests (test_capture.py, bench_capture.py):
piglix inside a pvm VM on vivid, the host's rfbprobe against it, PPM images,
vivid's controls; and what every VM test uses (TestFailure, check, log,
run_main). Stdlib only."""
import json
import os
import pathlib
import re
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pvm  # noqa: E402

SOURCE_DIR = pathlib.Path(__file__).resolve().parents[2]
EDID_FILE = SOURCE_DIR / "deploy" / "edid" / "tc358743-1080p30.hex"
GUEST_EDID = "/usr/share/piglix/edid/tc358743-1080p30.hex"
VIVID = "vivid n_devs=1 node_types=0x1 num_inputs=1 input_types=0x3"
PASSWORD = "pw12345"
VNC_PORT = 5900
# Tight without JPEG: every pixel arrives exactly as piglix has it.
LOSSLESS = "tight,desktopsize,extdesktopsize,lastrect"

# vivid's 75% colour bars, left to right, as RGB (191 = 75% of 255).
BARS = [("white", (191, 191, 191)), ("yellow", (191, 191, 0)), ("cyan", (0, 191, 191)),
        ("green", (0, 191, 0)), ("magenta", (191, 0, 191)), ("red", (191, 0, 0)),
        ("blue", (0, 0, 191)), ("black", (0, 0, 0))]


class TestFailure(Exception):
    pass


def check(cond, msg):
    if not cond:
        raise TestFailure(msg)


def log(msg):
    print("[%s] %s" % (time.strftime("%H:%M:%S"), msg), flush=True)


def run_main(test, *args):
    """A VM test's exit status: test(*args), then "PASS in N s" and 0, or
    "FAIL: reason" on stderr and 1 when it raised TestFailure."""
    started = time.monotonic()
    try:
        test(*args)
    except TestFailure as e:
        print("FAIL: %s" % e, file=sys.stderr)
        return 1
    log("PASS in %.0f s" % (time.monotonic() - started))
    for a in args:  # a failed case keeps its scratch directory to look at
        if isinstance(a, Tools):
            shutil.rmtree(a.tmp, ignore_errors=True)
    return 0


class Tools:
    """Host binaries under test and a scratch directory."""

    def __init__(self, piglix, rfbprobe, nosignal_ref=None):
        self.piglix = os.path.abspath(piglix)
        self.rfbprobe = os.path.abspath(rfbprobe)
        self.nosignal_ref = nosignal_ref and os.path.abspath(nosignal_ref)
        for path in filter(None, (self.piglix, self.rfbprobe, self.nosignal_ref)):
            check(os.access(path, os.X_OK), "not an executable: %s" % path)
        self.tmp = tempfile.mkdtemp(prefix="piglix-vm-capture-")
        self.passwd_file = self._make_passwd()

    def _make_passwd(self):
        """The VNC password file, made by the host piglix (same format in the guest)."""
        state = os.path.join(self.tmp, "state")
        os.makedirs(state, mode=0o700)
        r = subprocess.run([self.piglix, "-o", "state.dir=" + state, "vnc-passwd"],
                           input=PASSWORD + "\n", text=True, capture_output=True, timeout=30)
        check(r.returncode == 0, "piglix vnc-passwd failed: %s" % r.stderr)
        return os.path.join(state, "vnc.passwd")

    def path(self, name):
        return os.path.join(self.tmp, name)


def piglix_config(device="/dev/video0", fps=30, port=VNC_PORT, extra=""):
    return ("[capture]\nsource = v4l2\ndevice = %s\nfps = %d\nedid = %s\n%s\n"
            "[vnc]\nlisten = 0.0.0.0\nport = %d\n\n[state]\ndir = /var/lib/piglix\n"
            % (device, fps, GUEST_EDID, extra, port))


def vm_files(tools, config):
    return {
        "/etc/piglix/piglix.ini": config,
        "/var/lib/piglix/vnc.passwd": (pathlib.Path(tools.passwd_file), 0o600),
        GUEST_EDID: EDID_FILE,
    }


def boot(tools, config, vivid_at_boot=True, ports=(VNC_PORT,), binaries=(), files=None):
    kwargs = {"modules": [VIVID]} if vivid_at_boot else {"available_modules": ["vivid"]}
    all_files = vm_files(tools, config)
    all_files.update(files or {})
    vm = pvm.VM(binaries=[tools.piglix, "/usr/bin/v4l2-ctl"] + list(binaries), files=all_files,
                ports=list(ports), **kwargs)
    vm.start()
    vm.check("chmod 700 /var/lib/piglix")
    log("VM up in %.1f s" % vm.boot_seconds)
    return vm


class GuestPiglix:
    """piglix running inside the VM, reached through a forwarded port."""

    def __init__(self, vm, tools, config_path="/etc/piglix/piglix.ini", port=VNC_PORT, name="piglix",
                 prefix=""):
        self.vm, self.tools, self.port = vm, tools, port
        self.logpath = "/tmp/%s.log" % name
        # prefix: e.g. "setpriv --reuid=1000 ... " to run it as another user
        self.proc = vm.spawn("exec %spiglix -c %s" % (prefix, config_path), log=self.logpath)
        self.host_port = vm.host_port(port)
        vm.wait_listening(port, timeout=60)
        # the forwarded port accepts before the guest listens: wait for RFB auth to pass
        deadline = time.monotonic() + 30
        while True:
            r = self.probe("auth-only", timeout=20)
            if r.returncode == 0:
                break
            check(time.monotonic() < deadline, "piglix does not answer RFB: %s\n%s" % (r.stderr, self.log()))
            time.sleep(0.5)

    def probe_cmd(self, *args):
        return [self.tools.rfbprobe, "--port", str(self.host_port), "--password-file",
                self.tools.passwd_file] + [str(a) for a in args]

    def probe(self, *args, timeout=120):
        return subprocess.run(self.probe_cmd(*args), capture_output=True, text=True, timeout=timeout)

    def probe_async(self, *args):
        return subprocess.Popen(self.probe_cmd(*args), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                text=True)

    def snapshot(self, name, lossless=True):
        out = self.tools.path(name)
        args = (["--encodings", LOSSLESS] if lossless else []) + ["--timeout", "30", "snapshot", out]
        r = self.probe(*args)
        check(r.returncode == 0, "snapshot failed (%d): %s" % (r.returncode, r.stderr))
        return read_ppm(out)

    def log(self):
        try:
            return self.proc.log()
        except pvm.VMError as e:
            return "(log unreadable: %s)" % e

    def stop(self, timeout=30):
        """SIGTERM; fails unless piglix exits with status 0. Returns its log."""
        self.proc.kill("TERM")
        status = self.proc.wait(timeout)
        text = self.log()
        check(status == 0, "piglix exited with status %s:\n%s" % (status, text[-3000:]))
        return text


# ---- images ----------------------------------------------------------------------------

class Image:
    def __init__(self, width, height, rgb):
        self.width, self.height, self.rgb = width, height, rgb

    def pixel(self, x, y):
        at = (y * self.width + x) * 3
        return tuple(self.rgb[at:at + 3])

    @property
    def size(self):
        return "%dx%d" % (self.width, self.height)


def read_ppm(path):
    data = pathlib.Path(path).read_bytes()
    fields = re.match(rb"P6\s+(\d+)\s+(\d+)\s+(\d+)\s", data)
    check(fields is not None, "%s is not a binary PPM" % path)
    w, h = int(fields.group(1)), int(fields.group(2))
    rgb = data[fields.end():fields.end() + w * h * 3]
    check(len(rgb) == w * h * 3, "%s is truncated" % path)
    return Image(w, h, rgb)


def bars_problems(img, width, height, tolerance=12):
    """What is wrong with img as vivid's 75% colour bars at width x height
    (empty list: nothing). Samples the middle of each bar at three heights."""
    if (img.width, img.height) != (width, height):
        return ["size %s, not %dx%d" % (img.size, width, height)]
    problems = []
    for i, (name, want) in enumerate(BARS):
        x = (2 * i + 1) * width // 16
        for y in (height // 4, height // 2, height * 3 // 4):
            got = img.pixel(x, y)
            if max(abs(a - b) for a, b in zip(got, want)) > tolerance:
                problems.append("%s bar at (%d,%d): %s, want %s" % (name, x, y, got, want))
    return problems


def max_difference(a, b):
    if (a.width, a.height) != (b.width, b.height):
        return None
    return max(abs(x - y) for x, y in zip(a.rgb, b.rgb)) if a.rgb != b.rgb else 0


def nosignal_ref(tools, reason, size, detail):
    out = tools.path("ref-%s-%s-%d.ppm" % (reason, size, abs(hash(detail))))
    r = subprocess.run([tools.nosignal_ref, reason, size, detail, out], capture_output=True, text=True)
    check(r.returncode == 0, "capture_nosignal_ref failed: %s" % r.stderr)
    return read_ppm(out)


def wait_picture(piglix, what, problems_of, timeout=60, name="wait.ppm"):
    """Snapshots until problems_of(image) is empty; fails with the last problems."""
    deadline = time.monotonic() + timeout
    while True:
        img = piglix.snapshot(name)
        problems = problems_of(img)
        if not problems:
            log("ok: %s (%s)" % (what, img.size))
            return img
        if time.monotonic() >= deadline:
            raise TestFailure("%s: not seen within %d s; last snapshot %s: %s\npiglix log:\n%s" % (
                what, timeout, img.size, "; ".join(problems[:6]), piglix.log()[-3000:]))
        time.sleep(1)


# ---- vivid -------------------------------------------------------------------------------

def vivid_set(vm, **controls):
    vm.check("v4l2-ctl -d /dev/video0 " + " ".join("-c %s=%s" % kv for kv in controls.items()))


def vivid_static_bars(vm):
    """75% colour bars, no text, no movement, BT.601 YCbCr (piglix converts as BT.601)."""
    vivid_set(vm, test_pattern=0, osd_text_mode=2, horizontal_movement=3, vertical_movement=3,
              y_cbcr_encoding=1)


def vivid_timings_index(vm, label):
    """The dv_timings menu index whose label is e.g. 1920x1080p60."""
    out = vm.check("v4l2-ctl -d /dev/video0 -L")
    menu = out[out.index("dv_timings "):]
    m = re.search(r"^\s*(\d+): %s\s*$" % re.escape(label), menu, re.M)
    check(m is not None, "vivid offers no %s timings" % label)
    return int(m.group(1))


def parse_json_line(text):
    for line in reversed(text.strip().splitlines()):
        if line.startswith("{"):
            return json.loads(line)
    raise TestFailure("no JSON in rfbprobe output: %r" % text[-500:])
