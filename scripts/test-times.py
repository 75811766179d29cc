#!/usr/bin/env python3
"""The slowest test classes of the last run, from the times the test framework wrote (tests/Shared/TimedTestFramework.cs).

    scripts/test-times.py [--top N] [--markdown] [--save] [--before BEFORE_DIR] [DIR]

DIR (default $BUILDER_TEST_TIMES, else TestResults/times under the checkout) holds one <assembly>.tsv per test assembly:
a line per test class with its wall time (class fixtures included), tests, failures. Prints the N slowest (default 10)
with each one's share of the summed class time, and the run's wall time per assembly (first class start to last end:
less than the sum when classes run in parallel). --markdown prints the same as a table for tests/TIMES.md. --save
also writes tests/class-times.tsv (every class's seconds), which the integration tests' scheduler reads to start the
longest classes first. --before BEFORE_DIR prints, for the N slowest classes of BEFORE_DIR, their seconds and share
there and in DIR side by side (tests/TIMES.md's table).
"""
import argparse
import csv
import datetime
import os
import sys


def load(directory):
    rows = []
    spans = {}
    for name in sorted(os.listdir(directory)):
        if not name.endswith(".tsv"):
            continue
        assembly = name[:-4]
        with open(os.path.join(directory, name), newline="", encoding="utf-8") as f:
            for row in csv.DictReader(f, delimiter="\t"):
                started = datetime.datetime.fromisoformat(row["started"])
                seconds = float(row["seconds"])
                rows.append({
                    "assembly": assembly,
                    "class": row["class"],
                    "seconds": seconds,
                    "tests": int(row["tests"]),
                    "failed": int(row["failed"]),
                    "skipped": int(row["skipped"]),
                    "waited": float(row.get("waited") or 0),
                    "cpu": float(row.get("cpu") or 0),
                })
                first, last = spans.get(assembly, (started, started))
                end = started + datetime.timedelta(seconds=seconds)
                started -= datetime.timedelta(seconds=float(row.get("waited") or 0))
                spans[assembly] = (min(first, started), max(last, end))
    return rows, spans


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("directory", nargs="?")
    parser.add_argument("--top", type=int, default=10)
    parser.add_argument("--markdown", action="store_true")
    parser.add_argument("--save", action="store_true")
    parser.add_argument("--before")
    args = parser.parse_args()
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    directory = args.directory or os.environ.get("BUILDER_TEST_TIMES") or os.path.join(root, "TestResults", "times")
    if not os.path.isdir(directory):
        print(f"test-times: no times in {directory} (the test run wrote none)", file=sys.stderr)
        return 1
    rows, spans = load(directory)
    if args.before:
        return compare(load(args.before)[0], rows, args.top)
    if args.save:
        with open(os.path.join(root, "tests", "class-times.tsv"), "w", encoding="utf-8") as f:
            f.write("class\tseconds\n")
            for r in sorted(rows, key=lambda r: r["class"]):
                f.write(f"{r['class']}\t{r['seconds']:.1f}\n")
    total = sum(r["seconds"] for r in rows) or 1.0
    slowest = sorted(rows, key=lambda r: r["seconds"], reverse=True)[: args.top]
    short = lambda r: r["class"].rsplit(".", 2)[-2] + "." + r["class"].rsplit(".", 1)[-1] if r["class"].count(".") > 2 else r["class"]
    if args.markdown:
        print("| # | class | tests | seconds | share of summed class time |")
        print("|---|---|---:|---:|---:|")
        for i, r in enumerate(slowest, 1):
            print(f"| {i} | {short(r)} | {r['tests']} | {r['seconds']:.1f} | {100 * r['seconds'] / total:.1f}% |")
    else:
        print(f"The {len(slowest)} slowest test classes ({len(rows)} classes, {sum(r['tests'] for r in rows)} tests, {total:.0f} s of class time):")
        for r in slowest:
            failed = f"  {r['failed']} FAILED" if r["failed"] else ""
            print(f"  {r['seconds']:8.1f} s  {100 * r['seconds'] / total:5.1f}%  {r['tests']:4d} tests  {short(r)}{failed}")
    for assembly, (first, last) in sorted(spans.items()):
        summed = sum(r["seconds"] for r in rows if r["assembly"] == assembly)
        wall = (last - first).total_seconds()
        print(f"{'' if not args.markdown else '- '}{assembly}: {wall:.0f} s wall, {summed:.0f} s summed over classes")
    return 0


def compare(before, after, top):
    """The slowest classes before, with their time and share before and after, as a Markdown table."""
    total_before = sum(r["seconds"] for r in before) or 1.0
    total_after = sum(r["seconds"] for r in after) or 1.0
    now = {r["class"]: r for r in after}
    print("| # | class | tests before / after | seconds before | share before | seconds after | share after |")
    print("|---|---|---:|---:|---:|---:|---:|")
    for i, r in enumerate(sorted(before, key=lambda r: r["seconds"], reverse=True)[:top], 1):
        a = now.get(r["class"])
        name = r["class"].split(".", 3)[-1] if r["class"].count(".") >= 3 else r["class"]
        after_cells = f"{a['seconds']:.1f} | {100 * a['seconds'] / total_after:.1f}%" if a else "(gone) | -"
        print(f"| {i} | {name} | {r['tests']} / {a['tests'] if a else '-'} | {r['seconds']:.1f} | {100 * r['seconds'] / total_before:.1f}% | {after_cells} |")
    print(f"| | all {len(before)} / {len(after)} classes | {sum(r['tests'] for r in before)} / {sum(r['tests'] for r in after)} | {total_before:.0f} | 100% | {total_after:.0f} | 100% |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
