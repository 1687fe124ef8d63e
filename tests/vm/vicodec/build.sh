#!/bin/sh
# Builds v4l2-mem2mem.ko and vicodec.ko for the kernel the test VM boots
# (tests/vm/pvm_kernel.py picks it) from Debian's linux-source-6.1 of the same
# version, and prints the directory holding both. Installs linux-source-6.1
# and linux-headers-RELEASE at that version with apt-get when missing (root).
# Cached by kernel and Kbuild hash under ${PIGLIX_VM_CACHE:-~/.cache/piglix-vm}/vicodec/.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
python=python3
[ -x /usr/bin/python3 ] && python=/usr/bin/python3
set -- $("$python" -c 'import sys; sys.path.insert(0, sys.argv[1]); import pvm_kernel
k = pvm_kernel.get_kernel(); print(k.release, k.version)' "$here/..")
release=$1 version=$2
cache=${PIGLIX_VM_CACHE:-$HOME/.cache/piglix-vm}/vicodec
hash=$(cat "$here/Kbuild" | sha256sum | cut -c1-16)
out="$cache/$release-$version-$hash"
if [ -f "$out/vicodec.ko" ] && [ -f "$out/v4l2-mem2mem.ko" ]; then
    echo "$out"
    exit 0
fi
# through deploy/deps.sh: one apt at a time with the rest of the suite
"$here/../../../deploy/deps.sh" pkgs "linux-headers-$release=$version" "linux-source-6.1=$version" >&2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
src=linux-source-6.1/drivers/media
tar -C "$work" -xJf /usr/src/linux-source-6.1.tar.xz --wildcards \
    "$src/test-drivers/vicodec/*.[ch]" "$src/v4l2-core/v4l2-mem2mem.c"
mkdir "$work/m"
cp "$work/$src"/test-drivers/vicodec/*.[ch] "$work/$src/v4l2-core/v4l2-mem2mem.c" "$here/Kbuild" "$work/m/"
make -s -C "/usr/src/linux-headers-$release" M="$work/m" modules >&2
mkdir -p "$out.tmp"
cp "$work/m/vicodec.ko" "$work/m/v4l2-mem2mem.ko" "$out.tmp/"
rm -rf "$out"
mv "$out.tmp" "$out"
echo "$out"
