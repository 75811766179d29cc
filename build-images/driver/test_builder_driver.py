"""Unit tests of builder_driver.py's cibuildwheel features that need no build image.

Run with any CPython 3.8+: `python -m unittest discover -s build-images/driver -p 'test_*.py'`
(tests/Builder.Tests.Integration/Driver/DriverSelfTests.cs runs them with the oldest and newest Python).
auditwheel is faked by a shell script, so the repair path is exercised without the real tool.
"""

import io
import json
import os
import shutil
import stat
import sys
import tempfile
import unittest
import zipfile
from contextlib import redirect_stdout

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import builder_driver as driver  # noqa: E402

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


if __name__ == "__main__":
    unittest.main()
