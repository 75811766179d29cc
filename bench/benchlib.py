"""What the Python benches share: running commands, a free port, HTTP with the admin token, a project tree, the
signed GitHub push webhook, and waiting for a server to answer."""

import hashlib
import hmac
import json
import os
import socket
import subprocess
import textwrap
import time
import urllib.request

TOKEN = "bench-admin-token-0123456789"


def sh(*cmd, cwd=None, env=None):
    return subprocess.run(cmd, cwd=cwd, env=env, check=True, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True).stdout


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def http(method, url, body=None, headers=None):
    """A request with the admin token (Builder is private by default; webhooks are decided by their signature alone)."""
    data = json.dumps(body).encode() if isinstance(body, dict) else body
    req = urllib.request.Request(url, data=data, method=method, headers=dict(headers or {}, Authorization="Bearer " + TOKEN))
    with urllib.request.urlopen(req, timeout=60) as resp:
        return resp.status, resp.read()


def write_tree(root, files, version):
    for rel, text in files.items():
        path = os.path.join(root, rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        # Only {version} is a placeholder; C braces stay as they are.
        with open(path, "w") as f:
            f.write(textwrap.dedent(text).lstrip("\n").replace("{version}", version))


def push_webhook(base, secret, repository, ref, sha, deleted=False, delivery=None):
    """Sends the signed GitHub push webhook of a tag push (or deletion); returns the answer's JSON (or {})."""
    body = json.dumps({"ref": ref, "before": "0" * 40, "after": "0" * 40 if deleted else sha, "deleted": deleted,
                       "repository": {"full_name": repository}}).encode()
    signature = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    _, answer = http("POST", base + "/webhooks/github", body, {
        "Content-Type": "application/json", "X-GitHub-Event": "push", "X-Hub-Signature-256": signature,
        "X-GitHub-Delivery": delivery or "bench-%s-%s" % (ref, time.monotonic())})
    return json.loads(answer) if answer else {}


def wait_until_up(base, seconds=60):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            http("GET", base + "/simple/")
            return
        except OSError:
            time.sleep(0.2)
    raise SystemExit("%s did not answer within %d s" % (base, seconds))
