#!/bin/sh
# Installs what piglix needs from Debian 12 (bookworm) packages, only what is
# missing. Usage: deploy/deps.sh [build|test]
set -eu
set -- "${1:-build}"
BUILD="build-essential cmake pkg-config libvncserver-dev libturbojpeg0-dev libinih-dev zlib1g-dev libcmocka-dev libcurl4-openssl-dev libssl-dev"
TEST="vncsnapshot openssl python3 qemu-system-x86 busybox-static cpio v4l-utils clang-14 libclang-rt-14-dev valgrind"
PKGS="$BUILD"
[ "$1" = test ] && PKGS="$BUILD $TEST"
missing=""
for p in $PKGS; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing="$missing $p"
done
if [ -n "$missing" ]; then
    echo "deps: installing$missing"
    if [ "$(id -u)" -ne 0 ]; then
        echo "deps: run as root (or install these packages):$missing" >&2
        exit 1
    fi
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -q
    apt-get install -y -q --no-install-recommends $missing
fi
