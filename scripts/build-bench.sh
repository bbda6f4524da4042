#!/usr/bin/env bash
# build-bench.sh RING3 CORPUS SHARED — ring3 against yara and clamscan (SHARED/bench/compare.sh),
# then ring3's peak RSS with the bundled signatures and with signature-base, and its start time.
# build-bench.sh --install-tools — installs what this needs from Debian's packages, if missing.
set -euo pipefail

install_tools() {
  local missing=()
  command -v yara >/dev/null || missing+=(yara)
  command -v clamscan >/dev/null || missing+=(clamav)
  command -v bc >/dev/null || missing+=(bc)
  [[ -x /usr/bin/time ]] || missing+=(time)
  command -v hyperfine >/dev/null || missing+=(hyperfine)
  [[ ${#missing[@]} -eq 0 ]] && return
  echo "bench: installing ${missing[*]}"
  [[ -n $(find /var/lib/apt/lists -name '*Packages*' -print -quit 2>/dev/null) ]] || apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

if [[ ${1:-} == --install-tools ]]; then install_tools; exit 0; fi
ring3=$(realpath "${1:?usage: build-bench.sh RING3 CORPUS SHARED}")
corpus=$(realpath "${2:?usage: build-bench.sh RING3 CORPUS SHARED}")
shared=$(realpath "${3:?usage: build-bench.sh RING3 CORPUS SHARED}")
rules=$shared/rulesets/signature-base/yara
install_tools
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

echo "== speed: ring3 vs yara 4 vs clamscan ($(du -sh "$corpus" | cut -f1), $(find "$corpus" -type f | wc -l) files)"
"$shared/bench/compare.sh" "$ring3" "$corpus" "$rules"

echo
echo "== peak memory (one run each, --workers 2)"
rss() {  # rss LABEL ARGS... : one scan under GNU time; exit 0/1 are verdicts, 2 means not fully scanned
  local label=$1; shift
  local rc=0
  /usr/bin/time -f '%M %e' -o "$tmp/time" "$ring3" scan --workers 2 --format json -o "$tmp/out.json" "$@" "$corpus" \
    >/dev/null 2>"$tmp/err" || rc=$?
  read -r kb secs < <(tail -1 "$tmp/time")
  printf '%-40s %8.0f MB peak RSS %8s s   exit %s\n' "$label" "$(echo "$kb / 1024" | bc -l)" "$secs" "$rc"
  [[ $rc -le 2 ]] || { echo "  stderr:"; tail -5 "$tmp/err" | sed 's/^/  /'; }
}
rss "bundled signatures"
rss "signature-base (--no-bundled --rules)" --no-bundled --rules "$rules"

echo
echo "== start time: ring3 --version"
if command -v hyperfine >/dev/null; then
  hyperfine -N --warmup 5 --runs 30 --style basic "$ring3 --version" 2>&1 | grep -E 'Time|Range'
else
  start=$(date +%s%N)
  for _ in $(seq 20); do "$ring3" --version >/dev/null; done
  echo "mean of 20 runs: $(( ($(date +%s%N) - start) / 20000000 )) ms"
fi
