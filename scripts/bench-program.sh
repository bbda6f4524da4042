#!/usr/bin/env bash
# bench-program.sh RING3 CORPUS SHARED [BEFORE] — issue 9 parts 1-2 in one run: the rule program
# compiled once per scan and compiled rule files. BEFORE: an older ring3 for the same figures.
#   - rule load: signature-base from sources and from a compiled file (--stats "ring3 rules:")
#   - peak RSS: one small file (so that workers start) with signature-base and 2 workers, with
#     1 worker (the difference is one worker's share)
# Corpus times against yara, the empty-folder start and the compiled file's findings against the
# sources' are bench-load.sh's (run after this one by `make bench`). CORPUS is unused, kept for
# the same arguments as the other bench scripts.
set -euo pipefail
ring3=$(realpath "${1:?usage: bench-program.sh RING3 CORPUS SHARED [BEFORE]}")
shared=$(realpath "${3:?}")
before=${4:+$(realpath "$4")}
rules=$shared/rulesets/signature-base/yara
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/empty" "$tmp/one"
echo hello > "$tmp/one/a.txt"
"$ring3" rules compile "$rules" -o "$tmp/sb.r3c" 2>&1 | sed 's/^/  rules compile: /'
echo "load: $(cut -d' ' -f1-3 /proc/loadavg)"

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
