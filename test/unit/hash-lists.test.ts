// Hash list parsing: ClamAV .hdb/.hsb and LOKI-style plain lists, line by line, with file:line errors.
import * as fs from "node:fs";
import { describe, expect, test } from "vitest";
import {
  ANY_SIZE,
  HashListError,
  listFormat,
  listNamespace,
  readHashList,
  type HashSignature,
} from "../../src/engines/hash/lists";
import { sharedPath } from "../support/shared";

const MD5 = "44d88612fea8a8f36de82e1278abb02f";
const SHA1 = "3395856ce81f2b7382dee72602f798b642f14140";
const SHA256 = "275a021bbfb6489e54d471899f7db9d1663fc695ec2fe2a2c4538aabf651fd0f";

const sig = (algorithm: HashSignature["algorithm"], digest: string, size: number, name: string): HashSignature => ({
  algorithm,
  digest,
  size,
  name,
});

describe("list format and namespace", () => {
  test.each([
    ["main.hdb", "clamav"],
    ["/var/lib/clamav/daily.HSB", "clamav"],
    ["pua.hdu", "clamav"],
    ["pua.hsu", "clamav"],
    ["hash-iocs.txt", "plain"],
    ["hashes", "plain"],
    ["hdb", "plain"],
    ["x.hdb.txt", "plain"],
  ])("%s is %s", (name, format) => {
    expect(listFormat(name)).toBe(format);
  });

  test.each([
    ["/var/lib/clamav/main.hdb", "main.hdb"],
    ["C:\\sigs\\daily.hsb", "daily.hsb"],
    ["relative/dir/iocs.txt", "iocs.txt"],
    ["bundled/hashes/test-files.hsb", "bundled/hashes/test-files.hsb"],
    ["plain.txt", "plain.txt"],
  ])("%s has namespace %s", (name, ns) => {
    expect(listNamespace(name)).toBe(ns);
  });
});

describe("ClamAV .hdb/.hsb", () => {
  test.each<[string, string, HashSignature[]]>([
    ["md5:size:name", `${MD5}:68:Eicar-Test-Signature\n`, [sig("md5", MD5, 68, "Eicar-Test-Signature")]],
    ["min flevel dropped", `${MD5}:68:Eicar:73\n`, [sig("md5", MD5, 68, "Eicar")]],
    ["min and max flevel dropped", `${MD5}:68:Eicar:73:255`, [sig("md5", MD5, 68, "Eicar")]],
    ["uppercase hex", `${MD5.toUpperCase()}:68:E`, [sig("md5", MD5, 68, "E")]],
    ["CRLF", `${MD5}:68:A\r\n${MD5}:69:B\r\n`, [sig("md5", MD5, 68, "A"), sig("md5", MD5, 69, "B")]],
    ["BOM", `\ufeff${MD5}:68:A\n`, [sig("md5", MD5, 68, "A")]],
    ["comments and blank lines", `# header\n\n${MD5}:68:A\n   \n# x:y:z\n`, [sig("md5", MD5, 68, "A")]],
    ["any size", `${MD5}:*:A:73`, [sig("md5", MD5, ANY_SIZE, "A")]],
    ["largest size", `${MD5}:4294967294:A`, [sig("md5", MD5, 4294967294, "A")]],
    ["sha256 in .hdb (ClamAV tells by length)", `${SHA256}:68:A`, [sig("sha256", SHA256, 68, "A")]],
    ["name with spaces and dots", `${MD5}:68:Win.Trojan.Agent-1 (copy)`, [sig("md5", MD5, 68, "Win.Trojan.Agent-1 (copy)")]],
    ["no final newline", `${MD5}:1:A\n${MD5}:2:B`, [sig("md5", MD5, 1, "A"), sig("md5", MD5, 2, "B")]],
  ])("%s", (_, text, expected) => {
    expect(readHashList({ name: "x.hdb", text })).toEqual(expected);
  });

  test.each<[string, string, HashSignature[]]>([
    ["sha1", `${SHA1}:68:Eicar`, [sig("sha1", SHA1, 68, "Eicar")]],
    ["sha256", `${SHA256}:68:Eicar`, [sig("sha256", SHA256, 68, "Eicar")]],
    ["sha256 any size", `${SHA256}:*:Eicar:73`, [sig("sha256", SHA256, ANY_SIZE, "Eicar")]],
    [
      "mixed, CRLF, BOM",
      `\ufeff# sigs\r\n${SHA1.toUpperCase()}:1:A\r\n${SHA256}:*:B:73\r\n`,
      [sig("sha1", SHA1, 1, "A"), sig("sha256", SHA256, ANY_SIZE, "B")],
    ],
  ])(".hsb %s", (_, text, expected) => {
    expect(readHashList({ name: "x.hsb", text })).toEqual(expected);
  });

  test.each([
    ["hash only", `${MD5}`, 1, "expected hash:size:name"],
    ["no name", `${MD5}:68`, 1, "missing signature name"],
    ["empty name", `${MD5}:68:`, 1, "empty signature name"],
    ["empty name before flevel", `${MD5}:68::73`, 1, "empty signature name"],
    ["31 hex digits", `${MD5.slice(1)}:68:A`, 1, "digest has 31 hex digits"],
    ["33 hex digits", `${MD5}0:68:A`, 1, "digest has 33 hex digits"],
    ["not hex", `${MD5.slice(0, 31)}g:68:A`, 1, 'invalid character "g" in the hash field'],
    ["leading blank", ` ${MD5}:68:A`, 1, 'invalid character " " in the hash field'],
    ["LOKI line in a .hdb", `${MD5};Eicar`, 1, 'invalid character ";"'],
    ["size zero", `${MD5}:0:A`, 1, "size 0 is out of range"],
    ["size too large", `${MD5}:4294967295:A`, 1, "size 4294967295 is out of range"],
    ["size not a number", `${MD5}:12a:A`, 1, 'invalid character "a" in the size field'],
    ["size missing", `${MD5}::A`, 1, "expected a size"],
    ["negative size", `${MD5}:-1:A`, 1, "expected a size"],
    ["six fields", `${MD5}:68:A:73:255:9`, 1, "too many fields (6)"],
    ["line number after comments, CRLF and BOM", `\ufeff# c\r\n\r\n${MD5}:68:A\r\n${MD5}:68\r\n`, 4, "missing signature name"],
  ])("error: %s", (_, text, line, message) => {
    let err: unknown;
    try {
      readHashList({ name: "sigs/main.hdb", text });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(HashListError);
    const e = err as HashListError;
    expect(e.file).toBe("sigs/main.hdb");
    expect(e.line).toBe(line);
    expect(e.code).toBe("E_HASH_LIST");
    expect(e.detail).toContain(message);
    expect(e.message).toBe(`sigs/main.hdb:${line}: ${e.detail}`);
  });
});

describe("plain (LOKI-style) lists", () => {
  test.each<[string, string, HashSignature[]]>([
    ["HASH;name", `${MD5};Eicar test file`, [sig("md5", MD5, ANY_SIZE, "Eicar test file")]],
    ["HASH name", `${SHA1} Eicar test file`, [sig("sha1", SHA1, ANY_SIZE, "Eicar test file")]],
    ["HASH<tab>name", `${SHA1}\tEicar`, [sig("sha1", SHA1, ANY_SIZE, "Eicar")]],
    ["HASH ; name", `${SHA1} ;  Eicar  `, [sig("sha1", SHA1, ANY_SIZE, "Eicar")]],
    ["bare HASH", `${SHA256}`, [sig("sha256", SHA256, ANY_SIZE, "")]],
    ["HASH;", `${SHA256};`, [sig("sha256", SHA256, ANY_SIZE, "")]],
    ["further ; stay in the name", `${SHA256};55;Log4j ./a;b.jar`, [sig("sha256", SHA256, ANY_SIZE, "55;Log4j ./a;b.jar")]],
    ["uppercase", `${SHA256.toUpperCase()};X`, [sig("sha256", SHA256, ANY_SIZE, "X")]],
    [
      "comments, blanks, CRLF, BOM, indentation",
      `\ufeff# LOKI\r\n\r\n   # indented comment\r\n  ${MD5};A  \r\n\t\r\n${SHA1}\r\n`,
      [sig("md5", MD5, ANY_SIZE, "A"), sig("sha1", SHA1, ANY_SIZE, "")],
    ],
    ["non-ASCII name", `${MD5};Trojan.Ünïcode-名`, [sig("md5", MD5, ANY_SIZE, "Trojan.Ünïcode-名")]],
    ["empty list", "", []],
    ["only a BOM", "\ufeff", []],
  ])("%s", (_, text, expected) => {
    expect(readHashList({ name: "iocs.txt", text })).toEqual(expected);
  });

  test.each([
    ["not a digest", "hello;world", 1, 'expected a hex digest (MD5, SHA-1 or SHA-256), found "h"'],
    ["name without a digest", ";world", 1, 'found ";"'],
    ["short digest", `${MD5.slice(2)};x`, 1, "digest has 30 hex digits"],
    ["too long", `${SHA256}0;x`, 1, "digest has 65 hex digits"],
    ["48 hex digits", `${MD5}${MD5.slice(0, 16)}`, 1, "digest has 48 hex digits"],
    ["ClamAV line in a .txt", `${MD5}:68:Eicar`, 1, "need a .hdb or .hsb file name"],
    ["junk after the digest", `${MD5}g;x`, 1, 'unexpected "g" after the digest'],
    ["second line", `${MD5};ok\n${MD5}x`, 2, 'unexpected "x"'],
  ])("error: %s", (_, text, line, message) => {
    expect(() => readHashList({ name: "iocs.txt", text })).toThrow(HashListError);
    expect(() => readHashList({ name: "iocs.txt", text })).toThrow(`iocs.txt:${line}: `);
    expect(() => readHashList({ name: "iocs.txt", text })).toThrow(message);
  });
});

// signature-base's LOKI hash IOCs: the real file must load, every non-comment line a signature.
const HASH_IOCS = sharedPath("rulesets/signature-base/iocs/hash-iocs.txt");

describe("signature-base hash-iocs.txt", () => {
  const text = fs.existsSync(HASH_IOCS) ? fs.readFileSync(HASH_IOCS, "utf8") : "";
  const lines = text.split(/\r?\n/).filter((l) => l.trim() !== "" && !l.trimStart().startsWith("#"));

  test("every non-comment line is a signature", () => {
    const sigs = readHashList({ name: HASH_IOCS, text });
    expect(lines.length).toBeGreaterThan(3000);
    expect(sigs).toHaveLength(lines.length);
    expect(sigs.every((s) => s.size === ANY_SIZE && s.name !== "")).toBe(true);
    const byAlgorithm = { md5: 0, sha1: 0, sha256: 0 };
    for (const s of sigs) byAlgorithm[s.algorithm]++;
    expect(byAlgorithm.md5 + byAlgorithm.sha1 + byAlgorithm.sha256).toBe(lines.length);
    expect(Math.min(byAlgorithm.md5, byAlgorithm.sha1, byAlgorithm.sha256)).toBeGreaterThan(100);
  });

  test("each parsed signature is its line's digest and comment", () => {
    const sigs = readHashList({ name: HASH_IOCS, text });
    lines.forEach((line, i) => {
      const [hash, ...rest] = line.trim().split(";");
      expect(sigs[i].digest).toBe(hash.toLowerCase());
      expect(sigs[i].name).toBe(rest.join(";").trim());
    });
  });
});
