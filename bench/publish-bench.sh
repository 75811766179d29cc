#!/usr/bin/env bash
# Publishing a release of three 200 MiB wheels on moto (S3), before and after a change, in the same rounds:
#
#   bench/publish-bench.sh [ROUNDS] REV...      e.g. bench/publish-bench.sh 3 901baa4 HEAD
#
# Each REV is checked out in a worktree under $BUILDER_STATE/publish-bench/, gets bench/publish/PublishBench.cs in its
# integration tests, and is built once; then each round runs the bench test once per REV, in turn. The test runs the
# real part job (a wheel builder that writes three wheels of 200 MiB of random bytes) and times the publish job alone,
# on PostgreSQL (scripts/ensure-deps.sh --postgres) and moto behind a proxy that counts the bytes each way. Prints a
# Markdown table: seconds, MiB sent to and received from S3 while publishing, and the S3 requests by method.
set -euo pipefail
HERE=$(cd "$(dirname "$0")/.." && pwd)
STATE=${BUILDER_STATE:-/var/tmp/builder-dev}
rounds=3
if [[ ${1:-} =~ ^[0-9]+$ ]]; then rounds=$1; shift; fi
[ $# -gt 0 ] || { echo "usage: $0 [ROUNDS] REV..." >&2; exit 2; }
"$HERE/scripts/ensure-deps.sh" --postgres --no-local-image >&2
export BUILDER_TEST_POSTGRES=${BUILDER_TEST_POSTGRES:-$(cat "$STATE/postgres.conn")}
root="$STATE/publish-bench"
mkdir -p "$root"
declare -A dirs
for rev in "$@"; do
  sha=$(git -C "$HERE" rev-parse --short "$rev")
  dir="$root/$sha"
  [ -d "$dir" ] || git -C "$HERE" worktree add -q --detach "$dir" "$sha"
  mkdir -p "$dir/tests/Builder.Tests.Integration/Bench"
  cp "$HERE/bench/publish/PublishBench.cs" "$dir/tests/Builder.Tests.Integration/Bench/"
  dotnet build "$dir/tests/Builder.Tests.Integration" -nologo -v quiet >&2
  dirs[$rev]=$dir
  : >"$root/$sha.tsv"
done
for round in $(seq 1 "$rounds"); do
  for rev in "$@"; do
    dir=${dirs[$rev]}
    BUILDER_BENCH_OUT="$root/$(git -C "$HERE" rev-parse --short "$rev").tsv" \
      dotnet test "$dir/tests/Builder.Tests.Integration" --no-build --filter "FullyQualifiedName~Bench.PublishBench" >&2
  done
done
echo "| rev | round | seconds | MiB sent to S3 | MiB received from S3 | GET | PUT | HEAD |"
echo "|---|---:|---:|---:|---:|---:|---:|---:|"
for rev in "$@"; do
  sha=$(git -C "$HERE" rev-parse --short "$rev")
  awk -v rev="$rev ($sha)" -F'\t' '{printf "| %s | %d | %s | %s | %s | %s | %s | %s |\n", rev, NR, $1, $2, $3, $4, $5, $6}' "$root/$sha.tsv"
done
