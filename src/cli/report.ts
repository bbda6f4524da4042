// `ring3 report merge REPORT... -o FILE`: reads the reports (json, ndjson or SARIF, by content),
// refuses to mix formats or signature sets, and writes one merged report whole (a temporary file
// renamed into place). Its exit code is the merged report's: 0 clean, 1 detected, 2 incomplete.
import * as fs from "node:fs";
import * as path from "node:path";
import { MergeError, mergeResults, mergeSarif, parseReport, SARIF_LIMITS, sarifExitCode, type ParsedReport } from "../report/merge";
import { createSink, type Format } from "../report/sink";
import type { ExitCode } from "../types";
import { FORMATS, parseSize, UsageError } from "./options";

export interface MergeOptions {
  output: string;
  format?: string;
  maxResults?: string;
  maxGzipSize?: string;
}

/** A temporary name beside the target, so that the rename stays on one file system (atomic). */
export function tempBeside(file: string): string {
  return path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.${Math.random().toString(36).slice(2, 10)}.tmp`);
}

/** Writes text to FILE whole or not at all: readers never see half a file. */
export function writeWhole(file: string, text: string | Buffer): void {
  const tmp = tempBeside(file);
  try {
    fs.writeFileSync(tmp, text);
    fs.renameSync(tmp, file);
  } catch (err) {
    fs.rmSync(tmp, { force: true });
    throw err;
  }
}

export async function mergeReports(files: string[], opts: MergeOptions): Promise<ExitCode> {
  const warn = (s: string): void => void process.stderr.write(`ring3: warning: ${s}\n`);
  let reports: ParsedReport[];
  try {
    reports = files.map((f) => {
      let text: string;
      try {
        text = fs.readFileSync(f, "utf8");
      } catch (err) {
        throw new MergeError(`${f}: ${(err as Error).message}`);
      }
      return parseReport(f, text);
    });
  } catch (err) {
    if (err instanceof MergeError) throw new UsageError(err.message);
    throw err;
  }
  const kinds = [...new Set(reports.map((r) => r.format))];
  if (kinds.length > 1) {
    const list = kinds.map((k) => `${k} (${reports.find((r) => r.format === k)!.file})`).join(", ");
    throw new UsageError(`cannot merge reports of different formats: ${list}; merge reports of one format`);
  }
  const format = (opts.format ?? kinds[0]) as Format;
  if (!FORMATS.includes(format)) throw new UsageError(`--format must be one of ${FORMATS.join(", ")}, got "${format}"`);
  const maxResults = opts.maxResults === undefined ? SARIF_LIMITS.maxResults : Number(opts.maxResults);
  if (!Number.isInteger(maxResults) || maxResults < 1 || maxResults > SARIF_LIMITS.maxResults) {
    throw new UsageError(`--max-results must be a whole number from 1 to ${SARIF_LIMITS.maxResults}, got "${opts.maxResults}"`);
  }
  const maxGzipBytes = opts.maxGzipSize === undefined ? SARIF_LIMITS.maxGzipBytes : parseSize(opts.maxGzipSize, "--max-gzip-size");

  try {
    if (kinds[0] === "sarif") {
      if (format !== "sarif") throw new UsageError(`SARIF reports merge into SARIF only (--format ${format} needs json or ndjson reports)`);
      const sarif = reports.filter((r): r is Extract<ParsedReport, { format: "sarif" }> => r.format === "sarif");
      const log = mergeSarif(sarif, { ...SARIF_LIMITS, maxResults, maxGzipBytes }, warn);
      // GitHub code scanning takes at most 20 runs per file; each run here is another tool or category.
      if (log.runs.length > 20) warn(`the merged log has ${log.runs.length} runs (tools and categories); GitHub code scanning accepts at most 20 per file`);
      writeWhole(opts.output, JSON.stringify(log, null, 2) + "\n");
      return sarifExitCode(log);
    }
    const parsed = reports.filter((r): r is Extract<ParsedReport, { format: "json" | "ndjson" }> => r.format !== "sarif");
    const merged = mergeResults(parsed, warn);
    const tmp = tempBeside(opts.output);
    try {
      const sink = createSink(format, fs.createWriteStream(tmp), { all: true, color: false, close: true });
      sink.begin(merged.run);
      for (const r of merged.results) {
        sink.result(r);
        await sink.ready();
      }
      await sink.end(merged.summary, merged.run);
      fs.renameSync(tmp, opts.output);
    } catch (err) {
      fs.rmSync(tmp, { force: true });
      throw err;
    }
    return merged.summary.exitCode;
  } catch (err) {
    if (err instanceof MergeError) throw new UsageError(err.message);
    if ((err as NodeJS.ErrnoException).code !== undefined) throw new UsageError(`-o ${opts.output}: ${(err as Error).message}`);
    throw err;
  }
}
