// The modules inside the whole fast path: rules over elf, math, hash, string, time and console, the
// way signature-style rules use them, through `--engine auto` and `--engine yara-x` on real ELF
// files and other bytes. Both must report the same rules, and the fast path must decide them
// itself (no rule of this set goes to YARA-X, except those calling what ring3 leaves to it).
import * as fs from "node:fs";
import { beforeAll, describe, expect, test } from "vitest";
import type { FuncValue, ModuleFactory } from "../../src/engines/yara/contracts";
import { elf } from "../../src/engines/yara/modules/elf";
import { hash } from "../../src/engines/yara/modules/hash";
import { compareCounted, engines, initEngines } from "../support/differential";
import { randomBytes, text } from "./yara-module-oracle";
import { bytesSource } from "../../src/util/bytesource";

const ELF_FILES = ["/usr/bin/ls", "/usr/bin/true", "/usr/bin/yara"].filter((f) => fs.existsSync(f));

function fnValue(module: ModuleFactory, data: Uint8Array, fn: string, args: unknown[]): string {
  return Buffer.from((module.load(bytesSource(data)).field(fn) as FuncValue).call(args as never) as Uint8Array).toString();
}

const RULES = 29;

function rules(): string {
  const ls = new Uint8Array(fs.readFileSync(ELF_FILES[0]));
  const md5 = fnValue(hash, ls, "md5", [0n, BigInt(ls.length)]);
  const head = fnValue(hash, ls, "sha256", [0n, 64n]);
  const imports = fnValue(elf, ls, "import_md5", []);
  const telf = fnValue(elf, ls, "telfhash", []);
  const r = (name: string, cond: string): string => `rule ${name} { condition: ${cond} }`;
  return [
    'import "elf"',
    'import "math"',
    'import "hash"',
    'import "string"',
    'import "time"',
    'import "console"',
    r("elf_x64_exec", "elf.type == elf.ET_DYN and elf.machine == elf.EM_X86_64"),
    r("elf_text_section", 'for any s in elf.sections : (s.name == ".text" and s.size > 1000 and s.type == elf.SHT_PROGBITS)'),
    r("elf_entry_in_file", "elf.entry_point > 0 and elf.entry_point < filesize"),
    r("elf_entry_bytes", "uint8(elf.entry_point) == 0xf3 or uint8(elf.entry_point) == 0x31"),
    r("elf_interp", "for any i in (0..elf.number_of_segments - 1) : (elf.segments[i].type == elf.PT_INTERP)"),
    r("elf_needed", "for any d in elf.dynamic : (d.type == elf.DT_NEEDED)"),
    r("elf_needed_count", "for 2 d in elf.dynamic : (d.type == elf.DT_NEEDED)"),
    r("elf_malloc", 'for any s in elf.dynsym : (s.name == "malloc" and s.type == elf.STT_FUNC and s.bind == elf.STB_GLOBAL)'),
    r("elf_many_syms", "elf.dynsym_entries > 50 and elf.symtab_entries == 0"),
    r("elf_rwx", "for any s in elf.segments : (s.flags & elf.PF_X and s.flags & elf.PF_W)"),
    r("elf_imports_of_ls", `elf.import_md5() == "${imports}"`),
    r("elf_telfhash_of_ls", `elf.telfhash() == "${telf}"`),
    r("not_elf", "not defined elf.type"),
    r("math_entropy_high", "math.entropy(0, filesize) >= 7.0"),
    r("math_entropy_mid", "math.entropy(0, filesize) > 5.5 and math.entropy(0, filesize) < 7.0"),
    r("math_entropy_head", "math.entropy(0, 0x1000) < 4"),
    r("math_mean", "math.mean(0, filesize) > 100.0"),
    r("math_deviation", "math.deviation(0, filesize, math.MEAN_BYTES) < 64.0"),
    r("math_serial", "math.serial_correlation(0, filesize) < 0.5"),
    r("math_pi", "math.monte_carlo_pi(0, filesize) < 0.1"),
    r("math_zeros", "math.count(0, 0, filesize) > 1000 and math.percentage(0) > 0.2"),
    r("math_mode", "math.mode() == 0"),
    r("math_past_end", "not defined math.entropy(filesize + 1, 10)"),
    r("hash_md5_of_ls", `hash.md5(0, filesize) == "${md5}"`),
    r("hash_head_of_ls", `hash.sha256(0, 64) == "${head}"`),
    r("hash_crc_magic", "hash.crc32(0, 4) == 0x3d9ed5a9 or hash.checksum32(0, 4) == 0x178"),
    r("hash_past_end", "not defined hash.md5(0, filesize + 1)"),
    r("string_and_time", 'string.to_int("0x10") == 16 or (string.to_int("10", 16) == 16 and string.length("abc") == 3 and time.now() > 1600000000)'),
    r("console_true", 'console.log("checked: ", filesize) and filesize > 0'),
  ].join("\n");
}

describe("modules through the fast path agree with YARA-X and are decided there", () => {
  let e: ReturnType<typeof engines>;
  beforeAll(() => {
    initEngines();
    const text = rules();
    expect(text.match(/^rule /gm)?.length).toBe(RULES);
    e = engines([{ name: "modules.yar", text, namespace: "default" }]);
  });

  const files: [string, () => Uint8Array][] = [
    ...ELF_FILES.map((f): [string, () => Uint8Array] => [f, () => new Uint8Array(fs.readFileSync(f))]),
    ["random 64 KiB", () => randomBytes(65536, 3)],
    ["zeros", () => new Uint8Array(5000)],
    ["text", () => text("hello world\n".repeat(400))],
    ["empty", () => new Uint8Array(0)],
  ];
  for (const [name, load] of files) {
    test(name, () => {
      expect(compareCounted(e, name, load())).toEqual({ disagreement: undefined, decided: RULES, deferred: 0 });
    });
  }

  test("the rules match where they should (the set is not vacuous)", () => {
    const ls = e.auto.scan(new Uint8Array(fs.readFileSync(ELF_FILES[0])), { filename: "ls", filepath: "/scan/ls", extension: "", filetype: "", owner: "root" });
    const matched = ls.map((f) => f.rule);
    for (const r of ["elf_x64_exec", "elf_text_section", "elf_interp", "elf_needed", "elf_malloc", "elf_imports_of_ls", "elf_telfhash_of_ls", "hash_md5_of_ls", "hash_head_of_ls", "console_true"]) {
      expect(matched, r).toContain(r);
    }
    const random = e.auto.scan(randomBytes(65536, 3), { filename: "r", filepath: "/scan/r", extension: "", filetype: "", owner: "root" }).map((f) => f.rule);
    expect(random).toContain("math_entropy_high");
    expect(random).toContain("not_elf");
  });
});
