#!/bin/sh
# Makes an arm64 sysroot of Debian 12 packages for cross-building piglix:
# the -dev packages `deploy/deps.sh libs` names and everything they depend
# on, unpacked into DIR. It is also the library prefix qemu-aarch64 runs the
# arm64 test binaries with (-L DIR). Nothing is installed on this machine:
# debootstrap's first stage only downloads and unpacks, no arm64 code runs.
# Usage: deploy/cross/make-sysroot.sh DIR [MIRROR]
# DIR/.piglix-sysroot names the package list it was made from; a DIR made
# from the same list is left as it is (a cache).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
dir=${1:?usage: make-sysroot.sh DIR [MIRROR]}
mirror=${2:-http://deb.debian.org/debian}
libs="$("$here/../deps.sh" libs) libc6-dev"
stamp="bookworm arm64: $libs"
if [ -f "$dir/.piglix-sysroot" ] && [ "$(cat "$dir/.piglix-sysroot")" = "$stamp" ]; then
    exit 0
fi
rm -rf "$dir.new"
mkdir -p "$(dirname "$dir")"
echo "make-sysroot: debootstrap (first stage) of bookworm arm64 into $dir" >&2
# --no-merged-usr: the packages unpacked below land in real /lib and /usr/lib
# directories (unpacking over the /lib -> usr/lib symlink would replace it).
# shellcheck disable=SC2086
debootstrap --arch=arm64 --foreign --variant=minbase --no-merged-usr \
    --include="$(echo $libs | tr ' ' ',')" bookworm "$dir.new" "$mirror" >"$dir.new.log" 2>&1 || {
    tail -20 "$dir.new.log" >&2
    exit 1
}
# The first stage unpacks only the base; the included packages wait in the
# archive cache for a second stage that would need to run arm64 code.
for deb in "$dir.new"/var/cache/apt/archives/*.deb; do
    dpkg-deb -x "$deb" "$dir.new"
done
# Absolute symlinks (libm.so -> /lib/aarch64-linux-gnu/libm.so.6) would point
# into this machine's own root: make them relative, inside the sysroot.
find "$dir.new" -path "$dir.new/dev" -prune -o -type l -lname '/*' -print | while read -r link; do
    target=$(readlink "$link")
    ln -sfnr "$dir.new$target" "$link"
done
echo "$stamp" >"$dir.new/.piglix-sysroot"
rm -rf "$dir" "$dir.new.log"
mv "$dir.new" "$dir"
echo "make-sysroot: $dir ready" >&2
