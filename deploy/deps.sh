#!/bin/sh
# Installs what piglix needs from Debian 12 (bookworm) packages, only what is
# missing. Usage: deploy/deps.sh [build|test|package|arm64|arm64-vm|libs|pkgs NAME[=VERSION]...]
#   build    compile piglix
#   test     everything the test suite runs (tests/run.sh installs it once,
#            before any test starts): build + test tools + package + arm64-vm
#   package  build + making and checking the Debian package (tests/deploy)
#   arm64    the arm64 cross build's host tools: gcc-aarch64-linux-gnu,
#            debootstrap (it makes the arm64 sysroot, deploy/cross), and
#            qemu-user-static to run the arm64 unit tests. The arm64
#            libraries are not installed through multiarch: several -dev
#            packages (libgcrypt20-dev under libvncserver-dev,
#            libwebsockets-dev) cannot be installed for two architectures
#            at once, and apt would remove the amd64 ones.
#   arm64-vm arm64 + qemu-system-arm (the arm64 VM smoke test)
#   libs     print the -dev packages piglix links (for the arm64 sysroot)
#   pkgs     the named packages (at that version when given): what a test
#            needs beyond `test` (the VM kernel's headers and source)
# Every apt run of the suite goes through here, so they take one lock.
set -eu
[ $# -gt 0 ] || set -- build
# The libraries (-dev) piglix links; the arm64 sysroot (deploy/cross) holds them too.
LIBS="libvncserver-dev libturbojpeg0-dev libinih-dev zlib1g-dev libcmocka-dev libcurl4-openssl-dev libssl-dev libwebsockets-dev libcjson-dev libcrypt-dev libgpiod-dev libusbgx-dev libconfig-dev libx264-dev libopenh264-dev"
BUILD="build-essential cmake pkg-config $LIBS"
TEST="cppcheck vncsnapshot openssl ustreamer python3 qemu-system-x86 busybox-static cpio v4l-utils clang-14 libclang-rt-14-dev valgrind gpiod iproute2 curl prometheus ipmitool freeipmi-tools ser2net python3-sushy redfishtool xorriso python3-av python3-numpy python3-pil libavcodec-dev libswscale-dev dmsetup strace"
# The web UI's browser tests: Debian's Chromium (driven by playwright-core
# from npm, which the tests install themselves).
WEBTEST="chromium"
PACKAGE="dpkg-dev debootstrap systemd systemd-container"
case "$1" in
    build|package)
        PKGS="$BUILD"
        [ "$1" = package ] && PKGS="$PKGS $PACKAGE"
        # npm brings noVNC and xterm.js at build time (web/vendor). node
        # from elsewhere (e.g. NodeSource) brings its own npm; Debian's npm
        # would conflict with it.
        command -v node >/dev/null 2>&1 || PKGS="$PKGS nodejs"
        command -v npm >/dev/null 2>&1 || PKGS="$PKGS npm"
        ;;
    test|arm64|arm64-vm)
        PKGS="cmake pkg-config gcc-aarch64-linux-gnu debootstrap python3"
        # arm64-vm: also boots Debian's arm64 kernel (tests/deploy/arm64_vm.py)
        [ "$1" = arm64 ] || PKGS="$PKGS qemu-system-arm"
        # Any qemu-aarch64 runs the tests; qemu-user-static only when none is there.
        command -v qemu-aarch64-static >/dev/null 2>&1 || command -v qemu-aarch64 >/dev/null 2>&1 ||
            PKGS="$PKGS qemu-user-static"
        # test: the deploy tests' packaging and arm64 tools too, so no test
        # installs anything while others run
        if [ "$1" = test ]; then
            PKGS="$PKGS $BUILD $TEST $WEBTEST $PACKAGE"
            command -v node >/dev/null 2>&1 || PKGS="$PKGS nodejs"
            command -v npm >/dev/null 2>&1 || PKGS="$PKGS npm"
        fi
        ;;
    pkgs) shift; PKGS="$*" ;;
    libs) echo "$LIBS"; exit 0 ;;
    *) echo "usage: deploy/deps.sh [build|test|package|arm64|arm64-vm|libs|pkgs NAME[=VERSION]...]" >&2; exit 2 ;;
esac
# NAME or NAME=VERSION not installed (at that version): added to $missing
find_missing() {
    missing=""
    for p in $PKGS; do
        have=$(dpkg-query -W -f='${Status} ${Version}' "${p%%=*}" 2>/dev/null || true)
        case "$p" in
            *=*) [ "$have" = "install ok installed ${p#*=}" ] || missing="$missing $p" ;;
            *) case "$have" in "install ok installed "*) ;; *) missing="$missing $p" ;; esac ;;
        esac
    done
}
find_missing
[ -z "$missing" ] && exit 0
echo "deps: installing$missing"
if [ "$(id -u)" -ne 0 ]; then
    echo "deps: run as root (or install these packages):$missing" >&2
    exit 1
fi
export DEBIAN_FRONTEND=noninteractive
# Other installs may be running (parallel tests each install what they
# need): one deps.sh at a time, since `apt-get update` takes the lists lock,
# which DPkg::Lock::Timeout does not cover; dpkg's lock is waited for too,
# for an apt run by something else.
exec 9>/var/lock/piglix-deps.lock
flock -w 1200 9 || { echo "deps: another install held the lock for 20 minutes" >&2; exit 1; }
# whoever held the lock may have installed them meanwhile
find_missing
[ -z "$missing" ] && exit 0
APT="apt-get -q -o DPkg::Lock::Timeout=600"
# Someone else's `apt-get update` may hold the lists lock: retry a while.
tries=0
until $APT update; do
    tries=$((tries + 1))
    [ "$tries" -lt 120 ] || exit 1
    sleep 5
done
# word splitting of the package list is intended
# shellcheck disable=SC2086
$APT install -y --no-install-recommends $missing
