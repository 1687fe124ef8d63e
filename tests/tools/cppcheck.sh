#!/bin/sh
# The static analyser over every module (ctest lint.cppcheck): Debian's
# cppcheck with its warning, portability and performance checks. A finding
# fails the test; one that is a false positive is suppressed where it stands
# with a "cppcheck-suppress" comment saying why.
set -eu
root=${1:-.}
cd "$root"
command -v cppcheck >/dev/null || { echo "cppcheck: not installed (deploy/deps.sh test installs it)"; exit 1; }
dirs=$(for d in */CMakeLists.txt; do d=${d%/CMakeLists.txt}; case $d in tests|deploy|build*) ;; *) echo "$d";; esac; done)
# shellcheck disable=SC2086
exec cppcheck --enable=warning,portability,performance --std=c11 --inline-suppr -I . -D_GNU_SOURCE \
    --suppress=missingIncludeSystem --error-exitcode=1 -q -j"$(nproc)" $dirs
