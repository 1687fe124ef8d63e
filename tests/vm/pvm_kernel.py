"""Debian's own kernel for the test VM: fetch once into a cache, resolve module closures.

The kernel is never built: the package that `linux-image-amd64` depends on is downloaded
with `apt-get download`, unpacked with `dpkg-deb -x`, and only /boot/vmlinuz-* and
/lib/modules/VERSION are kept, in CACHE/kernel/PACKAGE_VERSION/.
Module dependencies are read straight from each .ko's .modinfo section, so no depmod
(kmod) is needed on the host; the initramfs gets a modules.dep written for its subset.
"""

import fcntl
import json
import os
import re
import shutil
import struct
import subprocess
import sys
import tempfile

META_PACKAGE = "linux-image-amd64"


class KernelError(RuntimeError):
    pass


def cache_root():
    root = os.environ.get("PIGLIX_VM_CACHE") or os.path.join(
        os.path.expanduser("~"), ".cache", "piglix-vm")
    os.makedirs(root, exist_ok=True)
    return root


def log(msg):
    print("pvm: " + msg, file=sys.stderr, flush=True)


# apt-get update under deploy/deps.sh's lock: its lists lock is not covered by
# DPkg::Lock::Timeout, and other tests may be installing at the same time.
APT_UPDATE = ["flock", "-w", "1200", "/var/lock/piglix-deps.lock", "apt-get", "-q", "update"]


def _apt(args, check=True, cwd=None):
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive", LC_ALL="C")
    proc = subprocess.run(args, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          universal_newlines=True, stdin=subprocess.DEVNULL, cwd=cwd)
    if check and proc.returncode != 0:
        raise KernelError("%s failed (%d): %s" % (" ".join(args), proc.returncode,
                                                  proc.stderr.strip()[-2000:]))
    return proc


def _resolve_image_package():
    """Name and version of the image package the meta package points at, or None."""
    override = os.environ.get("PIGLIX_VM_KERNEL_PACKAGE")
    name = override
    if not name:
        proc = _apt(["apt-cache", "depends", META_PACKAGE], check=False)
        found = re.search(r"Depends:\s*(linux-image-\S+)", proc.stdout)
        if proc.returncode != 0 or not found:
            return None
        name = found.group(1)
    proc = _apt(["apt-cache", "show", "--no-all-versions", name], check=False)
    version = re.search(r"^Version:\s*(\S+)", proc.stdout, re.M)
    if proc.returncode != 0 or not version:
        return None
    return name, version.group(1)


def _cached_kernels(root):
    kdir = os.path.join(root, "kernel")
    if not os.path.isdir(kdir):
        return []
    entries = [os.path.join(kdir, e) for e in os.listdir(kdir)]
    done = [e for e in entries if os.path.exists(os.path.join(e, "kernel.json"))]
    return sorted(done, key=os.path.getmtime, reverse=True)


def _unpack(package, version, dest):
    """Download and unpack the image package into dest (atomic: dest appears complete)."""
    parent = os.path.dirname(dest)
    os.makedirs(parent, exist_ok=True)
    work = tempfile.mkdtemp(prefix=".unpack-", dir=parent)
    try:
        log("downloading %s %s" % (package, version))
        spec = "%s=%s" % (package, version)
        if _apt(["apt-get", "download", spec], check=False, cwd=work).returncode != 0:
            # the index can be stale (package superseded): refresh once and retry
            _apt(APT_UPDATE)
            _apt(["apt-get", "download", spec], cwd=work)
        debs = [f for f in os.listdir(work) if f.endswith(".deb")]
        if len(debs) != 1:
            raise KernelError("apt-get download %s produced %s" % (spec, debs))
        deb = os.path.join(work, debs[0])
        root = os.path.join(work, "root")
        subprocess.run(["dpkg-deb", "-x", deb, root], check=True)
        boot = os.path.join(root, "boot")
        images = [f for f in os.listdir(boot) if f.startswith("vmlinuz-")]
        releases = os.listdir(os.path.join(root, "lib", "modules"))
        if len(images) != 1 or len(releases) != 1:
            raise KernelError("unexpected package layout: %s %s" % (images, releases))
        release = releases[0]
        out = os.path.join(work, "out")
        os.makedirs(out)
        shutil.move(os.path.join(boot, images[0]), os.path.join(out, "vmlinuz"))
        shutil.move(os.path.join(root, "lib", "modules", release), os.path.join(out, "modules"))
        info = {"package": package, "version": version, "release": release}
        with open(os.path.join(out, "kernel.json"), "w") as f:
            json.dump(info, f)
        os.rename(out, dest)
    finally:
        shutil.rmtree(work, ignore_errors=True)


class Kernel:
    """An unpacked kernel: vmlinuz path, release string, and its module tree."""

    def __init__(self, path):
        self.path = path
        with open(os.path.join(path, "kernel.json")) as f:
            info = json.load(f)
        self.package = info["package"]
        self.version = info["version"]
        self.release = info["release"]
        self.vmlinuz = os.path.join(path, "vmlinuz")
        self.modules_dir = os.path.join(path, "modules")
        self._index = None
        self._builtin = None

    def _load_index(self):
        if self._index is not None:
            return
        self._index = {}
        with open(os.path.join(self.modules_dir, "modules.order")) as f:
            for line in f:
                rel = line.strip()
                if rel.endswith(".ko"):
                    self._index[module_name(rel)] = rel
        self._builtin = set()
        with open(os.path.join(self.modules_dir, "modules.builtin")) as f:
            for line in f:
                if line.strip():
                    self._builtin.add(module_name(line.strip()))

    def is_builtin(self, name):
        self._load_index()
        return module_name(name) in self._builtin

    def has_module(self, name):
        self._load_index()
        return module_name(name) in self._index

    def closure(self, names, extra_kos=()):
        """Resolve modules plus dependencies.

        names: module names known to this kernel; extra_kos: host paths of out-of-tree .ko
        files (placed under extra/). Returns {relpath: (host_path, [dep relpaths in
        modules.dep order])} for every module needed. Built-in names are skipped.
        """
        self._load_index()
        located = {}  # name -> (relpath, host path)
        for ko in extra_kos:
            located[module_name(ko)] = ("extra/" + os.path.basename(ko), os.path.abspath(ko))
        order = []
        deps_of = {}
        state = {}

        def visit(name, chain):
            name = module_name(name)
            if state.get(name) == "done":
                return
            if state.get(name) == "active":
                raise KernelError("module dependency cycle: %s" % " -> ".join(chain + [name]))
            if name not in located:
                if name in self._builtin:
                    state[name] = "done"
                    return
                rel = self._index.get(name)
                if rel is None:
                    near = sorted(n for n in self._index if name[:4] in n)[:8]
                    raise KernelError("kernel %s has no module %r (similar: %s)"
                                      % (self.release, name, ", ".join(near) or "none"))
                located[name] = (rel, os.path.join(self.modules_dir, rel))
            state[name] = "active"
            direct = [d for d in modinfo(located[name][1]).get("depends", "").split(",") if d]
            for dep in direct:
                visit(dep, chain + [name])
            state[name] = "done"
            deps_of[name] = direct
            order.append(name)

        for n in list(names) + [module_name(k) for k in extra_kos]:
            visit(n, [])

        result = {}
        for name in order:
            # transitive deps, loaded by modprobe from the end of the list to the start
            seen, post = set(), []

            def walk(n):
                for d in deps_of.get(n, []):
                    d = module_name(d)
                    if d not in seen and d in deps_of:
                        seen.add(d)
                        walk(d)
                        post.append(d)
            walk(name)
            rel, host = located[name]
            result[rel] = (host, [located[d][0] for d in reversed(post)])
        return result


def module_name(path_or_name):
    base = os.path.basename(path_or_name)
    if base.endswith(".ko"):
        base = base[:-3]
    return base.replace("-", "_")


def modinfo(ko_path):
    """The key=value pairs of a module's .modinfo ELF section (64-bit little endian)."""
    with open(ko_path, "rb") as f:
        data = f.read()
    if data[:4] != b"\x7fELF" or data[4] != 2 or data[5] != 1:
        raise KernelError("%s is not a 64-bit little-endian ELF module" % ko_path)
    shoff = struct.unpack_from("<Q", data, 0x28)[0]
    shentsize, shnum, shstrndx = struct.unpack_from("<HHH", data, 0x3A)

    def section(i):
        name, _type, _flags, _addr, off, size = struct.unpack_from(
            "<IIQQQQ", data, shoff + i * shentsize)
        return name, off, size
    _n, str_off, _s = section(shstrndx)
    info = {}
    for i in range(shnum):
        name, off, size = section(i)
        end = data.index(b"\0", str_off + name)
        if data[str_off + name:end] == b".modinfo":
            for item in data[off:off + size].split(b"\0"):
                if b"=" in item:
                    key, _eq, value = item.partition(b"=")
                    info.setdefault(key.decode(), value.decode(errors="replace"))
    return info


def get_kernel():
    """The cached kernel for the current linux-image-amd64, downloading it if needed."""
    root = cache_root()
    with open(os.path.join(root, ".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        resolved = _resolve_image_package()
        if resolved is None:
            cached = _cached_kernels(root)
            if cached:
                log("apt index unavailable; using cached %s" % os.path.basename(cached[0]))
                return Kernel(cached[0])
            log("apt index missing: running apt-get update")
            _apt(APT_UPDATE)
            resolved = _resolve_image_package()
            if resolved is None:
                raise KernelError("cannot resolve %s with apt-cache" % (
                    os.environ.get("PIGLIX_VM_KERNEL_PACKAGE") or META_PACKAGE))
        package, version = resolved
        dest = os.path.join(root, "kernel", "%s_%s" % (package, version))
        if not os.path.exists(os.path.join(dest, "kernel.json")):
            _unpack(package, version, dest)
        return Kernel(dest)
