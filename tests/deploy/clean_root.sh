#!/bin/sh
# A clean Debian 12 root for the package tests (deploy.package,
# deploy.upgrade): debootstrap's minbase with systemd once, cached as a tar
# (under a lock: the two tests may start together), then a fresh copy per run.
# Usage: clean_root.sh CACHE_DIR MIRROR ROOT_DIR (ROOT_DIR is replaced)
set -eu
cache=$1 mirror=$2 root=$3
base="$cache/bookworm-amd64-base.tar"
(
    flock 9
    if [ ! -f "$base" ]; then
        echo "clean_root: debootstrap bookworm (cached in $base)"
        rm -rf "$cache/base.tmp"
        debootstrap --variant=minbase --include=systemd,systemd-sysv bookworm "$cache/base.tmp" "$mirror" \
            >"$cache/debootstrap.log" 2>&1 || { tail -20 "$cache/debootstrap.log" >&2; exit 1; }
        cat >"$cache/base.tmp/etc/apt/sources.list" <<SOURCES
deb $mirror bookworm main
deb $mirror bookworm-updates main
deb ${mirror%/debian}/debian-security bookworm-security main
SOURCES
        systemd-nspawn -q --register=no --keep-unit -D "$cache/base.tmp" apt-get update -q >/dev/null
        rm -f "$cache/base.tmp"/var/cache/apt/archives/*.deb
        tar -C "$cache/base.tmp" -cf "$base.new" .
        mv "$base.new" "$base"
        rm -rf "$cache/base.tmp"
    fi
) 9>"$cache/.base.lock" || { echo "clean_root: making the base root failed" >&2; exit 1; }
rm -rf "$root"
mkdir -p "$root"
tar -C "$root" -xf "$base"
