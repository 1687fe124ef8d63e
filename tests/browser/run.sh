#!/bin/sh
# Browser tests of piglix's web UI: installs playwright-core (npm, into the
# build dir; no browser download: Debian's chromium is used), then runs
# web.test.mjs (or TEST) with node's test runner. Usage: run.sh PIGLIX BUILD_DIR [TEST]
# Exits 77 (skipped) when chromium, node or npm is missing.
set -eu
PIGLIX=$1
OUT=$2/browser
SRC=$(cd "$(dirname "$0")" && pwd)
for tool in node npm "${CHROMIUM:-/usr/bin/chromium}"; do
    command -v "$tool" >/dev/null 2>&1 || { echo "SKIP: $tool not installed (deploy/deps.sh test)"; exit 77; }
done
# piglix serves the noVNC its build installed from npm (web/vendor).
[ -r "$2/web/vendor/node_modules/@novnc/novnc/core/rfb.js" ] ||
    { echo "no noVNC in $2/web/vendor: the build installs it (PIGLIX_WEB_VENDOR)" >&2; exit 1; }
mkdir -p "$OUT"
# npm ci only when the lock file changed since the last install.
if ! cmp -s "$SRC/package-lock.json" "$OUT/package-lock.json" || [ ! -d "$OUT/node_modules/playwright-core" ]; then
    cp "$SRC/package.json" "$SRC/package-lock.json" "$OUT/"
    (cd "$OUT" && CI=true npm ci --no-audit --no-fund --loglevel=error)
fi
rm -rf "$OUT/artifacts"
export PIGLIX PIGLIX_ARTIFACTS="$OUT/artifacts" PIGLIX_NODE_MODULES="$OUT/node_modules"
export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1
exec node --test --test-reporter=spec "$SRC/${3:-web.test.mjs}"
