#!/bin/sh
# Builds piglix and runs it on its built-in test source (no hardware needed).
# Usage: deploy/demo.sh [scenario]   (bios | desktop | motion; default bios)
#        deploy/demo.sh --vm [us|de]  the whole appliance in a VM, managing a
#                                     simulated server (keyboard layout; default us)
set -eu
cd "$(dirname "$0")/.."
if [ "${1:-}" = "--vm" ]; then
    # Debian's kernel under qemu with vivid, the USB gadget and an ATX board
    # module, and tests/vm/simserver as the server: power it on, type into
    # its setup screen, boot it from an ISO, all from a browser.
    deploy/deps.sh build
    tests/vm/deps.sh xorriso v4l-utils curl
    cmake -S . -B build-vm -DCMAKE_BUILD_TYPE=RelWithDebInfo -DPIGLIX_TESTS=ON -DPIGLIX_APPLIANCE=ON >/dev/null
    cmake --build build-vm -j"$(nproc)" --target piglix simserver rfbprobe
    exec python3 tests/vm/test_e2e_vm.py demo --piglix build-vm/app/piglix --layout "${2:-us}" \
        --simserver build-vm/tests/tools/simserver/simserver --rfbprobe build-vm/tests/rfbprobe \
        --web-port "${PIGLIX_WEB_PORT:-8443}" --vnc-port "${PIGLIX_VNC_PORT:-5900}"
fi
deploy/deps.sh build
# (noVNC for the web UI: the build installs it from npm, pinned: web/vendor)
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo -DPIGLIX_TESTS=OFF -DPIGLIX_APPLIANCE=ON >/dev/null
cmake --build build -j"$(nproc)"
STATE="${PIGLIX_STATE_DIR:-$PWD/build/demo-state}"
PORT="${PIGLIX_VNC_PORT:-5900}"
WEB_PORT="${PIGLIX_WEB_PORT:-8443}"
mkdir -p "$STATE"
chmod 700 "$STATE"
if [ ! -f "$STATE/vnc.passwd" ]; then
    # No default password, ever: make a random one for this demo and show it once.
    PW=$(od -An -N4 -tx1 /dev/urandom | tr -d ' \n')
    printf '%s\n' "$PW" | build/app/piglix -o state.dir="$STATE" vnc-passwd
    echo "demo: a random VNC password was generated for you: $PW"
    printf '%s\n' "demo: (change it with: echo NEWPASS | build/app/piglix -o state.dir=$STATE vnc-passwd)"
fi
echo "demo: connect a viewer to $(hostname -f 2>/dev/null || hostname):$PORT, e.g."
echo "demo:   vncviewer localhost::$PORT     or     vncsnapshot -passwd $STATE/vnc.passwd localhost::$PORT shot.jpg"
echo "demo: or open https://$(hostname -f 2>/dev/null || hostname):$WEB_PORT/ in a browser (self-signed"
echo "demo: certificate); the first visit asks for the one-time set-up token piglix logs below."
echo "demo: Media uploads images to the store (no USB gadget here: mounting needs the VM demo, --vm)."
exec build/app/piglix -c deploy/piglix.ini -o state.dir="$STATE" -o vnc.port="$PORT" \
     -o capture.scenario="${1:-bios}" -o web.enabled=yes -o web.port="$WEB_PORT" -o web.root="$PWD/web/ui" \
     -o vmedia.enabled=yes -o vmedia.dir="$STATE/images"
