#!/usr/bin/env python3
"""Tests and assertions per area of the test projects, at a git revision (default: the work tree).

    scripts/test-counts.py [REV] [--markdown]

An area is a test project's first-level folder (Integration/EndToEnd, Unit/Index...). Per area: test methods ([Fact],
[Theory]), scenarios (a Fact, or a Theory's data rows: [InlineData] lines, a [MemberData]/[ClassData] Theory as one),
and assertion calls (Assert.X( in the code, shared helpers included). tests/TIMES.md compares two revisions with it.
"""
import collections
import re
import subprocess
import sys

ROOT = subprocess.run(["git", "rev-parse", "--show-toplevel"], capture_output=True, text=True, check=True).stdout.strip()


def files(rev):
    if rev is None:
        out = subprocess.run(["git", "ls-files", "-co", "--exclude-standard", "tests"], cwd=ROOT, capture_output=True, text=True, check=True).stdout
        for path in out.split():
            if path.endswith(".cs"):
                try:
                    with open(f"{ROOT}/{path}", encoding="utf-8") as f:
                        yield path, f.read()
                except FileNotFoundError:
                    pass
    else:
        out = subprocess.run(["git", "ls-tree", "-r", "--name-only", rev, "tests"], cwd=ROOT, capture_output=True, text=True, check=True).stdout
        for path in out.split():
            if path.endswith(".cs"):
                yield path, subprocess.run(["git", "show", f"{rev}:{path}"], cwd=ROOT, capture_output=True, text=True, check=True).stdout


def area(path):
    parts = path.split("/")
    project = parts[1].replace("Builder.Tests.", "")
    return f"{project}/{parts[2]}" if len(parts) > 3 else f"{project}/(top)"


def count(rev):
    totals = collections.defaultdict(lambda: [0, 0, 0])
    for path, text in files(rev):
        if "/obj/" in path or "/bin/" in path:
            continue
        row = totals[area(path)]
        lines = text.splitlines()
        for i, line in enumerate(lines):
            stripped = line.strip()
            if stripped.startswith("[Fact"):
                row[0] += 1
                row[1] += 1
            elif stripped.startswith("[Theory"):
                row[0] += 1
                rows = 0
                for following in lines[i + 1:]:
                    f = following.strip()
                    if f.startswith("[InlineData"):
                        rows += 1
                    elif f.startswith("[MemberData") or f.startswith("[ClassData"):
                        rows += 1
                    elif f.startswith("[") or f.startswith("//"):
                        continue
                    else:
                        break
                row[1] += max(rows, 1)
        row[2] += len(re.findall(r"\bAssert\.[A-Z][A-Za-z]*\s*[(<]", text))
    return {k: v for k, v in totals.items() if any(v)}


def main():
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    markdown = "--markdown" in sys.argv
    totals = count(args[0] if args else None)
    if markdown:
        print("| Area | Test methods | Scenarios | Assertions |")
        print("|---|---:|---:|---:|")
    for name in sorted(totals):
        methods, scenarios, asserts = totals[name]
        print(f"| {name} | {methods} | {scenarios} | {asserts} |" if markdown else f"{name}\t{methods}\t{scenarios}\t{asserts}")
    sums = [sum(v[i] for v in totals.values()) for i in range(3)]
    print(f"| **total** | {sums[0]} | {sums[1]} | {sums[2]} |" if markdown else f"total\t{sums[0]}\t{sums[1]}\t{sums[2]}")


if __name__ == "__main__":
    main()
