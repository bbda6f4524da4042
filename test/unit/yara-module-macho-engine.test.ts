// The macho module inside the whole fast path: rules the way macOS rules use it (dylibs,
// entitlements, segments and sections, imports and exports, hashes, fat archs, `.len()`), through
// `--engine auto` and `--engine yara-x` on real and written Mach-O files and on other bytes. Both
// must report the same rules, and the fast path must decide every rule itself.
import * as fs from "node:fs";
import * as path from "node:path";
import { beforeAll, describe, expect, test } from "vitest";
import type { FuncValue } from "../../src/engines/yara/contracts";
import { macho } from "../../src/engines/yara/modules/macho";
import { bytesSource } from "../../src/util/bytesource";
import { compareCounted, engines, initEngines } from "../support/differential";
import { build, CPUS, fat } from "./yara-module-macho-fixtures";
import { randomBytes, text } from "./yara-module-oracle";

const REAL = ["fsevents-2.3.3/package/fsevents.node", "esbuild-darwin-arm64-0.28.2/package/bin/esbuild"].map((f) =>
  path.resolve(__dirname, "../../.cache/macho", f),
);

function real(p: string): Uint8Array {
  if (!fs.existsSync(p)) throw new Error(`${p} is missing: run \`make macho-fixtures\``);
  return new Uint8Array(fs.readFileSync(p));
}

const hashOf = (data: Uint8Array, fn: string): string =>
  Buffer.from((macho.load(bytesSource(data)).field(fn) as FuncValue).call([]) as Uint8Array).toString();

const RULES = 26;

function rules(): string {
  const sample = build({ is64: true, le: true, cputype: 0x0100000c, chained: true });
  const fsevents = real(REAL[0]);
  const r = (name: string, cond: string): string => `rule ${name} { condition: ${cond} }`;
  return [
    'import "macho"',
    r("libsystem", 'macho.has_dylib("/usr/lib/libSystem.B.dylib") and macho.filetype == macho.MH_EXECUTE'),
    r("security_framework", 'for any d in macho.dylibs : (d.name contains "Security.framework" and d.current_version == "1290.1.2")'),
    r("writable_text", 'for any s in macho.segments : (s.segname == "__TEXT" and s.initprot & 2 != 0)'),
    r("text_section", 'for any s in macho.segments : (for any c in s.sections : (c.sectname == "__text" and c.size > 0x80))'),
    r("library_validation_off", 'macho.has_entitlement("com.apple.security.cs.disable-library-validation")'),
    r("app_groups", 'for any e in macho.entitlements : (e icontains "group.example")'),
    r("ptrace", 'macho.has_import("_ptrace") or macho.has_import("_strlen")'),
    r("exports", 'macho.has_export("_main") and macho.segments.len() >= 3'),
    r("arm64_slice", "macho.file_index_for_arch(macho.CPU_TYPE_ARM64) == 1"),
    r("x86_entry", "macho.entry_point_for_arch(macho.CPU_TYPE_X86_64) > 0x1000"),
    r("ppc_arch", "for any a in macho.fat_arch : (a.cputype == macho.CPU_TYPE_POWERPC)"),
    r("fat_bundle", "for any f in macho.file : (f.filetype == macho.MH_BUNDLE and f.ncmds > 10)"),
    r("import_hash", `macho.import_hash() == "${hashOf(sample, "import_hash")}"`),
    r("dylib_hash", `macho.dylib_hash() == "${hashOf(fsevents, "dylib_hash")}"`),
    r("entitlement_hash", `macho.entitlement_hash() == "${hashOf(sample, "entitlement_hash")}"`),
    r("symhash", `macho.symhash() == "${hashOf(fsevents, "symhash")}"`),
    r("uuid", 'macho.uuid == "DEADBEEF-0102-0304-0506-0708090A"'),
    r("platform", 'macho.build_version.platform == 1 and macho.build_version.minos == "13.1.0"'),
    r("min_version", "macho.min_version.device == macho.MACOSX"),
    r("rpath", 'macho.has_rpath("@executable_path/../Frameworks")'),
    r("dyld", 'macho.dynamic_linker == "/usr/lib/dyld" and macho.source_version == "12.3.4.5.6"'),
    r("symbols", 'for any s in macho.symtab.entries : (s == "_helper")'),
    r("code_signature", "macho.code_signature_data.datasize > 0 and macho.certificates.len() == 0"),
    r("dyld_info", "macho.dyld_info.export_size > 0 and not defined macho.stack_size"),
    r("absent_symtab", "macho.symtab.nlists.len() == 1 and not defined macho.symtab.nsyms"),
    r("not_macho", "not defined macho.magic and not defined macho.fat_magic"),
  ].join("\n");
}

describe("the macho module through the fast path agrees with YARA-X and decides there", () => {
  let e: ReturnType<typeof engines>;
  beforeAll(() => {
    initEngines();
    const t = rules();
    expect(t.match(/^rule /gm)?.length).toBe(RULES);
    e = engines([{ name: "macho.yar", text: t, namespace: "default" }]);
  });

  const thin = CPUS.map(([, cputype, is64]) => ({ data: build({ is64, le: !is64, cputype, thread: true }), cputype, cpusubtype: 0 }));
  const files: [string, () => Uint8Array][] = [
    ...REAL.map((f): [string, () => Uint8Array] => [path.basename(f), () => real(f)]),
    ...CPUS.map(([cpu], i): [string, () => Uint8Array] => [`thread ${cpu}`, () => thin[i].data]),
    ["chained fixups", () => build({ is64: true, le: true, cputype: 0x0100000c, chained: true })],
    ["fat of three", () => fat(thin.slice(3, 6))],
    ["fat64 of two", () => fat(thin.slice(0, 2), true, true)],
    ["random 64 KiB", () => randomBytes(65536, 5)],
    ["text", () => text("hello world\n".repeat(400))],
    ["empty", () => new Uint8Array(0)],
  ];
  const matched = new Set<string>();
  for (const [name, load] of files) {
    test(name, () => {
      const data = load();
      expect(compareCounted(e, name, data)).toEqual({ disagreement: undefined, decided: RULES, deferred: 0 });
      const ext = { filename: "f", filepath: "/scan/f", extension: "", filetype: "", owner: "root" };
      for (const m of e.auto.scan(data, ext)) matched.add(m.rule);
    });
  }

  test("the rules match where they should (the set is not vacuous)", () => {
    expect([...matched].sort()).toEqual(
      [
        "absent_symtab", "app_groups", "arm64_slice", "code_signature", "dyld", "dyld_info", "dylib_hash", "entitlement_hash", "exports",
        "fat_bundle", "import_hash", "libsystem", "min_version", "not_macho", "platform", "ppc_arch", "ptrace", "rpath", "security_framework", "symbols",
        "symhash", "text_section", "uuid", "x86_entry",
      ].sort(),
    );
  });
});
