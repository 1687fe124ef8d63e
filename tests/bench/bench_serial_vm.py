#!/usr/bin/env python3
"""The serial console's two device paths side by side, in one VM boot (a
benchmark that prints figures, not a test): the simulated server
(tests/vm/serial_sim) on a pty pair (the USB-serial adapter's stand-in) and
on /dev/ttyACM0 (piglix's gadget CDC ACM function through dummy_hcd and the
same kernel's cdc_acm), read through the web terminal's WebSocket on the
host. For each path:

  flood     the server writes --flood-kb as fast as its line takes it: bytes/s
            piglix took from the tty and bytes/s arriving at the terminal
            (what the ring could not keep is reported as lost);
  echo      a key typed in the terminal, echoed by the server: the round
            trip (host -> piglix -> tty -> server -> tty -> piglix -> host),
            --keys of them, p50 / p95 / max.

Under qemu TCG both paths are slower than on a Pi; compare them with each
other, within one run.

    bench_serial_vm.py --piglix PATH --sim PATH [--flood-kb 2048] [--keys 40]"""
import argparse
import os
import statistics
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "vm"))
sys.path.insert(0, os.path.join(HERE, "..", "e2e"))
import pvm  # noqa: E402
from test_serial import (Bmc, Sim, PASSWORD, PROMPT, STATE, WEB_PORT, config)  # noqa: E402


def measure(vm, sim, bmc, name, flood_kb, keys):
    t = bmc.terminal()
    t.wait_status(True, 30)
    t.wait_for(PROMPT, 30)
    rtts = []
    for i in range(keys):
        key, mark = b"k", len(t.out)
        started = time.monotonic()
        t.send(key)
        t.pump(lambda t: key in t.out[mark:], 10, "echo %d" % i)
        rtts.append((time.monotonic() - started) * 1000)
    total = flood_kb * 1024
    mark, lost0 = len(t.out), t.lost
    vm.check("echo 'flood %d' > %s/ctl" % (total, sim.dir))
    started = time.monotonic()
    t.pump(lambda t: len(t.out) - mark + t.lost - lost0 >= total, 300, "the flood")
    secs = time.monotonic() - started
    got = len(t.out) - mark
    t.close()
    rtts.sort()
    print("%-8s flood %d KiB in %.2f s: piglix took %.0f bytes/s from the tty, the terminal received %.0f "
          "bytes/s (%d lost: the terminal fell behind the ring)" % (
              name, flood_kb, secs, total / secs, got / secs, t.lost - lost0), flush=True)
    print("%-8s echo round trip: p50 %.1f ms, p95 %.1f ms, max %.1f ms (%d keys)" % (
        name, statistics.median(rtts), rtts[int(len(rtts) * 0.95) - 1], rtts[-1], len(rtts)), flush=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--piglix", required=True)
    ap.add_argument("--sim", required=True)
    ap.add_argument("--flood-kb", type=int, default=2048)
    ap.add_argument("--keys", type=int, default=40)
    args = ap.parse_args()
    tmp = tempfile.mkdtemp(prefix="piglix-bench-serial-")
    ipmi_port = pvm._free_port(udp=True)
    with pvm.VM(modules=["dummy_hcd", "libcomposite", "usb_f_hid", "usb_f_acm", "cdc_acm"],
                binaries=[args.piglix, args.sim],
                files={"/etc/piglix/pty.ini": config("/dev/ttyUSB-sim", ipmi_port),
                       "/etc/piglix/gadget.ini": config("gadget", ipmi_port)},
                ports={0: WEB_PORT, ipmi_port: "udp:%d" % ipmi_port}) as vm:
        vm.ipmi_port = ipmi_port
        vm.check("mkdir -p -m 700 %s" % STATE)
        vm.check("printf '%s\\n' | piglix -c /etc/piglix/pty.ini user add admin" % PASSWORD)
        sim = Sim(vm, "pty", "/dev/ttyUSB-sim", "sim-pty")
        vm.wait_for(lambda: "open 1" in sim.events(), 10, what="the simulated adapter")
        bmc = Bmc(vm, "/etc/piglix/pty.ini", tmp, "piglix-pty")
        measure(vm, sim, bmc, "pty", args.flood_kb, args.keys)
        bmc.stop()
        sim.proc.kill("TERM")
        sim = Sim(vm, "tty", "/dev/ttyACM0", "sim-acm")
        bmc = Bmc(vm, "/etc/piglix/gadget.ini", tmp, "piglix-acm")
        sim.wait_event("open 1", 30)
        measure(vm, sim, bmc, "gadget", args.flood_kb, args.keys)
        bmc.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
