#!/usr/bin/env python3
"""Virtual media on a real kernel: in a pvm VM, dummy_hcd makes the same
kernel the USB device (piglix's gadget with its mass-storage function) and
the USB host (usb-storage, sr_mod, sd_mod, isofs). From the host, curl
drives piglix's HTTPS API through a forwarded port.

    test_vmedia.py --piglix PATH --rfbprobe PATH

One boot: an ISO built with xorriso from files with known checksums is
uploaded, mounted as a CD; the guest's USB host sees /dev/sr0, mounts it and
the files' SHA-256 match; the image cannot be deleted while mounted; eject
is refused while the host holds the medium, forced eject works; media swap
without re-enumerating the keyboard; flash mode read-only by default, then
read-write: bytes written on the host side land in the image; a 3 GB sparse
image asked for as a CD is presented as a read-only disk (the kernel's CD
LUN stops at 2.2 GB) and the ISO inside it mounts; an upload cut off leaves
nothing; the mount survives a restart; [vmedia] usb = mounted keeps the
drive off the bus until a mount; `piglix gadget up` + an unprivileged
daemon mount through the handed-over LUN files; the host's port disabled
(cable pulled) while it reads the CD: the API answers, eject and mount
work meanwhile, and the CD reads whole again after it. Exit 0 on success."""
import argparse
import hashlib
import os
import pathlib
import random
import subprocess
import sys
import threading
import time

from capture_common import GuestPiglix, Tools, check, log, run_main

import pvm

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "e2e"))
from curl_api import curl_api  # noqa: E402

MODULES = ["dummy_hcd", "libcomposite", "usb_f_hid", "usb_f_mass_storage", "usbhid", "hid_generic",
           "usb_storage", "sr_mod", "sd_mod", "isofs"]
WEB_PORT = 8443
PASSWORD = "vmedia-test-pw"
STORE = "/tmp/images"
ENUMERATIONS = "dmesg | grep -c 'new high-speed USB device' || true"


def config(extra=""):
    return ("[capture]\nsource = test\nwidth = 640\nheight = 480\nfps = 5\n\n"
            "[vnc]\nlisten = 0.0.0.0\nport = 5900\n\n[hid]\nenabled = yes\n\n"
            "[web]\nenabled = yes\nlisten = 0.0.0.0\nport = %d\n\n"
            "[vmedia]\nenabled = yes\ndir = %s\n%s\n"
            "[state]\ndir = /var/lib/piglix\n" % (WEB_PORT, STORE, extra))


class Api:
    def __init__(self, vm):
        self.base = "https://127.0.0.1:%d" % vm.host_port(WEB_PORT)

    def call(self, method, path, body=None, *args, timeout=300):
        return curl_api(self.base, "admin", PASSWORD, method, path, *args, body=body, timeout=timeout)

    def ok(self, method, path, body=None, *args, want=200):
        st, js, text = self.call(method, path, body, *args)
        check(st == want, "%s %s: want %d, got %d %s" % (method, path, want, st, text[:300]))
        return js

    def drive(self):
        return self.ok("GET", "/api/vmedia")["drive"]


def make_iso(tools):
    root = pathlib.Path(tools.path("iso-root"))
    (root / "docs").mkdir(parents=True)
    files = {"README.TXT": b"piglix virtual media test\n" * 10, "docs/DATA.BIN": os.urandom(900 * 1024)}
    for name, data in files.items():
        (root / name).write_bytes(data)
    iso = tools.path("test.iso")
    subprocess.run(["xorriso", "-as", "mkisofs", "-quiet", "-V", "PIGLIX_TEST", "-o", iso, str(root)],
                   check=True, capture_output=True)
    return iso, {name: hashlib.sha256(data).hexdigest() for name, data in files.items()}


def medium_readable(vm, dev):
    _, status = vm.run("dd if=%s of=/dev/null bs=2048 count=1 2>/dev/null" % dev, timeout=30)
    return status == 0


def wait_medium(vm, dev, present, what, timeout=60):
    vm.wait_for(lambda: medium_readable(vm, dev) == present, timeout=timeout, what=what)


def disk_dev(vm):
    """The removable disk LUN on the USB host side (the only sd device here)."""
    out = vm.check("ls /sys/block").split()
    disks = [d for d in out if d.startswith("sd")]
    return "/dev/" + disks[0] if disks else None


def check_iso_files(vm, dev, sums, what):
    vm.check("mkdir -p /mnt/cd && mount -t iso9660 -o ro %s /mnt/cd" % dev, timeout=60)
    try:
        for name, want in sums.items():
            got = vm.check("sha256sum /mnt/cd/%s" % name).split()[0]
            check(got == want, "%s: %s has SHA-256 %s, want %s" % (what, name, got, want))
    finally:
        vm.run("umount /mnt/cd", timeout=30)
    log("ok: %s: the guest mounted %s and every file's SHA-256 matches" % (what, dev))


def start(vm, tools, extra="", prefix="", state="/var/lib/piglix"):
    vm.write_file("/etc/piglix/run.ini", config(extra).replace("dir = /var/lib/piglix\n", "dir = %s\n" % state))
    p = GuestPiglix(vm, tools, config_path="/etc/piglix/run.ini", name="piglix", prefix=prefix)
    api = Api(vm)
    vm.wait_for(lambda: api.call("GET", "/api/vmedia")[0] == 200, timeout=60, what="the web API")
    return p, api


def cd_and_swap(vm, api, iso_sums, sums2):
    d = api.ok("POST", "/api/vmedia/mount", {"image": "test.iso", "mode": "cdrom"})["drive"]
    check(d["mounted"] and d["mode"] == "cdrom" and not d["as_disk"], "mount as CD: %s" % d)
    wait_medium(vm, "/dev/sr0", True, "the CD on /dev/sr0")
    check_iso_files(vm, "/dev/sr0", iso_sums, "CD-ROM")
    st, js, _ = api.call("DELETE", "/api/vmedia/images/test.iso")
    check(st == 409, "deleting a mounted image: %d %s" % (st, js))
    # the guest holds the medium (a mounted CD locks the door): plain eject refused, forced works
    vm.check("mount -t iso9660 -o ro /dev/sr0 /mnt/cd")
    st, js, _ = api.call("POST", "/api/vmedia/eject", {})
    check(st == 409 and "force" in js["error"], "eject of a medium the host locked: %d %s" % (st, js))
    api.ok("POST", "/api/vmedia/eject", {"force": True})
    vm.run("umount /mnt/cd", timeout=30)
    wait_medium(vm, "/dev/sr0", False, "the CD gone after a forced eject")
    check(not api.drive()["mounted"], "still mounted after a forced eject")
    log("ok: plain eject refused while the host holds the CD (409), forced eject took it")
    # swap: one CD, then another, without re-enumerating anything
    before = vm.check(ENUMERATIONS).strip()
    api.ok("POST", "/api/vmedia/mount", {"image": "test.iso"})
    wait_medium(vm, "/dev/sr0", True, "the first CD")
    api.ok("POST", "/api/vmedia/mount", {"image": "second.iso"})
    check(api.drive()["image"] == "second.iso", "swap did not take")
    vm.wait_for(lambda: vm.run("mount -t iso9660 -o ro /dev/sr0 /mnt/cd && ls /mnt/cd; umount /mnt/cd",
                               timeout=30)[0].split() == ["OTHER.TXT"], timeout=60, what="the swapped CD's files")
    check(vm.check(ENUMERATIONS).strip() == before, "a media swap re-enumerated the USB device")
    log("ok: media swapped without re-enumeration (%s enumerations throughout)" % before)
    api.ok("POST", "/api/vmedia/eject", {})


def flash(vm, api, tools):
    img = tools.path("flash.img")
    with open(img, "wb") as f:
        f.truncate(4 << 20)
    api.ok("PUT", "/api/vmedia/images/flash.img", None, "-T", img, want=201)
    api.ok("POST", "/api/vmedia/images/flash.img/rename", {"to": "renamed.img"})
    api.ok("POST", "/api/vmedia/images/renamed.img/rename", {"to": "flash.img"})
    d = api.ok("POST", "/api/vmedia/mount", {"image": "flash.img", "mode": "flash"})["drive"]
    check(d["mode"] == "flash" and not d["rw"], "flash mount: %s" % d)
    dev = vm.wait_for(lambda: disk_dev(vm) if disk_dev(vm) and medium_readable(vm, disk_dev(vm)) else None,
                      timeout=60, what="the flash drive")
    out, status = vm.run("printf PIGLIX-RO | dd of=%s bs=512 seek=2048 conv=fsync 2>&1" % dev, timeout=60)
    check(status != 0, "writing to a read-only flash drive succeeded: %s" % out)
    api.ok("POST", "/api/vmedia/eject", {})
    d = api.ok("POST", "/api/vmedia/mount", {"image": "flash.img", "mode": "flash", "rw": True})["drive"]
    check(d["rw"], "read-write flash mount: %s" % d)
    wait_medium(vm, dev, True, "the read-write flash drive")
    vm.check("printf PIGLIX-RW-MARK | dd of=%s bs=512 seek=2048 conv=fsync 2>/dev/null" % dev, timeout=60)
    api.ok("POST", "/api/vmedia/eject", {})
    got = vm.check("dd if=%s/flash.img bs=512 skip=2048 count=1 2>/dev/null | head -c 14" % STORE)
    check(got == "PIGLIX-RW-MARK", "the host's write did not land in the image: %r" % got)
    im = [i for i in api.ok("GET", "/api/vmedia")["images"] if i["name"] == "flash.img"][0]
    check(im["sha256"] is None, "the image changed, but its upload hash is still shown: %s" % im)
    st, js, _ = api.call("POST", "/api/vmedia/mount", {"image": "flash.img", "mode": "cdrom", "rw": True})
    check(st == 422, "a read-write CD-ROM was accepted: %d %s" % (st, js))
    log("ok: flash read-only by default (write refused), read-write wrote into the image")
    return dev


def small_cd(vm, api, tools):
    tiny = tools.path("tiny.img")
    with open(tiny, "wb") as f:
        f.truncate(100 * 1024)
    api.ok("PUT", "/api/vmedia/images/tiny.img", None, "-T", tiny, want=201)
    st, js, _ = api.call("POST", "/api/vmedia/mount", {"image": "tiny.img", "mode": "cdrom"})
    check(st == 422 and "too small" in js["error"], "a 100 KiB CD: %d %s" % (st, js))
    check(not api.drive()["mounted"], "a refused mount left the drive mounted")
    log("ok: an image under the kernel's CD minimum is refused with a clear error (422)")


def big_cd(vm, api, dev, iso_sums):
    # a 3 GB sparse image with the test ISO at its start: a DVD-sized medium
    out, status = vm.run("dd if=/dev/zero of={0}/big.iso bs=1 count=0 seek=3221225472 2>&1 && "
                         "dd if=/srv/test.iso of={0}/big.iso conv=notrunc 2>&1".format(STORE), timeout=60)
    check(status == 0, "cannot make the sparse image: %s" % out)
    d = api.ok("POST", "/api/vmedia/mount", {"image": "big.iso", "mode": "cdrom"})["drive"]
    check(d["mounted"] and d["as_disk"] and d["size"] == 3 << 30, "3 GB CD: %s" % d)
    wait_medium(vm, dev, True, "the 3 GB medium")
    size = int(vm.check("cat /sys/block/%s/size" % os.path.basename(dev))) * 512
    check(size == 3 << 30, "the host sees %d bytes, want %d" % (size, 3 << 30))
    check_iso_files(vm, dev, iso_sums, "3 GB image presented as a disk")
    log("ok: a 3 GB image asked for as a CD is a read-only disk of the full size (kernel CD LUN caps at 2.2 GB)")
    api.ok("POST", "/api/vmedia/eject", {})
    # what the kernel does with it as a CD (configfs directly, not the API)
    lun0 = "/sys/kernel/config/usb_gadget/piglix/functions/mass_storage.usb0/lun.0/file"
    vm.check("echo %s/big.iso > %s" % (STORE, lun0))
    blocks = vm.wait_for(lambda: medium_readable(vm, "/dev/sr0") and
                         int(vm.check("cat /sys/block/sr0/size")) // 4, timeout=60, what="the raw 3 GB CD")
    vm.check("echo > %s" % lun0)
    check(blocks == 256 * 60 * 75 - 1, "kernel CD LUN capacity %d blocks" % blocks)
    check("file too big" in vm.check("dmesg | tail -20"), "no 'file too big' from f_mass_storage")
    log("ok: confirmed: as a raw CD LUN the kernel serves only %d blocks (%d bytes) of the 3 GB image"
        % (blocks, blocks * 2048))
    api.ok("DELETE", "/api/vmedia/images/big.iso")


def aborted_upload(vm, api, tools):
    src = tools.path("cut.bin")
    with open(src, "wb") as f:
        f.write(os.urandom(16 << 20))
    st, _, _ = api.call("PUT", "/api/vmedia/images/cut.iso", None, "-T", src, "--limit-rate", "2M",
                        "--max-time", "2")
    check(st in (0, 28) or st >= 400 or st == 0, "a cut upload finished: %d" % st)
    vm.wait_for(lambda: vm.run("ls -A %s/.piglix-partial" % STORE)[0].strip() == "", timeout=30,
                what="the partial file removed")
    names = [i["name"] for i in api.ok("GET", "/api/vmedia")["images"]]
    check("cut.iso" not in names, "a cut upload was kept: %s" % names)
    log("ok: an upload cut off halfway left nothing")


def cable_pulled_mid_read(vm, api, iso_sha):
    """The host reads the CD in a loop when its port goes down (the cable
    pulled, a reboot's reset): the API answers and eject and mount work
    while the host is gone; once it is back, the CD reads whole with the
    image's SHA-256."""
    port = "/sys/bus/usb/devices/1-0:1.0/usb1-port1/disable"
    api.ok("POST", "/api/vmedia/mount", {"image": "test.iso", "mode": "cdrom"})
    wait_medium(vm, "/dev/sr0", True, "the CD before the cable is pulled")
    vm.check("(while :; do dd if=/dev/sr0 of=/dev/null bs=2048 2>/dev/null || break; "
             "echo 3 > /proc/sys/vm/drop_caches; done; echo stopped > /tmp/reader.done) "
             ">/dev/null 2>&1 </dev/null &")
    time.sleep(1)
    vm.check("echo 1 > %s" % port)
    vm.wait_for(lambda: vm.run("cat /tmp/reader.done 2>/dev/null")[0].strip() == "stopped", timeout=60,
                what="the host's read to fail with the cable out")
    started = time.monotonic()
    check(api.drive()["mounted"], "the CD was ejected by the cable pull")
    api.ok("POST", "/api/vmedia/eject", {})
    api.ok("POST", "/api/vmedia/mount", {"image": "test.iso", "mode": "cdrom"})
    log("ok: with the cable out the API answers, eject and mount work (%.2f s)" % (time.monotonic() - started))
    vm.check("echo 0 > %s" % port)
    dev = vm.wait_for(lambda: next(("/dev/" + d for d in vm.check("ls /sys/block").split()
                                    if d.startswith("sr") and medium_readable(vm, "/dev/" + d)), None),
                      timeout=60, what="the CD back after the cable")
    got = vm.check("n=$(stat -c %%s /srv/test.iso); dd if=%s bs=2048 count=$((n / 2048)) 2>/dev/null | sha256sum"
                   % dev, timeout=60).split()[0]
    check(got == iso_sha, "the CD after the cable came back reads %s, want %s" % (got, iso_sha))
    log("ok: the CD read through a pulled cable reads whole again on %s (same SHA-256)" % dev)
    api.ok("POST", "/api/vmedia/eject", {})


def mounts_cut(vm, tools, rounds=3):
    """[reliability] 2: SIGKILL while piglix mounts, swaps and ejects (a power
    cut as far as its files go); after each restart vmedia.mount is absent
    or one whole record naming an image, no temporary file is left, and the
    drive is what the file says. Seeded; PIGLIX_CUT_SEED repeats a run."""
    seed = int(os.environ.get("PIGLIX_CUT_SEED", random.randrange(1 << 30)))
    rng = random.Random(seed)
    log("mount cuts: seed %d (PIGLIX_CUT_SEED repeats it)" % seed)
    images = ("test.iso", "second.iso")
    for r in range(rounds):
        p, api = start(vm, tools)
        stop = threading.Event()

        def churn():
            i = 0
            while not stop.is_set():
                if i % 3 == 2:
                    api.call("POST", "/api/vmedia/eject", {"force": True}, timeout=20)
                else:
                    api.call("POST", "/api/vmedia/mount", {"image": images[i % 2]}, timeout=20)
                i += 1
        t = threading.Thread(target=churn)
        t.start()
        time.sleep(rng.uniform(0.3, 2.0))
        p.proc.kill("KILL")
        p.proc.wait(30)
        stop.set()
        t.join(60)
        text, status = vm.run("cat /var/lib/piglix/vmedia.mount")
        left = [n for n in vm.check("ls -a /var/lib/piglix").split() if ".tmp-" in n]
        check(not left, "round %d: temporary files left after the cut: %s" % (r, left))
        p, api = start(vm, tools)
        d = api.drive()
        if status != 0:
            check(not d["mounted"], "round %d: no vmedia.mount, yet mounted after the restart: %s" % (r, d))
            got = "nothing mounted"
        else:
            fields = text.split()
            check(text.endswith("\n") and text.count("\n") == 1 and len(fields) == 3 and fields[2] in images,
                  "round %d: vmedia.mount is torn: %r" % (r, text))
            check(d["mounted"] and d["image"] == fields[2],
                  "round %d: the file says %s, the drive after the restart %s" % (r, fields[2], d))
            got = fields[2]
        log("ok: cut %d: %s after the restart, as the file says" % (r + 1, got))
        if d["mounted"]:
            api.ok("POST", "/api/vmedia/eject", {"force": True})
        p.stop()


def run_test(tools):
    iso, sums = make_iso(tools)
    root2 = pathlib.Path(tools.path("iso2"))
    root2.mkdir()
    (root2 / "OTHER.TXT").write_bytes(b"second medium\n" * 50000)  # over the 600 KiB CD minimum
    iso2 = tools.path("second.iso")
    subprocess.run(["xorriso", "-as", "mkisofs", "-quiet", "-o", iso2, "-pad", str(root2)], check=True,
                   capture_output=True)
    with open(iso, "rb") as f:
        iso_sha = hashlib.sha256(f.read()).hexdigest()
    vm = pvm.VM(modules=MODULES, binaries=[tools.piglix],
                files={"/var/lib/piglix/vnc.passwd": (pathlib.Path(tools.passwd_file), 0o600),
                       "/srv/test.iso": pathlib.Path(iso)},
                ports=[5900, WEB_PORT], mem=1024)
    with vm:
        log("VM up in %.1f s" % vm.boot_seconds)
        vm.check("chmod 700 /var/lib/piglix; mkdir -p /etc/piglix")
        vm.write_file("/etc/piglix/run.ini", config())
        vm.check("printf '%s\\n' | piglix -c /etc/piglix/run.ini user add admin" % PASSWORD, timeout=60)
        p, api = start(vm, tools)
        img = api.ok("PUT", "/api/vmedia/images/test.iso", None, "-T", iso, want=201)
        check(img["sha256"] == iso_sha, "upload hash %s, want %s" % (img["sha256"], iso_sha))
        api.ok("PUT", "/api/vmedia/images/second.iso", None, "-T", iso2, want=201)
        log("ok: ISOs uploaded through the API (SHA-256 computed while streaming matches)")
        aborted_upload(vm, api, tools)
        cd_and_swap(vm, api, sums, None)
        cable_pulled_mid_read(vm, api, iso_sha)
        dev = flash(vm, api, tools)
        small_cd(vm, api, tools)
        big_cd(vm, api, dev, sums)

        # the mount survives a restart
        api.ok("POST", "/api/vmedia/mount", {"image": "test.iso"})
        wait_medium(vm, "/dev/sr0", True, "the CD before the restart")
        p.stop()
        p, api = start(vm, tools)
        d = api.drive()
        check(d["mounted"] and d["image"] == "test.iso", "after a restart: %s" % d)
        wait_medium(vm, "/dev/sr0", True, "the CD after the restart")
        log("ok: the mount survived a piglix restart")
        api.ok("POST", "/api/vmedia/eject", {})
        p.stop()
        mounts_cut(vm, tools)

        # usb = mounted: no drive on the bus until a mount
        p, api = start(vm, tools, "usb = mounted\n")
        time.sleep(2)
        check(not api.drive()["present"] and not vm.run("ls /dev/sr0")[1] == 0,
              "usb = mounted: the drive is on the bus before a mount")
        api.ok("POST", "/api/vmedia/mount", {"image": "test.iso"})
        wait_medium(vm, "/dev/sr0", True, "the CD with usb = mounted")
        api.ok("POST", "/api/vmedia/eject", {})
        vm.wait_for(lambda: vm.run("ls /dev/sr0")[1] != 0, timeout=60, what="the drive off the bus after eject")
        log("ok: usb = mounted: the drive joins the bus for a mount and leaves at eject")
        p.stop()

        # root makes the gadget, an unprivileged daemon mounts through it
        vm.check("echo 'piglix:x:1000:1000::/tmp:/bin/sh' >> /etc/passwd; echo 'piglix:x:1000:' >> /etc/group; "
                 "mkdir -p /tmp/st1000 && cp -a /var/lib/piglix/. /tmp/st1000/ && chown -R 1000:1000 /tmp/st1000 "
                 "&& chown -R 1000:1000 %s && chmod 700 /tmp/st1000; "
                 "printf '#!/bin/sh\\nexec su piglix -s /bin/sh -c \"exec $*\"\\n' > /tmp/as-piglix; "
                 "chmod 755 /tmp/as-piglix" % STORE)
        vm.check("piglix -c /etc/piglix/run.ini -o state.dir=/tmp/st1000 gadget up", timeout=60)
        vm.check("chmod 666 /dev/hidg*")
        p, api = start(vm, tools, prefix="/tmp/as-piglix ", state="/tmp/st1000")
        api.ok("POST", "/api/vmedia/mount", {"image": "test.iso"})
        wait_medium(vm, "/dev/sr0", True, "the CD mounted by the unprivileged daemon")
        api.ok("POST", "/api/vmedia/eject", {})
        p.stop()
        out = vm.check("piglix -c /etc/piglix/run.ini gadget down 2>&1")
        check(vm.check("ls /sys/kernel/config/usb_gadget").strip() == "", "gadget down left configfs: %s\n%s" % (
            out, vm.run("find /sys/kernel/config/usb_gadget -maxdepth 5 -type d")[0]))
        log("ok: `piglix gadget up` handed the LUNs to uid 1000, whose daemon mounted and ejected")

        # the same with usb = mounted: the unprivileged daemon adds the drive per mount
        out, status = vm.run("piglix -c /etc/piglix/run.ini -o state.dir=/tmp/st1000 -o vmedia.usb=mounted "
                             "gadget up 2>&1", timeout=60)
        check(status == 0, "gadget up with usb = mounted: %s" % out)
        vm.check("chmod 666 /dev/hidg*")
        p, api = start(vm, tools, "usb = mounted\n", prefix="/tmp/as-piglix ", state="/tmp/st1000")
        check(not api.drive()["present"] and vm.run("ls /dev/sr0")[1] != 0,
              "gadget up with usb = mounted: the drive is on the bus before a mount")
        api.ok("POST", "/api/vmedia/mount", {"image": "test.iso"})
        wait_medium(vm, "/dev/sr0", True, "the CD (unprivileged daemon, usb = mounted)")
        api.ok("POST", "/api/vmedia/eject", {})
        vm.wait_for(lambda: vm.run("ls /dev/sr0")[1] != 0, timeout=60, what="the drive off the bus after eject")
        p.stop()
        vm.check("piglix -c /etc/piglix/run.ini gadget down")
        check(vm.check("ls /sys/kernel/config/usb_gadget").strip() == "", "gadget down left configfs")
        log("ok: usb = mounted with `piglix gadget up`: the unprivileged daemon put the drive on the bus and off")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--piglix", required=True)
    ap.add_argument("--rfbprobe", required=True)
    args = ap.parse_args()
    tools = Tools(args.piglix, args.rfbprobe)
    return run_main(run_test, tools)


if __name__ == "__main__":
    sys.exit(main())
