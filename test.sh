#!/usr/bin/env bash
# Runs all of Builder's tests against the real things: Docker, PostgreSQL, git, pip, LDAP, S3, Prometheus, Chromium.
# Installs and starts what they need first (scripts/ensure-deps.sh), so it works on a fresh Debian 12 machine; the build
# images that must be made are made in the background while the solution builds and the tests that need no image run.
#
#   ./test.sh                 everything (what .ci/run runs)
#   ./test.sh --quick         the inner loop: unit tests and the integration tests that run no Docker build (no format
#                             checks: CI runs them)
#   ./test.sh [--quick] ARGS  ARGS go to dotnet test (e.g. --filter FullyQualifiedName~EndToEnd)
#
# At the end it prints the 10 slowest test classes of the run (scripts/test-times.py; the times are in TestResults/times).
set -euo pipefail
cd "$(dirname "$0")"
STATE=${BUILDER_STATE:-/var/tmp/builder-dev}
mkdir -p "$STATE"

quick=0
args=()
started=$SECONDS
phase() { echo "test.sh: $1 in $((SECONDS - started)) s" >&2; started=$SECONDS; }
for arg in "$@"; do
  if [ "$arg" = --quick ]; then quick=1; else args+=("$arg"); fi
done

# The solution builds while the machine is prepared (apt, Docker, PostgreSQL, images): it needs none of them.
dotnet build Builder.sln -nologo -v quiet >"$STATE/build.log" 2>&1 &
build=$!
if [ $quick = 1 ]; then
  scripts/ensure-deps.sh --postgres --browser --no-local-image
  args+=(--filter "Category!=DockerBuild")
else
  scripts/ensure-deps.sh --postgres --aarch64 --browser --images-in-background
fi
export BUILDER_TEST_POSTGRES=${BUILDER_TEST_POSTGRES:-$(cat "$STATE/postgres.conn")}
if ! wait $build; then
  cat "$STATE/build.log" >&2
  exit 1
fi
phase "machine prepared and solution built"

# The tests start the web process and the worker about a hundred times: precompile their third-party assemblies
# (cached by content, so only the first run on a machine compiles) while the format is checked.
scripts/ready-to-run.sh src/Builder.Web/bin/Debug/net10.0 workers/Builder.Worker/bin/Debug/net10.0 >"$STATE/ready-to-run.log" 2>&1 &
precompile=$!

# What `dotnet format --verify-no-changes` checks, in a third of its time: whitespace and final newlines (from the files
# alone), then the code style with the import order (on the solution); its third pass, the analyzers, ran in the build
# above, which fails on any warning (TreatWarningsAsErrors, EnforceCodeStyleInBuild). --quick leaves them to CI.
if [ $quick = 0 ]; then
  dotnet format whitespace . --folder --verify-no-changes
  dotnet format style Builder.sln --verify-no-changes
  phase "format checked"
fi

wait $precompile || cat "$STATE/ready-to-run.log" >&2
phase "assemblies precompiled"

export BUILDER_TEST_TIMES=$PWD/TestResults/times
rm -rf "$BUILDER_TEST_TIMES"
status=0
# The test host runs each test's code a few times: tiered PGO's instrumented tiers and tier-1 recompilation cost it more
# CPU than they save (the Builder processes the tests start get the same settings from BuilderProcess).
DOTNET_TieredPGO=0 DOTNET_TC_CallCounting=0 dotnet test Builder.sln --no-build "${args[@]}" || status=$?
phase "tests ran"
scripts/test-times.py --top 10 || true
exit $status
