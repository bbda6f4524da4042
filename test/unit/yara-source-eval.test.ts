// The evaluator reading the file through a ByteSource (reader.ts: a block cache over positioned
// reads) instead of bytes in memory: every condition gets the outcome it gets on the bytes, which
// YARA-X confirms: integer reads anywhere in the file, reads at match offsets, and the modules
// (math, hash, pe, elf). The source poisons the views it handed out at each new read. Then the
// reader itself against the bytes, over random reads that cross its blocks and evict them.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { UNKNOWN, type Tri } from "../../src/engines/yara/contracts";
import { FileReader } from "../../src/engines/yara/reader";
import { compileProgram } from "../../src/engines/yara/eval/index";
import { MODULES } from "../../src/engines/yara/modules";
import { parse } from "../../src/engines/yara/parser";
import { compilePatterns } from "../../src/engines/yara/strings";
import { oracleMatches } from "../support/yarax-oracle";
import { poisonSource } from "../support/bytesources";

const SIZE = 10_000;

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

function run(text: string, data: Uint8Array, throughSource = false): Tri {
  const parsed = parse(text, { file: "w.yar", namespace: "default" });
  expect(parsed.errors).toEqual([]);
  const { program, errors } = compileProgram([parsed.source!], { externals: {} });
  expect(errors).toEqual([]);
  const set = compilePatterns(program!.decls).set;
  // The matches always come from the whole file (the matcher streams over it).
  const s = set.stream(512);
  s.feed(data);
  const matches = s.end();
  const ctx = throughSource ? { source: poisonSource(data), matches, externals: {}, modules: MODULES } : { data, matches, externals: {}, modules: MODULES };
  const out = program!.evaluate(ctx);
  return out[out.length - 1]!;
}

// Conditions (with strings $a = "abcd", $x = "xyzw" available as `strings:`)
const CASES: string[] = [
  "filesize == 10000",
  "uint16(0) == 0x5a4d",
  "uint8(999) == 0xe9",
  "uint32(filesize - 4) == 0x6c696174",
  "uint32be(9996) == 0x7461696c",
  "uint32(9998) == 0", // past the end of the file: undefined
  "uint32(5000) == 0x64636261",
  "uint16(999) == 0x0fe9",
  "uint32(9899) == 0",
  "int32be(4998) == int32be(4998) and int8(5001) == 0x62",
  "uint32(5000) == 1 or filesize > 5",
  "uint32(5000) == 1 and filesize < 5",
  "#a == 2 and @a[2] == 5000 and $x at 6000",
  "uint32(@a[1]) == 0x64636261",
  "uint32(@a[2]) == 0x64636261",
  "for all i in (1..#a) : (uint8(@a[i]) == 0x61)",
  "for any i in (1..#a) : (uint8(@a[i]) == 0x61)",
  "string.length(\"abc\") == 3 and $a",
  "math.entropy(0, 100) > 1.0",
  "math.entropy(\"aaaa\") == 0.0",
  "math.serial_correlation(1, 9000) < 0.5 and math.monte_carlo_pi(7, 9990) < 0.5 and math.mode() == 0x4d",
  "hash.md5(0, 2) == \"ac6bb669e40e44a8d9f8f0c97dfbe3ec\"",
  "hash.crc32(5000, 4) == hash.crc32(\"abcd\") and hash.sha1(9996, 4) == hash.sha1(\"tail\")",
  "pe.is_pe",
  "elf.type == 2",
  "not pe.is_pe and $a",
  "$a and not pe.is_pe",
];

const rule = (cond: string) => `import "math"\nimport "hash"\nimport "pe"\nimport "elf"\nimport "string"\nrule w { strings: $a = "abcd" $x = "xyzw" condition: ($a or $x or true) and (${cond}) }`;

describe("evaluator through a ByteSource", () => {
  const data = file();
  it.each(CASES)("%s", (cond) => {
    const text = rule(cond);
    const whole = run(text, data);
    expect(whole).not.toBe(UNKNOWN);
    expect(whole, "YARA-X on the whole file").toBe(oracleMatches(text, data).length > 0);
    expect(run(text, data, true)).toBe(whole);
  });

  it("a header-guarded rule reads its header through the source", () => {
    // No strings: the rule runs only when uint16(5000) == 0x6261 (a header guard).
    const text = "rule g { condition: uint16(5000) == 0x6261 and filesize > 10 }";
    expect(run(text, data)).toBe(true);
    expect(oracleMatches(text, data).length).toBe(1);
    expect(run(text, data, true)).toBe(true);
    const other = "rule g { condition: uint16(0) == 0x6261 and filesize > 10 }";
    expect(run(other, data, true)).toBe(false);
  });

  it("integer reads through a source are the bytes' values, undefined past the end", () => {
    const text = (o: number) => `rule r { condition: uint16be(${o}) == uint16be(${o}) }`;
    const reads = [0, 1, 2, 3, 5, 8];
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 0, maxLength: 12 }), (d) => {
        for (const o of reads) expect(run(text(o), d, true)).toBe(run(text(o), d));
      }),
      { numRuns: 100 },
    );
  });
});

describe("FileReader over a source", () => {
  // 600 KB: ten 64 KiB blocks, more than the cache holds.
  const data = new Uint8Array(600_000);
  for (let i = 0; i < data.length; i++) data[i] = (i * 2654435761) >>> 24;
  const op = fc.oneof(
    fc.record({ kind: fc.constant("read" as const), at: fc.integer({ min: -5, max: 600_010 }), len: fc.oneof(fc.nat(16), fc.nat(200_000), fc.constant(1 << 20)) }),
    fc.record({ kind: fc.constant("uint" as const), at: fc.integer({ min: -5, max: 600_010 }), len: fc.constantFrom(1, 2, 4), be: fc.boolean() }),
    fc.record({ kind: fc.constant("each" as const), at: fc.integer({ min: -5, max: 600_010 }), len: fc.nat(1_500_000) }),
  );

  it("answers every read as the bytes do, whatever the order and the evictions", () => {
    fc.assert(
      fc.property(fc.array(op, { maxLength: 40 }), (ops) => {
        const r = FileReader.from(poisonSource(data));
        expect(r.bytes).toBeUndefined();
        for (const o of ops) {
          const start = Math.max(0, Math.min(o.at, data.length));
          if (o.kind === "read") {
            const want = data.subarray(start, Math.max(start, Math.min(data.length, start + o.len)));
            expect(Buffer.from(r.read(o.at, o.len)).equals(Buffer.from(want))).toBe(true);
          } else if (o.kind === "uint") {
            const inside = o.at >= 0 && o.at + o.len <= data.length;
            const b = Buffer.from(data.buffer, 0, data.length);
            const want = !inside ? undefined : o.len === 1 ? b[o.at] : o.len === 2 ? (o.be ? b.readUInt16BE(o.at) : b.readUInt16LE(o.at)) : o.be ? b.readUInt32BE(o.at) : b.readUInt32LE(o.at);
            expect(r.uint(o.at, o.len, o.be)).toBe(want);
            if (o.len === 1) expect(r.u8(o.at)).toBe(want);
          } else {
            const parts: Buffer[] = [];
            let next = start;
            r.each(o.at, o.at + o.len, (piece, at) => {
              expect(at).toBe(next);
              next += piece.length;
              parts.push(Buffer.from(piece));
            });
            const end = Math.max(start, Math.min(data.length, o.at + o.len));
            expect(Buffer.concat(parts).equals(Buffer.from(data.subarray(start, end)))).toBe(true);
          }
        }
        // whole() under its bound reads the file once and keeps it; above, it declines.
        expect(r.whole(data.length - 1)).toBeUndefined();
        expect(Buffer.from(r.whole(data.length)!).equals(Buffer.from(data))).toBe(true);
        expect(r.bytes).toBeDefined();
      }),
      { numRuns: 60 },
    );
  });
});
