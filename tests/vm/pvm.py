#!/usr/bin/env python3
"""pvm: run piglix end-to-end tests inside a VM with Debian's real kernel (qemu, TCG).

    with VM(modules=["vivid"], binaries=["/tmp/build/piglix"],
            files={"/etc/piglix.ini": "..."}, ports=[8080]) as vm:
        out, rc = vm.run("ls /dev/video0")
        p = vm.spawn("piglix -c /etc/piglix.ini", log="/tmp/piglix.log")
        vm.wait_listening(8080)
        urllib.request.urlopen("http://127.0.0.1:%d/" % vm.host_port(8080))

Commands travel over a virtio-serial port to a busybox-sh agent (guest/agent.sh) with
length-framed replies; the kernel console goes to its own log file. qemu always runs
with TCG: nested KVM hangs on the machines this runs on.
CLI: pvm.py shell|run|selftest|fetch --help.
"""

import argparse
import atexit
import base64
import ctypes
import os
import pathlib
import re
import secrets
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pvm_image  # noqa: E402
import pvm_kernel  # noqa: E402

QEMU = "qemu-system-x86_64"
BASE_KERNEL_ARGS = "console=ttyS0 panic=-1 quiet"
AGENT_PORT_NAME = "org.piglix.agent"
REPLY_HEADER = re.compile(rb"\n@@PVM (\S+) (-?\d+) (\d+)\n")
TIMEOUT_STATUS = 137  # busybox timeout -s KILL: the command shell died of SIGKILL
REQUEST_LIMIT = 48 * 1024  # bytes of script per request; write_file chunks below this


class VMError(Exception):
    pass


class CommandTimeout(VMError):
    def __init__(self, cmd, timeout, output):
        super().__init__("guest command timed out after %ss: %s\n%s" % (timeout, cmd, output))
        self.output = output


class CommandFailed(VMError):
    def __init__(self, cmd, status, output):
        super().__init__("guest command failed (status %d): %s\n%s" % (status, cmd, output))
        self.status = status
        self.output = output


def _die_with_parent():
    # qemu must not outlive a test runner that was killed outright
    try:
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def _free_port(udp=False):
    with socket.socket(type=socket.SOCK_DGRAM if udp else socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _guest_port(guest):
    """A ports entry: 8080 or "tcp:8080" is TCP, "udp:623" UDP. Returns (proto, port, key):
    the port_map key is the int for TCP (as before) and "udp:N" for UDP."""
    proto, _colon, num = str(guest).rpartition(":")
    proto = proto or "tcp"
    if proto not in ("tcp", "udp"):
        raise ValueError("port %r: want N, tcp:N or udp:N" % (guest,))
    return proto, int(num), int(num) if proto == "tcp" else "udp:%d" % int(num)


class _Agent:
    """The host end of the command channel: one request at a time, framed replies."""

    def __init__(self, path, is_alive):
        self.path = path
        self.is_alive = is_alive
        self.sock = None
        self.buf = b""
        self.counter = 0
        self.tag = secrets.token_hex(3)

    def connect(self, deadline):
        while True:
            try:
                self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                self.sock.connect(self.path)
                return
            except OSError:
                self.sock.close()
                self.sock = None
                if time.monotonic() > deadline or not self.is_alive():
                    raise VMError("cannot connect to qemu's agent socket %s" % self.path)
                time.sleep(0.05)

    def close(self):
        if self.sock:
            self.sock.close()
            self.sock = None

    def send(self, script, timeout):
        payload = base64.b64encode(script.encode() if isinstance(script, str) else script)
        if len(payload) > REQUEST_LIMIT:
            raise VMError("guest command too long (%d bytes)" % len(payload))
        self.counter += 1
        rid = "%s-%d" % (self.tag, self.counter)
        self.sock.sendall(b"%s %s %d\n" % (rid.encode(), payload, max(1, int(timeout + 0.999))))
        return rid

    def receive(self, wanted, deadline):
        """(status, output) of the first reply whose id is in wanted; None on timeout."""
        while True:
            match = REPLY_HEADER.search(self.buf)
            if match:
                end = match.end() + int(match.group(3))
                if len(self.buf) >= end:
                    rid, status = match.group(1).decode(), int(match.group(2))
                    output, self.buf = self.buf[match.end():end], self.buf[end:]
                    if rid in wanted:
                        return status, output
                    continue  # a stale reply (an earlier ping, a timed-out request)
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            if not self.is_alive():
                raise VMError("qemu exited")
            self.sock.settimeout(min(left, 0.5))
            try:
                chunk = self.sock.recv(65536)
            except socket.timeout:
                continue
            if not chunk:
                raise VMError("agent socket closed by qemu")
            self.buf += chunk


class GuestProcess:
    """A background process started by VM.spawn; pid is also its process group."""

    def __init__(self, vm, index, pid, log):
        self.vm, self.index, self.pid, self.log_path = vm, index, pid, log
        self._status_file = "/run/pvm/spawn/%d.rc" % index

    def alive(self):
        return self.status() is None

    def status(self):
        """Exit status once it ended, else None."""
        out, rc = self.vm.run("cat %s 2>/dev/null" % self._status_file)
        return int(out.strip()) if rc == 0 and out.strip() else None

    def wait(self, timeout=30):
        """Its exit status, once it ended (143 after kill("TERM"))."""
        def ended():
            status = self.status()
            return None if status is None else (status,)  # truthy even for status 0
        return self.vm.wait_for(ended, timeout, what="guest process %d (%s) to exit"
                                % (self.pid, self.log_path))[0]

    def kill(self, sig="TERM"):
        """Signal the whole process group (a shell wrapper and what it started)."""
        self.vm.run("kill -%s -%d 2>/dev/null" % (sig, self.pid))

    def log(self):
        return self.vm.read_file(self.log_path).decode(errors="replace")


class VM:
    def __init__(self, modules=(), binaries=(), files=None, ports=None, mem=1024, smp=2,
                 extra_kernel_args="", available_modules=(), boot_timeout=240):
        """modules: loaded at boot in order, "name [params]" or "/path/to/test.ko [params]";
        available_modules: copied (with dependencies) but not loaded;
        binaries: host paths (guest /usr/bin/NAME) or {guest_path: host_path}; ldd's
        libraries come along; files: {guest_path: str | bytes | pathlib.Path | (x, mode)};
        ports: {host_port: guest_port} (host 0 = pick a free one) or a list of guest ports;
        a guest port is TCP (8080, "tcp:8080") or UDP ("udp:623": host_port("udp:623"))."""
        self.modules = list(modules)
        self.available_modules = list(available_modules)
        self.binaries = binaries
        self.files = dict(files or {})
        if ports is None:
            ports = {}
        elif not isinstance(ports, dict):
            ports = [(0, guest) for guest in ports]
        self.port_map = {}  # guest port (int: TCP, "udp:N": UDP) -> host port; see host_port()
        for host, guest in (ports.items() if isinstance(ports, dict) else ports):
            proto, _num, key = _guest_port(guest)
            self.port_map[key] = int(host) or _free_port(proto == "udp")
        self.mem, self.smp = mem, smp
        self.extra_kernel_args = extra_kernel_args
        self.boot_timeout = boot_timeout
        self.proc = None
        self.workdir = None
        self.agent = None
        self.boot_seconds = None
        self.kernel = None
        self.initramfs = None
        self._spawned = []
        self._channel_lock = threading.Lock()  # one request in flight at a time

    # ---- lifecycle -------------------------------------------------------------------

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, exc_type, exc, tb):
        if exc_type is not None and self.proc is not None:
            print(self.diagnostics(), file=sys.stderr)
        self.stop()
        return False

    @property
    def console_log_path(self):
        return os.path.join(self.workdir, "console.log")

    def qemu_running(self):
        return self.proc is not None and self.proc.poll() is None

    def start(self):
        """Build (or reuse) the initramfs, boot, and return once the guest agent answers."""
        self.kernel = pvm_kernel.get_kernel()
        self.initramfs = pvm_image.build(self.kernel, self.modules, self.available_modules,
                                         self.binaries, self.files)
        self.workdir = tempfile.mkdtemp(prefix="pvm-")
        atexit.register(self.stop)
        started = time.monotonic()
        self.proc = subprocess.Popen(self._qemu_command(), stdin=subprocess.DEVNULL,
                                     stdout=open(os.path.join(self.workdir, "qemu.log"), "wb"),
                                     stderr=subprocess.STDOUT, preexec_fn=_die_with_parent)
        try:
            self._wait_for_agent(started + self.boot_timeout)
            self.boot_seconds = time.monotonic() - started
            errors, _rc = self.run("cat /run/pvm-init-errors")
            if errors.strip():
                raise VMError("guest setup failed:\n" + errors)
        except BaseException:
            print(self.diagnostics(), file=sys.stderr)
            self.stop()
            raise
        return self

    def _qemu_command(self):
        cmd = [QEMU, "-accel", "tcg", "-m", str(self.mem), "-smp", str(self.smp),
               "-nodefaults", "-no-user-config", "-display", "none", "-no-reboot",
               "-kernel", self.kernel.vmlinuz, "-initrd", self.initramfs,
               "-append", (BASE_KERNEL_ARGS + " " + self.extra_kernel_args).strip(),
               "-serial", "file:" + self.console_log_path,
               "-device", "virtio-serial-pci",
               "-chardev", "socket,id=agent,path=%s,server=on,wait=off"
               % os.path.join(self.workdir, "agent.sock"),
               "-device", "virtserialport,chardev=agent,name=" + AGENT_PORT_NAME,
               "-device", "virtio-rng-pci"]
        netdev = "user,id=net0"
        for guest, host in sorted(self.port_map.items(), key=lambda kv: str(kv[0])):
            proto, num, _key = _guest_port(guest)
            netdev += ",hostfwd=%s:127.0.0.1:%d-:%d" % (proto, host, num)
        cmd += ["-netdev", netdev, "-device", "e1000,netdev=net0,romfile="]
        return cmd + shlex.split(os.environ.get("PIGLIX_VM_QEMU_ARGS", ""))

    def _wait_for_agent(self, deadline):
        self.agent = _Agent(os.path.join(self.workdir, "agent.sock"), self.qemu_running)
        self.agent.connect(deadline)
        pings = set()
        while True:
            # repeated pings: one written before the guest opened its port may be lost
            pings.add(self.agent.send("echo pong", 10))
            reply = self.agent.receive(pings, min(deadline, time.monotonic() + 5))
            if reply is not None:
                return
            if time.monotonic() >= deadline:
                raise VMError("guest agent did not answer within %ds" % self.boot_timeout)

    def stop(self):
        """Kill qemu (always) and remove the work directory unless PIGLIX_VM_KEEP is set."""
        atexit.unregister(self.stop)
        if self.agent is not None:
            self.agent.close()
            self.agent = None
        if self.proc is not None:
            if self.proc.poll() is None:
                self.proc.terminate()
                try:
                    self.proc.wait(5)
                except subprocess.TimeoutExpired:
                    self.proc.kill()
                    self.proc.wait()
            self.proc = None
        if self.workdir is not None:
            if os.environ.get("PIGLIX_VM_KEEP"):
                print("pvm: kept %s" % self.workdir, file=sys.stderr)
            else:
                shutil.rmtree(self.workdir, ignore_errors=True)
            self.workdir = None

    # ---- commands ----------------------------------------------------------------------

    def run_bytes(self, cmd, timeout=30):
        """(output bytes, status) of a shell command in the guest; raises CommandTimeout."""
        with self._channel_lock:
            if self.agent is None:
                raise VMError("VM is not running")
            started = time.monotonic()
            rid = self.agent.send(cmd, timeout)
            # slack: the guest's own timeout fires first; this catches a dead guest
            reply = self.agent.receive({rid}, started + timeout + 30)
        if reply is None:
            raise VMError("guest agent stopped answering (command: %s)" % cmd)
        status, output = reply
        if status == TIMEOUT_STATUS and time.monotonic() - started >= timeout - 0.5:
            raise CommandTimeout(cmd, timeout, output.decode(errors="replace"))
        return output, status

    def run(self, cmd, timeout=30):
        """(stdout+stderr as text, exit status) of a shell command run inside the guest."""
        output, status = self.run_bytes(cmd, timeout)
        return output.decode(errors="replace"), status

    def check(self, cmd, timeout=30):
        """Output of a command that must succeed; raises CommandFailed otherwise."""
        output, status = self.run(cmd, timeout)
        if status != 0:
            raise CommandFailed(cmd, status, output)
        return output

    def read_file(self, path, timeout=60):
        output, status = self.run_bytes("cat '%s'" % path, timeout)
        if status != 0:
            raise CommandFailed("cat " + path, status, output.decode(errors="replace"))
        return output

    def write_file(self, path, data, mode=0o644, timeout=60):
        if isinstance(data, str):
            data = data.encode()
        chunk = REQUEST_LIMIT // 2
        self.check(": >'%s' && chmod %o '%s'" % (path, mode, path))
        for at in range(0, len(data), chunk):
            encoded = base64.b64encode(data[at:at + chunk]).decode()
            self.check("echo %s | base64 -d >>'%s'" % (encoded, path), timeout)

    def spawn(self, cmd, log=None):
        """Start cmd in the background (own session) and return a GuestProcess."""
        index = len(self._spawned) + 1
        log = log or "/tmp/pvm-spawn-%d.log" % index
        d = "/run/pvm/spawn"
        encoded = base64.b64encode(cmd.encode()).decode()
        script = (
            "mkdir -p {d} && echo {enc} | base64 -d >{d}/{i}.sh || exit 1\n"
            "( setsid sh {d}/{i}.sh >'{log}' 2>&1 </dev/null & echo $! >{d}/{i}.pid; "
            "wait $!; echo $? >{d}/{i}.tmp; mv {d}/{i}.tmp {d}/{i}.rc ) "
            ">/dev/null 2>&1 </dev/null &\n"
            "while [ ! -s {d}/{i}.pid ]; do sleep 0.02; done; cat {d}/{i}.pid\n"
        ).format(d=d, i=index, enc=encoded, log=log)
        pid = int(self.check(script).strip())
        proc = GuestProcess(self, index, pid, log)
        self._spawned.append(proc)
        return proc

    # ---- waiting -----------------------------------------------------------------------

    def wait_for(self, predicate, timeout=30, interval=0.5, what=None, ignore=(OSError,)):
        """Poll predicate until it returns something truthy, and return that.

        Exceptions of the types in ignore count as "not yet" (a connection refused
        while a server starts); VMError from a dead guest always propagates."""
        deadline = time.monotonic() + timeout
        last = None
        while True:
            try:
                value = predicate()
                if value:
                    return value
            except VMError:
                raise
            except ignore as e:  # noqa: B030 -- a tuple of exception types
                last = e
            if not self.qemu_running():
                raise VMError("qemu exited while waiting for %s" % (what or predicate))
            if time.monotonic() >= deadline:
                raise VMError("timed out after %ss waiting for %s%s" % (
                    timeout, what or predicate, " (last error: %r)" % last if last else ""))
            time.sleep(interval)

    def listening(self, guest_port):
        out, _rc = self.run("netstat -ltn")
        return re.search(r":%d\s" % guest_port, out) is not None

    def wait_listening(self, guest_port, timeout=60):
        """Wait until a TCP socket listens on guest_port inside the guest (the host side of
        a forwarded port accepts connections before that, so a connect proves nothing)."""
        self.wait_for(lambda: self.listening(guest_port), timeout,
                      what="guest TCP port %d to listen" % guest_port)

    def host_port(self, guest_port):
        """The host port forwarded to guest_port (8080, "tcp:8080" or "udp:623")."""
        return self.port_map[_guest_port(guest_port)[2]]

    # ---- debugging ---------------------------------------------------------------------

    def console_log(self):
        try:
            with open(self.console_log_path, "rb") as f:
                return f.read().decode(errors="replace")
        except (OSError, TypeError):
            return ""

    def diagnostics(self, lines=60):
        """Console tail, and if the guest still answers its dmesg tail and spawned logs."""
        parts = ["---- pvm: kernel console (last %d lines) ----" % lines]
        parts += self.console_log().splitlines()[-lines:]
        if self.agent is not None and self.qemu_running():
            try:
                out, _rc = self.run("dmesg | tail -n 40", timeout=10)
                parts += ["---- pvm: guest dmesg (tail) ----", out.rstrip()]
                for p in self._spawned:
                    out, _rc = self.run("tail -n 30 '%s'" % p.log_path, timeout=10)
                    parts += ["---- pvm: %s (tail) ----" % p.log_path, out.rstrip()]
            except VMError as e:
                parts.append("---- pvm: guest not answering: %s" % e)
        elif self.proc is not None:
            parts.append("---- pvm: qemu exited with status %s" % self.proc.poll())
            try:
                with open(os.path.join(self.workdir, "qemu.log")) as f:
                    parts.append(f.read()[-3000:])
            except OSError:
                pass
        return "\n".join(parts)


# ---- command line --------------------------------------------------------------------

def _vm_from_args(args):
    binaries = {}
    for spec in args.binary:
        guest, _eq, host = spec.rpartition("=")
        binaries[guest or "/usr/bin/" + os.path.basename(host)] = host
    files = {}
    for spec in args.file:
        guest, eq, host = spec.partition("=")
        if not eq:
            raise SystemExit("--file wants GUEST_PATH=HOST_PATH, got %r" % spec)
        files[guest] = pathlib.Path(host)
    ports = {}
    for spec in args.port:
        # GUEST, HOST:GUEST, with GUEST as N, tcp:N or udp:N
        parts = spec.split(":")
        proto = [p for p in parts if p in ("tcp", "udp")]
        nums = [p for p in parts if p not in ("tcp", "udp")]
        guest = "%s:%s" % (proto[0], nums[-1]) if proto else nums[-1]
        host = int(nums[0]) if len(nums) == 2 else 0
        ports[host or _free_port(proto == ["udp"])] = guest
    return VM(modules=args.module, available_modules=args.available_module,
              binaries=binaries, files=files, ports=ports, mem=args.mem, smp=args.smp,
              extra_kernel_args=args.append)


def _cmd_shell(args):
    with _vm_from_args(args) as vm:
        print("pvm: booted kernel %s in %.1fs; console log %s" % (
            vm.kernel.release, vm.boot_seconds, vm.console_log_path), file=sys.stderr)
        for guest, host in sorted(vm.port_map.items(), key=lambda kv: str(kv[0])):
            print("pvm: guest port %s -> 127.0.0.1:%d" % (guest, host), file=sys.stderr)
        interactive = sys.stdin.isatty()
        while True:
            try:
                line = input("pvm# ") if interactive else sys.stdin.readline()
            except EOFError:
                break
            if not interactive and not line:
                break
            if line.strip() in ("exit", "quit"):
                break
            if not line.strip():
                continue
            try:
                out, rc = vm.run(line, timeout=args.timeout)
            except CommandTimeout as e:
                out, rc = e.output, "timeout"
            sys.stdout.write(out)
            if rc != 0:
                print("[status %s]" % rc)
            sys.stdout.flush()
    return 0


def _cmd_run(args):
    with _vm_from_args(args) as vm:
        words = args.command[1:] if args.command[:1] == ["--"] else args.command
        out, rc = vm.run(" ".join(words), timeout=args.timeout)
        sys.stdout.write(out)
        return rc


def _cmd_fetch(_args):
    kernel = pvm_kernel.get_kernel()
    print("kernel %s (%s %s)\nvmlinuz %s\nmodules %s" % (
        kernel.release, kernel.package, kernel.version, kernel.vmlinuz, kernel.modules_dir))
    return 0


def main(argv=None):
    parser = argparse.ArgumentParser(prog="pvm.py", description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="action", required=True)
    for name, helptext in (("shell", "boot and run commands typed on stdin"),
                           ("run", "boot, run one command, print its output, exit with its status")):
        p = sub.add_parser(name, help=helptext)
        p.add_argument("--module", action="append", default=[],
                       help='module to load at boot, e.g. "vivid n_devs=1" (repeatable)')
        p.add_argument("--available-module", action="append", default=[],
                       help="module copied in but not loaded")
        p.add_argument("--binary", action="append", default=[],
                       help="HOST_PATH or GUEST_PATH=HOST_PATH (libraries come along)")
        p.add_argument("--file", action="append", default=[], help="GUEST_PATH=HOST_PATH")
        p.add_argument("--port", action="append", default=[],
                       help="HOST:GUEST or GUEST; GUEST is N (TCP) or udp:N")
        p.add_argument("--mem", type=int, default=1024)
        p.add_argument("--smp", type=int, default=2)
        p.add_argument("--append", default="", help="extra kernel arguments")
        p.add_argument("--timeout", type=float, default=600, help="per command")
        if name == "run":
            p.add_argument("command", nargs=argparse.REMAINDER)
    sub.add_parser("selftest", help="boot and check the harness end to end")
    sub.add_parser("fetch", help="download and cache the kernel, print its paths")
    args = parser.parse_args(argv)
    if args.action == "selftest":
        import pvm_selftest
        return pvm_selftest.main()
    return {"shell": _cmd_shell, "run": _cmd_run, "fetch": _cmd_fetch}[args.action](args)


if __name__ == "__main__":
    sys.exit(main())
