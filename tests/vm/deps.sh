#!/bin/sh
# Host packages the VM harness needs on Debian 12, installed non-interactively (root).
# Extra packages a test wants (v4l-utils, ustreamer, ...) can be named as
# arguments. tests/run.sh installs all of them before any test starts; this
# covers a test run on its own. The install goes through deploy/deps.sh, so
# it shares that script's lock with every other apt run of the suite.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
need=""
command -v qemu-system-x86_64 >/dev/null 2>&1 || need="$need qemu-system-x86"
command -v python3 >/dev/null 2>&1 || need="$need python3"
command -v ldd >/dev/null 2>&1 || need="$need libc-bin"
# shellcheck disable=SC2086
exec "$here/../../deploy/deps.sh" pkgs busybox-static $need "$@"
