#!/bin/sh
# [reliability] item 7: installs racing each other and a foreign apt. Two
# deploy/deps.sh and one tests/vm/deps.sh install the same missing package
# while an `apt-get update` that is none of ours holds apt's lists lock (the
# lock DPkg::Lock::Timeout does not cover). All must succeed. Uses Debian's
# tiny `sl` package and removes it again; needs root and the mirror, so it
# is skipped elsewhere, and when sl was installed by someone else.
set -eu
src=$(cd "$(dirname "$0")/../.." && pwd)
pkg=sl
[ "$(id -u)" = 0 ] || { echo "SKIP: needs root (it installs and removes $pkg)"; exit 77; }
if dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "ok installed"; then
    echo "SKIP: $pkg is installed already; this test would remove it"
    exit 77
fi
apt-cache show "$pkg" >/dev/null 2>&1 || { echo "SKIP: no $pkg in the apt index"; exit 77; }
work=$(mktemp -d); echo "logs: $work"
cleanup() {
    flock -w 600 /var/lock/piglix-deps.lock \
        env DEBIAN_FRONTEND=noninteractive apt-get -q -y -o DPkg::Lock::Timeout=300 purge "$pkg" >/dev/null 2>&1 || true
    [ -n "${KEEP:-}" ] || rm -rf "$work"
}
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
# the foreign apt: an update holding the lists lock, started first
apt-get -q update >"$work/foreign.log" 2>&1 &
foreign=$!
sleep 0.3
"$src/deploy/deps.sh" pkgs "$pkg" >"$work/a.log" 2>&1 &
a=$!
"$src/deploy/deps.sh" pkgs "$pkg" >"$work/b.log" 2>&1 &
b=$!
"$src/tests/vm/deps.sh" "$pkg" >"$work/c.log" 2>&1 &
c=$!
rc=0
for job in a:$a b:$b c:$c; do
    if ! wait "${job#*:}"; then
        echo "--- ${job%%:*} (exit non-zero):"
        tail -15 "$work/${job%%:*}.log"
        rc=1
    fi
done
wait "$foreign" || echo "note: the foreign apt-get update failed (it has no retry); ours must not"
[ "$rc" = 0 ] || fail "an install racing the others failed on apt's locks"
dpkg-query -W -f='${Status}' "$pkg" | grep -q "ok installed" || fail "$pkg not installed after the race"
grep -h "^deps: installing" "$work"/[abc].log | sort | uniq -c
echo "PASS: three racing installs and a foreign apt-get update all succeeded"
