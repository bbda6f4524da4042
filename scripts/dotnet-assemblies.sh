#!/usr/bin/env bash
# Issue 12: real .NET assemblies for the dotnet module's tests (test/unit/yara-module-dotnet*.test.ts)
# and its --stats figure: the managed DLLs and EXEs of a few Debian mono packages, unpacked into DIR.
# Idempotent: nothing is done when DIR/stamp exists. Needs apt-get and dpkg-deb (Debian).
set -euo pipefail
dir=${1:-.cache/dotnet}
[[ -f $dir/stamp ]] && exit 0
# Cecil (a metadata library: generics, nested types), dnlib, HexBox and Windows.Forms (embedded
# .resources), mcs.exe (an executable). About 2 MB of downloads.
pkgs=(libmono-cecil-cil libdnlib2.1-cil libhexbox1.5-cil mono-mcs libmono-system-windows-forms4.0-cil)
echo "test: unpacking .NET assemblies from ${pkgs[*]} into $dir"
[[ -n $(find /var/lib/apt/lists -name '*Packages*' -print -quit 2>/dev/null) ]] || apt-get update -qq
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
(cd "$tmp" && apt-get download -qq "${pkgs[@]}" 2>/dev/null)
mkdir -p "$tmp/x" "$dir"
for deb in "$tmp"/*.deb; do dpkg-deb -x "$deb" "$tmp/x"; done
# Reference-assembly facades under lib/mono/4.5 are tiny text stubs: keep real PE files only.
find "$tmp/x" -type f \( -iname '*.dll' -o -iname '*.exe' \) -size +2k -print0 |
  while IFS= read -r -d '' f; do cp "$f" "$dir/$(basename "$f")"; done
touch "$dir/stamp"
