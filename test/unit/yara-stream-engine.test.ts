// The engine's large-file scan (FastEngine.scanLarge): chunks of any size give the findings a
// whole-file scan gives for every rule it decides; a rule that reads outside the kept head and tail
// is counted undecided, never reported or dropped silently.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { createEngine, LARGE_TAIL, type YaraEngine } from "../../src/engines/yara/engine";
import type { FileExternals } from "../../src/engines/yara/yarax";
import { oracleMatches } from "../support/yarax-oracle";

const EXT: FileExternals = { filename: "f.bin", filepath: "/f.bin", extension: ".bin", filetype: "", owner: "" };
const HEAD = 4096;

function engine(text: string): YaraEngine {
  const { engine, errors } = createEngine({ mode: "auto", sources: [{ name: "t.yar", text, namespace: "default" }], defines: {}, perFileExternals: [], timeoutMs: 0 });
  expect(errors).toEqual([]);
  return engine!;
}

function large(e: YaraEngine, data: Uint8Array, cuts: number[]): { rules: string[]; undecided: number } {
  const s = e.scanLarge!(HEAD);
  let from = 0;
  for (const c of [...new Set(cuts.map((x) => x % data.length))].sort((a, b) => a - b).concat(data.length)) {
    s.feed(data.subarray(from, c));
    from = c;
  }
  const out = s.end(EXT);
  return { rules: out.findings.map((f) => f.rule), undecided: out.undecided };
}

describe("engine scanLarge", () => {
  const size = HEAD + LARGE_TAIL + 5000;
  const data = new Uint8Array(size);
  for (let i = 0; i < size; i++) data[i] = (i * 31 + (i >>> 8)) & 0xff;
  data.set(Buffer.from("needle"), 70_000);
  const u8 = (o: number) => data[o]!;
  const RULES = [
    `rule head_byte { condition: uint8(${HEAD - 1}) == ${u8(HEAD - 1)} }`,
    `rule tail_first { condition: uint8(filesize - ${LARGE_TAIL}) == ${u8(size - LARGE_TAIL)} }`,
    `rule tail_last { condition: uint32(filesize - 4) == ${Buffer.from(data.subarray(size - 4)).readUInt32LE(0)} }`,
    `rule needle { strings: $n = "needle" condition: $n at 70000 and #n == 1 }`,
    `rule not_there { strings: $n = "haystack" condition: $n }`,
    // Outside head and tail: undecidable here (the whole file says true).
    `rule middle { condition: uint8(filesize - ${LARGE_TAIL + 1}) == ${u8(size - LARGE_TAIL - 1)} }`,
  ].join("\n");

  it("decides what the head, the tail and the matches allow, whatever the chunks", () => {
    const e = engine(RULES);
    const whole = e.scan(data, EXT).map((f) => f.rule);
    expect(whole).toEqual(["head_byte", "tail_first", "tail_last", "needle", "middle"]);
    expect(oracleMatches(RULES, data)).toEqual(whole);
    fc.assert(
      fc.property(fc.array(fc.nat(), { maxLength: 6 }), (cuts) => {
        expect(large(e, data, cuts)).toEqual({ rules: ["head_byte", "tail_first", "tail_last", "needle"], undecided: 1 });
      }),
      { numRuns: 40 },
    );
  });
});
