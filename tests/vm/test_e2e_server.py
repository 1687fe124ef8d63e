#!/usr/bin/env python3
"""The lights-out loop end to end: piglix manages a simulated server in one
pvm VM (test_e2e_vm.py), driven from the host by real clients: rfbprobe over
VNC, curl on the web API, Debian's vncsnapshot, and Chromium through
Playwright (tests/browser/simserver.mjs). What the server shows is checked
by its pixels (cells matched against the font, the state strip, and exact
pixel comparison of rendered text).

    test_e2e_server.py --piglix PATH --simserver PATH --rfbprobe PATH
                       --nosignal-ref PATH --imgtool PATH --build-dir DIR [--no-browser]

Scenarios, in order, in one boot:
  off: the board is off, viewers see piglix's exact NO SIGNAL frame;
  power on through the API (POST /api/atx/on): the setup screen appears,
    its title pixel-exact against the font;
  the menu moved with Down/Up and chosen with Enter;
  a sentence with shifted, AltGr, dead-key and umlaut characters typed over
    VNC with [hid] layout = de comes out exactly (length and CRC from the
    state strip, the characters from the cells, the pixels against the font);
  clicks at known positions: a menu entry chosen by clicking, the readout of
    position, buttons and wheel;
  an ISO built with xorriso uploaded and mounted as a CD through the API,
    "Boot from USB CD" lists its files; after eject it finds no medium;
  the browser: log in, read the screen from the canvas, click, type (keys go
    as scancodes: a US browser keyboard on a de server), then Force off in
    the Power dialog: the browser and a VNC viewer stay connected and both
    show NO SIGNAL;
  vncsnapshot's picture of the NO SIGNAL frame; piglix exits cleanly.
Screenshots go to --build-dir/e2e-artifacts (printed). Exit 0 on success,
1 on failure, 77 when the browser tools are missing (see --no-browser)."""
import argparse
import json
import os
import shutil
import subprocess
import sys
import time

from capture_common import TestFailure, check, log, nosignal_ref, read_ppm
from test_e2e_screen import Screen, shown, text_crc
from test_e2e_vm import BROWSER_SCRIPT, Appliance, browser_env, browser_tools, ensure_playwright, keysym, make_iso

import pvm

SKIP = 77
TITLE = " piglix test server - firmware setup utility"
SENTENCE = "Zw\u00f6lf Boxk\u00e4mpfer jagen Viktor \u00fcber den Deich! @{[]}\\|~<> ^` 50%\u20ac&\u00b5"
BROWSER_SENTENCE = "Typed in Chromium, 42 times, yes!"
UP, DOWN, ENTER, ESC = 0xff52, 0xff54, 0xff0d, 0xff1b
NO_SIGNAL_DETAIL = "/dev/video0: no signal on the HDMI input"


class Scenarios:
    def __init__(self, app, args, artifacts):
        self.app, self.args, self.art = app, args, artifacts
        self.L = app.contract.layout
        self.c = app.contract.colours

    def strip(self, screen):
        return screen.strip() or {}

    def nosignal(self, size=None):
        """piglix's exact NO SIGNAL frame at size (default: the sim's)."""
        size = size or "%dx%d" % (self.L["width"], self.L["height"])
        ref = nosignal_ref(self.app.clients, "none", size, NO_SIGNAL_DETAIL)
        ref.path = self.app.clients.path("nosignal-ref.ppm")
        with open(ref.path, "wb") as f:
            f.write(b"P6\n%d %d\n255\n" % (ref.width, ref.height) + ref.rgb)
        return ref

    def off(self):
        check(self.app.board_power() == "off", "the board should start off")
        refs = {}

        def no_signal(s):  # piglix has seen no mode yet: its own default size
            size = "%dx%d" % (s.width, s.height)
            refs[size] = refs.get(size) or self.nosignal(size)
            return s.rgb == refs[size].rgb
        self.app.wait_screen("the server is off: piglix shows its exact NO SIGNAL frame", no_signal,
                             name="00-off-no-signal")

    def power_on(self):
        started = time.monotonic()
        data = self.app.api_ok("POST", "/api/atx/on", want=(202,))
        check(data.get("result") == "ok", "POST /api/atx/on: %s" % data)
        self.app.vm.wait_for(lambda: self.app.board_power() == "on", 20, interval=0.2, what="the board to be on")
        s = self.app.wait_screen("power on through the API: the setup screen appears",
                                 lambda s: self.strip(s).get("flags", {}).get("on") and s.text(0) == TITLE,
                                 name="01-powered-on")
        log("  %.1f s from POST /api/atx/on to the picture" % (time.monotonic() - started))
        bad = s.region_matches(0, self.L["row"]["title"], TITLE.ljust(self.L["cols"]), self.c["title_fg"],
                               self.c["title_bg"])
        check(bad == 0, "the title row differs from the font's rendering in %d pixels" % bad)
        log("ok: the title row is pixel-exact against the font")
        info = self.app.api_ok("GET", "/api/info")
        check(info["signal"] == "ok" and info["resolution"] == {"width": 640, "height": 480},
              "GET /api/info after power on: %s" % info)
        # piglix calls it on once the LED held still for [atx] standby_blink_ms
        self.app.vm.wait_for(lambda: self.app.api_ok("GET", "/api/atx")["power"] == "on", 20,
                             what="GET /api/atx to say on")
        st = self.strip(s)
        check(st["flags"]["kbd"] and st["flags"]["abs"], "the server sees no USB keyboard/mouse: %s" % st)

    def menu(self):
        row0, col = self.L["row"]["menu"], self.L["col"]["menu"]
        self.app.keys(DOWN, DOWN, UP)
        s = self.app.wait_screen("Down, Down, Up: the second entry is highlighted",
                                 lambda s: self.strip(s).get("menu") == 1)
        _ch, bg, _fg = s.cell(col, row0 + 1)
        check(bg == tuple(self.c["sel_bg"]) and s.cell(col, row0)[1] == tuple(self.c["bg"]),
              "the highlight is not on the second entry")
        self.app.keys(ENTER)
        s = self.app.wait_screen("Enter chooses it: the Keyboard Test panel",
                                 lambda s: self.strip(s).get("activated") == 1, name="02-menu")
        check(s.text(row0 + 1, col, self.L["menu_width"]) == "> Keyboard Test", "menu row: %r" % s.text(row0 + 1))
        check(s.text(self.L["row"]["panel_head"], self.L["col"]["panel"]) == "Keyboard Test", "panel heading")
        check(s.text(self.L["row"]["status"]) == " Status: Selected: Keyboard Test", "status: %r" %
              s.text(self.L["row"]["status"]))

    def typing(self):
        self.app.keys(ESC)
        # at a fast typist's pace: piglix queues 64 reports for a host that
        # polls late (dummy_hcd under TCG), and drops what does not fit
        self.app.keys(*[keysym(ch) for ch in SENTENCE], delay_ms=15)
        want_crc = text_crc(SENTENCE)

        def typed(s):
            st = self.strip(s)
            return st.get("text_len") == len(SENTENCE) and st.get("text_crc") == want_crc
        s = self.app.wait_screen("a de sentence with Shift, AltGr, dead keys and umlauts echoed exactly (CRC %08x)"
                                 % want_crc, typed, name="03-typed-de")
        row, col = self.L["row"]["text"], self.L["col"]["text"]
        got = s.text(row, col, self.L["text_width"])
        check(got == shown(SENTENCE), "the text field reads %r, want %r" % (got, shown(SENTENCE)))
        bad = s.region_matches(col, row, shown(SENTENCE), self.c["field_fg"], self.c["field_bg"])
        check(bad == 0, "the typed text differs from the font's rendering in %d pixels" % bad)
        log("ok: %r on screen, pixel-exact" % SENTENCE)

    def pointer(self):
        L = self.L
        x, y = (L["col"]["menu"] + 4) * 8 + 3, (L["row"]["menu"] + 2) * 16 + 7   # on "Pointer Test"
        self.app.pointer(x, y, 1)  # a viewer session presses; leaving releases
        self.app.wait_screen("a click on the Pointer Test entry chooses it, at (%d,%d)" % (x, y),
                             lambda s: self.strip(s).get("activated") == 2 and self.strip(s).get("pointer") == (x, y))
        self.app.pointer(500, 300, 4)
        self.app.pointer(500, 300, 8)  # a wheel tick up
        self.app.pointer(600, 440, 0)  # out of the way of the text
        ax, ay = 600 * 32767 // 639, 440 * 32767 // 479
        want = " Pointer: abs %d,%d  pixel 600,440  buttons L- M- R-  wheel +1" % (ax, ay)
        panel = L["row"]["panel"]

        def done(s):
            return (s.text(L["row"]["pointer"]) == want and
                    s.text(panel + 1, L["col"]["panel"]) == "Last click: 500,300 right")
        s = self.app.wait_screen("the readout: position, last (right) click, wheel", done, name="04-pointer")
        st = self.strip(s)
        check(st["pointer"] == (600, 440) and st["buttons"] == 0 and st["wheel"] == 1, "strip %s" % st)

    def boot_iso(self):
        files = {"HELLO.TXT": b"Hello from piglix virtual media!\n", "notes/todo.md": b"# nothing\n",
                 "zeros.bin": bytes(640 * 1024)}
        iso = make_iso(self.app.clients.tmp, files, "PIGLIX_E2E")
        status, data = self.app.api("GET", "/api/vmedia")
        if status == 404:
            raise TestFailure("GET /api/vmedia: 404: the virtual-media API is not there (piglix too old?)")
        self.app.api_ok("PUT", "/api/vmedia/images/e2e.iso", upload=iso, want=(200, 201))
        d = self.app.api_ok("POST", "/api/vmedia/mount", {"image": "e2e.iso", "mode": "cdrom"})["drive"]
        check(d["mounted"] and d["image"] == "e2e.iso", "mount: %s" % d)
        log("ok: e2e.iso uploaded and mounted as a CD")
        # the sim's line format: name, size, the start of the first line
        want = ["Device /dev/sr0, volume PIGLIX_E2E", "3 entries:"] + [
            ("%-18.18s %9s  %.18s" % (name, size, preview)).rstrip()
            for name, size, preview in (("HELLO.TXT", 33, "Hello from piglix virtual media!"),
                                        ("notes", "<DIR>", ""), ("zeros.bin", 640 * 1024, ""))]
        s = self.boot("Boot from USB CD lists the CD's files", lambda rows: rows[:len(want)] == want,
                      first=True, name="05-boot-usb-cd")
        check(self.strip(s)["files"] == 3 and self.strip(s)["flags"]["media"], "strip %s" % self.strip(s))
        self.app.api_ok("POST", "/api/vmedia/eject", {"force": False})
        self.boot("after eject: no bootable medium",
                  lambda rows: rows[:2] == ["No bootable medium.", "/dev/sr0: No medium found"], name="06-no-medium")

    def panel(self, s):
        L = self.L
        return [s.text(L["row"]["panel"] + i, L["col"]["panel"], L["panel_width"]) for i in range(L["panel_rows"])]

    def boot(self, what, rows_ok, first=False, name=None):
        """Chooses Boot from USB CD (again, as a user would, until the USB
        host has noticed the medium change) until the panel reads right."""
        deadline = time.monotonic() + 60
        if first:
            self.app.keys(DOWN)  # from Pointer Test
        while True:
            self.app.keys(ENTER)
            try:
                return self.app.wait_screen(what, lambda s: self.strip(s).get("activated") == 3 and
                                            rows_ok(self.panel(s)), timeout=6, name=name)
            except TestFailure:
                if time.monotonic() > deadline:
                    raise

    def browser(self, env, ref):
        """The browser scenario; the VNC viewer watches through the force-off."""
        cmd = ["node", BROWSER_SCRIPT, "scenario"]
        node = subprocess.Popen(cmd, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        result = None
        watcher = None
        try:
            for line in node.stdout:
                print("  browser: " + line.rstrip(), flush=True)
                if line.startswith("READY"):
                    watcher = self.app.piglix.probe_async("--encodings", "tight,desktopsize,extdesktopsize,lastrect",
                                                          "--json", "watch", "15", "--out",
                                                          self.app.clients.path("watch.ppm"))
                    time.sleep(1)
                    node.stdin.write("go\n")
                    node.stdin.flush()
                elif line.startswith("{"):
                    result = json.loads(line)
            rc = node.wait(60)
        finally:
            if node.poll() is None:
                node.kill()
        check(rc == 0 and result and result.get("ok"), "the browser scenario failed (exit %s): %s" % (rc, result))
        check(watcher is not None, "the browser never got to the force-off")
        out, err = watcher.communicate(timeout=60)
        check(watcher.returncode == 0, "the VNC viewer did not stay connected through the force-off: %s %s"
              % (err, out))
        seen = read_ppm(self.app.clients.path("watch.ppm"))
        check(seen.rgb == ref.rgb, "the VNC viewer connected through the force-off does not show NO SIGNAL")
        Screen.from_image(self.app.contract, seen).save_png(os.path.join(self.art, "10-vnc-viewer-after-force-off.png"))
        log("ok: the VNC viewer stayed connected through the force-off and shows NO SIGNAL")
        return result

    def vncsnapshot(self, ref):
        jpg = self.app.clients.path("vncsnapshot.jpg")
        r = subprocess.run(["vncsnapshot", "-passwd", self.app.clients.passwd_file, "-quality", "95",
                            "127.0.0.1::%d" % self.app.piglix.host_port, jpg], capture_output=True, text=True,
                           timeout=120)
        check(r.returncode == 0, "vncsnapshot failed: %s %s" % (r.stdout, r.stderr))
        shutil.copy(jpg, os.path.join(self.art, "11-vncsnapshot-no-signal.jpg"))
        ppm = self.app.clients.path("vncsnapshot.ppm")
        subprocess.run([self.args.imgtool, "jpeg2ppm", jpg, ppm], check=True)
        r = subprocess.run([self.args.rfbprobe, "compare", ppm, ref.path, "--psnr-min", "30"], capture_output=True,
                           text=True)
        check(r.returncode == 0, "vncsnapshot's picture is not the NO SIGNAL frame: %s %s" % (r.stdout, r.stderr))
        log("ok: vncsnapshot (Debian's client) shows the NO SIGNAL frame: %s" % r.stdout.strip())


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    for name in ("piglix", "simserver", "rfbprobe", "nosignal-ref", "imgtool", "build-dir"):
        ap.add_argument("--" + name, required=True)
    ap.add_argument("--no-browser", action="store_true", help="skip the browser scenario")
    args = ap.parse_args()
    artifacts = os.path.join(os.path.abspath(args.build_dir), "e2e-artifacts")
    shutil.rmtree(artifacts, ignore_errors=True)
    os.makedirs(artifacts)
    started = time.monotonic()
    node_modules = env = None
    if not args.no_browser:
        if not browser_tools():
            return SKIP
        node_modules = ensure_playwright(args.build_dir)
    app = Appliance(args.piglix, args.simserver, args.rfbprobe, layout="de", artifacts=artifacts)
    app.clients.nosignal_ref = os.path.abspath(args.nosignal_ref)
    try:
        app.start()
        if node_modules:
            env = browser_env(app, node_modules, artifacts, PIGLIX_BROWSER_SENTENCE=BROWSER_SENTENCE)
        sc = Scenarios(app, args, artifacts)
        sc.off()
        sc.power_on()
        sc.menu()
        sc.typing()
        sc.pointer()
        sc.boot_iso()
        ref = sc.nosignal()
        if env:
            sc.browser(env, ref)
        else:
            app.api_ok("POST", "/api/atx/force-off", want=(202,))
            app.wait_screen("force-off: NO SIGNAL", lambda s: s.rgb == ref.rgb, name="08-no-signal")
        check(app.board_power() == "off", "the board is not off after the force-off")
        sc.vncsnapshot(ref)
        text = app.piglix.stop()
        for bad in ("AddressSanitizer", "runtime error:", app.web_password, app.clients.vnc_password):
            check(bad not in text, "piglix's log contains %r" % bad[:20])
        app.sim.kill("TERM")
        check(app.sim.wait(20) == 0, "simserver did not stop cleanly:\n" + app.sim.log()[-2000:])
    except (TestFailure, pvm.VMError) as e:
        print("FAIL: %s" % e, file=sys.stderr)
        if app.vm is not None and app.vm.qemu_running():
            print(app.diagnostics(), file=sys.stderr)
        print("screenshots in %s" % artifacts)
        return 1
    finally:
        app.stop()
    print("screenshots in %s" % artifacts)
    log("PASS in %.0f s" % (time.monotonic() - started))
    return 0


if __name__ == "__main__":
    sys.exit(main())
