// The matcher's fast paths and coverage, each case checked against YARA-X as well as the expected
// value: atoms at a variable distance (backward NFA, quick byte checks, suffix check), xor verified
// with the key read from the data, identical declarations shared, base64 combined with ascii/wide,
// wide regexes with \b (YARA-X's wide word boundaries), and patterns incomplete only where they may match.
import { describe, expect, it } from "vitest";
import type { StringDecl } from "../../src/engines/yara/ast";
import { compilePatterns } from "../../src/engines/yara/strings";
import { declare } from "../../src/engines/yara/strings/declare";
import { oracleStringMatches } from "../support/yarax-oracle";

const bytes = (s: string) => Uint8Array.from(Buffer.from(s, "latin1"));
const wide = (s: string) => [...s].map((c) => c + "\0").join("");
const b64 = (s: string) => Buffer.from(s, "latin1").toString("base64");

/** As the rule parser gives it: a text or regex string without ascii/wide is ascii. */
function parsed(text: string): StringDecl {
  const d = declare(text);
  if (d.kind !== "hex" && !d.modifiers.wide) d.modifiers.ascii = true;
  return d;
}

function render(m: { offsets: number[]; lengths: number[]; complete: boolean } | undefined): string {
  if (!m) return "-";
  const s = m.offsets.map((o, i) => `${o}:${m.lengths[i]}`).join(" ") || "-";
  return m.complete ? s : s + " ?";
}

function ours(decl: string, data: Uint8Array): string {
  return render(compilePatterns([parsed(decl)]).set.scan(data).get(0));
}

const theirs = oracleStringMatches;

const JUNK = "\x8b\x45\x08\x89\x44\x24\x04\xe8\x00\x00\x00\x00\x01\x00\x00\x00";

// [declaration, data (latin1), expected]
const CASES: [string, string, string][] = [
  // Atoms after a jump: the backward NFA finds every start the prefix allows.
  ["{ 41 [0-3] 42 43 44 45 }", "A BCDE AxxBCDE AAABCDE", "0:6 7:7 15:7 16:6 17:5"],
  ["{ 41 [0-3] 42 43 44 45 }", "xxxxBCDE", "-"],
  ["{ 41 [2-4] 42 43 44 45 }", "AA__BCDE", "0:8 1:7"],
  ["{ (41 | 41 41 41) [1] 4B 4C 4D 4E }", "AAAxKLMN", "0:8 2:6"],
  ["{ 6A 40 [0-8] 68 00 30 00 00 [0-8] 6A 00 }", "\x6a\x40\x90\x90\x68\x00\x30\x00\x00\x6a\x00" + JUNK, "0:11"],
  ["{ 6A 40 [0-8] 68 00 30 00 00 [0-8] 6A 00 }", "\x6a\x40\x68\x00\x30\x00\x00\x90" + JUNK, "-"],
  // A common atom at the start vs a rarer one later: same answers either way.
  ['/\\x13\\s*DDE\\b[^\\x14]+/ nocase', "\x13  dde x\x14 \x13DDEAUTO", "0:8"],
  ['/`\\s*\\{?\\$(_POST\\[|_GET\\[)/', "`$_GET[ ` {$_POST[ x$_GET[", "0:7 8:10"],
  ["/\\b\\w+:\\s%s\\b/", "id: %s, foo bar: %s x:%s", "0:6 12:7"],
  ["/[a-z]{2,4}XYZW/", "abcdeXYZW XYZW abXYZW", "1:8 2:7 3:6 15:6"],
  ["/(abc|x{1,3})QRST/", "abcQRST xxxxQRST", "0:7 9:7 10:6 11:5"],
  // Quick byte checks on both sides of the atom.
  ["{ 55 ?? 8B EC 4B 4C 4D 4E ?? C3 }", "\x55\x00\x8b\xecKLMN\x00\xc3 \x55\x00\x8b\xedKLMN\x00\xc3", "0:10"],
  ["{ 55 ?? 8B EC 4B 4C 4D 4E ?? C3 }", "\x8b\xecKLMN\x00\xc3", "-"],
  // Gap checks: a selective byte within a short jump on either side of the atom.
  ["{ E8 [2-4] 51 52 53 54 [1-3] 89 }", "\xe8xxQRSTy\x89 \xe8xxxxQRSTyyy\x89", "0:9 10:13"],
  ["{ E8 [2-4] 51 52 53 54 [1-3] 89 }", "\xe8xQRSTy\x89 \xe8xxxxxQRSTy\x89 \xe8xxQRSTyyyy\x89 \xe8xxQRST\x89", "-"],
  ["{ E8 [2-4] 51 52 53 54 [1-3] 89 }", "\xe8\xe8xxxQRSTy\x89QRSTyy\x89", "0:11 1:10"],
  // xor: one verifier, the key read from the first byte.
  ['"hello" xor', "\x68\x65\x6c\x6c\x6f " + "hello".replace(/./g, (c) => String.fromCharCode(c.charCodeAt(0) ^ 0x20)), "0:5 6:5"],
  ['"hello" xor(1-2)', "hello " + "hello".replace(/./g, (c) => String.fromCharCode(c.charCodeAt(0) ^ 2)), "6:5"],
  ['"ab" xor wide', wide("ab") + " " + wide("ab").replace(/./g, (c) => String.fromCharCode(c.charCodeAt(0) ^ 7)), "0:4 5:4"],
  // base64 with ascii and wide: wide widens the text before encoding, base64wide the encoding.
  ['"whoami;net" ascii wide base64 base64wide', `x${b64("whoami;net")} ${b64(wide("whoami;net"))} ${wide(b64("whoami;net"))} ${wide(b64(wide("whoami;net")))}`, "1:13 18:26 47:26 80:52"],
  ['"whoami;net" wide base64', `x${b64("whoami;net")} ${b64(wide("whoami;net"))}`, "18:26"],
  ['"{}.constructor(\\"return\\x20this\\")(\\x20)" base64', `z${b64('{}.constructor("return this")( )')}z`, "1:42"],
  // \b in a wide regex: the char before is the byte two back behind a 0x00; the one after is the next byte.
  ["/\\beval\\(/ ascii wide", "x eval( y", "2:5"],
  ["/\\bab/ wide", "xa\0b\0 Qa\0b\0 \0a\0b\0 x\0a\0b\0 _\0a\0b\0", "1:4 7:4 13:4"],
  ["/ab\\b/ wide", "a\0b\0c a\0b\0c\0 a\0b\0 a\0b\0", "13:4 18:4"],
  ["/a\\Bb/ wide", "a\0b\0 a\0-\0", "0:4"],
];

describe("matcher fast paths and coverage (each case also checked against YARA-X)", () => {
  it.each(CASES)("%s on %j", (decl, data, expected) => {
    const d = bytes(data);
    expect(theirs(decl, d)).toBe(expected);
    expect(ours(decl, d)).toBe(expected);
  });
});

describe("undecidable only where it may match", () => {
  it("a wide regex with \\b is exact: YARA-X's wide word boundaries", () => {
    const decl = "/\\beval\\(/ ascii wide";
    const data = bytes(`eval( ${wide("eval(")} x${wide("eval(")} _\0${wide("eval(")}`);
    expect(theirs(decl, data)).toBe("0:5 6:10 18:10");
    expect(ours(decl, data)).toBe("0:5 6:10 18:10");
    expect(ours(decl, bytes("nothing here"))).toBe("-");
  });

  it("no signature-style pattern with atoms is incomplete on a file without hits", () => {
    const decls = ["/\\bsystem[\\t ]{0,500}\\(/ ascii wide", '"whoami;net user /domain" ascii wide base64 base64wide', "{ 4D 5A [0-64] 50 45 00 00 }"].map(parsed);
    const table = compilePatterns(decls).set.scan(bytes("an ordinary text file, with no such content at all\n".repeat(50)));
    expect(table.hits()).toEqual([]);
  });
});

describe("identical declarations", () => {
  it("share one verification and report the same matches under every index", () => {
    const decls = ['"abcd"', "{ 61 62 [0-2] 64 }", '"abcd"', "{ 61 62 [0-2] 64 }", '"abcd" nocase'].map(parsed);
    const { set } = compilePatterns(decls);
    const t = set.scan(bytes("abcd ABCD ab_d"));
    expect(t.hits()).toEqual([0, 1, 2, 3, 4]);
    expect(render(t.get(0))).toBe("0:4");
    expect(render(t.get(2))).toBe("0:4");
    expect(render(t.get(1))).toBe("0:4 10:4");
    expect(render(t.get(3))).toBe("0:4 10:4");
    expect(render(t.get(4))).toBe("0:4 5:4");
  });

  it("keep their own results across scans (no state leaks from one file to the next)", () => {
    const { set } = compilePatterns(['"abcd"', "{ 41 [0-3] 42 43 44 45 }"].map(parsed));
    expect(render(set.scan(bytes("abcd A_BCDE")).get(1))).toBe("5:6");
    expect(set.scan(bytes("nothing")).hits()).toEqual([]);
    expect(render(set.scan(bytes("xxabcd")).get(0))).toBe("2:4");
  });
});

describe("the WebAssembly filter loop", () => {
  // Literals longer than their atom and regexes with fixed bytes near it get a second check in
  // WebAssembly (bytes before or after the atom, case bits masked for nocase): covered here.
  const decls = [
    '"ab"', '"a"', '"abc" nocase', '"xyz0" wide', "{ 01 02 03 04 }", "{ 61 [0-2] 62 63 64 65 }", "/q[0-9]+z/", '"\\x00\\x00\\x00\\x00"', '"hello" xor', '"abcd" fullword',
    '"abcdefghij"', '"ABCDEFGH" nocase', '"zz-abcdefghij-zz"', "{ 55 8B EC [2] 51 52 53 54 ?? C3 }", "{ 4? 5? [1-3] 71 72 73 74 }",
  ].map(parsed);
  const wasm = compilePatterns(decls).set;
  const js = compilePatterns(decls, { loop: "js" }).set;
  const all = (t: ReturnType<typeof wasm.scan>) => t.hits().map((p) => `${p}=${render(t.get(p))}`).join("\n");

  it("finds the same matches as the JS loop, at every data length near the edges", () => {
    let seed = 7;
    const rnd = () => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) >>> 16) & 0xff;
    const alphabet = bytes("abcdeABCz0q1\x00\x01\x02\x03\x04xyhellofghij-QRST\x55\x8b\xec\xc3");
    for (let n = 0; n < 40; n++) {
      const d = Uint8Array.from({ length: n }, () => alphabet[rnd() % alphabet.length]!);
      expect(all(wasm.scan(d))).toBe(all(js.scan(d)));
    }
    // Whole matches and near misses of the checked patterns at both edges of the data.
    for (const m of ["abcdefghij", "abcdefghiX", "aBcDeFgH", "zz-abcdefghij-zz", "\x55\x8b\xec..QRST\x00\xc3", "\x55\x8b\xec..QRST\x00\xc4", "AP.qrst", "AP..qrst"]) {
      for (const pad of ["", "x", "xy"]) {
        for (const d of [bytes(m + pad), bytes(pad + m), bytes(pad + m + pad)]) expect(all(wasm.scan(d))).toBe(all(js.scan(d)));
      }
    }
    expect(render(wasm.scan(bytes("zz-abcdefghij-zz")).get(12))).toBe("0:16");
  });

  it("carries matches across its chunks (data longer than one chunk)", () => {
    const unit = bytes("..abcd.. a..bcde \x01\x02\x03\x04 q123z " + wide("xyz0") + " ");
    const d = new Uint8Array(700_001);
    for (let i = 0; i + unit.length <= d.length; i += unit.length) d.set(unit, i);
    // Matches straddling every chunk boundary position as well.
    for (const at of [262_142, 262_143, 262_144, 524_286, 524_287]) d.set(bytes("abcd"), at - 1);
    // Checked literals straddling the chunk boundaries (the check reads bytes across them).
    for (const at of [262_126, 262_142, 524_270, 524_286]) d.set(bytes("zz-abcdefghij-zz"), at);
    const a = wasm.scan(d);
    expect(all(a)).toBe(all(js.scan(d)));
    expect(a.get(0)!.offsets.length).toBeGreaterThan(15_000);
    const needle = Buffer.from("zz-abcdefghij-zz");
    const naive: number[] = [];
    for (let i = Buffer.from(d).indexOf(needle); i >= 0; i = Buffer.from(d).indexOf(needle, i + 1)) naive.push(i);
    expect(naive.length).toBeGreaterThanOrEqual(4);
    expect(a.get(12)!.offsets).toEqual(naive);
  });
});
