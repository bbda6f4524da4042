// The shapes that json and ndjson write: each ScanResult, Finding and Summary copied field by
// field, so the output has a fixed key order and holds exactly what the JSON Schema allows, even
// if a stage later adds a field to the in-memory types.
import type { Finding, RunInfo, ScanResult, Summary } from "../types";

/** Where the schema of the json document is published; also its "$id". */
export const REPORT_SCHEMA_URI = "https://github.com/ring3/ring3/schema/report.schema.json";

/**
 * A result as the report sees it. `members` is the container chain for a member inside an
 * archive (outermost first), below `path`, the top-level file.
 */
export type ReportedResult = ScanResult;

/**
 * The name a person reads: the file, then each archive member below it joined with "!"
 * (`dist/app.zip!lib/pkg.tgz!package/index.js`, ClamAV's and 7-Zip's habit).
 */
export function displayChain(r: ScanResult): string {
  return [r.path, ...(r.members ?? [])].join("!");
}

/** Whether a sink shows this result: everything not clean, and clean ones with --all. */
export function isShown(r: ScanResult, all: boolean): boolean {
  return all || r.verdict !== "clean";
}

export function resultDocument(r: ReportedResult): Record<string, unknown> {
  const doc: Record<string, unknown> = { verdict: r.verdict, path: r.path };
  if (r.pathBytes !== undefined) doc.pathBytes = r.pathBytes;
  if (r.members !== undefined) doc.members = [...r.members];
  if (r.membersBytes !== undefined) doc.membersBytes = [...r.membersBytes];
  doc.root = r.root;
  doc.size = r.size;
  const hashes: Record<string, string> = {};
  if (r.hashes.sha256 !== undefined) hashes.sha256 = r.hashes.sha256;
  if (r.hashes.sha1 !== undefined) hashes.sha1 = r.hashes.sha1;
  if (r.hashes.md5 !== undefined) hashes.md5 = r.hashes.md5;
  doc.hashes = hashes;
  if (r.reason !== undefined) doc.reason = { code: r.reason.code, message: r.reason.message };
  doc.findings = r.findings.map(findingDocument);
  if (r.suppressed !== undefined && r.suppressed.length > 0) {
    doc.suppressed = r.suppressed.map((x) => ({ engine: x.engine, rule: x.rule, namespace: x.namespace, ...(x.id !== undefined ? { id: x.id } : {}), by: x.by, match: x.match }));
  }
  if (r.container !== undefined) {
    const c = r.container;
    doc.container = { format: [...c.format], members: c.members, detected: c.detected, incomplete: c.incomplete };
  }
  if (r.ms !== undefined) doc.ms = r.ms;
  if (r.cached === true) doc.cached = true; // issue 14
  return doc;
}

export function findingDocument(f: Finding): Record<string, unknown> {
  const doc: Record<string, unknown> = {
    engine: f.engine,
    ...(f.id !== undefined ? { id: f.id } : {}),
    namespace: f.namespace,
    rule: f.rule,
    severity: f.severity,
    description: f.description,
    tags: [...f.tags],
    references: [...f.references],
  };
  if (f.strings !== undefined) {
    doc.strings = f.strings.map((s) => ({ id: s.id, offset: s.offset, length: s.length }));
  }
  if (f.stringsTruncated !== undefined) doc.stringsTruncated = f.stringsTruncated;
  if (f.action !== undefined) doc.action = f.action;
  if (f.hash !== undefined) doc.hash = { algorithm: f.hash.algorithm, value: f.hash.value };
  if (f.baselined === true) doc.baselined = true; // issue 14
  // issue 10: attribution
  if (f.pack !== undefined) doc.pack = f.pack;
  if (f.author !== undefined) doc.author = f.author;
  if (f.license !== undefined) doc.license = f.license;
  return doc;
}

export function summaryDocument(s: Summary): Record<string, unknown> {
  return {
    files: s.files,
    clean: s.clean,
    detected: s.detected,
    partial: s.partial,
    skipped: s.skipped,
    error: s.error,
    incomplete: s.incomplete,
    findings: s.findings,
    suppressed: s.suppressed,
    members: s.members,
    bytesScanned: s.bytesScanned,
    durationMs: s.durationMs,
    reasons: { ...s.reasons },
    exitCode: s.exitCode,
    status: s.status,
    // issue 14: only when --baseline / --cache was given
    ...(s.baselined !== undefined ? { baselined: s.baselined } : {}),
    ...(s.cached !== undefined ? { cached: s.cached } : {}),
    ...(s.interrupted !== undefined ? { interrupted: s.interrupted } : {}),
  };
}

export function toolDocument(run: RunInfo): Record<string, unknown> {
  return { name: run.tool.name, version: run.tool.version };
}

export function signaturesDocument(run: RunInfo): Record<string, unknown> {
  const s = run.signatures;
  return {
    version: s.version,
    contentId: s.contentId,
    yaraRules: s.yaraRules,
    hashSignatures: s.hashSignatures,
    sources: [...s.sources],
  };
}

/** The scan block; `end` only once the run is over (ndjson's begin line has none). */
export function scanDocument(run: RunInfo, end?: string): Record<string, unknown> {
  const doc: Record<string, unknown> = {
    roots: [...run.scan.roots],
    cwd: run.scan.cwd,
    options: run.scan.options,
    start: run.scan.start,
  };
  if (end !== undefined) doc.end = end;
  return doc;
}

export function endTime(run: RunInfo): string {
  return run.scan.end ?? new Date().toISOString();
}

/**
 * JSON text with every non-ASCII character as a \u escape. Windows PowerShell decodes a native
 * command's stdout (and Get-Content a file without BOM) in the console's code page, which would
 * garble UTF-8 paths; ASCII-only JSON reads the same under any code page and is still UTF-8.
 */
export function asciiJson(value: unknown): string {
  return JSON.stringify(value).replace(
    /[\u007f-\uffff]/g,
    (c) => "\\u" + c.charCodeAt(0).toString(16).padStart(4, "0"),
  );
}
