// The text format, for a person at a terminal and for grep: one line per finding and one per
// problem, each starting with the path, then a summary block. Policy skips (symlinks, devices,
// ...) are only counted unless --all. Colour only when asked; file names are made printable.
import {
  POLICY_SKIPS,
  type Finding,
  type ReasonCode,
  type RunInfo,
  type ScanResult,
  type Summary,
} from "../types";
import { displayChain } from "./document";
import type { Output } from "./output";
import { isPolicySkip } from "./reasons";
import type { ReportSink, SinkOptions } from "./sink";
import { attributionText, CORE_PACK } from "../signatures/attribution"; // issue 10

/** Matched strings listed per finding line; the rest is counted. */
const STRINGS_SHOWN = 4;

type Style = "red" | "boldRed" | "yellow" | "green" | "magenta" | "dim" | "bold";
const ANSI: Record<Style, string> = {
  red: "\x1b[31m",
  boldRed: "\x1b[1;31m",
  yellow: "\x1b[33m",
  green: "\x1b[32m",
  magenta: "\x1b[35m",
  dim: "\x1b[2m",
  bold: "\x1b[1m",
};
const RESET = "\x1b[0m";

type Paint = (style: Style, s: string) => string;

export function textSink(out: Output, opts: SinkOptions): ReportSink {
  const paint: Paint = opts.color ? (style, s) => ANSI[style] + s + RESET : (_style, s) => s;
  return {
    begin(_run: RunInfo): void {},
    result(r: ScanResult): void {
      const lines = resultLines(r, opts.all, paint);
      if (lines.length > 0) out.write(lines.join("\n") + "\n");
    },
    end(summary: Summary, _run: RunInfo): Promise<void> {
      return out.finish(summaryBlock(summary, paint));
    },
    ready: () => out.ready(),
  };
}

export function resultLines(r: ScanResult, all: boolean, paint: Paint): string[] {
  const path = printable(displayChain(r)) + ":";
  // issue 14: where a finding is known (--baseline) or its file was not scanned again (--cache).
  const marks = (f: Finding): string => (f.baselined === true ? " " + paint("dim", "[baselined]") : "") + (r.cached === true ? " " + paint("dim", "[cached]") : "");
  const lines = r.findings.map((f) => `${path} ${findingText(f, paint)}${marks(f)}`);
  switch (r.verdict) {
    case "clean":
    case "detected":
      // A reason here means the file was only partly scanned (a detection in the part read).
      if (r.reason !== undefined && !POLICY_SKIPS.has(r.reason.code)) {
        lines.push(`${path} ${problemText(r.reason.code, "PARTIAL", r.reason.message, paint)}`);
      } else if (r.verdict === "clean" && all) {
        lines.push(`${path} ${paint("green", "OK")}`);
      }
      break;
    case "partial":
    case "error":
    case "skipped": {
      if (isPolicySkip(r) && !all) break;
      const label = r.verdict === "partial" ? "PARTIAL" : r.verdict === "error" ? "ERROR" : "SKIPPED";
      const code = r.reason?.code ?? "unknown";
      lines.push(`${path} ${problemText(code, label, r.reason?.message ?? "", paint)}`);
      break;
    }
    default: {
      const never: never = r.verdict;
      throw new Error(`unknown verdict ${String(never)}`);
    }
  }
  return lines;
}

function findingText(f: Finding, paint: Paint): string {
  const where = f.namespace === "" ? f.engine : `${f.engine} ${printable(f.namespace)}`;
  let text =
    `${paint("boldRed", printable(f.rule))} ${paint("red", "FOUND")} ` +
    `(${severityText(f, paint)}, ${where})`;
  if (f.description !== "") text += " " + printable(f.description);
  // issue 10: third-party rules name their author, pack and licence (DRL 1.1 asks for the author)
  if (f.pack !== undefined && f.pack !== CORE_PACK) text += " " + paint("dim", printable(attributionText(f)));
  const detail = matchDetail(f);
  if (detail !== "") text += " " + paint("dim", `[${detail}]`);
  return text;
}

function severityText(f: Finding, paint: Paint): string {
  switch (f.severity) {
    case "critical":
    case "high":
      return paint("red", f.severity);
    case "medium":
      return paint("yellow", f.severity);
    case "low":
      return f.severity;
    default: {
      const never: never = f.severity;
      throw new Error(`unknown severity ${String(never)}`);
    }
  }
}

/** "$a@0x1f0 $b@0x2000 +3 more" for YARA, "sha256" for a hash match. */
export function matchDetail(f: Finding): string {
  if (f.hash !== undefined) return `${f.hash.algorithm} ${f.hash.value}`;
  const strings = f.strings ?? [];
  if (strings.length === 0) return "";
  const shown = strings
    .slice(0, STRINGS_SHOWN)
    .map((s) => `${printable(s.id)}@0x${s.offset.toString(16)}`);
  const more = strings.length - shown.length;
  if (more > 0) shown.push(`+${more} more`);
  if (f.stringsTruncated === true) shown.push("(capped)");
  return shown.join(" ");
}

function problemText(code: string, label: "PARTIAL" | "SKIPPED" | "ERROR", message: string, paint: Paint): string {
  const style: Style = label === "ERROR" ? "magenta" : "yellow";
  const text = `${code} ${paint(style, label)}`;
  return message === "" ? text : `${text} (${printable(message)})`;
}

export function summaryBlock(s: Summary, paint: Paint): string {
  const lines = ["", "----------- SCAN SUMMARY -----------"];
  const row = (name: string, value: string): void => {
    lines.push(`${(name + ":").padEnd(14)}${value}`);
  };
  row(
    "Files",
    `${s.files} (${s.clean} clean, ${s.detected} detected, ${s.partial} partial, ` +
      `${s.skipped} skipped, ${s.error} error)`,
  );
  if (s.members > 0) row("Members", `${s.members} (inside archives and compressed files; not counted as files)`);
  const notes = [
    ...(s.baselined !== undefined ? [`${s.findings - s.baselined} new, ${s.baselined} in the baseline`] : []), // issue 14
    ...(s.suppressed > 0 ? [`${s.suppressed} suppressed by --allow or --exclude-rule/--exclude-tag`] : []),
  ];
  row("Findings", notes.length > 0 ? `${s.findings} (${notes.join("; ")})` : String(s.findings));
  if (s.cached !== undefined) row("Cached", `${s.cached} file(s) unchanged since the last scan, results from --cache`); // issue 14
  const entries = Object.entries(s.reasons).sort(([a], [b]) => a.localeCompare(b));
  const policy = entries.filter(([code]) => POLICY_SKIPS.has(code as ReasonCode));
  const problems = entries.filter(([code]) => !POLICY_SKIPS.has(code as ReasonCode));
  row(
    "Incomplete",
    problems.length === 0
      ? String(s.incomplete)
      : `${s.incomplete} (${problems.map(([code, n]) => `${code} ${n}`).join(", ")})`,
  );
  if (policy.length > 0) {
    row("Not scanned", policy.map(([code, n]) => `${code} ${n}`).join(", ") + " (by policy)");
  }
  row("Data scanned", `${humanBytes(s.bytesScanned)} (${s.bytesScanned} bytes)`);
  row("Time", `${(s.durationMs / 1000).toFixed(2)} s`);
  if (s.interrupted !== undefined) row("Interrupted", `by ${s.interrupted}: only the files scanned before it are reported`);
  row("Outcome", outcome(s, paint));
  return lines.join("\n") + "\n";
}

function outcome(s: Summary, paint: Paint): string {
  switch (s.status) {
    case "clean":
      if ((s.baselined ?? 0) > 0) return `${paint("green", "CLEAN")} (exit 0): nothing new found (${s.baselined} finding(s) in the baseline), every file fully scanned`; // issue 14
      return `${paint("green", "CLEAN")} (exit 0): nothing found, every file fully scanned`;
    case "detected":
      return (
        `${paint("boldRed", "DETECTED")} (exit 1): ${s.detected} file(s) matched a signature` +
        (s.incomplete > 0 ? `; ${s.incomplete} not fully scanned` : "")
      );
    case "incomplete":
      return (
        `${paint("yellow", "INCOMPLETE")} (exit 2): nothing ${(s.baselined ?? 0) > 0 ? "new " : ""}found, but ` +
        `${s.incomplete} file(s) were not fully scanned`
      );
    default: {
      const never: never = s.status;
      throw new Error(`unknown status ${String(never)}`);
    }
  }
}

export function humanBytes(n: number): string {
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let value = n;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return unit === 0 ? `${n} B` : `${value.toFixed(1)} ${units[unit]}`;
}

/**
 * A file name or rule text made safe for one terminal line: control characters (a newline would
 * forge a second result line, ESC would inject terminal sequences) and the bidirectional
 * overrides used to disguise names ("Trojan Source") are written as \xNN or \u{NNNN}.
 */
export function printable(s: string): string {
  return s.replace(/[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g, (c) => {
    const code = c.charCodeAt(0);
    return code < 0x100 ? `\\x${code.toString(16).padStart(2, "0")}` : `\\u{${code.toString(16)}}`;
  });
}
