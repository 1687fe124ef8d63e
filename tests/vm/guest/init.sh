#!/bin/sh
# pvm guest setup, run once by busybox init before the agent starts.
# Anything that fails is appended to /run/pvm-init-errors; the host refuses to
# start a VM whose setup failed, so a test never runs against half a guest.
export PATH=/usr/sbin:/usr/bin:/sbin:/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mkdir -p /dev/pts /dev/shm
mount -t devpts devpts /dev/pts
mount -t tmpfs -o mode=1777 tmpfs /dev/shm
mount -t tmpfs -o mode=1777 tmpfs /tmp
mount -t tmpfs -o mode=755 tmpfs /run
errors=/run/pvm-init-errors
: >"$errors"

fail() { echo "$*" >>"$errors"; echo "pvm-init: $*" >/dev/console; }
load() { out=$(modprobe "$@" 2>&1) || fail "modprobe $*: $out"; }

load configfs && { mount -t configfs configfs /sys/kernel/config || fail "mount configfs"; }
hostname -F /etc/hostname
ip link set lo up
load e1000
if ip link set eth0 up; then
    ip addr add 10.0.2.15/24 dev eth0
    ip route add default via 10.0.2.2
else
    fail "no eth0"
fi
echo "nameserver 10.0.2.3" >/etc/resolv.conf
# the agent's virtio-serial port and the entropy device; virtio_pci first (no udev here)
load virtio_pci
load virtio_console
modprobe virtio_rng 2>/dev/null

while read -r spec; do
    # a spec is a module name followed by its parameters: split it on purpose
    # shellcheck disable=SC2086
    [ -n "$spec" ] && load $spec
done </etc/pvm/modules
echo "pvm-init: done in $(cut -d' ' -f1 /proc/uptime)s" >/dev/console
