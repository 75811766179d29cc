#!/usr/bin/env bash
# Upload memory: the web process's resident memory before and after a ~500 MB upload to /legacy/.
# The upload streams to a temp file while hashing, so the peak (VmHWM) must not grow with the file.
#
#   bench/upload_memory.sh [SIZE_MB]      (default 500; needs about 3x SIZE_MB of free disk under $TMPDIR)
#
# Builds the Release web process, starts it on a free loopback port with a temp data dir, uploads a small wheel
# (warm-up: JIT, database), reads /proc/PID/status, uploads the big wheel with curl -F (multipart, streamed from
# disk), reads /proc/PID/status again, checks the file is in the index, and stops the process it started.
set -euo pipefail
HERE=$(cd "$(dirname "$0")/.." && pwd)
SIZE_MB=${1:-500}
TOKEN=bench-admin-token-0123456789
WORK=$(mktemp -d "${TMPDIR:-/tmp}/builder-upload-bench.XXXXXX")
PID=
cleanup() {
  if [ -n "$PID" ] && kill -0 "$PID" 2>/dev/null; then kill -TERM "$PID"; wait "$PID" 2>/dev/null || true; fi
  rm -rf "$WORK"
}
trap cleanup EXIT

echo "== dotnet build -c Release src/Builder.Web" >&2
dotnet build "$HERE/src/Builder.Web" -c Release -nologo -v quiet >&2
DLL="$HERE/src/Builder.Web/bin/Release/net10.0/Builder.Web.dll"

PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
URL="http://127.0.0.1:$PORT"
(cd "$(dirname "$DLL")" && exec env ASPNETCORE_ENVIRONMENT=Production Builder__AdminToken=$TOKEN Builder__DataDir="$WORK/data" \
  dotnet "$DLL" --urls "$URL" >"$WORK/web.log" 2>&1) &
PID=$!
for _ in $(seq 1 150); do curl -fsS -o /dev/null "$URL/simple/" 2>/dev/null && break; sleep 0.2; done
curl -fsS -o /dev/null "$URL/simple/" || { echo "web process did not start:" >&2; cat "$WORK/web.log" >&2; exit 1; }

echo "== making wheels (${SIZE_MB} MB of random bytes, stored)" >&2
python3 - "$WORK" "$SIZE_MB" >/dev/null <<'EOF'
import base64, hashlib, os, sys, zipfile
work, size_mb = sys.argv[1], int(sys.argv[2])

def wheel(version, big_mb):
    name = "acme_bench"
    dist_info = f"{name}-{version}.dist-info"
    path = os.path.join(work, f"{name}-{version}-py3-none-any.whl")
    record = []
    def digest(h): return "sha256=" + base64.urlsafe_b64encode(h.digest()).rstrip(b"=").decode()
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as z:
        def small(arc, data):
            z.writestr(arc, data)
            record.append(f"{arc},{digest(hashlib.sha256(data))},{len(data)}")
        small(f"{name}/__init__.py", f'VERSION = "{version}"\n'.encode())
        if big_mb:
            h = hashlib.sha256()
            with z.open(zipfile.ZipInfo(f"{name}/blob.bin"), "w", force_zip64=True) as out:
                for _ in range(big_mb):
                    chunk = os.urandom(1 << 20)
                    h.update(chunk)
                    out.write(chunk)
            record.append(f"{name}/blob.bin,{digest(h)},{big_mb << 20}")
        small(f"{dist_info}/METADATA", f"Metadata-Version: 2.1\nName: acme-bench\nVersion: {version}\nSummary: upload benchmark\n".encode())
        small(f"{dist_info}/WHEEL", b"Wheel-Version: 1.0\nGenerator: bench\nRoot-Is-Purelib: true\nTag: py3-none-any\n")
        z.writestr(f"{dist_info}/RECORD", "\n".join(record + [f"{dist_info}/RECORD,,"]) + "\n")
    print(path)

wheel("0.0.1", 0)
wheel("1.0.0", size_mb)
EOF

upload() {  # file version → prints "HTTP_CODE SECONDS"
  local file=$1 version=$2
  curl -sS -o "$WORK/response.txt" -w '%{http_code} %{time_total}' -u "__token__:$TOKEN" \
    -F ':action=file_upload' -F 'protocol_version=1' -F 'name=acme-bench' -F "version=$version" \
    -F 'filetype=bdist_wheel' -F 'pyversion=py3' -F 'metadata_version=2.1' \
    -F "sha256_digest=$(sha256sum "$file" | cut -d' ' -f1)" \
    -F "content=@$file;type=application/octet-stream" "$URL/legacy/"
}
memory() { grep -E '^(VmHWM|VmRSS)' "/proc/$PID/status" | tr -s ' \t' ' ' | paste -sd' ' -; }

BIG="$WORK/acme_bench-1.0.0-py3-none-any.whl"
read -r code seconds <<<"$(upload "$WORK/acme_bench-0.0.1-py3-none-any.whl" 0.0.1)"
[ "$code" = 200 ] || { echo "warm-up upload failed: $code $(cat "$WORK/response.txt")" >&2; exit 1; }
echo "server after start and a small warm-up upload: $(memory)"
read -r code seconds <<<"$(upload "$BIG" 1.0.0)"
[ "$code" = 200 ] || { echo "upload failed: $code $(cat "$WORK/response.txt")" >&2; exit 1; }
echo "uploaded $(( $(stat -c %s "$BIG") / 1048576 )) MiB in ${seconds}s: $(cat "$WORK/response.txt")"
echo "server after the upload:                        $(memory)"
curl -fsS "$URL/simple/acme-bench/" | grep -q "acme_bench-1.0.0-py3-none-any.whl#sha256=$(sha256sum "$BIG" | cut -d' ' -f1)" \
  && echo "the index lists the file with its sha256" || { echo "the file is not in the index" >&2; exit 1; }
leftover=$(find "$WORK/data/tmp" -type f 2>/dev/null | wc -l)
echo "temp files left under the data dir: $leftover"
