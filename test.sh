#!/usr/bin/env bash
# Runs all of Builder's tests against the real things: Docker, PostgreSQL, git, pip.
# Installs and starts what they need first (scripts/ensure-deps.sh), so it works on a fresh Debian 12 machine.
set -euo pipefail
cd "$(dirname "$0")"
STATE=${BUILDER_STATE:-/var/tmp/builder-dev}
scripts/ensure-deps.sh --postgres --aarch64 --browser
export BUILDER_TEST_POSTGRES=${BUILDER_TEST_POSTGRES:-$(cat "$STATE/postgres.conn")}
dotnet format Builder.sln --verify-no-changes
dotnet test Builder.sln "$@"
