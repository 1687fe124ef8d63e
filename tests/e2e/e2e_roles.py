#!/usr/bin/env python3
"""End-to-end tests of roles (admin, operator, viewer) on every door, with
real clients: the web API walked route by route from the server's own route
table (`piglix api-routes`, which web/API.md must document line for line),
the browser viewer's WebSocket, Redfish with python3-sushy, IPMI with
ipmitool, and the VNC port's view-only password with vncsnapshot and
rfbprobe. What reaches the keyboard is read from the input counters piglix
logs at exit ([hid] off: the counting backend).
Usage: e2e_roles.py PIGLIX TOOLS_DIR CASE"""
import base64
import http.client
import json
import os
import re
import socket
import struct
import subprocess
import sys
import time

import redfish_clients
redfish_clients.ensure()  # may re-run this script with Debian's python3

from sushy import exceptions as sx  # noqa: E402
import sushy  # noqa: E402
from piglix_e2e import check, free_port, run, TestFailure  # noqa: E402
from e2e_web import Web, WebSocket, expect, rfb_handshake, tls_context, PASSWORD  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
ROLES = ("viewer", "operator", "admin")
RANK = {r: i for i, r in enumerate(ROLES)}
MAC = "02:00:00:aa:bb:cc"
RF = "/redfish/v1"
INPUT_RE = r"input events: (\d+) keys, (\d+) scancodes, (\d+) pointer"


def api_routes(env):
    """[(method, pattern, role)] and [(redfish pattern, role)] from the daemon's table."""
    r = subprocess.run([env.piglix, "api-routes"], capture_output=True, text=True, timeout=30)
    check(r.returncode == 0, "piglix api-routes: %d %s" % (r.returncode, r.stderr))
    api, rf = [], []
    for line in r.stdout.splitlines():
        parts = line.split()
        if parts[0] == "redfish":
            rf.append((parts[1], parts[2]))
        else:
            api.append((parts[0], parts[1], parts[2]))
    check(len(api) >= 20 and len(rf) >= 20, "too few routes listed: %r" % r.stdout)
    return api, rf


class Site:
    """piglix with the web API, Redfish, WoL-only ATX, virtual media and
    one account per role (name = role; admin made without --role, so by
    the default), each with an API token."""

    def __init__(self, env, **options):
        self.wol = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.wol.bind(("127.0.0.1", 0))
        store = os.path.join(env.tmp, "store")
        os.makedirs(store, exist_ok=True)
        opts = dict(atx__enabled="yes", atx__chip="", atx__wol_mac=MAC, atx__wol_address="127.0.0.1",
                    atx__wol_port=self.wol.getsockname()[1], vmedia__enabled="yes", vmedia__dir=store)
        opts.update(options)
        self.w = Web(env, **opts)
        self.env = env
        self.tokens = {}
        for role in ROLES:
            r = self.w.user("add", role, *(["--role", role] if role != "admin" else []), stdin=PASSWORD + "\n")
            check(r.returncode == 0, "user add %s --role %s: %s" % (role, role, r.stderr))
            r = self.w.user("token", role)
            check(r.returncode == 0, "user token: %s" % r.stderr)
            self.tokens[role] = r.stdout.strip()

    def start(self):
        self.w.start()
        return self

    def call(self, role, method, path, body=None, raw=None, headers=None):
        h = {"Authorization": "Bearer " + self.tokens[role]}
        h.update(headers or {})
        return self.w.request(method, path, body=body, raw=raw, headers=h, cookie=False)

    def status_only(self, role, path):
        """(status, error JSON or None, b"", None) of a GET whose body need not be read."""
        c = http.client.HTTPSConnection("127.0.0.1", self.w.https, context=tls_context(), timeout=20)
        c.request("GET", path, headers={"Authorization": "Bearer " + self.tokens[role]})
        r = c.getresponse()
        js = json.loads(r.read()) if r.status != 200 else None
        c.close()
        return r.status, js, b"", None

    def basic(self, role):
        return {"Authorization": "Basic " + base64.b64encode(("%s:%s" % (role, PASSWORD)).encode()).decode()}

    def packets(self, want, wait):
        """Magic packets caught: stops at want, else after wait seconds (a
        refused action is answered before it would have sent one)."""
        n = 0
        deadline = time.time() + wait
        while want == 0 or n < want:
            left = deadline - time.time()
            if left <= 0:
                break
            self.wol.settimeout(left)
            try:
                self.wol.recvfrom(1024)
                n += 1
            except socket.timeout:
                break
        return n

    def drain(self):
        self.wol.setblocking(False)
        try:
            while True:
                self.wol.recvfrom(1024)
        except BlockingIOError:
            pass
        self.wol.setblocking(True)


def role_refused(got):
    """A 403 for the role (not for CSRF, origin or anything else)."""
    st, js = got[0], got[1] or {}
    return st == 403 and "your role" in (js.get("error") or "")


def concrete(pattern):
    """A path for a route pattern: each "*" replaced by a plausible segment."""
    subst = {"/api/atx/*": "wol", "/api/vmedia/images/*": "roles.iso",
             "/api/vmedia/transfers/*": "none.iso"}
    path = pattern
    for prefix, seg in subst.items():
        if pattern.startswith(prefix):
            path = prefix.replace("*", seg) + pattern[len(prefix):]
    return path.replace("*", "x")


def cli(s):
    """user add --role (default admin), user role, user list; an unknown role is refused."""
    w = s.w
    r = w.user("add", "bad", "--role", "root", stdin=PASSWORD + "\n")
    check(r.returncode == 2 and "not a role" in r.stderr, "an unknown role: %d %s" % (r.returncode, r.stderr))
    r = w.user("role", "nobody", "viewer")
    check(r.returncode != 0, "user role of a missing account succeeded")
    r = w.user("role", "operator", "viewer")
    check(r.returncode == 0, "user role: %s" % r.stderr)
    rows = dict(line.split()[:2] for line in w.user("list").stdout.splitlines())
    check(rows == {"admin": "admin", "operator": "viewer", "viewer": "viewer"}, "user list: %r" % rows)
    r = w.user("role", "operator", "operator")
    check(r.returncode == 0, "user role: %s" % r.stderr)
    rows = dict(line.split()[:2] for line in w.user("list").stdout.splitlines())
    check(rows == {"admin": "admin", "operator": "operator", "viewer": "viewer"}, "user list: %r" % rows)


def case_api(env):
    """The CLI (user add --role, user role, user list); then every API route
    from `piglix api-routes`, with each role's token: 403 "your role"
    exactly where the route's role is higher; web/API.md lists every route
    with that same role."""
    api, rf = api_routes(env)
    with open(os.path.join(HERE, "..", "..", "web", "API.md")) as f:
        doc = f.read()
    for method, pattern, role in api:
        check(re.search(r"\|\s*`%s %s`\s*\|\s*%s\s*\|" % (method, re.escape(pattern), role), doc),
              "web/API.md does not list `%s %s` with role %s" % (method, pattern, role))
    for pattern, role in rf:
        check(re.search(r"\|\s*`%s`\s*\|\s*%s\s*\|" % (re.escape(pattern), role), doc),
              "web/API.md does not list Redfish `%s` with role %s" % (pattern, role))
    s = Site(env)
    cli(s)
    s.start()
    seen = 0
    for method, pattern, need in api:
        if need == "public":
            continue
        path = concrete(pattern)
        for role in ROLES:
            if path == "/api/stream.mjpg":
                got = s.status_only(role, path)  # the stream never ends: its head is enough
            elif method == "PUT":
                got = s.call(role, method, path, raw=b"", headers={"Content-Type": "application/octet-stream"})
            elif method == "POST":
                got = s.call(role, method, path, body={})
            else:
                got = s.call(role, method, path)
            may = RANK[role] >= RANK[need]
            check(role_refused(got) != may and got[0] != 401,
                  "%s %s as %s (route needs %s): %d %s" % (method, path, role, need, got[0], got[1] or got[2][:200]))
            seen += 1
        if method == "PUT":  # the operator's empty upload made an image: gone again
            s.call("admin", "DELETE", path)
    check(seen >= 3 * 20, "walked only %d route x role pairs" % seen)
    # what is allowed works: a viewer reads, an operator powers (Wake-on-LAN)
    st, js, _, _ = expect(s.call("viewer", "GET", "/api/info"), 200, "viewer reads /api/info")
    s.drain()
    expect(s.call("viewer", "POST", "/api/atx/wol", body={}), 403, "viewer's WoL")
    check(s.packets(0, 0.3) == 0, "a viewer's refused WoL sent a magic packet")
    got = s.call("operator", "POST", "/api/atx/wol", body={})
    check(got[0] in (200, 202), "operator's WoL: %d %s" % (got[0], got[1]))
    check(s.packets(1, 5.0) == 1, "the operator's WoL sent no magic packet")
    # a refused upload is answered on its headers: nothing is stored
    got = s.call("viewer", "PUT", "/api/vmedia/images/v.iso", raw=b"x" * 4096,
                 headers={"Content-Type": "application/octet-stream"})
    check(role_refused(got), "viewer's upload: %d %s" % (got[0], got[1]))
    check(not os.path.exists(os.path.join(env.tmp, "store", "v.iso")), "a viewer's upload was stored")
    # the UI learns the role from /api/session; metrics count the refusals
    s.w.login("viewer", PASSWORD)
    st, js, _, _ = expect(s.w.request("GET", "/api/session"), 200, "session")
    check(js["role"] == "viewer", "session role: %s" % js)
    expect(s.w.request("POST", "/api/hid/combo", body={"combo": "ctrl+alt+delete"}), 403, "viewer session's combo")
    st, _, text, _ = expect(s.call("admin", "GET", "/api/metrics"), 200, "metrics")
    m = re.search(rb'piglix_role_refusals_total\{interface="web"\} (\d+)', text)
    check(m and int(m.group(1)) >= 10, "role refusals not counted: %s" % (m and m.group(0)))
    # a role change ends the account's sessions; the new role counts at once
    r = s.w.user("role", "viewer", "operator")
    check(r.returncode == 0, "user role: %s" % r.stderr)
    time.sleep(1.5)
    expect(s.w.request("GET", "/api/session"), 401, "the session after its role changed")
    got = s.call("viewer", "POST", "/api/atx/wol", body={})
    check(got[0] in (200, 202), "the promoted account's WoL: %d %s" % (got[0], got[1]))
    s.w.stop()


def ws_input(s, role):
    """Opens the browser viewer's WebSocket with role's token and sends a key
    press and release, a pointer event and a clipboard message."""
    ws = WebSocket(s.w.https, origin=None, auth="Bearer " + s.tokens[role])
    check(ws.ok, "%s's WebSocket was refused" % role)
    rfb_handshake(ws)
    ws.send(struct.pack(">BBxxI", 4, 1, 0x61) + struct.pack(">BBxxI", 4, 0, 0x61))
    ws.send(struct.pack(">BBHH", 5, 1, 10, 10) + struct.pack(">BBHH", 5, 0, 10, 10))
    ws.send(struct.pack(">BxxxI", 6, 5) + b"hello")
    time.sleep(0.5)
    return ws


def case_viewers(env):
    """What reaches the keyboard: a viewer account's browser viewer and a VNC
    viewer with the view-only password (`piglix vnc-passwd --view-only`;
    vncsnapshot gets the picture with it) send keys, pointer and clipboard,
    all dropped and counted; an operator's browser viewer and the full
    password's VNC viewer get through. A wrong password is refused as ever."""
    s = Site(env, vnc__auth="vnc")
    p = s.w.p
    for args, pw in (([], "fullpw1"), (["--view-only"], "viewonly")):
        r = subprocess.run([env.piglix, "-c", p.config, "vnc-passwd"] + args, input=pw + "\n",
                           text=True, capture_output=True, timeout=30)
        check(r.returncode == 0, "vnc-passwd %s: %s" % (args, r.stderr))
    full, view = p.password_file, os.path.join(p.state, "vnc-view.passwd")
    check(os.stat(view).st_mode & 0o777 == 0o600, "vnc-view.passwd is not 0600")
    s.start()
    ws = ws_input(s, "viewer")
    deadline = time.time() + 10
    while True:  # the server thread publishes its statistics each turn
        st, _, text, _ = expect(s.call("admin", "GET", "/api/metrics"), 200, "metrics")
        m = re.search(rb"piglix_vnc_input_dropped_total (\d+)", text)
        if (m and int(m.group(1)) == 5) or time.time() > deadline:
            break
        time.sleep(0.2)
    check(m and int(m.group(1)) == 5, "a viewer's 5 input messages not counted as dropped: %s" % (m and m.group(0)))
    ws.close()
    ws = ws_input(s, "operator")
    ws.close()

    out = os.path.join(env.tmp, "view.jpg")
    r = subprocess.run(["vncsnapshot", "-passwd", view, "-quiet", "127.0.0.1::%d" % p.port, out],
                       capture_output=True, text=True, timeout=60)
    check(r.returncode == 0 and os.path.getsize(out) > 1000, "vncsnapshot with the view-only password: %s" % r.stderr)
    p.password_file = view
    p.probe("keys", "61", "41", check_rc=0)
    p.probe("pointer", "100", "200", "1", check_rc=0)
    p.password_file = full
    p.probe("keys", "62", check_rc=0)
    wrong = os.path.join(env.tmp, "wrong.passwd")
    with open(view, "rb") as f:
        data = bytearray(f.read())
    data[0] ^= 1
    with open(wrong, "wb") as f:
        f.write(bytes(data))
    os.chmod(wrong, 0o600)
    p.password_file = wrong
    r = p.probe("keys", "63")
    check(r.returncode == 3, "a wrong password: rfbprobe exit %d" % r.returncode)
    log = s.w.stop()
    m = re.search(INPUT_RE, log)
    check(m, "no input statistics in the log")
    keys, codes, ptr = map(int, m.groups())
    # the operator's press+release and 2 pointer events, the full password's press+release
    check(keys == 4 and ptr == 2, "want 4 keys and 2 pointer events, got %s" % m.group(0))
    check("(view only: role viewer)" in log, "the viewer's WebSocket not logged as view-only")
    check("authenticated with the view-only password" in log, "the view-only VNC login not logged")


def redfish(s):
    """Redfish roles with sushy: AccountService lists Administrator,
    Operator and ReadOnly and each account's RoleId; a ReadOnly account's
    Reset, InsertMedia and account change are refused 403
    InsufficientPrivilege (no magic packet); an Operator's Reset is accepted."""
    base = "https://127.0.0.1:%d" % s.w.https
    cert = os.path.join(s.w.p.state, "web-cert.pem")
    st, js, _, _ = expect(s.w.request("GET", RF + "/AccountService/Roles", headers=s.basic("viewer"), cookie=False),
                          200, "Roles")
    ids = sorted(m["@odata.id"].rsplit("/", 1)[1] for m in js["Members"])
    check(ids == ["Administrator", "Operator", "ReadOnly"], "Roles: %s" % ids)
    for role, rid in (("viewer", "ReadOnly"), ("operator", "Operator"), ("admin", "Administrator")):
        st, js, _, _ = expect(s.w.request("GET", RF + "/AccountService/Accounts/" + role,
                                          headers=s.basic("admin"), cookie=False), 200, "account " + role)
        check(js["RoleId"] == rid and js["Links"]["Role"]["@odata.id"].endswith("/" + rid), "RoleId: %s" % js)

    # sushy's BasicAuth: with session auth, sushy 4.3 answers a 403 by making
    # a new session and retrying once, then returns the second 403 without
    # raising (connector.py), so only the magic packet would tell
    ro = redfish_clients.sushy_basic(base, "viewer", PASSWORD, cert)
    system = ro.get_system()  # reading is allowed
    s.drain()
    try:
        system.reset_system(sushy.ResetType.ON)
        raise TestFailure("a ReadOnly account's Reset was accepted")
    except sx.HTTPError as e:
        check(e.status_code == 403 and e.code.endswith(".InsufficientPrivilege"),
              "ReadOnly Reset: %s %s" % (e.status_code, e.code))
    check(s.packets(0, 0.3) == 0, "a refused Reset sent a magic packet")
    cd = RF + "/Managers/1/VirtualMedia/CD"
    for method, path, body in (("POST", cd + "/Actions/VirtualMedia.InsertMedia", {"Image": "http://127.0.0.1/x.iso"}),
                               ("POST", cd + "/Actions/VirtualMedia.EjectMedia", {}),
                               ("PATCH", RF + "/SessionService", {"SessionTimeout": 600}),
                               ("POST", RF + "/AccountService/Accounts", {"UserName": "x", "Password": "y"})):
        st, js, _, _ = s.w.request(method, path, body=body, headers=s.basic("viewer"), cookie=False)
        code = ((js or {}).get("error") or {}).get("code", "")
        check(st == 403 and code.endswith(".InsufficientPrivilege"), "ReadOnly %s %s: %d %s" % (method, path, st, js))
    # the Operator may reset and mount, not configure
    op = redfish_clients.sushy_client(base, "operator", PASSWORD, cert)
    op.get_system().reset_system(sushy.ResetType.ON)
    check(s.packets(1, 5.0) == 1, "the Operator's Reset sent no magic packet")
    st, js, _, _ = s.w.request("POST", cd + "/Actions/VirtualMedia.EjectMedia", body={},
                               headers=s.basic("operator"), cookie=False)
    check(st != 403, "Operator's EjectMedia refused: %s" % js)
    st, js, _, _ = s.w.request("PATCH", RF + "/SessionService", body={"SessionTimeout": 600},
                               headers=s.basic("operator"), cookie=False)
    check(st == 403, "Operator's SessionService change: %d %s" % (st, js))
    st, js, _, _ = s.w.request("POST", RF + "/AccountService/Accounts", body={"UserName": "x", "Password": "y"},
                               headers=s.basic("admin"), cookie=False)
    check(st == 405, "Administrator's account creation (managed by piglix user): %d %s" % (st, js))


def ipmitool(port, user, level, *cmd):
    pw = os.path.join(os.environ.get("TMPDIR", "/tmp"), "roles-ipmi-%d.pw" % os.getpid())
    with open(pw, "w") as f:
        f.write(PASSWORD)
    r = subprocess.run(["ipmitool", "-I", "lanplus", "-H", "127.0.0.1", "-p", str(port), "-U", user, "-f", pw,
                        "-C", "17", "-L", level, "-R", "1", "-N", "2"] + list(cmd),
                       capture_output=True, text=True, timeout=60)
    os.unlink(pw)
    return r.returncode, r.stdout + r.stderr


def case_bmc(env):
    """The management protocols on one daemon: Redfish with sushy (below),
    then ipmitool at each privilege level: a viewer logs in at USER and
    reads, but `chassis power on` fails with insufficient privilege, and it
    cannot log in at OPERATOR; an operator powers on at OPERATOR and cannot
    log in at ADMINISTRATOR; an admin can."""
    port = free_port()
    s = Site(env, ipmi__enabled="yes", ipmi__listen="127.0.0.1", ipmi__port=port)
    for role in ROLES:
        r = s.w.user("ipmi-passwd", role, stdin=PASSWORD + "\n")
        check(r.returncode == 0, "ipmi-passwd %s: %s" % (role, r.stderr))
    s.start()
    redfish(s)
    rc, out = ipmitool(port, "viewer", "USER", "mc", "info")
    check(rc == 0, "viewer at USER, mc info: %s" % out)
    rc, out = ipmitool(port, "viewer", "USER", "chassis", "power", "on")
    check(rc != 0 and "insufficient privilege" in out.lower(), "viewer at USER, power on: %d %s" % (rc, out))
    for user, level in (("viewer", "OPERATOR"), ("viewer", "ADMINISTRATOR"), ("operator", "ADMINISTRATOR")):
        rc, out = ipmitool(port, user, level, "mc", "info")
        check(rc != 0, "%s logged in at %s: %s" % (user, level, out))
    rc, out = ipmitool(port, "operator", "OPERATOR", "chassis", "power", "on")
    check("insufficient privilege" not in out.lower(), "operator at OPERATOR, power on: %d %s" % (rc, out))
    rc, out = ipmitool(port, "operator", "USER", "chassis", "power", "on")
    check(rc != 0 and "insufficient privilege" in out.lower(), "operator at USER, power on: %d %s" % (rc, out))
    rc, out = ipmitool(port, "admin", "ADMINISTRATOR", "mc", "info")
    check(rc == 0, "admin at ADMINISTRATOR: %s" % out)
    # Every refusal above is in the audit log with the account: Redfish's
    # LogService and the IPMI SEL show them (audit/README.md).
    deadline = time.monotonic() + 5
    while True:
        st, js, _, _ = expect(s.w.request("GET", RF + "/Managers/1/LogServices/Log/Entries?$top=500",
                                          headers=s.basic("admin"), cookie=False), 200, "log entries")
        refused = [e["Oem"]["piglix"] for e in js["Members"] if e["Oem"]["piglix"]["Kind"] == "role_refused"]
        by = {(e["Account"], e["Interface"]) for e in refused}
        if {("viewer", "redfish"), ("viewer", "ipmi"), ("operator", "ipmi")} <= by or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    check({("viewer", "redfish"), ("viewer", "ipmi"), ("operator", "ipmi")} <= by,
          "role refusals in Redfish's log: %s" % sorted(by))
    rc, out = ipmitool(port, "admin", "ADMINISTRATOR", "sel", "list")
    check(rc == 0 and "Platform Security" in out, "role refusals in the SEL: %d %s" % (rc, out))
    log = s.w.stop()
    check("refused: needs privilege level" in log, "no IPMI refusal logged")


CASES = {n[5:]: f for n, f in globals().items() if n.startswith("case_")}

if __name__ == "__main__":
    sys.exit(run(CASES))
