#!/usr/bin/env bash
# make-corpus2.sh DIR — a second clean corpus, disjoint from the bench corpus (shared/bench/
# make-corpus.sh), so that no figure is tuned to one data set. Same inputs give the same corpus.
#   DIR/small/pe     Wine's x86_64 PE DLLs and EXEs the bench corpus leaves out (it takes every third
#                    by name; this takes the ones after those), up to ~150 MB
#   DIR/small/npm    this project's own node_modules tree (pinned by package-lock.json), files < 20 MB
#   DIR/small/perl   Perl's standard modules (Debian's perl-modules-5.36): many small text files
#   DIR/big          files of 90 MB and more: LLVM's shared library, the Node runtime and the SARIF
#                    validator from node_modules (for peak-RSS figures on large files)
# Needs node_modules (npm ci) and Debian's package lists.
set -euo pipefail
out=${1:?usage: make-corpus2.sh DIR}
here=$(cd "$(dirname "$0")/.." && pwd)
mkdir -p "$out"/small/{pe,npm,perl} "$out/big"
out=$(cd "$out" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"

[[ -n $(find /var/lib/apt/lists -name '*Packages*' -print -quit 2>/dev/null) ]] || apt-get update -qq
apt-get download -qq libwine perl-modules-5.36 libllvm15
for d in *.deb; do dpkg -x "$d" x; done

ls x/usr/lib/x86_64-linux-gnu/wine/x86_64-windows | sort | awk 'NR % 3 == 1' | while read -r f; do
  cp "x/usr/lib/x86_64-linux-gnu/wine/x86_64-windows/$f" "$out/small/pe/"
  [[ $(du -sm "$out/small/pe" | cut -f1) -lt 150 ]] || break
done
cp -r x/usr/share/perl/5.36* "$out/small/perl/"
find x -type f -name 'libLLVM-15.so*' -exec cp {} "$out/big/" \;

cd "$here/node_modules"
find . -type f -size -20M -print0 | tar --null -T - -cf - | tar -xf - -C "$out/small/npm"
find . -type f -size +90M -print0 | while IFS= read -r -d '' f; do cp "$f" "$out/big/$(basename "$f")"; done
echo "corpus2: $(find "$out/small" -type f | wc -l) files, $(du -sh "$out/small" | cut -f1) in $out/small;" \
  "$(find "$out/big" -type f | wc -l) files, $(du -sh "$out/big" | cut -f1) in $out/big"
