#!/usr/bin/env python3
"""End-to-end tests of the audit log (audit/README.md): events recorded at
their source appear in GET /api/log with account, address and interface;
paging and filters; the file survives a restart and a SIGKILL during a
burst of records (and a torn last record, as a power loss leaves one);
forwarding to a remote syslog over UDP and TCP (RFC 5424, octet counting),
with a receiver socket here, and a collector that goes away; Redfish's
LogService with redfishtool; the IPMI SEL with ipmitool and ipmi-sel. piglix runs on its test source with [web] on
and ATX with Wake-on-LAN only (no GPIO needed for a power action).
Usage: e2e_audit.py PIGLIX TOOLS_DIR CASE"""
import base64
import os
import re
import signal
import socket
import threading
import time
import zlib

from piglix_e2e import check, run, TestFailure
from e2e_web import Web, expect, PASSWORD


def start(env, **options):
    wol = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    wol.bind(("127.0.0.1", 0))
    opts = dict(atx__enabled="yes", atx__chip="", atx__wol_mac="02:00:00:aa:bb:cc",
                atx__wol_address="127.0.0.1", atx__wol_port=wol.getsockname()[1])
    opts.update(options)
    w = Web(env, **opts)
    w.wol = wol
    w.start()
    return w


def power(w, **kw):
    """POST /api/atx/wol once the previous action is done (202 accepted)."""
    deadline = time.time() + 5
    while w.request("GET", "/api/atx", **kw)[1]["busy"] and time.time() < deadline:
        time.sleep(0.02)
    expect(w.request("POST", "/api/atx/wol", **kw), 202, "POST /api/atx/wol")


def log(w, query="", status=200):
    st, js, payload, _ = expect(w.request("GET", "/api/log" + query), status, "GET /api/log" + query)
    return js


def wait_entry(w, pred, what, timeout=5):
    deadline = time.time() + timeout
    while time.time() < deadline:
        for e in log(w, "?limit=500")["entries"]:
            if pred(e):
                return e
        time.sleep(0.1)
    raise TestFailure("%s: not in /api/log: %s" % (what, log(w, "?limit=20")))


def check_file(path):
    """Every line of an audit file is whole: LEN and CRC match. Returns the records."""
    out = []
    with open(path, "rb") as f:
        data = f.read()
    check(data == b"" or data.endswith(b"\n"), "%s does not end with a whole line: %r" % (path, data[-80:]))
    for line in data.split(b"\n")[:-1]:
        m = re.match(rb"^([0-9a-f]{8}) ([0-9a-f]{8}) (.*)$", line, re.S)
        check(m, "bad line in %s: %r" % (path, line[:100]))
        payload = m.group(3)
        check(int(m.group(1), 16) == len(payload) and int(m.group(2), 16) == zlib.crc32(payload),
              "LEN or CRC wrong in %s: %r" % (path, line[:100]))
        out.append(payload.decode().split("\t"))
    return out


def case_api_log(env):
    w = start(env)
    w.add_user()  # the CLI's account change is in the log too
    time.sleep(1.2)  # the daemon re-reads the accounts within a second
    # A failed login (never the password), then a good one and a power action.
    st, _, _, _ = w.request("POST", "/api/login", {"name": "admin", "password": "not-it-" + PASSWORD}, cookie=False)
    check(st == 401, "wrong password: %d" % st)
    w.login()
    power(w)
    basic = {"Authorization": "Basic " + base64.b64encode(b"admin:" + PASSWORD.encode()).decode()}
    power(w, cookie=False, headers=basic)

    failed = wait_entry(w, lambda e: e["kind"] == "login_failed", "the failed login")
    check(failed["account"] == "admin" and failed["address"] == "127.0.0.1" and failed["interface"] == "web"
          and failed["outcome"] == "failure", "failed login: %s" % failed)
    powers = [e for e in log(w, "?kind=power_action")["entries"]]
    check(len(powers) == 2, "two power actions: %s" % powers)
    check(powers[0]["interface"] == "api" and powers[1]["interface"] == "web", "newest first: %s" % powers)
    for p in powers:
        check(p["account"] == "admin" and p["address"] == "127.0.0.1" and p["outcome"] == "success"
              and p["detail"].startswith("wol"), "power action: %s" % p)
    login = wait_entry(w, lambda e: e["kind"] == "login", "the login")
    check(login["account"] == "admin" and login["interface"] == "web", "login: %s" % login)
    acct = wait_entry(w, lambda e: e["kind"] == "account_change", "user add")
    check(acct["account"] == "admin" and acct["interface"] == "cli" and "user add" in acct["detail"], "%s" % acct)
    whole = log(w, "?limit=500")["entries"]
    check(all(PASSWORD not in str(e) for e in whole), "a password in the log")
    check(whole[0]["time"].endswith("Z") and len(whole[0]["time"]) == 24, "time: %s" % whole[0]["time"])

    # Paging: pages of 2, newest first, no repeats, the same as one page.
    ids, cursor = [], None
    while True:
        page = log(w, "?limit=2" + ("&cursor=" + cursor if cursor else ""))
        check(len(page["entries"]) <= 2, "limit")
        ids += [e["id"] for e in page["entries"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    check(ids == [e["id"] for e in whole] and ids == sorted(ids, reverse=True), "paging: %s vs %s" % (ids, whole))
    # Filters: several kinds; a time range.
    two = log(w, "?kind=login,login_failed")["entries"]
    check({e["kind"] for e in two} == {"login", "login_failed"}, "kinds: %s" % two)
    t = powers[1]["time_ms"]
    check([e["id"] for e in log(w, "?kind=power_action&since=%d&until=%d" % (t, t + 1))["entries"]] ==
          [powers[1]["id"]], "time range")
    iso = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + 3600))
    check(log(w, "?since=" + iso)["entries"] == [], "since an hour ahead")
    for bad in ("?kind=nope", "?limit=0", "?limit=501", "?cursor=x", "?since=yesterday"):
        log(w, bad, status=400)
    # Logged out: a logout record, and the log is not for anyone.
    expect(w.request("POST", "/api/logout"), 200, "logout")
    w.cookie = None
    expect(w.request("GET", "/api/log"), 401, "GET /api/log logged out")
    w.login()
    wait_entry(w, lambda e: e["kind"] == "logout" and e["account"] == "admin", "logout")
    w.stop()


def case_failed_names_hidden(env):
    """A failed login's account is what was typed (here a password typed
    into the name field): an admin reads it, a viewer or operator reads it
    only for their own account, in /api/log and in Redfish's LogService."""
    w = start(env)
    w.add_user()
    for role in ("viewer", "operator"):
        r = w.user("add", role, "--role", role, stdin=PASSWORD + "\n")
        check(r.returncode == 0, "user add %s: %s" % (role, r.stderr))
    time.sleep(1.2)  # the daemon re-reads the accounts within a second
    typed = "Tr0ub4dor-typed-as-a-name"
    for name in (typed, "viewer"):
        st, _, _, _ = w.request("POST", "/api/login", {"name": name, "password": "wrong"}, cookie=False)
        check(st == 401, "failed login as %s: %d" % (name, st))
    w.login()
    wait_entry(w, lambda e: e["kind"] == "login_failed" and e["account"] == typed, "the admin reads the typed name")

    def failed_names(who):
        w.login(who)
        names = [e["account"] for e in log(w, "?kind=login_failed&limit=500")["entries"]]
        auth = base64.b64encode(("%s:%s" % (who, PASSWORD)).encode()).decode()
        st, js, _, _ = w.request("GET", "/redfish/v1/Managers/1/LogServices/Log/Entries?$top=1000", cookie=False,
                                 headers={"Authorization": "Basic " + auth})
        check(st == 200, "Redfish log entries as %s: %d %s" % (who, st, js))
        rf = [m["Oem"]["piglix"]["Account"] for m in js["Members"] if m["Oem"]["piglix"]["Kind"] == "login_failed"]
        msgs = " ".join(m["Message"] for m in js["Members"])
        return names, rf, msgs

    for who in ("viewer", "operator"):
        names, rf, msgs = failed_names(who)
        check(typed not in names and typed not in rf and typed not in msgs,
              "%s reads a name someone typed: %s %s" % (who, names, rf))
        check("(hidden)" in names and "(hidden)" in rf, "%s: the hidden names are not marked: %s %s" % (who, names, rf))
        own = "viewer" in names and "viewer" in rf
        check(own == (who == "viewer"), "%s: own failed login shown %s: %s %s" % (who, own, names, rf))
    names, rf, _ = failed_names("admin")
    check(typed in names and typed in rf and "viewer" in names, "the admin's view: %s %s" % (names, rf))
    w.stop()


def case_restart_sigkill(env):
    """Also the TCP syslog collector: it gets the records (octet counting),
    then goes away before the burst, which must not slow the daemon."""
    rx = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    rx.bind(("127.0.0.1", 0))
    rx.listen(1)
    rx.settimeout(10)
    w = start(env, audit__syslog="tcp://127.0.0.1:%d" % rx.getsockname()[1])
    w.add_user()
    time.sleep(1.2)
    st, _, _, _ = w.request("POST", "/api/login", {"name": "admin", "password": "wrong-" + PASSWORD}, cookie=False)
    check(st == 401, "wrong password: %d" % st)
    tcp_syslog_failed_login(rx, "web")
    rx.close()
    w.login()
    path = os.path.join(w.p.state, "audit.log")
    # A burst from two sides (SIGHUP reloads and power actions), killed in the middle.
    stop = threading.Event()

    def reloads():
        while not stop.is_set():
            w.p.signal(signal.SIGHUP)
            time.sleep(0.002)
    t = threading.Thread(target=reloads)
    t.start()
    n_power = 0
    deadline = time.time() + 1.5
    while time.time() < deadline:
        st, _, _, _ = w.request("POST", "/api/atx/wol")
        n_power += st in (202, 409)  # 409: the last one still busy, recorded as failed
    os.kill(w.p.proc.pid, signal.SIGKILL)
    stop.set()
    t.join()
    w.p.proc.wait()
    w.p.log.close()
    before = check_file(path)
    ids = [int(r[0]) for r in before]
    check(ids == list(range(ids[0], ids[0] + len(ids))), "ids not consecutive after SIGKILL")
    # With the collector gone, the burst still reached the file at full speed.
    check(sum(1 for r in before if r[2] == "config_reload") > 20 and n_power > 5,
          "burst too small: %d records, %d power actions" % (len(before), n_power))
    # What a power loss leaves: half a record at the end.
    with open(path, "ab") as f:
        f.write(b"0000004a 1d2c3b4a %d\t17" % (ids[-1] + 1))
    w.start()
    w.login()
    entries = log(w, "?limit=500")["entries"]
    kinds = [e["kind"] for e in entries]
    check("service_start" in kinds[:3], "no service_start after the restart: %s" % kinds[:5])
    after = check_file(path)  # the torn stump is gone, every record whole
    check(after[:len(before)] == before, "records before the SIGKILL changed")
    check(int(after[len(before)][0]) == ids[-1] + 1, "ids go on after the restart")
    total = 0
    cursor = None
    while True:
        page = log(w, "?limit=500" + ("&cursor=" + cursor if cursor else ""))
        total += len(page["entries"])
        cursor = page["next_cursor"]
        if not cursor:
            break
    check(total == len(after), "/api/log has %d records, the file %d" % (total, len(after)))
    log_text = w.stop()
    check("torn record" in log_text, "the torn record was not reported:\n" + log_text[-2000:])


def case_ipmi_sel(env):
    """The SEL over RMCP+: ipmitool `sel info`, `sel list`, `sel elist`,
    `sel time get`, `sel clear` and freeipmi's ipmi-sel show the log."""
    from piglix_e2e import free_port
    import subprocess
    port = free_port()
    w = start(env, ipmi__enabled="yes", ipmi__listen="127.0.0.1", ipmi__port=port)
    w.add_user()
    r = w.user("ipmi-passwd", "admin", stdin=PASSWORD + "\n")
    check(r.returncode == 0, "ipmi-passwd: %s" % r.stderr)
    time.sleep(1.2)
    st, _, _, _ = w.request("POST", "/api/login", {"name": "admin", "password": "not-" + PASSWORD}, cookie=False)
    check(st == 401, "wrong password: %d" % st)
    base = ["ipmitool", "-I", "lanplus", "-H", "127.0.0.1", "-p", str(port), "-U", "admin", "-P", PASSWORD,
            "-C", "17", "-L", "ADMINISTRATOR", "-N", "2", "-R", "2"]

    def ipmitool(*args):
        r = subprocess.run(base + list(args), capture_output=True, text=True, timeout=60)
        check(r.returncode == 0, "ipmitool %s: %d\n%s%s" % (" ".join(args), r.returncode, r.stdout, r.stderr))
        return r.stdout
    # No power button wired (WoL only): refused, and recorded as a failed power action.
    subprocess.run(base + ["chassis", "power", "on"], capture_output=True, timeout=60)
    info = ipmitool("sel", "info")
    check(re.search(r"Entries\s*:\s*([5-9]|\d\d)", info), "sel info: %s" % info)
    # ipmitool 1.8.19 names sensor type 2Ah but has no texts for its offsets
    # (freeipmi has: below); logins, the failure and the power action are there.
    lst = ipmitool("sel", "list")
    check(lst.count("Session Audit") >= 2, "logins and the failed login in sel list:\n" + lst)
    check("System Boot Initiated" in lst and "Initiated by power up" in lst, "power on in sel list:\n" + lst)
    check("System Reconfigured" in lst, "the account change in sel list:\n" + lst)
    elist = ipmitool("sel", "elist")
    check("Session Audit" in elist and "Asserted" in elist, "sel elist:\n" + elist)
    t = ipmitool("sel", "time", "get")
    check(re.search(r"\d\d/\d\d/\d{2,4}", t), "sel time get: %s" % t)
    r = subprocess.run(["ipmi-sel", "-D", "LAN_2_0", "-h", "127.0.0.1:%d" % port, "-u", "admin", "-p", PASSWORD, "-I", "17",
                        "-l", "ADMIN", "--session-timeout=20000", "--ignore-sdr-cache"],
                       capture_output=True, text=True, timeout=60)
    check(r.returncode == 0 and "Invalid Username or Password" in r.stdout and "Session Activated" in r.stdout,
          "ipmi-sel: %d\n%s%s" % (r.returncode, r.stdout, r.stderr))
    # Clear SEL (an administrator, with a reservation): the clear itself is recorded.
    ipmitool("sel", "clear")
    time.sleep(0.3)
    lst = ipmitool("sel", "list")
    check("Log area reset/cleared" in lst and len(lst.strip().splitlines()) <= 3, "after sel clear:\n" + lst)
    w.login()
    cleared = wait_entry(w, lambda e: e["kind"] == "log_cleared", "log_cleared")
    check(cleared["account"] == "admin" and cleared["interface"] == "ipmi", "cleared: %s" % cleared)
    w.stop()


RFC5424 = re.compile(rb'^<(\d+)>1 (\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z) (\S+) piglix (\d+) (\S+) '
                     rb'\[piglix@32473 id="(\d+)" account="([^"]*)" address="([^"]*)" interface="(\w+)" '
                     rb'outcome="(\w+)"\] (.*)$', re.S)


def tcp_syslog_failed_login(rx, interface):
    """Reads RFC 6587 octet-counted RFC 5424 messages from the collector's
    socket until a login_failed arrives; checks it names account, address
    and interface, and that no password went out."""
    conn, _ = rx.accept()
    conn.settimeout(10)
    buf, msgs = b"", []
    deadline = time.time() + 10
    while time.time() < deadline and not any(b"login_failed" in m for m in msgs):
        data = conn.recv(4096)
        check(data, "the daemon closed the syslog connection")
        buf += data
        while True:  # "LEN SP MSG"
            m = re.match(rb"^([1-9][0-9]*) ", buf)
            if not m or len(buf) < m.end() + int(m.group(1)):
                break
            msgs.append(buf[m.end():m.end() + int(m.group(1))])
            buf = buf[m.end() + int(m.group(1)):]
    conn.close()
    failed = [RFC5424.match(m) for m in msgs if b"login_failed" in m]
    check(failed and failed[0], "no RFC 5424 login_failed among %r" % msgs)
    m = failed[0]
    check(int(m.group(1)) == 10 * 8 + 4 and m.group(7) == b"admin" and m.group(8) == b"127.0.0.1"
          and m.group(9) == interface.encode() and m.group(10) == b"failure", "syslog line: %r" % m.group(0))
    check(all(RFC5424.match(x) for x in msgs), "not RFC 5424: %r" % msgs)
    check(PASSWORD.encode() not in b"".join(msgs), "a password went to syslog")


def case_redfish_syslog_udp(env):
    """Redfish's LogService read with redfishtool (DMTF's client), on a
    daemon that also forwards to a UDP syslog receiver here."""
    import redfish_clients
    redfish_clients.ensure()  # may re-run this script with Debian's python3
    rx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    rx.bind(("127.0.0.1", 0))
    rx.settimeout(10)
    w = start(env, audit__syslog="udp://127.0.0.1:%d" % rx.getsockname()[1])
    w.add_user()
    time.sleep(1.2)
    host = "127.0.0.1:%d" % w.https
    rc, out, err = redfish_clients.RedfishTool(host, "admin", "wrong-" + PASSWORD).run("Systems", "-1")
    check(rc != 0, "redfishtool with a wrong password succeeded: %s" % out)
    basic = {"Authorization": "Basic " + base64.b64encode(b"admin:" + PASSWORD.encode()).decode()}
    st, _, payload, _ = w.request("POST", "/redfish/v1/Systems/1/Actions/ComputerSystem.Reset",
                                  {"ResetType": "On"}, cookie=False, headers=basic)
    check(st == 204, "Reset On: %d %s" % (st, payload[:300]))
    tool = redfish_clients.RedfishTool(host, "admin", PASSWORD)
    svc = tool.json("Managers", "-I", "1", "Logs", "-i", "Log")
    check(svc["Id"] == "Log" and svc["Entries"]["@odata.id"].endswith("/LogServices/Log/Entries") and
          svc["OverWritePolicy"] == "WrapsWhenFull", "LogService: %s" % svc)
    entries = tool.json("Managers", "-I", "1", "Logs", "-i", "Log", "--Entries")
    members = entries["Members"]
    check(entries["Members@odata.count"] >= 3 and members, "Entries: %s" % entries)
    ids = [int(m["Id"]) for m in members]
    check(ids == sorted(ids, reverse=True), "newest first: %s" % ids)
    for m in members:
        check(m["@odata.type"].startswith("#LogEntry.") and m["EntryType"] == "Oem" and m["Created"].endswith("Z")
              and m["Severity"] in ("OK", "Warning", "Critical") and m["Message"], "LogEntry: %s" % m)
    failed = [m for m in members if m["Oem"]["piglix"]["Kind"] == "login_failed"]
    check(failed and failed[0]["Oem"]["piglix"]["Account"] == "admin" and failed[0]["Severity"] == "Warning"
          and failed[0]["Oem"]["piglix"]["Interface"] == "redfish" and "from 127.0.0.1" in failed[0]["Message"],
          "failed Redfish login: %s" % failed)
    reset = [m for m in members if m["Oem"]["piglix"]["Kind"] == "power_action"]
    check(reset and "by admin" in reset[0]["Message"] and "ComputerSystem.Reset On" in reset[0]["Message"],
          "Reset: %s" % reset)
    one = tool.json("raw", "GET", members[0]["@odata.id"])
    check(one["Id"] == members[0]["Id"], "one entry: %s" % one)
    # (redfishtool follows nextLink itself: the page is checked raw)
    st, page, _, _ = w.request("GET", "/redfish/v1/Managers/1/LogServices/Log/Entries?$top=1&$skip=1",
                               cookie=False, headers=basic)
    check([m["Id"] for m in page["Members"]] == [members[1]["Id"]] and "Members@odata.nextLink" in page,
          "$top/$skip: %s" % page)
    # The UDP collector got the failed login as RFC 5424.
    got = b""
    deadline = time.time() + 10
    while b"login_failed" not in got and time.time() < deadline:
        got = rx.recv(4096)
    check(re.match(rb'^<84>1 \S+ \S+ piglix \d+ login_failed \[piglix@32473 id="\d+" account="admin" '
                   rb'address="127.0.0.1" interface="redfish" outcome="failure"\] ', got), "syslog: %r" % got)
    # ClearLog: one record left, saying who cleared it.
    st, _, payload, _ = w.request("POST", "/redfish/v1/Managers/1/LogServices/Log/Actions/LogService.ClearLog",
                                  {}, cookie=False, headers=basic)
    check(st == 204, "ClearLog: %d %s" % (st, payload[:200]))
    after = tool.json("Managers", "-I", "1", "Logs", "-i", "Log", "--Entries")["Members"]
    check([m["Oem"]["piglix"]["Kind"] for m in after][-1] == "log_cleared" and
          int(after[-1]["Id"]) > ids[0], "after ClearLog: %s" % after)
    w.stop()


if __name__ == "__main__":
    raise SystemExit(run({"api_log": case_api_log, "restart_sigkill": case_restart_sigkill,
                          "redfish_syslog_udp": case_redfish_syslog_udp, "ipmi_sel": case_ipmi_sel,
                          "failed_names_hidden": case_failed_names_hidden}))
