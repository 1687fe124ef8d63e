#!/usr/bin/env python3
"""piglix's V4L2 capture on a real kernel: vivid as an HDMI capture device in a
pvm VM, piglix inside, rfbprobe (a VNC client) on the host.

    test_capture.py --piglix PATH --rfbprobe PATH --nosignal-ref PATH CASE

CASE picture: vivid's colour bars reach the viewer; the EDID is loaded; vivid's
  moving bars reach a viewer that announces Open H.264 (encoding 50) as
  H.264, decoded with PyAV to the tiles viewer's picture; a new
  mode (DV timings) reaches the viewer as a new size; no signal, no lock and
  out of range each show their exact NO SIGNAL frame; the picture returns;
  one viewer stays connected throughout; a stream without frames shows NO
  FRAMES and recovers. Capture chip trouble without a source change (vivid's
  error injection): every buffer dropped -> streaming restarts within
  [capture] frame_timeout_ms; STREAMON failing then -> the device is
  reopened; frames flow again once the injection ends; error-flagged
  buffers are counted, not shown; piglix doctor reports the stalls; one
  viewer stays connected through all of it and sees the bars after.
CASE hotplug: piglix starts before the device exists, picks it up; the device
  disappears (vivid's disconnect) and comes back; a wrong device path is
  shown and picked up once the path exists; one viewer stays connected; a
  device without DV timings (vivid as a webcam) gets the nearest frame size.
Each case is one VM boot. Exit 0 on success, 1 on failure."""
import argparse
import os
import re
import sys
import time

from capture_common import (EDID_FILE, PASSWORD, VNC_PORT, GuestPiglix, Tools, VIVID, bars_problems, boot, check,
                            log, max_difference, nosignal_ref, parse_json_line, piglix_config, read_ppm,
                            vivid_set, run_main, vivid_static_bars, vivid_timings_index, wait_picture)


# [video]: vivid's bars through x264 at the default bitrate: flat colours
# decode far above this; a wrong colour matrix or range falls below it.
H264_PSNR_MIN = 35


def ref_problems(ref):
    def problems(img):
        diff = max_difference(img, ref)
        if diff is None:
            return ["size %s, not %s" % (img.size, ref.size)]
        return [] if diff == 0 else ["differs from the reference by up to %d levels" % diff]
    return problems


def bars(width, height):
    return lambda img: bars_problems(img, width, height)


class Watcher:
    """One viewer connected for the whole sequence: it waits for the sequence's
    final size and must not drop on the way (every size change it saw is in
    its report)."""

    def __init__(self, piglix, final_size, timeout=300):
        self.final_size, self.timeout = final_size, timeout
        self.proc = piglix.probe_async("--json", "--timeout", "60", "wait-size", final_size, timeout)

    def finish(self):
        out, err = self.proc.communicate(timeout=self.timeout + 60)
        check(self.proc.returncode == 0, "the connected viewer failed (exit %d): %s %s"
              % (self.proc.returncode, err, out[-500:]))
        result = parse_json_line(out)
        check(result["ok"] and result["reached"], "the viewer did not reach %s: %s" % (self.final_size, out[-500:]))
        return ["%dx%d" % (c["width"], c["height"]) for c in result["size_changes"]]


def guest_edid(vm):
    out = vm.check("v4l2-ctl -d /dev/video0 --get-edid format=hex")
    return bytes.fromhex("".join(line for line in out.splitlines() if not line.startswith("ioctl")))


def edid_matches(got, want):
    """vivid writes its own CEC physical address into the HDMI block (and fixes
    that block's checksum): compare everything else."""
    if len(got) != len(want):
        return False
    ignore = {len(want) - 1}
    oui = want.find(bytes([0x03, 0x0C, 0x00]), 128)
    if oui > 0:
        ignore |= {oui + 3, oui + 4}
    return all(a == b for i, (a, b) in enumerate(zip(got, want)) if i not in ignore)


def shifted_psnr(img, ref):
    """vivid moves its bars by shifting the pattern cyclically: the PSNR of
    img against ref shifted to the position that fits img best (found on
    the middle row, measured over the whole picture)."""
    import numpy as np
    import rfb_h264
    row, ref_row = img[img.shape[0] // 2].astype(np.int32), ref[ref.shape[0] // 2].astype(np.int32)
    shift = min(range(ref.shape[1]), key=lambda k: int(((np.roll(ref_row, k, axis=0) - row) ** 2).sum()))
    return rfb_h264.psnr(img, np.roll(ref, shift, axis=1)), shift


def h264_moving_bars(vm, piglix):
    """vivid's bars moving left: a viewer that announces encoding 50 gets
    H.264 (auto mode: most tiles change) and decodes it with libavcodec;
    every H.264 picture is within H264_PSNR_MIN of the bars (a tiles
    viewer's picture once they stop, shifted to the same position); a
    viewer without encoding 50 gets none; once the bars stop, the lossless
    refresh makes the H.264 viewer's picture exact."""
    import rfb_h264
    port = vm.host_port(VNC_PORT)
    tiles = rfb_h264.Client(port, h264=False, password=PASSWORD, timeout=30)
    video = rfb_h264.Client(port, h264=True, password=PASSWORD, timeout=30)
    check((video.w, video.h) == (1280, 720), "the H.264 viewer sees %dx%d" % (video.w, video.h))
    vivid_set(vm, horizontal_movement=1)  # move left
    shots = []

    def h264_frames(c, kinds):
        if rfb_h264.ENC_H264 in kinds:  # what the viewer shows after an H.264 frame
            shots.append(c.fb.copy())
        return c.counts["h264"] >= 8
    check(video.run(60, h264_frames), "no 8 H.264 frames in 60 s: %s" % video.counts)
    tiles.run(0.2)
    log("ok: H.264 viewer: %d frames, %d bytes (tiles viewer: %d Tight rects, no H.264: %d)"
        % (video.counts["h264"], video.counts["h264_bytes"], tiles.counts["tight"], tiles.counts["h264"]))
    check(tiles.counts["h264"] == 0, "the tiles viewer got H.264")
    vivid_set(vm, horizontal_movement=3)
    deadline = time.time() + 60
    while time.time() < deadline:
        video.run(1.0)
        tiles.run(0.2)
        if video.fb.tobytes() == tiles.fb.tobytes():
            break
    check(video.fb.tobytes() == tiles.fb.tobytes(),
          "60 s after the bars stopped the H.264 viewer's picture is not the tiles viewer's (%.1f dB)"
          % rfb_h264.psnr(video.fb, tiles.fb))
    log("ok: the bars stopped; the lossless refresh made the H.264 viewer's picture exact")
    fits = [shifted_psnr(img, tiles.fb) for img in shots]
    worst = min(fits)
    log("ok: %d H.264 pictures against the bars: %s dB (bound %d)"
        % (len(fits), " ".join("%.1f" % db for db, _ in fits), H264_PSNR_MIN))
    check(worst[0] >= H264_PSNR_MIN, "an H.264 picture is %.1f dB from the bars (shift %d)" % worst)
    for c in (video, tiles):
        c.s.close()
    check("H.264 stream 1280x720 with x264" in piglix.log(), "piglix did not log its x264 stream")


FRAME_TIMEOUT_MS = 1500   # [capture] frame_timeout_ms in this boot: a stall is seen fast
DQBUF_ERRORS = 5
CHIP_WATCH_S = 24         # the viewer connected through the whole chip-trouble sequence (10-17 s here)


def wait_log(piglix, text, timeout):
    deadline = time.monotonic() + timeout
    while text not in piglix.log():
        check(time.monotonic() < deadline, "no '%s' in piglix's log within %d s:\n%s"
              % (text, timeout, piglix.log()[-3000:]))
        time.sleep(0.2)
    return time.monotonic()


def chip_trouble(vm, tools, piglix):
    """[reliability] 5: the bridge's driver stops delivering or flags its
    buffers, without a SOURCE_CHANGE (vivid's error injection). One viewer
    stays connected throughout and its last picture is the bars again."""
    after = tools.path("chip-after.ppm")
    viewer = piglix.probe_async("--json", "--timeout", "60", "watch", CHIP_WATCH_S, "--out", after)
    t_start = time.monotonic()
    # frames stop (every buffer dropped): streaming restarts within the timeout
    # (the guest's clock: piglix's log stamps are its CLOCK_MONOTONIC seconds)
    t0 = float(vm.check("cat /proc/uptime; v4l2-ctl -d /dev/video0 -c percentage_of_dropped_buffers=100")
               .split()[0])
    wait_log(piglix, "restarting streaming (stall 1)", 30)
    m = re.search(r"\[\s*(\d+\.\d+)\] W capture: [^\n]*restarting streaming \(stall 1\)", piglix.log())
    check(m, "no stamped stall line:\n" + piglix.log()[-2000:])
    took = float(m.group(1)) - t0
    check(took < FRAME_TIMEOUT_MS / 1000.0 + 4, "streaming restarted %.1f s after frames stopped (timeout %d ms)"
          % (took, FRAME_TIMEOUT_MS))
    log("ok: streaming restarted %.1f s after frames stopped (frame_timeout_ms %d)" % (took, FRAME_TIMEOUT_MS))
    ref = nosignal_ref(tools, "timeout", "1024x768", "/dev/video0 sends no frames")
    wait_picture(piglix, "the no-frames frame", ref_problems(ref), timeout=30)
    # the next STREAMON fails as well: the device is closed and opened again
    vivid_set(vm, inject_vidioc_streamon_error=1)
    wait_log(piglix, "reopening the device", 30)
    log("ok: STREAMON failed after a stall: the device was reopened")
    vivid_set(vm, percentage_of_dropped_buffers=0)
    wait_picture(piglix, "colour bars after frames resume", bars(1024, 768))
    # buffers flagged as errors (V4L2_BUF_FLAG_ERROR): counted (at exit), never
    # shown. vivid's control for it is a button (the next buffer comes back
    # flagged); its name differs between kernels: take it from the list.
    listing = vm.check("v4l2-ctl -d /dev/video0 -l")
    names = re.findall(r"^\s*(inject_\w+)", listing, re.M)
    log("vivid's injection controls: %s" % ", ".join(names))
    flag = [n for n in names if "flag_error" in n]  # 6.1: inject_v4l2_buf_flag_error
    check(flag, "no control to inject V4L2_BUF_FLAG_ERROR among %s" % names)
    vm.check("for i in $(seq %d); do v4l2-ctl -d /dev/video0 -c %s=1; sleep 0.2; done" % (DQBUF_ERRORS, flag[0]))
    wait_picture(piglix, "colour bars through flagged buffers", bars(1024, 768))
    took = time.monotonic() - t_start
    check(took < CHIP_WATCH_S - 2, "the sequence took %.0f s: longer than the viewer watches" % took)
    out, err = viewer.communicate(timeout=CHIP_WATCH_S + 60)
    check(viewer.returncode == 0, "the viewer connected through the trouble failed (exit %d): %s %s"
          % (viewer.returncode, err, out[-500:]))
    img = read_ppm(after)
    problems = bars(1024, 768)(img)
    check(not problems, "the viewer's last picture is not the bars: %s" % "; ".join(problems[:4]))
    log("ok: one viewer stayed connected through stalls, a reopen and flagged buffers (%.0f s of %d), then saw "
        "the bars" % (took, CHIP_WATCH_S))


def case_picture(tools):
    vm = boot(tools, piglix_config(extra="frame_timeout_ms = %d\n" % FRAME_TIMEOUT_MS))
    try:
        vivid_static_bars(vm)
        piglix = GuestPiglix(vm, tools)
        wait_picture(piglix, "colour bars at 1280x720", bars(1280, 720))
        h264_moving_bars(vm, piglix)
        check(edid_matches(guest_edid(vm), bytes.fromhex(EDID_FILE.read_text())),
              "vivid's EDID is not the shipped one:\n%s" % piglix.log()[-2000:])
        check("loaded the EDID" in piglix.log(), "piglix did not log the EDID load")

        watcher = Watcher(piglix, "1024x768")
        # a new mode: 1920x1080p60 through vivid's "selected DV timings"
        vivid_set(vm, dv_timings=vivid_timings_index(vm, "1920x1080p60"))
        vivid_set(vm, dv_timings_signal_mode=4)
        r = piglix.probe("--json", "wait-size", "1920x1080", 60)
        check(r.returncode == 0, "viewer did not follow to 1920x1080: %s %s" % (r.stderr, r.stdout[-300:]))
        log("ok: a new viewer sees 1920x1080")
        wait_picture(piglix, "colour bars at 1920x1080", bars(1920, 1080))

        for mode, reason, detail in (
                (1, "none", "/dev/video0: no signal on the HDMI input"),
                (2, "nolock", "/dev/video0: a signal, but the receiver cannot lock to it"),
                (3, "range", "/dev/video0: the source's mode is not supported")):
            vivid_set(vm, dv_timings_signal_mode=mode)
            ref = nosignal_ref(tools, reason, "1920x1080", detail)
            wait_picture(piglix, "the %s frame" % reason, ref_problems(ref), timeout=30)
        vivid_set(vm, dv_timings_signal_mode=4)
        wait_picture(piglix, "colour bars back at 1920x1080", bars(1920, 1080))
        # another mode, through no signal: the connected viewer ends at 1024x768
        vivid_set(vm, dv_timings=vivid_timings_index(vm, "1024x768p60"))
        vivid_set(vm, dv_timings_signal_mode=1)
        vivid_set(vm, dv_timings_signal_mode=4)
        wait_picture(piglix, "colour bars at 1024x768", bars(1024, 768))

        sizes = watcher.finish()
        check(sizes == ["1920x1080", "1024x768"], "the connected viewer saw the sizes %s" % sizes)
        log("ok: one viewer stayed connected throughout; sizes %s" % sizes)

        chip_trouble(vm, tools, piglix)
        doctor, _ = vm.run("piglix -c /etc/piglix/piglix.ini doctor", timeout=60)
        check("capture-stalls: the capture device stopped delivering frames" in doctor,
              "piglix doctor does not report the stalls:\n%s" % doctor)
        text = piglix.stop()
        for needle in ("NO SIGNAL:", "NO SYNC LOCK:", "OUT OF RANGE:", "NO FRAMES:", "streaming 1920x1080"):
            check(needle in text, "piglix's log lacks %r" % needle)
        m = re.search(r"(\d+) broken, \d+ stream starts, (\d+) stalls, (\d+) reopens", text)
        check(m, "no capture counters in piglix's log:\n" + text[-2000:])
        broken, stalls, reopens = (int(g) for g in m.groups())
        check(broken >= DQBUF_ERRORS and stalls >= 1 and reopens >= 1,
              "counted %d broken (want %d+), %d stalls, %d reopens" % (broken, DQBUF_ERRORS, stalls, reopens))
        log("ok: counted %d broken frames, %d stalls, %d reopens" % (broken, stalls, reopens))
    finally:
        vm.stop()


def case_hotplug(tools):
    vm = boot(tools, piglix_config(), vivid_at_boot=False)
    try:
        piglix = GuestPiglix(vm, tools)
        ref = nosignal_ref(tools, "nodevice", "1024x768", "/dev/video0: No such file or directory")
        wait_picture(piglix, "NO CAPTURE DEVICE before the device exists", ref_problems(ref), timeout=20)
        check("NO CAPTURE DEVICE: /dev/video0" in piglix.log(), "piglix did not log the missing device")

        watcher = Watcher(piglix, "1920x1080")
        vm.check("modprobe " + VIVID)
        vivid_static_bars(vm)
        r = piglix.probe("wait-size", "1280x720", 30)
        check(r.returncode == 0, "viewer did not get the device's 1280x720: %s" % r.stderr)
        wait_picture(piglix, "colour bars once the device appeared", bars(1280, 720))

        # Unplugged: vivid's disconnect control fails every call on open handles with
        # ENODEV, as a USB unplug does (it reconnects once they are closed), and the
        # node goes away until "re-plugged".
        vm.check("v4l2-ctl -d /dev/video0 -c disconnect=1 && mv /dev/video0 /dev/video0.unplugged")
        ref = nosignal_ref(tools, "nodevice", "1280x720", "/dev/video0: No such file or directory")
        wait_picture(piglix, "NO CAPTURE DEVICE after the unplug", ref_problems(ref), timeout=30)
        check("NO CAPTURE DEVICE: /dev/video0: No such device" in piglix.log(),
              "piglix did not log the unplug (ENODEV)")
        vm.check("mv /dev/video0.unplugged /dev/video0")
        wait_picture(piglix, "colour bars after the re-plug", bars(1280, 720))
        vivid_set(vm, dv_timings=vivid_timings_index(vm, "1920x1080p60"))
        vivid_set(vm, dv_timings_signal_mode=4)
        sizes = watcher.finish()
        check(sizes == ["1280x720", "1920x1080"], "the connected viewer saw the sizes %s" % sizes)
        log("ok: one viewer stayed connected through plug, unplug, re-plug and a new mode")
        piglix.stop()

        # a wrong device path: said so, and picked up once the path exists
        vm.write_file("/etc/piglix/wrong.ini", piglix_config(device="/dev/video7"))
        piglix = GuestPiglix(vm, tools, config_path="/etc/piglix/wrong.ini", name="piglix-wrong")
        ref = nosignal_ref(tools, "nodevice", "1024x768", "/dev/video7: No such file or directory")
        wait_picture(piglix, "NO CAPTURE DEVICE for /dev/video7", ref_problems(ref), timeout=20)
        vm.check("ln -s /dev/video0 /dev/video7")
        wait_picture(piglix, "colour bars once /dev/video7 exists", bars(1920, 1080))
        piglix.stop()

        # a device without DV timings (vivid as a webcam, as a USB dongle is): the
        # frame size nearest [capture] width x height of those it lists
        vm.wait_for(lambda: vm.run("rmmod vivid")[1] == 0, 20, what="rmmod vivid")
        vm.check("modprobe " + VIVID.replace("input_types=0x3", "input_types=0x0"))
        vivid_static_bars(vm)
        vm.write_file("/etc/piglix/webcam.ini", piglix_config(extra="width = 1000\nheight = 700\n"))
        piglix = GuestPiglix(vm, tools, config_path="/etc/piglix/webcam.ini", name="piglix-webcam")
        wait_picture(piglix, "colour bars from a device without DV timings", bars(1280, 720))
        text = piglix.stop()
        check("no DV timings" in text and "streaming 1280x720 YUYV (" in text,
              "piglix did not negotiate 1280x720 YUYV without DV timings:\n" + text[-2000:])
    finally:
        vm.stop()


CASES = {"picture": case_picture, "hotplug": case_hotplug}


def main():
    # PyAV and numpy (the H.264 viewer) are Debian's
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "e2e"))
    import rfb_h264
    rfb_h264.ensure_debian_python()
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--piglix", required=True)
    ap.add_argument("--rfbprobe", required=True)
    ap.add_argument("--nosignal-ref", required=True)
    ap.add_argument("case", choices=sorted(CASES))
    args = ap.parse_args()
    tools = Tools(args.piglix, args.rfbprobe, args.nosignal_ref)
    return run_main(CASES[args.case], tools)


if __name__ == "__main__":
    sys.exit(main())
