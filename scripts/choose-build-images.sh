#!/usr/bin/env bash
# choose-build-images.sh [x86_64] [aarch64]    (no argument: x86_64)
#
# Chooses, per architecture, the image run.sh's service builds wheels in, and says in ONE line on stderr which
# and why (`build image for x86_64: IMAGE (REASON)`):
#   1. Builder__Build__Images__<arch> exported (non-empty): that image, untouched; nothing else is done.
#   2. else, when the Docker engine can pull $BUILDER_MANYLINUX_REGISTRY/pypa/manylinux_2_28_<arch> (the standard
#      manylinux image, with auditwheel): build-images/manylinux_2_28_<arch>/Dockerfile FROM it, tagged
#      $BUILDER_IMAGE_REPOSITORY/manylinux_2_28_<arch>:latest (default builder/manylinux_2_28_<arch>:latest).
#      That image has no wheelhouse: its builds get their requirements (setuptools, wheel, ...) through their relay
#      from Builder's index, with network none. So, unless Builder__Upstream__Url or Builder__Build__Network is
#      exported, Builder__Upstream__Url=$BUILDER_UPSTREAM_URL (default https://pypi.org/simple/) is chosen too: the
#      index proxies public names (and never a private one; see the README's "Upstream proxy").
#   3. else the offline local image builder-local/manylinux-<arch>:latest (build-images/make-local-images.sh
#      makes it if missing, with its progress on stderr; present, it is used at once).
# A failed pull is remembered (per architecture: the reference that failed) for BUILDER_IMAGE_RETRY_SECONDS, so restarts
# on an offline machine do not try again each time; BUILDER_IMAGE_RETRY_SECONDS=0 tries now.
#
# The choices go to $BUILDER_STATE/build-images.env as NAME=VALUE lines (only what was chosen: an exported setting
# is not repeated), which run.sh exports before it starts the service. Rewritten on every run.
# Exit status 0 when every architecture has an image. Outputs of docker pull/build: $BUILDER_STATE/build-images.<arch>.log.
#
# Environment:
#   BUILDER_MANYLINUX_REGISTRY   where pypa/manylinux_2_28_<arch> is pulled from (default quay.io)
#   BUILDER_IMAGE_REPOSITORY     the built image's repository prefix (default builder)
#   BUILDER_PULL_ANSWER_SECONDS  how long the registry may take to answer (`Pulling from`) before the pull is given up (default 120)
#   BUILDER_PULL_SECONDS         how long the whole pull may take (default 3600: the first one downloads the whole image)
#   BUILDER_IMAGE_RETRY_SECONDS  how long a failed pull is remembered (default 3600; 0: not at all)
#   BUILDER_UPSTREAM_URL         the upstream proxied for a pulled image's build requirements (default https://pypi.org/simple/)
#   BUILDER_STATE                the state directory (default /var/tmp/builder-dev, as scripts/ensure-deps.sh)
set -euo pipefail
HERE=$(cd "$(dirname "$0")/.." && pwd)
STATE=${BUILDER_STATE:-/var/tmp/builder-dev}
REGISTRY=${BUILDER_MANYLINUX_REGISTRY:-quay.io}
REPOSITORY=${BUILDER_IMAGE_REPOSITORY:-builder}
ANSWER_SECONDS=${BUILDER_PULL_ANSWER_SECONDS:-120}
PULL_SECONDS=${BUILDER_PULL_SECONDS:-3600}
RETRY_SECONDS=${BUILDER_IMAGE_RETRY_SECONDS:-3600}
ENV_FILE=$STATE/build-images.env
mkdir -p "$STATE"

archs=()
for arg in "$@"; do
  case $arg in
    x86_64|aarch64) archs+=("$arg") ;;
    *) echo "usage: $0 [x86_64] [aarch64]" >&2; exit 2 ;;
  esac
done
[ ${#archs[@]} -gt 0 ] || archs=(x86_64)
# Without an engine every pull fails: that must not be remembered as an unreachable registry.
docker info >/dev/null 2>&1 || { echo "choose-build-images: the Docker engine is not reachable (scripts/ensure-deps.sh starts it)" >&2; exit 1; }

chosen=()        # NAME=VALUE lines for the env file
want_upstream=0   # a pulled image was chosen: its builds need public build requirements through the relay
UPSTREAM_URL=${BUILDER_UPSTREAM_URL:-https://pypi.org/simple/}

# The last line of a docker output, without docker's prefix, at most 200 characters.
short_error() {
  local line
  line=$(grep -v '^[[:space:]]*$' "$1" | grep -v '^DEPRECATED\|^ *Install the buildx\|^ *https://docs.docker.com/go/buildx' | tail -n 1 || true)
  line=${line#Error response from daemon: }
  [ -n "$line" ] || line="no output"
  echo "${line:0:200}"
}

# pull REF LOG [PLATFORM]: docker pull with two bounds: the registry must answer (docker prints `Pulling from`, or
# `Status:` when the image is up to date) within ANSWER_SECONDS, and the pull end within PULL_SECONDS.
# On failure, $pull_error says why.
pull_error=
elapsed_ms() { local now=${EPOCHREALTIME//[.,]/}; echo $(( (now - $1) / 1000 )); }   # since a ${EPOCHREALTIME//[.,]/}
pull() {
  local ref=$1 log=$2 platform=${3:-}
  local args=(pull)
  [ -z "$platform" ] || args+=(--platform "$platform")
  docker "${args[@]}" "$ref" >"$log" 2>&1 &
  local pid=$! start=${EPOCHREALTIME//[.,]/}
  while kill -0 "$pid" 2>/dev/null; do
    if (( $(elapsed_ms "$start") >= ANSWER_SECONDS * 1000 )) && ! grep -qs 'Pulling from\|^Status: ' "$log"; then
      kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true
      pull_error="no answer in $ANSWER_SECONDS s"
      return 1
    fi
    if (( $(elapsed_ms "$start") >= PULL_SECONDS * 1000 )); then
      kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true
      pull_error="not pulled in $PULL_SECONDS s"
      return 1
    fi
    sleep 0.2
  done
  if wait "$pid"; then return 0; fi
  pull_error=$(short_error "$log")
  return 1
}

# local_image ARCH: the offline local image's name (made when missing or made from other inputs: make-local-images.sh
# returns at once when it is up to date; its progress goes to stderr).
local_image() {
  if "$HERE/build-images/make-local-images.sh" "$1" --check 2>/dev/null; then
    echo "builder-local/manylinux-$1:latest"
  else
    "$HERE/build-images/make-local-images.sh" "$1" || return 1
  fi
}

say() { echo "build image for $1: $2 ($3)" >&2; }

choose() {
  local arch=$1
  local setting="Builder__Build__Images__$arch"
  if [ -n "${!setting:-}" ]; then
    say "$arch" "${!setting}" "$setting is set: used as it is"
    return 0
  fi

  local base="$REGISTRY/pypa/manylinux_2_28_$arch"
  local tag="$REPOSITORY/manylinux_2_28_$arch:latest"
  local log="$STATE/build-images.$arch.log"
  local memory="$STATE/build-images.$arch.unreachable"   # line 1: the reference; line 2: why it failed
  local platform=
  [ "$arch" = x86_64 ] || platform=linux/arm64
  local why=

  if [ -f "$memory" ] && [ "$(sed -n 1p "$memory")" = "$base" ] \
     && (( $(date +%s) - $(stat -c %Y "$memory") < RETRY_SECONDS )); then
    why="could not pull $base at $(date -d "@$(stat -c %Y "$memory")" '+%F %T'): $(sed -n 2p "$memory"); remembered for $RETRY_SECONDS s, BUILDER_IMAGE_RETRY_SECONDS=0 tries now"
  elif pull "$base:latest" "$log" "$platform"; then
    rm -f "$memory"
    local build=(build --build-arg "BASE=$base" -t "$tag")
    [ -z "$platform" ] || build+=(--platform "$platform")
    if docker "${build[@]}" "$HERE/build-images/manylinux_2_28_$arch" >>"$log" 2>&1; then
      chosen+=("$setting=$tag")
      want_upstream=1
      local upstream=
      [ -n "${Builder__Upstream__Url:-}" ] || [ -n "${Builder__Build__Network:-}" ] \
        || upstream="; build requirements through the relay from the upstream proxy: Builder__Upstream__Url=$UPSTREAM_URL"
      say "$arch" "$tag" "pulled $base: standard manylinux with auditwheel$upstream"
      return 0
    fi
    why="building $tag FROM $base failed: $(short_error "$log") (log: $log)"
  else
    printf '%s\n%s\n' "$base" "$pull_error" >"$memory"
    why="could not pull $base: $pull_error"
  fi

  local image
  if ! image=$(local_image "$arch"); then
    say "$arch" "none" "offline local image could not be made; $why"
    return 1
  fi
  chosen+=("$setting=$image")
  say "$arch" "$image" "offline local image: $why"
}

status=0
for arch in "${archs[@]}"; do
  choose "$arch" || status=1
done
if [ $want_upstream = 1 ] && [ -z "${Builder__Upstream__Url:-}" ] && [ -z "${Builder__Build__Network:-}" ]; then
  chosen+=("Builder__Upstream__Url=$UPSTREAM_URL")
fi

tmp=$(mktemp "$ENV_FILE.XXXXXX")
{
  echo "# scripts/choose-build-images.sh ${archs[*]}, $(date -u +%FT%TZ): what run.sh exports (its stderr said why)"
  for line in "${chosen[@]}"; do echo "$line"; done
} >"$tmp"
mv "$tmp" "$ENV_FILE"
exit $status
