// Property tests: random literal patterns with random modifiers over random bytes. The matcher must
// find exactly what a naive search finds (all start offsets, overlapping), and for a sample of
// cases exactly what YARA-X reports.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { StringDecl } from "../../src/engines/yara/ast";
import { compilePatterns } from "../../src/engines/yara/strings";
import { oracleCompile } from "../support/yarax-oracle";

const POS = { line: 1, column: 1, offset: 0 };
const isAlnum = (b: number) => (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5a) || (b >= 0x61 && b <= 0x7a);
const fold = (b: number) => (b >= 0x41 && b <= 0x5a ? b + 32 : b);

interface Mods {
  nocase: boolean;
  wide: boolean;
  ascii: boolean;
  fullword: boolean;
  xor: number | null;
}

/** The reference: every offset where one of the encodings matches, shorter first on a tie. */
function naive(value: Uint8Array, m: Mods, data: Uint8Array): string {
  const found = new Map<number, number>();
  const encodings = [...(m.ascii || !m.wide ? [false] : []), ...(m.wide ? [true] : [])];
  for (const wide of encodings) {
    const bytes = wide ? Uint8Array.from([...value].flatMap((b) => [b, 0])) : value;
    const keys = m.xor === null ? [0] : [m.xor];
    for (const key of keys) {
      const pat = bytes.map((b) => b ^ key);
      for (let s = 0; s + pat.length <= data.length; s++) {
        let ok = true;
        for (let k = 0; k < pat.length && ok; k++) ok = m.nocase ? fold(data[s + k]!) === fold(pat[k]!) : data[s + k] === pat[k];
        if (!ok) continue;
        if (m.fullword) {
          const e = s + pat.length;
          if (wide) {
            if (s >= 2 && (data[s - 1]! ^ key) === 0 && isAlnum(data[s - 2]! ^ key)) continue;
            if (e + 1 < data.length && (data[e + 1]! ^ key) === 0 && isAlnum(data[e]! ^ key)) continue;
          } else {
            if (s >= 1 && isAlnum(data[s - 1]! ^ key)) continue;
            if (e < data.length && isAlnum(data[e]! ^ key)) continue;
          }
        }
        if (!found.has(s) || found.get(s)! > pat.length) found.set(s, pat.length);
      }
    }
  }
  return [...found].sort((a, b) => a[0] - b[0]).map(([o, l]) => `${o}:${l}`).join(" ") || "-";
}

function ours(value: Uint8Array, m: Mods, data: Uint8Array): string {
  const decl: StringDecl = {
    kind: "text",
    id: "$a",
    pos: POS,
    value,
    modifiers: { nocase: m.nocase, ascii: m.ascii, wide: m.wide, fullword: m.fullword, private: false, xor: m.xor === null ? undefined : { min: m.xor, max: m.xor } },
  };
  const r = compilePatterns([decl]).set.scan(data).get(0);
  if (!r) return "-";
  expect(r.complete).toBe(true);
  return r.offsets.map((o, i) => `${o}:${r.lengths[i]}`).join(" ") || "-";
}

function yarax(value: Uint8Array, m: Mods, data: Uint8Array): string {
  const lit = [...value].map((b) => "\\x" + b.toString(16).padStart(2, "0")).join("");
  const mods = [m.nocase && "nocase", m.ascii && "ascii", m.wide && "wide", m.fullword && "fullword", m.xor !== null && `xor(${m.xor})`].filter(Boolean).join(" ");
  const r = oracleCompile(`rule t { strings: $a = "${lit}" ${mods} condition: $a or not $a }`);
  try {
    const x = r.scan(data)[0]?.strings["$a"] ?? [];
    return x.map((y) => `${y.offset}:${y.length}`).join(" ") || "-";
  } finally {
    r.free();
  }
}

// A small alphabet so that matches (and near misses, case variants, word boundaries) are frequent.
const byte = fc.constantFrom(0x00, 0x20, 0x41, 0x61, 0x42, 0x62, 0x31, 0x2d, 0xff, 0x01, 0x03);
const mods = fc
  .record({ nocase: fc.boolean(), wide: fc.boolean(), ascii: fc.boolean(), fullword: fc.boolean(), xor: fc.option(fc.integer({ min: 0, max: 3 }), { nil: null }) })
  .map((m) => (m.xor !== null ? { ...m, nocase: false } : m));
const value = fc.array(byte, { minLength: 1, maxLength: 6 }).map((a) => Uint8Array.from(a));
const data = fc.array(byte, { maxLength: 80 }).map((a) => Uint8Array.from(a));

describe("literal patterns with random modifiers", () => {
  it("match exactly what a naive search finds", () => {
    fc.assert(
      fc.property(value, mods, data, (v, m, d) => {
        expect(ours(v, m, d)).toBe(naive(v, m, d));
      }),
      { numRuns: 1500 },
    );
  });

  it("match exactly what YARA-X finds (sample)", () => {
    fc.assert(
      fc.property(value, mods, data, (v, m, d) => {
        expect(ours(v, m, d)).toBe(yarax(v, m, d));
      }),
      { numRuns: 200 },
    );
  });
});
