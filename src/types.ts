// The data that flows between ring3's stages: walk -> pool -> engines -> report.
// Everything here is plain, structured-cloneable data (it crosses worker boundaries).

export type Severity = "low" | "medium" | "high" | "critical";
export const SEVERITIES: readonly Severity[] = ["low", "medium", "high", "critical"];

/** One matched string of a YARA rule (capped per string, see MAX_STRING_MATCHES). */
export interface StringMatch {
  id: string; // "$a"
  offset: number;
  length: number;
}

export interface Finding {
  engine: "hash" | "yara";
  /** The rule's stable `id` metadata, where it has one ("ring3.test.eicar"). */
  id?: string;
  /** Rule identifier (YARA) or signature name (hash list). */
  rule: string;
  /** YARA namespace, or the hash list's file name for hash signatures. */
  namespace: string;
  severity: Severity;
  description: string;
  references: string[];
  tags: string[];
  /** YARA only: matched strings, at most MAX_STRING_MATCHES per string id. */
  strings?: StringMatch[];
  /** True when `strings` was cut to the cap. */
  stringsTruncated?: boolean;
  /** What to do about it, from the rule's `action` metadata (shown in text help and SARIF help). */
  action?: string;
  /** Hash only: which digest matched. */
  hash?: { algorithm: "md5" | "sha1" | "sha256"; value: string };
  /** issue 14: already in the --baseline report (same rule id, same SHA-256): known, not new. */
  baselined?: true;
  /** Issue 10: the signature pack the rule comes from ("ring3", "signature-base", ...). */
  pack?: string;
  /** Issue 10: the rule's author (its `author` metadata); DRL 1.1 asks that matches name it. */
  author?: string;
  /** Issue 10: the pack's licence (SPDX id). */
  license?: string;
}

export const MAX_STRING_MATCHES = 10;

/** Why a file was not (fully) scanned. `code` is stable and documented; `message` is for people. */
export interface Reason {
  code: ReasonCode;
  message: string;
}

/**
 * Reason codes. Those in POLICY_SKIPS are choices (the user's or ring3's defaults) and do not make
 * the exit code 2; every other skipped/partial/error reason means "not fully scanned".
 */
export type ReasonCode =
  | "symlink" // a symbolic link, not followed (default; --follow-symlinks)
  | "not-regular" // FIFO, socket, device: never opened
  | "other-filesystem" // --one-file-system
  | "virtual-filesystem" // /proc, /sys, /dev
  | "loop" // a directory already visited through a symlink
  | "permission-denied"
  | "vanished" // deleted or renamed between walk and read
  | "io-error"
  | "max-filesize" // partial: hashed but not pattern-matched
  | "timeout" // partial or error: --timeout-per-file reached
  | "worker-crash" // error: the worker died on this file
  | "engine-error" // error: an engine failed on this file
  // Inside containers (archives, compressed files): partial, never a policy skip.
  | "archive-depth" // a container nested deeper than --archive-depth, not opened
  | "archive-members" // more members than --archive-max-members
  | "archive-total-size" // more unpacked bytes below one file than --archive-max-size
  | "archive-member-size" // a member larger than --archive-max-member-size
  | "archive-ratio" // a member expands more than --archive-max-ratio (zip bombs)
  | "archive-time" // unpacking took longer than --archive-timeout
  | "archive-encrypted" // an encrypted member: its bytes cannot be read
  | "archive-unsupported" // a compression method or format variant ring3 cannot unpack
  | "archive-corrupt"; // truncated or damaged container data

export const POLICY_SKIPS: ReadonlySet<ReasonCode> = new Set([
  "symlink",
  "not-regular",
  "other-filesystem",
  "virtual-filesystem",
  "loop",
]);

export type Verdict = "clean" | "detected" | "partial" | "skipped" | "error";

export interface FileHashes {
  sha256?: string;
  sha1?: string;
  md5?: string;
}

/** A finding removed by the user's false-positive controls, and by which. */
export interface Suppression {
  engine: Finding["engine"];
  rule: string;
  namespace: string;
  id?: string;
  by: "allow" | "exclude-rule" | "exclude-tag";
  /** The allowlist entry's source, or the pattern / tag that matched. */
  match: string;
}

/** The one result every file that passes the filters ends as. */
export interface ScanResult {
  verdict: Verdict;
  /** Display path (see util/paths.ts: invalid UTF-8 bytes are written as \xNN). */
  path: string;
  /** Exact path bytes, base64, present only when the path is not valid UTF-8. */
  pathBytes?: string;
  /** The scan root (as given on the command line) this file was found under. */
  root: string;
  size: number | null;
  hashes: FileHashes;
  findings: Finding[];
  /** Set for partial, skipped and error; may also accompany detected (detected in the part scanned). */
  reason?: Reason;
  /** Findings an allowlist or an --exclude-rule/--exclude-tag removed: counted, never hidden. */
  suppressed?: Suppression[];
  /** Wall time the worker spent on this file, milliseconds. */
  ms?: number;
  /**
   * For a member inside a container: the member names below `path` (the top-level file),
   * outermost first, in display form (invalid UTF-8 as \xNN). Never a file-system path.
   */
  members?: string[];
  /** Exact bytes of each name in `members`, base64 (null where valid UTF-8); only when one is not. */
  membersBytes?: (string | null)[];
  /** Set when the file or member was opened as a container: what was found inside. */
  container?: ContainerStats;
  /** issue 14: taken from --cache (the file is unchanged since it was scanned), not scanned again. */
  cached?: true;
}

/** What a container held, counted over every depth below it. */
export interface ContainerStats {
  /** The layers opened, outermost first: ["gzip", "tar"] for a .tar.gz. */
  format: string[];
  /** Members scanned below it (clean ones included), every depth. */
  members: number;
  /** Of those, members with findings of their own. */
  detected: number;
  /** Members and nested containers not fully scanned (each has its own result with the reason). */
  incomplete: number;
}

/** True when a result means "something was not fully scanned" for the exit code. */
export function isIncomplete(r: ScanResult): boolean {
  switch (r.verdict) {
    case "clean":
    case "detected":
      return r.reason !== undefined && !POLICY_SKIPS.has(r.reason.code);
    case "partial":
    case "error":
      return true;
    case "skipped":
      return r.reason === undefined || !POLICY_SKIPS.has(r.reason.code);
    default: {
      const never: never = r.verdict;
      throw new Error(`unknown verdict ${String(never)}`);
    }
  }
}

/** What the report says about the signature set in use. */
export interface SignatureInfo {
  /** signatures/VERSION of the bundled set ("none" with --no-bundled). */
  version: string;
  /** sha256 over the bundled set's files, first 16 hex digits. */
  contentId: string;
  yaraRules: number;
  hashSignatures: number;
  /** Where signatures came from: "bundled" and each --rules / --hashes path. */
  sources: string[];
}

export interface RunInfo {
  tool: { name: "ring3"; version: string };
  signatures: SignatureInfo;
  scan: {
    roots: string[];
    cwd: string;
    /** The options that shape results (formats and output paths excluded). */
    options: Record<string, unknown>;
    start: string; // ISO 8601
    end?: string; // set in end()
  };
}

export type ExitCode = 0 | 1 | 2;

export interface Summary {
  /** Top-level results seen (files and standard input), by verdict; members are not files. */
  files: number;
  clean: number;
  detected: number;
  partial: number;
  skipped: number;
  error: number;
  /** Results that make the scan incomplete (see isIncomplete). */
  incomplete: number;
  /** Findings over every result, members' included (a file's result holds only its own). */
  findings: number;
  /** Findings removed by --allow, --exclude-rule and --exclude-tag. */
  suppressed: number;
  /** Members scanned inside containers, every depth, clean ones included (not in `files`). */
  members: number;
  bytesScanned: number;
  durationMs: number;
  /** Reason code -> count, over top-level results with a reason (a member's own reason is on its result). */
  reasons: Record<string, number>;
  exitCode: ExitCode;
  /** What the exit code means: "clean" (0), "detected" (1), "incomplete" (2). */
  status: "clean" | "detected" | "incomplete";
  /** issue 14, with --baseline: findings already in the baseline (not new; they do not make the exit code 1). */
  baselined?: number;
  /** issue 14, with --cache: files whose result came from the cache, not scanned again. */
  cached?: number;
  /** Issue 13: the signal that stopped the scan before every file was reached (the report covers the files scanned so far). */
  interrupted?: "SIGINT" | "SIGTERM" | "SIGHUP";
}

/** A report format: a small sink over the one stream of results (ripgrep's printer habit). */
export interface Sink {
  begin(run: RunInfo): void;
  /** Called once per result, in arrival order. */
  result(r: ScanResult): void;
  /** Flushes and closes; returns when the output is written. */
  end(summary: Summary, run: RunInfo): Promise<void>;
}
