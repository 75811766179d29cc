#!/usr/bin/env bash
# What provenance costs the index: project pages whose every file carries a provenance URL (JSON "provenance",
# HTML data-provenance), beside the same pages from Builder before provenance existed, and nginx, in the same rounds.
#   bench/provenance-index-bench.sh BEFORE_TREE [small|large] [ROUNDS]      (default: large 5)
# 1. builds the Release web host of this tree and of BEFORE_TREE (a checkout of Builder from before provenance, e.g.
#    `git worktree add /work/base d1caebe`); 2. imports the harness's data set into a data dir for each (imported files
#    have no provenance); 3. marks every file of this tree's data dir as having provenance (rendering reads only that
#    flag, so its pages are those of a data set whose every file was built here); 4. starts both, anonymous reads on,
#    logging at Warning; 5. ../shared/bench/compare.sh beside nginx with "before", "after" and "before" again ("before2").
# Results: $OUT (default /tmp/bench-results/provenance-index-<size>-<timestamp>).
set -euo pipefail
BEFORE_TREE=$(cd "${1:?usage: bench/provenance-index-bench.sh BEFORE_TREE [small|large] [ROUNDS]}" && pwd)
SIZE=${2:-large}
ROUNDS=${3:-5}
HERE=$(cd "$(dirname "$0")/.." && pwd)
HARNESS=${HARNESS:-$HERE/../shared/bench}
OUT=${OUT:-/tmp/bench-results/provenance-index-$SIZE-$(date +%Y%m%d-%H%M%S)}
WORK=$(mktemp -d /tmp/builder-provenance-bench.XXXXXX)
mkdir -p "$OUT"
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT

. "$HERE/bench/lib.sh"
bench_tools
command -v sqlite3 >/dev/null || apt-get install -y -qq sqlite3 >&2
echo "== build (Release): this tree and $BEFORE_TREE"
dotnet build "$HERE/src/Builder.Web" -c Release -v q -nologo >/dev/null
dotnet build "$BEFORE_TREE/src/Builder.Web" -c Release -v q -nologo >/dev/null
DATA=$("$HARNESS/compare.sh" --dataset "$SIZE" --prepare-only)
export Builder__AdminToken=bench-admin-token-0123456789 Logging__LogLevel__Default=Warning Builder__Access__AnonymousRead=true
declare -A URLS
for side in before after; do
  tree=$HERE; [ "$side" = before ] && tree=$BEFORE_TREE
  dll=$tree/src/Builder.Web/bin/Release/net10.0/Builder.Web.dll
  echo "== import ($side)"
  (cd "$(dirname "$dll")" && Builder__DataDir=$WORK/data-$side dotnet "$dll" import "$DATA") | tail -1
  if [ "$side" = after ]; then
    sqlite3 "$WORK/data-after/builder.db" 'UPDATE builder_files SET "HasProvenance" = 1;'
    echo "files marked with provenance: $(sqlite3 "$WORK/data-after/builder.db" 'SELECT count(*) FROM builder_files WHERE "HasProvenance" = 1;')"
  fi
  port=$(bench_free_port)
  (cd "$(dirname "$dll")" && Builder__DataDir=$WORK/data-$side exec dotnet "$dll" --urls "http://127.0.0.1:$port") >"$OUT/server-$side.log" 2>&1 &
  PIDS+=($!)
  URLS[$side]=http://127.0.0.1:$port
  for _ in $(seq 1 150); do curl -sf -o /dev/null "${URLS[$side]}/simple/" && break; sleep 0.2; done
done
MID=$(curl -s "${URLS[after]}/simple/" | grep -o 'href="[^"]*/"' | sed -n '1s/href="\(.*\)\/"/\1/p')
echo "page sizes of $MID: before $(curl -s "${URLS[before]}/simple/$MID/" | wc -c) B HTML, after $(curl -s "${URLS[after]}/simple/$MID/" | wc -c) B HTML; after has $(curl -s "${URLS[after]}/simple/$MID/" | grep -c 'data-provenance=') links with data-provenance" | tee "$OUT/pages.txt"
# "before" twice per round, around "after": after / mean(before, before2) per round cancels drift within a round, and
# before2 / before (the same server read twice) is the noise floor.
OUT=$OUT/compare "$HARNESS/compare.sh" --dataset "$SIZE" --rounds "$ROUNDS" before="${URLS[before]}" after="${URLS[after]}" before2="${URLS[before]}" \
  --pid before="${PIDS[0]}" --pid after="${PIDS[1]}" --pid before2="${PIDS[0]}" | tee "$OUT/compare.txt"
python3 "$HERE/bench/access_ratios.py" "$OUT/compare/results.tsv" --around=before,before2 after | tee "$OUT/ratios.md"
echo "results in $OUT"
