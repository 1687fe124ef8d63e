#!/usr/bin/env python3
"""piglix's Redfish service on a real kernel, driven from the host with the
real clients from Debian (python3-sushy and redfishtool) through a forwarded
HTTPS port. One boot of a pvm VM with tests/vm/gpio_sim's simulated
motherboard (the ATX lines), dummy_hcd (piglix's USB gadget and the same
kernel's USB host: usb-storage, sr_mod, sd_mod) and a fixture hwmon tree.

    test_redfish.py --piglix PATH [--module KO]

Checks: the public root; PowerState following the power LED; every
ResetType in the AllowableValues (On, ForceOff, GracefulShutdown,
ForceRestart, PushPowerButton both ways, PowerCycle) with the board
following; PoweringOff while a graceful off waits, a second request refused
(409), a reset while off refused; an unsupported value (400 with its
Redfish error body); sensors and chassis intrusion; sessions made, used and
deleted, and wrong credentials (401); VirtualMedia InsertMedia from a URL
served by an HTTP server on the host (10.0.2.2 from the guest): the guest's
USB host reads the image's bytes from the CD and the USB stick, EjectMedia
takes it away. Exit 0 on success, 1 on failure."""
import argparse
import functools
import hashlib
import http.server
import os
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "e2e"))
import redfish_clients  # noqa: E402
redfish_clients.ensure()  # may re-run this script with Debian's python3

import sushy  # noqa: E402
from sushy import exceptions as sx  # noqa: E402
from board_common import ATX_WIRING, Board, board_vm, build_module  # noqa: E402
from capture_common import TestFailure, check, log, run_main  # noqa: E402

WEB = 8443
PASSWORD = "redfish-vm-pw-1"
RF = "/redfish/v1"
CD, USB = RF + "/Managers/1/VirtualMedia/CD", RF + "/Managers/1/VirtualMedia/USBStick"
HWMON = "/srv/sys/class/hwmon/hwmon0"
MODULES = ["dummy_hcd", "libcomposite", "usb_f_hid", "usb_f_mass_storage", "usb_storage", "sr_mod", "sd_mod"]
CONFIG = """[capture]
source = test
width = 320
height = 240
fps = 2
[vnc]
listen = 127.0.0.1
auth = none
[hid]
enabled = yes
[web]
enabled = yes
listen = 0.0.0.0
port = %d
login_fail_limit = 10
[vmedia]
enabled = yes
dir = /tmp/images
[sensors]
root = /srv/sys
poll_ms = 200
thresholds = hwmon.piglixtest.temp1::::90
[atx]
%slong_press_ms = 1500
on_timeout_s = 5
off_timeout_s = 3
force_off_timeout_s = 5
cycle_off_s = 1
[state]
dir = /var/lib/piglix
""" % (WEB, ATX_WIRING)
SENSOR_FILES = {HWMON + "/name": "piglixtest\n", HWMON + "/temp1_input": "42000\n",
                HWMON + "/fan1_input": "2400\n", HWMON + "/in0_input": "1200\n"}
ALL_RESETS = {"On", "ForceOff", "GracefulShutdown", "ForceRestart", "PushPowerButton", "PowerCycle"}


def wait(what, fn, timeout=20, interval=0.3):
    deadline = time.monotonic() + timeout
    while True:
        v = fn()
        if v:
            return v
        check(time.monotonic() < deadline, "timed out waiting for %s" % what)
        time.sleep(interval)


def error_id(err):
    info = (err.body or {}).get("@Message.ExtendedInfo") or [{}]
    return info[0].get("MessageId", "")


def expect_error(fn, status, message_id, what):
    try:
        fn()
    except sx.HTTPError as e:
        check(e.status_code == status and e.code.endswith("." + message_id) and error_id(e) == e.code,
              "%s: want %d %s, got %s %s %s" % (what, status, message_id, e.status_code, e.code, e.body))
        log("ok: %s -> %d %s" % (what, status, e.code))
        return
    raise TestFailure("%s: no error" % what)


class ImageServer:
    """A plain HTTP server on the host for InsertMedia's URL (the guest
    reaches the host's loopback as 10.0.2.2)."""

    def __init__(self, directory):
        handler = functools.partial(Quiet, directory=directory)
        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.port = self.httpd.server_address[1]
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


class Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, fmt, *args):
        pass


def accepted(system, kind):
    try:
        system.reset_system(kind)
        return True
    except sx.HTTPError as e:
        check(e.status_code == 409 and e.code.endswith(".ResourceInUse"), "%s: %s" % (kind.value, e))
        return False


def power(vm, board, s, tool):
    system = s.get_system()
    allowed = {v.value for v in system.get_allowed_reset_system_values()}
    check(allowed == ALL_RESETS, "AllowableValues %s" % allowed)
    check(system.power_state == sushy.PowerState.OFF and board.state()["power"] == "off", "initially off")

    def reset(kind, counter, power_after, state_after):
        before = board.num(counter)
        # piglix stays busy a moment after a press (a double click is refused,
        # 409): an orchestrator retries, so does this.
        wait("%s accepted" % kind.value, lambda: accepted(system, kind), timeout=10)
        board.wait("the board after %s" % kind.value,
                   lambda st: int(st[counter]) == before + 1 and st["power"] == power_after, timeout=15)
        wait("PowerState %s after %s" % (state_after.value, kind.value),
             lambda: system.refresh() or system.power_state == state_after)
        log("ok: %s: board %s +1, now %s; PowerState %s" % (kind.value, counter, power_after, state_after.value))

    reset(sushy.ResetType.ON, "power_ons", "on", sushy.PowerState.ON)
    reset(sushy.ResetType.FORCE_RESTART, "resets", "on", sushy.PowerState.ON)
    reset(sushy.ResetType.GRACEFUL_SHUTDOWN, "acpi_offs", "off", sushy.PowerState.OFF)
    reset(sushy.ResetType.PUSH_POWER_BUTTON, "power_ons", "on", sushy.PowerState.ON)
    reset(sushy.ResetType.PUSH_POWER_BUTTON, "acpi_offs", "off", sushy.PowerState.OFF)
    reset(sushy.ResetType.POWER_CYCLE, "power_ons", "on", sushy.PowerState.ON)  # from off: just on
    forces = board.num("force_offs")
    reset(sushy.ResetType.POWER_CYCLE, "power_ons", "on", sushy.PowerState.ON)
    check(board.num("force_offs") == forces + 1, "PowerCycle from on did not force the board off")
    reset(sushy.ResetType.FORCE_OFF, "force_offs", "off", sushy.PowerState.OFF)
    check(int(board.state()["last_power_press_ms"]) >= 1400, "ForceOff was not a long press")

    # A hung OS: GracefulShutdown waits (PoweringOff); others are refused meanwhile.
    conn = system._conn
    target = system._get_reset_action_element().target_uri
    system.reset_system(sushy.ResetType.ON)
    board.wait("on", lambda st: st["power"] == "on")
    wait("PowerState On", lambda: system.refresh() or system.power_state == sushy.PowerState.ON)
    board.set("acpi", 0)
    ignored = board.num("ignored_presses")
    system.reset_system(sushy.ResetType.GRACEFUL_SHUTDOWN)
    board.wait("the short press, ignored", lambda st: int(st["ignored_presses"]) == ignored + 1)
    check(system.refresh() or system.power_state == sushy.PowerState.POWERING_OFF,
          "PowerState while the graceful off waits: %s" % system.power_state)
    expect_error(lambda: conn.post(target, data={"ResetType": "ForceRestart"}), 409, "ResourceInUse",
                 "ForceRestart while GracefulShutdown waits")
    system.reset_system(sushy.ResetType.FORCE_OFF)  # replaces the waiting off
    board.wait("forced off", lambda st: st["power"] == "off", timeout=15)
    board.set("acpi", 1)
    wait("PowerState Off", lambda: system.refresh() or system.power_state == sushy.PowerState.OFF, timeout=15)
    expect_error(lambda: conn.post(target, data={"ResetType": "ForceRestart"}), 409,
                 "ChassisPowerStateOnRequired", "ForceRestart while off")
    expect_error(lambda: conn.post(target, data={"ResetType": "Nmi"}), 400, "ActionParameterValueNotInList",
                 "ResetType Nmi")
    expect_error(lambda: conn.post(target, data={"ResetType": "GracefulRestart"}), 400,
                 "ActionParameterValueNotInList", "ResetType GracefulRestart")

    # redfishtool: the system, a reset, with the board following.
    check(tool.json("Systems", "-1", "get")["PowerState"] == "Off", "redfishtool: PowerState")
    rc, out, err = tool.run("Systems", "-1", "reset", "On")
    check(rc == 0, "redfishtool reset On: %d %s %s" % (rc, out, err))
    board.wait("on through redfishtool", lambda st: st["power"] == "on", timeout=15)
    wait("PowerState On (not PoweringOn: the action is over)",
         lambda: system.refresh() or system.power_state == sushy.PowerState.ON)
    resets = board.num("resets")
    rc, out, err = tool.run("Systems", "-1", "reset", "ForceRestart", auth="Session")
    check(rc == 0, "redfishtool reset ForceRestart: %d %s %s" % (rc, out, err))
    board.wait("a reset through redfishtool", lambda st: int(st["resets"]) == resets + 1)
    log("ok: redfishtool: Systems get, reset On and ForceRestart (session auth)")


def sensors(vm, board, s, tool):
    chassis = s.get_chassis()
    temps = {t.identity: t for t in chassis.thermal.temperatures}
    t = temps.get("hwmon.piglixtest.temp1")
    check(t and t.reading_celsius == 42 and t.upper_threshold_critical == 90, "temperature: %s" % temps)
    fans = {f.identity: f.reading for f in chassis.thermal.fans}
    check(fans.get("hwmon.piglixtest.fan1") == 2400, "fans: %s" % fans)
    vm.check("echo 95000 > %s/temp1_input" % HWMON)
    sensor = RF + "/Chassis/1/Sensors/hwmon.piglixtest.temp1"
    got = wait("the reading to reach Redfish", lambda: (lambda j: j if j["Reading"] == 95 else None)(
        s._conn.get(sensor).json()))
    check(got["Status"]["Health"] == "Critical" and got["ReadingUnits"] == "Cel", "sensor: %s" % got)
    check(chassis.physical_security.intrusion_sensor == sushy.IntrusionSensor.NORMAL, "intrusion, closed")
    board.set("intrusion", 1)
    wait("HardwareIntrusion", lambda: chassis.refresh() or
         chassis.physical_security.intrusion_sensor == sushy.IntrusionSensor.HARDWARE_INTRUSION)
    board.set("intrusion", 0)
    rows, out = tool.sensors()
    check(("95", "90") in rows.get("hwmon.piglixtest.temp1", []) and ("2400", "N/A") in
          rows.get("hwmon.piglixtest.fan1", []), "redfishtool Chassis Sensors:\n%s" % out)
    log("ok: sensors (sushy Thermal, Sensors, intrusion; redfishtool Chassis Sensors)")


def sessions(base, cert, hostport, s):
    token, uri = s._auth.get_session_key(), s._auth.get_session_resource_id()
    svc = s.get_session_service()
    check(uri in svc.sessions.members_identities and s.get_session(uri).username == "admin", "session listed")
    by_token = redfish_clients.RedfishTool(hostport, "", "")
    rc, out, err = by_token.run("-t", token, "Systems", auth="Session")
    check(rc == 0, "redfishtool with sushy's token: %d %s %s" % (rc, out, err))
    s._auth.close()  # DELETE of the session
    rc, out, err = by_token.run("-t", token, "Systems", auth="Session")
    check(rc != 0 and "401" in out + err, "the token after DELETE: %d %s %s" % (rc, out, err))
    bad = redfish_clients.sushy_client(base, "admin", "wrong-" + PASSWORD, cert)
    try:
        bad.get_system()
        raise TestFailure("wrong credentials accepted")
    except sx.AccessError as e:
        check(e.status_code == 401 and "ResourceAtUriUnauthorized" in e.code, "wrong credentials: %s" % e)
    log("ok: sessions: made, listed, used by token, deleted; wrong credentials 401")


def medium_sha(vm, dev, size):
    out, rc = vm.run("dd if=%s of=/tmp/medium bs=2048 count=%d 2>/dev/null && sha256sum /tmp/medium"
                     % (dev, size // 2048), timeout=30)
    return out.split()[0] if rc == 0 and out else None


def virtual_media(vm, s, url, sha, size):
    mgr = s.get_manager()
    coll = mgr.virtual_media
    check(sorted(coll.members_identities) == sorted([CD, USB]), "members: %s" % (coll.members_identities,))
    cd, usb = coll.get_member(CD), coll.get_member(USB)
    check(sushy.VirtualMediaType.CD in cd.media_types and not cd.inserted and cd.image is None, "CD before")
    cd.insert_media(url)
    wait("the CD inserted", lambda: cd.refresh() or cd.inserted, timeout=60)
    check(cd.image == url and cd.image_name == "test.img" and cd.connected_via == sushy.ConnectedVia.URI and
          cd.write_protected, "CD after InsertMedia: %s" % cd.json)
    wait("the image's bytes on the guest's /dev/sr0", lambda: medium_sha(vm, "/dev/sr0", size) == sha, timeout=60)
    log("ok: InsertMedia (CD) from %s: the guest reads the same bytes from /dev/sr0" % url)
    expect_error(lambda: usb.insert_media(url), 409, "ResourceInUse", "the USB stick while the CD holds the medium")
    expect_error(lambda: cd._conn.post(cd._get_insert_media_uri()[0], data={"Image": "ftp://10.0.2.2/x.img"}), 400,
                 "ActionParameterValueFormatError", "an ftp:// Image")
    expect_error(lambda: cd._conn.post(cd._get_insert_media_uri()[0], data={"Image": "http://u:secret@10.0.2.2/x"}),
                 400, "ActionParameterValueFormatError", "an Image URL with credentials")
    cd.eject_media()
    cd.refresh()
    check(not cd.inserted and cd.image is None and cd.connected_via == sushy.ConnectedVia.NOT_CONNECTED,
          "CD after EjectMedia: %s" % cd.json)
    wait("the medium gone from /dev/sr0", lambda: medium_sha(vm, "/dev/sr0", size) is None, timeout=30)
    log("ok: EjectMedia: the guest's CD drive is empty")

    etag = usb._get_etag()
    expect_error(lambda: usb._conn._op("PATCH", USB, data={"VerifyCertificate": False},
                                       headers={"If-Match": 'W/"0000000000000000"'}), 412, "PreconditionFailed",
                 "PATCH with a stale ETag")
    usb._conn._op("PATCH", USB, data={"VerifyCertificate": False}, headers={"If-Match": etag})
    usb.refresh()
    check(usb.verify_certificate is False, "VerifyCertificate after PATCH")
    usb.insert_media(url)
    wait("the USB stick inserted", lambda: usb.refresh() or usb.inserted, timeout=60)
    disk = wait("the USB stick's disk", lambda: [d for d in vm.check("ls /sys/block").split() if d.startswith("sd")])
    wait("the image's bytes on /dev/%s" % disk[0], lambda: medium_sha(vm, "/dev/" + disk[0], size) == sha,
         timeout=60)
    usb.eject_media()
    wait("USB stick ejected", lambda: usb.refresh() or not usb.inserted)
    log("ok: InsertMedia (USBStick): the guest reads the same bytes from /dev/%s; ejected" % disk[0])


def run_test(args, tmp):
    ko = build_module(args.module)
    image = os.urandom(1 << 20)  # over the kernel's 600 KiB minimum for a CD
    with open(os.path.join(tmp, "test.img"), "wb") as f:
        f.write(image)
    sha = hashlib.sha256(image).hexdigest()
    server = ImageServer(tmp)
    url = "http://10.0.2.2:%d/test.img" % server.port
    files = {"/etc/piglix/piglix.ini": CONFIG}
    files.update(SENSOR_FILES)
    try:
        with board_vm(ko + " force_off_ms=1000 shutdown_ms=500", MODULES, binaries=[args.piglix],
                      files=files, ports=[WEB]) as vm:
            vm.check("printf '%s\\n' | piglix -c /etc/piglix/piglix.ini user add admin" % PASSWORD, timeout=60)
            proc = vm.spawn("exec piglix -c /etc/piglix/piglix.ini", log="/tmp/piglix.log")
            vm.wait_listening(WEB, timeout=60)
            hostport = "127.0.0.1:%d" % vm.host_port(WEB)
            tool = redfish_clients.RedfishTool(hostport, "admin", PASSWORD)
            wait("the Redfish root", lambda: tool.run("root", timeout=30)[0] == 0, timeout=60, interval=0.5)
            root = tool.json("root")
            check(root["Systems"]["@odata.id"] == RF + "/Systems", "redfishtool root: %s" % root)
            cert = os.path.join(tmp, "web-cert.pem")
            with open(cert, "wb") as f:
                f.write(vm.read_file("/var/lib/piglix/web-cert.pem"))
            base = "https://" + hostport
            s = redfish_clients.sushy_client(base, "admin", PASSWORD, cert)
            check(s.uuid == root["UUID"], "sushy root")
            board = Board(vm)
            power(vm, board, s, tool)
            sensors(vm, board, s, tool)
            virtual_media(vm, s, url, sha, len(image))
            sessions(base, cert, hostport, s)
            proc.kill("TERM")
            check(proc.wait(30) == 0, "piglix did not stop cleanly:\n%s" % proc.log()[-3000:])
            text = proc.log()
            check(PASSWORD not in text, "the password reached the log")
            check("redfish: admin@" in text and "reset On (ATX on)" in text, "Redfish actions not logged")
    finally:
        server.close()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--piglix", required=True)
    ap.add_argument("--module", help="a prebuilt piglix_atx_sim.ko (default: gpio_sim/build.sh)")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="piglix-vm-redfish-") as tmp:
        return run_main(run_test, args, tmp)


if __name__ == "__main__":
    sys.exit(main())
