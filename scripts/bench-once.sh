#!/usr/bin/env bash
# bench-once.sh RING3 CORPUS SHARED — the figures of `make bench` in one pass, for when a full
# `make bench` (medians of 3) is too slow: ring3 with signature-base once (it costs about 20 min
# on the 10k-file corpus while every file goes through YARA-X), everything else three times.
# Same commands and flags as SHARED/bench/compare.sh, plus peak RSS, start time and the YARA-X
# per-call cost. Needs what `build-bench.sh --install-tools` installs.
set -euo pipefail
ring3=$(realpath "${1:?usage: bench-once.sh RING3 CORPUS SHARED}")
corpus=$(realpath "${2:?usage: bench-once.sh RING3 CORPUS SHARED}")
shared=$(realpath "${3:?usage: bench-once.sh RING3 CORPUS SHARED}")
here=$(cd "$(dirname "$0")" && pwd)
rules=$shared/rulesets/signature-base/yara
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cat "$rules"/*.yar* > "$tmp/all.yar"
ext=(-d filename=x -d filepath=x -d extension=x -d filetype=x -d owner=x)
yarac "${ext[@]}" "$tmp/all.yar" "$tmp/all.yc"
sigtool --sha256 /bin/true > "$tmp/one.hsb"
find "$corpus" -type f -exec cat {} + >/dev/null 2>&1 || true
size=$(du -sm "$corpus" | cut -f1)
echo "corpus: $size MB, $(find "$corpus" -type f | wc -l) files; load: $(cut -d' ' -f1-3 /proc/loadavg)"

run() {  # run LABEL N CMD... : N timed runs, prints each wall time and peak RSS, then the median
  local label=$1 n=$2; shift 2
  local times=()
  for _ in $(seq "$n"); do
    local rc=0
    /usr/bin/time -f '%e %M' -o "$tmp/t" "$@" >"$tmp/out" 2>"$tmp/err" || rc=$?
    read -r secs kb < <(tail -1 "$tmp/t")
    times+=("$secs")
    printf '  %-46s %8s s %7.0f MB  exit %s\n' "$label" "$secs" "$(echo "$kb / 1024" | bc -l)" "$rc"
  done
  median=$(printf '%s\n' "${times[@]}" | sort -n | sed -n "$(( (n + 1) / 2 ))p")
  printf '%-48s median %8s s %8.1f MB/s\n' "$label" "$median" "$(echo "$size / $median" | bc -l)"
  eval "M_${label//[^a-zA-Z0-9]/_}=$median"
}

run yara2 3 yara -p 2 -r -w "${ext[@]}" -C "$tmp/all.yc" "$corpus"
run ring3_sigbase 1 "$ring3" scan --no-bundled --rules "$rules" --workers 2 --format json -o "$tmp/r.json" "$corpus"
node -e 'const s=require(process.argv[1]).summary; console.log("  ring3 signature-base summary:", JSON.stringify(s))' "$tmp/r.json"
run ring3_bundled 3 "$ring3" scan --workers 2 --format json -o "$tmp/b.json" "$corpus"
node -e 'const s=require(process.argv[1]).summary; console.log("  ring3 bundled summary:", JSON.stringify(s))' "$tmp/b.json"
run clamscan 3 clamscan --no-summary -i -r -d "$tmp/one.hsb" "$corpus"
run read_sha256 3 bash -c "find '$corpus' -type f -print0 | xargs -0 -P 2 -n 200 sha256sum >/dev/null"
printf 'ratio ring3/yara (signature-base): %.2f\n' "$(echo "$M_ring3_sigbase / $M_yara2" | bc -l)"
printf 'ratio ring3 bundled / (read + sha256sum, 2 processes): %.2f\n' "$(echo "$M_ring3_bundled / $M_read_sha256" | bc -l)"

mkdir -p "$tmp/empty"
echo "start time:"
hyperfine -N --warmup 3 --runs 20 --style basic "$ring3 --version" "$ring3 scan $tmp/empty" 2>&1 | grep -E 'Benchmark|Time|Range'
echo "YARA-X per scan() call (ms, median after warm-up):"
node "$here/measure-yarax.mjs"
node "$here/measure-yarax.mjs" "$rules"
