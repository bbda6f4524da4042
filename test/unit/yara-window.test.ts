// The evaluator on a window of a file larger than memory: the head (and a small tail) of the file
// are present, `filesize` is the file's size. Each case gives a rule, and the outcome expected on
// the window: "=" (decided, and the same as on the whole file, which YARA-X confirms) or UNKNOWN.
// A window may make a rule UNKNOWN; it must never make it true or false differently.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { UNKNOWN, type Tri } from "../../src/engines/yara/contracts";
import { compileProgram } from "../../src/engines/yara/eval/index";
import { MODULES } from "../../src/engines/yara/modules";
import { parse } from "../../src/engines/yara/parser";
import { compilePatterns } from "../../src/engines/yara/strings";
import { oracleMatches } from "../support/yarax-oracle";

const SIZE = 10_000;
const HEAD = 1000;
const TAIL = 100;

/** A PE-looking file: "MZ" at 0, "abcd" at 5000 and 500, "tail" in its last four bytes. */
function file(): Uint8Array {
  const d = new Uint8Array(SIZE);
  for (let i = 0; i < SIZE; i++) d[i] = (i * 7) & 0xff;
  d.set(Buffer.from("MZ"), 0);
  d.set(Buffer.from("abcd"), 500);
  d.set(Buffer.from("abcd"), 5000);
  d.set(Buffer.from("xyzw"), 6000);
  d.set(Buffer.from("tail"), SIZE - 4);
  return d;
}

function run(text: string, data: Uint8Array, window?: { head: number; tail: number }): Tri {
  const parsed = parse(text, { file: "w.yar", namespace: "default" });
  expect(parsed.errors).toEqual([]);
  const { program, errors } = compileProgram([parsed.source!], { externals: {} });
  expect(errors).toEqual([]);
  const set = compilePatterns(program!.decls).set;
  // The matches always come from the whole file (the matcher streams over it).
  const s = set.stream(512);
  s.feed(data);
  const matches = s.end();
  const ctx = window
    ? { data: data.subarray(0, window.head), filesize: data.length, tail: data.subarray(data.length - window.tail), matches, externals: {}, modules: MODULES }
    : { data, matches, externals: {}, modules: MODULES };
  const out = program!.evaluate(ctx);
  return out[out.length - 1]!;
}

// [condition (with strings $a = "abcd", $x = "xyzw" available as `strings:`), expected on the window]
const CASES: [string, "=" | typeof UNKNOWN][] = [
  ["filesize == 10000", "="],
  ["uint16(0) == 0x5a4d", "="],
  ["uint8(999) == 0xe9", "="],
  ["uint32(filesize - 4) == 0x6c696174", "="], // the tail
  ["uint32be(9996) == 0x7461696c", "="],
  ["uint32(9998) == 0", "="], // past the end of the file: undefined, as on the whole file
  ["uint32(5000) == 0x64636261", UNKNOWN],
  ["uint16(999) == 0", UNKNOWN], // straddles the end of the head
  ["uint32(9899) == 0", UNKNOWN], // straddles the start of the tail
  ["uint32(5000) == 1 or filesize > 5", "="],
  ["uint32(5000) == 1 and filesize < 5", "="],
  ["#a == 2 and @a[2] == 5000 and $x at 6000", "="],
  ["uint32(@a[1]) == 0x64636261", "="],
  ["uint32(@a[2]) == 0x64636261", UNKNOWN],
  ["for all i in (1..#a) : (uint8(@a[i]) == 0x61)", UNKNOWN],
  ["for any i in (1..#a) : (uint8(@a[i]) == 0x61)", "="],
  ["string.length(\"abc\") == 3 and $a", "="],
  ["math.entropy(0, 100) > 1.0", UNKNOWN],
  ["math.entropy(\"aaaa\") == 0.0", UNKNOWN], // sound rule: the whole module is unknown on a window
  ["hash.md5(0, 2) == \"ac6bb669e40e44a8d9f8f0c97dfbe3ec\"", UNKNOWN],
  ["pe.is_pe", UNKNOWN],
  ["elf.type == 2", UNKNOWN],
  ["not pe.is_pe and $a", UNKNOWN],
  ["$a and not pe.is_pe", UNKNOWN],
];

const rule = (cond: string) => `import "math"\nimport "hash"\nimport "pe"\nimport "elf"\nimport "string"\nrule w { strings: $a = "abcd" $x = "xyzw" condition: ($a or $x or true) and (${cond}) }`;

describe("evaluator on a window of a large file", () => {
  const data = file();
  it.each(CASES)("%s -> %s", (cond, expected) => {
    const text = rule(cond);
    const whole = run(text, data);
    expect(whole).not.toBe(UNKNOWN);
    expect(whole, "YARA-X on the whole file").toBe(oracleMatches(text, data).length > 0);
    const windowed = run(text, data, { head: HEAD, tail: TAIL });
    expect(windowed).toBe(expected === "=" ? whole : UNKNOWN);
  });

  it("a header-guarded rule whose header is beyond the head is UNKNOWN, not false", () => {
    // No strings: the rule runs only when uint16(5000) == 0x6261 (a header guard), which a window cannot read.
    const text = "rule g { condition: uint16(5000) == 0x6261 and filesize > 10 }";
    expect(run(text, data)).toBe(true);
    expect(oracleMatches(text, data).length).toBe(1);
    expect(run(text, data, { head: HEAD, tail: TAIL })).toBe(UNKNOWN);
    const other = "rule g { condition: uint16(0) == 0x6261 and filesize > 10 }";
    expect(run(other, data, { head: HEAD, tail: TAIL })).toBe(false);
  });

  it("integer reads on any window are the whole file's value or UNKNOWN, UNKNOWN exactly outside the bytes present", () => {
    const text = (o: number) => `rule r { condition: uint16be(${o}) == uint16be(${o}) }`;
    const reads = [0, 1, 2, 3, 5, 8];
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 0, maxLength: 12 }), fc.nat(12), fc.nat(12), (d, h, t) => {
        const head = Math.min(h, d.length);
        const tail = Math.min(t, d.length);
        for (const o of reads) {
          const whole = run(text(o), d);
          const w = run(text(o), d, { head, tail });
          const present = o + 2 <= head || o >= d.length - tail || o + 2 > d.length;
          expect(w).toBe(present ? whole : UNKNOWN);
        }
      }),
      { numRuns: 100 },
    );
  });
});
