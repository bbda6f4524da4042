// End to end: files larger than --max-filesize go through the fast path in chunks (the matcher over
// overlapping windows), and the conditions and modules read the file back through positioned reads
// (no whole file in memory), so rules get the answers they get on the file whole. Markers sit across the read-chunk
// (1 MiB) and matcher-window (8 MiB) boundaries and at the very end; the same files scanned whole
// in memory with --engine yara-x (the oracle) must give the same findings and offsets.
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildPe } from "../unit/yara-module-pe-fixtures";
import { BIN, json, ring3, tempDir, write, type Json } from "./helpers";

const MARK = "RING3-LARGE-MARKER";
const MiB = 1 << 20;
const RULES = `
rule large_marker { strings: $m = "${MARK}" condition: $m }
rule large_tail { condition: uint32be(filesize - 4) == 0x4b455221 }
`;

let dir: string;
let rules: string;
beforeAll(() => {
  dir = tempDir();
  rules = write(dir, "large.yar", RULES);
});
afterAll(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

/** A sparse file of `size` zero bytes with `text` written at each offset. */
function sparse(name: string, size: number, parts: [number, string | Buffer][]): string {
  const p = path.join(dir, name);
  fs.writeFileSync(p, "");
  fs.truncateSync(p, size);
  const fd = fs.openSync(p, "r+");
  try {
    for (const [at, text] of parts) fs.writeSync(fd, typeof text === "string" ? Buffer.from(text, "latin1") : text, 0, undefined, at);
  } finally {
    fs.closeSync(fd);
  }
  return p;
}

function findings(r: Json): { rule: string; strings: { offset: number; length: number }[] }[] {
  return r.findings.map((f: Json) => ({ rule: f.rule, strings: f.strings.map((s: Json) => ({ offset: s.offset, length: s.length })) }));
}

describe("files over --max-filesize, fast path", () => {
  it("finds strings across chunk and window boundaries and at the end, as YARA-X does on the whole file", () => {
    const size = 20 * MiB + 123;
    // The first matcher window owns starts below 8 MiB + 64 (its step plus the overlap before it).
    const at = [MiB - 5, 8 * MiB - 3, 8 * MiB + 64 - 7, 16 * MiB + 128 - 9, size - MARK.length - 4];
    const p = sparse("twenty.bin", size, [...at.map((o): [number, string] => [o, MARK]), [size - 4, "KER!"]]);
    const run = ring3(["scan", "--format", "json", "--rules", rules, "--max-filesize", "1M", p]);
    expect(run.code, run.stderr).toBe(1);
    const r = json(run).results[0];
    expect(r).toMatchObject({ verdict: "detected", size });
    expect(r.reason).toBeUndefined();
    expect(findings(r)).toEqual([
      { rule: "large_marker", strings: at.map((offset) => ({ offset, length: MARK.length })) },
      { rule: "large_tail", strings: [] },
    ]);
    // The oracle: the whole file in memory, every rule in YARA-X.
    const whole = ring3(["scan", "--format", "json", "--rules", rules, "--engine", "yara-x", "--max-filesize", "64M", p]);
    expect(whole.code, whole.stderr).toBe(1);
    expect(findings(json(whole).results[0])).toEqual(findings(r));
  });

  it("decides reads anywhere in the file and module fields exactly, as on the file whole", () => {
    const p = sparse("mz.bin", 5 * MiB, [[0, "MZ"], [(5 * MiB) / 2, Buffer.from([1, 0, 0, 0])]]);
    const clean = ring3(["scan", "--format", "json", "--max-filesize", "1M", p]);
    expect(clean.code, clean.stderr).toBe(0);
    // Clean files are not listed without --all: the summary counts it.
    expect(json(clean).summary).toMatchObject({ files: 1, clean: 1, partial: 0, incomplete: 0, reasons: {} });

    // A read in the middle of the file, far past the first chunk: decided (true), no partial.
    const mid = write(dir, "mid.yar", "rule mid_read { condition: uint32(filesize \\ 2) == 1 }\nrule mid_other { condition: uint32(filesize \\ 2 + 4) == 1 }\n");
    const m = ring3(["scan", "--format", "json", "--rules", mid, "--max-filesize", "1M", p]);
    expect(m.code, m.stderr).toBe(1);
    const mr = json(m).results[0];
    expect(mr).toMatchObject({ verdict: "detected" });
    expect(mr.reason).toBeUndefined();
    expect(mr.findings.map((f: Json) => f.rule)).toEqual(["mid_read"]);
    // Whole in memory, and in YARA-X, the same.
    for (const args of [["--max-filesize", "8M"], ["--engine", "yara-x", "--max-filesize", "1M"]]) {
      const w = ring3(["scan", "--format", "json", "--rules", mid, ...args, p]);
      expect(w.code, w.stderr).toBe(1);
      expect(json(w).results[0].findings.map((f: Json) => f.rule)).toEqual(["mid_read"]);
    }

    // pe, math and hash over a file larger than --max-filesize: "MZ" alone is not a PE, exactly.
    const zeros = createHash("md5").update(Buffer.alloc(MiB)).digest("hex");
    const mods = write(
      dir,
      "mods.yar",
      'import "pe"\nimport "math"\nimport "hash"\n' +
        "rule pe_sections { condition: pe.number_of_sections == 3 }\n" +
        "rule not_pe { condition: not pe.is_pe }\n" +
        "rule mostly_zero { condition: math.entropy(0, filesize) < 0.01 and math.count(0) == filesize - 3 }\n" +
        `rule zero_hash { condition: hash.md5(${3 * MiB}, ${MiB}) == "${zeros}" }\n`,
    );
    for (const args of [["--max-filesize", "1M"], ["--engine", "yara-x", "--max-filesize", "64M"]]) {
      const q = ring3(["scan", "--format", "json", "--rules", mods, ...args, p]);
      expect(q.code, q.stderr).toBe(1);
      const qr = json(q).results[0];
      expect(qr.reason).toBeUndefined();
      expect(qr.findings.map((f: Json) => f.rule)).toEqual(["not_pe", "mostly_zero", "zero_hash"]);
    }

    // A PE with 5 MiB appended: its fields are read where they lie, the overlay is not.
    const built = buildPe({ imports: [{ dll: "kernel32.dll", functions: ["CreateFileA"] }] });
    const exe = sparse("overlay.exe", 5 * MiB, [[0, Buffer.from(built)]]);
    const peRules = write(
      dir,
      "pe-fields.yar",
      'import "pe"\n' +
        `rule pe_fields { condition: pe.is_pe and pe.imports("kernel32.dll", "CreateFileA") and pe.overlay.offset == ${built.length} and pe.overlay.size == ${5 * MiB - built.length} and pe.imphash() != "" }\n` +
        "rule pe_not { condition: pe.number_of_imports != 1 }\n",
    );
    for (const args of [["--max-filesize", "1M"], ["--engine", "yara-x", "--max-filesize", "64M"]]) {
      const r = ring3(["scan", "--format", "json", "--rules", peRules, ...args, exe]);
      expect(r.code, r.stderr).toBe(1);
      expect(json(r).results[0].reason).toBeUndefined();
      expect(json(r).results[0].findings.map((f: Json) => f.rule)).toEqual(["pe_fields"]);
    }
  });

  it("keeps a large container partial (its members are not opened); --engine yara-x reads it whole up to 64 MiB", () => {
    const gz = sparse("big.gz", 3 * MiB, [[0, Buffer.from([0x1f, 0x8b, 0x08, 0, 0, 0, 0, 0, 0, 3])]]);
    const run = ring3(["scan", "--format", "json", "--max-filesize", "1M", gz]);
    expect(run.code, run.stderr).toBe(2);
    expect(json(run).results[0]).toMatchObject({ verdict: "partial", reason: { code: "max-filesize" } });
    expect(json(run).results[0].reason.message).toMatch(/a gzip container, not opened/);

    const p = sparse("plain.bin", 3 * MiB, [[2 * MiB, MARK]]);
    const x = ring3(["scan", "--format", "json", "--rules", rules, "--engine", "yara-x", "--max-filesize", "1M", p]);
    expect(x.code, x.stderr).toBe(1);
    expect(json(x).results[0]).toMatchObject({ verdict: "detected" });
    expect(json(x).results[0].reason).toBeUndefined();
    expect(findings(json(x).results[0])).toEqual([{ rule: "large_marker", strings: [{ offset: 2 * MiB, length: MARK.length }] }]);

    // Over 64 MiB YARA-X cannot have it in one buffer: partial, with the reason, never clean.
    const big = sparse("big.bin", 64 * MiB + 1, [[MiB, MARK]]);
    const y = ring3(["scan", "--format", "json", "--rules", rules, "--engine", "yara-x", "--max-filesize", "1M", big]);
    expect(y.code, y.stderr).toBe(2);
    expect(json(y).results[0]).toMatchObject({ verdict: "partial", findings: [], reason: { code: "max-filesize" } });
    expect(json(y).results[0].reason.message).toMatch(/YARA-X needs the file in one buffer/);
  });

  it("reads a large standard input again where it can: a redirected file, not a pipe (past its first 64 KiB)", () => {
    const size = 20 * MiB;
    const data = Buffer.alloc(size);
    data.write("MZ", 0, "latin1");
    data.writeUInt32LE(1, 12 * MiB);
    const p = path.join(dir, "stdin.bin");
    fs.writeFileSync(p, data);
    const head = write(dir, "head.yar", "rule head { condition: uint16(0) == 0x5a4d }\n");
    const mid = write(dir, "mid12.yar", `rule head { condition: uint16(0) == 0x5a4d }\nrule mid { condition: uint32(${12 * MiB}) == 1 }\n`);
    // A pipe: what lies in its first 64 KiB is read from memory; more cannot be, and says so.
    const piped = ring3(["scan", "--format", "json", "--max-filesize", "1K", "--rules", head, "-"], { input: data });
    expect(piped.code, piped.stderr).toBe(1);
    expect(json(piped).results[0].findings.map((f: Json) => f.rule)).toEqual(["head"]);
    const far = ring3(["scan", "--format", "json", "--max-filesize", "1K", "--rules", mid, "-"], { input: data });
    expect(far.code, far.stderr).toBe(2);
    expect(json(far).results[0]).toMatchObject({ verdict: "partial", reason: { code: "max-filesize" } });
    expect(json(far).results[0].reason.message).toMatch(/past the first 65536 bytes of a pipe/);
    // A redirected file is read again through positioned reads: exact.
    const run = spawnSync("sh", ["-c", `"${BIN}" scan --format json --max-filesize 1K --rules "${mid}" - < "${p}"`], { env: { ...process.env, CI: "true", NO_COLOR: "1" }, maxBuffer: 64 * MiB });
    expect(run.status, run.stderr.toString()).toBe(1);
    expect(JSON.parse(run.stdout.toString()).results[0].findings.map((f: Json) => f.rule)).toEqual(["head", "mid"]);
  });

  it("scans a 3 GB file in bounded memory and finds what lies in the middle and at the end", () => {
    const size = 3 * 1024 * MiB;
    const mid = 1536 * MiB - 7;
    const p = sparse("three-gb.bin", size, [
      [mid, MARK],
      [size - MARK.length - 4, MARK],
      [size - 4, "KER!"],
    ]);
    const timed = fs.existsSync("/usr/bin/time");
    const argv = ["scan", "--format", "json", "--rules", rules, "--max-filesize", "1M", p];
    const raw = timed
      ? spawnSync("/usr/bin/time", ["-f", "maxrss-kb=%M", BIN, ...argv], { env: { ...process.env, CI: "true", NO_COLOR: "1" }, timeout: 600_000, maxBuffer: 64 * MiB })
      : spawnSync(BIN, argv, { env: { ...process.env, CI: "true", NO_COLOR: "1" }, timeout: 600_000, maxBuffer: 64 * MiB });
    expect(raw.status, raw.stderr.toString()).toBe(1);
    const r = JSON.parse(raw.stdout.toString()).results[0];
    expect(r).toMatchObject({ verdict: "detected", size });
    expect(findings(r)).toEqual([
      { rule: "large_marker", strings: [mid, size - MARK.length - 4].map((offset) => ({ offset, length: MARK.length })) },
      { rule: "large_tail", strings: [] },
    ]);
    if (timed) {
      const kb = Number(/maxrss-kb=(\d+)/.exec(raw.stderr.toString())![1]);
      // Measured about 240 MB (most of it the executable and its rule set); the file is 3 GB.
      expect(kb).toBeLessThan(600 * 1024);
    }
  }, 600_000);
});
