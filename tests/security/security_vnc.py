#!/usr/bin/env python3
"""Attacks on the VNC port, replayed against a live piglix ([vnc] with a
password and [web] on):

- the security-type race: a TCP client parked after its version is offered
  VncAuth, a browser viewer (the web bridge's pre-authenticated client)
  negotiates, and the parked client then picks None, never offered to it
  (it got in without the password); in either order, with many parked
  clients, and with legitimate handshakes interleaved message by message
  (both get in, nobody else does) for RFB 3.3, 3.7 and 3.8;
- handshake starvation: idle connections that never finish the handshake
  must not keep a browser viewer or a TCP viewer with the password out;
  max_clients counts authenticated viewers only;
- binding: [vnc] listen binds exactly what is configured and says so.

The VncAuth response is computed here (DES written from FIPS 46-3, as VNC
uses it: key bits mirrored per byte), so a test can drive each message.
Usage: security_vnc.py PIGLIX TOOLS_DIR CASE | --list"""
import os
import re
import socket
import struct
import subprocess
import sys
import time

import security_common  # noqa: F401 (puts tests/e2e on sys.path)
from piglix_e2e import Piglix, check, PASSWORD as VNC_PASSWORD  # noqa: E402
from e2e_web import Web, WebSocket, PASSWORD as WEB_PASSWORD  # noqa: E402

# ---- DES (encryption only, ECB), enough for a VncAuth response ----

_PC1 = [57, 49, 41, 33, 25, 17, 9, 1, 58, 50, 42, 34, 26, 18, 10, 2, 59, 51, 43, 35, 27, 19, 11, 3,
        60, 52, 44, 36, 63, 55, 47, 39, 31, 23, 15, 7, 62, 54, 46, 38, 30, 22, 14, 6, 61, 53, 45, 37,
        29, 21, 13, 5, 28, 20, 12, 4]
_PC2 = [14, 17, 11, 24, 1, 5, 3, 28, 15, 6, 21, 10, 23, 19, 12, 4, 26, 8, 16, 7, 27, 20, 13, 2,
        41, 52, 31, 37, 47, 55, 30, 40, 51, 45, 33, 48, 44, 49, 39, 56, 34, 53, 46, 42, 50, 36, 29, 32]
_SHIFTS = [1, 1, 2, 2, 2, 2, 2, 2, 1, 2, 2, 2, 2, 2, 2, 1]
_IP = [58, 50, 42, 34, 26, 18, 10, 2, 60, 52, 44, 36, 28, 20, 12, 4, 62, 54, 46, 38, 30, 22, 14, 6,
       64, 56, 48, 40, 32, 24, 16, 8, 57, 49, 41, 33, 25, 17, 9, 1, 59, 51, 43, 35, 27, 19, 11, 3,
       61, 53, 45, 37, 29, 21, 13, 5, 63, 55, 47, 39, 31, 23, 15, 7]
_FP = [40, 8, 48, 16, 56, 24, 64, 32, 39, 7, 47, 15, 55, 23, 63, 31, 38, 6, 46, 14, 54, 22, 62, 30,
       37, 5, 45, 13, 53, 21, 61, 29, 36, 4, 44, 12, 52, 20, 60, 28, 35, 3, 43, 11, 51, 19, 59, 27,
       34, 2, 42, 10, 50, 18, 58, 26, 33, 1, 41, 9, 49, 17, 57, 25]
_E = [32, 1, 2, 3, 4, 5, 4, 5, 6, 7, 8, 9, 8, 9, 10, 11, 12, 13, 12, 13, 14, 15, 16, 17,
      16, 17, 18, 19, 20, 21, 20, 21, 22, 23, 24, 25, 24, 25, 26, 27, 28, 29, 28, 29, 30, 31, 32, 1]
_P = [16, 7, 20, 21, 29, 12, 28, 17, 1, 15, 23, 26, 5, 18, 31, 10, 2, 8, 24, 14, 32, 27, 3, 9,
      19, 13, 30, 6, 22, 11, 4, 25]
_S = [
    [14, 4, 13, 1, 2, 15, 11, 8, 3, 10, 6, 12, 5, 9, 0, 7, 0, 15, 7, 4, 14, 2, 13, 1, 10, 6, 12, 11, 9, 5, 3, 8,
     4, 1, 14, 8, 13, 6, 2, 11, 15, 12, 9, 7, 3, 10, 5, 0, 15, 12, 8, 2, 4, 9, 1, 7, 5, 11, 3, 14, 10, 0, 6, 13],
    [15, 1, 8, 14, 6, 11, 3, 4, 9, 7, 2, 13, 12, 0, 5, 10, 3, 13, 4, 7, 15, 2, 8, 14, 12, 0, 1, 10, 6, 9, 11, 5,
     0, 14, 7, 11, 10, 4, 13, 1, 5, 8, 12, 6, 9, 3, 2, 15, 13, 8, 10, 1, 3, 15, 4, 2, 11, 6, 7, 12, 0, 5, 14, 9],
    [10, 0, 9, 14, 6, 3, 15, 5, 1, 13, 12, 7, 11, 4, 2, 8, 13, 7, 0, 9, 3, 4, 6, 10, 2, 8, 5, 14, 12, 11, 15, 1,
     13, 6, 4, 9, 8, 15, 3, 0, 11, 1, 2, 12, 5, 10, 14, 7, 1, 10, 13, 0, 6, 9, 8, 7, 4, 15, 14, 3, 11, 5, 2, 12],
    [7, 13, 14, 3, 0, 6, 9, 10, 1, 2, 8, 5, 11, 12, 4, 15, 13, 8, 11, 5, 6, 15, 0, 3, 4, 7, 2, 12, 1, 10, 14, 9,
     10, 6, 9, 0, 12, 11, 7, 13, 15, 1, 3, 14, 5, 2, 8, 4, 3, 15, 0, 6, 10, 1, 13, 8, 9, 4, 5, 11, 12, 7, 2, 14],
    [2, 12, 4, 1, 7, 10, 11, 6, 8, 5, 3, 15, 13, 0, 14, 9, 14, 11, 2, 12, 4, 7, 13, 1, 5, 0, 15, 10, 3, 9, 8, 6,
     4, 2, 1, 11, 10, 13, 7, 8, 15, 9, 12, 5, 6, 3, 0, 14, 11, 8, 12, 7, 1, 14, 2, 13, 6, 15, 0, 9, 10, 4, 5, 3],
    [12, 1, 10, 15, 9, 2, 6, 8, 0, 13, 3, 4, 14, 7, 5, 11, 10, 15, 4, 2, 7, 12, 9, 5, 6, 1, 13, 14, 0, 11, 3, 8,
     9, 14, 15, 5, 2, 8, 12, 3, 7, 0, 4, 10, 1, 13, 11, 6, 4, 3, 2, 12, 9, 5, 15, 10, 11, 14, 1, 7, 6, 0, 8, 13],
    [4, 11, 2, 14, 15, 0, 8, 13, 3, 12, 9, 7, 5, 10, 6, 1, 13, 0, 11, 7, 4, 9, 1, 10, 14, 3, 5, 12, 2, 15, 8, 6,
     1, 4, 11, 13, 12, 3, 7, 14, 10, 15, 6, 8, 0, 5, 9, 2, 6, 11, 13, 8, 1, 4, 10, 7, 9, 5, 0, 15, 14, 2, 3, 12],
    [13, 2, 8, 4, 6, 15, 11, 1, 10, 9, 3, 14, 5, 0, 12, 7, 1, 15, 13, 8, 10, 3, 7, 4, 12, 5, 6, 11, 0, 14, 9, 2,
     7, 11, 4, 1, 9, 12, 14, 2, 0, 6, 10, 13, 15, 3, 5, 8, 2, 1, 14, 7, 4, 10, 8, 13, 15, 12, 9, 0, 3, 5, 6, 11],
]


def _permute(value, table, width):
    out = 0
    for pos in table:
        out = (out << 1) | ((value >> (width - pos)) & 1)
    return out


def _des_encrypt(key8, block8):
    k = _permute(int.from_bytes(key8, "big"), _PC1, 64)
    c, d = k >> 28, k & 0xFFFFFFF
    subkeys = []
    for s in _SHIFTS:
        c = ((c << s) | (c >> (28 - s))) & 0xFFFFFFF
        d = ((d << s) | (d >> (28 - s))) & 0xFFFFFFF
        subkeys.append(_permute((c << 28) | d, _PC2, 56))
    b = _permute(int.from_bytes(block8, "big"), _IP, 64)
    left, right = b >> 32, b & 0xFFFFFFFF
    for sk in subkeys:
        x = _permute(right, _E, 32) ^ sk
        f = 0
        for i in range(8):
            six = (x >> (42 - 6 * i)) & 0x3F
            f = (f << 4) | _S[i][((six & 0x20) | ((six & 1) << 4)) | ((six >> 1) & 0xF)]
        left, right = right, left ^ _permute(f, _P, 32)
    return _permute((right << 32) | left, _FP, 64).to_bytes(8, "big")


def vncauth_response(password, challenge):
    key = bytes(int("{:08b}".format(b)[::-1], 2) for b in password.encode()[:8].ljust(8, b"\0"))
    return _des_encrypt(key, challenge[:8]) + _des_encrypt(key, challenge[8:16])


# ---- raw RFB over TCP, one message at a time ----

def recv_exact(s, n):
    out = b""
    while len(out) < n:
        chunk = s.recv(n - len(out))
        if not chunk:
            raise EOFError("closed after %d of %d bytes" % (len(out), n))
        out += chunk
    return out


class Tcp:
    """A TCP RFB client driven step by step, from a chosen source address."""

    def __init__(self, port, source="127.0.0.1", host="127.0.0.1", timeout=10):
        fam = socket.AF_INET6 if ":" in host else socket.AF_INET
        self.s = socket.socket(fam, socket.SOCK_STREAM)
        self.s.settimeout(timeout)
        if fam == socket.AF_INET:
            self.s.bind((source, 0))
        self.s.connect((host, port))

    def greeting(self):
        v = recv_exact(self.s, 12)
        check(v == b"RFB 003.008\n", "server version %r" % v)

    def version(self, minor=8):
        self.s.sendall(b"RFB 003.%03d\n" % minor)
        self.minor = minor
        if minor == 3:
            return [struct.unpack(">I", recv_exact(self.s, 4))[0]]
        n = recv_exact(self.s, 1)[0]
        return list(recv_exact(self.s, n))

    def choose(self, t):
        self.s.sendall(bytes([t]))

    def challenge(self):
        return recv_exact(self.s, 16)

    def respond(self, challenge, password=VNC_PASSWORD):
        self.s.sendall(vncauth_response(password, challenge))

    def result(self):
        """(status, reason) of SecurityResult; None when the server closed."""
        try:
            st = struct.unpack(">I", recv_exact(self.s, 4))[0]
        except (EOFError, OSError):
            return None, ""
        reason = ""
        if st != 0 and self.minor >= 8:
            try:
                n = struct.unpack(">I", recv_exact(self.s, 4))[0]
                reason = recv_exact(self.s, n).decode(errors="replace")
            except (EOFError, OSError):
                pass
        return st, reason

    def client_init(self):
        self.s.sendall(b"\x01")
        w, h = struct.unpack(">HH", recv_exact(self.s, 4))
        recv_exact(self.s, 16)
        n = struct.unpack(">I", recv_exact(self.s, 4))[0]
        recv_exact(self.s, n)
        return w, h

    def closed_or_refused(self):
        """True when the server gives nothing usable: closed, or a failure."""
        st, _ = self.result()
        if st is None or st != 0:
            return True
        try:
            self.client_init()
        except (EOFError, OSError):
            return True
        return False

    def close(self):
        self.s.close()


def login_viewer(w):
    """A logged-in browser viewer: the WebSocket upgraded, the server's
    version read; nothing sent yet."""
    ws = WebSocket(w.https, cookie=w.cookie)
    check(ws.ok, "WebSocket upgrade refused:\n" + w.p.read_log()[-2000:])
    check(ws.read(12) == b"RFB 003.008\n", "no RFB version over the WebSocket")
    return ws


def ws_types(ws):
    ws.send(b"RFB 003.008\n")
    n = ws.read(1)[0]
    return list(ws.read(n))


def ws_finish(ws):
    ws.send(b"\x01")
    st = ws.read(4)
    check(st == b"\0\0\0\0", "browser viewer: SecurityResult %r" % st)
    ws.send(b"\x01")
    w, h = struct.unpack(">HH", ws.read(4))
    ws.read(16)
    ws.read(struct.unpack(">I", ws.read(4))[0])
    return w, h


def web_and_vnc(env, **options):
    """piglix with [web] (an account, logged in) and the VNC port behind its
    password."""
    opts = dict(vnc__auth="vnc")
    opts.update(options)
    w = Web(env, **opts)
    r = subprocess.run([env.piglix, "-c", w.p.config, "vnc-passwd"], input=VNC_PASSWORD + "\n",
                       text=True, capture_output=True, timeout=30)
    check(r.returncode == 0, "vnc-passwd: %s" % r.stderr)
    w.add_user()
    w.start()
    w.login()
    return w


def expect_none_refused(t, w, who):
    check(t.closed_or_refused(), "%s: security None accepted without the password\n%s" % (
        who, w.p.read_log()[-3000:]))


# ---- finding 1: the security-type race ----

def case_vnc_parked_none_after_browser(env):
    """The issue's sequence: TCP client parked after its version, a browser
    viewer negotiates, the parked client picks None."""
    w = web_and_vnc(env)
    t = Tcp(w.p.port)
    t.greeting()
    check(t.version() == [2], "TCP client not offered VncAuth only")
    ws = login_viewer(w)
    check(ws_types(ws) == [1], "browser viewer not offered None only")
    t.choose(1)
    expect_none_refused(t, w, "parked TCP client")
    ws_finish(ws)
    ws.close()
    w.stop()


def case_vnc_many_parked(env):
    """Many parked TCP clients, several browser viewers between: none of the
    parked ones gets in with None or with a type it was not offered."""
    w = web_and_vnc(env)
    parked = []
    for i in range(12):
        t = Tcp(w.p.port, source="127.0.0.%d" % (2 + i))
        t.greeting()
        check(t.version() == [2], "parked client %d not offered VncAuth only" % i)
        parked.append(t)
    viewers = []
    for _ in range(3):
        ws = login_viewer(w)
        check(ws_types(ws) == [1], "browser viewer not offered None only")
        viewers.append(ws)
    for i, t in enumerate(parked):
        t.choose(1 if i % 3 else 16 + i)  # None, or a type never offered
        expect_none_refused(t, w, "parked client %d" % i)
    for ws in viewers:
        ws_finish(ws)
        ws.close()
    log = w.p.read_log()
    check("security type" in log, "refusals not logged")
    w.stop()


def case_vnc_browser_first(env):
    """The reverse order: a browser viewer negotiates, then a TCP client
    negotiates, then both choose. The TCP client must not get None; the
    browser viewer must still get in (it used to be closed)."""
    w = web_and_vnc(env)
    ws = login_viewer(w)
    check(ws_types(ws) == [1], "browser viewer not offered None only")
    t = Tcp(w.p.port)
    t.greeting()
    check(t.version() == [2], "TCP client not offered VncAuth only")
    ws_finish(ws)
    t.choose(1)
    expect_none_refused(t, w, "TCP client")
    ws.close()
    w.stop()


def interleaved(env, w, minor):
    """A TCP viewer with the password and a browser viewer, their handshakes
    interleaved message by message, an attacker's parked client beside."""
    atk = Tcp(w.p.port, source="127.0.0.9")
    atk.greeting()
    t = Tcp(w.p.port)
    t.greeting()
    ws = login_viewer(w)
    atk_types = atk.version(8)
    types = t.version(minor)
    check(types == [2], "RFB 3.%d TCP viewer offered %r, want VncAuth only" % (minor, types))
    check(ws_types(ws) == [1], "browser viewer not offered None only")
    check(atk_types == [2], "attacker offered %r" % atk_types)
    if minor != 3:
        t.choose(2)
    ws.send(b"\x01")
    ch = t.challenge()
    check(ws.read(4) == b"\0\0\0\0", "browser viewer: SecurityResult not OK")
    atk.choose(1)
    t.respond(ch)
    ws.send(b"\x01")
    st, reason = t.result()
    check(st == 0, "RFB 3.%d TCP viewer with the password refused: %r %r\n%s" % (
        minor, st, reason, w.p.read_log()[-3000:]))
    w1, h1 = t.client_init()
    w2, h2 = struct.unpack(">HH", ws.read(4))
    check((w1, h1) == (w2, h2) == (1280, 720), "ServerInit sizes %dx%d %dx%d" % (w1, h1, w2, h2))
    expect_none_refused(atk, w, "attacker beside RFB 3.%d" % minor)
    t.close()
    ws.close()
    atk.close()


def case_vnc_interleaved(env):
    w = web_and_vnc(env)
    for minor in (8, 7, 3):
        interleaved(env, w, minor)
    w.stop()


def case_vnc_versions(env):
    """3.3, 3.7, 3.8 and Apple's 3.889 get in with the password; a wrong
    password is refused with a reason (3.8); other versions are refused."""
    w = web_and_vnc(env)
    for minor in (3, 7, 8, 889):
        t = Tcp(w.p.port)
        t.greeting()
        types = t.version(minor)
        check(types == [2], "RFB 3.%d: offered %r" % (minor, types))
        if minor != 3:
            t.choose(2)
        t.respond(t.challenge())
        t.minor = 8 if minor == 889 else minor
        st, reason = t.result()
        check(st == 0, "RFB 3.%d with the password: %r %r" % (minor, st, reason))
        check(t.client_init() == (1280, 720), "RFB 3.%d: ServerInit" % minor)
        t.close()
    t = Tcp(w.p.port)
    t.greeting()
    t.version(8)
    t.choose(2)
    t.respond(t.challenge(), password="wrongpw1")
    st, reason = t.result()
    check(st == 1 and reason, "wrong password: result %r reason %r" % (st, reason))
    t.close()
    for bad in (b"RFB 003.005\n", b"RFB 004.000\n", b"RFB 003.0a8\n"):
        t = Tcp(w.p.port)
        t.greeting()
        t.s.sendall(bad)
        try:
            got = t.s.recv(64)
        except OSError:
            got = b""
        check(got == b"", "version %r answered %r" % (bad, got))
        t.close()
    w.stop()


# ---- finding 2: handshake starvation ----

def case_vnc_idle_handshakes(env):
    """Dozens of idle connections (never past the version string) from many
    addresses, and more from one: a browser viewer and a TCP viewer with the
    password still get in."""
    w = web_and_vnc(env)
    idle = []
    for i in range(40):
        t = Tcp(w.p.port, source="127.0.0.%d" % (10 + i))
        t.greeting()
        idle.append(t)
    for i in range(20):
        t = Tcp(w.p.port, source="127.0.0.3")
        idle.append(t)
    time.sleep(0.5)
    ws = login_viewer(w)
    check(ws_types(ws) == [1], "browser viewer not offered None only")
    ws_finish(ws)
    t = Tcp(w.p.port, source="127.0.0.200")
    t.greeting()
    check(t.version() == [2], "TCP viewer not offered VncAuth")
    t.choose(2)
    t.respond(t.challenge())
    st, reason = t.result()
    check(st == 0, "TCP viewer with the password refused: %r %r\n%s" % (st, reason, w.p.read_log()[-3000:]))
    check(t.client_init() == (1280, 720), "TCP viewer: ServerInit")
    r = w.p.probe("auth-only", timeout=60)
    check(r.returncode == 0, "rfbprobe with the password: %d %s" % (r.returncode, r.stderr))
    for x in idle:
        x.close()
    ws.close()
    t.close()
    w.stop()


def case_vnc_pending_per_address(env):
    """One address cannot hold the handshake pool: a handshake parked from
    another address survives a flood and finishes."""
    w = web_and_vnc(env, vnc__max_pending=8, vnc__max_pending_per_addr=2)
    legit = Tcp(w.p.port, source="127.0.0.77")
    legit.greeting()
    check(legit.version() == [2], "not offered VncAuth")
    flood = []
    for i in range(30):
        flood.append(Tcp(w.p.port, source="127.0.0.%d" % (2 + i % 3)))
    time.sleep(1)
    legit.choose(2)
    legit.respond(legit.challenge())
    st, reason = legit.result()
    check(st == 0, "parked handshake lost to a flood: %r %r\n%s" % (st, reason, w.p.read_log()[-3000:]))
    legit.client_init()
    for f in flood:
        f.close()
    legit.close()
    w.stop()


def case_vnc_handshake_timeout(env):
    """An idle handshake is closed after [vnc] handshake_timeout_s."""
    w = web_and_vnc(env, vnc__handshake_timeout_s=2)
    t = Tcp(w.p.port)
    t.greeting()
    t0 = time.time()
    t.s.settimeout(15)
    try:
        got = t.s.recv(16)
    except OSError:
        got = b""
    took = time.time() - t0
    check(got == b"" and took < 5, "idle handshake not closed in time (%.1f s, %r)" % (took, got))
    t.close()
    w.stop()


def case_vnc_max_clients(env):
    """max_clients counts authenticated viewers: beyond it a viewer with the
    password is refused with a reason; browser viewers have their own limit."""
    w = web_and_vnc(env, vnc__max_clients=2)
    viewers = []
    for i in range(2):
        t = Tcp(w.p.port)
        t.greeting()
        t.version()
        t.choose(2)
        t.respond(t.challenge())
        check(t.result()[0] == 0, "viewer %d refused" % i)
        t.client_init()
        viewers.append(t)
    t = Tcp(w.p.port)
    t.greeting()
    t.version()
    t.choose(2)
    t.respond(t.challenge())
    st, reason = t.result()
    check(st == 1 and "max_clients" in reason, "third viewer: %r %r" % (st, reason))
    ws = login_viewer(w)
    ws_types(ws)
    ws_finish(ws)
    ws.close()
    for v in viewers:
        v.close()
    t.close()
    w.stop()


def case_vnc_accept_no_stall(env):
    """Connecting costs the server thread nothing: libvncserver's rfbNewClient
    waits up to 100 ms for a client's first bytes (WebSocket detection), and
    an RFB client speaks second, so ten bare connections a second used to
    hold the one server thread (every viewer's picture) for the whole second.
    30 connections at once must all get the server's version quickly."""
    p = Piglix(env).start()
    n = 30
    t0 = time.time()
    socks = [socket.create_connection(("127.0.0.1", p.port), timeout=10) for _ in range(n)]
    for s in socks:
        check(recv_exact(s, 12) == b"RFB 003.008\n", "no server version")
    took = time.time() - t0
    print("%d connections greeted in %.0f ms" % (n, took * 1000))
    for s in socks:
        s.close()
    # serialised 100 ms waits would take 3 s; allow for a slow test build
    check(took < 1.0, "%d connections took %.2f s to be greeted: the server thread waits per connection" % (n, took))
    p.stop()


# ---- finding 3: binding ----

def answers(host, port):
    fam = socket.AF_INET6 if ":" in host else socket.AF_INET
    s = socket.socket(fam, socket.SOCK_STREAM)
    s.settimeout(3)
    try:
        s.connect((host, port))
        return s.recv(12).startswith(b"RFB ")
    except OSError:
        return False
    finally:
        s.close()


def listen_case(env, listen, yes, no, logged):
    p = Piglix(env, vnc__listen=listen)
    p.start(expect_ready=False)
    deadline = time.time() + 30
    while "listening on" not in p.read_log():
        check(p.proc.poll() is None and time.time() < deadline, "not listening:\n" + p.read_log())
        time.sleep(0.1)
    time.sleep(0.3)
    for h in yes:
        check(answers(h, p.port), "listen = %s: %s does not answer" % (listen, h))
    for h in no:
        check(not answers(h, p.port), "listen = %s: %s answers" % (listen, h))
    log = p.read_log()
    for addr in logged:
        line = "listening on %s:%d" % (addr, p.port)
        check(line in log, "listen = %s: no %r in the log:\n%s" % (listen, line, log[-2000:]))
    check(len(re.findall(r"vnc.*listening on", log)) == len(logged), "listen = %s: other sockets:\n%s" % (
        listen, log[-2000:]))
    p.stop()


def case_vnc_listen_ipv4_loopback(env):
    listen_case(env, "127.0.0.1", ["127.0.0.1"], ["::1", "127.0.0.2"], ["127.0.0.1"])


def case_vnc_listen_ipv6_loopback(env):
    listen_case(env, "::1", ["::1"], ["127.0.0.1"], ["[::1]"])


def case_vnc_listen_ipv6_any(env):
    listen_case(env, "::", ["::1", "127.0.0.1", "127.0.0.2"], [], ["[::]"])


def case_vnc_listen_ipv4_any(env):
    listen_case(env, "0.0.0.0", ["127.0.0.1", "127.0.0.2"], ["::1"], ["0.0.0.0"])


def case_vnc_listen_wildcard(env):
    """"*": every IPv4 and every IPv6 address, one socket each."""
    listen_case(env, "*", ["127.0.0.1", "::1"], [], ["0.0.0.0", "[::]"])


CASES = {n[5:]: f for n, f in globals().items() if n.startswith("case_")}

if __name__ == "__main__":
    sys.exit(security_common.main(CASES))
