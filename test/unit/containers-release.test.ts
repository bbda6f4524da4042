// Issue 9 (peak RSS): members whose bytes are a buffer of their own (zlib's output, a file out of
// 7z-wasm's in-memory file system) are handed back to the allocator as soon as they are scanned,
// zlib's output is sized by the size the container states, and 7z-wasm's output files grow by
// doubling. None of it may change a byte of what is scanned: members here are compared with the
// bytes that went in, at and across the edges where the buffers grow, and the file stage gives the
// same results for a container as before, its members released or not.
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { deflateRawSync, gzipSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { DEFAULT_LIMITS, createBudget, identify, openContainer, prepareSevenZip, releaseMember } from "../../src/containers";
import { outputCap } from "../../src/containers/budget";
import { decode } from "../../src/containers/inflate";
import type { ContainerFormat, Member } from "../../src/containers/types";
import { createEngine, type YaraEngine } from "../../src/engines/yara/engine";
import { FileStage, type Engines } from "../../src/scan";
import * as A from "../support/archives";
import * as F from "./containers-carriers-fixtures";

const MiB = 1 << 20;
const sha256 = (b: Uint8Array) => createHash("sha256").update(b).digest("hex");

/** Bytes that compress but are not all alike, with a marker at `at` (a deterministic generator). */
function sample(length: number, seed: number, marker?: { at: number; text: string }): Uint8Array {
  const b = new Uint8Array(length);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    b[i] = 0x61 + ((x >>> 0) % 4);
  }
  if (marker) b.set(new TextEncoder().encode(marker.text), marker.at);
  return b;
}

function membersOf(data: Uint8Array, format?: ContainerFormat): Member[] {
  const f = format ?? identify(data);
  if (!f) throw new Error("not a container");
  return [...openContainer(f, data, createBudget(DEFAULT_LIMITS))];
}

describe("zlib's output sized by the stated size: the same bytes whatever the hint", () => {
  const data = sample(300_000, 7);
  const packed = deflateRawSync(data);
  const budget = () => createBudget(DEFAULT_LIMITS);
  test.each<[string, number | undefined, number | undefined]>([
    ["no size", undefined, undefined],
    ["the true size (declared)", data.length, undefined],
    ["the true size (hint)", undefined, data.length],
    ["one byte short", data.length - 1, undefined],
    ["a hint far too small", undefined, 20_000],
    ["a hint past deflate's largest ratio", undefined, 2 ** 31],
    ["a hint of zero", undefined, 0],
    ["the size of a chunk exactly", undefined, 16 << 10],
  ])("%s", (_, declared, hint) => {
    const b = budget();
    const d = decode("deflate-raw", packed, outputCap(b, packed.length), b, "test", declared, hint);
    expect(d.problem).toBeUndefined();
    expect(Buffer.from(d.data!).equals(Buffer.from(data))).toBe(true);
  });

  test("a gzip whose trailer lies about the size: the same member bytes, the same problem", () => {
    const good = gzipSync(data);
    const lying = Uint8Array.from(good);
    new DataView(lying.buffer).setUint32(lying.length - 4, 123, true);
    const [m] = membersOf(lying, "gzip");
    // zlib checks the trailer: the lie is damage, as before, and nothing is scanned twice.
    expect(m!.problem?.code).toBe("archive-corrupt");
    const [g] = membersOf(good, "gzip");
    expect(g!.problem).toBeUndefined();
    expect(sha256(g!.data!)).toBe(sha256(data));
  });
});

describe("owned members", () => {
  const big = sample(200_000, 3);
  const small = sample(1000, 4);

  test("zip: deflated members are their own buffers, stored ones views on the archive", () => {
    const z = A.zip([
      { name: "d.bin", data: big, method: "deflate" },
      { name: "s.bin", data: small, method: "store" },
    ]);
    const [d, s] = membersOf(z);
    expect(d!.owned).toBe(true);
    expect(sha256(d!.data!)).toBe(sha256(big));
    expect(s!.owned).toBeFalsy();
    expect(s!.data!.buffer).toBe(z.buffer);
  });

  test("gzip: the stream's output is owned", () => {
    const [m] = membersOf(gzipSync(big), "gzip");
    expect(m!.owned).toBe(true);
    expect(sha256(m!.data!)).toBe(sha256(big));
  });

  test("releaseMember empties an owned member's buffer, and only that", () => {
    const z = A.zip([
      { name: "d.bin", data: big, method: "deflate" },
      { name: "s.bin", data: big, method: "store" },
    ]);
    const [d, s] = membersOf(z);
    releaseMember(d!);
    expect(d!.data!.length).toBe(0); // detached
    releaseMember(s!); // a view on the archive: left alone
    expect(s!.data!.length).toBe(big.length);
    expect(z.length).toBeGreaterThan(big.length);
  });

  test("small buffers and Buffer's shared pool slabs are never released", () => {
    const pooled = Buffer.from("pooled bytes"); // a slice of Buffer's shared slab
    const neighbour = Buffer.from("a neighbour in the same slab");
    const m: Member = { name: new Uint8Array(0), data: pooled, owned: true };
    releaseMember(m);
    expect(pooled.toString()).toBe("pooled bytes");
    expect(neighbour.toString()).toBe("a neighbour in the same slab");
    const own: Member = { name: new Uint8Array(0), data: new Uint8Array(1000), owned: true };
    releaseMember(own);
    expect(own.data!.length).toBe(1000);
  });
});

describe("7z-wasm's output files grow by doubling past 1 MiB", () => {
  beforeAll(async () => {
    await prepareSevenZip();
  });

  // Sizes at and across the 1 MiB edge where the growth changes hands, and several doublings.
  test.each([MiB - 1, MiB + 1, 3 * MiB + 12_345])("xz of %i bytes: the member is the input, owned", async (size) => {
    const data = sample(size, size);
    const xz = await A.sevenZipCreate("xz", [{ name: "x.bin", data }]);
    const [m] = membersOf(xz, "xz");
    expect(m!.problem).toBeUndefined();
    expect(m!.data!.length).toBe(size);
    expect(sha256(m!.data!)).toBe(sha256(data));
    expect(m!.owned).toBe(true);
  });

  test("a 7z of several large members: each one its own bytes, released one by one", async () => {
    const files = [0, 1].map((i) => ({ name: `f${i}.bin`, data: sample(MiB + 300_000 + i * 100_003, 11 + i) }));
    const z = await A.sevenZipCreate("7z", files);
    const got = membersOf(z, "7z");
    expect(got.map((m) => new TextDecoder().decode(m.name)).sort()).toEqual(["f0.bin", "f1.bin"]);
    const byName = new Map(got.map((m) => [new TextDecoder().decode(m.name), m]));
    for (const f of files) {
      const m = byName.get(f.name)!;
      expect(sha256(m.data!)).toBe(sha256(f.data));
      releaseMember(m);
      expect(m.data!.length).toBe(0);
    }
    // The instance goes on working after its output buffers were released.
    const again = membersOf(await A.sevenZipCreate("7z", [files[0]!]), "7z");
    expect(sha256(again[0]!.data!)).toBe(sha256(files[0]!.data));
  });
});

describe("the file stage over containers whose members are released", () => {
  const RULES = `
rule marker { strings: $a = "MARKER-9c1d" condition: $a }
rule tail_byte { condition: filesize > 100000 and uint8(filesize - 1) == 0x68 }
`;
  let dir: string;
  let yara: YaraEngine;
  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "ring3-release-"));
    const out = createEngine({ mode: "auto", sources: [{ name: "t.yar", text: RULES, namespace: "default" }], defines: {}, perFileExternals: [], timeoutMs: 0 });
    expect(out.errors).toEqual([]);
    yara = out.engine!;
    await prepareSevenZip();
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  const engines = (): Engines => ({ yara, yaraTimeoutMs: 0, maxFilesize: 128 * MiB, reportClean: true, limits: DEFAULT_LIMITS });
  const scan = (name: string, data: Uint8Array, stage = new FileStage(engines())) => {
    const p = path.join(dir, name);
    fs.writeFileSync(p, data);
    return stage.scan({ path: Buffer.from(p), root: dir, follow: false });
  };
  const summary = (r: ReturnType<typeof scan>) =>
    r.members.map((m) => ({ at: m.members!.join("!"), verdict: m.verdict, size: m.size, sha256: m.hashes.sha256, rules: m.findings.map((f) => f.rule).sort() }));

  test("members found, hashed and sized as their bytes say, in a zip, a tar.gz and a tar.xz", async () => {
    const withMarker = sample(300_000, 21, { at: 299_000, text: "MARKER-9c1d" });
    const tailH = sample(150_000, 22);
    tailH[tailH.length - 1] = 0x68;
    const plain = sample(70_000, 23);
    const entries = [
      { name: "a/marker.bin", data: withMarker },
      { name: "a/tail.bin", data: tailH },
      { name: "a/plain.bin", data: plain },
    ];
    const want = [
      { at: "a/marker.bin", verdict: "detected", size: withMarker.length, sha256: sha256(withMarker), rules: ["marker"] },
      { at: "a/tail.bin", verdict: "detected", size: tailH.length, sha256: sha256(tailH), rules: ["tail_byte"] },
      { at: "a/plain.bin", verdict: "clean", size: plain.length, sha256: sha256(plain), rules: [] },
    ];
    const stage = new FileStage(engines());
    const z = scan("p.zip", A.zip(entries.map((e) => ({ ...e, method: "deflate" as const }))), stage);
    expect(summary(z)).toEqual(want);
    expect(z.result).toMatchObject({ verdict: "detected", container: { members: 3, detected: 2, incomplete: 0 } });
    const tgz = scan("p.tgz", gzipSync(A.tar(entries)), stage);
    expect(summary(tgz)).toEqual(want);
    expect(tgz.result.container).toMatchObject({ format: ["gzip", "tar"], members: 3, detected: 2 });
    const txz = scan("p.tar.xz", await A.sevenZipCreate("xz", [{ name: "p.tar", data: A.tar(entries) }]), stage);
    expect(summary(txz)).toEqual(want);
    // The same container again, after the releases: the same answers (nothing kept a released buffer).
    expect(summary(scan("p2.zip", A.zip(entries.map((e) => ({ ...e, method: "deflate" as const }))), stage))).toEqual(want);
  });

  test("a compound file's streams are read again after they are yielded: never released", () => {
    // A PowerPoint stream over 64 KiB (a padding record first), its object after the padding.
    const pad = new Uint8Array(8 + 100_000);
    new DataView(pad.buffer).setUint32(4, 100_000, true);
    const object = sample(5_000, 41, { at: 4_000, text: "MARKER-9c1d" });
    const stream = Uint8Array.from([...pad, ...F.pptDocument(object)]);
    const r = scan("deck.ppt", F.cfb([{ path: "PowerPoint Document", data: stream }]));
    const found = r.members.filter((m) => m.verdict === "detected").map((m) => m.members!.join("!"));
    expect(found).toEqual(["PowerPoint Document.object-1"]);
  });

  test("a zip inside a zip: the outer member is released only after what is inside it", () => {
    // Over 64 KiB unpacked (a stored member pads it): large enough to be released.
    const inner = A.zip([
      { name: "deep.bin", data: sample(120_000, 31, { at: 100, text: "MARKER-9c1d" }), method: "deflate" },
      { name: "pad.bin", data: sample(80_000, 33), method: "store" },
    ]);
    const outer = A.zip([
      { name: "inner.zip", data: inner, method: "deflate" },
      { name: "after.bin", data: sample(90_000, 32, { at: 89_000, text: "MARKER-9c1d" }), method: "deflate" },
    ]);
    const r = scan("nest.zip", outer);
    const found = r.members.filter((m) => m.verdict === "detected").map((m) => m.members!.join("!"));
    expect(found).toEqual(["inner.zip!deep.bin", "after.bin"]);
  });
});
