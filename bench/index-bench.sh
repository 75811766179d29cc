#!/usr/bin/env bash
# Index benchmark: Builder beside nginx serving the same pages (../shared/bench/compare.sh), on one data set.
#   bench/index-bench.sh [small|large] [ROUNDS]
# 1. builds the Release web host; 2. makes the shared harness's data set; 3. imports it into a fresh embedded
# data dir with `Builder.Web import DIR`; 4. starts the server (logging at Warning) on a free loopback port, with
# anonymous reads on (Builder__Access__AnonymousRead=true: this measures the index; bench/access-bench.sh measures tokens);
# 5. runs compare.sh with --pid so it reports memory; 6. measures "publish → visible" on this server
# (a new wheel published through the index's own upload path must be listed on the very next request).
# Results: $OUT (default /tmp/bench-results/builder-<size>-<timestamp>); the table is printed at the end.
set -euo pipefail
SIZE=${1:-small}
ROUNDS=${2:-3}
HERE=$(cd "$(dirname "$0")/.." && pwd)
HARNESS=${HARNESS:-$HERE/../shared/bench}
OUT=${OUT:-/tmp/bench-results/builder-$SIZE-$(date +%Y%m%d-%H%M%S)}
WORK=$(mktemp -d /tmp/builder-bench.XXXXXX)
mkdir -p "$OUT"
cleanup() { [ -n "${PID:-}" ] && kill "$PID" 2>/dev/null; wait 2>/dev/null || true; rm -rf "$WORK"; }
trap cleanup EXIT

. "$HERE/bench/lib.sh"
bench_tools
bench_build
bench_data
bench_start
TOKEN=$Builder__AdminToken

echo "== compare.sh (rounds: $ROUNDS)"
OUT=$OUT/compare "$HARNESS/compare.sh" --dataset "$SIZE" --rounds "$ROUNDS" builder="http://127.0.0.1:$PORT" --pid builder=$PID | tee "$OUT/compare.txt"

echo "== publish → visible (the upload path, then the very next request)"
FIRST=$(curl -s "http://127.0.0.1:$PORT/simple/" | grep -o 'href="[^"]*/"' | sed -n '1{s/href="//;s#/"##;p}')   # sed reads all: no SIGPIPE
curl -s -o /dev/null "http://127.0.0.1:$PORT/simple/$FIRST/"     # cached now
NEW=$(python3 "$HARNESS/gen_dataset.py" --one "$FIRST" 9999.0.0 "$WORK")
code=$(curl -s -o /dev/null -w '%{http_code}' -u "__token__:$TOKEN" -F ":action=file_upload" -F "protocol_version=1" \
  -F "content=@$NEW" "http://127.0.0.1:$PORT/legacy/")
t0=$(date +%s%N)
if curl -s "http://127.0.0.1:$PORT/simple/$FIRST/" | grep -q "$(basename "$NEW")"; then seen=yes; else seen=no; fi
echo "upload HTTP $code; new file in the very next response: $seen ($(( ($(date +%s%N) - t0) / 1000000 )) ms)" | tee "$OUT/fresh.txt"
echo "server memory at the end: $(grep -E 'VmRSS|VmHWM' /proc/$PID/status | tr -s ' ' | tr '\n' ' ')" | tee -a "$OUT/fresh.txt"
echo "results in $OUT"
