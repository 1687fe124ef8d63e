#!/usr/bin/env python3
"""Image store transfers against real servers: downloads over HTTP and HTTPS
(certificates verified), 404, DNS failure, TLS failure, cancel, a full disk
(a small tmpfs), checked for atomicity (nothing partial left) and hashes.
Usage: e2e_vmedia.py PIGLIX TOOLS_DIR CASE"""
import hashlib
import http.server
import json
import os
import shutil
import ssl
import subprocess
import sys
import threading
import time

from piglix_e2e import check, run, TestFailure

SKIP = 77


class Handler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def do_GET(self):
        if self.path.startswith("/slow/"):
            self.send_response(200)
            self.send_header("Content-Length", str(64 * 1024 * 1024))
            self.end_headers()
            chunk = b"\0" * 65536
            try:
                for _ in range(1024):
                    self.wfile.write(chunk)
                    time.sleep(0.01)
            except (BrokenPipeError, ConnectionResetError):
                pass
            return
        super().do_GET()


def serve(root, tls=None):
    handler = lambda *a, **k: Handler(*a, directory=root, **k)
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    if tls:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(*tls)
        httpd.socket = ctx.wrap_socket(httpd.socket, server_side=True)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    return httpd, httpd.server_address[1]


def ctl(env, store, *args):
    # downloads refuse loopback unless allowed: the test servers are on it
    extra = ["--allow", "127.0.0.1"] if args and args[0] == "download" else []
    r = subprocess.run([os.path.join(env.tools, "vmediactl"), store] + list(args) + extra,
                       capture_output=True, text=True, timeout=120)
    try:
        return r.returncode, json.loads(r.stdout)
    except ValueError:
        raise TestFailure("vmediactl printed no JSON: %s %s" % (r.stdout, r.stderr))


def partial_left(store):
    d = os.path.join(store, ".piglix-partial")
    return os.listdir(d) if os.path.isdir(d) else []


def setup_files(env):
    root = os.path.join(env.tmp, "www")
    os.makedirs(root)
    data = os.urandom(3 * 1024 * 1024 + 5)
    with open(os.path.join(root, "small.iso"), "wb") as f:
        f.write(data)
    return root, hashlib.sha256(data).hexdigest()


def case_download(env):
    root, sha = setup_files(env)
    httpd, port = serve(root)
    store = os.path.join(env.tmp, "store")
    rc, out = ctl(env, store, "download", "http://127.0.0.1:%d/small.iso" % port, "small.iso")
    check(rc == 0 and out["state"] == "done", "download failed: %s" % out)
    check(out["sha256"] == sha, "hash %s, want %s" % (out["sha256"], sha))
    rc, out = ctl(env, store, "download", "http://127.0.0.1:%d/small.iso" % port, "small.iso")
    check(rc != 0 and out["error"] == -2, "a second download over an existing image: %s" % out)
    rc, out = ctl(env, store, "download", "http://127.0.0.1:%d/missing.iso" % port, "missing.iso")
    check(rc != 0 and "HTTP 404" in out["message"], "404 not reported clearly: %s" % out)
    rc, out = ctl(env, store, "download", "http://no-such-host.invalid/x.iso", "dns.iso")
    check(rc != 0 and "DNS" in out["message"], "DNS failure not reported clearly: %s" % out)
    rc, out = ctl(env, store, "download", "http://127.0.0.1:%d/slow/big.iso" % port, "big.iso",
                  "--cancel-after", "1000000")
    check(rc != 0 and out["state"] == "cancelled", "cancel did not cancel: %s" % out)
    check(not partial_left(store), "partial files left: %s" % partial_left(store))
    names = [i["name"] for i in json.loads(subprocess.run(
        [os.path.join(env.tools, "vmediactl"), store, "list"], capture_output=True, text=True).stdout)]
    check(names == ["small.iso"], "store holds %s" % names)
    httpd.shutdown()


def case_download_tls(env):
    root, sha = setup_files(env)
    key, crt = os.path.join(env.tmp, "k.pem"), os.path.join(env.tmp, "c.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
                    "-nodes", "-keyout", key, "-out", crt, "-days", "1", "-subj", "/CN=127.0.0.1",
                    "-addext", "subjectAltName=IP:127.0.0.1"], check=True, capture_output=True)
    httpd, port = serve(root, (crt, key))
    store = os.path.join(env.tmp, "store")
    url = "https://127.0.0.1:%d/small.iso" % port
    rc, out = ctl(env, store, "download", url, "small.iso")
    check(rc != 0 and "TLS" in out["message"], "a self-signed certificate was accepted: %s" % out)
    check(not partial_left(store), "partial file left after a TLS failure")
    rc, out = ctl(env, store, "download", url, "small.iso", "--insecure")
    check(rc == 0 and out["sha256"] == sha, "insecure download failed: %s" % out)
    httpd.shutdown()


def in_small_tmpfs(env, script):
    """Runs script (sh) with $STORE on a 2 MiB tmpfs in a private mount namespace."""
    store = os.path.join(env.tmp, "full")
    os.makedirs(store)
    r = subprocess.run(["unshare", "-m", "sh", "-ec",
                        "mount -t tmpfs -o size=2m tmpfs \"$STORE\"; " + script],
                       env=dict(os.environ, STORE=store, CTL=os.path.join(env.tools, "vmediactl")),
                       capture_output=True, text=True, timeout=120)
    if "mount:" in r.stderr and "permission denied" in r.stderr.lower():
        print("SKIP: cannot mount a tmpfs here")
        sys.exit(SKIP)
    return r


def case_disk_full(env):
    root, _ = setup_files(env)
    httpd, port = serve(root)
    script = ('"$CTL" "$STORE" download http://127.0.0.1:%d/small.iso small.iso --allow 127.0.0.1 > "$STORE.dl" || true; '
              'head -c 3000000 /dev/urandom > /tmp/piglix-e2e-3m; '
              '"$CTL" "$STORE" upload /tmp/piglix-e2e-3m up.iso > "$STORE.up" || true; '
              '"$CTL" "$STORE" upload /tmp/piglix-e2e-3m up2.iso --announce 3000000 > "$STORE.up2" || true; '
              'ls -A "$STORE/.piglix-partial" > "$STORE.left"; ls "$STORE" > "$STORE.files"' % port)
    r = in_small_tmpfs(env, script)
    check(r.returncode == 0, "disk-full script failed: %s" % r.stderr)
    store = os.path.join(env.tmp, "full")
    for what in ("dl", "up", "up2"):
        out = json.load(open(store + "." + what))
        check(out["result"] == -5, "%s on a full disk: %s (want the no-space error)" % (what, out))
    check(open(store + ".left").read().strip() == "", "partial files left on a full disk")
    check(open(store + ".files").read().split() == [], "images left on a full disk")
    httpd.shutdown()


CASES = {name[5:]: fn for name, fn in globals().items() if name.startswith("case_")}

if __name__ == "__main__":
    sys.exit(run(CASES))
