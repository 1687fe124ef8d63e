#!/usr/bin/env python3
"""The smaller attacks of issue 15 (finding 8), replayed against a live
piglix: URL downloads sent to loopback directly or through a redirect
(to 127.0.0.1, ::1, 169.254.169.254); a URL's user:password@ in the log and
the API; symlinks planted in the state directory at the names the root-run
CLI writes; the CLI run as root leaving root-owned files in the daemon's
directory; a flood of RMCP+ Open Session requests evicting a login in
progress (ipmitool -I lanplus). Runs as root (the CLI cases need it)."""
import http.server
import json
import os
import socket
import subprocess
import sys
import threading
import time

import security_common  # noqa: F401  (puts tests/e2e on sys.path)
from piglix_e2e import PASSWORD, TestFailure, check, free_port
from e2e_web import Web

NOBODY = 65534
SECRET = b"the appliance's own secret\n" * 100


class Handler(http.server.BaseHTTPRequestHandler):
    """/secret.iso: bytes; /to?URL: a 302 to URL; anything else 404."""

    def do_GET(self):
        if self.path.startswith("/to?"):
            self.send_response(302)
            self.send_header("Location", self.path[4:])
            self.send_header("Content-Length", "0")
            self.end_headers()
        elif self.path.startswith("/secret.iso"):
            self.send_response(200)
            self.send_header("Content-Length", str(len(SECRET)))
            self.end_headers()
            self.wfile.write(SECRET)
        else:
            self.send_error(404)

    def log_message(self, *args):
        pass


class Server6(http.server.ThreadingHTTPServer):
    address_family = socket.AF_INET6


def serve(host):
    cls = Server6 if ":" in host else http.server.ThreadingHTTPServer
    httpd = cls((host, 0), Handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    return httpd, httpd.server_address[1]


def vmediactl(env, store, url, name, *extra):
    r = subprocess.run([os.path.join(env.tools, "vmediactl"), store, "download", url, name] + list(extra),
                       capture_output=True, text=True, timeout=55)
    try:
        return json.loads(r.stdout)
    except ValueError:
        raise TestFailure("vmediactl printed no JSON: %s %s" % (r.stdout, r.stderr))


def case_misc_url_loopback(env):
    """A URL naming the appliance itself is refused, with the reason."""
    httpd, port = serve("127.0.0.1")
    out = vmediactl(env, os.path.join(env.tmp, "store"), "http://127.0.0.1:%d/secret.iso" % port, "a.iso")
    check(out["state"] == "failed" and "loopback" in out["message"],
          "a download from 127.0.0.1 was not refused as loopback: %s" % out)
    httpd.shutdown()


def case_misc_url_redirect(env):
    """An allowed server (127.0.0.2, listed as an exception for this first
    hop only) redirects to forbidden addresses: each redirect is refused."""
    first, p1 = serve("127.0.0.2")
    target4, p4 = serve("127.0.0.1")
    target6, p6 = serve("::1")
    store = os.path.join(env.tmp, "store")
    for i, (url, cls) in enumerate([("http://127.0.0.1:%d/secret.iso" % p4, "loopback"),
                                    ("http://[::1]:%d/secret.iso" % p6, "loopback"),
                                    ("http://169.254.169.254/secret.iso", "link-local"),
                                    ("http://[::ffff:127.0.0.1]:%d/secret.iso" % p4, "loopback")]):
        out = vmediactl(env, store, "http://127.0.0.2:%d/to?%s" % (p1, url), "r%d.iso" % i,
                        "--allow", "127.0.0.2")
        check(out["state"] == "failed" and cls in out["message"],
              "a redirect to %s was not refused as %s: %s" % (url, cls, out))
    # the exception itself works: the first hop's own file downloads
    out = vmediactl(env, store, "http://127.0.0.2:%d/secret.iso" % p1, "ok.iso", "--allow", "127.0.0.2")
    check(out["state"] == "done", "the allowed server's file did not download: %s" % out)
    for h in (first, target4, target6):
        h.shutdown()


def case_misc_url_credentials(env):
    """user:password@ in a download URL shows neither in the log nor in GET /api/vmedia."""
    httpd, port = serve("127.0.0.1")
    store = os.path.join(env.tmp, "store")
    w = Web(env, vmedia__enabled="yes", vmedia__dir=store, vmedia__url_allow="127.0.0.1")
    w.add_user()
    w.start()
    w.login()
    pw = "Sekr1tPassw0rd"
    for name, path in (("ok.iso", "secret.iso"), ("missing.iso", "missing.iso")):
        st, js, _, _ = w.request("POST", "/api/vmedia/download",
                                 {"url": "http://bob:%s@127.0.0.1:%d/%s?token=Tok3nValue" % (pw, port, path),
                                  "name": name})
        check(st == 202, "download: %d %s" % (st, js))
    deadline = time.time() + 20
    while time.time() < deadline:
        st, js, raw, _ = w.request("GET", "/api/vmedia")
        if all(t["state"] != "running" for t in js.get("transfers", [])) and len(js.get("transfers", [])) == 2:
            break
        time.sleep(0.2)
    # a URL without a path: the image is not named after user:password@host
    st, js, raw2, _ = w.request("POST", "/api/vmedia/download", {"url": "http://bob:%s@127.0.0.1:%d" % (pw, port)})
    log = w.stop()
    for where, text in (("GET /api/vmedia", raw.decode()), ("the reply", raw2.decode()), ("the log", log)):
        check(pw not in text and "Tok3nValue" not in text, "the URL's secret is in %s:\n%s" % (where, text[-3000:]))
    httpd.shutdown()


def plant(state, victim, names):
    for n in names:
        os.symlink(victim, os.path.join(state, n))


def case_misc_cli_symlinks(env):
    """Symlinks at every name the root-run CLI writes or locks (the temporary
    names guessed from the next process ids) change nothing they point at."""
    w = Web(env, ipmi__enabled="yes", ipmi__listen="127.0.0.1", ipmi__port=free_port())
    state = w.p.state
    victim = os.path.join(env.tmp, "victim")
    with open(victim, "w") as f:
        f.write("do not touch\n")
    dangling = os.path.join(env.tmp, "created-by-root")
    dangling2 = os.path.join(env.tmp, "created-by-root-2")
    with open("/proc/sys/kernel/ns_last_pid") as f:
        last = int(f.read())
    pids = range(last + 1, last + 3000)
    for base in ("web.users", "ipmi.users"):
        plant(state, victim, ["%s.tmp%d" % (base, p) for p in pids])
    plant(state, victim, ["vnc.passwd.tmp"])
    w.add_user()
    r = w.user("ipmi-passwd", "admin", stdin=PASSWORD + "\n")
    check(r.returncode == 0, "ipmi-passwd: %s" % r.stderr)
    r = subprocess.run([env.piglix, "-c", w.p.config, "vnc-passwd"], input="vncpass1\n", text=True,
                       capture_output=True, timeout=30)
    with open(victim) as f:
        check(f.read() == "do not touch\n", "the CLI wrote through a planted symlink into the victim")
    check(r.returncode == 0, "vnc-passwd: %s" % r.stderr)
    # symlinks at the lock files: the CLI may refuse, but creates nothing
    for n in ("web.users.lock", "ipmi.users.lock"):
        os.unlink(os.path.join(state, n))
    plant(state, dangling, ["web.users.lock"])
    plant(state, dangling2, ["ipmi.users.lock"])
    w.user("token", "admin")
    w.user("ipmi-passwd", "admin", stdin=PASSWORD + "\n")
    check(not os.path.exists(dangling) and not os.path.exists(dangling2),
          "the CLI created a file through a planted symlink")


def case_misc_cli_owner(env):
    """Run as root on a state dir owned by the daemon's user (nobody), the
    CLI leaves files that user owns and can read."""
    check(os.geteuid() == 0, "needs root")
    w = Web(env, ipmi__enabled="yes", ipmi__listen="127.0.0.1", ipmi__port=free_port())
    state = w.p.state
    os.chmod(env.tmp, 0o711)  # nobody must reach the state dir
    os.chmod(w.p.config, 0o644)
    os.chown(state, NOBODY, NOBODY)
    w.add_user()
    r = w.user("ipmi-passwd", "admin", stdin=PASSWORD + "\n")
    check(r.returncode == 0, "ipmi-passwd: %s" % r.stderr)
    r = subprocess.run([env.piglix, "-c", w.p.config, "vnc-passwd"], input="vncpass1\n", text=True,
                       capture_output=True, timeout=30)
    check(r.returncode == 0, "vnc-passwd: %s" % r.stderr)
    bad = []
    for n in sorted(os.listdir(state)):
        st = os.lstat(os.path.join(state, n))
        if st.st_uid != NOBODY:
            bad.append("%s (uid %d)" % (n, st.st_uid))
    check(not bad, "root-owned files left in the daemon's state dir: %s" % bad)
    # the daemon's user reads them
    r = subprocess.run([env.piglix, "-c", w.p.config, "user", "list"], capture_output=True, text=True,
                       timeout=30, user=NOBODY, group=NOBODY, extra_groups=[])
    check(r.returncode == 0 and "admin" in r.stdout and "ipmi" in r.stdout,
          "the daemon's user cannot read the accounts: %s %s" % (r.stdout, r.stderr))
    # a state dir others may write is refused outright
    os.chmod(state, 0o777)
    r = w.user("token", "admin")
    check(r.returncode != 0 and "writable" in r.stderr, "a world-writable state dir was used: %s" % r.stderr)


def open_request(tag):
    """An RMCP+ Open Session Request (cipher suite 3), session id 0."""
    payload = bytes([tag, 0x04, 0, 0]) + b"\x11\x22\x33\x44" + \
        bytes([0, 0, 0, 8, 1, 0, 0, 0, 1, 0, 0, 8, 1, 0, 0, 0, 2, 0, 0, 8, 1, 0, 0, 0])
    return bytes([0x06, 0x00, 0xff, 0x07, 0x06, 0x10]) + b"\0" * 8 + len(payload).to_bytes(2, "little") + payload


def case_misc_ipmi_flood(env):
    """ipmitool logs in (several times) while other addresses flood Open
    Session requests; an established session outlives the flood too."""
    port = free_port()
    w = Web(env, ipmi__enabled="yes", ipmi__listen="127.0.0.1", ipmi__port=port)
    w.add_user()
    r = w.user("ipmi-passwd", "admin", stdin=PASSWORD + "\n")
    check(r.returncode == 0, "ipmi-passwd: %s" % r.stderr)
    w.start()
    pwfile = os.path.join(env.tmp, "ipmi.pw")
    with open(pwfile, "w") as f:
        f.write(PASSWORD)
    stop = threading.Event()
    sent = [0]

    def flood(src):
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.bind((src, 0))
        s.setblocking(False)
        n = 0
        # paced (about 2500 a second per source): a flood the daemon keeps
        # up with, so what is measured is eviction, not a full socket buffer
        while not stop.is_set():
            try:
                s.sendto(open_request(n & 0xff), ("127.0.0.1", port))
                n += 1
            except BlockingIOError:
                pass
            if n % 25 == 0:
                time.sleep(0.01)
            try:
                while True:
                    s.recv(512)
            except BlockingIOError:
                pass
        sent[0] += n
        s.close()

    threads = [threading.Thread(target=flood, args=("127.0.0.%d" % i,)) for i in (2, 3)]
    for t in threads:
        t.start()
    failures = []
    try:
        time.sleep(0.5)
        for i in range(5):
            r = subprocess.run(["ipmitool", "-I", "lanplus", "-H", "127.0.0.1", "-p", str(port), "-U", "admin",
                                "-f", pwfile, "-C", "3", "-R", "2", "-N", "1", "mc", "guid"],
                               capture_output=True, text=True, timeout=30)
            if r.returncode != 0:
                failures.append(r.stderr.strip()[-200:])
    finally:
        stop.set()
        for t in threads:
            t.join()
    log = w.stop()
    check(sent[0] > 1000, "the flood sent only %d requests" % sent[0])
    check(not failures, "%d of 5 ipmitool logins failed during a flood of %d Open Session requests: %s\n%s"
          % (len(failures), sent[0], failures[:2], log[-2000:]))


CASES = {n[5:]: f for n, f in globals().items() if n.startswith("case_")}
if __name__ == "__main__":
    sys.exit(security_common.main(CASES))
