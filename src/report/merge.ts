// `ring3 report merge`: joins the reports of several runs (shards, hosts, CI jobs) into one
// document. json and ndjson are read back into results and written again through the sinks, so a
// merged report is shaped exactly like a scan's; SARIF is merged run by run (one per tool and
// category, as GitHub code scanning requires) with rules de-duplicated and GitHub's limits kept.
import * as zlib from "node:zlib";
import type { RunInfo, ScanResult, Summary } from "../types";
import { REPORT_SCHEMA_URI } from "./document";
import { SARIF_SCHEMA_URI, MAX_NOTIFICATIONS, MAX_SARIF_RESULTS, SRCROOT } from "./sarif";
import { exitCodeFor, statusOf } from "./summary";

/** A report that cannot be merged (unreadable, of another kind, or not compatible with the rest). */
export class MergeError extends Error {}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;

export type ParsedReport =
  | { format: "json" | "ndjson"; file: string; run: RunInfo; results: ScanResult[]; summary: Summary }
  | { format: "sarif"; file: string; log: Json };

/** GitHub code scanning rejects an upload over 10 MB gzip-compressed. */
export const MAX_SARIF_GZIP_BYTES = 10 * 1024 * 1024;

/** Recognises a ring3 json, ndjson or SARIF report by its content, never by its name. */
export function parseReport(file: string, text: string): ParsedReport {
  const body = text.replace(/^\ufeff/, "");
  let whole: Json;
  try {
    whole = JSON.parse(body);
  } catch {
    whole = undefined;
  }
  if (whole !== undefined && whole !== null && typeof whole === "object") {
    if (whole.version === "2.1.0" && Array.isArray(whole.runs)) return { format: "sarif", file, log: whole };
    if (whole.$schema === REPORT_SCHEMA_URI || (Array.isArray(whole.results) && whole.summary && whole.tool?.name === "ring3")) {
      if (!Array.isArray(whole.results) || !whole.summary || !whole.scan || !whole.tool || !whole.signatures) {
        throw new MergeError(`${file}: a ring3 json report without its results, scan or summary (cut short?)`);
      }
      const run: RunInfo = { tool: whole.tool, signatures: whole.signatures, scan: whole.scan };
      return { format: "json", file, run, results: whole.results, summary: whole.summary };
    }
  }
  const lines = body.split("\n").filter((l) => l.trim() !== "");
  const objects: Json[] = [];
  for (let i = 0; i < lines.length; i++) {
    try {
      objects.push(JSON.parse(lines[i]!));
    } catch {
      if (i === 0) throw new MergeError(`${file}: not a ring3 report (json, ndjson or SARIF)`);
      throw new MergeError(`${file}:${i + 1}: not a JSON line (an ndjson report cut short?)`);
    }
  }
  const begin = objects[0];
  const end = objects[objects.length - 1];
  if (begin?.type !== "begin" || begin.tool?.name !== "ring3") throw new MergeError(`${file}: not a ring3 report (json, ndjson or SARIF)`);
  if (end?.type !== "summary") throw new MergeError(`${file}: an ndjson report without its summary line (cut short?)`);
  const { type: _t, scan: times, ...summary } = end;
  const run: RunInfo = { tool: begin.tool, signatures: begin.signatures, scan: { ...begin.scan, end: times?.end } };
  const results = objects.slice(1, -1).filter((o) => o.type === "result").map(({ type: _r, ...r }) => r as ScanResult);
  return { format: "ndjson", file, run, results, summary: summary as Summary };
}

/** What identifies a run's verdicts: the same files can only be added up under the same signatures and engine. */
function identity(tool: Json, sigs: Json): string {
  return `ring3 ${tool?.version}, signatures ${sigs?.version} (content ${sigs?.contentId}, ${sigs?.yaraRules} YARA rule(s), ${sigs?.hashSignatures} hash signature(s))`;
}

/** Reports made with other signatures or another ring3 version are refused, naming both. */
function checkSameSet(items: { file: string; id: string }[]): void {
  const first = items[0];
  if (first === undefined) return;
  const other = items.find((x) => x.id !== first.id);
  if (other !== undefined) {
    throw new MergeError(
      `${other.file} was made with ${other.id}, ${first.file} with ${first.id}: reports of different signature sets or ring3 versions do not add up (rescan with one set)`,
    );
  }
}

/** Shards: the same share twice would count files twice (an error); a missing share is only a warning. */
function checkShards(shards: { file: string; shard: unknown }[], warn: (s: string) => void): string[] {
  const given = shards.filter((s) => typeof s.shard === "string") as { file: string; shard: string }[];
  const seen = new Map<string, string>();
  for (const s of given) {
    const before = seen.get(s.shard);
    if (before !== undefined) throw new MergeError(`${s.file} and ${before} are both shard ${s.shard}: its files would count twice`);
    seen.set(s.shard, s.file);
  }
  const counts = new Set(given.map((s) => s.shard.split("/")[1]));
  if (counts.size > 1) warn(`shards of different splits (${[...seen.keys()].join(", ")}): some files may be counted twice or missing`);
  else if (counts.size === 1) {
    const n = Number([...counts][0]);
    const missing: string[] = [];
    for (let k = 1; k <= n; k++) if (!seen.has(`${k}/${n}`)) missing.push(`${k}/${n}`);
    if (missing.length > 0) warn(`shard(s) ${missing.join(", ")} missing: the merged report does not cover every file`);
  }
  return given.map((s) => s.shard);
}

/** Adds summaries up: counts and reasons summed, the exit code and status computed again from them. */
export function addSummaries(list: Json[]): Json {
  const out: Json = {};
  for (const s of list) {
    for (const [k, v] of Object.entries(s)) {
      if (k === "exitCode" || k === "status") continue;
      if (typeof v === "number") out[k] = (out[k] ?? 0) + v;
      else if (k === "reasons" && v !== null && typeof v === "object") {
        out.reasons ??= {};
        for (const [code, n] of Object.entries(v as Record<string, number>)) out.reasons[code] = (out.reasons[code] ?? 0) + n;
      }
    }
  }
  const reasons: Record<string, number> = {};
  for (const code of Object.keys(out.reasons ?? {}).sort()) reasons[code] = out.reasons[code];
  out.reasons = reasons;
  // Baselined findings are known ones: only new findings make the exit code 1.
  const findings = out.findings ?? 0;
  const baselined = out.baselined ?? 0;
  const detections = baselined > 0 ? findings - baselined : (out.detected ?? 0) + (findings > 0 ? 1 : 0);
  out.exitCode = exitCodeFor(detections, out.incomplete ?? 0);
  out.status = statusOf(out.exitCode);
  return out;
}

export interface MergedResults {
  run: RunInfo;
  results: ScanResult[];
  summary: Summary;
}

/** json and ndjson reports as one run: results in the order given, summaries added. */
export function mergeResults(reports: Extract<ParsedReport, { format: "json" | "ndjson" }>[], warn: (s: string) => void): MergedResults {
  checkSameSet(reports.map((r) => ({ file: r.file, id: identity(r.run.tool, r.run.signatures) })));
  const shards = checkShards(reports.map((r) => ({ file: r.file, shard: r.run.scan.options?.shard })), warn);
  const first = reports[0]!.run;
  const roots: string[] = [];
  for (const r of reports) for (const root of r.run.scan.roots ?? []) if (!roots.includes(root)) roots.push(root);
  const { shard: _s, ...options } = first.scan.options ?? {};
  if (shards.length > 0) options.shards = [...shards].sort(byShard);
  options.merged = reports.length;
  const starts = reports.map((r) => r.run.scan.start).filter((s): s is string => typeof s === "string").sort();
  const ends = reports.map((r) => r.run.scan.end).filter((s): s is string => typeof s === "string").sort();
  const run: RunInfo = {
    tool: first.tool,
    signatures: first.signatures,
    scan: { roots, cwd: first.scan.cwd, options, start: starts[0] ?? new Date().toISOString(), end: ends[ends.length - 1] },
  };
  return { run, results: reports.flatMap((r) => r.results), summary: addSummaries(reports.map((r) => r.summary)) as Summary };
}

function byShard(a: string, b: string): number {
  const [ak, an] = a.split("/").map(Number);
  const [bk, bn] = b.split("/").map(Number);
  return an! - bn! || ak! - bk!;
}

export interface SarifMergeLimits {
  maxResults: number;
  maxGzipBytes: number;
  maxNotifications: number;
}

export const SARIF_LIMITS: SarifMergeLimits = { maxResults: MAX_SARIF_RESULTS, maxGzipBytes: MAX_SARIF_GZIP_BYTES, maxNotifications: MAX_NOTIFICATIONS };

/** GitHub's category: the part of automationDetails.id up to its last '/', or the whole id. */
function categoryOf(run: Json): string {
  const id: unknown = run.automationDetails?.id;
  if (typeof id !== "string") return "";
  const slash = id.lastIndexOf("/");
  return slash < 0 ? id : id.slice(0, slash + 1);
}

const RANK: Record<string, number> = { critical: 0, high: 1, medium: 2, low: 3 };
const LEVEL_RANK: Record<string, number> = { error: 1, warning: 2, note: 3, none: 4 };

/** Most severe first: ring3's own severity where the result has it, else the SARIF level. */
function severityRank(result: Json): number {
  const s = result.properties?.severity;
  if (typeof s === "string" && s in RANK) return RANK[s]!;
  return LEVEL_RANK[result.level ?? "warning"] ?? 2;
}

function isRing3(run: Json): boolean {
  return run.tool?.driver?.name === "ring3";
}

/** SARIF logs as one: one run per (tool, category), rules de-duplicated, results re-indexed. */
export function mergeSarif(reports: Extract<ParsedReport, { format: "sarif" }>[], limits: SarifMergeLimits, warn: (s: string) => void): Json {
  const runs: { file: string; run: Json }[] = reports.flatMap((r) => (r.log.runs as Json[]).map((run) => ({ file: r.file, run })));
  checkSameSet(runs.filter((x) => isRing3(x.run)).map((x) => ({ file: x.file, id: identity({ version: x.run.tool.driver.version }, x.run.properties?.signatures) })));
  const groups = new Map<string, { file: string; run: Json }[]>();
  for (const x of runs) {
    const key = `${x.run.tool?.driver?.name ?? ""}\u0000${categoryOf(x.run)}`;
    const list = groups.get(key) ?? [];
    list.push(x);
    groups.set(key, list);
  }
  const merged = [...groups.values()].map((group) => mergeRuns(group, limits, warn));
  const log: Json = { $schema: reports[0]?.log.$schema ?? SARIF_SCHEMA_URI, version: "2.1.0", runs: merged };
  fitGzip(log, limits);
  return log;
}

function mergeRuns(group: { file: string; run: Json }[], limits: SarifMergeLimits, warn: (s: string) => void): Json {
  const first = structuredClone(group[0]!.run);
  const rules: Json[] = [];
  const ruleIndex = new Map<string, number>();
  const descriptors: Json[] = [];
  const descriptorIndex = new Map<string, number>();
  const results: Json[] = [];
  const artifacts: Json[] = [];
  const notifications: Json[] = [];
  const invocations: Json[] = [];
  let notListed = 0;
  const ring3 = isRing3(first);
  const toBase: unknown = first.originalUriBaseIds?.[SRCROOT]?.uri;

  for (const { run } of group) {
    const driver = run.tool?.driver ?? {};
    // Locations relative to another %SRCROOT% (a scan from elsewhere) are made relative to the
    // first run's, or absolute when they lie outside it.
    const fromBase: unknown = run.originalUriBaseIds?.[SRCROOT]?.uri;
    const rebase = (loc: Json): void => {
      const a = loc?.physicalLocation?.artifactLocation ?? loc;
      if (typeof fromBase !== "string" || typeof toBase !== "string" || fromBase === toBase) return;
      if (a?.uriBaseId !== SRCROOT || typeof a.uri !== "string") return;
      const abs = fromBase + a.uri;
      if (abs.startsWith(toBase)) a.uri = abs.slice(toBase.length);
      else {
        a.uri = abs;
        delete a.uriBaseId;
      }
    };
    // Old rule index -> new, by rule id: a rule seen in an earlier run keeps its first place.
    const remap: number[] = (driver.rules ?? []).map((rule: Json) => {
      let i = ruleIndex.get(rule.id);
      if (i === undefined) {
        i = rules.length;
        ruleIndex.set(rule.id, i);
        rules.push(rule);
      }
      return i;
    });
    const remapDescriptor: number[] = (driver.notifications ?? []).map((d: Json) => {
      let i = descriptorIndex.get(d.id);
      if (i === undefined) {
        i = descriptors.length;
        descriptorIndex.set(d.id, i);
        descriptors.push(d);
      }
      return i;
    });
    const artifactBase = artifacts.length;
    for (const art of run.artifacts ?? []) {
      const copy = structuredClone(art);
      if (copy.location) rebase(copy.location);
      artifacts.push(copy);
    }
    const moveArtifact = (loc: Json): void => {
      const a = loc?.physicalLocation?.artifactLocation;
      if (a && typeof a.index === "number") a.index += artifactBase;
    };
    for (const res of run.results ?? []) {
      const r = { ...res };
      let old: number | undefined = typeof r.ruleIndex === "number" ? r.ruleIndex : typeof r.rule?.index === "number" ? r.rule.index : undefined;
      if (old === undefined && typeof r.ruleId === "string") old = (driver.rules ?? []).findIndex((x: Json) => x.id === r.ruleId);
      if (old !== undefined && old >= 0 && remap[old] !== undefined) {
        if (typeof r.ruleIndex === "number") r.ruleIndex = remap[old];
        if (r.rule !== undefined) r.rule = { ...r.rule, index: remap[old] };
      }
      if (Array.isArray(r.locations)) {
        r.locations = structuredClone(r.locations);
        r.locations.forEach(moveArtifact);
        r.locations.forEach(rebase);
      }
      results.push(r);
    }
    for (const inv of run.invocations ?? []) {
      invocations.push(inv);
      for (const n of inv.toolExecutionNotifications ?? []) {
        const note = { ...n };
        if (Array.isArray(note.locations)) {
          note.locations = structuredClone(note.locations);
          note.locations.forEach(rebase);
        }
        if (note.descriptor && typeof note.descriptor.index === "number") {
          const i = remapDescriptor[note.descriptor.index];
          note.descriptor = i === undefined ? { id: note.descriptor.id } : { ...note.descriptor, index: i };
        }
        // The sink's own "N more files" lines are folded into one count below.
        const more = /^(\d+) more files were not fully scanned/.exec(note.message?.text ?? "");
        if (note.locations === undefined && more !== null) notListed += Number(more[1]);
        else if (/results of lower severity were left out/.test(note.message?.text ?? "")) continue;
        else if (notifications.length < limits.maxNotifications) notifications.push(note);
        else notListed += 1;
      }
    }
  }
  let omitted = 0;
  let kept = results;
  if (results.length > limits.maxResults) {
    omitted = results.length - limits.maxResults;
    kept = results
      .map((r, i) => ({ r, i }))
      .sort((a, b) => severityRank(a.r) - severityRank(b.r) || a.i - b.i)
      .slice(0, limits.maxResults)
      .map((x) => x.r);
  }

  const driver = { ...first.tool.driver, rules };
  if (descriptors.length > 0) driver.notifications = descriptors;
  else delete driver.notifications;
  first.tool = { ...first.tool, driver };
  first.results = kept;
  if (artifacts.length > 0) first.artifacts = artifacts;
  else delete first.artifacts;

  if (ring3) {
    const summary = addSummaries(group.map((x) => x.run.properties?.summary ?? {}));
    summary.resultsOmitted = (summary.resultsOmitted ?? 0) + omitted;
    const roots: string[] = [];
    for (const x of group) for (const root of x.run.properties?.roots ?? []) if (!roots.includes(root)) roots.push(root);
    first.properties = { ...first.properties, summary, roots, merged: group.length };
    const starts = invocations.map((i) => i.startTimeUtc).filter((s) => typeof s === "string").sort();
    const ends = invocations.map((i) => i.endTimeUtc).filter((s) => typeof s === "string").sort();
    if (notListed > 0) {
      notifications.push({ level: "warning", message: { text: `${notListed} more files were not fully scanned and are not listed here; the json or ndjson output lists them all.` } });
    }
    // One note for every result left out, here or already by the scans' own sinks.
    if (summary.resultsOmitted > 0) notifications.push(omittedNote(summary.resultsOmitted, limits.maxResults));
    first.invocations = [
      {
        ...invocations[0],
        executionSuccessful: (summary.incomplete ?? 0) === 0,
        exitCode: summary.exitCode,
        exitCodeDescription: summary.status,
        ...(starts.length > 0 ? { startTimeUtc: starts[0] } : {}),
        ...(ends.length > 0 ? { endTimeUtc: ends[ends.length - 1] } : {}),
        toolExecutionNotifications: notifications,
      },
    ];
  } else {
    first.invocations = invocations;
    if (omitted > 0) {
      const inv = first.invocations[0] ?? { executionSuccessful: true };
      inv.toolExecutionNotifications = [...(inv.toolExecutionNotifications ?? []), omittedNote(omitted, limits.maxResults)];
      first.invocations[0] = inv;
    }
  }
  return first;
}

function omittedNote(omitted: number, max: number): Json {
  return {
    level: "warning",
    message: {
      text: `${omitted} results of lower severity were left out: GitHub code scanning accepts at most ${max} per run. The json or ndjson reports list them all.`,
    },
  };
}

export function gzipSize(text: string): number {
  return zlib.gzipSync(text, { level: 6 }).length;
}

/**
 * Keeps the log under GitHub's compressed size limit: first the artifact lists (every clean file
 * with --all) are left out, then the least severe results of the largest run, each step said in
 * that run's notifications.
 */
function fitGzip(log: Json, limits: SarifMergeLimits): void {
  let size = gzipSize(JSON.stringify(log, null, 2));
  if (size <= limits.maxGzipBytes) return;
  for (const run of log.runs as Json[]) {
    if (run.artifacts === undefined) continue;
    const n = run.artifacts.length;
    delete run.artifacts;
    note(run, `${n} artifacts (files listed with their digests) were left out to keep the log under GitHub's ${limits.maxGzipBytes} bytes gzip-compressed.`);
  }
  size = gzipSize(JSON.stringify(log, null, 2));
  for (let round = 0; size > limits.maxGzipBytes && round < 50; round++) {
    const run = (log.runs as Json[]).reduce((a, b) => ((b.results?.length ?? 0) > (a.results?.length ?? 0) ? b : a));
    const before = run.results?.length ?? 0;
    if (before === 0) break;
    const keep = Math.max(0, Math.min(before - 1, Math.floor((before * limits.maxGzipBytes * 0.9) / size)));
    run.results = run.results
      .map((r: Json, i: number) => ({ r, i }))
      .sort((a: Json, b: Json) => severityRank(a.r) - severityRank(b.r) || a.i - b.i)
      .slice(0, keep)
      .map((x: Json) => x.r);
    const left = before - keep;
    if (run.properties?.summary) run.properties.summary.resultsOmitted = (run.properties.summary.resultsOmitted ?? 0) + left;
    note(run, `${left} results of lower severity were left out to keep the log under GitHub's ${limits.maxGzipBytes} bytes gzip-compressed.`);
    size = gzipSize(JSON.stringify(log, null, 2));
  }
}

function note(run: Json, text: string): void {
  run.invocations ??= [{ executionSuccessful: true }];
  const inv = run.invocations[0];
  inv.toolExecutionNotifications = [...(inv.toolExecutionNotifications ?? []), { level: "warning", message: { text } }];
}

/** The exit code a merged SARIF log stands for: the worst of its ring3 runs. */
export function sarifExitCode(log: Json): 0 | 1 | 2 {
  const codes = (log.runs as Json[]).filter(isRing3).map((r) => r.properties?.summary?.exitCode as number | undefined);
  if (codes.includes(1)) return 1;
  if (codes.includes(2)) return 2;
  return 0;
}
