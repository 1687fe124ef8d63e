#!/bin/sh
# The previous release's .deb (0.1.0, commit fa32a74), built from this
# repository's own history: `git archive` of that commit, a release build of
# only the piglix target, cpack. Cached by commit (a release never changes),
# so only the first run pays for the build.
# Usage: previous_deb.sh SOURCE_DIR CACHE_DIR  (prints the .deb's path)
set -eu
src=$1
cache=$2
commit=fa32a748e8894f8339823a0f75b793aa8d62bc75
fail() { echo "FAIL: $*" >&2; exit 1; }
out="$cache/previous-$commit"
if ls "$out"/deb/piglix_*.deb >/dev/null 2>&1; then
    ls "$out"/deb/piglix_*.deb
    exit 0
fi
git -C "$src" cat-file -e "$commit^{commit}" 2>/dev/null ||
    fail "the previous release's commit $commit is not in $src's history (a shallow clone? git fetch --unshallow)"
rm -rf "$out.tmp"
mkdir -p "$out.tmp/src"
git -C "$src" archive "$commit" | tar -C "$out.tmp/src" -x || fail "git archive $commit"
cmake -S "$out.tmp/src" -B "$out.tmp/build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DPIGLIX_TESTS=OFF \
    -DPIGLIX_APPLIANCE=ON >"$out.tmp/cmake.log" 2>&1 || { tail -20 "$out.tmp/cmake.log" >&2; fail "cmake of $commit"; }
cmake --build "$out.tmp/build" -j"$(nproc)" --target piglix >"$out.tmp/build.log" 2>&1 ||
    { tail -20 "$out.tmp/build.log" >&2; fail "the build of $commit"; }
cpack -G DEB --config "$out.tmp/build/CPackConfig.cmake" -B "$out.tmp/deb" >"$out.tmp/cpack.log" 2>&1 ||
    { tail -20 "$out.tmp/cpack.log" >&2; fail "cpack of $commit"; }
mkdir -p "$out"
rm -rf "$out/deb"
mv "$out.tmp/deb" "$out/deb"
rm -rf "$out.tmp"
ls "$out"/deb/piglix_*.deb
