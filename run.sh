#!/usr/bin/env bash
# Runs Builder's embedded default (one process: web + builds, SQLite and files under Builder__DataDir).
# First makes sure the Docker engine runs and the local build image exists (scripts/ensure-deps.sh).
# Arguments go to the web host, e.g. ./run.sh --urls http://127.0.0.1:8080
set -euo pipefail
cd "$(dirname "$0")"
: "${Builder__AdminToken:?set Builder__AdminToken to a secret of 16+ characters (the admin bearer token)}"
scripts/ensure-deps.sh
exec dotnet run --project src/Builder.Web -c Release -- "$@"
