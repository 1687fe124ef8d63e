#!/usr/bin/env python3
"""End-to-end tests of piglix's Redfish service (web/REDFISH.md) on the host,
with the real clients from Debian: python3-sushy and redfishtool. piglix
runs on its test source with [web] on, the sensors reading a copy of the
fixture sysfs tree, and ATX with Wake-on-LAN only (no GPIO: that part needs
the VM, tests/vm/test_redfish.py), so Reset "On" is a magic packet caught
here. Usage: e2e_redfish.py PIGLIX TOOLS_DIR CASE"""
import base64
import os
import shutil
import socket
import subprocess
import sys
import time

import redfish_clients
redfish_clients.ensure()  # may re-run this script with Debian's python3

import sushy  # noqa: E402
from sushy import exceptions as sx  # noqa: E402
from sushy.resources.chassis.thermal import constants as thermal  # noqa: E402
from piglix_e2e import check, free_port, run, TestFailure  # noqa: E402
from e2e_web import Web, expect, PASSWORD  # noqa: E402

FIXTURE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "unit", "fixtures", "sysfs")
INLET = "hwmon.lm75-1-0048.temp1"
MAC = "02:00:00:aa:bb:cc"
RF = "/redfish/v1"


class Service:
    """piglix with Redfish, sensors on a fixture copy, WoL-only ATX."""

    def __init__(self, env, **options):
        self.sys = os.path.join(env.tmp, "sys")
        shutil.copytree(FIXTURE, self.sys, symlinks=True)
        self.wol = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.wol.bind(("127.0.0.1", 0))
        self.wol.settimeout(10)
        opts = dict(sensors__root=self.sys, sensors__poll_ms=100, sensors__thresholds=INLET + "::10:40:50",
                    atx__enabled="yes", atx__chip="", atx__wol_mac=MAC, atx__wol_address="127.0.0.1",
                    atx__wol_port=self.wol.getsockname()[1])
        opts.update(options)
        self.w = Web(env, **opts).start()
        self.w.add_user()
        self.w.add_user("bob", "bob-password-1")
        time.sleep(1.2)  # the daemon re-reads the accounts within a second
        self.base = "https://127.0.0.1:%d" % self.w.https
        self.cert = os.path.join(self.w.p.state, "web-cert.pem")
        self.tool = redfish_clients.RedfishTool("127.0.0.1:%d" % self.w.https, "admin", PASSWORD)

    def sushy(self, user="admin", password=PASSWORD):
        return redfish_clients.sushy_client(self.base, user, password, self.cert)

    def get(self, path, **kw):
        return self.w.request("GET", path, cookie=False, **kw)

    def basic(self, user="admin", password=PASSWORD):
        return {"Authorization": "Basic " + base64.b64encode(("%s:%s" % (user, password)).encode()).decode()}

    def magic_packet(self):
        data, _ = self.wol.recvfrom(1024)
        want = b"\xff" * 6 + bytes.fromhex(MAC.replace(":", "")) * 16
        check(data == want, "not the magic packet for %s: %r" % (MAC, data[:32]))


def error_id(err):
    """The MessageId of a sushy HTTPError's first extended message."""
    info = (err.body or {}).get("@Message.ExtendedInfo") or [{}]
    return info[0].get("MessageId", ""), info[0].get("MessageArgs")


def expect_error(fn, exc, status, message_id, what):
    try:
        fn()
    except exc as e:
        mid, args = error_id(e)
        check(e.status_code == status and e.code.endswith("." + message_id) and mid == e.code,
              "%s: want %d %s, got %s %s (%s)" % (what, status, message_id, e.status_code, e.code, e.body))
        return args
    raise TestFailure("%s: no error" % what)


def raw_error(got, status, message_id, what):
    st, js, payload, resp = expect(got, status, what)
    code = ((js or {}).get("error") or {}).get("code", "")
    check(code.endswith("." + message_id) and resp.getheader("OData-Version") == "4.0",
          "%s: want %s, got %s" % (what, message_id, payload[:300]))
    return js["error"], resp


def api_sensors(svc):
    svc.w.login()
    st, js, _, _ = expect(svc.w.request("GET", "/api/sensors"), 200, "/api/sensors")
    return {s["id"]: s for s in js["sensors"]}


def case_clients(env):
    svc = Service(env)
    # The service root is public: redfishtool sends no credentials for it.
    wrong = redfish_clients.RedfishTool("127.0.0.1:%d" % svc.w.https, "admin", "not-the-password")
    root = wrong.json("root")
    check(root["Links"]["Sessions"]["@odata.id"] == RF + "/SessionService/Sessions" and root["@odata.id"] == RF + "/",
          "root: %s" % root)
    check(wrong.json("versions") == {"v1": RF + "/"}, "versions")
    check("ServiceRoot.v1_11_0" in wrong.run("metadata")[1], "$metadata")

    s = svc.sushy()
    check(s.identity == "RootService" and s.redfish_version == "1.11.0" and len(s.uuid) == 36, "sushy root")
    token, session_uri = s._auth.get_session_key(), s._auth.get_session_resource_id()
    check(token and session_uri and session_uri.startswith(RF + "/SessionService/Sessions/"),
          "sushy made no session: %s %s" % (token, session_uri))

    # System: no power LED wired, so no PowerState; Reset offers what works (WoL: On).
    system = s.get_system()
    check(system.identity == "1" and system.power_state is None, "system: %s %s" % (system.identity, system.power_state))
    check(system.get_allowed_reset_system_values() == {sushy.ResetType.ON},
          "allowable: %s" % system.get_allowed_reset_system_values())
    system.reset_system(sushy.ResetType.ON)
    svc.magic_packet()
    try:
        system.reset_system(sushy.ResetType.FORCE_OFF)
        raise TestFailure("sushy accepted ForceOff, which the AllowableValues leave out")
    except sx.InvalidParameterValueError:
        pass

    # Chassis: sensors as Thermal/Power (sushy) and Sensors (read through sushy's connector).
    chassis = s.get_chassis()
    check(chassis.chassis_type == sushy.ChassisType.OTHER and chassis.identity == "1", "chassis")
    temps = {t.identity: t for t in chassis.thermal.temperatures}
    fans = {f.identity: f for f in chassis.thermal.fans}
    soc = temps.get("hwmon.cpu_thermal.temp1")
    check(soc and soc.reading_celsius == 45.1 and soc.upper_threshold_critical == 110, "SoC: %s" % temps)
    fan = fans.get("hwmon.nct6775.fan1")
    check(fan and fan.reading == 1500 and fan.reading_units == thermal.FanReadingUnit.RPM and fan.name == "CPU fan",
          "fan: %s" % fans)
    volts = s._conn.get(RF + "/Chassis/1/Power").json()["Voltages"]
    check(any(v["MemberId"] == "hwmon.nct6775.in0" and v["ReadingVolts"] == 1.2 for v in volts), "volts: %s" % volts)

    expected = api_sensors(svc)
    coll = s._conn.get(RF + "/Chassis/1/Sensors").json()
    members = [m["@odata.id"] for m in coll["Members"]]
    kinds = {"temperature": "Temperature", "voltage": "Voltage", "fan": "Rotational", "current": "Current",
             "power": "Power"}
    want_ids = sorted(i for i, x in expected.items() if x["kind"] in kinds)
    check(sorted(m.rsplit("/", 1)[1] for m in members) == want_ids and coll["Members@odata.count"] == len(want_ids),
          "Sensors collection %s, /api/sensors %s" % (members, want_ids))
    for uri in members:
        rs = s._conn.get(uri).json()
        api = expected[rs["Id"]]
        check(rs["ReadingType"] == kinds[api["kind"]] and rs["Reading"] == api["value"] and
              rs["ReadingUnits"] == api["unit"], "sensor %s: %s vs %s" % (uri, rs, api))
        health = {"ok": "OK", "warning": "Warning", "critical": "Critical"}.get(api["health"])
        check(rs["Status"].get("Health") == health and
              (rs["Status"]["State"] == "UnavailableOffline") == (api["health"] == "unavailable"),
              "sensor %s status %s vs %s" % (uri, rs["Status"], api["health"]))
        lim = api["limits"]
        for key, name in (("lower_critical", "LowerCritical"), ("lower_warning", "LowerCaution"),
                          ("upper_warning", "UpperCaution"), ("upper_critical", "UpperCritical")):
            check(rs["Thresholds"].get(name, {}).get("Reading") == lim[key], "%s %s: %s" % (uri, name, rs))
    # A reading crosses its critical limit: the sensor and the chassis say so.
    with open(os.path.join(svc.sys, "class/hwmon/hwmon1/temp1_input"), "w") as f:
        f.write("51500\n")
    deadline = time.time() + 10
    while s._conn.get(RF + "/Chassis/1/Sensors/" + INLET).json()["Reading"] != 51.5:
        check(time.time() < deadline, "the new reading never reached Redfish")
        time.sleep(0.2)
    inlet = s._conn.get(RF + "/Chassis/1/Sensors/" + INLET).json()
    check(inlet["Status"]["Health"] == "Critical" and inlet["Thresholds"]["UpperCritical"]["Reading"] == 50,
          "inlet: %s" % inlet)
    chassis.refresh()
    check(chassis.status.health == sushy.Health.CRITICAL, "chassis health %s" % chassis.status.health)

    # Manager: the appliance; no USB drive here, so no VirtualMedia members.
    mgr = s.get_manager()
    check(mgr.identity == "1" and mgr.manager_type == sushy.ManagerType.BMC and mgr.uuid == s.uuid, "manager")
    check(list(mgr.virtual_media.members_identities) == [], "vmedia: %s" % (mgr.virtual_media.members_identities,))
    check([c.identity for c in mgr.chassis] == ["1"] and [x.identity for x in mgr.systems] == ["1"], "links")

    # Sessions: sushy's is listed; redfishtool logs in and out with its own.
    svcs = s.get_session_service()
    check(session_uri in svcs.sessions.members_identities and svcs.session_timeout == 1800, "sessions")
    check(s.get_session(session_uri).username == "admin", "session user")
    st = svc.tool.json("SessionService", auth="Session")
    check(st["SessionTimeout"] == 1800, "SessionService via redfishtool: %s" % st)
    rc, out, err = svc.tool.run("SessionService", "setSessionTimeout", "600", auth="Session")
    check(rc == 0 and '"SessionTimeout": 600' in out, "setSessionTimeout: %d %s %s" % (rc, out, err))
    svcs.refresh()
    check(svcs.session_timeout == 600, "timeout after the PATCH: %s" % svcs.session_timeout)
    sysj = svc.tool.json("Systems", "-1", "get", auth="Session")
    check(sysj["PowerState"] is None and sysj["Actions"]["#ComputerSystem.Reset"]["ResetType@Redfish.AllowableValues"]
          == ["On"], "Systems get: %s" % sysj)
    rc, out, err = svc.tool.run("Systems", "-1", "reset", "On")
    check(rc == 0, "redfishtool reset On: %d %s %s" % (rc, out, err))
    svc.magic_packet()
    rows, out = svc.tool.sensors()
    check(("45.1", "110") in rows.get("hwmon.cpu_thermal.temp1", []) and
          ("51.5", "50") in rows.get(INLET, []) and ("1500", "N/A") in rows.get("hwmon.nct6775.fan1", []),
          "redfishtool Chassis Sensors:\n%s" % out)
    accounts = svc.tool.json("AccountService", "Accounts", "list")
    check(sorted(m["Id"] for m in accounts["Members"]) == ["admin", "bob"], "accounts: %s" % accounts)
    bob = s._conn.get(RF + "/AccountService/Accounts/bob").json()
    check(bob["UserName"] == "bob" and bob["Password"] is None and bob["RoleId"] == "Administrator", "bob: %s" % bob)

    # Ending the session (DELETE, as sushy does on close) ends its token.
    expect(svc.get(RF + "/Systems", headers={"X-Auth-Token": token}), 200, "the token while the session lives")
    s._auth.close()
    raw_error(svc.get(RF + "/Systems", headers={"X-Auth-Token": token}), 401, "NoValidSession", "token after DELETE")
    # Deleting an account ends its sessions.
    b = svc.sushy("bob", "bob-password-1")
    btok = b._auth.get_session_key()
    expect(svc.get(RF + "/Systems", headers={"X-Auth-Token": btok}), 200, "bob's token")
    r = svc.w.user("del", "bob")
    check(r.returncode == 0, "user del: %s" % r.stderr)
    time.sleep(1.3)
    raw_error(svc.get(RF + "/Systems", headers={"X-Auth-Token": btok}), 401, "NoValidSession", "deleted account")
    log = svc.w.stop()
    check(log.count("session") >= 4 and "ended (deleted by admin@127.0.0.1)" in log and "account deleted" in log,
          "session log:\n" + log[-3000:])
    check(PASSWORD not in log and token not in log and btok not in log, "a secret reached the log")


def case_errors(env):
    svc = Service(env, web__login_fail_limit=3, web__login_throttle_s=2)
    s = svc.sushy()
    conn = s._conn
    reset = RF + "/Systems/1/Actions/ComputerSystem.Reset"

    # Not logged in, wrong password, wrong token.
    err, resp = raw_error(svc.get(RF + "/Systems"), 401, "NoValidSession", "no credentials")
    check("Basic" in (resp.getheader("WWW-Authenticate") or ""), "no WWW-Authenticate")
    raw_error(svc.get(RF + "/Systems", headers={"X-Auth-Token": "0" * 64}), 401, "NoValidSession", "unknown token")
    bad = svc.sushy("admin", "wrong-" + PASSWORD)  # session refused; sushy falls back to Basic
    expect_error(bad.get_system, sx.AccessError, 401, "ResourceAtUriUnauthorized", "sushy, wrong password")
    svc.sushy()  # a good login resets the failure count
    rc, out, err = redfish_clients.RedfishTool("127.0.0.1:%d" % svc.w.https, "admin", "wrong").run("Systems")
    check(rc != 0 and "401" in out + err, "redfishtool, wrong password: %d %s %s" % (rc, out, err))
    s = svc.sushy()  # a good login resets the failure count
    conn = s._conn

    # Unknown resources and methods.
    expect_error(lambda: conn.get(RF + "/Systems/2"), sx.ResourceNotFoundError, 404, "ResourceMissingAtURI", "404")
    expect_error(lambda: conn.get(RF + "/Chassis/1/Sensors/nope"), sx.ResourceNotFoundError, 404,
                 "ResourceMissingAtURI", "no such sensor")
    expect_error(lambda: conn.delete(RF + "/Systems/1"), sx.HTTPError, 405, "OperationNotAllowed", "DELETE system")
    _, resp = raw_error(svc.w.request("POST", RF + "/AccountService/Accounts", {"UserName": "eve"}, cookie=False,
                                      headers=svc.basic()), 405, "OperationNotAllowed", "accounts are read-only")
    check(resp.getheader("Allow") == "GET", "Allow: %s" % resp.getheader("Allow"))
    st, _, payload, resp = svc.w.request("HEAD", RF + "/SessionService", cookie=False, headers=svc.basic())
    check(st == 405 and resp.getheader("Allow") == "GET, PATCH" and payload == b"", "HEAD: %d %s" % (st, payload))

    # Reset: unsupported values, missing and unknown parameters (sushy's connector sends them).
    args = expect_error(lambda: conn.post(reset, data={"ResetType": "Nmi"}), sx.BadRequestError, 400,
                        "ActionParameterValueNotInList", "ResetType Nmi")
    check(args == ["Nmi", "ResetType", "ComputerSystem.Reset"], "MessageArgs %s" % args)
    expect_error(lambda: conn.post(reset, data={"ResetType": "ForceOff"}), sx.BadRequestError, 400,
                 "ActionParameterValueNotInList", "ForceOff without a power button")
    expect_error(lambda: conn.post(reset, data={}), sx.BadRequestError, 400, "ActionParameterMissing", "no ResetType")
    expect_error(lambda: conn.post(reset, data={"ResetType": 5}), sx.BadRequestError, 400,
                 "ActionParameterValueTypeError", "ResetType 5")
    expect_error(lambda: conn.post(reset, data={"ResetType": "On", "Force": True}), sx.BadRequestError, 400,
                 "ActionParameterUnknown", "an unknown parameter")

    # Bodies: bad JSON, not an object, not JSON at all, a foreign page.
    h = dict(svc.basic(), **{"Content-Type": "application/json"})
    raw_error(svc.w.request("POST", reset, raw=b'{"ResetType": ', cookie=False, headers=h), 400, "MalformedJSON",
              "bad JSON")
    raw_error(svc.w.request("POST", reset, raw=b'["On"]', cookie=False, headers=h), 400, "UnrecognizedRequestBody",
              "an array")
    raw_error(svc.w.request("POST", reset, raw=b"ResetType=On", cookie=False,
                            headers=dict(svc.basic(), **{"Content-Type": "application/x-www-form-urlencoded"})),
              415, "HeaderInvalid", "a form")
    raw_error(svc.w.request("POST", reset, {"ResetType": "On"}, cookie=False,
                            headers=dict(svc.basic(), Origin="https://evil.example")), 403, "HeaderInvalid",
              "a foreign Origin")
    raw_error(svc.get(RF + "/Systems/1", headers=dict(svc.basic(), **{"OData-Version": "5.0"})), 412,
              "HeaderInvalid", "OData-Version 5.0")

    # PATCH with ETags.
    st, js, _, resp = expect(svc.get(RF + "/SessionService", headers=svc.basic()), 200, "SessionService")
    etag = resp.getheader("ETag")
    check(etag and etag.startswith('W/"'), "no ETag: %s" % etag)
    ph = dict(svc.basic(), **{"If-Match": 'W/"0123456789abcdef"'})
    raw_error(svc.w.request("PATCH", RF + "/SessionService", {"SessionTimeout": 300}, cookie=False, headers=ph), 412,
              "PreconditionFailed", "a stale ETag")
    ph["If-Match"] = etag
    st, js, _, resp = expect(svc.w.request("PATCH", RF + "/SessionService", {"SessionTimeout": 300}, cookie=False,
                                           headers=ph), 200, "PATCH with the ETag")
    check(js["SessionTimeout"] == 300 and resp.getheader("ETag") != etag, "after PATCH: %s" % js)
    raw_error(svc.w.request("PATCH", RF + "/SessionService", {"SessionTimeout": 300}, cookie=False, headers=ph), 412,
              "PreconditionFailed", "the ETag before the change")
    expect_error(lambda: conn.patch(RF + "/SessionService", data={"SessionTimeout": 5}), sx.BadRequestError, 400,
                 "PropertyValueOutOfRange", "SessionTimeout 5")
    expect_error(lambda: conn.patch(RF + "/SessionService", data={"ServiceEnabled": False}), sx.BadRequestError, 400,
                 "PropertyNotWritable", "ServiceEnabled")
    expect_error(lambda: conn.patch(RF + "/SessionService", data={"Colour": "red"}), sx.BadRequestError, 400,
                 "PropertyUnknown", "an unknown property")
    expect_error(lambda: conn.post(RF + "/SessionService/Sessions", data={"UserName": "admin"}),
                 sx.BadRequestError, 400, "CreateFailedMissingReqProperties", "a login without Password")

    # At most 16 sessions (logins are paced: 10 password hashes a second).
    made = []
    held = conn.get(RF + "/SessionService/Sessions").json()["Members@odata.count"]
    for _ in range(40):
        st, js, _, resp = svc.w.request("POST", RF + "/SessionService/Sessions",
                                        {"UserName": "admin", "Password": PASSWORD}, cookie=False)
        if st == 503 and js["error"]["code"].endswith(".SessionLimitExceeded"):
            break
        check(st == 201, "login %d: %d %s" % (len(made), st, js))
        made.append(resp.getheader("Location"))
        time.sleep(0.12)
    check(held >= 1 and len(made) == 16 - held, "sessions before the limit: %d + %d" % (held, len(made)))
    expect(svc.w.request("DELETE", made[0], cookie=False, headers=svc.basic()), 204, "DELETE a session")
    expect(svc.w.request("POST", RF + "/SessionService/Sessions", {"UserName": "admin", "Password": PASSWORD},
                         cookie=False), 201, "a login after one ended")

    # The UI's and Redfish's failed logins share one throttle.
    expect(svc.w.request("POST", "/api/login", {"name": "admin", "password": "wrong"}, cookie=False), 401, "UI")
    raw_error(svc.get(RF + "/Systems", headers=svc.basic(password="wrong")), 401, "ResourceAtUriUnauthorized",
              "Redfish Basic")
    raw_error(svc.w.request("POST", RF + "/SessionService/Sessions", {"UserName": "admin", "Password": "wrong"},
                            cookie=False), 401, "ResourceAtUriUnauthorized", "a Redfish login")
    err, resp = raw_error(svc.w.request("POST", RF + "/SessionService/Sessions",
                                        {"UserName": "admin", "Password": PASSWORD}, cookie=False), 429,
                          "ServiceTemporarilyUnavailable", "the right password while throttled")
    check(int(resp.getheader("Retry-After")) >= 1, "no Retry-After")
    time.sleep(int(resp.getheader("Retry-After")) + 0.5)
    expect(svc.get(RF + "/Systems", headers=svc.basic()), 200, "after the wait")
    log = svc.w.stop()
    check("refused, too many failed logins" in log and "wrong name or password (HTTP Basic)" in log,
          "throttling not logged:\n" + log[-3000:])


def case_disabled(env):
    w = Web(env, redfish__enabled="no").start()
    expect(w.request("GET", RF), 404, "Redfish off")
    expect(w.request("GET", "/redfish"), 404, "Redfish off")
    expect(w.request("GET", "/api/setup"), 200, "the web API still works")
    check("Redfish on" not in w.stop(), "Redfish started")


CASES = {name[5:]: fn for name, fn in globals().items() if name.startswith("case_")}

if __name__ == "__main__":
    sys.exit(run(CASES))
