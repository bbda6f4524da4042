// The hash database: lookups by digest and size, algorithmsFor, findings, and a randomised check
// against a plain Map so that sorting and searching are tested on more than hand-made cases.
import { createHash, randomBytes } from "node:crypto";
import * as fs from "node:fs";
import { describe, expect, test } from "vitest";
import { HashDb, type HashListInput } from "../../src/engines/hash/db";
import { digestBytes } from "../../src/engines/hash/digest";
import { HashListError, type HashAlgorithm } from "../../src/engines/hash/lists";
import type { FileHashes, Finding } from "../../src/types";
import { sharedPath } from "../support/shared";

const EICAR = Buffer.from("X5O!P%@AP[4\\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*");
const E = digestBytes(EICAR, { md5: true, sha1: true, sha256: true }) as Required<FileHashes>;
const OTHER = { md5: "0".repeat(32), sha1: "0".repeat(40), sha256: "0".repeat(64) };

/** Findings reduced to what tells them apart, sorted, for comparisons that ignore order. */
const brief = (fs: Finding[]) => fs.map((f) => `${f.hash?.algorithm}:${f.namespace}:${f.rule}`).sort();

const db = HashDb.build([
  {
    name: "/var/lib/clamav/main.hdb",
    text: [
      `${E.md5}:68:Eicar-Test-Signature`,
      `${E.md5}:68:Eicar-Test-Signature`, // an exact repeat: one finding, not two
      `${E.md5}:69:Eicar-Wrong-Size`,
      `${E.md5}:68:Eicar-Second-Name`,
      `${"1".repeat(32)}:100:Sized.100`,
      `${"2".repeat(32)}:512:Sized.512`,
    ].join("\n"),
  },
  {
    name: "bundled/hashes/test.hsb",
    text: `${E.sha256.toUpperCase()}:68:EICAR-Test-File\n${"3".repeat(40)}:*:Sha1.AnySize:73\n`,
    severity: "critical",
  },
  { name: "C:\\iocs\\hash-iocs.txt", text: `# LOKI\n${E.sha1};Eicar by SHA-1\n${E.sha256}\n`, severity: "medium" },
]);

describe("lookup", () => {
  test.each<[string, number, FileHashes, string[]]>([
    [
      "every algorithm, exact size",
      68,
      E,
      [
        "md5:main.hdb:Eicar-Second-Name",
        "md5:main.hdb:Eicar-Test-Signature",
        "sha1:hash-iocs.txt:Eicar by SHA-1",
        `sha256:bundled/hashes/test.hsb:EICAR-Test-File`,
        `sha256:hash-iocs.txt:${E.sha256}`,
      ],
    ],
    ["md5 only", 68, { md5: E.md5 }, ["md5:main.hdb:Eicar-Second-Name", "md5:main.hdb:Eicar-Test-Signature"]],
    ["the other sized duplicate", 69, { md5: E.md5 }, ["md5:main.hdb:Eicar-Wrong-Size"]],
    ["wrong size: no sized signature matches", 70, E, ["sha1:hash-iocs.txt:Eicar by SHA-1", `sha256:hash-iocs.txt:${E.sha256}`]],
    ["uppercase query", 68, { sha256: E.sha256.toUpperCase() }, ["sha256:bundled/hashes/test.hsb:EICAR-Test-File", `sha256:hash-iocs.txt:${E.sha256}`]],
    ["any size, small", 1, { sha1: "3".repeat(40) }, ["sha1:bundled/hashes/test.hsb:Sha1.AnySize"]],
    ["any size, beyond 4 GB", 5e9, { sha1: "3".repeat(40) }, ["sha1:bundled/hashes/test.hsb:Sha1.AnySize"]],
    ["sized signature, other size", 101, { md5: "1".repeat(32) }, []],
    ["sized signature", 100, { md5: "1".repeat(32) }, ["md5:main.hdb:Sized.100"]],
    ["unknown digests", 68, OTHER, []],
    ["neighbours of a digest do not match", 100, { md5: "1".repeat(31) + "0" }, []],
    ["no digests", 68, {}, []],
  ])("%s", (_, size, hashes, expected) => {
    expect(brief(db.lookup(size, hashes))).toEqual([...expected].sort());
  });

  test("a finding carries rule, namespace, severity, description and the digest", () => {
    const f = db.lookup(68, { sha256: E.sha256.toUpperCase() });
    expect(f).toContainEqual({
      engine: "hash",
      rule: "EICAR-Test-File",
      namespace: "bundled/hashes/test.hsb",
      severity: "critical",
      description: 'File matches SHA-256 signature "EICAR-Test-File" from bundled/hashes/test.hsb',
      references: [],
      tags: [],
      hash: { algorithm: "sha256", value: E.sha256 },
      // issue 10: a bundled list's findings name their pack
      pack: "ring3",
      author: "ring3",
      license: "Apache-2.0",
    });
    // A bare hash in a plain list is named by its digest; severity defaults per list.
    expect(f).toContainEqual(expect.objectContaining({ rule: E.sha256, namespace: "hash-iocs.txt", severity: "medium" }));
    const md5 = db.lookup(68, { md5: E.md5 });
    expect(md5.every((x) => x.severity === "high")).toBe(true);
    expect(md5.map((x) => x.description)).toContain('File matches MD5 signature "Eicar-Test-Signature" from main.hdb');
  });

  test.each([
    ["too short", { md5: "abc" }],
    ["not hex", { sha1: "z".repeat(40) }],
    ["sha256 length given as md5", { md5: E.sha256 }],
  ])("a malformed query digest is a caller error: %s", (_, hashes) => {
    expect(() => db.lookup(68, hashes)).toThrow(TypeError);
  });
});

describe("counts", () => {
  test("per algorithm, exact repeats counted once", () => {
    expect(db.counts).toEqual({ md5: 5, sha1: 2, sha256: 2 });
    expect(db.count).toBe(9);
  });
  test("an empty database", () => {
    const empty = HashDb.build([]);
    expect(empty.count).toBe(0);
    expect(empty.lookup(68, E)).toEqual([]);
    expect(empty.algorithmsFor(68)).toEqual({ md5: false, sha1: false, sha256: false });
  });
});

describe("algorithmsFor", () => {
  test.each<[number, { md5: boolean; sha1: boolean; sha256: boolean }]>([
    [68, { md5: true, sha1: true, sha256: true }],
    [69, { md5: true, sha1: true, sha256: true }],
    [100, { md5: true, sha1: true, sha256: true }],
    [512, { md5: true, sha1: true, sha256: true }],
    [70, { md5: false, sha1: true, sha256: true }], // sha1 has an any-size signature; sha256 one from the plain list
    [0, { md5: false, sha1: true, sha256: true }],
    [68.5, { md5: false, sha1: true, sha256: true }],
    [-1, { md5: false, sha1: true, sha256: true }],
  ])("size %s", (size, expected) => {
    expect(db.algorithmsFor(size)).toEqual(expected);
  });

  test("sized signatures only: exactly their sizes", () => {
    const sized = HashDb.build([{ name: "s.hsb", text: `${E.sha256}:68:A\n${"1".repeat(32)}:1024:B\n${"2".repeat(32)}:4294967294:C\n` }]);
    const want = (n: number) => sized.algorithmsFor(n);
    expect(want(68)).toEqual({ md5: false, sha1: false, sha256: true });
    expect(want(1024)).toEqual({ md5: true, sha1: false, sha256: false });
    expect(want(4294967294)).toEqual({ md5: true, sha1: false, sha256: false });
    for (const n of [0, 1, 67, 69, 512, 1023, 1025, 2048, 4294967295, 1e12, NaN, Infinity]) {
      expect(want(n)).toEqual({ md5: false, sha1: false, sha256: false });
    }
  });

  test("many sizes sharing their low bits (multiples of 4096) stay distinct", () => {
    const lines: string[] = [];
    for (let i = 1; i <= 5000; i++) lines.push(`${randomBytes(16).toString("hex")}:${i * 4096}:N${i}`);
    const big = HashDb.build([{ name: "m.hdb", text: lines.join("\n") }]);
    for (let i = 1; i <= 5000; i++) {
      expect(big.algorithmsFor(i * 4096).md5).toBe(true);
      expect(big.algorithmsFor(i * 4096 + 1).md5).toBe(false);
    }
  });
});

describe("build", () => {
  test("a malformed line fails the whole build with file:line", () => {
    expect(() => HashDb.build([{ name: "ok.hsb", text: `${E.sha256}:68:A` }, { name: "bad.hdb", text: `${E.md5}:68:A\n${E.md5}:x:B` }])).toThrow(
      new HashListError("bad.hdb", 2, 'expected a size (decimal or *) after the hash, found "x"'),
    );
  });

  test("an unknown severity is rejected", () => {
    expect(() => HashDb.build([{ name: "a.txt", text: E.md5, severity: "urgent" as never }])).toThrow(/unknown severity/);
  });

  test("a name repeated on many lines is stored once per list", () => {
    const lines = Array.from({ length: 1000 }, () => `${randomBytes(32).toString("hex")};Operation Repeat`);
    const one = HashDb.build([{ name: "a.txt", text: lines.join("\n") }]);
    const two = HashDb.build([{ name: "a.txt", text: lines.join("\n") }, { name: "b.txt", text: lines.join("\n") }]);
    expect(one.toShared().labelCount).toBe(1);
    expect(two.toShared().labelCount).toBe(2);
    expect(one.count).toBe(1000);
    expect(two.count).toBe(2000);
    expect(brief(two.lookup(1, { sha256: lines[7].slice(0, 64) }))).toEqual(["sha256:a.txt:Operation Repeat", "sha256:b.txt:Operation Repeat"]);
  });

  test("non-ASCII names come back intact", () => {
    const u = HashDb.build([{ name: "u.txt", text: `${E.md5};Троян.Ünïcode-名 😀\n${E.sha1};plain` }]);
    expect(u.lookup(1, { md5: E.md5 })[0].rule).toBe("Троян.Ünïcode-名 😀");
    expect(u.lookup(1, { sha1: E.sha1 })[0].rule).toBe("plain");
  });
});

describe("against a reference Map, random lists", () => {
  const WIDTH: Record<HashAlgorithm, number> = { md5: 16, sha1: 20, sha256: 32 };
  const ALGOS: HashAlgorithm[] = ["md5", "sha1", "sha256"];
  type Entry = { algorithm: HashAlgorithm; hex: string; size: number; name: string; list: string };

  // Digests share prefixes on purpose: the sort places most entries by their first four bytes
  // and must still order the ties by the rest.
  function randomEntries(n: number): Entry[] {
    const out: Entry[] = [];
    const prefixes = Array.from({ length: 8 }, () => randomBytes(6).toString("hex"));
    for (let i = 0; i < n; i++) {
      const algorithm = ALGOS[i % 3];
      let hex = randomBytes(WIDTH[algorithm]).toString("hex");
      if (i % 4 === 0) hex = prefixes[i % 8] + hex.slice(12);
      if (i % 7 === 0 && out.length > 0) {
        const prev = out[out.length - 1 - (i % Math.min(5, out.length))];
        if (prev.algorithm === algorithm) hex = prev.hex; // a duplicate digest, other name or size
      }
      const size = i % 5 === 0 ? -1 : 1 + (i % 50);
      out.push({ algorithm, hex, size, name: `Sig-${i % 997}`, list: i % 2 ? "a.hsb" : "b.txt" });
    }
    return out;
  }

  test.each([1, 2, 3])("round %s", () => {
    const entries = randomEntries(6000);
    const hsb = entries.filter((e) => e.list === "a.hsb");
    const txt = entries.filter((e) => e.list === "b.txt");
    const lists: HashListInput[] = [
      { name: "a.hsb", text: hsb.map((e) => `${e.hex}:${e.size < 0 ? "*" : e.size}:${e.name}`).join("\n") },
      { name: "b.txt", text: txt.map((e) => `${e.hex.toUpperCase()};${e.name}`).join("\r\n") },
    ];
    const built = HashDb.build(lists);
    const ref = new Map<string, Set<string>>(); // algorithm:hex -> signatures (list:name:size)
    for (const e of entries) {
      const key = `${e.algorithm}:${e.hex}`;
      if (!ref.has(key)) ref.set(key, new Set());
      ref.get(key)!.add(`${e.list}:${e.name}:${e.list === "b.txt" ? -1 : e.size}`);
    }
    expect(built.count).toBe([...ref.values()].reduce((n, s) => n + s.size, 0));
    for (const [key, sigs] of ref) {
      const [algorithm, hex] = key.split(":") as [HashAlgorithm, string];
      for (const size of [1, 7, 25, 50, 51]) {
        const expected = [...sigs]
          .map((s) => s.split(":"))
          .filter(([, , sz]) => sz === "-1" || Number(sz) === size)
          .map(([list, name]) => `${algorithm}:${list}:${name}`)
          .sort();
        expect(brief(built.lookup(size, { [algorithm]: hex }))).toEqual(expected);
      }
    }
    for (let i = 0; i < 500; i++) {
      const algorithm = ALGOS[i % 3];
      expect(built.lookup(1, { [algorithm]: randomBytes(WIDTH[algorithm]).toString("hex") })).toEqual([]);
    }
  });
});

describe("end to end with the digester", () => {
  test("EICAR's bytes match the bundled-style .hsb line", () => {
    const d = HashDb.build([{ name: "bundled/hashes/test-files.hsb", text: "275a021bbfb6489e54d471899f7db9d1663fc695ec2fe2a2c4538aabf651fd0f:68:EICAR-Test-File\n" }]);
    const need = d.algorithmsFor(EICAR.length);
    expect(need).toEqual({ md5: false, sha1: false, sha256: true });
    expect(d.lookup(EICAR.length, digestBytes(EICAR, need)).map((f) => f.rule)).toEqual(["EICAR-Test-File"]);
    expect(d.lookup(EICAR.length + 1, digestBytes(Buffer.concat([EICAR, Buffer.from("\n")]), need))).toEqual([]);
  });
});

const HASH_IOCS = sharedPath("rulesets/signature-base/iocs/hash-iocs.txt");

describe("signature-base hash-iocs.txt in the database", () => {
  const text = fs.existsSync(HASH_IOCS) ? fs.readFileSync(HASH_IOCS, "utf8") : "";
  const lines = text.split(/\r?\n/).filter((l) => /^[0-9a-fA-F]/.test(l));
  const iocs = HashDb.build([{ name: HASH_IOCS, text }]);

  test("loads, with any-size signatures for every algorithm", () => {
    expect(iocs.count).toBeGreaterThan(3000);
    expect(iocs.algorithmsFor(12345)).toEqual({ md5: true, sha1: true, sha256: true });
  });

  test.each([
    ["the first", (l: string[]) => l[0]],
    ["an uppercase SHA-256", (l: string[]) => l.find((x) => /^[0-9A-F]{64};/.test(x))!],
    ["one with ; in its comment", (l: string[]) => l.find((x) => x.split(";").length > 2)!],
    ["an MD5", (l: string[]) => l.find((x) => /^[0-9a-fA-F]{32};/.test(x))!],
    ["a SHA-1", (l: string[]) => l.find((x) => /^[0-9a-fA-F]{40};/.test(x))!],
  ])("%s line matches", (_, pick) => {
    const line = pick(lines);
    const [hash, ...comment] = line.split(";");
    const algorithm = ({ 32: "md5", 40: "sha1", 64: "sha256" } as const)[hash.length as 32 | 40 | 64];
    const found = iocs.lookup(987654, { [algorithm]: hash.toLowerCase() });
    expect(found.map((f) => f.rule)).toContain(comment.join(";").trim());
    expect(found[0].namespace).toBe("hash-iocs.txt");
  });

  test("a file's real SHA-256 matched through a list line", () => {
    const bytes = Buffer.from("not malware, just bytes");
    const sha = createHash("sha256").update(bytes).digest("hex");
    const more = HashDb.build([{ name: HASH_IOCS, text: `${text}\n${sha};Test line\n` }]);
    expect(more.lookup(bytes.length, digestBytes(bytes, more.algorithmsFor(bytes.length))).map((f) => f.rule)).toEqual(["Test line"]);
  });
});

describe("toBytes and fromBytes (the bundled lists are indexed at build time)", () => {
  test("give back a database with the same counts, sizes wanted and findings", () => {
    const again = HashDb.fromBytes(db.toBytes());
    expect(again.count).toBe(db.count);
    expect(again.counts).toEqual(db.counts);
    for (const size of [1, 68, 69, 100, 512, 5e9]) {
      expect(again.algorithmsFor(size)).toEqual(db.algorithmsFor(size));
      for (const h of [E, OTHER, { md5: "1".repeat(32) }, { sha1: "3".repeat(40) }]) expect(again.lookup(size, h)).toEqual(db.lookup(size, h));
    }
    expect(brief(again.lookup(68, E))).toContain("sha256:bundled/hashes/test.hsb:EICAR-Test-File");
  });

  test("refuse bytes that are cut short", () => {
    const bytes = db.toBytes();
    expect(() => HashDb.fromBytes(bytes.subarray(0, 3))).toThrow(/hash database/);
    expect(() => HashDb.fromBytes(bytes.subarray(0, bytes.length - 10))).toThrow(/hash database/);
  });
});
