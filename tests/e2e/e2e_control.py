#!/usr/bin/env python3
"""Who is connected and who has the keyboard ([control], control/): the
session list across interfaces (a browser viewer's WebSocket, a VNC viewer
on the TCP port, an API token, a Redfish session, an IPMI session, web
sessions), each ended by an admin and really disconnected; exclusive control
checked at the HID backend (piglix's debug log of every event that reaches
it): the idle release and a holder that vanishes. The hand-over between two
viewers is tested in Chromium (tests/browser/control.test.mjs)."""
import json
import re
import socket
import struct
import subprocess
import sys
import time

from piglix_e2e import check, free_port, run, TestFailure
from e2e_web import Web, WebSocket, rfb_handshake, expect, tls_context, PASSWORD

KEY_A, KEY_B, KEY_C = 0x61, 0x62, 0x63


class Client:
    """One more logged-in browser (its own cookie and CSRF token) on w."""

    def __init__(self, w, name):
        self.w, self.cookie, self.csrf = w, None, None
        saved = (w.cookie, w.csrf)
        w.cookie = w.csrf = None
        w.login(name)
        self.cookie, self.csrf = w.cookie, w.csrf
        w.cookie, w.csrf = saved

    def request(self, method, path, body=None, headers=None):
        saved = (self.w.cookie, self.w.csrf)
        self.w.cookie, self.w.csrf = self.cookie, self.csrf
        try:
            return self.w.request(method, path, body, headers=headers)
        finally:
            self.w.cookie, self.w.csrf = saved

    def viewer(self):
        ws = WebSocket(self.w.https, cookie=self.cookie)
        check(ws.ok, "WebSocket refused:\n" + self.w.p.read_log()[-2000:])
        rfb_handshake(ws)
        return ws


def key(ws, sym, down):
    ws.send(struct.pack(">BBxxI", 4, 1 if down else 0, sym))


def tcp_viewer(port):
    """A viewer on the VNC port ([vnc] auth = none on loopback): RFB 3.8 up
    to ServerInit."""
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    check(s.recv(12) == b"RFB 003.008\n", "no RFB version on the VNC port")
    s.sendall(b"RFB 003.008\n")
    n = s.recv(1)[0]
    types = s.recv(n)
    check(1 in types, "security None not offered: %r" % types)
    s.sendall(b"\x01")
    check(s.recv(4) == b"\0\0\0\0", "security result not OK")
    s.sendall(b"\x01")
    head = b""
    while len(head) < 24:
        head += s.recv(24 - len(head))
    nlen = struct.unpack(">I", head[20:24])[0]
    while nlen:
        nlen -= len(s.recv(nlen))
    return s


def closed(sock_like, timeout=5):
    """True once the peer closed (EOF or reset) within timeout."""
    t0 = time.time()
    while time.time() - t0 < timeout:
        try:
            if isinstance(sock_like, WebSocket):
                sock_like.frame()
                continue
            sock_like.settimeout(timeout)
            if not sock_like.recv(65536):
                return True
        except (EOFError, OSError):
            return True
    return False


def sessions(c):
    st, js, _, _ = c.request("GET", "/api/sessions")
    check(st == 200, "GET /api/sessions: %d %s" % (st, js))
    return js


def find(js, iface, account):
    got = [s for s in js["sessions"] if s["interface"] == iface and s["account"] == account]
    check(len(got) == 1, "want one %s session of %s, have %s" % (iface, account, json.dumps(js["sessions"])))
    return got[0]


def wait_for(fn, what, timeout=10):
    t0 = time.time()
    while time.time() - t0 < timeout:
        v = fn()
        if v:
            return v
        time.sleep(0.1)
    raise TestFailure("timed out waiting for " + what)


def hid_events(log):
    """The key events that reached the HID backend, in order: (keysym, down)
    and ("release", None) for a release-all."""
    out = []
    for m in re.finditer(r"hid: (?:key keysym=0x([0-9a-f]+) (down|up)|(release all))", log):
        out.append(("release", None) if m.group(3) else (int(m.group(1), 16), m.group(2) == "down"))
    return out


def case_sessions_list_and_end(env):
    """A browser viewer, a VNC TCP viewer, an API token (with a stream open),
    a Redfish session, an IPMI session (ipmitool) and two web sessions are listed with the right
    interface and account; an admin ends each and it is disconnected."""
    ipmi_port = free_port()
    w = Web(env, log__level="debug", ipmi__enabled="yes", ipmi__listen="127.0.0.1", ipmi__port=ipmi_port)
    w.add_user("admin")
    w.add_user("bob")
    r = w.user("ipmi-passwd", "bob", stdin="ipmi-pw-1\n")
    check(r.returncode == 0, "ipmi-passwd: %s" % r.stderr)
    r = w.user("token", "bob")
    check(r.returncode == 0, "user token: %s" % r.stderr)
    token = re.search(r"[0-9a-f]{64}", r.stdout).group(0)
    w.start()
    w.login("admin")
    bob = Client(w, "bob")
    ws = bob.viewer()
    vnc = tcp_viewer(w.p.port)
    # the API token, with an MJPEG stream held open on it
    stream = tls_context().wrap_socket(socket.create_connection(("127.0.0.1", w.https), timeout=10))
    stream.sendall(("GET /api/stream.mjpg HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nAuthorization: Bearer %s\r\n\r\n"
                    % (w.https, token)).encode())
    head = stream.recv(4096)
    check(head.startswith(b"HTTP/1.1 200"), "token stream: %r" % head[:100])
    # a Redfish session
    st, js, _, resp = w.request("POST", "/redfish/v1/SessionService/Sessions",
                                {"UserName": "bob", "Password": PASSWORD}, cookie=False, csrf=False)
    check(st == 201, "Redfish login: %d %s" % (st, js))
    rf_token, rf_uri = resp.getheader("X-Auth-Token"), resp.getheader("Location")
    # an IPMI session: ipmitool's shell keeps one open between commands
    ipmi = subprocess.Popen(["ipmitool", "-I", "lanplus", "-H", "127.0.0.1", "-p", str(ipmi_port), "-U", "bob",
                             "-P", "ipmi-pw-1", "-C", "17", "-L", "OPERATOR", "-N", "1", "-R", "1", "shell"],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        check_and_end(w, bob, token, ws, vnc, stream, rf_token, rf_uri, ipmi)
    finally:
        if ipmi.poll() is None:
            ipmi.kill()
            ipmi.wait()
    log = w.stop()
    for line in ("client 127.0.0.1: session ended by an admin", "bob@127.0.0.1: API client ended by an admin",
                 "viewer ended by an admin", "ended by an admin)", "bob@127.0.0.1: session ended by an admin",
                 "of bob from 127.0.0.1"):
        check(line in log, "not logged: %r" % line)


def check_and_end(w, bob, token, ws, vnc, stream, rf_token, rf_uri, ipmi):
    ipmi.stdin.write("mc guid\n")
    ipmi.stdin.flush()
    wait_for(lambda: [s for s in sessions(w)["sessions"] if s["interface"] == "ipmi"], "the IPMI session")

    js = sessions(w)
    me = find(js, "web", "admin")
    check(me["you"] and js["you"] == me["id"], "the admin's own session is not 'you': %s" % js)
    bweb = find(js, "web", "bob")
    view = find(js, "browser", "bob")
    check(view["parent"] == bweb["id"] and not view["you"], "the viewer belongs to bob's web session: %s" % view)
    tcp = find(js, "vnc", "vnc")
    tok = find(js, "api", "bob")
    rfs = find(js, "redfish", "bob")
    ips = find(js, "ipmi", "bob")
    check(ips["role"] == "operator" and ips["address"].startswith("127.0.0.1:"), "the IPMI session: %s" % ips)
    # every account is an admin until accounts carry roles; the VNC password is no account
    check(tcp["role"] == "operator", "a VNC-password viewer's role: %s" % tcp)
    for s in (me, bweb, view, tcp, tok, rfs, ips):
        check(s["address"].startswith("127.0.0.1") and s["role"] in ("admin", "operator") and s["started"] > 1.7e9 and
              s["last_activity"] >= s["started"], "session fields: %s" % s)
    # everyone sees the list; the same list from bob's side marks his own
    bjs = sessions(bob)
    check([s["id"] for s in bjs["sessions"] if s["you"]] == sorted([bweb["id"], view["id"]]),
          "bob's 'you': %s" % bjs)
    # Redfish's own SessionService shows its session
    _, rfl, _, _ = w.request("GET", "/redfish/v1/SessionService/Sessions", cookie=False,
                             headers={"X-Auth-Token": rf_token})
    check([m["@odata.id"] for m in rfl["Members"]] == [rf_uri], "Redfish sessions: %s" % rfl)

    # ending is a state change: CSRF and origin checked, unknown ids 404
    expect(w.request("POST", "/api/sessions/%d/end" % tcp["id"], csrf=False), 403, "end without CSRF")
    expect(w.request("POST", "/api/sessions/%d/end" % tcp["id"], headers={"Origin": "https://evil.example"}),
           403, "end from another origin")
    expect(w.request("POST", "/api/sessions/999999/end"), 404, "end an unknown session")
    expect(w.request("POST", "/api/sessions/0%d/end" % tcp["id"]), 404, "a non-canonical id")
    expect(w.request("GET", "/api/sessions/%d/end" % tcp["id"]), 405, "GET on end")

    for s, conn, what in ((tcp, vnc, "VNC viewer"), (view, ws, "browser viewer")):
        t0 = time.time()
        expect(w.request("POST", "/api/sessions/%d/end" % s["id"]), 202, "end the " + what)
        check(closed(conn), "the %s stayed connected after its session was ended" % what)
        check(time.time() - t0 < 3, "the %s closed only after %.1f s" % (what, time.time() - t0))
    expect(w.request("POST", "/api/sessions/%d/end" % tok["id"]), 202, "end the API client")
    check(closed(stream), "the API client's stream stayed open after it was ended")
    expect(w.request("POST", "/api/sessions/%d/end" % rfs["id"]), 202, "end the Redfish session")
    expect(w.request("POST", "/api/sessions/%d/end" % bweb["id"]), 202, "end bob's web session")
    expect(w.request("POST", "/api/sessions/%d/end" % ips["id"]), 202, "end the IPMI session")
    try:
        js = wait_for(lambda: (lambda j: j if len(j["sessions"]) == 1 else None)(sessions(w)),
                      "every ended session to leave the list")
    except TestFailure:
        raise TestFailure("sessions left after ending them: %s" % sessions(w)["sessions"])
    check(js["sessions"][0]["id"] == me["id"], "left: %s" % js)
    st, _, _, _ = w.request("GET", "/redfish/v1/SessionService/Sessions", cookie=False,
                            headers={"X-Auth-Token": rf_token})
    check(st == 401, "the ended Redfish token still works: %d" % st)
    st, _, _, _ = bob.request("GET", "/api/info")
    check(st == 401, "bob's ended web session still works: %d" % st)
    # ipmitool's next command in the ended session gets no answer
    ipmi.stdin.write("mc guid\nquit\n")
    ipmi.stdin.flush()
    out = ipmi.communicate(timeout=30)[0]
    check(out.count("System GUID") == 1, "ipmitool's session still answered after it was ended:\n" + out)


def state(c):
    st, js, _, _ = c.request("GET", "/api/control")
    check(st == 200, "GET /api/control: %d %s" % (st, js))
    return js


def case_exclusive_idle_and_vanished(env):
    """The keyboard is released after idle_release_s without input, and at
    once when its holder's viewer vanishes (the TCP connection just drops):
    the other viewer then types, and what the holder held is released."""
    w = Web(env, log__level="debug", control__mode="exclusive", control__idle_release_s=2)
    w.add_user("alice")
    w.add_user("bob")
    w.start()
    alice, bob = Client(w, "alice"), Client(w, "bob")
    wa, wb = alice.viewer(), bob.viewer()
    key(wa, KEY_A, True)
    key(wa, KEY_A, False)
    wait_for(lambda: state(bob)["holder"], "alice to hold the keyboard")
    t0 = time.time()
    wait_for(lambda: state(bob)["holder"] is None, "the idle release", timeout=6)
    idle = time.time() - t0
    check(1.0 < idle < 4.5, "released after %.1f s of a 2 s idle time" % idle)
    before = len(hid_events(w.p.read_log()))
    key(wb, KEY_B, True)       # bob now types, and keeps 'b' down
    wait_for(lambda: (KEY_B, True) in hid_events(w.p.read_log())[before:], "bob's key after the idle release")
    check(state(alice)["holder"]["account"] == "bob", "bob holds")
    # bob's connection vanishes (no close frame, no logout)
    wb.s.shutdown(socket.SHUT_RDWR)
    wb.close()
    wait_for(lambda: state(alice)["holder"] is None, "the vanished holder's release", timeout=5)

    def released():  # the HID thread logs it a moment after the holder changed
        ev = hid_events(w.p.read_log())[before:]
        return ("release", None) in ev[ev.index((KEY_B, True)):]
    try:
        wait_for(released, "bob's held key released", timeout=3)
    except TestFailure:
        raise TestFailure("bob's held key was not released: %s" % hid_events(w.p.read_log())[before:])
    before = len(hid_events(w.p.read_log()))
    key(wa, KEY_C, True)
    key(wa, KEY_C, False)
    wait_for(lambda: (KEY_C, False) in hid_events(w.p.read_log())[before:], "alice types again")
    w.stop()


CASES = {name[5:]: fn for name, fn in globals().items() if name.startswith("case_")}

if __name__ == "__main__":
    sys.exit(run(CASES))
