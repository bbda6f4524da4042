#!/usr/bin/env bash
# bench-load.sh RING3 CORPUS CORPUS2 SHARED [BEFORE] — the figures of issue 9 (rules compiled once,
# files streamed), in one run on a shared machine, with yara 4 measured in the same run:
#   - signature-base, 2 workers: yara -p 2 with a yarac file vs ring3 from the .yar sources and from
#     a compiled rule file (`ring3 rules compile`), on the bench corpus and on a second clean corpus
#     (scripts/make-corpus2.sh: other Wine DLLs, an npm tree, Perl's modules); medians of 3
#   - rule load: an empty folder with the bundled set, with signature-base from sources and compiled
#   - peak RSS: signature-base on 100 MB+ files and a 3 GB sparse file, on the corpora; the bundled
#     set on the system library folder
#   - the bundled set vs reading the tree and computing SHA-256 (2 processes)
# BEFORE: another ring3 binary (say, one built from an earlier commit), measured beside RING3.
# Needs what `build-bench.sh --install-tools` installs.
set -euo pipefail
usage="usage: bench-load.sh RING3 CORPUS CORPUS2 SHARED [BEFORE]"
ring3=$(realpath "${1:?$usage}")
corpus=$(realpath "${2:?$usage}")
corpus2=$(realpath "${3:?$usage}")
shared=$(realpath "${4:?$usage}")
before=${5:+$(realpath "$5")}
rules=$shared/rulesets/signature-base/yara
syslib=/usr/lib/x86_64-linux-gnu
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

cat "$rules"/*.yar* > "$tmp/all.yar"
ext=(-d filename=x -d filepath=x -d extension=x -d filetype=x -d owner=x)
yarac "${ext[@]}" "$tmp/all.yar" "$tmp/all.yc"
compiled=()
if "$ring3" rules --help 2>/dev/null | grep -q "^  compile"; then
  "$ring3" rules compile "$rules" -o "$tmp/sigbase.r3c"
  compiled=(--rules "$tmp/sigbase.r3c")
fi
mkdir -p "$tmp/empty" "$tmp/large"
truncate -s 3G "$tmp/large/sparse-3g.bin"
printf 'MZ ring3 bench marker at the end' >> "$tmp/large/sparse-3g.bin"
ln -s "$corpus2/big"/* "$tmp/large/" 2>/dev/null || true
# Warm every input, the new sparse file too: the first binary timed on it used to pay for its
# first read (52 s against 15-20 s for either binary once warm).
for d in "$corpus" "$corpus2/small" "$corpus2/big" "$syslib" "$tmp/large"; do find "$d" -type f -exec cat {} + >/dev/null 2>&1 || true; done
echo "load: $(cut -d' ' -f1-3 /proc/loadavg); ring3: $ring3${before:+; before: $before}"

run() {  # run LABEL N MB CMD... : N timed runs (wall time, peak RSS), then the median
  local label=$1 n=$2 mb=$3; shift 3
  local times=() rc
  for _ in $(seq "$n"); do
    rc=0
    /usr/bin/time -f '%e %M' -o "$tmp/t" "$@" >"$tmp/out" 2>"$tmp/err" || rc=$?
    read -r secs kb < <(tail -1 "$tmp/t")
    times+=("$secs")
    printf '  %-40s %8s s %7.0f MB peak RSS  exit %s\n' "$label" "$secs" "$(echo "$kb / 1024" | bc -l)" "$rc"
    [[ $rc -le 2 ]] || tail -3 "$tmp/err" | sed 's/^/    /'
  done
  median=$(printf '%s\n' "${times[@]}" | sort -n | sed -n "$(( (n + 1) / 2 ))p")
  [[ $mb == - ]] || printf '%-42s median %8s s %8.1f MB/s\n' "$label" "$median" "$(echo "$mb / $median" | bc -l)"
  eval "M_${label//[^a-zA-Z0-9]/_}=$median"
}
ratio() { printf '  %-60s %.2f\n' "$1" "$(echo "$2 / $3" | bc -l)"; }

for c in "$corpus" "$corpus2/small"; do
  mb=$(du -sm "$c" | cut -f1)
  echo "== signature-base, 2 workers: $c ($mb MB, $(find "$c" -type f | wc -l) files)"
  run yara 3 "$mb" yara -p 2 -r -N -w "${ext[@]}" -C "$tmp/all.yc" "$c"
  run ring3_sources 3 "$mb" "$ring3" scan --no-bundled --rules "$rules" --workers 2 --format json -o "$tmp/r.json" "$c"
  if [[ ${#compiled[@]} -gt 0 ]]; then
    run ring3_compiled 3 "$mb" "$ring3" scan --no-bundled "${compiled[@]}" --workers 2 --format json -o "$tmp/c.json" "$c"
    node -e '
      const f = (p) => { const m = new Map(); for (const x of require(p).results) if (x.findings.length) m.set(x.path + "!" + (x.members || []).join("!"), x.findings.map((f) => f.rule).sort().join()); return m; };
      const [c, s] = [f(process.argv[1]), f(process.argv[2])];
      const same = c.size === s.size && [...c].every(([k, v]) => s.get(k) === v);
      console.log(`  findings: compiled file ${c.size} results with findings, sources ${s.size}; identical: ${same}`);
    ' "$tmp/c.json" "$tmp/r.json"
  fi
  [[ -z $before ]] || run before_sources 3 "$mb" "$before" scan --no-bundled --rules "$rules" --workers 2 --format json -o "$tmp/b.json" "$c"
  ratio "ring3 from sources / yara -p 2 (yarac)" "$M_ring3_sources" "$M_yara"
  [[ ${#compiled[@]} -eq 0 ]] || ratio "ring3 from a compiled file / yara -p 2 (yarac)" "$M_ring3_compiled" "$M_yara"
  [[ -z $before ]] || ratio "before, from sources / yara -p 2 (yarac)" "$M_before_sources" "$M_yara"
  echo "== bundled set vs read + SHA-256 (2 processes): $c"
  run read_sha256 3 "$mb" bash -c "find '$c' -type f -print0 | xargs -0 -P 2 -n 200 sha256sum >/dev/null"
  run ring3_bundled 3 "$mb" "$ring3" scan --workers 2 --format json -o "$tmp/b.json" "$c"
  [[ -z $before ]] || run before_bundled 3 "$mb" "$before" scan --workers 2 --format json -o "$tmp/bb.json" "$c"
  ratio "ring3 bundled / read + sha256" "$M_ring3_bundled" "$M_read_sha256"
  [[ -z $before ]] || ratio "before, bundled / read + sha256" "$M_before_bundled" "$M_read_sha256"
done

echo "== peak RSS"
for b in "$ring3" ${before:+"$before"}; do
  echo " $b"
  run sigbase_large 1 - "$b" scan --no-bundled --rules "$rules" --workers 2 --follow-symlinks --format json -o "$tmp/l.json" "$tmp/large"
  node -e 'const r=require(process.argv[1]); for (const x of r.results) console.log("    ", x.verdict, x.path, x.reason ? x.reason.message : "")' "$tmp/l.json" 2>/dev/null || true
  run bundled_syslib 1 - "$b" scan --workers 2 --format json -o "$tmp/s.json" "$syslib"
done

echo "== rule load (empty folder)"
cmds=("$ring3 scan $tmp/empty" "$ring3 scan --no-bundled --rules $rules $tmp/empty")
[[ ${#compiled[@]} -eq 0 ]] || cmds+=("$ring3 scan --no-bundled ${compiled[*]} $tmp/empty")
[[ -z $before ]] || cmds+=("$before scan $tmp/empty" "$before scan --no-bundled --rules $rules $tmp/empty")
hyperfine -N -i --warmup 1 --runs 5 --style basic "${cmds[@]}" 2>&1 | grep -E 'Benchmark|Time'
for c in "${cmds[@]}"; do
  /usr/bin/time -f '%M' -o "$tmp/t" $c >/dev/null 2>&1 || true
  printf '  %7.0f MB peak RSS  %s\n' "$(echo "$(tail -1 "$tmp/t") / 1024" | bc -l)" "$c"
done
