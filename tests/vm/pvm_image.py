"""The guest's initramfs: busybox, the guest scripts, modules, binaries with their libraries.

The archive is written directly in cpio "newc" format (no staging tree, no root needed
for device nodes) and left uncompressed: under TCG, unpacking gzip in the guest costs
more than qemu loading a larger file. Guest paths follow Debian's merged /usr, so
/lib/x86_64-linux-gnu/libc.so.6 from ldd lands in usr/lib/... behind a /lib symlink.
Results are cached in CACHE/initramfs/HASH.cpio, keyed by a hash of every input.
"""

import hashlib
import os
import pathlib
import re
import stat
import subprocess
import tempfile

import pvm_kernel

GUEST_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "guest")
BUSYBOX = "/bin/busybox"
MERGED_DIRS = ("bin", "sbin", "lib", "lib64")
# always present: network, the agent's virtio-serial port, the entropy device
BASE_MODULES = ["e1000", "virtio_pci", "virtio_console", "virtio_rng", "configfs"]
FORMAT_VERSION = "1"  # bump when the layout or the guest scripts' contract changes
CACHE_KEEP = 16


class ImageError(RuntimeError):
    pass


def guest_path(path):
    """Normalise a guest path to its merged-/usr location (without leading slash)."""
    parts = pathlib.PurePosixPath("/" + path.lstrip("/")).parts[1:]
    if not parts:
        raise ImageError("empty guest path")
    if parts[0] in MERGED_DIRS:
        parts = ("usr",) + parts
    return "/".join(parts)


def shared_libraries(binary):
    """Host paths of the libraries (and loader) that ldd lists for binary; [] if static."""
    proc = subprocess.run(["ldd", binary], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          universal_newlines=True, env=dict(os.environ, LC_ALL="C"))
    if proc.returncode != 0:
        if "not a dynamic executable" in proc.stdout:
            return []
        raise ImageError("ldd %s failed: %s" % (binary, proc.stdout.strip()))
    libs = []
    for line in proc.stdout.splitlines():
        if "not found" in line:
            raise ImageError("%s: library %s" % (binary, line.strip()))
        found = re.search(r"=>\s*(/\S+)", line) or re.match(r"\s*(/\S+)", line)
        if found:
            libs.append(found.group(1))
    return libs


class Archive:
    """Entries keyed by guest path; a later entry replaces an earlier one."""

    def __init__(self):
        self.entries = {}  # path -> (kind, mode, payload)

    def add_dir(self, path, mode=0o755):
        self.entries[guest_path(path)] = ("dir", mode, None)

    def add_symlink(self, path, target):
        self.entries[guest_path(path)] = ("link", 0o777, target)

    def add_node(self, path, mode, major, minor):
        self.entries[guest_path(path)] = ("node", mode, (major, minor))

    def add_data(self, path, data, mode=0o644):
        if isinstance(data, str):
            data = data.encode()
        self.entries[guest_path(path)] = ("data", mode, data)

    def add_host_file(self, path, host, mode=None):
        """A host file (symlinks followed) or, for a directory, its whole tree."""
        if os.path.isdir(host):
            for dirpath, _dirs, files in os.walk(host):
                rel = os.path.relpath(dirpath, host)
                for name in files:
                    sub = name if rel == "." else os.path.join(rel, name)
                    self.add_host_file(os.path.join(path, sub), os.path.join(host, sub))
            return
        st = os.stat(host)
        if mode is None:
            mode = stat.S_IMODE(st.st_mode)
        self.entries[guest_path(path)] = ("file", mode, (host, st.st_size, st.st_mtime_ns))

    def add_binary(self, path, host):
        self.add_host_file(path, host)
        for lib in shared_libraries(host):
            self.add_host_file(lib, lib, 0o755)

    def digest(self):
        h = hashlib.sha256(FORMAT_VERSION.encode())
        for path in sorted(self.entries):
            kind, mode, payload = self.entries[path]
            if kind == "data":
                payload = hashlib.sha256(payload).hexdigest()
            h.update(repr((path, kind, mode, payload)).encode())
        return h.hexdigest()

    def write_cpio(self, out):
        paths = set(self.entries)
        for path in list(paths):  # every parent directory gets an entry of its own
            parent = os.path.dirname(path)
            while parent and parent not in paths:
                self.entries[parent] = ("dir", 0o755, None)
                paths.add(parent)
                parent = os.path.dirname(parent)
        for ino, path in enumerate(sorted(self.entries), start=1):
            kind, mode, payload = self.entries[path]
            rdev = (0, 0)
            if kind == "dir":
                mode |= stat.S_IFDIR
                data = b""
            elif kind == "link":
                mode |= stat.S_IFLNK
                data = payload.encode()
            elif kind == "node":
                rdev = payload
                data = b""
            elif kind == "data":
                mode |= stat.S_IFREG
                data = payload
            else:
                mode |= stat.S_IFREG
                with open(payload[0], "rb") as f:
                    data = f.read()
            _cpio_entry(out, path, ino, mode, data, rdev)
        _cpio_entry(out, "TRAILER!!!", 0, 0, b"", (0, 0))


def _cpio_entry(out, name, ino, mode, data, rdev):
    name_bytes = name.encode() + b"\0"
    fields = (ino, mode, 0, 0, 2 if stat.S_ISDIR(mode) else 1, 0, len(data), 0, 0,
              rdev[0], rdev[1], len(name_bytes), 0)
    header = b"070701" + b"".join(b"%08X" % v for v in fields)
    out.write(header + name_bytes)
    out.write(b"\0" * (-(len(header) + len(name_bytes)) % 4))
    out.write(data)
    out.write(b"\0" * (-len(data) % 4))


def parse_module_spec(spec):
    """'vivid n_devs=1' -> ('vivid', 'n_devs=1'); a path to a .ko is an out-of-tree module."""
    word, _sp, args = spec.strip().partition(" ")
    return word, args.strip()


def build(kernel, modules=(), available_modules=(), binaries=(), files=None):
    """Path of a (cached) initramfs for these inputs.

    modules: specs loaded at boot in order ("name args" or "/path/x.ko args");
    available_modules: copied with their dependencies, for tests to modprobe later;
    binaries: host paths (to /usr/bin/NAME) or a {guest_path: host_path} dict;
    files: {guest_path: str | bytes | pathlib.Path | (content, mode)}.
    """
    arc = Archive()
    _add_base(arc, kernel)
    names = [n for n in BASE_MODULES if kernel.has_module(n)]
    load_lines, kos = [], []
    for spec in list(modules) + list(available_modules):
        word, _args = parse_module_spec(spec)
        if word.endswith(".ko"):
            if not os.path.isfile(word):
                raise ImageError("module file %s does not exist" % word)
            kos.append(word)
        elif kernel.is_builtin(word):
            continue  # built into the kernel: nothing to copy or load
        else:
            names.append(word)
    for spec in modules:
        word, args = parse_module_spec(spec)
        if word.endswith(".ko") or not kernel.is_builtin(word):
            load_lines.append((pvm_kernel.module_name(word) + " " + args).strip())
    _add_modules(arc, kernel, names, kos)
    arc.add_data("/etc/pvm/modules", "".join(line + "\n" for line in load_lines))

    if isinstance(binaries, dict):
        pairs = list(binaries.items())
    else:
        pairs = [("/usr/bin/" + os.path.basename(b), b) for b in binaries]
    for guest, host in pairs:
        if not os.path.isfile(host):
            raise ImageError("binary %s does not exist" % host)
        arc.add_binary(guest, os.path.abspath(host))
    for guest, content in (files or {}).items():
        mode = None
        if isinstance(content, tuple):
            content, mode = content
        if isinstance(content, pathlib.PurePath):
            if not os.path.exists(content):
                raise ImageError("file %s does not exist" % content)
            arc.add_host_file(guest, str(content), mode)
        else:
            arc.add_data(guest, content, 0o644 if mode is None else mode)

    cache = os.path.join(pvm_kernel.cache_root(), "initramfs")
    os.makedirs(cache, exist_ok=True)
    target = os.path.join(cache, arc.digest() + ".cpio")
    if os.path.exists(target):
        os.utime(target)
        return target
    fd, tmp = tempfile.mkstemp(dir=cache, suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as out:
            arc.write_cpio(out)
        os.chmod(tmp, 0o644)
        os.replace(tmp, target)
    except BaseException:
        os.unlink(tmp)
        raise
    _prune(cache)
    return target


def _add_base(arc, kernel):
    for d in MERGED_DIRS:  # set directly: guest_path() would redirect these names
        arc.entries[d] = ("link", 0o777, "usr/" + d)
    for d in ("proc", "sys", "dev", "tmp", "run", "root", "etc", "mnt", "var"):
        arc.add_dir("/" + d, 0o1777 if d == "tmp" else 0o755)
    arc.add_node("/dev/console", stat.S_IFCHR | 0o600, 5, 1)
    arc.add_node("/dev/null", stat.S_IFCHR | 0o666, 1, 3)
    applets = subprocess.run([BUSYBOX, "--list-full"], stdout=subprocess.PIPE,
                             universal_newlines=True, check=True).stdout.split()
    for applet in applets:
        arc.add_symlink("/" + applet, "/usr/bin/busybox")
    arc.add_binary("/usr/bin/busybox", BUSYBOX)  # static from busybox-static; ldd copes if not
    arc.add_symlink("/init", "/usr/bin/busybox")  # busybox init: reaps orphans, respawns
    for name, mode in (("inittab", 0o644), ("init.sh", 0o755), ("agent.sh", 0o755)):
        with open(os.path.join(GUEST_DIR, name)) as f:
            target = "/etc/inittab" if name == "inittab" else "/etc/pvm/" + name
            arc.add_data(target, f.read(), mode)
    arc.add_data("/etc/passwd", "root:x:0:0:root:/root:/bin/sh\n")
    arc.add_data("/etc/group", "root:x:0:\n")
    arc.add_data("/etc/hostname", "pvm\n")
    arc.add_data("/etc/hosts", "127.0.0.1 localhost pvm\n::1 localhost\n")
    arc.add_data("/etc/pvm/kernel", kernel.release + "\n")


def _add_modules(arc, kernel, names, kos):
    base = "/lib/modules/" + kernel.release + "/"
    closure = kernel.closure(names, kos)
    lines = []
    for rel, (host, deps) in sorted(closure.items()):
        arc.add_host_file(base + rel, host, 0o644)
        lines.append("%s:%s\n" % (rel, "".join(" " + d for d in deps)))
    arc.add_data(base + "modules.dep", "".join(lines))
    for extra in ("modules.builtin", "modules.order"):
        arc.add_host_file(base + extra, os.path.join(kernel.modules_dir, extra), 0o644)


def _prune(cache):
    images = sorted((os.path.join(cache, f) for f in os.listdir(cache) if f.endswith(".cpio")),
                    key=os.path.getmtime, reverse=True)
    for old in images[CACHE_KEEP:]:
        try:
            os.unlink(old)
        except OSError:
            pass
