// "Scan these bytes": hash signatures and YARA on one buffer, then, when the buffer is a container
// (archive or compressed stream), the same scan on every member, recursively, within one Budget
// per top-level file. The file stage (file.ts) calls it for a file's bytes with what its read pass
// already computed; members re-enter it. Member names are data only: they name results and never
// reach the file system.
import { createBudget, identify, openContainer, releaseMember } from "../containers";
import type { Budget, ContainerFormat, ContainerProblem, Limits, Member } from "../containers/types";
import type { HashDb } from "../engines/hash/db";
import { digestBytes } from "../engines/hash/digest";
import type { YaraEngine } from "../engines/yara/engine";
import { fileExternals } from "../engines/yara/filetype";
import type { FileExternals } from "../engines/yara/yarax";
import type { ContainerStats, FileHashes, Finding, Reason, ScanResult } from "../types";
import { displayPath } from "../util/paths";
import { overReason, sizePlan } from "./match";
import { verdictOf } from "./verdict";

export interface Engines {
  hashDb?: HashDb;
  yara?: YaraEngine;
  /** Per-call YARA timeout, ms (0: none); tells a timeout from a trap. */
  yaraTimeoutMs: number;
  /** --max-filesize: a member larger than this is hashed, not pattern-matched nor opened. */
  maxFilesize: number;
  /** --all: clean members are reported (and hashed) too. */
  reportClean: boolean;
  /** Container budgets; null with --no-archives. */
  limits: Limits | null;
}

/** YARA failed inside its WASM instance; the instance is not to be trusted with another file. */
export class EngineTrap extends Error {}

/** Compressed single streams: when one holds a container, it is a transparent layer. */
const STREAMS: ReadonlySet<ContainerFormat> = new Set(["gzip", "bzip2", "xz", "zstd"]);
/** Transparent layers in a row before the next one counts as a member (a gzip of a gzip of ...). */
const MAX_STREAM_LAYERS = 3;

/** The top-level file the bytes belong to: every member result repeats its path and root. */
export interface TopLevel {
  path: string;
  pathBytes?: string;
  root: string;
  /** The file's own name for YARA's filename/extension externals ("" for standard input). */
  name: string;
  /** Absolute path for YARA's filepath external ("" for standard input). */
  filepath: string;
  owner: string;
}

export interface Inspected {
  /** The top-level file's result, without `ms`; verdict rolled up from its members. */
  result: ScanResult;
  /** Member results to report, in archive order (outer before inner); clean ones only with --all. */
  members: ScanResult[];
}

interface Link {
  display: string;
  bytes?: string;
}

/** What the file stage's read pass already did for the top-level file. */
export interface ReadPass {
  /** Digests computed while reading: at least those the hash lists want for this size. */
  hashes: FileHashes;
  /** YARA on the whole file through the stage's one engine call (match.ts), instead of engines.yara.scan. */
  yara?: (ext: FileExternals) => Finding[];
}

/** One scan of a top-level file's bytes (already read whole: at most --max-filesize). */
export function inspectFile(data: Uint8Array, top: TopLevel, engines: Engines, read?: ReadPass, now?: () => number): Inspected {
  const walk = new Walk(top, engines, now);
  const own = walk.bytes(data, [], top.name, top.filepath, read);
  const stats = own.container;
  let reason = own.reason;
  const first = walk.firstProblem;
  if (reason === undefined && stats !== undefined && stats.incomplete > 0 && first !== undefined) {
    reason = {
      code: first.reason.code,
      message: `${stats.incomplete} member(s) inside not fully scanned; first: '${first.where}': ${first.reason.message}`,
    };
  }
  reason ??= walk.budgetProblem();
  const verdict = verdictOf(own.findings.length + (stats?.detected ?? 0), reason, true);
  const detected = verdict === "detected";
  const result: ScanResult = {
    verdict,
    path: top.path,
    ...(top.pathBytes !== undefined ? { pathBytes: top.pathBytes } : {}),
    root: top.root,
    size: data.length,
    hashes: finalHashes(data, own.hashes, detected, reason !== undefined || engines.reportClean),
    findings: own.findings,
  };
  if (reason) result.reason = reason;
  if (stats) result.container = stats;
  return { result, members: walk.out.filter((r): r is ScanResult => r !== undefined) };
}

interface Scanned {
  findings: Finding[];
  hashes: FileHashes;
  reason?: Reason;
  container?: ContainerStats;
}

/** The state of one top-level file's scan: its budget, the member results so far. */
class Walk {
  readonly out: (ScanResult | undefined)[] = [];
  readonly budget: (Budget & { problem?: ContainerProblem }) | undefined;
  /** The first problem below the top-level file, for its reason. */
  firstProblem?: { where: string; reason: Reason };

  constructor(
    private readonly top: TopLevel,
    private readonly engines: Engines,
    now?: () => number,
  ) {
    this.budget = engines.limits ? createBudget(engines.limits, now) : undefined;
  }

  budgetProblem(): Reason | undefined {
    const p = this.budget?.problem;
    return p ? { code: p.code, message: p.message } : undefined;
  }

  /** Scans one buffer at `chain` (empty: the top-level file); opens it if it is a container. */
  bytes(data: Uint8Array, chain: Link[], name: string, filepath: string, read?: ReadPass): Scanned {
    const e = this.engines;
    // A member is in memory already; over the limit it is hashed only (the archive budgets bound it).
    if (chain.length > 0 && sizePlan(data.length, e.maxFilesize) === "over") {
      const hashes = digestBytes(data, { md5: true, sha1: true, sha256: true });
      return {
        findings: e.hashDb ? e.hashDb.lookup(data.length, hashes) : [],
        hashes,
        reason: overReason(data.length, e.maxFilesize, null)!,
      };
    }
    const own = this.match(data, name, filepath, read);
    const format = e.limits && this.budget ? identify(data) : null;
    if (format === null) return own;
    if (chain.length >= e.limits!.maxDepth) {
      own.reason ??= { code: "archive-depth", message: `a ${format} container nested deeper than --archive-depth ${e.limits!.maxDepth}: not opened` };
      return own;
    }
    const stats: ContainerStats = { format: [format], members: 0, detected: 0, incomplete: 0 };
    const problems: Reason[] = [];
    this.open(format, data, chain, name, stats, problems, 0);
    if (problems.length > 0) {
      // The container's own problems: the member results say the rest.
      own.reason ??= problems.length === 1 ? problems[0] : { code: problems[0].code, message: `${problems[0].message} (and ${problems.length - 1} more problem(s))` };
    }
    own.container = stats;
    return own;
  }

  /** Yields members of `data` into results; a stream holding a container is opened in place. */
  private open(format: ContainerFormat, data: Uint8Array, chain: Link[], name: string, stats: ContainerStats, problems: Reason[], layers: number): void {
    const budget = this.budget!;
    for (const m of openContainer(format, data, budget)) {
      if (m.name.length === 0 && m.data === undefined) {
        // A problem of the container as a whole (truncated directory, bad header, a budget).
        if (m.problem) this.problem(problems, chain, m.problem);
        continue;
      }
      if (!budget.inTime()) {
        this.problem(problems, chain, { code: "archive-time", message: `unpacking stopped after --archive-timeout ${budget.limits.maxTimeMs / 1000}s` });
        break;
      }
      if (STREAMS.has(format) && m.data !== undefined && layers < MAX_STREAM_LAYERS) {
        const inner = identify(m.data);
        if (inner !== null) {
          // pkg.tgz!package/index.js, not pkg.tgz!pkg.tar!package/index.js: the stream's
          // problem (say, truncated) is the container's own, the tar's members are its members.
          if (m.problem) this.problem(problems, chain, m.problem);
          stats.format.push(inner);
          this.open(inner, m.data, chain, name, stats, problems, layers + 1);
          releaseMember(m);
          continue;
        }
      }
      this.member(m, chain, STREAMS.has(format) || format === "szdd" ? streamName(name) : "", stats); // szdd: issue 11
      // Its result holds digests, not bytes: the unpacked bytes can go now (issue 9, peak RSS).
      releaseMember(m);
    }
  }

  private member(m: Member, chain: Link[], fallbackName: string, parent: ContainerStats): void {
    const raw = m.name.length > 0 ? m.name : new TextEncoder().encode(fallbackName || "-");
    const shown = displayPath(Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength));
    const link: Link = { display: shown.path, ...(shown.pathBytes !== undefined ? { bytes: shown.pathBytes } : {}) };
    const here = [...chain, link];
    const slot = this.out.length;
    this.out.push(undefined); // outer members come before what is found inside them

    let scanned: Scanned;
    if (m.data === undefined) scanned = { findings: [], hashes: {} };
    else {
      const base = baseName(shown.path);
      scanned = this.bytes(m.data, here, base, [this.top.path, ...here.map((l) => l.display)].join("!"));
    }
    // The member's own problem (encrypted, cut short by a budget) comes before what is inside.
    const reason: Reason | undefined = m.problem ? { code: m.problem.code, message: m.problem.message } : scanned.reason;
    if (reason) this.note(here, reason);
    const detected = scanned.findings.length > 0;

    const inner = scanned.container;
    parent.members += 1 + (inner?.members ?? 0);
    parent.detected += (detected ? 1 : 0) + (inner?.detected ?? 0);
    parent.incomplete += (reason ? 1 : 0) + (inner?.incomplete ?? 0);

    // A member's verdict is its own: what lies below it has results of its own.
    const verdict = verdictOf(scanned.findings.length, reason, true);
    if (verdict === "clean" && !this.engines.reportClean) return;
    const data = m.data ?? new Uint8Array(0);
    const r: ScanResult = {
      verdict,
      path: this.top.path,
      ...(this.top.pathBytes !== undefined ? { pathBytes: this.top.pathBytes } : {}),
      root: this.top.root,
      size: m.data === undefined ? null : m.data.length,
      hashes: m.data === undefined ? {} : finalHashes(data, scanned.hashes, detected, true),
      findings: scanned.findings,
      members: here.map((l) => l.display),
    };
    if (here.some((l) => l.bytes !== undefined)) r.membersBytes = here.map((l) => l.bytes ?? null);
    if (reason) r.reason = reason;
    if (inner) r.container = inner;
    this.out[slot] = r;
  }

  private problem(problems: Reason[], chain: Link[], p: ContainerProblem): void {
    const reason = { code: p.code, message: p.message };
    problems.push(reason);
    // A nested container's problem counts as one incomplete part of the top-level file; the
    // top-level container's own problem is the file's own reason.
    if (chain.length > 0) this.note(chain, p);
  }

  private note(chain: Link[], p: Reason | ContainerProblem): void {
    this.firstProblem ??= { where: [this.top.path, ...chain.map((l) => l.display)].join("!"), reason: { code: p.code, message: p.message } };
  }

  /** Hash signatures, then YARA, on one buffer (the read pass's digests and engine call for the file itself). */
  private match(data: Uint8Array, name: string, filepath: string, read?: ReadPass): Scanned {
    const e = this.engines;
    const findings: Finding[] = [];
    let hashes: FileHashes = read?.hashes ?? {};
    let reason: Reason | undefined;
    if (e.hashDb) {
      const need = e.hashDb.algorithmsFor(data.length);
      if (!read && (need.md5 || need.sha1 || need.sha256)) hashes = digestBytes(data, need);
      if (need.md5 || need.sha1 || need.sha256) findings.push(...e.hashDb.lookup(data.length, hashes));
    }
    if (e.yara) {
      const ext = fileExternals(name, filepath, this.top.owner, data);
      const out = runYara(() => (read?.yara ? read.yara(ext) : e.yara!.scan(data, ext)), e.yaraTimeoutMs);
      findings.push(...out.findings);
      reason = out.reason;
    }
    return reason ? { findings, hashes, reason } : { findings, hashes };
  }
}

/**
 * One YARA call: a timeout is the file's reason (partial); any other failure means the engine's
 * instance is not to be trusted with another file (EngineTrap: the pool retries on a fresh worker).
 */
export function runYara<T extends { findings: Finding[] }>(call: () => T | Finding[], timeoutMs: number): { findings: Finding[]; reason?: Reason; out?: T } {
  const y0 = performance.now();
  try {
    const out = call();
    return Array.isArray(out) ? { findings: out } : { findings: out.findings, out };
  } catch (err) {
    if (err instanceof EngineTrap) throw err;
    const msg = err instanceof Error ? err.message : String(err);
    // The file shrank under the reads of the conditions or modules (races.test.ts): the engine is
    // fine, and a fresh worker would read the same short file.
    const code = (err as NodeJS.ErrnoException).code;
    if (code === "ECHANGED") return { findings: [], reason: { code: "io-error", message: msg } };
    if (code === "ESHRANK") return { findings: [], reason: { code: "io-error", message: `the file changed while being scanned (${msg})` } };
    const timedOut = /timeout/i.test(msg) || (timeoutMs > 0 && performance.now() - y0 >= timeoutMs);
    if (!timedOut) throw new EngineTrap(msg); // this instance is unusable now: see yarax.ts
    return { findings: [], reason: { code: "timeout", message: `YARA scan stopped after --timeout-per-file ${timeoutMs / 1000}s` } };
  }
}

/** Detected bytes carry all three digests; others SHA-256 when shown (--all) or incomplete. Digests already computed are kept. */
export function finalHashes(data: Uint8Array, hashes: FileHashes, detected: boolean, wantSha256: boolean): FileHashes {
  const need = { md5: detected && hashes.md5 === undefined, sha1: detected && hashes.sha1 === undefined, sha256: (detected || wantSha256) && hashes.sha256 === undefined };
  if (!need.md5 && !need.sha1 && !need.sha256) return hashes;
  const all = { ...hashes, ...digestBytes(data, need) };
  // Always in the same order (md5, sha1, sha256), as the reports have shown them.
  const out: FileHashes = {};
  if (all.md5 !== undefined) out.md5 = all.md5;
  if (all.sha1 !== undefined) out.sha1 = all.sha1;
  if (all.sha256 !== undefined) out.sha256 = all.sha256;
  return out;
}

/** The last part of a member name, for YARA's filename external ("a/b/c.js" -> "c.js"). */
function baseName(name: string): string {
  const parts = name.split(/[\\/]/).filter((s) => s !== "");
  return parts.length > 0 ? parts[parts.length - 1] : name;
}

/** A compressed stream without a stored name is its container's name less the suffix. */
function streamName(container: string): string {
  const m = /^(.*?)\.(?:gz|gzip|z|bz2|bzip2|xz|zst|zstd|lz|lzma|szdd)$/i.exec(container);
  if (m && m[1] !== "") return m[1];
  const t = /^(.*)\.t(?:gz|bz2|bz|xz|zst)$/i.exec(container);
  if (t && t[1] !== "") return `${t[1]}.tar`;
  return container === "" ? "-" : container;
}
