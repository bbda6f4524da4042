// The ndjson format: one JSON object per line, written as results arrive, for pipelines
// (PowerShell's ConvertFrom-Json, jq -c). Lines: one "begin", a "result" per shown result, one
// "summary" last. JSON.stringify never emits a raw newline, so a line is always one object.
import type { RunInfo, ScanResult, Summary } from "../types";
import {
  asciiJson,
  endTime,
  isShown,
  resultDocument,
  scanDocument,
  signaturesDocument,
  summaryDocument,
  toolDocument,
} from "./document";
import type { Output } from "./output";
import type { ReportSink, SinkOptions } from "./sink";

export function ndjsonSink(out: Output, opts: SinkOptions): ReportSink {
  return {
    begin(run: RunInfo): void {
      const line = {
        type: "begin",
        tool: toolDocument(run),
        signatures: signaturesDocument(run),
        scan: scanDocument(run),
      };
      out.write(asciiJson(line) + "\n");
    },
    result(r: ScanResult): void {
      if (!isShown(r, opts.all)) return;
      out.write(asciiJson({ type: "result", ...resultDocument(r) }) + "\n");
    },
    end(summary: Summary, run: RunInfo): Promise<void> {
      const line = {
        type: "summary",
        ...summaryDocument(summary),
        scan: { start: run.scan.start, end: endTime(run) },
      };
      return out.finish(asciiJson(line) + "\n");
    },
    ready: () => out.ready(),
  };
}
