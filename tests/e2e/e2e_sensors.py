#!/usr/bin/env python3
"""End-to-end tests of piglix's sensors ([sensors]) and its Prometheus
metrics: the daemon reads a copy of the fixture sysfs tree
(tests/unit/fixtures/sysfs) while the test changes it; GET /api/sensors over
HTTPS, and /api/metrics fetched with curl (as a scraper does, with an API
token) and checked with promtool from Debian's prometheus package.
Usage: e2e_sensors.py PIGLIX TOOLS_DIR CASE"""
import os
import re
import shutil
import subprocess
import sys
import time

from piglix_e2e import check, run, TestFailure
from e2e_web import Web, expect, PASSWORD

FIXTURE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "unit", "fixtures", "sysfs")
NAMES = "hwmon.cpu_thermal.temp1=SoC,hwmon.lm75-1-0048.temp1=Inlet \"front\""
THRESHOLDS = "hwmon.lm75-1-0048.temp1::10:40:50"

# Every metric family piglix may export, with its type; promtool checks the
# names' form, this list that nothing appears or vanishes unnoticed.
FAMILIES = {
    # H.264 (server/vnc_h264.c), roles (web_roles.c, view-only viewers)
    "piglix_h264_bytes_total": "counter", "piglix_h264_encode_seconds_total": "counter",
    "piglix_h264_frames_total": "counter", "piglix_h264_rects_total": "counter",
    "piglix_h264_resyncs_total": "counter", "piglix_role_refusals_total": "counter",
    "piglix_h264_previews_total": "counter", "piglix_h264_preview_bytes_total": "counter",
    "piglix_vnc_input_dropped_total": "counter",
    "piglix_info": "gauge", "piglix_capture_signal": "gauge", "piglix_capture_width": "gauge",
    "piglix_capture_height": "gauge", "piglix_capture_fps": "gauge", "piglix_capture_frames_total": "counter",
    "piglix_capture_dropped_total": "counter",
    # [reliability] capture chip trouble
    "piglix_capture_broken_total": "counter", "piglix_capture_stalls_total": "counter",
    "piglix_capture_reopens_total": "counter",
    "piglix_vnc_clients": "gauge",
    "piglix_vnc_connections_total": "counter", "piglix_vnc_auth_failures_total": "counter",
    "piglix_vnc_updates_total": "counter", "piglix_vnc_bytes_total": "counter", "piglix_frames_total": "counter",
    "piglix_frames_static_total": "counter", "piglix_encodes_total": "counter",
    "piglix_encode_shared_total": "counter", "piglix_encode_seconds_total": "counter",
    "piglix_web_requests_total": "counter", "piglix_web_sessions": "gauge", "piglix_web_viewers": "gauge",
    "piglix_web_logins_total": "counter", "piglix_web_password_hashes_total": "counter",
    "piglix_web_snapshots_total": "counter",
    "piglix_web_stream_frames_total": "counter", "piglix_web_ws_to_browser_bytes_total": "counter",
    "piglix_web_ws_from_browser_bytes_total": "counter", "piglix_hid_online": "gauge",
    "piglix_sensor_temperature_celsius": "gauge", "piglix_sensor_voltage_volts": "gauge",
    "piglix_sensor_fan_rpm": "gauge", "piglix_sensor_current_amperes": "gauge",
    "piglix_sensor_power_watts": "gauge", "piglix_sensor_intrusion": "gauge", "piglix_sensor_health": "gauge",
    "piglix_atx_configured": "gauge", "piglix_atx_power_state": "gauge", "piglix_atx_power_led": "gauge",
    "piglix_atx_hdd_led": "gauge", "piglix_atx_hdd_activity_total": "counter", "piglix_atx_intrusion": "gauge",
    "piglix_atx_busy": "gauge", "piglix_media_configured": "gauge", "piglix_media_present": "gauge",
    "piglix_media_host_online": "gauge", "piglix_media_mounted": "gauge", "piglix_media_pending": "gauge",
    "piglix_media_size_bytes": "gauge", "piglix_media_info": "gauge",
}


def sysfs_copy(env):
    root = os.path.join(env.tmp, "sys")
    shutil.copytree(FIXTURE, root, symlinks=True)
    return root


def write(root, rel, text):
    with open(os.path.join(root, rel), "w") as f:
        f.write(text + "\n")


def token(w):
    r = w.user("token", "admin")
    check(r.returncode == 0, "user token: %s" % r.stderr)
    time.sleep(1.2)  # the daemon re-reads the accounts within a second
    # a new token ends the account's sessions (credentials changed): log in again
    w.login()
    return r.stdout.strip()


def scrape(w, tok):
    """/api/metrics with curl, checked by promtool; returns the text."""
    r = subprocess.run(["curl", "-sS", "-k", "--fail", "-H", "Authorization: Bearer " + tok,
                        "https://127.0.0.1:%d/api/metrics" % w.https], capture_output=True, timeout=30)
    check(r.returncode == 0, "curl /api/metrics: %d %s" % (r.returncode, r.stderr.decode()))
    p = subprocess.run(["promtool", "check", "metrics"], input=r.stdout, capture_output=True, timeout=30)
    check(p.returncode == 0, "promtool check metrics (exit %d):\n%s%s" % (
        p.returncode, p.stdout.decode(), p.stderr.decode()))
    text = r.stdout.decode()
    types = dict(re.findall(r"^# TYPE (\S+) (\S+)$", text, re.M))
    for name, typ in types.items():
        check(FAMILIES.get(name) == typ, "unexpected metric family %s (%s)" % (name, typ))
    return text


def sample(text, metric, **labels):
    """The value of the one sample of metric whose labels include labels."""
    found = []
    for m in re.finditer(r"^%s(?:\{(.*)\})? (\S+)$" % re.escape(metric), text, re.M):
        have = dict(re.findall(r'(\w+)="((?:[^"\\]|\\.)*)"', m.group(1) or ""))
        if all(have.get(k) == v for k, v in labels.items()):
            found.append(float(m.group(2)))
    check(len(found) == 1, "%d samples of %s%s" % (len(found), metric, labels))
    return found[0]


def sensors(w):
    st, js, _, _ = expect(w.request("GET", "/api/sensors"), 200, "sensors")
    return {s["id"]: s for s in js["sensors"]}, js


def wait_health(w, sid, health, timeout=10):
    deadline = time.time() + timeout
    while time.time() < deadline:
        s = sensors(w)[0].get(sid)
        if s and s["health"] == health:
            return s
        time.sleep(0.1)
    raise TestFailure("%s never became %s: %s" % (sid, health, sensors(w)[0].get(sid)))


def case_api_and_metrics(env):
    root = sysfs_copy(env)
    w = Web(env, sensors__root=root, sensors__poll_ms=100, sensors__names=NAMES,
            sensors__thresholds=THRESHOLDS, atx__enabled="yes", atx__chip="",
            atx__wol_mac="02:00:00:aa:bb:cc", atx__wol_address="127.0.0.1").start()
    w.add_user()
    time.sleep(1.2)
    w.login()
    by_id, js = sensors(w)
    check(len(by_id) == 15 and js["poll_ms"] == 100, "sensors: %s" % js)
    check(list(by_id)[0] == "hwmon.cpu_thermal.temp1", "order: %s" % list(by_id))
    soc = by_id["hwmon.cpu_thermal.temp1"]
    check(soc["name"] == "SoC" and soc["kind"] == "temperature" and soc["unit"] == "Cel" and
          soc["value"] == 45.1 and soc["health"] == "ok" and soc["age_ms"] >= 0, "SoC: %s" % soc)
    check(soc["limits"] == {"lower_critical": None, "lower_warning": None, "upper_warning": None,
                            "upper_critical": 110}, "SoC limits: %s" % soc)
    inlet = by_id["hwmon.lm75-1-0048.temp1"]
    check(inlet["name"] == 'Inlet "front"' and inlet["limits"] == {
        "lower_critical": None, "lower_warning": 10, "upper_warning": 40, "upper_critical": 50}, "inlet: %s" % inlet)
    fan = by_id["hwmon.nct6775.fan1"]
    check(fan["unit"] == "RPM" and fan["value"] == 1500 and fan["name"] == "CPU fan", "fan: %s" % fan)
    check(by_id["hwmon.nct6775.in0"]["unit"] == "V" and by_id["hwmon.nct6775.in0"]["value"] == 1.2, "in0")
    check(by_id["hwmon.nct6775.power1"]["unit"] == "W" and by_id["hwmon.nct6775.power1"]["value"] == 12.5, "power")
    bad = by_id["hwmon.nct6775.temp7"]
    check(bad["health"] == "unavailable" and bad["value"] is None, "unreadable: %s" % bad)
    check(by_id["hwmon.w83627hf.temp1"]["health"] == "warning", "below minimum")

    # a crossing, seen by the API, the metrics and the log (once)
    write(root, "class/hwmon/hwmon1/temp1_input", "51500")
    wait_health(w, "hwmon.lm75-1-0048.temp1", "critical")
    expect(w.request("POST", "/api/login", {"name": "admin", "password": "wrong-" + PASSWORD}, cookie=False),
           401, "a failed login")
    tok = token(w)
    # a VNC viewer makes the server encode (the encode-time counter)
    w.p.probe("snapshot", os.path.join(env.tmp, "snap.ppm"), password=False, check_rc=0)
    time.sleep(1.2)
    text = scrape(w, tok)
    check(sample(text, "piglix_sensor_temperature_celsius", id="hwmon.cpu_thermal.temp1", name="SoC") == 45.1,
          "SoC metric")
    check(sample(text, "piglix_sensor_temperature_celsius", id="hwmon.lm75-1-0048.temp1",
                 name='Inlet \\"front\\"') == 51.5, "inlet metric (label escaping)")
    check(sample(text, "piglix_sensor_health", id="hwmon.lm75-1-0048.temp1", health="critical") == 1, "critical")
    check(sample(text, "piglix_sensor_health", id="hwmon.lm75-1-0048.temp1", health="ok") == 0, "not ok")
    check(sample(text, "piglix_sensor_voltage_volts", id="hwmon.nct6775.in1") == 12.096, "in1")
    check(sample(text, "piglix_sensor_fan_rpm", id="hwmon.nct6775.fan1") == 1500, "fan")
    check(sample(text, "piglix_sensor_current_amperes", id="hwmon.nct6775.curr1") == 2.5, "current")
    check(sample(text, "piglix_sensor_power_watts", id="hwmon.nct6775.power1") == 12.5, "power")
    check(sample(text, "piglix_sensor_intrusion", id="hwmon.nct6775.intrusion0") == 0, "intrusion")
    check(sample(text, "piglix_sensor_health", id="hwmon.nct6775.temp7", health="unavailable") == 1, "temp7")
    check(not re.search(r'^piglix_sensor_temperature_celsius\{id="hwmon.nct6775.temp7"', text, re.M),
          "an unreadable sensor has a value")
    check(sample(text, "piglix_atx_configured") == 1 and sample(text, "piglix_atx_power_state", state="unknown") == 1
          and sample(text, "piglix_atx_busy") == 0, "ATX metrics")
    check(sample(text, "piglix_media_configured") == 0, "media metrics")
    check(sample(text, "piglix_web_logins_total", result="failed") == 1, "login failures")
    check(sample(text, "piglix_encodes_total") > 0 and sample(text, "piglix_encode_seconds_total") > 0,
          "encode time")
    check(sample(text, "piglix_capture_signal") == 1 and sample(text, "piglix_capture_fps") > 0, "capture")

    # the probe vanishes: unavailable, its value leaves the metrics
    shutil.rmtree(os.path.join(root, "class/hwmon/hwmon1"))
    wait_health(w, "hwmon.lm75-1-0048.temp1", "unavailable")
    text = scrape(w, tok)
    check(sample(text, "piglix_sensor_health", id="hwmon.lm75-1-0048.temp1", health="unavailable") == 1, "gone")
    check('id="hwmon.lm75-1-0048.temp1"' not in "".join(
        li for li in text.splitlines(True) if li.startswith("piglix_sensor_temperature")), "a gone sensor's value")
    check(sample(text, "piglix_sensor_temperature_celsius", id="hwmon.lm75-1-0049.temp1") == 29, "its sibling")
    log = w.stop()
    check(log.count("Inlet \"front\" (hwmon.lm75-1-0048.temp1): critical: 51.5 °C, above upper critical 50 °C") == 1,
          "the crossing was not logged once:\n" + log[-3000:])
    check(log.count("Inlet \"front\" (hwmon.lm75-1-0048.temp1): gone from") == 1, "vanishing not logged once")


def case_disabled(env):
    w = Web(env, sensors__enabled="no").start()
    w.add_user()
    time.sleep(1.2)
    w.login()
    st, js, _, _ = expect(w.request("GET", "/api/sensors"), 503, "sensors off")
    check("not enabled" in js["error"], "error: %s" % js)
    expect(w.request("POST", "/api/sensors", {}), 405, "POST /api/sensors")
    text = scrape(w, token(w))
    check("piglix_sensor_" not in text, "sensor metrics with [sensors] off")
    check(sample(text, "piglix_atx_configured") == 0, "ATX off")
    w.stop()


def case_bad_config(env):
    """A bad thresholds string: --check-config and the daemon both refuse it,
    naming the key, the entry and the file."""
    w = Web(env, sensors__thresholds="hwmon.cpu_thermal.temp1:1:2:x:4")
    r = subprocess.run([env.piglix, "-c", w.p.config, "--check-config"], capture_output=True, text=True, timeout=30)
    want = "config: [sensors] thresholds: 'hwmon.cpu_thermal.temp1:1:2:x:4': upper_warning 'x' is not a number"
    check(r.returncode == 2 and want in r.stderr and w.p.config in r.stderr,
          "--check-config: %d %s" % (r.returncode, r.stderr))
    w.p.write_config(sensors__thresholds="", sensors__names="hwmon.cpu_thermal.temp1")
    w.p.start(expect_ready=False)
    rc = w.p.proc.wait(timeout=30)
    log = w.p.read_log()
    check(rc == 2 and "[sensors] names: 'hwmon.cpu_thermal.temp1' has no '='" in log and w.p.config in log,
          "daemon with bad names: %d\n%s" % (rc, log))


CASES = {name[5:]: fn for name, fn in globals().items() if name.startswith("case_")}

if __name__ == "__main__":
    sys.exit(run(CASES))
