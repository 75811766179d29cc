#!/usr/bin/env python3
"""From a worker's SIGKILL to its part running on another worker.

    python3 bench/takeover.py [--rounds 3] [--lease 180] [--heartbeat 15]

Production shape on this machine: a fresh PostgreSQL database (on the server scripts/ensure-deps.sh --postgres
starts), the web process and two workers (Release builds), sharing a data directory. Each round pushes a tag of a
pure project whose `before-build` sleeps for ten minutes, waits until its part runs (GET /api/builds/{id}: the
part's `worker`), SIGKILLs the worker process holding it, and measures until the part is started again by the other
worker (its second `part-started` event in GET /api/builds/{id}/events): both as seen by polling (every 0.2 s) and
by the event's own timestamp. Then it deletes the tag (the build is cancelled, the container removed) and restarts
the killed worker for the next round. Prints a Markdown table and the median.

What it measures is Builder:Jobs:LeaseTimeoutSeconds (when the dead run's lease expires) plus up to one
Builder:Jobs:HeartbeatSeconds (when a watchdog looks) plus the takeover's own start.
"""

import argparse
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from benchlib import TOKEN, free_port, http, push_webhook, sh, wait_until_up, write_tree  # noqa: E402
from datetime import datetime, timezone

HERE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
STATE = os.environ.get("BUILDER_STATE", "/var/tmp/builder-dev")

PROJECT = {
    "pyproject.toml": """
        [build-system]
        requires = ["setuptools>=40.8.0", "wheel"]
        build-backend = "setuptools.build_meta"

        [tool.cibuildwheel]
        before-build = "echo sleeping; sleep 600"
        """,
    "setup.cfg": """
        [metadata]
        name = bench-takeover
        version = attr: bench_takeover.VERSION

        [options]
        packages = find:
        """,
    "bench_takeover/__init__.py": 'VERSION = "{version}"\n',
}


def get(url):
    return json.loads(http("GET", url)[1])


def postgres_admin():
    """The server's admin connection as libpq keywords, from ensure-deps' Npgsql connection string."""
    conn = dict(p.split("=", 1) for p in open(os.path.join(STATE, "postgres.conn")).read().strip().split(";") if p)
    return conn["Host"], conn["Port"], conn.get("Username", "postgres")


def psql(sql):
    host, port, user = postgres_admin()
    sh("psql", "-h", host, "-p", port, "-U", user, "-d", "postgres", "-qc", sql)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--lease", type=int, default=180, help="Builder:Jobs:LeaseTimeoutSeconds")
    ap.add_argument("--heartbeat", type=int, default=15, help="Builder:Jobs:HeartbeatSeconds")
    args = ap.parse_args()
    sh(os.path.join(HERE, "scripts/ensure-deps.sh"), "--postgres")
    print("== build (Release)", flush=True)
    sh("dotnet", "build", os.path.join(HERE, "src/Builder.Web"), "-c", "Release", "-v", "q", "-nologo")
    sh("dotnet", "build", os.path.join(HERE, "workers/Builder.Worker"), "-c", "Release", "-v", "q", "-nologo")
    database = "builder_bench_takeover_%d" % os.getpid()
    host, port, user = postgres_admin()
    work = tempfile.mkdtemp(prefix="builder-takeover-")
    env = dict(os.environ, Builder__DataDir=os.path.join(work, "data"), Builder__AdminToken=TOKEN, Builder__Database="postgres",
               ConnectionStrings__Postgres="Host=%s;Port=%s;Username=%s;Database=%s" % (host, port, user, database),
               Builder__Jobs__LeaseTimeoutSeconds=str(args.lease), Builder__Jobs__HeartbeatSeconds=str(args.heartbeat),
               Builder__Build__Pythons__0="cp311", Logging__LogLevel__Default="Warning")
    base = "http://127.0.0.1:%d" % free_port()
    processes = {}

    def start(name):
        if name == "web":
            cmd, cwd = ["dotnet", "Builder.Web.dll", "--urls", base], os.path.join(HERE, "src/Builder.Web/bin/Release/net10.0")
        else:
            cmd, cwd = ["dotnet", "Builder.Worker.dll"], os.path.join(HERE, "workers/Builder.Worker/bin/Release/net10.0")
        processes[name] = subprocess.Popen(cmd, cwd=cwd, env=dict(env, Builder__Build__WorkerName="bench-" + name),
                                           stdout=open(os.path.join(work, name + ".log"), "a"), stderr=subprocess.STDOUT)

    rows = []
    psql("CREATE DATABASE %s" % database)
    try:
        start("web")
        wait_until_up(base)
        start("worker-a")
        start("worker-b")
        repo = os.path.join(work, "repo")
        os.makedirs(repo)
        sh("git", "init", "-q", "-b", "main", repo)
        registered = json.loads(http("POST", base + "/api/repositories", {"provider": "github", "name": "bench/takeover", "cloneUrl": "file://" + repo},
                                     {"Content-Type": "application/json"})[1])
        secret = registered["webhookSecret"]
        for r in range(args.rounds):
            version = "1.0.%d" % r
            write_tree(repo, PROJECT, version)
            sh("git", "add", "-A", cwd=repo)
            sh("git", "-c", "user.name=bench", "-c", "user.email=bench@localhost", "commit", "-qm", version, cwd=repo)
            sh("git", "tag", "v" + version, cwd=repo)
            sha = sh("git", "rev-parse", "HEAD", cwd=repo).strip()
            build = push_webhook(base, secret, "bench/takeover", "refs/tags/v" + version, sha)["id"]
            holder = None
            deadline = time.monotonic() + 300
            while holder is None and time.monotonic() < deadline:
                parts = get("%s/api/builds/%d" % (base, build))["parts"]
                if parts and parts[0]["state"] == "running" and parts[0]["worker"]:
                    log = http("GET", "%s/api/builds/%d/log?follow=false" % (base, build))[1].decode()
                    if "sleeping" in log:
                        holder = parts[0]["worker"].split("/")[0].removeprefix("bench-")
                time.sleep(0.2)
            if holder is None:
                sys.exit("round %d: the part never ran" % (r + 1))
            processes[holder].send_signal(signal.SIGKILL)
            processes[holder].wait()
            killed_wall = datetime.now(timezone.utc)
            killed = time.monotonic()
            observed = None
            while observed is None and time.monotonic() - killed < args.lease + 10 * args.heartbeat + 120:
                events = [e for e in get("%s/api/builds/%d/events" % (base, build)) if e["kind"] == "part-started"]
                if len(events) >= 2:
                    observed = time.monotonic() - killed
                    at = datetime.fromisoformat(events[-1]["at"].replace("Z", "+00:00"))
                    by_event = (at - killed_wall).total_seconds()
                    taker = events[-1]["detail"].split("/")[0].removeprefix("bench-")
                time.sleep(0.2)
            if observed is None:
                sys.exit("round %d: the part was not taken over" % (r + 1))
            print("round %d: killed %s; part started again on %s after %.1f s (event time %.1f s)" % (r + 1, holder, taker, observed, by_event), flush=True)
            rows.append((holder, taker, observed, by_event))
            push_webhook(base, secret, "bench/takeover", "refs/tags/v" + version, sha, deleted=True)
            start(holder)
    finally:
        for process in processes.values():
            process.terminate()
            process.wait()
        psql("DROP DATABASE IF EXISTS %s WITH (FORCE)" % database)
        shutil.rmtree(work, ignore_errors=True)
    print()
    print("Builder:Jobs:LeaseTimeoutSeconds=%d, HeartbeatSeconds=%d" % (args.lease, args.heartbeat))
    print()
    print("| round | killed | taken over by | SIGKILL → part started again (polled) | (event time) |")
    print("|---:|---|---|---:|---:|")
    for i, (holder, taker, observed, by_event) in enumerate(rows, 1):
        print("| %d | %s | %s | %.1f s | %.1f s |" % (i, holder, taker, observed, by_event))
    print("| median | | | %.1f s | %.1f s |" % (statistics.median(r[2] for r in rows), statistics.median(r[3] for r in rows)))


if __name__ == "__main__":
    main()
