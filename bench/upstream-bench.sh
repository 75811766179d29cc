#!/usr/bin/env bash
# Upstream proxy benchmark: Builder serving names it does not own from an upstream simple index, beside that upstream
# (nginx serving the harness's static tree) answering the same requests directly.
#   bench/upstream-bench.sh [ROUNDS] [COLD_PASSES]          (defaults 3 and 2; run by hand, ~10 min)
# 1. builds the Release web host; 2. makes the harness's small data set (100 projects x 10 versions, 2,000 files) and
# renders it with ../shared/bench/render_static.py (PEP 503 HTML, links with #sha256=; no upload time, so the cooldown
# stays off) into a tree of its own, served by the upstream nginx on a free loopback port (the same nginx settings as
# compare.sh's anchor, plus an access log to count what Builder asks upstream);
# 3. warm: starts Builder (logging at Warning, admin token, Builder__Upstream__Url = that nginx) on a data dir holding one
# private project, pkg-00001 (the harness's precheck wants /simple/ to list the first project, and Builder's /simple/
# lists only its own projects; the other 99 names, the download scenario's wheel among them, come from upstream), fetches
# every page (HTML and JSON) and every file once through it, then runs compare.sh with it as `builder` (bearer token);
# compare.sh's own nginx anchor serves the same static tree the upstream serves;
# 4. cold: COLD_PASSES times, a fresh Builder on an empty data dir (every name proxied): pkg-00001 warms the process
# (not counted), then for each other project, with curl's time_total, one request at a time: the project page through
# Builder (first: upstream fetch and render; second: from memory) and directly from the upstream; then one of its wheels
# through Builder (first: upstream fetch, sha256 check, store, serve; second: from the store) and directly. The order of
# Builder and direct alternates between projects. Every body is checked (200, the data set's bytes, the page's wheel).
# Results: $OUT (default /tmp/bench-results/upstream-<timestamp>); cold.tsv holds every timing.
set -euo pipefail
ROUNDS=${1:-3}
COLD_PASSES=${2:-2}
SIZE=small
HERE=$(cd "$(dirname "$0")/.." && pwd)
HARNESS=${HARNESS:-$HERE/../shared/bench}
OUT=${OUT:-/tmp/bench-results/upstream-$(date +%Y%m%d-%H%M%S)}
WORK=$(mktemp -d /tmp/builder-upstream-bench.XXXXXX)
TOKEN=${BENCH_ADMIN_TOKEN:-bench-admin-token-0123456789}
mkdir -p "$OUT"
NGINX_PID=
B_PID=
cleanup() {
  [ -z "$B_PID" ] || kill "$B_PID" 2>/dev/null || true
  [ -z "$NGINX_PID" ] || kill "$NGINX_PID" 2>/dev/null || true
  wait 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

. "$HERE/bench/lib.sh"
bench_tools
bench_build
export Builder__AdminToken=$TOKEN Logging__LogLevel__Default=Warning
AUTH="Authorization: Bearer $TOKEN"

echo "== data set and upstream"
DATA=$("$HARNESS/compare.sh" --dataset "$SIZE" --prepare-only)
python3 "$HARNESS/render_static.py" "$DATA" "$WORK/static"
grep -q '#sha256=[0-9a-f]\{64\}' "$WORK/static/simple/pkg-00050/index.html" || { echo "static pages carry no #sha256=: the proxy would list no file" >&2; exit 1; }
# Access log: what Builder asked of upstream (status, method, path, user agent).
bench_nginx "$WORK/static" "$WORK/nginx/access.log up" "up '\$status \$request_method \$uri \"\$http_user_agent\"'"
UP_PORT=$NPORT
UP=http://127.0.0.1:$UP_PORT
echo "upstream: nginx $UP (pid $NGINX_PID), tree $WORK/static, files $DATA"
upstream_summary() {  # requests Builder made to upstream after line $1 of the access log: status, method, kind
  tail -n +"$(( $1 + 1 ))" "$WORK/nginx/access.log" | grep 'Builder-upstream-proxy' \
    | awk '{kind = ($3 ~ /^\/simple\//) ? "page" : "file"; n[$1 " " kind]++} END {for (k in n) printf "%s=%d ", k, n[k]}'
}

start_builder() {  # DATADIR: starts Builder on a free port with the proxy on; sets B_PORT, BASE, B_PID
  B_PORT=$(bench_free_port)
  BASE=http://127.0.0.1:$B_PORT
  (cd "$(dirname "$DLL")" && env Builder__DataDir="$1" Builder__Upstream__Url="$UP/simple/" dotnet "$DLL" --urls "$BASE") >>"$OUT/server.log" 2>&1 &
  B_PID=$!
  for _ in $(seq 1 150); do curl -sf -o /dev/null -H "$AUTH" "$BASE/simple/" && break; sleep 0.2; done
  kill -0 "$B_PID" 2>/dev/null || { echo "Builder failed to start" >&2; tail -20 "$OUT/server.log" >&2; exit 1; }
  echo "builder: pid $B_PID on $BASE, data dir $1"
}
stop_builder() { kill "$B_PID"; wait "$B_PID" 2>/dev/null || true; B_PID=; }

echo "== warm: Builder with one private project (pkg-00001), every other name proxied"
mkdir -p "$WORK/private"
cp "$DATA"/pkg_00001-* "$WORK/private/"
(cd "$(dirname "$DLL")" && Builder__DataDir="$WORK/warm" dotnet "$DLL" import "$WORK/private") | tail -1
start_builder "$WORK/warm"
echo "after start: $(grep -E 'VmRSS|VmHWM' /proc/$B_PID/status | tr -s ' ' | tr '\n' ' ')"
before=$(wc -l < "$WORK/nginx/access.log")
# Every page (HTML, JSON) and every file once through Builder, each checked against the data set.
python3 - "$BASE" "$AUTH" "$DATA" <<'EOF' | tee "$OUT/warm-fill.txt"
import hashlib, json, os, re, sys, time, urllib.parse, urllib.request
base, auth, data = sys.argv[1], sys.argv[2], sys.argv[3]
name, value = auth.split(": ", 1)
def get(url, accept=None):
    req = urllib.request.Request(url, headers={name: value, **({"Accept": accept} if accept else {})})
    with urllib.request.urlopen(req) as r:
        return r.status, r.headers, r.read()
projects = sorted({re.sub(r"[-_.]+", "-", f.split("-")[0]).lower() for f in os.listdir(data) if f.endswith(".whl")})
t0, files, proxied = time.perf_counter(), 0, 0
for p in projects:
    page = f"{base}/simple/{p}/"
    status, headers, html = get(page)
    proxied += headers.get("Builder-Upstream") == "fresh"
    status_json, _, body = get(page, "application/vnd.pypi.simple.v1+json")
    listed = {f["filename"]: f["hashes"]["sha256"] for f in json.loads(body)["files"]}
    links = re.findall(r'href="([^"#]+)#sha256=([0-9a-f]{64})"', html.decode())
    expected = sorted(f for f in os.listdir(data) if re.sub(r"[-_.]+", "-", f.split("-")[0]).lower() == p)
    assert sorted(os.path.basename(u) for u, _ in links) == expected == sorted(listed), p
    for url, sha in links:
        status, _, content = get(urllib.parse.urljoin(page, url))
        assert status == 200 and hashlib.sha256(content).hexdigest() == sha == listed[os.path.basename(url)], url
        assert content == open(os.path.join(data, os.path.basename(url)), "rb").read(), url
        files += 1
print(f"filled: {len(projects)} pages (HTML and JSON; {proxied} from upstream), {files} files, every byte checked, in {time.perf_counter() - t0:.1f} s")
EOF
echo "upstream requests while filling: $(upstream_summary "$before")" | tee -a "$OUT/warm-fill.txt"

echo "== warm: compare.sh (rounds: $ROUNDS)"
before=$(wc -l < "$WORK/nginx/access.log")
OUT=$OUT/compare "$HARNESS/compare.sh" --dataset "$SIZE" --rounds "$ROUNDS" builder="$BASE" --pid builder="$B_PID" \
  --header builder="$AUTH" | tee "$OUT/compare.txt"
echo "upstream requests during compare.sh: $(upstream_summary "$before")" | tee -a "$OUT/compare.txt"
stop_builder

echo "== cold: $COLD_PASSES fresh Builders on empty data dirs, one request at a time"
printf 'pass\tproject\tserver\trequest\tms\n' > "$OUT/cold.tsv"
timed() {  # LABEL URL OUTFILE [curl args]: appends one timing row; fails on anything but 200
  local label=$1 url=$2 file=$3 r; shift 3
  r=$(curl -s -o "$file" -D "$WORK/headers" -w '%{http_code} %{time_total}' "$@" "$url")
  [ "${r%% *}" = 200 ] || { echo "$label $url answered ${r%% *}" >&2; exit 1; }
  printf '%s\t%s\t%s\t%.3f\n' "$tag" "$project" "$label" "$(awk -v s="${r#* }" 'BEGIN{print s*1000}')" >> "$OUT/cold.tsv"
}
page() {  # the project page through Builder, twice
  timed "builder	page-first" "$BASE/simple/$project/" "$WORK/b1.html" -H "$AUTH"
  grep -qi '^Builder-Upstream: fresh' "$WORK/headers" || { echo "no Builder-Upstream: fresh on $project" >&2; exit 1; }
  timed "builder	page-second" "$BASE/simple/$project/" "$WORK/b2.html" -H "$AUTH"
  grep -q "href=\"../../files/$project/$wheel#sha256=" "$WORK/b1.html" || { echo "$project: no link to $wheel on Builder's page" >&2; exit 1; }
  cmp -s "$WORK/b1.html" "$WORK/b2.html" || { echo "$project: Builder's two pages differ" >&2; exit 1; }
}
download() {  # the wheel through Builder, twice
  timed "builder	download-first" "$BASE/files/$project/$wheel" "$WORK/b1.whl" -H "$AUTH"
  timed "builder	download-second" "$BASE/files/$project/$wheel" "$WORK/b2.whl" -H "$AUTH"
  cmp -s "$WORK/b1.whl" "$DATA/$wheel" && cmp -s "$WORK/b2.whl" "$DATA/$wheel" || { echo "$wheel: Builder's bytes differ" >&2; exit 1; }
}
direct_page() {
  timed "upstream	page" "$UP/simple/$project/" "$WORK/u.html"
  grep -q "$wheel" "$WORK/u.html" || { echo "$project: upstream page without $wheel" >&2; exit 1; }
}
direct_download() {
  timed "upstream	download" "$UP/packages/$wheel" "$WORK/u.whl"
  cmp -s "$WORK/u.whl" "$DATA/$wheel" || { echo "$wheel: upstream bytes differ" >&2; exit 1; }
}
for pass in $(seq 1 "$COLD_PASSES"); do
  start_builder "$WORK/cold-$pass"
  before=$(wc -l < "$WORK/nginx/access.log")
  i=0
  for project in $(ls "$WORK/static/simple" | grep -v index.html); do
    wheel=$(grep -o 'packages/[^"#]*\.whl' "$WORK/static/simple/$project/index.html" | tail -1 | sed 's#packages/##')
    tag=$pass; [ "$project" != pkg-00001 ] || tag=warmup   # the process's first proxied requests: not counted
    if [ $((i % 2)) = 0 ]; then direct_page; page; direct_download; download
    else page; direct_page; download; direct_download; fi
    i=$((i + 1))
  done
  echo "pass $pass: $((i - 1)) projects measured (pkg-00001 warmed the process); upstream requests from Builder: $(upstream_summary "$before"); memory $(grep -E 'VmHWM' /proc/$B_PID/status | tr -s ' ')" | tee -a "$OUT/cold.txt"
  stop_builder
done
python3 - "$OUT/cold.tsv" <<'EOF' | tee -a "$OUT/cold.txt"
import collections, csv, math, statistics, sys
rows = [r for r in csv.DictReader(open(sys.argv[1]), delimiter="\t") if r["pass"] != "warmup"]
t = collections.defaultdict(list)
for r in rows:
    t[(r["server"], r["request"])].append(float(r["ms"]))
def p90(v):
    s = sorted(v)
    return s[math.ceil(0.9 * len(s)) - 1]
print("| request | n | median ms | p90 ms | median vs upstream direct |")
print("|---|---:|---:|---:|---:|")
for kind in ("page", "download"):
    ref = statistics.median(t[("upstream", kind)])
    for server, request in (("builder", f"{kind}-first"), ("builder", f"{kind}-second"), ("upstream", kind)):
        v = t[(server, request)]
        label = f"{request} through Builder" if server == "builder" else f"{kind} from upstream directly"
        print(f"| {label} | {len(v)} | {statistics.median(v):.2f} | {p90(v):.2f} | {statistics.median(v) / ref:.2f}x |")
EOF
echo "load at the end: $(cut -d' ' -f1-3 /proc/loadavg)" | tee -a "$OUT/cold.txt"
echo "results in $OUT"
