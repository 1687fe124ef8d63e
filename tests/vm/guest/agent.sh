#!/bin/sh
# pvm guest agent on the virtio-serial port named org.piglix.agent.
# Request: one line "ID BASE64_SCRIPT TIMEOUT_SECONDS".
# Reply:   "\n@@PVM ID STATUS LENGTH\n" then LENGTH bytes of the script's stdout+stderr.
# Output goes through a fresh file per request, so a background process that kept the
# old one open cannot scribble into later replies.
export PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root
cd /
work=/run/pvm
mkdir -p "$work"
port=
while [ -z "$port" ]; do
    for f in /sys/class/virtio-ports/*/name; do
        [ "$(cat "$f" 2>/dev/null)" = org.piglix.agent ] && port=/dev/$(basename "$(dirname "$f")")
    done
    if [ -z "$port" ] || [ ! -c "$port" ]; then
        port=
        sleep 0.2
    fi
done
while true; do
    # reads hit end-of-file while no host is connected: reopen and retry
    exec 3<>"$port" || { sleep 0.5; continue; }
    while read -r id script tmo <&3; do
        [ -n "$id" ] || continue
        rm -f "$work/out" "$work/cmd"
        if printf '%s' "$script" | base64 -d >"$work/cmd" 2>"$work/out"; then
            timeout -s KILL "${tmo:-60}" sh "$work/cmd" </dev/null >"$work/out" 2>&1
            rc=$?
        else
            rc=254  # the request line was damaged
        fi
        len=$(wc -c <"$work/out")
        { printf '\n@@PVM %s %s %s\n' "$id" "$rc" "$len"; cat "$work/out"; } >&3
    done
    exec 3<&-
    sleep 0.2
done
