#!/usr/bin/env python3
"""The whole appliance in one pvm VM with a simulated server on the USB-host
side (tests/vm/simserver): the ATX board module (tests/vm/gpio_sim), vivid
as the server's HDMI output looped into the HDMI input piglix captures, the
USB gadget (keyboard, mice, mass storage) seen by the same kernel's USB host,
and piglix with [capture] v4l2, [hid], [atx], [web] and [vmedia] on.

Used by test_e2e_server.py (the scenarios), bench_latency.py, and as a demo
(deploy/demo.sh --vm):

    test_e2e_vm.py demo --piglix PATH --simserver PATH --rfbprobe PATH
                        [--layout us] [--web-port 8443] [--vnc-port 5900]

The demo prints the URL and a random password, and runs until Ctrl-C or SIGTERM."""
import argparse
import json
import os
import pathlib
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import pvm  # noqa: E402
from capture_common import GuestPiglix, TestFailure, check, log  # noqa: E402
from test_e2e_screen import Contract, Screen  # noqa: E402

sys.path.insert(0, os.path.join(HERE, "..", "e2e"))
from curl_api import curl_api  # noqa: E402

SOURCE = pathlib.Path(HERE).resolve().parents[1]
VIVID = "vivid n_devs=1 node_types=0x101 num_inputs=1 input_types=0x3 num_outputs=1 output_types=0x1"
USB = ["dummy_hcd", "libcomposite", "usb_f_hid", "usb_f_mass_storage", "usbhid", "hid_generic", "evdev",
       "usb_storage", "sr_mod", "sd_mod"]
BOARD = "/sys/module/piglix_atx_sim/parameters"
VNC_PORT, WEB_PORT, STREAM_PORT = 5900, 8443, 8080
CONFIG = "/etc/piglix/piglix.ini"
BROWSER_SCRIPT = str(SOURCE / "tests" / "browser" / "simserver.mjs")
# The board cuts power after 1.5 s of holding the button; piglix holds 2.5 s.
BOARD_PARAMS = "force_off_ms=1500"


def piglix_config(layout, capture="v4l2", pixfmt="rgb24"):
    """capture: v4l2 (the sim's looped HDMI, captured as pixfmt) or test."""
    source = ("source = v4l2\ndevice = /dev/video0\nfps = 30\nformat = %s\nedid =\n" % pixfmt if capture == "v4l2"
              else "source = test\nwidth = 640\nheight = 480\nfps = 2\n")
    return ("[capture]\n%s\n[vnc]\nlisten = 0.0.0.0\nport = %d\n\n"
            "[hid]\nenabled = yes\nlayout = %s\n\n"
            "[atx]\nenabled = yes\nchip = piglix-atx-sim\npower_led_line = 0\nhdd_led_line = 1\n"
            "power_button_line = 2\nreset_button_line = 3\nintrusion_line = 4\nlong_press_ms = 2500\n"
            "on_timeout_s = 10\noff_timeout_s = 10\nforce_off_timeout_s = 10\ncycle_off_s = 1\n\n"
            "[web]\nenabled = yes\nlisten = 0.0.0.0\nport = %d\nroot = /usr/share/piglix/web\n\n"
            "[vmedia]\nenabled = yes\ndir = /var/lib/piglix/images\n\n"
            "[state]\ndir = /var/lib/piglix\n" % (source, VNC_PORT, layout, WEB_PORT))


def novnc_dir(piglix_path):
    """The noVNC the build of piglix_path installed from npm (web/vendor)."""
    d = pathlib.Path(piglix_path).resolve().parent.parent / "web/vendor/node_modules/@novnc/novnc"
    if not (d / "core/rfb.js").exists():
        raise TestFailure("no noVNC at %s: the build installs it (PIGLIX_WEB_VENDOR)" % d)
    return d


def build_board_module():
    r = subprocess.run([os.path.join(HERE, "gpio_sim", "build.sh")], capture_output=True, text=True)
    if r.returncode != 0:
        raise TestFailure("building the ATX test module (tests/vm/gpio_sim/build.sh):\n" + r.stderr)
    return r.stdout.strip().splitlines()[-1]


class Clients:
    """What GuestPiglix needs: rfbprobe and a VNC password file (a random password)."""

    def __init__(self, piglix, rfbprobe):
        self.piglix, self.rfbprobe = os.path.abspath(piglix), os.path.abspath(rfbprobe)
        self.tmp = tempfile.mkdtemp(prefix="piglix-simserver-")
        self.vnc_password = secrets.token_hex(4)  # VncAuth uses at most 8 characters
        state = os.path.join(self.tmp, "state")
        os.makedirs(state, mode=0o700)
        r = subprocess.run([self.piglix, "-o", "state.dir=" + state, "vnc-passwd"], input=self.vnc_password + "\n",
                           text=True, capture_output=True, timeout=30)
        check(r.returncode == 0, "piglix vnc-passwd failed: %s" % r.stderr)
        self.passwd_file = os.path.join(state, "vnc.passwd")

    def path(self, name):
        return os.path.join(self.tmp, name)


class Appliance:
    def __init__(self, piglix, simserver, rfbprobe, layout="de", ports=None, binaries=(), pixfmt="rgb24",
                 artifacts=None):
        self.piglix_path, self.simserver = os.path.abspath(piglix), os.path.abspath(simserver)
        self.layout, self.pixfmt = layout, pixfmt
        self.ports = ports if ports is not None else [VNC_PORT, WEB_PORT]
        self.binaries = list(binaries)
        self.clients = Clients(piglix, rfbprobe)
        self.contract = Contract(self.simserver)
        self.web_password = secrets.token_urlsafe(12)
        self.artifacts = artifacts
        self.vm = self.piglix = self.sim = None

    # ---- lifecycle ------------------------------------------------------------------

    def start(self):
        ko = build_board_module()
        self.vm = pvm.VM(modules=["%s %s" % (ko, BOARD_PARAMS), VIVID] + USB,
                         binaries=[self.piglix_path, self.simserver, "/usr/bin/v4l2-ctl"] + self.binaries,
                         files={CONFIG: piglix_config(self.layout, pixfmt=self.pixfmt),
                                "/var/lib/piglix/vnc.passwd": (pathlib.Path(self.clients.passwd_file), 0o600),
                                "/usr/share/piglix/web": SOURCE / "web" / "ui",
                                "/usr/share/piglix/novnc": novnc_dir(self.piglix_path)},
                         ports=self.ports)
        self.vm.start()
        log("VM up in %.1f s" % self.vm.boot_seconds)
        self.vm.check("chmod 700 /var/lib/piglix")
        # the sim first: it sets the HDMI timings while nobody captures yet
        self.sim = self.vm.spawn("exec simserver run --layout %s" % self.layout, log="/tmp/simserver.log")
        self.vm.wait_for(lambda: "looped into" in self.sim.log() or not self.sim.alive(), 60,
                         what="the simulated server to start")
        check(self.sim.alive(), "simserver did not start:\n" + self.sim.log())
        self.start_piglix()
        return self

    def start_piglix(self, config=None):
        if config:
            self.vm.write_file(CONFIG, config)
        self.piglix = GuestPiglix(self.vm, self.clients, config_path=CONFIG)
        self.vm.write_file("/run/admin.pw", self.web_password + "\n", mode=0o600)
        out, rc = self.vm.run("piglix -c %s user add admin </run/admin.pw 2>&1; rm -f /run/admin.pw" % CONFIG)
        check(rc == 0 or "exists" in out, "piglix user add: %s" % out)
        if WEB_PORT in self.vm.port_map:
            self.vm.wait_for(lambda: self.api("GET", "/api/info")[0] == 200, 60, what="piglix's web API")
        return self.piglix

    def stop(self):
        try:
            if self.vm and self.piglix and self.vm.qemu_running() and self.piglix.proc.alive():
                self.piglix.stop()
        finally:
            if self.vm:
                self.vm.stop()
            shutil.rmtree(self.clients.tmp, ignore_errors=True)

    def diagnostics(self):
        parts = []
        for name, proc in (("simserver", self.sim), ("piglix", self.piglix and self.piglix.proc)):
            try:
                lines = [li for li in proc.log().splitlines() if "vnc: client" not in li]
                parts.append("---- %s log (tail) ----\n%s" % (name, "\n".join(lines[-30:])))
            except (pvm.VMError, AttributeError) as e:
                parts.append("---- %s log unreadable: %s" % (name, e))
        return "\n".join(parts)

    # ---- clients ----------------------------------------------------------------------

    @property
    def web_url(self):
        return "https://127.0.0.1:%d" % self.vm.host_port(WEB_PORT)

    def api(self, method, path, body=None, upload=None, timeout=120):
        """(HTTP status, JSON or None) of an API call with curl, as the admin account."""
        args = ["-T", upload] if upload else []
        status, data, _ = curl_api(self.web_url, "admin", self.web_password, method, path, *args, body=body,
                                   timeout=timeout)
        return status, data

    def api_ok(self, method, path, body=None, want=(200,), upload=None):
        status, data = self.api(method, path, body, upload)
        check(status in want, "%s %s: HTTP %d %s" % (method, path, status, data))
        return data

    def board_power(self):
        return self.vm.check("cat %s/power" % BOARD).strip()

    def snapshot(self, name=None):
        """The picture a VNC viewer receives (lossless Tight), as a Screen; kept
        as NAME.png in the artefacts when named."""
        img = self.piglix.snapshot("snap.ppm")
        screen = Screen.from_image(self.contract, img)
        if name and self.artifacts:
            screen.save_png(os.path.join(self.artifacts, name + ".png"))
        return screen

    def wait_screen(self, what, predicate, timeout=40, name=None):
        """Snapshots until predicate(screen) is truthy; returns the screen."""
        deadline = time.monotonic() + timeout
        while True:
            screen = self.snapshot()
            if predicate(screen):
                if name and self.artifacts:
                    screen.save_png(os.path.join(self.artifacts, name + ".png"))
                log("ok: %s" % what)
                return screen
            if time.monotonic() > deadline:
                if self.artifacts:
                    screen.save_png(os.path.join(self.artifacts, "failed.png"))
                raise TestFailure("%s: not seen within %d s; the screen shows:\n%s\nstrip %s" % (
                    what, timeout, "\n".join(screen.rows()), screen.strip()))
            time.sleep(0.4)

    def keys(self, *keysyms, delay_ms=0):
        """Taps each keysym through one VNC session per 48 keys (rfbprobe's limit)."""
        syms = ["%x" % k if isinstance(k, int) else k for k in keysyms]
        for at in range(0, len(syms), 48):
            args = ["keys"] + syms[at:at + 48] + (["--delay", str(delay_ms)] if delay_ms else [])
            r = self.piglix.probe(*args, timeout=120)
            check(r.returncode == 0, "rfbprobe keys failed: %s %s" % (r.stderr, r.stdout))

    def pointer(self, x, y, buttons=0):
        r = self.piglix.probe("pointer", x, y, buttons, timeout=60)
        check(r.returncode == 0, "rfbprobe pointer failed: %s %s" % (r.stderr, r.stdout))


def keysym(ch):
    """The X11 keysym a viewer sends for a character."""
    named = {"\n": 0xff0d, "\x1b": 0xff1b, "\b": 0xff08, "\u20ac": 0x20ac}
    if ch in named:
        return named[ch]
    return ord(ch) if ord(ch) < 0x100 else 0x1000000 + ord(ch)


def make_iso(directory, files, volume):
    """An ISO 9660 image with Rock Ridge names (xorriso) of {name: bytes}."""
    root = pathlib.Path(directory) / "iso-root"
    for name, data in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_bytes(data)
    iso = str(pathlib.Path(directory) / (volume.lower() + ".iso"))
    subprocess.run(["xorriso", "-as", "mkisofs", "-quiet", "-R", "-V", volume, "-o", iso, str(root)],
                   check=True, capture_output=True)
    return iso


# ---- the browser (tests/browser/simserver.mjs) ------------------------------------------

def browser_tools():
    for tool in ("node", "npm", os.environ.get("CHROMIUM", "/usr/bin/chromium")):
        if not shutil.which(tool):
            print("SKIP: %s not installed (deploy/deps.sh test), or run with --no-browser" % tool)
            return False
    return True


def browser_env(app, node_modules, artifacts, **extra):
    """Environment for tests/browser/simserver.mjs."""
    contract = os.path.join(app.clients.tmp, "contract.json")
    with open(contract, "w") as f:
        json.dump({"layout": app.contract.layout,
                   "glyphs": {c: g.hex() for c, g in app.contract.glyphs.items()}}, f)
    return dict(os.environ, PIGLIX_URL=app.web_url, PIGLIX_USER="admin", PIGLIX_PASSWORD=app.web_password,
                PIGLIX_SIM_CONTRACT=contract, PIGLIX_ARTIFACTS=artifacts, PIGLIX_NODE_MODULES=node_modules,
                PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD="1", **extra)


def ensure_playwright(build_dir):
    """playwright-core from tests/browser's lock file, in a directory of our
    own (tests/browser/run.sh may install into its own at the same time)."""
    out = os.path.join(build_dir, "e2e-node")
    src = str(SOURCE / "tests" / "browser")
    lock = os.path.join(out, "package-lock.json")
    os.makedirs(out, exist_ok=True)
    same = os.path.exists(lock) and open(lock).read() == open(os.path.join(src, "package-lock.json")).read()
    if not same or not os.path.isdir(os.path.join(out, "node_modules", "playwright-core")):
        for name in ("package.json", "package-lock.json"):
            shutil.copy(os.path.join(src, name), out)
        subprocess.run(["npm", "ci", "--no-audit", "--no-fund", "--loglevel=error"], cwd=out, check=True,
                       env=dict(os.environ, CI="true"))
    return os.path.join(out, "node_modules")



# ---- demo ----------------------------------------------------------------------------

DEMO_FILES = {
    "README.TXT": b"Booted from the ISO you mounted in piglix's web UI.\n",
    "boot/kernel.txt": b"not a real kernel\n",
    "install.log": b"Installing the simulated server... done\n",
    # a CD-ROM LUN needs at least 300 sectors
    "padding.bin": bytes(640 * 1024),
}


def _stop_demo(_sig, _frame):
    raise KeyboardInterrupt


def demo(args):
    signal.signal(signal.SIGTERM, _stop_demo)  # like Ctrl-C: the VM stops and its work dir goes
    ports = {args.vnc_port: VNC_PORT, args.web_port: WEB_PORT}
    app = Appliance(args.piglix, args.simserver, args.rfbprobe, layout=args.layout, ports=ports)
    try:
        app.start()
        if shutil.which("xorriso"):
            iso = make_iso(app.clients.tmp, DEMO_FILES, "PIGLIX_DEMO")
            app.api_ok("PUT", "/api/vmedia/images/demo.iso", upload=iso, want=(200, 201))
        print("\n".join([
            "",
            "demo: the appliance runs in a VM with a simulated server (keyboard layout %s)." % args.layout,
            "demo: open %s/ in a browser (self-signed certificate)" % app.web_url,
            "demo:   account: admin   password: %s" % app.web_password,
            "demo: VNC viewers: 127.0.0.1::%d   password: %s" % (args.vnc_port, app.clients.vnc_password),
            "demo: the server is off: press Power > Power on, type into its setup screen, click,",
            "demo: then Media: mount demo.iso (or upload your own) as a CD and choose Boot from USB CD.",
            "demo: Ctrl-C stops the VM.",
        ]), flush=True)
        while app.vm.qemu_running() and app.piglix.proc.alive():
            time.sleep(2)
        print("demo: piglix or the VM stopped:\n" + app.diagnostics(), file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("\ndemo: stopping", file=sys.stderr)
        return 0
    except (TestFailure, pvm.VMError) as e:
        print("demo: %s" % e, file=sys.stderr)
        return 1
    finally:
        app.stop()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = ap.add_subparsers(dest="action", required=True)
    d = sub.add_parser("demo", help="boot the appliance with the simulated server and wait")
    d.add_argument("--piglix", required=True)
    d.add_argument("--simserver", required=True)
    d.add_argument("--rfbprobe", required=True)
    d.add_argument("--layout", default="us", choices=["us", "de"])
    d.add_argument("--web-port", type=int, default=8443)
    d.add_argument("--vnc-port", type=int, default=5900)
    args = ap.parse_args()
    return demo(args)


if __name__ == "__main__":
    sys.exit(main())
