#!/usr/bin/env python3
"""Serial-over-LAN throughput and latency (a benchmark that prints figures,
not a test): piglix with [serial] on one end of a pty pair (the benchmark
plays the managed server on the master, as tests/e2e/e2e_sol.py does) and
`ipmitool -I lanplus -C 17 sol activate` under a pty reading it, side by
side with ser2net 4.3 (Debian's, a raw TCP port on another pty pair) read
by a plain TCP client, in one run:

  paced     the server prints at 11520 bytes/s (115200 baud, 8N1) for
            --seconds: bytes/s arriving at the client, bytes lost;
  flood     the server prints --flood-kb as fast as the pty takes it: bytes/s
            arriving until the output stops, bytes lost (a console that
            outruns SOL loses the oldest output from piglix's ring);
  latency   one 8-byte marker printed every 100 ms (--markers of them): time
            from the write on the tty to the marker in the client's output,
            p50 / p95 / max.

    bench_sol.py --piglix PATH [--seconds 5] [--flood-kb 2048] [--markers 50]

SOL output is accumulated for the character accumulate interval (25 ms by
default) or until the send threshold (128 characters); one packet is in
flight until the client ACKs it."""
import argparse
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "e2e"))

from piglix_e2e import Env, free_port, RUNNING  # noqa: E402
from e2e_sol import Bmc, Server, Term  # noqa: E402


class SolClient:
    def __init__(self, bmc):
        self.t = Term(bmc.ipmitool_args(17) + ["sol", "activate"])
        self.t.read_until(b"SOL Session operational")
        self.t.out = b""

    def received(self):
        return self.t.out

    def pump(self, timeout):
        self.t.pump(timeout)

    def close(self):
        self.t.type(b"\r~.")
        self.t.wait()


class TcpClient:
    """ser2net's raw TCP port."""

    def __init__(self, port):
        deadline = time.monotonic() + 10
        while True:
            try:
                self.s = socket.create_connection(("127.0.0.1", port), timeout=2)
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)
        self.s.setblocking(False)
        self.out = b""
        time.sleep(0.3)

    def received(self):
        return self.out

    def pump(self, timeout):
        import select
        r, _w, _x = select.select([self.s], [], [], timeout)
        if r:
            try:
                self.out += self.s.recv(65536)
            except BlockingIOError:
                pass

    def close(self):
        self.s.close()


def drain(client, server, seconds):
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        client.pump(0.01)


def paced(client, server, seconds):
    base = len(client.received())
    rate, chunk = 11520, 576            # 50 writes a second
    sent, start = 0, time.monotonic()
    while time.monotonic() - start < seconds:
        due = start + sent / rate
        while time.monotonic() < due:
            client.pump(max(0.0, min(0.005, due - time.monotonic())))
        server.print(b"p" * chunk)
        sent += chunk
    last, last_len = time.monotonic(), len(client.received())
    while time.monotonic() - last < 1.0:
        client.pump(0.05)
        if len(client.received()) != last_len:
            last, last_len = time.monotonic(), len(client.received())
    got = len(client.received()) - base
    return got / (last - start), sent - got


def flood(client, server, kb):
    base = len(client.received())
    data = b"f" * 4096
    total, start = kb * 1024, time.monotonic()
    sent = 0
    os.set_blocking(server.master, False)
    while sent < total:
        try:
            sent += os.write(server.master, data[: min(len(data), total - sent)])
        except BlockingIOError:
            client.pump(0.001)
    os.set_blocking(server.master, True)
    last, last_len = time.monotonic(), len(client.received())
    while time.monotonic() - last < 1.5:
        client.pump(0.05)
        if len(client.received()) != last_len:
            last, last_len = time.monotonic(), len(client.received())
    got = len(client.received()) - base
    return got / (last - start), sent - got


def latency(client, server, n):
    lat = []
    for i in range(n):
        marker = b"<M%05d>" % i
        seen = len(client.received())
        t0 = time.monotonic()
        server.print(marker)
        while marker not in client.received()[seen:] and time.monotonic() - t0 < 5:
            client.pump(0.0005)
        lat.append((time.monotonic() - t0) * 1000)
        drain(client, server, 0.1)
    lat.sort()
    return statistics.median(lat), lat[int(len(lat) * 0.95) - 1], lat[-1]


def ser2net(server, tmp):
    port = free_port()
    conf = os.path.join(tmp, "ser2net.yaml")
    with open(conf, "w") as f:
        f.write("connection: &bench\n  accepter: tcp,127.0.0.1,%d\n  connector: serialdev,%s,115200n81,local\n"
                "  options:\n    kickolduser: true\n" % (port, server.path))
    p = subprocess.Popen(["ser2net", "-n", "-d", "-c", conf], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return p, port


def run_all(name, client, server, args):
    rate, lost = paced(client, server, args.seconds)
    print("%-8s paced 11520 B/s: %8.0f bytes/s delivered, %d lost" % (name, rate, lost))
    rate, lost = flood(client, server, args.flood_kb)
    print("%-8s flood %d KiB:    %8.0f bytes/s delivered, %d lost" % (name, args.flood_kb, rate, lost))
    p50, p95, mx = latency(client, server, args.markers)
    print("%-8s latency tty -> client: p50 %.1f ms, p95 %.1f ms, max %.1f ms" % (name, p50, p95, mx))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--piglix", required=True)
    ap.add_argument("--seconds", type=float, default=5)
    ap.add_argument("--flood-kb", type=int, default=2048)
    ap.add_argument("--markers", type=int, default=50)
    args = ap.parse_args()
    env = Env([sys.argv[0], args.piglix, tempfile.gettempdir(), "bench_sol"])
    try:
        server = Server()
        bmc = Bmc(env, server, log__level="warn")
        client = SolClient(bmc)
        run_all("SOL", client, server, args)
        client.close()
        bmc.p.stop()
        if subprocess.run(["sh", "-c", "command -v ser2net"], capture_output=True).returncode == 0:
            server2 = Server()
            proc, port = ser2net(server2, env.tmp)
            try:
                client = TcpClient(port)
                run_all("ser2net", client, server2, args)
                client.close()
            finally:
                proc.terminate()
                proc.wait()
        else:
            print("ser2net not installed (apt-get install ser2net): no comparison")
    finally:
        for p in RUNNING:
            if p.proc and p.proc.poll() is None:
                p.proc.kill()
    return 0


if __name__ == "__main__":
    sys.exit(main())
