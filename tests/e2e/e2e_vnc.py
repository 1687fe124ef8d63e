#!/usr/bin/env python3
"""End-to-end tests of piglix's VNC output with real clients: rfbprobe (an RFB
client written from the protocol spec) and vncsnapshot (Debian's).
Usage: e2e_vnc.py PIGLIX TOOLS_DIR CASE"""
import os
import re
import signal
import socket
import struct
import subprocess
import sys
import time

import piglix_e2e

from piglix_e2e import (Piglix, check, compare, dynamic_mask, probe_json, read_ppm, ref_image,
                        run, TestFailure)

W, H, FPS = 1280, 720, 30


def bios_refs(env, w=W, h=H):
    # Frames a second, a minute and an hour apart (and half a second, for the
    # cursor) differ where the clock and the blinking cursor are: the mask of
    # what may legitimately differ from frame 0.
    a = ref_image(env, "bios", w, h, FPS, 0)
    others = [ref_image(env, "bios", w, h, FPS, f) for f in (15, 45, FPS * 61 + 15, FPS * 3661 + 15)]
    return a, dynamic_mask(a, *others)


def case_picture_tight_jpeg(env):
    p = Piglix(env).start()
    out = os.path.join(env.tmp, "snap.ppm")
    p.probe("snapshot", out, check_rc=0)
    ref, mask = bios_refs(env)
    psnr, _ = compare(read_ppm(out), ref, mask)
    check(psnr >= 30, "Tight/JPEG picture differs from the source: PSNR %.1f dB" % psnr)
    p.stop()


def case_picture_lossless(env):
    """Tight without JPEG and Raw must deliver the source's pixels exactly."""
    p = Piglix(env, capture__format="uyvy").start()
    ref, mask = bios_refs(env)
    ref = ref_image(env, "bios", W, H, FPS, 0, "uyvy")
    for enc in ("tight,desktopsize", "raw"):
        out = os.path.join(env.tmp, "snap-%s.ppm" % enc.split(",")[0])
        p.probe("--encodings", enc, "snapshot", out, check_rc=0)
        psnr, maxerr = compare(read_ppm(out), ref, mask)
        check(maxerr == 0, "%s: lossless picture differs (max error %d, PSNR %.1f)" % (enc, maxerr, psnr))
    p.stop()


def case_picture_desktop_rgb24(env):
    p = Piglix(env, capture__scenario="desktop", capture__format="rgb24", capture__fps=1).start()
    out = os.path.join(env.tmp, "snap.ppm")
    p.probe("snapshot", out, check_rc=0)
    got = read_ppm(out)
    best = max(compare(got, ref_image(env, "desktop", W, H, 1, f, "rgb24"))[0] for f in range(0, 12))
    check(best >= 28, "desktop picture does not match any recent source frame: best PSNR %.1f" % best)
    p.stop()


def case_vncsnapshot(env):
    p = Piglix(env).start()
    jpg = os.path.join(env.tmp, "vncsnapshot.jpg")
    r = subprocess.run(["vncsnapshot", "-passwd", p.password_file, "-quality", "90",
                        "127.0.0.1::%d" % p.port, jpg], capture_output=True, text=True, timeout=60)
    check(r.returncode == 0, "vncsnapshot failed: %s %s" % (r.stdout, r.stderr))
    ppm = os.path.join(env.tmp, "vncsnapshot.ppm")
    subprocess.run([env.imgtool, "jpeg2ppm", jpg, ppm], check=True)
    ref, mask = bios_refs(env)
    psnr, _ = compare(read_ppm(ppm), ref, mask)
    check(psnr >= 28, "vncsnapshot's picture differs from the source: PSNR %.1f dB" % psnr)
    p.stop()


def case_damage_bios(env):
    """After the first full picture, only changed tiles cross the wire."""
    p = Piglix(env, capture__width=1920, capture__height=1080).start()
    st = probe_json(p.probe("watch", "5", "--json", check_rc=0))
    full = st["first_update_bytes"]
    rest = st["bytes"] - full
    rate = rest / st["seconds"]
    rects = st["rects"] - st["first_update_rects"]
    updates = st["updates"] - 1
    print("bios 1080p: first update %d bytes; then %d updates, %d rects, %.0f bytes/s" % (
        full, updates, rects, rate))
    check(updates >= 4, "the clock changes every second: expected updates, got %d" % updates)
    check(rects <= updates * 12, "too many rects per update for a clock and a cursor: %d in %d" % (rects, updates))
    check(rate < 30000, "a clock and a cursor should cost < 30 kB/s, got %.0f" % rate)
    check(full > 10 * rate, "first update (%d B) should dwarf the per-second increments" % full)
    p.stop()


def case_resize(env):
    p = Piglix(env).start()
    follower = p.probe_async("wait-size", "1024x768", "40", "--json")
    time.sleep(2)
    p.write_config(capture__width=1024, capture__height=768)
    p.signal(signal.SIGHUP)
    out, err = follower.communicate(timeout=60)
    check(follower.returncode == 0, "client did not follow the resize: %s %s\n%s" % (out, err, p.read_log()[-3000:]))
    snap = os.path.join(env.tmp, "after.ppm")
    p.probe("snapshot", snap, check_rc=0)
    w, h, _ = read_ppm(snap)
    check((w, h) == (1024, 768), "new client sees %dx%d" % (w, h))
    p.stop()


def rfb_until_server_init(port):
    """A raw RFB 3.8 client (security None) stopped right after ServerInit,
    before its SetEncodings: returns the socket and the size it was told."""
    s = socket.create_connection(("127.0.0.1", port), timeout=20)
    check(s.recv(12).startswith(b"RFB 003.008"), "no RFB greeting")
    s.sendall(b"RFB 003.008\n")
    n = s.recv(1)[0]
    types = s.recv(n)
    check(1 in types, "security None not offered: %r" % types)
    s.sendall(b"\x01")
    check(s.recv(4) == b"\0\0\0\0", "security result")
    s.sendall(b"\x01")  # ClientInit, shared
    init = b""
    while len(init) < 24:
        init += s.recv(24 - len(init))
    w, h = struct.unpack(">HH", init[:4])
    name_len = struct.unpack(">I", init[20:24])[0]
    while name_len:
        name_len -= len(s.recv(name_len))
    return s, (w, h)


def case_resize_before_encodings(env):
    """The picture changes size between a client's ServerInit and its
    SetEncodings: one that then says it takes DesktopSize gets the new size,
    one that does not is closed (not one closed for being early)."""
    p = Piglix(env, vnc__auth="none", password=None).start()
    follows, (w0, h0) = rfb_until_server_init(p.port)
    cannot, _ = rfb_until_server_init(p.port)
    check((w0, h0) == (1280, 720), "ServerInit %dx%d" % (w0, h0))
    p.write_config(capture__width=1024, capture__height=768)
    p.signal(signal.SIGHUP)
    deadline = time.time() + 30
    while "resolution now 1024x768" not in p.read_log():
        check(time.time() < deadline, "no resize:\n" + p.read_log()[-2000:])
        time.sleep(0.1)
    request = struct.pack(">BBHHHH", 3, 0, 0, 0, 1280, 720)
    follows.sendall(struct.pack(">BxH", 2, 2) + struct.pack(">ii", -223, 0) + request)
    cannot.sendall(struct.pack(">BxH", 2, 1) + struct.pack(">i", 0) + request)
    head = follows.recv(4)
    check(len(head) == 4 and head[0] == 0, "no FramebufferUpdate for the early client: %r\n%s" % (
        head, p.read_log()[-2000:]))
    rect = b""
    while len(rect) < 12:
        rect += follows.recv(12 - len(rect))
    x, y, w, h, enc = struct.unpack(">HHHHi", rect)
    check(enc == -223 and (w, h) == (1024, 768), "first rect: %dx%d encoding %d" % (w, h, enc))
    cannot.settimeout(20)
    try:
        rest = cannot.recv(1 << 20)
        while rest:
            rest = cannot.recv(1 << 20)
    except ConnectionResetError:
        pass
    check("cannot follow a resolution change" in p.read_log(), "the client without DesktopSize was not closed")
    follows.close()
    p.stop()


def case_auth(env):
    p = Piglix(env, vnc__auth_fail_limit=3, vnc__auth_throttle_s=3).start()
    wrong = os.path.join(env.tmp, "wrong.passwd")
    subprocess.run([env.piglix, "-o", "state.dir=" + env.tmp, "vnc-passwd"], input="wrongpw\n",
                   text=True, check=True, capture_output=True)
    os.rename(os.path.join(env.tmp, "vnc.passwd"), wrong)
    p.probe("auth-only", check_rc=0)
    for _ in range(3):
        p.probe("--password-file", wrong, "auth-only", password=False, check_rc=3)
    # throttled: now even the right password is refused
    p.probe("auth-only", check_rc=3)
    log = p.read_log()
    check("too many failures" in log, "no throttling message in the log")
    check(os.path.basename(wrong) not in log and "wrongpw" not in log and "e2e-Pw1" not in log,
          "a secret appears in the log")
    time.sleep(3.5)
    p.probe("auth-only", check_rc=0)
    p.stop()


def case_no_password(env):
    """No VNC password: piglix runs (the web UI has its own accounts) with the
    VNC port closed, says so, and opens the port once `piglix vnc-passwd`
    has stored one; the new password is the one asked for."""
    p = Piglix(env, password=None)
    p.start(expect_ready=False)
    time.sleep(2)
    check(p.proc.poll() is None, "piglix exited without a VNC password:\n" + p.read_log())
    check("no VNC password is set" in p.read_log(), "no clear message: " + p.read_log())
    r = p.probe("auth-only", password=False)
    check(r.returncode != 0, "the VNC port answered without a password set")
    r = subprocess.run([env.piglix, "-c", p.config, "vnc-passwd"], input=piglix_e2e.PASSWORD + "\n", text=True,
                       capture_output=True, timeout=30)
    check(r.returncode == 0, "vnc-passwd: %s" % r.stderr)
    p.wait_ready(timeout=10)
    p.probe("auth-only", check_rc=0)
    check("the VNC port is open" in p.read_log(), "opening not logged:\n" + p.read_log())
    p.stop()


def case_auth_none_loopback(env):
    p = Piglix(env, password=None, vnc__auth="none").start()
    p.probe("auth-only", password=False, check_rc=0)
    p.stop()
    bad = Piglix(env, password=None, vnc__auth="none", vnc__listen="0.0.0.0")
    r = subprocess.run([env.piglix, "-c", bad.config, "--check-config"], capture_output=True, text=True)
    check(r.returncode != 0 and "loopback" in r.stderr, "auth=none on 0.0.0.0 accepted: %s" % r.stderr)


def case_vnc_disabled(env):
    """[vnc] enabled = no: no port, and no password needed."""
    p = Piglix(env, password=None, vnc__enabled="no")
    p.start(expect_ready=False)
    time.sleep(2)
    check(p.proc.poll() is None, "piglix exited with the VNC port disabled:\n" + p.read_log())
    r = p.probe("auth-only", password=False)
    check(r.returncode != 0, "something answered on the disabled VNC port")
    log = p.stop()
    check("VNC port disabled" in log, "no word of the disabled port in the log")


def case_check_config(env):
    p = Piglix(env)
    r = subprocess.run([env.piglix, "-c", p.config, "--check-config"], capture_output=True, text=True)
    check(r.returncode == 0 and "port = %d" % p.port in r.stdout, "valid config rejected: %s" % r.stderr)
    with open(p.config, "a") as f:
        f.write("[vnc]\nprot = 5\n")
    r = subprocess.run([env.piglix, "-c", p.config, "--check-config"], capture_output=True, text=True)
    lines = open(p.config).read().count("\n")
    check(r.returncode != 0 and "%s:%d" % (p.config, lines) in r.stderr and "prot" in r.stderr,
          "bad key not reported with file:line: %s" % r.stderr)
    r = subprocess.run([env.piglix, "-c", p.config, "-o", "capture.fps=0", "--check-config"],
                       capture_output=True, text=True)
    check(r.returncode != 0 and "fps" in r.stderr, "bad override accepted")


def case_stalled_client(env):
    """A client that stops reading must not slow another one down. Windows
    alone and beside a stalled client alternate, so the machine's load
    moves both alike; a real stall stops the other client's updates
    altogether once the stalled socket's buffers are full (a small picture
    keeps the rate high enough to tell)."""
    p = Piglix(env, capture__scenario="motion", capture__width="640", capture__height="360").start()

    def rate():
        r = probe_json(p.probe("watch", "2", "--json", check_rc=0))
        return r["updates"] / r["seconds"]
    alone, both = [], []
    for _ in range(2):
        alone.append(rate())
        staller = p.probe_async("stall", "8", "--keep-requesting", "--rcvbuf", "4096")
        time.sleep(1.5)
        both.append(rate())
        staller.kill()
        staller.communicate(timeout=60)
    print("updates/s alone %s, beside a stalled client %s" % (
        " ".join("%.1f" % r for r in alone), " ".join("%.1f" % r for r in both)))
    # Each window beside the staller against the window alone just before
    # it (the load of a shared machine moves between pairs: one CI run had
    # 30.5 then 13.0 alone, 15.0 then 10.0 beside); a real stall takes
    # nearly all of the rate in every pair.
    ratios = [b / a for a, b in zip(alone, both) if a > 0]
    check(ratios and max(ratios) >= 0.5,
          "a stalled client slowed another: updates/s beside it / alone %s" % " ".join("%.2f" % r for r in ratios))
    p.stop()


def case_malformed(env):
    p = Piglix(env).start()
    for kind in ("unknown-type", "bad-setencodings-count", "garbage", "cuttext-huge-length", "truncated"):
        r = p.probe("malformed", kind, "--wait", "20", timeout=60)
        if kind == "truncated":
            # half a message is not an error yet: the server must simply keep
            # serving others meanwhile; the probe reports it still open (2).
            check(r.returncode in (0, 2), "truncated: rfbprobe failed: %s" % r.stderr)
        else:
            check(r.returncode == 0, "%s: connection not closed (%d): %s %s" % (kind, r.returncode, r.stdout, r.stderr))
        check(p.proc.poll() is None, "piglix died on %s" % kind)
    hold = p.probe_async("malformed", "truncated", "--wait", "15")
    time.sleep(1)
    t0 = time.time()
    p.probe("snapshot", os.path.join(env.tmp, "after.ppm"), check_rc=0)
    check(time.time() - t0 < 10, "a half-sent message stalled other clients")
    hold.kill()
    hold.communicate()
    p.stop()


def case_encode_once(env):
    """Four clients in step cost one encode per changed frame, not four."""
    p = Piglix(env, capture__scenario="desktop").start()
    clients = [p.probe_async("watch", "5", "--json") for _ in range(4)]
    outs = [c.communicate(timeout=60) for c in clients]
    for c, (o, e) in zip(clients, outs):
        check(c.returncode == 0, "a watcher failed: %s" % e)
    log = p.stop()
    m = re.search(r"(\d+) frames \((\d+) static\), (\d+) encodes, (\d+) shared", log)
    check(m, "no statistics line in the log")
    frames, static, encodes, shared = map(int, m.groups())
    changed = frames - static
    print("changed frames %d, encodes %d, shared %d" % (changed, encodes, shared))
    check(shared > 0, "no encoded update was shared between clients")
    check(encodes <= changed * 1.3 + 16, "%d encodes for %d changed frames and 4 clients" % (encodes, changed))


def case_lossless_refresh(env):
    """Areas sent as JPEG are sent again losslessly once they are still, and
    only then: with the refresh off there is none."""
    counts = {}
    for delay in (300, 0):
        p = Piglix(env, capture__scenario="desktop", encode__lossless_refresh_ms=delay).start()
        st = probe_json(p.probe("watch", "3", "--json", check_rc=0))
        check(st["rects_by_kind"]["tight_jpeg"] > 0, "desktop sent no JPEG: %s" % st["rects_by_kind"])
        m = re.search(r"(\d+) lossless refreshes", p.stop())
        check(m, "no refresh statistics in the log")
        counts[delay] = int(m.group(1))
    print("lossless refreshes: %d with a 300 ms delay, %d when off" % (counts[300], counts[0]))
    check(counts[300] > 0, "still JPEG areas were never refreshed losslessly")
    check(counts[0] == 0, "lossless refreshes although turned off")


def case_shared_flag(env):
    """A viewer asking for exclusive access disconnects the others; shared
    viewers coexist."""
    p = Piglix(env).start()
    a = p.probe_async("watch", "20", "--json")
    b = p.probe_async("watch", "20", "--json")
    time.sleep(2)
    check(a.poll() is None and b.poll() is None, "shared viewers did not coexist")
    p.probe("--exclusive", "snapshot", os.path.join(env.tmp, "excl.ppm"), check_rc=0)
    for w in (a, b):
        try:
            w.communicate(timeout=10)
        except subprocess.TimeoutExpired:
            w.kill()
            w.communicate()
            raise TestFailure("an exclusive viewer did not disconnect the shared ones")
        check(w.returncode != 0, "a shared viewer survived an exclusive one")
    p.stop()


def case_ipv6(env):
    p = Piglix(env, vnc__listen="::").start()
    p.probe("snapshot", os.path.join(env.tmp, "v6.ppm"), host="::1", check_rc=0)
    p.probe("snapshot", os.path.join(env.tmp, "v4.ppm"), host="127.0.0.1", check_rc=0)
    p.stop()


def case_input_and_exit(env):
    """Input events reach the input interface; SIGTERM with clients connected
    exits cleanly (the sanitizers check for leaks)."""
    p = Piglix(env).start()
    p.probe("keys", "61", "41", check_rc=0)
    p.probe("keys", "61@1e", check_rc=0)
    p.probe("pointer", "100", "200", "1", check_rc=0)
    watchers = [p.probe_async("watch", "30") for _ in range(2)]
    time.sleep(2)
    log = p.stop()
    for w in watchers:
        w.kill()
        w.communicate()
    m = re.search(r"input events: (\d+) keys, (\d+) scancodes, (\d+) pointer", log)
    check(m, "no input statistics in the log")
    keys, codes, ptr = map(int, m.groups())
    check(keys >= 4 and codes >= 2 and ptr >= 1, "input events lost: %s" % m.group(0))


CASES = {name[5:]: fn for name, fn in globals().items() if name.startswith("case_")}

if __name__ == "__main__":
    sys.exit(run(CASES))
