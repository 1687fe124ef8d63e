#!/usr/bin/env python3
"""End-to-end tests of piglix's web appliance ([web]): HTTPS, accounts and
sessions, the REST API, snapshots and MJPEG, and noVNC's WebSocket bridged
into the VNC server, driven with Python's own HTTP, TLS and a small
WebSocket client written here from RFC 6455. Stdlib only.
Usage: e2e_web.py PIGLIX TOOLS_DIR CASE"""
import base64
import hashlib
import hmac
import http.client
import json
import os
import re
import socket
import ssl
import struct
import subprocess
import sys
import threading
import time

from piglix_e2e import (Piglix, check, compare, free_port, read_ppm, ref_image, dynamic_mask, run,
                        TestFailure)

W, H, FPS = 1280, 720, 30
PASSWORD = "web-e2e-pw-1"


def tls_context(minimum=ssl.TLSVersion.TLSv1_2, maximum=None):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    ctx.minimum_version = minimum
    if maximum:
        ctx.maximum_version = maximum
    return ctx


class Web:
    """piglix with [web] on; VNC on loopback without a password (the web
    session is what authenticates browsers)."""

    def __init__(self, env, **options):
        self.https = free_port()
        opts = dict(vnc__auth="none", web__enabled="yes", web__listen="127.0.0.1",
                    web__port=self.https, web__login_throttle_s=2)
        opts.update(options)
        self.p = Piglix(env, password=None, **opts)
        self.env = env
        self.cookie = None
        self.csrf = None

    def start(self):
        self.p.start()
        deadline = time.time() + 20
        while time.time() < deadline:
            try:
                self.request("GET", "/api/setup")
                return self
            except OSError:
                time.sleep(0.2)
        raise TestFailure("web port never answered:\n" + self.p.read_log())

    def user(self, *args, stdin=None):
        return subprocess.run([self.env.piglix, "-c", self.p.config, "user"] + list(args),
                              input=stdin, text=True, capture_output=True, timeout=60)

    def add_user(self, name="admin", password=PASSWORD):
        r = self.user("add", name, stdin=password + "\n")
        check(r.returncode == 0, "user add failed: %s" % r.stderr)

    def request(self, method, path, body=None, headers=None, cookie=True, csrf=True, raw=None,
                timeout=20):
        c = http.client.HTTPSConnection("127.0.0.1", self.https, context=tls_context(), timeout=timeout)
        h = {"Host": "127.0.0.1:%d" % self.https}
        if cookie and self.cookie:
            h["Cookie"] = "piglix_session=" + self.cookie
        if csrf and self.csrf and method != "GET":
            h["X-CSRF-Token"] = self.csrf
        data = raw
        if method == "POST" and body is None and raw is None:
            h["Content-Type"] = "application/json"  # as the UI does: piglix wants it on every POST
        if body is not None:
            data = json.dumps(body).encode()
            h["Content-Type"] = "application/json"
        h.update(headers or {})
        c.request(method, path, body=data, headers=h)
        r = c.getresponse()
        payload = r.read()
        c.close()
        m = re.search(r"piglix_session=([0-9a-f]*)", r.getheader("Set-Cookie") or "")
        if m and m.group(1):
            self.cookie = m.group(1)
        js = None
        if (r.getheader("Content-Type") or "").startswith("application/json") and payload:
            js = json.loads(payload)
        return r.status, js, payload, r

    def login(self, name="admin", password=PASSWORD, totp=None):
        body = {"name": name, "password": password}
        if totp:
            body["totp"] = totp
        st, js, _, _ = self.request("POST", "/api/login", body, cookie=False)
        check(st == 200, "login as %s: %d %s" % (name, st, js))
        self.csrf = js["csrf"]
        return js

    def stop(self):
        return self.p.stop()


def expect(got, status, what):
    check(got[0] == status, "%s: want %d, got %d %s" % (what, status, got[0], got[1] or got[2][:200]))
    return got


# ---- a WebSocket client (RFC 6455), enough for binary RFB ----

class WebSocket:
    def __init__(self, port, cookie=None, origin="default", path="/api/vnc", auth=None):
        raw = socket.create_connection(("127.0.0.1", port), timeout=10)
        self.s = tls_context().wrap_socket(raw)
        key = base64.b64encode(os.urandom(16)).decode()
        lines = ["GET %s HTTP/1.1" % path, "Host: 127.0.0.1:%d" % port, "Upgrade: websocket",
                 "Connection: Upgrade", "Sec-WebSocket-Key: " + key, "Sec-WebSocket-Version: 13",
                 "Sec-WebSocket-Protocol: binary"]
        if origin == "default":
            origin = "https://127.0.0.1:%d" % port
        if origin:
            lines.append("Origin: " + origin)
        if cookie:
            lines.append("Cookie: piglix_session=" + cookie)
        if auth:
            lines.append("Authorization: " + auth)
        self.s.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
        head = b""
        while b"\r\n\r\n" not in head:
            chunk = self.s.recv(4096)
            if not chunk:
                break
            head += chunk
        status = head.split(b"\r\n", 1)[0]
        self.ok = b" 101 " in status
        self.buf = head.split(b"\r\n\r\n", 1)[1] if self.ok else b""
        self.closed = False

    def send(self, data):
        mask = os.urandom(4)
        n = len(data)
        hdr = bytes([0x82])
        if n < 126:
            hdr += bytes([0x80 | n])
        elif n < 65536:
            hdr += bytes([0x80 | 126]) + struct.pack(">H", n)
        else:
            hdr += bytes([0x80 | 127]) + struct.pack(">Q", n)
        self.s.sendall(hdr + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(data)))

    def _fill(self, n):
        while len(self.buf) < n:
            chunk = self.s.recv(65536)
            if not chunk:
                raise EOFError("connection closed")
            self.buf += chunk

    def frame(self):
        self._fill(2)
        op, ln = self.buf[0] & 15, self.buf[1] & 127
        off = 2
        if ln == 126:
            self._fill(4)
            ln, off = struct.unpack(">H", self.buf[2:4])[0], 4
        elif ln == 127:
            self._fill(10)
            ln, off = struct.unpack(">Q", self.buf[2:10])[0], 10
        self._fill(off + ln)
        payload, self.buf = self.buf[off:off + ln], self.buf[off + ln:]
        if op == 8:
            self.closed = True
            raise EOFError("close frame %r" % payload[2:])
        return op, payload

    def read(self, n):
        """n bytes of the RFB stream (across messages)."""
        out = b""
        while len(out) < n:
            if getattr(self, "pending", b""):
                take = self.pending[:n - len(out)]
                self.pending = self.pending[len(take):]
                out += take
                continue
            op, payload = self.frame()
            if op in (1, 2, 0):
                self.pending = payload
        return out

    def close(self):
        try:
            self.s.close()
        except OSError:
            pass


def rfb_handshake(ws):
    """Version, security None, ClientInit; returns (width, height, name)."""
    ver = ws.read(12)
    check(ver == b"RFB 003.008\n", "RFB version over the WebSocket: %r" % ver)
    ws.send(b"RFB 003.008\n")
    n = ws.read(1)[0]
    types = ws.read(n)
    check(1 in types and 2 not in types, "a web session must get security None only, got %r" % list(types))
    ws.send(b"\x01")
    check(ws.read(4) == b"\0\0\0\0", "security result not OK")
    ws.send(b"\x01")  # shared
    w, h = struct.unpack(">HH", ws.read(4))
    ws.read(16)
    nlen = struct.unpack(">I", ws.read(4))[0]
    return w, h, ws.read(nlen)


# ---- cases ----

def case_setup_flow(env):
    """No account: only the set-up page works, with the token from the log."""
    w = Web(env).start()
    st, js, _, _ = w.request("GET", "/api/setup")
    check(js == {"needed": True}, "setup needed: %s" % js)
    expect(w.request("GET", "/api/info"), 403, "API without any account")
    m = re.search(r"set-up token ([0-9a-f]{32})", w.p.read_log())
    check(m, "no set-up token in the log")
    token = m.group(1)
    body = {"token": "0" * 32, "name": "admin", "password": PASSWORD}
    expect(w.request("POST", "/api/setup", body), 403, "wrong set-up token")
    body["token"] = token
    body["password"] = "short"
    expect(w.request("POST", "/api/setup", body), 422, "short password")
    body["password"] = PASSWORD
    expect(w.request("POST", "/api/setup", body, headers={"Origin": "https://evil.example"}), 403,
           "cross-origin set-up")
    st, js, _, _ = expect(w.request("POST", "/api/setup", body), 201, "set-up with the token")
    check(js["name"] == "admin" and len(js["csrf"]) == 64 and w.cookie, "set-up logs in: %s" % js)
    expect(w.request("GET", "/api/info"), 200, "info after set-up")
    expect(w.request("POST", "/api/setup", body), 409, "second set-up")
    check(w.request("GET", "/api/setup")[1] == {"needed": False}, "set-up still offered")
    log = w.stop()
    check(log.count(token) == 1, "the set-up token was logged more than once")
    check(PASSWORD not in log, "a password reached the log")
    check("admin@127.0.0.1: first account created" in log, "set-up not logged")
    mode = os.stat(os.path.join(w.p.state, "web.users")).st_mode & 0o777
    check(mode == 0o600, "web.users mode %o" % mode)


def case_user_cli(env):
    """`piglix user` works while the daemon runs; deleting ends sessions."""
    w = Web(env).start()
    w.add_user("admin")
    r = w.user("add", "admin", stdin=PASSWORD + "\n")
    check(r.returncode != 0, "adding an existing account succeeded")
    r = w.user("add", "Bad:Name", stdin=PASSWORD + "\n")
    check(r.returncode != 0, "a bad name was accepted")
    r = w.user("add", "ops", stdin="short\n")
    check(r.returncode != 0, "a short password was accepted")
    w.add_user("ops", "ops-password-9")
    r = w.user("list")
    check(r.stdout.split() == ["admin", "admin", "ops", "admin"], "user list: %r" % r.stdout)
    time.sleep(1.5)  # the daemon re-reads the file within a second
    w.login("ops", "ops-password-9")
    st, js, _, _ = expect(w.request("GET", "/api/info"), 200, "ops' session")
    check(js["you"] == "ops", "info names the caller: %s" % js)
    r = w.user("passwd", "ops", stdin="ops-password-10\n")
    check(r.returncode == 0, "passwd: %s" % r.stderr)
    r = w.user("token", "ops")
    token = r.stdout.strip()
    check(r.returncode == 0 and re.fullmatch(r"[0-9a-f]{64}", token), "token: %r %s" % (r.stdout, r.stderr))
    time.sleep(1.5)
    expect(w.request("GET", "/api/info", cookie=False, headers={"Authorization": "Bearer " + token}), 200,
           "API token")
    expect(w.request("GET", "/api/info", cookie=False,
                     headers={"Authorization": "Bearer " + "0" * 64}), 401, "wrong API token")
    basic = base64.b64encode(b"ops:ops-password-10").decode()
    expect(w.request("GET", "/api/metrics", cookie=False, headers={"Authorization": "Basic " + basic}), 200,
           "HTTP Basic")
    r = w.user("del", "ops")
    check(r.returncode == 0, "del: %s" % r.stderr)
    time.sleep(1.5)
    expect(w.request("GET", "/api/info"), 401, "session of a deleted account")
    expect(w.request("GET", "/api/info", cookie=False, headers={"Authorization": "Bearer " + token}), 401,
           "token of a deleted account")
    log = w.stop()
    check(token not in log and "ops-password" not in log, "a secret reached the log")
    with open(os.path.join(w.p.state, "web.users")) as f:
        text = f.read()
    check("admin:$y$" in text, "passwords are not yescrypt hashes: %r" % text[:200])


def case_login_throttle(env):
    """Wrong passwords are refused; repeated failures get growing delays,
    even for the right password; then it works again."""
    w = Web(env, web__login_fail_limit=3, web__login_throttle_s=2).start()
    w.add_user()
    time.sleep(1.2)
    for i in range(3):
        st, js, _, _ = expect(w.request("POST", "/api/login", {"name": "admin", "password": "nope%d" % i}),
                              401, "wrong password %d" % i)
        check(w.cookie is None, "a failed login set a cookie")
    st, js, _, r = expect(w.request("POST", "/api/login", {"name": "admin", "password": PASSWORD}), 429,
                          "right password while throttled")
    check(int(r.getheader("Retry-After")) >= 1 and js["retry_after"] >= 1, "no Retry-After")
    time.sleep(2.2)
    expect(w.request("POST", "/api/login", {"name": "admin", "password": "again"}), 401, "after the wait")
    st, js, _, r = expect(w.request("POST", "/api/login", {"name": "admin", "password": PASSWORD}), 429,
                          "throttled again")
    check(int(r.getheader("Retry-After")) >= 3, "the delay did not grow: %s" % r.getheader("Retry-After"))
    time.sleep(int(r.getheader("Retry-After")) + 0.3)
    w.login()
    log = w.stop()
    check(log.count("admin@127.0.0.1: login failed") == 4, "failures not logged with account and address")
    check("too many failed logins" in log, "throttling not logged")


def case_csrf_and_errors(env):
    w = Web(env).start()
    w.add_user()
    time.sleep(1.2)
    expect(w.request("GET", "/api/info"), 401, "no session")
    w.login()
    expect(w.request("POST", "/api/hid/combo", {"combo": "ctrl+alt+delete"}, csrf=False), 403,
           "state change without the CSRF token")
    expect(w.request("POST", "/api/hid/combo", {"combo": "ctrl+alt+delete"},
                     headers={"X-CSRF-Token": "f" * 64}), 403, "wrong CSRF token")
    st, js, _, _ = expect(w.request("POST", "/api/hid/combo", {"combo": "ctrl+alt+delete"}), 503,
                          "HID without a backend")
    check(js["error"] == "HID not configured", "503 message: %s" % js)
    expect(w.request("POST", "/api/hid/combo", raw=b"{not json", headers={"Content-Type": "application/json"}),
           400, "bad JSON")
    expect(w.request("POST", "/api/login", raw=b"name=a&password=b",
                     headers={"Content-Type": "application/x-www-form-urlencoded"}), 415, "form post")
    st, js, _, _ = expect(w.request("POST", "/api/login", {"name": 5, "password": "x"}), 422, "wrong type")
    check("must be a string" in js["error"], "422 message: %s" % js)
    expect(w.request("POST", "/api/login", {"name": "admin", "password": "x"},
                     headers={"Origin": "https://evil.example"}), 403, "cross-origin login")
    big = b"{\"text\":\"" + b"a" * 70000 + b"\"}"
    expect(w.request("POST", "/api/hid/paste", raw=big, headers={"Content-Type": "application/json"}), 413,
           "oversize body")
    # ATX without a board: the state says so, actions are 503
    st, js, _, _ = expect(w.request("GET", "/api/atx"), 200, "ATX state")
    check(js == {"configured": False}, "ATX state: %s" % js)
    st, js, _, _ = expect(w.request("POST", "/api/atx/reset"), 503, "ATX reset without a board")
    check(js["error"] == "ATX not configured", "ATX 503 message: %s" % js)
    expect(w.request("POST", "/api/atx/reset", csrf=False), 403, "ATX reset without CSRF")
    expect(w.request("POST", "/api/atx/explode"), 404, "unknown ATX action")
    expect(w.request("GET", "/api/atx/reset"), 405, "ATX action by GET")
    expect(w.request("GET", "/api/nothing"), 404, "unknown endpoint")
    expect(w.request("GET", "/api/login"), 405, "wrong method")
    # libwebsockets folds "/../" itself, piglix refuses what is left: never the file
    for path in ("/../../etc/passwd", "/%2e%2e/%2e%2e/etc/passwd", "/novnc/..%2f..%2f..%2fetc/passwd",
                 "/novnc/%2e%2e/%2e%2e/%2e%2e/etc/passwd", "/..%5c..%5cetc/passwd"):
        st, _, body, _ = w.request("GET", path)
        check(st in (400, 404) and b"root:" not in body, "%s: %d" % (path, st))
    st, _, body, r = expect(w.request("GET", "/"), 200, "the UI page")
    check(b"app.js" in body and "frame-ancestors 'none'" in r.getheader("Content-Security-Policy"),
          "page or its security headers missing")
    expect(w.request("GET", "/novnc/core/rfb.js"), 200, "noVNC from [web] novnc")
    # logout really ends the session
    expect(w.request("POST", "/api/logout", csrf=False), 403, "logout without CSRF")
    old = w.cookie
    st, _, _, r = expect(w.request("POST", "/api/logout"), 200, "logout")
    check("Max-Age=0" in r.getheader("Set-Cookie"), "logout does not clear the cookie")
    w.cookie = old
    expect(w.request("GET", "/api/info"), 401, "the old cookie after logout")
    w.stop()


def case_tls(env):
    """TLS 1.2+ only; a self-signed ECDSA P-256 certificate with the host's
    names and addresses, kept under [state] dir; HTTP only redirects."""
    http_port = free_port()
    w = Web(env, web__http_port=http_port).start()
    import warnings
    warnings.simplefilter("ignore", DeprecationWarning)
    for v in (ssl.TLSVersion.TLSv1, ssl.TLSVersion.TLSv1_1):
        try:
            ctx = tls_context(minimum=v, maximum=v)
            ctx.set_ciphers("ALL:@SECLEVEL=0")
            with ctx.wrap_socket(socket.create_connection(("127.0.0.1", w.https), timeout=5)):
                raise TestFailure("%s was accepted" % v)
        except (ssl.SSLError, ConnectionResetError):
            pass
    for v in (ssl.TLSVersion.TLSv1_2, ssl.TLSVersion.TLSv1_3):
        with tls_context(minimum=v, maximum=v).wrap_socket(socket.create_connection(("127.0.0.1", w.https))) as s:
            check(s.version() in ("TLSv1.2", "TLSv1.3"), "version %s" % s.version())
    cert = os.path.join(w.p.state, "web-cert.pem")
    key = os.path.join(w.p.state, "web-key.pem")
    check(os.stat(key).st_mode & 0o777 == 0o600, "key file not 0600")
    text = subprocess.run(["openssl", "x509", "-in", cert, "-noout", "-text"], capture_output=True,
                          text=True).stdout
    check("prime256v1" in text or "P-256" in text, "not a P-256 key:\n" + text[:600])
    check("DNS:localhost" in text and "IP Address:127.0.0.1" in text, "SAN lacks localhost/127.0.0.1")
    c = http.client.HTTPConnection("127.0.0.1", http_port, timeout=5)
    c.request("GET", "/api/info", headers={"Host": "piglix.test"})
    r = c.getresponse()
    check(r.status == 301 and r.getheader("Location") == "https://piglix.test:%d/api/info" % w.https,
          "redirect: %d %s" % (r.status, r.getheader("Location")))
    w.stop()
    # the same certificate after a restart
    before = open(cert).read()
    w2 = Web(env)
    w2.p.state = w.p.state
    w2.p.write_config(state__dir=w.p.state, web__port=w2.https)
    w2.start()
    w2.stop()
    check(open(cert).read() == before, "the certificate changed across a restart")


def jpeg_size(data):
    check(data[:2] == b"\xff\xd8", "not a JPEG")
    i = 2
    while i < len(data):
        marker, ln = data[i + 1], struct.unpack(">H", data[i + 2:i + 4])[0]
        if marker in (0xC0, 0xC1, 0xC2):
            h, w = struct.unpack(">HH", data[i + 5:i + 9])
            return w, h
        i += 2 + ln
    raise TestFailure("no SOF in the JPEG")


def case_snapshot_stream_metrics(env):
    w = Web(env).start()
    w.add_user()
    time.sleep(1.2)
    w.login()
    st, _, jpg, r = expect(w.request("GET", "/api/snapshot.jpg"), 200, "snapshot")
    check(r.getheader("Content-Type") == "image/jpeg" and jpeg_size(jpg) == (W, H), "snapshot size")
    path = os.path.join(env.tmp, "snap.jpg")
    with open(path, "wb") as f:
        f.write(jpg)
    ppm = os.path.join(env.tmp, "snap.ppm")
    subprocess.run([env.imgtool, "jpeg2ppm", path, ppm], check=True, timeout=30)
    a = ref_image(env, "bios", W, H, FPS, 0)
    mask = dynamic_mask(a, *[ref_image(env, "bios", W, H, FPS, f) for f in (15, 45, FPS * 61 + 15)])
    psnr, _ = compare(read_ppm(ppm), a, mask)
    check(psnr >= 30, "snapshot differs from the source: PSNR %.1f dB" % psnr)
    # MJPEG: multipart parts, each a whole JPEG, more than one within 3 s
    c = http.client.HTTPSConnection("127.0.0.1", w.https, context=tls_context(), timeout=10)
    c.request("GET", "/api/stream.mjpg", headers={"Cookie": "piglix_session=" + w.cookie})
    r = c.getresponse()
    check(r.status == 200 and "multipart/x-mixed-replace" in r.getheader("Content-Type"), "stream headers")
    boundary = r.getheader("Content-Type").split("boundary=")[1]
    frames, last = 0, 0.0
    t0 = time.time()
    # the stream outlives libwebsockets' transaction timeouts (it once ended after 5 s)
    while time.time() - t0 < 7.5:
        line = r.fp.readline().strip()
        if not line:
            continue
        check(line == b"--" + boundary.encode(), "boundary: %r" % line)
        hdrs = {}
        while True:
            hl = r.fp.readline().strip()
            if not hl:
                break
            k, v = hl.decode().split(":", 1)
            hdrs[k.lower()] = v.strip()
        data = r.fp.read(int(hdrs["content-length"]))
        check(jpeg_size(data) == (W, H), "stream frame size")
        frames += 1
        last = time.time() - t0
    check(frames >= 3 and last > 6, "stream gave %d frames, the last %.1f s after the start" % (frames, last))
    c.close()
    st, _, text, r = expect(w.request("GET", "/api/metrics"), 200, "metrics")
    text = text.decode()
    check(r.getheader("Content-Type").startswith("text/plain; version=0.0.4"), "metrics content type")
    for name in ("piglix_capture_width 1280", "piglix_web_logins_total{result=\"ok\"} 1",
                 "piglix_web_snapshots_total", "# TYPE piglix_vnc_clients gauge"):
        check(name in text, "metrics lack %s" % name)
    check(re.search(r"^piglix_web_stream_frames_total (\d+)", text, re.M).group(1) != "0", "no stream frames counted")
    st, js, _, _ = expect(w.request("GET", "/api/info"), 200, "info")
    check(js["resolution"] == {"width": W, "height": H} and js["signal"] == "ok" and js["fps"] > 10,
          "info: %s" % js)
    check(js["hid"]["configured"] is False and js["media"] == {"configured": False}, "info: %s" % js)
    w.stop()


def case_websocket(env):
    """noVNC's WebSocket: RFB from the same VNC server, authenticated by the
    session cookie and the Origin; logout closes it."""
    w = Web(env).start()
    w.add_user()
    time.sleep(1.2)
    w.login()
    for what, kw in (("no cookie", dict()), ("foreign origin", dict(cookie=w.cookie, origin="https://evil.example")),
                     ("no origin", dict(cookie=w.cookie, origin=None)),
                     ("bad cookie", dict(cookie="0" * 64)),
                     ("other path", dict(cookie=w.cookie, path="/api/other"))):
        ws = WebSocket(w.https, **kw)
        check(not ws.ok, "WebSocket with %s was accepted" % what)
        ws.close()
    ws = WebSocket(w.https, cookie=w.cookie)
    check(ws.ok, "WebSocket refused:\n" + w.p.read_log()[-2000:])
    width, height, name = rfb_handshake(ws)
    check((width, height) == (W, H), "ServerInit %dx%d" % (width, height))
    # SetEncodings raw, a full update request, a key and a pointer event
    ws.send(struct.pack(">BxHi", 2, 1, 0))
    ws.send(struct.pack(">BBHHHH", 3, 0, 0, 0, W, H))
    ws.send(struct.pack(">BBxxI", 4, 1, 0x61) + struct.pack(">BBxxI", 4, 0, 0x61))
    ws.send(struct.pack(">BBHH", 5, 1, 10, 20))
    hdr = ws.read(4)
    check(hdr[0] == 0, "expected a FramebufferUpdate, got type %d" % hdr[0])
    nrects = struct.unpack(">H", hdr[2:4])[0]
    total = blue = 0
    for _ in range(nrects):
        x, y, rw, rh, enc = struct.unpack(">HHHHi", ws.read(12))
        check(enc == 0, "raw asked, got encoding %d" % enc)
        px = ws.read(rw * rh * 4)
        total += rw * rh
        # the server's own format: bytes R, G, B, X
        blue += sum(1 for i in range(0, len(px), 4 * 7) if px[i + 2] > 120 and px[i] < 60 and px[i + 1] < 60)
    check(total >= W * H, "the update covers %d pixels" % total)
    check(blue * 7 > total * 0.5, "the bios picture is not mostly blue (%d of %d sampled)" % (blue, total // 7))
    st, js, _, _ = w.request("GET", "/api/info")
    check(js["clients"]["web"] == 1 and js["clients"]["web_viewers"][0]["name"] == "admin",
          "info does not list the viewer: %s" % js["clients"])
    expect(w.request("POST", "/api/logout"), 200, "logout")
    t0 = time.time()
    try:
        while time.time() - t0 < 5:
            ws.frame()
        raise TestFailure("the WebSocket stayed open after logout")
    except (EOFError, OSError, ssl.SSLError):
        pass
    check(time.time() - t0 < 3, "the WebSocket closed only after %.1f s" % (time.time() - t0))
    log = w.stop()
    m = re.search(r"input events: (\d+) keys, (\d+) scancodes, (\d+) pointer", log)
    check(m and int(m.group(1)) >= 2 and int(m.group(3)) >= 1, "input did not reach the HID path: %s" %
          (m.group(0) if m else "no statistics"))
    check("authenticated by the web session" in log and "session ended: closing its viewer" in log,
          "bridge/logout not logged")


def case_websocket_bad_rfb(env):
    """A viewer sending what is not RFB is cut off at the bridge; the VNC
    server and other viewers go on."""
    w = Web(env).start()
    w.add_user()
    time.sleep(1.2)
    w.login()
    good = WebSocket(w.https, cookie=w.cookie)
    rfb_handshake(good)
    bad = WebSocket(w.https, cookie=w.cookie)
    rfb_handshake(bad)
    bad.send(bytes([200, 1, 2, 3]))  # no such client message type
    try:
        t0 = time.time()
        while time.time() - t0 < 5:
            bad.frame()
        raise TestFailure("a bad RFB message did not close the WebSocket")
    except (EOFError, OSError, ssl.SSLError):
        pass
    wrong = WebSocket(w.https, cookie=w.cookie)
    check(wrong.read(12) == b"RFB 003.008\n", "no version")
    wrong.send(b"RFB 003.003\n")  # the bridge answered 3.8 for it already
    try:
        wrong.frame()
        raise TestFailure("a viewer answering another RFB version was not closed")
    except (EOFError, OSError, ssl.SSLError):
        pass
    good.send(struct.pack(">BxHi", 2, 1, 0) + struct.pack(">BBHHHH", 3, 0, 0, 0, 64, 64))
    check(good.read(1) == b"\0", "the other viewer stopped getting updates")
    log = w.stop()
    check("viewer sent a bad RFB message" in log and "does not speak RFB 3.8" in log, "not logged")


def case_slow_clients(env):
    """A browser that never reads (WebSocket and MJPEG) stalls nothing: the
    API still answers quickly, and the VNC server keeps serving."""
    w = Web(env, capture__scenario="motion").start()
    w.add_user()
    time.sleep(1.2)
    w.login()
    stuck = []
    for _ in range(2):
        ws = WebSocket(w.https, cookie=w.cookie)
        check(ws.ok, "WebSocket refused")
        rfb_handshake(ws)
        ws.send(struct.pack(">BxHi", 2, 1, 0))  # raw: the biggest updates
        for _ in range(50):
            ws.send(struct.pack(">BBHHHH", 3, 1, 0, 0, W, H))
        stuck.append(ws)
        raw = socket.create_connection(("127.0.0.1", w.https))
        s = tls_context().wrap_socket(raw)
        s.sendall(("GET /api/stream.mjpg HTTP/1.1\r\nHost: x\r\nCookie: piglix_session=%s\r\n\r\n" % w.cookie).encode())
        stuck.append(s)
    time.sleep(3)
    worst = 0
    for _ in range(20):
        t0 = time.time()
        expect(w.request("GET", "/api/info"), 200, "info with stuck clients")
        worst = max(worst, time.time() - t0)
    check(worst < 1.0, "the API took %.2f s with stuck clients" % worst)
    jpg = w.request("GET", "/api/snapshot.jpg")
    check(jpg[0] == 200, "snapshot with stuck clients")
    rss = int(open("/proc/%d/status" % w.p.proc.pid).read().split("VmRSS:")[1].split()[0])
    print("latency worst %.3f s, RSS %d MiB" % (worst, rss // 1024))
    for s in stuck:
        s.close() if hasattr(s, "close") else None
    w.stop()


def totp(secret_b32, t):
    key = base64.b32decode(secret_b32 + "=" * (-len(secret_b32) % 8))
    mac = hmac.new(key, struct.pack(">Q", int(t) // 30), hashlib.sha1).digest()
    off = mac[-1] & 15
    return "%06d" % ((struct.unpack(">I", mac[off:off + 4])[0] & 0x7FFFFFFF) % 1000000)


def case_totp(env):
    w = Web(env, web__login_fail_limit=10).start()  # three failures below, each counted
    w.add_user()
    time.sleep(1.2)
    w.login()
    st, js, _, _ = expect(w.request("POST", "/api/totp/setup"), 200, "TOTP set-up")
    secret = js["secret"]
    check(js["uri"].startswith("otpauth://totp/piglix:admin?secret=" + secret), "otpauth URI: %s" % js["uri"])
    expect(w.request("POST", "/api/totp/enable", {"code": "000000" if totp(secret, time.time()) != "000000" else "111111"}),
           422, "wrong first code")
    now = time.time()
    expect(w.request("POST", "/api/totp/enable", {"code": totp(secret, now)}), 200, "enable")
    st, js, _, _ = expect(w.request("POST", "/api/login", {"name": "admin", "password": PASSWORD}, cookie=False),
                          401, "login without a code")
    # the right password alone is answered as a wrong one (no oracle)
    st, wrong, _, _ = expect(w.request("POST", "/api/login", {"name": "admin", "password": "wrong-pw-1"},
                                       cookie=False), 401, "wrong password")
    check(js == wrong and "totp_required" not in js, "a right password without code is told apart: %s" % js)
    # the code just used is refused (replay); the next step's code works
    expect(w.request("POST", "/api/login", {"name": "admin", "password": PASSWORD, "totp": totp(secret, now)},
                     cookie=False), 401, "replayed code")
    w.login(totp=totp(secret, now + 30))
    basic = base64.b64encode(("admin:" + PASSWORD).encode()).decode()
    expect(w.request("GET", "/api/info", cookie=False, headers={"Authorization": "Basic " + basic}), 401,
           "Basic for a TOTP account")
    log = w.stop()
    check(secret not in log, "the TOTP secret reached the log")
    check("TOTP turned on" in log, "TOTP change not logged")


CASES = {name[5:]: fn for name, fn in globals().items() if name.startswith("case_")}

if __name__ == "__main__":
    sys.exit(run(CASES))
