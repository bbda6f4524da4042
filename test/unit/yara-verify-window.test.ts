// The regex verifiers of data over 16 MiB (a container held whole) read it through text made of
// 1 MiB blocks, never one string of the whole data: matches near and across block edges, \b at
// the edges, long matches and jumps back to earlier blocks must be what YARA-X finds.
import { describe, expect, it } from "vitest";
import { compilePatterns } from "../../src/engines/yara/strings";
import { declare } from "../../src/engines/yara/strings/declare";
import { oracleStringMatches } from "../support/yarax-oracle";

function ours(decls: string[], data: Uint8Array): string[] {
  const table = compilePatterns(decls.map((d) => declare(d))).set.scan(data);
  return decls.map((_, i) => {
    const m = table.get(i);
    if (!m) return "-";
    expect(m.complete).toBe(true);
    return m.offsets.map((o, k) => `${o}:${m.lengths[k]}`).join(" ") || "-";
  });
}

const SIZE = 17 << 20;
const EDGE = 1 << 20;
const OFFSETS = [5, 1000, EDGE - 10, EDGE - 3, EDGE + 1, 2 * EDGE - 7, 3_000_000, 3_000_040, 9 * EDGE + 2, 16 * EDGE - 5, SIZE - 40];

/** 17 MiB of dots and spaces with each piece written at the offsets (some across 1 MiB edges), one piece after another. */
function data(pieces: string[]): Uint8Array {
  const d = new Uint8Array(SIZE).fill(0x2e);
  for (let i = 0; i < d.length; i += 97) d[i] = 0x20; // spaces, so \b has edges to find
  pieces.forEach((piece, k) => {
    for (const o of OFFSETS) {
      const at = Math.min(o + k * 300, SIZE - piece.length);
      d.set(Buffer.from(piece, "latin1"), at);
    }
  });
  return d;
}

describe("regex verification over data larger than the whole-text bound", () => {
  it("several regexes (the verifiers jump between blocks) match what YARA-X finds", () => {
    const cases: [string, string][] = [
      ["/ab[0-9]+cd/", "ab12345cd"],
      ["/\\bxy[a-z]{2,40}z\\b/", "xyabcdefghijklmnopqrstuz"],
      ["/Qr.{0,300}?St/", "Qr" + "-".repeat(250) + "St"],
      ["/k[0-9a-f]{8}/ wide", "k\x001\x002\x003\x004\x00a\x00b\x00c\x00d\x00"],
    ];
    const d = data(cases.map((c) => c[1]));
    const got = ours(cases.map((c) => c[0]), d);
    cases.forEach(([decl], i) => {
      const want = oracleStringMatches(decl, d);
      expect(want.split(" ").length, decl).toBeGreaterThan(5);
      expect(got[i], decl).toBe(want);
    });
  });
});
