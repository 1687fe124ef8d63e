#!/usr/bin/env python3
"""Wake-on-LAN end to end: `piglix atx wol` in a network namespace with two
veth links to two other namespaces, each with a UDP listener on port 9 that
captures what arrives. All addresses live only inside these namespaces.

    e2e_wol.py PIGLIX

Checks: the packet is the magic packet (6 x 0xff, the MAC 16 times, 102
bytes) to port 9 as a broadcast; [atx] wol_interface sends it out of that
link only (SO_BINDTODEVICE); without an interface, 255.255.255.255 has no
route here and the command reports the failure; a directed broadcast
(wol_address) goes where the routing table says. Needs root and `ip`
(exit 77 = skipped otherwise)."""
import json
import os
import shutil
import subprocess
import sys
import time

from piglix_e2e import TestFailure, check

MAC = "52:54:00:c0:ff:ee"
NS = {"a": "pglx-wol-a-%d" % os.getpid(), "b": "pglx-wol-b-%d" % os.getpid(),
      "c": "pglx-wol-c-%d" % os.getpid()}
# a <-> b on 192.0.2.0/24, a <-> c on 198.51.100.0/24 (documentation ranges)
LINKS = [("a", "to_b", "192.0.2.1/24", "b", "to_a", "192.0.2.2/24"),
         ("a", "to_c", "198.51.100.1/24", "c", "to_a", "198.51.100.2/24")]

LISTENER = r"""
import json, socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("0.0.0.0", 9))
s.settimeout(float(sys.argv[1]))
print("ready", flush=True)
try:
    while True:
        data, peer = s.recvfrom(2048)
        print(json.dumps({"from": peer[0], "port": peer[1], "data": data.hex()}), flush=True)
except socket.timeout:
    pass
"""


def sh(*args):
    subprocess.run(args, check=True, capture_output=True, text=True)


def setup():
    for ns in NS.values():
        sh("ip", "netns", "add", ns)
        sh("ip", "-n", ns, "link", "set", "lo", "up")
    for ns1, if1, addr1, ns2, if2, addr2 in LINKS:
        sh("ip", "link", "add", if1, "netns", NS[ns1], "type", "veth", "peer", "name", if2, "netns", NS[ns2])
        for ns, ifname, addr in ((ns1, if1, addr1), (ns2, if2, addr2)):
            sh("ip", "-n", NS[ns], "addr", "add", addr, "dev", ifname)
            sh("ip", "-n", NS[ns], "link", "set", ifname, "up")
    # veth carriers come up asynchronously; a packet sent before is dropped
    deadline = time.monotonic() + 10
    for ns1, if1, _a1, ns2, if2, _a2 in LINKS:
        for ns, ifname in ((ns1, if1), (ns2, if2)):
            while "state UP" not in subprocess.run(["ip", "-n", NS[ns], "-o", "link", "show", "dev", ifname],
                                                   capture_output=True, text=True).stdout:
                if time.monotonic() > deadline:
                    raise subprocess.CalledProcessError(1, "ip link", stderr="%s never came up" % ifname)
                time.sleep(0.05)


def teardown():
    for ns in NS.values():
        subprocess.run(["ip", "netns", "del", ns], capture_output=True)


class Listeners:
    """A capture on port 9 in namespaces b and c for one send."""

    def __init__(self, seconds=2.0):
        self.procs = {}
        for name in ("b", "c"):
            p = subprocess.Popen(["ip", "netns", "exec", NS[name], sys.executable, "-c", LISTENER, str(seconds)],
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            if p.stdout.readline().strip() != "ready":
                raise TestFailure("listener in %s did not start: %s" % (name, p.stderr.read()))
            self.procs[name] = p

    def packets(self):
        got = {}
        for name, p in self.procs.items():
            out, _err = p.communicate(timeout=30)
            got[name] = [json.loads(line) for line in out.splitlines() if line.startswith("{")]
        return got


def wol(piglix, interface="", address="255.255.255.255"):
    cmd = ["ip", "netns", "exec", NS["a"], piglix, "-o", "atx.chip=", "-o", "atx.wol_mac=" + MAC,
           "-o", "atx.wol_interface=" + interface, "-o", "atx.wol_address=" + address, "atx", "wol"]
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
    return r.returncode, r.stdout + r.stderr


def magic_ok(packet):
    want = "ff" * 6 + MAC.replace(":", "") * 16
    return packet["data"] == want and len(bytes.fromhex(packet["data"])) == 102


def run(piglix):
    listeners = Listeners()
    rc, out = wol(piglix, interface="to_c")
    got = listeners.packets()
    check(rc == 0 and "outcome=sent" in out, "wol via to_c failed (%d): %s" % (rc, out))
    check(len(got["c"]) == 1 and magic_ok(got["c"][0]), "c did not get one magic packet: %s" % got["c"])
    check(got["c"][0]["from"] == "198.51.100.1", "c's packet came from %s" % got["c"][0]["from"])
    check(got["b"] == [], "b got a packet meant for c's link: %s" % got["b"])
    print("ok: 255.255.255.255 via to_c reached only c: %d bytes from %s"
          % (len(got["c"][0]["data"]) // 2, got["c"][0]["from"]))

    listeners = Listeners()
    rc, out = wol(piglix, interface="to_b")
    got = listeners.packets()
    check(rc == 0 and len(got["b"]) == 1 and magic_ok(got["b"][0]) and got["c"] == [],
          "wol via to_b: rc %d %s; got %s" % (rc, out, got))
    print("ok: via to_b reached only b")

    listeners = Listeners(seconds=1.5)
    rc, out = wol(piglix)
    got = listeners.packets()
    check(rc == 1 and "outcome=failed" in out and "unreachable" in out.lower(),
          "with no interface and no route the command must fail: rc %d %s" % (rc, out))
    check(got == {"b": [], "c": []}, "a packet went out without a route: %s" % got)
    print("ok: no interface, no route: reported (%s)" % out.splitlines()[0])

    listeners = Listeners()
    rc, out = wol(piglix, address="192.0.2.255")
    got = listeners.packets()
    check(rc == 0 and len(got["b"]) == 1 and magic_ok(got["b"][0]) and got["c"] == [],
          "directed broadcast 192.0.2.255: rc %d %s; got %s" % (rc, out, got))
    print("ok: directed broadcast 192.0.2.255 reached b by the routing table")


def main():
    piglix = os.path.abspath(sys.argv[1])
    if os.geteuid() != 0 or not shutil.which("ip"):
        print("skipped: needs root and iproute2 for network namespaces")
        return 77
    try:
        setup()
    except subprocess.CalledProcessError as e:
        teardown()
        print("skipped: cannot make network namespaces here: %s" % (e.stderr or e))
        return 77
    started = time.monotonic()
    try:
        run(piglix)
    except TestFailure as e:
        print("FAIL: %s" % e, file=sys.stderr)
        return 1
    finally:
        teardown()
    print("PASS in %.1f s" % (time.monotonic() - started))
    return 0


if __name__ == "__main__":
    sys.exit(main())
