#!/usr/bin/env bash
# make-local-images.sh [x86_64|aarch64] [--force] [--refresh-rootfs]
#
# Makes, offline (only the Debian mirror configured under /etc/apt is used), a local build image that
# follows the manylinux layout (/opt/python/<tag>/bin/python) so the Builder service and its tests can
# build wheels on a machine without access to quay.io or PyPI:
#
#   builder-local/manylinux-x86_64:latest   Debian 12 rootfs + gcc/g++ + this machine's pyenv CPythons
#                                           (3.8 and newer), each at /opt/python/cp3X-cp3X
#   builder-local/manylinux-aarch64:latest  Debian 12 arm64 rootfs (runs under qemu-user-static) with
#                                           Debian's python3.11 at /opt/python/cp311-cp311
#
# Both carry an offline wheelhouse at /opt/wheelhouse (setuptools, wheel, and pure build backends when
# they can be had from Debian) and ENV PIP_NO_INDEX=1 PIP_FIND_LINKS=/opt/wheelhouse, so the driver's
# isolated build environments (`pip install <build-system.requires>`) work with --network none.
#
# stdout: ONLY the image name(s) made (or already present), one per line. Progress goes to stderr.
# If the image exists and was made from the same inputs (its org.builder.inputs label: a digest of this script
# without comments, the architecture, suite, packages, wheel files and interpreters), and --force is not given,
# prints its name and exits 0 at once; an image made from other inputs is made again.
#
# Options / environment:
#   --check                 only tell: exit 0 when the image is up to date with its inputs, 1 when it must be made
#   --force                 re-make the image even if it exists
#   --refresh-rootfs        also re-run debootstrap instead of using the cached rootfs tarball
#   BUILDER_IMAGE_CACHE     cache dir for rootfs tarballs and .debs (default /var/cache/builder-images)
#   BUILDER_DEBIAN_MIRROR   Debian mirror URL (default: read from /etc/apt/sources.list{,.d})
#   BUILDER_WHEELHOUSE_EXTRA  a directory whose *.whl files are added to /opt/wheelhouse
#   PYENV_ROOT              where the pyenv interpreters live (default: `pyenv root`, else ~/.pyenv)
#
# Why these setuptools/wheel files (x86_64): there is no PyPI here. pyenv's bundled setuptools 65.5.0
# fails on cp312+ (pkgutil.ImpImporter) and Debian's python3-setuptools-whl 66.1.1 is Debian-patched
# (fails with `install_layout` on non-Debian Pythons). CPython 3.12/3.13 ship genuine upstream wheels
# as test data (Lib/test/setuptools-67.6.1-py3-none-any.whl, Lib/test/wheeldata/wheel-0.43.0-...whl),
# and setuptools 67.6.1 builds C-extension wheels on every CPython 3.8-3.13. The script picks the
# newest upstream setuptools/wheel wheels it can find there (and Debian's wheel as a fallback). If no
# setuptools >= 67 is found, cp312+ are left OUT of the image (with a warning), since nothing in the
# wheelhouse could build for them.
set -euo pipefail

ARCH=x86_64
FORCE=0
REFRESH=0
CHECK=0
for arg in "$@"; do
    case "$arg" in
        x86_64|amd64) ARCH=x86_64 ;;
        aarch64|arm64) ARCH=aarch64 ;;
        --force) FORCE=1 ;;
        --refresh-rootfs) REFRESH=1; FORCE=1 ;;
        --check) CHECK=1 ;;
        -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d' >&2; exit 0 ;;
        *) echo "make-local-images.sh: unknown argument: $arg (want x86_64|aarch64 [--force] [--refresh-rootfs] [--check])" >&2; exit 2 ;;
    esac
done

IMAGE="builder-local/manylinux-${ARCH}:latest"
SUITE=bookworm
CACHE="${BUILDER_IMAGE_CACHE:-/var/cache/builder-images}"
START=$SECONDS

log() { echo "[make-local-images ${ARCH} +$((SECONDS - START))s] $*" >&2; }
die() { log "ERROR: $*"; exit 1; }

# --- packages -----------------------------------------------------------------------------------------
# gcc/g++/make/libc6-dev: C and C++ extensions; patchelf: what auditwheel-style repair needs;
# ca-certificates: lets pip use an HTTPS index when the image is run with a network.
BASE_PKGS="gcc,g++,make,libc6-dev,patchelf,ca-certificates"
# Runtime libraries of the pyenv CPythons' stdlib extension modules (ssl, sqlite3, ctypes, readline,
# curses, pyexpat, nis); tkinter's X11/Tk libraries are deliberately left out.
PY_RUNTIME_PKGS="libssl3,libsqlite3-0,libffi8,libexpat1,libreadline8,libncursesw6,libnsl2,libbz2-1.0,liblzma5,zlib1g,libuuid1"
if [[ $ARCH == aarch64 ]]; then
    DEB_ARCH=arm64
    PKGS="$BASE_PKGS,python3,python3-dev,python3-venv,python3-pip,python-is-python3"
else
    DEB_ARCH=amd64
    PKGS="$BASE_PKGS,$PY_RUNTIME_PKGS"
fi

# --- what goes into the image besides the packages: wheelhouse files and (x86_64) the pyenv CPythons -----
# Newest file matching a glob pattern across the given directories (by version in the file name).
newest_whl() {
    local name="$1"; shift
    local d
    for d in "$@"; do ls -1 "$d"/"$name"-[0-9]*-py*-none-any.whl 2>/dev/null || true; done \
        | awk -F/ '{ print $NF "\t" $0 }' | sort -t$'\t' -k1,1V | tail -n1 | cut -f2
}
whl_version() { basename "$1" | cut -d- -f2; }
version_ge() { [[ "$(printf '%s\n%s\n' "$2" "$1" | sort -V | head -n1)" == "$2" ]]; }

if command -v pyenv >/dev/null 2>&1; then PYENV_ROOT="${PYENV_ROOT:-$(pyenv root)}"; fi
PYENV_ROOT="${PYENV_ROOT:-$HOME/.pyenv}"
shopt -s nullglob
TEST_WHEEL_DIRS=("$PYENV_ROOT"/versions/3.*/lib/python3.*/test "$PYENV_ROOT"/versions/3.*/lib/python3.*/test/wheeldata)
ENSUREPIP_DIRS=("$PYENV_ROOT"/versions/3.*/lib/python3.*/ensurepip/_bundled)
shopt -u nullglob
# Upstream (unpatched) setuptools first: CPython's test data, then ensurepip's bundled copies.
SETUPTOOLS_WHL="$(newest_whl setuptools "${TEST_WHEEL_DIRS[@]}" "${ENSUREPIP_DIRS[@]}")"
WHEEL_WHL="$(newest_whl wheel "${TEST_WHEEL_DIRS[@]}" /usr/share/python-wheels)"
if [[ $ARCH == aarch64 && -z $SETUPTOOLS_WHL ]]; then
    # Debian's python3.11 in the arm64 image is what Debian's patched setuptools was made for.
    SETUPTOOLS_WHL="$(newest_whl setuptools /usr/share/python-wheels)"
fi
VERSIONS=()
if [[ $ARCH == x86_64 && -d $PYENV_ROOT/versions ]]; then
    # newest patch release of each CPython 3.8+ minor (plain X.Y.Z names only: no 3.13.0t, no pypy)
    mapfile -t VERSIONS < <(ls -1 "$PYENV_ROOT/versions" | grep -E '^3\.[0-9]+\.[0-9]+$' | sort -V \
        | awk -F. '$2 >= 8 { last[$2] = $0 } END { for (m in last) print last[m] }' | sort -V)
fi

# --- reuse: the image is made again only when what goes into it changed ------------------------------------
# The inputs' digest: this script (comments aside), the architecture, suite and packages, the wheel files and
# the interpreters copied in, and the options that change the wheelhouse. It is the image's org.builder.inputs
# label; an image whose label differs (or that has none) is made again.
inputs() {
    grep -v '^[[:space:]]*#' "$0"
    echo "$ARCH $SUITE $PKGS skip-backends=${BUILDER_SKIP_DEBIAN_BACKENDS:-0}"
    local f
    for f in "$SETUPTOOLS_WHL" "$WHEEL_WHL"; do [[ -n $f ]] && echo "wheel $(basename "$f") $(stat -c %s "$f")"; done
    if [[ -n ${BUILDER_WHEELHOUSE_EXTRA:-} && -d $BUILDER_WHEELHOUSE_EXTRA ]]; then
        find "$BUILDER_WHEELHOUSE_EXTRA" -maxdepth 1 -name '*.whl' -printf 'extra %f %s\n' | sort
    fi
    for f in "${VERSIONS[@]}"; do echo "python $f"; done
}
INPUTS="$(inputs | sha256sum | cut -c1-16)"
CURRENT="$(docker image inspect -f '{{ index .Config.Labels "org.builder.inputs" }}' "$IMAGE" 2>/dev/null || true)"
if [[ $FORCE == 0 && $CURRENT == "$INPUTS" ]]; then
    log "$IMAGE is up to date (inputs $INPUTS; use --force to re-make it)"
    [[ $CHECK == 1 ]] || echo "$IMAGE"
    exit 0
fi
if [[ $CHECK == 1 ]]; then
    log "$IMAGE $( [[ -z $CURRENT ]] && echo "is missing or has no inputs label" || echo "was made from other inputs ($CURRENT, now $INPUTS)" )"
    exit 1
fi
[[ -n $CURRENT ]] && log "$IMAGE was made from other inputs ($CURRENT, now $INPUTS): making it again"

[[ $(id -u) == 0 ]] || die "must run as root (debootstrap, chroot)"
command -v debootstrap >/dev/null || die "debootstrap is not installed (apt-get install -y debootstrap)"
docker info >/dev/null 2>&1 || die "docker engine is not reachable"
mkdir -p "$CACHE"

# --- Debian mirror: the URI of the sources entry whose suite is exactly "bookworm" -------------------
find_mirror() {
    if [[ -n ${BUILDER_DEBIAN_MIRROR:-} ]]; then echo "$BUILDER_DEBIAN_MIRROR"; return; fi
    local f
    shopt -s nullglob
    # deb822 *.sources stanzas: URIs: ... / Suites: ... (blank line separates stanzas)
    for f in /etc/apt/sources.list.d/*.sources; do
        awk -v suite="$SUITE" '
            function flush() { if (uris != "" && suites ~ ("(^| )" suite "( |$)") && types ~ /(^| )deb( |$)/) { split(uris, u, " "); print u[1]; found = 1; exit } uris = ""; suites = ""; types = "" }
            /^[ \t]*$/ { flush(); next }
            /^URIs:/   { sub(/^URIs:[ \t]*/, ""); uris = $0 }
            /^Suites:/ { sub(/^Suites:[ \t]*/, ""); suites = $0 }
            /^Types:/  { sub(/^Types:[ \t]*/, ""); types = $0 }
            END { if (!found) flush() }' "$f"
    done
    # one-line format: deb [options] URI SUITE COMPONENTS...
    for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
        [[ -f $f ]] || continue
        awk -v suite="$SUITE" '$1 == "deb" { i = 2; if ($2 ~ /^\[/) { while (i <= NF && $i !~ /\]$/) i++; i++ } if ($(i + 1) == suite) print $i }' "$f"
    done
    shopt -u nullglob
}
MIRROR="$(find_mirror | head -n1)"
MIRROR="${MIRROR%/}"

# --- scratch dir; never rm -rf through a mount ---------------------------------------------------------
WORK="$(mktemp -d "${TMPDIR:-/tmp}/builder-image.XXXXXX")"
ROOTFS="$WORK/rootfs"
cleanup() {
    local m
    # unmount anything debootstrap may have left mounted below ROOTFS (deepest first)
    for m in $(awk -v r="$ROOTFS" 'index($2, r) == 1 { print $2 }' /proc/mounts | sort -r); do
        umount -l "$m" 2>/dev/null || true
    done
    rm -rf --one-file-system "$WORK"
}
trap cleanup EXIT

[[ $(uname -m) == x86_64 ]] || die "this script expects an x86_64 host"

ensure_qemu() {
    if ! command -v qemu-aarch64-static >/dev/null || ! command -v update-binfmts >/dev/null; then
        log "installing qemu-user-static binfmt-support"
        apt-get update -qq >&2 || true
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq qemu-user-static binfmt-support >&2
    fi
    if [[ ! -e /proc/sys/fs/binfmt_misc/status ]]; then
        log "mounting binfmt_misc"
        mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc
    fi
    if ! grep -qs '^enabled' /proc/sys/fs/binfmt_misc/qemu-aarch64; then
        log "enabling qemu-aarch64 binfmt"
        update-binfmts --enable qemu-aarch64 >&2
    fi
    grep -qs '^enabled' /proc/sys/fs/binfmt_misc/qemu-aarch64 || die "qemu-aarch64 binfmt handler is not enabled"
}
[[ $ARCH == aarch64 ]] && ensure_qemu

# --- base rootfs: debootstrap once, then reuse the cached tarball --------------------------------------
KEY="$(echo "$SUITE $DEB_ARCH $PKGS v1" | md5sum | cut -c1-12)"
ROOTFS_TAR="$CACHE/rootfs-$SUITE-$DEB_ARCH-$KEY.tar"
mkdir -p "$ROOTFS"
if [[ $REFRESH == 0 && -s $ROOTFS_TAR ]]; then
    log "unpacking cached rootfs $ROOTFS_TAR"
    tar -C "$ROOTFS" --numeric-owner -xpf "$ROOTFS_TAR"
else
    [[ -n $MIRROR ]] || die "no Debian mirror for '$SUITE' found under /etc/apt (set BUILDER_DEBIAN_MIRROR)"
    log "debootstrap --arch=$DEB_ARCH --variant=minbase $SUITE from $MIRROR (include: $PKGS)"
    mkdir -p "$CACHE/debs-$DEB_ARCH"
    # --cache-dir keeps the downloaded .debs for a later --refresh-rootfs
    debootstrap --arch="$DEB_ARCH" --variant=minbase --include="$PKGS" \
        --cache-dir="$CACHE/debs-$DEB_ARCH" "$SUITE" "$ROOTFS" "$MIRROR" >&2 \
        || { cat "$ROOTFS/debootstrap/debootstrap.log" >&2 2>/dev/null || true; die "debootstrap failed"; }
    log "debootstrap done; trimming docs, man pages, apt caches"
    rm -rf "$ROOTFS"/var/cache/apt/archives/*.deb "$ROOTFS"/var/cache/apt/*.bin \
        "$ROOTFS"/var/lib/apt/lists/* "$ROOTFS"/usr/share/doc/* "$ROOTFS"/usr/share/man/* \
        "$ROOTFS"/usr/share/info/* "$ROOTFS"/var/log/*.log
    find "$ROOTFS/usr/share/locale" -mindepth 1 -maxdepth 1 ! -name 'locale.alias' -exec rm -rf {} + 2>/dev/null || true
    log "caching rootfs as $ROOTFS_TAR"
    tar -C "$ROOTFS" --numeric-owner -cf "$ROOTFS_TAR.tmp" . && mv "$ROOTFS_TAR.tmp" "$ROOTFS_TAR"
    # drop tarballs made for an older package list
    find "$CACHE" -maxdepth 1 -name "rootfs-$SUITE-$DEB_ARCH-*.tar" ! -name "$(basename "$ROOTFS_TAR")" -delete
fi

# --- wheelhouse ---------------------------------------------------------------------------------------
WHEELHOUSE="$ROOTFS/opt/wheelhouse"
mkdir -p "$WHEELHOUSE"
[[ -n $SETUPTOOLS_WHL ]] || die "no setuptools wheel found (looked in pyenv test data / ensurepip)"
[[ -n $WHEEL_WHL ]] || die "no wheel wheel found (apt-get install -y python3-wheel-whl)"
SETUPTOOLS_VER="$(whl_version "$SETUPTOOLS_WHL")"
log "wheelhouse: $(basename "$SETUPTOOLS_WHL") $(basename "$WHEEL_WHL")"
cp "$SETUPTOOLS_WHL" "$WHEEL_WHL" "$WHEELHOUSE/"
if [[ -n ${BUILDER_WHEELHOUSE_EXTRA:-} && -d $BUILDER_WHEELHOUSE_EXTRA ]]; then
    find "$BUILDER_WHEELHOUSE_EXTRA" -maxdepth 1 -name '*.whl' -exec cp {} "$WHEELHOUSE/" \;
fi

# Pure-Python build backends from Debian packages, repacked as wheels (optional: skipped on failure).
# flit_core (from Debian's `flit` package) and hatchling with its pure dependencies. poetry-core is not
# included: Debian unvendors its many dependencies (jsonschema, lark, ...), too much to repack.
add_debian_backends() {
    local debs="$CACHE/debs-backends" x="$WORK/backends"
    local pkgs=(flit python3-tomli python3-hatchling python3-packaging python3-pathspec python3-pluggy)
    mkdir -p "$debs" "$x"
    local p missing=()
    for p in "${pkgs[@]}"; do
        compgen -G "$debs/${p}_*.deb" >/dev/null || missing+=("$p")
    done
    if ((${#missing[@]})); then
        # apt-get download fetches from the configured Debian mirror only; packages it does not know are skipped
        local avail=()
        for p in "${missing[@]}"; do apt-cache show "$p" >/dev/null 2>&1 && avail+=("$p"); done
        if ((${#avail[@]})); then
            (cd "$debs" && apt-get download -qq "${avail[@]}" >&2) || return 1
        fi
    fi
    for p in "$debs"/*.deb; do dpkg-deb -x "$p" "$x" || return 1; done
    python3 - "$x/usr/lib/python3/dist-packages" "$WHEELHOUSE" >&2 <<'PY'
# Repack installed pure-Python distributions (files from RECORD, or top_level.txt for .egg-info) into
# py3-none-any wheels.
import base64, csv, hashlib, io, os, re, sys, zipfile
site, out = sys.argv[1], sys.argv[2]
want = {"flit_core", "tomli", "hatchling", "packaging", "pathspec", "pluggy", "editables"}
def egg_files(info, norm):
    """Files of an .egg-info install (no RECORD): the top-level packages/modules it names."""
    tl = os.path.join(site, info, "top_level.txt")
    tops = open(tl).read().split() if os.path.exists(tl) else [norm]
    files = []
    for top in tops:
        if os.path.isfile(os.path.join(site, top + ".py")):
            files.append(top + ".py")
        for root, dirs, names in os.walk(os.path.join(site, top)):
            dirs[:] = [d for d in dirs if d not in ("__pycache__", "tests")]
            files += [os.path.relpath(os.path.join(root, n), site) for n in names if not n.endswith(".pyc")]
    return files
for entry in sorted(os.listdir(site)):
    egg = entry.endswith(".egg-info") and os.path.isdir(os.path.join(site, entry))
    if not (entry.endswith(".dist-info") or egg):
        continue
    name, version = entry.rsplit(".", 1)[0].rsplit("-", 1)
    norm = re.sub(r"[-_.]+", "_", name).lower()
    if norm not in want:
        continue
    version = version.split("+")[0]  # Debian local versions like 1.0.0+repack
    info = "%s-%s.dist-info" % (norm, version)
    metadata = None
    if egg:
        files = egg_files(entry, norm)
        text = open(os.path.join(site, entry, "PKG-INFO"), encoding="utf-8").read()
        text = re.sub(r"(?m)^Version: .*$", "Version: " + version, text, count=1)
        req = os.path.join(site, entry, "requires.txt")
        if os.path.exists(req):  # unconditional requirements come before the first [section]
            deps = [l.strip() for l in open(req).read().split("[")[0].splitlines() if l.strip()]
            head, sep, body = text.partition("\n\n")
            text = head + "".join("\nRequires-Dist: " + d for d in deps) + sep + body
        metadata = text
    elif not os.path.exists(os.path.join(site, entry, "RECORD")):
        continue
    else:
        files = []
        with open(os.path.join(site, entry, "RECORD"), newline="") as f:
            for row in csv.reader(f):
                path = row[0] if row else ""
                if (not path or path.startswith(("..", "/")) or "__pycache__" in path or path.endswith(".pyc")
                        or "/tests/" in path or path.startswith(entry + "/")):
                    continue
                if os.path.isfile(os.path.join(site, path)):
                    files.append(path)
        metadata = open(os.path.join(site, entry, "METADATA"), encoding="utf-8").read()
        skip = ("RECORD", "INSTALLER", "REQUESTED", "WHEEL", "METADATA", "direct_url.json")
        files += [entry + "/" + n for n in os.listdir(os.path.join(site, entry)) if n not in skip]
    whl = os.path.join(out, "%s-%s-py3-none-any.whl" % (norm, version))
    record = []
    with zipfile.ZipFile(whl, "w", zipfile.ZIP_DEFLATED) as z:
        def add(arc, data):
            z.writestr(arc, data)
            h = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
            record.append("%s,sha256=%s,%d" % (arc, h, len(data)))
        for path in sorted(set(files)):
            arc = info + path[len(entry):] if path.startswith(entry + "/") else path
            add(arc, open(os.path.join(site, path), "rb").read())
        if norm == "hatchling":
            # editables is only imported for editable installs and is not packaged in bookworm
            metadata = re.sub(r"(?m)^Requires-Dist: editables\b.*\n", "", metadata)
        if norm == "flit_core" and "Requires-Dist: tomli" not in metadata:
            # Debian removed flit_core's vendored tomli; Pythons before 3.11 need the real one
            metadata = metadata.replace("Requires-Python:", 'Requires-Dist: tomli; python_version < "3.11"\nRequires-Python:', 1)
        add(info + "/METADATA", metadata.encode("utf-8"))
        add(info + "/WHEEL", b"Wheel-Version: 1.0\nGenerator: builder-make-local-images\nRoot-Is-Purelib: true\nTag: py3-none-any\n")
        z.writestr(info + "/RECORD", "\n".join(record + [info + "/RECORD,,"]) + "\n")
    print("repacked", os.path.basename(whl), "(%d files)" % len(files))
PY
}
if [[ ${BUILDER_SKIP_DEBIAN_BACKENDS:-0} != 1 ]]; then
    add_debian_backends || log "WARNING: could not add flit_core/hatchling from Debian packages; continuing without them"
fi

# --- interpreters -------------------------------------------------------------------------------------
INCLUDED=()
if [[ $ARCH == x86_64 ]]; then
    ((${#VERSIONS[@]})) || die "no CPython 3.8+ found under $PYENV_ROOT/versions"
    : >"$WORK/python.conf"
    for v in "${VERSIONS[@]}"; do
        minor="${v#3.}"; minor="${minor%%.*}"
        if ((minor >= 12)) && ! version_ge "$SETUPTOOLS_VER" 67; then
            log "WARNING: leaving out $v: setuptools $SETUPTOOLS_VER in the wheelhouse cannot build for 3.12+ (pkgutil.ImpImporter)"
            continue
        fi
        src="$PYENV_ROOT/versions/$v"
        [[ -x $src/bin/python3.$minor ]] || { log "skipping $v: no bin/python3.$minor"; continue; }
        rel="${src#/}"
        stdlib="$rel/lib/python3.$minor"
        log "copying CPython $v ($src) -> /opt/python/cp3$minor-cp3$minor"
        # stdlib, include/, lib/libpython* and bin/ are kept; the test suite, the static libpython,
        # the -O/-OO bytecode (*.opt-[12].pyc: ~200 MB in all) and site-packages (3.11.7 carries
        # ~740 MB of extras) are not.
        tar -C / --numeric-owner \
            --exclude="$stdlib/test" --exclude="$stdlib/site-packages" \
            --exclude='*.opt-1.pyc' --exclude='*.opt-2.pyc' \
            --exclude="$stdlib/config-3.$minor*/libpython3.$minor*.a" \
            -cf - "$rel" | tar -C "$ROOTFS" --numeric-owner -xpf -
        # site-packages: only pip and setuptools (with pkg_resources and setuptools' distutils shim)
        mkdir -p "$ROOTFS/$stdlib/site-packages"
        (cd "/$stdlib/site-packages" && for e in pip pip-*.dist-info setuptools setuptools-*.dist-info \
            pkg_resources _distutils_hack distutils-precedence.pth README.txt; do
            [[ -e $e ]] && cp -a "$e" "$ROOTFS/$stdlib/site-packages/"; done; true)
        mkdir -p "$ROOTFS/opt/python"
        ln -sfn "$src" "$ROOTFS/opt/python/cp3$minor-cp3$minor"
        echo "$src/lib" >>"$WORK/python.conf"
        INCLUDED+=("cp3$minor-cp3$minor")
    done
    ((${#INCLUDED[@]})) || die "no interpreter was included"
    cp "$WORK/python.conf" "$ROOTFS/etc/ld.so.conf.d/python.conf"
    chroot "$ROOTFS" /sbin/ldconfig
else
    # Debian's python3.11: /opt/python/cp311-cp311 -> /usr, so bin/python is /usr/bin/python
    # (python-is-python3) and the prefix (/usr/lib/python3.11) is found from the link's path.
    pyver="$(ls -1 "$ROOTFS"/usr/bin/python3.[0-9]* 2>/dev/null | grep -oE 'python3\.[0-9]+$' | sort -V | tail -n1)"
    [[ -n $pyver ]] || die "no python3.X in the arm64 rootfs"
    minor="${pyver#python3.}"
    mkdir -p "$ROOTFS/opt/python"
    ln -sfn /usr "$ROOTFS/opt/python/cp3$minor-cp3$minor"
    # Debian's pip refuses system-wide installs (PEP 668); venvs (what the driver uses) are unaffected.
    INCLUDED+=("cp3$minor-cp3$minor")
fi
log "interpreters: ${INCLUDED[*]}"

# quick sanity check of every interpreter inside the rootfs (arm64 runs through qemu's binfmt handler)
for t in "${INCLUDED[@]}"; do
    chroot "$ROOTFS" "/opt/python/$t/bin/python" -c 'import bz2, ctypes, hashlib, lzma, readline, sqlite3, ssl, uuid, venv, zlib, pyexpat, decimal' \
        || die "$t does not start inside the rootfs"
done

# --- import -------------------------------------------------------------------------------------------
OLD_ID="$(docker image inspect -f '{{.Id}}' "$IMAGE" 2>/dev/null || true)"
log "importing rootfs as $IMAGE"
pythons_csv="$(IFS=,; echo "${INCLUDED[*]}")"
tar -C "$ROOTFS" --numeric-owner -cf - . | docker import \
    --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change 'ENV LANG=C.UTF-8' \
    --change 'ENV PIP_NO_INDEX=1' \
    --change 'ENV PIP_FIND_LINKS=/opt/wheelhouse' \
    --change 'ENV PIP_DISABLE_PIP_VERSION_CHECK=1' \
    --change 'ENV PIP_ROOT_USER_ACTION=ignore' \
    --change 'ENV PYTHONUNBUFFERED=1' \
    --change "LABEL org.builder.local-image=1 org.builder.arch=$ARCH org.builder.pythons=$pythons_csv org.builder.setuptools=$SETUPTOOLS_VER org.builder.inputs=$INPUTS" \
    --change 'WORKDIR /' \
    --change 'CMD ["/bin/bash"]' \
    --message "builder local image ($ARCH: $pythons_csv)" \
    - "$IMAGE" >/dev/null
if [[ -n $OLD_ID && $OLD_ID != "$(docker image inspect -f '{{.Id}}' "$IMAGE")" ]]; then
    docker image rm "$OLD_ID" >/dev/null 2>&1 || true  # the replaced image, unless a container uses it
fi
log "done: $IMAGE ($(docker image inspect -f '{{.Size}}' "$IMAGE" | awk '{ printf "%.0f MB", $1 / 1e6 }'))"
echo "$IMAGE"
