// --baseline REPORT: findings already in an earlier report (same rule identity, namespace
// included, and same file SHA-256) are marked baselined: still reported, but only new findings
// set the exit code. --update-baseline writes this run's findings as the next baseline (json).
import * as fs from "node:fs";
import { MergeError, parseReport } from "../report/merge";
import { ruleIdOf } from "../report/sarif";
import { createSink, type ReportSink } from "../report/sink";
import type { Finding, RunInfo, ScanResult, Summary } from "../types";
import { UsageError } from "./options";
import { tempBeside } from "./report";

/** A finding's identity for the baseline: the SARIF rule id (engine/namespace/rule) and the bytes' SHA-256. */
export function baselineKey(ruleId: string, sha256: string): string {
  return `${ruleId}\n${sha256.toLowerCase()}`;
}

export class Baseline {
  private writer?: { sink: ReportSink; tmp: string };

  private constructor(
    private readonly file: string,
    private readonly keys: ReadonlySet<string>,
  ) {}

  /** Reads a json, ndjson or SARIF report. With --update-baseline a missing file is an empty baseline. */
  static load(file: string, update: boolean): Baseline {
    let text: string;
    try {
      text = fs.readFileSync(file, "utf8");
    } catch (err) {
      if (update && (err as NodeJS.ErrnoException).code === "ENOENT") return new Baseline(file, new Set());
      throw new UsageError(`--baseline ${file}: ${(err as Error).message}`);
    }
    const keys = new Set<string>();
    try {
      const report = parseReport(file, text);
      switch (report.format) {
        case "json":
        case "ndjson":
          for (const r of report.results) {
            const sha256 = r.hashes?.sha256;
            if (sha256 !== undefined) for (const f of r.findings ?? []) keys.add(baselineKey(ruleIdOf(f), sha256));
          }
          break;
        case "sarif":
          for (const run of report.log.runs ?? []) {
            if (run.tool?.driver?.name !== "ring3") continue;
            for (const res of run.results ?? []) {
              const sha256: unknown = res.properties?.sha256;
              if (typeof res.ruleId === "string" && typeof sha256 === "string") keys.add(baselineKey(res.ruleId, sha256));
            }
          }
          break;
        default: {
          const never: never = report;
          throw new Error(`unknown report ${String(never)}`);
        }
      }
    } catch (err) {
      if (err instanceof MergeError) throw new UsageError(`--baseline ${err.message}`);
      throw err;
    }
    return new Baseline(file, keys);
  }

  get size(): number {
    return this.keys.size;
  }

  /** The result with each finding already in the baseline marked; the same object when none is. */
  mark(r: ScanResult): ScanResult {
    const sha256 = r.hashes.sha256;
    if (sha256 === undefined || r.findings.length === 0 || this.keys.size === 0) return r;
    let changed = false;
    const findings = r.findings.map((f): Finding => {
      if (!this.keys.has(baselineKey(ruleIdOf(f), sha256))) return f;
      changed = true;
      return { ...f, baselined: true };
    });
    return changed ? { ...r, findings } : r;
  }

  /** --update-baseline: a json report of this run's findings, written beside the baseline and renamed over it at the end. */
  startUpdate(run: RunInfo): void {
    const tmp = tempBeside(this.file);
    let out: fs.WriteStream;
    try {
      out = fs.createWriteStream(tmp, { flags: "wx" });
    } catch (err) {
      throw new UsageError(`--update-baseline ${this.file}: ${(err as Error).message}`);
    }
    this.writer = { sink: createSink("json", out, { all: false, color: false, close: true }), tmp };
    this.writer.sink.begin(run);
  }

  /** Marks a result against the baseline and, with --update-baseline, records it for the next one. */
  settle(r: ScanResult): ScanResult {
    const marked = this.mark(r);
    this.record(marked);
    return marked;
  }

  record(r: ScanResult): void {
    if (this.writer !== undefined && r.findings.length > 0) this.writer.sink.result(r);
  }

  /** Ends the new baseline and puts it in place; an interrupted or failed write leaves the old one. */
  async finishUpdate(summary: Summary, run: RunInfo, complete: boolean): Promise<void> {
    if (this.writer === undefined) return;
    const { sink, tmp } = this.writer;
    this.writer = undefined;
    try {
      await sink.end(summary, run);
      if (!complete) throw new Error("the scan was interrupted; the baseline was left as it was");
      fs.renameSync(tmp, this.file);
      process.stderr.write(`ring3: baseline ${this.file} updated: ${summary.findings} finding(s)\n`);
    } catch (err) {
      fs.rmSync(tmp, { force: true });
      process.stderr.write(`ring3: --update-baseline ${this.file}: ${(err as Error).message}\n`);
    }
  }
}
