#!/usr/bin/env python3
"""Builder's container-side build step: sdist + wheels of one source tree, for every interpreter.

Runs inside a manylinux-style build image (interpreters at /opt/python/<tag>/bin/python). Needs only
the standard library of CPython 3.8-3.13 plus pip's vendored modules (tomli, packaging); it calls the
project's PEP 517 backend hooks itself, because pypa/build is not available offline.

How the Builder service runs it (the tar it uploads to /builder/ holds src/ and this file):

    sh -c 'exec "$(ls -d /opt/python/cp3*-cp3*[0-9]/bin/python | sort -V | tail -n 1)" -u \
           /builder/builder_driver.py --source /builder/src --out /builder/out [--sdist] \
           [--identifiers cp310-manylinux_x86_64,cp311-manylinux_x86_64] [--before-build CMD] \
           [--environment 'A=1 B="$A two"'] [--pythons cp38-cp38,cp311-cp311] [--python-min 3.8]'

The glob skips free-threaded (cp313-cp313t) and old "m" ABI dirs, and `sort -V` puts cp310 after
cp39, so the newest regular CPython runs the driver. Any Python 3.8+ that has pip works too: the
driver's own interpreter only parses pyproject.toml and PKG-INFO; every hook runs in a child process.

Steps (fail fast: the first failing step ends the run with exit code 1):
  1. sdist with the newest interpreter (into --out with --sdist, else into a temp dir: it is still
     needed for its PKG-INFO); Requires-Python is read from that PKG-INFO.
  2. the interpreters are narrowed by Requires-Python (the skipped ones are logged and reported).
  3. a wheel with the newest selected interpreter; if it is tagged *-none-any the project is pure and
     that single wheel is the result; otherwise one wheel per remaining selected interpreter.
--environment (cibuildwheel's assignment syntax) is evaluated once by sh and applies to every later step;
--before-build runs before each wheel build; wheels with a platform tag go through `auditwheel repair`
when the image has auditwheel (see build-images/README.md).
Each interpreter gets a fresh venv (build isolation); build-system.requires and the backend's
get_requires_for_build_* are pip-installed into it (pip uses the container's configuration: the
offline wheelhouse in local images, the package index in production). When Builder mounts its index
relay (/builder/relay/index.sock, see builder_relay.py), every pip also uses Builder's own index, so a
private package can build-depend on another one.

Output: every line is prefixed with its step ("[sdist] ...", "[cp311-cp311 wheel] ..."); child
output is streamed line by line. The last line is always
    BUILDER-RESULT {"ok": ..., "error": ..., "pure": ..., "requiresPython": ..., "steps": [...]}
and the exit code is 0 only when ok is true.
"""

import argparse
import email.parser
import json
import os
import re
import shutil
import threading
from concurrent.futures import ThreadPoolExecutor
import subprocess
import sys
import tarfile
import tempfile
import time
import zipfile

import builder_relay

RESULT_PREFIX = "BUILDER-RESULT "
DEFAULT_REQUIRES = ["setuptools>=40.8.0", "wheel"]
DEFAULT_BACKEND = "setuptools.build_meta:__legacy__"
TAG_RE = re.compile(r"^cp3(\d+)-cp3(\d+)$")

# Runs inside the isolated venv: imports the backend, calls one hook, writes {"return_val": ...}.
# Kept compatible with Python 3.8 and free of third-party imports (like pyproject_hooks' _in_process).
HOOK_RUNNER = r'''
import importlib, json, os, sys, traceback

OPTIONAL = {"get_requires_for_build_sdist": [], "get_requires_for_build_wheel": []}


def load_backend(spec):
    backend_path = [os.path.abspath(p) for p in spec.get("backend_path") or []]
    sys.path[:0] = backend_path
    mod_name, _, obj_path = spec["backend"].partition(":")
    obj = importlib.import_module(mod_name.strip())
    if backend_path:
        mod_file = os.path.abspath(getattr(obj, "__file__", "") or "")
        if not any(mod_file.startswith(p + os.sep) for p in backend_path):
            raise SystemExit("backend %r was not loaded from backend-path %r (got %s)"
                             % (spec["backend"], spec["backend_path"], mod_file))
    for part in filter(None, obj_path.strip().split(".")):
        obj = getattr(obj, part)
    return obj


def main():
    hook_name, spec_file, result_file = sys.argv[1:4]
    with open(spec_file) as f:
        spec = json.load(f)
    backend = load_backend(spec)
    hook = getattr(backend, hook_name, None)
    if hook is None:
        if hook_name not in OPTIONAL:
            raise SystemExit("build backend %r has no hook %s" % (spec["backend"], hook_name))
        result = OPTIONAL[hook_name]
    else:
        result = hook(**spec["kwargs"])
    with open(result_file, "w") as f:
        json.dump({"return_val": result}, f)


if __name__ == "__main__":
    main()
'''


class BuildError(Exception):
    """A step failed; the message is the BUILDER-RESULT error."""


# ----------------------------------------------------------------------------------------------------
# logging


# Wheels may build in threads (--jobs): whole lines only, never two writers inside one line.
_OUTPUT = threading.Lock()


def emit(step, line):
    with _OUTPUT:
        sys.stdout.write("[%s] %s\n" % (step, line))
        sys.stdout.flush()


def log(step, message=""):
    for line in str(message).splitlines() or [""]:
        emit(step, line)


def run(step, cmd, cwd=None, env=None, what=None, echo=True):
    """Run cmd, streaming its combined output prefixed with [step]; raise BuildError on failure."""
    if echo:
        log(step, "$ " + " ".join(cmd))
    try:
        proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdin=subprocess.DEVNULL,
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    except OSError as e:
        raise BuildError("%s: cannot run %s: %s" % (step, cmd[0], e))
    last = ""
    for raw in iter(proc.stdout.readline, b""):
        line = raw.decode("utf-8", "replace").rstrip("\r\n")
        emit(step, line)
        if line.strip():
            last = line.strip()
    proc.stdout.close()
    code = proc.wait()
    if code != 0:
        if what is None:
            what = " ".join([os.path.basename(cmd[0])] + [c for c in cmd[1:4] if c.startswith("-") or "/" not in c])
        detail = (": " + (last if len(last) <= 300 else last[:297] + "...")) if last else ""
        raise BuildError("%s: %s failed (exit code %d)%s" % (step, what, code, detail))


# The project's evaluated `environment` (see evaluate_environment); None until the driver applied it.
PROJECT_ENV = None


def child_env():
    env = dict(os.environ) if PROJECT_ENV is None else dict(PROJECT_ENV)
    for key in ("PYTHONPATH", "PYTHONHOME", "PYTHONSTARTUP", "PYTHONNOUSERSITE", "__PYVENV_LAUNCHER__"):
        env.pop(key, None)
    env["PYTHONUNBUFFERED"] = "1"
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    env.setdefault("PIP_PROGRESS_BAR", "off")
    return env


# ----------------------------------------------------------------------------------------------------
# the project's cibuildwheel settings: environment, before-build, repair

# Variables the evaluating shell itself sets; they are not the project's assignments.
SHELL_VARIABLES = frozenset(["_", "PWD", "OLDPWD", "SHLVL"])


def evaluate_environment(assignments, base):
    """Apply cibuildwheel's `environment` string (`A=1 B="$A two" C=$(cmd)`) on top of `base`.

    cibuildwheel evaluates it with bash-like rules, assignment by assignment in order, so a value can use
    variables set before it. Here the image's own sh does exactly that: `set -a` exports every assignment,
    `eval` runs them in order, and `env -0` prints the result NUL-separated (values may hold newlines).
    Returns (environment, names of the variables the string set or changed, in sorted order)."""
    env = dict(base)
    env["BUILDER_ENVIRONMENT"] = assignments
    script = 'set -a; eval "$BUILDER_ENVIRONMENT"; unset BUILDER_ENVIRONMENT; exec env -0'
    proc = subprocess.Popen(["sh", "-c", script], env=env, stdin=subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    out, err = proc.communicate()
    if proc.returncode != 0:
        raise BuildError("environment: evaluating %r failed (exit code %d): %s"
                         % (assignments, proc.returncode, err.decode("utf-8", "replace").strip()))
    result = {}
    for item in out.split(b"\0"):
        name, sep, value = item.decode("utf-8", "surrogateescape").partition("=")
        if sep and name not in SHELL_VARIABLES:
            result[name] = value
    for name in SHELL_VARIABLES:
        if name in base:
            result[name] = base[name]
    changed = sorted(k for k, v in result.items() if base.get(k) != v)
    return result, changed


def find_auditwheel(python_root, driver_python):
    """The command that runs auditwheel in this image, or None. manylinux images put it on PATH
    (/usr/local/bin/auditwheel); some images only have it inside one interpreter."""
    found = shutil.which("auditwheel")
    if found:
        return [found]
    if os.path.isdir(python_root):
        for name in sorted(os.listdir(python_root)):
            candidate = os.path.join(python_root, name, "bin", "auditwheel")
            if os.access(candidate, os.X_OK):
                return [candidate]
    try:
        subprocess.check_call([driver_python, "-m", "auditwheel", "--version"], env=child_env(),
                              stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        return [driver_python, "-m", "auditwheel"]
    except (OSError, subprocess.CalledProcessError):
        return None


def repair_wheel(step, auditwheel, wheel, dest_dir, env):
    """`auditwheel repair -w DEST WHEEL` (what cibuildwheel's default repair-wheel-command runs on Linux);
    returns the repaired wheel's path, which replaces the linux_<arch> one."""
    os.makedirs(dest_dir, exist_ok=True)
    before = set(os.listdir(dest_dir))
    run(step, auditwheel + ["repair", "-w", dest_dir, wheel], env=env, what="auditwheel repair")
    new = sorted(n for n in os.listdir(dest_dir) if n.endswith(".whl") and n not in before)
    if len(new) != 1:
        raise BuildError("%s: auditwheel repair left %d wheels in %s, expected one (%s)"
                         % (step, len(new), dest_dir, ", ".join(new) or "none"))
    wheel_tags(new[0])
    log(step, "repaired %s -> %s" % (os.path.basename(wheel), new[0]))
    return os.path.join(dest_dir, new[0])


# ----------------------------------------------------------------------------------------------------
# pyproject.toml / metadata helpers (pip's vendored copies when the stdlib has none)


def toml_loads(text):
    try:
        import tomllib  # 3.11+
    except ImportError:
        try:
            from pip._vendor import tomli as tomllib
        except ImportError:
            import tomli as tomllib
    return tomllib.loads(text)


def specifier_set(text):
    try:
        from pip._vendor.packaging.specifiers import SpecifierSet
    except ImportError:
        from packaging.specifiers import SpecifierSet
    return SpecifierSet(text)


def load_build_system(source):
    path = os.path.join(source, "pyproject.toml")
    table = None
    if os.path.exists(path):
        with open(path, encoding="utf-8") as f:
            try:
                table = toml_loads(f.read()).get("build-system")
            except Exception as e:
                raise BuildError("pyproject.toml is not valid TOML: %s" % e)
    if table is None:
        return {"requires": list(DEFAULT_REQUIRES), "backend": DEFAULT_BACKEND, "backend_path": None,
                "origin": "default (no [build-system] in pyproject.toml)"}
    if not isinstance(table, dict):
        raise BuildError("pyproject.toml: [build-system] must be a table")
    if "requires" not in table:
        raise BuildError("pyproject.toml: [build-system] has no 'requires' key")
    requires = table["requires"]
    if not isinstance(requires, list) or not all(isinstance(r, str) for r in requires):
        raise BuildError("pyproject.toml: build-system.requires must be a list of strings")
    backend = table.get("build-backend") or DEFAULT_BACKEND
    if not isinstance(backend, str):
        raise BuildError("pyproject.toml: build-system.build-backend must be a string")
    backend_path = table.get("backend-path")
    if backend_path is not None:
        if not isinstance(backend_path, list) or not all(isinstance(p, str) for p in backend_path):
            raise BuildError("pyproject.toml: build-system.backend-path must be a list of strings")
        root = os.path.realpath(source)
        for p in backend_path:
            full = os.path.realpath(os.path.join(source, p))
            if full != root and not full.startswith(root + os.sep):
                raise BuildError("pyproject.toml: backend-path %r is outside the source tree" % p)
    return {"requires": requires, "backend": backend, "backend_path": backend_path,
            "origin": "pyproject.toml"}


def static_requires_python(source):
    """(True, value) when pyproject.toml's [project] table fixes Requires-Python (PEP 621: a key absent and not
    listed in `dynamic` means none), so no sdist is needed to learn it; (False, None) otherwise."""
    path = os.path.join(source, "pyproject.toml")
    if not os.path.exists(path):
        return False, None
    with open(path, encoding="utf-8") as f:
        try:
            project = toml_loads(f.read()).get("project")
        except Exception:
            return False, None
    if not isinstance(project, dict) or "requires-python" in (project.get("dynamic") or []):
        return False, None
    value = project.get("requires-python")
    return (True, value) if value is None or isinstance(value, str) else (False, None)


def sdist_requires_python(sdist):
    with tarfile.open(sdist) as tar:
        members = [m for m in tar.getmembers() if m.isfile() and m.name.count("/") == 1
                   and m.name.endswith("/PKG-INFO")]
        if not members:
            raise BuildError("sdist %s has no top-level PKG-INFO" % os.path.basename(sdist))
        data = tar.extractfile(members[0]).read().decode("utf-8", "replace")
    value = email.parser.HeaderParser().parsestr(data).get("Requires-Python")
    return value.strip() if value and value.strip() else None


def wheel_tags(filename):
    """(python, abi, platform) tags of a wheel file name."""
    parts = filename[:-len(".whl")].split("-")
    if not filename.endswith(".whl") or len(parts) not in (5, 6):
        raise BuildError("backend returned an invalid wheel file name: %r" % filename)
    return parts[-3], parts[-2], parts[-1]


# ----------------------------------------------------------------------------------------------------
# interpreters


class Interpreter(object):
    def __init__(self, tag, minor, python):
        self.tag = tag
        self.minor = minor
        self.python = python
        self._version = None

    def version(self):
        if self._version is None:
            out = subprocess.check_output(
                [self.python, "-c", "import platform; print(platform.python_version())"],
                env=child_env(), stdin=subprocess.DEVNULL)
            self._version = out.decode().strip()
        return self._version


def discover(root, python_min, only, wanted=None, skip=None):
    """The interpreters to build with. `only` (--pythons) must all exist; `wanted` (--identifiers) may name
    interpreters this image lacks: those are reported through skip(tag, reason) instead."""
    found = {}
    skipped = []
    if os.path.isdir(root):
        for name in sorted(os.listdir(root)):
            m = TAG_RE.match(name)
            if not m or m.group(1) != m.group(2):
                skipped.append(name)  # cp313-cp313t (free-threaded), cp37-cp37m, pp310-pypy..., graalpy...
                continue
            python = os.path.join(root, name, "bin", "python")
            if not os.access(python, os.X_OK):
                skipped.append(name + " (no bin/python)")
                continue
            found[name] = Interpreter(name, int(m.group(1)), python)
    if skipped:
        log("setup", "ignoring %s: not a regular CPython 3 interpreter dir" % ", ".join(skipped))
    if only:
        missing = [t for t in only if t not in found]
        if missing:
            raise BuildError("requested interpreter(s) not in %s: %s (available: %s)"
                             % (root, ", ".join(missing), ", ".join(sorted(found, key=lambda t: found[t].minor)) or "none"))
        chosen = [found[t] for t in only]
    elif wanted:
        for tag in wanted:
            if tag not in found:
                log("setup", "skipping %s: not in this image" % tag)
                skip(tag, "not in this image")
        chosen = [found[t] for t in wanted if t in found]
        if not chosen:
            raise BuildError("none of the requested identifiers has an interpreter in %s (wanted %s; available: %s)"
                             % (root, ", ".join(wanted), ", ".join(sorted(found, key=lambda t: found[t].minor)) or "none"))
    else:
        chosen = list(found.values())
    below = [i.tag for i in sorted(chosen, key=lambda i: i.minor) if i.minor < python_min]
    if below:
        log("setup", "ignoring %s: older than --python-min 3.%d" % (", ".join(below), python_min))
    chosen = sorted((i for i in chosen if i.minor >= python_min), key=lambda i: i.minor)
    if not chosen:
        raise BuildError("no CPython >= 3.%d interpreter found under %s" % (python_min, root))
    return chosen


IDENTIFIER_RE = re.compile(r"^cp3(\d+)-[A-Za-z0-9_]+$")


def parse_identifiers(value):
    """cibuildwheel identifiers ("cp311-manylinux_x86_64") -> interpreter dirs ("cp311-cp311"), in order."""
    tags = []
    for item in filter(None, (x.strip() for x in (value or "").split(","))):
        m = IDENTIFIER_RE.match(item)
        if not m:
            raise BuildError("--identifiers: %r is not a CPython identifier like cp311-manylinux_x86_64" % item)
        tag = "cp3%s-cp3%s" % (m.group(1), m.group(1))
        if tag not in tags:
            tags.append(tag)
    return tags


def parse_pythons(value):
    tags = []
    for item in filter(None, (x.strip() for x in (value or "").split(","))):
        m = re.match(r"^(?:cp)?3\.?(\d+)$", item)  # also accept "3.11" / "cp311"
        tags.append("cp3%s-cp3%s" % (m.group(1), m.group(1)) if m else item)
    return tags


def parse_python_min(value):
    m = re.match(r"^(?:3\.)?(\d+)$", value.strip())
    if not m:
        raise BuildError("--python-min must look like 3.8, got %r" % value)
    return int(m.group(1))


# ----------------------------------------------------------------------------------------------------
# isolated build environments and hooks


class BuildEnv(object):
    """A fresh venv for one interpreter; build requirements are pip-installed into it."""

    def __init__(self, interp, workdir, runner, source):
        self.interp = interp
        self.dir = os.path.join(workdir, "env-" + interp.tag)
        self.runner = runner
        self.source = source
        self.python = os.path.join(self.dir, "bin", "python")
        self.pip = None

    def create(self, step):
        base = self.interp.python
        # Without ensurepip (4-5 s per interpreter): the base interpreter's pip installs into the venv
        # through `pip --python` (pip >= 22.3). Older pips fall back to a venv with its own pip.
        pip_version = self._base_pip_version()
        if pip_version is not None and pip_version >= (22, 3):
            run(step, [base, "-m", "venv", "--without-pip", self.dir], env=child_env())
            self.pip = [base, "-m", "pip", "--python", self.python]
        else:
            run(step, [base, "-m", "venv", self.dir], env=child_env())
            self.pip = [self.python, "-m", "pip"]
            # ensurepip also installs setuptools before 3.12: keep the environment clean (as pypa/build)
            run(step, self.pip + ["uninstall", "-y", "-q", "setuptools", "wheel"], env=child_env())
        if not os.path.exists(self.python):
            raise BuildError("%s: venv has no bin/python" % step)

    def _base_pip_version(self):
        try:
            out = subprocess.check_output([self.interp.python, "-c",
                                           "import pip; print(pip.__version__)"],
                                          env=child_env(), stdin=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        except (OSError, subprocess.CalledProcessError):
            return None
        nums = re.findall(r"\d+", out.decode())
        return tuple(int(n) for n in nums[:2]) if len(nums) >= 2 else None

    def install(self, step, requirements, why):
        requirements = [r for r in requirements if r.strip()]
        if not requirements:
            log(step, "no %s" % why)
            return
        log(step, "installing %s: %s" % (why, ", ".join(requirements)))
        # --no-compile: the environment lives for this build only, and byte-compiling every module of the requirements
        # (setuptools has hundreds) costs about 0.5 s of CPU per install; the backend compiles what it imports.
        run(step, self.pip + ["install", "--no-warn-script-location", "--no-compile"] + requirements, env=child_env())

    def hook(self, step, build_system, name, **kwargs):
        spec_file = os.path.join(self.dir, "hook-%s.json" % name)
        result_file = os.path.join(self.dir, "hook-%s-result.json" % name)
        if os.path.exists(result_file):
            os.remove(result_file)
        with open(spec_file, "w") as f:
            json.dump({"backend": build_system["backend"], "backend_path": build_system["backend_path"],
                       "kwargs": kwargs}, f)
        log(step, "calling %s() of %s" % (name, build_system["backend"]))
        run(step, [self.python, "-u", self.runner, name, spec_file, result_file], cwd=self.source,
            env=child_env(), what="%s()" % name, echo=False)
        try:
            with open(result_file) as f:
                return json.load(f)["return_val"]
        except (OSError, ValueError, KeyError) as e:
            raise BuildError("%s: hook %s left no result (%s)" % (step, name, e))


class Driver(object):
    def __init__(self, args):
        self.args = args
        self.steps = []
        self.result = {"ok": False, "error": None, "pure": None, "requiresPython": None, "pythons": [],
                       "steps": self.steps}
        self.envs = {}

    def env_for(self, interp, step, source=None):
        env = self.envs.get(interp.tag)
        if env is None:
            env = BuildEnv(interp, self.workdir, self.runner, source or self.source)
            env.create(step)
            env.install(step, self.build_system["requires"], "build-system.requires")
            self.envs[interp.tag] = env
        return env

    def timed_step(self, name, kind, func):
        record = {"name": name, "kind": kind, "ok": False, "seconds": 0.0, "files": [], "skipped": None}
        self.steps.append(record)
        started = time.monotonic()
        try:
            record["files"] = func()
            record["ok"] = True
            return record["files"]
        finally:
            record["seconds"] = round(time.monotonic() - started, 2)

    def skip_step(self, name, kind, reason):
        self.steps.append({"name": name, "kind": kind, "ok": True, "seconds": 0.0, "files": [],
                           "skipped": reason})

    def main(self):
        a = self.args
        self.source = os.path.abspath(a.source)
        self.out = os.path.abspath(a.out)
        if not os.path.isdir(self.source):
            raise BuildError("source dir %s does not exist" % self.source)
        os.makedirs(self.out, exist_ok=True)
        log("setup", "driver on Python %s (%s); source %s; out %s"
            % (sys.version.split()[0], sys.executable, self.source, self.out))
        # Before the project's environment is evaluated: its assignments and every child process see the relay's pip settings.
        if builder_relay.enable() is not None:
            log("setup", "build requirements from Builder's index via the relay")

        interpreters = discover(a.python_root, parse_python_min(a.python_min), parse_pythons(a.pythons),
                                parse_identifiers(a.identifiers), lambda tag, why: self.skip_step(tag, "wheel", why))
        log("setup", "interpreters: %s" % " ".join(i.tag for i in interpreters))
        self.build_system = load_build_system(self.source)
        bs = self.build_system
        log("setup", "build backend %s, requires %s%s (%s)"
            % (bs["backend"], json.dumps(bs["requires"]),
               ", backend-path %s" % json.dumps(bs["backend_path"]) if bs["backend_path"] else "", bs["origin"]))

        self.apply_environment(a.environment)
        self.auditwheel = find_auditwheel(a.python_root, sys.executable)
        if self.auditwheel:
            log("repair", "platform wheels are repaired with %s" % " ".join(self.auditwheel))
        else:
            log("repair", "auditwheel is not in this image: wheels keep their linux_<arch> tag")

        self.workdir = tempfile.mkdtemp(prefix="builder-driver-")
        try:
            self.runner = os.path.join(self.workdir, "_builder_hook_runner.py")
            with open(self.runner, "w") as f:
                f.write(HOOK_RUNNER)
            self.build(interpreters)
        finally:
            shutil.rmtree(self.workdir, ignore_errors=True)

    def apply_environment(self, assignments):
        """cibuildwheel's `environment`, evaluated once; every later child process (sdist, pip, hooks,
        before-build) inherits it through child_env()."""
        global PROJECT_ENV
        if not assignments:
            return
        PROJECT_ENV, names = evaluate_environment(assignments, os.environ)
        log("environment", "set %s" % (" ".join(names) if names else "nothing (no variable changed)"))

    def build(self, interpreters):
        newest = interpreters[-1]

        # 1. sdist (kept only with --sdist; always built for its PKG-INFO)
        sdist_dir = self.out if self.args.sdist else os.path.join(self.workdir, "sdist")
        os.makedirs(sdist_dir, exist_ok=True)

        def do_sdist():
            step = "sdist"
            log(step, "building the sdist with %s%s" % (newest.tag, "" if self.args.sdist
                                                       else " (for its metadata; not kept: no --sdist)"))
            env = self.env_for(newest, step)
            extra = self.hook_list(env, step, "get_requires_for_build_sdist", config_settings=None)
            env.install(step, extra, "get_requires_for_build_sdist requirements")
            name = env.hook(step, self.build_system, "build_sdist", sdist_directory=sdist_dir,
                            config_settings=None)
            path = os.path.join(sdist_dir, str(name))
            if not name or not os.path.isfile(path):
                raise BuildError("sdist: build_sdist returned %r, which is not a file in %s" % (name, sdist_dir))
            log(step, "built %s" % name)
            self.sdist_path = path
            return [name] if self.args.sdist else []

        # Without --sdist the sdist is only for PKG-INFO's Requires-Python: skipped when pyproject.toml fixes it.
        known, requires_python = (False, None) if self.args.sdist else static_requires_python(self.source)
        if known:
            reason = "not needed: no --sdist, and pyproject.toml [project] fixes Requires-Python"
            log("sdist", reason)
            self.skip_step("sdist", "sdist", reason)
        else:
            self.timed_step("sdist", "sdist", do_sdist)
            requires_python = sdist_requires_python(self.sdist_path)

        # 2. narrow by Requires-Python
        self.result["requiresPython"] = requires_python
        selected = interpreters
        if requires_python:
            try:
                spec = specifier_set(requires_python)
            except Exception as e:
                raise BuildError("invalid Requires-Python %r in the project metadata: %s" % (requires_python, e))
            selected = []
            for interp in interpreters:
                if spec.contains(interp.version(), prereleases=True):
                    selected.append(interp)
                else:
                    reason = "Requires-Python %s excludes Python %s" % (requires_python, interp.version())
                    log("matrix", "skipping %s: %s" % (interp.tag, reason))
                    self.skip_step(interp.tag, "wheel", reason)
            log("matrix", "Requires-Python %s: building for %s"
                % (requires_python, " ".join(i.tag for i in selected) or "nothing"))
            if not selected:
                raise BuildError("no available interpreter satisfies Requires-Python %s (have %s)"
                                 % (requires_python, ", ".join(i.version() for i in interpreters)))
        else:
            log("matrix", "no Requires-Python in the project metadata: building for %s" % " ".join(i.tag for i in selected))

        self.result["pythons"] = [i.tag for i in selected]

        # 3. wheels: newest first; a *-none-any result means pure, and that one wheel is all
        order = [selected[-1]] + selected[:-1]
        first = order[0]
        files = self.timed_step(first.tag, "wheel", lambda: self.build_wheel(first))
        _, abi, plat = wheel_tags(files[0])
        self.result["pure"] = abi == "none" and plat == "any"
        if self.result["pure"]:
            log("matrix", "pure-Python project: one %s wheel" % "-".join(wheel_tags(files[0])))
            for other in order[1:]:
                self.skip_step(other.tag, "wheel", "pure-Python project: one %s wheel" % "-".join(wheel_tags(files[0])))
        else:
            self.build_rest(order[1:])
        # report the sdist, then the wheel steps by Python version (skipped ones included)
        def report_order(step):
            m = TAG_RE.match(step["name"])
            return (step["kind"] != "sdist", int(m.group(1)) if m else 999)
        self.steps[:] = sorted(self.steps, key=report_order)

    def build_rest(self, interpreters):
        """The other wheels: one after another, or --jobs at a time, each in a copy of the source tree (setuptools
        writes build/ and *.egg-info into it, shared by interpreters). The first failure is raised once all ended."""
        jobs = max(1, min(self.args.jobs, len(interpreters)))
        if jobs == 1:
            for interp in interpreters:
                self.timed_step(interp.tag, "wheel", lambda i=interp: self.build_wheel(i))
            return
        log("matrix", "building %d wheels, %d at a time" % (len(interpreters), jobs))

        def one(interp):
            source = os.path.join(self.workdir, "src-" + interp.tag)
            shutil.copytree(self.source, source, symlinks=True)
            return self.timed_step(interp.tag, "wheel", lambda: self.build_wheel(interp, source))

        with ThreadPoolExecutor(max_workers=jobs) as pool:
            futures = [pool.submit(one, interp) for interp in interpreters]
        errors = [f.exception() for f in futures if f.exception() is not None]
        if errors:
            raise errors[0]

    def hook_list(self, env, step, name, **kwargs):
        value = env.hook(step, self.build_system, name, **kwargs)
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise BuildError("%s: %s returned %r, not a list of strings" % (step, name, value))
        return value

    def build_wheel(self, interp, source=None):
        step = "%s wheel" % interp.tag
        log(step, "building a wheel with %s (Python %s)" % (interp.python, interp.version()))
        env = self.env_for(interp, step, source)
        if self.args.before_build:
            self.before_build(interp, env)
        extra = self.hook_list(env, step, "get_requires_for_build_wheel", config_settings=None)
        env.install(step, extra, "get_requires_for_build_wheel requirements")
        wheel_dir = os.path.join(self.workdir, "wheel-" + interp.tag)
        os.makedirs(wheel_dir, exist_ok=True)
        name = env.hook(step, self.build_system, "build_wheel", wheel_directory=wheel_dir,
                        config_settings=None, metadata_directory=None)
        path = os.path.join(wheel_dir, str(name))
        if not name or not os.path.isfile(path):
            raise BuildError("%s: build_wheel returned %r, which is not a file" % (step, name))
        wheel_tags(name)
        try:
            with zipfile.ZipFile(path) as z:
                bad = z.testzip()
            if bad:
                raise BuildError("%s: %s is corrupt (%s)" % (step, name, bad))
        except zipfile.BadZipFile as e:
            raise BuildError("%s: %s is not a zip file: %s" % (step, name, e))
        log(step, "built %s" % name)
        _, _, plat = wheel_tags(name)
        if plat != "any" and self.auditwheel:
            path = repair_wheel("%s repair" % interp.tag, self.auditwheel, path,
                                os.path.join(self.workdir, "repaired-" + interp.tag), child_env())
            name = os.path.basename(path)
        shutil.move(path, os.path.join(self.out, name))
        return [name]

    def before_build(self, interp, env):
        """cibuildwheel's `before-build`: a shell command in the project dir before each wheel build, with
        {project} and {package} standing for the source tree and the build's python first on PATH."""
        step = "%s before-build" % interp.tag
        command = self.args.before_build.replace("{project}", env.source).replace("{package}", env.source)
        variables = child_env()
        variables["PATH"] = os.pathsep.join([os.path.dirname(env.python), os.path.dirname(interp.python),
                                             variables.get("PATH", os.defpath)])
        variables["VIRTUAL_ENV"] = env.dir
        run(step, ["sh", "-c", command], cwd=env.source, env=variables, what="before-build command")


class _ArgumentParser(argparse.ArgumentParser):
    def error(self, message):
        raise BuildError("usage: " + message)


def main(argv=None):
    parser = _ArgumentParser(description="Build an sdist and wheels with every /opt/python interpreter.")
    parser.add_argument("--source", required=True, help="project source tree")
    parser.add_argument("--out", required=True, help="directory for the sdist and wheels")
    parser.add_argument("--sdist", action="store_true", help="keep the sdist in --out")
    parser.add_argument("--pythons", default="", help="comma-separated tags, e.g. cp38-cp38,cp311-cp311")
    parser.add_argument("--identifiers", default="",
                        help="comma-separated cibuildwheel identifiers, e.g. cp311-manylinux_x86_64; "
                             "interpreters the image lacks are skipped")
    parser.add_argument("--before-build", default="", help="shell command run before each wheel build")
    parser.add_argument("--environment", default="", help="cibuildwheel environment assignments, e.g. 'A=1 B=\"$A 2\"'")
    parser.add_argument("--jobs", type=int, default=1,
                        help="wheels built at once after the first (each in a copy of the source tree; default 1)")
    parser.add_argument("--python-min", default="3.8", help="oldest Python minor to build for (default 3.8)")
    parser.add_argument("--python-root", default=os.environ.get("BUILDER_PYTHON_ROOT", "/opt/python"),
                        help="where the <tag>/bin/python dirs are (default /opt/python)")
    try:  # never die on a child's non-ASCII output when the locale is not UTF-8
        sys.stdout.reconfigure(errors="backslashreplace", line_buffering=True)
    except (AttributeError, ValueError):
        pass
    driver = Driver(None)
    started = time.monotonic()
    try:
        driver.args = parser.parse_args(argv)
        driver.main()
        driver.result["ok"] = True
        log("done", "ok in %.1f s" % (time.monotonic() - started))
    except BuildError as e:
        driver.result["error"] = str(e)
        log("error", str(e))
    except KeyboardInterrupt:
        driver.result["error"] = "interrupted"
        log("error", "interrupted")
    except Exception as e:  # a bug in the driver itself: still report
        import traceback
        driver.result["error"] = "driver error: %s: %s" % (type(e).__name__, e)
        log("error", traceback.format_exc())
    sys.stdout.write(RESULT_PREFIX + json.dumps(driver.result) + "\n")
    sys.stdout.flush()
    return 0 if driver.result["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
