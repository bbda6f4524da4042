// Races (issue 13): a file swapped between the walk and the open (for a symbolic link, a FIFO, a
// folder, nothing; or a folder on its path swapped for a link out of the scan), and files that
// grow, shrink or disappear while they are read. Never a hang, never a read outside the scan,
// always one result with a reason. The swap uses the worker's `pause` failpoint
// (RING3_FAILPOINT=pause:NAME, src/pool/worker.ts): it says on standard error that it is about to
// open the file and waits 2 s, and the test swaps the file in that window.
import { execFileSync, spawn } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { BIN, EICAR, json, tempDir, write, type Json } from "./helpers";

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
});
function folder(): string {
  const d = tempDir("ring3-races-");
  dirs.push(d);
  return d;
}

interface Done {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a scan that pauses before opening NAME; `swap` runs once the worker is in that pause. */
function scanWithSwap(args: string[], name: string, swap: () => void): Promise<Done> {
  return new Promise((resolve, reject) => {
    const child = spawn(BIN, args, { env: { ...process.env, CI: "true", NO_COLOR: "1", RING3_FAILPOINT: `pause:${name}` }, stdio: ["ignore", "pipe", "pipe"] });
    const out: Buffer[] = [];
    let err = "";
    let swapped = false;
    child.stdout.on("data", (c: Buffer) => out.push(c));
    child.stderr.on("data", (c: Buffer) => {
      err += c.toString("utf8");
      if (!swapped && err.includes("ring3 failpoint: pause before open:")) {
        swapped = true;
        try {
          swap();
        } catch (e) {
          reject(e as Error);
        }
      }
    });
    child.on("error", reject);
    child.on("close", (code) => {
      if (!swapped) reject(new Error(`the scan never paused:\n${err}`));
      resolve({ code, stdout: Buffer.concat(out).toString("utf8"), stderr: err });
    });
  });
}

/**
 * A scan root with one file to swap (`in/sub/target.txt`, clean) and, outside the root, a file of
 * the same name holding EICAR: if ring3 ever read outside the scan, it would report a detection.
 */
function layout(): { d: string; root: string; target: string; sub: string; outsideDir: string; outside: string } {
  const d = folder();
  const root = path.join(d, "in");
  const target = write(root, "sub/target.txt", "clean inside");
  write(root, "sub/other.txt", "clean too");
  const outside = write(d, "outside/target.txt", EICAR);
  return { d, root, target, sub: path.join(root, "sub"), outsideDir: path.dirname(outside), outside };
}

const resultOf = (doc: Json, end: string): Json => {
  const rs = doc.results.filter((r: Json) => r.path.endsWith(end));
  expect(rs.length).toBe(1);
  return rs[0];
};

const scanArgs = (root: string) => ["scan", "--workers", "1", "--all", "--format", "json", root];

describe("a file swapped between the walk and the open", () => {
  it("for a symbolic link out of the scan: skipped (symlink), the link is not followed", async () => {
    const s = layout();
    const run = await scanWithSwap(scanArgs(s.root), "target.txt", () => {
      fs.unlinkSync(s.target);
      fs.symlinkSync(s.outside, s.target);
    });
    const doc = json(run);
    expect(resultOf(doc, "target.txt")).toMatchObject({ verdict: "skipped", reason: { code: "symlink" } });
    expect(doc.summary).toMatchObject({ files: 2, clean: 1, detected: 0, skipped: 1 });
    expect(run.code).toBe(0); // a link not followed is a policy skip
  }, 30_000);

  it("a folder on its path swapped for a link out of the scan: not read (vanished, leads out of the scan)", async () => {
    const s = layout();
    const run = await scanWithSwap(scanArgs(s.root), "target.txt", () => {
      fs.renameSync(s.sub, path.join(s.d, "moved-away"));
      fs.symlinkSync(s.outsideDir, s.sub);
    });
    const doc = json(run);
    const r = resultOf(doc, "target.txt");
    expect(r).toMatchObject({ verdict: "skipped", reason: { code: "vanished" } });
    expect(r.reason.message).toBe(`replaced after listing: its path now leads out of the scan (to ${s.outside}); not read`);
    expect(doc.summary.detected).toBe(0);
    expect(run.code).toBe(2);
  }, 30_000);

  it("for a FIFO: skipped (not-regular), never blocks", async () => {
    const s = layout();
    const run = await scanWithSwap(scanArgs(s.root), "target.txt", () => {
      fs.unlinkSync(s.target);
      execFileSync("mkfifo", [s.target]);
    });
    const doc = json(run);
    expect(resultOf(doc, "target.txt")).toMatchObject({ verdict: "skipped", reason: { code: "not-regular", message: "a FIFO (named pipe), never opened" } });
    expect(run.code).toBe(0);
  }, 30_000);

  it("for a folder: skipped (not-regular)", async () => {
    const s = layout();
    const run = await scanWithSwap(scanArgs(s.root), "target.txt", () => {
      fs.unlinkSync(s.target);
      fs.mkdirSync(s.target);
      write(s.target, "inner.txt", EICAR);
    });
    const doc = json(run);
    expect(resultOf(doc, "target.txt")).toMatchObject({ verdict: "skipped", reason: { code: "not-regular" } });
    expect(doc.summary.detected).toBe(0);
  }, 30_000);

  it("deleted: skipped (vanished), exit 2", async () => {
    const s = layout();
    const run = await scanWithSwap(scanArgs(s.root), "target.txt", () => fs.unlinkSync(s.target));
    const doc = json(run);
    expect(resultOf(doc, "target.txt")).toMatchObject({ verdict: "skipped", reason: { code: "vanished" } });
    expect(run.code).toBe(2);
  }, 30_000);

  it("with --follow-symlinks, a swapped link is followed as asked (the check is for scans that do not follow)", async () => {
    const s = layout();
    const run = await scanWithSwap(["scan", "--follow-symlinks", ...scanArgs(s.root).slice(1)], "target.txt", () => {
      fs.unlinkSync(s.target);
      fs.symlinkSync(s.outside, s.target);
    });
    expect(resultOf(json(run), "target.txt").verdict).toBe("detected");
    expect(run.code).toBe(1);
  }, 30_000);
});

describe("a file that changes while it is read", () => {
  // A writer process rewrites the files in a tight loop (grow, shrink, delete and recreate) for
  // the whole scan; whatever state each read meets, every file gets exactly one result, none is
  // an internal error, and the scan ends.
  it.each(["whole", "streamed"] as const)("(%s files): one result each with a reason when not clean, never a hang", async (kind) => {
    const d = folder();
    const size = kind === "whole" ? 2 << 20 : 40 << 20; // streamed from 16 MiB
    const names = Array.from({ length: 4 }, (_, i) => path.join(d, `f${i}.bin`));
    for (const n of names) fs.writeFileSync(n, Buffer.alloc(size, 0x41));
    const writer = spawn(
      process.execPath,
      [
        "-e",
        `const fs = require("fs"); const names = ${JSON.stringify(names)}; const big = Buffer.alloc(${size}, 0x42);
         for (let k = 0; ; k++) for (const [i, n] of names.entries()) {
           try {
             switch ((k + i) % 4) {
               case 0: fs.appendFileSync(n, big.subarray(0, 1 << 20)); break;
               case 1: fs.truncateSync(n, 1000); break;
               case 2: fs.unlinkSync(n); break;
               default: fs.writeFileSync(n, big);
             }
           } catch {}
         }`,
      ],
      { stdio: "ignore" },
    );
    try {
      for (let round = 0; round < 3; round++) {
        const run = await new Promise<Done>((resolve, reject) => {
          const child = spawn(BIN, ["scan", "--workers", "2", "--all", "--format", "json", d], { env: { ...process.env, CI: "true" }, stdio: ["ignore", "pipe", "pipe"] });
          const out: Buffer[] = [];
          let err = "";
          child.stdout.on("data", (c: Buffer) => out.push(c));
          child.stderr.on("data", (c: Buffer) => (err += c.toString()));
          child.on("error", reject);
          child.on("close", (code) => resolve({ code, stdout: Buffer.concat(out).toString("utf8"), stderr: err }));
        });
        expect(run.stderr).not.toMatch(/internal error/);
        expect([0, 2]).toContain(run.code);
        const doc = json(run);
        for (const r of doc.results) {
          expect(names.map((n) => path.basename(n))).toContain(path.basename(r.path));
          if (r.verdict !== "clean") expect(r.reason.code).toMatch(/^(vanished|io-error|max-filesize)$/);
        }
        expect(new Set(doc.results.map((r: Json) => r.path)).size).toBe(doc.results.length);
      }
    } finally {
      writer.kill();
    }
  }, 120_000);
});
