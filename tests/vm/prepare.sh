#!/bin/sh
# What the VM tests need from apt beyond `deploy/deps.sh test`, fetched once
# before the tests start (tests/run.sh): the kernel the VM boots, and the
# linux-headers and linux-source of its exact version (the out-of-tree test
# modules: gpio_sim, vicodec). Tests running in parallel then never queue on
# apt. Each build script still installs what is missing when run alone.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
python=python3
[ -x /usr/bin/python3 ] && python=/usr/bin/python3
# shellcheck disable=SC2046
set -- $("$python" -c 'import sys; sys.path.insert(0, sys.argv[1]); import pvm_kernel
k = pvm_kernel.get_kernel(); print(k.release, k.version)' "$here")
exec "$here/../../deploy/deps.sh" pkgs "linux-headers-$1=$2" "linux-source-6.1=$2"
