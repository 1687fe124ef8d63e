#!/usr/bin/env python3
"""The Depends: line for binaries cross-built against a sysroot made by
make-sysroot.sh, worked out the way dpkg-shlibdeps does from shlibs files:
each NEEDED soname is looked up in the shlibs control files of the packages
the sysroot was unpacked from. (dpkg-shlibdeps itself needs a dpkg database
holding those packages, which the sysroot does not have.)

usage: shlibs_depends.py SYSROOT BINARY... -> prints "libc6 (>= 2.36), ..."
"""
import glob
import os
import re
import subprocess
import sys


def needed(binary):
    out = subprocess.run(["readelf", "-d", binary], check=True, stdout=subprocess.PIPE,
                         universal_newlines=True).stdout
    return re.findall(r"\(NEEDED\)\s+Shared library: \[([^\]]+)\]", out)


def soname_key(soname):
    """libfoo.so.1 -> (libfoo, 1); libfoo-2.4.so -> (libfoo, 2.4), as shlibs files key them."""
    m = re.match(r"^(.*)\.so\.(.*)$", soname) or re.match(r"^(.*)-(\d.*)\.so$", soname)
    return (m.group(1), m.group(2)) if m else (soname, "")


def shlibs_table(sysroot):
    table = {}
    for deb in sorted(glob.glob(os.path.join(sysroot, "var/cache/apt/archives/*.deb"))):
        proc = subprocess.run(["dpkg-deb", "--info", deb, "shlibs"], stdout=subprocess.PIPE,
                              stderr=subprocess.DEVNULL, universal_newlines=True)
        if proc.returncode != 0:
            continue
        for line in proc.stdout.splitlines():
            fields = line.split(None, 2)
            if len(fields) < 3 or fields[0].endswith(":"):     # udeb: entries
                continue
            table.setdefault((fields[0], fields[1]), fields[2].strip())
    return table


def newer(a, b):
    """True when version constraint a asks for more than b (same package)."""
    va, vb = re.search(r"\(>=\s*([^)]+)\)", a), re.search(r"\(>=\s*([^)]+)\)", b)
    if not va:
        return False
    if not vb:
        return True
    return subprocess.run(["dpkg", "--compare-versions", va.group(1), "gt", vb.group(1)]).returncode == 0


def main(argv):
    if len(argv) < 3:
        print(__doc__.strip(), file=sys.stderr)
        return 2
    table = shlibs_table(argv[1])
    deps, missing = {}, []
    for binary in argv[2:]:
        for soname in needed(binary):
            dep = table.get(soname_key(soname))
            if dep is None:
                missing.append(soname)
                continue
            for alt in dep.split(","):
                alt = alt.strip()
                pkg = alt.split()[0]
                if pkg not in deps or newer(alt, deps[pkg]):
                    deps[pkg] = alt
    if missing:
        print("shlibs_depends: no shlibs entry for %s" % ", ".join(sorted(set(missing))), file=sys.stderr)
        return 1
    print(", ".join(deps[p] for p in sorted(deps)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
