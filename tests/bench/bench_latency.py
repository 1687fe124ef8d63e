#!/usr/bin/env python3
"""Keystroke-to-pixel latency against the simulated server (a benchmark that
prints figures, not a test): from a client sending a key to the first
picture that shows the echoed character, p50 and p95 over --keys keys, per
video path, all in one VM boot (test_e2e_vm.py):

  piglix VNC        bench_keylatency (tests/bench) on piglix's VNC port: the key
                    and the pictures on one RFB connection, as a viewer has them;
  piglix browser    noVNC in Chromium (tests/browser/simserver.mjs latency): from
                    the keydown event to noVNC painting the picture;
  piglix MJPEG      keys over VNC, pictures from piglix's /api/stream.mjpg;
  ustreamer MJPEG   piglix restarted on its test source (its keyboard stays),
                    ustreamer 4.9 capturing the looped HDMI instead: keys over
                    piglix's VNC, pictures from ustreamer's /stream.
  piglix H.264      piglix restarted with [video] h264 = always: the same
                    bench_keylatency announcing Open H.264 (encoding 50),
                    decoding it with libavcodec, side by side with a Tight
                    viewer of that same piglix ("piglix VNC, h264 on"),
                    alternating in rounds of --keys / 4 keys.

    bench_latency.py --piglix PATH --simserver PATH --rfbprobe PATH --bench PATH
                     --build-dir DIR [--keys 100] [--piglix-format yuyv|uyvy|rgb24]
                     [--no-browser] [--only-h264] [--json OUT]

Both capture the looped HDMI at 640x480, 30 fps at most, as YUYV (piglix:
--piglix-format). Under TCG every figure is inflated: compare the paths by
their ratio to piglix VNC, measured in the same boot."""
import argparse
import json
import os
import subprocess
import sys
import time

# The VM harness (tests/vm) this benchmark boots.
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "vm"))

from capture_common import TestFailure, check, log
from test_e2e_vm import (BROWSER_SCRIPT, STREAM_PORT, VNC_PORT, WEB_PORT, Appliance, browser_env, browser_tools,
                         ensure_playwright, piglix_config)

import pvm


class Bench:
    def __init__(self, app, args):
        self.app, self.args = app, args
        s = app.contract.layout["strip"]
        self.strip = "%d,%d,%d,%d" % (s["y"], s["cell"], s["cells_per_row"], s["rows"])

    def client(self, label, mjpeg_cmd=None, h264=False, keys=None):
        keys = keys or self.args.keys
        cmd = [self.args.bench, "--port", str(self.app.vm.host_port(VNC_PORT)), "--password-file",
               self.app.clients.passwd_file, "--strip", self.strip, "--keys", str(keys), "--label", label,
               "--verbose"]
        if mjpeg_cmd:
            cmd += ["--mjpeg-cmd", mjpeg_cmd]
        if h264:
            cmd += ["--h264"]
        log("%s: %d keys" % (label, keys))
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=60 + keys * 15)
        check(r.returncode == 0, "bench_keylatency %s failed: %s %s" % (label, r.stderr, r.stdout[-500:]))
        result = json.loads(r.stdout.strip().splitlines()[-1])
        # --verbose: "key N 'c' MS ms" a line
        result["samples_ms"] = [float(li.split()[-2]) for li in r.stdout.splitlines() if li.startswith("key ")]
        return result

    def h264(self):
        """piglix with [video] h264 = always; a Tight viewer and an H.264
        viewer of that piglix, in alternating rounds so that the VM's load
        hits both alike."""
        self.app.piglix.stop()
        self.app.start_piglix(piglix_config(self.app.layout, pixfmt=self.app.pixfmt) + "\n[video]\nh264 = always\n")
        self.app.vm.wait_for(lambda: "the target is connected" in self.app.piglix.log(), 60,
                             what="piglix's keyboard on the server")
        per = max(5, self.args.keys // 4)
        parts = {"piglix VNC, h264 on": [], "piglix H.264": []}
        rects = {"h264": 0, "tight": 0}
        for _ in range(4):
            for label in parts:
                r = self.client(label, h264=label == "piglix H.264", keys=per)
                parts[label] += r["samples_ms"]
                if label == "piglix H.264":
                    rects["h264"] += r["h264_rects"]
                    rects["tight"] += r["tight_rects"]
        check(rects["h264"] > 0, "the H.264 viewer got no H.264 rects")
        check("H.264 stream" in self.app.piglix.log(), "piglix logged no H.264 stream")
        log("H.264 viewer: %d H.264 rects, %d Tight rects" % (rects["h264"], rects["tight"]))
        return [summary(label, s) for label, s in parts.items()]

    def browser(self, node_modules):
        env = browser_env(self.app, node_modules, self.app.clients.tmp, PIGLIX_KEYS=str(self.args.keys))
        log("piglix browser: %d keys" % self.args.keys)
        r = subprocess.run(["node", BROWSER_SCRIPT, "latency"], env=env, capture_output=True, text=True,
                           timeout=120 + self.args.keys * 15)
        result = json.loads(r.stdout.strip().splitlines()[-1]) if r.stdout.strip() else {}
        check(r.returncode == 0 and result.get("ok"), "the browser run failed: %s %s" % (result, r.stderr[-500:]))
        s = sorted(result["samples_ms"])
        n = len(s)
        return {"path": "piglix browser", "keys": n, "p50_ms": s[n // 2], "p95_ms": s[(n * 95 + 99) // 100 - 1],
                "mean_ms": sum(s) / n, "min_ms": s[0], "max_ms": s[-1]}

    def curl_config(self):
        """curl's credentials in a file (not on a command line)."""
        path = self.app.clients.path("curl.conf")
        with open(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w") as f:
            f.write('user = "admin:%s"\n' % self.app.web_password)
        return path

    def ustreamer(self):
        """piglix on its test source (the capture device free, the keyboard
        kept), ustreamer capturing the looped HDMI."""
        self.app.piglix.stop()
        self.app.start_piglix(piglix_config(self.app.layout, capture="test"))
        self.app.vm.wait_for(lambda: "the target is connected" in self.app.piglix.log(), 60,
                             what="piglix's keyboard on the server")
        # its default YUYV, as piglix had: ustreamer 4.9 crashes (SIGSEGV)
        # capturing vivid in RGB24
        proc = self.app.vm.spawn("exec ustreamer --device=/dev/video0 --dv-timings --persistent --host=0.0.0.0 "
                                 "--port=%d --desired-fps=30 --quality=80" % STREAM_PORT, log="/tmp/ustreamer.log")
        self.app.vm.wait_listening(STREAM_PORT)
        url = "http://127.0.0.1:%d" % self.app.vm.host_port(STREAM_PORT)

        def online():
            r = subprocess.run(["curl", "-s", url + "/state"], capture_output=True, text=True, timeout=10)
            src = json.loads(r.stdout)["result"]["source"] if r.returncode == 0 and r.stdout else {}
            return src.get("online") and src.get("captured_fps", 0) > 0
        try:
            self.app.vm.wait_for(online, 60, what="ustreamer capturing the looped HDMI")
        except pvm.VMError as e:
            raise TestFailure("%s; ustreamer's log:\n%s" % (e, "\n".join(proc.log().splitlines()[-20:])))
        time.sleep(1)
        return self.client("ustreamer MJPEG", "exec curl -sN %s/stream" % url)


def summary(label, samples):
    s = sorted(samples)
    n = len(s)
    return {"path": label, "keys": n, "p50_ms": s[n // 2], "p95_ms": s[(n * 95 + 99) // 100 - 1],
            "mean_ms": sum(s) / n, "min_ms": s[0], "max_ms": s[-1]}


def sanitized(path):
    """True when the binary carries AddressSanitizer's runtime (clang links
    it in statically): its per-pixel work runs several times slower, and the
    H.264 viewer converts a whole picture per frame where the Tight viewer
    converts a few tiles, so the ratio would be the client's, not piglix's
    (a sanitized client measured 1.84-1.91x where a release one measured 1.33x)."""
    with open(path, "rb") as f:
        return b"AddressSanitizer" in f.read()


def table(results):
    base = results[0]
    lines = ["", "keystroke to pixel, %d keys each, 640x480 (TCG: compare the ratios)" % base["keys"],
             "%-18s %9s %9s %9s %12s %12s" % ("path", "p50 ms", "p95 ms", "mean ms", "p50 ratio", "p95 ratio")]
    for r in results:
        lines.append("%-18s %9.1f %9.1f %9.1f %12.2f %12.2f" % (
            r["path"], r["p50_ms"], r["p95_ms"], r["mean_ms"], r["p50_ms"] / base["p50_ms"],
            r["p95_ms"] / base["p95_ms"]))
    by = {r["path"]: r for r in results}
    if "piglix H.264" in by and "piglix VNC, h264 on" in by:
        h, t = by["piglix H.264"], by["piglix VNC, h264 on"]
        lines.append("H.264 against Tight on the same piglix: p50 %.2fx, p95 %.2fx, mean %.2fx (target: at most 1.2x)"
                     % (h["p50_ms"] / t["p50_ms"], h["p95_ms"] / t["p95_ms"], h["mean_ms"] / t["mean_ms"]))
    for r in results:
        if r.get("stream_reconnects"):
            lines.append("(%s: the server ended the stream %d times; the keys it interrupted are not counted)"
                         % (r["path"], r["stream_reconnects"]))
    return "\n".join(lines)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    for name in ("piglix", "simserver", "rfbprobe", "bench", "build-dir"):
        ap.add_argument("--" + name, required=True)
    ap.add_argument("--keys", type=int, default=100)
    ap.add_argument("--piglix-format", default="yuyv", choices=["yuyv", "uyvy", "rgb24"],
                    help="what piglix captures (yuyv: as ustreamer does; it crashes on vivid's RGB24)")
    ap.add_argument("--no-browser", action="store_true")
    ap.add_argument("--only-h264", action="store_true", help="only piglix VNC and the H.264 comparison")
    ap.add_argument("--json", help="also write the results here")
    ap.add_argument("--allow-sanitized-client", action="store_true",
                    help="run even with a bench_keylatency built with sanitizers (figures marked)")
    args = ap.parse_args()
    client_sanitized = sanitized(args.bench)
    if client_sanitized and not args.allow_sanitized_client:
        print("FAIL: %s is built with sanitizers: its H.264 viewer would measure itself. Use a release build's "
              "(cmake -DCMAKE_BUILD_TYPE=RelWithDebInfo -DPIGLIX_TESTS=ON, target bench_keylatency) or "
              "--allow-sanitized-client" % args.bench, file=sys.stderr)
        return 1
    if not os.path.exists("/usr/bin/ustreamer"):
        print("FAIL: ustreamer is not installed (apt-get install ustreamer)", file=sys.stderr)
        return 1
    node_modules = None
    if not args.no_browser and not args.only_h264 and browser_tools():
        node_modules = ensure_playwright(args.build_dir)
    app = Appliance(args.piglix, args.simserver, args.rfbprobe, layout="de", pixfmt=args.piglix_format,
                    ports=[VNC_PORT, WEB_PORT, STREAM_PORT], binaries=["/usr/bin/ustreamer"])
    results = []
    try:
        app.start()
        app.api_ok("POST", "/api/atx/on", want=(202,))
        app.wait_screen("the server's screen", lambda s: s.strip() is not None, timeout=60)
        b = Bench(app, args)
        results.append(b.client("piglix VNC"))
        if node_modules and not args.only_h264:
            results.append(b.browser(node_modules))
        if not args.only_h264:
            results.append(b.client("piglix MJPEG", "exec curl -sNk -K %s %s/api/stream.mjpg"
                                    % (b.curl_config(), app.web_url)))
        # before ustreamer, which restarts piglix on its test source
        results += b.h264()
        if not args.only_h264:
            results.append(b.ustreamer())
    except (TestFailure, pvm.VMError) as e:
        print("FAIL: %s" % e, file=sys.stderr)
        if app.vm is not None and app.vm.qemu_running():
            print(app.diagnostics(), file=sys.stderr)
        return 1
    finally:
        app.stop()
    print(table(results))
    if client_sanitized:
        print("(the client is built with sanitizers: the H.264 viewer's figures are inflated, compare with care)")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
