#!/usr/bin/env python3
"""Keystroke to pixel without emulation (a benchmark that prints figures,
not a test): piglix on this machine, its test source showing what viewers
type ([capture] type_echo: the simulated server's state strip, capture.h),
[video] h264 = always, and two viewers of it in alternating rounds, both
bench_keylatency (tests/bench): a Tight viewer and an H.264 viewer
(announces Open H.264, decodes with libavcodec). Each key goes through
piglix's VNC input, the test source's next frame (30 fps: up to 33 ms of
waiting, as a capture card's), damage, the encoder and the client's
decoder; what it leaves out is the server's own path (USB polling, drawing,
HDMI), which both viewers would share. tests/vm/../bench_latency.py measures
the whole path, under TCG.

    bench_latency_native.py PIGLIX --bench BENCH_KEYLATENCY [--keys 100]
                            [--sizes 640x480,1920x1080] [--fps 30]
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import types

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "e2e"))
from piglix_e2e import Piglix, RUNNING, check  # noqa: E402

# capture/testsrc.c's echo strip: 8-pixel cells, 48 a row, 2 rows at the bottom
CELL, PER_ROW, ROWS = 8, 48, 2


def client(args, p, h, label, h264, keys):
    cmd = [args.bench, "--port", str(p.port), "--password-file", p.password_file,
           "--strip", "%d,%d,%d,%d" % (h - ROWS * CELL, CELL, PER_ROW, ROWS), "--keys", str(keys),
           "--label", label, "--verbose"] + (["--h264"] if h264 else [])
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=60 + keys * 5)
    check(r.returncode == 0, "bench_keylatency %s: %s %s" % (label, r.stderr, r.stdout[-500:]))
    res = json.loads(r.stdout.strip().splitlines()[-1])
    res["samples"] = [float(li.split()[-2]) for li in r.stdout.splitlines() if li.startswith("key ")]
    return res


def summary(samples):
    s = sorted(samples)
    n = len(s)
    return s[n // 2], s[(n * 95 + 99) // 100 - 1], sum(s) / n


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("piglix")
    ap.add_argument("--bench", required=True)
    ap.add_argument("--keys", type=int, default=100)
    ap.add_argument("--sizes", default="640x480,1920x1080")
    ap.add_argument("--fps", type=int, default=30)
    args = ap.parse_args()
    with open(args.bench, "rb") as f:
        check(b"AddressSanitizer" not in f.read(), "%s is built with sanitizers: use a release build's "
              "bench_keylatency (the H.264 viewer's conversions would be measured, not piglix)" % args.bench)
    env = types.SimpleNamespace(piglix=args.piglix, tmp=tempfile.mkdtemp(prefix="piglix-latency-"))
    print("keystroke to pixel, native: test source at %d fps with type_echo, [video] h264 = always; "
          "%d keys a viewer in rounds of %d, alternating" % (args.fps, args.keys, max(5, args.keys // 4)))
    print("%-10s %-22s %8s %8s %8s %8s %8s" % ("size", "viewer", "p50 ms", "p95 ms", "mean ms", "max ms", "H.264"))
    try:
        for size in args.sizes.split(","):
            w, h = (int(v) for v in size.split("x"))
            # The alternative in the same run: the H.264 path without
            # previews (h264/README.md "Previews"), on a piglix of its own.
            for previews in ("yes", "no"):
                p = Piglix(env, capture__width=w, capture__height=h, capture__fps=args.fps, capture__scenario="bios",
                           capture__type_echo="yes", video__h264="always", video__previews=previews).start()
                per = max(5, args.keys // 4)
                got = {"tight": [], "h264": []}
                rects = 0
                for _ in range((args.keys + per - 1) // per):
                    for kind in ("tight", "h264"):
                        r = client(args, p, h, kind, kind == "h264", per)
                        got[kind] += r["samples"]
                        if kind == "h264":
                            rects += r["h264_rects"]
                check(rects > 0, "the H.264 viewer got no H.264 rects")
                p.stop()
                t = summary(got["tight"])
                for kind, label in (("tight", "Tight"), ("h264", "H.264")):
                    s = summary(got[kind])
                    print("%-10s %-22s %8.1f %8.1f %8.1f %8.1f %8d" % (
                        size, "%s (previews %s)" % (label, previews), s[0], s[1], s[2],
                        max(got[kind]), rects if kind == "h264" else 0))
                hs = summary(got["h264"])
                print("%-10s H.264 (previews %s) against Tight: p50 %.2fx, p95 %.2fx, mean %.2fx (target: at most 1.2x)"
                      % (size, previews, hs[0] / t[0], hs[1] / t[1], hs[2] / t[2]))
    finally:
        for p in RUNNING:
            p.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
