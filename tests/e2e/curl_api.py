"""piglix's HTTPS JSON API through curl (the real client), with basic
authentication: shared by tests/e2e/e2e_vmedia_http.py and
tests/vm/test_vmedia.py. Stdlib only."""
import json
import subprocess


def curl_api(base, user, password, method, path, *args, body=None, timeout=120):
    """(HTTP status, parsed JSON body or None, body text) of one request to
    base + path; args are extra curl arguments (e.g. "-T", file), body is
    sent as JSON. Status 0: curl got no answer."""
    cmd = ["curl", "-sS", "-k", "-u", "%s:%s" % (user, password), "-X", method, "-o", "-",
           "-w", "\n%{http_code}", base + path] + list(args)
    if body is not None:
        cmd += ["-H", "Content-Type: application/json", "-d", json.dumps(body)]
    elif method == "POST" and "-H" not in args:
        cmd += ["-H", "Content-Type: application/json"]  # every POST is JSON, even an empty one
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    text, _, code = r.stdout.rpartition("\n")
    try:
        js = json.loads(text) if text else None
    except ValueError:
        js = None
    return int(code or 0), js, text
