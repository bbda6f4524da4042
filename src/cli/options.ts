// Turns command-line words into a frozen ScanConfig before any work starts (ripgrep's habit:
// no option is re-read in the hot loop). Bad input is a UsageError: exit 2 with a message.
import * as os from "node:os";
import { DEFAULT_LIMITS } from "../containers";
import type { Limits } from "../containers/types";
import { parseShard, type Shard } from "./shard";

export class UsageError extends Error {}

export type Format = "text" | "json" | "ndjson" | "sarif";
export const FORMATS: readonly Format[] = ["text", "json", "ndjson", "sarif"];

export interface ScanConfig {
  targets: string[];
  pathsFrom?: string;
  format: Format;
  output?: string;
  all: boolean;
  rules: string[];
  bundled: boolean;
  hashes: string[];
  defines: Record<string, string>;
  include: string[];
  exclude: string[];
  allow: string[];
  excludeRules: string[];
  excludeTags: string[];
  maxFilesize: number;
  followSymlinks: boolean;
  oneFileSystem: boolean;
  workers: number;
  timeoutPerFile: number; // seconds, 0 = none
  /** Container budgets; null with --no-archives. */
  archives: Limits | null;
  progress: "auto" | "never";
  /** --engine: auto (ring3's fast path, YARA-X for what it cannot decide) or yara-x (all in YARA-X). */
  engine: "auto" | "yara-x";
  /** --stats: engine counters on standard error at the end. */
  stats: boolean;
  // issue 14 (everyday use at scale): --shard, --baseline, --cache
  /** --shard K/N: only the files whose path hashes into share K of N (src/cli/shard.ts). */
  shard?: Shard;
  /** --baseline REPORT: findings in it are known, not new (src/cli/baseline.ts). */
  baseline?: string;
  /** --update-baseline: write this run's findings to the --baseline file. */
  updateBaseline: boolean;
  /** --cache FILE: complete results kept between runs (src/cache). */
  cache?: string;
  /** Issue 10: --pack (only these bundled packs) and --no-pack (leave these out). */
  packs: string[];
  noPacks: string[];
}

const UNITS: Record<string, number> = { "": 1, b: 1, k: 1024, kb: 1024, kib: 1024, m: 1024 ** 2, mb: 1024 ** 2, mib: 1024 ** 2, g: 1024 ** 3, gb: 1024 ** 3, gib: 1024 ** 3 };

/** "100M", "1.5G", "4096" (binary units, as ClamAV's --max-filesize). */
export function parseSize(s: string, option = "--max-filesize"): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*$/i.exec(s);
  const unit = m ? UNITS[m[2].toLowerCase()] : undefined;
  if (!m || unit === undefined) throw new UsageError(`${option}: invalid size "${s}" (examples: 4096, 512K, 100M, 2G)`);
  const n = Math.floor(Number(m[1]) * unit);
  // Buffers and WASM memory cap what one worker can hold in memory.
  const max = 2 * 1024 ** 3 - 1;
  if (n < 1 || n > max) throw new UsageError(`${option} must be between 1 byte and 2G, got "${s}"`);
  return n;
}

function parseCount(v: unknown, option: string, min: number, max: number): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < min || n > max) throw new UsageError(`${option} must be a whole number from ${min} to ${max}, got "${String(v)}"`);
  return n;
}

/**
 * The container budgets from --archive-* (defaults: DEFAULT_LIMITS in src/containers). The
 * unpacking time stays below --timeout-per-file, so that a slow archive ends `partial` with the
 * members already scanned rather than as an `error` when the worker is stopped.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export function archiveLimits(o: Record<string, any>, timeoutPerFile: number): Limits | null {
  if (o.archives === false) return null;
  const d = DEFAULT_LIMITS;
  const seconds = o.archiveTimeout === undefined ? d.maxTimeMs / 1000 : Number(o.archiveTimeout);
  if (!Number.isFinite(seconds) || seconds <= 0) throw new UsageError(`--archive-timeout takes seconds (more than 0), got "${o.archiveTimeout}"`);
  let maxTimeMs = Math.round(seconds * 1000);
  if (timeoutPerFile > 0) maxTimeMs = Math.min(maxTimeMs, Math.round(timeoutPerFile * 1000 * 0.75));
  return Object.freeze({
    maxDepth: o.archiveDepth === undefined ? d.maxDepth : parseCount(o.archiveDepth, "--archive-depth", 1, 64),
    maxMembers: o.archiveMaxMembers === undefined ? d.maxMembers : parseCount(o.archiveMaxMembers, "--archive-max-members", 1, 10_000_000),
    maxTotalBytes: o.archiveMaxSize === undefined ? d.maxTotalBytes : parseSize(String(o.archiveMaxSize), "--archive-max-size"),
    maxMemberSize: o.archiveMaxMemberSize === undefined ? d.maxMemberSize : parseSize(String(o.archiveMaxMemberSize), "--archive-max-member-size"),
    maxRatio: o.archiveMaxRatio === undefined ? d.maxRatio : parseCount(o.archiveMaxRatio, "--archive-max-ratio", 1, 1_000_000),
    maxTimeMs: Math.max(1, maxTimeMs),
  });
}

export function parseDefine(s: string, into: Record<string, string>): Record<string, string> {
  const eq = s.indexOf("=");
  if (eq <= 0) throw new UsageError(`--define takes NAME=VALUE, got "${s}"`);
  const name = s.slice(0, eq);
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) throw new UsageError(`--define: "${name}" is not a valid identifier`);
  return { ...into, [name]: s.slice(eq + 1) };
}

export const DEFAULT_MAX_FILESIZE = 128 * 1024 ** 2;
export const DEFAULT_TIMEOUT_PER_FILE = 120;

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export function toConfig(paths: string[], o: Record<string, any>): ScanConfig {
  const format = String(o.format ?? "text") as Format;
  if (!FORMATS.includes(format)) throw new UsageError(`--format must be one of ${FORMATS.join(", ")}, got "${format}"`);
  const workers = o.workers === undefined ? os.availableParallelism() : Number(o.workers);
  if (!Number.isInteger(workers) || workers < 1 || workers > 256) throw new UsageError(`--workers must be a whole number from 1 to 256, got "${o.workers}"`);
  const timeout = o.timeoutPerFile === undefined ? DEFAULT_TIMEOUT_PER_FILE : Number(o.timeoutPerFile);
  if (!Number.isFinite(timeout) || timeout < 0) throw new UsageError(`--timeout-per-file takes seconds (0 for none), got "${o.timeoutPerFile}"`);
  const engine = String(o.engine ?? "auto");
  if (engine !== "auto" && engine !== "yara-x") throw new UsageError(`--engine must be auto or yara-x, got "${engine}"`);
  if (o.pathsFrom !== undefined && paths.length > 0) throw new UsageError("give paths either as arguments or with --paths-from, not both");
  if (paths.filter((p) => p === "-").length > 1) throw new UsageError("'-' (standard input) can be given only once");
  if (o.pathsFrom === "-" && paths.includes("-")) throw new UsageError("standard input cannot be both --paths-from - and a '-' path");
  // issue 14: standard input has no path to hash, and each job of a sharded scan reads its own.
  if (o.shard !== undefined && paths.includes("-")) throw new UsageError("--shard cannot split standard input ('-'): scan it in a job without --shard");
  if (o.updateBaseline && o.baseline === undefined) throw new UsageError("--update-baseline needs --baseline FILE (the file it writes)");
  // issue 10
  if (o.bundled === false && ((o.pack ?? []).length > 0 || (o.noPack ?? []).length > 0)) throw new UsageError("--pack and --no-pack choose among the bundled signatures: not with --no-bundled");
  if (!o.bundled && (o.rules ?? []).length === 0 && (o.hashes ?? []).length === 0) {
    throw new UsageError("--no-bundled leaves no signatures: add --rules or --hashes");
  }
  return Object.freeze({
    targets: paths.length > 0 || o.pathsFrom !== undefined ? paths : ["."],
    pathsFrom: o.pathsFrom,
    format,
    output: o.output,
    all: Boolean(o.all),
    rules: o.rules ?? [],
    bundled: o.bundled !== false,
    hashes: o.hashes ?? [],
    defines: o.define ?? {},
    include: o.include ?? [],
    exclude: o.exclude ?? [],
    allow: o.allow ?? [],
    excludeRules: o.excludeRule ?? [],
    excludeTags: o.excludeTag ?? [],
    maxFilesize: o.maxFilesize === undefined ? DEFAULT_MAX_FILESIZE : parseSize(String(o.maxFilesize)),
    followSymlinks: Boolean(o.followSymlinks),
    oneFileSystem: Boolean(o.oneFileSystem),
    workers,
    timeoutPerFile: timeout,
    archives: archiveLimits(o, timeout),
    progress: o.progress === false ? "never" : "auto",
    engine,
    stats: Boolean(o.stats),
    // issue 14
    shard: o.shard === undefined ? undefined : parseShard(String(o.shard)),
    baseline: o.baseline,
    updateBaseline: Boolean(o.updateBaseline),
    cache: o.cache,
    // issue 10
    packs: o.pack ?? [],
    noPacks: o.noPack ?? [],
  });
}

export function collect(v: string, prev: string[] = []): string[] {
  return [...prev, v];
}

