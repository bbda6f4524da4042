// `<quantifier> of (<bool>, …)`, a tuple of boolean expressions, through the real parser, matcher
// and evaluator. The parser makes every quantifier a loop over the items (parser.ts,
// parseBoolTupleOf): in YARA-X an undefined item (here `uint8(100)` on a 3-byte file) makes the
// whole `of` undefined, hence false, even under `not`, where an and/or chain would skip it. Each
// expectation is also checked against YARA-X.
import { describe, expect, it } from "vitest";
import { UNKNOWN, type Tri } from "../../src/engines/yara/contracts";
import { compileProgram } from "../../src/engines/yara/eval/index";
import { parse } from "../../src/engines/yara/parser";
import { compilePatterns } from "../../src/engines/yara/strings/index";
import { engines, externalsFor, initEngines, signature } from "../support/differential";
import { oracleMatches } from "../support/yarax-oracle";

function fastPath(text: string, data: Uint8Array): Tri {
  const parsed = parse(text, { file: "case.yar", namespace: "default" });
  expect(parsed.errors.map((e) => e.message)).toEqual([]);
  const out = compileProgram([parsed.source!], { externals: {} });
  expect(out.errors.map((e) => e.message)).toEqual([]);
  const program = out.program!;
  const matches = compilePatterns(program.decls).set.scan(data);
  return program.evaluate({ data, matches, externals: {}, modules: {} }).at(-1)!;
}

const U8 = "uint8(100) == 0"; // undefined on the 3-byte data below
const DATA = new TextEncoder().encode("abc");

// [condition, expected]: the rule is `rule t { strings: $a = "abc" $b = "zzz" condition: <c> and ($a or not $b) }`.
const CASES: [string, boolean][] = [
  // all / any: an undefined item anywhere the loop reaches makes the whole `of` false.
  [`any of (${U8}, true)`, false],
  [`not any of (${U8}, true)`, false],
  [`all of (${U8}, true)`, false],
  [`not all of (${U8}, true)`, false],
  [`any of (${U8}, false)`, false],
  [`not any of (${U8}, false)`, false],
  [`all of (true, ${U8})`, false],
  [`not all of (true, ${U8})`, false],
  // ... but the loop stops once the quantifier is decided, so a later undefined item is not reached.
  [`any of (true, ${U8})`, true],
  [`all of (false, ${U8})`, false],
  [`not all of (false, ${U8})`, true],
  [`1 of (true, ${U8})`, true],
  [`not 1 of (${U8}, true)`, false],
  [`none of (${U8}, false)`, false],
  [`not none of (${U8}, false)`, false],
  [`50% of (${U8}, true)`, false],
  // Defined items behave as before.
  ["any of (true, false)", true],
  ["any of (false, false)", false],
  ["all of (true, true)", true],
  ["all of (true, false)", false],
  ["not all of (true, false)", true],
  ["none of (false, false)", true],
  ["2 of (true, false, true)", true],
  ["3 of (true, false, true)", false],
  ["any of ($a and $b, $a)", true],
  ["all of ($a, $b or true)", true],
  ["all of ($a, $b)", false],
  ["any of (uint8(0) == 0x61, $b)", true],
];

describe("boolean tuple `of`: the fast path agrees with YARA-X", () => {
  it.each(CASES)("%s -> %s", (cond, expected) => {
    const text = `rule t { strings: $a = "abc" $b = "zzz" condition: (${cond}) and ($a or not $b) }`;
    expect(oracleMatches(text, DATA).includes("t"), "YARA-X disagrees with the expectation").toBe(expected);
    expect(fastPath(text, DATA)).toBe(expected);
  });

  it("an item the fast path cannot decide makes the `of` UNKNOWN (YARA-X decides), unless an undefined item comes first", () => {
    // $b's verifier "could not decide" (complete: false, no confirmed match): `$b` is UNKNOWN.
    const unsure = (cond: string): Tri => {
      const parsed = parse(`rule t { strings: $a = "abc" $b = "zzz" condition: ${cond} }`, { file: "case.yar", namespace: "default" });
      const program = compileProgram([parsed.source!], { externals: {} }).program!;
      const real = compilePatterns(program.decls).set.scan(DATA);
      const matches = {
        get: (p: number) => (p === 1 ? { offsets: [], lengths: [], complete: false } : real.get(p)),
        hits: () => [...new Set([...real.hits(), 1])].sort((x, y) => x - y),
      };
      return program.evaluate({ data: DATA, matches, externals: {}, modules: {} }).at(-1)!;
    };
    expect(unsure("$a and any of ($b, false)")).toBe(UNKNOWN);
    expect(unsure(`$a and any of ($b, ${U8})`)).toBe(UNKNOWN);
    expect(unsure("$a and all of (false, $b)")).toBe(false);
    expect(unsure("$a and any of (true, $b)")).toBe(true);
    // The undefined item aborts the loop before $b is looked at: false whatever $b is.
    expect(unsure(`$a and any of (${U8}, $b)`)).toBe(false);
  });

  it("whole engines agree on reported strings, anchoring included (`$a at 0` inside the tuple)", () => {
    initEngines();
    const data = new TextEncoder().encode("abcabc");
    for (const cond of ["any of ($a at 0, false)", "all of ($a, uint8(0) == 0x61)", `any of (${U8}, $a)`, "none of ($a at 1, false)"]) {
      const e = engines([{ name: "t.yar", namespace: "default", text: `rule t { strings: $a = "abc" condition: ${cond} }` }]);
      const auto = e.auto.scan(data, externalsFor("t.bin")).map(signature);
      expect(auto, cond).toEqual(e.oracle.scan(data, externalsFor("t.bin")).map(signature));
    }
  });
});
