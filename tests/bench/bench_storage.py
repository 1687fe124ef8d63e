#!/usr/bin/env python3
"""The other clients during a large upload to a slow disk, side by side for
two piglix binaries in one VM boot (tests/vm/test_storage.py's set-up: the
store and [state] dir on dm-delay): MJPEG frames/s and its longest gap, API
(GET /api/info) p50/p95/max, idle and during the upload; then the same
while the drive mounts and ejects an image three times and an image is
deleted (with --mounts; the longest of those calls too). Typically the
binary before the writer thread (uploads written on the web thread), or
before the disk thread (mount records and deletes on the web thread),
against the current one. Prints figures; asserts nothing.

    tests/bench/bench_storage.py --piglix build-release/app/piglix \\
        [--baseline OLD_PIGLIX] [--delay-ms 2000] [--size-mib 24] [--runs 1] [--mounts]
"""
import argparse
import os
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "vm"))
import test_storage as ts  # noqa: E402
from capture_common import log  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--piglix", required=True)
    ap.add_argument("--baseline", help="another piglix binary to compare with (e.g. an older build)")
    ap.add_argument("--delay-ms", type=int, default=ts.DELAY_MS)
    ap.add_argument("--size-mib", type=int, default=ts.UPLOAD_MIB)
    ap.add_argument("--runs", type=int, default=1)
    ap.add_argument("--mounts", action="store_true", help="also mount, eject and delete on the slow disk")
    args = ap.parse_args()
    ts.DELAY_MS = args.delay_ms
    binaries = {"/usr/bin/piglix": os.path.abspath(args.piglix)}
    labels = [("current", "piglix")]
    if args.baseline:
        binaries["/usr/bin/piglix-baseline"] = os.path.abspath(args.baseline)
        labels.insert(0, ("baseline", "piglix-baseline"))
    tmp = tempfile.mkdtemp(prefix="piglix-bench-storage-")
    rows = []
    binaries["/usr/bin/dmsetup"] = "/usr/sbin/dmsetup"
    vm = ts.pvm.VM(modules=ts.MODULES, binaries=binaries, ports=[ts.WEB_PORT])
    with vm:
        ts.make_disks(vm)
        for run in range(args.runs):
            for label, binary in labels:
                p = ts.Piglix(vm, binary=binary)
                src, _ = ts.random_file(tmp, args.size_mib, "up.iso")
                name = "%s-%d.iso" % (label, run)
                ts.set_table(vm, "store", "delay")
                ts.set_table(vm, "state", "delay")
                try:
                    idle, during, st, js, secs = ts.measure_upload(vm, p, src, name)
                finally:
                    ts.set_table(vm, "store", "linear")
                    ts.set_table(vm, "state", "linear")
                mounts = None
                if args.mounts:
                    small, _ = ts.random_file(tmp, 1, "m.img")
                    big, _ = ts.random_file(tmp, 16, "doomed.iso")
                    doomed = "%s-%d-doomed.iso" % (label, run)
                    for n, src in (("%s-%d-m.img" % (label, run), small), (doomed, big)):
                        ts.check(p.upload(n, src)[0] == 201, "upload %s" % n)
                    vm.check("sync")
                    ts.set_table(vm, "store", "delay")
                    ts.set_table(vm, "state", "delay")
                    try:
                        m_idle, m_during, calls, _, errors = ts.measure_mounts(vm, p, "%s-%d-m.img" % (label, run), doomed)
                    finally:
                        ts.set_table(vm, "store", "linear")
                        ts.set_table(vm, "state", "linear")
                    mounts = (m_during, max(c[2] for c in calls))
                    if errors:
                        log("%s: the other clients' errors during mounts: %s" % (label, errors[:3]))
                p.stop()
                rows.append((label, idle, during, st, secs, mounts))
                log("%s run %d done (HTTP %s)" % (label, run + 1, st))
    print("\nslow disk: every write +%d ms (dm-delay); %d MiB upload with curl over HTTPS; "
          "MJPEG viewer + GET /api/info every 100 ms\n" % (args.delay_ms, args.size_mib))
    print("%-9s %-7s %8s %12s %9s %9s %9s %8s" % ("binary", "phase", "frames/s", "max gap ms", "API p50",
                                                 "API p95", "API max", "upload"))
    for label, idle, during, st, secs, mounts in rows:
        phases = [("idle", idle, ""), ("upload", during, "%.1f s" % secs)]
        if mounts:
            phases.append(("mounts", mounts[0], "call max %.0f ms" % (mounts[1] * 1000)))
        for phase, f, extra in phases:
            print("%-9s %-7s %8.1f %12.0f %9.0f %9.0f %9.0f %8s" % (
                label, phase, f["fps"], f["max_gap_ms"], f["api_p50_ms"], f["api_p95_ms"], f["api_max_ms"], extra))
    return 0


if __name__ == "__main__":
    sys.exit(main())
