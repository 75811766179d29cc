#!/usr/bin/env bash
# Runs Builder's embedded default (one process: web + builds, SQLite and files under Builder__DataDir).
# First makes sure the Docker engine runs (scripts/ensure-deps.sh), then chooses the build image(s)
# (scripts/choose-build-images.sh: the standard manylinux image when the engine can pull it, else the offline
# local image; one line on stderr per architecture says which and why) and exports that choice.
# aarch64 too when the qemu-aarch64 binfmt handler is enabled (scripts/ensure-deps.sh --aarch64 sets it up).
# Arguments go to the web host, e.g. ./run.sh --urls http://127.0.0.1:8080
set -euo pipefail
cd "$(dirname "$0")"
: "${Builder__AdminToken:?set Builder__AdminToken to a secret of 16+ characters (the admin bearer token)}"
STATE=${BUILDER_STATE:-/var/tmp/builder-dev}
scripts/ensure-deps.sh --no-local-image
archs=(x86_64)
if grep -qs '^enabled' /proc/sys/fs/binfmt_misc/qemu-aarch64; then archs+=(aarch64); fi
scripts/choose-build-images.sh "${archs[@]}"
while IFS= read -r line; do  # NAME=VALUE lines (and # comments); read, not sourced
  # shellcheck disable=SC2163  # exports the assignment the line holds
  case $line in Builder__*=*) export "$line" ;; esac
done <"$STATE/build-images.env"
exec dotnet run --project src/Builder.Web -c Release -- "$@"
