#!/usr/bin/env python3
"""Webhook to installable, against the same `pip wheel` commands run by hand in the same image.

    python3 bench/build_overhead.py [--rounds 3] [--pythons cp311,cp312,cp313] [--projects pure,cext]
                                    [--tree LABEL=DIR ...] [--no-by-hand]

For each of two projects (a pure package, a C extension) and each round:
  * Builder: a fresh tag is pushed to a local git repository, a signed GitHub push webhook is sent to the
    running embedded service, and the clock stops when `pip download NAME==VERSION --index-url .../simple/`
    (CPython 3.11, the index only) succeeds for every wheel: the release is installable.
  * By hand: `docker run --network none` of the same image with the source copied in, running
    `/opt/python/<tag>/bin/python -m pip wheel --no-deps -w /out /src` once per Python (the pure package: once,
    with the newest), i.e. the commands a CI job would run. No sdist, no clone, no upload.
Prints a Markdown table of medians and the overhead (Builder - by hand) against the target: under 10 % or 3 s,
whichever is larger. With several --tree (checkouts of Builder, e.g. a `git worktree` of an older commit beside
this one), each is built and started, and every round times each of them in turn (interleaved, same machine
state), then compares their medians with the first tree's. Needs: Docker with the local image (scripts/ensure-deps.sh), the .NET SDK, git, a pyenv
CPython 3.11 with pip. Starts its own server (Release build) on a free loopback port with a temporary data dir.
"""

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from benchlib import TOKEN, free_port, http, push_webhook, sh, wait_until_up, write_tree  # noqa: E402

HERE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
IMAGE = os.environ.get("BUILDER_BENCH_IMAGE", "builder-local/manylinux-x86_64:latest")

PURE = {
    "pyproject.toml": """
        [build-system]
        requires = ["setuptools>=40.8.0", "wheel"]
        build-backend = "setuptools.build_meta"
        """,
    "setup.cfg": """
        [metadata]
        name = bench-pure
        version = attr: bench_pure.VERSION

        [options]
        packages = find:
        python_requires = >=3.8
        """,
    "bench_pure/__init__.py": 'VERSION = "{version}"\n',
}

CEXT = {
    "pyproject.toml": """
        [build-system]
        requires = ["setuptools>=40.8.0", "wheel"]
        build-backend = "setuptools.build_meta"
        """,
    "setup.py": """
        from setuptools import setup, Extension
        setup(name="bench-cext", version="{version}", packages=["benchadd"],
              ext_modules=[Extension("benchadd._add", ["src/add.c"])], python_requires=">=3.8")
        """,
    "benchadd/__init__.py": "from benchadd._add import add\n",
    "src/add.c": """
        #define PY_SSIZE_T_CLEAN
        #include <Python.h>
        static PyObject *add(PyObject *self, PyObject *args) {
            long a, b;
            if (!PyArg_ParseTuple(args, "ll", &a, &b)) return NULL;
            return PyLong_FromLong(a + b);
        }
        static PyMethodDef methods[] = {{"add", add, METH_VARARGS, "add"}, {NULL, NULL, 0, NULL}};
        static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_add", NULL, -1, methods};
        PyMODINIT_FUNC PyInit__add(void) { return PyModule_Create(&module); }
        """,
}


def python311():
    root = sh("pyenv", "root").strip()
    versions = sorted(v for v in os.listdir(os.path.join(root, "versions")) if v.startswith("3.11."))
    return os.path.join(root, "versions", versions[-1], "bin", "python")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--pythons", default="cp311,cp312,cp313")
    ap.add_argument("--projects", default="pure,cext", help="pure, cext or both")
    ap.add_argument("--tree", action="append", default=[], metavar="LABEL=DIR",
                    help="a Builder checkout to build and measure (repeatable; default: builder=this checkout)")
    ap.add_argument("--no-by-hand", action="store_true", help="skip the pip wheel baseline")
    args = ap.parse_args()
    pythons = args.pythons.split(",")
    trees = [t.split("=", 1) for t in args.tree] or [["builder", HERE]]
    projects = [p for p in (("pure", PURE, "bench-pure"), ("C extension", CEXT, "bench-cext"))
                if {"pure": "pure", "C extension": "cext"}[p[0]] in args.projects.split(",")]
    work = tempfile.mkdtemp(prefix="builder-overhead-")
    servers = []
    try:
        for label, tree in trees:
            servers.append(start_server(label, tree, pythons, work))
        results = {}
        for label, files, name in projects:
            builder_times = {s["label"]: [] for s in servers}
            build_seconds = {s["label"]: [] for s in servers}
            hand_times = []
            repos = {}
            for server in servers:
                repo = os.path.join(work, server["label"], name)
                os.makedirs(repo)
                sh("git", "init", "-q", "-b", "main", repo)
                status, body = http("POST", server["base"] + "/api/repositories",
                                    {"provider": "github", "name": "bench/" + name, "cloneUrl": "file://" + repo},
                                    {"Content-Type": "application/json"})
                repos[server["label"]] = (repo, json.loads(body)["webhookSecret"])
            for r in range(args.rounds):
                version = "1.0.%d" % r
                for server in servers:
                    repo, secret = repos[server["label"]]
                    write_tree(repo, files, version)
                    sh("git", "add", "-A", cwd=repo)
                    sh("git", "-c", "user.name=bench", "-c", "user.email=bench@localhost", "commit", "-qm", version, cwd=repo)
                    sh("git", "tag", "v" + version, cwd=repo)
                    sha = sh("git", "rev-parse", "HEAD", cwd=repo).strip()
                    builder_times[server["label"]].append(
                        time_builder(server["base"], name, version, sha, secret, work, build_seconds[server["label"]]))
                if not args.no_by_hand:
                    hand_times.append(time_by_hand(repos[servers[0]["label"]][0], pythons if label != "pure" else pythons[-1:], work))
                print("%s round %d: %s%s" % (label, r + 1, ", ".join("%s %.1f s" % (k, v[-1]) for k, v in builder_times.items()),
                                             "" if args.no_by_hand else ", by hand %.1f s" % hand_times[-1]), flush=True)
            results[label] = (builder_times, hand_times, build_seconds)
    finally:
        for server in servers:
            server["process"].terminate()
            server["process"].wait()
    print()
    first = servers[0]["label"]
    if not args.no_by_hand:
        print("| project | Pythons | server | webhook → installable (median s) | build job (median s) | pip wheel by hand (median s) | overhead | target (max(10 %, 3 s)) | rounds (builder\\|by hand) |")
        print("|---|---|---|---:|---:|---:|---:|---:|---|")
    else:
        print("| project | Pythons | server | webhook → installable (median s) | build job (median s) | vs %s | rounds |" % first)
        print("|---|---|---|---:|---:|---:|---|")
    for label, (b, h, j) in results.items():
        pys = "newest of " + ",".join(pythons) + " (1 wheel)" if label == "pure" else ",".join(pythons)
        for server, times in b.items():
            mb = statistics.median(times)
            if not args.no_by_hand:
                mh = statistics.median(h)
                allowed = max(0.10 * mh, 3.0)
                print("| %s | %s | %s | %.1f | %.1f | %.1f | %+.1f s (%+.0f %%) | %.1f s: %s | %s |" % (
                    label, pys, server, mb, statistics.median(j[server]), mh, mb - mh, 100 * (mb - mh) / mh, allowed,
                    "met" if mb - mh <= allowed else "missed", " / ".join("%.1f\\|%.1f" % p for p in zip(times, h))))
            else:
                base = statistics.median(b[first])
                print("| %s | %s | %s | %.2f | %.2f | %+.2f s (%.2fx) | %s |" % (
                    label, pys, server, mb, statistics.median(j[server]), mb - base, mb / base, " / ".join("%.2f" % t for t in times)))
    shutil.rmtree(work, ignore_errors=True)


def start_server(label, tree, pythons, work):
    """Builds the tree's web host (Release) and starts it on a free loopback port with its own data dir."""
    print("== %s: build (Release) %s" % (label, tree), flush=True)
    sh("dotnet", "build", os.path.join(tree, "src/Builder.Web"), "-c", "Release", "-v", "q", "-nologo")
    dll_dir = os.path.join(tree, "src/Builder.Web/bin/Release/net10.0")
    base = "http://127.0.0.1:%d" % free_port()
    env = dict(os.environ, Builder__DataDir=os.path.join(work, label + "-data"), Builder__AdminToken=TOKEN,
               Logging__LogLevel__Default="Warning", Builder__Build__Images__x86_64=IMAGE,
               Builder__Build__WorkerName="bench-" + label)
    for i, py in enumerate(pythons):
        env["Builder__Build__Pythons__%d" % i] = py
    process = subprocess.Popen(["dotnet", "Builder.Web.dll", "--urls", base], cwd=dll_dir, env=env,
                               stdout=open(os.path.join(work, label + "-server.log"), "w"), stderr=subprocess.STDOUT)
    wait_until_up(base)
    return {"label": label, "base": base, "process": process}


def time_builder(base, name, version, sha, secret, work, build_seconds):
    start = time.monotonic()
    answer = push_webhook(base, secret, "bench/" + name, "refs/tags/v" + version, sha, delivery="bench-%s-%s" % (name, version))
    build = answer["id"]
    while True:
        _, raw = http("GET", "%s/api/builds/%d" % (base, build))
        state = json.loads(raw)
        if state["state"] in ("succeeded", "failed", "cancelled"):
            break
        time.sleep(0.1)
    if state["state"] != "succeeded":
        sys.exit("build %d %s: %s" % (build, state["state"], state.get("error")))
    dest = tempfile.mkdtemp(dir=work)
    # Installable: pip resolves NAME==VERSION from the index alone and downloads a wheel for CPython 3.11.
    sh(python311(), "-m", "pip", "download", "--no-deps", "--only-binary", ":all:", "--disable-pip-version-check",
       "-q", "-d", dest, "--index-url", base.replace("http://", "http://__token__:%s@" % TOKEN) + "/simple/", "%s==%s" % (name, version))
    elapsed = time.monotonic() - start
    started, finished = state["startedAt"], state["finishedAt"]
    from datetime import datetime
    build_seconds.append((datetime.fromisoformat(finished.replace("Z", "+00:00")) - datetime.fromisoformat(started.replace("Z", "+00:00"))).total_seconds())
    return elapsed


def time_by_hand(repo, pythons, work):
    script = "cp -r /src /tmp/src && rm -rf /tmp/src/.git && " + " && ".join(
        "/opt/python/{0}-{0}/bin/python -m pip wheel -q --no-deps -w /out /tmp/src".format(py) for py in pythons)
    start = time.monotonic()
    sh("docker", "run", "--rm", "--network", "none", "-v", repo + ":/src:ro", IMAGE, "sh", "-c", script)
    return time.monotonic() - start


if __name__ == "__main__":
    main()
