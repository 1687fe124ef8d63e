#!/usr/bin/env python3
"""The doors added with [control], [serial], [audit] and IPMI SOL/SEL,
attacked with real clients: the session list and the keyboard
(/api/sessions, /api/control), the audit log (/api/log, Redfish's
LogService, its journal line), /api/health, the web terminal's WebSocket
(/api/serial) and IPMI Serial-over-LAN (ipmitool). Each case starts one
daemon and tries every attack on its doors; docs/THREAT_MODEL.md lists what
each door checks.
Usage: security_doors.py PIGLIX TOOLS_DIR CASE (or --list)"""
import base64
import http.client
import json
import os
import re
import sys
import time

import security_common  # puts tests/e2e on sys.path
from piglix_e2e import check, free_port, TestFailure  # noqa: E402
from e2e_web import Web, WebSocket, expect, tls_context, PASSWORD  # noqa: E402
from e2e_serial import Adapter, Terminal  # noqa: E402
from e2e_sol import Server, Term  # noqa: E402

EVIL = "https://evil.example"
IPMI_PASSWORD = "Doors-ipmi-5678"


def accounts(w, roles):
    """One account per (name, role); returns their API tokens."""
    tokens = {}
    for name, role in roles:
        r = w.user("add", name, "--role", role, stdin=PASSWORD + "\n")
        check(r.returncode == 0, "user add %s: %s" % (name, r.stderr))
        r = w.user("token", name)
        check(r.returncode == 0, "user token %s: %s" % (name, r.stderr))
        tokens[name] = r.stdout.strip()
    return tokens


def call(w, method, path, token=None, headers=None, body=None, raw=None):
    """A request as a script makes it (no cookie): (status, json, payload)."""
    c = http.client.HTTPSConnection("127.0.0.1", w.https, context=tls_context(), timeout=20)
    h = {"Host": "127.0.0.1:%d" % w.https}
    if token:
        h["Authorization"] = "Bearer " + token
    data = raw
    if body is not None:
        data = json.dumps(body).encode()
    if method == "POST":
        h["Content-Type"] = "application/json"
    h.update(headers or {})
    c.request(method, path, body=data, headers=h)
    try:
        r = c.getresponse()
    except http.client.RemoteDisconnected:
        return 0, None, b""          # refused without an answer (a URI over libwebsockets' limit)
    payload = r.read()
    c.close()
    js = None
    if (r.getheader("Content-Type") or "").startswith("application/json") and payload:
        js = json.loads(payload)
    return r.status, js, payload


def wait_for(fn, what, timeout=10):
    t0 = time.time()
    while time.time() - t0 < timeout:
        v = fn()
        if v:
            return v
        time.sleep(0.1)
    raise TestFailure("timed out waiting for " + what)


def log_lines(w):
    return w.p.read_log().splitlines()


# ---- the web API's new doors ----

def case_doors_web_api(env):
    """Sessions, control, log and health: no or a wrong credential, a role
    too low, another account's session, ids out of range, cross-site and
    non-JSON requests, log parameters out of range, and client text that
    ends up in the journal and the audit log (newlines, escapes); then the
    serial terminal's WebSocket (serial_attacks)."""
    tty = os.path.join(env.tmp, "ttyUSB-doors")
    a = Adapter(tty).plug()
    w = Web(env, serial__enabled="yes", serial__device=tty, serial__baud=115200, control__mode="exclusive")
    tok = accounts(w, [("admin", "admin"), ("op", "operator"), ("view", "viewer")])
    w.start()
    admin_js = w.login("admin")
    admin_cookie = w.cookie
    st, js, _ = call(w, "GET", "/api/sessions", tok["admin"])
    expect((st, js, b""), 200, "GET /api/sessions as admin")
    web_login = [s for s in js["sessions"] if s["interface"] == "web" and s["account"] == "admin"]
    check(len(web_login) == 1, "the admin's web login is listed: %s" % js)
    admin_sid = web_login[0]["id"]

    # no credential: nothing (wrong tokens at the end: they throttle this address)
    doors = (("GET", "/api/sessions"), ("GET", "/api/control"), ("GET", "/api/log"), ("GET", "/api/health"),
             ("POST", "/api/sessions/%d/end" % admin_sid), ("POST", "/api/control/take"),
             ("POST", "/api/control/request"), ("GET", "/redfish/v1/Managers/1/LogServices/Log/Entries"))
    for method, path in doors:
        st, js, _ = call(w, method, path)
        check(st == 401, "%s %s without a credential: %d %s" % (method, path, st, js))
    # a viewer or an operator ends nobody's session, takes nothing
    for who in ("view", "op"):
        st, js, _ = call(w, "POST", "/api/sessions/%d/end" % admin_sid, tok[who])
        check(st == 403, "%s ends the admin's session: %d %s" % (who, st, js))
        st, js, _ = call(w, "POST", "/api/control/take", tok[who])
        check(st == 403, "%s takes the keyboard: %d %s" % (who, st, js))
    st, js, _ = call(w, "POST", "/api/control/request", tok["view"])
    check(st == 403, "a viewer asks for the keyboard: %d %s" % (st, js))
    st, js, _ = call(w, "POST", "/api/control/give/%d" % admin_sid, tok["op"])
    check(st == 409, "an operator that does not hold the keyboard gives it: %d %s" % (st, js))
    st, js, _, _ = w.request("GET", "/api/session")
    check(st == 200, "the admin's session survived: %d %s" % (st, js))
    # ids out of range or malformed: 404, never another session
    for bad in ("0", "-1", "01", "1x", "4294967296", "99999999999999999999", "1%00", "1%2fend", "x" * 3000):
        st, js, _ = call(w, "POST", "/api/sessions/%s/end" % bad, tok["admin"])
        check(st in (0, 400, 404, 414, 431), "end session %r: %d %s" % (bad[:20], st, js))
        st, js, _ = call(w, "POST", "/api/control/give/%s" % bad, tok["admin"])
        check(st in (0, 400, 404, 414, 431), "give to %r: %d %s" % (bad[:20], st, js))
    st, js, _, _ = w.request("GET", "/api/session")
    check(st == 200, "the admin's session survived the bad ids: %d %s" % (st, js))
    # cross-site and non-JSON state changes, with the admin's cookie
    for headers in ({"Origin": EVIL}, {"Referer": EVIL + "/x"}, {"Sec-Fetch-Site": "cross-site"},
                    {"Origin": "null"}, {"Content-Type": "text/plain"},
                    {"Content-Type": "application/x-www-form-urlencoded"}):
        for path in ("/api/sessions/%d/end" % admin_sid, "/api/control/take", "/api/control/request"):
            st, js, _, _ = w.request("POST", path, raw=b"{}", headers=dict({"Content-Type": "application/json"},
                                                                           **headers))
            check(st in (403, 415), "%s with %s: %d %s" % (path, headers, st, js))
    st, js, _, _ = w.request("POST", "/api/control/take", csrf=False)
    check(st == 403, "no CSRF token: %d %s" % (st, js))
    # what viewers see: no token, cookie or CSRF token of anyone
    st, _, payload = call(w, "GET", "/api/sessions", tok["view"])
    check(st == 200, "GET /api/sessions as a viewer: %d" % st)
    for secret in (admin_cookie, admin_js["csrf"], tok["admin"], tok["op"], PASSWORD):
        check(secret.encode() not in payload, "/api/sessions shows a secret to a viewer")
    # /api/log's parameters
    for q in ("limit=0", "limit=501", "limit=-1", "limit=1e3", "limit=", "cursor=-1", "cursor=0",
              "cursor=abc", "cursor=99999999999999999999999", "since=yesterday", "until=2026-13-40T99:00:00Z",
              "kind=login,nope", "kind="):
        st, js, _ = call(w, "GET", "/api/log?" + q, tok["view"])
        check(st == 400, "GET /api/log?%s: %d %s" % (q, st, js))
    st, js, _ = call(w, "GET", "/api/log?since=%00", tok["view"])
    check(st in (0, 400), "GET /api/log?since=%%00: %d" % st)   # libwebsockets drops a NUL in the URL
    st, js, _ = call(w, "GET", "/api/log?limit=500&kind=" + ",".join(["login"] * 200), tok["view"])
    check(st in (200, 400), "a long kind list: %d" % st)

    # client text into the journal and the audit log: a path with a
    # newline (lws decodes %0a), a login name with escapes and separators
    forged = "[ 9999.999] I web: admin@10.9.9.9: logged in FORGED"
    st, js, _ = call(w, "POST", "/api/atx/on%0a" + forged.replace(" ", "%20"), tok["view"])
    check(st == 403, "a viewer's power action: %d %s" % (st, js))
    st, js, _ = call(w, "POST", "/api/atx/x%1b%5b2J%0d", tok["view"])
    check(st == 400, "a path with escapes: %d %s" % (st, js))
    # headers piglix logs when it refuses them, from nobody: escapes in an
    # Origin (a POST and a WebSocket upgrade) and in a Host
    esc = "\x1b]0;pwned\x07\x1b[2J\x1b[31mFORGED3"
    st, js, _ = call(w, "POST", "/api/control/take", headers={"Origin": EVIL + "/" + esc})
    check(st == 403, "a cross-site POST with escapes: %d %s" % (st, js))
    st, js, _ = call(w, "POST", "/api/control/take", headers={"Referer": EVIL + "/" + esc})
    check(st == 403, "a cross-site Referer with escapes: %d %s" % (st, js))
    ws = Terminal(w.https, origin=EVIL + "/" + esc, cookie=admin_cookie)
    check(not ws.ok, "a WebSocket from another site was accepted")
    name = "e\u009b31m\u202enimda\u2028FORGED2\x1b[0m"
    st, js, _, _ = w.request("POST", "/api/login", {"name": name, "password": "Hunter2-typo"}, cookie=False)
    check(st in (401, 400), "a login with a forged name: %d %s" % (st, js))
    time.sleep(1.0)
    for line in log_lines(w):
        check(not line.startswith("[ 9999.999]") and not line.startswith("FORGED2"),
              "a client forged a journal line: %r" % line)
        check("\x1b" not in line and "\u009b" not in line and "\r" not in line and "\x07" not in line,
              "a client's escape sequence reached the journal: %r" % line)
    check(any("FORGED3" in l for l in log_lines(w)), "the cross-site refusals were not logged")
    refused = [l for l in log_lines(w) if "FORGED" in l]
    check(len(refused) >= 4 and all(re.match(r"\[ *\d+\.\d{3}\] [EWID] \w+: ", l) for l in refused),
          "each refusal is one line of its own: %s" % refused)
    # an admin reads failed logins' names (below admin they read "(hidden)":
    # e2e.audit_failed_names_hidden)
    st, js, payload = call(w, "GET", "/api/log?limit=500", tok["admin"])
    check(st == 200, "GET /api/log: %d" % st)
    check(b"Hunter2-typo" not in payload, "a tried password is in the audit log")
    text = json.dumps(js, ensure_ascii=False)
    for bad in ("\u009b", "\u202e", "\u2028", "\x1b", "\n", "\r"):
        check(bad not in "".join(e["account"] + e["detail"] + e["address"] for e in js["entries"]),
              "the audit log keeps a control character %r: %s" % (bad, text[:2000]))
    check(any(e["kind"] == "login_failed" and e["account"] == "e?31m?nimda?FORGED2?[0m" for e in js["entries"]),
          "the failed login is not in the audit log as written, controls replaced: %s" % text[:2000])
    # the same records over Redfish: ReadOnly and Operator do not clear them
    for who in ("view", "op"):
        st, js, _ = call(w, "POST", "/redfish/v1/Managers/1/LogServices/Log/Actions/LogService.ClearLog",
                         tok[who], body={})
        check(st == 403, "%s clears the log over Redfish: %d %s" % (who, st, js))
    for q in ("$top=0", "$top=-5", "$skip=-1", "$top=abc", "$skip=1e9"):
        st, js, _ = call(w, "GET", "/redfish/v1/Managers/1/LogServices/Log/Entries?" + q, tok["view"])
        check(st == 400, "Entries?%s: %d" % (q, st))
    for bad in ("0", "-1", "18446744073709551616", "1abc", "x" * 500):
        st, js, _ = call(w, "GET", "/redfish/v1/Managers/1/LogServices/Log/Entries/" + bad, tok["view"])
        check(st in (0, 400, 404, 414), "Entries/%s: %d" % (bad[:20], st))
    st, js, _ = call(w, "GET", "/api/log?limit=5", tok["view"])
    check(st == 200 and js["entries"], "the log is still there: %d %s" % (st, js))
    # a viewer floods role refusals (each one an audit record): the log's
    # older records must not rotate out at a viewer's pace (ClearLog is an
    # admin's); at most 30 a minute are recorded, then a count
    for _ in range(40):
        call(w, "POST", "/api/atx/on", tok["view"])
    time.sleep(0.6)
    st, js, _ = call(w, "GET", "/api/log?kind=role_refused&limit=500", tok["admin"])
    check(st == 200 and len(js["entries"]) <= 31, "a viewer's refusal flood: %d records" % len(js["entries"]))
    serial_attacks(w, tok, a)
    # wrong tokens (one a digit off a real one): refused, then throttled
    for method, path in doors:
        for token in ("0" * 64, tok["view"][:-1] + ("0" if tok["view"][-1] != "0" else "1")):
            st, js, _ = call(w, method, path, token)
            check(st in (401, 429), "%s %s with token %r: %d %s" % (method, path, token[:8], st, js))
    log = w.stop()
    check(not re.search(r"serial: \S+: BREAK", log), "a refused BREAK reached the console:\n" + log[-2000:])


# ---- the web terminal ----

def serial_attacks(w, tok, a):
    """The serial WebSocket (part of doors_web_api: one daemon): a foreign
    Origin, a cookie without an Origin, a wrong token, Basic; a viewer
    typing and sending BREAK, and holding every terminal slot; a non-holder
    in exclusive mode; malformed control messages; an operator downgraded
    to viewer mid-stream."""
    saved = (w.cookie, w.csrf)
    w.cookie = w.csrf = None
    w.login("view")
    view_cookie = w.cookie
    w.cookie = w.csrf = None
    w.login("op")
    op_cookie = w.cookie
    a.write(b"boot\r\n\x1b]52;c;cHduZWQ=\x07login: ")
    # browser viewers: a viewer holding all [web] max_viewers (8) does not
    # keep an operator out; the operator's closes the oldest view-only one
    views = [WebSocket(w.https, cookie=view_cookie) for _ in range(8)]
    check(all(v.ok for v in views), "the viewer's browser viewers were refused")
    check(not WebSocket(w.https, cookie=view_cookie).ok, "a ninth browser viewer was accepted")
    opv = WebSocket(w.https, cookie=op_cookie)
    check(opv.ok, "the operator's browser viewer was refused (a viewer holds every slot)")
    views[0].s.settimeout(5)
    try:
        while True:
            views[0].frame()
    except TimeoutError:
        raise TestFailure("no view-only viewer was closed for the operator's")
    except (EOFError, OSError):
        pass                         # closed for the operator's
    for v in views[1:] + [opv]:
        v.close()
    # Origins: another site's, "null", none with a cookie
    for origin in (EVIL, "null", "https://127.0.0.1:%d.evil.example" % w.https, None):
        t = Terminal(w.https, cookie=op_cookie, origin=origin)
        check(not t.ok, "a serial WebSocket with Origin %r was accepted" % origin)
    t = Terminal(w.https, origin=None, auth="Bearer " + "0" * 64)
    check(not t.ok, "a serial WebSocket with a wrong token was accepted")
    t = Terminal(w.https, origin=None, auth="Basic " + base64.b64encode(b"op:" + PASSWORD.encode()).decode())
    check(not t.ok, "a serial WebSocket with Basic (a hash on the event loop) was accepted")
    # a viewer reads, never types
    tv = Terminal(w.https, cookie=view_cookie)
    check(tv.ok, "the viewer's terminal was refused")
    tv.wait_for(b"login: ")
    check(tv.statuses and tv.statuses[0]["may_write"] is False, "a viewer may write: %s" % tv.statuses)
    tv.send(b"viewer-typed\r")
    tv.send_text('{"type":"break"}')
    st, js, _ = call(w, "POST", "/api/serial/break", tok["view"])
    check(st == 403, "a viewer's BREAK over the API: %d %s" % (st, js))
    # the viewer opens every other terminal slot too (8 in all)
    extra = [Terminal(w.https, cookie=view_cookie) for _ in range(7)]
    check(all(t.ok for t in extra), "the viewer's other terminals were refused")
    check(not Terminal(w.https, cookie=view_cookie).ok, "a ninth terminal was accepted")
    # the admin holds the keyboard: the operator's keys are dropped too
    st, js, _ = call(w, "POST", "/api/control/request", tok["admin"])
    check(st == 200 and js["you_hold"], "the admin takes the keyboard: %d %s" % (st, js))
    to = Terminal(w.https, cookie=op_cookie)
    check(to.ok, "the operator's terminal was refused (a viewer holds every slot)")
    to.wait_for(b"login: ")
    try:                             # the viewer's oldest terminal made room
        tv.pump(lambda _t: False, timeout=3, what="close")
        raise TestFailure("no viewer terminal was closed for the operator's")
    except (EOFError, OSError):
        pass
    to.send(b"not-the-holder\r")
    st, js, _ = call(w, "POST", "/api/serial/break", tok["op"])
    check(st == 403, "a non-holder's BREAK: %d %s" % (st, js))
    st, js, _ = call(w, "POST", "/api/control/release", tok["admin"])
    check(st == 200, "the admin lets go: %d %s" % (st, js))
    to.send(b"op-typed\r")
    got = a.read_until(b"op-typed\r")
    check(b"viewer-typed" not in got and b"not-the-holder" not in got,
          "refused keys reached the server: %r" % got)
    # control messages: unknown, oversized, not JSON: the connection closes
    for msg in ('{"type":"resize","cols":1e308}', "not json", '{"type":"break"' + " " * 100):
        t = Terminal(w.https, cookie=op_cookie)
        t.wait_for(b"login: ")
        t.send_text(msg)
        try:
            t.pump(lambda _t: False, timeout=3, what="close")
        except (EOFError, OSError):
            continue
        except TestFailure:
            pass
        raise TestFailure("a bad control message %r left the terminal open" % msg)
    # downgraded mid-stream: the terminal closes within a second or two
    r = w.user("role", "op", "viewer")
    check(r.returncode == 0, "user role op viewer: %s" % r.stderr)
    t0 = time.time()
    closed = False
    while time.time() - t0 < 4 and not closed:
        try:
            to.send(b"late\r")
            to.pump(lambda _t: False, timeout=0.3, what="close")
        except TestFailure:
            pass
        except (EOFError, OSError):
            closed = True
    check(closed, "the downgraded operator's terminal stayed open")
    w.cookie, w.csrf = saved


# ---- IPMI Serial-over-LAN ----

def drain(server, secs):
    """What the server's end of the line receives for secs, into server.got."""
    import select
    end = time.monotonic() + secs
    while time.monotonic() < end:
        r, _w, _x = select.select([server.master], [], [], 0.1)
        if r:
            server.got += os.read(server.master, 4096)


def case_doors_sol(env):
    """SOL under [control] mode = exclusive and a role lowered mid-session:
    an operator's SOL console while an admin holds the keyboard types
    nothing; made a viewer while SOL is up, the console is ended; a
    User-level session cannot activate; a second activation is refused."""
    server = Server()
    udp = free_port()
    w = Web(env, ipmi__enabled="yes", ipmi__listen="127.0.0.1", ipmi__port=udp, ipmi__session_timeout_s=20,
            serial__enabled="yes", serial__device=server.path, serial__baud=115200, control__mode="exclusive")
    tok = accounts(w, [("admin", "admin"), ("op", "operator")])
    for name in ("admin", "op"):
        r = w.user("ipmi-passwd", name, stdin=IPMI_PASSWORD + "\n")
        check(r.returncode == 0, "ipmi-passwd %s: %s" % (name, r.stderr))
    pwfile = os.path.join(env.tmp, "ipmi.pw")
    with open(os.open(pwfile, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w") as f:
        f.write(IPMI_PASSWORD)
    w.start()

    def ipmitool(user, *cmd, level=None):
        args = ["ipmitool", "-I", "lanplus", "-H", "127.0.0.1", "-p", str(udp), "-U", user, "-f", pwfile, "-C", "17"]
        if level:
            args += ["-L", level]
        return args + list(cmd)

    # a User-level session (the admin asking for less) may not activate
    user = Term(ipmitool("admin", "sol", "activate", level="USER"))
    check(user.wait() != 0 and b"operational" not in user.out, "a USER session activated SOL: %r" % user.out)
    # the admin holds the keyboard (a web API client)
    st, js, _ = call(w, "POST", "/api/control/request", tok["admin"])
    check(st == 200 and js["you_hold"], "the admin takes the keyboard: %d %s" % (st, js))
    t = Term(ipmitool("op", "sol", "activate", level="OPERATOR"))
    t.read_until(b"SOL Session operational")
    server.print(b"\r\nsimserver login: ")
    t.read_until(b"simserver login: ")
    second = Term(ipmitool("admin", "sol", "activate"))
    check(second.wait() != 0 and b"already active" in second.out, "a second activation: %r" % second.out)
    t.type(b"intruder\r")
    drain(server, 1.0)
    st, js, _ = call(w, "GET", "/api/control", tok["admin"])
    check(st == 200 and js["holder"] and js["holder"]["account"] == "admin", "the holder changed: %s" % js)
    # the admin lets go: the operator's SOL types
    st, js, _ = call(w, "POST", "/api/control/release", tok["admin"])
    check(st == 200, "release: %d %s" % (st, js))
    t.type(b"root\r")
    server.read_until(b"root\r")
    check(b"intruder" not in server.got, "SOL typed while another held the keyboard: %r" % server.got)
    # made a viewer while SOL is up: the console ends, nothing more is typed
    r = w.user("role", "op", "viewer")
    check(r.returncode == 0, "user role op viewer: %s" % r.stderr)
    time.sleep(2.0)
    try:
        t.type(b"late\r")
    except OSError:
        pass                         # ipmitool left: told the console was deactivated
    drain(server, 1.5)
    check(b"late" not in server.got, "a viewer's SOL still types: %r" % server.got)
    t.kill()
    log = w.stop()
    check("no longer allows" in log, "the ended SOL was not logged:\n" + log[-3000:])


CASES = {name[5:]: fn for name, fn in globals().items() if name.startswith("case_")}

if __name__ == "__main__":
    sys.exit(security_common.main(CASES))
