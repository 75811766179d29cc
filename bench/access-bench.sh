#!/usr/bin/env bash
# What authorization costs the index: one Builder read anonymously and with tokens, beside nginx, in the same run.
#   bench/access-bench.sh [small|large] [ROUNDS]      (default: large 5)
# 1. builds the Release web host; 2. makes the shared harness's data set; 3. imports it into a fresh embedded data
# dir; 4. mints two read tokens with `Builder.Web token create` (one for every project, one for pkg-00*: half the
# large set's 2,000 projects); 5. starts ONE server with Builder__Access__AnonymousRead=true (logging at Warning);
# 6. runs ../shared/bench/compare.sh with that server twice: "anon" (no credentials) and "token" (HTTP Basic with
# the read-everything token), so both join the same interleaved rounds; 7. measures GET /simple/ alone with the
# pkg-00* token (the filtered listing) beside the same anonymous GET /simple/ and nginx's, interleaved, ROUNDS times,
# with the harness's wrk script and settings. Medians over rounds; the spread is printed per round.
# Results: $OUT (default /tmp/bench-results/access-<size>-<timestamp>).
set -euo pipefail
SIZE=${1:-large}
ROUNDS=${2:-5}
HERE=$(cd "$(dirname "$0")/.." && pwd)
HARNESS=${HARNESS:-$HERE/../shared/bench}
OUT=${OUT:-/tmp/bench-results/access-$SIZE-$(date +%Y%m%d-%H%M%S)}
WORK=$(mktemp -d /tmp/builder-access-bench.XXXXXX)
DUR=${DUR:-10}; WARM=${WARM:-3}; THREADS=${THREADS:-2}; CONNS=${CONNS:-32}; TIMEOUT=${TIMEOUT:-30s}
mkdir -p "$OUT"
cleanup() {
  [ -n "${PID:-}" ] && kill "$PID" 2>/dev/null
  [ -n "${NGINX_PID:-}" ] && kill "$NGINX_PID" 2>/dev/null
  wait 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT

. "$HERE/bench/lib.sh"
bench_tools
bench_build
bench_data
echo "== tokens"
ALL=$(cd "$(dirname "$DLL")" && dotnet "$DLL" token create --name bench-all --scope read 2>/dev/null)
HALF=$(cd "$(dirname "$DLL")" && dotnet "$DLL" token create --name bench-half --scope read --project 'pkg-00*' 2>/dev/null)
basic() { printf 'Authorization: Basic %s' "$(printf '__token__:%s' "$1" | base64 -w0)"; }
bench_start
projects() { curl -s "$@" "$BASE/simple/" | grep -c 'href=' || true; }
echo "projects listed: anonymous $(projects), token (all) $(projects -H "$(basic "$ALL")"), token (pkg-00*) $(projects -H "$(basic "$HALF")")" | tee "$OUT/listing.txt"

echo "== compare.sh: anon and token beside nginx ($ROUNDS rounds)"
OUT=$OUT/compare "$HARNESS/compare.sh" --dataset "$SIZE" --rounds "$ROUNDS" \
  anon="$BASE" token="$BASE" --header token="$(basic "$ALL")" --pid anon=$PID --pid token=$PID | tee "$OUT/compare.txt"

echo "== /simple/ alone: the pkg-00* token's filtered listing beside anonymous and nginx ($ROUNDS rounds)"
# nginx as compare.sh runs it (same configuration), on the static tree compare.sh rendered next to the data set.
STATIC=$(dirname "$DATA")/$(basename "$DATA")-static
NPORT=$(bench_free_port)
mkdir -p "$WORK/nginx"
cat > "$WORK/nginx/nginx.conf" <<EOF
$([ "$(id -u)" != 0 ] || echo "user root;")
worker_processes auto;
daemon off;
pid $WORK/nginx/nginx.pid;
error_log $WORK/nginx/error.log warn;
events { worker_connections 4096; }
http {
    types { text/html html; }
    default_type application/octet-stream;
    access_log off;
    sendfile on; tcp_nopush on; tcp_nodelay on;
    keepalive_requests 1000000;
    open_file_cache max=50000 inactive=60s;
    client_body_temp_path $WORK/nginx/body; proxy_temp_path $WORK/nginx/proxy;
    fastcgi_temp_path $WORK/nginx/fcgi; uwsgi_temp_path $WORK/nginx/uwsgi; scgi_temp_path $WORK/nginx/scgi;
    server {
        listen 127.0.0.1:$NPORT;
        root $STATIC;
        location /simple/ { index index.html; }
        location /packages/ { alias $DATA/; }
    }
}
EOF
nginx -e "$WORK/nginx/error.log" -c "$WORK/nginx/nginx.conf" > "$WORK/nginx/stdout.log" 2>&1 &
NGINX_PID=$!
for _ in $(seq 1 50); do curl -sf -o /dev/null "http://127.0.0.1:$NPORT/simple/" && break; sleep 0.1; done
wrk_root() {  # label url [header]
  local hdr=() r
  [ -z "${3:-}" ] || hdr=(-H "$3")
  wrk -t"$THREADS" -c"$CONNS" -d"${WARM}s" --timeout "$TIMEOUT" "${hdr[@]}" -s "$HARNESS/wrk_index.lua" "$2" >/dev/null 2>&1 || true
  r=$(wrk -t"$THREADS" -c"$CONNS" -d"${DUR}s" --timeout "$TIMEOUT" "${hdr[@]}" -s "$HARNESS/wrk_index.lua" "$2" 2>&1 | grep '^RESULT ' | sed 's/^RESULT //')
  echo "$1 $r"
}
: > "$OUT/root.txt"
for round in $(seq 1 "$ROUNDS"); do
  wrk_root nginx "http://127.0.0.1:$NPORT/simple/" | sed "s/^/$round /" | tee -a "$OUT/root.txt"
  wrk_root anon "$BASE/simple/" | sed "s/^/$round /" | tee -a "$OUT/root.txt"
  wrk_root token-half "$BASE/simple/" "$(basic "$HALF")" | sed "s/^/$round /" | tee -a "$OUT/root.txt"
done
python3 - "$OUT/root.txt" <<'EOF' | tee "$OUT/root-table.md"
import re, statistics, sys
rows = {}
for line in open(sys.argv[1]):
    parts = line.split()
    if len(parts) < 3:
        continue
    kv = dict(re.findall(r'(\w+)=([^ ]+)', line))
    rows.setdefault(parts[1], []).append(kv)
def med(name, key):
    return statistics.median(float(r[key]) for r in rows[name] if key in r)
print("| server | scenario | req/s | p50 ms | p99 ms | req/s vs nginx | req/s vs anon | p99 vs nginx | non2xx / sock err | req/s per round |")
print("|---|---|---:|---:|---:|---:|---:|---:|---:|---|")
for name in ("nginx", "anon", "token-half"):
    rs, p50, p99 = med(name, "rps"), med(name, "p50_ms"), med(name, "p99_ms")
    errs = sum(int(r.get("non2xx", 0)) for r in rows[name]), sum(int(r.get("sockerr", 0)) for r in rows[name])
    per = " / ".join(f"{float(r['rps']):,.0f}" for r in rows[name])
    print(f"| {name} | root | {rs:,.0f} | {p50:.2f} | {p99:.2f} | {rs/med('nginx','rps'):.2f}x | {rs/med('anon','rps'):.2f}x | {p99/med('nginx','p99_ms'):.2f}x | {errs[0]} / {errs[1]} | {per} |")
EOF
echo "server memory at the end: $(grep -E 'VmRSS|VmHWM' /proc/$PID/status | tr -s ' ' | tr '\n' ' ')" | tee "$OUT/memory.txt"
echo "results in $OUT"
