// The formats read through 7z-wasm (7z, xz, bzip2, cab, cpio, rpm, iso): EICAR found in each and
// three deep, hostile names kept inside the in-memory file system, encrypted and corrupted
// archives, budgets enforced by refusing 7-Zip's writes, and the instance surviving 7-Zip's
// escaped C++ exceptions. Fixtures: 7z-wasm itself (7z, xz, bzip2) and hand-written bytes.
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { beforeAll, describe, expect, test } from "vitest";
import { DEFAULT_LIMITS, createBudget, identify, openContainer, prepareSevenZip, sevenZipReady } from "../../src/containers";
import { sevenZipStats } from "../../src/containers/sevenzip";
import type { ContainerFormat, Limits } from "../../src/containers/types";
import * as A from "../support/archives";
import { oracleCompile } from "../support/yarax-oracle";

const { EICAR, concat } = A;
const dec = new TextDecoder();
const enc = new TextEncoder();
const oracle = oracleCompile(`rule eicar { strings: $a = "${dec.decode(EICAR).replace(/\\/g, "\\\\")}" condition: $a at 0 and filesize < 128 }`);
const isEicar = (d: Uint8Array) => oracle.scan(d).some((m) => m.rule === "eicar");
const leaf = { name: "eicar.com", data: EICAR };

function members(data: Uint8Array, over: Partial<Limits> = {}, format?: ContainerFormat) {
  const f = format ?? identify(data);
  if (!f) throw new Error("not a container");
  return [...openContainer(f, data, createBudget({ ...DEFAULT_LIMITS, ...over }))].map((m) => ({ name: dec.decode(m.name), data: m.data, code: m.problem?.code }));
}

function tree(data: Uint8Array, over: Partial<Limits> = {}) {
  const lim = { ...DEFAULT_LIMITS, ...over };
  const budget = createBudget(lim);
  const out = { eicar: [] as string[], problems: [] as string[], formats: [] as string[] };
  const visit = (bytes: Uint8Array, p: string[]) => {
    const f = identify(bytes);
    if (f === null) return void (isEicar(bytes) && out.eicar.push(p.join("!")));
    out.formats.push(f);
    for (const m of openContainer(f, bytes, budget)) {
      const here = [...p, dec.decode(m.name) || "-"];
      if (m.problem) out.problems.push(`${here.join("!")}: ${m.problem.code}`);
      if (m.data) visit(m.data, here);
    }
  };
  visit(data, []);
  return out;
}

beforeAll(async () => {
  await prepareSevenZip();
});

describe("each format with an EICAR member", () => {
  test.each<[string, () => Promise<Uint8Array> | Uint8Array, ContainerFormat, string[]]>([
    ["7z", () => A.sevenZipCreate("7z", [{ name: "dir/eicar.com", data: EICAR }]), "7z", ["dir/eicar.com"]],
    ["xz", () => A.sevenZipCreate("xz", [leaf]), "xz", ["-"]],
    ["bzip2", () => A.sevenZipCreate("bzip2", [leaf]), "bzip2", ["-"]],
    ["cab", () => A.cab([leaf, { name: "b.txt", data: enc.encode("b") }]), "cab", ["eicar.com"]],
    ["cpio", () => A.cpio([leaf]), "cpio", ["eicar.com"]],
    ["iso", () => A.iso("eicar.com", EICAR), "iso", ["EICAR.COM"]],
    ["rpm (payload: gzip'd cpio)", () => A.rpm([leaf]), "rpm", ["eicar.i386.cpio!eicar.com"]],
    ["msi (OLE compound file)", () => A.ole("eicar.com", EICAR), "msi", ["eicar.com"]],
  ])("%s", async (_, make, format, where) => {
    const data = await make();
    expect(identify(data)).toBe(format);
    const t = tree(data);
    expect(t.problems).toEqual([]);
    expect(t.eicar).toEqual(where);
  });
});

test.each([
  ["BZip2", 12],
  ["Deflate64", 9],
  ["LZMA", 14],
  ["PPMd", 98],
])("zip members compressed with %s (method %i) are unpacked by 7-Zip, one member at a time", async (mm, method) => {
  const text = enc.encode("all work and no play ".repeat(5000));
  const z = await A.sevenZipCreate("zip", [leaf, { name: "text.txt", data: text }], { args: [`-mm=${mm}`] });
  const second = z.findIndex((b, i) => i > 4 && b === 0x50 && z[i + 1] === 0x4b && z[i + 2] === 3 && z[i + 3] === 4);
  expect(new DataView(z.buffer, z.byteOffset).getUint16(second + 8, true)).toBe(method); // text.txt's method
  const ms = members(z);
  expect(ms.map((m) => [m.name, m.code])).toEqual([
    ["eicar.com", undefined],
    ["text.txt", undefined],
  ]);
  expect(isEicar(ms[0]!.data!)).toBe(true);
  expect(Buffer.from(ms[1]!.data!).equals(Buffer.from(text))).toBe(true);
  // A damaged member through the same path: corrupt, and its neighbour still read.
  const bad = z.slice();
  for (let i = second + 60; i < second + 80; i++) bad[i] ^= 0x55;
  expect(members(bad).map((m) => [m.name, m.code])).toEqual([
    ["eicar.com", undefined],
    ["text.txt", "archive-corrupt"],
  ]);
});

test("every byte value comes back exactly (MEMFS holds what 7-Zip wrote as signed bytes)", async () => {
  const all = Uint8Array.from({ length: 4096 }, (_, i) => (i * 131) & 0xff);
  for (const type of ["7z", "xz", "bzip2"]) {
    const ms = members(await A.sevenZipCreate(type, [{ name: "all.bin", data: all }]));
    expect(ms.length).toBe(1);
    expect(ms[0]!.data).toBeInstanceOf(Uint8Array);
    expect(Buffer.from(ms[0]!.data!).equals(Buffer.from(all))).toBe(true);
  }
});

describe("three deep below each 7z-wasm format: X > zip > tar.gz > EICAR", () => {
  const inner = () => A.zip([{ name: "in.tgz", data: A.gzip(A.tar([leaf]), "in.tar"), method: "deflate" }]);
  const below = "in.tgz!in.tar!eicar.com";
  test.each<[string, () => Promise<Uint8Array> | Uint8Array, string]>([
    ["7z", () => A.sevenZipCreate("7z", [{ name: "a.zip", data: inner() }]), "a.zip"],
    ["xz", () => A.sevenZipCreate("xz", [{ name: "a.zip", data: inner() }]), "-"],
    ["bzip2", () => A.sevenZipCreate("bzip2", [{ name: "a.zip", data: inner() }]), "-"],
    ["cab", () => A.cab([{ name: "a.zip", data: inner() }]), "a.zip"],
    ["cpio", () => A.cpio([{ name: "a.zip", data: inner() }]), "a.zip"],
    ["iso", () => A.iso("a.zip", inner()), "A.ZIP"],
    ["rpm", () => A.rpm([{ name: "a.zip", data: inner() }]), "eicar.i386.cpio!a.zip"],
    ["msi", () => A.ole("a.zip", inner()), "a.zip"],
  ])("%s", async (_, make, first) => {
    const t = tree(await make());
    expect(t.problems).toEqual([]);
    expect(t.eicar).toEqual([`${first}!${below}`]);
  });
});

test("three deep: 7z > tar.xz > zip > EICAR", async () => {
  const z = A.zip([leaf]);
  const txz = await A.sevenZipCreate("xz", [{ name: "inner.tar", data: A.tar([{ name: "app.zip", data: z }]) }]);
  const outer = await A.sevenZipCreate("7z", [{ name: "pkg.tar.xz", data: txz }]);
  const t = tree(outer);
  expect(t.eicar).toEqual(["pkg.tar.xz!-!app.zip!eicar.com"]);
  expect(t.formats).toEqual(["7z", "xz", "tar", "zip"]);
});

test("hostile names stay inside the in-memory file system; nothing appears on disk", () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "ring3-7z-"));
  const cwd = process.cwd();
  process.chdir(dir);
  try {
    const names = ["../../escape-" + process.pid, "/tmp/abs-" + process.pid, "a/../../../up-" + process.pid, "ok"];
    const ms = members(A.cpio(names.map((name) => ({ name, data: EICAR }))));
    // 7-Zip strips ../ and leading slashes; every member is still read, by walking the output.
    expect(ms.length).toBe(4);
    expect(ms.every((m) => m.code === undefined && isEicar(m.data!))).toBe(true);
    expect(ms.every((m) => !m.name.startsWith("/") && !m.name.split("/").includes(".."))).toBe(true);
    expect(fs.readdirSync(dir)).toEqual([]);
    expect(fs.existsSync(`/tmp/abs-${process.pid}`)).toBe(false);
    expect(fs.existsSync(path.join(os.tmpdir(), `escape-${process.pid}`))).toBe(false);
  } finally {
    process.chdir(cwd);
    fs.rmSync(dir, { recursive: true });
  }
});

describe("encrypted and damaged", () => {
  test("encrypted 7z: data only, and names too (-mhe)", async () => {
    const dataOnly = await A.sevenZipCreate("7z", [leaf], { password: "secret" });
    expect(members(dataOnly).map((m) => m.code)).toContain("archive-encrypted");
    const names = await A.sevenZipCreate("7z", [leaf], { password: "secret", encryptNames: true });
    expect(members(names).map((m) => [m.name, m.code])).toEqual([["", "archive-encrypted"]]);
  });

  test("corrupted and truncated 7z are archive-corrupt; process.exitCode is left alone", async () => {
    const good = await A.sevenZipCreate("7z", [leaf, { name: "b.txt", data: enc.encode("b".repeat(5000)) }]);
    const bad = good.slice();
    for (let i = 40; i < 60; i++) bad[i] ^= 0xff;
    process.exitCode = undefined;
    expect(members(bad).map((m) => m.code)).toContain("archive-corrupt");
    expect(members(good.subarray(0, good.length - 30), {}, "7z").map((m) => m.code)).toContain("archive-corrupt");
    expect(members(enc.encode("7z\xbc\xaf\x27\x1c garbage"), {}, "7z").map((m) => m.code)).toEqual(["archive-corrupt"]);
    expect(process.exitCode).toBeUndefined();
  });

  test("100 failing calls in a row: the instance survives 7-Zip's escaped exceptions", async () => {
    const good = await A.sevenZipCreate("7z", [leaf]);
    const bad = good.slice();
    for (let i = 40; i < 60; i++) bad[i] ^= 0xff;
    await sevenZipReady();
    const created = sevenZipStats().created;
    for (let i = 0; i < 100; i++) expect(members(bad).some((m) => m.code === "archive-corrupt")).toBe(true);
    // No instance was retired: each failure was followed by a passing health probe.
    expect(sevenZipStats().created).toBe(created);
    const ms = members(good);
    expect(ms.map((m) => [m.name, m.code])).toEqual([["eicar.com", undefined]]);
    expect(isEicar(ms[0]!.data!)).toBe(true);
    await sevenZipReady();
    expect(sevenZipStats().ready).toBe(2);
  });
});

test("damaged 7z, xz, bzip2, cab, cpio, rpm, iso, msi: 250 random changes each, never a throw, and 7-Zip recovers without a pause", async () => {
  const seven = await A.sevenZipCreate("7z", [leaf, { name: "t.txt", data: enc.encode("t".repeat(3000)) }]);
  const fixtures = [seven, await A.sevenZipCreate("xz", [leaf]), await A.sevenZipCreate("bzip2", [leaf]), A.cab([leaf]), A.cpio([leaf]), A.rpm([leaf]), A.iso("e", EICAR), A.ole("e", EICAR)];
  let seed = 4242;
  const next = () => (seed = (seed * 1103515245 + 12345) >>> 0);
  for (const good of fixtures) {
    const format = identify(good)!;
    const lo = format === "iso" ? 16 * 2048 : 0; // the image's first 32 KiB are unused
    for (let i = 0; i < 250; i++) {
      const bad = good.slice();
      for (let j = 0, n = 1 + (next() % 4); j < n; j++) bad[lo + (next() % (bad.length - lo))] = next() & 0xff;
      expect(() => members(bad, {}, format)).not.toThrow();
    }
    // No await in between: the instance was reset after each failure, not replaced.
    expect(members(seven).map((m) => [m.name, m.code])).toEqual([
      ["eicar.com", undefined],
      ["t.txt", undefined],
    ]);
  }
});

describe("budgets through the write hook", () => {
  test("maxMemberSize, maxRatio and maxTotalBytes stop 7-Zip mid-member; the next call works", async () => {
    const zeros = await A.sevenZipCreate("7z", [leaf, { name: "zeros.bin", data: new Uint8Array(20 * 2 ** 20) }]);
    expect(zeros.length).toBeLessThan(20_000);
    const bySize = members(zeros, { maxMemberSize: 2 ** 20 });
    expect(bySize.find((m) => m.name === "eicar.com")?.code).toBeUndefined();
    expect(bySize.find((m) => m.name === "zeros.bin")?.code).toBe("archive-member-size");
    expect(bySize.find((m) => m.name === "zeros.bin")!.data!.length).toBeLessThanOrEqual(2 ** 20);
    expect(members(zeros).find((m) => m.name === "zeros.bin")?.code).toBe("archive-ratio"); // 20 MiB from 3 KB
    expect(members(zeros, { maxTotalBytes: 2 ** 20, maxRatio: 1e9 }).find((m) => m.name === "zeros.bin")?.code).toBe("archive-total-size");
    expect(members(zeros, { maxRatio: 1e9 }).map((m) => [m.name, m.code, m.data?.length])).toEqual([
      ["eicar.com", undefined, 68],
      ["zeros.bin", undefined, 20 * 2 ** 20],
    ]);
  });

  test("a header asking for a 1 GiB dictionary fails on the heap cap instead of allocating it", async () => {
    const xz = await A.sevenZipCreate("xz", [leaf]);
    const headerSize = (xz[12]! + 1) * 4; // the block header follows the 12-byte stream header
    const prop = xz.subarray(12, 12 + headerSize).findIndex((b, i, h) => b === 0x21 && h[i + 1] === 0x01) + 12 + 2; // LZMA2's property byte
    for (const [dict, code] of [
      [16, undefined], // 1 MiB: fine
      [34, "archive-unsupported"], // 512 MiB
      [36, "archive-unsupported"], // 1 GiB
    ] as const) {
      const patched = xz.slice();
      patched[prop] = dict;
      new DataView(patched.buffer).setUint32(12 + headerSize - 4, A.crc32(patched.subarray(12, 12 + headerSize - 4)), true);
      const ms = members(patched);
      expect(ms.map((m) => m.code)).toEqual([code]);
      expect(Math.max(...sevenZipStats().heapBytes)).toBeLessThanOrEqual(384 * 2 ** 20);
    }
    expect(isEicar(members(xz)[0]!.data!)).toBe(true);
  });

  test("maxMembers", async () => {
    const many = await A.sevenZipCreate("7z", Array.from({ length: 8 }, (_, i) => ({ name: `f${i}`, data: enc.encode(`file ${i}`) })));
    const ms = members(many, { maxMembers: 3 });
    expect(ms.filter((m) => m.data).length).toBeLessThanOrEqual(3);
    expect(ms.map((m) => m.code)).toContain("archive-members");
  });

  test("an xz of zeros (16 MiB from about 2 KB) ends on the ratio budget", async () => {
    const xz = await A.sevenZipCreate("xz", [{ name: "z", data: new Uint8Array(16 * 2 ** 20) }]);
    const t0 = performance.now();
    const ms = members(xz);
    expect(ms.map((m) => m.code)).toEqual(["archive-ratio"]);
    expect(performance.now() - t0).toBeLessThan(5000);
    const heaps = sevenZipStats().heapBytes;
    expect(Math.max(...heaps)).toBeLessThanOrEqual(400 * 2 ** 20);
  });
});

test("without prepareSevenZip() a 7z-read format is archive-unsupported, not a crash (fresh module)", async () => {
  const { vi } = await import("vitest");
  vi.resetModules();
  const fresh = await import("../../src/containers");
  const out = [...fresh.openContainer("cab", A.cab([leaf]), fresh.createBudget(DEFAULT_LIMITS))];
  expect(out.map((m) => m.problem?.code)).toEqual(["archive-unsupported"]);
  const bz = A.zip([{ name: "bz", data: EICAR, method: 12, packed: new Uint8Array(40) }]);
  expect([...fresh.openContainer("zip", bz, fresh.createBudget(DEFAULT_LIMITS))].map((m) => m.problem?.code)).toEqual(["archive-unsupported"]);
  void concat;
});
