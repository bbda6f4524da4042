// Word boundaries in wide regular expressions, YARA-X's way: random small regexes with \b and \B,
// `wide` or `ascii wide`, on random data rich in word characters, underscores, spaces and 0x00,
// must give exactly the matches YARA-X gives. (The rule: the character before a position is the
// byte two back when the byte just before is 0x00, else none; the character after is the next
// byte; word characters are [0-9A-Za-z_].)
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { compilePatterns } from "../../src/engines/yara/strings";
import { declare } from "../../src/engines/yara/strings/declare";
import { oracleStringMatches } from "../support/yarax-oracle";

function ours(decl: string, data: Uint8Array): string {
  const d = declare(decl);
  const m = compilePatterns([d]).set.scan(data).get(0);
  if (!m) return "-";
  expect(m.complete).toBe(true);
  return m.offsets.map((o, i) => `${o}:${m.lengths[i]}`).join(" ") || "-";
}

const theirs = oracleStringMatches;

const piece = fc.constantFrom("a", "b", "_", "1", " ", "\\b", "\\B", "[a-b]", "a+", "\\w", ".");
const regex = fc
  .array(piece, { minLength: 1, maxLength: 5 })
  .filter((p) => p.some((x) => x === "a" || x === "b" || x === "1" || x === "_"))
  .map((p) => p.join(""));
const mods = fc.constantFrom("wide", "ascii wide");
// Data: wide characters, stray bytes and zeros, so that every case of the rule comes up.
const chunk = fc.constantFrom("a\0", "b\0", "_\0", " \0", "1\0", "a", "b", "_", " ", "\0", "-\0", "ab");
const data = fc.array(chunk, { maxLength: 24 }).map((c) => Uint8Array.from(Buffer.from(c.join(""), "latin1")));

describe("wide regexes with word boundaries", () => {
  it("match exactly what YARA-X finds", () => {
    fc.assert(
      fc.property(regex, mods, data, (re, m, d) => {
        const decl = `/${re}/ ${m}`;
        expect(ours(decl, d)).toBe(theirs(decl, d));
      }),
      { numRuns: 250 },
    );
  });
});
