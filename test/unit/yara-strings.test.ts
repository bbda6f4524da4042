// Conformance of the string compiler and matcher: each case is a string declaration in YARA syntax,
// some bytes and the expected matches (offset:length). Every case is checked against the matcher
// and against YARA-X, so an expectation cannot be wrong without one of the two assertions failing.
import { describe, expect, it } from "vitest";
import { compilePatterns } from "../../src/engines/yara/strings";
import { declare } from "../../src/engines/yara/strings/declare";
import { oracleStringMatches } from "../support/yarax-oracle";

const bytes = (s: string) => Uint8Array.from(Buffer.from(s, "latin1"));

/** Our matches as "off:len ...", with "?" appended when the pattern is incomplete. */
function ours(decl: string, data: Uint8Array): string {
  const { set } = compilePatterns([declare(decl)]);
  const m = set.scan(data).get(0);
  if (!m) return "-";
  const s = m.offsets.map((o, i) => `${o}:${m.lengths[i]}`).join(" ") || "-";
  return m.complete ? s : s + " ?";
}

const theirs = oracleStringMatches;

// [declaration, data (latin1), expected]
const CASES: [string, string, string][] = [
  // text: overlapping, edges, empty data
  ['"aa"', "aaaa", "0:2 1:2 2:2"],
  ['"ab"', "", "-"],
  ['"ab"', "a", "-"],
  ['"ab"', "ab", "0:2"],
  ['"abc"', "xxabc", "2:3"],
  ['"abc"', "abcab", "0:3"],
  ['"a"', "banana", "1:1 3:1 5:1"],
  ['"\\x00\\x00"', "\x00\x00\x00", "0:2 1:2"],
  ['"\\xff\\xfe\\x00"', "\xff\xfe\x00\xff\xfe", "0:3"],
  ['"a\\"b"', 'xa"b', "1:3"],
  ['"\\t\\n\\r\\\\"', "\t\n\r\\", "0:4"],
  ['"abcd"', "abcabcd", "3:4"],
  ['"abcdefgh"', "abcdefgabcdefgh", "7:8"],
  // nocase (ASCII only)
  ['"abc" nocase', "ABC aBc abc", "0:3 4:3 8:3"],
  ['"a1!" nocase', "A1! a1!", "0:3 4:3"],
  ['"\\xe9t\\xe9" nocase', "\xe9T\xe9 \xc9t\xc9", "0:3"],
  ['"[" nocase', "[{", "0:1"],
  ['"@" nocase', "@`", "0:1"],
  // wide, ascii wide
  ['"ab" wide', "a\x00b\x00ab", "0:4"],
  ['"ab" ascii wide', "a\x00b\x00ab", "0:4 4:2"],
  ['"\\x00a" ascii wide', "\x00\x00a\x00", "0:4 1:2"],
  ['"\\x00\\x00" ascii wide', "\x00\x00\x00\x00\x00", "0:2 1:2 2:2 3:2"],
  ['"abc" wide nocase', "A\x00b\x00C\x00", "0:6"],
  ['"ab" wide', "a\x00b", "-"],
  // fullword
  ['"ab" fullword', "ab ab, xab ab_ ab1 1ab ab", "0:2 3:2 11:2 23:2"],
  ['"ab" fullword', "ab", "0:2"],
  ['"ab" fullword', "-ab-", "1:2"],
  ['"ab" fullword', "\xe9ab\xe9", "1:2"],
  ['"a-b" fullword', "a-b", "0:3"],
  ['"ab" wide fullword', "a\x00b\x00 \x00a\x00b\x00x\x00a\x00b\x00\x01x", "0:4"],
  ['"ab" wide fullword', "xa\x00b\x00x", "1:4"],
  ['"ab" wide fullword', "x\x00a\x00b\x00", "-"],
  ['"ab" ascii wide fullword', "ab a\x00b\x00 xab", "0:2 3:4"],
  ['"ab" nocase fullword', "AB xab Ab", "0:2 7:2"],
  // private: no effect on matching
  ['"ab" private', "ab", "0:2"],
  // xor
  ['"ab" xor', "ab\x03\x00", "0:2 2:2"],
  ['"ab" xor(1)', "ab\x60\x63", "2:2"],
  ['"ab" xor(1-2)', "\x60\x63\x63\x60", "0:2 2:2"],
  ['"ab" xor(1-2) wide', "\x60\x01\x63\x01", "0:4"],
  ['"ab" xor wide', "a\x00b\x00", "0:4"],
  ['"abc" xor(0)', "abc", "0:3"],
  ['"abc" xor ascii wide', "abc\x62\x61\x60", "0:3 3:3"],
  ['"ab" xor fullword', "\x60\x63 ab", "0:2 3:2"],
  ['"ab" xor(1) fullword', "\x60\x63\x60", "-"],
  ['"ab" xor(1) fullword', "\x60\x63\x21", "0:2"],
  // base64
  ['"abc" base64', "YWJj", "0:4"],
  ['"abc" base64', "xYWJjx", "1:4"],
  ['"This program" base64', "VGhpcyBwcm9ncmFt", "0:16"],
  ['"abcd" base64', "YWJjZA==", "0:5"],
  ['"abcd" base64', "YWJjZA", "0:5"],
  ['"abcd" base64', "YWJjZB", "-"],
  ['"abcd" base64', "YWJjZAQ", "0:5"],
  ['"abcd" base64', "eGFiY2Q=", "2:4"],
  ['"abcd" base64', "eGFiY2R4", "2:4"],
  ['"foobar" base64', "Zm9vYmFy eGZvb2Jhcg eHhmb29iYXI", "0:8 23:7"],
  ['"fooba" base64', "Zm9vYmE eGZvb2Jh eHhmb29iYQ", "10:6 20:6"],
  ['"foob" base64', "Zm9vYg eGZvb2I eHhmb29i", "18:5"],
  ['"foobar" base64wide', "Z\x00m\x009\x00v\x00Y\x00m\x00F\x00y\x00", "0:16"],
  ['"foobar" base64 base64wide', "Zm9vYmFy Z\x00m\x009\x00v\x00Y\x00m\x00F\x00y\x00", "0:8 9:16"],
  ['"foobar" base64("ZYXWVUTSRQPONMLKJIHGFEDCBAzyxwvutsrqponmlkjihgfedcba9876543210+/")', "An0eBnUb vTAey7Qsxt", "0:8 11:7"],
  // hex
  ['{ 61 62 }', "abab", "0:2 2:2"],
  ['{ 61 ?? }', "abca", "0:2"],
  ['{ 61 ?? 63 }', "abcaxc", "0:3 3:3"],
  ['{ 6? 62 }', "ab", "0:2"],
  ['{ ?1 62 }', "ab\x11b", "0:2 2:2"],
  ['{ 61 ~62 }', "abacab", "2:2"],
  ['{ 61 ~?2 }', "abacax", "2:2 4:2"],
  ['{ 61 ?2 }', "abacab", "0:2 4:2"],
  ['{ 61 [1-3] 63 }', "abcbc", "0:3"],
  ['{ 61 [1-3] 63 }', "abbbcc", "0:5"],
  ['{ 61 [0-10] 63 }', "abcbcxxc", "0:3"],
  ['{ 61 [0-1] 63 }', "ac abc", "0:2 3:3"],
  ['{ 61 [2] 63 }', "abbcxbc", "0:4"],
  ['{ 61 62 [0-200] 63 64 }', "ababcdbcdxxcd", "0:6 2:4"],
  ['{ 61 62 [-] 63 64 }', "abcdbcdxxcd", "0:4"],
  ['{ 61 62 [10-] 63 64 }', "abcd0123456789cdxcd", "0:16"],
  ['{ 61 [1-3] 63 [0-2] 64 }', "abcbcdd", "0:6"],
  ['{ 61 ( 62 | 62 63 ) }', "abc", "0:2"],
  ['{ (61|61 62) [0-3] 63 }', "abcc", "0:3"],
  ['{ 4D 5A ( 90 | ?? 00 ) }', "MZ\x90 MZ\x01\x00", "0:3 4:4"],
  ['{ 00 00 00 00 }', "\x00\x00\x00\x00\x00", "0:4 1:4"],
  ['{ ?? ?? }', "abc", "0:2 1:2"],
  ['{ ?? }', "ab", "0:1 1:1"],
  ['{ 61 62 63 64 65 }', "abcdeabcd", "0:5"],
  ['{ 61 [3] 62 [3] 63 }', "a123b456c", "0:9"],
  // regex
  ['/ab+?/', "abbb", "0:2"],
  ['/b+/', "bbbb", "0:4 1:3 2:2 3:1"],
  ['/ab*/', "abbb", "0:4"],
  ['/a.*c/', "abcabc", "0:6 3:3"],
  ['/a.*?c/', "abcabc", "0:3 3:3"],
  ['/a(b|bc)/', "abc", "0:2"],
  ['/x|xy/', "xy", "0:1"],
  ['/(x|xy)z?/', "xyz", "0:1"],
  ['/AB/i', "ab\xc1b", "0:2"],
  ['/\\w+/', "ab\xe9c", "0:2 1:1 3:1"],
  ['/./', "\n", "-"],
  ['/./s', "\n", "0:1"],
  ['/./', "\xe9", "0:1"],
  ['/a$/', "aa\na", "3:1"],
  ['/^a/', "aa\na", "0:1"],
  ['/a\\b/', "a ab", "0:1"],
  ['/[a-z]{3}\\d+/', "xxabc12 3", "2:5"],
  ['/ab{2,3}/', "abbbb", "0:4"],
  ['/ab{2,3}?/', "abbbb", "0:3"],
  ['/ab{0,2}c/', "ac abbc", "0:2 3:4"],
  ['/a{,2}b/', "aab", "0:3 1:2 2:1"],
  ['/a{2}/', "aaa", "0:2 1:2"],
  ['/a.{0,5}c/', "abcabc", "0:6 3:3"],
  ['/\\w+foo/', "xxfoo", "0:5 1:4"],
  ['/[ab]+c/', "abac", "0:4 1:3 2:2"],
  ['/a(b|bc)d?/', "abcd", "0:2"],
  ['/ab*?c/', "abbbc", "0:5"],
  ['/(a|ab)(c|bcd)/', "abcd", "0:4"],
  ['/\\s/', "\xa0\x0b\x0c", "1:1 2:1"],
  ['/[[:alpha:]]/', "a1", "0:1"],
  ['/\\d/i', "1", "0:1"],
  ['/ab/ nocase', "AB", "0:2"],
  ['/a\\/b/', "a/b", "0:3"],
  ['/\\xe9/', "\xe9", "0:1"],
  ['/é/', "\xc3\xa9\xe9", "0:2"],
  ['/a[^b]c/', "a\nc", "0:3"],
  ['/a\\Sc/', "a\xa0c", "0:3"],
  ['/a\\Wc/', "a\xe9c", "0:3"],
  ['/a/ wide', "a\x00", "0:2"],
  ['/a.c/ wide', "a\x00b\x00c\x00 a\x00\n\x00c\x00 a\x00\x00\x00c\x00", "0:6 14:6"],
  ['/a\\wc/ wide nocase', "A\x00b\x00C\x00", "0:6"],
  ['/ab/ fullword', "ab xab abx ab", "0:2 11:2"],
  ['/[a-z]+/ fullword', "ab xab abx ab", "0:2 3:3 7:3 11:2"],
  ['/ab/ ascii wide', "ab a\x00b\x00", "0:2 3:4"],
  ['/[0-9a-f]{8}-[0-9a-f]{4}/', "deadbeef-0123 x", "0:13"],
  ['/(cmd|powershell)\\.exe/i', "CMD.EXE powershell.exe", "0:7 8:14"],
  ['/https?:\\/\\/[a-z]+/', "see http://abc and https://x", "4:10 19:9"],
  ['/\\x00\\x00\\xff/', "\x00\x00\x00\xff", "1:3"],
  ['/[\\x80-\\xff]{2}/', "a\x80\x81\x82", "1:2 2:2"],
  ['/a\\.b/', "a.b axb", "0:3"],
  ['/a[.]b/', "a.b axb", "0:3"],
  ['/[-a]+/', "-a-", "0:3 1:2 2:1"],
  ['/[a-]+/', "-a-", "0:3 1:2 2:1"],
  ['/[]a]+/', "]a", "0:2 1:1"],
  ['/\\Bb/', "ab b", "1:1"],
  ['/\\Aab/', "abab", "0:2"],
  ['/ab\\z/', "abab", "2:2"],
  ['/(ab)+/', "ababx", "0:4 2:2"],
  ['/(ab){2}/', "ababab", "0:4 2:4"],
  ['/(a|b|c)d/', "adbdcd", "0:2 2:2 4:2"],
];

describe("string matcher conformance (each case also checked against YARA-X)", () => {
  it.each(CASES)("%s on %j", (decl, data, expected) => {
    const d = bytes(data);
    expect(theirs(decl, d)).toBe(expected);
    expect(ours(decl, d)).toBe(expected);
  });
});
