#!/bin/sh
# Builds piglix_atx_sim.ko for the kernel the test VM boots (tests/vm/pvm_kernel.py
# picks it) and prints the module's path. Installs the matching
# linux-headers-RELEASE package (same version as the VM's image package) with
# apt-get when missing (root). Cached by kernel and source hash under
# ${PIGLIX_VM_CACHE:-~/.cache/piglix-vm}/gpio_sim/.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
python=python3
[ -x /usr/bin/python3 ] && python=/usr/bin/python3
# release and package version of the VM's kernel (downloads it on first use)
set -- $("$python" -c 'import sys; sys.path.insert(0, sys.argv[1]); import pvm_kernel
k = pvm_kernel.get_kernel(); print(k.release, k.version)' "$here/..")
release=$1 version=$2
cache=${PIGLIX_VM_CACHE:-$HOME/.cache/piglix-vm}/gpio_sim
hash=$(cat "$here/piglix_atx_sim.c" "$here/Kbuild" | sha256sum | cut -c1-16)
out="$cache/$release-$hash/piglix_atx_sim.ko"
if [ -f "$out" ]; then
    echo "$out"
    exit 0
fi
headers="linux-headers-$release"
kdir="/usr/src/$headers"
# through deploy/deps.sh: one apt at a time with the rest of the suite
"$here/../../../deploy/deps.sh" pkgs "$headers=$version" >&2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp "$here/piglix_atx_sim.c" "$here/Kbuild" "$work/"
make -s -C "$kdir" M="$work" modules >&2
mkdir -p "$(dirname "$out")"
cp "$work/piglix_atx_sim.ko" "$out.tmp"
mv "$out.tmp" "$out"
echo "$out"
