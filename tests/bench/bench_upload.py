#!/usr/bin/env python3
"""Upload throughput into the image store over HTTPS on loopback, with
piglix's CPU use and resident memory (peak during the upload): curl sends a
sparse file of the given size (4 GiB by default) to PUT /api/vmedia/images.
Prints figures; asserts nothing. Run with a release build:

    tests/bench/bench_upload.py build-release/app/piglix [--size-mib 4096] [--keep]
"""
import argparse
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time

PASSWORD = "bench-upload-pw"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def proc_status(pid, key):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1])  # kB
    return 0


def cpu_seconds(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    tick = os.sysconf("SC_CLK_TCK")
    return (int(fields[11]) + int(fields[12])) / tick  # utime + stime


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("piglix")
    ap.add_argument("--size-mib", type=int, default=4096)
    ap.add_argument("--dir", default=None, help="where the store goes (default: a temporary directory)")
    ap.add_argument("--keep", action="store_true")
    args = ap.parse_args()
    tmp = tempfile.mkdtemp(prefix="piglix-bench-upload-", dir=args.dir)
    state, store = os.path.join(tmp, "state"), os.path.join(tmp, "images")
    os.makedirs(state, mode=0o700)
    port, vnc = free_port(), free_port()
    conf = os.path.join(tmp, "piglix.ini")
    with open(conf, "w") as f:
        f.write("[capture]\nsource = test\nwidth = 640\nheight = 480\nfps = 5\n"
                "[vnc]\nlisten = 127.0.0.1\nport = %d\nauth = none\n"
                "[web]\nenabled = yes\nlisten = 127.0.0.1\nport = %d\n"
                "[vmedia]\nenabled = yes\ndir = %s\n[state]\ndir = %s\n[log]\nlevel = warn\n"
                % (vnc, port, store, state))
    subprocess.run([args.piglix, "-c", conf, "user", "add", "admin"], input=PASSWORD + "\n", text=True,
                   check=True, capture_output=True)
    src = os.path.join(tmp, "source.img")
    with open(src, "wb") as f:
        f.truncate(args.size_mib << 20)  # sparse: reading it costs curl nothing
    log = open(os.path.join(tmp, "piglix.log"), "w")
    p = subprocess.Popen([args.piglix, "-c", conf], stdout=log, stderr=subprocess.STDOUT)
    try:
        url = "https://127.0.0.1:%d/api/vmedia/images/bench.img" % port
        for _ in range(100):
            if subprocess.run(["curl", "-sk", "-o", "/dev/null", url.replace("/images/bench.img", "")],
                              capture_output=True).returncode == 0:
                break
            time.sleep(0.1)
        rss0 = proc_status(p.pid, "VmRSS")
        cpu0 = cpu_seconds(p.pid)
        t0 = time.monotonic()
        curl = subprocess.Popen(["curl", "-sS", "-k", "-u", "admin:" + PASSWORD, "-T", src, "-o", "/dev/null",
                                 "-w", "%{http_code}", url], stdout=subprocess.PIPE, text=True)
        peak = rss0
        while curl.poll() is None:
            peak = max(peak, proc_status(p.pid, "VmRSS"))
            time.sleep(0.05)
        wall = time.monotonic() - t0
        cpu = cpu_seconds(p.pid) - cpu0
        code = curl.stdout.read().strip()
        size = os.path.getsize(os.path.join(store, "bench.img")) if code == "201" else 0
        mb = (args.size_mib << 20) / 1e6
        print("upload of %d MiB over HTTPS on loopback: HTTP %s, %.1f s, %.1f MB/s" % (
            args.size_mib, code, wall, mb / wall))
        print("piglix CPU: %.1f s (%.0f%% of one core; TLS, SHA-256 and the writes), %.2f s per GB" % (
            cpu, 100 * cpu / wall, cpu / (mb / 1000)))
        print("piglix RSS: %.1f MiB before, peak %.1f MiB during the upload (VmHWM %.1f MiB)" % (
            rss0 / 1024, peak / 1024, proc_status(p.pid, "VmHWM") / 1024))
        print("stored %d bytes%s" % (size, "" if size == args.size_mib << 20 else " (WRONG)"))
    finally:
        p.terminate()
        p.wait(30)
        if not args.keep:
            shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
