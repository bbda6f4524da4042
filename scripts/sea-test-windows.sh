#!/usr/bin/env bash
# sea-test-windows.sh RING3_EXE [RING3_LINUX] — runs the Windows single executable under wine, as a
# standalone copy: `--version`, then a scan of a folder holding the EICAR test file (exit code 1
# expected). While the Linux binary does not detect EICAR either, the scan check is reported as
# skipped and only --version decides. WINEPREFIX must name a throwaway prefix (the Makefile's).
#
# wine hands a Unix pipe to node.exe as a handle that libuv cannot open (EBADF on stdout), so the
# exe's output always goes to files here, never through a pipe.
set -euo pipefail
exe=${1:?usage: sea-test-windows.sh RING3_EXE [RING3_LINUX]}
linux=${2:-}
exe=$(realpath "$exe")
[[ -z $linux ]] || linux=$(realpath "$linux")
: "${WINEPREFIX:?set WINEPREFIX to a throwaway directory}"
export WINEPREFIX WINEDEBUG=${WINEDEBUG:--all}
command -v wine >/dev/null || { echo "wine is not installed (apt-get install wine wine64)" >&2; exit 2; }

tmp=$(mktemp -d)
cleanup() { wineserver -k 2>/dev/null || true; rm -rf "$tmp"; }
trap cleanup EXIT

# Node 22 refuses Windows versions before 8.1; wine 8's new prefixes say Windows 7.
if [[ ! -f $WINEPREFIX/system.reg ]] || [[ $(wine winecfg /v 2>/dev/null | tr -d '\r') != win10 ]]; then
  mkdir -p "$WINEPREFIX"
  wine winecfg /v win10 >/dev/null 2>&1
fi

mkdir -p "$tmp/bin" "$tmp/scan"
cp "$exe" "$tmp/bin/ring3.exe"
cd "$tmp/bin"
fail=0
show() { echo "--- stdout"; cat "$tmp/out"; echo "--- stderr"; cat "$tmp/err"; echo "---"; }

rc=0; wine ring3.exe --version >"$tmp/out" 2>"$tmp/err" </dev/null || rc=$?
if [[ $rc -eq 0 && -s $tmp/out ]]; then
  echo "ok   ring3.exe --version: $(tr -d '\r' <"$tmp/out" | head -1)"
else
  echo "FAIL ring3.exe --version: exit $rc"; show; fail=1
fi

printf '%s' 'X5O!P%@AP[4\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*' >"$tmp/scan/eicar.com"
printf 'nothing to see here\n' >"$tmp/scan/clean.txt"
winpath=$(winepath -w "$tmp/scan" 2>/dev/null | tr -d '\r')
lrc=1
if [[ -n $linux ]]; then lrc=0; "$linux" scan "$tmp/scan" >"$tmp/lout" 2>&1 </dev/null || lrc=$?; fi
rc=0; wine ring3.exe scan "$winpath" >"$tmp/out" 2>"$tmp/err" </dev/null || rc=$?
if [[ $rc -eq 1 ]]; then
  echo "ok   ring3.exe scan $winpath: exit 1 (EICAR found)"
elif [[ $lrc -ne 1 ]]; then
  echo "skip ring3.exe scan: exit $rc; the Linux binary gives exit $lrc on the same folder (EICAR not detected yet)"
else
  echo "FAIL ring3.exe scan $winpath: exit $rc, expected 1 (the Linux binary gives 1)"; show; fail=1
fi
exit $fail
