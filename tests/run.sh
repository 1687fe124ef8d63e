#!/bin/sh
# Installs what is missing, builds, and runs every piglix test: unit tests,
# fuzzers, end-to-end tests with real VNC clients, and the real-kernel VM
# tests. Ends with ctest's summary. Usage: tests/run.sh [ctest args...]
set -eu
cd "$(dirname "$0")/.."
# Everything any test installs, once, before the tests start: parallel
# tests then never wait on (or fail at) apt's locks.
deploy/deps.sh test
tests/vm/prepare.sh
JOBS=$(nproc)
# The release build (gcc, warnings as errors) is what the VM tests run.
cmake -S . -B build-release -DCMAKE_BUILD_TYPE=RelWithDebInfo -DPIGLIX_WERROR=ON -DPIGLIX_TESTS=OFF \
    -DPIGLIX_APPLIANCE=ON >/dev/null
cmake --build build-release -j"$JOBS"
# The test build: clang, ASan+UBSan, thread-ownership assertions, libFuzzer
# targets, every test. Both are appliance builds: every optional feature on.
CC=clang-14 cmake -S . -B build-test -DCMAKE_BUILD_TYPE=Debug -DPIGLIX_SANITIZE=ON -DPIGLIX_FUZZ=ON \
    -DPIGLIX_WERROR=ON -DPIGLIX_APPLIANCE=ON -DPIGLIX_FUZZ_SECONDS=5 -DPIGLIX_RELEASE_DIR="$PWD/build-release" >/dev/null
cmake --build build-test -j"$JOBS"
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
# Tests run one per core (two on CI's machine): most wait on sockets,
# processes or the network; the VM tests (qemu TCG) and the arm64 build hold
# the "vm" lock, so at most one of those runs, and go first (COST) so the
# rest fill the other slots.
# Fuzzers run PIGLIX_FUZZ_SECONDS each (5 here).
exec ctest --test-dir build-test --output-on-failure --timeout 900 -j"$JOBS" "$@"
