#!/usr/bin/env python3
"""piglix beside ustreamer (PiKVM's MJPEG streamer), both capturing vivid's HDMI
input in the same VM, one at a time, each with one client on the host:

    bench_capture.py --piglix PATH --rfbprobe PATH [--seconds 30]
                     [--sizes 1280x720,1920x1080] [--motions static,moving]
                     [--servers piglix,ustreamer,ustreamer-dsf] [--assert] [--json OUT]

Per run: captured fps, CPU seconds per captured frame (utime+stime from
/proc/PID/stat inside the VM over the client's window) and the bytes one client
received in --seconds (piglix: rfbprobe watch over VNC; ustreamer: its /stream
read over HTTP). ustreamer runs as `--dv-timings --persistent --desired-fps 30`
(ustreamer) and with PiKVM's `--drop-same-frames 30` on top (ustreamer-dsf).
static: colour bars, no movement; moving: vivid's horizontal_movement.
--assert: exit 1 unless piglix sends fewer bytes than every ustreamer run for
the static picture. Both run under TCG: compare the ratios, not the absolute
figures."""
import argparse
import json
import os
import re
import socket
import subprocess
import sys
import threading
import time

# The VM harness (tests/vm) this benchmark boots.
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "vm"))
import urllib.request

from capture_common import (GuestPiglix, TestFailure, Tools, boot, check, log, parse_json_line,
                            piglix_config, vivid_set, vivid_timings_index)

USTREAMER_PORT = 8080
CLK_TCK = 100  # USER_HZ on x86


def cpu_seconds(vm, pid):
    stat = vm.check("cat /proc/%d/stat" % pid)
    fields = stat[stat.rindex(")") + 2:].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK  # utime, stime (fields 14 and 15)


def set_mode(vm, size):
    vivid_set(vm, dv_timings=vivid_timings_index(vm, size + "p60"))
    # through "no signal" so the change is an event even when the mode stays
    vivid_set(vm, dv_timings_signal_mode=1)
    vivid_set(vm, dv_timings_signal_mode=4)


def set_motion(vm, motion):
    vivid_set(vm, test_pattern=0, osd_text_mode=2, vertical_movement=3, y_cbcr_encoding=1,
              horizontal_movement=5 if motion == "moving" else 3)


def log_seconds(line):
    m = re.match(r"\[\s*([\d.]+)\]", line)
    return float(m.group(1)) if m else None


def run_piglix(vm, tools, size, seconds):
    piglix = GuestPiglix(vm, tools, name="bench-piglix")
    r = piglix.probe("wait-size", size, 60)
    check(r.returncode == 0, "piglix did not reach %s: %s" % (size, r.stderr))
    time.sleep(1)
    cpu0 = cpu_seconds(vm, piglix.proc.pid)
    r = piglix.probe("--json", "watch", seconds, timeout=seconds + 120)
    cpu1 = cpu_seconds(vm, piglix.proc.pid)
    check(r.returncode == 0, "rfbprobe watch failed: %s" % r.stderr)
    watch = parse_json_line(r.stdout)
    text = piglix.stop()
    # published frames over piglix's streaming life, from its exit summary
    m = re.search(r"(\d+) frames from the device, (\d+) dropped for the fps limit, (\d+) skipped, "
                  r"(\d+) broken", text)
    check(m is not None, "no capture summary in piglix's log:\n" + text[-2000:])
    device, dropped, skipped, broken = (int(g) for g in m.groups())
    lines = text.splitlines()
    first = next((log_seconds(line) for line in lines if "capture: /dev/video0: picture" in line), None)
    last = next((log_seconds(line) for line in reversed(lines) if "main: stopping" in line), None)
    check(first is not None and last is not None and last > first, "no timestamps in piglix's log")
    published = device - dropped - skipped - broken
    fps = published / (last - first)
    return {"captured_fps": fps, "cpu_s": cpu1 - cpu0, "bytes": watch["bytes_received"],
            "client_updates": watch["updates"], "window_s": watch["seconds"]}


def read_stream(host_port, seconds):
    """Bytes and JPEG frames received from ustreamer's /stream in seconds."""
    total, frames = 0, 0
    with socket.create_connection(("127.0.0.1", host_port), timeout=10) as s:
        s.sendall(b"GET /stream HTTP/1.0\r\nHost: bench\r\n\r\n")
        end = time.monotonic() + seconds
        tail = b""
        while True:
            left = end - time.monotonic()
            if left <= 0:
                break
            s.settimeout(left)
            try:
                chunk = s.recv(1 << 16)
            except socket.timeout:
                break
            if not chunk:
                break
            total += len(chunk)
            data = tail + chunk
            frames += data.count(b"Content-Type: image/jpeg")
            tail = data[-32:]
            frames -= tail.count(b"Content-Type: image/jpeg")  # counted again next time
    return total, frames + tail.count(b"Content-Type: image/jpeg")


def ustreamer_state(host_port):
    with urllib.request.urlopen("http://127.0.0.1:%d/state" % host_port, timeout=10) as r:
        return json.load(r)["result"]


def run_ustreamer(vm, size, seconds, drop_same):
    cmd = ("exec ustreamer --device=/dev/video0 --dv-timings --persistent --host=0.0.0.0 --port=%d "
           "--desired-fps=30 --quality=80" % USTREAMER_PORT)
    if drop_same:
        cmd += " --drop-same-frames=30"
    proc = vm.spawn(cmd, log="/tmp/bench-ustreamer.log")
    host_port = vm.host_port(USTREAMER_PORT)
    vm.wait_listening(USTREAMER_PORT)
    w, h = (int(v) for v in size.split("x"))

    def ready():
        src = ustreamer_state(host_port)["source"]
        return src["online"] and src["resolution"] == {"width": w, "height": h} and src["captured_fps"] > 0
    vm.wait_for(ready, 60, what="ustreamer capturing %s" % size)
    time.sleep(1)
    samples = []
    stop = threading.Event()

    def sample():
        while not stop.wait(1.0):
            try:
                samples.append(ustreamer_state(host_port)["source"]["captured_fps"])
            except OSError:
                pass
    sampler = threading.Thread(target=sample)
    cpu0 = cpu_seconds(vm, proc.pid)
    sampler.start()
    started = time.monotonic()
    total, frames = read_stream(host_port, seconds)
    window = time.monotonic() - started
    stop.set()
    sampler.join()
    cpu1 = cpu_seconds(vm, proc.pid)
    proc.kill("TERM")
    proc.wait(30)
    fps = sum(samples) / len(samples) if samples else 0.0
    return {"captured_fps": fps, "cpu_s": cpu1 - cpu0, "bytes": total, "client_updates": frames,
            "window_s": window}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--piglix", required=True)
    ap.add_argument("--rfbprobe", required=True)
    ap.add_argument("--seconds", type=float, default=30)
    ap.add_argument("--sizes", default="1280x720,1920x1080")
    ap.add_argument("--motions", default="static,moving")
    ap.add_argument("--servers", default="piglix,ustreamer,ustreamer-dsf")
    ap.add_argument("--assert", dest="assert_", action="store_true")
    ap.add_argument("--json", help="also write the results here")
    args = ap.parse_args()
    if subprocess.run(["sh", "-c", "command -v ustreamer"], capture_output=True).returncode != 0:
        print("FAIL: ustreamer is not installed (apt-get install ustreamer)", file=sys.stderr)
        return 1
    tools = Tools(args.piglix, args.rfbprobe)
    vm = boot(tools, piglix_config(fps=30), ports=(5900, USTREAMER_PORT),
              binaries=["/usr/bin/ustreamer"])
    results = []
    try:
        for size in args.sizes.split(","):
            set_mode(vm, size)
            for motion in args.motions.split(","):
                set_motion(vm, motion)
                for server in args.servers.split(","):
                    log("%s %s %s for %g s" % (size, motion, server, args.seconds))
                    if server == "piglix":
                        r = run_piglix(vm, tools, size, args.seconds)
                    else:
                        r = run_ustreamer(vm, size, args.seconds, server == "ustreamer-dsf")
                    r.update(size=size, motion=motion, server=server)
                    frames = r["captured_fps"] * r["window_s"]
                    r["cpu_s_per_frame"] = r["cpu_s"] / frames if frames > 0 else None
                    results.append(r)
                    log("  %.1f fps captured, %.4f CPU s/frame, %d bytes to the client (%d updates)"
                        % (r["captured_fps"], r["cpu_s_per_frame"] or 0, r["bytes"], r["client_updates"]))
    except TestFailure as e:
        print("FAIL: %s" % e, file=sys.stderr)
        return 1
    finally:
        vm.stop()

    print("\n%-10s %-7s %-14s %9s %12s %14s %9s" % ("size", "motion", "server", "fps", "CPU s/frame",
                                                     "bytes sent", "updates"))
    for r in results:
        print("%-10s %-7s %-14s %9.1f %12.4f %14d %9d" % (
            r["size"], r["motion"], r["server"], r["captured_fps"], r["cpu_s_per_frame"] or 0, r["bytes"],
            r["client_updates"]))
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=1)
    if args.assert_:
        failed = False
        for size in args.sizes.split(","):
            mine = [r for r in results if r["size"] == size and r["motion"] == "static" and r["server"] == "piglix"]
            peers = [r for r in results if r["size"] == size and r["motion"] == "static" and r["server"] != "piglix"]
            for p in mine:
                for q in peers:
                    if p["bytes"] >= q["bytes"]:
                        print("FAIL: %s static: piglix sent %d bytes, %s only %d" % (
                            size, p["bytes"], q["server"], q["bytes"]), file=sys.stderr)
                        failed = True
        if not mine or not peers:
            print("FAIL: --assert needs a static piglix run and a ustreamer run", file=sys.stderr)
            failed = True
        if failed:
            return 1
        print("PASS: piglix sends fewer bytes than ustreamer for the static picture")
    return 0


if __name__ == "__main__":
    sys.exit(main())
