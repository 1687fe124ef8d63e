#!/usr/bin/env python3
"""Open H.264 (RFB encoding 50) end to end: piglix on its test source, a
Python RFB client (rfb_h264.py) decoding H.264 with libavcodec (PyAV) and
Tight itself. Pictures are compared with the test source's own frames
(imgtool ref) by PSNR; the source's frame number is not on the wire, so the
best match among the frames around the time is taken."""
import os
import signal
import socket
import struct
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import piglix_e2e  # noqa: E402
from piglix_e2e import Piglix, check, read_ppm, ref_image  # noqa: E402
import rfb_h264  # noqa: E402

W, H = 640, 360
# Stated targets: H.264 at [video] bitrate_kbps 4000 decodes to the source
# within these PSNRs (x264 measures ~38-45 dB here; tiles give 99 = exact).
MOTION_PSNR = 30.0
DESKTOP_PSNR = 30.0
PAN_PSNR = 35.0  # bench_h264: 41 dB at 1080p
# Key event to HID backend, p90, with an H.264 viewer at 1080p (see
# case_input_not_delayed).
INPUT_P90_MS = 60


def start(env, scenario, mode="auto", fps=30, **more):
    return Piglix(env, password=None, vnc__auth="none", capture__width=W, capture__height=H,
                  capture__fps=fps, capture__scenario=scenario, video__h264=mode, **more).start()


def ref(env, scenario, fps, frame, w=W, h=H):
    import numpy as np
    rw, rh, px = ref_image(env, scenario, w, h, fps, frame)
    return np.frombuffer(px, np.uint8).reshape(rh, rw, 3)


def best_match(env, c, scenario, fps, t_start, good):
    """The PSNR of the client's picture against the source's frames from
    the one due now backwards (the source counts frames from piglix's
    start; the picture on the wire lags a little): the first at least good,
    else the best of the last 1.5 s."""
    est = int((time.time() - t_start) * fps) + 1
    best = (0.0, -1)
    for f in range(est, max(-1, est - 2 * fps), -1):
        best = max(best, (rfb_h264.psnr(c.fb, ref(env, scenario, fps, f, c.w, c.h)), f))
        if best[0] >= good:
            break
    return best


def picture_case(env, scenario, target, **more):
    fps = 3  # few candidate frames to search (imgtool renders one in ~0.5 s)
    t0 = time.time()
    p = start(env, scenario, "always", fps, **more)
    c = rfb_h264.Client(p.port)
    # A loaded machine (sanitizer build, shared cores) may run the source slowly.
    c.run(15, until=lambda cl, kinds: cl.counts["h264"] >= 6)
    check(c.counts["h264"] >= 6, "few H.264 rects in 15 s: %s" % c.counts)
    # The last update was H.264: its picture against the source.
    c.run(1, until=lambda cl, kinds: 50 in kinds)
    psnr, frame = best_match(env, c, scenario, fps, t0, target + 5)
    print("%s: %d H.264 rects, %d bytes; decoded picture vs source frame %d: PSNR %.1f dB (target %.0f)"
          % (scenario, c.counts["h264"], c.counts["h264_bytes"], frame, psnr, target))
    check(psnr >= target, "H.264 picture too far from the source: %.1f dB" % psnr)
    return p


def case_motion_picture(env):
    picture_case(env, "motion", MOTION_PSNR).stop()


def case_desktop_picture(env):
    picture_case(env, "desktop", DESKTOP_PSNR).stop()


def case_pan_picture(env):
    """A camera pan (every pixel moves by a fraction of a pixel a frame):
    the motion H.264 predicts."""
    p = picture_case(env, "pan", PAN_PSNR, video__quality_qp=18)
    check("(quality QP 18, at most 4000 kbit/s)" in p.read_log(), "[video] quality_qp did not reach the encoder")
    p.stop()


def case_mode_switch(env):
    """auto: the moving picture goes as H.264; when it settles (the source
    switches to the still BIOS screen) tiles and the lossless refresh make
    the viewer's picture exact."""
    p = start(env, "motion", "auto", encode__lossless_refresh_ms=300)
    c = rfb_h264.Client(p.port)
    c.run(1.5)
    kinds = []
    c.run(3, until=lambda cl, k: kinds.append(50 in k) and False)
    share = sum(kinds) / max(1, len(kinds))
    print("during motion: %d updates, %.0f%% of them H.264" % (len(kinds), share * 100))
    check(len(kinds) >= 5 and share >= 0.6, "motion did not go as H.264: %s" % c.counts)
    h264_before = c.counts["h264"]
    p.write_config(capture__scenario="bios")
    p.signal(signal.SIGHUP)
    c.run(5)
    a = ref(env, "bios", 30, 0)
    others = [ref(env, "bios", 30, f) for f in (15, 45, 30 * 61 + 15)]
    import numpy as np
    mask = np.zeros((H, W), bool)
    for o in others:
        mask |= (o != a).any(axis=2)
    # grow the mask to whole rows' spans like piglix_e2e.dynamic_mask does
    ys, xs = np.nonzero(mask)
    if len(ys):
        mask[ys.min():ys.max() + 1, xs.min():xs.max() + 1] = True
    diff = (c.fb.astype(int) - a.astype(int))[~mask]
    maxerr = int(np.abs(diff).max()) if diff.size else 0
    print("after the switch: %d more H.264 rects, tiles %s; max error outside the clock: %d"
          % (c.counts["h264"] - h264_before, {k: v for k, v in c.counts.items() if k.startswith("tight")}, maxerr))
    check(c.counts["h264"] - h264_before <= 40, "H.264 went on after the picture settled")
    check(maxerr == 0, "the still picture is not exact after the lossless refresh (max error %d)" % maxerr)
    p.stop()


def case_join_midstream(env):
    """A viewer joining while H.264 runs has a picture at once (tiles) and
    the stream from the next IDR (asked for; within one keyframe)."""
    p = start(env, "motion", "always", video__keyframe_interval=0)
    a = rfb_h264.Client(p.port)
    a.run(8, until=lambda cl, kinds: cl.counts["h264"] >= 5)
    check(a.counts["h264"] >= 5, "first viewer got no H.264: %s" % a.counts)
    b = rfb_h264.Client(p.port)
    t = time.time()
    b.update()
    check(b.counts["tight"] > 0 or b.counts["h264"] > 0, "no picture in the joining viewer's first update")
    got = b.run(3, until=lambda cl, kinds: 50 in kinds)
    check(got, "the joining viewer never got H.264: %s" % b.counts)
    dt = time.time() - t
    check(b.counts["reset"] >= 1, "its first H.264 rect did not reset the context: %s" % b.counts)
    b.run(1)
    a.run(0.5)
    print("joined: first H.264 after %.2f s; counts %s" % (dt, b.counts))
    # IDRs only when asked (keyframe_interval 0): this one was forced for it.
    check(dt < 3.0, "the joining viewer waited %.1f s for H.264" % dt)
    p.stop()


def case_no_h264_viewer(env):
    """A viewer that does not announce encoding 50 never gets it, even in
    motion with h264 = always."""
    p = start(env, "motion", "always")
    h = rfb_h264.Client(p.port)
    c = rfb_h264.Client(p.port, h264=False)
    for _ in range(3):
        c.run(1)
        h.run(0.3)
    check(c.counts["h264"] == 0, "a viewer without encoding 50 got H.264: %s" % c.counts)
    check(c.counts["tight"] > 0, "no tiles: %s" % c.counts)
    check(h.counts["h264"] > 0, "the H.264 viewer got none: %s" % h.counts)
    p.stop()


def case_resolution_change(env):
    """A resolution change: DesktopSize, then a new stream with
    ResetAllContexts, decoded at the new size."""
    p = start(env, "motion", "always")
    c = rfb_h264.Client(p.port)
    c.run(2)
    check(c.counts["h264"] > 0, "no H.264 before the change: %s" % c.counts)
    p.write_config(capture__width=480, capture__height=270)
    p.signal(signal.SIGHUP)
    c.run(6, until=lambda cl, kinds: cl.w == 480 and cl.counts["reset_all"] > 0 and 50 in kinds)
    check((c.w, c.h) == (480, 270), "client did not follow: %dx%d %s" % (c.w, c.h, c.counts))
    check(c.counts["reset_all"] >= 1, "no ResetAllContexts after the change: %s" % c.counts)
    n = c.counts["h264"]
    c.run(1)
    check(c.counts["h264"] > n, "no H.264 at the new size")
    print("after the change: %s" % c.counts)
    p.stop()


def case_slow_viewer(env):
    """A viewer that stops reading never stalls another, and gets the
    stream again (from an IDR) when it reads again; nothing queues up."""
    p = start(env, "motion", "always")
    fast = rfb_h264.Client(p.port)
    slow = rfb_h264.Client(p.port)
    fast.run(8, until=lambda cl, kinds: cl.counts["h264"] >= 3)
    slow.run(1)
    fast.run(1)
    n0 = fast.counts["h264"]
    fast.run(2)  # slow reads nothing meanwhile
    rate = (fast.counts["h264"] - n0) / 2
    check(rate >= 2, "the fast viewer slowed down to %.1f H.264 updates/s" % rate)
    resets = slow.counts["reset"]
    slow.run(2)
    check(slow.counts["h264"] > 0 and slow.counts["reset"] > resets,
          "the slow viewer did not resume from an IDR: %s" % slow.counts)
    print("fast viewer %.1f frames/s while the other stalled; slow: %s" % (rate, slow.counts))
    p.stop()


def _sink(c, stop, got, every):
    """A viewer that asks for an update every `every` s and throws the
    bytes away: the server does all its work for it while this process
    stays idle."""
    c.s.settimeout(0.03)
    nxt = 0
    while not stop.is_set():
        if time.monotonic() >= nxt:
            c.request(True)
            nxt = time.monotonic() + every
        try:
            b = c.s.recv(1 << 20)
        except socket.timeout:
            continue
        except OSError:
            break
        if not b:
            break
        got[0] += len(b)


def case_input_not_delayed(env):
    """The H.264 encoder runs on its own thread: while an H.264 viewer is
    connected to 1080p motion (the encoder runs for it every frame), keyboard input through a Tight-only viewer reaches
    the HID backend (here the log backend, whose debug lines carry the same
    CLOCK_MONOTONIC as time.monotonic) without waiting for frames being
    encoded. With the encoder inline on the server thread (before this
    change) the p90 latency was 70-101 ms in the sanitizer build on this
    shared 2-core machine, on its thread 32-36 ms (the Tight viewer's JPEG
    tiles and the 1080p test source remain); the bound sits between.
    Without the lossless refresh: its 1080p lossless tiles of a moving
    picture (sanitizer build) otherwise stall the loop for hundreds of ms
    whatever the encoder does, which measures the machine, not this."""
    import random
    import re
    import threading
    p = Piglix(env, password=None, vnc__auth="none", capture__width=1920, capture__height=1080,
               capture__fps=30, capture__scenario="motion", video__h264="always", log__level="debug",
               encode__lossless_refresh_ms=0).start()
    viewer = rfb_h264.Client(p.port)
    tight = rfb_h264.Client(p.port, h264=False)
    stop = threading.Event()
    got_h, got_t = [0], [0]
    # The H.264 viewer asks once: the encoder still runs for it every frame
    # (h264 = always), but no 1080p tiles for it (sanitizer build) fill the
    # two cores. The Tight viewer asks 4 times a second.
    threads = [threading.Thread(target=_sink, args=(viewer, stop, got_h, 3600)),
               threading.Thread(target=_sink, args=(tight, stop, got_t, 0.25))]
    for t in threads:
        t.start()
    time.sleep(2)  # the stream running
    sent = []
    rnd = random.Random(17)
    for i in range(150):
        for down in (1, 0):
            sent.append(time.monotonic())
            tight.s.sendall(struct.pack(">BBxxI", 4, down, 0x61 + i % 26))
            time.sleep(rnd.uniform(0.004, 0.012))
    time.sleep(0.5)
    stop.set()
    for t in threads:
        t.join()
    log = p.read_log()
    stamps = [float(m.group(1)) for m in re.finditer(r"^\[\s*(\d+\.\d+)\] D hid: key keysym=0x00[67]", log, re.M)]
    p.stop()
    check(len(stamps) == len(sent), "%d of %d key events reached the HID backend" % (len(stamps), len(sent)))
    lat = sorted(max(0.0, (a - b) * 1000) for a, b in zip(stamps, sent))
    p50, p90, mx = lat[len(lat) // 2], lat[len(lat) * 9 // 10], lat[-1]
    print("key event to HID backend while H.264 at 1080p: p50 %.1f ms, p90 %.1f ms, max %.1f ms; "
          "H.264 viewer %d KiB, Tight viewer %d KiB" % (p50, p90, mx, got_h[0] // 1024, got_t[0] // 1024))
    check(got_h[0] > 0 and got_t[0] > 0, "a viewer got nothing")
    check(p90 < INPUT_P90_MS, "input waited for the encoder: p90 %.1f ms (bound %d)" % (p90, INPUT_P90_MS))


def _tap(c, sym):
    """A key pressed and released on viewer c."""
    for down in (1, 0):
        c.s.sendall(struct.pack(">BBxxI", 4, down, sym))


def _echo_state(fb):
    """Text length and last character from the test source's echo strip
    ([capture] type_echo: 8-pixel cells, 48 a row, 2 rows at the bottom;
    capture/testsrc.c), or None."""
    h = fb.shape[0]
    bits = bytearray(12)
    for i in range(96):
        x, y = (i % 48) * 8 + 4, h - 16 + (i // 48) * 8 + 4
        if int(fb[y, x, 0]) + int(fb[y, x, 1]) + int(fb[y, x, 2]) > 3 * 128:
            bits[i // 8] |= 0x80 >> (i % 8)
    if bits[0] != 0xa5 or bits[1] != 0x5a:
        return None
    return (bits[8] << 8 | bits[9], bits[10] << 8 | bits[11])


def case_newer_picture_follows(env):
    """A viewer that asks while its stream is one frame behind and the
    current picture is still being encoded gets the older frame now and the
    current one as soon as it is encoded, without waiting for more damage.
    Each round: key A, its frame encoded while the viewer asks for nothing;
    key B one frame later; the viewer asks at a varying moment from then
    on. Asking while B's frame was in the encoder, the viewer got A's frame
    and its dirty tiles were cleared as if it showed B: B came with the next
    unrelated change (the BIOS scene's cursor, up to 500 ms later) — seen
    in bench_latency_native as whole rounds at ~480 ms a key."""
    import random
    p = start(env, "bios", "always", capture__type_echo="yes")
    c = rfb_h264.Client(p.port)

    def until_state(want, seconds):
        """Asks, reads the update, asks again, until the echo shows want;
        no request is left standing after it."""
        t0 = time.monotonic()
        end = t0 + seconds
        while time.monotonic() < end:
            c.request(True)
            c.s.settimeout(max(0.05, end - time.monotonic()))
            try:
                c.update()
            except socket.timeout:
                break
            if _echo_state(c.fb) == want:
                c.s.settimeout(20)
                return (time.monotonic() - t0) * 1000
        c.s.settimeout(20)
        return None

    c.auto_request = False
    _tap(c, 0xff1b)  # Esc: an empty field
    check(until_state((0, 0), 10) is not None, "the echo strip never showed an empty field")
    rnd = random.Random(5)
    waits, length = [], 0
    for rnd_i in range(30):
        if length >= 30:
            _tap(c, 0xff1b)
            check(until_state((0, 0), 5) is not None, "the field was not cleared")
            length = 0
        a, b = 0x61 + (2 * rnd_i) % 24, 0x62 + (2 * rnd_i) % 24
        _tap(c, a)
        time.sleep(0.12)  # A's picture captured and encoded; nobody asked
        _tap(c, b)
        time.sleep(0.015 + rnd.uniform(0, 0.04))  # somewhere in or after B's encoding
        length += 2
        ms = until_state((length, b), 3)
        check(ms is not None, "round %d: the echo of the second key never showed" % rnd_i)
        waits.append(ms)
    waits.sort()
    p.stop()
    print("request to the second key's echo, 30 rounds: p50 %.1f ms, max %.1f ms; %d H.264 rects"
          % (waits[len(waits) // 2], waits[-1], c.counts["h264"]))
    check(c.counts["h264"] > 0, "no H.264 at all")
    check(waits[-1] < 200, "a newer picture waited for unrelated damage: %.0f ms (bound 200; "
          "the encoder needs a few ms, the next cursor blink up to 500)" % waits[-1])


def _typing_session(env, previews):
    """Types 16 keys on the BIOS scene to an H.264 viewer that asks after
    each update (a preview's frame must follow within 200 ms); returns (per
    key: the NAL headers up to its frame, the ms to its echo), the viewer,
    and the Tight viewer's and its own picture after the last key."""
    p = start(env, "bios", "always", capture__type_echo="yes", video__previews="yes" if previews else "no")
    c = rfb_h264.Client(p.port)
    tight = rfb_h264.Client(p.port, h264=False, jpeg=False)  # lossless tiles: the reference picture

    def until(want, seconds):
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            c.update()
            if _echo_state(c.fb) == want:
                return True
        return False

    def frame_follows(seconds):
        """After a preview, the encoder's frame of its picture (a reference
        slice) comes by itself, without a further change on the screen."""
        end = time.monotonic() + seconds
        while True:
            nals = c.h264_nals
            last = max((i for i, n in enumerate(nals) if n == 0x01), default=-1)
            if last < 0 or any(n & 0x1f in (1, 5) and n & 0x60 for n in nals[last + 1:]):
                return True
            left = end - time.monotonic()
            if left <= 0:
                return False
            c.s.settimeout(left)
            try:
                c.update()
            except socket.timeout:
                return False
            finally:
                c.s.settimeout(20)

    _tap(c, 0xff1b)
    check(until((0, 0), 10), "the echo strip never showed an empty field")
    keys = []
    for i in range(16):
        time.sleep(0.1)
        c.h264_nals = []
        t0 = time.monotonic()
        _tap(c, 0x61 + i)
        check(until((i + 1, 0x61 + i), 3), "key %d: its echo never showed" % i)
        ms = (time.monotonic() - t0) * 1000
        # (The BIOS scene's cursor blinks every 500 ms: a frame held back
        # for the next change would come later than this.)
        check(frame_follows(0.2), "key %d: the frame after its preview waited for another change" % i)
        keys.append((list(c.h264_nals), ms))
    time.sleep(0.3)
    for viewer in (c, tight):  # both up to date: drain what came, then ask once more
        viewer.s.settimeout(0.3)
        try:
            while True:
                viewer.update()
        except socket.timeout:
            pass
        viewer.s.settimeout(20)
    p.stop()
    return keys, c, tight.fb


def case_typing_previews(env):
    """[video] previews: each typed key's echo reaches an H.264 viewer
    first in a preview (a PPS and a non-reference slice, its changed
    macroblocks as exact samples) ahead of the encoder's frame; the viewer's
    decoder (libavcodec through its parser, as TigerVNC) takes both from one
    rect, and after 16 keys its picture still matches the lossless tiles of
    a Tight viewer (the previews left nothing in the decoder's references).
    With previews = no, none is sent."""
    keys, c, ref_fb = _typing_session(env, True)
    state = (_echo_state(ref_fb), _echo_state(c.fb))
    with_preview = sum(1 for nals, _ in keys if 0x01 in nals and 0x68 in nals)
    psnr = rfb_h264.psnr(c.fb[-16:], ref_fb[-16:])  # the echo strip
    waits = sorted(ms for _, ms in keys)
    print("previews: %d of %d keys showed first in a preview; echo p50 %.1f ms; H.264 picture against "
          "the lossless tiles after the last key (echo strip): %.1f dB" % (with_preview, len(keys), waits[len(waits) // 2], psnr))
    check(with_preview >= len(keys) - 2, "only %d of %d keys came with a preview" % (with_preview, len(keys)))
    check(state == ((16, 0x70), (16, 0x70)), "the pictures disagree after the last key: %r" % (state, ))
    keys, c, ref_fb = _typing_session(env, False)
    psnr_without = rfb_h264.psnr(c.fb[-16:], ref_fb[-16:])
    print("previews = no: echo p50 %.1f ms, %.1f dB" % (sorted(ms for _, ms in keys)[8], psnr_without))
    check(all(0x01 not in nals for nals, _ in keys), "a preview was sent with [video] previews = no")
    # (The strip's hard 8-pixel cells cost the encoder's frames ~28 dB either way.)
    check(psnr >= psnr_without - 1.0, "the H.264 picture drifted with previews: %.1f dB, without %.1f dB"
          % (psnr, psnr_without))


CASES = {name[5:]: fn for name, fn in globals().items() if name.startswith("case_")}

if __name__ == "__main__":
    if not (len(sys.argv) == 2 and sys.argv[1] == "--list"):
        if not rfb_h264.ensure_debian_python():
            print("SKIP: python3-av and python3-numpy are needed (deploy/deps.sh test)")
            sys.exit(77)
    sys.exit(piglix_e2e.run(CASES))
