#!/usr/bin/env python3
"""One end-to-end smoke test of the arm64 piglix on Debian's own arm64 kernel:
qemu-system-aarch64 (virt machine, Cortex-A72 like the Pi 4, TCG) boots
linux-image-arm64 with a busybox initramfs; the guest loads vivid (an HDMI
input) and the USB gadget modules (dummy_hcd as the UDC, libcomposite),
runs piglix capturing from vivid with the USB HID gadget on, and reports:
the RFB banner on the VNC port, the UDC state, the frames captured. The
kernel and busybox come from Debian's arm64 packages (debootstrap's first
stage, cached); the modules' dependencies and the cpio writer are the VM
harness's (tests/vm/pvm_kernel.py, pvm_image.py).

usage: arm64_vm.py --piglix ARM64_PIGLIX [--sysroot SYSROOT] [--cache DIR] [--timeout S]
(the sysroot defaults to the one deploy/cross/build-arm64.sh made in the cache)
"""
import argparse
import glob
import json
import os
import re
import shutil
import stat
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(SOURCE, "tests", "vm"))
import pvm_image  # noqa: E402
import pvm_kernel  # noqa: E402

MIRROR = os.environ.get("PIGLIX_DEBIAN_MIRROR", "http://deb.debian.org/debian")
MODULES = ["configfs", "vivid", "dummy_hcd", "libcomposite", "usb_f_hid"]

GUEST_CONFIG = """[capture]
source = v4l2
device = /dev/video0
edid = /usr/share/piglix/edid/tc358743-1080p30.hex
[vnc]
listen = 127.0.0.1
auth = none
[hid]
enabled = yes
udc = dummy_udc.0
[state]
dir = /var/lib/piglix
"""

# The guest's /init: everything the smoke test does, reported on the console.
GUEST_INIT = r"""#!/bin/sh
export PATH=/usr/sbin:/usr/bin:/sbin:/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mount -t tmpfs tmpfs /tmp
mount -t tmpfs tmpfs /run
mkdir -p /var/lib/piglix && chmod 700 /var/lib/piglix
say() { echo "SMOKE: $*" >/dev/console; }
modprobe configfs && mount -t configfs configfs /sys/kernel/config
modprobe vivid n_devs=1 node_types=0x1 num_inputs=1 input_types=0x3 || say "FAIL modprobe vivid"
modprobe dummy_hcd || say "FAIL modprobe dummy_hcd"
modprobe libcomposite || say "FAIL modprobe libcomposite"
# No modules.alias here: the kernel's request_module("usbfunc:hid") would not
# resolve, so the function module is loaded by name (udev and kmod do it on the Pi).
modprobe usb_f_hid || say "FAIL modprobe usb_f_hid"
ip link set lo up
say "booted in $(cut -d' ' -f1 /proc/uptime) s, kernel $(uname -r) $(uname -m)"
piglix -c /etc/piglix.ini >/tmp/piglix.log 2>&1 &
pid=$!
banner=""
i=0
while [ $i -lt 30 ] && kill -0 $pid 2>/dev/null; do
    # stdin stays open a moment: busybox nc quits at its end, maybe before the banner
    banner=$( (sleep 2) | nc -w 2 127.0.0.1 5900 2>/tmp/nc.err | head -c 11)
    [ "$banner" = "RFB 003.008" ] && break
    sleep 1
    i=$((i + 1))
done
say "banner=$banner after ${i} s"
[ "$banner" = "RFB 003.008" ] || { say "nc: $(cat /tmp/nc.err)"; ip addr show lo >/dev/console; }
sleep 8
say "udc=$(cat /sys/class/udc/dummy_udc.0/state 2>/dev/null)"
say "hidg=$(ls /dev | grep -c '^hidg')"
kill -TERM $pid
i=0
while kill -0 $pid 2>/dev/null && [ $i -lt 30 ]; do sleep 1; i=$((i + 1)); done
wait $pid
say "exit=$?"
sed 's/^/SMOKE-LOG: /' /tmp/piglix.log >/dev/console
say "end"
poweroff -f
"""


def log(msg):
    print("arm64_vm: " + msg, file=sys.stderr, flush=True)


def fetch_kernel(cache):
    """Debian's arm64 kernel and busybox-static, unpacked once into cache/arm64-kernel."""
    dest = os.path.join(cache, "arm64-kernel")
    if os.path.exists(os.path.join(dest, "kernel.json")):
        return dest
    work = tempfile.mkdtemp(prefix=".arm64-kernel-", dir=cache)
    try:
        log("debootstrap (first stage) of linux-image-arm64 and busybox-static")
        proc = subprocess.run(["debootstrap", "--arch=arm64", "--foreign", "--variant=minbase",
                               "--include=linux-image-arm64,busybox-static", "bookworm",
                               os.path.join(work, "root"), MIRROR],
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, universal_newlines=True)
        if proc.returncode != 0:
            raise RuntimeError("debootstrap failed:\n" + proc.stdout[-3000:])
        archives = os.path.join(work, "root", "var", "cache", "apt", "archives")
        images = glob.glob(os.path.join(archives, "linux-image-[0-9]*-arm64_*.deb"))
        boxes = glob.glob(os.path.join(archives, "busybox-static_*.deb"))
        if len(images) != 1 or len(boxes) != 1:
            raise RuntimeError("expected one kernel and one busybox package: %s %s" % (images, boxes))
        x = os.path.join(work, "x")
        for deb in images + boxes:
            subprocess.run(["dpkg-deb", "-x", deb, x], check=True)
        releases = os.listdir(os.path.join(x, "lib", "modules"))
        vmlinuz = glob.glob(os.path.join(x, "boot", "vmlinuz-*"))
        if len(releases) != 1 or len(vmlinuz) != 1:
            raise RuntimeError("unexpected kernel package layout: %s %s" % (releases, vmlinuz))
        out = os.path.join(work, "out")
        os.makedirs(out)
        shutil.move(vmlinuz[0], os.path.join(out, "vmlinuz"))
        shutil.move(os.path.join(x, "lib", "modules", releases[0]), os.path.join(out, "modules"))
        shutil.move(os.path.join(x, "bin", "busybox"), os.path.join(out, "busybox"))
        with open(os.path.join(out, "kernel.json"), "w") as f:
            json.dump({"package": os.path.basename(images[0]).split("_")[0],
                       "version": os.path.basename(images[0]).split("_")[1],
                       "release": releases[0]}, f)
        os.rename(out, dest)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return dest


def needed(binary):
    out = subprocess.run(["readelf", "-d", binary], check=True, stdout=subprocess.PIPE,
                         universal_newlines=True).stdout
    return re.findall(r"\(NEEDED\)\s+Shared library: \[([^\]]+)\]", out)


def add_arm64_binary(arc, guest, host, sysroot):
    """The binary and, recursively, the sysroot's libraries it needs."""
    arc.add_host_file(guest, host, 0o755)
    dirs = [os.path.join(sysroot, d, "aarch64-linux-gnu") for d in ("lib", "usr/lib")]
    todo, seen = [host], set()
    while todo:
        for soname in needed(todo.pop()):
            if soname in seen:
                continue
            seen.add(soname)
            found = [os.path.join(d, soname) for d in dirs if os.path.exists(os.path.join(d, soname))]
            if not found:
                raise RuntimeError("%s: not in the sysroot" % soname)
            arc.add_host_file("/usr/lib/aarch64-linux-gnu/" + soname, found[0], 0o755)
            todo.append(found[0])
    arc.add_host_file("/usr/lib/ld-linux-aarch64.so.1",
                      os.path.join(sysroot, "lib", "ld-linux-aarch64.so.1"), 0o755)


def build_initramfs(kernel, kdir, piglix, sysroot, path):
    arc = pvm_image.Archive()
    for d in pvm_image.MERGED_DIRS:
        arc.entries[d] = ("link", 0o777, "usr/" + d)
    for d in ("proc", "sys", "dev", "tmp", "run", "root", "etc", "var/lib"):
        arc.add_dir("/" + d)
    arc.add_node("/dev/console", stat.S_IFCHR | 0o600, 5, 1)
    busybox = os.path.join(kdir, "busybox")
    applets = subprocess.run([qemu_user(), busybox, "--list-full"], stdout=subprocess.PIPE,
                             universal_newlines=True, check=True).stdout.split()
    for applet in applets:
        arc.add_symlink("/" + applet, "/usr/bin/busybox")
    arc.add_host_file("/usr/bin/busybox", busybox, 0o755)
    arc.add_data("/init", GUEST_INIT, 0o755)
    arc.add_data("/etc/piglix.ini", GUEST_CONFIG)
    arc.add_data("/etc/passwd", "root:x:0:0:root:/root:/bin/sh\n")
    arc.add_data("/etc/group", "root:x:0:\n")
    arc.add_host_file("/usr/share/piglix/edid/tc358743-1080p30.hex",
                      os.path.join(SOURCE, "deploy", "edid", "tc358743-1080p30.hex"))
    add_arm64_binary(arc, "/usr/bin/piglix", piglix, sysroot)
    base = "/lib/modules/%s/" % kernel.release
    lines = []
    for rel, (host, deps) in sorted(kernel.closure(MODULES).items()):
        arc.add_host_file(base + rel, host, 0o644)
        lines.append("%s:%s\n" % (rel, "".join(" " + d for d in deps)))
    arc.add_data(base + "modules.dep", "".join(lines))
    for extra in ("modules.builtin", "modules.order"):
        arc.add_host_file(base + extra, os.path.join(kernel.modules_dir, extra), 0o644)
    with open(path, "wb") as f:
        arc.write_cpio(f)


def qemu_user():
    for name in ("qemu-aarch64-static", "qemu-aarch64"):
        if shutil.which(name):
            return name
    raise RuntimeError("no qemu-aarch64 (deploy/deps.sh arm64)")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--piglix", required=True)
    ap.add_argument("--sysroot")
    ap.add_argument("--cache", default=os.environ.get("PIGLIX_DEPLOY_CACHE")
                    or os.path.expanduser("~/.cache/piglix-deploy"))
    ap.add_argument("--timeout", type=int, default=420)
    args = ap.parse_args()
    os.makedirs(args.cache, exist_ok=True)
    sysroot = args.sysroot or os.path.join(args.cache, "sysroot-arm64")
    subprocess.run([os.path.join(SOURCE, "deploy", "deps.sh"), "arm64-vm"], check=True,
                   stdout=sys.stderr)
    t0 = time.monotonic()
    kdir = fetch_kernel(args.cache)
    kernel = pvm_kernel.Kernel(kdir)
    with tempfile.TemporaryDirectory(prefix="piglix-arm64-vm-") as tmp:
        initrd = os.path.join(tmp, "initrd.cpio")
        build_initramfs(kernel, kdir, args.piglix, sysroot, initrd)
        t1 = time.monotonic()
        cmd = ["qemu-system-aarch64", "-M", "virt", "-cpu", "cortex-a72", "-smp", "2", "-m", "1024",
               "-accel", "tcg", "-nographic", "-nodefaults", "-no-user-config", "-no-reboot",
               "-serial", "stdio", "-kernel", kernel.vmlinuz, "-initrd", initrd,
               "-append", "console=ttyAMA0 rdinit=/init panic=-1 loglevel=3"]
        log("booting %s (%s) under %s" % (kernel.package, kernel.version, cmd[0]))
        try:
            proc = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                  stdin=subprocess.DEVNULL, timeout=args.timeout)
            console = proc.stdout.decode(errors="replace")
        except subprocess.TimeoutExpired as e:
            console = (e.stdout or b"").decode(errors="replace")
            print(console[-4000:], file=sys.stderr)
            log("FAIL: the guest did not finish in %d s" % args.timeout)
            return 1
    t2 = time.monotonic()
    smoke = dict(re.findall(r"^SMOKE: (\w+)=(.*?)\r?$", console, re.M))
    for line in console.splitlines():
        if line.startswith("SMOKE"):
            print(line.rstrip())
    problems = []
    if not smoke.get("banner", "").startswith("RFB 003.008"):
        problems.append("no RFB banner on the VNC port (%r)" % smoke.get("banner"))
    if smoke.get("udc") != "configured":
        problems.append("the USB gadget is not configured by the (dummy) host: udc=%r" % smoke.get("udc"))
    frames = re.search(r"SMOKE-LOG: .*: (\d+) frames from the device", console)
    if not frames or int(frames.group(1)) == 0:
        problems.append("no frames captured from vivid")
    if smoke.get("exit") != "0":
        problems.append("piglix exited with %r after SIGTERM" % smoke.get("exit"))
    if "SMOKE: FAIL" in console or "SMOKE: end" not in console:
        problems.append("the guest script failed or did not finish")
    print("arm64_vm: kernel+initramfs %.0f s, boot and smoke %.0f s" % (t1 - t0, t2 - t1))
    if problems:
        print(console[-3000:], file=sys.stderr)
        for p in problems:
            log("FAIL: " + p)
        return 1
    log("OK: %s frames from vivid, RFB on 5900, gadget configured" % frames.group(1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
