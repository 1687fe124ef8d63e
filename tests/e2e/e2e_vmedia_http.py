#!/usr/bin/env python3
"""Virtual media over the web API on the host (no USB gadget here: the drive
answers 503; the VM test mounts): streamed uploads with curl, progress,
duplicates, bad names, the size limit, an upload cut off halfway or
stalled, list/rename/delete, and a full disk (a tmpfs) answering 507.
Usage: e2e_vmedia_http.py PIGLIX TOOLS_DIR CASE"""
import base64
import hashlib
import json
import os
import socket
import subprocess
import sys
import time

from curl_api import curl_api
from piglix_e2e import check, run
from e2e_web import Web, PASSWORD, tls_context

SKIP = 77


def curl(w, method, path, *args, timeout=120):
    return curl_api("https://127.0.0.1:%d" % w.https, "admin", PASSWORD, method, path, *args, timeout=timeout)


def upload(w, name, path, *extra):
    return curl(w, "PUT", "/api/vmedia/images/" + name, "-T", path, *extra, timeout=300)


def state(w):
    st, js, body = curl(w, "GET", "/api/vmedia")
    check(st == 200, "GET /api/vmedia: %d %s" % (st, body))
    return js


def left_over(store):
    part = os.path.join(store, ".piglix-partial")
    return os.listdir(part) if os.path.isdir(part) else []


def start(env, store, **opts):
    w = Web(env, vmedia__enabled="yes", vmedia__dir=store, vmedia__upload_idle_s=5, **opts)
    w.add_user()
    return w.start()


def raw_put(w, name, length, send):
    """A PUT that announces length bytes and sends only send, then stalls or closes."""
    s = tls_context().wrap_socket(socket.create_connection(("127.0.0.1", w.https), timeout=10))
    auth = base64.b64encode(("admin:" + PASSWORD).encode()).decode()
    s.sendall(("PUT /api/vmedia/images/%s HTTP/1.1\r\nHost: x\r\nAuthorization: Basic %s\r\n"
               "Content-Length: %d\r\n\r\n" % (name, auth, length)).encode())
    s.sendall(send)
    return s


def case_upload_api(env):
    store = os.path.join(env.tmp, "store")
    w = start(env, store, vmedia__max_size_mb=64)
    src = os.path.join(env.tmp, "a.iso")
    data = os.urandom(24 * 1024 * 1024 + 123)
    with open(src, "wb") as f:
        f.write(data)
    sha = hashlib.sha256(data).hexdigest()
    # progress is readable while an upload runs (a slow one, limited by curl)
    slow = subprocess.Popen(["curl", "-sS", "-k", "-u", "admin:" + PASSWORD, "--limit-rate", "8M", "-T", src,
                             "-o", "/dev/null", "-w", "%{http_code}",
                             "https://127.0.0.1:%d/api/vmedia/images/slow.iso" % w.https],
                            stdout=subprocess.PIPE, text=True)
    seen = None
    for _ in range(50):
        tr = [t for t in state(w)["transfers"] if t["name"] == "slow.iso" and t["state"] == "running"]
        if tr and tr[0]["done"] > 0:
            seen = tr[0]
            break
        time.sleep(0.1)
    check(seen and seen["total"] == len(data) and seen["rate"] > 0, "no progress while uploading: %s" % seen)
    # a second upload to the same name is refused while one runs
    st, js, _ = upload(w, "slow.iso", src)
    check(st == 409, "a concurrent upload of the same name: %d %s" % (st, js))
    out, _ = slow.communicate(timeout=120)
    check(out == "201", "the slow upload: %s" % out)

    st, js, body = upload(w, "a.iso", src)
    check(st == 201 and js["sha256"] == sha and js["size"] == len(data), "upload: %d %s" % (st, body))
    with open(os.path.join(store, "a.iso"), "rb") as f:
        check(hashlib.sha256(f.read()).hexdigest() == sha, "the stored file differs from the upload")
    st, js, _ = upload(w, "a.iso", src)
    check(st == 409, "an upload over an existing image: %d %s" % (st, js))
    for bad in ("..", ".hidden", "a%2Fb", "%2e%2e"):
        st, js, _ = upload(w, bad, src, "--path-as-is")
        # libwebsockets resolves "/images/.." to "/api/vmedia" itself: not an upload, so a body
        # that is not JSON (415, refused on the headers) or too big (413)
        check(st in (400, 404) or (bad in ("..", "%2e%2e") and st in (413, 415)), "bad name %r: %d %s" % (bad, st, js))
    # names are percent-decoded once (libwebsockets does it), never twice
    small = os.path.join(env.tmp, "small.iso")
    with open(small, "wb") as f:
        f.write(b"x" * 1000)
    for sent, stored in (("a%2541.iso", "a%41.iso"), ("q%3Fz.iso", "q?z.iso"), ("sp%20ace.iso", "sp ace.iso")):
        st, js, _ = upload(w, sent, small, "--path-as-is")
        check(st == 201 and js["name"] == stored, "%s stored as %s, want %s" % (sent, js and js["name"], stored))
        st, js, _ = curl(w, "DELETE", "/api/vmedia/images/" + sent, "--path-as-is")
        check(st == 200, "delete %s: %d %s" % (sent, st, js))
    # over the size limit: refused up front by Content-Length
    big = os.path.join(env.tmp, "big.iso")
    with open(big, "wb") as f:
        f.truncate(65 * 1024 * 1024)
    st, js, _ = upload(w, "big.iso", big)
    check(st == 413, "over max_size_mb: %d %s" % (st, js))
    # without authentication
    r = subprocess.run(["curl", "-sk", "-o", "/dev/null", "-w", "%{http_code}", "-T", src,
                        "https://127.0.0.1:%d/api/vmedia/images/anon.iso" % w.https],
                       capture_output=True, text=True, timeout=60)
    check(r.stdout == "401", "an anonymous upload: %s" % r.stdout)

    # cut off halfway: nothing is kept
    s = raw_put(w, "cut.iso", 8 * 1024 * 1024, os.urandom(3 * 1024 * 1024))
    time.sleep(0.5)
    s.close()
    # stalled: dropped after upload_idle_s (5 s)
    s2 = raw_put(w, "stall.iso", 8 * 1024 * 1024, os.urandom(1024 * 1024))
    time.sleep(8)
    s2.close()
    js = state(w)
    names = [i["name"] for i in js["images"]]
    check("cut.iso" not in names and "stall.iso" not in names, "a broken upload was kept: %s" % names)
    check(left_over(store) == [], "partial files left: %s" % left_over(store))
    log = w.p.read_log()
    check("cut.iso ended by the client" in log and "stall.iso ended by the client" in log,
          "the broken uploads were not logged:\n" + log[-3000:])

    # rename, delete, in-use checks through the API
    st, js, _ = curl(w, "POST", "/api/vmedia/images/a.iso/rename", "-H", "Content-Type: application/json",
                     "-d", json.dumps({"to": "b.iso"}))
    check(st == 200 and [i["name"] for i in js["images"]] == ["b.iso", "slow.iso"], "rename: %d %s" % (st, js))
    st, js, _ = curl(w, "POST", "/api/vmedia/images/b.iso/rename", "-H", "Content-Type: application/json",
                     "-d", json.dumps({"to": "../x"}))
    check(st == 400, "rename to a bad name: %d %s" % (st, js))
    st, js, _ = curl(w, "DELETE", "/api/vmedia/images/b.iso")
    check(st == 200 and [i["name"] for i in js["images"]] == ["slow.iso"], "delete: %d %s" % (st, js))
    st, js, _ = curl(w, "DELETE", "/api/vmedia/images/b.iso")
    check(st == 404, "delete of a missing image: %d %s" % (st, js))
    st, js, _ = curl(w, "POST", "/api/vmedia/mount", "-H", "Content-Type: application/json",
                     "-d", json.dumps({"image": "slow.iso"}))
    check(st == 503 and "gadget" in js["error"], "mount without a USB gadget: %d %s" % (st, js))
    st, js, _ = curl(w, "POST", "/api/vmedia/mount", "-H", "Content-Type: application/json", "-d", "{bad")
    check(st in (400, 503), "malformed JSON: %d %s" % (st, js))
    js = state(w)
    check(js["free_bytes"] > 0 and js["total_bytes"] >= js["free_bytes"], "free space: %s" % js)
    w.stop()


def case_upload_disk_full(env):
    """piglix in a private mount namespace whose store is a 4 MiB tmpfs."""
    store = os.path.join(env.tmp, "full")
    os.makedirs(store)
    probe = subprocess.run(["unshare", "-m", "sh", "-c", "mount -t tmpfs -o size=4m tmpfs %s" % store],
                           capture_output=True, text=True)
    if probe.returncode != 0:
        print("SKIP: cannot mount a tmpfs here: %s" % probe.stderr)
        sys.exit(SKIP)
    w = Web(env, vmedia__enabled="yes", vmedia__dir=store)
    w.add_user()
    real = w.p.env.piglix
    wrapper = os.path.join(env.tmp, "in-tmpfs.sh")
    with open(wrapper, "w") as f:
        f.write("#!/bin/sh\nmount -t tmpfs -o size=4m tmpfs %s && exec %s \"$@\"\n" % (store, real))
    os.chmod(wrapper, 0o755)
    w.p.env.piglix = wrapper
    w.p.proc = None
    w.p.log = open(w.p.logpath, "w")
    w.p.proc = subprocess.Popen(["unshare", "-m", wrapper, "-c", w.p.config], stdout=w.p.log,
                                stderr=subprocess.STDOUT)
    w.p.wait_ready()
    src = os.path.join(env.tmp, "six.iso")
    with open(src, "wb") as f:
        f.write(os.urandom(6 * 1024 * 1024))
    small = os.path.join(env.tmp, "one.iso")
    with open(small, "wb") as f:
        f.write(os.urandom(1024 * 1024))
    st, js, body = upload(w, "six.iso", src)
    check(st == 507 and "full" in js["error"], "an upload bigger than the disk: %d %s" % (st, body))
    # the store still works afterwards, and nothing of the failed upload is left
    st, js, body = upload(w, "one.iso", small)
    check(st == 201, "an upload that fits after a full disk: %d %s" % (st, body))
    js = state(w)
    check([i["name"] for i in js["images"]] == ["one.iso"], "images after a full disk: %s" % js["images"])
    w.p.env.piglix = real
    w.stop()


CASES = {name[5:]: fn for name, fn in globals().items() if name.startswith("case_")}

if __name__ == "__main__":
    sys.exit(run(CASES))
