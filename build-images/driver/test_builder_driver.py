"""Unit tests of builder_driver.py's cibuildwheel features that need no build image.

Run with any CPython 3.8+: `python -m unittest discover -s build-images/driver -p 'test_*.py'`
(tests/Builder.Tests.Integration/Driver/DriverSelfTests.cs runs them with the oldest and newest Python).
auditwheel is faked by a shell script, so the repair path is exercised without the real tool; Builder's index
relay by a one-request-per-connection HTTP server on a Unix socket, which the real pip of this Python downloads from.
"""

import io
import json
import os
import shutil
import socket
import stat
import subprocess
import sys
import tempfile
import threading
import unittest
import urllib.error
import urllib.request
import zipfile
from contextlib import redirect_stdout

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import builder_driver as driver  # noqa: E402
import builder_relay as relay  # noqa: E402

FAKE_AUDITWHEEL = """#!/bin/sh
# repair -w DEST WHEEL: writes the wheel again under a manylinux tag, as auditwheel does
[ "$1" = repair ] && [ "$2" = -w ] || { echo "unexpected arguments: $*" >&2; exit 2; }
echo "repairing $4"
mkdir -p "$3" && cp "$4" "$3/$(basename "$4" | sed 's/linux_x86_64/manylinux_2_28_x86_64/')"
"""


def write_executable(path, text):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.write(text)
    os.chmod(path, os.stat(path).st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)


def make_wheel(directory, name):
    path = os.path.join(directory, name)
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("pkg/__init__.py", "")
    return path


class DriverTestCase(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="driver-test-")
        self.saved_path = os.environ.get("PATH", "")

    def tearDown(self):
        os.environ["PATH"] = self.saved_path
        driver.PROJECT_ENV = None
        shutil.rmtree(self.tmp, ignore_errors=True)

    def quietly(self, func, *args, **kwargs):
        out = io.StringIO()
        with redirect_stdout(out):
            result = func(*args, **kwargs)
        return result, out.getvalue()


class IdentifierTests(DriverTestCase):
    def test_identifiers_name_interpreter_dirs_in_order_without_duplicates(self):
        self.assertEqual(["cp311-cp311", "cp38-cp38"],
                         driver.parse_identifiers("cp311-manylinux_x86_64, cp38-manylinux_x86_64,cp311-manylinux_aarch64"))
        self.assertEqual([], driver.parse_identifiers(""))

    def test_a_non_cpython_identifier_is_an_error(self):
        with self.assertRaises(driver.BuildError) as ctx:
            driver.parse_identifiers("pp310-manylinux_x86_64")
        self.assertIn("pp310-manylinux_x86_64", str(ctx.exception))

    def make_root(self, *tags):
        root = os.path.join(self.tmp, "opt-python")
        for tag in tags:
            os.makedirs(os.path.join(root, tag, "bin"))
            os.symlink(sys.executable, os.path.join(root, tag, "bin", "python"))
        return root

    def test_identifiers_missing_from_the_image_are_skipped_steps(self):
        root = self.make_root("cp310-cp310", "cp311-cp311")
        skipped = []
        chosen, out = self.quietly(driver.discover, root, 8, [], ["cp39-cp39", "cp311-cp311"],
                                   lambda tag, why: skipped.append((tag, why)))
        self.assertEqual(["cp311-cp311"], [i.tag for i in chosen])
        self.assertEqual([("cp39-cp39", "not in this image")], skipped)
        self.assertIn("[setup] skipping cp39-cp39: not in this image", out)

    def test_identifiers_none_of_which_is_in_the_image_fail(self):
        root = self.make_root("cp310-cp310")
        with self.assertRaises(driver.BuildError) as ctx:
            self.quietly(driver.discover, root, 8, [], ["cp39-cp39"], lambda tag, why: None)
        self.assertIn("none of the requested identifiers", str(ctx.exception))


class EnvironmentTests(DriverTestCase):
    def test_assignments_are_evaluated_in_order_with_quotes_and_substitution(self):
        base = {"PATH": "/usr/bin:/bin", "KEEP": "1"}
        env, names = driver.evaluate_environment(
            'GREETING=hello WHO="$GREETING \\"big\\" world" PATH=$PATH:/opt/x NOW=$(echo sub) EMPTY=', base)
        self.assertEqual('hello "big" world', env["WHO"])
        self.assertEqual("/usr/bin:/bin:/opt/x", env["PATH"])
        self.assertEqual("sub", env["NOW"])
        self.assertEqual("", env["EMPTY"])
        self.assertEqual("1", env["KEEP"])
        self.assertEqual(["EMPTY", "GREETING", "NOW", "PATH", "WHO"], names)
        self.assertNotIn("BUILDER_ENVIRONMENT", env)

    def test_a_value_with_a_newline_survives(self):
        env, _ = driver.evaluate_environment('TWO="a\nb"', {"PATH": "/usr/bin:/bin"})
        self.assertEqual("a\nb", env["TWO"])

    def test_an_assignment_sh_cannot_evaluate_fails(self):
        with self.assertRaises(driver.BuildError) as ctx:
            driver.evaluate_environment('A="unterminated', {"PATH": "/usr/bin:/bin"})
        self.assertIn("environment: evaluating", str(ctx.exception))

    def test_child_processes_inherit_the_project_environment(self):
        d = driver.Driver(None)
        _, out = self.quietly(d.apply_environment, "BUILDER_TEST_VAR=42")
        self.assertEqual("42", driver.child_env()["BUILDER_TEST_VAR"])
        self.assertIn("[environment] set BUILDER_TEST_VAR", out)


class RepairTests(DriverTestCase):
    def test_without_auditwheel_there_is_no_repair_command(self):
        os.environ["PATH"] = os.path.join(self.tmp, "empty-bin")
        # sys.executable has no auditwheel module in the test Pythons; the empty root has no bin/auditwheel.
        self.assertIsNone(driver.find_auditwheel(os.path.join(self.tmp, "no-root"), sys.executable))

    def test_auditwheel_is_found_on_path_or_under_the_python_root(self):
        root = os.path.join(self.tmp, "opt-python")
        write_executable(os.path.join(root, "cp311-cp311", "bin", "auditwheel"), FAKE_AUDITWHEEL)
        os.environ["PATH"] = os.path.join(self.tmp, "empty-bin")
        self.assertEqual([os.path.join(root, "cp311-cp311", "bin", "auditwheel")], driver.find_auditwheel(root, sys.executable))
        write_executable(os.path.join(self.tmp, "bin", "auditwheel"), FAKE_AUDITWHEEL)
        os.environ["PATH"] = os.path.join(self.tmp, "bin")
        self.assertEqual([os.path.join(self.tmp, "bin", "auditwheel")], driver.find_auditwheel(root, sys.executable))

    def test_repair_returns_the_repaired_wheel(self):
        fake = os.path.join(self.tmp, "bin", "auditwheel")
        write_executable(fake, FAKE_AUDITWHEEL)
        wheel = make_wheel(self.tmp, "pkg-1.0-cp311-cp311-linux_x86_64.whl")
        repaired, out = self.quietly(driver.repair_wheel, "cp311-cp311 repair", [fake], wheel,
                                     os.path.join(self.tmp, "repaired"), dict(os.environ))
        self.assertEqual(os.path.join(self.tmp, "repaired", "pkg-1.0-cp311-cp311-manylinux_2_28_x86_64.whl"), repaired)
        self.assertIn("[cp311-cp311 repair] repairing ", out)

    def test_a_failing_repair_fails_the_step(self):
        fake = os.path.join(self.tmp, "bin", "auditwheel")
        write_executable(fake, "#!/bin/sh\necho 'cannot repair: too-recent versioned symbols'\nexit 1\n")
        wheel = make_wheel(self.tmp, "pkg-1.0-cp311-cp311-linux_x86_64.whl")
        with self.assertRaises(driver.BuildError) as ctx:
            self.quietly(driver.repair_wheel, "cp311-cp311 repair", [fake], wheel,
                         os.path.join(self.tmp, "repaired"), dict(os.environ))
        self.assertEqual("cp311-cp311 repair: auditwheel repair failed (exit code 1): "
                         "cannot repair: too-recent versioned symbols", str(ctx.exception))


class StaticRequiresPythonTests(DriverTestCase):
    def write(self, text):
        with open(os.path.join(self.tmp, "pyproject.toml"), "w") as f:
            f.write(text)

    def test_a_project_table_fixes_requires_python_or_its_absence(self):
        self.write('[project]\nname = "a"\nversion = "1"\nrequires-python = ">=3.9"\n')
        self.assertEqual((True, ">=3.9"), driver.static_requires_python(self.tmp))
        self.write('[project]\nname = "a"\nversion = "1"\n')
        self.assertEqual((True, None), driver.static_requires_python(self.tmp))

    def test_dynamic_or_missing_metadata_needs_the_sdist(self):
        self.write('[project]\nname = "a"\ndynamic = ["version", "requires-python"]\n')
        self.assertEqual((False, None), driver.static_requires_python(self.tmp))
        self.write('[build-system]\nrequires = ["setuptools"]\n')
        self.assertEqual((False, None), driver.static_requires_python(self.tmp))
        os.remove(os.path.join(self.tmp, "pyproject.toml"))
        self.assertEqual((False, None), driver.static_requires_python(self.tmp))


class CommandLineTests(DriverTestCase):
    def test_usage_errors_still_end_with_a_result_line(self):
        out = io.StringIO()
        with redirect_stdout(out):
            code = driver.main(["--source", self.tmp, "--out", os.path.join(self.tmp, "out"),
                                "--identifiers", "cp311-manylinux_x86_64", "--python-root", os.path.join(self.tmp, "none")])
        self.assertEqual(1, code)
        last = out.getvalue().splitlines()[-1]
        self.assertTrue(last.startswith(driver.RESULT_PREFIX))
        result = json.loads(last[len(driver.RESULT_PREFIX):])
        self.assertEqual([], result["pythons"])
        self.assertEqual([{"name": "cp311-cp311", "kind": "wheel", "ok": True, "seconds": 0.0, "files": [],
                           "skipped": "not in this image"}], result["steps"])


class FakeIndexRelay(object):
    """Builder's relay as the container sees it: HTTP/1.1 on a Unix socket, one request per connection, answering
    from a dict {path: (status, content type, body)}; records each request line and its headers."""

    def __init__(self, path, pages):
        self.pages = pages
        self.requests = []
        self.server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.server.bind(path)
        self.server.listen(8)
        threading.Thread(target=self._loop, daemon=True).start()

    def _loop(self):
        while True:
            try:
                conn, _ = self.server.accept()
            except OSError:
                return
            with conn:
                head = b""
                while b"\r\n\r\n" not in head:
                    chunk = conn.recv(4096)
                    if not chunk:
                        break
                    head += chunk
                lines = head.decode("latin-1").split("\r\n")
                self.requests.append(lines[0])
                self.requests.extend("  " + line for line in lines[1:] if line)
                method, target = lines[0].split(" ")[:2]
                status, ctype, body = self.pages.get(target, (404, "text/plain", b"not here\n"))
                conn.sendall(("HTTP/1.1 %d X\r\nContent-Type: %s\r\nContent-Length: %d\r\nConnection: close\r\n\r\n"
                              % (status, ctype, len(body))).encode() + (b"" if method == "HEAD" else body))

    def close(self):
        self.server.close()


def make_real_wheel(directory, name, version):
    """A minimal valid pure wheel (METADATA, WHEEL, RECORD), enough for pip to download and check it."""
    filename = "%s-%s-py3-none-any.whl" % (name, version)
    path = os.path.join(directory, filename)
    info = "%s-%s.dist-info" % (name, version)
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("%s/__init__.py" % name, "")
        z.writestr(info + "/METADATA", "Metadata-Version: 2.1\nName: %s\nVersion: %s\n" % (name, version))
        z.writestr(info + "/WHEEL", "Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\nTag: py3-none-any\n")
        z.writestr(info + "/RECORD", "")
    return path


class RelayTests(DriverTestCase):
    def setUp(self):
        super().setUp()
        self.socket_path = os.path.join(self.tmp, "index.sock")
        self.forwarders = []

    def tearDown(self):
        for f in self.forwarders:
            f.close()
        super().tearDown()

    def start(self, pages):
        fake = FakeIndexRelay(self.socket_path, pages)
        self.addCleanup(fake.close)
        env = {}
        forwarder = relay.enable(env, self.socket_path)
        self.assertIsNotNone(forwarder)
        self.forwarders.append(forwarder)
        return fake, forwarder, env

    def test_without_the_socket_nothing_is_started_or_set(self):
        env = {"PIP_NO_INDEX": "1"}
        self.assertIsNone(relay.enable(env, os.path.join(self.tmp, "absent.sock")))
        self.assertEqual({"PIP_NO_INDEX": "1"}, env)

    def test_the_pip_variables_name_the_forwarder_and_turn_the_index_back_on(self):
        _, forwarder, env = self.start({})
        self.assertEqual({"PIP_INDEX_URL": "http://127.0.0.1:%d/simple/" % forwarder.port, "PIP_NO_INDEX": "0"}, env)

    def test_requests_and_answers_pass_through_unchanged(self):
        fake, forwarder, _ = self.start({"/simple/": (200, "text/html", b"<a href='demo/'>demo</a>"),
                                          "/legacy/": (403, "text/plain", b"only GET and HEAD\n")})
        url = "http://127.0.0.1:%d" % forwarder.port
        with urllib.request.urlopen(url + "/simple/", timeout=10) as response:
            self.assertEqual(b"<a href='demo/'>demo</a>", response.read())
        with self.assertRaises(urllib.error.HTTPError) as ctx:
            urllib.request.urlopen(urllib.request.Request(url + "/legacy/", data=b"x", method="POST"), timeout=10)
        self.assertEqual(403, ctx.exception.code)
        self.assertEqual(b"only GET and HEAD\n", ctx.exception.read())
        self.assertIn("GET /simple/ HTTP/1.1", fake.requests)
        self.assertIn("POST /legacy/ HTTP/1.1", fake.requests)

    def test_a_relay_that_is_gone_answers_502(self):
        fake, forwarder, _ = self.start({})
        fake.close()
        os.remove(self.socket_path)
        with self.assertRaises(urllib.error.HTTPError) as ctx:
            urllib.request.urlopen("http://127.0.0.1:%d/simple/" % forwarder.port, timeout=10)
        self.assertEqual(502, ctx.exception.code)

    def test_pip_downloads_through_the_relay_although_the_image_says_no_index(self):
        wheel = make_real_wheel(self.tmp, "acme_helper", "1.0")
        with open(wheel, "rb") as f:
            data = f.read()
        name = os.path.basename(wheel)
        page = ('<a href="../../files/acme-helper/%s">%s</a>' % (name, name)).encode()
        fake, _, env = self.start({"/simple/acme-helper/": (200, "text/html", page),
                                   "/files/acme-helper/" + name: (200, "application/octet-stream", data)})
        wheelhouse = os.path.join(self.tmp, "wheelhouse")
        os.makedirs(wheelhouse)
        child = dict(os.environ, PIP_NO_INDEX="1", PIP_FIND_LINKS=wheelhouse, PIP_DISABLE_PIP_VERSION_CHECK="1")
        child.update(env)
        out = os.path.join(self.tmp, "downloaded")
        proc = subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "--no-cache-dir", "-d", out,
                               "acme-helper==1.0"], env=child, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        self.assertEqual(0, proc.returncode, proc.stdout.decode())
        self.assertEqual([name], os.listdir(out))
        self.assertIn("GET /simple/acme-helper/ HTTP/1.1", fake.requests)


if __name__ == "__main__":
    unittest.main()
