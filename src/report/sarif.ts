// The sarif format: SARIF 2.1.0 for GitHub code scanning. One SARIF result per finding, one rule
// per distinct (engine, namespace, rule), and the files that were not fully scanned as tool
// execution notifications. Written at end(): rules and %SRCROOT% are only known once all is seen.
import { createHash } from "node:crypto";
import {
  isIncomplete,
  type Finding,
  type ReasonCode,
  type RunInfo,
  type ScanResult,
  type Severity,
  type Summary,
} from "../types";
import { displayChain, type ReportedResult } from "./document";
import type { Output } from "./output";
import { REASON_DESCRIPTIONS } from "./reasons";
import type { ReportSink, SinkOptions } from "./sink";
import { attributionText } from "../signatures/attribution"; // issue 10
import {
  artifactLocation,
  byteString,
  pathStyleOf,
  isWithin,
  resolveBytes,
  uriBase,
  type ArtifactLocation,
  type PathStyle,
  encodeText,
  type UriBase,
} from "./uri";

export const SARIF_SCHEMA_URI =
  "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json";
export const INFORMATION_URI = "https://github.com/ring3/ring3";
export const SRCROOT = "%SRCROOT%";
export const FINGERPRINT_KEY = "ring3/v1";

/** GitHub rejects a run with more results than this; the most severe are kept. */
export const MAX_SARIF_RESULTS = 25_000;
/** Files listed one by one as notifications; the rest are only counted (keeps the file small). */
export const MAX_NOTIFICATIONS = 1_000;
/** GitHub shows 10 tags per rule and rejects more than 20. */
const MAX_TAGS = 10;

export const SECURITY_SEVERITY: Readonly<Record<Severity, string>> = {
  critical: "9.5",
  high: "8.0",
  medium: "5.5",
  low: "3.0",
};

const NOT_SCANNED = "A file reported with this reason was not fully scanned, so it cannot be called clean.";
const REASON_HELP =
  "Fix the cause (permissions, limits such as --max-filesize or --timeout-per-file) and scan the file again, or scan it another way.";

type Level = "error" | "warning" | "note";

export function levelOf(s: Severity): Level {
  switch (s) {
    case "critical":
    case "high":
      return "error";
    case "medium":
      return "warning";
    case "low":
      return "note";
    default: {
      const never: never = s;
      throw new Error(`unknown severity ${String(never)}`);
    }
  }
}

const SEVERITY_RANK: Readonly<Record<Severity, number>> = { critical: 0, high: 1, medium: 2, low: 3 };

/**
 * Stable and URI-safe: yara/<namespace>/<rule>, hash/<list>/<name>. A '/' inside the namespace
 * stays a separator (hash lists are named by path); the rule, always the last segment, has every
 * reserved character percent-encoded, so the id still splits unambiguously.
 */
export function ruleIdOf(f: Finding): string {
  const namespace = f.namespace
    .split("/")
    .filter((s) => s !== "")
    .map((s) => encodeText(s));
  return [f.engine, ...(namespace.length > 0 ? namespace : ["_"]), encodeText(f.rule)].join("/");
}

/** Same rule and same file content give the same fingerprint on every machine and run. */
export function fingerprintOf(ruleId: string, sha256: string): string {
  return createHash("sha256").update(`${ruleId}:${sha256}`, "utf8").digest("hex");
}

export interface SarifLimits {
  maxResults: number;
  maxNotifications: number;
}

export function sarifSink(
  out: Output,
  opts: SinkOptions,
  limits: SarifLimits = { maxResults: MAX_SARIF_RESULTS, maxNotifications: MAX_NOTIFICATIONS },
): ReportSink {
  const detected: ReportedResult[] = [];
  const incomplete: ReportedResult[] = [];
  // With --all, every hashed file (clean ones too) is listed as a run artifact with its digests.
  const scanned: ScanResult[] = [];
  let notListed = 0;
  let run: RunInfo | undefined;
  let rootIsFile = false;
  let rootAbs: string | undefined;
  let style: PathStyle = "posix";

  return {
    begin(info: RunInfo): void {
      run = info;
      style = pathStyleOf(info.scan.cwd);
      // "-" is standard input, not a directory: its result is "<stdin>" relative to the cwd.
      const only = info.scan.roots.length === 1 && info.scan.roots[0] !== "-" ? info.scan.roots[0] : undefined;
      rootAbs = only === undefined ? undefined : resolveBytes(style, info.scan.cwd, byteString(only));
    },
    result(r: ScanResult): void {
      if (!run) throw new Error("sarif sink: result() before begin()");
      // A result at the root's own path means the root is a file, so %SRCROOT% is the cwd.
      if (rootAbs !== undefined && !rootIsFile && absolutePath(r, run, style) === rootAbs) rootIsFile = true;
      if (r.findings.length > 0) detected.push(r);
      // Artifacts are files: a member's digests are on its result (properties.sha256).
      if (opts.all && hasHash(r) && r.members === undefined) scanned.push(r);
      if (isIncomplete(r)) {
        if (incomplete.length < limits.maxNotifications) incomplete.push(r);
        else notListed += 1;
      }
    },
    end(summary: Summary, info: RunInfo): Promise<void> {
      // GitHub code scanning resolves relative URIs from the repository root and ignores
      // originalUriBaseIds (codeql-action#2215). So %SRCROOT% is the working directory (a CI
      // job's checkout) whenever the scan root lies inside it, and `ring3 scan dist/` reports
      // dist/app.exe, not app.exe; only a single folder root outside it becomes %SRCROOT%.
      const cwd = resolveBytes(style, info.scan.cwd, ".");
      const useRoot = rootAbs !== undefined && !rootIsFile && !isWithin(style, cwd, rootAbs);
      const base = uriBase(style, useRoot ? rootAbs! : cwd);
      const log = buildLog({ run: info, summary, detected, incomplete, scanned, notListed, base, limits });
      return out.finish(JSON.stringify(log, null, 2) + "\n");
    },
    ready: () => out.ready(),
  };
}

function absolutePath(r: ScanResult, run: RunInfo, style: PathStyle): string {
  return resolveBytes(style, run.scan.cwd, byteString(r.path, r.pathBytes));
}

interface LogInput {
  run: RunInfo;
  summary: Summary;
  detected: ReportedResult[];
  incomplete: ReportedResult[];
  scanned: ScanResult[];
  notListed: number;
  base: UriBase;
  limits: SarifLimits;
}

interface Hit {
  r: ReportedResult;
  f: Finding;
}

export function buildLog(input: LogInput): Record<string, unknown> {
  const { run, summary, base } = input;
  const style = base.style;
  const locate = (r: ScanResult): ArtifactLocation =>
    artifactLocation(absolutePath(r, run, style), base, SRCROOT);

  let hits: Hit[] = input.detected.flatMap((r) => r.findings.map((f) => ({ r, f })));
  const omitted = Math.max(0, hits.length - input.limits.maxResults);
  if (omitted > 0) {
    // Array.prototype.sort is stable: within a severity, arrival order stays.
    hits = [...hits].sort((a, b) => SEVERITY_RANK[a.f.severity] - SEVERITY_RANK[b.f.severity]);
    hits = hits.slice(0, input.limits.maxResults);
  }

  const rules: Record<string, unknown>[] = [];
  const ruleIndex = new Map<string, number>();
  const results = hits.map(({ r, f }) => {
    const id = ruleIdOf(f);
    let index = ruleIndex.get(id);
    if (index === undefined) {
      index = rules.length;
      ruleIndex.set(id, index);
      rules.push(ruleOf(id, f));
    }
    return resultOf(r, f, id, index, locate(r), run.scan.options.baseline !== undefined);
  });

  const reasonCodes: ReasonCode[] = [];
  const notifications: Record<string, unknown>[] = input.incomplete.map((r) => {
    const code = r.reason?.code;
    let descriptor: Record<string, unknown> | undefined;
    if (code !== undefined) {
      if (!reasonCodes.includes(code)) reasonCodes.push(code);
      descriptor = { id: code, index: reasonCodes.indexOf(code) };
    }
    const message = r.reason?.message ?? "no reason given";
    return {
      level: r.verdict === "error" ? "error" : "warning",
      message: {
        text: `${displayName(r)} was not fully scanned (${r.verdict}, ${code ?? "no reason code"}): ${sentence(message)}`,
      },
      locations: [{ physicalLocation: { artifactLocation: locate(r) } }],
      ...(descriptor !== undefined ? { descriptor } : {}),
    };
  });
  if (input.notListed > 0) {
    notifications.push({
      level: "warning",
      message: {
        text:
          `${input.notListed} more files were not fully scanned and are not listed here; ` +
          "the json or ndjson output lists them all.",
      },
    });
  }
  if (omitted > 0) {
    notifications.push({
      level: "warning",
      message: {
        text:
          `${omitted} results of lower severity were left out: GitHub code scanning accepts at most ` +
          `${input.limits.maxResults} per run. The json or ndjson output lists them all.`,
      },
    });
  }

  const end = run.scan.end ?? new Date().toISOString();
  const driver: Record<string, unknown> = {
    name: "ring3",
    version: run.tool.version,
    ...(isSemver(run.tool.version) ? { semanticVersion: run.tool.version } : {}),
    informationUri: INFORMATION_URI,
    rules,
  };
  if (reasonCodes.length > 0) {
    driver.notifications = reasonCodes.map((code) => ({
      id: code,
      name: pascal(code),
      shortDescription: { text: REASON_DESCRIPTIONS[code] },
      fullDescription: { text: `${REASON_DESCRIPTIONS[code]} ${NOT_SCANNED}` },
      help: {
        text: `${REASON_DESCRIPTIONS[code]} ${NOT_SCANNED} ${REASON_HELP}`,
        markdown: `${md(REASON_DESCRIPTIONS[code])} ${md(NOT_SCANNED)}\n\n${md(REASON_HELP)}`,
      },
    }));
  }

  return {
    $schema: SARIF_SCHEMA_URI,
    version: "2.1.0",
    runs: [
      {
        tool: { driver },
        invocations: [
          {
            // SARIF: false when the run did not do all it should; a file left unscanned counts.
            executionSuccessful: summary.incomplete === 0 && summary.interrupted === undefined,
            exitCode: summary.exitCode,
            exitCodeDescription: summary.status,
            startTimeUtc: run.scan.start,
            endTimeUtc: end,
            workingDirectory: { uri: uriBase(style, byteString(run.scan.cwd)).uri },
            toolExecutionNotifications: notifications,
          },
        ],
        originalUriBaseIds: { [SRCROOT]: { uri: base.uri } },
        ...(input.scanned.length > 0 ? { artifacts: input.scanned.map((r) => artifactOf(r, locate(r))) } : {}),
        results,
        properties: {
          summary: {
            files: summary.files,
            clean: summary.clean,
            detected: summary.detected,
            partial: summary.partial,
            skipped: summary.skipped,
            error: summary.error,
            incomplete: summary.incomplete,
            findings: summary.findings,
            members: summary.members,
            bytesScanned: summary.bytesScanned,
            durationMs: summary.durationMs,
            reasons: { ...summary.reasons },
            exitCode: summary.exitCode,
            status: summary.status,
            ...(summary.interrupted !== undefined ? { interrupted: summary.interrupted } : {}),
            resultsOmitted: omitted,
            // issue 14: only with --baseline / --cache
            ...(summary.baselined !== undefined ? { baselined: summary.baselined } : {}),
            ...(summary.cached !== undefined ? { cached: summary.cached } : {}),
          },
          signatures: { ...run.signatures, sources: [...run.signatures.sources] },
          roots: [...run.scan.roots],
        },
      },
    ],
  };
}

function ruleOf(id: string, f: Finding): Record<string, unknown> {
  const what = f.engine === "yara" ? `YARA rule ${f.rule}` : `hash signature ${f.rule}`;
  const from = f.engine === "yara" ? `namespace ${f.namespace}` : `hash list ${f.namespace}`;
  const description = f.description.trim();
  const short = description !== "" ? sentence(description) : `A file matched ${what}.`;
  const refs = f.references.filter((x) => x.trim() !== "");
  const helpUri = refs.find((x) => /^https?:\/\//i.test(x));
  const tags = [...new Set(["security", "malware", f.engine, ...f.tags])].slice(0, MAX_TAGS);

  // issue 10: the rule's author, pack and licence (DRL 1.1 asks for the author)
  const credit = attributionText(f);
  const full =
    `${short} ring3 reports a file that matches ${what} (${from}) as ${f.severity} severity.` +
    (credit !== "" ? ` Signature ${credit}.` : "") +
    (refs.length > 0 ? ` References: ${refs.join(", ")}.` : "");
  const how =
    f.engine === "yara"
      ? "The file contains the byte patterns the rule describes; the result lists the matched strings and their offsets."
      : `The file's ${f.hash?.algorithm ?? "hash"} equals a digest on the list: it is that exact file.`;
  const todo = [
    // The rule's own advice (its `action` metadata) comes first: it knows the threat.
    ...(f.action !== undefined && f.action.trim() !== "" ? [f.action.trim()] : []),
    "Quarantine: move the file out of reach (or delete it) and do not open or run it; find out how it got there.",
    "Verify: check the file's SHA-256 with a reputation service and its origin or code signature.",
    "If it is a false positive, exclude its path from the scan (--exclude) and report the rule's false positive.",
  ];
  const text = [
    short,
    `Matched ${what} from ${from}, severity ${f.severity}. ${how}`,
    ...(credit !== "" ? [`Signature ${credit}.`] : []),
    "What to do:",
    ...todo.map((t, i) => `${i + 1}. ${t}`),
    ...(refs.length > 0 ? [`References: ${refs.join(" ")}`] : []),
  ].join("\n");
  const markdown = [
    `**${md(short)}**`,
    "",
    `Matched ${f.engine === "yara" ? "YARA rule" : "hash signature"} \`${code(f.rule)}\` ` +
      `from ${f.engine === "yara" ? "namespace" : "hash list"} \`${code(f.namespace)}\`, ` +
      `severity **${f.severity}**. ${md(how)}`,
    ...(credit !== "" ? ["", `Signature ${md(credit)}.`] : []),
    "",
    "### What to do",
    "",
    ...todo.map((t, i) => `${i + 1}. ${md(t)}`),
    ...(refs.length > 0 ? ["", "### References", "", ...refs.map((x) => `- ${md(x)}`)] : []),
  ].join("\n");

  return {
    id,
    name: f.rule,
    shortDescription: { text: short },
    fullDescription: { text: full },
    help: { text, markdown },
    ...(helpUri !== undefined ? { helpUri } : {}),
    defaultConfiguration: { level: levelOf(f.severity) },
    properties: {
      tags,
      "security-severity": SECURITY_SEVERITY[f.severity],
      precision: f.engine === "hash" ? "very-high" : "high",
      // issue 10
      ...(f.pack !== undefined ? { pack: f.pack } : {}),
      ...(f.author !== undefined ? { author: f.author } : {}),
      ...(f.license !== undefined ? { license: f.license } : {}),
    },
  };
}

function resultOf(
  r: ReportedResult,
  f: Finding,
  ruleId: string,
  ruleIndex: number,
  location: ArtifactLocation,
  withBaseline = false,
): Record<string, unknown> {
  const what = f.engine === "yara" ? `YARA rule ${f.rule}` : `hash signature ${f.rule}`;
  let text = `${displayName(r)} matches ${what} (${f.severity}).`;
  if (f.description.trim() !== "") text += ` ${sentence(f.description.trim())}`;
  const strings = f.strings ?? [];
  if (strings.length > 0) {
    const list = strings.map((s) => `${s.id} at 0x${s.offset.toString(16)}`).join(", ");
    text += ` Matched strings: ${list}${f.stringsTruncated ? " (capped)" : ""}.`;
  }
  if (f.hash !== undefined) text += ` ${f.hash.algorithm.toUpperCase()} ${f.hash.value}.`;
  if (attributionText(f) !== "") text += ` Signature ${attributionText(f)}.`; // issue 10
  const sha256 = r.hashes.sha256;
  // Without the file's SHA-256 the location is the best stable identity left.
  const identity = sha256 ?? `${location.uriBaseId ?? ""}${location.uri}`;
  const chain = r.members ?? [];
  if (chain.length > 0) text += ` The location is the outermost file; the match is in the archive member ${chain.map((m) => `'${m}'`).join(" > ")}, at the offsets above within that member's unpacked bytes.`;
  return {
    ruleId,
    ruleIndex,
    level: levelOf(f.severity),
    message: { text },
    locations: [
      {
        physicalLocation: { artifactLocation: location, ...(chain.length > 0 ? { region: { startLine: 1 } } : regionOf(r, f)) },
        // SARIF has no physical location inside an archive; the member chain is its logical one.
        ...(chain.length > 0 ? { logicalLocations: [{ name: chain[chain.length - 1], fullyQualifiedName: displayChain(r), kind: "resource" }] } : {}),
      },
    ],
    // A member's fingerprint also names its place in the archive (not the archive's own path, so
    // a moved or rebuilt archive keeps its alerts): two equal members in one archive stay two.
    // issue 14: against --baseline, a known finding is "unchanged" (kept, so that its alert is
    // not closed as fixed), any other "new".
    ...(withBaseline ? { baselineState: f.baselined === true ? "unchanged" : "new" } : {}),
    partialFingerprints: { [FINGERPRINT_KEY]: fingerprintOf(ruleId, chain.length > 0 ? `${identity}!${chain.join("!")}` : identity) },
    properties: {
      severity: f.severity,
      ...(sha256 !== undefined ? { sha256 } : {}),
      ...(r.size !== null ? { size: r.size } : {}),
      ...(r.members !== undefined ? { members: [...r.members] } : {}),
      ...(r.membersBytes !== undefined ? { membersBytes: [...r.membersBytes] } : {}),
      ...(strings.length > 0 ? { strings: strings.map((s) => ({ ...s })) } : {}),
      ...(r.cached === true ? { cached: true } : {}), // issue 14
    },
  };
}

/**
 * Where in the file: the first matched string, or the whole file for a hash match. GitHub shows
 * a location only with a startLine (it ignores byte offsets), so line 1 stands in for the file;
 * the byte range is the real answer for other SARIF viewers.
 */
function regionOf(r: ScanResult, f: Finding): { region?: Record<string, number> } {
  const first = f.strings?.[0];
  if (first !== undefined) {
    return { region: { startLine: 1, byteOffset: first.offset, byteLength: first.length } };
  }
  if (r.size !== null) return { region: { startLine: 1, byteOffset: 0, byteLength: r.size } };
  return { region: { startLine: 1 } };
}

function hasHash(r: ScanResult): boolean {
  return r.hashes.sha256 !== undefined || r.hashes.sha1 !== undefined || r.hashes.md5 !== undefined;
}

/** SARIF names digests as IANA does ("sha-256"). */
function artifactOf(r: ScanResult, location: ArtifactLocation): Record<string, unknown> {
  const hashes: Record<string, string> = {};
  if (r.hashes.sha256 !== undefined) hashes["sha-256"] = r.hashes.sha256;
  if (r.hashes.sha1 !== undefined) hashes["sha-1"] = r.hashes.sha1;
  if (r.hashes.md5 !== undefined) hashes.md5 = r.hashes.md5;
  return { location, ...(r.size !== null ? { length: r.size } : {}), hashes };
}

/** The file as a person knows it: its display path and the archive members below it, as in text. */
function displayName(r: ReportedResult): string {
  return `'${displayChain(r)}'`;
}

function sentence(s: string): string {
  const t = s.trim();
  return /[.!?]$/.test(t) ? t : t + ".";
}

function md(s: string): string {
  return s.replace(/[\\`*_{}[\]<>#|]/g, (c) => "\\" + c);
}

function code(s: string): string {
  return s.replace(/`/g, "'");
}

/** "permission-denied" -> "PermissionDenied": SARIF wants friendly names as Pascal identifiers. */
function pascal(code: string): string {
  return code
    .split("-")
    .map((w) => w.charAt(0).toUpperCase() + w.slice(1))
    .join("");
}

function isSemver(v: string): boolean {
  return /^\d+\.\d+\.\d+(?:-[0-9A-Za-z.-]+)?(?:\+[0-9A-Za-z.-]+)?$/.test(v);
}
