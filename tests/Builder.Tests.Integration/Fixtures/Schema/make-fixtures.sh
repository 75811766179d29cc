#!/usr/bin/env bash
# Makes the schema upgrade fixtures (see README.md beside this script) from a built checkout of the last Builder
# release that had no migrations: starts its web process on a fresh SQLite data directory and on a fresh PostgreSQL
# database, creates rows through its API, stops it and dumps the database as text.
#   usage: make-fixtures.sh CHECKOUT    (after `dotnet build src/Builder.Web` there; BUILDER_TEST_POSTGRES set)
# Needs curl, python3, sqlite3, psql and pg_dump. Writes sqlite/, postgres/ and files/ beside this script.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
WEB=$(cd "$1" && pwd)/src/Builder.Web/bin/Debug/net10.0/Builder.Web.dll
[ -f "$WEB" ] || { echo "build $1 first: $WEB is missing" >&2; exit 2; }
: "${BUILDER_TEST_POSTGRES:?the admin connection string of a PostgreSQL server, e.g. Host=127.0.0.1;Port=55432;Username=postgres}"
ADMIN=fixture-admin-token-0123456789
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

# One wheel for both, its bytes fixed (zip entry times are given), so the fixtures carry the same file.
python3 - "$WORK/acme_fixture-1.0.0-py3-none-any.whl" <<'PY'
import base64, hashlib, sys, zipfile
files = {
    "acme_fixture/__init__.py": b'VERSION = "1.0.0"\n',
    "acme_fixture-1.0.0.dist-info/METADATA": b"Metadata-Version: 2.1\nName: acme-fixture\nVersion: 1.0.0\nSummary: A schema fixture\n",
    "acme_fixture-1.0.0.dist-info/WHEEL": b"Wheel-Version: 1.0\nGenerator: builder-fixtures\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
}
record = "".join(f"{p},sha256={base64.urlsafe_b64encode(hashlib.sha256(b).digest()).rstrip(b'=').decode()},{len(b)}\n" for p, b in files.items())
files["acme_fixture-1.0.0.dist-info/RECORD"] = (record + "acme_fixture-1.0.0.dist-info/RECORD,,\n").encode()
with zipfile.ZipFile(sys.argv[1], "w") as z:
    for path, data in files.items():
        z.writestr(zipfile.ZipInfo(path, date_time=(2026, 11, 1, 0, 0, 0)), data)
PY
WHEEL="$WORK/acme_fixture-1.0.0-py3-none-any.whl"
SHA256=$(sha256sum "$WHEEL" | cut -d' ' -f1)

# make PROVIDER DATADIR [CONNECTION]: rows through main's API, then a clean stop.
make() {
  local provider=$1 data=$2 port
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  local url=http://127.0.0.1:$port
  (
    export Builder__AdminToken=$ADMIN Builder__DataDir=$data ASPNETCORE_ENVIRONMENT=Production
    if [ "$provider" = postgres ]; then export Builder__Database=postgres ConnectionStrings__Postgres=$3; fi
    cd "$(dirname "$WEB")" && exec dotnet "$WEB" --urls "$url"
  ) >"$WORK/$provider.log" 2>&1 &
  local pid=$!
  for _ in $(seq 1 120); do
    [ "$(curl -s -o /dev/null -w '%{http_code}' "$url/simple/")" = 401 ] && break
    sleep 0.5
  done
  local auth=(-H "Authorization: Bearer $ADMIN")
  curl -sf "${auth[@]}" -H 'Content-Type: application/json' "$url/api/repositories" \
    -d '{"provider":"github","name":"acme/fixture","cloneUrl":"https://github.com/acme/fixture.git","webhookSecret":"fixture-webhook-secret-0123456789"}' >/dev/null
  curl -sf "${auth[@]}" -H 'Content-Type: application/json' "$url/api/tokens" \
    -d '{"name":"fixture-reader","scopes":["read"],"projects":["acme-*"]}' \
    | python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])' > "$HERE/$provider/token.txt"
  curl -sf "${auth[@]}" "$url/legacy/" -F ':action=file_upload' -F protocol_version=1 -F name=acme-fixture -F version=1.0.0 \
    -F filetype=bdist_wheel -F "sha256_digest=$SHA256" -F "content=@$WHEEL" >/dev/null
  kill -TERM $pid; wait $pid || true
}

rm -rf "$HERE/sqlite" "$HERE/postgres" "$HERE/files"
mkdir -p "$HERE/sqlite" "$HERE/postgres"

make sqlite "$WORK/sqlite"
sqlite3 "$WORK/sqlite/builder.db" .dump > "$HERE/sqlite/builder.sql"
# The embedded default keeps its Data Protection key ring in files: without it the repository's secrets are unreadable.
cp -r "$WORK/sqlite/keys" "$HERE/sqlite/keys"
# The uploaded file as stored under the data directory (the same bytes in both modes).
cp -r "$WORK/sqlite/files" "$HERE/files"

# The same server, as libpq parameters (host=... port=... user=...).
PGARGS=$(python3 -c 'import sys; print(" ".join(k.lower().replace("username", "user") + "=" + v for k, v in (p.split("=", 1) for p in sys.argv[1].split(";") if p) if k in ("Host", "Port", "Username")))' "$BUILDER_TEST_POSTGRES")
DB=builder_fixture_$$
psql "$PGARGS dbname=postgres" -qc "CREATE DATABASE $DB"
make postgres "$WORK/postgres" "$BUILDER_TEST_POSTGRES;Database=$DB"
pg_dump --no-owner --no-privileges "$PGARGS dbname=$DB" > "$HERE/postgres/builder.sql"
psql "$PGARGS dbname=postgres" -qc "DROP DATABASE $DB WITH (FORCE)"
echo "made $HERE/sqlite and $HERE/postgres (wheel sha256 $SHA256)"
