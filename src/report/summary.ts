// Folds the stream of results into the run's Summary and its exit code (ClamAV's convention:
// 0 clean and complete, 1 something detected, 2 nothing detected but something not fully scanned).
// Every sink gets the same Summary, so the exit code and what each format reports cannot disagree.
import { performance } from "node:perf_hooks";
import { isIncomplete, type ExitCode, type ScanResult, type Summary, type Verdict } from "../types";

export class Summarizer {
  private readonly byVerdict: Record<Verdict, number> = {
    clean: 0,
    detected: 0,
    partial: 0,
    skipped: 0,
    error: 0,
  };
  private incomplete = 0;
  private findings = 0;
  private suppressed = 0;
  private members = 0;
  private bytesScanned = 0;
  private readonly reasons = new Map<string, number>();
  // issue 14: --baseline and --cache counts
  private baselined = 0;
  private cached = 0;

  /** `startedAt` is a performance.now() reading; durationMs counts from it unless given. */
  constructor(
    private readonly startedAt: number = performance.now(),
    private readonly counts: { baseline?: boolean; cache?: boolean } = {},
  ) {}

  add(r: ScanResult): void {
    this.findings += r.findings.length;
    for (const f of r.findings) if (f.baselined === true) this.baselined += 1;
    if (r.cached === true && r.members === undefined) this.cached += 1;
    this.suppressed += r.suppressed?.length ?? 0;
    // A member is not a file: its detection or problem already shows in its top-level file's
    // verdict (which is what files, incomplete, reasons and the exit code count).
    if (r.members !== undefined) return;
    this.members += r.container?.members ?? 0;
    this.byVerdict[r.verdict] += 1;
    if (isIncomplete(r)) this.incomplete += 1;
    if (r.reason !== undefined) {
      this.reasons.set(r.reason.code, (this.reasons.get(r.reason.code) ?? 0) + 1);
    }
    switch (r.verdict) {
      case "clean":
      case "detected":
      case "partial":
        // Bytes read this run: a result from --cache was not read again.
        if (r.cached !== true) this.bytesScanned += r.size ?? 0;
        break;
      case "skipped":
      case "error":
        break;
      default: {
        const never: never = r.verdict;
        throw new Error(`unknown verdict ${String(never)}`);
      }
    }
  }

  summary(durationMs: number = performance.now() - this.startedAt): Summary {
    const v = this.byVerdict;
    // A finding on a result that is not "detected" should not happen, but it still is a detection
    // (and a member's finding always is one, whatever its file's result says).
    // With a baseline only new findings count (a file's result holds its own findings, members theirs).
    const detections = this.counts.baseline === true ? this.findings - this.baselined : v.detected + (this.findings > 0 ? 1 : 0);
    const exitCode = exitCodeFor(detections, this.incomplete);
    // Sorted so that two runs over the same files print the same document.
    const reasons: Record<string, number> = {};
    for (const code of [...this.reasons.keys()].sort()) reasons[code] = this.reasons.get(code)!;
    return {
      files: v.clean + v.detected + v.partial + v.skipped + v.error,
      clean: v.clean,
      detected: v.detected,
      partial: v.partial,
      skipped: v.skipped,
      error: v.error,
      incomplete: this.incomplete,
      findings: this.findings,
      suppressed: this.suppressed,
      members: this.members,
      bytesScanned: this.bytesScanned,
      durationMs: Math.max(0, Math.round(durationMs)),
      reasons,
      exitCode,
      status: statusOf(exitCode),
      ...(this.counts.baseline === true ? { baselined: this.baselined } : {}),
      ...(this.counts.cache === true ? { cached: this.cached } : {}),
    };
  }
}

export function exitCodeFor(detections: number, incomplete: number): ExitCode {
  if (detections > 0) return 1;
  return incomplete > 0 ? 2 : 0;
}

export function statusOf(code: ExitCode): Summary["status"] {
  switch (code) {
    case 0:
      return "clean";
    case 1:
      return "detected";
    case 2:
      return "incomplete";
    default: {
      const never: never = code;
      throw new Error(`unknown exit code ${String(never)}`);
    }
  }
}
