#!/usr/bin/env python3
"""Power loss at any moment (issue 21, item 2): SIGKILL at random points,
then every state file is checked and piglix restarted.

Two kinds of rounds, alternating, as many as fit PIGLIX_POWERCUT_SECONDS
(default 16, start included; seed PIGLIX_POWERCUT_SEED, printed either way):

- daemon rounds: while an account change runs (the piglix CLI: add, del,
  passwd, ipmi-passwd; or the web API: TOTP set-up and enable), web logins
  and logouts, an image upload (PUT) and power actions (audit records,
  with a 16 KiB audit.log so that rotations happen too) run, the daemon and
  the CLI get SIGKILL after a random delay. Before the restart: web.users
  and ipmi.users are whole and hold the old or the new accounts; every
  audit line is whole (LEN and CRC), ids only grow. After the restart: no
  temporary file is left, /api/log still has every record the files had,
  admin logs in, the account list the daemon shows is the file's, every
  image it lists is the whole upload.
- CLI rounds: strace kills the CLI with SIGKILL on entry to a chosen
  system call (openat, write, fsync, rename, close, flock, unlink) at a
  random occurrence: a cut at exact points between open, write, sync and
  rename, which a timer would rarely hit. The files are checked the same
  way while the daemon keeps running and must keep serving its accounts.

Mounts need the USB gadget (503 on the host): not covered here.
Usage: e2e_powercut.py PIGLIX TOOLS_DIR CASE"""
import base64
import hashlib
import http.client
import json
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import zlib
import fcntl

from curl_api import curl_api
from e2e_audit import check_file
from e2e_web import Web, PASSWORD, expect, tls_context, totp
from piglix_e2e import check, free_port, run, TestFailure

SKIP = 77
USER_LINE = re.compile(r"^([a-z0-9._-]{1,32}):(\$y\$[^:]+):([^:]*):(-?\d+):([0-9a-f]*):(admin|operator|viewer)$")
IPMI_LINE = re.compile(r"^([a-z0-9._-]{1,32}):([0-9a-f]{2,40})$")
TEMP = re.compile(r"\.tmp-[A-Za-z0-9]{6}$")


def read_lines_file(path, header, line_re, what):
    """{name: line} of a state file, which must be whole: None when missing."""
    try:
        with open(path, "rb") as f:
            data = f.read()
    except FileNotFoundError:
        return None
    check(data.endswith(b"\n"), "%s is torn (%d bytes, no final line end): %r" % (what, len(data), data[-80:]))
    text = data.decode()
    check(text.startswith(header), "%s lost its header: %r" % (what, text[:80]))
    out = {}
    for line in text.split("\n")[:-1]:
        if not line or line.startswith("#"):
            continue
        m = line_re.match(line)
        check(m, "%s: a damaged line: %r" % (what, line[:100]))
        out[m.group(1)] = line
    return out


class Rig:
    def __init__(self, env, seed):
        self.env = env
        self.rng = random.Random(seed)
        self.store = os.path.join(env.tmp, "store")
        self.ipmi_port = free_port()
        self.w = Web(env, vmedia__enabled="yes", vmedia__dir=self.store, vmedia__upload_idle_s=5,
                     atx__enabled="yes", atx__chip="", atx__wol_mac="02:00:00:aa:bb:cc",
                     atx__wol_address="127.0.0.1", atx__wol_port=9, audit__max_kb=16, audit__files=2,
                     ipmi__enabled="yes", ipmi__listen="127.0.0.1", ipmi__port=self.ipmi_port,
                     web__login_fail_limit=100)
        self.state = self.w.p.state
        self.w.add_user()
        self.users = self.read_users()
        self.ipmi = self.read_ipmi()
        self.uploads = {}  # name -> sha256 of what was sent
        self.serial = 0
        self.kill_point = None
        self.rotated = None
        self.rounds = {"daemon": 0, "cli": 0, "cli_killed": 0, "rotations": 0}
        self.restart()

    def read_users(self):
        return read_lines_file(os.path.join(self.state, "web.users"), "# piglix web accounts", USER_LINE,
                               "web.users")

    def read_ipmi(self):
        return read_lines_file(os.path.join(self.state, "ipmi.users"), "# piglix IPMI passwords", IPMI_LINE,
                               "ipmi.users")

    def strace(self, syscall, n):
        """strace that kills its tracee with SIGKILL on entry to the n-th
        syscall (per thread) on one of the state files: exact points
        between open, write, sync and rename, which a timer would rarely hit."""
        paths = []
        for name in ("web.users", "ipmi.users", "audit.log", "audit.log.1", ""):
            paths += ["-P", os.path.join(self.state, name).rstrip("/")]
        return ["strace", "-f", "-qq", "-o", "/dev/null"] + paths + [
            "-e", "trace=openat,write,fsync,fdatasync,rename,close,unlink,ftruncate",
            "-e", "inject=%s:signal=SIGKILL:when=%d" % (syscall, n)]

    def restart(self, strace_ok=True):
        """The daemon again; half the time under strace with a kill point
        for the next round (on a write, rename or sync of a state file).
        A kill point hit while it starts is a round of its own: the files
        are checked and it starts again."""
        p = self.w.p
        p.logpath = os.path.join(self.env.tmp, "piglix-round-%d.log" % (self.rounds["daemon"]))
        self.kill_point = None
        if strace_ok and self.rng.random() < 0.5:
            self.kill_point = (self.rng.choice(["write", "rename", "fsync", "fdatasync", "ftruncate", "unlink"]),
                               self.rng.randint(1, 6))
            env = dict(os.environ)
            env["ASAN_OPTIONS"] = env.get("ASAN_OPTIONS", "") + ":detect_leaks=0"
            p.log = open(p.logpath, "w")
            p.proc = subprocess.Popen(self.strace(*self.kill_point) + [self.env.piglix, "-c", p.config], env=env,
                                      stdout=p.log, stderr=subprocess.STDOUT)
            try:
                p.wait_ready()
            except TestFailure:
                if p.proc.poll() is None:
                    raise
                p.log.close()
                self.check_files("the start", [self.users], [self.ipmi])
                print("start: SIGKILL at %s #%d on a state file" % self.kill_point, flush=True)
                return self.restart(strace_ok=False)
            deadline = time.time() + 20
            while True:
                try:
                    self.w.request("GET", "/api/setup")
                    break
                except OSError:
                    check(time.time() < deadline, "web port never answered:\n" + p.read_log())
                    time.sleep(0.2)
        else:
            self.w.start()

    def kill_daemon(self):
        """SIGKILL to piglix itself (under strace: its tracee)."""
        pid = self.w.p.proc.pid
        if self.kill_point:
            try:
                with open("/proc/%d/task/%d/children" % (pid, pid)) as f:
                    kids = [int(k) for k in f.read().split()]
            except OSError:
                kids = []  # strace has gone: the kill point was hit
            for k in kids:
                os.kill(k, signal.SIGKILL)
        else:
            os.kill(pid, signal.SIGKILL)
        self.w.p.proc.wait()
        self.w.p.log.close()

    def audit_files(self):
        """Every record in audit.log.1 and audit.log, whole, ids growing."""
        ids = []
        for name in ("audit.log.1", "audit.log"):
            path = os.path.join(self.state, name)
            if os.path.exists(path):
                ids += [int(r[0]) for r in check_file(path)]
        check(ids == sorted(ids) and len(set(ids)) == len(ids), "audit ids out of order: %s" % ids[-20:])
        return ids

    def top_up_audit(self):
        """Brings audit.log to just under [audit] max_kb with whole records,
        appended under audit.lock as every writer does (the daemon notices
        and takes the next id): the round's own records then rotate it."""
        path = os.path.join(self.state, "audit.log")
        with open(os.path.join(self.state, "audit.lock"), "a") as lk:
            fcntl.flock(lk, fcntl.LOCK_EX)
            ids = self.audit_files()
            last = ids[-1] if ids else 0
            size = os.path.getsize(path) if os.path.exists(path) else 0
            lines = []
            while size < 16 * 1024 - 300:
                last += 1
                payload = ("%d\t%d\tlogin\tweb\tsuccess\tfiller\t127.0.0.1\tfiller record %d" %
                           (last, int(time.time() * 1000), last)).encode()
                line = b"%08x %08x %s\n" % (len(payload), zlib.crc32(payload), payload)
                lines.append(line)
                size += len(line)
            with open(path, "ab") as f:
                f.write(b"".join(lines))
                f.flush()
                os.fsync(f.fileno())

    def observe_rotation(self):
        """Counts rotations: audit.log.1 starting with another record than last seen."""
        p = os.path.join(self.state, "audit.log.1")
        first = check_file(p)[0][0] if os.path.exists(p) and os.path.getsize(p) else None
        self.rounds["rotations"] += first is not None and first != self.rotated
        self.rotated = first

    # One account change: (description, process or thread, the valid outcomes of web.users / ipmi.users).
    def account_change(self, strace=None):
        self.serial += 1
        names = sorted(n for n in self.users if n != "admin")
        kinds = ["add", "add", "passwd", "ipmi"] + (["del"] if names else [])
        kind = self.rng.choice(kinds)
        pre = list(strace or [])
        users_ok = [self.users]
        ipmi_ok = [self.ipmi]
        if kind == "add":
            name = "u%d" % self.serial
            role = self.rng.choice(["admin", "operator", "viewer"])
            args = ["add", name, "--role", role]
            users_ok.append(("add", name, role))
        elif kind == "del":
            name = self.rng.choice(names)
            args = ["del", name]
            users_ok.append(("del", name))
            if self.ipmi and name in self.ipmi:
                ipmi_ok.append(("del", name))
        elif kind == "passwd":
            name = self.rng.choice(["admin"] + names)
            args = ["passwd", name]
            users_ok.append(("passwd", name))
        else:
            name = self.rng.choice(["admin"] + names)
            args = ["ipmi-passwd", name]
            ipmi_ok.append(("set", name))
        # passwd keeps PASSWORD: any outcome leaves admin's login working
        env = dict(os.environ)
        if strace:  # LeakSanitizer cannot run under ptrace
            env["ASAN_OPTIONS"] = env.get("ASAN_OPTIONS", "") + ":detect_leaks=0"
        proc = subprocess.Popen(pre + [self.env.piglix, "-c", self.w.p.config, "user"] + args, env=env,
                                stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        proc.stdin.write(PASSWORD + "\n")
        proc.stdin.close()
        return " ".join(args), proc, users_ok, ipmi_ok

    def check_outcome(self, what, now, prev, valid):
        """now must be prev, or prev changed as one of valid says."""
        if now == prev:
            return
        for v in valid[1:]:
            op, name = v[0], v[1]
            if op == "add" and prev is not None and set(now) == set(prev) | {name} and \
                    all(now[n] == prev[n] for n in prev) and now[name].endswith(":" + v[2]):
                return
            if op == "add" and prev is None and set(now) == {name}:
                return
            if op == "del" and prev and name in prev and now is not None and set(now) == set(prev) - {name} and \
                    all(now[n] == prev[n] for n in now):
                return
            if op == "del" and prev and set(prev) == {name} and now is None:
                return
            if op in ("passwd", "totp", "set") and now is not None and set(now) == (set(prev or {}) | {name}) and \
                    all(now[n] == prev[n] for n in (prev or {}) if n != name):
                return
        raise TestFailure("%s after %s is neither the old nor the new content:\nold %s\nnow %s" %
                          (what, valid[1:], prev, now))

    def check_files(self, what, users_ok, ipmi_ok):
        users, ipmi = self.read_users(), self.read_ipmi()
        check(users is not None, "web.users is gone after %s" % what)
        self.check_outcome("web.users", users, self.users, users_ok)
        self.check_outcome("ipmi.users", ipmi, self.ipmi, ipmi_ok)
        self.users, self.ipmi = users, ipmi
        return self.audit_files()

    # -- background activity during a daemon round --
    def logins(self, stop):
        while not stop.is_set():
            try:
                c = http.client.HTTPSConnection("127.0.0.1", self.w.https, context=tls_context(), timeout=3)
                c.request("POST", "/api/login", json.dumps({"name": "admin", "password": PASSWORD}),
                          {"Content-Type": "application/json", "Host": "127.0.0.1:%d" % self.w.https})
                r = c.getresponse()
                body = r.read()
                cookie = re.search(r"piglix_session=([0-9a-f]+)", r.getheader("Set-Cookie") or "")
                if r.status == 200 and cookie:
                    c.request("POST", "/api/logout", "", {
                        "Content-Type": "application/json", "Host": "127.0.0.1:%d" % self.w.https,
                        "Cookie": "piglix_session=" + cookie.group(1), "X-CSRF-Token": json.loads(body)["csrf"]})
                    c.getresponse().read()
                c.close()
            except (OSError, http.client.HTTPException, ValueError):
                time.sleep(0.02)

    def power(self, stop):
        while not stop.is_set():
            try:
                curl_api("https://127.0.0.1:%d" % self.w.https, "admin", PASSWORD, "POST", "/api/atx/wol", timeout=3)
            except subprocess.TimeoutExpired:
                pass
            time.sleep(0.05)

    def api_totp(self, name, result):
        """TOTP set-up and enable for name through the web API (a web.users rewrite by the daemon)."""
        try:
            c = Web.__new__(Web)
            c.https, c.cookie, c.csrf, c.env = self.w.https, None, None, self.env
            c.login(name, PASSWORD)
            st, js, _, _ = c.request("POST", "/api/totp/setup", timeout=5)
            result["secret"] = js["secret"]
            c.request("POST", "/api/totp/enable", {"code": totp(js["secret"], time.time())}, timeout=5)
        except (OSError, http.client.HTTPException, TestFailure, TypeError, KeyError):
            pass

    def daemon_round(self):
        self.rounds["daemon"] += 1
        r = self.rounds["daemon"]
        self.observe_rotation()
        self.top_up_audit()
        ids_before = set(self.audit_files())
        stop = threading.Event()
        threads = [threading.Thread(target=self.logins, args=(stop,)), threading.Thread(target=self.power, args=(stop,))]
        # the upload: a fresh name, 64 KiB - 3 MiB
        up = "r%d.iso" % r
        data = os.urandom(self.rng.randint(64 << 10, 3 << 20))
        src = os.path.join(self.env.tmp, "up.bin")
        with open(src, "wb") as f:
            f.write(data)
        self.uploads[up] = hashlib.sha256(data).hexdigest()
        curl = subprocess.Popen(["curl", "-sS", "-k", "-u", "admin:" + PASSWORD, "-T", src, "-o", "/dev/null",
                                 "--limit-rate", "4M", "https://127.0.0.1:%d/api/vmedia/images/%s" % (self.w.https, up)],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        # the account change: the CLI, or TOTP through the API for a non-TOTP account
        plain = [n for n in self.users if n != "admin" and self.users[n].split(":")[2] == ""]
        api = plain and self.rng.random() < 0.4
        totp_res = {}
        if api:
            name = self.rng.choice(plain)
            what, users_ok, ipmi_ok = "API TOTP on for " + name, [self.users, ("totp", name)], [self.ipmi]
            t = threading.Thread(target=self.api_totp, args=(name, totp_res))
            threads.append(t)
            proc = None
        else:
            what, proc, users_ok, ipmi_ok = self.account_change()
        for t in threads:
            t.start()
        delay = self.rng.uniform(0.05, 1.2)
        time.sleep(delay)
        hit = self.w.p.proc.poll() is not None  # strace's kill point came first
        if proc and proc.poll() is None and self.rng.random() < 0.5:
            proc.send_signal(signal.SIGKILL)  # the CLI too, sometimes
        self.kill_daemon()
        stop.set()
        if proc:
            proc.wait(timeout=60)
        curl.kill()
        curl.wait()
        for t in threads:
            t.join(timeout=30)
        ids = self.check_files(what, users_ok, ipmi_ok)
        self.observe_rotation()
        # ([audit] files = 2: a rotation in the round drops the oldest file, nothing else)
        lost = sorted(i for i in ids_before if (not ids or i >= ids[0]) and i not in set(ids))
        check(not lost, "audit records lost: %s" % lost[:10])
        if api and self.users[name].split(":")[2]:
            check(totp_res.get("secret"), "TOTP on for %s without a set-up answer" % name)
        how = "after %.2f s" % delay
        if self.kill_point:
            how = "at %s #%d on a state file (%s)" % (self.kill_point + ("hit" if hit else "not reached: after %.2f s" % delay,))
        print("round %d: SIGKILL %s during %s; %d audit records, accounts %s" %
              (r, how, what, len(ids), sorted(self.users)), flush=True)
        self.restart()
        self.checks(lambda: self.after_restart(ids))

    def checks(self, fn):
        """Runs checks against the daemon. Under strace the next round's kill
        point may come during them (their logins are audited and start
        sessions: writes on state files): that is a cut like any other; the
        files are checked, the daemon restarts without one, and the checks
        run again."""
        try:
            fn()
        except (OSError, http.client.HTTPException, TestFailure):
            if not self.kill_point:
                raise
            try:  # strace (the process we hold) exits just after its tracee
                self.w.p.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                raise
            self.w.p.log.close()
            ids = self.check_files("the checks after a restart", [self.users], [self.ipmi])
            print("checks: SIGKILL at %s #%d on a state file" % self.kill_point, flush=True)
            self.restart(strace_ok=False)
            self.after_restart(ids)

    def daemon_accounts(self):
        """The daemon's accounts (Redfish lists them) are the file's, and admin logs in."""
        st, js, _, _ = expect(self.w.request(
            "GET", "/redfish/v1/AccountService/Accounts", cookie=False,
            headers={"Authorization": "Basic " + base64.b64encode(("admin:" + PASSWORD).encode()).decode()}),
            200, "accounts")
        shown = {m["@odata.id"].rsplit("/", 1)[1] for m in js["Members"]}
        check(shown == set(self.users), "the daemon shows accounts %s, the file has %s" % (shown, sorted(self.users)))
        self.w.login()

    def after_restart(self, ids):
        left = [n for n in os.listdir(self.state) if TEMP.search(n)]
        check(not left, "temporary files left after the restart: %s" % left)
        self.daemon_accounts()
        got = set()
        cursor = None
        while True:
            st, page, _, _ = expect(self.w.request("GET", "/api/log?limit=500" + ("&cursor=" + cursor if cursor else "")),
                                    200, "GET /api/log")
            got |= {e["id"] for e in page["entries"]}
            cursor = page.get("next_cursor")
            if not cursor:
                break
        # The restart's own records may rotate the oldest file away ([audit] files = 2): what
        # the files still hold must be in /api/log, and nothing before the kill is missing
        # from them but what rotated away.
        now = self.audit_files()
        check(now, "no audit records after the restart")
        lost = sorted(i for i in ids if i >= now[0] and i not in set(now))
        check(not lost, "audit records lost by the kill: %s" % lost[:10])
        gone = sorted(i for i in now if i <= max(got) and i not in got)
        check(not gone, "/api/log lacks records the files have: %s" % gone[:10])
        st, js, _, _ = expect(self.w.request("GET", "/api/vmedia"), 200, "GET /api/vmedia")
        for img in js["images"]:
            name = img["name"]
            with open(os.path.join(self.store, name), "rb") as f:
                sha = hashlib.sha256(f.read()).hexdigest()
            check(sha == self.uploads.get(name), "image %s is listed but not the whole upload" % name)

    def cli_round(self):
        self.rounds["cli"] += 1
        sc = self.rng.choice(["openat", "write", "fsync", "rename", "close", "unlink"])
        n = self.rng.randint(1, 3)  # how often the CLI makes each call on the state files
        strace = self.strace(sc, n)
        what, proc, users_ok, ipmi_ok = self.account_change(strace)
        proc.wait(timeout=60)
        killed = proc.returncode in (-9, 137)
        self.rounds["cli_killed"] += killed
        self.check_files(what, users_ok, ipmi_ok)
        print("CLI %s: SIGKILL at %s #%d: %s" % (what, sc, n, "killed" if killed else "finished"), flush=True)


def case_sigkill_rounds(env):
    if not shutil.which("strace"):
        print("SKIP: strace is not installed (deploy/deps.sh)")
        sys.exit(SKIP)
    seed = int(os.environ.get("PIGLIX_POWERCUT_SEED") or time.time_ns() % 1000000007)
    budget = float(os.environ.get("PIGLIX_POWERCUT_SECONDS", "16"))
    print("seed %d (PIGLIX_POWERCUT_SEED=%d repeats this run), %.0f s of rounds" % (seed, seed, budget), flush=True)
    t0 = time.time()
    rig = Rig(env, seed)
    deadline = t0 + budget
    print("started in %.1f s" % (time.time() - t0), flush=True)
    while True:
        t1 = time.time()
        rig.daemon_round()
        for _ in range(3):
            rig.cli_round()
        # the running daemon took what the files say (it re-reads them within a second)
        time.sleep(1.2)
        rig.checks(rig.daemon_accounts)
        took = time.time() - t1
        print("  (%.1f s)" % took, flush=True)
        if rig.rounds["daemon"] >= 2 and time.time() + took > deadline:
            break  # another round would end past the budget
    check(rig.rounds["daemon"] >= 2 and rig.rounds["cli_killed"] >= 1, "too few rounds: %s" % rig.rounds)
    print("rounds: %s (seed %d)" % (rig.rounds, seed))
    # A cut between the two writes of a new web key pair: a new key beside the old
    # certificate. The daemon makes a new pair rather than fail TLS at every start.
    rig.kill_daemon()
    rig.check_files("the end", [rig.users], [rig.ipmi])
    key = os.path.join(rig.state, "web-key.pem")
    r = subprocess.run(["openssl", "genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256",
                        "-out", key], capture_output=True, text=True, timeout=30)
    check(r.returncode == 0, "openssl genpkey: %s" % r.stderr)
    rig.restart(strace_ok=False)
    check("not a whole key pair" in rig.w.p.read_log(), "a key that is not the certificate's went unnoticed")
    rig.daemon_accounts()  # TLS works: logs in
    rig.w.stop()  # a clean exit, no sanitizer report


CASES = {name[5:]: fn for name, fn in globals().items() if name.startswith("case_")}

if __name__ == "__main__":
    sys.exit(run(CASES))
