#!/bin/sh
# The Debian package in a clean Debian 12 root: makes the .deb from a
# release build, installs it with apt into a fresh copy of a debootstrap'd
# bookworm root (root_install.sh: user, groups, conffile, units verified,
# --check-config, an upgrade over an edited config), then boots the root with
# systemd in a container (systemd-nspawn, private network) and checks that
# piglix.service runs as it would on the Pi (root_probe.sh): Type=notify
# reached, running as piglix without capabilities beyond binding ports,
# seccomp on, /sys read-only for it but the USB controllers' tree (remote
# wakeup), the VNC port answering, the watchdog fed and, when the daemon
# is frozen, firing. Needs root and the Debian mirror.
# Usage: package_test.sh WORKDIR
# Env: PIGLIX_RELEASE_DIR  a built release tree to package (else built here)
#      PIGLIX_SOURCE_DIR   the source tree (default: this script's)
#      PIGLIX_DEPLOY_CACHE cache of the base root and downloaded packages
#                          (default ~/.cache/piglix-deploy)
set -eu
here=$(cd "$(dirname "$0")" && pwd)
src=${PIGLIX_SOURCE_DIR:-$(cd "$here/../.." && pwd)}
work=${1:?usage: package_test.sh WORKDIR}
cache=${PIGLIX_DEPLOY_CACHE:-$HOME/.cache/piglix-deploy}
mirror=${PIGLIX_DEBIAN_MIRROR:-http://deb.debian.org/debian}
fail() { echo "FAIL: $*" >&2; exit 1; }
now() { date +%s; }
t0=$(now)
[ "$(id -u)" = 0 ] || fail "needs root (debootstrap, systemd-nspawn)"
"$src/deploy/deps.sh" package
mkdir -p "$work" "$cache/archives/partial"

# 1. The package, from the release build (tests/run.sh makes one).
release=${PIGLIX_RELEASE_DIR:-}
if [ -z "$release" ] || [ ! -f "$release/CPackConfig.cmake" ]; then
    release="$work/release"
    cmake -S "$src" -B "$release" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DPIGLIX_TESTS=OFF -DPIGLIX_APPLIANCE=ON >/dev/null
    cmake --build "$release" -j"$(nproc)" >/dev/null
fi
rm -rf "$work/deb"
cpack -G DEB --config "$release/CPackConfig.cmake" -B "$work/deb" >"$work/cpack.log" 2>&1 ||
    { cat "$work/cpack.log" >&2; fail "cpack"; }
deb=$(ls "$work"/deb/piglix_*.deb)
echo "package: $(basename "$deb") Depends: $(dpkg-deb -f "$deb" Depends)"
# The browser code the build brought from npm ships with it (web/vendor).
for f in usr/share/piglix/novnc/core/rfb.js usr/share/piglix/novnc/core/decoders/h264.js \
         usr/share/piglix/novnc/LICENSE.txt usr/share/piglix/xterm/xterm/lib/xterm.js \
         usr/share/piglix/xterm/addon-fit/lib/addon-fit.js; do
    dpkg-deb -c "$deb" | grep -q " ./$f\$" || fail "the package lacks /$f"
done
# The same package one version on, with a changed piglix.ini: the upgrade.
rm -rf "$work/up"
dpkg-deb -R "$deb" "$work/up"
version=$(dpkg-deb -f "$deb" Version)
sed -i "s/^Version: .*/Version: $version+up1/" "$work/up/DEBIAN/control"
echo "; a comment the next release added" >>"$work/up/etc/piglix/piglix.ini"
(cd "$work/up" && find . -path ./DEBIAN -prune -o -type f -print | sed 's|^\./||' | sort |
    xargs md5sum >DEBIAN/md5sums)
dpkg-deb --root-owner-group -b "$work/up" "$work/piglix-upgrade.deb" >/dev/null
t1=$(now)

# 2. A clean bookworm root: debootstrap once, then a fresh copy per run.
root="$work/root"
"$here/clean_root.sh" "$cache" "$mirror" "$root" || fail "making the clean root"
t2=$(now)

nspawn() {
    systemd-nspawn -q --register=no --keep-unit -D "$root" --setenv=DEBIAN_FRONTEND=noninteractive \
        --bind="$cache/archives:/var/cache/apt/archives" "$@"
}
# (nspawn mounts a fresh /tmp: the packages go to /root)
cp "$deb" "$root/root/piglix.deb"
cp "$work/piglix-upgrade.deb" "$root/root/piglix-upgrade.deb"
cp "$here/root_install.sh" "$here/root_probe.sh" "$root/root/"
nspawn /root/root_install.sh /root/piglix.deb /root/piglix-upgrade.deb || fail "the install in the clean root"
t3=$(now)

# 3. Boot it. The test's drop-in shortens the watchdog so freezing the daemon
# shows within seconds; everything else is as installed.
mkdir -p "$root/etc/systemd/system/piglix.service.d" "$root/etc/systemd/system/multi-user.target.wants"
# The web server too: port 443 as the unprivileged user is what
# CAP_NET_BIND_SERVICE is kept for; its certificate goes to the state dir.
cat >"$root/etc/systemd/system/piglix.service.d/deploy-test.conf" <<'DROPIN'
[Service]
ExecStart=
ExecStart=/usr/bin/piglix -c /etc/piglix/piglix.ini -o web.enabled=yes
WatchdogSec=4s
TimeoutAbortSec=2s
RestartSec=1s
DROPIN
# nspawn mounts the container's sysfs read-only, where the Pi's /sys is
# writable for root: this unit makes /sys/devices a writable mount before
# piglix starts (the sysfs superblock stays read-only: nothing in the
# container can write the host's sysfs), so the probe sees what
# piglix.service's namespace makes of a writable /sys.
cat >"$root/etc/systemd/system/piglix-test-sysfs.service" <<'SYSFS'
[Unit]
DefaultDependencies=no
Before=piglix.service piglix-gadget.service
[Service]
Type=oneshot
RemainAfterExit=yes
ExecStart=/usr/bin/mount -o remount,bind,rw /sys/devices
[Install]
WantedBy=multi-user.target
SYSFS
ln -sf /etc/systemd/system/piglix-test-sysfs.service "$root/etc/systemd/system/multi-user.target.wants/"
cat >"$root/etc/systemd/system/piglix-probe.service" <<'PROBE'
[Unit]
After=piglix.service
[Service]
Type=oneshot
ExecStart=/root/root_probe.sh
[Install]
WantedBy=multi-user.target
PROBE
ln -sf /etc/systemd/system/piglix-probe.service "$root/etc/systemd/system/multi-user.target.wants/"
rm -rf "$root/var/lib/piglix-probe"
timeout 180 systemd-nspawn -q --register=no --keep-unit -D "$root" --private-network --boot \
    >"$work/boot.log" 2>&1 </dev/null || true
t4=$(now)
probe="$root/var/lib/piglix-probe"
[ -f "$probe/done" ] || { tail -40 "$work/boot.log" >&2; fail "the probe did not finish in the booted root"; }
cat "$probe/state"
get() { sed -n "s/^$1=//p" "$probe/state" | head -1; }
[ "$(get ActiveState)" = active ] || fail "piglix.service is $(get ActiveState): $(tail -20 "$probe/journal")"
[ "$(get NRestarts)" = 0 ] || fail "piglix.service restarted $(get NRestarts) times before the wedge test"
[ "$(get SamePID)" = yes ] || fail "piglix's process changed within 10 s (watchdog?)"
[ "$(get StatusText)" = serving ] || fail "no STATUS=serving from the daemon"
[ "$(get User)" = piglix ] || fail "piglix runs as $(get User)"
[ "$(get NoNewPrivs)" = 1 ] || fail "NoNewPrivs is not set"
[ "$(get Seccomp)" = 2 ] || fail "no seccomp filter"
# CAP_NET_BIND_SERVICE is bit 10: 0x400, the only capability left.
[ "$(get CapBnd)" = 0000000000000400 ] || fail "capability bounding set $(get CapBnd), not CAP_NET_BIND_SERVICE only"
[ "$(get Banner)" = "RFB 003.008" ] || fail "port 5900 answered '$(get Banner)'"
[ "$(get Web)" = open ] || fail "the web server's port 443 is not open: $(tail -20 "$probe/journal")"
[ "$(get WebCert)" = "piglix 600" ] || fail "the web key in the state dir: '$(get WebCert)'"
[ "$(get GadgetCondition)" = no ] || fail "piglix-gadget.service ran without a UDC"
# Remote wakeup (the UDC's srp, under /sys/devices/platform) despite
# ProtectKernelTunables, which still keeps the rest of /sys read-only.
[ "$(get ContainerSysDevices)" = rw ] || fail "the test could not make /sys/devices writable in the container"
[ "$(get MountPlatform)" = rw ] ||
    fail "/sys/devices/platform in piglix's namespace: '$(get MountPlatform)', not a writable mount"
[ "$(get MountSys)" = ro ] && [ "$(get MountSysDevices)" = ro ] ||
    fail "/sys ('$(get MountSys)') and /sys/devices ('$(get MountSysDevices)') in piglix's namespace are not read-only"
grep -q '^AfterReload=active SamePID=yes' "$probe/state" || fail "reload: $(grep AfterReload "$probe/state")"
grep -q '^AfterWedge=active NRestarts=1' "$probe/state" || fail "the frozen daemon was not restarted once: $(grep AfterWedge "$probe/state")"
grep -qi 'watchdog timeout' "$probe/journal" || fail "no watchdog timeout in the journal: $(tail -20 "$probe/journal")"
score=$(sed -n 's/.*Overall exposure level for piglix.service: \([0-9.]*\).*/\1/p' "$probe/security")
echo "package: systemd-analyze security piglix.service (booted): $score"
echo "package: timings: package $((t1 - t0)) s, root $((t2 - t1)) s, install $((t3 - t2)) s, boot test $((t4 - t3)) s"
echo "package: OK"
