// The regex verifiers of data larger than one text window (256 KB) read it through windows made
// around the hits, never one string of the whole data: matches near and across window edges,
// \b at the edges and long matches must be exactly what YARA-X finds on the same bytes.
import { describe, expect, it } from "vitest";
import { compilePatterns } from "../../src/engines/yara/strings";
import { declare } from "../../src/engines/yara/strings/declare";
import { oracleStringMatches } from "../support/yarax-oracle";

function ours(decl: string, data: Uint8Array): string {
  const m = compilePatterns([declare(decl)]).set.scan(data).get(0);
  if (!m) return "-";
  expect(m.complete).toBe(true);
  return m.offsets.map((o, i) => `${o}:${m.lengths[i]}`).join(" ") || "-";
}

/** 1.2 MB of filler with `piece` written at each offset (some just before and across 256 KB edges). */
function data(piece: string, at: number[]): Uint8Array {
  const d = new Uint8Array(1_200_000).fill(0x2e); // "."
  for (let i = 0; i < d.length; i += 97) d[i] = 0x20; // spaces, so \b has edges to find
  for (const o of at) d.set(Buffer.from(piece, "latin1"), o);
  return d;
}

const EDGE = 256 << 10;
const OFFSETS = [5, 1000, EDGE - 10, EDGE - 3, EDGE + 1, 2 * EDGE - 7, 300_000, 300_040, 3 * EDGE + 2, 1_199_980];

describe("regex verification in windows over large data", () => {
  it.each([
    ["/ab[0-9]+cd/", "ab12345cd"],
    ["/\\bxy[a-z]{2,40}z\\b/", "xyabcdefghijklmnopqrstuz"],
    ["/Qr.{0,300}?St/", "Qr" + "-".repeat(250) + "St"],
    ["/k[0-9a-f]{8}/ wide", "k\x001\x002\x003\x004\x00a\x00b\x00c\x00d\x00"],
  ])("%s matches what YARA-X finds", (decl, piece) => {
    const d = data(piece, OFFSETS.filter((o) => o + piece.length <= 1_200_000));
    const want = oracleStringMatches(decl, d);
    expect(want.split(" ").length).toBeGreaterThan(5);
    expect(ours(decl, d)).toBe(want);
  });
});
