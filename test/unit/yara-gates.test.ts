// Rule gates (gates.ts): the header value and filesize bounds a rule's condition demands before its
// patterns matter, and the matcher skipping the hits of rules a file cannot satisfy. What is read
// from conditions, how a file shuts gates, and that findings stay exactly YARA-X's (and, where
// YARA-X loses a shared pattern's matches, exactly what the rules say).
import { beforeAll, describe, expect, test } from "vitest";
import { createDirectEngine, createEngine, type YaraEngine } from "../../src/engines/yara/engine";
import { compileProgram } from "../../src/engines/yara/eval";
import { FileGates, ruleGate, type RuleGate } from "../../src/engines/yara/gates";
import { buildImage } from "../../src/engines/yara/image";
import { parse } from "../../src/engines/yara/parser";
import { FILE_EXTERNALS } from "../../src/engines/yara/yarax";
import { compare, engines, initEngines, signature } from "../support/differential";

const defines: Record<string, string> = Object.fromEntries(FILE_EXTERNALS.map((k) => [k, ""]));

/** The gate compileProgram gives the (only) rule of `cond`. */
function gateOf(cond: string, strings = ""): RuleGate | undefined {
  const src = parse(`rule r { ${strings ? `strings: ${strings}` : ""} condition: ${cond} }`, { file: "t.yar" });
  expect(src.errors).toEqual([]);
  const out = compileProgram([src.source!], { externals: {} });
  expect(out.errors).toEqual([]);
  return out.program!.gates![0];
}

describe("ruleGate: what a condition demands of the file", () => {
  const cases: [string, Partial<RuleGate> | undefined][] = [
    ["uint16(0) == 0x5A4D and $a", { spec: 2, off: 0, val: 0x5a4d, min: 0, max: -1 }],
    ["0x5A4D == uint16(0) and $a", { spec: 2, off: 0, val: 0x5a4d }],
    ["uint32be(0) == 0x7F454C46 and $a", { spec: 4 | 8, off: 0, val: 0x7f454c46 }],
    ["int8(3) == -1 and $a", { spec: 1 | 16, off: 3, val: -1 }],
    ["uint32(0) == 0xFEEDFACF and $a", { spec: 4, val: 0xfeedfacf | 0 }],
    ["filesize < 200KB and $a", { spec: 0, min: 0, max: 200 * 1024 - 1 }],
    ["$a and filesize <= 100 and 50 < filesize", { spec: 0, min: 51, max: 100 }],
    ["filesize > 1MB and $a", { min: 1024 * 1024 + 1, max: -1 }],
    ["filesize == 10 and $a", { min: 10, max: 10 }],
    ["uint16(0) == 0x5A4D and filesize < 2MB and filesize < 1MB and $a", { spec: 2, max: 1024 * 1024 - 1 }],
    // Not at the top of the `and` chain: nothing can be said without the patterns.
    ["$a or uint16(0) == 0x5A4D", undefined],
    ["not (filesize > 10) and $a", undefined],
    ["$a and (filesize < 10 or $a)", undefined],
    ["uint16(uint32(0x3C)) == 0x4550 and $a", undefined],
    ["filesize < 0x7FFFFFFFFF and $a", undefined],
    ["$a", undefined],
  ];
  test.each(cases)("%s", (cond, want) => {
    const g = gateOf(cond, '$a = "abcd"');
    if (want === undefined) expect(g).toBeUndefined();
    else expect(g).toMatchObject(want);
  });

  test("a rule named uint16 in the namespace turns the header guard off", () => {
    const src = parse(`rule uint16 { condition: true } rule r { strings: $a = "abcd" condition: uint16(0) == 1 and filesize < 10 and $a }`, { file: "t.yar" });
    const out = compileProgram([src.source!], { externals: {} });
    // The call cannot be the module-less read here: only the filesize bound is kept.
    expect(out.program?.gates?.[1] ?? { spec: 0 }).toMatchObject({ spec: 0 });
  });
});

describe("FileGates.mark", () => {
  const gates: RuleGate[] = [
    { spec: 2, off: 0, val: 0x5a4d, min: 0, max: -1 }, // MZ
    { spec: 4 | 8, off: 0, val: 0x7f454c46, min: 0, max: -1 }, // ELF, big-endian read
    { spec: 1 | 16, off: 1, val: -1, min: 0, max: -1 }, // int8(1) == -1
    { spec: 0, off: 0, val: 0, min: 0, max: 99 }, // filesize < 100
    { spec: 0, off: 0, val: 0, min: 50, max: -1 }, // filesize >= 50
    { spec: 2, off: 200, val: 0x4241, min: 0, max: -1 }, // uint16(200) == "AB"
  ];
  // One pattern per rule, none shared.
  const n = gates.length;
  const fg = new FileGates(gates, Int32Array.from({ length: n }, (_, i) => i), Int32Array.from({ length: n }, (_, i) => i), (p) => p);
  const shutOf = (size: number, head: Uint8Array) => {
    const shut = fg.mark(size, head, new Uint8Array(fg.size));
    return Array.from({ length: n }, (_, vi) => shut[fg.varGate[vi]!]);
  };
  test("header values, widths, signedness and byte order", () => {
    const mz = new Uint8Array(60).fill(0x20);
    mz.set([0x4d, 0x5a]);
    // uint16(200) is past the end of a 60-byte file: undefined, so that rule is false.
    expect(shutOf(60, mz)).toEqual([0, 1, 1, 0, 0, 1]);
    const elf = new Uint8Array(60).fill(0x20);
    elf.set([0x7f, 0x45, 0x4c, 0x46]);
    expect(shutOf(60, elf)).toEqual([1, 0, 1, 0, 0, 1]);
    const ff = new Uint8Array(60).fill(0xff);
    expect(shutOf(60, ff)).toEqual([1, 1, 0, 0, 0, 1]);
    const ab = new Uint8Array(300).fill(0x20);
    ab.set([0x41, 0x42], 200);
    expect(shutOf(300, ab)).toEqual([1, 1, 1, 1, 0, 0]);
  });
  test("filesize bounds, and reads past the end of the file or of the bytes given", () => {
    const ff = new Uint8Array(300).fill(0xff);
    expect(shutOf(300, ff)).toEqual([1, 1, 0, 1, 0, 1]);
    // A 1-byte file: every header read of two or more bytes is undefined, so the rule is false.
    expect(shutOf(1, ff.subarray(0, 1))).toEqual([1, 1, 1, 0, 1, 1]);
    // A large file given by its first 64 bytes: the read at 200 is not known yet, so it stays open.
    expect(shutOf(1 << 20, ff.subarray(0, 64))).toEqual([1, 1, 0, 1, 0, 0]);
  });
  test("a variant shared by rules with different gates is shut only when all of theirs are", () => {
    // Patterns 0 (rule 0: MZ) and 1 (rule 1: ELF) share variant 0; pattern 2 (rule 3, no gate) shares variant 1 with pattern 3 (MZ).
    const shared = new FileGates([gates[0], gates[1], undefined, undefined], Int32Array.of(0, 2), Int32Array.of(0, 0, 2, 2), (p) => (p === 3 ? 0 : p));
    const shut = (head: Uint8Array) => {
      const s = shared.mark(head.length, head, new Uint8Array(shared.size));
      return [s[shared.varGate[0]!], s[shared.varGate[1]!]];
    };
    expect(shut(Uint8Array.of(0x4d, 0x5a, 0, 0))).toEqual([0, 0]);
    expect(shut(Uint8Array.of(0x7f, 0x45, 0x4c, 0x46))).toEqual([0, 0]);
    expect(shut(Uint8Array.of(1, 2, 3, 4))).toEqual([1, 0]);
  });
});

describe("the engine with gates: findings are YARA-X's", () => {
  beforeAll(() => initEngines());

  // No two rules declare the same pattern: YARA-X would share it and lose its matches where the
  // first declarer's gate is shut (the next test covers that case).
  const RULES = `
rule pe_small { strings: $a = "needle-one" condition: uint16(0) == 0x5A4D and filesize < 1KB and $a }
rule elf_any { strings: $a = "needle-one" ascii wide $b = /needle-t[wW]o/ condition: uint32(0) == 0x464C457F and ($a or $b) }
rule big_only { strings: $b = /needle-t[wW]o[^x]/ condition: filesize > 2KB and #b >= 1 }
rule ff_first { strings: $c = { 6E 65 65 64 6C 65 2D ?? 68 72 65 65 } condition: int8(0) == -1 and $c }
rule be_mz { strings: $d = "needle-four" wide condition: uint16be(0) == 0x4D5A and $d }
rule small_regex { strings: $e = /needle-f[iI]ve[0-9]{2}/ condition: filesize <= 600 and $e }
rule no_gate { strings: $f = "needle-one" nocase condition: $f }
`;
  const filler = (n: number) => new Uint8Array(n).fill(0x2e);
  const withText = (head: number[], size: number, ...texts: string[]) => {
    const d = filler(size);
    d.set(head);
    let at = 16;
    for (const t of texts) {
      const b = Buffer.from(t, "latin1");
      d.set(b, at);
      at += b.length + 7;
    }
    return d;
  };
  const wide = (s: string) => [...s].map((c) => `${c}\u0000`).join("");
  const files: [string, Uint8Array][] = [
    ["mz-small", withText([0x4d, 0x5a], 500, "needle-one", "needle-tWo", "needle-fIve42", wide("needle-four"))],
    ["mz-big", withText([0x4d, 0x5a], 4000, "needle-one", "needle-two", "needle-five42")],
    ["elf", withText([0x7f, 0x45, 0x4c, 0x46], 3000, "needle-two", "needle-one")],
    ["ff", withText([0xff], 700, "needle-three", "needle-one", "needle-five77")],
    ["text", withText([0x41, 0x42], 200, "needle-one needle-two needle-xhree needle-five99")],
    ["one-byte", Uint8Array.of(0x4d)],
    ["empty", new Uint8Array(0)],
  ];

  function viaProgram(): YaraEngine {
    const built = buildImage([{ name: "gates.yar", text: RULES, namespace: "default" }], defines);
    expect(built.errors).toEqual([]);
    const out = createEngine({ mode: "auto", program: built.image!, defines, perFileExternals: [...FILE_EXTERNALS], timeoutMs: 0 });
    return out.engine!;
  }

  test("from the sources and from a compiled program, on files that open and shut each gate", () => {
    const e = engines([{ name: "gates.yar", text: RULES, namespace: "default" }]);
    const direct = createDirectEngine({ sources: [{ name: "gates.yar", text: RULES, namespace: "default" }], defines, perFileExternals: [...FILE_EXTERNALS], timeoutMs: 0, mode: "auto" }).engine!;
    const program = viaProgram();
    for (const [name, data] of files) {
      expect(compare(e, name, data), name).toBeUndefined();
      const want = e.oracle.scan(data, { filename: name, filepath: name, extension: "", filetype: "", owner: "" }).map(signature).sort();
      for (const engine of [direct, program]) {
        expect(engine.scan(data, { filename: name, filepath: name, extension: "", filetype: "", owner: "" }).map(signature).sort(), name).toEqual(want);
      }
    }
    // The files do reach both sides of every gate.
    const hit = new Set(files.flatMap(([name, data]) => e.oracle.scan(data, { filename: name, filepath: name, extension: "", filetype: "", owner: "" }).map((f) => f.rule)));
    expect([...hit].sort()).toEqual(["be_mz", "big_only", "elf_any", "ff_first", "no_gate", "pe_small", "small_regex"]);
  });

  test("a pattern shared with a rule whose gate is shut keeps its matches for the others (where YARA-X 1.20 loses them)", () => {
    // pe_first declares "needle-one" first; on a text file its gate is shut, yet no_gate and
    // count_gate must still see both matches (YARA 4 does; YARA-X drops them: yarax-shared-pattern-gate).
    const rules = `
rule pe_first { strings: $a = "needle-one" condition: uint16(0) == 0x5A4D and $a }
rule no_gate { strings: $a = "needle-one" condition: #a == 2 }
rule count_gate { strings: $a = "needle-one" $b = "needle-one" ascii condition: filesize < 1000 and #a == #b and #a == 2 }
`;
    const data = withText([0x41, 0x42], 400, "needle-one", "needle-one");
    const ext = { filename: "t", filepath: "t", extension: "", filetype: "", owner: "" };
    const direct = createDirectEngine({ sources: [{ name: "s.yar", text: rules, namespace: "default" }], defines, perFileExternals: [...FILE_EXTERNALS], timeoutMs: 0, mode: "auto" }).engine!;
    const built = buildImage([{ name: "s.yar", text: rules, namespace: "default" }], defines);
    const program = createEngine({ mode: "auto", program: built.image!, defines, perFileExternals: [...FILE_EXTERNALS], timeoutMs: 0 }).engine!;
    for (const engine of [direct, program]) {
      const found = engine.scan(data, ext).map(signature).sort();
      expect(found).toEqual(["default:count_gate [$a@16+10 $a@33+10 $b@16+10 $b@33+10]", "default:no_gate [$a@16+10 $a@33+10]"]);
      // An MZ file opens pe_first's gate too.
      const mz = withText([0x4d, 0x5a], 400, "needle-one", "needle-one");
      expect(engine.scan(mz, ext).map((f) => f.rule).sort()).toEqual(["count_gate", "no_gate", "pe_first"]);
    }
  });
});
