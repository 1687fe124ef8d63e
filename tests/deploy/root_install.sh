#!/bin/sh
# Runs inside the clean Debian 12 root (systemd-nspawn, not booted): installs
# the package the way a user does (apt resolves its Depends from the mirror)
# and checks what it set up. Usage: root_install.sh DEB UPGRADE_DEB
set -eu
deb=$1
upgrade=$2
fail() { echo "FAIL: $*" >&2; exit 1; }
export DEBIAN_FRONTEND=noninteractive

if ! apt-get install -y -q --no-install-recommends "$deb" >/tmp/apt.log 2>&1; then
    # a stale index (packages superseded on the mirror): refresh once
    apt-get update -q >/dev/null && apt-get install -y -q --no-install-recommends "$deb" >/tmp/apt.log 2>&1 ||
        { tail -30 /tmp/apt.log >&2; fail "apt-get install $deb"; }
fi
grep -A3 "^piglix: set a VNC password" /tmp/apt.log >/dev/null || fail "postinst did not tell how to set the VNC password"
dpkg-query -W -f='${Status}' piglix | grep -q "install ok installed" || fail "piglix is not installed"

# The system user, its groups and its private state directory.
entry=$(getent passwd piglix) || fail "no piglix user"
uid=$(echo "$entry" | cut -d: -f3)
[ "$uid" -lt 1000 ] || fail "piglix is not a system user (uid $uid)"
echo "$entry" | grep -q ':/var/lib/piglix:/usr/sbin/nologin$' || fail "piglix's home/shell: $entry"
for g in piglix video gpio; do
    id -nG piglix | tr ' ' '\n' | grep -qx "$g" || fail "piglix is not in group $g ($(id -nG piglix))"
done
[ "$(stat -c '%U %a' /var/lib/piglix)" = "piglix 700" ] || fail "/var/lib/piglix: $(stat -c '%U %a' /var/lib/piglix)"

# The conffile, the units (enabled by default) and what they need.
dpkg-query -W -f='${Conffiles}\n' piglix | grep -q '^ /etc/piglix/piglix.ini ' || fail "piglix.ini is not a conffile"
out=$(systemd-analyze verify piglix.service piglix-gadget.service 2>&1) || fail "systemd-analyze verify: $out"
if echo "$out" | grep -qi piglix; then fail "systemd-analyze verify complains: $out"; fi
[ "$(systemctl is-enabled piglix.service)" = enabled ] || fail "piglix.service is not enabled"
[ "$(systemctl is-enabled piglix-gadget.service)" = enabled ] || fail "piglix-gadget.service is not enabled"
runuser -u piglix -- piglix -c /etc/piglix/piglix.ini --check-config >/tmp/check.txt ||
    fail "piglix --check-config rejects the shipped config"
grep -qx 'source = v4l2' /tmp/check.txt || fail "the shipped config does not capture from v4l2"

# First run as INSTALL.md says: the password, set as the piglix user.
printf 'dep1oy7\n' | runuser -u piglix -- piglix vnc-passwd || fail "piglix vnc-passwd as piglix"
[ "$(stat -c '%U %a' /var/lib/piglix/vnc.passwd)" = "piglix 600" ] || fail "vnc.passwd: $(stat -c '%U %a' /var/lib/piglix/vnc.passwd)"

# An upgrade whose packaged config changed, over an administrator's edit:
# the edit stays, the new file lands beside it (what apt does unattended).
echo "; edited by the administrator" >>/etc/piglix/piglix.ini
dpkg -i --force-confdef --force-confold "$upgrade" >/tmp/upgrade.log 2>&1 || { cat /tmp/upgrade.log >&2; fail "the upgrade"; }
grep -qx '; edited by the administrator' /etc/piglix/piglix.ini || fail "the upgrade overwrote the changed piglix.ini"
[ -f /etc/piglix/piglix.ini.dpkg-dist ] || fail "the upgrade's new piglix.ini is not kept as .dpkg-dist"
rm /etc/piglix/piglix.ini.dpkg-dist
[ "$(systemctl is-enabled piglix.service)" = enabled ] || fail "piglix.service not enabled after the upgrade"
[ -f /var/lib/piglix/vnc.passwd ] || fail "the upgrade lost the VNC password"
echo "root_install: installed, user, groups, conffile, units verified, upgrade kept the edited config"
