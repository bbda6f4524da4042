// Budgets for one top-level file: the defaults (and why each value), the shared accounting that
// every reader charges, and the arithmetic readers use to size a decompression before they start
// it, so that no reader ever allocates past what the budget still allows.
import type { Budget, ContainerProblem, ContainerProblemCode, Limits } from "./types";

const MiB = 1024 * 1024;

/**
 * Defaults. Each is overridable; reaching one makes the result `partial`, never `clean`.
 * - maxDepth 8: real artifacts nest 4-5 deep (ear > war > jar > jar, deb > data.tar.xz > tar > jar);
 *   42.zip needs 6. Deeper is cheap to allow because bytes and time are budgeted separately.
 * - maxMembers 20,000: ClamAV stops at 10,000 files; fat jars reach 20-40k classes, and a member
 *   costs a scan, so beyond this the time budget would end the scan anyway.
 * - maxTotalBytes 512 MiB: what a worker may unpack for one file; with two workers the product
 *   stays far below 1 GB even when every member is held at once along a nesting chain.
 * - maxMemberSize 128 MiB: ClamAV's MaxFileSize is 100 MB; members above this are rare in
 *   software packages (disk images are the exception, and they go partial, not silent).
 * - maxRatio 200: deflate tops out at 1032:1 and bombs sit near it; real data above 1 MiB rarely
 *   compresses past 100:1 (logs, JSON). Members that unpack to 1 MiB or less are never held to it.
 * - maxTimeMs 60 s: half of ClamAV's MaxScanTime; a bomb that slips every other limit still ends.
 */
export const DEFAULT_LIMITS: Limits = Object.freeze({
  maxDepth: 8,
  maxMembers: 20_000,
  maxTotalBytes: 512 * MiB,
  maxMemberSize: 128 * MiB,
  maxRatio: 200,
  maxTimeMs: 60_000,
});

/** Unpacked sizes up to this are exempt from maxRatio: a small file of zeros is no bomb. */
export const RATIO_FLOOR = 1 * MiB;

/** createBudget's result: the contract's Budget plus what readers use to size work up front. */
export interface RingBudget extends Budget {
  /** The first budget problem met (total size or time), kept for the top-level result. */
  problem?: ContainerProblem;
  /** Bytes that may still be unpacked below this top-level file. */
  remaining(): number;
}

export function createBudget(limits: Limits, now: () => number = () => performance.now()): RingBudget {
  const start = now();
  let used = 0;
  const budget: RingBudget = {
    limits,
    problem: undefined,
    charge(bytes: number): boolean {
      used += bytes;
      if (used <= limits.maxTotalBytes) return true;
      budget.problem ??= problem("archive-total-size", `more than ${limits.maxTotalBytes} bytes unpacked (maxTotalBytes)`);
      return false;
    },
    inTime(): boolean {
      if (now() - start <= limits.maxTimeMs) return true;
      budget.problem ??= problem("archive-time", `unpacking took more than ${limits.maxTimeMs} ms (maxTimeMs)`);
      return false;
    },
    remaining(): number {
      return Math.max(0, limits.maxTotalBytes - used);
    },
  };
  return budget;
}

export function problem(code: ContainerProblemCode, message: string): ContainerProblem {
  return { code, message };
}

/** Bytes still allowed by a budget that may not be ours (a caller's own Budget has no remaining()). */
export function remainingOf(budget: Budget): number {
  const r = (budget as Partial<RingBudget>).remaining;
  return typeof r === "function" ? r.call(budget) : budget.limits.maxTotalBytes;
}

/**
 * The most a member packed in `packed` bytes may unpack to, and which budget sets that bound.
 * A decompressor given `limit` as its output cap can then never allocate past the budget; when
 * the cap is hit, `code` names the budget to report.
 */
export interface OutputCap {
  limit: number;
  code: "archive-member-size" | "archive-ratio" | "archive-total-size";
}

export function outputCap(budget: Budget, packed: number): OutputCap {
  const { maxMemberSize, maxRatio } = budget.limits;
  const ratioLimit = Math.max(RATIO_FLOOR, maxRatio * Math.max(packed, 1));
  const total = remainingOf(budget);
  let cap: OutputCap = { limit: maxMemberSize, code: "archive-member-size" };
  if (ratioLimit < cap.limit) cap = { limit: ratioLimit, code: "archive-ratio" };
  if (total < cap.limit) cap = { limit: total, code: "archive-total-size" };
  return cap;
}

export function capProblem(cap: OutputCap, budget: Budget, what: string): ContainerProblem {
  const l = budget.limits;
  switch (cap.code) {
    case "archive-member-size":
      return problem(cap.code, `${what} unpacks to more than ${l.maxMemberSize} bytes (maxMemberSize)`);
    case "archive-ratio":
      return problem(cap.code, `${what} expands more than ${l.maxRatio} times (maxRatio)`);
    case "archive-total-size":
      return problem(cap.code, `more than ${l.maxTotalBytes} bytes unpacked (maxTotalBytes)`);
  }
}

export function timeProblem(budget: Budget): ContainerProblem {
  return problem("archive-time", `unpacking took more than ${budget.limits.maxTimeMs} ms (maxTimeMs)`);
}

export function membersProblem(budget: Budget): ContainerProblem {
  return problem("archive-members", `more than ${budget.limits.maxMembers} members (maxMembers)`);
}

export const EMPTY_NAME = new Uint8Array(0);
