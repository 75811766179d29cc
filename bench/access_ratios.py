#!/usr/bin/env python3
"""Token vs anonymous, round by round: access_ratios.py RESULTS.tsv [--around=A,B] TOKEN_NAME [TOKEN_NAME ...]

Reads compare.sh's results.tsv (or access-bench.sh's root.tsv, same columns) of one run in which the same Builder
joined as "anon" (no credentials) before and "anon2" after each token server in every round. For each token server
and scenario it prints the median over rounds of req/s token / mean(anon, anon2) of the same round (drift within a
round cancels out), the rounds' range, and the noise floor: the median and range of anon2 / anon, the same server
read the same way twice. --around=A,B names the two runs of the reference server (default anon,anon2): e.g.
--around=before,before2 for a change measured against the old build run twice in each round."""
import re
import statistics
import sys
from collections import defaultdict

args = sys.argv[2:]
first, second = "anon", "anon2"
if args and args[0].startswith("--around="):
    first, second = args[0].split("=", 1)[1].split(",")
    args = args[1:]

rps = defaultdict(dict)  # (server, scenario) -> {round: rps}
p99 = defaultdict(dict)
for line in open(sys.argv[1]):
    parts = line.split()
    if len(parts) < 5:
        continue
    _, rnd, server, scenario = parts[:4]
    kv = dict(re.findall(r'(\w+)=([^ ]+)', line))
    if "rps" in kv:
        rps[(server, scenario)][int(rnd)] = float(kv["rps"])
        p99[(server, scenario)][int(rnd)] = float(kv["p99_ms"])

print(f"| server | scenario | it / mean({first}, {second}) (median of rounds) | rounds' range | {second} / {first} (noise floor) | its range |")
print("|---|---|---:|---|---:|---|")
for token in args:
    for (server, scenario), by_round in sorted(rps.items()):
        if server != token:
            continue
        ratios, floors = [], []
        for rnd, value in sorted(by_round.items()):
            a, b = rps[(first, scenario)].get(rnd), rps[(second, scenario)].get(rnd)
            if a and b:
                ratios.append(value / ((a + b) / 2))
                floors.append(b / a)
        if ratios:
            print(f"| {token} | {scenario} | {statistics.median(ratios):.2f}x | {min(ratios):.2f}-{max(ratios):.2f} "
                  f"| {statistics.median(floors):.2f}x | {min(floors):.2f}-{max(floors):.2f} |")
