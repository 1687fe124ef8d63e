#!/bin/sh
# piglix on a plain Debian desktop: a build with only the core libraries
# (every optional feature off, as when libusbgx, libgpiod and libcurl are
# missing) compiles, serves its test source over VNC, and says what it lacks
# when asked for it. Usage: minimal_build.sh SOURCE_DIR BUILD_DIR
set -eu
src=$1
build=$2
cmake -S "$src" -B "$build" -DCMAKE_BUILD_TYPE=Release -DPIGLIX_TESTS=OFF -DPIGLIX_WERROR=ON \
    -DPIGLIX_WITH_USBGX=OFF -DPIGLIX_WITH_GPIOD=OFF -DPIGLIX_WITH_CURL=OFF -DPIGLIX_WEB_VENDOR=OFF >"$build.cmake.log" 2>&1 ||
    { cat "$build.cmake.log"; exit 1; }
grep -q "USB gadget.*: OFF" "$build.cmake.log" || { echo "the configure step did not turn the gadget off"; exit 1; }
cmake --build "$build" -j"$(nproc)" --target piglix >"$build.build.log" 2>&1 || { tail -50 "$build.build.log"; exit 1; }
piglix=$build/app/piglix
# No libusbgx, libgpiod or libcurl linked in.
if ldd "$piglix" | grep -E "libusbgx|libgpiod|libcurl"; then
    echo "the minimal build links an optional library"
    exit 1
fi
# It says why it cannot make the gadget.
out=$("$piglix" -o state.dir="$build/state" -o hid.enabled=yes gadget up 2>&1) && { echo "gadget up succeeded without libusbgx"; exit 1; }
echo "$out" | grep -q "without USB gadget support" || { echo "gadget up said: $out"; exit 1; }
# It serves the test source.
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"$piglix" -o capture.source=test -o vnc.auth=none -o vnc.listen=127.0.0.1 -o vnc.port="$port" \
    -o state.dir="$build/state" >"$build/piglix.log" 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null || true' EXIT
python3 - "$port" <<'PY'
import socket, sys, time
port = int(sys.argv[1])
deadline = time.time() + 20
while time.time() < deadline:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=2) as s:
            s.settimeout(5)
            if s.recv(12) == b"RFB 003.008\n":
                s.sendall(b"RFB 003.008\n")
                n = s.recv(1)[0]
                types = s.recv(n)
                assert 1 in types, types
                s.sendall(b"\x01")
                assert s.recv(4) == b"\0\0\0\0"
                s.sendall(b"\x01")
                init = s.recv(4)
                w, h = int.from_bytes(init[:2], "big"), int.from_bytes(init[2:], "big")
                assert (w, h) == (1920, 1080) or w > 0, init
                print("minimal build: ServerInit %dx%d" % (w, h))
                sys.exit(0)
    except OSError:
        pass
    time.sleep(0.3)
sys.exit("the minimal build never served VNC")
PY
kill $pid
wait $pid || true
echo "minimal build: ok"
