// Faults in workers (issue 13): a worker that runs out of its V8 heap, or runs past
// --timeout-per-file on a runaway rule (catastrophic regex, a loop over every byte pair), becomes
// an `error` result for that file alone; the worker is replaced and the scan goes on. Real inputs
// only: nested archives with many members, rules a user could write, files the tests create.
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import * as A from "../support/archives";
import { EICAR, json, ring3Async, tempDir, write, type Json } from "./helpers";

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
});
function folder(): string {
  const d = tempDir("ring3-faults-");
  dirs.push(d);
  return d;
}

const byPath = (doc: Json, end: string): Json => doc.results.find((r: Json) => r.path.endsWith(end));

describe("a worker out of heap", () => {
  // Every member's result is held until its file is answered: three zips of 20,000 members inside
  // one zip are 60,003 results, tens of MB of heap: fine under the default limit, far past 32 MB.
  function manyMembers(d: string): void {
    const members = Array.from({ length: 20_000 }, (_, i) => ({ name: `m/${i}.txt`, data: Buffer.from(`member ${i}\n`) }));
    const inner = A.zip(members);
    write(d, "files/nest.zip", Buffer.from(A.zip([1, 2, 3].map((i) => ({ name: `inner${i}.zip`, data: inner, method: "store" as const })))));
    write(d, "files/eicar.txt", EICAR);
    for (let i = 0; i < 5; i++) write(d, `files/clean${i}.txt`, `clean ${i}`);
  }

  it("is an error (worker-crash, out of memory) for that file; the worker is replaced and the rest scanned", async () => {
    const d = folder();
    manyMembers(d);
    const run = await ring3Async(["scan", "--workers", "1", "--all", "--format", "json", path.join(d, "files")], { env: { RING3_WORKER_HEAP_MB: "32" } });
    const doc = json(run);
    expect(byPath(doc, "nest.zip")).toMatchObject({
      verdict: "error",
      reason: { code: "worker-crash", message: "worker ran out of memory (JS heap limit 32 MB); worker replaced" },
    });
    expect(byPath(doc, "eicar.txt").verdict).toBe("detected");
    expect(doc.summary).toMatchObject({ files: 7, clean: 5, detected: 1, error: 1 });
    expect(run.code).toBe(1);
  }, 120_000);

  it("the same file under the default limit: scanned whole (the error above is the limit's)", async () => {
    const d = folder();
    manyMembers(d);
    const run = await ring3Async(["scan", "--workers", "1", "--format", "json", path.join(d, "files")]);
    const doc = json(run);
    expect(doc.summary).toMatchObject({ files: 7, clean: 6, detected: 1, error: 0, members: 60_003 });
  }, 120_000);
});

describe("a runaway rule is bounded by --timeout-per-file", () => {
  const MARKER = "ring3-faults-marker";
  /** The marked file and 20 clean ones, with the file the runaway rule is slow on. */
  function files(d: string, slow: string, data: string | Buffer): string {
    write(d, `files/${slow}`, data);
    write(d, "files/marked.txt", `x ${MARKER} x`);
    for (let i = 0; i < 20; i++) write(d, `files/z/clean${i}.txt`, `clean ${i}`);
    return path.join(d, "files");
  }

  // Backtracking regexes: exponential or polynomial on a run of "a" with no match at its end.
  // (YARA 4 itself takes 18 s on /(a+)+b/ over these 50,000 bytes, measured.)
  it.each([
    ["auto", "/(a+)+b/"],
    ["yara-x", "/(a+)+b/"],
    ["auto", "/a.*a.*a.*a.*b/"],
    ["yara-x", "/a.*a.*a.*a.*b/"],
  ])("--engine %s, a catastrophic regex %s: that file is an error (timeout), every other file scanned", async (engine, re) => {
    const d = folder();
    const rules = write(d, "r.yar", `rule runaway { strings: $re = ${re} condition: $re }\nrule marker { strings: $m = "${MARKER}" condition: $m }\n`);
    const run = await ring3Async(["scan", "--no-bundled", "--rules", rules, "--engine", engine, "--workers", "2", "--timeout-per-file", "2", "--all", "--format", "json", files(d, "aaa.txt", "a".repeat(50_000) + "c")]);
    const doc = json(run);
    expect(byPath(doc, "aaa.txt")).toMatchObject({ verdict: "error", reason: { code: "timeout", message: "no answer within 2s (--timeout-per-file); worker replaced" } });
    expect(byPath(doc, "marked.txt")).toMatchObject({ verdict: "detected", findings: [{ rule: "marker" }] });
    expect(doc.summary).toMatchObject({ files: 22, clean: 20, detected: 1, error: 1 });
    expect(run.code).toBe(1);
  }, 120_000);

  // A loop over every pair of byte offsets of a 1 MiB file (10^12 steps), in the fast path's
  // evaluator or in YARA-X's WASM (which ignores its own timeout): a worker stuck in synchronous
  // code is terminated and replaced; the files after it are scanned by its replacement.
  it.each(["auto", "yara-x"])("--engine %s, a loop over filesize²: timeout on the large file, the others scanned by the replacement", async (engine) => {
    const d = folder();
    const rules = write(
      d,
      "r.yar",
      `rule pairs { condition: for any i in (0..filesize) : ( for any j in (0..filesize) : ( uint8(i) == 1 and uint8(j) == 2 ) ) }\nrule marker { strings: $m = "${MARKER}" condition: $m }\n`,
    );
    const run = await ring3Async(["scan", "--no-bundled", "--rules", rules, "--engine", engine, "--workers", "1", "--timeout-per-file", "2", "--all", "--format", "json", files(d, "big.bin", Buffer.alloc(1 << 20))]);
    const doc = json(run);
    expect(byPath(doc, "big.bin")).toMatchObject({ verdict: "error", reason: { code: "timeout" } });
    expect(byPath(doc, "marked.txt").verdict).toBe("detected");
    expect(doc.summary).toMatchObject({ files: 22, clean: 20, detected: 1, error: 1 });
    expect(run.code).toBe(1);
  }, 120_000);
});

describe("hostile rule files (found by make fuzz)", () => {
  // The parser's error recovery started past the end of the tokens and never stopped: the scan
  // hung before reading a single file.
  it("a rule file cut off after `$b =`: a syntax error, exit 2, no hang", async () => {
    const d = folder();
    const rules = write(d, "cut.yar", "rule s { strings: $b =");
    write(d, "files/a.txt", "hello");
    const run = await ring3Async(["scan", "--no-bundled", "--rules", rules, path.join(d, "files")]);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/cut\.yar:1:\d+: .*end of file/);
    expect(run.stdout).toBe("");
  }, 60_000);
});

describe("damaged compiled rule files (found by make fuzz)", () => {
  // Inputs the fuzzer found, with the file's digest made right again (as a forger would): one line
  // on standard error and exit 2, never an internal error with a stack.
  const dir = path.join(__dirname, "../fuzz/corpus/compiled-rules");
  const found = fs.readdirSync(dir).filter((n) => n.startsWith("crash-"));
  it.each(found)("%s: one line, exit 2", async (name) => {
    const d = folder();
    const bytes = Buffer.from(fs.readFileSync(path.join(dir, name)));
    createHash("sha256").update(bytes.subarray(48)).digest().copy(bytes, 16);
    const rules = write(d, "bad.r3c", bytes);
    write(d, "files/a.txt", "hello");
    const run = await ring3Async(["scan", "--no-bundled", "--rules", rules, path.join(d, "files")]);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/^ring3: (--rules .*: damaged compiled rule program \(|a worker could not load the rules \(a damaged compiled rule file\?\): )[^\n]*\n$/);
  }, 60_000);
});
