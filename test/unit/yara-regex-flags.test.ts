// Inline regex flags as YARA-X reads them: `(?m)` line anchors (in patterns, YARA-X's VM knows \r
// and \n and treats "\r\n" and "\n\r" as one break; in `matches`, the regex crate knows \n only),
// `(?i)` `(?s)` `(?U)` `(?u)` scoped to their group, and \b{end} inside a regex. Random small regexes
// on random data rich in line breaks must give exactly what YARA-X gives, pattern matches (offsets
// and lengths) and `matches` alike; what the fast path refuses goes to YARA-X and is counted, so
// that refusing everything cannot pass.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { compileYaraRegex, parseYaraRegex, RegexUnsupported } from "../../src/engines/yara/regex";
import { compilePatterns } from "../../src/engines/yara/strings";
import { declare } from "../../src/engines/yara/strings/declare";
import { UNKNOWN } from "../../src/engines/yara/contracts";
import { oracleCompile, oracleStringMatches } from "../support/yarax-oracle";

/** The fast path's matches of one pattern, or null when it leaves the pattern to YARA-X. */
function ours(decl: string, data: Uint8Array): string | null {
  const d = declare(decl);
  const m = compilePatterns([d]).set.scan(data).get(0);
  if (!m) {
    // No match at all: only an answer if the pattern was decidable (a refused one with atoms that
    // never hit also shows no match: ask the parser).
    return decided(d.kind === "regex" ? d.source : "", d.kind === "regex" && d.nocase, d.kind === "regex" && d.dotAll) ? "-" : null;
  }
  if (!m.complete) return null;
  return m.offsets.map((o, i) => `${o}:${m.lengths[i]}`).join(" ") || "-";
}

function decided(source: string, nocase: boolean, dotAll: boolean): boolean {
  try {
    parseYaraRegex(source, { nocase, dotAll }, "pattern");
    return true;
  } catch (err) {
    if (err instanceof RegexUnsupported) return false;
    throw err;
  }
}

/** YARA-X's answer for a pattern, or null when it rejects the rule. */
function theirs(decl: string, data: Uint8Array): string | null {
  try {
    return oracleStringMatches(decl, data);
  } catch {
    return null;
  }
}

/**
 * The fast path's matches of a pattern equal YARA-X's; a pattern YARA-X rejects (an unbounded dot
 * first, ...) is not counted, one the fast path leaves to YARA-X is counted as left.
 */
function agreeOnPattern(decl: string, d: Uint8Array, tally: { compared: number; left: number }): void {
  const want = theirs(decl, d);
  if (want === null) return;
  const got = ours(decl, d);
  if (got === null) {
    tally.left++;
    return;
  }
  tally.compared++;
  expect(got, `${decl} on ${JSON.stringify(Buffer.from(d).toString("latin1"))}`).toBe(want);
}

/** `"<data>" matches /re/` in YARA-X (the data as a hex-escaped text string), or null when rejected. */
function theirMatches(re: string, data: Uint8Array): boolean | null {
  const lit = Array.from(data, (b) => "\\x" + b.toString(16).padStart(2, "0")).join("");
  let r;
  try {
    r = oracleCompile(`rule t { condition: "${lit}" matches /${re}/ }`);
  } catch {
    return null;
  }
  try {
    return r.scan(new Uint8Array(0)).length === 1;
  } finally {
    r.free();
  }
}

const breaks = fc.constantFrom("a", "b", "ab", "\n", "\r", "\r\n", "\n\r", "\t", " ", "_");
const data = fc.array(breaks, { maxLength: 14 }).map((c) => Uint8Array.from(Buffer.from(c.join(""), "latin1")));

/** Pieces of a regex under `(?m)`: literals, line breaks, anchors, dots and repetitions. */
const linePiece = fc.constantFrom("a", "b", "ab", "\\n", "\\r", "\\t", "^", "$", ".", "a+", "[ab]*", "\\s", "(a|\\n)", "\\A", "\\z", "(?s:.)", "(?-m:$)");
const lineRegex = fc
  .tuple(fc.constantFrom("(?m)", "(?ms)", "(?m:", "((?m)"), fc.array(linePiece, { minLength: 1, maxLength: 5 }))
  .filter(([, p]) => p.some((x) => x.startsWith("a") || x === "b" || x === "ab"))
  .map(([head, p]) => head + p.join("") + (head.endsWith(":") || head.startsWith("((") ? ")" : ""));

describe("(?m) in patterns: YARA-X's line starts and ends", () => {
  it("match exactly what YARA-X finds", () => {
    const tally = { compared: 0, left: 0 };
    fc.assert(
      fc.property(lineRegex, data, (re, d) => agreeOnPattern(`/${re}/`, d, tally)),
      { numRuns: 200 },
    );
    // Refusals are only `$` where the match may not have begun (offset 0): a few, not most.
    expect(tally.compared).toBeGreaterThan(3 * tally.left);
  });

  it("the table of line breaks (each checked against YARA-X)", () => {
    const cases: [string, string, string][] = [
      ["/(?m)^b/", "a\r\nb", "3:1"],
      ["/(?m)^b/", "a\rb", "2:1"],
      ["/(?m)^\\nb/", "a\r\nb", "-"], // between \r and \n is not a line start
      ["/(?m)^\\rb/", "a\n\rb", "-"], // nor between \n and \r
      ["/(?m)^\\rb/", "a\r\rb", "2:2"],
      ["/(?m)a$/", "a\r\n", "0:1"],
      ["/(?m)a\\r$/", "a\r\n", "-"],
      ["/(?m)a\\n$/", "a\n\r", "-"],
      ["/(?m)a$\\n\\n/", "a\n\n", "0:3"],
      ["/(?m)a$/", "ab", "-"],
      ["/(?m)b$/", "ab", "1:1"],
      ["/(?m)^a|b$/", "xa\nb\r", "3:1"],
      ["/(?m)^a|b$/", "a\rb", "0:1 2:1"],
    ];
    for (const [decl, text, want] of cases) {
      const d = Uint8Array.from(Buffer.from(text, "latin1"));
      expect(theirs(decl, d), `YARA-X: ${decl} on ${JSON.stringify(text)}`).toBe(want);
      expect(ours(decl, d), `${decl} on ${JSON.stringify(text)}`).toBe(want);
    }
  });
});

describe("(?m) in `matches`: the regex crate's lines (\\n only)", () => {
  it("gives what YARA-X gives", () => {
    let compared = 0;
    fc.assert(
      fc.property(lineRegex, data, (re, d) => {
        const want = theirMatches(re, d);
        if (want === null) return;
        const got = compileYaraRegex(re, { nocase: false, dotAll: false }).test(d);
        expect(got, `/${re}/ on ${JSON.stringify(Buffer.from(d).toString("latin1"))}`).not.toBe(UNKNOWN);
        compared++;
        expect(got, `/${re}/ on ${JSON.stringify(Buffer.from(d).toString("latin1"))}`).toBe(want);
      }),
      { numRuns: 300 },
    );
    expect(compared).toBeGreaterThan(100);
  });
});

/** Scoped flags: case, dot, greed and Unicode switched on and off inside groups. */
const flagPiece = fc.constantFrom("a", "B", "k", ".", "a+", "b*", "(?i)", "(?-i)", "(?i:ab)", "(?s)", "(?U)", "(?U:a+)", "a+?", "(?u:.)", "(?u)", "(?-u)", "(?i:[a-b])", "é", "\\xe9", "((?i)a)b", "(?u:é)");
const flagRegex = fc
  .array(flagPiece, { minLength: 1, maxLength: 5 })
  .filter((p) => p.some((x) => /^(a|B|k|é)/.test(x)))
  .map((p) => p.join(""));
const flagChunk = fc.constantFrom("a", "A", "b", "B", "k", "K", "\n", "é", "É", "\u212a", "🙈", "\xe9", "\xff", "ab");
// UTF-8 for the characters above 0x7f except the lone \xe9 and \xff (invalid UTF-8 on their own).
const flagData = fc.array(flagChunk, { maxLength: 10 }).map((c) => new Uint8Array(Buffer.concat(c.map((x) => (x === "\xe9" || x === "\xff" ? Buffer.from(x, "latin1") : Buffer.from(x, "utf8"))))));

describe("scoped inline flags: i, s, U, u", () => {
  it("a nocase regex that is only literals (every letter under (?-i)) folds them all, as YARA-X does", () => {
    // YARA-X compiles a regex whose HIR is a literal, or an alternation of literals, as literal
    // patterns with the pattern's `nocase`; capture groups, repetitions and classes keep it a regex.
    const cases: [string, string][] = [
      ["/(?-i)B/ nocase", "b"], ["/(?-i)Bk/ nocase", "bK"], ["/(?-i)(B)/ nocase", "b"], ["/(?-i)((B))/ nocase", "b"],
      ["/(?-i)[B]/ nocase", "b"], ["/(?-i)B(?:k)/ nocase", "bk"], ["/(?-i)Bk|Cd/ nocase", "cD"], ["/(?-i)(Bk|Cd)/ nocase", "bk"],
      ["/(?-i)(?:Bk|Cd)|E/ nocase", "e"], ["/(?-i)B|C/ nocase", "b"], ["/(?-i)B+/ nocase", "bb"], ["/(?-i)B(C)/ nocase", "bc"],
      ["/(?-i)(Bk|Cd)|Ef/ nocase", "ef"], ["/(?-i)B(?i)k/ nocase", "bk"], ["/(?-i)B\\x43/ nocase", "bc"], ["/(?-i)B./ nocase", "bx"],
      ["/(?-i)Bk|Cd/ nocase wide", "b\0k\0"], ["/(?-i)Bk/ nocase fullword", "x bk"], ["/(?-i)B/", "b"], ["/a(?-i)B/ nocase", "Ab"],
    ];
    for (const [decl, text] of cases) {
      const d = Uint8Array.from(Buffer.from(text, "latin1"));
      const want = theirs(decl, d);
      expect(want, decl).not.toBeNull();
      expect(ours(decl, d), `${decl} on ${JSON.stringify(text)}`).toBe(want);
    }
  });

  it("`x matches /lit/i` with every letter under (?-i) is `icontains`, as in YARA-X", () => {
    const cases: [string, string, boolean | typeof UNKNOWN][] = [
      ["(?-i)B", "xbk", true], ["(?-i)Bk|Cd", "bk", false], ["(?-i)(B)", "b", false], ["(?-i)[B]", "b", true], ["(?-i)B", "c", false],
      ["(?-i)é", "É", UNKNOWN],
    ];
    for (const [re, text, want] of cases) {
      const d = new Uint8Array(Buffer.from(text, "utf8"));
      const lit = Array.from(d, (b) => "\\x" + b.toString(16).padStart(2, "0")).join("");
      const r = oracleCompile(`rule t { condition: "${lit}" matches /${re}/i }`);
      try {
        expect(r.scan(new Uint8Array(0)).length === 1, `YARA-X: /${re}/i on ${text}`).toBe(want === UNKNOWN ? true : want);
      } finally {
        r.free();
      }
      expect(compileYaraRegex(re, { nocase: true, dotAll: false }).test(d), `/${re}/i on ${text}`).toBe(want);
    }
  });

  it("patterns match exactly what YARA-X finds", () => {
    let compared = 0;
    fc.assert(
      fc.property(flagRegex, fc.constantFrom("", " nocase", " wide", " ascii wide"), flagData, (re, mods, d) => {
        const decl = `/${re}/${mods}`;
        // The fast path first: what it refuses (a Unicode `.`, which YARA-X takes minutes to
        // compile) is not asked of YARA-X.
        const got = ours(decl, d);
        if (got === null) return;
        const want = theirs(decl, d);
        if (want === null) return;
        compared++;
        expect(got, `${decl} on ${Buffer.from(d).toString("hex")}`).toBe(want);
      }),
      { numRuns: 300 },
    );
    expect(compared).toBeGreaterThan(150);
  });

  it("`matches` gives what YARA-X gives", () => {
    let compared = 0;
    fc.assert(
      fc.property(flagRegex, flagData, (re, d) => {
        const want = theirMatches(re, d);
        if (want === null) return;
        const got = compileYaraRegex(re, { nocase: false, dotAll: false }).test(d);
        if (got === UNKNOWN) return;
        compared++;
        expect(got, `/${re}/ on ${Buffer.from(d).toString("hex")}`).toBe(want);
      }),
      { numRuns: 300 },
    );
    expect(compared).toBeGreaterThan(150);
  });
});

describe("\\b{end} inside a regex", () => {
  const piece = fc.constantFrom("a", "b", " ", "_", "\\b{end}", "\\b{start}", "a+", "[ ab]", "\\w", "x?");
  const regex = fc
    .array(piece, { minLength: 2, maxLength: 5 })
    .filter((p) => p.includes("\\b{end}") && p.some((x) => x === "a" || x === "b"))
    .map((p) => p.join(""));
  const chunk = fc.constantFrom("a", "b", " ", "_", "ab", "-");
  const text = fc.array(chunk, { maxLength: 12 }).map((c) => Uint8Array.from(Buffer.from(c.join(""), "latin1")));
  it("patterns match exactly what YARA-X finds where the match has begun", () => {
    const tally = { compared: 0, left: 0 };
    fc.assert(
      fc.property(regex, text, (re, d) => agreeOnPattern(`/${re}/`, d, tally)),
      { numRuns: 300 },
    );
    expect(tally.compared).toBeGreaterThan(tally.left);
  });
});

describe("a regex that irregexp would backtrack on for ever", () => {
  it("/(a|aa)*c/ before a long run of a: answered, the short matches YARA-X's, the long ones left to it", () => {
    // From the starts 4002+ bytes before the "c", the window holds no "c": irregexp alone tries
    // every way of splitting the run (Fibonacci(4000) of them); V8's linear engine takes over.
    const decl = "/(a|aa)*c/";
    const data = Buffer.from("a".repeat(6000) + "c");
    const m = compilePatterns([declare(decl)]).set.scan(data).get(0)!;
    expect(m.complete, "matches of 4000 bytes or more are not confirmed here").toBe(false);
    const theirsAll = new Set(theirs(decl, data)!.split(" "));
    expect(m.offsets.length).toBeGreaterThan(3000);
    for (let i = 0; i < m.offsets.length; i++) expect(theirsAll.has(`${m.offsets[i]}:${m.lengths[i]}`)).toBe(true);
  });
});
