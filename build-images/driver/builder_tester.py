#!/usr/bin/env python3
"""Builder's container-side test stage: installs each built wheel in a fresh venv and runs the project's test command.

Follows cibuildwheel's model (test-command, test-requires, {project}/{package}). Runs in a NEW container made from
the same image as the build, with no network; needs only the standard library of CPython 3.8-3.13 and pip's vendored
`packaging`. When Builder mounts its index relay (/builder/relay/index.sock, see builder_relay.py), test-requires also
come from Builder's own index.

How the Builder service runs it (the tar it uploads to /builder/ holds wheels/, this file, and project/ only when
the test command uses {project} or {package}):

    sh -c 'exec "$(ls -d /opt/python/cp3*-cp3*[0-9]/bin/python | sort -V | tail -n 1)" -u \
           /builder/builder_tester.py --wheels /builder/wheels --command "TEST COMMAND" \
           [--requires REQ]... [--project /builder/project] [--pythons cp311-cp311,cp312-cp312]

Pairs (fail fast: the first failing test ends the run with exit code 1):
  - a binary wheel tagged cp311-cp311 is tested with /opt/python/cp311-cp311;
  - a wheel tagged *-none-any (or *-abi3-*) with every interpreter of --pythons (all regular /opt/python/cp3*
    when --pythons is empty) whose version satisfies the wheel's Requires-Python (from its METADATA); an abi3
    wheel only with interpreters at least as new as its python tag.
For each pair: a fresh venv, `pip install WHEEL REQUIRES...`, then `sh -c COMMAND` with the venv first on PATH, from
an empty temporary directory (so the source tree is not importable), {project} and {package} replaced by --project.

Output: every line is prefixed with "[cp311-cp311 test]" (setup lines with "[test setup]"). The last line is always
    BUILDER-RESULT {"ok": ..., "error": ..., "pure": null, "requiresPython": null, "steps": [...]}
with one step per pair: {"name": "cp311-cp311", "kind": "test", "ok": ..., "seconds": ..., "files": [WHEEL],
"skipped": null}. The exit code is 0 only when ok is true.
"""

import argparse
import email.parser
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import zipfile

import builder_relay

RESULT_PREFIX = "BUILDER-RESULT "
TAG_RE = re.compile(r"^cp3(\d+)-cp3(\d+)$")


class TestError(Exception):
    """A step failed; the message is the BUILDER-RESULT error."""


def log(step, message=""):
    for line in str(message).splitlines() or [""]:
        sys.stdout.write("[%s] %s\n" % (step, line))
    sys.stdout.flush()


def child_env(extra_path=None, venv=None):
    env = dict(os.environ)
    for key in ("PYTHONPATH", "PYTHONHOME", "PYTHONSTARTUP", "__PYVENV_LAUNCHER__"):
        env.pop(key, None)
    env["PYTHONUNBUFFERED"] = "1"
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    env.setdefault("PIP_PROGRESS_BAR", "off")
    if extra_path:
        env["PATH"] = extra_path + os.pathsep + env.get("PATH", "/usr/local/bin:/usr/bin:/bin")
    if venv:
        env["VIRTUAL_ENV"] = venv
    return env


def run(step, cmd, what, cwd=None, env=None, echo=True):
    """Run cmd, streaming its combined output prefixed with [step]; raise TestError on failure."""
    if echo:
        log(step, "$ " + " ".join(cmd))
    try:
        proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdin=subprocess.DEVNULL,
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    except OSError as e:
        raise TestError("%s: cannot run %s: %s" % (step, cmd[0], e))
    for raw in iter(proc.stdout.readline, b""):
        sys.stdout.write("[%s] %s\n" % (step, raw.decode("utf-8", "replace").rstrip("\r\n")))
        sys.stdout.flush()
    proc.stdout.close()
    code = proc.wait()
    if code != 0:
        raise TestError("%s: %s failed (exit code %d)" % (step, what, code))


def specifier_set(text):
    try:
        from pip._vendor.packaging.specifiers import SpecifierSet
    except ImportError:
        from packaging.specifiers import SpecifierSet
    return SpecifierSet(text)


def wheel_tags(filename):
    """(python, abi, platform) tags of a wheel file name."""
    parts = filename[:-len(".whl")].split("-")
    if not filename.endswith(".whl") or len(parts) not in (5, 6):
        raise TestError("not a wheel file name: %r" % filename)
    return parts[-3], parts[-2], parts[-1]


def wheel_requires_python(path):
    with zipfile.ZipFile(path) as z:
        names = [n for n in z.namelist() if n.count("/") == 1 and n.endswith(".dist-info/METADATA")]
        if not names:
            raise TestError("%s has no .dist-info/METADATA" % os.path.basename(path))
        data = z.read(names[0]).decode("utf-8", "replace")
    value = email.parser.HeaderParser().parsestr(data).get("Requires-Python")
    return value.strip() if value and value.strip() else None


class Interpreter(object):
    def __init__(self, tag, minor, python):
        self.tag = tag
        self.minor = minor
        self.python = python
        self._version = None

    def version(self):
        if self._version is None:
            out = subprocess.check_output([self.python, "-c", "import platform; print(platform.python_version())"],
                                          env=child_env(), stdin=subprocess.DEVNULL)
            self._version = out.decode().strip()
        return self._version


def discover(root):
    found = {}
    if os.path.isdir(root):
        for name in sorted(os.listdir(root)):
            m = TAG_RE.match(name)
            python = os.path.join(root, name, "bin", "python")
            if m and m.group(1) == m.group(2) and os.access(python, os.X_OK):
                found[name] = Interpreter(name, int(m.group(1)), python)
    return found


def parse_pythons(value):
    return [x.strip() for x in (value or "").split(",") if x.strip()]


def pairs(wheels, interpreters, requested):
    """(wheel path, Interpreter) pairs in a stable order; raises TestError when a wheel has nothing to run on."""
    candidates = [interpreters[t] for t in requested if t in interpreters] if requested else list(interpreters.values())
    missing = [t for t in requested if t not in interpreters]
    if missing:
        raise TestError("requested interpreter(s) not in the image: %s" % ", ".join(missing))
    candidates.sort(key=lambda i: i.minor)
    result = []
    for path in wheels:
        name = os.path.basename(path)
        py, abi, plat = wheel_tags(name)
        if abi == "none" or abi == "abi3":
            spec_text = wheel_requires_python(path)
            spec = specifier_set(spec_text) if spec_text else None
            floor = 0
            if abi == "abi3":
                m = re.match(r"^cp3(\d+)$", py)
                floor = int(m.group(1)) if m else 0
            chosen = [i for i in candidates if i.minor >= floor
                      and (spec is None or spec.contains(i.version(), prereleases=True))]
            if not chosen:
                raise TestError("no interpreter to test %s on (Requires-Python %s; have %s)"
                                % (name, spec_text or "any", ", ".join(i.tag for i in candidates) or "none"))
        else:
            tag = "%s-%s" % (py, abi)
            if tag not in interpreters:
                raise TestError("no interpreter %s in the image to test %s" % (tag, name))
            chosen = [interpreters[tag]]
        result.extend((path, i) for i in chosen)
    return result


def venv_pip(base, venv, step):
    """A venv without ensurepip (4-5 s saved) when the base pip can install into it (pip >= 22.3: --python)."""
    try:
        out = subprocess.check_output([base, "-c", "import pip; print(pip.__version__)"], env=child_env(),
                                      stdin=subprocess.DEVNULL, stderr=subprocess.DEVNULL).decode()
        nums = tuple(int(n) for n in re.findall(r"\d+", out)[:2])
    except (OSError, subprocess.CalledProcessError, ValueError):
        nums = ()
    if nums >= (22, 3):
        run(step, [base, "-m", "venv", "--without-pip", venv], "creating the venv", env=child_env())
        return [base, "-m", "pip", "--python", os.path.join(venv, "bin", "python")]
    run(step, [base, "-m", "venv", venv], "creating the venv", env=child_env())
    return [os.path.join(venv, "bin", "python"), "-m", "pip"]


def test_one(args, wheel, interp, workdir):
    step = "%s test" % interp.tag
    log(step, "testing %s with Python %s" % (os.path.basename(wheel), interp.version()))
    venv = os.path.join(workdir, "venv-" + interp.tag)
    shutil.rmtree(venv, ignore_errors=True)
    pip = venv_pip(interp.python, venv, step)
    run(step, pip + ["install", "--no-warn-script-location", wheel] + list(args.requires),
        "pip install of the wheel and test-requires", env=child_env())
    command = args.command
    if args.project:
        command = command.replace("{project}", args.project).replace("{package}", args.project)
    # An empty working directory: the test imports the installed wheel, never a source tree next to it.
    cwd = tempfile.mkdtemp(prefix="test-cwd-", dir=workdir)
    try:
        run(step, ["sh", "-c", command], "test command", cwd=cwd,
            env=child_env(os.path.join(venv, "bin"), venv))
    finally:
        shutil.rmtree(cwd, ignore_errors=True)
    log(step, "passed")


def main(argv=None):
    parser = argparse.ArgumentParser(description="Test built wheels with cibuildwheel's test-command.")
    parser.add_argument("--wheels", required=True, help="directory with the built wheels")
    parser.add_argument("--command", required=True, help="test command, run with sh -c")
    parser.add_argument("--requires", action="append", default=[], help="a test requirement (repeatable)")
    parser.add_argument("--project", default=None, help="where the source tree is ({project}, {package})")
    parser.add_argument("--pythons", default="", help="comma-separated tags for pure wheels, e.g. cp311-cp311")
    parser.add_argument("--python-root", default=os.environ.get("BUILDER_PYTHON_ROOT", "/opt/python"))
    try:
        sys.stdout.reconfigure(errors="backslashreplace", line_buffering=True)
    except (AttributeError, ValueError):
        pass
    result = {"ok": False, "error": None, "pure": None, "requiresPython": None, "steps": []}
    started = time.monotonic()
    try:
        args = parser.parse_args(argv)
        if builder_relay.enable() is not None:
            log("test setup", "test requirements from Builder's index via the relay")
        wheels = sorted(os.path.join(args.wheels, n) for n in os.listdir(args.wheels) if n.endswith(".whl"))
        if not wheels:
            raise TestError("no wheels in %s to test" % args.wheels)
        todo = pairs(wheels, discover(args.python_root), parse_pythons(args.pythons))
        log("test setup", "testing %s" % ", ".join("%s on %s" % (os.path.basename(w), i.tag) for w, i in todo))
        workdir = tempfile.mkdtemp(prefix="builder-tester-")
        try:
            for wheel, interp in todo:
                record = {"name": interp.tag, "kind": "test", "ok": False, "seconds": 0.0,
                          "files": [os.path.basename(wheel)], "skipped": None}
                result["steps"].append(record)
                began = time.monotonic()
                try:
                    test_one(args, wheel, interp, workdir)
                    record["ok"] = True
                finally:
                    record["seconds"] = round(time.monotonic() - began, 2)
        finally:
            shutil.rmtree(workdir, ignore_errors=True)
        result["ok"] = True
        log("done", "tests passed in %.1f s" % (time.monotonic() - started))
    except TestError as e:
        result["error"] = str(e)
        log("error", str(e))
    except SystemExit as e:  # argparse usage errors
        result["error"] = "usage error (exit code %s)" % e.code
        log("error", result["error"])
    except Exception as e:  # a bug in the tester itself: still report
        import traceback
        result["error"] = "tester error: %s: %s" % (type(e).__name__, e)
        log("error", traceback.format_exc())
    sys.stdout.write(RESULT_PREFIX + json.dumps(result) + "\n")
    sys.stdout.flush()
    return 0 if result["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
