// The streaming matcher: the same declarations scanned as one buffer and fed in chunks through
// windows of random steps must give exactly the same MatchTable (offsets, lengths, completeness),
// and the matches are checked against YARA-X too, so that "equal to scan()" cannot hide a shared bug.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { MatchTable } from "../../src/engines/yara/contracts";
import { compilePatterns } from "../../src/engines/yara/strings";
import { declare } from "../../src/engines/yara/strings/declare";
import { oracleStringMatches } from "../support/yarax-oracle";

function render(t: MatchTable, patterns: number): string[] {
  const out: string[] = [];
  for (let p = 0; p < patterns; p++) {
    const m = t.get(p);
    if (!m) out.push("-");
    else out.push((m.offsets.map((o, i) => `${o}:${m.lengths[i]}`).join(" ") || "-") + (m.complete ? "" : " ?"));
  }
  expect(t.hits()).toEqual(out.flatMap((s, p) => (s === "-" ? [] : [p])));
  return out;
}

/** Feeds `data` in pieces cut at `cuts` (any order, any value; clamped). */
function streamed(decls: string[], data: Uint8Array, step: number, cuts: number[]): string[] {
  const { set } = compilePatterns(decls.map((d, i) => declare(d, `$s${i}`)));
  const s = set.stream(step);
  const points = [...new Set(cuts.map((c) => c % (data.length + 1)))].sort((a, b) => a - b);
  let from = 0;
  for (const p of [...points, data.length]) {
    s.feed(data.subarray(from, p));
    from = p;
  }
  expect(s.position).toBe(data.length);
  return render(s.end(), decls.length);
}

function whole(decls: string[], data: Uint8Array): string[] {
  const { set } = compilePatterns(decls.map((d, i) => declare(d, `$s${i}`)));
  return render(set.scan(data), decls.length);
}

const ALPHA = [0x61, 0x62, 0x41, 0x31, 0x20, 0x00, 0x0a];
const lit = fc.array(fc.constantFrom("a", "b", "A", "1", " ", "\\x00"), { minLength: 1, maxLength: 6 }).map((xs) => xs.join(""));
const textDecl = fc
  .tuple(lit, fc.subarray(["nocase", "wide", "ascii", "fullword", "xor(1)", "xor(0-3)"]))
  .filter(([, m]) => !(m.includes("nocase") && m.some((x) => x.startsWith("xor"))) && !(m.includes("xor(1)") && m.includes("xor(0-3)")))
  .map(([l, m]) => `"${l}" ${m.join(" ")}`);
const fixedDecl = fc.constantFrom(
  "{ 61 ?? 62 }",
  "{ 61 [0-3] 62 }",
  "{ 61 ( 62 | 31 ) 61 }",
  "{ 6? 62 [1-2] 61 }",
  "{ 00 00 }",
  "/a[b1]{1,3}b/",
  "/ab.{0,5}1/",
  "/\\bab/",
  "/a+b/",
  "/ab[^\\n]*1/",
  "/(ab|1)\\x00/ wide",
  "/b1a/ nocase fullword",
  '"ab1" base64',
  '"bab" base64wide',
);
const decls = fc.array(fc.oneof(textDecl, fixedDecl), { minLength: 1, maxLength: 4 });
// Lengths drawn uniformly: fast-check's default sizes would keep most arrays under a window.
const data = fc
  .integer({ min: 0, max: 400 })
  .chain((n) => fc.uint8Array({ minLength: n, maxLength: n }))
  .map((xs) => xs.map((x) => ALPHA[x % ALPHA.length]!));

const set0 = () => compilePatterns([declare("/[a-z]+[0-9]/")]).set;

describe("matcher stream", () => {
  it("gives what one scan of the whole bytes gives, for random patterns, data, steps and chunks", () => {
    fc.assert(
      fc.property(decls, data, fc.integer({ min: 1, max: 64 }), fc.array(fc.nat(), { maxLength: 8 }), (ds, d, step, cuts) => {
        expect(streamed(ds, d, step, cuts)).toEqual(whole(ds, d));
      }),
      { numRuns: 300 },
    );
  });

  it("agrees with YARA-X on the streamed matches", () => {
    fc.assert(
      fc.property(decls, data, fc.integer({ min: 1, max: 32 }), (ds, d, step) => {
        const got = streamed(ds, d, step, []);
        ds.forEach((decl, i) => {
          if (!got[i]!.endsWith("?")) expect(got[i], decl).toBe(oracleStringMatches(decl, d));
        });
      }),
      { numRuns: 60 },
    );
  });

  it("windows many times smaller than the data: unbounded regexes and long literals across boundaries", () => {
    // 300 KB of the small alphabet with planted matches on both sides of many window boundaries.
    const rnd = fc.sample(fc.uint8Array({ minLength: 300_000, maxLength: 300_000 }), { numRuns: 1, seed: 7 })[0]!;
    const d = rnd.map((x) => ALPHA[x % ALPHA.length]!);
    const long = Buffer.alloc(5000, "q");
    const planted = Buffer.concat([Buffer.from("zz"), long, Buffer.from("zz")]);
    for (const at of [4095, 99_990, 197_400, 290_000]) d.set(planted, at);
    d.set(Buffer.from("MZ....PE"), 299_992);
    const ds = ["/a+b/", "/ab[^\\n]*1/", "{ 61 [0-3] 62 }", `"zz${"q".repeat(5000)}zz"`, '"PE" fullword', "/MZ.{4}PE$/"];
    for (const step of [1000, 4096, 65_536]) {
      const s = streamed(ds, d, step, [1, 70_000, 70_001, 123_457]);
      expect(s).toEqual(whole(ds, d));
    }
    const w = whole(ds, d);
    expect(w[3]).toBe("4095:5004 99990:5004 197400:5004 290000:5004");
    expect(w[4]).toBe("299998:2");
    expect(w[5]).toBe("299992:8");
  });

  it("marks an atomless unbounded regex incomplete once the data spans windows", () => {
    // No atom in /[a-z]+[0-9]/: it runs over whole windows, and a match could run on past one.
    const d = new Uint8Array(50_000).fill(0x61);
    expect(set0().atoms).toBe(0);
    const { set } = compilePatterns([declare("/[a-z]+[0-9]/")]);
    const s = set.stream(1000);
    s.feed(d);
    expect(s.end().get(0)).toEqual({ offsets: [], lengths: [], complete: false });
    // One window: the whole-bytes answer exactly.
    const one = set.stream(1 << 20);
    one.feed(d);
    expect(one.end().get(0)).toEqual(set.scan(d).get(0));
  });
});
