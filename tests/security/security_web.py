#!/usr/bin/env python3
"""The web doors, attacked: listeners that bind more than configured (web
and IPMI), cross-site state changes riding on HTTP Basic (or any other
credential), request bodies buffered before authentication, and URL
schemes that turned client input into a server error.
Usage: security_web.py PIGLIX TOOLS_DIR CASE (or --list)"""
import base64
import errno
import http.client
import json
import os
import re
import socket
import ssl
import sys
import threading
import time

import security_common  # puts tests/e2e on sys.path
from piglix_e2e import check, free_port, TestFailure  # noqa: E402
from e2e_web import Web, WebSocket, expect, tls_context, PASSWORD  # noqa: E402

EVIL = "https://evil.example"
BASIC = "Basic " + base64.b64encode(("admin:" + PASSWORD).encode()).decode()


# ---- listeners ----

def other_addresses():
    """This host's non-loopback addresses (v4, v6), for "all interfaces" checks."""
    v4 = v6 = None
    try:
        with open("/proc/net/if_inet6") as f:
            for line in f:
                hexa, scope = line.split()[0], line.split()[3]
                if scope == "00":  # global
                    v6 = ":".join(hexa[i:i + 4] for i in range(0, 32, 4))
                    break
    except OSError:
        pass
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        s.connect(("192.0.2.1", 9))  # no packet is sent: routing picks the source address
        a = s.getsockname()[0]
        v4 = a if not a.startswith("127.") else None
    except OSError:
        pass
    finally:
        s.close()
    return v4, v6


def tcp_answers(addr, port):
    fam = socket.AF_INET6 if ":" in addr else socket.AF_INET
    s = socket.socket(fam, socket.SOCK_STREAM)
    s.settimeout(3)
    try:
        s.connect((addr, port))
        return True
    except OSError as e:
        check(e.errno in (errno.ECONNREFUSED, errno.EADDRNOTAVAIL, errno.ENETUNREACH),
              "connect to [%s]:%d: %s" % (addr, port, e))
        return False
    finally:
        s.close()


# Get Channel Authentication Capabilities (IPMI 1.5 session, no auth).
IPMI_PING = bytes.fromhex("0600ff07" "00" "00000000" "00000000" "09" "20 18 c8 81 00 38 8e 04 b5".replace(" ", ""))


def udp_answers(addr, port):
    fam = socket.AF_INET6 if ":" in addr else socket.AF_INET
    s = socket.socket(fam, socket.SOCK_DGRAM)
    s.settimeout(1.5)
    try:
        s.sendto(IPMI_PING, (addr, port))
        data, _ = s.recvfrom(512)
        return len(data) > 0
    except OSError:
        return False
    finally:
        s.close()


def listen_case(env, listen, must, must_not, logged):
    """Starts web (and IPMI) on listen; addresses in must answer, those in
    must_not do not; the log names what was bound."""
    ipmi = free_port()
    w = Web(env, web__listen=listen, ipmi__enabled="yes", ipmi__listen=listen, ipmi__port=ipmi)
    w.p.start(expect_ready=True)
    deadline = time.time() + 20
    while time.time() < deadline and not tcp_answers(must[0], w.https):
        time.sleep(0.2)
    for a in must:
        check(tcp_answers(a, w.https), "listen = %s: HTTPS on [%s] does not answer" % (listen, a))
        check(udp_answers(a, ipmi), "listen = %s: IPMI on [%s] does not answer" % (listen, a))
    for a in must_not:
        check(not tcp_answers(a, w.https), "listen = %s: HTTPS answers on [%s]" % (listen, a))
        check(not udp_answers(a, ipmi), "listen = %s: IPMI answers on [%s]" % (listen, a))
    log = w.stop()
    for line in logged(w.https, ipmi):
        check(line in log, "listen = %s: the log does not say %r:\n%s" % (listen, line, log[-3000:]))


def case_web_listen_ipv4_loopback(env):
    """listen = 127.0.0.1 once bound [::] (every interface, both families)."""
    v4, v6 = other_addresses()
    listen_case(env, "127.0.0.1", ["127.0.0.1"], ["::1"] + [a for a in (v4, v6) if a],
                lambda p, i: ["HTTPS listening on 127.0.0.1:%d" % p, "listening on UDP 127.0.0.1:%d" % i])


def case_web_listen_ipv6_loopback(env):
    v4, v6 = other_addresses()
    listen_case(env, "::1", ["::1"], ["127.0.0.1"] + [a for a in (v4, v6) if a],
                lambda p, i: ["HTTPS listening on [::1]:%d" % p, "listening on UDP [::1]:%d" % i])


def case_web_listen_ipv4_any(env):
    """0.0.0.0 is every IPv4 address and no IPv6 one."""
    v4, v6 = other_addresses()
    listen_case(env, "0.0.0.0", ["127.0.0.1"] + ([v4] if v4 else []), ["::1"] + ([v6] if v6 else []),
                lambda p, i: ["HTTPS listening on 0.0.0.0:%d" % p, "listening on UDP 0.0.0.0:%d" % i])


def case_web_listen_any(env):
    """:: is every address of both families (piglix.ini)."""
    v4, v6 = other_addresses()
    listen_case(env, "::", ["127.0.0.1", "::1"] + [a for a in (v4, v6) if a], [],
                lambda p, i: ["HTTPS listening on [::]:%d (IPv6 and IPv4)" % p,
                              "listening on UDP [::]:%d (IPv6 and IPv4)" % i])


# ---- cross-site requests ----

def started(env, **opts):
    w = Web(env, **opts).start()
    w.add_user()
    time.sleep(1.2)
    return w


def no_handler_ran(w, what):
    """The refused requests never reached a handler: nothing logged as done."""
    log = w.p.read_log()
    for bad in ("ATX", "HID", "upload", "Reset", "InsertMedia", "logged out"):
        for line in log.splitlines():
            check(not ("admin@" in line and bad in line and "refused" not in line),
                  "%s: a handler ran: %s" % (what, line))


def case_web_cross_site_basic(env):
    """The report: Basic credentials, a foreign Origin and an empty form
    body reached POST /api/atx/force-off."""
    w = started(env)
    form = {"Content-Type": "application/x-www-form-urlencoded"}
    st = w.request("POST", "/api/atx/force-off", raw=b"", cookie=False,
                   headers=dict(form, Authorization=BASIC, Origin=EVIL))
    expect(st, 403, "Basic + Origin evil + empty form body")
    no_handler_ran(w, "Basic cross-site")
    w.stop()


def case_web_cross_site_any_credential(env):
    """Every credential and every state-changing method: a foreign Origin,
    (without Origin) a foreign Referer or Sec-Fetch-Site: cross-site is a
    403 before any handler; scripts without those headers keep working."""
    store = os.path.join(env.tmp, "store")
    w = started(env, vmedia__enabled="yes", vmedia__dir=store)
    token = w.user("token", "admin").stdout.strip()
    time.sleep(1.2)
    w.login()
    bearer = "Bearer " + token
    js = {"Content-Type": "application/json"}
    foreign = [{"Origin": EVIL}, {"Origin": "null"}, {"Origin": "http://127.0.0.1:%d" % w.https},
               {"Referer": EVIL + "/page"}, {"Sec-Fetch-Site": "cross-site"}, {"Sec-Fetch-Site": "same-site"}]
    creds = [dict(cookie=True), dict(cookie=False, auth=BASIC), dict(cookie=False, auth=bearer)]
    calls = [("POST", "/api/atx/force-off", b""), ("POST", "/api/hid/paste", b'{"text":"x"}'),
             ("DELETE", "/api/vmedia/images/x.iso", None), ("POST", "/api/logout", b""),
             ("PUT", "/api/vmedia/images/evil.iso", b"0" * 1000)]
    for hdrs in foreign:
        for cred in creds:
            for method, path, body in calls:
                h = dict(hdrs)
                h.update(js if method != "PUT" else {"Content-Type": "application/octet-stream"})
                if cred.get("auth"):
                    h["Authorization"] = cred["auth"]
                got = w.request(method, path, raw=body, cookie=cred["cookie"], headers=h)
                expect(got, 403, "%s %s with %s, %s" % (method, path, hdrs, cred.get("auth", "cookie")[:6]))
    no_handler_ran(w, "cross-site")
    check(not os.path.exists(os.path.join(store, "evil.iso")), "a cross-site upload was stored")
    # the same requests from scripts (no Origin) and from the UI (its own origin)
    own = {"Origin": "https://127.0.0.1:%d" % w.https, "Referer": "https://127.0.0.1:%d/" % w.https,
           "Sec-Fetch-Site": "same-origin"}
    for hdrs in ({}, own):
        for cred in creds:
            h = dict(hdrs, **js)
            if cred.get("auth"):
                h["Authorization"] = cred["auth"]
            got = w.request("POST", "/api/atx/reset", raw=b"", cookie=cred["cookie"], headers=h)
            expect(got, 503, "ATX reset (no board) with %s %s" % (hdrs, cred.get("auth", "cookie")[:6]))
    w.stop()


def case_web_cross_site_redfish(env):
    """Redfish writes get the same rule, whatever the authentication."""
    w = started(env)
    st, js, _, r = w.request("POST", "/redfish/v1/SessionService/Sessions",
                             {"UserName": "admin", "Password": PASSWORD}, cookie=False)
    check(st == 201, "Redfish login: %d %s" % (st, js))
    xtok = r.getheader("X-Auth-Token")
    reset = {"ResetType": "ForceOff"}
    for hdrs in ({"Origin": EVIL}, {"Referer": EVIL + "/"}, {"Sec-Fetch-Site": "cross-site"}):
        for auth in ({"X-Auth-Token": xtok}, {"Authorization": BASIC}):
            got = w.request("POST", "/redfish/v1/Systems/1/Actions/ComputerSystem.Reset", reset, cookie=False,
                            headers=dict(hdrs, **auth))
            expect(got, 403, "Redfish reset with %s %s" % (hdrs, list(auth)))
            check(got[1] and "error" in got[1], "not a Redfish error body: %s" % got[2][:200])
        got = w.request("DELETE", "/redfish/v1/SessionService/Sessions/x", cookie=False,
                        headers=dict(hdrs, **{"X-Auth-Token": xtok}))
        expect(got, 403, "Redfish session DELETE with %s" % hdrs)
        got = w.request("POST", "/redfish/v1/SessionService/Sessions", {"UserName": "admin", "Password": "x"},
                        cookie=False, headers=hdrs)
        expect(got, 403, "Redfish login with %s" % hdrs)
    # a Redfish client (no Origin) still works
    got = w.request("POST", "/redfish/v1/Systems/1/Actions/ComputerSystem.Reset", reset, cookie=False,
                    headers={"X-Auth-Token": xtok})
    check(got[0] not in (401, 403, 500), "Redfish reset by a script: %d %s" % (got[0], got[2][:200]))
    no_handler_ran(w, "Redfish cross-site")
    w.stop()


def case_web_json_bodies_only(env):
    """A POST must say application/json, even with an empty body: a page
    of another site cannot send that without a CORS preflight."""
    w = started(env)
    for ct in (None, "text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x"):
        h = {"Authorization": BASIC}
        if ct:
            h["Content-Type"] = ct
        expect(w.request("POST", "/api/atx/reset", raw=b"", cookie=False, headers=h), 415,
               "empty POST with Content-Type %s" % ct)
        expect(w.request("POST", "/redfish/v1/Systems/1/Actions/ComputerSystem.Reset", raw=b"", cookie=False,
                         headers=h), 415, "Redfish POST with Content-Type %s" % ct)
    expect(w.request("POST", "/api/atx/reset", raw=b"", cookie=False,
                     headers={"Authorization": BASIC, "Content-Type": "application/json"}), 503,
           "empty JSON POST (no ATX board)")
    no_handler_ran(w, "non-JSON")
    w.stop()


def case_web_no_basic_challenge(env):
    """/api never invites a browser's Basic dialog (whose credentials it
    would then replay anywhere); Redfish may, for its clients."""
    w = started(env, web__login_fail_limit=100)
    for method, path, body in (("GET", "/api/info", None), ("GET", "/api/metrics", None),
                               ("POST", "/api/hid/paste", {"text": "x"}), ("POST", "/api/logout", {}),
                               ("POST", "/api/login", {"name": "admin", "password": "wrong"}),
                               ("GET", "/api/snapshot.jpg", None)):
        for auth in (None, "Basic " + base64.b64encode(b"admin:wrong").decode(), "Bearer " + "0" * 64):
            h = {"Authorization": auth} if auth else {}
            st, _, _, r = w.request(method, path, body, cookie=False, headers=h)
            check(st == 401, "%s %s (%s): %d" % (method, path, auth, st))
            check("basic" not in (r.getheader("WWW-Authenticate") or "").lower(),
                  "%s %s sent a Basic challenge" % (method, path))
        time.sleep(0.3)  # stay under the hash budget
    w.stop()


# ---- request bodies before authentication ----

def vm_rss_kib(pid):
    with open("/proc/%d/status" % pid) as f:
        return int(re.search(r"VmRSS:\s+(\d+)", f.read()).group(1))


def flood(w, n, size, send_body):
    """n TLS connections each announcing a POST body of size bytes without
    credentials; returns (statuses, answered slowly, RSS growth in KiB).
    The body (all but its last byte) is sent only after the answer is
    due: a server that buffers before authenticating holds all of it."""
    head = ("POST /api/hid/paste HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nContent-Type: application/json\r\n"
            "Content-Length: %d\r\n\r\n" % (w.https, size)).encode()
    time.sleep(0.5)
    before = vm_rss_kib(w.p.proc.pid)
    socks, statuses, slow = [], [], 0
    for _ in range(n):
        s = tls_context().wrap_socket(socket.create_connection(("127.0.0.1", w.https), timeout=10))
        s.sendall(head)
        socks.append(s)
    for s in socks:
        s.settimeout(3)
        t0 = time.time()
        try:
            line = s.recv(64)
        except (socket.timeout, ssl.SSLError, OSError):
            line = b""
        slow += time.time() - t0 > 2
        m = re.match(rb"HTTP/1\.1 (\d+)", line)
        statuses.append(int(m.group(1)) if m else 0)
    if send_body:
        for s in socks:
            try:
                s.settimeout(2)
                s.sendall(b"x" * (size - 1))
            except (OSError, ssl.SSLError):
                pass
    time.sleep(1.0)
    grow = vm_rss_kib(w.p.proc.pid) - before
    for s in socks:
        s.close()
    return statuses, slow, grow


def case_web_body_before_auth(env):
    """Unauthenticated requests announcing 64 KiB bodies: each is answered
    401 at once (before its body is sent) and piglix buffers none of them.
    The same flood with empty bodies is the yardstick for what TLS
    connections cost anyway."""
    # freed memory goes back to use at once: RSS then shows what is held
    os.environ["ASAN_OPTIONS"] = os.environ.get("ASAN_OPTIONS", "") + ":quarantine_size_mb=1"
    w = started(env)
    n, size = 120, 65536
    flood(w, 20, 0, False)  # warm-up: TLS, allocator caches
    st0, _, grow0 = flood(w, n, 0, False)
    statuses, slow, grow = flood(w, n, size, True)
    print("%d connections: RSS +%d KiB with empty bodies, +%d KiB announcing %d bytes each (%.1f KiB more "
          "each); %d answered slowly" % (n, grow0, grow, size, (grow - grow0) / n, slow))
    check(statuses.count(401) == n, "not all answered 401 at once: %s" %
          {st: statuses.count(st) for st in set(statuses)})
    check(grow - grow0 < n * size // 1024 // 2, "RSS grew by %d KiB more than for empty bodies (%d KiB)" %
          (grow - grow0, grow0))
    # a client whose token went stale still reads its 401 (no reset), then logs in again
    st = w.request("POST", "/api/hid/paste", {"text": "a" * 3000}, cookie=False,
                   headers={"Authorization": "Bearer " + "1" * 64})
    expect(st, 401, "small body with a wrong token")
    w.login()
    expect(w.request("POST", "/api/hid/paste", {"text": "abc"}), 503, "paste (no HID) after all that")
    w.stop()


# ---- URLs from clients ----

def case_web_url_scheme_case(env):
    """URL schemes are case-insensitive; a bad URL is a 4xx, never 5xx."""
    store = os.path.join(env.tmp, "store")
    w = started(env, vmedia__enabled="yes", vmedia__dir=store)
    w.login()
    st = w.request("POST", "/api/vmedia/download", {"url": "HTTP://127.0.0.1:9/a.iso"})
    expect(st, 202, "download with HTTP://")
    st = w.request("POST", "/api/vmedia/download", {"url": "HtTpS://127.0.0.1:9/b.iso"})
    expect(st, 202, "download with HtTpS://")
    for bad in ("ftp://127.0.0.1/c.iso", "http:///d.iso", "http://", "file:///etc/passwd", "e.iso",
                "http://[::1/f.iso", "http://a b/g.iso"):
        st = w.request("POST", "/api/vmedia/download", {"url": bad, "name": "x.iso"})
        check(400 <= st[0] < 500, "download of %r: %d %s" % (bad, st[0], st[2][:200]))
    w.stop()


CASES = {n[5:]: f for n, f in globals().items() if n.startswith("case_")}

if __name__ == "__main__":
    sys.exit(security_common.main(CASES))
