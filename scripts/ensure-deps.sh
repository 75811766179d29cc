#!/usr/bin/env bash
# Installs and starts, idempotently, what Builder and its tests need on a Debian 12 machine:
#   - the Docker engine (docker.io) and a running dockerd; docker-compose (1.29, which validates docker-compose.yml:
#     the v2 plugin is not packaged here); the clients and servers tests run (twine, poetry, slapd, nginx, prometheus,
#     docker-registry: their packaged services are stopped, the tests start their own); jq and openssl (the README's
#     openssl recipe for checking an attestation, which a test runs);
#   - the local x86_64 build image (build-images/make-local-images.sh, which returns at once when the image is up to
#     date with its inputs), which the tests use; not with --no-local-image (run.sh: scripts/choose-build-images.sh then
#     chooses the image, pulled or local). With --images-in-background (./test.sh) an image that must be made is made in
#     the background while this script returns: its state is in $BUILDER_STATE/images (ARCH.pid while it runs, ARCH.exit
#     with the exit code once it ended, ARCH.log), where the tests that build wheels wait for it;
#   - with --postgres: a PostgreSQL 15 server on 127.0.0.1 for the tests (prints nothing; writes its
#     admin connection string to $BUILDER_STATE/postgres.conn) and its client psql, and a check that moto's S3 server is there;
#   - with --aarch64: qemu-user-static + binfmt-support, the binfmt_misc mount and the enabled
#     qemu-aarch64 handler (checked on every run: a reboot drops the registration, not the image), and
#     the local aarch64 build image (debootstrap arm64 the first time: minutes under emulation);
#   - with --browser: Debian's chromium (/usr/bin/chromium) and a font, which the web UI's tests drive through
#     Playwright (its own browser download is not reachable; Playwright's driver comes with its NuGet package).
# Everything it starts runs in the background and survives this script. Progress goes to stderr.
set -euo pipefail
HERE=$(cd "$(dirname "$0")/.." && pwd)
STATE=${BUILDER_STATE:-/var/tmp/builder-dev}
PG_PORT=${BUILDER_PG_PORT:-55432}
mkdir -p "$STATE"
log() { echo "ensure-deps: $*" >&2; }

want_postgres=0
want_aarch64=0
want_local_image=1
want_browser=0
images_in_background=0
for arg in "$@"; do
  case $arg in
    --postgres) want_postgres=1 ;;
    --aarch64) want_aarch64=1 ;;
    --no-local-image) want_local_image=0 ;;
    --browser) want_browser=1 ;;
    --images-in-background) images_in_background=1 ;;
    *) echo "usage: $0 [--postgres] [--aarch64] [--no-local-image] [--browser] [--images-in-background]" >&2; exit 2 ;;
  esac
done

apt_ready=0
apt_install() {  # [--no-install-recommends] package... (only those missing)
  local options=()
  [ "${1:-}" = --no-install-recommends ] && { options+=("$1"); shift; }
  local missing=()
  for p in "$@"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
  [ ${#missing[@]} -eq 0 ] && return 0
  if [ $apt_ready = 0 ]; then log "apt-get update"; apt-get update -qq >&2; apt_ready=1; fi
  log "installing ${missing[*]}"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${options[@]}" "${missing[@]}" >&2
}

# --- packages: everything missing in one apt transaction (one download and one dpkg run, not one per group) ---
packages=(docker.io docker-compose debootstrap git curl python3-wheel-whl twine python3-poetry slapd ldap-utils libldap-2.5-0 prometheus
  docker-registry nginx jq openssl python3-jwt)
# python3-jwt (PyJWT) checks the tests' local OpenID provider independently (Access/LocalOidcProviderTests).
# psql restores the schema upgrade tests' database dumps.
[ $want_postgres = 1 ] && packages+=(postgresql-client-15)
[ $want_aarch64 = 1 ] && packages+=(qemu-user-static binfmt-support)
apt_install "${packages[@]}"
if [ $want_browser = 1 ]; then
  # Without chromium's recommends (avahi-daemon, upower, udev, a printer dialog...: services and desktop parts a
  # headless browser does not use); fonts named instead, so text and emoji (an icon on a "copy" button) show in screenshots.
  apt_install --no-install-recommends chromium fonts-liberation fonts-dejavu-core fonts-noto-color-emoji
  [ -x /usr/bin/chromium ] || { log "/usr/bin/chromium not found after installing chromium"; exit 1; }
fi

# The metrics tests start their own Prometheus on a free port, the build image tests their own registry, the upstream
# proxy's tests their own nginx (a local public index). Where the packages' postinst started their services
# (Prometheus on :9090 with its node exporter, the registry on :5000, nginx on :80), stop them: nothing but the tests
# should scrape, serve images or serve pages here.
for service in prometheus prometheus-node-exporter docker-registry nginx; do
  if command -v service >/dev/null 2>&1 && service "$service" status >/dev/null 2>&1; then
    log "stopping the packaged $service service"
    service "$service" stop >&2 || true
  fi
done
if ! docker info >/dev/null 2>&1; then
  log "starting dockerd (log: $STATE/dockerd.log)"
  setsid dockerd >"$STATE/dockerd.log" 2>&1 < /dev/null &
  for _ in $(seq 1 60); do docker info >/dev/null 2>&1 && break; sleep 1; done
  docker info >/dev/null 2>&1 || { log "dockerd did not start; see $STATE/dockerd.log"; tail -20 "$STATE/dockerd.log" >&2; exit 1; }
fi

# --- local build images: made again only when their inputs changed (make-local-images.sh --check) ---
# make_image ARCH: in the foreground, or with --images-in-background behind this script's back (see the header).
make_image() {
  local arch=$1 make="$HERE/build-images/make-local-images.sh" images="$STATE/images"
  if [ $images_in_background = 0 ]; then
    "$make" "$arch" >&2
    return
  fi
  mkdir -p "$images"
  if [ -f "$images/$arch.pid" ] && [ ! -f "$images/$arch.exit" ] && kill -0 "$(cat "$images/$arch.pid")" 2>/dev/null; then
    log "the $arch build image is still being made (log: $images/$arch.log)"
    return
  fi
  rm -f "$images/$arch.pid" "$images/$arch.exit"
  if "$make" "$arch" --check 2>/dev/null; then return; fi
  log "making the $arch build image in the background (log: $images/$arch.log)"
  # shellcheck disable=SC2016  # expanded by the inner shell
  setsid bash -c '"$1" "$2" >"$3.log" 2>&1; echo $? >"$3.exit.tmp"; mv "$3.exit.tmp" "$3.exit"' _ "$make" "$arch" "$images/$arch" </dev/null >/dev/null 2>&1 &
  echo $! >"$images/$arch.pid"
}
if [ $want_local_image = 1 ]; then
  make_image x86_64
fi

# --- aarch64 through emulation: binfmt handler first, since an existing image needs it to run ---
if [ $want_aarch64 = 1 ]; then
  if [ ! -e /proc/sys/fs/binfmt_misc/status ]; then
    log "mounting binfmt_misc"
    mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc
  fi
  if ! grep -qs '^enabled' /proc/sys/fs/binfmt_misc/qemu-aarch64; then
    log "enabling the qemu-aarch64 binfmt handler"
    update-binfmts --enable qemu-aarch64 >&2
  fi
  grep -qs '^enabled' /proc/sys/fs/binfmt_misc/qemu-aarch64 || { log "qemu-aarch64 binfmt handler is not enabled"; exit 1; }
  make_image aarch64
fi

# --- PostgreSQL for the tests ---
if [ $want_postgres = 1 ]; then
  PGDATA="$STATE/pgdata"
  if ! runuser -u postgres -- pg_ctl -D "$PGDATA" status >/dev/null 2>&1; then
    if [ ! -f "$PGDATA/PG_VERSION" ]; then
      log "initdb $PGDATA"
      mkdir -p "$PGDATA"; chown postgres:postgres "$PGDATA" "$STATE"
      runuser -u postgres -- initdb -D "$PGDATA" -U postgres --auth=trust >/dev/null
    fi
    log "starting PostgreSQL on 127.0.0.1:$PG_PORT"
    runuser -u postgres -- pg_ctl -D "$PGDATA" -o "-p $PG_PORT -k /tmp -c listen_addresses=127.0.0.1" -l "$STATE/postgres.log" -w start >/dev/null
  fi
  echo "Host=127.0.0.1;Port=$PG_PORT;Username=postgres;Pooling=true" > "$STATE/postgres.conn"
fi

# --- an S3 API server for the tests (moto, in pyenv's Python 3.11; the tests start their own on loopback) ---
if [ $want_postgres = 1 ]; then
  MOTO="${PYENV_ROOT:-$HOME/.pyenv}/versions/3.11.7/bin/moto_server"
  [ -x "$MOTO" ] || { log "$MOTO not found: the S3 tests need moto's server in pyenv's Python 3.11 (pip install 'moto[server]')"; exit 1; }
fi

