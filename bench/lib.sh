# Shared steps of the index benchmarks (sourced by index-bench.sh and access-bench.sh): tools, a Release build,
# the harness's data set imported into a fresh embedded data dir, and the server started on a free loopback port.
# Expects HERE (the repository), HARNESS (../shared/bench), SIZE, OUT and WORK to be set.

bench_tools() {
  for t in nginx wrk curl; do command -v $t >/dev/null || { apt-get install -y -qq nginx wrk curl >&2; break; }; done
}

# Sets DLL.
bench_build() {
  echo "== build (Release)"
  dotnet build "$HERE/src/Builder.Web" -c Release -v q -nologo >/dev/null
  DLL=$HERE/src/Builder.Web/bin/Release/net10.0/Builder.Web.dll
}

# Sets DATA; imports it into $WORK/data (exported as Builder__DataDir, with the admin token and logging at Warning).
bench_data() {
  echo "== data set"
  DATA=$("$HARNESS/compare.sh" --dataset "$SIZE" --prepare-only)
  echo "$DATA ($(find "$DATA" -type f ! -name '.*' | wc -l) files)"
  export Builder__DataDir=$WORK/data Builder__AdminToken=${BENCH_ADMIN_TOKEN:-bench-admin-token-0123456789} Logging__LogLevel__Default=Warning
  echo "== import"
  local start; start=$(date +%s.%N)
  (cd "$(dirname "$DLL")" && dotnet "$DLL" import "$DATA") | tail -3
  echo "import took $(awk -v a="$start" -v b="$(date +%s.%N)" 'BEGIN{printf "%.1f", b-a}') s" | tee "$OUT/import.txt"
}

bench_free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# Starts the server with anonymous reads on (extra settings as NAME=VALUE arguments, which come later and so win:
# Builder__Access__AnonymousRead=false turns them off); sets PORT, BASE and PID. Ready once /simple/ answers the admin token.
bench_start() {
  PORT=$(bench_free_port)
  BASE=http://127.0.0.1:$PORT
  (cd "$(dirname "$DLL")" && env Builder__Access__AnonymousRead=true "$@" dotnet "$DLL" --urls "$BASE") >"$OUT/server.log" 2>&1 &
  PID=$!
  for _ in $(seq 1 100); do curl -sf -o /dev/null -H "Authorization: Bearer $Builder__AdminToken" "$BASE/simple/" && break; sleep 0.2; done
  echo "server pid $PID on port $PORT, after start: $(grep -E 'VmRSS|VmHWM' /proc/$PID/status | tr -s ' ' | tr '\n' ' ')"
}

# Starts nginx as the harness's compare.sh runs it (same configuration) on a static tree: $1 the tree (its /simple/),
# $2 (optional) an access_log directive's arguments (default: off), e.g. "$WORK/nginx/access.log up" with a log_format
# named up given in $3. Files of the data set under /packages/. Sets NPORT and NGINX_PID; ready once /simple/ answers.
bench_nginx() {
  local static=$1 access=${2:-off} format=${3:-}
  NPORT=$(bench_free_port)
  mkdir -p "$WORK/nginx"
  cat > "$WORK/nginx/nginx.conf" <<CONF
$([ "$(id -u)" != 0 ] || echo "user root;")
worker_processes auto;
daemon off;
pid $WORK/nginx/nginx.pid;
error_log $WORK/nginx/error.log warn;
events { worker_connections 4096; }
http {
    types { text/html html; }
    default_type application/octet-stream;
    ${format:+log_format $format;}
    access_log $access;
    sendfile on; tcp_nopush on; tcp_nodelay on;
    keepalive_requests 1000000;
    open_file_cache max=50000 inactive=60s;
    client_body_temp_path $WORK/nginx/body; proxy_temp_path $WORK/nginx/proxy;
    fastcgi_temp_path $WORK/nginx/fcgi; uwsgi_temp_path $WORK/nginx/uwsgi; scgi_temp_path $WORK/nginx/scgi;
    server {
        listen 127.0.0.1:$NPORT;
        root $static;
        location /simple/ { index index.html; }
        location /packages/ { alias $DATA/; }
    }
}
CONF
  nginx -e "$WORK/nginx/error.log" -c "$WORK/nginx/nginx.conf" > "$WORK/nginx/stdout.log" 2>&1 &
  NGINX_PID=$!
  for _ in $(seq 1 100); do curl -sf -o /dev/null "http://127.0.0.1:$NPORT/simple/" && break; sleep 0.1; done
  kill -0 "$NGINX_PID" 2>/dev/null || { echo "nginx failed to start" >&2; cat "$WORK/nginx/stdout.log" "$WORK/nginx/error.log" >&2; exit 1; }
}
