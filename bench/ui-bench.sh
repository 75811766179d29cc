#!/usr/bin/env bash
# Web UI render times on the harness's data set, signed in, and a 100,000-line build log on the server and in a browser.
#   bench/ui-bench.sh [small|large] [N]          (default: large 50)
# 1. builds the Release web host, makes the shared harness's data set and imports it into a fresh embedded data dir
#    (bench/lib.sh, as index-bench.sh); starts the server (logging at Warning) with anonymous reads OFF;
# 2. creates two local people with the admin token (POST /api/people): bench-admin (admin) and bench-reader (reader of
#    READER_GLOB, default pkg-00*: 999 of the large set's 2,000 projects); registers a repository (POST
#    /api/repositories, a file:// clone URL that does not exist: nothing is cloned) and writes builds straight into the
#    SQLite database (bench/ui_builds.py: one finished build per project, then a failed build of LOG_PROJECT with a
#    LOG_LINES-line log in 500-line chunks, 24 sections);
# 3. signs both in like a browser (GET /sign-in for the __csrf field and the anti-forgery cookie, POST /sign-in) and
#    keeps their builder_session cookies;
# 4. times WARM warm-ups then N requests of each page for each person, interleaved (one request of every page and
#    person per round), with curl (a new connection each: time_starttransfer and time_total): /, /?page=20, /?q=Q,
#    /?q=Q&partial=1 (what app.js's search as you type asks for), /?q=Q&partial=true (the results fragment: see below),
#    /project/PROJECT/, /project/PROJECT/VERSION/, /builds; prints median, p90 and max per page and the response size,
#    and the server's VmHWM before and after. Before timing it checks each page (200 and a marker) and says whether the
#    two search fragments answered the fragment alone or the whole page (on 2026-11-28, partial=1 gave the whole page:
#    a bool property does not bind "1");
# 5. the log: GET /builds/ID (admin) LOG_N times after one warm-up, and for reference the raw log of the same chunks
#    (GET /api/builds/ID/log?follow=false, text); then the page in Debian's headless Chromium with
#    the admin's session cookie (bench/ui_browser.js: Node, the DevTools protocol over a pipe, no npm package):
#    BROWSER_RUNS loads after a warm-up, and opening and closing the biggest folded section.
# Results: $OUT (default /tmp/bench-results/ui-<size>-<timestamp>): requests.tsv, log.tsv, raw-log.tsv, pages.md (the
# tables), memory.txt, machine.txt, browser.txt and browser.jsonl (each load), chromium.log.
set -euo pipefail
SIZE=${1:-large}
N=${2:-50}
WARM=${WARM:-5}
LOG_LINES=${LOG_LINES:-100000}
LOG_N=${LOG_N:-10}
BROWSER_RUNS=${BROWSER_RUNS:-5}
Q=${Q:-12}
READER_GLOB=${READER_GLOB:-pkg-00*}
PROJECT=${PROJECT:-pkg-00042}
LOG_PROJECT=${LOG_PROJECT:-pkg-00001}
PASSWORD=bench-password-0123456789
HERE=$(cd "$(dirname "$0")/.." && pwd)
HARNESS=${HARNESS:-$HERE/../shared/bench}
OUT=${OUT:-/tmp/bench-results/ui-$SIZE-$(date +%Y%m%d-%H%M%S)}
WORK=$(mktemp -d /tmp/builder-ui-bench.XXXXXX)
mkdir -p "$OUT"
cleanup() { [ -n "${PID:-}" ] && kill "$PID" 2>/dev/null; wait 2>/dev/null || true; rm -rf "$WORK"; }
trap cleanup EXIT

. "$HERE/bench/lib.sh"
for t in curl sqlite3 chromium node; do command -v $t >/dev/null || { apt-get install -y -qq curl sqlite3 chromium nodejs >&2; break; }; done
echo "== machine: $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg) at $(date -u +%H:%M) UTC" | tee "$OUT/machine.txt"
bench_build
bench_data
bench_start Builder__Access__AnonymousRead=false
TOKEN=$Builder__AdminToken
DB=$Builder__DataDir/builder.db
mem() { grep -E 'VmHWM|VmRSS' "/proc/$PID/status" | tr -s ' ' | tr '\n' ' '; }
echo "process $PID: $(cat "/proc/$PID/comm"); anonymous GET /: $(curl -s -o /dev/null -w '%{http_code} → %{redirect_url}' "$BASE/")"

# The admin API with the bootstrap token; fails on any status but the one expected.
api() {
  local expect=$1; shift
  local code
  code=$(curl -s -o "$WORK/api.json" -w '%{http_code}' -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' "$@")
  [ "$code" = "$expect" ] || { echo "$* → HTTP $code (expected $expect): $(cat "$WORK/api.json")" >&2; exit 1; }
  cat "$WORK/api.json"
}

echo "== people, repository, builds"
api 201 -X POST "$BASE/api/people" -d "{\"userName\":\"bench-admin\",\"password\":\"$PASSWORD\",\"roles\":[{\"role\":\"admin\"}]}" >/dev/null
api 201 -X POST "$BASE/api/people" -d "{\"userName\":\"bench-reader\",\"password\":\"$PASSWORD\",\"roles\":[{\"role\":\"reader\",\"projects\":[\"$READER_GLOB\"]}]}" >/dev/null
REPO=$(api 201 -X POST "$BASE/api/repositories" -d '{"provider":"github","name":"bench/ui-log","cloneUrl":"file:///nonexistent/bench-ui-log.git"}' |
  python3 -c 'import json, sys; print(json.load(sys.stdin)["id"])')
start=$(date +%s.%N)
read -r LOG_BUILD LOG_COUNT BUILDS < <(python3 "$HERE/bench/ui_builds.py" "$DB" "$REPO" "$LOG_PROJECT" --lines "$LOG_LINES")
[ -n "${LOG_BUILD:-}" ] || { echo "bench/ui_builds.py failed" >&2; exit 1; }
echo "repository $REPO; $BUILDS builds written in $(awk -v a="$start" -v b="$(date +%s.%N)" 'BEGIN{printf "%.1f", b-a}') s; build $LOG_BUILD has a log of $LOG_COUNT lines" \
  "($(sqlite3 "$DB" "SELECT COUNT(*) || ' chunks, ' || SUM(LENGTH(Text)) || ' characters' FROM builder_build_log WHERE BuildId = $LOG_BUILD"))"
VERSION=$(sqlite3 "$DB" "SELECT Version FROM builder_files WHERE Project = '$PROJECT' AND DeletedAt IS NULL ORDER BY Id DESC LIMIT 1")
echo "$PROJECT: $(sqlite3 "$DB" "SELECT COUNT(DISTINCT Version) || ' versions, ' || COUNT(*) || ' files' FROM builder_files WHERE Project = '$PROJECT'"); release page of $VERSION"

# Signs a person in as a browser does; the cookie jar then holds builder_session.
sign_in() {
  local jar=$WORK/$1.jar csrf code
  csrf=$(curl -s -c "$jar" -b "$jar" "$BASE/sign-in" | sed -n 's/.*name="__csrf" type="hidden" value="\([^"]*\)".*/\1/p')
  [ -n "$csrf" ] || { echo "no __csrf field on /sign-in" >&2; exit 1; }
  code=$(curl -s -o /dev/null -w '%{http_code}' -c "$jar" -b "$jar" --data-urlencode "userName=$2" \
    --data-urlencode "password=$PASSWORD" --data-urlencode "__csrf=$csrf" "$BASE/sign-in")
  [ "$code" = 302 ] && grep -q builder_session "$jar" || { echo "sign-in of $2: HTTP $code, no session" >&2; exit 1; }
}
sign_in admin bench-admin
sign_in reader bench-reader
ADMIN_SESSION=$(awk '$6 == "builder_session" { print $7 }' "$WORK/admin.jar")

PAGES=(
  "packages|/|class=\"project-link\""
  "packages page 20|/?page=20|class=\"project-link\""
  "search q=$Q|/?q=$Q|class=\"project-link\""
  "search q=$Q fragment (as app.js asks)|/?q=$Q&partial=1|class=\"project-link\""
  "search q=$Q fragment (partial=true)|/?q=$Q&partial=true|class=\"project-link\""
  "project $PROJECT|/project/$PROJECT/|/project/$PROJECT/$VERSION/"
  "release $PROJECT $VERSION|/project/$PROJECT/$VERSION/|$VERSION"
  "builds|/builds|/builds/$LOG_BUILD"
)
echo "== what each person sees (checked before timing)"
for who in admin reader; do
  for page in "${PAGES[@]}"; do
    IFS='|' read -r label path marker <<<"$page"
    curl -s -b "$WORK/$who.jar" -o "$WORK/page.html" -w '%{http_code}' "$BASE$path" >"$WORK/code"
    [ "$(cat "$WORK/code")" = 200 ] && grep -qF "$marker" "$WORK/page.html" ||
      { echo "$who $path: HTTP $(cat "$WORK/code"), marker '$marker' missing" >&2; exit 1; }
    count=$(sed -n 's/.*<p class="muted">\([0-9,]* packages\{0,1\}[^<]*\)<\/p>.*/\1/p' "$WORK/page.html" | head -1)
    case $label in packages|search*fragment*) echo "$who $path: $count, $(grep -c 'class="project-link"' "$WORK/page.html") on the page," \
      "$(grep -q '<html' "$WORK/page.html" && echo "the whole page" || echo "the results fragment alone") ($(wc -c <"$WORK/page.html") bytes)";; esac
  done
done
echo "server memory before the page timings: $(mem)" | tee "$OUT/memory.txt"

echo "== pages: $WARM warm-ups + $N timed rounds, interleaved (every page for both people each round)"
printf 'who\tpage\tpath\tround\tcode\tbytes\tttfb\ttotal\n' >"$OUT/requests.tsv"
for round in $(seq 1 $((WARM + N))); do
  for who in admin reader; do
    for page in "${PAGES[@]}"; do
      IFS='|' read -r label path _ <<<"$page"
      printf '%s\t%s\t%s\t%s\t%s\n' "$who" "$label" "$path" "$round" \
        "$(curl -s -o /dev/null -b "$WORK/$who.jar" -w '%{http_code}\t%{size_download}\t%{time_starttransfer}\t%{time_total}' "$BASE$path")" >>"$OUT/requests.tsv"
    done
  done
done
echo "server memory after the page timings: $(mem)" | tee -a "$OUT/memory.txt"

echo "== the $LOG_COUNT-line log: GET /builds/$LOG_BUILD, 1 warm-up + $LOG_N timed (admin)"
printf 'round\tcode\tbytes\tttfb\ttotal\n' >"$OUT/log.tsv"
for round in $(seq 0 "$LOG_N"); do
  printf '%s\t%s\n' "$round" "$(curl -s -o /dev/null -b "$WORK/admin.jar" -w '%{http_code}\t%{size_download}\t%{time_starttransfer}\t%{time_total}' "$BASE/builds/$LOG_BUILD")" >>"$OUT/log.tsv"
done
echo "server memory after the log timings: $(mem)" | tee -a "$OUT/memory.txt"
# For reference: the same chunks read and sent as text, without sections or HTML (the raw log link of the page).
printf 'round\tcode\tbytes\tttfb\ttotal\n' >"$OUT/raw-log.tsv"
for round in $(seq 0 "$LOG_N"); do
  printf '%s\t%s\n' "$round" "$(curl -s -o /dev/null -b "$WORK/admin.jar" -w '%{http_code}\t%{size_download}\t%{time_starttransfer}\t%{time_total}' "$BASE/api/builds/$LOG_BUILD/log?follow=false")" >>"$OUT/raw-log.tsv"
done
echo "server memory after the raw log timings: $(mem)" | tee -a "$OUT/memory.txt"

python3 - "$OUT/requests.tsv" "$WARM" "$OUT/log.tsv" "$OUT/raw-log.tsv" <<'EOF' | tee "$OUT/pages.md"
import csv, statistics, sys
requests, warm, logs = sys.argv[1], int(sys.argv[2]), sys.argv[3:]

def p90(values):  # nearest rank
    s = sorted(values)
    return s[max(0, -(-9 * len(s) // 10) - 1)]

rows = list(csv.DictReader(open(requests), delimiter="\t"))
bad = [r for r in rows if r["code"] != "200"]
if bad:
    sys.exit(f"{len(bad)} requests did not answer 200, e.g. {bad[0]}")
print("| who | page | path | n | median ms | p90 ms | max ms | median first byte ms | bytes |")
print("|---|---|---|---:|---:|---:|---:|---:|---:|")
series = {}
for r in rows:
    if int(r["round"]) > warm:
        series.setdefault((r["who"], r["page"], r["path"]), []).append(r)
for (who, page, path), rs in series.items():
    total = [float(r["total"]) * 1000 for r in rs]
    ttfb = [float(r["ttfb"]) * 1000 for r in rs]
    size = statistics.median(int(r["bytes"]) for r in rs)
    print(f"| {who} | {page} | `{path}` | {len(rs)} | {statistics.median(total):.1f} | {p90(total):.1f} | {max(total):.1f} "
          f"| {statistics.median(ttfb):.1f} | {size:,.0f} |")
print()
for log, what in zip(logs, ["log page", "raw log (reference)"]):
    rs = [r for r in csv.DictReader(open(log), delimiter="\t")]
    if any(r["code"] != "200" for r in rs):
        sys.exit(f"{what} did not answer 200: {rs}")
    timed = [r for r in rs if r["round"] != "0"]
    total = [float(r["total"]) * 1000 for r in timed]
    ttfb = [float(r["ttfb"]) * 1000 for r in timed]
    print(f"{what} (warm-up {float(rs[0]['total']) * 1000:.0f} ms): n {len(timed)}, median {statistics.median(total):.0f} ms, "
          f"p90 {p90(total):.0f} ms, max {max(total):.0f} ms, median first byte {statistics.median(ttfb):.0f} ms, {int(timed[0]['bytes']):,} bytes")
EOF

echo "== the log in headless Chromium ($BROWSER_RUNS loads after a warm-up)"
node "$HERE/bench/ui_browser.js" "$BASE/builds/$LOG_BUILD" builder_session "$ADMIN_SESSION" "$BROWSER_RUNS" \
  "$OUT/browser.jsonl" "$OUT/chromium.log" | tee "$OUT/browser.txt"
echo "server memory at the end: $(mem)" | tee -a "$OUT/memory.txt"
echo "load at the end: $(cut -d' ' -f1-3 /proc/loadavg) at $(date -u +%H:%M) UTC" | tee -a "$OUT/machine.txt"
echo "results in $OUT"
