#!/usr/bin/env python3
"""Build rows for bench/ui-bench.sh, written straight into the embedded SQLite database (no route injects a log).

  ui_builds.py DB REPOSITORY_ID LOG_PROJECT [--lines 100000] [--chunk 500] [--per-project 1]

1. One finished build per project of the index (``--per-project``; 0: none), on REPOSITORY_ID, for the version of
   the project's last imported file: the packages page's "last build" column and /builds then read real rows.
2. Then (newest, so first on /builds) one failed build of LOG_PROJECT with a log of ``--lines`` lines in chunks of
   ``--chunk`` lines (``builder_build_log``, then the empty end-of-attempt chunk), shaped like a real build: ``[builder]``,
   ``[git]``, ``[plan]`` lines, then two parts (x86_64, aarch64) running side by side, each with its setup lines and
   a ``[ARCH] [cpXY-cpXY wheel]`` and ``[ARCH] [cpXY-cpXY test]`` step for five interpreters (19 steps: the part
   aarch64 stops at its failed cp313 wheel, which has no test step), with ANSI
   colours (bold headers, yellow warnings, green PASSED, red errors) and a few progress lines holding carriage
   returns. Targets: ten wheels, all succeeded but ``cp313-manylinux_aarch64``, whose step ends in a compiler error
   (the build page shows that step open and the other sections folded); part x86_64 succeeded, aarch64 failed.

Prints the log build's id, its line count and the number of builds written. Columns: src/Builder.Data/Migrations/Sqlite;
times as EF Core stores DateTimeOffset on SQLite (``2026-11-28 17:33:07.3222084+00:00``), states as enum names.
"""
import argparse
import datetime as dt
import hashlib
import random
import sqlite3

INTERPRETERS = ["cp39", "cp310", "cp311", "cp312", "cp313"]
ARCHITECTURES = ["x86_64", "aarch64"]
FAILED = ("aarch64", "cp313")
BOLD, RESET, YELLOW, GREEN, RED, CYAN = "\x1b[1m", "\x1b[0m", "\x1b[33m", "\x1b[32m", "\x1b[31m", "\x1b[36m"


def when(t):
    """A time as EF Core writes a DateTimeOffset into SQLite."""
    return t.strftime("%Y-%m-%d %H:%M:%S.%f") + "0+00:00"


def sha(text):
    return hashlib.sha1(text.encode()).hexdigest()


def step_lines(rng, arch, interp, kind, count, failed):
    """COUNT lines of one step (without the prefix)."""
    tag = interp[2:]
    py = f"{tag[0]}.{tag[1:]}"
    out = [f"{BOLD}==> {'Building wheel' if kind == 'wheel' else 'Testing'} for {interp}-manylinux_{arch}{RESET}"]
    n = 0
    while len(out) < count - (3 if failed else 1):
        n += 1
        r = rng.random()
        if kind == "wheel":
            if r < 0.80:
                out.append(f"gcc -pthread -B /opt/python/{interp}-{interp}/compiler_compat -fno-strict-overflow -Wsign-compare "
                           f"-DNDEBUG -g -O3 -Wall -fPIC -I/opt/python/{interp}-{interp}/include/python{py} "
                           f"-c src/acme/_mod_{n:05d}.c -o build/temp.linux-{arch}-cpython-{tag}/src/acme/_mod_{n:05d}.o")
            elif r < 0.95:
                out.append(f"src/acme/_mod_{n:05d}.c:{rng.randint(10, 900)}:{rng.randint(1, 40)}: {YELLOW}warning:{RESET} "
                           f"unused variable '{BOLD}tmp_{n}{RESET}' [{YELLOW}-Wunused-variable{RESET}]")
            elif r < 0.99:
                out.append(f"copying src/acme/data_{n:05d}.json -> build/lib.linux-{arch}-cpython-{tag}/acme/data")
            else:
                out.append(f"Downloading build deps ({n % 97} kB)\r 35%\r 71%\r{GREEN}100%{RESET}")
        else:
            if r < 0.97:
                out.append(f"tests/test_mod_{n // 20:04d}.py::test_case_{n % 20} {GREEN}PASSED{RESET} "
                           f"[{(100 * len(out)) // count:3d}%]")
            else:
                out.append(f"tests/test_mod_{n // 20:04d}.py::test_slow_{n % 20} {YELLOW}SKIPPED{RESET} (needs network)")
    if failed:
        out.append(f"src/acme/_speedups.c:118:5: {RED}{BOLD}error:{RESET} implicit declaration of function "
                   f"'{BOLD}_PyLong_AsInt{RESET}' [{RED}-Werror=implicit-function-declaration{RESET}]")
        out.append(f"{RED}error: command '/usr/bin/gcc' failed with exit code 1{RESET}")
        out.append(f"{RED}{BOLD}Build failed{RESET} for {interp}-manylinux_{arch}")
    else:
        out.append(f"{GREEN}Built {'wheel' if kind == 'wheel' else 'and tested'} {interp}-manylinux_{arch}{RESET}")
    return out


def log_lines(total, project, version, commit):
    """The whole log: about TOTAL lines, job lines first, then both parts' steps interleaved in blocks."""
    rng = random.Random(7)
    head = [f"[builder] build of {project} {version} started (attempt 1)",
            f"[git] {CYAN}cloning{RESET} file:///nonexistent/bench-ui-log.git at v{version}",
            f"[git] resolved v{version} to {commit}",
            "[plan] pyproject.toml: cibuildwheel build = cp39-* cp310-* cp311-* cp312-* cp313-*",
            "[plan] 2 parts: x86_64 (5 wheels, sdist), aarch64 (5 wheels)"]
    tail = [f"[builder] {RED}build failed{RESET}: cp313-manylinux_aarch64 failed", "[builder] finished in 4 min 12 s"]
    setup = 40
    # The failed wheel is its part's last step: the part stops there (no test of it).
    plan = [(arch, interp, kind) for arch in ARCHITECTURES for interp in INTERPRETERS for kind in ("wheel", "test")
            if (arch, interp, kind) != (*FAILED, "test")]
    steps = len(plan)
    per_step = (total - len(head) - len(tail) - setup * len(ARCHITECTURES)) // steps
    spare = total - len(head) - len(tail) - setup * len(ARCHITECTURES) - per_step * steps
    streams = {}
    for arch in ARCHITECTURES:
        lines = [f"[{arch}] {BOLD}setup{RESET}: image builder-build:{arch}, container bench-{arch}, line {i + 1}"
                 for i in range(setup)]
        for _, interp, kind in (step for step in plan if step[0] == arch):
            count = per_step + (spare if (arch, interp, kind) == ("x86_64", "cp39", "wheel") else 0)
            failed = (arch, interp) == FAILED and kind == "wheel"
            prefix = f"[{arch}] [{interp}-{interp} {kind}] "
            lines += [prefix + line for line in step_lines(rng, arch, interp, kind, count, failed)]
        streams[arch] = lines
    body, cursors = [], {arch: 0 for arch in ARCHITECTURES}
    while any(cursors[a] < len(streams[a]) for a in ARCHITECTURES):
        for arch in ARCHITECTURES:
            block = rng.randint(20, 60)
            body += streams[arch][cursors[arch]:cursors[arch] + block]
            cursors[arch] += block
    return head + body + tail


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("db")
    ap.add_argument("repository", type=int)
    ap.add_argument("log_project")
    ap.add_argument("--lines", type=int, default=100_000)
    ap.add_argument("--chunk", type=int, default=500)
    ap.add_argument("--per-project", type=int, default=1)
    a = ap.parse_args()

    db = sqlite3.connect(a.db, timeout=60)
    latest = db.execute("SELECT f.Project, f.Version FROM builder_files f JOIN "
                        "(SELECT Project, MAX(Id) AS Id FROM builder_files WHERE DeletedAt IS NULL GROUP BY Project) m "
                        "ON f.Id = m.Id ORDER BY f.Project").fetchall()
    versions = dict(latest)
    if a.log_project not in versions:
        raise SystemExit(f"{a.log_project} is not in the index")
    now = dt.datetime.now(dt.timezone.utc).replace(microsecond=0)
    written = 0
    with db:
        start = now - dt.timedelta(minutes=10 * (len(latest) * a.per_project + 1))
        for i, (project, version) in enumerate(p for p in latest for _ in range(a.per_project)):
            created = start + dt.timedelta(minutes=10 * i)
            db.execute("INSERT INTO builder_builds (RepositoryId, Tag, CommitSha, ResolvedCommit, Project, Version, State, "
                       "CreatedAt, StartedAt, FinishedAt, Attempts, PublishAttempts, Generation) "
                       "VALUES (?, ?, ?, ?, ?, ?, 'Succeeded', ?, ?, ?, 1, 1, 0)",
                       (a.repository, f"v{version}", sha(f"{project}:{i}"), sha(f"{project}:{i}"), project, version,
                        when(created), when(created + dt.timedelta(seconds=5)), when(created + dt.timedelta(seconds=95))))
            written += 1

        version = versions[a.log_project]
        commit = sha(f"{a.log_project}:log")
        created = now - dt.timedelta(minutes=5)
        started, finished = created + dt.timedelta(seconds=3), created + dt.timedelta(seconds=255)
        build = db.execute("INSERT INTO builder_builds (RepositoryId, Tag, CommitSha, ResolvedCommit, Project, Version, State, "
                           "Error, CreatedAt, StartedAt, FinishedAt, Attempts, PublishAttempts, Generation) "
                           "VALUES (?, ?, ?, ?, ?, ?, 'Failed', ?, ?, ?, ?, 1, 0, 0)",
                           (a.repository, f"v{version}-log", commit, commit, a.log_project, version,
                            "cp313-manylinux_aarch64: command '/usr/bin/gcc' failed with exit code 1",
                            when(created), when(started), when(finished))).lastrowid
        written += 1
        dist = a.log_project.replace("-", "_")
        for arch in ARCHITECTURES:
            failed_part = arch == FAILED[0]
            part = db.execute("INSERT INTO builder_build_parts (BuildId, Architecture, Identifiers, IncludeSdist, State, "
                              "Attempts, Error, Files, Digests, StartedAt, FinishedAt, Image) VALUES (?, ?, ?, ?, ?, 1, ?, '', '', ?, ?, ?)",
                              (build, arch, " ".join(f"{i}-manylinux_{arch}" for i in INTERPRETERS), int(arch == "x86_64"),
                               "Failed" if failed_part else "Succeeded",
                               "cp313-manylinux_aarch64 failed" if failed_part else None,
                               when(started + dt.timedelta(seconds=2)), when(finished - dt.timedelta(seconds=2)),
                               f"builder-build:{arch}")).lastrowid
            for k, interp in enumerate(INTERPRETERS):
                ok = (arch, interp) != FAILED
                wheel = f"{dist}-{version}-{interp}-{interp}-manylinux_2_17_{arch}.whl" if ok else ""
                db.execute("INSERT INTO builder_build_targets (BuildId, PartId, Name, Architecture, Succeeded, Seconds, Error, Files) "
                           "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                           (build, part, f"{interp}-manylinux_{arch}", arch, int(ok), 20.0 + 7 * k,
                            None if ok else "command '/usr/bin/gcc' failed with exit code 1", wheel))

        lines = log_lines(a.lines, a.log_project, version, commit)
        for i in range(0, len(lines), a.chunk):
            db.execute("INSERT INTO builder_build_log (BuildId, Text) VALUES (?, ?)", (build, "\n".join(lines[i:i + a.chunk]) + "\n"))
        db.execute("INSERT INTO builder_build_log (BuildId, Text) VALUES (?, '')", (build,))
    print(build, len(lines), written)


if __name__ == "__main__":
    main()
