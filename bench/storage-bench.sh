#!/usr/bin/env bash
# Storage benchmark: the index on S3 beside the same index on the file system and nginx (../shared/bench/compare.sh).
#   bench/storage-bench.sh [small|large] [ROUNDS]
# 1. builds the Release web host; 2. makes the harness's data set; 3. starts moto's S3 server on loopback and makes a
# bucket; 4. imports the data set twice with `Builder.Web import DIR`: into a file-system data dir, and into the bucket
# (on a fresh PostgreSQL database: the production shape); 5. starts three servers with anonymous reads on and logging at
# Warning: `fs` (file system), `s3` (bucket; small files then served from the download cache, as in production), and
# `s3-stream` (bucket, Builder__Index__FileCacheBytes=0: every download streamed from the bucket); 6. runs compare.sh
# with all three in each interleaved round; 7. times cold single downloads (a file not read before) from fs and s3.
# The pages never touch storage (they come from the database and the page cache); downloads do.
# Results: $OUT (default /tmp/bench-results/storage-<size>-<timestamp>); the table is printed at the end.
set -euo pipefail
SIZE=${1:-small}
ROUNDS=${2:-3}
HERE=$(cd "$(dirname "$0")/.." && pwd)
HARNESS=${HARNESS:-$HERE/../shared/bench}
OUT=${OUT:-/tmp/bench-results/storage-$SIZE-$(date +%Y%m%d-%H%M%S)}
WORK=$(mktemp -d /tmp/builder-storage-bench.XXXXXX)
MOTO=${MOTO:-${PYENV_ROOT:-$HOME/.pyenv}/versions/3.11.7/bin/moto_server}
mkdir -p "$OUT"
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$WORK"
  [ -z "${PG_DB:-}" ] || psql -h 127.0.0.1 -p "$PG_PORT" -U postgres -q -c "DROP DATABASE IF EXISTS $PG_DB" postgres || true
}
trap cleanup EXIT

. "$HERE/bench/lib.sh"
bench_tools
bench_build

echo "== S3 server (moto)"
S3_PORT=$(bench_free_port)
"$MOTO" -H 127.0.0.1 -p "$S3_PORT" >"$OUT/moto.log" 2>&1 &
PIDS+=($!)
for _ in $(seq 1 100); do curl -sf -o /dev/null "http://127.0.0.1:$S3_PORT/" && break; sleep 0.2; done
curl -sf -X PUT "http://127.0.0.1:$S3_PORT/bench" >/dev/null
# The S3 servers run in the production shape, on PostgreSQL (scripts/ensure-deps.sh --postgres starts one): a fresh
# database for this run. (Embedded SQLite would serialize the import's publications on its write lock while they write
# to S3: see the README's known limits.)
PG_CONN=$(cat "${BUILDER_STATE:-/var/tmp/builder-dev}/postgres.conn")
PG_PORT=$(sed -n 's/.*Port=\([0-9]*\).*/\1/p' <<<"$PG_CONN")
PG_DB=bench_s3_$(date +%s)
psql -h 127.0.0.1 -p "$PG_PORT" -U postgres -q -c "CREATE DATABASE $PG_DB" postgres
S3_SETTINGS=(Builder__Database=postgres "ConnectionStrings__Postgres=$PG_CONN;Database=$PG_DB" Builder__Storage__Provider=s3 Builder__Storage__S3__Bucket=bench Builder__Storage__S3__ServiceUrl="http://127.0.0.1:$S3_PORT"
  Builder__Storage__S3__ForcePathStyle=true Builder__Storage__S3__AccessKey=bench Builder__Storage__S3__SecretKey=bench)

# The file-system copy: lib.sh's import into $WORK/data.
bench_data
FS_DIR=$WORK/data
echo "== import into the bucket"
start=$(date +%s.%N)
(cd "$(dirname "$DLL")" && env Builder__DataDir="$WORK/s3data" "${S3_SETTINGS[@]}" dotnet "$DLL" import "$DATA") | tail -2
echo "import into S3 took $(awk -v a="$start" -v b="$(date +%s.%N)" 'BEGIN{printf "%.1f", b-a}') s" | tee -a "$OUT/import.txt"

start_server() {  # NAME DATADIR SETTINGS... ; sets PORT_<NAME> and PID_<NAME>
  local name=$1 dir=$2; shift 2
  local port; port=$(bench_free_port)
  (cd "$(dirname "$DLL")" && env Builder__DataDir="$dir" Builder__Access__AnonymousRead=true "$@" dotnet "$DLL" --urls "http://127.0.0.1:$port") >"$OUT/server-$name.log" 2>&1 &
  local pid=$!
  PIDS+=($pid)
  for _ in $(seq 1 150); do curl -sf -o /dev/null "http://127.0.0.1:$port/simple/" && break; sleep 0.2; done
  printf -v "PORT_${name//-/_}" '%s' "$port"
  printf -v "PID_${name//-/_}" '%s' "$pid"
  echo "$name: pid $pid on port $port"
}

start_server fs "$FS_DIR"
start_server s3 "$WORK/s3data" "${S3_SETTINGS[@]}"
start_server s3-stream "$WORK/s3data" "${S3_SETTINGS[@]}" Builder__Index__FileCacheBytes=0

echo "== cold downloads (one request per file, each file read for the first time by that server)"
{
  python3 - "$PORT_fs" "$PORT_s3" <<'EOF'
import re, statistics, sys, time, urllib.request
fs, s3 = sys.argv[1], sys.argv[2]
root = urllib.request.urlopen(f"http://127.0.0.1:{fs}/simple/").read().decode()
projects = re.findall(r'href="([^"]+)/"', root)[:40]
times = {"fs": [], "s3": []}
for i, project in enumerate(projects):
    for name, port in (("fs", fs), ("s3", s3)) if i % 2 == 0 else (("s3", s3), ("fs", fs)):
        page = urllib.request.urlopen(f"http://127.0.0.1:{port}/simple/{project}/").read().decode()
        url = re.findall(r'href="([^"#]+\.whl)#', page)[-1]
        full = urllib.request.urljoin(f"http://127.0.0.1:{port}/simple/{project}/", url)
        t = time.perf_counter()
        body = urllib.request.urlopen(full).read()
        times[name].append((time.perf_counter() - t) * 1000)
for name, values in times.items():
    print(f"cold download {name}: median {statistics.median(values):.2f} ms, p90 {sorted(values)[int(len(values) * 0.9) - 1]:.2f} ms over {len(values)} files")
EOF
} | tee "$OUT/cold.txt"

echo "== compare.sh (rounds: $ROUNDS)"
OUT=$OUT/compare "$HARNESS/compare.sh" --dataset "$SIZE" --rounds "$ROUNDS" \
  fs="http://127.0.0.1:$PORT_fs" s3="http://127.0.0.1:$PORT_s3" s3-stream="http://127.0.0.1:$PORT_s3_stream" \
  --pid fs="$PID_fs" --pid s3="$PID_s3" --pid s3-stream="$PID_s3_stream" | tee "$OUT/compare.txt"
echo "results in $OUT"
