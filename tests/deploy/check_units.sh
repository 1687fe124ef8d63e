#!/bin/sh
# The installed tree without a package: `cmake --install` of BUILD_DIR into
# STAGE, then: every file the package ships is there, the shipped config
# passes --check-config (capturing from v4l2, its EDID file installed), the
# units' exposure scores (systemd-analyze security --offline) stay under the
# thresholds, the maintainer scripts parse, the udev rules are well formed.
# Usage: check_units.sh BUILD_DIR STAGE
set -eu
here=$(cd "$(dirname "$0")" && pwd)
build=${1:?usage: check_units.sh BUILD_DIR STAGE}
stage=${2:?usage: check_units.sh BUILD_DIR STAGE}
# Exposure thresholds in tenths (systemd-analyze's --threshold scale).
PIGLIX_MAX=20
GADGET_MAX=20
fail() { echo "FAIL: $*" >&2; exit 1; }

rm -rf "$stage"
DESTDIR="$stage" cmake --install "$build" --prefix /usr >/dev/null
for f in usr/bin/piglix etc/piglix/piglix.ini usr/share/piglix/edid/tc358743-1080p30.hex \
         lib/systemd/system/piglix.service lib/systemd/system/piglix-gadget.service \
         lib/udev/rules.d/70-piglix.rules usr/lib/modules-load.d/piglix.conf \
         usr/share/doc/piglix/INSTALL.md; do
    [ -e "$stage/$f" ] || fail "the install has no /$f"
done

ini="$stage/etc/piglix/piglix.ini"
grep -qx 'source = v4l2' "$ini" || fail "the installed config does not capture from v4l2"
out=$("$stage/usr/bin/piglix" -c "$ini" --check-config) || fail "--check-config rejects the installed config"
echo "$out" | grep -qx 'source = v4l2' || fail "--check-config does not show source = v4l2: $out"
edid=$(echo "$out" | sed -n 's/^edid = //p')
[ -n "$edid" ] && [ -f "$stage$edid" ] || fail "the configured EDID '$edid' is not installed"

for unit in piglix piglix-gadget; do
    max=$PIGLIX_MAX
    [ "$unit" = piglix-gadget ] && max=$GADGET_MAX
    report=$(systemd-analyze security --offline=yes "$stage/lib/systemd/system/$unit.service" 2>&1) || true
    score=$(echo "$report" | sed -n 's/.*Overall exposure level for .*: \([0-9.]*\).*/\1/p')
    [ -n "$score" ] || fail "no exposure score for $unit.service: $report"
    echo "deploy: $unit.service exposure $score (at most $(echo "$max" | sed 's/\(.\)$/.\1/'))"
    systemd-analyze security --offline=yes --threshold="$max" \
        "$stage/lib/systemd/system/$unit.service" >/dev/null 2>&1 ||
        fail "$unit.service exposure $score is over $max/10:
$(echo "$report" | grep '✗')"
done
grep -qx 'Type=notify' "$stage/lib/systemd/system/piglix.service" || fail "piglix.service is not Type=notify"
grep -q '^WatchdogSec=' "$stage/lib/systemd/system/piglix.service" || fail "piglix.service has no watchdog"

for script in postinst prerm postrm; do
    sh -n "$here/../../deploy/debian/$script" || fail "deploy/debian/$script does not parse"
done
python3 "$here/check_udev_rules.py" "$stage/lib/udev/rules.d/70-piglix.rules"
echo "deploy: install tree, config, units and rules OK"
