#!/usr/bin/env bash
# Where the index's time goes, per request: nginx, a bare Kestrel (bench/kestrel-floor: no middleware, one fixed page of
# Builder's mean project-page size) and Builder, each serving /simple/{project}/ of the harness's data set to wrk
# (-t2 -c32, 3 s warm-up, DUR s measured, the harness's project rotation), in interleaved rounds.
#   bench/floor-bench.sh [small|large] [ROUNDS]      (default: large 3)
# VARIANTS="NAME:SETTING=VALUE[,SETTING=VALUE...] ..." adds more Builders to the same rounds, each on its own copy of
# the imported data dir with those settings, e.g. VARIANTS="queued:Builder__Http__InlineScheduling=false". The bare
# Kestrel runs twice: "floor" (Kestrel's default scheduling) and "floor-inline" (inline scheduling).
# For each run: req/s, p99, and the server's CPU time per request (utime+stime of its processes over the measured
# seconds / requests, from /proc): what the server itself spends on one request, apart from wrk's share of the cores.
# Results: $OUT (default /tmp/bench-results/floor-<size>-<timestamp>).
set -euo pipefail
SIZE=${1:-large}
ROUNDS=${2:-3}
HERE=$(cd "$(dirname "$0")/.." && pwd)
HARNESS=${HARNESS:-$HERE/../shared/bench}
OUT=${OUT:-/tmp/bench-results/floor-$SIZE-$(date +%Y%m%d-%H%M%S)}
WORK=$(mktemp -d /tmp/builder-floor-bench.XXXXXX)
DUR=${DUR:-10}
mkdir -p "$OUT"
cleanup() {
  for p in ${PID:-} ${FLOOR_PID:-} ${FLOOR_INLINE_PID:-} ${NGINX_PID:-} ${VARIANT_PIDS:-}; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT

. "$HERE/bench/lib.sh"
bench_tools
bench_build
bench_data
declare -A VURL VPID
VARIANT_NAMES=()
for variant in ${VARIANTS:-}; do
  name=${variant%%:*}
  cp -a "$WORK/data" "$WORK/data-$name"
  IFS=, read -r -a settings <<< "${variant#*:}"
  Builder__DataDir=$WORK/data-$name bench_start "${settings[@]}"
  VURL[$name]=$BASE; VPID[$name]=$PID; VARIANT_NAMES+=("$name"); VARIANT_PIDS="${VARIANT_PIDS:-} $PID"
done
bench_start
echo "== bare Kestrel (bench/kestrel-floor)"
dotnet build "$HERE/bench/kestrel-floor" -c Release -v q -nologo >/dev/null
FLOOR_PORT=$(bench_free_port)
(cd "$HERE/bench/kestrel-floor/bin/Release/net10.0" && exec dotnet KestrelFloor.dll --urls "http://127.0.0.1:$FLOOR_PORT") >"$OUT/floor.log" 2>&1 &
FLOOR_PID=$!
FLOOR_INLINE_PORT=$(bench_free_port)
(cd "$HERE/bench/kestrel-floor/bin/Release/net10.0" && FLOOR_INLINE=1 exec dotnet KestrelFloor.dll --urls "http://127.0.0.1:$FLOOR_INLINE_PORT") >"$OUT/floor-inline.log" 2>&1 &
FLOOR_INLINE_PID=$!
STATIC=$(dirname "$DATA")/$(basename "$DATA")-static
python3 "$HARNESS/render_static.py" "$DATA" "$STATIC" >/dev/null
bench_nginx "$STATIC"
for _ in $(seq 1 100); do
  curl -sf -o /dev/null "http://127.0.0.1:$FLOOR_PORT/simple/x/" && curl -sf -o /dev/null "http://127.0.0.1:$FLOOR_INLINE_PORT/simple/x/" && break
  sleep 0.2
done
# The project names, as the harness's bench_index.sh makes them.
python3 -c 'import os,sys; sys.path.insert(0,sys.argv[1]); from render_static import project_of
print("\n".join(sorted({p for f in os.listdir(sys.argv[2]) if not f.startswith(".") for p in [project_of(f)] if p})))' \
  "$HARNESS" "$DATA" > "$WORK/names"

ticks() { local t=0 p; for p in "$@"; do t=$((t + $(sed 's/.*) //' "/proc/$p/stat" | awk '{print $12 + $13}'))); done; echo $t; }
measure() {  # name url pid...
  local name=$1 url=$2 a b r; shift 2
  WRK_NAMES=$WORK/names wrk -t2 -c32 -d3s -s "$HARNESS/wrk_index.lua" "$url" >/dev/null 2>&1 || true
  a=$(ticks "$@")
  r=$(WRK_NAMES=$WORK/names wrk -t2 -c32 -d"${DUR}s" -s "$HARNESS/wrk_index.lua" "$url" | grep '^RESULT ' | sed 's/^RESULT //')
  b=$(ticks "$@")
  echo "$r" | awk -v n="$name" -v t=$((b - a)) -v hz="$(getconf CLK_TCK)" '{
    for (i = 1; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
    printf "%s rps=%s p99_ms=%s cpu_us_per_req=%.1f avg_resp_bytes=%s\n", n, v["rps"], v["p99_ms"], t * 1e6 / hz / v["requests"], v["avg_resp_bytes"] }'
}
NGINX_WORKERS=$(pgrep -P "$NGINX_PID" | tr '\n' ' ')
: > "$OUT/runs.txt"
for round in $(seq 1 "$ROUNDS"); do
  for who in nginx floor floor-inline builder "${VARIANT_NAMES[@]}"; do
    case $who in
      nginx) line=$(measure nginx "http://127.0.0.1:$NPORT/simple/" $NGINX_WORKERS) ;;
      floor) line=$(measure floor "http://127.0.0.1:$FLOOR_PORT/simple/" $FLOOR_PID) ;;
      floor-inline) line=$(measure floor-inline "http://127.0.0.1:$FLOOR_INLINE_PORT/simple/" $FLOOR_INLINE_PID) ;;
      builder) line=$(measure builder "$BASE/simple/" $PID) ;;
      *) line=$(measure "$who" "${VURL[$who]}/simple/" ${VPID[$who]}) ;;
    esac
    echo "round $round $line" | tee -a "$OUT/runs.txt"
  done
done
echo "== medians of $ROUNDS rounds"
python3 - "$OUT/runs.txt" <<'PY' | tee "$OUT/table.md"
import re, statistics, sys
runs = {}
for line in open(sys.argv[1]):
    m = re.match(r'round \d+ (\S+) (.*)', line)
    if m:
        runs.setdefault(m.group(1), []).append({k: float(v) for k, v in (kv.split('=') for kv in m.group(2).split())})
nginx = statistics.median(r['rps'] for r in runs['nginx'])
print('| server | req/s | vs nginx | p99 ms | CPU µs per request | bytes per answer |')
print('|---|---:|---:|---:|---:|---:|')
for name, rs in runs.items():
    rps = statistics.median(r['rps'] for r in rs)
    print(f"| {name} | {rps:,.0f} | {rps / nginx:.2f}x | {statistics.median(r['p99_ms'] for r in rs):.2f} | "
          f"{statistics.median(r['cpu_us_per_req'] for r in rs):.1f} | {statistics.median(r['avg_resp_bytes'] for r in rs):,.0f} |")
PY
echo "results in $OUT"
