"""The simulated motherboard (tests/vm/gpio_sim, module piglix_atx_sim) for
the VM tests that drive ATX power (test_atx.py, test_ipmi.py,
test_redfish.py): building the module against the VM kernel's headers,
its wiring as piglix's [atx] section names it, a VM with it loaded, and its
state read and set through the module's parameters. Stdlib only."""
import contextlib
import os
import shlex
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import pvm  # noqa: E402
from capture_common import TestFailure, log  # noqa: E402

PARAMS = "/sys/module/piglix_atx_sim/parameters"
# The [atx] lines every test shares: the board's chip and line numbers.
ATX_WIRING = """enabled = yes
chip = piglix-atx-sim
power_led_line = 0
hdd_led_line = 1
power_button_line = 2
reset_button_line = 3
intrusion_line = 4
"""


def build_module(prebuilt=None):
    """The path of piglix_atx_sim.ko: prebuilt, or built by gpio_sim/build.sh."""
    if prebuilt:
        return prebuilt
    r = subprocess.run([os.path.join(HERE, "gpio_sim", "build.sh")], capture_output=True, text=True)
    if r.returncode != 0:
        raise TestFailure("building the test module:\n%s" % r.stderr)
    return r.stdout.strip().splitlines()[-1]


@contextlib.contextmanager
def board_vm(ko, modules=(), **kwargs):
    """A booted pvm.VM with the board module (ko, optionally followed by its
    parameters) loaded first, then modules; piglix's state dir is made 0700."""
    with pvm.VM(modules=[ko] + list(modules), **kwargs) as vm:
        log("VM up in %.1f s" % vm.boot_seconds)
        vm.check("mkdir -p /var/lib/piglix && chmod 700 /var/lib/piglix")
        yield vm


def pairs(line):
    """key=value pairs of one line (values may be double-quoted)."""
    out = {}
    for word in shlex.split(line):
        key, eq, value = word.partition("=")
        if eq:
            out[key] = value
    return out


class Board:
    """The simulated motherboard's parameters."""

    def __init__(self, vm):
        self.vm = vm

    def state(self):
        return pairs(self.vm.check("cat %s/board" % PARAMS))

    def num(self, key):
        return int(self.state()[key])

    def set(self, name, value):
        self.vm.check("echo %s > %s/%s" % (value, PARAMS, name))

    def wait(self, what, pred, timeout=10):
        return self.vm.wait_for(lambda: pred(self.state()), timeout, interval=0.1, what=what)
