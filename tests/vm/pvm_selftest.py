"""pvm selftest: boot the real kernel and check every harness promise end to end.

Run as `python3 tests/vm/pvm.py selftest` (or tests/vm/run_selftest.sh); exits non-zero
when any check fails. Values compared are generated per run, so a broken channel or
port forward cannot pass by accident.
"""

import os
import pathlib
import secrets
import shutil
import sys
import time
import urllib.request

import pvm
import pvm_kernel

VIVID_HDMI = "vivid n_devs=1 node_types=0x1 num_inputs=1 input_types=0x3"
HOST_BINARY = "/usr/bin/stat"  # dynamic, links more than libc: exercises the ldd copy
V4L2_CTL = shutil.which("v4l2-ctl")


class Checks:
    def __init__(self):
        self.failed = []

    def check(self, name, condition, detail=""):
        print("%s %s%s" % ("ok  " if condition else "FAIL", name,
                           "" if condition else ": " + str(detail)), flush=True)
        if not condition:
            self.failed.append(name)
        return condition


def _expect_raises(exc_type, fn):
    try:
        fn()
    except exc_type as e:
        return e
    return None


def _guest_checks(vm, c, token):
    out, rc = vm.run("ls /dev/video0")
    c.check("/dev/video0 exists", rc == 0 and "/dev/video0" in out, out)
    out, rc = vm.run("cat /sys/class/video4linux/video0/name")
    c.check("video0 is vivid", rc == 0 and out.startswith("vivid"), out)
    out, rc = vm.run("lsmod")
    c.check("dummy_hcd and libcomposite loaded",
            "dummy_hcd" in out and "libcomposite" in out, out)
    out, rc = vm.run("ls /sys/class/udc/ && ls -d /sys/kernel/config/usb_gadget")
    c.check("UDC dummy_udc.0 and configfs gadget dir", rc == 0 and "dummy_udc.0" in out, out)
    c.check("usb_f_hid available but not loaded", "usb_f_hid" not in vm.run("lsmod")[0])
    out, rc = vm.run("modprobe usb_f_hid && lsmod")
    c.check("modprobe of an available module", rc == 0 and "usb_f_hid" in out, out)

    # the channel: status codes, binary output, text that looks like a reply header
    c.check("exit status passes through", vm.run("exit 7")[1] == 7)
    raw, rc = vm.run_bytes("printf '\\n@@PVM fake 0 3\\n\\000\\001\\377%s'" % token)
    c.check("binary-safe framing", rc == 0 and raw == b"\n@@PVM fake 0 3\n\x00\x01\xff"
            + token.encode(), repr(raw))
    big, rc = vm.run_bytes("head -c 2000000 /dev/urandom")
    c.check("2 MB of output arrives whole", rc == 0 and len(big) == 2000000, len(big))
    vm.write_file("/tmp/upload", token * 5000)
    c.check("write_file/read_file round trip", vm.read_file("/tmp/upload") ==
            (token * 5000).encode())
    started = time.monotonic()
    err = _expect_raises(pvm.CommandTimeout, lambda: vm.run("echo partial; sleep 20", timeout=2))
    c.check("guest-side timeout raises CommandTimeout", err is not None and "partial"
            in err.output and time.monotonic() - started < 10, err)
    c.check("channel usable after a timeout", vm.run("echo again")[0] == "again\n")
    out, rc = vm.run("/opt/host/stat -c %s /etc/pvm/kernel")
    c.check("host binary with its libraries runs", rc == 0 and out.strip().isdigit(), out)
    c.check("files= host file copy", vm.run("cmp /opt/host/copy /opt/host/stat")[1] == 0)
    c.check("files= text content", vm.read_file("/etc/pvm-selftest") == token.encode())

    # background processes
    proc = vm.spawn("echo started; sleep 1000")
    vm.wait_for(lambda: "started" in proc.log(), 10, what="spawned process output")
    c.check("spawned process alive", proc.alive())
    proc.kill()
    status = proc.wait(10)
    c.check("killed process reports its status", status == 143, status)
    quick = vm.spawn("exit 3")
    c.check("spawned exit status", quick.wait(10) == 3)
    c.check("spawned exit status 0", vm.spawn("true").wait(10) == 0)

    # a forwarded port, checked at the protocol level
    web = vm.spawn("mkdir -p /www && echo %s >/www/index.html && httpd -f -p 5000 -h /www"
                   % token, log="/tmp/httpd.log")
    vm.wait_listening(5000, timeout=30)
    url = "http://127.0.0.1:%d/index.html" % vm.host_port(5000)
    body = vm.wait_for(lambda: urllib.request.urlopen(url, timeout=5).read(), 20,
                       what="HTTP through the forwarded port")
    c.check("forwarded port reaches guest httpd", body.strip() == token.encode(), body)
    web.kill()

    if V4L2_CTL:
        out, rc = vm.run("v4l2-ctl --query-dv-timings")
        c.check("vivid HDMI input reports DV timings", rc == 0 and "1280" in out
                and "720" in out, out)


def main():
    c = Checks()
    err = _expect_raises(pvm_kernel.KernelError, lambda: pvm.VM(
        modules=["no_such_module_pvm"]).start())
    c.check("unknown module rejected before boot", err is not None
            and "no_such_module_pvm" in str(err), err)

    token = secrets.token_hex(8)
    binaries = {"/opt/host/stat": HOST_BINARY}
    if V4L2_CTL:
        binaries["/usr/bin/v4l2-ctl"] = V4L2_CTL
    vm = pvm.VM(modules=[VIVID_HDMI, "dummy_hcd", "libcomposite"],
                available_modules=["usb_f_hid"], binaries=binaries,
                files={"/etc/pvm-selftest": token, "/opt/host/copy": pathlib.Path(HOST_BINARY)},
                ports=[5000])
    try:
        with vm:
            qemu_pid = vm.proc.pid
            c.check("boot", True)
            print("     boot took %.1fs (kernel %s, %s %s)" % (
                vm.boot_seconds, vm.kernel.release, vm.kernel.package, vm.kernel.version))
            _guest_checks(vm, c, token)
        c.check("qemu gone after stop", not os.path.exists("/proc/%d" % qemu_pid))
    except Exception as e:  # noqa: BLE001 -- report any harness breakage as a failure
        c.check("selftest ran to completion", False, "%s: %s" % (type(e).__name__, e))
    if c.failed:
        print("selftest FAILED: %s" % ", ".join(c.failed))
        return 1
    print("selftest passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
