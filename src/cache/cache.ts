// --cache FILE: complete results (clean or detected, nothing partial) kept between runs, keyed by
// the file's identity on disk (absolute path, device, inode, size, modification and change time in
// ns) under a context id (ring3 version, signature content, verdict-shaping options). A lookup
// costs one stat: a cached file is never opened. The file is rewritten whole (temporary + rename).
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as nodePath from "node:path";
import type { FileOutcome } from "../pool/pool";
import type { ScanResult } from "../types";
import { displayPath } from "../util/paths";

export const CACHE_MAGIC = "ring3-cache";
export const CACHE_FORMAT = 1;

/** What the file was when it was scanned; all of it must match for the result to be reused. */
export interface Stamp {
  /** Absolute path bytes as latin1 (one char per byte: non-UTF-8 names survive). */
  key: string;
  dev: string;
  ino: string;
  size: string;
  mtime: string; // ns
  ctime: string; // ns
}

/** A result as stored: without where it was found (path, root) or how long it took. */
type Stored = Omit<ScanResult, "path" | "pathBytes" | "root" | "ms" | "cached">;

interface Entry extends Omit<Stamp, "key"> {
  result: Stored;
  members: Stored[];
}

export interface CacheHeader {
  magic: typeof CACHE_MAGIC;
  format: number;
  version: string;
  context: string;
  written: string;
}

export type CacheRead =
  | { kind: "missing" }
  | { kind: "foreign"; why: string }
  | { kind: "damaged"; why: string; header?: CacheHeader }
  | { kind: "ok"; header: CacheHeader; entries: Map<string, Entry> };

/** Reads a cache file without trusting it: anything unexpected is reported, never thrown. */
export function readCache(file: string): CacheRead {
  let buf: Buffer;
  try {
    buf = fs.readFileSync(file);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === "ENOENT") return { kind: "missing" };
    return { kind: "damaged", why: (err as Error).message };
  }
  if (buf.length === 0) return { kind: "missing" };
  const firstNl = buf.indexOf(0x0a);
  let header: CacheHeader;
  try {
    header = JSON.parse(buf.subarray(0, firstNl < 0 ? buf.length : firstNl).toString("utf8"));
  } catch {
    return { kind: "foreign", why: "not a ring3 cache file" };
  }
  if (header === null || typeof header !== "object" || header.magic !== CACHE_MAGIC) return { kind: "foreign", why: "not a ring3 cache file" };
  if (header.format !== CACHE_FORMAT) return { kind: "damaged", why: `cache format ${String(header.format)}, this ring3 reads ${CACHE_FORMAT}`, header };
  // Lines: the header, one [key, entry] per file, then {"end": count, "sha256": of the entry lines}.
  if (firstNl < 0 || buf[buf.length - 1] !== 0x0a) return { kind: "damaged", why: "no end line (cut short)", header };
  const lastNl = buf.lastIndexOf(0x0a, buf.length - 2);
  let end: { end?: unknown; sha256?: unknown };
  try {
    end = JSON.parse(buf.subarray(lastNl + 1, buf.length - 1).toString("utf8"));
  } catch {
    return { kind: "damaged", why: "no end line (cut short)", header };
  }
  if (end === null || typeof end !== "object" || typeof end.end !== "number") return { kind: "damaged", why: "no end line (cut short)", header };
  const body = lastNl > firstNl ? buf.subarray(firstNl + 1, lastNl + 1) : Buffer.alloc(0);
  if (createHash("sha256").update(body).digest("hex") !== end.sha256) return { kind: "damaged", why: "its checksum does not match its content", header };
  const entries = new Map<string, Entry>();
  const lines = body.toString("utf8").split("\n");
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (line === "") continue;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch {
      return { kind: "damaged", why: `line ${i + 2} is not JSON`, header };
    }
    if (Array.isArray(value) && value.length === 2 && typeof value[0] === "string" && isEntry(value[1])) entries.set(value[0], value[1]);
    else return { kind: "damaged", why: `line ${i + 2} is not a cache entry`, header };
  }
  if (end.end !== entries.size) return { kind: "damaged", why: `the end line counts ${String(end.end)} entries, the file holds ${entries.size}`, header };
  return { kind: "ok", header, entries };
}

function isEntry(v: unknown): v is Entry {
  if (v === null || typeof v !== "object") return false;
  const e = v as Record<string, unknown>;
  const r = e.result as Record<string, unknown> | undefined;
  return (
    ["dev", "ino", "size", "mtime", "ctime"].every((k) => typeof e[k] === "string") &&
    r !== undefined && r !== null && typeof r === "object" &&
    (r.verdict === "clean" || r.verdict === "detected") &&
    r.reason === undefined &&
    Array.isArray(r.findings) &&
    Array.isArray(e.members)
  );
}

/** SHA-256 over any structured value: sorted keys, typed arrays and shared buffers by their bytes. */
export function digestOf(value: unknown): string {
  const h = createHash("sha256");
  const walk = (v: unknown): void => {
    if (v instanceof SharedArrayBuffer || v instanceof ArrayBuffer) {
      h.update(`b${v.byteLength}:`);
      h.update(new Uint8Array(v));
    } else if (ArrayBuffer.isView(v)) {
      h.update(`v${v.byteLength}:`);
      h.update(new Uint8Array(v.buffer, v.byteOffset, v.byteLength));
    } else if (Array.isArray(v)) {
      h.update(`a${v.length}[`);
      v.forEach(walk);
      h.update("]");
    } else if (v !== null && typeof v === "object") {
      const keys = Object.keys(v).sort();
      h.update(`o${keys.length}{`);
      for (const k of keys) {
        h.update(JSON.stringify(k));
        walk((v as Record<string, unknown>)[k]);
      }
      h.update("}");
    } else h.update(`${typeof v}:${JSON.stringify(v) ?? ""};`);
  };
  walk(value);
  return h.digest("hex");
}

/**
 * Run options that cannot change a file's result: which files are scanned (include, exclude,
 * shard), how many workers, and the controls applied after the scan to what it found (allow and
 * exclude lists, the baseline: the cache keeps results before them). Every other option is part
 * of the context, also options added later (the safe default).
 */
const NOT_VERDICT_OPTIONS = new Set(["include", "exclude", "shard", "workers", "allow", "excludeRules", "excludeTags", "baseline", "cache"]);

export function cacheContext(version: string, signatures: unknown, options: Record<string, unknown>): string {
  const shaping = Object.fromEntries(Object.entries(options).filter(([k]) => !NOT_VERDICT_OPTIONS.has(k)));
  return digestOf({ version, format: CACHE_FORMAT, signatures, options: shaping }).slice(0, 32);
}

export interface CacheCounts {
  hits: number;
  misses: number;
  stored: number;
}

export class ScanCache {
  readonly counts: CacheCounts = { hits: 0, misses: 0, stored: 0 };
  private readonly cwd = Buffer.from(process.cwd(), "utf8").toString("latin1");
  private changed = false;
  /** Keys looked up this run: under a root scanned whole, the others are files that are gone. */
  private readonly seen = new Set<string>();

  private constructor(
    readonly file: string,
    private readonly header: CacheHeader,
    private readonly entries: Map<string, Entry>,
    /** False for a file that is not a ring3 cache: it is never overwritten. */
    private readonly writable: boolean,
    private readonly startedMs: number,
  ) {}

  /** Opens FILE for this run's context; what cannot be used is said on `warn` and ignored. */
  static open(file: string, version: string, context: string, warn: (s: string) => void): ScanCache {
    const read = readCache(file);
    const header: CacheHeader = { magic: CACHE_MAGIC, format: CACHE_FORMAT, version, context, written: "" };
    const now = Date.now();
    switch (read.kind) {
      case "missing":
        return new ScanCache(file, header, new Map(), true, now);
      case "foreign":
        warn(`--cache ${file}: ${read.why}; not used, and left as it is`);
        return new ScanCache(file, header, new Map(), false, now);
      case "damaged":
        warn(`--cache ${file}: ${read.why}; ignored, a new cache will be written`);
        return new ScanCache(file, header, new Map(), true, now);
      case "ok":
        if (read.header.version !== version) {
          warn(`--cache ${file}: written by ring3 ${read.header.version}, this is ${version}; ignored, a new cache will be written`);
          return new ScanCache(file, header, new Map(), true, now);
        }
        // Other signatures or options: every file is scanned again (a note, not a problem).
        if (read.header.context !== context) return new ScanCache(file, header, new Map(), true, now);
        return new ScanCache(file, header, read.entries, true, now);
      default: {
        const never: never = read;
        throw new Error(`unknown cache state ${String(never)}`);
      }
    }
  }

  get size(): number {
    return this.entries.size;
  }

  /**
   * One stat (no open, no read). A hit gives the outcome to report again; a miss gives the stamp
   * to store the fresh outcome under (none when the stat failed: the scan reports why).
   */
  lookup(path: Buffer, root: string): { outcome: FileOutcome } | { stamp?: Stamp } {
    let st: fs.BigIntStats;
    try {
      st = fs.statSync(path, { bigint: true });
    } catch {
      this.counts.misses += 1;
      return {};
    }
    const key = nodePath.resolve(this.cwd, path.toString("latin1"));
    const stamp: Stamp = { key, dev: String(st.dev), ino: String(st.ino), size: String(st.size), mtime: String(st.mtimeNs), ctime: String(st.ctimeNs) };
    this.seen.add(key);
    const e = this.entries.get(key);
    if (e !== undefined && e.dev === stamp.dev && e.ino === stamp.ino && e.size === stamp.size && e.mtime === stamp.mtime && e.ctime === stamp.ctime) {
      this.counts.hits += 1;
      const where = { ...displayPath(path), root };
      return {
        outcome: {
          result: { ...e.result, ...where, cached: true },
          members: e.members.map((m) => ({ ...m, ...where, cached: true })),
        },
      };
    }
    if (e !== undefined) {
      this.entries.delete(key);
      this.changed = true;
    }
    this.counts.misses += 1;
    return { stamp };
  }

  /** Keeps a fresh outcome when it is complete (clean or detected, no reason anywhere). */
  store(stamp: Stamp | undefined, o: FileOutcome): void {
    if (stamp === undefined || !this.writable) return;
    const r = o.result;
    if ((r.verdict !== "clean" && r.verdict !== "detected") || r.reason !== undefined) return;
    if (o.members.some((m) => m.reason !== undefined || (m.verdict !== "clean" && m.verdict !== "detected"))) return;
    // Coarse timestamps (whole seconds: FAT, some network file systems) cannot tell two writes in
    // the same second apart: a file changed that recently is not kept (git's "racy clean" rule).
    const coarse = BigInt(stamp.mtime) % 1_000_000_000n === 0n && BigInt(stamp.ctime) % 1_000_000_000n === 0n;
    if (coarse && Number(BigInt(stamp.ctime) / 1_000_000n) > this.startedMs - 2000) return;
    const { key, ...id } = stamp;
    this.entries.set(key, { ...id, result: strip(r), members: o.members.map(strip) });
    this.counts.stored += 1;
    this.changed = true;
  }

  /**
   * Forgets the entries below these roots (as given) that this run did not meet: files deleted
   * or renamed since. Only for a run that walked its roots whole (not interrupted, not a shard).
   */
  prune(roots: (string | Buffer)[]): void {
    const prefixes = roots.map((r) => nodePath.resolve(this.cwd, typeof r === "string" ? Buffer.from(r, "utf8").toString("latin1") : r.toString("latin1")));
    for (const key of this.entries.keys()) {
      if (this.seen.has(key)) continue;
      if (prefixes.some((p) => key === p || key.startsWith(p.endsWith(nodePath.sep) ? p : p + nodePath.sep))) {
        this.entries.delete(key);
        this.changed = true;
      }
    }
  }

  /** Writes the whole cache beside FILE and renames it over FILE: a reader sees the old or the new, never half. */
  save(warn: (s: string) => void): void {
    if (!this.writable || !this.changed) return;
    const header: CacheHeader = { ...this.header, written: new Date().toISOString() };
    const tmp = nodePath.join(nodePath.dirname(this.file), `.${nodePath.basename(this.file)}.${process.pid}.${Math.random().toString(36).slice(2, 10)}.tmp`);
    let fd: number | undefined;
    try {
      fd = fs.openSync(tmp, "wx", 0o600);
      fs.writeSync(fd, JSON.stringify(header) + "\n");
      const digest = createHash("sha256");
      let lines: string[] = [];
      const flush = (): void => {
        if (lines.length === 0) return;
        const bytes = Buffer.from(lines.join("\n") + "\n", "utf8");
        digest.update(bytes);
        fs.writeSync(fd!, bytes);
        lines = [];
      };
      // Keys are latin1 byte strings (one char per path byte); JSON keeps each char as it is.
      for (const [key, e] of this.entries) {
        lines.push(JSON.stringify([key, e]));
        if (lines.length >= 4096) flush();
      }
      flush();
      fs.writeSync(fd, JSON.stringify({ end: this.entries.size, sha256: digest.digest("hex") }) + "\n");
      fs.fsyncSync(fd);
      fs.closeSync(fd);
      fd = undefined;
      fs.renameSync(tmp, this.file);
    } catch (err) {
      if (fd !== undefined) fs.closeSync(fd);
      fs.rmSync(tmp, { force: true });
      warn(`--cache ${this.file}: not written: ${(err as Error).message}`);
    }
  }
}

function strip(r: ScanResult): Stored {
  const { path: _p, pathBytes: _b, root: _r, ms: _m, cached: _c, ...rest } = r;
  return rest;
}
