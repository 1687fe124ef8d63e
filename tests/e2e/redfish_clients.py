"""The real Redfish clients the tests drive piglix with: python3-sushy (the
library OpenStack Ironic uses) and redfishtool (DMTF's command-line client),
both from Debian. Shared by tests/e2e/e2e_redfish.py and
tests/vm/test_redfish.py.

sushy is a Debian package: it is importable from Debian's /usr/bin/python3,
not necessarily from another python3 on PATH, so ensure() re-runs the test
with Debian's interpreter when needed (and installs the packages with
tests/vm/deps.sh when missing and root)."""
import json
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
PACKAGES = ["python3-sushy", "redfishtool"]
DEBIAN_PYTHON = "/usr/bin/python3"


def ensure():
    """Makes `import sushy` and the redfishtool command work, or exits 1."""
    try:
        import sushy  # noqa: F401
        have = True
    except ImportError:
        have = False
    if not have or not os.path.exists("/usr/bin/redfishtool"):
        r = subprocess.run([os.path.join(HERE, "..", "vm", "deps.sh")] + PACKAGES)
        if r.returncode != 0:
            print("FAIL: the Redfish clients (%s) are missing" % " ".join(PACKAGES))
            sys.exit(1)
    try:
        import sushy  # noqa: F401,F811
    except ImportError:
        if os.path.realpath(sys.executable) != os.path.realpath(DEBIAN_PYTHON) and os.path.exists(DEBIAN_PYTHON):
            os.execv(DEBIAN_PYTHON, [DEBIAN_PYTHON] + sys.argv)
        print("FAIL: python3-sushy is installed but %s cannot import it" % sys.executable)
        sys.exit(1)
    # requests lets these variables override a session's own `verify`:
    # sushy must check piglix's certificate, not the host's CA bundle.
    for var in ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE"):
        os.environ.pop(var, None)


def sushy_client(base, user, password, cert):
    """A sushy root object (session auth, Basic as fallback) that verifies
    piglix's self-signed certificate."""
    import sushy
    return sushy.Sushy(base, username=user, password=password, verify=cert)


def sushy_basic(base, user, password, cert):
    import sushy
    from sushy import auth
    return sushy.Sushy(base, auth=auth.BasicAuth(username=user, password=password), verify=cert)


class RedfishTool:
    """redfishtool against host:port over HTTPS (it does not verify certificates)."""

    def __init__(self, hostport, user, password):
        self.base = ["redfishtool", "-r", hostport, "-u", user, "-p", password, "-S", "Always", "-T", "30"]

    def run(self, *args, auth="Basic", timeout=120):
        """(exit status, stdout, stderr)."""
        r = subprocess.run(self.base + ["-A", auth] + list(args), capture_output=True, text=True,
                           timeout=timeout)
        return r.returncode, r.stdout, r.stderr

    def json(self, *args, auth="Basic"):
        rc, out, err = self.run(*args, auth=auth)
        if rc != 0:
            raise RuntimeError("redfishtool %s: exit %d\n%s%s" % (" ".join(args), rc, out, err))
        return json.loads(out)

    def sensors(self, *args):
        """`Chassis -1 Sensors`: {name: reading text} of its table."""
        rc, out, err = self.run("Chassis", "-1", "Sensors", *args)
        if rc != 0:
            raise RuntimeError("redfishtool Chassis Sensors: exit %d\n%s%s" % (rc, out, err))
        rows = {}
        for line in out.splitlines()[1:]:
            parts = line.split()
            if len(parts) >= 3:
                rows.setdefault(parts[0], []).append((parts[1], parts[2]))
        return rows, out
