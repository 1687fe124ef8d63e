#!/bin/sh
# The upgrade from the previous release's package (0.1.0, commit fa32a74,
# built from this repository's history by previous_deb.sh) to this build's,
# in a fresh copy of the clean Debian 12 root deploy.package uses: install
# the old .deb with apt, edit its config as a user would, make an account,
# upgrade, and check the daemon runs on the user's kept settings
# (upgrade_root.sh). Needs root and the Debian mirror.
# Usage: upgrade_test.sh WORKDIR
# Env: PIGLIX_RELEASE_DIR, PIGLIX_SOURCE_DIR, PIGLIX_DEPLOY_CACHE as for package_test.sh
set -eu
here=$(cd "$(dirname "$0")" && pwd)
src=${PIGLIX_SOURCE_DIR:-$(cd "$here/../.." && pwd)}
work=${1:?usage: upgrade_test.sh WORKDIR}
cache=${PIGLIX_DEPLOY_CACHE:-$HOME/.cache/piglix-deploy}
mirror=${PIGLIX_DEBIAN_MIRROR:-http://deb.debian.org/debian}
fail() { echo "FAIL: $*" >&2; exit 1; }
now() { date +%s; }
t0=$(now)
[ "$(id -u)" = 0 ] || fail "needs root (systemd-nspawn)"
"$src/deploy/deps.sh" package
mkdir -p "$work" "$cache/archives/partial"

# 1. The old package (cached by commit) and this build's.
old=$("$here/previous_deb.sh" "$src" "$cache") || fail "the previous release's package"
t1=$(now)
release=${PIGLIX_RELEASE_DIR:-}
if [ -z "$release" ] || [ ! -f "$release/CPackConfig.cmake" ]; then
    release="$work/release"
    cmake -S "$src" -B "$release" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DPIGLIX_TESTS=OFF -DPIGLIX_APPLIANCE=ON >/dev/null
    cmake --build "$release" -j"$(nproc)" >/dev/null
fi
rm -rf "$work/deb" "$work/new"
cpack -G DEB --config "$release/CPackConfig.cmake" -B "$work/deb" >"$work/cpack.log" 2>&1 ||
    { cat "$work/cpack.log" >&2; fail "cpack"; }
deb=$(ls "$work"/deb/piglix_*.deb)
# The project's version is still 0.1.0: the new package gets a later one, as
# the next release will, so dpkg treats it as an upgrade.
version=$(dpkg-deb -f "$deb" Version)
if ! dpkg --compare-versions "$version" gt 0.1.0; then
    dpkg-deb -R "$deb" "$work/new"
    sed -i "s/^Version: .*/Version: $version+next/" "$work/new/DEBIAN/control"
    dpkg-deb --root-owner-group -b "$work/new" "$work/piglix-new.deb" >/dev/null
    deb="$work/piglix-new.deb"
fi
t2=$(now)

# 2. A fresh copy of the cached clean root (clean_root.sh, shared with deploy.package).
root="$work/root"
"$here/clean_root.sh" "$cache" "$mirror" "$root" || fail "making the clean root"
cp "$old" "$root/root/piglix-old.deb"
cp "$deb" "$root/root/piglix-new.deb"
cp "$here/upgrade_root.sh" "$root/root/"
# not booted: upgrade_root.sh runs the daemon itself, as the unit would
systemd-nspawn -q --register=no --keep-unit -D "$root" --setenv=DEBIAN_FRONTEND=noninteractive \
    --bind="$cache/archives:/var/cache/apt/archives" \
    /root/upgrade_root.sh /root/piglix-old.deb /root/piglix-new.deb || fail "the upgrade in the clean root"
t3=$(now)
rm -rf "$root"
echo "upgrade: timings: old package $((t1 - t0)) s, new package $((t2 - t1)) s, root and upgrade $((t3 - t2)) s"
echo "upgrade: OK"
