"""Shared by the security suite (tests/security): the e2e helpers, and the
entry point every security script uses: `SCRIPT --list` prints the case
names (CMake registers one test each), `SCRIPT PIGLIX TOOLS CASE` runs one."""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "e2e"))

from piglix_e2e import run  # noqa: E402


def main(cases):
    return run(cases)
