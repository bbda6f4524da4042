#!/usr/bin/env bash
# Issue 12: how often rules that use the dotnet module still need YARA-X. Writes a rule set of
# dotnet rules (signature-base's typelib GUID rules rewritten to use dotnet.typelib, as the file's
# own header suggests, plus rules on the other fields public rules use: assembly, resources, user
# strings, classes and methods, GUIDs, module name, assembly references), then runs
# `ring3 scan --stats` with it over DIR (default: the assemblies of .cache/dotnet) and prints the
# "YARA-X never called" line. BINARY=... measures another build (e.g. main's, for "before").
set -euo pipefail
binary=${BINARY:-dist/ring3}
dir=${1:-.cache/dotnet}
shared=${SHARED:-../shared}
src=$shared/rulesets/signature-base/yara/gen_github_net_redteam_tools_guids.yar
out=.cache/dotnet-rules
mkdir -p "$out"
# One rule per signature-base rule: its typelib GUIDs as dotnet.typelib comparisons.
awk '
  /^rule / { name = $2; n = 0; delete g }
  /\$typelibguid[0-9]+lo = "/ { match($0, /"[0-9a-f-]+"/); g[n++] = substr($0, RSTART, RLENGTH) }
  /^}/ && name != "" && n > 0 {
    printf "rule %s_typelib {\n  condition:\n    ", name
    for (i = 0; i < n; i++) printf "%sdotnet.typelib iequals %s", (i ? " or\n    " : ""), g[i]
    printf "\n}\n\n"; name = ""
  }' "$src" > "$out/typelib.body"
{ echo 'import "dotnet"'; echo; cat "$out/typelib.body"; cat <<'RULES'
rule NET_ConfuserEx_Marker { condition: for any c in dotnet.classes : (c.name == "ConfusedByAttribute") }
rule NET_Large_Embedded_Resource { condition: for any r in dotnet.resources : (r.length > 500000) }
rule NET_Resource_Named_Payload { condition: for any r in dotnet.resources : (r.name matches /payload|shellcode|stage[0-9]/i) }
rule NET_UserString_Powershell { condition: for any s in dotnet.user_strings : (s == "p\x00o\x00w\x00e\x00r\x00s\x00h\x00e\x00l\x00l\x00") }
rule NET_References_Management { condition: for any a in dotnet.assembly_refs : (a.name == "System.Management" and a.version.major >= 4) }
rule NET_Static_VirtualAlloc { condition: for any c in dotnet.classes : (for any m in c.methods : (m.name == "VirtualAlloc" and m.static)) }
rule NET_Mvid { condition: dotnet.guids[0] == "00000000-1111-2222-3333-444444444444" }
rule NET_Module_Named_Stub { condition: dotnet.module_name iequals "stub.exe" or dotnet.assembly.name iequals "stub" }
rule NET_Many_Modulerefs { condition: dotnet.number_of_modulerefs > 40 }
rule NET_Old_Runtime { condition: dotnet.is_dotnet and dotnet.version startswith "v2." and dotnet.number_of_classes < 3 }
RULES
} > "$out/dotnet.yar"
rm "$out/typelib.body"
echo "$(grep -c '^rule ' "$out/dotnet.yar") rules in $out/dotnet.yar; $(find "$dir" -type f | wc -l) files in $dir; $binary"
"$binary" scan --no-bundled --rules "$out/dotnet.yar" --stats -w 1 "$dir" 2>&1 >/dev/null | grep -E "YARA-X|files" || true
