#!/bin/sh
# Host packages the VM harness needs on Debian 12, installed non-interactively (root).
# Extra packages a test wants inside the guest (v4l-utils, ustreamer, ...) can be named
# as arguments. apt-get update runs only when something is missing.
set -eu
need=""
have_pkg() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed"; }
command -v qemu-system-x86_64 >/dev/null 2>&1 || need="$need qemu-system-x86"
have_pkg busybox-static || need="$need busybox-static"
command -v python3 >/dev/null 2>&1 || need="$need python3"
command -v ldd >/dev/null 2>&1 || need="$need libc-bin"
for pkg in "$@"; do
    have_pkg "$pkg" || need="$need $pkg"
done
[ -z "$need" ] && exit 0
if [ "$(id -u)" != 0 ]; then
    echo "deps.sh: missing packages:$need (run as root to install them)" >&2
    exit 1
fi
export DEBIAN_FRONTEND=noninteractive
echo "deps.sh: installing$need" >&2
apt-get update -q
# word splitting of the package list is intended
# shellcheck disable=SC2086
apt-get install -y -q --no-install-recommends $need
