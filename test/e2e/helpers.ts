// Shared by the end-to-end tests: where the built binary is, how to run it, and fixtures the
// tests synthesise (no malware is stored: EICAR is the public test string).
import { spawn, spawnSync, type SpawnSyncReturns } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

export const ROOT = path.resolve(__dirname, "../..");
/** The single executable under test (make test builds it first). */
export const BIN = process.env.RING3_BIN ?? path.join(ROOT, "dist", "ring3");

export const EICAR = "X5O!P%@AP[4\\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*";
export const EICAR_SHA256 = "275a021bbfb6489e54d471899f7db9d1663fc695ec2fe2a2c4538aabf651fd0f";

if (!fs.existsSync(BIN)) throw new Error(`${BIN} does not exist: run 'make' (make test builds it) before the end-to-end tests`);

export interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
  raw: SpawnSyncReturns<Buffer>;
}

export function ring3(args: string[], opts: { input?: string | Buffer; cwd?: string; env?: NodeJS.ProcessEnv; as?: "nobody"; bin?: string; timeout?: number } = {}): Run {
  const bin = opts.bin ?? BIN;
  const [cmd, argv] = opts.as === "nobody" ? ["setpriv", ["--reuid=nobody", "--regid=nogroup", "--clear-groups", bin, ...args]] : [bin, args];
  const raw = spawnSync(cmd, argv, {
    input: opts.input ?? "",
    cwd: opts.cwd,
    env: { ...process.env, CI: "true", NO_COLOR: "1", ...opts.env },
    timeout: opts.timeout ?? 120_000,
    maxBuffer: 256 * 1024 * 1024,
  });
  if (raw.error) throw raw.error;
  return { code: raw.status, stdout: raw.stdout.toString("utf8"), stderr: raw.stderr.toString("utf8"), raw };
}

/** As ring3(), without blocking the test worker (for runs of a minute or more). */
export function ring3Async(args: string[], opts: { env?: NodeJS.ProcessEnv } = {}): Promise<Omit<Run, "raw">> {
  return new Promise((resolve, reject) => {
    const child = spawn(BIN, args, { env: { ...process.env, CI: "true", NO_COLOR: "1", ...opts.env }, stdio: ["ignore", "pipe", "pipe"] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on("data", (c: Buffer) => out.push(c));
    child.stderr.on("data", (c: Buffer) => err.push(c));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stdout: Buffer.concat(out).toString("utf8"), stderr: Buffer.concat(err).toString("utf8") }));
  });
}

/** A fresh folder under the OS temp dir, readable by every user (tests run ring3 as nobody too). */
export function tempDir(prefix = "ring3-e2e-"): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  fs.chmodSync(d, 0o755);
  return d;
}

export function write(dir: string, rel: string, data: string | Buffer): string {
  const p = path.join(dir, rel);
  fs.mkdirSync(path.dirname(p), { recursive: true });
  fs.writeFileSync(p, data);
  return p;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Json = any;

export function json(run: Pick<Run, "code" | "stdout" | "stderr">): Json {
  try {
    return JSON.parse(run.stdout);
  } catch {
    throw new Error(`not JSON (exit ${run.code}):\n${run.stdout}\n${run.stderr}`);
  }
}

/** A finding of a JSON report, as the tests that compare two scans render it. */
export interface ReportFinding {
  rule: string;
  tags: string[];
  description?: string;
  strings?: unknown[];
}

/** A JSON report's findings per file (by base name), each rendered (default: the rule name), sorted. */
export function findingsByFile(out: string, render: (f: ReportFinding) => string = (f) => f.rule): Record<string, string[]> {
  const report = JSON.parse(out) as { results: { path: string; findings: ReportFinding[] }[] };
  const by: Record<string, string[]> = {};
  for (const r of report.results) by[path.basename(r.path)] = r.findings.map(render).sort();
  return by;
}

export function ndjson(run: Run): Json[] {
  return run.stdout
    .split("\n")
    .filter((l) => l.length > 0)
    .map((l) => JSON.parse(l));
}
