#!/usr/bin/env bash
# bench-once.sh RING3 CORPUS SHARED — the figures the closing notes of issues 3, 4 and 5 give, in
# one run on a shared machine (medians of 3 unless said otherwise), with the anchors measured in
# the same run:
#   - signature-base: yara 4 -p 2 -N (symlinks not followed, as ring3 by default) vs ring3
#     --workers 2 (fast path) on the same files, with
#     --no-archives (the same work as yara) and with archives; peak RSS; --stats (share of files
#     for which YARA-X was never called, time per stage, rule load time)
#   - bundled set: ring3 vs reading and SHA-256 hashing the corpus (2 processes)
#   - archives: ring3 vs clamscan on the corpus's archives (both unpack them)
#   - start time: --version, an empty folder with the bundled set and with signature-base
# Needs what `build-bench.sh --install-tools` installs.
set -euo pipefail
ring3=$(realpath "${1:?usage: bench-once.sh RING3 CORPUS SHARED}")
corpus=$(realpath "${2:?usage: bench-once.sh RING3 CORPUS SHARED}")
shared=$(realpath "${3:?usage: bench-once.sh RING3 CORPUS SHARED}")
rules=$shared/rulesets/signature-base/yara
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cat "$rules"/*.yar* > "$tmp/all.yar"
ext=(-d filename=x -d filepath=x -d extension=x -d filetype=x -d owner=x)
yarac "${ext[@]}" "$tmp/all.yar" "$tmp/all.yc"
sigtool --sha256 /bin/true > "$tmp/one.hsb"
find "$corpus" -type f -exec cat {} + >/dev/null 2>&1 || true
size=$(du -sm "$corpus" | cut -f1)
arch=$corpus/arch
asize=$(du -sm "$arch" | cut -f1)
echo "corpus: $size MB, $(find "$corpus" -type f | wc -l) files (archives: $asize MB, $(find "$arch" -type f | wc -l) files); load: $(cut -d' ' -f1-3 /proc/loadavg)"

run() {  # run LABEL N MB CMD... : N timed runs, each wall time and peak RSS, then the median
  local label=$1 n=$2 mb=$3; shift 3
  local times=()
  for i in $(seq "$n"); do
    local rc=0
    /usr/bin/time -f '%e %M' -o "$tmp/t" "$@" >"$tmp/out" 2>"$tmp/err" || rc=$?
    read -r secs kb < <(tail -1 "$tmp/t")
    times+=("$secs")
    printf '  %-44s %8s s %7.0f MB  exit %s\n' "$label" "$secs" "$(echo "$kb / 1024" | bc -l)" "$rc"
    cp "$tmp/err" "$tmp/err.$label.$i"
  done
  median=$(printf '%s\n' "${times[@]}" | sort -n | sed -n "$(( (n + 1) / 2 ))p")
  printf '%-46s median %8s s %8.1f MB/s\n' "$label" "$median" "$(echo "$mb / $median" | bc -l)"
  eval "M_${label//[^a-zA-Z0-9]/_}=$median"
}
stats() { grep -A6 '^ring3 stats' "$tmp/err.$1.1" | sed 's/^/    /' || true; }

echo "== signature-base"
run yara2 3 "$size" yara -p 2 -r -N -w "${ext[@]}" -C "$tmp/all.yc" "$corpus"
run ring3_sigbase_noarch 3 "$size" "$ring3" scan --no-bundled --rules "$rules" --workers 2 --no-archives --stats --format json -o "$tmp/r.json" "$corpus"
stats ring3_sigbase_noarch
node -e 'const s=require(process.argv[1]).summary; console.log("    summary:", JSON.stringify(s))' "$tmp/r.json"
run ring3_sigbase 1 "$size" "$ring3" scan --no-bundled --rules "$rules" --workers 2 --stats --format json -o "$tmp/ra.json" "$corpus"
stats ring3_sigbase
node -e 'const s=require(process.argv[1]).summary; console.log("    summary:", JSON.stringify(s))' "$tmp/ra.json"

echo "== bundled set"
run ring3_bundled 3 "$size" "$ring3" scan --workers 2 --stats --format json -o "$tmp/b.json" "$corpus"
stats ring3_bundled
node -e 'const s=require(process.argv[1]).summary; console.log("    summary:", JSON.stringify(s))' "$tmp/b.json"
run ring3_bundled_noarch 3 "$size" "$ring3" scan --workers 2 --no-archives --format json -o "$tmp/bn.json" "$corpus"
run read_sha256 3 "$size" bash -c "find '$corpus' -type f -print0 | xargs -0 -P 2 -n 200 sha256sum >/dev/null"
run clamscan 3 "$size" clamscan --no-summary -i -r -d "$tmp/one.hsb" "$corpus"

echo "== archives ($arch)"
run ring3_arch_bundled 3 "$asize" "$ring3" scan --workers 2 --format json -o "$tmp/a.json" "$arch"
node -e 'const s=require(process.argv[1]).summary; console.log("    summary:", JSON.stringify(s))' "$tmp/a.json"
run clamscan_arch 3 "$asize" clamscan --no-summary -i -r -d "$tmp/one.hsb" "$arch"

printf 'ratio ring3/yara, signature-base, same work (--no-archives): %.2f\n' "$(echo "$M_ring3_sigbase_noarch / $M_yara2" | bc -l)"
printf 'ratio ring3/yara, signature-base, ring3 also inside archives: %.2f\n' "$(echo "$M_ring3_sigbase / $M_yara2" | bc -l)"
printf 'ratio ring3 bundled / (read + sha256sum, 2 processes): %.2f (--no-archives: %.2f)\n' "$(echo "$M_ring3_bundled / $M_read_sha256" | bc -l)" "$(echo "$M_ring3_bundled_noarch / $M_read_sha256" | bc -l)"
printf 'ratio ring3/clamscan on archives: %.2f\n' "$(echo "$M_ring3_arch_bundled / $M_clamscan_arch" | bc -l)"

mkdir -p "$tmp/empty"
echo "== start time"
hyperfine -N --warmup 3 --runs 10 --style basic "$ring3 --version" "$ring3 scan $tmp/empty" "$ring3 scan --no-bundled --rules $rules $tmp/empty" 2>&1 | grep -E 'Benchmark|Time|Range'
