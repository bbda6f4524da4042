// Container readers, format by format: identify() by content, members and their names exactly as
// stored, EICAR found three deep, encrypted / unsupported / truncated / corrupted variants, and the
// budgets that every reader charges. Fixtures are built here (test/support/archives.ts); whether a
// member holds EICAR is asked of YARA-X (the oracle), not only compared by bytes.
import * as zlib from "node:zlib";
import { describe, expect, test } from "vitest";
import { DEFAULT_LIMITS, createBudget, identify, openContainer } from "../../src/containers";
import type { ContainerFormat, Limits, Member } from "../../src/containers/types";
import * as A from "../support/archives";
import { oracleCompile } from "../support/yarax-oracle";

const { EICAR, zip, tar, gzip, concat } = A;
const enc = new TextEncoder();
const dec = new TextDecoder();
const eq = (a: Uint8Array | undefined, b: Uint8Array) => a !== undefined && Buffer.from(a).equals(Buffer.from(b));

// The EICAR rule, written from the bytes at run time ("\" escaped for YARA).
const EICAR_RULE = `rule eicar { strings: $a = "${dec.decode(EICAR).replace(/\\/g, "\\\\")}" condition: $a at 0 and filesize < 128 }`;
const oracle = oracleCompile(EICAR_RULE);
const isEicar = (data: Uint8Array) => oracle.scan(data).some((m) => m.rule === "eicar");

function limits(over: Partial<Limits> = {}): Limits {
  return { ...DEFAULT_LIMITS, ...over };
}

/** Members of one container as plain values. */
function members(data: Uint8Array, over: Partial<Limits> = {}, format?: ContainerFormat): { name: string; raw: Uint8Array; data?: Uint8Array; code?: string }[] {
  const f = format ?? identify(data);
  if (!f) throw new Error("not a container");
  return [...openContainer(f, data, createBudget(limits(over)))].map((m: Member) => ({ name: dec.decode(m.name), raw: m.name, data: m.data, code: m.problem?.code }));
}

/** The whole tree, as the scan recurses: "a.zip!b.tgz!x" for each leaf, and every problem met. */
function tree(data: Uint8Array, over: Partial<Limits> = {}): { eicar: string[]; leaves: string[]; problems: string[] } {
  const lim = limits(over);
  const budget = createBudget(lim);
  const out = { eicar: [] as string[], leaves: [] as string[], problems: [] as string[] };
  const visit = (bytes: Uint8Array, path: string[]) => {
    const f = identify(bytes);
    if (f === null) {
      out.leaves.push(path.join("!"));
      if (isEicar(bytes)) out.eicar.push(path.join("!"));
      return;
    }
    if (path.length >= lim.maxDepth) return void out.problems.push(`${path.join("!")}: archive-depth`);
    for (const m of openContainer(f, bytes, budget)) {
      const here = [...path, dec.decode(m.name) || "-"];
      if (m.problem) out.problems.push(`${here.join("!")}: ${m.problem.code}`);
      if (m.data) visit(m.data, here);
    }
  };
  visit(data, []);
  return out;
}

describe("identify: by content only", () => {
  const E = EICAR;
  test.each<[string, () => Uint8Array, ContainerFormat | null]>([
    ["zip", () => zip([{ name: "a", data: E }]), "zip"],
    ["empty zip (end record only)", () => zip([]), "zip"],
    ["crx3", () => A.crx(zip([{ name: "a", data: E }])), "zip"],
    ["gzip", () => gzip(E), "gzip"],
    ["zstd", () => A.zstd(E), "zstd"],
    ["ustar", () => tar([{ name: "a", data: E }]), "tar"],
    ["gnu tar", () => tar([{ name: "a", data: E }], "gnu"), "tar"],
    ["v7 tar (no magic: checksum)", () => tar([{ name: "a", data: E }], "v7"), "tar"],
    ["ar", () => A.ar([{ name: "a", data: E }]), "ar"],
    ["cpio newc", () => A.cpio([{ name: "a", data: E }]), "cpio"],
    ["cab", () => A.cab([{ name: "a", data: E }]), "cab"],
    ["iso", () => A.iso("a", E), "iso"],
    ["rpm", () => A.rpm([{ name: "a", data: E }]), "rpm"],
    ["7z", () => Uint8Array.of(0x37, 0x7a, 0xbc, 0xaf, 0x27, 0x1c, 0, 4), "7z"],
    ["xz", () => Uint8Array.of(0xfd, 0x37, 0x7a, 0x58, 0x5a, 0, 0, 4), "xz"],
    ["bzip2", () => enc.encode("BZh91AY&SY\0\0"), "bzip2"],
    ["msi / OLE", () => Uint8Array.of(0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1, 0), "msi"],
    ["rar", () => enc.encode("Rar!\x1a\x07\x01\x00"), "other-7z"],
    ["cpio odc", () => enc.encode("070707" + "0".repeat(70) + "x\0"), "cpio"],
    ["old binary cpio", () => concat([Uint8Array.of(0xc7, 0x71), new Uint8Array(18), Uint8Array.of(2, 0), new Uint8Array(4), enc.encode("a\0")]), "cpio"],
    ["text that starts like cpio", () => enc.encode("070701 is a number, not an archive\n".repeat(5)), null],
    ["bytes that start like old binary cpio", () => Uint8Array.from({ length: 64 }, (_, i) => (i === 0 ? 0xc7 : i === 1 ? 0x71 : 0x41)), null],
    ["bytes that start like ARJ", () => Uint8Array.of(0x60, 0xea, 0xff, 0xff, 1, 2, 3, 4, 5, 6, 7, 8), null],
    ["gzip magic with reserved flags set", () => Uint8Array.of(0x1f, 0x8b, 8, 0xe0, 0, 0, 0, 0, 0, 3, 0), null],
    ["EICAR itself", () => E, null],
    ["empty", () => new Uint8Array(0), null],
    ["text", () => enc.encode("PK is not enough\n"), null],
    ["BZh without the block magic", () => enc.encode("BZh9 hello world"), null],
    ["512 zero bytes (a checksum of spaces is no tar)", () => new Uint8Array(512), null],
  ])("%s", (_, make, want) => {
    expect(identify(make())).toBe(want);
  });
});

describe("zip", () => {
  test("stored and deflate members, directories and links skipped, bytes exact", () => {
    const big = enc.encode("lorem ipsum ".repeat(5000));
    const z = zip([
      { name: "dir/", data: new Uint8Array(0) },
      { name: "dir/eicar.com", data: EICAR },
      { name: "dir/big.txt", data: big, method: "deflate" },
      { name: "link", data: enc.encode("dir/eicar.com"), mode: 0o120777 },
      { name: "empty", data: new Uint8Array(0) },
    ]);
    const ms = members(z);
    expect(ms.map((m) => [m.name, m.data?.length, m.code])).toEqual([
      ["dir/eicar.com", 68, undefined],
      ["dir/big.txt", big.length, undefined],
      ["empty", 0, undefined],
    ]);
    expect(isEicar(ms[0]!.data!)).toBe(true);
    expect(eq(ms[1]!.data, big)).toBe(true);
  });

  test("odd names are yielded exactly as stored: ../, absolute, non-UTF-8, 300 bytes", () => {
    const latin1 = Uint8Array.of(0x63, 0x61, 0x66, 0xe9, 0x2e, 0x74, 0x78, 0x74); // "café.txt" in Latin-1
    const long = "d/".repeat(100) + "x".repeat(100);
    const names = [enc.encode("../../etc/x"), enc.encode("/abs/eicar"), latin1, enc.encode(long), enc.encode("..\\win\\x")];
    const ms = members(zip(names.map((name) => ({ name, data: EICAR, method: "deflate" as const }))));
    expect(ms.map((m) => m.raw)).toEqual(names);
    expect(ms.every((m) => isEicar(m.data!) && m.code === undefined)).toBe(true);
    expect(long.length).toBe(300);
  });

  test.each([
    ["zip64 extra fields and end records", zip([{ name: "a", data: EICAR, zip64: true, method: "deflate" }, { name: "b", data: EICAR, zip64: true }], { zip64: true })],
    ["data descriptors (deflate and stored)", zip([{ name: "a", data: EICAR, descriptor: true, method: "deflate" }, { name: "b", data: EICAR, descriptor: true }])],
    ["zip64 data descriptors", zip([{ name: "a", data: EICAR, descriptor: true, zip64: true, method: "deflate" }, { name: "b", data: EICAR }], { zip64: true })],
    ["crx3 header", A.crx(zip([{ name: "a", data: EICAR }, { name: "b", data: EICAR, method: "deflate" }]), 3)],
    ["crx2 header", A.crx(zip([{ name: "a", data: EICAR }, { name: "b", data: EICAR, method: "deflate" }]), 2)],
    ["archive comment", zip([{ name: "a", data: EICAR }, { name: "b", data: EICAR }], { comment: "PK\x05\x06 in a comment" })],
  ])("%s", (_, z) => {
    const ms = members(z);
    expect(ms.map((m) => [m.name, m.code])).toEqual([
      ["a", undefined],
      ["b", undefined],
    ]);
    expect(ms.every((m) => isEicar(m.data!))).toBe(true);
  });

  test("data before the zip (a self-extractor's stub): offsets are re-based", () => {
    const z = concat([enc.encode("MZ stub ".repeat(100)), zip([{ name: "a", data: EICAR, method: "deflate" }])]);
    const ms = members(z, {}, "zip");
    expect(ms.map((m) => [m.name, m.code, isEicar(m.data!)])).toEqual([["a", undefined, true]]);
  });

  test("encrypted members (ZipCrypto, AES) are archive-encrypted; the others are still read", () => {
    const ms = members(zip([{ name: "zc", data: EICAR, encrypted: "zipcrypto" }, { name: "aes", data: EICAR, encrypted: "aes" }, { name: "plain", data: EICAR }]));
    expect(ms.map((m) => [m.name, m.code, m.data === undefined])).toEqual([
      ["zc", "archive-encrypted", true],
      ["aes", "archive-encrypted", true],
      ["plain", undefined, false],
    ]);
  });

  test("unsupported methods are archive-unsupported; zstd (93) is read", () => {
    const ms = members(zip([{ name: "bz", data: EICAR, method: 12, packed: new Uint8Array(40) }, { name: "zs", data: EICAR, method: 93, packed: A.zstd(EICAR) }, { name: "ok", data: EICAR }]));
    expect(ms.map((m) => [m.name, m.code])).toEqual([
      ["bz", "archive-unsupported"],
      ["zs", undefined],
      ["ok", undefined],
    ]);
    expect(isEicar(ms[1]!.data!)).toBe(true);
  });

  test("a CRC mismatch is archive-corrupt, with the bytes still given to scan", () => {
    const ms = members(zip([{ name: "bad", data: EICAR, crc: 0x12345678 }, { name: "good", data: EICAR }]));
    expect(ms.map((m) => [m.name, m.code])).toEqual([
      ["bad", "archive-corrupt"],
      ["good", undefined],
    ]);
    expect(isEicar(ms[0]!.data!)).toBe(true);
  });

  test("a local header that names the member differently is archive-corrupt", () => {
    const ms = members(zip([{ name: "innocent.txt", localName: "evil.exe", data: EICAR }]));
    expect(ms.map((m) => [m.name, m.code])).toEqual([["innocent.txt", "archive-corrupt"]]);
  });

  test("damaged deflate data: that member is corrupt, the next one is read", () => {
    const z = zip([{ name: "a", data: enc.encode("x".repeat(1000) + "y".repeat(1000)), method: "deflate" }, { name: "b", data: EICAR, method: "deflate" }]);
    const at = 30 + 1 + 2; // inside a's compressed data
    z[at] ^= 0xff;
    z[at + 1] ^= 0xff;
    const ms = members(z);
    expect(ms.map((m) => [m.name, m.code])).toEqual([
      ["a", "archive-corrupt"],
      ["b", undefined],
    ]);
    expect(isEicar(ms[1]!.data!)).toBe(true);
  });

  test("truncated: no central directory, so the local headers are walked; the archive is corrupt", () => {
    const full = zip([{ name: "a", data: EICAR, method: "deflate" }, { name: "b", data: EICAR }, { name: "c", data: enc.encode("z".repeat(500)), method: "deflate" }]);
    for (const cut of [full.length - 30, full.length - 100]) {
      const ms = members(full.subarray(0, cut), {}, "zip");
      expect(ms[0]).toMatchObject({ name: "", code: "archive-corrupt" });
      expect(ms.slice(1, 3).map((m) => [m.name, isEicar(m.data!)])).toEqual([
        ["a", true],
        ["b", true],
      ]);
    }
    // Cut inside a deflated member: the part before the cut is still given to scan.
    const oneBig = zip([{ name: "big", data: concat([EICAR, enc.encode("q".repeat(100_000))]), method: "store" }]);
    const ms = members(oneBig.subarray(0, 2000), {}, "zip");
    expect(ms.map((m) => [m.name, m.code])).toEqual([
      ["", "archive-corrupt"],
      ["big", "archive-corrupt"],
    ]);
    expect(eq(ms[1]!.data!.subarray(0, 68), EICAR)).toBe(true);
    // Truncated in the central directory: what it lists is read, the rest reported.
    const dirCut = concat([full.subarray(0, full.length - 22 - 10), full.subarray(full.length - 22)]);
    expect(members(dirCut, {}, "zip").some((m) => m.code === "archive-corrupt")).toBe(true);
  });

  test("garbage never throws: every prefix and many byte flips of a zip end with members or problems", () => {
    const z = zip([{ name: "a", data: EICAR, method: "deflate" }, { name: "b/c", data: EICAR, zip64: true, descriptor: true }], { zip64: true });
    for (let n = 0; n <= z.length; n++) expect(() => members(z.subarray(0, n), {}, "zip")).not.toThrow();
    for (let i = 0; i < z.length; i++) {
      const bad = z.slice();
      bad[i] ^= 0x5a;
      expect(() => members(bad, {}, "zip")).not.toThrow();
    }
  });
});

describe("damaged input never throws and always ends", () => {
  // Deterministic flips (a tiny LCG), so that a failure reproduces.
  const fixtures: [string, Uint8Array][] = [
    ["tar", tar([{ name: "a", data: EICAR }, { name: "b".repeat(120), data: EICAR }], "pax")],
    ["gnu tar", tar([{ name: "c".repeat(120), data: EICAR }], "gnu")],
    ["gzip", gzip(concat([EICAR, enc.encode("x".repeat(3000))]), "n")],
    ["zstd", A.zstd(concat([EICAR, enc.encode("y".repeat(3000))]))],
    ["ar", A.ar([{ name: "a-long-member-name.o", data: EICAR }, { name: "b", data: EICAR }])],
    ["deb", A.deb([{ name: "./e", data: EICAR }])],
    ["zip", zip([{ name: "a", data: EICAR, method: "deflate" }, { name: "b", data: EICAR, descriptor: true }, { name: "c", data: EICAR, zip64: true }], { zip64: true })],
  ];
  test.each(fixtures)("%s: every prefix, and 2,000 random byte changes", (_, good) => {
    const format = identify(good)!;
    for (let n = 0; n <= good.length; n += Math.max(1, good.length >> 8)) expect(() => members(good.subarray(0, n), {}, format)).not.toThrow();
    let seed = 12345;
    const next = () => (seed = (seed * 1103515245 + 12345) >>> 0);
    for (let i = 0; i < 2000; i++) {
      const bad = good.slice();
      for (let j = 0, n = 1 + (next() % 4); j < n; j++) bad[next() % bad.length] = next() & 0xff;
      let out: ReturnType<typeof members> = [];
      expect(() => (out = members(bad, {}, format))).not.toThrow();
      for (const m of out) expect(m.data !== undefined || m.code !== undefined).toBe(true); // nothing silently empty
    }
  });
});

describe("gzip and zstd", () => {
  test("gzip: one member named by FNAME, or empty", () => {
    expect(members(gzip(EICAR, "eicar.com")).map((m) => [m.name, isEicar(m.data!)])).toEqual([["eicar.com", true]]);
    expect(members(gzip(EICAR)).map((m) => [m.name, isEicar(m.data!)])).toEqual([["", true]]);
    expect(members(zlib.gzipSync(EICAR)).map((m) => m.name)).toEqual([""]);
  });

  test("gzip: concatenated members are one stream", () => {
    const ms = members(concat([gzip(EICAR.subarray(0, 30), "a"), gzip(EICAR.subarray(30), "b")]));
    expect(ms.map((m) => [m.name, isEicar(m.data!)])).toEqual([["a", true]]);
  });

  test("gzip: truncated gives the part decoded, archive-corrupt; damaged is archive-corrupt", () => {
    const g = gzip(concat([EICAR, enc.encode("p".repeat(50_000))]));
    const ms = members(g.subarray(0, g.length - 20));
    expect(ms[0]!.code).toBe("archive-corrupt");
    expect(eq(ms[0]!.data!.subarray(0, 68), EICAR)).toBe(true);
    const bad = g.slice();
    bad[bad.length - 6] ^= 0xff; // CRC-32 trailer
    expect(members(bad)[0]!.code).toBe("archive-corrupt");
  });

  test("zstd: one member with an empty name; truncated is archive-corrupt", () => {
    const z = A.zstd(EICAR);
    expect(members(z).map((m) => [m.name, isEicar(m.data!)])).toEqual([["", true]]);
    for (const cut of [1, 3, 10, 20]) expect(members(z.subarray(0, z.length - cut)).map((m) => m.code)).toEqual(["archive-corrupt"]);
  });
});

describe("tar", () => {
  const long = "deep/".repeat(30) + "eicar.com"; // 159 bytes
  test.each([
    ["ustar (prefix field)", "ustar"],
    ["pax (path record)", "pax"],
    ["GNU (././@LongLink)", "gnu"],
  ] as const)("%s: long names, directories and links skipped", (_, style) => {
    const t = tar([{ name: "d", type: "5" }, { name: long, data: EICAR }, { name: "l", type: "2", linkname: "d" }, { name: "short", data: enc.encode("hello") }], style);
    const ms = members(t);
    expect(ms.map((m) => [m.name, m.code])).toEqual([
      [long, undefined],
      ["short", undefined],
    ]);
    expect(isEicar(ms[0]!.data!)).toBe(true);
  });

  test("v7 tar (no magic) and a tar without its end blocks", () => {
    expect(members(tar([{ name: "e", data: EICAR }], "v7")).map((m) => [m.name, isEicar(m.data!)])).toEqual([["e", true]]);
    expect(members(tar([{ name: "e", data: EICAR }], "ustar", false)).map((m) => [m.name, m.code])).toEqual([["e", undefined]]);
  });

  test("pax size overrides the header's size", () => {
    // The header says 0 bytes; the pax record says 68. Read by the header, EICAR's bytes would be
    // taken for the next header and fail its checksum.
    const body = enc.encode("11 size=68\n");
    const t = concat([tar([{ name: "PaxHeaders/e", type: "x", data: body }], "ustar", false), tar([{ name: "e", data: EICAR, declaredSize: 0 }], "ustar", false).subarray(0, 512), tar([{ name: "x", data: EICAR }]).subarray(512)]);
    const ms = members(t, {}, "tar");
    expect(ms[0]!.name).toBe("e");
    expect(isEicar(ms[0]!.data!)).toBe(true);
  });

  test("a huge declared size (octal and base-256) in a short file is corrupt, not an allocation", () => {
    for (const t of [tar([{ name: "h", data: EICAR, declaredSize: 8 * 1024 ** 3 - 1 }], "ustar"), tar([{ name: "h", data: EICAR, declaredSize: 2 ** 50, base256: true }], "gnu")]) {
      const before = process.memoryUsage().arrayBuffers;
      const ms = members(t);
      expect(ms.map((m) => [m.name, m.code])).toEqual([["h", "archive-corrupt"]]);
      expect(isEicar(ms[0]!.data!.subarray(0, 68))).toBe(true);
      expect(ms[0]!.data!.buffer).toBe(t.buffer); // a view into the input, no copy
      expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(1 << 20);
    }
  });

  test("a bad header checksum stops the walk as corrupt; members before it are read", () => {
    const t = tar([{ name: "a", data: EICAR }, { name: "b", data: EICAR }]);
    t[1024 + 10] ^= 0x01; // b's header
    expect(members(t).map((m) => [m.name, m.code])).toEqual([
      ["a", undefined],
      ["", "archive-corrupt"],
    ]);
  });

  test("a member over maxMemberSize is cut to it and reported", () => {
    const ms = members(tar([{ name: "big", data: concat([EICAR, new Uint8Array(5000)]) }]), { maxMemberSize: 1000 });
    expect(ms.map((m) => [m.name, m.data?.length, m.code])).toEqual([["big", 1000, "archive-member-size"]]);
  });
});

describe("ar and deb", () => {
  test("GNU and BSD long names; symbol tables skipped", () => {
    for (const style of ["gnu", "bsd"] as const) {
      const a = A.ar([{ name: "short.o", data: EICAR }, { name: "a-rather-long-member-name.o", data: concat([EICAR, enc.encode("!")]) }], style);
      expect(members(a).map((m) => [m.name, m.data?.length])).toEqual([
        ["short.o", 68],
        ["a-rather-long-member-name.o", 69],
      ]);
    }
  });

  test.each(["gz", "zst", "none"] as const)(".deb with data.tar.%s: EICAR found at data.tar!./usr/eicar", (c) => {
    const t = tree(A.deb([{ name: "./usr/eicar", data: EICAR }], c));
    const tarName = c === "none" ? "data.tar" : `data.tar.${c}`;
    const inner = c === "none" ? `${tarName}!./usr/eicar` : `${tarName}!-!./usr/eicar`;
    expect(t.eicar).toEqual([inner]);
    expect(t.problems).toEqual([]);
  });

  test("a truncated ar: members before the cut are read, the cut one is corrupt", () => {
    const a = A.ar([{ name: "a", data: EICAR }, { name: "b", data: concat([EICAR, new Uint8Array(100)]) }]);
    const ms = members(a.subarray(0, a.length - 50));
    expect(ms.map((m) => [m.name, m.code])).toEqual([
      ["a", undefined],
      ["b", "archive-corrupt"],
    ]);
    expect(isEicar(ms[1]!.data!.subarray(0, 68))).toBe(true);
  });
});

describe("nesting: EICAR three deep in every native format", () => {
  const leaf = { name: "eicar.com", data: EICAR };
  test.each<[string, Uint8Array, string]>([
    ["zip>zip>zip", zip([{ name: "l1.zip", data: zip([{ name: "l2.zip", data: zip([leaf]), method: "deflate" }]) }]), "l1.zip!l2.zip!eicar.com"],
    ["tar.gz>zip>tar", gzip(tar([{ name: "pkg/app.zip", data: zip([{ name: "lib.tar", data: tar([leaf]) }]) }]), "p.tar"), "p.tar!pkg/app.zip!lib.tar!eicar.com"],
    ["ar>zstd>tar>gzip", A.ar([{ name: "x.tar.zst", data: A.zstd(tar([{ name: "e.gz", data: gzip(EICAR, "e") }])) }]), "x.tar.zst!-!e.gz!e"],
    ["crx>zip>gzip", A.crx(zip([{ name: "in.zip", data: zip([{ name: "e.gz", data: gzip(EICAR) }]) }])), "in.zip!e.gz!-"],
  ])("%s", (_, data, where) => {
    const t = tree(data);
    expect(t.eicar).toEqual([where]);
    expect(t.problems).toEqual([]);
  });
});

describe("budgets", () => {
  test("createBudget: charge() up to maxTotalBytes, inTime() up to maxTimeMs, the first problem kept", () => {
    let clock = 0;
    const b = createBudget(limits({ maxTotalBytes: 100, maxTimeMs: 50 }), () => clock);
    expect(b.charge(60)).toBe(true);
    expect(b.remaining()).toBe(40);
    expect(b.charge(40)).toBe(true);
    expect(b.charge(1)).toBe(false);
    expect(b.problem?.code).toBe("archive-total-size");
    clock = 50;
    expect(b.inTime()).toBe(true);
    clock = 51;
    expect(b.inTime()).toBe(false);
    expect(b.problem?.code).toBe("archive-total-size"); // the first one stays
    expect(createBudget(limits({ maxTimeMs: 0 }), () => (clock += 1)).inTime()).toBe(false);
  });

  test("DEFAULT_LIMITS are the documented values", () => {
    expect(DEFAULT_LIMITS).toEqual({ maxDepth: 8, maxMembers: 20_000, maxTotalBytes: 512 * 2 ** 20, maxMemberSize: 128 * 2 ** 20, maxRatio: 200, maxTimeMs: 60_000 });
  });

  test("maxMembers counts files: folders before them do not hide the excess", () => {
    const folders = Array.from({ length: 30 }, (_, i) => ({ name: `d${i}/` }));
    const files = Array.from({ length: 5 }, (_, i) => ({ name: `f${i}`, data: EICAR }));
    const ms = members(zip([...folders, ...files]), { maxMembers: 3 });
    expect(ms.map((m) => [m.name, m.code])).toEqual([
      ["f0", undefined],
      ["f1", undefined],
      ["f2", undefined],
      ["", "archive-members"],
    ]);
    // Only folders beyond the entry bound: still reported, never silently cut.
    const manyFolders = members(zip([...Array.from({ length: 1100 }, (_, i) => ({ name: `d${i}/` })), ...files]), { maxMembers: 3 });
    expect(manyFolders.map((m) => m.code)).toEqual(["archive-members"]);
  });

  test("maxMembers: the first N members, then archive-members (zip, tar, ar)", () => {
    const files = Array.from({ length: 10 }, (_, i) => ({ name: `f${i}`, data: EICAR }));
    for (const data of [zip(files), tar(files), A.ar(files)]) {
      const ms = members(data, { maxMembers: 3 });
      expect(ms.map((m) => m.name)).toEqual(["f0", "f1", "f2", ""]);
      expect(ms[3]!.code).toBe("archive-members");
    }
  });

  test("maxMemberSize and maxRatio on deflate: the cap is zlib's output limit", () => {
    const zeros = new Uint8Array(4 * 2 ** 20); // 4 MiB of zeros deflate about 1000:1
    const z = zip([{ name: "z", data: zeros, method: "deflate" }, { name: "e", data: EICAR }]);
    expect(members(z, { maxMemberSize: 2 ** 20 }).map((m) => [m.name, m.code])).toEqual([
      ["z", "archive-ratio"], // 4 MiB declared from 4 KB: a bomb's ratio, however small the cap
      ["e", undefined],
    ]);
    const bySize = members(z, { maxMemberSize: 2 ** 20, maxRatio: 1e6 });
    expect(bySize.map((m) => [m.name, m.code])).toEqual([
      ["z", "archive-member-size"],
      ["e", undefined],
    ]);
    expect(bySize[0]!.data!.length).toBeLessThanOrEqual(2 ** 20);
    expect(members(z, { maxRatio: 100 }).map((m) => [m.name, m.code])).toEqual([
      ["z", "archive-ratio"],
      ["e", undefined],
    ]);
    // Under the 1 MiB floor the ratio does not apply: a small file of zeros is no bomb.
    expect(members(zip([{ name: "z", data: new Uint8Array(2 ** 20), method: "deflate" }]), { maxRatio: 2 })[0]!.code).toBeUndefined();
  });

  test("a member that lies about its size is still held to the cap by zlib", () => {
    const zeros = new Uint8Array(8 * 2 ** 20);
    const crc = A.crc32(zeros);
    const ms = members(zip([{ name: "liar", data: EICAR, packed: zlib.deflateRawSync(zeros), crc, size: 68, method: "deflate" }]), { maxMemberSize: 2 ** 20 });
    expect(ms.map((m) => [m.name, m.code])).toEqual([["liar", "archive-member-size"]]);
    expect(ms[0]!.data!.length).toBeGreaterThan(0);
    expect(ms[0]!.data!.length).toBeLessThanOrEqual(2 ** 20);
  });

  test("a member over maxMemberSize gives its first part to scan (zip deflate, gzip; zstd: none)", () => {
    // Text that compresses about 3:1: not a bomb, just big. EICAR leads it.
    let seed = 7;
    const words = ["alpha ", "beta ", "gamma ", "delta ", "epsilon ", "zeta ", "eta ", "theta "];
    const text = enc.encode(Array.from({ length: 700_000 }, () => words[(seed = (seed * 1103515245 + 12345) >>> 0) >>> 29]).join(""));
    const big = concat([EICAR, text]);
    expect(big.length).toBeGreaterThan(3 * 2 ** 20);
    // Node's zstd decoder gives nothing for a cut frame, so zstd members over the cap have no part.
    expect(members(A.zstd(big), { maxMemberSize: 2 ** 20 }).map((m) => [m.code, m.data])).toEqual([["archive-member-size", undefined]]);
    for (const data of [zip([{ name: "big", data: big, method: "deflate" }]), gzip(big, "big")]) {
      const ms = members(data, { maxMemberSize: 2 ** 20 });
      expect(ms.map((m) => m.code)).toEqual(["archive-member-size"]);
      const part = ms[0]!.data!;
      expect(part.length).toBeLessThanOrEqual(2 ** 20);
      expect(part.length).toBeGreaterThan(2 ** 18);
      expect(eq(part, big.subarray(0, part.length))).toBe(true);
      expect(isEicar(part.subarray(0, 68))).toBe(true);
    }
  });

  test("maxTotalBytes is shared by every container below one top-level file", () => {
    const inner = zip([{ name: "a", data: new Uint8Array(600) }, { name: "b", data: new Uint8Array(600) }]);
    const t = tree(zip([{ name: "1.zip", data: inner }, { name: "2.zip", data: inner }]), { maxTotalBytes: 3000 });
    expect(t.problems).toEqual(["2.zip: archive-total-size", "2.zip!-: archive-total-size"]);
  });

  test("maxTimeMs: a reader stops with archive-time", () => {
    let clock = 0;
    const budget = createBudget(limits({ maxTimeMs: 5 }), () => (clock += 2));
    const out = [...openContainer("zip", zip(Array.from({ length: 10 }, (_, i) => ({ name: `f${i}`, data: EICAR }))), budget)];
    expect(out.at(-1)!.problem?.code).toBe("archive-time");
    expect(out.length).toBeLessThan(10);
  });
});
