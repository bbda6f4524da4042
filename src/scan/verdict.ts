// The one rule that turns what a scan found and what stopped it into a verdict. Every place that
// derives a verdict (a file, a member, the large-file path, a file whose findings were
// suppressed, a container whose members' findings were) asks this function, so they cannot drift.
import type { Reason, ReasonCode, ScanResult, Verdict } from "../types";

/** What a reason says about the bytes it concerns. */
export type ReasonKind =
  /** A choice or a fact about the file that kept it from being read (a symlink, a FIFO, gone). */
  | "skip"
  /** Something broke: nothing trustworthy came of the attempt. */
  | "failure"
  /** A limit or an unreadable part: what was scanned is trustworthy, the rest was not scanned. */
  | "limit";

export function reasonKind(code: ReasonCode): ReasonKind {
  switch (code) {
    case "symlink":
    case "not-regular":
    case "other-filesystem":
    case "virtual-filesystem":
    case "loop":
    case "permission-denied":
    case "vanished":
      return "skip";
    case "io-error":
    case "worker-crash":
    case "engine-error":
      return "failure";
    case "max-filesize":
    case "timeout":
    case "archive-depth":
    case "archive-members":
    case "archive-total-size":
    case "archive-member-size":
    case "archive-ratio":
    case "archive-time":
    case "archive-encrypted":
    case "archive-unsupported":
    case "archive-corrupt":
      return "limit";
    default: {
      const never: never = code;
      throw new Error(`unknown reason code ${String(never)}`);
    }
  }
}

/**
 * The verdict of a file or a member.
 * - `found`: findings left after suppression (its own, plus, for a file that holds members, the
 *   members still detected).
 * - `reason`: why it was not fully scanned, if it was not.
 * - `scanned`: the engines answered for these bytes (in whole or in part). False for a file that
 *   never reached them (not opened, its worker died or hung): then a reason is required.
 *
 * Findings win ("detected in the part scanned"); a failure is an error; with nothing scanned a
 * skip stays a skip and a limit is an error (the pool's timeout); a scan cut short is partial.
 * Nothing without a complete scan is ever clean.
 */
export function verdictOf(found: number, reason: Reason | undefined, scanned: boolean): Verdict {
  if (found > 0 && scanned) return "detected";
  if (reason === undefined) return scanned ? "clean" : "error";
  const kind = reasonKind(reason.code);
  switch (kind) {
    case "failure":
      return "error";
    case "skip":
      return scanned ? "partial" : "skipped";
    case "limit":
      return scanned ? "partial" : "error";
    default: {
      const never: never = kind;
      throw new Error(`unknown reason kind ${String(never)}`);
    }
  }
}

/**
 * The verdict of a result that was scanned, as it stands now (after suppression removed findings
 * of it or of members below it): a top-level file counts the members still detected below it
 * (`container.detected`), a member only its own findings (what lies below a member has results
 * of its own).
 */
export function verdictOfResult(r: ScanResult): Verdict {
  const inside = r.members === undefined ? (r.container?.detected ?? 0) : 0;
  return verdictOf(r.findings.length + inside, r.reason, true);
}
