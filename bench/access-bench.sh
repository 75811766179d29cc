#!/usr/bin/env bash
# What authorization costs the index: one Builder read anonymously and with tokens, beside nginx, in the same run.
#   bench/access-bench.sh [small|large] [ROUNDS]      (default: large 5)
# 1. builds the Release web host; 2. makes the shared harness's data set; 3. imports it into a fresh embedded data
# dir; 4. mints two read tokens with `Builder.Web token create` (one for every project, one for pkg-00*: half the
# large set's 2,000 projects); 5. starts ONE server with Builder__Access__AnonymousRead=true (logging at Warning);
# 6. runs ../shared/bench/compare.sh with that server three times: "anon" (no credentials), "token" (HTTP Basic with the
# read-everything token), "anon2" (no credentials again), all in the same interleaved rounds; 7. measures GET /simple/
# alone with the pkg-00* token (the filtered listing) between two anonymous GET /simple/ and beside nginx's, ROUNDS
# times, with the harness's wrk script and settings. Tables: medians over rounds vs nginx (summarize.py), and per round
# token / mean(anon, anon2) with anon2 / anon as the noise floor (bench/access_ratios.py).
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

echo "== compare.sh: anon, token, anon2 beside nginx ($ROUNDS rounds)"
# The same server three times per round: anonymous, with the read-everything token, anonymous again. The token's
# ratio is taken against the mean of the two anonymous runs around it (drift within a round cancels), and anon2/anon
# is the noise floor: the same server, read the same way, measured twice.
OUT=$OUT/compare "$HARNESS/compare.sh" --dataset "$SIZE" --rounds "$ROUNDS" \
  anon="$BASE" token="$BASE" anon2="$BASE" --header token="$(basic "$ALL")" \
  --pid anon=$PID --pid token=$PID --pid anon2=$PID | tee "$OUT/compare.txt"
python3 "$HERE/bench/access_ratios.py" "$OUT/compare/results.tsv" token | tee "$OUT/ratios.md"

echo "== /simple/ alone: the pkg-00* token's filtered listing beside anonymous and nginx ($ROUNDS rounds)"
# nginx as compare.sh runs it (same configuration), on the static tree compare.sh rendered next to the data set.
STATIC=$(dirname "$DATA")/$(basename "$DATA")-static
bench_nginx "$STATIC"
wrk_root() {  # label url [header]
  local hdr=() r
  [ -z "${3:-}" ] || hdr=(-H "$3")
  wrk -t"$THREADS" -c"$CONNS" -d"${WARM}s" --timeout "$TIMEOUT" "${hdr[@]}" -s "$HARNESS/wrk_index.lua" "$2" >/dev/null 2>&1 || true
  r=$(wrk -t"$THREADS" -c"$CONNS" -d"${DUR}s" --timeout "$TIMEOUT" "${hdr[@]}" -s "$HARNESS/wrk_index.lua" "$2" 2>&1 | grep '^RESULT ' | sed 's/^RESULT //')
  echo "$1 $r"
}
: > "$OUT/root.tsv"
for round in $(seq 1 "$ROUNDS"); do
  for who in nginx anon token-half anon2; do
    case $who in
      nginx) line=$(wrk_root nginx "http://127.0.0.1:$NPORT/simple/") ;;
      token-half) line=$(wrk_root token-half "$BASE/simple/" "$(basic "$HALF")") ;;
      *) line=$(wrk_root "$who" "$BASE/simple/") ;;
    esac
    echo "$SIZE $round ${line%% *} root ${line#* }" | tee -a "$OUT/root.tsv"
  done
done
python3 "$HARNESS/summarize.py" "$OUT/root.tsv" nginx | tee "$OUT/root-table.md"
python3 "$HERE/bench/access_ratios.py" "$OUT/root.tsv" token-half | tee -a "$OUT/ratios.md"
echo "server memory at the end: $(grep -E 'VmRSS|VmHWM' /proc/$PID/status | tr -s ' ' | tr '\n' ' ')" | tee "$OUT/memory.txt"
echo "results in $OUT"
