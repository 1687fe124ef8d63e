#!/bin/sh
# The VM harness selftest without pytest: installs host dependencies, fetches the kernel
# on first use, boots it, and exits non-zero if any check fails.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
"$here/deps.sh" v4l-utils
python=python3
[ -x /usr/bin/python3 ] && python=/usr/bin/python3
exec "$python" "$here/pvm.py" selftest
