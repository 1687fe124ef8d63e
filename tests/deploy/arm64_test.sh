#!/bin/sh
# arm64: cross-builds piglix (deploy/cross/build-arm64.sh: Debian's
# gcc-aarch64-linux-gnu, a sysroot of Debian's arm64 packages, the unit
# tests under qemu-aarch64, the arm64 .deb), then checks the package: arm64,
# an AArch64 binary, Depends computed from the sysroot's shlibs; runs the
# packaged binary under qemu on the packaged config (--check-config) and as a
# daemon speaking sd_notify and RFB (notify_daemon.py).
# Usage: arm64_test.sh WORKDIR
set -eu
here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/../.." && pwd)
work=${1:?usage: arm64_test.sh WORKDIR}
cache=${PIGLIX_DEPLOY_CACHE:-$HOME/.cache/piglix-deploy}
fail() { echo "FAIL: $*" >&2; exit 1; }
t0=$(date +%s)
mkdir -p "$work"
"$src/deploy/cross/build-arm64.sh" "$work/build" >"$work/deb.txt" || fail "the arm64 build or its unit tests"
deb=$(tail -1 "$work/deb.txt")
t1=$(date +%s)
[ -f "$deb" ] || fail "no arm64 package ($deb)"
[ "$(dpkg-deb -f "$deb" Architecture)" = arm64 ] || fail "$deb is for $(dpkg-deb -f "$deb" Architecture)"
depends=$(dpkg-deb -f "$deb" Depends)
echo "arm64: $(basename "$deb") Depends: $depends"
for pkg in adduser libc6 libvncserver1 libturbojpeg0 libinih1; do
    echo "$depends" | tr ',' '\n' | grep -q "^ *$pkg\( \|$\)" || fail "Depends lacks $pkg"
done
rm -rf "$work/unpacked"
dpkg-deb -x "$deb" "$work/unpacked"
bin="$work/unpacked/usr/bin/piglix"
readelf -h "$bin" | grep -q "Machine:.*AArch64" || fail "the packaged piglix is not AArch64"
[ "$(dpkg-deb -I "$deb" conffiles)" = /etc/piglix/piglix.ini ] || fail "conffiles: $(dpkg-deb -I "$deb" conffiles)"
qemu=$(command -v qemu-aarch64-static || command -v qemu-aarch64)
emu="$qemu -L $cache/sysroot-arm64"
$emu "$bin" -c "$work/unpacked/etc/piglix/piglix.ini" --check-config >"$work/check.txt" ||
    fail "the arm64 piglix rejects its packaged config"
grep -qx 'source = v4l2' "$work/check.txt" || fail "the packaged config does not capture from v4l2"
# Emulated, a loop turn can take longer: a 2 s watchdog interval.
python3 "$here/notify_daemon.py" --piglix "$bin" --emulator "$emu" --watchdog-ms 2000 ||
    fail "the arm64 daemon under qemu"
echo "arm64: OK (build, unit tests and package $((t1 - t0)) s, checks $(($(date +%s) - t1)) s)"
