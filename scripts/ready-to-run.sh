#!/usr/bin/env bash
# Precompiles (ReadyToRun, crossgen2) the third-party assemblies in the build outputs of the programs the tests start
# (the web process and its commands, the worker), so each of the hundreds of processes a test run starts stops
# JIT-compiling Entity Framework, Hangfire, the AWS SDK... again: about 1.1 s of CPU less per process start (3.2 s →
# 2.1 s to /readyz, tests/TIMES.md). Builder's own assemblies are left as built (they change with every edit).
#
#   scripts/ready-to-run.sh DIR...     e.g. src/Builder.Web/bin/Debug/net10.0
#
# Each compiled assembly is kept in $BUILDER_STATE/ready-to-run by the SHA-256 of its input and the compiler's version,
# so a run after the first only copies (an assembly crossgen2 cannot compile, or one already precompiled, is remembered
# and left alone). An image the runtime finds stale (a dependency of another version) is ignored by it: it JITs then.
# Nothing here changes what the programs do; `dotnet build` puts the IL assemblies back, and this puts these back again.
set -euo pipefail
STATE=${BUILDER_STATE:-/var/tmp/builder-dev}
CACHE=$STATE/ready-to-run
mkdir -p "$CACHE/made"

runtime=$(dotnet --list-runtimes | awk '$1 == "Microsoft.NETCore.App" {v=$2} END {print v}')
aspnet=$(dotnet --list-runtimes | awk '$1 == "Microsoft.AspNetCore.App" {v=$2} END {print v}')
dotnet_root=$(dirname "$(readlink -f "$(command -v dotnet)")")
case $(uname -m) in x86_64) arch=x64 ;; aarch64) arch=arm64 ;; *) echo "ready-to-run: no crossgen2 for $(uname -m)" >&2; exit 0 ;; esac
package=microsoft.netcore.app.crossgen2.linux-$arch
crossgen=${NUGET_PACKAGES:-$HOME/.nuget/packages}/$package/$runtime/tools/crossgen2

if [ ! -x "$crossgen" ]; then
  # The compiler is a NuGet package of the runtime's own version: fetch it the way the SDK would, with a project that
  # only downloads it.
  project=$(mktemp -d)
  cat >"$project/fetch.csproj" <<EOF
<Project Sdk="Microsoft.NET.Sdk">
  <PropertyGroup><TargetFramework>net${runtime%.*}</TargetFramework></PropertyGroup>
  <ItemGroup><PackageDownload Include="Microsoft.NETCore.App.Crossgen2.linux-$arch" Version="[$runtime]" /></ItemGroup>
</Project>
EOF
  # No central package management or repository settings for this throwaway project.
  echo '<Project />' >"$project/Directory.Build.props"
  echo '<Project />' >"$project/Directory.Packages.props"
  if ! dotnet restore "$project/fetch.csproj" -nologo -v quiet >"$project/restore.log" 2>&1; then
    echo "ready-to-run: could not restore crossgen2 $runtime; the tests run without precompiled assemblies:" >&2
    tail -5 "$project/restore.log" >&2
    rm -rf "$project"
    exit 0
  fi
  rm -rf "$project"
fi

version=$("$crossgen" --version 2>/dev/null | head -1 | tr -dc '0-9A-Za-z.+-')
frameworks=("$dotnet_root/shared/Microsoft.NETCore.App/$runtime" "$dotnet_root/shared/Microsoft.AspNetCore.App/$aspnet")

compile() { # DIR FILE: makes FILE's precompiled image in the cache, unless it is there (or known not to compile)
  local dir=$1 file=$2 sum cached
  sum=$(sha256sum "$dir/$file" | cut -c1-64)
  if [ -e "$CACHE/made/$sum" ]; then
    return # one of the images below, put here by an earlier run
  fi
  sum=$( (echo "$sum"; echo "$version") | sha256sum | cut -c1-32)
  cached=$CACHE/$sum
  echo "$file $cached" >>"$dir/.ready-to-run.list"
  if [ ! -e "$cached.dll" ] && [ ! -e "$cached.skip" ]; then
    local refs=() f
    for f in $FRAMEWORKS "$dir"; do refs+=(-r "$f/*.dll"); done
    if "$crossgen" "$dir/$file" -o "$cached.$$.tmp" -O --targetos:linux --targetarch:"$arch" "${refs[@]}" >"$cached.$$.log" 2>&1; then
      touch "$CACHE/made/$(sha256sum "$cached.$$.tmp" | cut -c1-64)"
      mv "$cached.$$.tmp" "$cached.dll"
    else
      rm -f "$cached.$$.tmp"
      mv "$cached.$$.log" "$cached.skip" # not compilable (already precompiled, a reference assembly): keep the IL one
    fi
    rm -f "$cached.$$.log"
  fi
}
export -f compile
export CACHE version crossgen arch
export FRAMEWORKS="${frameworks[*]}"

started=$SECONDS
for dir in "$@"; do
  [ -d "$dir" ] || { echo "ready-to-run: no directory $dir" >&2; exit 1; }
  rm -f "$dir/.ready-to-run.list"
  # Third-party assemblies only: Builder's own change with every edit. All are compiled before any is replaced, as
  # each compilation reads the others.
  (cd "$dir" && ls -1 -- *.dll | grep -v '^Builder\.') | xargs -P "$(nproc)" -I{} bash -c 'compile "$1" "$2"' _ "$dir" {}
  while read -r file cached; do
    if [ -e "$cached.dll" ] && ! cmp -s "$cached.dll" "$dir/$file"; then
      # A new file renamed over the old: a process still running from the old one keeps its mapping.
      cp "$cached.dll" "$dir/.$file.tmp" && mv "$dir/.$file.tmp" "$dir/$file"
    fi
  done < <(cat "$dir/.ready-to-run.list" 2>/dev/null)
  rm -f "$dir/.ready-to-run.list"
done
echo "ready-to-run: $* in $((SECONDS - started)) s ($(find "$CACHE" -name '*.dll' | wc -l) images in $CACHE)" >&2
