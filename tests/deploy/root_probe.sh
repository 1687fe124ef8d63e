#!/bin/sh
# Runs inside the booted container as a oneshot unit after piglix.service:
# records how piglix runs under systemd, exercises reload and the watchdog,
# then powers the container off. The host reads /var/lib/piglix-probe.
out=/var/lib/piglix-probe
mkdir -p "$out"
show() { systemctl show piglix.service -p "$1" --value; }
i=0
while [ "$(show ActiveState)" != active ] && [ $i -lt 60 ]; do sleep 0.5; i=$((i + 1)); done
# Several watchdog intervals (the test drop-in sets 4 s): still the same process.
pid=$(show MainPID)
sleep 10
{
    echo "ActiveState=$(show ActiveState)"
    echo "SubState=$(show SubState)"
    echo "NRestarts=$(show NRestarts)"
    echo "StatusText=$(show StatusText)"
    echo "SamePID=$([ "$pid" = "$(show MainPID)" ] && echo yes || echo no)"
    echo "User=$(stat -c %U /proc/"$pid")"
    grep -E '^(CapEff|CapBnd|NoNewPrivs|Seccomp):' /proc/"$pid"/status | tr -d '\t' | tr ':' '='
    echo "Groups=$(id -nG piglix | tr ' ' ',')"
    echo "Banner=$(timeout 5 bash -c 'exec 3<>/dev/tcp/127.0.0.1/5900; head -c 12 <&3' | tr -d '\n')"
    echo "Web=$(timeout 5 bash -c 'exec 3<>/dev/tcp/127.0.0.1/443 && echo open')"
    echo "WebCert=$(stat -c '%U %a' /var/lib/piglix/web-key.pem 2>&1)"
    echo "GadgetCondition=$(systemctl show piglix-gadget.service -p ConditionResult --value)"
    echo "GadgetState=$(systemctl show piglix-gadget.service -p ActiveState --value)"
    # Each mount's own ro/rw (the topmost at that path), in piglix's mount
    # namespace: /sys read-only (ProtectKernelTunables) but the UDCs' tree,
    # where the remote wakeup's srp is written (ReadWritePaths=); and in the
    # container's, where the test made /sys/devices writable.
    mount_rw() { awk -v m="$2" '$5 == m { split($6, o, ","); rw = o[1] } END { print rw }' "$1"; }
    echo "MountSys=$(mount_rw /proc/"$pid"/mountinfo /sys)"
    echo "MountSysDevices=$(mount_rw /proc/"$pid"/mountinfo /sys/devices)"
    echo "MountPlatform=$(mount_rw /proc/"$pid"/mountinfo /sys/devices/platform)"
    echo "ContainerSysDevices=$(mount_rw /proc/1/mountinfo /sys/devices)"
} >"$out/state"
systemd-analyze security piglix.service >"$out/security" 2>&1
# Reload: SIGHUP, RELOADING=1 then READY=1; the process stays.
systemctl reload piglix.service
echo "AfterReload=$(show ActiveState) SamePID=$([ "$pid" = "$(show MainPID)" ] && echo yes || echo no)" >>"$out/state"
# A wedged daemon: stopped, it sends no WATCHDOG=1; systemd must kill and restart it.
kill -STOP "$pid"
i=0
while [ "$(show NRestarts)" = 0 ] && [ $i -lt 60 ]; do sleep 0.5; i=$((i + 1)); done
i=0
while [ "$(show ActiveState)" != active ] && [ $i -lt 60 ]; do sleep 0.5; i=$((i + 1)); done
echo "AfterWedge=$(show ActiveState) NRestarts=$(show NRestarts) Result=$(show Result)" >>"$out/state"
journalctl -u piglix.service -u piglix-gadget.service --no-pager >"$out/journal" 2>&1
echo done >"$out/done"
systemctl poweroff
