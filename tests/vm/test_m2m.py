#!/usr/bin/env python3
"""The V4L2 memory-to-memory encoder session (h264/m2m.c) on a real kernel:
Linux's vicodec, a stateful M2M encoder (FWHT, not H.264) with the same ioctl
sequence as the Pi 4's bcm2835-codec. Debian's kernel builds neither vicodec
nor v4l2-mem2mem: tests/vm/vicodec/build.sh builds both out of tree from
linux-source-6.1 of the VM kernel's version.

    test_m2m.py --probe PATH_TO_m2m_probe

One boot (vivid loaded first, so /dev/video0 is a capture device and the
encoder must be found by capability): single-planar 640x480, 8 frames with a
forced key frame, FWHT headers checked, drain, resize to 1920x1080;
multi-planar after reloading vicodec with multiplanar=1; vivid's capture
buffers imported as DMABUF (no copy); the device unbound
while frames stream: the session fails with an error within its timeout,
logs it once, and stays failed. Exit 0 on success."""
import argparse
import os
import re
import subprocess
import sys
import time

from capture_common import TestFailure, check, log, run_main

import pvm

HERE = os.path.dirname(os.path.abspath(__file__))
VIVID = "vivid n_devs=1 node_types=0x1 num_inputs=1 input_types=0x3"


def build_modules():
    r = subprocess.run([os.path.join(HERE, "vicodec", "build.sh")], capture_output=True, text=True)
    if r.returncode != 0:
        raise TestFailure("building vicodec:\n%s" % r.stderr[-3000:])
    return r.stdout.strip().splitlines()[-1]


def fields(out, prefix):
    """key=value pairs of every line starting with prefix."""
    return [dict(re.findall(r"(\w+)=(\S+)", line)) for line in out.splitlines()
            if line.startswith(prefix + " ")]


def probe(vm, args, timeout=240):
    out, rc = vm.run("m2m_probe %s 2>&1" % args, timeout=timeout)
    log("m2m_probe %s -> %d" % (args, rc))
    check(rc == 0, "m2m_probe %s failed (%d):\n%s" % (args, rc, out[-3000:]))
    check("FAIL" not in out, "a check failed:\n%s" % out[-3000:])
    return out


def check_run(out, mplane, sizes):
    infos = fields(out, "info")
    check(len(infos) == len(sizes), "one info line per size:\n%s" % out)
    for info, (w, h, n) in zip(infos, sizes):
        check(info["driver"] == "vicodec", "found %s" % info)
        check(info["path"] != "/dev/video0", "took vivid's node: %s" % info)
        check(info["mplane"] == str(int(mplane)), "planar API: %s" % info)
        check((info["width"], info["height"]) == (str(w), str(h)), "size: %s" % info)
        check(int(info["coded_width"]) >= w and int(info["coded_height"]) >= h,
              "coded size: %s" % info)
    counts = fields(out, "frames")
    check([c["count"] for c in counts] == [str(s[2]) for s in sizes], "frame counts: %s" % counts)
    check(all(c["keys"] == "2" for c in counts), "two key frames per run: %s" % counts)
    drain = fields(out, "drain")
    check(drain and drain[0]["rc"] != "-1", "drain: %s" % drain)


def device_gone(vm):
    p = vm.spawn("m2m_probe forever 640 480 2>&1", log="/tmp/forever.log")
    vm.wait_for(lambda: "frame n=5 " in p.log(), 120, what="frames streaming")
    dev, _ = vm.run("ls /sys/bus/platform/drivers/vicodec/ | grep vicodec")
    dev = dev.split()[0]
    log("unbinding %s while streaming" % dev)
    started = time.monotonic()
    vm.check("echo %s > /sys/bus/platform/drivers/vicodec/unbind" % dev, timeout=60)
    status = p.wait(30)
    took = time.monotonic() - started
    text = p.log()
    log("probe exited %d %.1f s after the unbind" % (status, took))
    check(status == 3, "exit status %d after the device went away:\n%s" % (status, text[-2000:]))
    check("error encode" in text, "no encode error:\n%s" % text[-2000:])
    check("after encode=-1 drain=-1 resize=-1" in text, "a dead session stays dead:\n%s"
          % text[-2000:])
    errors = [line for line in text.splitlines() if re.search(r"\] E h264: m2m /dev/", line)]
    check(len(errors) == 1, "logged once: %s" % errors)
    # Nothing holds the module any more.
    vm.check("rmmod vicodec", timeout=30)


def run_test(args):
    mods = build_modules()
    with pvm.VM(modules=[VIVID, os.path.join(mods, "v4l2-mem2mem.ko"),
                         os.path.join(mods, "vicodec.ko")],
                binaries=[args.probe]) as vm:
        log("VM up in %.1f s" % vm.boot_seconds)
        out = probe(vm, "stream 640 480 8 1920 1080 4")
        check_run(out, False, [(640, 480, 8), (1920, 1080, 4)])
        vm.check("rmmod vicodec && modprobe vicodec multiplanar=1", timeout=60)
        out = probe(vm, "stream 640 480 6")
        check_run(out, True, [(640, 480, 6)])
        # vivid's capture buffers go in as DMABUF (VIDIOC_EXPBUF), no copy.
        out = probe(vm, "dmabuf /dev/video0 5")
        dm = fields(out, "dmabuf")
        check(dm and dm[0]["imported"] == "1" and dm[0]["keys"] == "1" and
              dm[0]["same_as_copy"] == "1", "DMABUF import: %s" % out[-2000:])
        device_gone(vm)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--probe", required=True)
    args = ap.parse_args()
    return run_main(run_test, args)


if __name__ == "__main__":
    sys.exit(main())
