#!/bin/sh
# Runs inside the clean Debian 12 root (systemd-nspawn, not booted): the
# previous release installed with apt, its config edited as a user edits it,
# a VNC password and a web account made, then the upgrade to this build's
# package the way apt upgrades unattended (--force-confold: the user's file
# stays, the new one lands beside it). Then the upgraded daemon runs on the
# kept file as the unit runs it (the piglix user) and answers: the VNC
# port, the web UI's viewer (noVNC: the old `novnc = /usr/share/novnc`
# without Debian's novnc package), and a login with the old account.
# Usage: upgrade_root.sh OLD_DEB NEW_DEB
set -eu
old=$1
new=$2
fail() { echo "FAIL: $*" >&2; [ -f /tmp/piglix.log ] && tail -20 /tmp/piglix.log >&2; exit 1; }
export DEBIAN_FRONTEND=noninteractive
ini=/etc/piglix/piglix.ini
pass='upgr4de-Pass'
vncpass='up9rade'

apt_install() {
    apt-get install -y -q --no-install-recommends "$@" >/tmp/apt.log 2>&1 && return 0
    # a stale index (packages superseded on the mirror): refresh once
    apt-get update -q >/dev/null && apt-get install -y -q --no-install-recommends "$@" >/tmp/apt.log 2>&1 ||
        { tail -30 /tmp/apt.log >&2; fail "apt-get install $*"; }
}
apt_install "$old" curl
[ "$(dpkg-query -W -f='${Version}' piglix)" = 0.1.0 ] || fail "the old package is $(dpkg-query -W -f='${Version}' piglix)"
[ -e /usr/share/novnc/core/rfb.js ] && fail "Debian's novnc is installed: the old default would work as it is"

# The user's edits: a port, the capture size (and the test source: no
# capture chip in a container), the web UI on, on a port of their choice.
sed -i -e '/^\[vnc\]/,/^\[/s/^port = .*/port = 5999/' \
       -e '/^\[capture\]/,/^\[/s/^width = .*/width = 1280/' \
       -e '/^\[capture\]/,/^\[/s/^height = .*/height = 720/' \
       -e '/^\[capture\]/,/^\[/s/^source = .*/source = test/' \
       -e '/^\[web\]/,/^\[/s/^enabled = .*/enabled = yes/' \
       -e '/^\[web\]/,/^\[/s/^port = .*/port = 8443/' "$ini"
grep -qx 'novnc = /usr/share/novnc' "$ini" || fail "0.1.0's file has no novnc = /usr/share/novnc"
cp "$ini" /tmp/edited.ini
printf '%s\n' "$vncpass" | runuser -u piglix -- piglix -c "$ini" vnc-passwd >/dev/null || fail "0.1.0's vnc-passwd"
printf '%s\n' "$pass" | runuser -u piglix -- piglix -c "$ini" user add admin >/dev/null 2>&1 ||
    fail "0.1.0's user add"

# The upgrade, through apt (it brings the new release's new Depends).
apt_install -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold "$new"
dpkg-query -W -f='${Version}\n' piglix
cmp -s "$ini" /tmp/edited.ini || fail "the upgrade changed the user's piglix.ini"
[ -f "$ini.dpkg-dist" ] || fail "the new default piglix.ini is not beside it as .dpkg-dist"
grep -qx 'novnc =' "$ini.dpkg-dist" || fail "the new default still names a novnc folder"
[ "$(systemctl is-enabled piglix.service)" = enabled ] || fail "piglix.service not enabled after the upgrade"

# The kept file loads in the new piglix, with the user's values.
runuser -u piglix -- piglix -c "$ini" --check-config >/tmp/check.txt 2>/tmp/check.err ||
    { cat /tmp/check.err >&2; fail "the new piglix rejects the kept config"; }
[ -s /tmp/check.err ] && echo "upgrade: --check-config says: $(cat /tmp/check.err)"
for want in 'port = 5999' 'width = 1280' 'height = 720' 'port = 8443' 'novnc = /usr/share/novnc'; do
    grep -qx "$want" /tmp/check.txt || fail "the effective config lacks '$want'"
done

# The daemon as the unit starts it (ExecStart, as piglix), on the kept file.
exec_start=$(sed -n 's/^ExecStart=//p' /lib/systemd/system/piglix.service | head -1)
case "$exec_start" in /usr/bin/piglix*) ;; *) fail "ExecStart: $exec_start";; esac
runuser -u piglix -- $exec_start >/tmp/piglix.log 2>&1 &
pid=$!
i=0
until curl -ks -o /dev/null https://127.0.0.1:8443/api/setup; do
    i=$((i + 1)); [ $i -lt 100 ] || fail "the web port 8443 never answered"
    kill -0 $pid 2>/dev/null || fail "piglix exited"
    sleep 0.2
done
banner=$(timeout 5 bash -c 'exec 3<>/dev/tcp/127.0.0.1/5999; head -c 12 <&3' 2>/dev/null || true)
[ "$banner" = "RFB 003.008" ] || fail "the VNC port 5999 answered '$banner'"
code=$(curl -ks -o /tmp/rfb.js -w '%{http_code}' https://127.0.0.1:8443/novnc/core/rfb.js)
[ "$code" = 200 ] && grep -q 'class RFB' /tmp/rfb.js || fail "the viewer's noVNC: HTTP $code"
grep -q 'novnc = /usr/share/novnc.*remove the line' /tmp/piglix.log || fail "no warning about the old novnc line"
code=$(curl -ks -o /tmp/login.json -w '%{http_code}' -H 'Content-Type: application/json' \
    -d "{\"name\":\"admin\",\"password\":\"$pass\"}" https://127.0.0.1:8443/api/login)
[ "$code" = 200 ] || fail "the 0.1.0 account does not log in: HTTP $code $(cat /tmp/login.json)"
kill $pid
wait $pid 2>/dev/null || true
echo "upgrade_root: 0.1.0 -> $(dpkg-query -W -f='${Version}' piglix): the edited config kept (new default as .dpkg-dist), the daemon serves VNC on 5999 and the web UI on 8443 with noVNC, the old account logs in"
