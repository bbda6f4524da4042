// The per-file stage (src/scan/file.ts) on files this test writes: a file plus options in, the
// file's result and its members' results out. Table-style: verdicts with reasons, the hashes a
// result shows, --max-filesize, containers and their members, files replaced before they are
// opened (FIFO, symlink), files that cannot be read, and engine failures.
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { gzipSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DEFAULT_LIMITS } from "../../src/containers";
import { HashDb } from "../../src/engines/hash/db";
import { createEngine, emptyStats, type YaraEngine } from "../../src/engines/yara/engine";
import { EngineTrap, FileStage, type Engines, type FileInput, type Inspected } from "../../src/scan";
import type { FileHashes, ScanResult } from "../../src/types";

const RULES = `
rule marker { strings: $a = "MARKER-7f3a" condition: $a }
rule mid_byte { condition: uint8(0) == 0x41 and uint8(150000) == 0x41 }
rule elf_head { condition: uint32(0) == 0x464c457f }
`;
const HASHED = Buffer.from("listed by hash\n");
const sha256 = (b: Uint8Array) => createHash("sha256").update(b).digest("hex");
const md5 = (b: Uint8Array) => createHash("md5").update(b).digest("hex");
const sha1 = (b: Uint8Array) => createHash("sha1").update(b).digest("hex");

let dir: string;
let yara: YaraEngine;
const hashDb = HashDb.build([{ name: "t.hsb", text: `${sha256(HASHED)}:${HASHED.length}:Listed.File\n` }]);

beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "ring3-stage-"));
  const out = createEngine({ mode: "auto", sources: [{ name: "t.yar", text: RULES, namespace: "default" }], defines: {}, perFileExternals: [], timeoutMs: 0 });
  expect(out.errors).toEqual([]);
  yara = out.engine!;
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

function write(name: string, data: string | Uint8Array): string {
  const p = path.join(dir, name);
  fs.mkdirSync(path.dirname(p), { recursive: true });
  fs.writeFileSync(p, data);
  return p;
}
const input = (p: string, follow = false): FileInput => ({ path: Buffer.from(p), root: dir, follow });
function engines(patch: Partial<Engines> = {}): Engines {
  return { hashDb, yara, yaraTimeoutMs: 0, maxFilesize: 64 << 10, reportClean: false, limits: DEFAULT_LIMITS, ...patch };
}
const scan = (p: string, patch: Partial<Engines> = {}, follow = false): Inspected => new FileStage(engines(patch)).scan(input(p, follow));

/** Big enough to be over a 64 KiB --max-filesize, with bytes at fixed places. */
function big(fill: number, at: Record<number, string | number[]>): Buffer {
  const b = Buffer.alloc(300_000, fill);
  for (const [o, v] of Object.entries(at)) (typeof v === "string" ? Buffer.from(v) : Buffer.from(v)).copy(b, Number(o));
  return b;
}

interface Want {
  verdict: ScanResult["verdict"];
  reason?: string;
  rules?: string[];
  hashes?: (keyof FileHashes)[];
  size?: number | null;
}

describe("FileStage: one file in, its result out", () => {
  const table: [string, () => string, Partial<Engines>, Want][] = [
    ["clean text", () => write("clean.txt", "nothing here\n"), {}, { verdict: "clean", rules: [], hashes: [], size: 13 }],
    ["clean with --all shows SHA-256", () => write("clean-all.txt", "nothing here\n"), { reportClean: true }, { verdict: "clean", hashes: ["sha256"] }],
    ["empty file", () => write("empty", ""), {}, { verdict: "clean", size: 0, hashes: [] }],
    ["YARA finding: all three digests", () => write("m.txt", "xx MARKER-7f3a yy"), {}, { verdict: "detected", rules: ["marker"], hashes: ["md5", "sha1", "sha256"] }],
    ["hash-list finding", () => write("listed.txt", HASHED), {}, { verdict: "detected", rules: ["Listed.File"], hashes: ["md5", "sha1", "sha256"] }],
    ["same size, other bytes: hashed for the list, clean", () => write("same-size.txt", Buffer.alloc(HASHED.length, 0x61)), {}, { verdict: "clean", hashes: ["sha256"] }],
    ["condition on the header", () => write("elf.bin", Buffer.from([0x7f, 0x45, 0x4c, 0x46, 1, 2])), {}, { verdict: "detected", rules: ["elf_head"] }],
    ["over --max-filesize, every rule decided: clean", () => write("big-clean.bin", big(0, {})), {}, { verdict: "clean", hashes: ["sha256"], size: 300_000 }],
    ["over --max-filesize, marker in the middle: detected", () => write("big-marker.bin", big(0, { 200_000: "MARKER-7f3a" })), {}, { verdict: "detected", rules: ["marker"] }],
    ["over --max-filesize, a read mid-file: decided through positioned reads", () => write("big-mid.bin", big(0x41, {})), {}, { verdict: "detected", rules: ["mid_byte"] }],
    ["over --max-filesize without YARA: hashed only", () => write("big-noyara.bin", big(0, {})), { yara: undefined }, { verdict: "partial", reason: "max-filesize", hashes: ["sha256"] }],
    [
      "a plain file of 16 MiB or more under --max-filesize: streamed, marker past 16 MiB detected",
      () => write("huge.bin", Buffer.concat([Buffer.alloc(17 << 20), Buffer.from("MARKER-7f3a")])),
      { maxFilesize: 64 << 20 },
      { verdict: "detected", rules: ["marker"], size: (17 << 20) + 11 },
    ],
    ["under a larger --max-filesize: whole, the mid-file read decided", () => write("big-mid2.bin", big(0x41, {})), { maxFilesize: 1 << 20 }, { verdict: "detected", rules: ["mid_byte"] }],
    ["over --max-filesize, a container: not opened, partial", () => write("big.gz", gzipSync(big(0, {}), { level: 0 })), { maxFilesize: 1000 }, { verdict: "partial", reason: "max-filesize" }],
    // fstat says 0 bytes; reading finds more: the file is what the read pass saw, digests included.
    ["a file longer than fstat said", () => "/proc/self/cmdline", { reportClean: true }, { verdict: "clean", hashes: ["sha256"], size: fs.readFileSync("/proc/self/cmdline").length }],
    ["... and past --max-filesize while being read: streamed on", () => "/proc/self/cmdline", { maxFilesize: 10 }, { verdict: "clean", hashes: ["sha256"], size: fs.readFileSync("/proc/self/cmdline").length }],
    ["... the same without YARA: hashed only", () => "/proc/self/cmdline", { maxFilesize: 10, yara: undefined }, { verdict: "partial", reason: "max-filesize", hashes: ["sha256"] }],
    ["missing file", () => path.join(dir, "no-such-file"), {}, { verdict: "skipped", reason: "vanished", size: null, hashes: [] }],
    ["unreadable (EIO on read)", () => "/proc/self/mem", {}, { verdict: "error", reason: "io-error", size: null }],
  ];
  it.each(table)("%s", (_name, make, patch, want) => {
    const p = make();
    const { result } = scan(p, patch);
    expect(result.verdict).toBe(want.verdict);
    expect(result.reason?.code).toBe(want.reason);
    if (want.rules) expect(result.findings.map((f) => f.rule).sort()).toEqual(want.rules);
    if (want.hashes) expect(Object.keys(result.hashes).sort()).toEqual([...want.hashes].sort());
    if (want.size !== undefined) expect(result.size).toBe(want.size);
    expect(result.path).toBe(p);
    expect(result.ms).toBeGreaterThanOrEqual(0);
    // Every digest shown is the file's own.
    if (result.hashes.sha256 && want.verdict !== "error") {
      const bytes = fs.readFileSync(p);
      expect(result.hashes.sha256).toBe(sha256(bytes));
      if (result.hashes.md5) expect(result.hashes.md5).toBe(md5(bytes));
      if (result.hashes.sha1) expect(result.hashes.sha1).toBe(sha1(bytes));
    }
  });

  it("a file swapped for a FIFO after the walk: skipped, never blocks", () => {
    const p = path.join(dir, "fifo");
    execFileSync("mkfifo", [p]);
    const { result } = scan(p);
    expect(result).toMatchObject({ verdict: "skipped", reason: { code: "not-regular" }, size: null });
    expect(result.reason!.message).toMatch(/FIFO/);
  });

  it("a file swapped for a symlink: skipped unless links are followed", () => {
    const target = write("target.txt", "MARKER-7f3a");
    const p = path.join(dir, "link.txt");
    fs.symlinkSync(target, p);
    expect(scan(p).result).toMatchObject({ verdict: "skipped", reason: { code: "symlink" } });
    const followed = scan(p, {}, true).result;
    expect(followed).toMatchObject({ verdict: "detected", path: p });
    expect(followed.findings.map((f) => f.rule)).toEqual(["marker"]);
  });

  it("a directory where a file was: skipped, not-regular", () => {
    fs.mkdirSync(path.join(dir, "now-a-dir"));
    expect(scan(path.join(dir, "now-a-dir")).result).toMatchObject({ verdict: "skipped", reason: { code: "not-regular" } });
  });
});

describe("FileStage: members of containers", () => {
  it("a member's finding: the member detected, the file detected through it", () => {
    const p = write("pkg/notes.txt.gz", gzipSync(Buffer.from("a MARKER-7f3a b")));
    const { result, members } = scan(p);
    expect(result).toMatchObject({ verdict: "detected", findings: [], container: { format: ["gzip"], members: 1, detected: 1, incomplete: 0 } });
    expect(Object.keys(result.hashes).sort()).toEqual(["md5", "sha1", "sha256"]);
    expect(members).toHaveLength(1);
    expect(members[0]).toMatchObject({ verdict: "detected", path: p, members: ["notes.txt"], size: 15 });
    expect(members[0]!.findings.map((f) => f.rule)).toEqual(["marker"]);
    expect(members[0]!.hashes.sha256).toBe(sha256(Buffer.from("a MARKER-7f3a b")));
  });

  it("clean members are answered only with --all (reportClean)", () => {
    const p = write("pkg/clean.txt.gz", gzipSync(Buffer.from("nothing")));
    expect(scan(p).members).toEqual([]);
    const all = scan(p, { reportClean: true });
    expect(all.result.verdict).toBe("clean");
    expect(all.members).toMatchObject([{ verdict: "clean", members: ["clean.txt"] }]);
  });

  it("a member over --max-filesize: hashed, not matched; the file partial", () => {
    const inner = big(0, { 10: "MARKER-7f3a" });
    const p = write("pkg/big.bin.gz", gzipSync(inner));
    const { result, members } = scan(p, { maxFilesize: 200_000 });
    expect(result).toMatchObject({ verdict: "partial", reason: { code: "max-filesize" }, container: { members: 1, detected: 0, incomplete: 1 } });
    expect(members).toMatchObject([{ verdict: "partial", reason: { code: "max-filesize" }, findings: [] }]);
    expect(members[0]!.hashes.sha256).toBe(sha256(inner));
  });

  it("with --no-archives a container is plain bytes", () => {
    const p = write("pkg/plain.gz", gzipSync(Buffer.from("MARKER-7f3a")));
    const { result, members } = scan(p, { limits: null });
    expect(result).toMatchObject({ verdict: "clean" });
    expect(result.container).toBeUndefined();
    expect(members).toEqual([]);
  });
});

describe("FileStage: engine failures", () => {
  const failing = (message: string): YaraEngine => ({
    scan: () => {
      throw new Error(message);
    },
    begin: () => ({
      feed: () => {},
      end: () => {
        throw new Error(message);
      },
    }),
    stats: () => emptyStats("auto"),
  });

  it("a YARA timeout: partial (timeout), the hash lists still apply", () => {
    const p = write("t/listed.txt", HASHED);
    const { result } = scan(p, { yara: failing("scan timeout") });
    expect(result).toMatchObject({ verdict: "detected", reason: { code: "timeout" } });
    const q = write("t/other.txt", "x");
    expect(scan(q, { yara: failing("scan timeout") }).result).toMatchObject({ verdict: "partial", reason: { code: "timeout" } });
  });

  it("any other engine failure is a trap: the stage throws it for the pool to retry elsewhere", () => {
    const p = write("t/trap.txt", "x");
    expect(() => scan(p, { yara: failing("unreachable") })).toThrow(EngineTrap);
  });
});

describe("FileStage: reuse across files", () => {
  it("one stage gives each file its own answer, whatever came before (buffers reused)", () => {
    const stage = new FileStage(engines({ reportClean: true }));
    const files = [write("r/a.bin", big(0, { 5: "MARKER-7f3a" })), write("r/b.txt", "short"), write("r/c.txt", "MARKER-7f3a"), write("r/d.txt", "")];
    for (let round = 0; round < 2; round++) {
      const out = files.map((f) => stage.scan(input(f)).result);
      expect(out.map((r) => r.verdict)).toEqual(["detected", "clean", "detected", "clean"]);
      expect(out.map((r) => r.size)).toEqual([300_000, 5, 11, 0]);
      out.forEach((r, i) => expect(r.hashes.sha256).toBe(sha256(fs.readFileSync(files[i]!))));
    }
  });
});
